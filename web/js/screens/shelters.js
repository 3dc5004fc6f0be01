// shelters.js — the shelter occupancy board (every shelter: beds taken,
// free, waiting list) and one shelter: its residents, admissions and
// discharges, the waiting list and occupancy over time.
import { html, useState } from '../lib.js';
import { t, fmtDate, fmtNumber, today } from '../i18n.js';
import { get, post } from '../api.js';
import { can } from '../session.js';
import { useApi, Async, Empty, PageHead, Badge, toast, orgName, ErrorBox, Loading } from '../ui.js';
import { RecordsSection, RecordDialog, RecordFacts, usePicklists, listOptions, recordValue } from '../records.js';
import { LineChart, toSeries } from '../charts.js';

function occupancyOf(s) {
  const o = s.occupancy || {};
  const taken = s.occupied ?? o.occupied ?? o.now ?? s.current ?? 0;
  const cap = s.capacity ?? o.capacity ?? 0;
  return { taken, cap, waiting: s.waiting ?? o.waiting ?? s.waiting_list ?? null };
}

function OccupancyMeter({ taken, cap }) {
  const pct = cap ? Math.min(100, Math.round((taken * 100) / cap)) : 0;
  const kind = pct >= 100 ? 'full' : pct >= 85 ? 'high' : 'ok';
  return html`<div class="meter-wrap">
    <div class=${`meter meter-${kind}`} role="meter" aria-valuemin="0" aria-valuemax=${cap} aria-valuenow=${taken} aria-label=${t('shelter.occupancy')}>
      <span style=${`width:${pct}%`}></span></div>
    <p><strong>${fmtNumber(taken)}</strong> / ${fmtNumber(cap)} ${t('shelter.beds')} · ${t('shelter.free', { n: Math.max(0, cap - taken) })}</p>
  </div>`;
}

export function Shelters() {
  const s = useApi(() => get('/api/v1/shelters', { limit: 200 }), []);
  const [adding, setAdding] = useState(false);
  const pl = usePicklists('care');
  const spec = [
    { name: 'name', label: t('shelter.name'), type: 'text', required: true },
    { name: 'org', label: t('shelter.org'), type: 'org', required: true },
    { name: 'capacity', label: t('shelter.capacity'), type: 'number', min: 0, step: 1, required: true },
    { name: 'kind', label: t('shelter.kind'), type: 'select', options: listOptions(pl, 'shelter_types', 'shelter_kinds') },
    { name: 'region', label: t('shelter.region'), type: 'text' },
    { name: 'cost_per_night', label: t('shelter.cost'), type: 'number', min: 0 },
    { name: 'currency', label: t('assistance.currency'), type: 'text' },
  ];
  return html`<div class="page">
    <${PageHead} title=${t('shelter.board')}>
      ${can('shelter', 'create') && !(s.error && s.error.isMissingEndpoint) ? html`<button type="button" class="btn btn-primary" onClick=${() => setAdding(true)}>${t('shelter.add')}</button>` : null}
    <//>
    <${Async} state=${s} what=${t('module.shelters')}>${(d) => (!d.items.length ? html`<${Empty}>${t('shelter.none')}<//>` : html`
      <ul class="board">${d.items.map((x) => {
        const o = occupancyOf(x);
        return html`<li class="card shelter-card">
          <h2><a href=${`#/shelters/${x.id}`}>${x.name || x.id}</a></h2>
          <p class="muted">${orgName(x.org)}${x.region ? ` · ${x.region}` : ''}</p>
          <${OccupancyMeter} taken=${o.taken} cap=${o.cap} />
          ${o.waiting ? html`<p><${Badge} kind="warn">${t('shelter.waiting_n', { n: o.waiting })}<//></p>` : null}
        </li>`;
      })}</ul>`)}<//>
    <${RecordDialog} open=${adding} title=${t('shelter.add')} spec=${spec} submit=${(v) => post('/api/v1/shelters', v)}
      onClose=${(saved) => { setAdding(false); if (saved) { toast(t('common.saved')); s.reload(); } }} />
  </div>`;
}

export function ShelterPage({ id }) {
  const s = useApi(() => get(`/api/v1/shelters/${encodeURIComponent(id)}`), [id]);
  const from = new Date(Date.now() - 90 * 864e5).toISOString().slice(0, 10);
  const occ = useApi(() => get(`/api/v1/shelters/${encodeURIComponent(id)}/occupancy`, { from, to: today() }), [id]);
  if (s.loading && !s.data) return html`<div class="page"><${Loading} /></div>`;
  if (s.error) return html`<div class="page"><${ErrorBox} error=${s.error} what=${t('module.shelters')} /></div>`;
  const x = s.data;
  const o = occupancyOf(x);
  const points = toSeries(occ.data && (occ.data.series || occ.data.items || occ.data.days)).map((p) => ({ key: p.key, count: p.count }));
  const admitSpec = [
    { name: 'case', label: t('shelter.case_ref'), type: 'text', required: true },
    { name: 'admitted_on', label: t('shelter.admitted_on'), type: 'date' },
    { name: 'expected_discharge', label: t('shelter.expected_discharge'), type: 'date' },
    { name: 'notes', label: t('common.notes'), type: 'longtext' },
  ];
  return html`<div class="page">
    <${PageHead} title=${x.name || x.id} />
    <div class="cards cards-2">
      <section class="card" aria-labelledby="sh-now"><h2 id="sh-now">${t('shelter.now')}</h2><${OccupancyMeter} taken=${o.taken} cap=${o.cap} />
        <${RecordFacts} record=${x} skip=${['name', 'occupancy', 'occupied', 'waiting']} /></section>
      ${points.length ? html`<${LineChart} title=${t('shelter.over_time')} series=${[{ name: t('shelter.occupancy'), points }]} />` : null}
    </div>
    <${RecordsSection} title=${t('shelter.residents')} what="stays" listPath=${`/api/v1/shelters/${x.id}/stays`} listQuery=${{ current: 'true' }} spec=${admitSpec}
      canCreate=${can('shelter', 'create')} addLabel=${t('shelter.admit')} empty=${t('shelter.no_stays')} onCreated=${s.reload}
      render=${(items, reload) => html`<div class="table-wrap" tabindex="0" role="region" aria-label=${t('common.table_scroll')}><table class="data"><caption class="sr-only">${t('shelter.residents')}</caption>
        <thead><tr><th scope="col">${t('shelter.case_ref')}</th><th scope="col">${t('shelter.admitted_on')}</th><th scope="col">${t('shelter.expected_discharge')}</th><th scope="col">${t('common.status')}</th><th scope="col"><span class="sr-only">${t('common.actions')}</span></th></tr></thead>
        <tbody>${items.map((st) => html`<tr>
          <td>${st.case ? html`<a href=${`#/cases/${encodeURIComponent(st.case_reference || st.case)}/shelter`}>${st.case_reference || st.case}</a>` : ''}</td>
          <td>${fmtDate(st.admitted_on || st.admitted_at)}</td><td>${fmtDate(st.expected_discharge)}</td>
          <td>${st.discharged_on || st.discharged_at ? t('shelter.discharged_on', { date: fmtDate(st.discharged_on || st.discharged_at) }) : t('shelter.in_residence')}</td>
          <td>${!(st.discharged_on || st.discharged_at) && can('shelter', 'update') ? html`<button type="button" class="btn btn-small" onClick=${async () => {
            try { await post(`/api/v1/stays/${st.id}/discharge`, { discharged_on: today() }); toast(t('shelter.discharged')); reload(); s.reload(); } catch (e) { toast(e.message, 'error'); }
          }}>${t('shelter.discharge')}</button>` : null}</td></tr>`)}</tbody></table></div>`} />
    <${RecordsSection} title=${t('shelter.waiting')} what="waiting" listPath=${`/api/v1/shelters/${x.id}/waiting-list`} spec=${[]} empty=${t('shelter.no_waiting')} columns=${['case_reference', 'since', 'priority', 'notes']} />
  </div>`;
}
export { recordValue };
