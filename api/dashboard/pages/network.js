// Network page: companies and supply links as SVG — a regional map or a force-directed diagram.
import { get } from '../api.js';
import { h, num, s } from '../dom.js';
import { lang, pick, t, term, tn } from '../i18n.js';
import {
  ROLE_COLOURS, allSupplies, categoryMap, categoryName, companyMap, mainRole, memberIds,
  shortName,
} from '../data.js';

const W = 1000;
const H = 640;
const PAD = 28;
const MAX_NODES = 400;
let mode = 'geo';

function regionBox(region) {
  const outline = region.features.find((f) => f.properties.kind === 'region');
  const ring = outline.geometry.coordinates[0];
  const lons = ring.map((p) => p[0]);
  const lats = ring.map((p) => p[1]);
  return {
    ring,
    minLon: Math.min(...lons) - 0.12, maxLon: Math.max(...lons) + 0.12,
    minLat: Math.min(...lats) - 0.08, maxLat: Math.max(...lats) + 0.08,
  };
}

/** Equirectangular projection of the region's box into the SVG, keeping the aspect ratio. */
function projection(box) {
  const kx = Math.cos(((box.minLat + box.maxLat) / 2) * Math.PI / 180);
  const spanX = (box.maxLon - box.minLon) * kx;
  const spanY = box.maxLat - box.minLat;
  const scale = Math.min((W - 2 * PAD) / spanX, (H - 2 * PAD) / spanY);
  const offX = (W - spanX * scale) / 2;
  const offY = (H - spanY * scale) / 2;
  const project = (lon, lat) => [
    offX + (lon - box.minLon) * kx * scale,
    offY + (box.maxLat - lat) * scale,
  ];
  return project;
}

/** Pull a point outside the frame back inside it (inset px from the edge), along the ray from the centre. */
function clampToFrame([x, y], inset = 42) {
  const cx = W / 2;
  const cy = H / 2;
  const dx = x - cx;
  const dy = y - cy;
  const fx = dx === 0 ? Infinity : (W / 2 - inset) / Math.abs(dx);
  const fy = dy === 0 ? Infinity : (H / 2 - inset) / Math.abs(dy);
  const f = Math.min(1, fx, fy);
  return [cx + dx * f, cy + dy * f];
}

/** Fruchterman–Reingold layout, deterministic (start on a circle in id order). */
function forceLayout(nodes, links) {
  const n = nodes.length;
  const area = (W - 2 * PAD) * (H - 2 * PAD);
  const k = Math.sqrt(area / Math.max(n, 1)) * 0.75;
  const pos = nodes.map((_, i) => {
    const a = (2 * Math.PI * i) / Math.max(n, 1);
    return [W / 2 + (W / 3) * Math.cos(a), H / 2 + (H / 3) * Math.sin(a)];
  });
  const index = new Map(nodes.map((node, i) => [node.id, i]));
  const edges = links.map((l) => [index.get(l.source), index.get(l.target)]);
  let temperature = W / 8;
  for (let iter = 0; iter < 300; iter += 1) {
    const disp = pos.map(() => [0, 0]);
    for (let i = 0; i < n; i += 1) {
      for (let j = i + 1; j < n; j += 1) {
        let dx = pos[i][0] - pos[j][0];
        let dy = pos[i][1] - pos[j][1];
        let d = Math.hypot(dx, dy);
        if (d < 0.01) { dx = 0.01 * (i - j); dy = 0.01; d = Math.hypot(dx, dy); }
        const f = (k * k) / d;
        disp[i][0] += (dx / d) * f; disp[i][1] += (dy / d) * f;
        disp[j][0] -= (dx / d) * f; disp[j][1] -= (dy / d) * f;
      }
    }
    for (const [a, b] of edges) {
      const dx = pos[a][0] - pos[b][0];
      const dy = pos[a][1] - pos[b][1];
      const d = Math.max(Math.hypot(dx, dy), 0.01);
      const f = (d * d) / k;
      disp[a][0] -= (dx / d) * f; disp[a][1] -= (dy / d) * f;
      disp[b][0] += (dx / d) * f; disp[b][1] += (dy / d) * f;
    }
    for (let i = 0; i < n; i += 1) {
      // gravity keeps unconnected companies on the canvas
      disp[i][0] += (W / 2 - pos[i][0]) * 0.06 * k / 40;
      disp[i][1] += (H / 2 - pos[i][1]) * 0.06 * k / 40;
      const d = Math.max(Math.hypot(disp[i][0], disp[i][1]), 0.01);
      const step = Math.min(d, temperature);
      pos[i][0] = Math.min(W - PAD, Math.max(PAD, pos[i][0] + (disp[i][0] / d) * step));
      pos[i][1] = Math.min(H - PAD, Math.max(PAD, pos[i][1] + (disp[i][1] / d) * step));
    }
    temperature = Math.max(1, temperature * 0.975);
  }
  return pos;
}

function buildGraph(companies, supplies, members) {
  let ids = [...companies.keys()];
  let restricted = false;
  if (ids.length > MAX_NODES && members.size) {
    const keep = new Set(members);
    for (const sup of supplies) {
      if (members.has(sup.supplier_id)) keep.add(sup.buyer_id);
      if (members.has(sup.buyer_id)) keep.add(sup.supplier_id);
    }
    ids = ids.filter((id) => keep.has(id));
    restricted = true;
  }
  const shown = new Set(ids);
  const pairs = new Map();
  for (const sup of supplies) {
    if (!shown.has(sup.supplier_id) || !shown.has(sup.buyer_id)) continue;
    const key = `${sup.supplier_id}\u0000${sup.buyer_id}`;
    if (!pairs.has(key)) {
      pairs.set(key, { source: sup.supplier_id, target: sup.buyer_id, categories: [] });
    }
    pairs.get(key).categories.push(sup.category);
  }
  const links = [...pairs.values()];
  // A company's links: the distinct companies it supplies or buys from — the one
  // definition every page uses (the gaps report's "links" column counts the same).
  const partners = new Map(ids.map((id) => [id, new Set()]));
  for (const l of links) {
    if (l.source === l.target) continue;
    partners.get(l.source).add(l.target);
    partners.get(l.target).add(l.source);
  }
  const nodes = ids.sort().map((id) => ({
    id, company: companies.get(id), degree: partners.get(id).size, member: members.has(id),
  }));
  return { nodes, links, restricted, members };
}

function companyTooltip(mark, categories) {
  const c = mark.node.company;
  const place = [c.municipality, c.region].filter(Boolean).join(', ');
  const cats = [...new Set(mark.categories.map((code) => categoryName(categories, code)))];
  return [
    h('div', null, h('b', null, c.name)),
    h('div', { class: 'tt-sub' }, (c.roles || []).map((r) => term('role', r)).join(', ') || term('role', 'none')),
    place ? h('div', { class: 'tt-sub' }, place) : null,
    h('div', { class: 'tt-sub' }, t('network.links_n', { n: mark.node.degree }),
      mark.node.member ? ` · ${t('network.member')}` : ''),
    cats.length ? h('div', { class: 'tt-sub' }, cats.slice(0, 4).join(', ') + (cats.length > 4 ? '…' : '')) : null,
  ];
}

function groupTooltip(mark) {
  const names = mark.nodes.map((n) => n.company.name).sort();
  return [
    h('div', null, h('b', null, mark.regions.join(', '))),
    h('div', { class: 'tt-sub' }, t('network.companies_n', { n: mark.nodes.length })),
    h('div', { class: 'tt-sub' }, names.slice(0, 5).join(', ') + (names.length > 5 ? '…' : '')),
  ];
}

/**
 * Where each company is drawn. A "mark" is one circle: a company, or (on the map) a
 * bubble standing for all companies of one outside region, placed at the frame's edge
 * in that region's direction. Returns {marks, markOf: company id -> mark, notes}.
 */
function placeMarks(graph, svg, region) {
  const marks = [];
  const markOf = new Map();
  const notes = [];
  if (mode !== 'geo') {
    // the force layout is quadratic: at region scale it lays out the best-linked companies
    let nodes = graph.nodes;
    if (nodes.length > MAX_NODES) {
      nodes = [...nodes].sort((a, b) => b.degree - a.degree || a.id.localeCompare(b.id)).slice(0, MAX_NODES);
      notes.push(t('network.graph_top', { n: MAX_NODES, total: graph.nodes.length }));
    }
    const keep = new Set(nodes.map((n) => n.id));
    const pos = forceLayout(nodes, graph.links.filter((l) => keep.has(l.source) && keep.has(l.target)));
    nodes.forEach((node, i) => {
      const mark = { kind: 'company', id: node.id, node, x: pos[i][0], y: pos[i][1], categories: [] };
      marks.push(mark);
      markOf.set(node.id, mark);
    });
    return { marks, markOf, notes };
  }
  const box = regionBox(region);
  const project = projection(box);
  const d = box.ring.map((p, i) => `${i ? 'L' : 'M'}${project(p[0], p[1]).map((v) => v.toFixed(1)).join(',')}`).join(' ');
  svg.append(s('path', { class: 'region', d: `${d} Z` }));
  for (const f of region.features.filter((x) => x.properties.kind === 'town')) {
    const [x, y] = project(...f.geometry.coordinates);
    svg.append(s('circle', { class: 'town', cx: x, cy: y, r: f.properties.capital ? 4 : 2.5 }));
    svg.append(s('text', { class: 'town-label', x: x + 6, y: y + 14 }, pick(f.properties, 'name')));
  }
  const groups = new Map();
  let missing = 0;
  for (const node of graph.nodes) {
    const { lat, lon } = node.company;
    if (lat === null || lat === undefined || lon === null || lon === undefined) {
      missing += 1;
      continue;
    }
    const [x, y] = project(lon, lat);
    if (x >= PAD && x <= W - PAD && y >= PAD && y <= H - PAD) {
      const mark = { kind: 'company', id: node.id, node, x, y, categories: [] };
      marks.push(mark);
      markOf.set(node.id, mark);
    } else {
      const key = node.company.region || '?';
      if (!groups.has(key)) groups.set(key, { xs: [], ys: [], nodes: [] });
      const g = groups.get(key);
      g.xs.push(x); g.ys.push(y); g.nodes.push(node);
    }
  }
  // one bubble per outside region, at the edge in its direction; bubbles that would
  // overlap merge into the biggest one ("Москва +2")
  let outside = 0;
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const bubbles = [];
  const ordered = [...groups.entries()].sort((x, y) => y[1].nodes.length - x[1].nodes.length || x[0].localeCompare(y[0]));
  for (const [key, g] of ordered) {
    const [x, y] = clampToFrame([mean(g.xs), mean(g.ys)]);
    const near = bubbles.find((b) => Math.hypot(b.x - x, b.y - y) < 64);
    if (near) {
      near.nodes.push(...g.nodes);
      near.regions.push(key);
    } else {
      bubbles.push({ kind: 'group', id: `region:${key}`, regions: [key], nodes: [...g.nodes], x, y });
    }
  }
  for (const mark of bubbles) {
    mark.label = mark.regions.length > 1 ? `${mark.regions[0]} +${mark.regions.length - 1}` : mark.regions[0];
    marks.push(mark);
    for (const node of mark.nodes) markOf.set(node.id, mark);
    outside += mark.nodes.length;
  }
  notes.push(t('network.outline'));
  if (outside) notes.push(t('network.outside', { n: outside }));
  if (missing) notes.push(t('network.no_coords', { n: missing }));
  return { marks, markOf, notes };
}

function radiusOf(mark) {
  return mark.kind === 'group' ? 7 + Math.sqrt(mark.nodes.length) * 3 : 4.5 + Math.sqrt(mark.node.degree) * 1.8;
}

/**
 * Push overlapping circles apart (companies of one town share coordinates), deterministically.
 * Only circles in neighbouring cells of a grid are compared, so a 2,000-company region
 * costs about as much per pass as the sample (the cell is the largest possible overlap).
 */
function separate(marks) {
  if (!marks.length) return;
  const radii = marks.map(radiusOf);
  const cell = 2 * Math.max(...radii) + 1.5;
  for (let iter = 0; iter < 80; iter += 1) {
    const grid = new Map();
    marks.forEach((m, i) => {
      const key = `${Math.floor(m.x / cell)},${Math.floor(m.y / cell)}`;
      if (!grid.has(key)) grid.set(key, []);
      grid.get(key).push(i);
    });
    let moved = false;
    for (let i = 0; i < marks.length; i += 1) {
      const a = marks[i];
      const cx = Math.floor(a.x / cell);
      const cy = Math.floor(a.y / cell);
      for (let gx = cx - 1; gx <= cx + 1; gx += 1) {
        for (let gy = cy - 1; gy <= cy + 1; gy += 1) {
          for (const j of grid.get(`${gx},${gy}`) || []) {
            if (j <= i) continue;
            const b = marks[j];
            let dx = b.x - a.x;
            let dy = b.y - a.y;
            let d = Math.hypot(dx, dy);
            const need = radii[i] + radii[j] + 1.5;
            if (d >= need) continue;
            if (d < 1e-6) { // same point: split along a direction fixed by the pair's order
              const angle = (2.399963 * (i + j)) % (2 * Math.PI);
              dx = Math.cos(angle); dy = Math.sin(angle); d = 1;
            }
            const push = (need - d) / 2;
            a.x -= (dx / d) * push; a.y -= (dy / d) * push;
            b.x += (dx / d) * push; b.y += (dy / d) * push;
            moved = true;
          }
        }
      }
    }
    if (!moved) break;
  }
}

let measureCtx = null;

/** A label's width in SVG units: measured on a canvas in the page's font (11 px, as the CSS). */
function textWidth(text) {
  if (!measureCtx) {
    measureCtx = document.createElement('canvas').getContext('2d');
    measureCtx.font = `11px ${getComputedStyle(document.body).fontFamily}`;
  }
  return measureCtx ? measureCtx.measureText(text).width : text.length * 7;
}

/** The box a label takes (SVG units, with a margin), to keep labels from covering each other. */
function labelBox(x, y, text, anchor) {
  const w = textWidth(text) + 4;
  const x0 = anchor === 'end' ? x - w + 2 : x - 2;
  return { x0, x1: x0 + w, y0: y - 12, y1: y + 4 };
}

function overlaps(a, b) {
  return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
}

function drawSvg(graph, region, categories) {
  const svg = s('svg', {
    class: 'net-svg', viewBox: `0 0 ${W} ${H}`, role: 'img',
    'aria-label': t('network.title'), 'data-testid': 'network-svg',
  });
  const tooltip = h('div', { class: 'tooltip', hidden: true });
  const { marks, markOf, notes } = placeMarks(graph, svg, region);
  if (mode === 'geo') separate(marks.filter((m) => m.kind === 'company'));

  // links between marks: several companies' links to one bubble become one, wider
  const edges = new Map();
  for (const l of graph.links) {
    const a = markOf.get(l.source);
    const b = markOf.get(l.target);
    if (!a || !b || a === b) continue;
    if (a.kind === 'company') a.categories.push(...l.categories);
    const key = `${a.id}\u0000${b.id}`;
    if (!edges.has(key)) edges.set(key, { a, b, n: 0, intra: true });
    const e = edges.get(key);
    e.n += l.categories.length;
    e.intra = e.intra && graph.members.has(l.source) && graph.members.has(l.target);
  }
  const linkEls = [];
  const linkLayer = s('g');
  for (const e of edges.values()) {
    const width = Math.min(5, 0.8 + 0.5 * Math.sqrt(e.n));
    // a gentle curve, so that the links in both directions stay apart
    const mx = (e.a.x + e.b.x) / 2 + (e.b.y - e.a.y) * 0.08;
    const my = (e.a.y + e.b.y) / 2 - (e.b.x - e.a.x) * 0.08;
    const el = s('path', {
      class: `link${e.intra ? ' intra' : ''}`,
      d: `M${e.a.x.toFixed(1)},${e.a.y.toFixed(1)} Q${mx.toFixed(1)},${my.toFixed(1)} ${e.b.x.toFixed(1)},${e.b.y.toFixed(1)}`,
      'stroke-width': width.toFixed(2), 'data-source': e.a.id, 'data-target': e.b.id,
    });
    linkEls.push(el);
    linkLayer.append(el);
  }
  const neighbours = new Map(marks.map((m) => [m.id, new Set([m.id])]));
  for (const e of edges.values()) {
    neighbours.get(e.a.id).add(e.b.id);
    neighbours.get(e.b.id).add(e.a.id);
  }
  const nodeLayer = s('g');
  const labelLayer = s('g');
  const companies = marks.filter((m) => m.kind === 'company');
  const labelled = new Set(companies
    .sort((x, y) => y.node.degree - x.node.degree || x.id.localeCompare(y.id))
    .slice(0, graph.ego ? 60 : mode === 'geo' ? 16 : 30)
    .map((m) => m.id));
  const markEls = [];
  for (const mark of marks) {
    const isGroup = mark.kind === 'group';
    const r = radiusOf(mark);
    const attrs = {
      cx: mark.x.toFixed(1), cy: mark.y.toFixed(1), r: r.toFixed(1), tabindex: 0, 'data-id': mark.id,
    };
    let el;
    if (isGroup) {
      el = s('circle', { ...attrs, class: 'group', 'data-count': mark.nodes.length, 'aria-label': mark.label });
    } else {
      el = s('circle', {
        ...attrs, class: `node${mark.node.member ? ' member' : ''}${graph.ego === mark.id ? ' ego' : ''}`, role: 'link',
        'data-tier': graph.tiers?.get(mark.id) ?? null,
        fill: ROLE_COLOURS[mainRole(mark.node.company)], 'aria-label': mark.node.company.name,
      });
      el.append(s('title', null, mark.node.company.name));
    }
    const show = () => {
      const near = neighbours.get(mark.id);
      for (const other of markEls) other.classList.toggle('dim', !near.has(other.dataset.id));
      for (const le of linkEls) {
        const on = le.dataset.source === mark.id || le.dataset.target === mark.id;
        le.classList.toggle('dim', !on);
        le.classList.toggle('hi', on);
      }
      tooltip.replaceChildren(...(isGroup ? groupTooltip(mark) : companyTooltip(mark, categories)).filter(Boolean));
      tooltip.hidden = false;
      const box = svg.getBoundingClientRect();
      const sx = box.width / W;
      const sy = box.height / H;
      tooltip.style.left = `${Math.max(4, Math.min(mark.x * sx + 14, box.width - 300))}px`;
      tooltip.style.top = `${Math.min(mark.y * sy + 14, box.height - 90)}px`;
    };
    const hide = () => {
      tooltip.hidden = true;
      for (const other of markEls) other.classList.remove('dim');
      for (const le of linkEls) le.classList.remove('dim', 'hi');
    };
    el.addEventListener('mouseenter', show);
    el.addEventListener('focus', show);
    el.addEventListener('mouseleave', hide);
    el.addEventListener('blur', hide);
    if (!isGroup) {
      const open = () => { window.location.hash = `#/company/${encodeURIComponent(mark.id)}`; };
      el.addEventListener('click', open);
      el.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') open(); });
    }
    markEls.push(el);
    nodeLayer.append(el);
    if (isGroup) {
      labelLayer.append(s('text', { class: 'group-count', x: mark.x, y: mark.y + 4, 'text-anchor': 'middle' }, String(mark.nodes.length)));
      const below = mark.y < H / 2;
      const anchor = mark.x > W - 110 ? 'end' : mark.x < 110 ? 'start' : 'middle';
      const lx = anchor === 'end' ? mark.x + r : anchor === 'start' ? mark.x - r : mark.x;
      labelLayer.append(s('text', {
        class: 'group-label', x: lx, y: below ? mark.y + r + 13 : mark.y - r - 5, 'text-anchor': anchor,
      }, mark.label));
    }
  }
  // labels: the best-linked companies first; a label that would cover one already placed
  // tries the other side of its node, else is left out (the name stays in the tooltip)
  const placed = [];
  for (const mark of companies) {
    if (!labelled.has(mark.id)) continue;
    const r = radiusOf(mark);
    const text = shortName(mark.node.company.name);
    // labels on the right third of the canvas go to the left of their node, so none is cut
    const sides = mark.x > W * 0.7 ? ['end', 'start'] : ['start', 'end'];
    for (const anchor of sides) {
      const x = anchor === 'end' ? mark.x - r - 3 : mark.x + r + 3;
      const box = labelBox(x, mark.y + 4, text, anchor);
      if (placed.some((b) => overlaps(b, box))) continue;
      placed.push(box);
      labelLayer.append(s('text', {
        class: 'node-label', x, y: mark.y + 4, 'text-anchor': anchor, 'data-id': mark.id,
      }, text));
      break;
    }
  }
  // zoom and pan: one transformed group; the wheel zooms around the pointer, a drag pans,
  // the buttons do both on touch screens and keyboards
  const viewport = s('g', { class: 'viewport', 'data-testid': 'network-viewport' });
  // the region's outline and towns (drawn first) move with the companies
  viewport.append(...[...svg.childNodes], linkLayer, nodeLayer, labelLayer);
  svg.append(viewport);
  const view = { k: 1, x: 0, y: 0 };
  const apply = () => {
    viewport.setAttribute('transform', `translate(${view.x.toFixed(1)} ${view.y.toFixed(1)}) scale(${view.k.toFixed(3)})`);
    svg.dataset.zoom = view.k.toFixed(3);
    // labels keep their size on screen (the CSS divides by --zoom)
    svg.style.setProperty('--zoom', view.k.toFixed(3));
  };
  const zoomAt = (factor, px, py) => {
    const k = Math.max(0.5, Math.min(12, view.k * factor));
    view.x = px - ((px - view.x) * k) / view.k;
    view.y = py - ((py - view.y) * k) / view.k;
    view.k = k;
    apply();
  };
  const toSvg = (ev) => {
    const box = svg.getBoundingClientRect();
    return [((ev.clientX - box.left) / box.width) * W, ((ev.clientY - box.top) / box.height) * H];
  };
  svg.addEventListener('wheel', (ev) => {
    ev.preventDefault();
    const [px, py] = toSvg(ev);
    zoomAt(ev.deltaY < 0 ? 1.25 : 0.8, px, py);
  }, { passive: false });
  let drag = null;
  svg.addEventListener('pointerdown', (ev) => {
    if (ev.target.closest('circle')) return; // a node: hover and click, not a pan
    drag = { start: toSvg(ev), x: view.x, y: view.y };
    svg.setPointerCapture?.(ev.pointerId);
  });
  svg.addEventListener('pointermove', (ev) => {
    if (!drag) return;
    const [px, py] = toSvg(ev);
    view.x = drag.x + (px - drag.start[0]);
    view.y = drag.y + (py - drag.start[1]);
    apply();
  });
  const stop = () => { drag = null; };
  svg.addEventListener('pointerup', stop);
  svg.addEventListener('pointercancel', stop);
  const zoomBar = h('div', { class: 'zoom-bar' },
    h('button', { type: 'button', class: 'btn ghost', 'data-testid': 'zoom-in', 'aria-label': t('network.zoom_in'), onclick: () => zoomAt(1.5, W / 2, H / 2) }, '+'),
    h('button', { type: 'button', class: 'btn ghost', 'data-testid': 'zoom-out', 'aria-label': t('network.zoom_out'), onclick: () => zoomAt(1 / 1.5, W / 2, H / 2) }, '−'),
    h('button', { type: 'button', class: 'btn ghost', 'data-testid': 'zoom-reset', onclick: () => { Object.assign(view, { k: 1, x: 0, y: 0 }); apply(); } }, t('network.zoom_reset')));
  apply();
  return { svg, tooltip, notes, zoomBar };
}

function legend() {
  const roles = ['oem', 'supplier', 'university', 'finance', 'service', 'dealer', 'buyer'];
  return h('div', { class: 'legend' },
    roles.map((r) => h('span', null, h('span', { class: 'dot', style: { background: ROLE_COLOURS[r] } }), term('role', r))),
    h('span', null, h('span', { class: 'ring' }), t('network.member')),
    mode === 'geo' ? h('span', null, h('span', { class: 'bubble' }), t('network.region_group')) : null,
    h('span', null, h('span', { class: 'line' }), t('network.intra')),
    h('span', null, h('span', { class: 'line ext' }), t('network.external')));
}

/** The company, its partners (tier 1) and theirs (tier 2), by the links given. */
function egoTiers(ego, supplies) {
  const partners = new Map();
  for (const sup of supplies) {
    if (sup.supplier_id === sup.buyer_id) continue;
    if (!partners.has(sup.supplier_id)) partners.set(sup.supplier_id, new Set());
    if (!partners.has(sup.buyer_id)) partners.set(sup.buyer_id, new Set());
    partners.get(sup.supplier_id).add(sup.buyer_id);
    partners.get(sup.buyer_id).add(sup.supplier_id);
  }
  const tiers = new Map([[ego, 0]]);
  for (const id of partners.get(ego) || []) tiers.set(id, 1);
  for (const [id, tier] of [...tiers]) {
    if (tier !== 1) continue;
    for (const next of partners.get(id) || []) if (!tiers.has(next)) tiers.set(next, 2);
  }
  return tiers;
}

export async function render({ cluster, clusters = [], args }) {
  const params = new URLSearchParams(args?.[0] || '');
  const inCluster = clusters.some((c) => c.id === params.get('cluster')) ? params.get('cluster') : '';
  const [companies, allLinks, members, region, categories, clusterMembers] = await Promise.all([
    companyMap(), allSupplies(), memberIds(cluster), get('/ui/lipetsk_region.json'), categoryMap(),
    inCluster ? memberIds(inCluster) : null,
  ]);
  const ego = companies.has(params.get('ego')) ? params.get('ego') : null;
  const role = params.get('role') || '';
  const category = params.get('category') || '';
  // filters: links of a category (its sub-tree), companies of a role (with their links)
  let supplies = category
    ? allLinks.filter((l) => l.category === category || String(l.category).startsWith(`${category}.`))
    : allLinks;
  let shown = companies;
  if (role) {
    const keep = new Set([...companies.values()].filter((c) => (c.roles || []).includes(role)).map((c) => c.id));
    supplies = supplies.filter((l) => keep.has(l.supplier_id) || keep.has(l.buyer_id));
    for (const l of supplies) { keep.add(l.supplier_id); keep.add(l.buyer_id); }
    shown = new Map([...companies].filter(([id]) => keep.has(id)));
  }
  if (clusterMembers) {
    // a cluster's members, with their links and partners
    const keep = new Set([...clusterMembers].filter((id) => shown.has(id)));
    supplies = supplies.filter((l) => keep.has(l.supplier_id) || keep.has(l.buyer_id));
    for (const l of supplies) { keep.add(l.supplier_id); keep.add(l.buyer_id); }
    shown = new Map([...shown].filter(([id]) => keep.has(id)));
  }
  let tiers = null;
  if (ego) {
    tiers = egoTiers(ego, supplies);
    supplies = supplies.filter((l) => tiers.has(l.supplier_id) && tiers.has(l.buyer_id));
    shown = new Map([...companies].filter(([id]) => tiers.has(id)));
    mode = 'graph';
  } else if (category) {
    const keep = new Set(supplies.flatMap((l) => [l.supplier_id, l.buyer_id]));
    shown = new Map([...shown].filter(([id]) => keep.has(id)));
  }
  // a cluster filter makes its members the ones ringed (and kept first at region scale)
  const graph = buildGraph(shown, supplies, clusterMembers || members);
  graph.ego = ego;
  graph.tiers = tiers;
  const holder = h('div', { class: 'net-wrap' });
  const noteEl = h('p', { class: 'muted small', style: { padding: '0 1.15rem .8rem', margin: '.5rem 0 0' } });
  const legendHolder = h('div');
  const zoomHolder = h('div');
  const draw = () => {
    const { svg, tooltip, notes, zoomBar } = drawSvg(graph, region, categories);
    holder.replaceChildren(svg, tooltip);
    zoomHolder.replaceChildren(zoomBar);
    legendHolder.replaceChildren(legend());
    noteEl.textContent = notes.join(' · ');
    for (const b of seg.querySelectorAll('button')) b.setAttribute('aria-pressed', String(b.dataset.mode === mode));
  };
  const seg = h('div', { class: 'seg', role: 'group' },
    h('button', { type: 'button', 'data-mode': 'geo', onclick: () => { mode = 'geo'; draw(); } }, t('network.geo')),
    h('button', { type: 'button', 'data-mode': 'graph', onclick: () => { mode = 'graph'; draw(); } }, t('network.graph')));
  draw();

  // search: a company by name opens its ego view; filters by role and category; all in the address
  const names = [...companies.values()].sort((a, b) => a.name.localeCompare(b.name, lang()));
  const byName = new Map(names.map((c) => [c.name.toLowerCase(), c.id]));
  const listId = 'network-companies';
  const searchInput = h('input', {
    class: 'search', type: 'search', list: listId, name: 'ego', 'data-testid': 'network-search',
    placeholder: t('network.search'), value: ego ? companies.get(ego).name : '',
  });
  const roleSelect = h('select', { name: 'role', 'data-testid': 'network-role' },
    h('option', { value: '' }, t('companies.any')),
    ['oem', 'supplier', 'university', 'finance', 'service', 'dealer'].map((r) => h('option', { value: r, selected: r === role || null }, term('role', r))));
  const used = [...new Set(allLinks.map((l) => l.category))];
  const roots = [...new Set(used.map((c) => String(c).split('.')[0]))];
  const categorySelect = h('select', { name: 'category', 'data-testid': 'network-category' },
    h('option', { value: '' }, t('companies.any')),
    [...roots, ...used].filter((c, i, all) => all.indexOf(c) === i)
      .map((c) => [c, categoryName(categories, c)]).sort((a, b) => a[1].localeCompare(b[1], lang()))
      .map(([c, label]) => h('option', { value: c, selected: c === category || null }, label)));
  const clusterSelect = h('select', { name: 'cluster', 'data-testid': 'network-cluster' },
    h('option', { value: '' }, t('companies.any')),
    clusters.map((c) => h('option', { value: c.id, selected: c.id === inCluster || null }, c.name)));
  const filterForm = h('form', {
    class: 'form-row net-filters', 'data-testid': 'network-filters',
    onsubmit: (ev) => {
      ev.preventDefault();
      const next = new URLSearchParams();
      const id = byName.get(searchInput.value.trim().toLowerCase()) || (companies.has(searchInput.value.trim()) ? searchInput.value.trim() : '');
      if (id) next.set('ego', id);
      if (roleSelect.value) next.set('role', roleSelect.value);
      if (categorySelect.value) next.set('category', categorySelect.value);
      if (clusterSelect.value) next.set('cluster', clusterSelect.value);
      const query = next.toString();
      window.location.hash = `#/network${query ? `/${query}` : ''}`;
    },
  },
  h('label', { class: 'wide' }, t('network.find'), searchInput, h('datalist', { id: listId }, names.map((c) => h('option', { value: c.name })))),
  h('label', null, t('col.roles'), roleSelect),
  h('label', null, t('col.category'), categorySelect),
  h('label', null, t('network.cluster'), clusterSelect),
  h('button', { class: 'btn', type: 'submit', 'data-testid': 'network-apply' }, t('find.run')),
  params.toString() ? h('a', { class: 'btn ghost', href: '#/network' }, t('companies.reset')) : null);

  const hubs = [...graph.nodes].sort((a, b) => b.degree - a.degree || a.company.name.localeCompare(b.company.name, lang())).slice(0, 12);
  const hubList = h('table', { class: 'data', 'data-testid': 'network-hubs' },
    h('thead', null, h('tr', null, h('th', null, t('col.company')), h('th', { class: 'num' }, t('network.degree')))),
    h('tbody', null, hubs.map((n) => h('tr', { 'data-id': n.id },
      h('td', null, h('span', { class: 'dot', style: { background: ROLE_COLOURS[mainRole(n.company)] } }),
        h('a', { href: `#/network/ego=${encodeURIComponent(n.id)}` }, n.company.name)),
      h('td', { class: 'num' }, num(n.degree))))));
  let side = hubList;
  if (ego) {
    const tierList = (tier) => [...tiers].filter(([, v]) => v === tier).map(([id]) => companies.get(id))
      .filter(Boolean).sort((a, b) => a.name.localeCompare(b.name, lang()));
    side = h('div', { 'data-testid': 'network-tiers', style: { padding: '0 1.15rem 1rem' } },
      h('p', null, h('a', { href: `#/company/${encodeURIComponent(ego)}` }, companies.get(ego).name)),
      [1, 2].map((tier) => {
        const list = tierList(tier);
        return h('div', { 'data-tier': tier },
          h('h3', null, t(`network.tier${tier}`), ' ', h('span', { class: 'count' }, num(list.length))),
          h('ul', { class: 'plain-list' }, list.slice(0, 40).map((c) => h('li', null,
            h('a', { href: `#/network/ego=${encodeURIComponent(c.id)}` }, c.name)))));
      }));
  }

  return h('div', null,
    h('div', { class: 'page-head' },
      h('div', null, h('h1', null, ego ? t('network.ego_title', { name: companies.get(ego).name }) : t('network.title')), h('p', { class: 'lede' }, t('network.lede'))),
      seg),
    h('div', { class: 'card', style: { marginBottom: '1rem' } }, filterForm),
    h('div', { class: 'grid side' },
      h('div', { class: 'card flush' }, legendHolder, zoomHolder, holder, noteEl),
      h('div', { class: 'card flush' },
        h('div', { class: 'card-head' }, h('h2', null, ego ? t('network.tiers') : t('network.hub'))),
        h('p', { class: 'muted small', style: { padding: '0 1.15rem' } },
          t('network.companies_n', { n: num(graph.nodes.length) }), ' · ',
          t('network.links_n', { n: num(graph.links.length) })),
        graph.restricted ? h('p', { class: 'muted small', style: { padding: '0 1.15rem' } }, tn('network.shown', graph.nodes.length)) : null,
        side)));
}
