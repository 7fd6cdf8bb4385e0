// Companies page: a searchable, sortable list; each row opens the company's page.
import { h, num } from '../dom.js';
import { t, term } from '../i18n.js';
import { companyLink, companyMap, mainRole, memberIds, roleChips, ROLE_ORDER, yesNo } from '../data.js';
import { sortableTable } from '../table.js';

const sortState = { key: 'name', dir: 'asc' };
let filterText = '';
let onlyMembers = false;

export async function render({ cluster }) {
  const [companies, members] = await Promise.all([companyMap(), memberIds(cluster)]);
  const all = [...companies.values()];
  const columns = [
    { key: 'name', label: t('col.company'), render: (c) => companyLink(companies, c.id, c.name) },
    {
      key: 'roles', label: t('col.roles'), value: (c) => ROLE_ORDER.indexOf(mainRole(c)),
      render: (c) => roleChips(c.roles),
    },
    { key: 'municipality', label: t('col.municipality'), value: (c) => c.municipality ?? null },
    { key: 'region', label: t('col.region'), value: (c) => c.region ?? null },
    { key: 'employees', label: t('col.employees'), num: true, render: (c) => num(c.employees) },
    { key: 'member', label: t('col.member'), value: (c) => (members.has(c.id) ? 1 : 0), render: (c) => yesNo(members.has(c.id)) },
  ];
  const holder = h('div', { class: 'card flush' });
  const counter = h('span', { class: 'count' });
  const refill = () => {
    const needle = filterText.trim().toLowerCase();
    const rows = all.filter((c) => (!onlyMembers || members.has(c.id)) && (!needle
      || [c.name, c.inn, c.municipality, c.region, c.id, ...(c.roles || []).map((r) => term('role', r))]
        .some((v) => v && String(v).toLowerCase().includes(needle))));
    counter.textContent = `${num(rows.length)} / ${num(all.length)}`;
    holder.replaceChildren(sortableTable({ columns, rows, state: sortState, testid: 'companies-table' }));
  };
  const search = h('input', {
    class: 'search', type: 'search', placeholder: t('companies.search'), value: filterText,
    'aria-label': t('companies.search'),
    oninput: (ev) => { filterText = ev.target.value; refill(); },
  });
  const memberBox = h('input', {
    type: 'checkbox', checked: onlyMembers || null,
    onchange: (ev) => { onlyMembers = ev.target.checked; refill(); },
  });
  refill();
  return h('div', null,
    h('div', { class: 'page-head' },
      h('div', null, h('h1', null, t('companies.title'), counter), h('p', { class: 'lede' }, t('companies.lede')))),
    h('div', { class: 'form-row', style: { marginBottom: '1rem', alignItems: 'center' } },
      search, h('label', { style: { flexDirection: 'row', alignItems: 'center', gap: '.4rem' } }, memberBox, t('companies.only_members'))),
    holder);
}
