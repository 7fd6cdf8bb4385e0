// Company page: facts, capabilities, current partners, and ranked recommendations with reasons.
import { get, getAll } from '../api.js';
import { h, num, pct } from '../dom.js';
import { pick, t, term } from '../i18n.js';
import { categoryMap, categoryName, companyLink, companyMap, roleChips } from '../data.js';
import { sortableTable } from '../table.js';

const capSort = { key: 'category', dir: 'asc' };
const K = 8;

function fact(label, value) {
  if (value === null || value === undefined || value === '') return null;
  return h('span', null, `${label}: `, h('b', null, value));
}

function partnerList(companies, categories, rows, otherKey) {
  if (!rows.length) return h('p', { class: 'empty-note' }, t('company.no_partners'));
  const byPartner = new Map();
  for (const r of rows) {
    const id = r[otherKey];
    if (!byPartner.has(id)) byPartner.set(id, []);
    byPartner.get(id).push(r);
  }
  return h('ul', { class: 'plain-list', style: { margin: 0, paddingLeft: '1.1rem' } },
    [...byPartner.entries()]
      .sort((a, b) => (companies.get(a[0])?.name || a[0]).localeCompare(companies.get(b[0])?.name || b[0]))
      .map(([id, list]) => h('li', { style: { margin: '.3rem 0' } },
        companyLink(companies, id),
        h('div', { class: 'muted small' }, list.map((r) => {
          const vol = r.volume_per_year != null ? ` — ${num(r.volume_per_year)}` : '';
          return categoryName(categories, r.category) + vol;
        }).join('; ')))));
}

function factorRows(candidate) {
  const factors = [...(candidate.factors || [])]
    .filter((f) => f.weight !== 0)
    .sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution))
    .slice(0, 3);
  return h('ul', { class: 'reasons' }, factors.map((f) => h('li', null,
    h('span', { class: `fbar${f.value < 0.25 ? ' neg' : ''}`, title: `${f.name}: ${num(f.value, 2)}` },
      h('i', { style: { width: `${Math.round(Math.max(0, Math.min(1, f.value)) * 100)}%` } })),
    h('span', null, pick(f, 'text')))));
}

function recommendations(title, text, result, companies, categories, testid) {
  const card = h('div', { class: 'card', 'data-testid': testid });
  const candidates = result?.candidates || [];
  card.append(h('div', { class: 'card-head' }, h('h2', null, title),
    result ? h('span', { class: 'muted small' }, t('company.candidates', { n: num(result.n_candidates) })) : null));
  card.append(h('p', { class: 'muted small', style: { marginTop: 0 } }, text));
  if (!candidates.length) {
    card.append(h('p', { class: 'empty-note' }, t('company.no_recs')));
    return card;
  }
  for (const c of candidates) {
    const fit = term('company.fit', c.fit);
    card.append(h('div', { class: 'rec', 'data-testid': 'recommendation' },
      h('div', { class: 'rec-head' },
        h('span', { class: 'rec-rank' }, `${c.rank}.`),
        h('span', { class: 'rec-name' }, companyLink(companies, c.company_id, c.company_name)),
        h('span', { class: 'badge info' }, fit),
        c.distance_km != null ? h('span', { class: 'muted small' }, t('company.km', { n: num(c.distance_km) })) : null,
        h('span', { class: 'rec-score', title: t('col.score') }, pct(c.score, 0))),
      h('div', { class: 'rec-cat', style: { marginLeft: '2.2rem' } },
        (c.categories?.length ? c.categories : [c.category]).filter(Boolean).slice(0, 3)
          .map((code) => categoryName(categories, code)).join(' · ')),
      factorRows(c)));
  }
  return card;
}

export async function render({ args, clusters }) {
  const id = args[0];
  const [company, companies, categories] = await Promise.all([
    get(`/companies/${encodeURIComponent(id)}`), companyMap(), categoryMap(),
  ]);
  const [caps, sells, buys, products, memberships, imports] = await Promise.all([
    getAll('/capabilities', { company_id: id }),
    getAll('/supplies', { supplier_id: id }),
    getAll('/supplies', { buyer_id: id }),
    getAll('/products', { maker_id: id }),
    getAll('/memberships', { company_id: id }),
    getAll('/imports', { company_id: id }),
  ]);
  const roles = company.roles || [];
  const wantsBuyers = caps.length > 0;
  const wantsSuppliers = products.length > 0 || imports.length > 0 || roles.includes('oem');
  const [buyers, suppliers] = await Promise.all([
    wantsBuyers ? get('/match/buyers', { supplier: id, k: K }) : null,
    wantsSuppliers ? get('/match/suppliers', { buyer: id, k: K }) : null,
  ]);

  const capColumns = [
    { key: 'category', label: t('col.category'), value: (c) => categoryName(categories, c.category) },
    { key: 'capacity_per_year', label: t('col.capacity'), num: true, render: (c) => num(c.capacity_per_year) },
    { key: 'lead_time_days', label: t('col.lead_time'), num: true, render: (c) => num(c.lead_time_days) },
    { key: 'unit_price', label: t('col.price'), num: true, render: (c) => num(c.unit_price) },
  ];
  const clusterNames = memberships
    .map((m) => clusters.find((c) => c.id === m.cluster_id)?.name || m.cluster_id).join(', ');
  const head = h('div', { class: 'card', style: { marginBottom: '1rem' } },
    h('div', { class: 'company-head' },
      h('div', null,
        h('h1', null, company.name),
        h('div', { style: { marginTop: '.35rem' } }, roleChips(roles)),
        h('div', { class: 'facts' },
          fact(t('company.inn'), company.inn),
          fact(t('company.municipality'), company.municipality),
          fact(t('company.region'), company.region),
          fact(t('company.employees'), company.employees != null ? num(company.employees) : null),
          fact(t('company.clusters'), clusterNames)))));

  const recCards = [];
  if (buyers) {
    recCards.push(recommendations(t('company.rec_buyers'), t('company.rec_buyers_text'), buyers, companies, categories, 'rec-buyers'));
  }
  if (suppliers) {
    recCards.push(recommendations(t('company.rec_suppliers'), t('company.rec_suppliers_text'), suppliers, companies, categories, 'rec-suppliers'));
  }
  if (!recCards.length) {
    recCards.push(h('div', { class: 'card' }, h('h2', null, t('company.rec_buyers')), h('p', { class: 'empty-note' }, t('company.no_recs'))));
  }

  const side = [
    h('div', { class: 'card flush' },
      h('div', { class: 'card-head' }, h('h2', null, t('company.capabilities'))),
      caps.length ? sortableTable({ columns: capColumns, rows: caps, state: capSort, testid: 'capabilities-table', compact: true })
        : h('p', { class: 'empty-note', style: { padding: '0 1.15rem 1rem' } }, t('company.no_capabilities'))),
    h('div', { class: 'card' }, h('h2', null, t('company.sells_to')), partnerList(companies, categories, sells, 'buyer_id')),
    h('div', { class: 'card' }, h('h2', null, t('company.buys_from')), partnerList(companies, categories, buys, 'supplier_id')),
  ];
  if (products.length) {
    side.push(h('div', { class: 'card' }, h('h2', null, t('company.products')),
      h('ul', { style: { margin: 0, paddingLeft: '1.1rem' } }, products.map((p) => h('li', null, p.name, ' — ',
        h('a', { href: `#/planner/${encodeURIComponent(p.id)}` }, t('company.plan')))))));
  }
  if (imports.length) {
    side.push(h('div', { class: 'card' }, h('h2', null, t('company.imports')),
      h('ul', { style: { margin: 0, paddingLeft: '1.1rem' } }, imports.map((m) => h('li', null,
        categoryName(categories, m.category), h('span', { class: 'muted small' }, ` — ${m.country}`,
          m.volume_per_year != null ? `, ${num(m.volume_per_year)}` : ''))))));
  }
  return h('div', { 'data-company': id },
    head,
    h('div', { class: 'grid side-wide' },
      h('div', { class: 'grid', style: { alignContent: 'start' } }, recCards),
      h('div', { class: 'grid', style: { alignContent: 'start' } }, side)));
}
