// Cluster plan: every product of the cluster's makers planned at once (one LP, shared
// capacities), its totals, per-product rows, every allocation sortable by cost, and exports.
import { download, post } from '../api.js';
import { h, money, num, pct } from '../dom.js';
import { lang, pick, t } from '../i18n.js';
import { categoryMap, categoryName, companyLink, companyMap } from '../data.js';
import { sortableTable } from '../table.js';

const productSort = { key: 'total_cost', dir: 'desc' };
const allocSort = { key: 'value', dir: 'desc' };

function tile(label, value, testid) {
  return h('div', { class: 'card stat', 'data-testid': testid },
    h('div', { class: 'stat-label' }, label), h('div', { class: 'stat-value' }, value));
}

/** CSV and XLSX buttons for a plan request body (POST /plans/export.*). */
export function exportButtons(body, stem) {
  const status = h('span', { class: 'muted small', role: 'status' });
  const button = (ext, label) => h('button', {
    class: 'btn ghost', type: 'button', 'data-testid': `plan-${ext}`,
    onclick: async () => {
      status.textContent = '';
      try {
        await download(`/plans/export.${ext}`, { lang: lang() }, `${stem}.${ext}`, body);
      } catch (error) {
        status.textContent = error.message || String(error);
      }
    },
  }, label);
  return h('div', { class: 'page-tools' }, button('csv', t('export.csv')), button('xlsx', t('export.xlsx')), status);
}

function planView(plan, companies, categories) {
  const products = plan.plans.map((p) => ({
    ...p, maker: companies.get(p.maker_id)?.name ?? p.maker_id, n_uncovered: p.uncovered.length,
  }));
  const productColumns = [
    { key: 'product_name', label: t('cplan.product') },
    { key: 'maker', label: t('cplan.maker'), render: (r) => companyLink(companies, r.maker_id) },
    { key: 'volume', label: t('col.qty'), num: true, render: (r) => num(r.volume) },
    { key: 'total_cost', label: t('col.cost'), num: true, render: (r) => money(r.total_cost) },
    { key: 'localization_share_value', label: t('planner.localization'), num: true, render: (r) => pct(r.localization_share_value) },
    { key: 'intra_cluster_share', label: t('planner.intra'), num: true, render: (r) => pct(r.intra_cluster_share) },
    { key: 'n_uncovered', label: t('planner.uncovered_list'), num: true },
  ];
  const rows = [];
  for (const p of plan.plans) {
    for (const cp of p.categories) {
      for (const a of cp.allocations) {
        rows.push({ ...a, product: p.product_name, category: cp.category });
      }
    }
  }
  const allocColumns = [
    { key: 'product', label: t('cplan.product') },
    { key: 'category', label: t('col.category'), value: (r) => categoryName(categories, r.category) },
    {
      key: 'supplier', label: t('col.supplier'), value: (r) => r.supplier_name,
      render: (r) => (r.supplier_id ? companyLink(companies, r.supplier_id, r.supplier_name) : h('span', { class: 'muted' }, t('planner.import'))),
    },
    { key: 'qty', label: t('col.qty'), num: true, render: (r) => num(r.qty) },
    { key: 'unit_cost', label: t('col.price'), num: true, render: (r) => num(r.unit_cost) },
    { key: 'value', label: t('col.cost'), num: true, render: (r) => money(r.value) },
  ];
  return h('div', { 'data-testid': 'cluster-plan' },
    h('p', { class: 'lede', style: { margin: '1rem 0' } }, pick(plan, 'text')),
    h('div', { class: 'grid cols-4' },
      tile(t('cplan.total'), money(plan.total_cost), 'cplan-total'),
      tile(t('planner.localization'), pct(plan.localization_share_value), 'cplan-local'),
      tile(t('planner.intra'), pct(plan.intra_cluster_share), 'cplan-intra'),
      tile(t('cplan.products'), `${num(plan.plans.length)}${plan.skipped.length ? ` (+${num(plan.skipped.length)} ${t('cplan.skipped')})` : ''}`, 'cplan-products')),
    h('div', { class: 'section card flush' },
      h('div', { class: 'card-head' }, h('h2', null, t('cplan.by_product'), h('span', { class: 'count' }, num(products.length)))),
      sortableTable({ columns: productColumns, rows: products, state: productSort, testid: 'cplan-products-table' })),
    h('div', { class: 'section card flush' },
      h('div', { class: 'card-head' }, h('h2', null, t('planner.allocations'), h('span', { class: 'count' }, num(rows.length)))),
      sortableTable({ columns: allocColumns, rows, state: allocSort, testid: 'cplan-table', limit: 50 })));
}

export async function render({ cluster, args, go }) {
  const run = args[0] === 'run';
  const body = { cluster };
  const head = (tools) => h('div', { class: 'page-head' },
    h('div', null, h('h1', null, t('cplan.title')), h('p', { class: 'lede' }, t('cplan.lede')),
      h('a', { class: 'action', href: '#/planner' }, t('cplan.to_product'))),
    tools);
  if (!cluster) return h('div', null, head(null), h('p', { class: 'empty-note' }, t('no_cluster')));
  if (!run) {
    return h('div', null, head(null),
      h('div', { class: 'card form-row' },
        h('p', { class: 'muted small', style: { margin: 0 } }, t('cplan.explain')),
        h('button', { class: 'btn', type: 'button', 'data-testid': 'cplan-run', onclick: () => go('cluster-plan', 'run') }, t('cplan.run'))));
  }
  const [plan, companies, categories] = await Promise.all([post('/plans', body), companyMap(), categoryMap()]);
  return h('div', null, head(exportButtons(body, `plan-${cluster}`)), planView(plan, companies, categories));
}
