// trainings.js — trainings and awareness events: the list, a new event or a
// change (participants by sex must add up), and the figures (events,
// participants, people and officials trained, by audience and topic).
import { html, useState } from '../lib.js';
import { t, fmtNumber } from '../i18n.js';
import { get, post, patch, del } from '../api.js';
import { options } from '../schema.js';
import { can } from '../session.js';
import { navigate } from '../router.js';
import { useApi, Async, Empty, PageHead, Pager, toast } from '../ui.js';
import { RecordDialog, usePicklists, listOptions, recordValue } from '../records.js';
import { BarChart } from '../charts.js';
import { mergePatch } from './case-page.js';

const LIMIT = 25;
const SEXES = ['Female', 'Male', 'Other', 'NotRecorded'];

function toTraining(v) {
  const out = {};
  const bySex = {};
  for (const [k, x] of Object.entries(v)) {
    if (k.startsWith('sex_')) { if (x !== undefined) bySex[k.slice(4)] = x; } else if (!/^h\d$/.test(k)) out[k] = x;
  }
  if (Object.keys(bySex).length) out.participants_by_sex = bySex;
  return out;
}

function fromTraining(r, spec) {
  const v = {};
  for (const f of spec) if (r[f.name] !== undefined) v[f.name] = r[f.name];
  for (const [k, n] of Object.entries(r.participants_by_sex || {})) v[`sex_${k}`] = n;
  return v;
}

export function Trainings({ query }) {
  const pl = usePicklists('care');
  const offset = Number(query.offset || 0);
  const list = useApi(() => get('/api/v1/trainings', { limit: LIMIT, offset }), [offset]);
  const stats = useApi(() => get('/api/v1/trainings/stats'), []);
  const [edit, setEdit] = useState(null);
  const sexLabel = (k) => (listOptions(pl, 'participant_sexes').find((o) => o.code === k) || { label: k }).label;
  const spec = [
    { name: 'type', label: t('training.kind'), type: 'select', required: true, options: listOptions(pl, 'event_types') },
    { name: 'title', label: t('training.title_f'), type: 'text', required: true },
    { name: 'start_date', label: t('training.date'), type: 'date', required: true },
    { name: 'end_date', label: t('training.end_date'), type: 'date' },
    { name: 'country', label: t('hotline.country'), type: 'select', options: options('country') },
    { name: 'province', label: t('shelter.region'), type: 'text' },
    { name: 'city', label: t('reint.city'), type: 'text' },
    { name: 'venue', label: t('training.location'), type: 'text' },
    { name: 'organiser_org', label: t('training.organiser'), type: 'org' },
    { name: 'programme', label: t('training.programme'), type: 'text' },
    { name: 'audiences', label: t('training.audience'), type: 'multi', options: listOptions(pl, 'audiences') },
    { name: 'topics', label: t('training.topics'), type: 'multi', options: listOptions(pl, 'topics') },
    { name: 'h1', label: t('training.participants_h'), type: 'heading' },
    { name: 'participants', label: t('training.participants_total'), type: 'number', min: 0, step: 1 },
    ...SEXES.map((k) => ({ name: `sex_${k}`, label: sexLabel(k), type: 'number', min: 0, step: 1 })),
  ];
  const cols = ['start_date', 'title', 'type', 'city', 'participants', 'officials'];
  const colLabel = { start_date: t('training.date'), title: t('training.title_f'), type: t('training.kind'), city: t('reint.city'), participants: t('training.participants_total'), officials: t('training.officials') };
  const label = (list) => (k) => (listOptions(pl, list).find((o) => o.code === k) || { label: k }).label;
  return html`<div class="page">
    <${PageHead} title=${t('training.title')}>
      ${can('training', 'create') && !(list.error && list.error.isMissingEndpoint) ? html`<button type="button" class="btn btn-primary" onClick=${() => setEdit({})}>${t('training.add')}</button>` : null}
    <//>
    <${Async} state=${stats} what=${t('module.trainings')}>${(d) => html`<div class="card stats">
        <div class="stat"><span class="stat-n">${fmtNumber(d.events ?? 0)}</span><span>${t('training.events')}</span></div>
        <div class="stat"><span class="stat-n">${fmtNumber(d.participants ?? 0)}</span><span>${t('training.participants')}</span></div>
        <div class="stat"><span class="stat-n">${fmtNumber(d.people_trained ?? 0)}</span><span>${t('training.people_trained')}</span></div>
        <div class="stat"><span class="stat-n">${fmtNumber(d.officials_trained ?? 0)}</span><span>${t('training.officials_trained')}</span></div>
      </div>
      <div class="charts">
        ${d.events_by_audience && Object.keys(d.events_by_audience).length ? html`<${BarChart} title=${t('training.by_audience')} data=${d.events_by_audience} label=${label('audiences')} />` : null}
        ${d.participants_by_sex && Object.keys(d.participants_by_sex).length ? html`<${BarChart} title=${t('training.by_sex')} data=${d.participants_by_sex} label=${sexLabel} />` : null}
        ${d.events_by_topic && Object.keys(d.events_by_topic).length ? html`<${BarChart} title=${t('training.by_topic')} data=${d.events_by_topic} label=${label('topics')} />` : null}
      </div>`}<//>
    <${Async} state=${list} what=${t('module.trainings')}>${(d) => (!d.items.length ? html`<${Empty}>${t('training.none')}<//>` : html`
      <div class="table-wrap" tabindex="0" role="region" aria-label=${`${t('training.title')} — ${t('common.table_scroll')}`}><table class="data"><caption class="sr-only">${t('training.title')}</caption>
        <thead><tr>${cols.map((c) => html`<th scope="col">${colLabel[c]}</th>`)}<th scope="col"><span class="sr-only">${t('common.actions')}</span></th></tr></thead>
        <tbody>${d.items.map((r) => html`<tr>${cols.map((c) => html`<td>${recordValue(c, r[c], spec)}</td>`)}
          <td class="row-actions">${can('training', 'update') ? html`<button type="button" class="btn btn-small" onClick=${() => setEdit(r)}>${t('common.edit')}</button>` : null}
            ${can('training', 'delete') ? html`<button type="button" class="btn btn-small btn-danger" onClick=${async () => { if (window.confirm(t('training.confirm_delete'))) { try { await del(`/api/v1/trainings/${r.id}`, r.version); list.reload(); stats.reload(); } catch (e) { toast(e.message, 'error'); } } }}>${t('common.delete')}</button>` : null}</td></tr>`)}</tbody>
      </table></div>
      <${Pager} total=${d.total} limit=${LIMIT} offset=${offset} onPage=${(o) => navigate('/trainings', { offset: o || undefined })} />`)}<//>
    ${edit ? html`<${RecordDialog} open=${true} title=${edit.id ? t('training.edit') : t('training.add')} spec=${spec}
      initial=${edit.id ? fromTraining(edit, spec) : {}}
      submit=${(v) => (edit.id ? patch(`/api/v1/trainings/${edit.id}`, mergePatch(edit, toTraining(v), [...spec.filter((f) => !f.name.startsWith('sex_') && f.type !== 'heading'), { name: 'participants_by_sex' }]), edit.version) : post('/api/v1/trainings', toTraining(v)))}
      onClose=${(saved) => { setEdit(null); if (saved) { toast(t('common.saved')); list.reload(); stats.reload(); } }} />` : null}
  </div>`;
}
