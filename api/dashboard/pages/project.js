// Project card: participants, cost items (others' amounts withheld for a member), and the
// subsidy estimate with its warnings (Resolution No. 41; unverified rules say so).
import { get } from '../api.js';
import { h, money, num, pct } from '../dom.js';
import { lang, t, term } from '../i18n.js';
import { companyLink, companyMap } from '../data.js';
import { sortableTable } from '../table.js';

export async function render({ args }) {
  const id = args[0];
  const [companies, card] = await Promise.all([companyMap(), get(`/projects/${encodeURIComponent(id)}/card`)]);
  const est = card.estimate;
  const warnings = lang() === 'en' ? est.warnings_en : est.warnings_ru;
  const effect = card.kpi_effect;
  const figure = (code, v) => (code === 'untied_count' ? num(v) : pct(v));
  return h('div', null,
    h('div', { class: 'page-head' }, h('div', null,
      h('h1', null, `${t('project.title')}: ${card.project.name}`),
      h('p', { class: 'lede' }, card.project.summary || card.project.product_name || ''))),
    h('div', { class: 'card flush' }, h('h2', null, t('project.participants')),
      sortableTable({
        rows: card.participants, testid: 'participants-table',
        columns: [
          { key: 'company_id', label: t('col.company'), render: (p) => companyLink(companies, p.company_id) },
          { key: 'role', label: t('col.role'), render: (p) => term('prole', p.role) },
          { key: 'part', label: '' },
        ],
      })),
    h('div', { class: 'card flush' }, h('h2', null, t('project.costs')),
      sortableTable({
        rows: card.costs, testid: 'costs-table',
        columns: [
          { key: 'company_id', label: t('col.company'), render: (c) => companyLink(companies, c.company_id) },
          { key: 'cost_type', label: t('col.cost_type') },
          { key: 'year', label: t('col.year'), num: true },
          { key: 'amount', label: t('col.amount'), num: true, render: (c) => money(c.amount) },
        ],
      })),
    h('div', { class: 'card', 'data-testid': 'estimate' },
      h('h2', null, t('project.estimate')),
      h('p', null, h('b', null, money(est.subsidy)), ` / ${money(est.eligible_costs)} (${Math.round(est.share * 100)} %)`),
      h('p', { class: est.verified ? 'muted' : 'error-text', 'data-testid': 'verified' },
        est.verified ? t('project.verified') : t('project.unverified')),
      h('ul', null, warnings.map((w) => h('li', { class: 'muted small' }, w))),
      h('a', { href: `/projects/${encodeURIComponent(id)}/export.xlsx`, download: 'project.xlsx' }, t('project.export'))),
    effect ? h('div', { class: 'card', 'data-testid': 'kpi-effect' },
      h('h2', null, t('project.kpi')),
      h('table', { class: 'data' },
        h('thead', null, h('tr', null, h('th', null, ''), h('th', { class: 'num' }, t('project.kpi_before')),
          h('th', { class: 'num' }, t('project.kpi_after')))),
        h('tbody', null, Object.keys(effect.before).map((code) => h('tr', { 'data-kpi': code },
          h('td', null, t(`kpi.${code}`)),
          h('td', { class: 'num' }, figure(code, effect.before[code])),
          h('td', { class: 'num' }, figure(code, effect.after[code])))))),
      h('p', { class: 'muted small' }, lang() === 'en' ? effect.text_en : effect.text_ru),
      h('p', { class: 'muted small', 'data-testid': 'purchase-effect' },
        lang() === 'en' ? effect.purchases_text_en : effect.purchases_text_ru)) : null);
}
