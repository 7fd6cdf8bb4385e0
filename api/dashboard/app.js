// The dashboard shell: hash routes, the cluster picker, the language switch, error display.
import { ApiError, apiKey, captureKey, get, items, send, setApiKey } from './api.js';
import { h, replace } from './dom.js';
import { lang, onLangChange, setLang, t } from './i18n.js';
import * as overview from './pages/overview.js';
import * as network from './pages/network.js';
import * as gaps from './pages/gaps.js';
import * as companies from './pages/companies.js';
import * as company from './pages/company.js';
import * as planner from './pages/planner.js';
import * as cooperation from './pages/cooperation.js';
import * as project from './pages/project.js';
import * as upload from './pages/upload.js';
import * as clusterPlan from './pages/clusterplan.js';
import * as review from './pages/review.js';

const ROUTES = { overview, network, gaps, companies, company, planner, cooperation, project, upload, review, 'cluster-plan': clusterPlan };
const NAV_OF = { company: 'companies', project: 'cooperation', 'cluster-plan': 'planner' };
const CLUSTER_STORE = 'coopgraph.cluster';

const state = { clusters: [], cluster: null, token: 0 };

function parseHash() {
  const parts = window.location.hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  const name = parts[0] in ROUTES ? parts[0] : 'overview';
  return { name, args: parts.slice(1).map(decodeURIComponent) };
}

/** Go to a route; args are encoded. */
export function go(name, ...args) {
  window.location.hash = `#/${[name, ...args.map((a) => encodeURIComponent(a))].join('/')}`;
}

function translateShell() {
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const b of document.querySelectorAll('.lang button')) {
    b.setAttribute('aria-pressed', String(b.dataset.lang === lang()));
  }
  const select = document.getElementById('cluster-select');
  select.title = t('cluster.label');
}

function errorView(error) {
  const box = h('div', { class: 'error-box', role: 'alert' });
  if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
    const input = h('input', { type: 'password', placeholder: t('auth.placeholder'), autocomplete: 'off' });
    // A saved key that the server refuses (401) or whose role may not see the page (403)
    // is said so, instead of showing the same empty form again.
    const hadKey = Boolean(apiKey());
    const which = !hadKey ? null : (error.status === 401 ? 'rejected' : 'forbidden');
    replace(box,
      h('h2', null, t(which ? `auth.${which}_title` : 'auth.title')),
      which ? h('p', { class: 'key-rejected', 'data-testid': 'key-rejected' }, t(`auth.${which}`)) : null,
      h('p', null, t('auth.text')),
      h('form', {
        class: 'key-form',
        onsubmit: (ev) => { ev.preventDefault(); setApiKey(input.value.trim()); boot(); },
      }, input, h('button', { class: 'btn', type: 'submit' }, t('auth.save'))));
    return box;
  }
  // The problem's type names it (/problems/<slug>): its title in the interface language.
  const slug = error instanceof ApiError ? String(error.problem.type || '').split('/problems/')[1] : '';
  const known = slug && t(`problem.${slug}`) !== `problem.${slug}`;
  const title = error instanceof ApiError
    ? (known ? t(`problem.${slug}`) : (error.problem.title || `HTTP ${error.status}`))
    : t('error.title');
  replace(box, h('h2', null, title), h('p', null, error.message || String(error)));
  return box;
}

async function render() {
  const token = ++state.token;
  const hash = window.location.hash;
  const { name, args } = parseHash();
  const view = document.getElementById('view');
  for (const a of document.querySelectorAll('#nav a')) {
    a.classList.toggle('active', a.dataset.route === (NAV_OF[name] || name));
  }
  if (!view.firstChild) replace(view, h('div', { class: 'loading' }, t('loading')));
  view.setAttribute('aria-busy', 'true');
  let node;
  try {
    node = await ROUTES[name].render({ args, cluster: state.cluster, clusters: state.clusters, go });
  } catch (error) {
    node = errorView(error);
    console.warn('page failed:', error); // a warning, not an error: the page shows it
  }
  if (token !== state.token) return; // a newer navigation won
  replace(view, node);
  view.setAttribute('aria-busy', 'false');
  view.dataset.page = name;
  view.dataset.hash = hash; // which address this content belongs to (tests wait on it)
  const heading = view.querySelector('h1');
  document.title = heading ? `${heading.textContent} · CoopGraph` : 'CoopGraph';
}

async function loadClusters() {
  const select = document.getElementById('cluster-select');
  state.clusters = items(await get('/clusters', { limit: 500 }));
  let saved = null;
  try { saved = localStorage.getItem(CLUSTER_STORE); } catch { /* ignore */ }
  const ids = state.clusters.map((c) => c.id);
  state.cluster = ids.includes(saved) ? saved : (ids[0] ?? null);
  replace(select, state.clusters.map((c) => h('option', { value: c.id }, c.name)));
  select.value = state.cluster ?? '';
  select.hidden = state.clusters.length < 1;
}

// Links only some roles may use (data-role="admin") are shown to those roles only; the
// API refuses the others anyway (a member opening #/review gets the "forbidden" box).
async function showRoleLinks() {
  let role = null;
  try { role = (await send('GET', '/me')).role; } catch { /* no key yet: the page asks for one */ }
  for (const a of document.querySelectorAll('#nav a[data-role]')) {
    a.hidden = a.dataset.role !== role;
  }
}

async function boot() {
  const view = document.getElementById('view');
  try {
    await loadClusters();
    await showRoleLinks();
  } catch (error) {
    replace(view, errorView(error));
    return;
  }
  await render();
}

function start() {
  captureKey();
  document.documentElement.lang = lang();
  translateShell();
  for (const b of document.querySelectorAll('.lang button')) {
    b.addEventListener('click', () => setLang(b.dataset.lang));
  }
  document.getElementById('cluster-select').addEventListener('change', (ev) => {
    state.cluster = ev.target.value;
    try { localStorage.setItem(CLUSTER_STORE, state.cluster); } catch { /* ignore */ }
    render();
  });
  onLangChange(() => { translateShell(); render(); });
  window.addEventListener('hashchange', render);
  boot();
}

start();
