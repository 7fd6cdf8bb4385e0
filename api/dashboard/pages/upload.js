// Upload page for data stewards: send CSV/XLSX/JSON files to POST /ingest, follow the job,
// then read what was loaded per file and every rejected row (file, row, column, reason).
import { ApiError, download, get, upload } from '../api.js';
import { h, num, replace } from '../dom.js';
import { lang, t, tn } from '../i18n.js';

const POLL_MS = 400;

function reportView(job) {
  const report = job.report || {};
  const files = report.files || [];
  const rejects = report.rejects || [];
  // the job's report carries the files; the totals are their sums
  const total = (key) => files.reduce((sum, f) => sum + (Number(f[key]) || 0), 0);
  const summary = { read: total('read'), loaded: total('loaded'), rejected: total('rejected') };
  const table = h('table', { class: 'data', 'data-testid': 'upload-files' },
    h('thead', null, h('tr', null, [t('upload.file'), t('upload.kind'), t('upload.read'), t('upload.loaded'), t('upload.merged'), t('upload.rejected')]
      .map((x, i) => h('th', { class: i > 1 ? 'num' : null }, x)))),
    h('tbody', null, files.map((f) => h('tr', null,
      h('td', null, f.file), h('td', null, f.kind),
      h('td', { class: 'num' }, num(f.read)), h('td', { class: 'num' }, num(f.loaded)),
      h('td', { class: 'num' }, num(f.merged)), h('td', { class: 'num', 'data-value': f.rejected }, num(f.rejected))))));
  const parts = [
    h('p', { 'data-testid': 'upload-summary' }, t('upload.summary', {
      read: num(summary.read ?? 0), loaded: num(summary.loaded ?? 0), rejected: num(summary.rejected ?? 0),
    })),
    table,
  ];
  if (rejects.length) {
    // the report lists the first rejected rows; the job counts them all (and the CSV has them all)
    parts.push(h('h2', { style: { marginTop: '1rem' } }, tn('upload.problems', job.rejected ?? rejects.length)),
      h('table', { class: 'data', 'data-testid': 'upload-rejects' },
        h('thead', null, h('tr', null, [t('upload.file'), t('upload.row'), t('upload.column'), t('upload.reason')].map((x) => h('th', null, x)))),
        h('tbody', null, rejects.slice(0, 200).map((r) => h('tr', null,
          h('td', null, r.file), h('td', { class: 'num' }, String(r.row ?? '')), h('td', null, r.column ?? ''), h('td', null, r.reason))))),
      h('button', {
        class: 'btn ghost', type: 'button', 'data-testid': 'upload-rejects-csv',
        onclick: () => download(`/ingest/${encodeURIComponent(job.id)}/rejects`, { lang: lang() }, `rejects-${job.id}.csv`),
      }, t('upload.rejects_csv')));
  }
  return h('div', { class: 'card', 'data-testid': 'upload-report', 'data-status': job.status, 'data-job': job.id }, parts);
}

export async function render() {
  const status = h('p', { class: 'upload-status', role: 'status', 'data-testid': 'upload-status' });
  const result = h('div');
  const input = h('input', { type: 'file', name: 'files', multiple: true, accept: '.csv,.xlsx,.json,.jsonl', 'data-testid': 'upload-input' });
  const form = h('form', {
    class: 'card form-row', 'data-testid': 'upload-form',
    onsubmit: async (ev) => {
      ev.preventDefault();
      if (!input.files.length) { replace(status, t('upload.pick')); return; }
      const data = new FormData();
      for (const file of input.files) data.append('files', file, file.name);
      replace(status, t('upload.sending'));
      replace(result);
      let job;
      try {
        job = await upload('/ingest', data);
      } catch (error) {
        const forbidden = error instanceof ApiError && error.status === 403;
        replace(status, h('span', { class: 'key-rejected', 'data-testid': 'upload-error' }, forbidden ? t('upload.admin_only') : (error.message || String(error))));
        return;
      }
      // follow the job: queued → running → done (or failed)
      while (job.status === 'queued' || job.status === 'running') {
        replace(status, t(`upload.status.${job.status}`));
        await new Promise((resolve) => { setTimeout(resolve, POLL_MS); });
        // reasons come back in the page's language (their codes stay in the report)
        job = await get(`/ingest/${encodeURIComponent(job.id)}`, { t: Date.now(), lang: lang() });
      }
      if (job.report && job.report.lang && job.report.lang !== lang()) {
        job = await get(`/ingest/${encodeURIComponent(job.id)}`, { t: Date.now(), lang: lang() });
      }
      replace(status, t(`upload.status.${job.status}`), job.error ? ` — ${job.error}` : '');
      if (job.report) replace(result, reportView(job));
    },
  },
  h('label', null, t('upload.files'), input),
  h('button', { class: 'btn', type: 'submit', 'data-testid': 'upload-button' }, t('upload.run')));
  return h('div', null,
    h('div', { class: 'page-head' },
      h('div', null, h('h1', null, t('upload.title')), h('p', { class: 'lede' }, t('upload.lede')))),
    form, status, result);
}
