// A sortable data table: click a header to sort by it, click again to reverse.
import { h } from './dom.js';
import { t } from './i18n.js';

function missing(v) {
  return v === null || v === undefined || v === '' || Number.isNaN(v);
}

/** Order of two present values: numbers by value, text in natural order. */
function compare(a, b) {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true, sensitivity: 'base' });
}

/**
 * Build a table.
 * columns: [{key, label, num, value(row), render(row)}]; rows: array of objects;
 * state: {key, dir} kept by the caller so the order survives a re-render (e.g. a language switch).
 */
export function sortableTable({ columns, rows, state = {}, empty, testid, compact = false, limit = 0 }) {
  const more = h('button', { type: 'button', class: 'show-all', 'data-testid': 'show-all' });
  more.addEventListener('click', () => { state.all = true; fill(); });
  const tbody = h('tbody');
  const heads = [];
  const valueOf = (col, row) => (col.value ? col.value(row) : row[col.key]);

  function fill() {
    let ordered = rows;
    const col = columns.find((c) => c.key === state.key);
    if (col) {
      const sign = state.dir === 'desc' ? -1 : 1;
      ordered = rows
        .map((row, i) => [row, i])
        .sort((x, y) => {
          const a = valueOf(col, x[0]);
          const b = valueOf(col, y[0]);
          // missing values go last in both directions; ties keep their original order
          if (missing(a) || missing(b)) {
            return missing(a) === missing(b) ? x[1] - y[1] : (missing(a) ? 1 : -1);
          }
          return sign * compare(a, b) || x[1] - y[1];
        })
        .map(([row]) => row);
    }
    const cut = limit > 0 && !state.all && ordered.length > limit;
    more.hidden = !cut;
    more.textContent = t('table.show_all', { n: ordered.length });
    if (cut) ordered = ordered.slice(0, limit);
    const trs = ordered.map((row) => h('tr', null, columns.map((c) => {
      const content = c.render ? c.render(row) : valueOf(c, row);
      const raw = valueOf(c, row);
      // the raw sort value, for tests and for copying numbers without their formatting
      const dataValue = raw === null || raw === undefined || typeof raw === 'object' ? null : String(raw);
      return h('td', { class: c.num ? 'num' : null, 'data-value': dataValue }, content ?? '—');
    })));
    if (!trs.length) {
      trs.push(h('tr', null, h('td', { class: 'empty', colspan: columns.length }, empty || t('table.empty'))));
    }
    tbody.replaceChildren(...trs);
    for (const [c, th] of heads) {
      const sorted = c.key === state.key;
      th.setAttribute('aria-sort', sorted ? (state.dir === 'desc' ? 'descending' : 'ascending') : 'none');
      th.querySelector('.arrow').textContent = sorted ? (state.dir === 'desc' ? '▼' : '▲') : '↕';
    }
  }

  const headRow = h('tr', null, columns.map((c) => {
    const th = h('th', { class: c.num ? 'num' : null, scope: 'col', 'data-key': c.key },
      h('button', {
        type: 'button',
        title: t('table.sort'),
        onclick: () => {
          if (state.key === c.key) state.dir = state.dir === 'desc' ? 'asc' : 'desc';
          else { state.key = c.key; state.dir = c.num ? 'desc' : 'asc'; }
          fill();
        },
      }, c.label, h('span', { class: 'arrow', 'aria-hidden': 'true' }, '↕')));
    heads.push([c, th]);
    return th;
  }));
  fill();
  return h('div', { class: 'table-wrap' },
    h('table', { class: compact ? 'data compact' : 'data', 'data-testid': testid }, h('thead', null, headRow), tbody),
    more);
}
