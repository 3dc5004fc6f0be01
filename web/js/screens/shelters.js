// shelters.js — the shelter occupancy board (every shelter: places taken and
// free by kind, waiting list) and one shelter: residents, admission (with the
// waiting list when full), discharge with a reason, and occupancy over the
// last 90 days.
import { html, useState } from '../lib.js';
import { t, tl, fmtNumber, fmtMoney, today } from '../i18n.js';
import { get, post, patch } from '../api.js';
import { options } from '../schema.js';
import { can, session } from '../session.js';
import { useApi, Async, Empty, PageHead, Badge, toast, orgName, ErrorBox, Loading, Facts } from '../ui.js';
import { RecordDialog, usePicklists, listOptions } from '../records.js';
import { LineChart } from '../charts.js';
import { StaysTable, DischargeDialog, mergePatch } from './case-page.js';

function kinds(pl) { return listOptions(pl, 'place_kinds'); }

function OccupancyMeter({ taken, cap, label }) {
  const pct = cap ? Math.min(100, Math.round((taken * 100) / cap)) : 0;
  const level = pct >= 100 ? 'full' : pct >= 85 ? 'high' : 'ok';
  return html`<div class="meter-wrap">
    ${label ? html`<span class="meter-label">${label}</span>` : null}
    <div class=${`meter meter-${level}`} role="meter" aria-valuemin="0" aria-valuemax=${cap} aria-valuenow=${taken}
      aria-label=${`${label || t('shelter.occupancy')}: ${taken} / ${cap}`}><span style=${{ width: `${pct}%` }}></span></div>
    <p><strong>${fmtNumber(taken)}</strong> / ${fmtNumber(cap)} ${t('shelter.beds')} · ${t('shelter.free', { n: Math.max(0, cap - taken) })}</p>
  </div>`;
}

function ByKind({ x, pl }) {
  const cap = x.capacity || {};
  const occ = x.occupied || {};
  return Object.keys(cap).map((k) => html`<${OccupancyMeter} taken=${occ[k] || 0} cap=${cap[k] || 0}
    label=${(kinds(pl).find((o) => o.code === k) || { label: k }).label} />`);
}

function shelterSpec(pl, create) {
  return [
    { name: 'name', label: t('shelter.name'), type: 'text', required: true },
    ...(create ? [{ name: 'org', label: t('shelter.org'), type: 'org', required: true }] : []),
    { name: 'h1', label: t('shelter.capacity_by_kind'), type: 'heading' },
    ...kinds(pl).map((k) => ({ name: `cap_${k.code}`, label: k.label, type: 'number', min: 0, step: 1 })),
    { name: 'h2', label: t('shelter.cost_by_kind'), type: 'heading' },
    ...kinds(pl).map((k) => ({ name: `cost_${k.code}`, label: k.label, type: 'number', min: 0 })),
    { name: 'currency', label: t('assistance.currency'), type: 'text' },
    { name: 'h3', label: t('shelter.place'), type: 'heading' },
    { name: 'country', label: t('hotline.country'), type: 'select', options: options('country') },
    { name: 'region', label: t('shelter.region'), type: 'text' },
    { name: 'city', label: t('reint.city'), type: 'text' },
    { name: 'opened_on', label: t('shelter.opened_on'), type: 'date' },
    { name: 'closed_on', label: t('shelter.closed_on'), type: 'date' },
  ];
}

// Form values <-> a shelter record (capacity and cost by kind are objects).
function toShelter(v) {
  const out = { capacity: {}, cost_per_night: {} };
  for (const [k, x] of Object.entries(v)) {
    if (k.startsWith('cap_')) { if (x !== undefined) out.capacity[k.slice(4)] = x; } else if (k.startsWith('cost_')) { if (x !== undefined) out.cost_per_night[k.slice(5)] = x; } else if (!/^h\d$/.test(k)) out[k] = x;
  }
  if (!Object.keys(out.cost_per_night).length) delete out.cost_per_night;
  return out;
}
function fromShelter(x) {
  const v = {};
  for (const k of ['name', 'org', 'currency', 'country', 'region', 'city', 'opened_on', 'closed_on']) if (x[k] !== undefined) v[k] = x[k];
  for (const [k, n] of Object.entries(x.capacity || {})) v[`cap_${k}`] = n;
  for (const [k, n] of Object.entries(x.cost_per_night || {})) v[`cost_${k}`] = n;
  return v;
}

export function Shelters() {
  const s = useApi(() => get('/api/v1/shelters', { limit: 200 }), []);
  const [adding, setAdding] = useState(false);
  const pl = usePicklists('care');
  const me = session();
  return html`<div class="page">
    <${PageHead} title=${t('shelter.board')}>
      ${can('shelter', 'create') && !(s.error && s.error.isMissingEndpoint) ? html`<button type="button" class="btn btn-primary" onClick=${() => setAdding(true)}>${t('shelter.add')}</button>` : null}
    <//>
    <${Async} state=${s} what=${t('module.shelters')}>${(d) => (!d.items.length ? html`<${Empty}>${t('shelter.none')}<//>` : html`
      <ul class="board">${d.items.map((x) => html`<li class="card shelter-card">
        <h2><a href=${`#/shelters/${x.id}`}>${x.name || x.id}</a></h2>
        <p class="muted">${orgName(x.org)}${x.city ? ` · ${x.city}` : ''}${x.region ? ` · ${x.region}` : ''}</p>
        <${OccupancyMeter} taken=${x.occupied_total || 0} cap=${x.capacity_total || 0} />
        <details><summary>${t('shelter.by_kind')}</summary><${ByKind} x=${x} pl=${pl} /></details>
        ${x.waiting ? html`<p><${Badge} kind="warn">${t('shelter.waiting_n', { n: x.waiting })}<//></p>` : null}
        ${x.closed_on ? html`<p><${Badge} kind="plain">${t('shelter.closed_on')} ${x.closed_on}<//></p>` : null}
      </li>`)}</ul>`)}<//>
    ${adding ? html`<${RecordDialog} open=${true} title=${t('shelter.add')} spec=${shelterSpec(pl, true)} initial=${me.user.org ? { org: me.user.org } : {}}
      submit=${(v) => post('/api/v1/shelters', toShelter(v))}
      onClose=${(saved) => { setAdding(false); if (saved) { toast(t('common.saved')); s.reload(); } }} />` : null}
  </div>`;
}

export function ShelterPage({ id }) {
  const pl = usePicklists('care');
  const s = useApi(() => get(`/api/v1/shelters/${encodeURIComponent(id)}`), [id]);
  const from = new Date(Date.now() - 90 * 864e5).toISOString().slice(0, 10);
  const occ = useApi(() => get(`/api/v1/shelters/${encodeURIComponent(id)}/occupancy`, { from, to: today(), step: 'week' }), [id]);
  const [admit, setAdmit] = useState(false);
  const [full, setFull] = useState(null);
  const [discharge, setDischarge] = useState(null);
  const [edit, setEdit] = useState(false);
  const [n, setN] = useState(0);
  if (s.loading && !s.data) return html`<div class="page"><${Loading} /></div>`;
  if (s.error) return html`<div class="page"><${ErrorBox} error=${s.error} what=${t('module.shelters')} /></div>`;
  const x = s.data;
  const items = (occ.data && occ.data.items) || [];
  const points = items.map((p) => ({ key: p.from, count: p.average ?? null }));
  const admitSpec = [
    { name: 'case', label: t('shelter.case_ref'), type: 'text', required: true },
    { name: 'place_kind', label: t('shelter.place_kind'), type: 'select', required: true, options: kinds(pl).filter((k) => (x.capacity || {})[k.code]) },
    { name: 'places', label: t('shelter.places'), type: 'number', min: 1, step: 1 },
    { name: 'admitted_on', label: t('shelter.admitted_on'), type: 'date' },
    { name: 'planned_discharge', label: t('shelter.expected_discharge'), type: 'date' },
    ...(can('case_identity', 'update') ? [{ name: 'notes', label: t('common.notes'), type: 'longtext' }] : []),
  ];
  async function doAdmit(v, waiting) {
    try {
      return await post(`/api/v1/shelters/${x.id}/stays`, { ...v, ...(waiting ? { waiting_list: true } : {}) });
    } catch (e) {
      if (e.status === 409 && e.code === 'over_capacity' && !waiting) setFull(v);
      throw e;
    }
  }
  const reload = () => { setN(n + 1); s.reload(); };
  return html`<div class="page">
    <${PageHead} title=${x.name || x.id}>
      ${can('shelter', 'update') ? html`<button type="button" class="btn" onClick=${() => setEdit(true)}>${t('common.edit')}</button>` : null}
      ${can('shelter', 'create') ? html`<button type="button" class="btn btn-primary" onClick=${() => setAdmit(true)}>${t('shelter.admit')}</button>` : null}
    <//>
    ${full ? html`<div class="notice notice-warn" role="alert"><p>${t('shelter.full')}</p>
      <div class="actions"><button type="button" class="btn btn-primary" onClick=${async () => { try { await doAdmit(full, true); toast(t('shelter.waiting_added')); setFull(null); reload(); } catch (e) { toast(e.message, 'error'); } }}>${t('shelter.add_waiting')}</button>
        <button type="button" class="btn" onClick=${() => setFull(null)}>${t('common.cancel')}</button></div></div>` : null}
    <div class="cards cards-2">
      <section class="card" aria-labelledby="sh-now"><h2 id="sh-now">${t('shelter.now')}</h2>
        <${OccupancyMeter} taken=${x.occupied_total || 0} cap=${x.capacity_total || 0} />
        <${ByKind} x=${x} pl=${pl} />
        <${Facts} rows=${[
          [t('shelter.org'), orgName(x.org)],
          [t('shelter.place'), [x.city, x.region, x.country].filter(Boolean).join(', ')],
          x.cost_per_night ? [t('shelter.cost'), Object.entries(x.cost_per_night).map(([k, c]) => `${(kinds(pl).find((o) => o.code === k) || { label: k }).label}: ${fmtMoney(c, x.currency)}`).join(' · ')] : null,
          x.address ? [t('shelter.address'), x.address] : null,
          x.contact ? [t('directory.contact'), x.contact] : null,
        ]} />
      </section>
      ${points.length ? html`<${LineChart} title=${t('shelter.over_time')} series=${[{ name: t('shelter.occupancy'), points }]} yLabel=${t('shelter.avg_places')} />` : html`<${Async} state=${occ} what=${t('module.shelters')}>${() => null}<//>`}
    </div>
    <section class="records" key=${`r${n}`} aria-labelledby="sh-res"><h2 id="sh-res">${t('shelter.residents')}</h2>
      <${StaysTable} path=${`/api/v1/shelters/${x.id}/stays`} query=${{ status: 'Admitted' }} pl=${pl} onDischarge=${setDischarge} onChanged=${reload} /></section>
    <section class="records" key=${`w${n}`} aria-labelledby="sh-wait"><h2 id="sh-wait">${t('shelter.waiting')}</h2>
      <${StaysTable} path=${`/api/v1/shelters/${x.id}/waiting-list`} pl=${pl} onDischarge=${setDischarge} onChanged=${reload} /></section>
    ${admit ? html`<${RecordDialog} open=${true} title=${t('shelter.admit')} spec=${admitSpec} initial=${{ admitted_on: today() }}
      submit=${(v) => doAdmit(v, false)} onClose=${(saved) => { setAdmit(false); if (saved) { toast(t('shelter.admitted')); reload(); } }} />` : null}
    ${discharge ? html`<${DischargeDialog} stay=${discharge} pl=${pl} onClose=${(saved) => { setDischarge(null); if (saved) reload(); }} />` : null}
    ${edit ? html`<${RecordDialog} open=${true} title=${t('common.edit')} spec=${shelterSpec(pl, false)} initial=${fromShelter(x)}
      submit=${(v) => { const next = toShelter(v); return patch(`/api/v1/shelters/${x.id}`, mergePatch(x, next, Object.keys(next).map((name) => ({ name }))), x.version); }}
      onClose=${(saved) => { setEdit(false); if (saved) { toast(t('common.saved')); s.reload(); } }} />` : null}
  </div>`;
}
