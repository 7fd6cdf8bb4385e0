// Cooperation page: the caller's requests (a member: its inbox and outbox), the cluster's
// pipeline (the centre), and the joint projects, each opening its card (#/project/<id>).
import { ApiError, get, items } from '../api.js';
import { h, num, pct } from '../dom.js';
import { t, term } from '../i18n.js';
import { companyLink, companyMap } from '../data.js';
import { sortableTable } from '../table.js';

const sortState = { key: 'updated_at', dir: 'desc' };

async function orNull(promise) {
  try {
    return await promise;
  } catch (error) {
    if (error instanceof ApiError && (error.status === 403 || error.status === 404)) return null;
    throw error;
  }
}

function pipelineCard(p) {
  const states = ['proposed', 'sent', 'in_talks', 'agreed', 'declined', 'expired'];
  return h('div', { class: 'card', 'data-testid': 'pipeline' },
    h('h2', null, t('coop.pipeline')),
    h('div', { class: 'form-row' }, states.map((s) => h('div', { class: 'stat' },
      h('div', { class: 'stat-value' }, num(p.by_state[s] || 0)), h('div', { class: 'muted small' }, term('state', s))))),
    h('p', null, `${t('coop.talk_rate')}: ${pct(p.talk_rate, 0)} · ${t('coop.agree_rate')}: ${pct(p.agree_rate, 0)}`),
    h('p', { class: 'muted' }, `${t('coop.reasons')}: ${Object.entries(p.decline_reasons).map(([r, n]) => `${r} ×${n}`).join(', ') || '—'}`));
}

export async function render() {
  const [companies, requests, pipeline, projects] = await Promise.all([
    companyMap(), get('/requests'), orNull(get('/requests/pipeline')), get('/projects', { limit: 500 }),
  ]);
  const columns = [
    { key: 'id', label: 'ID' },
    { key: 'from_id', label: t('col.from'), render: (r) => companyLink(companies, r.from_id) },
    { key: 'to_id', label: t('col.to'), render: (r) => companyLink(companies, r.to_id) },
    { key: 'category', label: t('col.category') },
    { key: 'state', label: t('col.state'), render: (r) => term('state', r.state) },
    { key: 'version', label: t('col.version'), num: true },
    { key: 'decline_reason', label: t('coop.decline_reason'), render: (r) => (r.decline_reason ? `${r.decline_reason}${r.decline_text ? ` — ${r.decline_text}` : ''}` : '') },
    { key: 'updated_at', label: '⏱', value: (r) => r.updated_at ?? null, render: (r) => (r.updated_at || '').slice(0, 10) },
  ];
  const list = items(requests);
  const projectRows = items(projects);
  return h('div', null,
    h('div', { class: 'page-head' },
      h('div', null, h('h1', null, t('coop.title')), h('p', { class: 'lede' }, t('coop.lede')))),
    pipeline ? pipelineCard(pipeline) : null,
    h('div', { class: 'card flush' }, h('h2', null, t('coop.requests')),
      list.length ? sortableTable({ columns, rows: list, state: sortState, testid: 'requests-table' })
        : h('p', { class: 'muted' }, t('coop.none'))),
    h('div', { class: 'card' }, h('h2', null, t('coop.projects')),
      projectRows.length ? h('ul', { 'data-testid': 'projects' }, projectRows.map((p) => h('li', null,
        h('a', { href: `#/project/${encodeURIComponent(p.id)}` }, p.name))))
        : h('p', { class: 'muted' }, t('coop.no_projects'))));
}
