// Chain planner: pick a product and a volume, see the allocations, localization and uncovered categories.
import { ApiError, getAll, post } from '../api.js';
import { h, money, num, pct, replace } from '../dom.js';
import { lang, pick, t } from '../i18n.js';
import { categoryMap, categoryName, companyLink, companyMap } from '../data.js';
import { sortableTable } from '../table.js';
import { exportButtons } from './clusterplan.js';

// most expensive first: where the money goes (any column sorts on a click)
const allocSort = { key: 'value', dir: 'desc' };

function tile(label, value, sub, tone, testid) {
  return h('div', { class: `card stat${tone ? ` kpi ${tone}` : ''}`, 'data-testid': testid },
    h('div', { class: 'stat-label' }, label),
    h('div', { class: 'stat-value' }, value),
    sub ? h('div', { class: 'muted small' }, sub) : null);
}

function sourceBadge(a) {
  if (a.imported || !a.supplier_id) return h('span', { class: 'badge fail' }, t('planner.import'));
  return h('span', null,
    h('span', { class: a.local ? 'badge pass' : 'badge warn' }, a.local ? t('planner.local') : t('planner.other_region')),
    a.in_cluster ? [' ', h('span', { class: 'badge info' }, t('planner.member'))] : null);
}

function planView(plan, companies, categories) {
  const rows = [];
  for (const cp of plan.categories) {
    for (const a of cp.allocations) {
      rows.push({ ...a, category: cp.category, demand: cp.demand, share: cp.demand ? a.qty / cp.demand : null });
    }
    if (!cp.allocations.length) {
      rows.push({ category: cp.category, demand: cp.demand, supplier_id: null, supplier_name: '—', qty: 0, imported: true, share: 0 });
    }
  }
  const columns = [
    { key: 'category', label: t('col.category'), value: (r) => categoryName(categories, r.category) },
    { key: 'demand', label: t('col.demand'), num: true, render: (r) => num(r.demand) },
    {
      key: 'supplier', label: t('col.supplier'), value: (r) => r.supplier_name,
      render: (r) => (r.supplier_id ? companyLink(companies, r.supplier_id, r.supplier_name) : h('span', { class: 'muted' }, t('planner.import'))),
    },
    { key: 'qty', label: t('col.qty'), num: true, render: (r) => num(r.qty) },
    { key: 'share', label: t('col.share'), num: true, render: (r) => pct(r.share, 0) },
    { key: 'unit_cost', label: t('col.price'), num: true, render: (r) => num(r.unit_cost) },
    { key: 'value', label: t('col.cost'), num: true, render: (r) => money(r.value) },
    { key: 'source', label: t('col.source'), value: (r) => (r.imported ? 2 : r.local ? 0 : 1), render: (r) => h('span', { class: 'nowrap' }, sourceBadge(r)) },
  ];
  const uncovered = plan.uncovered || [];
  const elsewhere = plan.categories
    .filter((cp) => cp.allocations.some((a) => !a.local && !a.imported && a.supplier_id))
    .map((cp) => cp.category);
  const single = plan.single_source || [];
  const localTone = plan.localization_share_value >= 0.5 ? 'pass' : 'fail';
  return h('div', { 'data-testid': 'plan' },
    h('p', { class: 'lede', style: { margin: '1rem 0' } }, pick(plan, 'text')),
    h('div', { class: 'grid cols-4' },
      tile(t('planner.localization'), pct(plan.localization_share_value),
        `${t('overview.actual')}: ${pct(plan.current_localization_share_value)}`, localTone, 'localization'),
      tile(t('planner.localization_count'), pct(plan.localization_share_count)),
      tile(t('planner.intra'), pct(plan.intra_cluster_share),
        `${t('overview.actual')}: ${pct(plan.current_intra_cluster_share)}`),
      tile(t('planner.cost'), money(plan.total_cost),
        `${num(plan.volume)} × ${plan.product_name}`)),
    h('div', { class: 'section' },
      h('div', { class: 'card flush' },
        h('div', { class: 'card-head' }, h('h2', null, t('planner.allocations'), h('span', { class: 'count' }, num(plan.categories.length)))),
        sortableTable({ columns, rows, state: allocSort, testid: 'plan-table' }))),
    h('div', { class: 'grid cols-3 section' },
        h('div', { class: 'card', 'data-testid': 'elsewhere' },
          h('h2', null, t('planner.elsewhere'), h('span', { class: 'count' }, num(elsewhere.length))),
          h('p', { class: 'muted small', style: { marginTop: 0 } }, t('planner.elsewhere_text')),
          elsewhere.length
            ? h('ul', { style: { margin: 0, paddingLeft: '1.1rem' } }, elsewhere.map((c) => h('li', null, categoryName(categories, c))))
            : h('p', { class: 'empty-note' }, t('planner.none_elsewhere'))),
        h('div', { class: 'card', 'data-testid': 'uncovered' },
          h('h2', null, t('planner.uncovered_list'), h('span', { class: 'count' }, num(uncovered.length))),
          h('p', { class: 'muted small', style: { marginTop: 0 } }, t('planner.uncovered_text')),
          uncovered.length
            ? h('ul', { style: { margin: 0, paddingLeft: '1.1rem' } }, uncovered.map((c) => h('li', null, categoryName(categories, c))))
            : h('p', { class: 'empty-note' }, t('planner.none_uncovered'))),
        single.length ? h('div', { class: 'card' },
          h('h2', null, t('planner.single_source'), h('span', { class: 'count' }, num(single.length))),
          h('p', { class: 'muted small', style: { marginTop: 0 } }, t('planner.single_source_text')),
          h('ul', { style: { margin: 0, paddingLeft: '1.1rem' } }, single.map((c) => h('li', null, categoryName(categories, c))))) : null));
}

export async function render({ args, go }) {
  const [products, companies, categories] = await Promise.all([
    getAll('/products'), companyMap(), categoryMap(),
  ]);
  const sorted = [...products].sort((a, b) => a.name.localeCompare(b.name));
  const productId = args[0] && products.some((p) => p.id === args[0]) ? args[0] : '';
  const product = products.find((p) => p.id === productId);
  const volumeArg = Number(args[1]);
  const volume = Number.isFinite(volumeArg) && volumeArg > 0 ? volumeArg : (product?.annual_volume ?? '');

  const select = h('select', { name: 'product', 'data-testid': 'product-select', required: true },
    h('option', { value: '' }, '—'),
    sorted.map((p) => {
      const maker = companies.get(p.maker_id)?.name;
      return h('option', { value: p.id, selected: p.id === productId || null }, maker ? `${p.name} — ${maker}` : p.name);
    }));
  // An empty volume plans the product's annual volume, and the field says so.
  const volumeInput = h('input', {
    name: 'volume', type: 'number', min: 1, step: 1, value: Number(volumeArg) > 0 ? volumeArg : '',
    'data-testid': 'volume-input',
    placeholder: product?.annual_volume ? t('planner.volume_default', { n: num(product.annual_volume) }) : '',
  });
  const formNote = h('p', { class: 'form-note', role: 'status', 'data-testid': 'planner-note' });
  select.addEventListener('change', () => {
    const p = products.find((x) => x.id === select.value);
    volumeInput.placeholder = p?.annual_volume ? t('planner.volume_default', { n: num(p.annual_volume) }) : '';
  });
  const form = h('form', {
    class: 'card form-row',
    onsubmit: (ev) => {
      ev.preventDefault();
      if (!select.value) return;
      const raw = volumeInput.value.trim();
      const v = Number(raw);
      if (raw && !(Number.isInteger(v) && v > 0)) {
        replace(formNote, t('planner.volume_bad'));
        return;
      }
      go('planner', select.value, ...(raw ? [String(v)] : []));
    },
  },
  h('label', null, t('planner.product'), select),
  h('label', null, t('planner.volume'), volumeInput),
  h('button', { class: 'btn', type: 'submit', 'data-testid': 'plan-button' }, t('planner.run')),
  formNote);

  let result = h('p', { class: 'empty-note', style: { marginTop: '1rem' } }, t('planner.pick'));
  let tools = null;
  if (productId) {
    const body = { product: productId };
    if (Number(volume) > 0) body.volume = Number(volume);
    try {
      result = planView(await post('/plans', body), companies, categories);
      tools = exportButtons(body, `plan-${productId}`);
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 400) throw error;
      // a volume out of bounds: said next to the form ("English / Русский" from the API)
      const parts = String(error.message).split(' / ');
      const text = parts.length === 2 ? parts[lang() === 'ru' ? 1 : 0] : error.message;
      result = h('p', { class: 'error-box', role: 'alert', 'data-testid': 'planner-error' }, text);
    }
  }
  return h('div', null,
    h('div', { class: 'page-head' },
      h('div', null, h('h1', null, t('planner.title')), h('p', { class: 'lede' }, t('planner.lede')),
        h('a', { class: 'action', href: '#/cluster-plan', 'data-testid': 'to-cluster-plan' }, t('cplan.open'))),
      tools),
    form, result);
}
