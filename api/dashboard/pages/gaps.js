// Gaps page: the gap report as tabs of sortable tables, with "capabilities to attract".
import { download, get } from '../api.js';
import { h, money, num, pct } from '../dom.js';
import { lang, pick, t } from '../i18n.js';
import { categoryMap, categoryName, companyLink, companyMap, roleChips } from '../data.js';
import { sortableTable } from '../table.js';

const sortStates = {};
let activeTab = 'no_regional_supplier';

/** A cell with the row's explanation: shown under it (inline) or on hover, where it repeats the numbers. */
function withNote(main, row, inline = false) {
  const note = pick(row, 'text');
  if (!inline) return h('span', { title: note || null }, main);
  return h('div', null, main, note ? h('div', { class: 'muted small', style: { marginTop: '.15rem', maxWidth: '46rem' } }, note) : null);
}

function names(companies, ids, limit = 4) {
  const list = (ids || []).slice(0, limit);
  const out = [];
  list.forEach((id, i) => { if (i) out.push(', '); out.push(companyLink(companies, id)); });
  if ((ids || []).length > limit) out.push(h('span', { class: 'muted' }, ` +${ids.length - limit}`));
  return h('span', null, out);
}

function tables(report, companies, categories) {
  const cat = (r) => categoryName(categories, r.category);
  return [
    {
      id: 'no_regional_supplier', rows: report.import_dependency, initial: { key: 'demand_value', dir: 'desc' },
      columns: [
        { key: 'category', label: t('col.category'), value: cat, render: (r) => withNote(h('b', null, cat(r)), r) },
        { key: 'demand_qty', label: t('col.demand'), num: true, render: (r) => num(r.demand_qty) },
        { key: 'demand_value', label: t('col.value'), num: true, render: (r) => money(r.demand_value) },
        { key: 'buyers', label: t('col.buyers'), value: (r) => r.buyers.length, render: (r) => names(companies, r.buyers) },
        { key: 'import_qty', label: t('col.imports'), num: true, render: (r) => h('span', { title: r.importers.length ? r.importers.map((id) => companies.get(id)?.name || id).join(', ') : null }, num(r.import_qty)) },
      ],
    },
    {
      id: 'single_source', rows: report.single_source, initial: { key: 'demand_value', dir: 'desc' },
      columns: [
        { key: 'category', label: t('col.category'), value: cat, render: (r) => withNote(h('b', null, cat(r)), r) },
        { key: 'supplier', label: t('col.supplier'), value: (r) => r.supplier_name, render: (r) => companyLink(companies, r.supplier_id, r.supplier_name) },
        { key: 'demand_qty', label: t('col.demand'), num: true, render: (r) => num(r.demand_qty) },
        { key: 'capacity', label: t('col.capacity'), num: true, render: (r) => num(r.capacity) },
        { key: 'demand_value', label: t('col.value'), num: true, render: (r) => money(r.demand_value) },
      ],
    },
    {
      id: 'demand_above_capacity', rows: report.over_capacity, initial: { key: 'shortfall_value', dir: 'desc' },
      columns: [
        { key: 'category', label: t('col.category'), value: cat, render: (r) => withNote(h('b', null, cat(r)), r) },
        { key: 'demand_qty', label: t('col.demand'), num: true, render: (r) => num(r.demand_qty) },
        { key: 'capacity', label: t('col.capacity'), num: true, render: (r) => num(r.capacity) },
        { key: 'shortfall', label: t('col.shortfall'), num: true, render: (r) => num(r.shortfall) },
        { key: 'shortfall_value', label: t('col.value'), num: true, render: (r) => money(r.shortfall_value) },
        { key: 'suppliers', label: t('col.suppliers'), value: (r) => r.suppliers.length, render: (r) => names(companies, r.suppliers) },
      ],
    },
    {
      id: 'idle_capacity', rows: report.idle_capacity, initial: { key: 'free_capacity', dir: 'desc' },
      columns: [
        { key: 'company', label: t('col.company'), value: (r) => r.name, render: (r) => companyLink(companies, r.company_id, r.name) },
        {
          key: 'category', label: t('col.category'), value: cat,
          render: (r) => withNote(h('span', null, cat(r), r.category_over_capacity
            ? [' ', h('span', { class: 'badge warn', 'data-testid': 'idle-short', title: t('gaps.short_and_idle') }, t('gaps.short_badge'))] : null), r),
        },
        { key: 'capacity', label: t('col.capacity'), num: true, render: (r) => num(r.capacity) },
        { key: 'free_capacity', label: t('col.idle'), num: true, render: (r) => num(r.free_capacity) },
        { key: 'idle_share', label: t('col.idle_share'), num: true, value: (r) => (r.capacity ? r.free_capacity / r.capacity : null), render: (r) => pct(r.capacity ? r.free_capacity / r.capacity : null, 0) },
        { key: 'demand_in_scope', label: t('col.demand'), num: true, render: (r) => num(r.demand_in_scope) },
        {
          key: 'action', label: '', value: () => null,
          render: (r) => h('a', { class: 'action', 'data-testid': 'idle-find-buyers', href: `#/company/${encodeURIComponent(r.company_id)}/buyers/${encodeURIComponent(r.category)}` }, t('action.find_buyers')),
        },
      ],
    },
    {
      id: 'untied_members', rows: report.untied, initial: { key: 'company', dir: 'asc' },
      columns: [
        { key: 'company', label: t('col.company'), value: (r) => r.name, render: (r) => companyLink(companies, r.company_id, r.name) },
        { key: 'roles', label: t('col.roles'), value: (r) => (companies.get(r.company_id)?.roles || []).join(','), render: (r) => roleChips(companies.get(r.company_id)?.roles) },
        { key: 'municipality', label: t('col.municipality'), value: (r) => companies.get(r.company_id)?.municipality ?? null },
      ],
    },
    {
      id: 'critical_companies', rows: report.critical, initial: { key: 'betweenness', dir: 'desc' },
      columns: [
        { key: 'company', label: t('col.company'), value: (r) => r.name, render: (r) => withNote(companyLink(companies, r.company_id, r.name), r, true) },
        { key: 'betweenness', label: t('col.betweenness'), num: true, render: (r) => pct(r.betweenness, 1) },
        { key: 'articulation_point', label: t('col.articulation'), value: (r) => (r.articulation_point ? 1 : 0), render: (r) => (r.articulation_point ? h('span', { class: 'badge warn' }, t('yes')) : t('no')) },
        { key: 'degree', label: t('network.degree'), num: true, render: (r) => num(r.degree) },
      ],
    },
    {
      id: 'capabilities_to_attract', rows: report.attract, initial: { key: 'rank', dir: 'asc' },
      columns: [
        { key: 'rank', label: '#', num: true },
        { key: 'category', label: t('col.category'), value: cat, render: (r) => withNote(h('b', null, cat(r)), r, true) },
        { key: 'unlock_value', label: t('col.unlocked'), num: true, render: (r) => money(r.unlock_value) },
        { key: 'unlock_qty', label: t('col.demand'), num: true, render: (r) => num(r.unlock_qty) },
        { key: 'buyers', label: t('col.buyers'), num: true },
        { key: 'could_develop', label: t('gaps.could_develop'), value: (r) => r.could_develop.length, render: (r) => names(companies, r.could_develop, 3) },
      ],
    },
  ];
}

export async function render({ cluster }) {
  const [report, companies, categories] = await Promise.all([
    get('/gaps', { cluster }), companyMap(), categoryMap(),
  ]);
  const all = tables(report, companies, categories);
  const bothShortAndIdle = report.idle_capacity.some((r) => r.category_over_capacity);
  if (!all.some((x) => x.id === activeTab)) activeTab = all[0].id;
  const holder = h('div', { class: 'card flush' });
  const tabs = h('div', { class: 'tabs', role: 'tablist' });
  const show = () => {
    const spec = all.find((x) => x.id === activeTab);
    sortStates[spec.id] ??= { ...spec.initial };
    holder.replaceChildren(
      h('div', { class: 'card-head' }, h('h2', null, t(`gaps.${spec.id}`), h('span', { class: 'count' }, num(spec.rows.length)))),
      h('p', { class: 'muted small', style: { padding: '0 1.15rem', margin: '0 0 .6rem' } }, t(`gaps.${spec.id}.about`)),
      // one category short of capacity and idle at a supplier: why both can be true
      bothShortAndIdle && ['idle_capacity', 'demand_above_capacity'].includes(spec.id)
        ? h('p', { class: 'small', 'data-testid': 'short-and-idle', style: { padding: '0 1.15rem', margin: '0 0 .6rem' } }, t('gaps.short_and_idle'))
        : null,
      sortableTable({ columns: spec.columns, rows: spec.rows, state: sortStates[spec.id], testid: `gaps-${spec.id}`, limit: 25 }));
    for (const b of tabs.children) b.setAttribute('aria-selected', String(b.dataset.tab === activeTab));
  };
  for (const spec of all) {
    tabs.append(h('button', {
      type: 'button', role: 'tab', 'data-tab': spec.id,
      onclick: () => { activeTab = spec.id; show(); },
    }, t(`gaps.${spec.id}`), h('span', { class: 'n' }, num(spec.rows.length))));
  }
  show();
  const status = h('span', { class: 'muted small', role: 'status' });
  const csv = h('button', {
    class: 'btn ghost', type: 'button', 'data-testid': 'gaps-csv',
    onclick: async () => {
      status.textContent = '';
      try {
        await download('/gaps/export.csv', { cluster, lang: lang() }, `gaps-${cluster || 'all'}.csv`);
      } catch (error) {
        status.textContent = error.message || String(error);
      }
    },
  }, t('gaps.csv'));
  const xlsx = h('button', {
    class: 'btn ghost', type: 'button', 'data-testid': 'gaps-xlsx',
    onclick: async () => {
      status.textContent = '';
      try {
        await download('/gaps/export.xlsx', { cluster, lang: lang() }, `gaps-${cluster || 'all'}.xlsx`);
      } catch (error) {
        status.textContent = error.message || String(error);
      }
    },
  }, t('export.xlsx'));
  return h('div', null,
    h('div', { class: 'page-head' },
      h('div', null, h('h1', null, t('gaps.title')), h('p', { class: 'lede' }, t('gaps.lede'))),
      h('div', { class: 'page-tools' }, csv, xlsx, status)),
    pick(report, 'text') ? h('div', { class: 'card', style: { marginBottom: '1rem' } }, pick(report, 'text')) : null,
    tabs, holder);
}
