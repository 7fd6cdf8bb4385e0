// Shared reference data for the pages: companies, categories, memberships, supply links.
import { getAll } from './api.js';
import { pick, t, term } from './i18n.js';
import { h } from './dom.js';

export const ROLE_ORDER = ['oem', 'supplier', 'university', 'finance', 'service', 'dealer', 'buyer'];
export const ROLE_COLOURS = {
  oem: '#e8590c', supplier: '#1c7ed6', university: '#7048e8',
  finance: '#2b8a3e', service: '#868e96', dealer: '#d6336c', buyer: '#f08c00',
  none: '#adb5bd',
};

/** The role that colours a company: the first of ROLE_ORDER it has. */
export function mainRole(company) {
  const roles = company?.roles || [];
  return ROLE_ORDER.find((r) => roles.includes(r)) || 'none';
}

/** {id -> company} for every company. */
export async function companyMap() {
  const list = await getAll('/companies');
  return new Map(list.map((c) => [c.id, c]));
}

/** {code -> category} for the whole taxonomy. */
export async function categoryMap() {
  const list = await getAll('/categories');
  return new Map(list.map((c) => [c.code, c]));
}

/** The category's name in the current language (its code when unknown). */
export function categoryName(categories, code) {
  const cat = categories?.get(code);
  if (!cat) return code ?? '—';
  return pick(cat, 'name') || cat.name_ru || code;
}

/** The ids of the cluster's members. */
export async function memberIds(clusterId) {
  if (!clusterId) return new Set();
  const rows = await getAll('/memberships', { cluster_id: clusterId });
  return new Set(rows.map((m) => m.company_id));
}

/** Every existing supply link. */
export function allSupplies() {
  return getAll('/supplies');
}

/** A company's name linked to its page. */
export function companyLink(companies, id, name) {
  const label = name || companies?.get(id)?.name || id;
  return h('a', { href: `#/company/${encodeURIComponent(id)}` }, label);
}

/** Coloured role chips. */
export function roleChips(roles) {
  const list = roles && roles.length ? roles : ['none'];
  return list.map((r) => h('span', { class: 'chip' },
    h('span', { class: `dot role-${r}`, style: { background: ROLE_COLOURS[r] || ROLE_COLOURS.none } }),
    term('role', r)));
}

/** Short display name: drops the legal form in front and the quotes. */
export function shortName(name) {
  if (!name) return '';
  const bare = name.replace(/^(ООО|АО|ОАО|ЗАО|ПАО|ФГБОУ ВО|ФГБОУ|ГОБПОУ|ИП|LLC|JSC)\s+/u, '')
    .replace(/[«»"]/g, '').trim();
  return bare.length > 26 ? `${bare.slice(0, 25)}…` : bare;
}

export function yesNo(value) {
  return value ? t('yes') : t('no');
}
