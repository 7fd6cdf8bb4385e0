// Companies page: faceted search (GET /companies/search) with paging; the filters live in the
// address (#/companies/<query>), so a search can be shared; each row opens the company's page.
import { getAll, get } from '../api.js';
import { h, num } from '../dom.js';
import { pick, t, term } from '../i18n.js';
import { categoryMap, companyLink, companyMap, roleChips, ROLE_ORDER } from '../data.js';

const PAGE = 50;
const FIELDS = ['q', 'category', 'okpd2', 'okved', 'process', 'cert', 'region', 'near', 'max_km', 'role', 'cluster', 'min_free_capacity', 'sort', 'offset'];

function address(params) {
  const clean = new URLSearchParams();
  for (const name of FIELDS) {
    const value = params.get(name);
    if (value && !(name === 'offset' && value === '0') && !(name === 'sort' && value === 'name')) clean.set(name, value);
  }
  const query = clean.toString();
  return `#/companies${query ? `/${query}` : ''}`;
}

function select(name, value, options, testid) {
  return h('select', { name, 'data-testid': testid },
    h('option', { value: '' }, t('companies.any')),
    options.map(([code, label]) => h('option', { value: code, selected: code === value || null }, label)));
}

export async function render({ args, cluster }) {
  const params = new URLSearchParams(args[0] || '');
  const query = {};
  for (const name of FIELDS) if (params.get(name)) query[name] = params.get(name);
  const [companies, categories, processes, certs] = await Promise.all([
    companyMap(), categoryMap(), getAll('/processes'), getAll('/certifications'),
  ]);
  // An OKPD2 code typed by hand is the API's category facet (a code or an OKPD2 prefix).
  const { okpd2, ...asked } = query;
  if (okpd2 && !asked.category) asked.category = okpd2;
  const result = await get('/companies/search', { ...asked, limit: PAGE });
  const regions = [...new Set([...companies.values()].map((c) => c.region).filter(Boolean))].sort((a, b) => a.localeCompare(b));
  const categoryOptions = [...categories.values()]
    .map((c) => [c.code, pick(c, 'name') || c.code])
    .sort((a, b) => a[1].localeCompare(b[1]));

  const input = (name, attrs) => h('input', { name, value: query[name] || '', ...attrs });
  const form = h('form', {
    class: 'card form-row search-form', 'data-testid': 'company-search',
    onsubmit: (ev) => {
      ev.preventDefault();
      const next = new URLSearchParams();
      for (const el of ev.target.elements) {
        if (!el.name) continue;
        const value = el.type === 'checkbox' ? (el.checked ? (cluster || '') : '') : el.value.trim();
        if (value) next.set(el.name, value);
      }
      window.location.hash = address(next);
    },
  },
  h('label', { class: 'wide' }, t('companies.text'), input('q', { class: 'search', type: 'search', placeholder: t('companies.search'), 'data-testid': 'search-text' })),
  h('label', null, t('col.category'), select('category', query.category, categoryOptions, 'search-category')),
  h('label', null, t('companies.okpd2'), input('okpd2', { type: 'text', placeholder: '24.51', 'data-testid': 'search-okpd2' })),
  h('label', null, t('companies.okved'), input('okved', { type: 'text', placeholder: '24.51', 'data-testid': 'search-okved' })),
  h('label', null, t('companies.process'), select('process', query.process, processes.map((p) => [p.code, pick(p, 'name') || p.code]), 'search-process')),
  h('label', null, t('find.cert'), select('cert', query.cert, certs.map((c) => [c.code, c.name || c.code]), 'search-cert')),
  h('label', null, t('col.region'), select('region', query.region, regions.map((r) => [r, r]), 'search-region')),
  h('label', null, t('col.roles'), select('role', query.role, ROLE_ORDER.map((r) => [r, term('roles', r)]), 'search-role')),
  h('label', null, t('companies.near'), input('near', { type: 'text', placeholder: t('companies.near_hint'), 'data-testid': 'search-near' })),
  h('label', null, t('find.max_km'), input('max_km', { type: 'number', min: 1, step: 1, 'data-testid': 'search-km' })),
  h('label', null, t('find.free'), input('min_free_capacity', { type: 'number', min: 0, step: 1 })),
  h('label', null, t('companies.sort'), h('select', { name: 'sort', 'data-testid': 'search-sort' },
    ['name', '-name', 'distance'].map((s) => h('option', { value: s, selected: (query.sort || 'name') === s || null }, t(`companies.sort.${s}`))))),
  h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'cluster', checked: query.cluster ? true : null, 'data-testid': 'search-cluster' }), t('companies.only_members')),
  h('button', { class: 'btn', type: 'submit', 'data-testid': 'search-button' }, t('find.run')),
  Object.keys(query).length ? h('a', { class: 'btn ghost', href: '#/companies' }, t('companies.reset')) : null);

  const offset = Number(query.offset || 0);
  const rows = result.data.map((c) => h('tr', { 'data-id': c.id },
    h('td', null, companyLink(companies, c.id, c.name),
      c.categories.length ? h('div', { class: 'muted small' }, c.categories.slice(0, 3).map((code) => pick(categories.get(code) || {}, 'name') || code).join(' · ')) : null),
    h('td', null, roleChips(c.roles)),
    h('td', null, c.municipality || '—'),
    h('td', null, c.region || '—'),
    h('td', { class: 'num' }, c.distance_km == null ? '—' : (c.distance_km < 1 ? t('company.same_town') : t('company.km', { n: num(c.distance_km) }))),
    h('td', null, c.clusters.length ? t('yes') : t('no'))));
  const table = h('table', { class: 'data', 'data-testid': 'companies-table' },
    h('thead', null, h('tr', null, [t('col.company'), t('col.roles'), t('col.municipality'), t('col.region'), t('companies.distance'), t('col.member')].map((x) => h('th', null, x)))),
    h('tbody', null, rows.length ? rows : h('tr', null, h('td', { colspan: 6, class: 'empty-note' }, t('companies.none')))));
  const pageLink = (to, label, testid) => {
    const next = new URLSearchParams(params);
    next.set('offset', String(to));
    return h('a', { class: 'btn ghost', href: address(next), 'data-testid': testid }, label);
  };
  const pager = h('div', { class: 'pager' },
    offset > 0 ? pageLink(Math.max(0, offset - PAGE), t('companies.prev'), 'page-prev') : null,
    h('span', { class: 'muted small', 'data-testid': 'page-info' },
      t('companies.page', { from: num(result.total ? offset + 1 : 0), to: num(offset + result.data.length), total: num(result.total) })),
    offset + PAGE < result.total ? pageLink(offset + PAGE, t('companies.next'), 'page-next') : null);

  return h('div', null,
    h('div', { class: 'page-head' },
      h('div', null, h('h1', null, t('companies.title'), h('span', { class: 'count', 'data-testid': 'search-total' }, num(result.total))),
        h('p', { class: 'lede' }, t('companies.lede')))),
    form,
    h('div', { class: 'card flush' }, table, pager));
}
