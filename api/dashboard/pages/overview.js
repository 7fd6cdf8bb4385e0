// Cluster overview: KPI tiles against their thresholds, participants by role, intra-cluster share.
import { get, getAll, post } from '../api.js';
import { h, money, num, pct, replace } from '../dom.js';
import { pick, t, term, tn } from '../i18n.js';
import {
  ROLE_COLOURS, ROLE_ORDER, allSupplies, categoryMap, categoryName, companyLink, companyMap,
  memberIds,
} from '../data.js';

function isShare(kpi) {
  return kpi.code !== 'untied_count' && kpi.threshold <= 1;
}

function kpiValue(kpi, value) {
  return isShare(kpi) ? pct(value) : num(value);
}

function kpiTile(kpi) {
  const tone = kpi.passed ? 'pass' : 'fail';
  return h('div', { class: `card kpi ${tone}`, 'data-testid': 'kpi', 'data-kpi': kpi.code, 'data-passed': String(kpi.passed) },
    h('div', { class: 'kpi-head' },
      h('div', { class: 'kpi-name' }, pick(kpi, 'name')),
      h('span', { class: `badge ${tone}` }, kpi.passed ? t('kpi.pass') : t('kpi.fail'))),
    h('div', { class: 'kpi-value' }, kpiValue(kpi, kpi.value)),
    h('div', { class: 'kpi-threshold' }, t('overview.threshold', { value: `${kpi.comparison === '>=' ? '≥' : '≤'} ${kpiValue(kpi, kpi.threshold)}` })),
    h('div', { class: 'kpi-note' }, pick(kpi, 'text')));
}

function bars(rows, max, wide = false) {
  return h('div', { class: `bars${wide ? ' wide' : ''}` }, rows.map((r) => h('div', { class: 'bar-row' },
    h('span', { class: 'bar-label', title: r.title ?? null }, r.label),
    h('div', { class: 'bar-track' }, h('div', { class: 'bar-fill', style: { width: `${max ? (100 * r.value) / max : 0}%`, background: r.colour } })),
    h('span', { class: 'bar-n' }, r.text ?? num(r.value)))));
}

function intraCard(kpi, companies) {
  const card = h('div', { class: 'card' }, h('h2', null, t('overview.intra')),
    h('p', { class: 'muted small', style: { margin: 0 } }, t('overview.intra_text')));
  if (!kpi) return card;
  const value = Math.max(0, Math.min(1, kpi.value));
  const colour = kpi.passed ? 'var(--pass)' : 'var(--fail)';
  card.append(h('div', { class: 'share-meter', title: pct(kpi.value) },
    h('div', { class: 'fill', style: { width: `${value * 100}%`, background: colour } }),
    h('div', { class: 'mark', style: { left: `${kpi.threshold * 100}%` } },
      h('span', null, t('overview.threshold', { value: pct(kpi.threshold, 0) })))));
  const details = kpi.details || {};
  card.append(h('div', { class: 'small', style: { marginBottom: '.6rem' } },
    h('b', { style: { fontSize: '1.25rem', color: colour } }, pct(kpi.value)), ' ',
    h('span', { class: 'muted' }, `${money(details.intra_value)} / ${money(details.total_value)}`)));
  const perMaker = Object.entries(details.per_maker || {})
    .map(([id, v]) => ({ id, share: v.total > 0 ? v.intra / v.total : 0, total: v.total }))
    .sort((a, b) => b.share - a.share);
  if (perMaker.length) {
    card.append(bars(perMaker.map((m) => ({
      label: companyLink(companies, m.id),
      title: companies.get(m.id)?.name,
      value: m.share,
      text: pct(m.share, 0),
      colour: m.share >= kpi.threshold ? 'var(--pass)' : 'var(--warn)',
    })), 1, true));
  }
  return card;
}

/** Every proposed link of every scenario, one row per (supplier, buyer, category). */
function proposedLinks(kpis) {
  const rows = new Map();
  for (const w of kpis.what_if || []) {
    for (const l of w.links) {
      const key = `${l.supplier_id}\u0000${l.buyer_id}\u0000${l.category ?? ''}`;
      const row = rows.get(key);
      if (row) {
        row.volume = Math.max(row.volume ?? 0, l.volume ?? 0);
        row.kpis.add(w.kpi);
      } else {
        rows.set(key, { ...l, kpis: new Set([w.kpi]) });
      }
    }
  }
  // a supplier's free capacity in a category is shared by its links: the first ones keep
  // their volume, the later ones get what is left, so the starting choice is feasible
  const used = new Map();
  for (const row of rows.values()) {
    if (row.volume === null || row.volume === undefined) continue;
    const pool = `${row.supplier_id}\u0000${row.category ?? ''}`;
    if (row.free_capacity !== null && row.free_capacity !== undefined) {
      const left = Math.max(0, row.free_capacity - (used.get(pool) || 0));
      row.volume = Math.min(row.volume, left);
      used.set(pool, (used.get(pool) || 0) + row.volume);
    }
  }
  return [...rows.values()];
}

/**
 * The interactive what-if: tick the proposed links to keep, change a volume within the
 * supplier's free capacity, and the KPIs are recomputed by the API (POST /kpis/what-if).
 */
function whatIfCard(kpis, companies, categories, cluster, me) {
  const links = proposedLinks(kpis);
  if (!links.length) return null;
  const byCode = new Map(kpis.kpis.map((k) => [k.code, k]));
  const chosen = new Set(links.map((_, i) => i));
  const result = h('div', { class: 'grid cols-3 what-if-kpis', 'data-testid': 'what-if-kpis', 'aria-live': 'polite' });
  const status = h('p', { class: 'muted small', role: 'status', 'data-testid': 'what-if-status', style: { margin: '.4rem 0' } });
  // volumes are the centre's to change (they are made of other companies' demand and
  // capacity); a member ticks links only
  const editable = me?.role !== 'member' && links.some((l) => l.volume !== null && l.volume !== undefined);
  const pool = (l) => `${l.supplier_id}\u0000${l.category ?? ''}`;
  let pending = 0;

  function showKpis(answer) {
    const after = new Map(answer.after.map((k) => [k.code, k]));
    replace(result, answer.before.map((before) => {
      const kpi = byCode.get(before.code) || before;
      const now = after.get(before.code);
      const tone = now?.passed ? 'pass' : 'fail';
      const fmt = (v) => (v === null || v === undefined ? '—' : kpiValue(kpi, v));
      return h('div', { class: `card kpi ${tone}`, 'data-testid': 'what-if-kpi', 'data-kpi': before.code, 'data-value': now?.value ?? '' },
        h('div', { class: 'kpi-name' }, pick(kpi, 'name')),
        h('div', { class: 'kpi-value' }, fmt(now?.value)),
        h('div', { class: 'muted small' }, `${t('overview.actual')} ${fmt(before.value)} · `,
          h('span', { class: `badge ${tone}` }, now?.passed ? t('kpi.pass') : t('kpi.fail'))));
    }));
    status.textContent = pick(answer, 'text');
  }

  async function recompute() {
    const token = ++pending;
    const body = {
      cluster,
      links: links.filter((_, i) => chosen.has(i)).map((l) => ({
        supplier_id: l.supplier_id, buyer_id: l.buyer_id, category: l.category,
        ...(editable && l.volume !== null && l.volume !== undefined ? { volume: l.volume } : {}),
      })),
    };
    result.setAttribute('aria-busy', 'true');
    try {
      const answer = await post('/kpis/what-if', body);
      if (token === pending) showKpis(answer);
    } catch (error) {
      if (token !== pending) return;
      const details = (error.problem?.errors || []).map((e) => e.message).join('; ');
      status.textContent = `${t('whatif.refused')}: ${details || error.message}`;
    } finally {
      if (token === pending) result.setAttribute('aria-busy', 'false');
    }
  }

  const rows = links.map((l, i) => {
    const box = h('input', {
      type: 'checkbox', checked: true, 'data-testid': 'what-if-pick',
      'aria-label': `${companies.get(l.supplier_id)?.name ?? l.supplier_id} → ${companies.get(l.buyer_id)?.name ?? l.buyer_id}`,
      onchange: (ev) => { if (ev.target.checked) chosen.add(i); else chosen.delete(i); recompute(); },
    });
    const sameSupplier = () => links.reduce((sum, o, j) => sum + (j !== i && chosen.has(j) && pool(o) === pool(l) ? (o.volume || 0) : 0), 0);
    let volumeCell = h('span', { class: 'muted' }, '—');
    if (editable && l.volume !== null && l.volume !== undefined) {
      const input = h('input', {
        type: 'number', min: 0, step: 1, value: String(Math.round(l.volume)), class: 'volume',
        'data-testid': 'what-if-volume', 'aria-label': t('whatif.volume'),
        max: l.free_capacity !== null && l.free_capacity !== undefined ? String(Math.floor(l.free_capacity)) : null,
        onchange: (ev) => {
          let v = Number(ev.target.value);
          if (!Number.isFinite(v) || v < 0) v = 0;
          if (l.free_capacity !== null && l.free_capacity !== undefined) {
            // within the supplier's free capacity, less what its other chosen links take
            v = Math.min(v, Math.max(0, l.free_capacity - sameSupplier()));
          }
          v = Math.floor(v);
          ev.target.value = String(v);
          l.volume = v;
          recompute();
        },
      });
      volumeCell = input;
    }
    return h('tr', { 'data-testid': 'what-if-row' },
      h('td', null, box),
      h('td', null, companyLink(companies, l.supplier_id)),
      h('td', null, companyLink(companies, l.buyer_id)),
      h('td', null, l.category ? categoryName(categories, l.category) : '—'),
      h('td', { class: 'num' }, volumeCell),
      h('td', { class: 'num', 'data-testid': 'what-if-free', 'data-free': l.free_capacity ?? null }, l.free_capacity === null || l.free_capacity === undefined ? '—' : num(l.free_capacity)),
      h('td', { class: 'muted small' }, [...l.kpis].map((code) => pick(byCode.get(code) || { name_ru: code, name_en: code }, 'name')).join('; ')));
  });
  const all = (on) => {
    for (const [i, tr] of rows.entries()) {
      tr.querySelector('input[type=checkbox]').checked = on;
      if (on) chosen.add(i); else chosen.delete(i);
    }
    recompute();
  };
  const card = h('div', { class: 'card section', 'data-testid': 'what-if' },
    h('h2', null, t('overview.what_if'), h('span', { class: 'count' }, num(links.length))),
    h('p', { class: 'muted small', style: { marginTop: 0 } }, t(editable ? 'whatif.lede' : 'whatif.lede_member')),
    (kpis.what_if || []).map((w) => h('p', { class: 'muted small', style: { margin: '.2rem 0' } }, pick(w, 'text'))),
    result, status,
    h('div', { class: 'form-row', style: { margin: '.4rem 0' } },
      h('button', { type: 'button', class: 'btn ghost', 'data-testid': 'what-if-all', onclick: () => all(true) }, t('whatif.all')),
      h('button', { type: 'button', class: 'btn ghost', 'data-testid': 'what-if-none', onclick: () => all(false) }, t('whatif.none'))),
    h('div', { class: 'table-wrap what-if-scroll' },
      h('table', { class: 'data compact', 'data-testid': 'what-if-table' },
        h('thead', null, h('tr', null,
          h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, t('whatif.keep'))),
          h('th', { scope: 'col' }, t('col.supplier')),
          h('th', { scope: 'col' }, t('col.buyer')),
          h('th', { scope: 'col' }, t('col.category')),
          h('th', { scope: 'col', class: 'num' }, t('whatif.volume')),
          h('th', { scope: 'col', class: 'num' }, t('whatif.free')),
          h('th', { scope: 'col' }, t('whatif.for_kpi')))),
        h('tbody', null, rows))));
  recompute();
  return card;
}

export async function render({ cluster, clusters }) {
  if (!cluster) {
    return h('div', null, h('h1', null, t('overview.title')), h('p', { class: 'empty-note' }, t('no_cluster')));
  }
  const [kpis, companies, members, supplies, categories, products, caps, me] = await Promise.all([
    get('/kpis', { cluster }), companyMap(), memberIds(cluster), allSupplies(), categoryMap(),
    getAll('/products'), get('/capabilities', { limit: 1 }), get('/me').catch(() => null),
  ]);
  const info = clusters.find((c) => c.id === cluster);
  const memberList = [...members].map((id) => companies.get(id)).filter(Boolean);
  const roleCounts = new Map();
  for (const c of memberList) {
    for (const r of (c.roles?.length ? c.roles : ['none'])) roleCounts.set(r, (roleCounts.get(r) || 0) + 1);
  }
  const roleRows = [...ROLE_ORDER, 'none'].filter((r) => roleCounts.has(r)).map((r) => ({
    label: h('span', null, h('span', { class: 'dot', style: { background: ROLE_COLOURS[r] } }), term('roles', r)),
    value: roleCounts.get(r), colour: ROLE_COLOURS[r],
  }));
  const memberLinks = supplies.filter((s) => members.has(s.supplier_id) || members.has(s.buyer_id));
  const intraLinks = supplies.filter((s) => members.has(s.supplier_id) && members.has(s.buyer_id));
  const memberProducts = products.filter((p) => members.has(p.maker_id));
  const intraKpi = kpis.kpis.find((k) => k.code === 'intra_purchases');
  const counts = [
    [kpis.members, 'overview.members'],
    [memberLinks.length, 'overview.links'],
    [intraLinks.length, 'overview.intra_links'],
    [memberProducts.length, 'overview.products'],
    [categories.size, 'overview.categories'],
    [caps?.total ?? null, 'overview.capabilities'],
  ].map(([n, key]) => [n, tn(key, n ?? 0)]);
  const untied = kpis.untied_members || [];

  return h('div', null,
    h('div', { class: 'page-head' },
      h('div', null,
        h('h1', null, kpis.cluster_name || info?.name || t('overview.title')),
        h('p', { class: 'lede' }, [info?.region, t('overview.lede')].filter(Boolean).join(' · ')))),
    h('h3', null, t('overview.kpis')),
    h('div', { class: 'grid cols-3', 'data-testid': 'kpis' }, kpis.kpis.map(kpiTile)),
    h('div', { class: 'grid cols-3 section' },
      intraCard(intraKpi, companies),
      h('div', { class: 'card' }, h('h2', null, t('overview.participants'), h('span', { class: 'count' }, num(memberList.length))),
        bars(roleRows, Math.max(1, ...roleRows.map((r) => r.value)))),
      h('div', { class: 'card' }, h('h2', null, t('overview.counts')),
        h('div', { class: 'grid cols-2', style: { gap: '.8rem' } }, counts.map(([n, label]) => h('div', { class: 'stat' },
          h('div', { class: 'stat-value' }, num(n)), h('div', { class: 'stat-label' }, label)))))),
    whatIfCard(kpis, companies, categories, cluster, me),
    h('div', null,
      h('div', { class: 'card section' }, h('h2', null, t('overview.untied'), h('span', { class: 'count' }, num(untied.length))),
        untied.length
          ? h('ul', { style: { margin: 0, paddingLeft: '1.1rem' } }, untied.map((id) => h('li', null, companyLink(companies, id))))
          : h('p', { class: 'empty-note' }, t('overview.none_untied')))));
}
