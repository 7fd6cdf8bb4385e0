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
  // each bar carries its number: the factor's value on 0–100
  return h('ul', { class: 'reasons' }, factors.map((f) => {
    const points = Math.round(Math.max(0, Math.min(1, f.value)) * 100);
    return h('li', null,
      h('span', { class: `fbar${f.value < 0.25 ? ' neg' : ''}`, title: term('factor', f.name) },
        h('i', { style: { width: `${points}%` } })),
      h('span', { class: 'fnum', 'data-testid': 'factor-points' }, num(points)),
      h('span', null, pick(f, 'text')));
  }));
}

function candidateCard(c, companies, categories) {
  const fit = term('company.fit', c.fit);
  const score = Math.round(c.relative_score ?? 0);
  return h('div', { class: 'rec', 'data-testid': 'recommendation', 'data-source': c.source || 'demand' },
    h('div', { class: 'rec-head' },
      h('span', { class: 'rec-rank' }, `${c.rank}.`),
      h('span', { class: 'rec-name' }, companyLink(companies, c.company_id, c.company_name)),
      h('span', { class: 'badge info' }, fit),
      c.distance_km != null ? h('span', { class: 'muted small' }, c.distance_km < 1 ? t('company.same_town') : t('company.km', { n: num(c.distance_km) })) : null,
      h('span', { class: 'rec-score', title: t('company.score_legend'), 'data-testid': 'rec-score' },
        num(score), h('small', null, ' / 100'))),
    h('div', { class: 'rec-cat', style: { marginLeft: '2.2rem' } },
      (c.categories?.length ? c.categories : [c.category]).filter(Boolean).slice(0, 3)
        .map((code) => categoryName(categories, code)).join(' · ')),
    factorRows(c));
}

function recommendations(title, text, result, companies, categories, testid, more) {
  const card = h('div', { class: 'card', 'data-testid': testid });
  const candidates = result?.candidates || [];
  card.append(h('div', { class: 'card-head' }, h('h2', null, title),
    result ? h('span', { class: 'muted small' }, t('company.shown_of', { shown: num(candidates.length), n: num(result.n_candidates) })) : null));
  card.append(h('p', { class: 'muted small', style: { marginTop: 0 } }, text));
  if (!candidates.length) {
    card.append(h('p', { class: 'empty-note' }, pick(result || {}, 'note') || t('company.no_recs')));
    return card;
  }
  card.append(h('p', { class: 'muted small score-legend', 'data-testid': 'score-legend' }, t('company.score_legend')));
  // candidates backed by a capability or demand first; network-only ones apart, folded
  const evidenced = candidates.filter((c) => (c.source || 'demand') === 'demand');
  const networkOnly = candidates.filter((c) => (c.source || 'demand') !== 'demand');
  for (const c of evidenced) card.append(candidateCard(c, companies, categories));
  if (networkOnly.length) {
    card.append(h('details', { class: 'network-only', 'data-testid': 'network-only' },
      h('summary', null, t('company.network_only', { n: networkOnly.length })),
      h('p', { class: 'muted small' }, t('company.network_only_text')),
      networkOnly.map((c) => candidateCard(c, companies, categories))));
  }
  if (more && result.n_candidates > candidates.length) {
    card.append(h('a', { class: 'btn ghost', href: more, 'data-testid': 'show-more' }, t('company.show_more', { n: num(Math.min(result.n_candidates, 50)) })));
  }
  return card;
}

function actionLink(href, label, testid) {
  return h('a', { class: 'action', href, 'data-testid': testid }, label);
}

// The filters of "find a local replacement / find suppliers" (the CLI's options), kept in
// the address so a search can be shared: #/company/<id>/find/<category>/<query>, the
// query being URLSearchParams' own encoding (it never holds a '/').
const FIND_FILTERS = ['max_distance_km', 'region', 'required_certs', 'cluster_only', 'min_free_capacity'];

async function findView(company, category, query, companies, categories, certs, direction) {
  const params = new URLSearchParams(query || '');
  const filters = {};
  for (const name of FIND_FILTERS) if (params.get(name)) filters[name] = params.get(name);
  const base = direction === 'buyers'
    ? { supplier: company.id, category, k: 20 } : { buyer: company.id, category, k: 20 };
  const result = await get(direction === 'buyers' ? '/match/buyers' : '/match/suppliers', { ...base, ...filters });
  const input = (name, attrs) => h('input', { name, value: filters[name] || '', ...attrs });
  const form = h('form', {
    class: 'card form-row find-form', 'data-testid': 'find-form',
    onsubmit: (ev) => {
      ev.preventDefault();
      const next = new URLSearchParams();
      for (const el of ev.target.elements) {
        if (!el.name) continue;
        const value = el.type === 'checkbox' ? (el.checked ? 'true' : '') : el.value.trim();
        if (value) next.set(el.name, value);
      }
      window.location.hash = `#/company/${encodeURIComponent(company.id)}/${direction === 'buyers' ? 'buyers' : 'find'}/${encodeURIComponent(category)}/${next.toString()}`;
    },
  },
  h('label', null, t('find.max_km'), input('max_distance_km', { type: 'number', min: 1, step: 1, 'data-testid': 'find-km' })),
  h('label', null, t('find.region'), input('region', { type: 'text', 'data-testid': 'find-region' })),
  direction === 'buyers' ? null : h('label', null, t('find.cert'), h('select', { name: 'required_certs', 'data-testid': 'find-cert' },
    h('option', { value: '' }, '—'),
    certs.map((c) => h('option', { value: c.code, selected: filters.required_certs === c.code || null }, c.name || c.code)))),
  direction === 'buyers' ? null : h('label', null, t('find.free'), input('min_free_capacity', { type: 'number', min: 0, step: 1 })),
  h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'cluster_only', checked: filters.cluster_only ? true : null, 'data-testid': 'find-cluster' }), t('find.cluster')),
  h('button', { class: 'btn', type: 'submit', 'data-testid': 'find-button' }, t('find.run')));
  const title = t(direction === 'buyers' ? 'find.title_buyers' : 'find.title', { category: categoryName(categories, category) });
  return h('div', { 'data-company': company.id, 'data-testid': 'find-view' },
    h('div', { class: 'page-head' }, h('div', null,
      h('h1', null, title),
      h('p', { class: 'lede' }, companyLink(companies, company.id, company.name)))),
    form,
    recommendations(t(direction === 'buyers' ? 'company.rec_buyers' : 'company.rec_suppliers'),
      t(direction === 'buyers' ? 'company.rec_buyers_text' : 'find.text'), result, companies, categories, 'find-results'));
}

export async function render({ args, clusters }) {
  const id = args[0];
  const [company, companies, categories] = await Promise.all([
    get(`/companies/${encodeURIComponent(id)}`), companyMap(), categoryMap(),
  ]);
  if ((args[1] === 'find' || args[1] === 'buyers') && args[2]) {
    const certs = args[1] === 'find' ? await getAll('/certifications') : [];
    return findView(company, args[2], args[3], companies, categories, certs, args[1] === 'buyers' ? 'buyers' : 'suppliers');
  }
  const k = args[1] === 'all' ? 50 : K;
  const [caps, sells, buys, products, memberships, imports, processes, held, needs, processNames, certNames] = await Promise.all([
    getAll('/capabilities', { company_id: id }),
    getAll('/supplies', { supplier_id: id }),
    getAll('/supplies', { buyer_id: id }),
    getAll('/products', { maker_id: id }),
    getAll('/memberships', { company_id: id }),
    getAll('/imports', { company_id: id }),
    getAll('/company-processes', { company_id: id }),
    getAll('/held-certifications', { company_id: id }),
    getAll('/needs', { company_id: id }),
    getAll('/processes'),
    getAll('/certifications'),
  ]);
  const here = `#/company/${encodeURIComponent(id)}`;
  const roles = company.roles || [];
  const wantsBuyers = caps.length > 0;
  const wantsSuppliers = products.length > 0 || imports.length > 0 || roles.includes('oem');
  const [buyers, suppliers] = await Promise.all([
    wantsBuyers ? get('/match/buyers', { supplier: id, k }) : null,
    wantsSuppliers ? get('/match/suppliers', { buyer: id, k }) : null,
  ]);

  const capColumns = [
    { key: 'category', label: t('col.category'), value: (c) => categoryName(categories, c.category) },
    { key: 'capacity_per_year', label: t('col.capacity'), num: true, render: (c) => num(c.capacity_per_year) },
    { key: 'lead_time_days', label: t('col.lead_time'), num: true, render: (c) => num(c.lead_time_days) },
    { key: 'unit_price', label: t('col.price'), num: true, render: (c) => num(c.unit_price) },
    { key: 'action', label: '', value: () => null, render: (c) => actionLink(`${here}/buyers/${encodeURIComponent(c.category)}`, t('action.find_buyers'), 'find-buyers') },
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
    recCards.push(recommendations(t('company.rec_buyers'), t('company.rec_buyers_text'), buyers, companies, categories, 'rec-buyers', `${here}/all`));
  }
  if (suppliers) {
    recCards.push(recommendations(t('company.rec_suppliers'), t('company.rec_suppliers_text'), suppliers, companies, categories, 'rec-suppliers', `${here}/all`));
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
  const processName = new Map(processNames.map((p) => [p.code, pick(p, 'name') || p.code]));
  const certName = new Map(certNames.map((c) => [c.code, c.name || c.code]));
  side.push(h('div', { class: 'card', 'data-testid': 'company-processes' }, h('h2', null, t('company.processes')),
    processes.length ? h('p', { class: 'chips' }, processes.map((p) => h('span', { class: 'chip' }, processName.get(p.process) || p.process)))
      : h('p', { class: 'empty-note' }, t('company.none'))));
  side.push(h('div', { class: 'card', 'data-testid': 'company-certs' }, h('h2', null, t('company.certs')),
    held.length ? h('ul', { class: 'plain-list' }, held.map((c) => h('li', null, certName.get(c.cert) || c.cert,
      c.valid_until ? h('span', { class: 'muted small' }, ` — ${t('company.valid_until', { date: c.valid_until })}`) : null)))
      : h('p', { class: 'empty-note' }, t('company.none'))));
  if (needs.length) {
    side.push(h('div', { class: 'card', 'data-testid': 'company-needs' }, h('h2', null, t('company.needs')),
      h('ul', { class: 'plain-list' }, needs.map((n) => h('li', null,
        categoryName(categories, n.category),
        n.qty_per_year != null ? h('span', { class: 'muted small' }, ` — ${num(n.qty_per_year)} ${t('unit.per_year')}`) : null,
        ' ', actionLink(`${here}/find/${encodeURIComponent(n.category)}/${new URLSearchParams({
          ...(n.max_distance_km ? { max_distance_km: n.max_distance_km } : {}),
          ...(n.required_certs?.length ? { required_certs: n.required_certs[0] } : {}),
        }).toString()}`, t('action.find_suppliers'), 'find-suppliers'))))));
  }
  if (imports.length) {
    // biggest volume first; each with the search for a local replacement
    const sortedImports = [...imports].sort((a, b) => (b.volume_per_year ?? -1) - (a.volume_per_year ?? -1));
    side.push(h('div', { class: 'card', 'data-testid': 'company-imports' }, h('h2', null, t('company.imports')),
      h('ul', { class: 'plain-list' }, sortedImports.map((m) => h('li', null,
        categoryName(categories, m.category), h('span', { class: 'muted small' }, ` — ${m.country}`,
          m.volume_per_year != null ? `, ${num(m.volume_per_year)} ${t('unit.per_year')}` : ''),
        ' ', actionLink(`${here}/find/${encodeURIComponent(m.category)}/${company.region ? new URLSearchParams({ region: company.region }).toString() : ''}`,
          t('action.find_replacement'), 'find-replacement'))))));
  }
  return h('div', { 'data-company': id },
    head,
    h('div', { class: 'grid side-wide' },
      h('div', { class: 'grid', style: { alignContent: 'start' } }, recCards),
      h('div', { class: 'grid', style: { alignContent: 'start' } }, side)));
}
