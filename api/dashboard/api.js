// The JSON API client: API key from ?key= (kept in localStorage), problem+json errors, a GET cache.

const KEY_STORE = 'coopgraph.key';
const cache = new Map();

/** Take a key given in the address (?key=…), remember it, and drop it from the address bar. */
export function captureKey() {
  const url = new URL(window.location.href);
  const key = url.searchParams.get('key');
  if (key) {
    try { localStorage.setItem(KEY_STORE, key); } catch { /* ignore */ }
    url.searchParams.delete('key');
    window.history.replaceState(null, '', url.pathname + url.search + url.hash);
  }
}

export function apiKey() {
  try { return localStorage.getItem(KEY_STORE) || ''; } catch { return ''; }
}

export function setApiKey(key) {
  try {
    if (key) localStorage.setItem(KEY_STORE, key); else localStorage.removeItem(KEY_STORE);
  } catch { /* ignore */ }
  cache.clear();
}

/** An API failure: HTTP status plus the RFC 9457 problem body (title, detail). */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
}

function query(params) {
  const parts = [];
  for (const [name, value] of Object.entries(params || {})) {
    if (value === null || value === undefined || value === '') continue;
    parts.push(`${encodeURIComponent(name)}=${encodeURIComponent(value)}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

async function request(method, path, params, body) {
  const headers = { Accept: 'application/json' };
  const key = apiKey();
  if (key) headers['X-API-Key'] = key;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path + query(params), {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = { detail: text.slice(0, 300) }; }
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/** GET path?params as JSON; answers are cached for the page's life (the data is read-only here). */
export function get(path, params) {
  const url = path + query(params);
  if (!cache.has(url)) {
    const pending = request('GET', path, params).catch((error) => {
      cache.delete(url);
      throw error;
    });
    cache.set(url, pending);
  }
  return cache.get(url);
}

/** POST a JSON body; cached too, since plans are pure functions of the body and the data. */
export function post(path, body) {
  const url = `POST ${path} ${JSON.stringify(body)}`;
  if (!cache.has(url)) {
    const pending = request('POST', path, undefined, body).catch((error) => {
      cache.delete(url);
      throw error;
    });
    cache.set(url, pending);
  }
  return cache.get(url);
}

/** The items of a paged list (or a bare array) at path. */
export function items(data) {
  if (Array.isArray(data)) return data;
  return data?.items ?? data?.data ?? data?.results ?? [];
}

/** Every item of a paged list endpoint, reading page after page. */
export async function getAll(path, params, pageSize = 500) {
  const out = [];
  for (let offset = 0; ; offset += pageSize) {
    const data = await get(path, { ...params, offset, limit: pageSize });
    const page = items(data);
    out.push(...page);
    const total = Array.isArray(data) ? page.length : (data?.total ?? out.length);
    if (page.length < pageSize || out.length >= total || page.length === 0) return out;
  }
}

/**
 * Fetch a file from the API (with the key) and hand it to the browser as a download;
 * with a body, the file is the answer to a POST of that JSON (a plan's export).
 */
export async function download(path, params, filename, body) {
  const headers = {};
  const key = apiKey();
  if (key) headers['X-API-Key'] = key;
  const init = { headers };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.method = 'POST';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path + query(params), init);
  if (!response.ok) {
    let problem = null;
    try { problem = await response.json(); } catch { /* not JSON */ }
    throw new ApiError(response.status, problem);
  }
  const url = URL.createObjectURL(await response.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** POST files as multipart form data (the upload page's POST /ingest). */
export async function upload(path, formData) {
  const headers = { Accept: 'application/json' };
  const key = apiKey();
  if (key) headers['X-API-Key'] = key;
  const response = await fetch(path, { method: 'POST', headers, body: formData });
  const text = await response.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = { detail: text.slice(0, 300) }; }
  }
  if (!response.ok) throw new ApiError(response.status, data);
  cache.clear(); // the store changes: every cached list is stale
  return data;
}

/** An uncached request (for pages that change data: the review queue). */
export function send(method, path, params, body) {
  return request(method, path, params, body);
}
