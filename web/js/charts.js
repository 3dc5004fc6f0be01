// charts.js — small SVG charts drawn by hand: bars, columns, lines and a
// Sankey flow for routes (origin → transit → destination).  Each chart has a
// text alternative: a table the reader can open.  Suppressed figures
// (disclosure control) are shown as such, never as zero.
import { html, useState } from './lib.js';
import { t, fmtNumber } from './i18n.js';

const PALETTE = ['#1f5f8b', '#c2410c', '#15803d', '#7e22ce', '#b91c1c', '#0e7490', '#a16207', '#4d7c0f', '#be185d', '#334155'];

// Accepts [{key|name|code|year|label, count|value|n, suppressed}] or {key: count}
// and answers [{key, count (number or null), suppressed}].
export function toSeries(x) {
  if (!x) return [];
  if (Array.isArray(x)) {
    return x.map((r) => {
      const key = r.key ?? r.name ?? r.code ?? r.year ?? r.label ?? r.month ?? r.date ?? (Array.isArray(r.keys) ? r.keys.join(' / ') : '');
      const c = r.count ?? r.value ?? r.n ?? r.cases ?? null;
      return { key: String(key), count: typeof c === 'number' ? c : null, suppressed: r.suppressed === undefined ? c === null : !!r.suppressed };
    });
  }
  if (typeof x === 'object') return Object.entries(x).map(([key, c]) => ({ key, count: typeof c === 'number' ? c : null, suppressed: c === null }));
  return [];
}

function DataTable({ caption, rows, label, keyHead }) {
  return html`<table class="data"><caption class="sr-only">${caption}</caption>
    <thead><tr><th scope="col">${keyHead || t('chart.category')}</th><th scope="col" class="num">${t('chart.count')}</th></tr></thead>
    <tbody>${rows.map((r) => html`<tr><th scope="row">${label ? label(r.key) : r.key}</th>
      <td class="num">${r.suppressed ? t('chart.suppressed') : fmtNumber(r.count)}</td></tr>`)}</tbody></table>`;
}

function ChartFrame({ title, rows, label, keyHead, children, note }) {
  const [table, setTable] = useState(false);
  return html`<figure class="chart">
    <figcaption><span class="chart-title">${title}</span>
      <button type="button" class="btn-link" aria-pressed=${table ? 'true' : 'false'} onClick=${() => setTable(!table)}>${table ? t('chart.show_chart') : t('chart.show_table')}</button>
    </figcaption>
    ${table ? html`<${DataTable} caption=${title} rows=${rows} label=${label} keyHead=${keyHead} />` : children}
    ${note ? html`<p class="chart-note">${note}</p>` : null}
  </figure>`;
}

function suppressedNote(rows) {
  return rows.some((r) => r.suppressed) ? t('chart.suppressed_note') : null;
}

// Horizontal bars: categories with long names (exploitation types, countries).
export function BarChart({ title, data, label, max = 12 }) {
  const rows = toSeries(data).sort((a, b) => (b.count ?? -1) - (a.count ?? -1)).slice(0, max);
  if (!rows.length) return html`<${ChartFrame} title=${title} rows=${rows}><p class="empty">${t('chart.no_data')}</p><//>`;
  const top = Math.max(1, ...rows.map((r) => r.count || 0));
  const rowH = 26;
  const labelW = 190;
  const w = 560;
  const h = rows.length * rowH + 4;
  const desc = rows.map((r) => `${label ? label(r.key) : r.key}: ${r.suppressed ? t('chart.suppressed') : fmtNumber(r.count)}`).join('; ');
  return html`<${ChartFrame} title=${title} rows=${rows} label=${label} note=${suppressedNote(rows)}>
    <svg class="svg-chart" viewBox=${`0 0 ${w} ${h}`} role="img" aria-label=${`${title}. ${desc}`}>
      ${rows.map((r, i) => {
        const y = i * rowH + 2;
        const bw = r.suppressed ? 0 : ((w - labelW - 60) * (r.count || 0)) / top;
        const name = label ? label(r.key) : r.key;
        return html`<g>
          <text x=${labelW - 8} y=${y + 17} text-anchor="end" class="tick">${name.length > 28 ? `${name.slice(0, 27)}…` : name}</text>
          ${r.suppressed
            ? html`<rect x=${labelW} y=${y + 4} width="40" height=${rowH - 8} class="bar-suppressed" />`
            : html`<rect x=${labelW} y=${y + 4} width=${Math.max(bw, 1)} height=${rowH - 8} fill=${PALETTE[0]} />`}
          <text x=${labelW + (r.suppressed ? 46 : bw + 6)} y=${y + 17} class="value">${r.suppressed ? t('chart.suppressed_short') : fmtNumber(r.count)}</text>
        </g>`;
      })}
    </svg>
  <//>`;
}

// Vertical columns: ordered categories (years, age groups).
export function ColumnChart({ title, data, label, sort = true }) {
  let rows = toSeries(data);
  if (sort) rows = rows.sort((a, b) => String(a.key).localeCompare(String(b.key), undefined, { numeric: true }));
  if (!rows.length) return html`<${ChartFrame} title=${title} rows=${rows}><p class="empty">${t('chart.no_data')}</p><//>`;
  const top = Math.max(1, ...rows.map((r) => r.count || 0));
  const w = 560;
  const h = 220;
  const base = h - 28;
  const colW = Math.min(60, (w - 20) / rows.length);
  const desc = rows.map((r) => `${label ? label(r.key) : r.key}: ${r.suppressed ? t('chart.suppressed') : fmtNumber(r.count)}`).join('; ');
  return html`<${ChartFrame} title=${title} rows=${rows} label=${label} note=${suppressedNote(rows)}>
    <svg class="svg-chart" viewBox=${`0 0 ${w} ${h}`} role="img" aria-label=${`${title}. ${desc}`}>
      <line x1="10" x2=${w - 10} y1=${base} y2=${base} class="axis" />
      ${rows.map((r, i) => {
        const x = 10 + i * colW + colW * 0.15;
        const ch = r.suppressed ? 0 : ((base - 24) * (r.count || 0)) / top;
        const name = label ? label(r.key) : r.key;
        return html`<g>
          ${r.suppressed ? html`<rect x=${x} y=${base - 20} width=${colW * 0.7} height="20" class="bar-suppressed" />`
            : html`<rect x=${x} y=${base - ch} width=${colW * 0.7} height=${Math.max(ch, 1)} fill=${PALETTE[0]} />`}
          <text x=${x + colW * 0.35} y=${(r.suppressed ? base - 20 : base - ch) - 5} text-anchor="middle" class="value">${r.suppressed ? t('chart.suppressed_short') : fmtNumber(r.count)}</text>
          <text x=${x + colW * 0.35} y=${base + 17} text-anchor="middle" class="tick">${name.length > 9 ? `${name.slice(0, 8)}…` : name}</text>
        </g>`;
      })}
    </svg>
  <//>`;
}

// Lines over time: series = [{name, points: [{key, count}]}].
export function LineChart({ title, series, yLabel }) {
  const all = series.flatMap((s) => s.points);
  const keys = [...new Set(all.map((p) => p.key))].sort();
  const rows = series.length === 1 ? series[0].points : keys.map((k) => ({ key: k, count: series.reduce((n, s) => n + ((s.points.find((p) => p.key === k) || {}).count || 0), 0) }));
  if (!keys.length) return html`<${ChartFrame} title=${title} rows=${[]}><p class="empty">${t('chart.no_data')}</p><//>`;
  const top = Math.max(1, ...all.map((p) => p.count || 0));
  const w = 560;
  const h = 220;
  const left = 40;
  const base = h - 28;
  const x = (i) => left + (keys.length === 1 ? 0 : (i * (w - left - 20)) / (keys.length - 1));
  const y = (v) => base - ((base - 16) * v) / top;
  const step = Math.ceil(keys.length / 8);
  return html`<${ChartFrame} title=${title} rows=${rows} keyHead=${t('chart.period')}>
    <svg class="svg-chart" viewBox=${`0 0 ${w} ${h}`} role="img" aria-label=${`${title}. ${rows.map((r) => `${r.key}: ${fmtNumber(r.count)}`).join('; ')}`}>
      <line x1=${left} x2=${w - 10} y1=${base} y2=${base} class="axis" />
      <line x1=${left} x2=${left} y1="10" y2=${base} class="axis" />
      <text x=${left - 6} y="20" text-anchor="end" class="tick">${fmtNumber(top)}</text>
      <text x=${left - 6} y=${base} text-anchor="end" class="tick">0</text>
      ${yLabel ? html`<text x=${left + 4} y="12" class="tick">${yLabel}</text>` : null}
      ${keys.map((k, i) => (i % step === 0 ? html`<text x=${x(i)} y=${base + 17} text-anchor="middle" class="tick">${k}</text>` : null))}
      ${series.map((s, si) => html`<g>
        <polyline fill="none" stroke=${PALETTE[si % PALETTE.length]} stroke-width="2.5"
          points=${keys.map((k, i) => { const p = s.points.find((q) => q.key === k); return p && p.count !== null ? `${x(i)},${y(p.count)}` : null; }).filter(Boolean).join(' ')} />
        ${s.points.map((p) => (p.count === null ? null : html`<circle cx=${x(keys.indexOf(p.key))} cy=${y(p.count)} r="3" fill=${PALETTE[si % PALETTE.length]} />`))}
      </g>`)}
    </svg>
    ${series.length > 1 ? html`<ul class="legend">${series.map((s, si) => html`<li><span class="swatch" style=${`background:${PALETTE[si % PALETTE.length]}`}></span>${s.name}</li>`)}</ul>` : null}
  <//>`;
}

// Routes: [{origin, transit (code, list or null), destination, count}] drawn
// as a three-column flow (origin → transit → destination).
export function normaliseRoutes(x) {
  if (x && Array.isArray(x.cells)) { // a crosstab: keys [origin, transit, destination]
    return x.cells.map((c) => ({ origin: c.keys[0], transit: c.keys[1] === '_none' ? null : c.keys[1], destination: c.keys[2], count: typeof c.count === 'number' ? c.count : null, suppressed: !!c.suppressed || c.count === null }));
  }
  const list = Array.isArray(x) ? x : (x && (x.items || x.routes || x.flows)) || [];
  return list.map((r) => {
    const tr = r.transit ?? r.via ?? null;
    const transit = Array.isArray(tr) ? (tr.length ? tr.join(' → ') : null) : tr || null;
    const c = r.count ?? r.value ?? r.n ?? null;
    return { origin: r.origin ?? r.from ?? '?', transit, destination: r.destination ?? r.to ?? '?', count: typeof c === 'number' ? c : null, suppressed: !!r.suppressed || c === null };
  });
}

export function Sankey({ title, routes, label }) {
  const rows = normaliseRoutes(routes).filter((r) => !r.suppressed && r.count > 0);
  const hidden = normaliseRoutes(routes).filter((r) => r.suppressed).length;
  const name = (k) => (k === null ? t('chart.direct') : label ? label(k) : k);
  const tableRows = normaliseRoutes(routes).map((r) => ({ key: `${name(r.origin)} → ${name(r.transit)} → ${name(r.destination)}`, count: r.count, suppressed: r.suppressed }));
  if (!rows.length) return html`<${ChartFrame} title=${title} rows=${tableRows}><p class="empty">${t('chart.no_data')}</p><//>`;
  const cols = [new Map(), new Map(), new Map()];
  const add = (m, k, v) => m.set(k, (m.get(k) || 0) + v);
  for (const r of rows) { add(cols[0], r.origin, r.count); add(cols[1], r.transit, r.count); add(cols[2], r.destination, r.count); }
  const total = rows.reduce((n, r) => n + r.count, 0);
  const w = 640;
  const nodeW = 14;
  const gap = 8;
  const maxNodes = Math.max(...cols.map((c) => c.size));
  const h = Math.max(200, maxNodes * 30 + 40);
  const usable = h - 20 - gap * (maxNodes - 1);
  const scale = usable / total;
  const xs = [150, w / 2 - nodeW / 2, w - 150 - nodeW];
  const pos = cols.map((c, ci) => {
    const m = new Map();
    let y = 10;
    for (const [k, v] of [...c.entries()].sort((a, b) => b[1] - a[1])) { m.set(k, { y, h: Math.max(v * scale, 2), out: 0, in: 0 }); y += Math.max(v * scale, 2) + gap; }
    return m;
  });
  const links = [];
  const agg = (a, b, ca, cb, v) => links.push({ a, b, ca, cb, v });
  const l1 = new Map();
  const l2 = new Map();
  for (const r of rows) {
    const k1 = JSON.stringify([r.origin, r.transit]);
    const k2 = JSON.stringify([r.transit, r.destination]);
    l1.set(k1, (l1.get(k1) || 0) + r.count);
    l2.set(k2, (l2.get(k2) || 0) + r.count);
  }
  for (const [k, v] of [...l1.entries()].sort((a, b) => b[1] - a[1])) { const [a, b] = JSON.parse(k); agg(a, b, 0, 1, v); }
  for (const [k, v] of [...l2.entries()].sort((a, b) => b[1] - a[1])) { const [a, b] = JSON.parse(k); agg(a, b, 1, 2, v); }
  const colourOf = new Map([...cols[0].keys()].map((k, i) => [k, PALETTE[i % PALETTE.length]]));
  const paths = links.map((l) => {
    const A = pos[l.ca].get(l.a);
    const B = pos[l.cb].get(l.b);
    const th = Math.max(l.v * scale, 1.5);
    const y1 = A.y + A.out + th / 2;
    const y2 = B.y + B.in + th / 2;
    A.out += th; B.in += th;
    const x1 = xs[l.ca] + nodeW;
    const x2 = xs[l.cb];
    const mx = (x1 + x2) / 2;
    return { d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`, th, colour: l.ca === 0 ? colourOf.get(l.a) : '#64748b', title: `${name(l.a)} → ${name(l.b)}: ${fmtNumber(l.v)}` };
  });
  const heads = [t('chart.origin'), t('chart.transit'), t('chart.destination')];
  return html`<${ChartFrame} title=${title} rows=${tableRows} keyHead=${t('chart.route')} note=${hidden ? t('chart.routes_suppressed', { n: hidden }) : null}>
    <svg class="svg-chart sankey" viewBox=${`0 0 ${w} ${h + 20}`} role="img" aria-label=${`${title}. ${tableRows.map((r) => `${r.key}: ${r.suppressed ? t('chart.suppressed') : fmtNumber(r.count)}`).join('; ')}`}>
      ${heads.map((hd, i) => html`<text x=${xs[i] + nodeW / 2} y=${h + 16} text-anchor="middle" class="tick strong">${hd}</text>`)}
      ${paths.map((p) => html`<path d=${p.d} stroke=${p.colour} stroke-width=${p.th} fill="none" stroke-opacity="0.45"><title>${p.title}</title></path>`)}
      ${pos.map((m, ci) => [...m.entries()].map(([k, n]) => html`<g>
        <rect x=${xs[ci]} y=${n.y} width=${nodeW} height=${n.h} fill=${ci === 0 ? colourOf.get(k) : '#334155'} />
        <text x=${ci === 2 ? xs[ci] + nodeW + 6 : xs[ci] - 6} y=${n.y + n.h / 2 + 4} text-anchor=${ci === 2 ? 'start' : 'end'} class="tick">${name(k)} (${fmtNumber(cols[ci].get(k))})</text>
      </g>`))}
    </svg>
  <//>`;
}
