// Review page for admins: the pairs entity resolution left for a human (or merged), with
// their evidence; accept (one company), reject (two), split (undo a merge) and undo the
// last decision. Every later load honours what is decided here (ingest/review.py).
import { send } from '../api.js';
import { h, num, replace } from '../dom.js';
import { t, tn } from '../i18n.js';

const STATUSES = ['review', 'merged', 'accepted', 'rejected', 'split', 'all'];
// which decisions apply to a pair in each status (the API's rules, ingest/review.py)
const ACTIONS = {
  review: ['accept', 'reject'],
  merged: ['split'],
  accepted: ['split', 'undo'],
  rejected: ['accept', 'undo'],
  split: ['accept', 'undo'],
};
const LIMIT = 100;

// The evidence is written by ingest/resolve.py in English; its fixed phrases are shown in
// the interface language (the names and places stay as written).
const PHRASES = [
  'a distinctive word on one side only', 'a number on one side only',
  'only generic words differ (holdings, industries …)', 'different INNs', 'different regions',
  'accepted by a reviewer', 'similar name, every distinctive word agrees',
];

function reasonText(reason) {
  if (!reason) return '—';
  let m = /^similar name in (.+?): (.+)$/.exec(reason);
  if (m) {
    let names = m[2];
    let why = '';
    const tail = /^(.*') \((.+)\)$/.exec(names);
    if (tail) [, names, why] = tail;
    const extra = /^(.*'), (same main OKVED .+|same coordinates)$/.exec(names);
    if (extra) { names = extra[1]; why = extra[2]; }
    const whyText = why ? ` (${reasonText(why)})` : '';
    return `${t('review.reason.similar', { where: m[1] })}: ${names}${whyText}`;
  }
  m = /^same (INN|OGRN|main OKVED) (\S+)(.*)$/.exec(reason);
  if (m) {
    const rest = m[3] ? ` — ${t('review.reason.never')}` : '';
    return `${t(`review.reason.same_${m[1].replace(' ', '_').toLowerCase()}`, { value: m[2] })}${rest}`;
  }
  if (reason === 'same coordinates') return t('review.reason.same_coords');
  const i = PHRASES.indexOf(reason);
  return i >= 0 ? t(`review.reason.p${i}`) : reason;
}

function pairCard(pair, onDecide) {
  const side = (id, name) => h('div', { class: 'review-side' },
    h('a', { href: `#/company/${encodeURIComponent(id)}` }, name),
    h('div', { class: 'muted mono' }, id));
  const buttons = (ACTIONS[pair.status] || []).map((action) => h('button', {
    class: action === 'accept' ? 'btn' : 'btn ghost',
    type: 'button',
    'data-testid': `review-${action}`,
    title: t(`review.help.${action}`),
    onclick: () => onDecide(pair, action),
  }, t(`review.action.${action}`)));
  const facts = [
    h('span', { class: 'badge', 'data-testid': 'review-score' }, t('review.score', { score: num(pair.score) })),
    h('span', { class: `badge status-${pair.status}`, 'data-testid': 'review-status' }, t(`review.status.${pair.status}`)),
  ];
  if (pair.source) facts.push(h('span', { class: 'muted' }, pair.row ? t('review.source_row', { source: pair.source, row: pair.row }) : pair.source));
  if (pair.decided_by && pair.decided_at) {
    facts.push(h('span', { class: 'muted' }, t('review.decided', { by: pair.decided_by, at: pair.decided_at.slice(0, 16).replace('T', ' ') })));
  }
  return h('li', { class: 'card review-pair', 'data-testid': 'review-pair', 'data-pair': pair.id, 'data-status': pair.status },
    h('div', { class: 'review-sides' }, side(pair.a_id, pair.a_name), h('span', { class: 'review-vs', 'aria-hidden': 'true' }, '⇄'), side(pair.b_id, pair.b_name)),
    h('div', { class: 'review-facts' }, facts),
    h('p', { class: 'review-reason', 'data-testid': 'review-reason' }, h('strong', null, `${t('review.evidence')}: `), reasonText(pair.reason)),
    h('div', { class: 'review-actions' }, buttons));
}

export async function render({ args, go }) {
  const status = STATUSES.includes(args[0]) ? args[0] : 'review';
  const data = await send('GET', '/review', { status, limit: LIMIT });
  const message = h('p', { class: 'upload-status', role: 'status', 'data-testid': 'review-message' });
  const list = h('ul', { class: 'review-list', 'data-testid': 'review-list' });
  const count = h('p', { class: 'muted', 'data-testid': 'review-count', 'data-total': String(data.total) });

  async function onDecide(pair, action) {
    delete message.dataset.done;
    let after;
    try {
      after = await send('POST', `/review/${encodeURIComponent(pair.id)}/${action}`);
      replace(message, t(`review.done.${action}`, { a: pair.a_name, b: pair.b_name, status: t(`review.status.${after.status}`) }));
    } catch (error) {
      replace(message, h('span', { class: 'key-rejected', 'data-testid': 'review-error' }, error.message || String(error)));
      return;
    }
    await fill();
    // marked once the list shows the decision too, so a reader (or a test) that waits
    // for it never sees the card of a pair already decided
    message.dataset.done = `${pair.id}:${after.status}`;
  }

  async function fill() {
    const fresh = await send('GET', '/review', { status, limit: LIMIT });
    replace(count, tn('review.count', fresh.total));
    count.dataset.total = String(fresh.total);
    replace(list, fresh.data.length
      ? fresh.data.map((p) => pairCard(p, onDecide))
      : h('li', { class: 'card muted', 'data-testid': 'review-empty' }, t(status === 'review' ? 'review.empty' : 'review.none')));
  }

  replace(count, tn('review.count', data.total));
  replace(list, data.data.length
    ? data.data.map((p) => pairCard(p, onDecide))
    : h('li', { class: 'card muted', 'data-testid': 'review-empty' }, t(status === 'review' ? 'review.empty' : 'review.none')));
  const select = h('select', {
    'data-testid': 'review-filter',
    onchange: (ev) => go('review', ev.target.value),
  }, STATUSES.map((s) => h('option', { value: s, selected: s === status }, t(`review.filter.${s}`))));
  return h('div', null,
    h('div', { class: 'page-head' },
      h('div', null, h('h1', null, t('review.title')), h('p', { class: 'lede' }, t('review.lede')))),
    h('div', { class: 'card form-row' }, h('label', null, t('review.show'), select), count),
    message, list);
}
