// Cluster overview: KPI tiles against their thresholds, participants by role, intra-cluster share.
import { get, getAll } from '../api.js';
import { h, money, num, pct } from '../dom.js';
import { pick, t, term, tn } from '../i18n.js';
import {
  ROLE_COLOURS, ROLE_ORDER, allSupplies, categoryMap, categoryName, companyLink, companyMap,
  memberIds,
} from '../data.js';

function isShare(kpi) {
  return kpi.code !== 'untied_count' && kpi.threshold <= 1;
}

function kpiValue(kpi, value) {
  return isShare(kpi) ? pct(value) : num(value);
}

function kpiTile(kpi) {
  const tone = kpi.passed ? 'pass' : 'fail';
  return h('div', { class: `card kpi ${tone}`, 'data-testid': 'kpi', 'data-kpi': kpi.code, 'data-passed': String(kpi.passed) },
    h('div', { class: 'kpi-head' },
      h('div', { class: 'kpi-name' }, pick(kpi, 'name')),
      h('span', { class: `badge ${tone}` }, kpi.passed ? t('kpi.pass') : t('kpi.fail'))),
    h('div', { class: 'kpi-value' }, kpiValue(kpi, kpi.value)),
    h('div', { class: 'kpi-threshold' }, t('overview.threshold', { value: `${kpi.comparison === '>=' ? '≥' : '≤'} ${kpiValue(kpi, kpi.threshold)}` })),
    h('div', { class: 'kpi-note' }, pick(kpi, 'text')));
}

function bars(rows, max, wide = false) {
  return h('div', { class: `bars${wide ? ' wide' : ''}` }, rows.map((r) => h('div', { class: 'bar-row' },
    h('span', { class: 'bar-label', title: r.title ?? null }, r.label),
    h('div', { class: 'bar-track' }, h('div', { class: 'bar-fill', style: { width: `${max ? (100 * r.value) / max : 0}%`, background: r.colour } })),
    h('span', { class: 'bar-n' }, r.text ?? num(r.value)))));
}

function intraCard(kpi, companies) {
  const card = h('div', { class: 'card' }, h('h2', null, t('overview.intra')),
    h('p', { class: 'muted small', style: { margin: 0 } }, t('overview.intra_text')));
  if (!kpi) return card;
  const value = Math.max(0, Math.min(1, kpi.value));
  const colour = kpi.passed ? 'var(--pass)' : 'var(--fail)';
  card.append(h('div', { class: 'share-meter', title: pct(kpi.value) },
    h('div', { class: 'fill', style: { width: `${value * 100}%`, background: colour } }),
    h('div', { class: 'mark', style: { left: `${kpi.threshold * 100}%` } },
      h('span', null, t('overview.threshold', { value: pct(kpi.threshold, 0) })))));
  const details = kpi.details || {};
  card.append(h('div', { class: 'small', style: { marginBottom: '.6rem' } },
    h('b', { style: { fontSize: '1.25rem', color: colour } }, pct(kpi.value)), ' ',
    h('span', { class: 'muted' }, `${money(details.intra_value)} / ${money(details.total_value)}`)));
  const perMaker = Object.entries(details.per_maker || {})
    .map(([id, v]) => ({ id, share: v.total > 0 ? v.intra / v.total : 0, total: v.total }))
    .sort((a, b) => b.share - a.share);
  if (perMaker.length) {
    card.append(bars(perMaker.map((m) => ({
      label: companyLink(companies, m.id),
      title: companies.get(m.id)?.name,
      value: m.share,
      text: pct(m.share, 0),
      colour: m.share >= kpi.threshold ? 'var(--pass)' : 'var(--warn)',
    })), 1, true));
  }
  return card;
}

function whatIfCard(kpis, companies, categories) {
  const items = kpis.what_if || [];
  if (!items.length) return null;
  const byCode = new Map(kpis.kpis.map((k) => [k.code, k]));
  return h('div', { class: 'card section' }, h('h2', null, t('overview.what_if')),
    items.map((w) => {
      const kpi = byCode.get(w.kpi);
      const fmt = (v) => (kpi ? kpiValue(kpi, v) : num(v, 2));
      return h('div', { class: 'rec' },
        h('div', { class: 'rec-head' },
          h('span', { class: 'rec-name' }, kpi ? pick(kpi, 'name') : w.kpi),
          h('span', { class: 'muted' }, `${t('overview.actual')} ${fmt(w.before)} → ${t('overview.projected')} ${fmt(w.after)}`),
          h('span', { class: `badge ${w.passes_after ? 'pass' : 'fail'}` }, w.passes_after ? t('kpi.pass') : t('kpi.fail'))),
        h('p', { class: 'muted small', style: { margin: '.3rem 0' } }, pick(w, 'text')),
        // every proposed link: the first 8 open, the rest one click away
        (() => {
          const item = (l) => h('li', { 'data-testid': 'what-if-link' },
            companyLink(companies, l.supplier_id), ' → ', companyLink(companies, l.buyer_id),
            l.category ? h('span', { class: 'muted' }, ` · ${categoryName(categories, l.category)}`) : null,
            l.volume ? h('span', { class: 'muted' }, ` · ${num(l.volume)} ${t('unit.per_year')}`) : null,
            l.value ? h('span', { class: 'muted' }, ` · ${money(l.value)}`) : null);
          const list = { class: 'small', style: { margin: 0, paddingLeft: '1.1rem' } };
          return h('div', null,
            h('ul', list, w.links.slice(0, 8).map(item)),
            w.links.length > 8 ? h('details', null,
              h('summary', { class: 'small', 'data-testid': 'what-if-more' }, t('table.show_all', { n: num(w.links.length) })),
              h('ul', list, w.links.slice(8).map(item))) : null);
        })());
    }));
}

export async function render({ cluster, clusters }) {
  if (!cluster) {
    return h('div', null, h('h1', null, t('overview.title')), h('p', { class: 'empty-note' }, t('no_cluster')));
  }
  const [kpis, companies, members, supplies, categories, products, caps] = await Promise.all([
    get('/kpis', { cluster }), companyMap(), memberIds(cluster), allSupplies(), categoryMap(),
    getAll('/products'), get('/capabilities', { limit: 1 }),
  ]);
  const info = clusters.find((c) => c.id === cluster);
  const memberList = [...members].map((id) => companies.get(id)).filter(Boolean);
  const roleCounts = new Map();
  for (const c of memberList) {
    for (const r of (c.roles?.length ? c.roles : ['none'])) roleCounts.set(r, (roleCounts.get(r) || 0) + 1);
  }
  const roleRows = [...ROLE_ORDER, 'none'].filter((r) => roleCounts.has(r)).map((r) => ({
    label: h('span', null, h('span', { class: 'dot', style: { background: ROLE_COLOURS[r] } }), term('roles', r)),
    value: roleCounts.get(r), colour: ROLE_COLOURS[r],
  }));
  const memberLinks = supplies.filter((s) => members.has(s.supplier_id) || members.has(s.buyer_id));
  const intraLinks = supplies.filter((s) => members.has(s.supplier_id) && members.has(s.buyer_id));
  const memberProducts = products.filter((p) => members.has(p.maker_id));
  const intraKpi = kpis.kpis.find((k) => k.code === 'intra_purchases');
  const counts = [
    [kpis.members, 'overview.members'],
    [memberLinks.length, 'overview.links'],
    [intraLinks.length, 'overview.intra_links'],
    [memberProducts.length, 'overview.products'],
    [categories.size, 'overview.categories'],
    [caps?.total ?? null, 'overview.capabilities'],
  ].map(([n, key]) => [n, tn(key, n ?? 0)]);
  const untied = kpis.untied_members || [];

  return h('div', null,
    h('div', { class: 'page-head' },
      h('div', null,
        h('h1', null, kpis.cluster_name || info?.name || t('overview.title')),
        h('p', { class: 'lede' }, [info?.region, t('overview.lede')].filter(Boolean).join(' · ')))),
    h('h3', null, t('overview.kpis')),
    h('div', { class: 'grid cols-3', 'data-testid': 'kpis' }, kpis.kpis.map(kpiTile)),
    h('div', { class: 'grid cols-3 section' },
      intraCard(intraKpi, companies),
      h('div', { class: 'card' }, h('h2', null, t('overview.participants'), h('span', { class: 'count' }, num(memberList.length))),
        bars(roleRows, Math.max(1, ...roleRows.map((r) => r.value)))),
      h('div', { class: 'card' }, h('h2', null, t('overview.counts')),
        h('div', { class: 'grid cols-2', style: { gap: '.8rem' } }, counts.map(([n, label]) => h('div', { class: 'stat' },
          h('div', { class: 'stat-value' }, num(n)), h('div', { class: 'stat-label' }, label)))))),
    h('div', { class: 'grid side' },
      whatIfCard(kpis, companies, categories) || h('div'),
      h('div', { class: 'card section' }, h('h2', null, t('overview.untied'), h('span', { class: 'count' }, num(untied.length))),
        untied.length
          ? h('ul', { style: { margin: 0, paddingLeft: '1.1rem' } }, untied.map((id) => h('li', null, companyLink(companies, id))))
          : h('p', { class: 'empty-note' }, t('overview.none_untied')))));
}
