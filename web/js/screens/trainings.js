// trainings.js — trainings and awareness events: the list, a new event,
// and the totals (events, participants by gender and audience).
import { html, useState } from '../lib.js';
import { t, fmtNumber } from '../i18n.js';
import { get, post, patch } from '../api.js';
import { can } from '../session.js';
import { navigate } from '../router.js';
import { useApi, Async, Empty, PageHead, Pager, toast } from '../ui.js';
import { RecordDialog, usePicklists, listOptions, recordValue } from '../records.js';
import { BarChart } from '../charts.js';

const LIMIT = 25;

export function Trainings({ query }) {
  const pl = usePicklists('care');
  const offset = Number(query.offset || 0);
  const list = useApi(() => get('/api/v1/trainings', { limit: LIMIT, offset, sort: '-date' }), [offset]);
  const stats = useApi(() => get('/api/v1/trainings/stats'), []);
  const [edit, setEdit] = useState(null);
  const spec = [
    { name: 'title', label: t('training.title_f'), type: 'text', required: true },
    { name: 'kind', label: t('training.kind'), type: 'select', options: listOptions(pl, 'training_kinds', 'training_types') },
    { name: 'date', label: t('training.date'), type: 'date', required: true },
    { name: 'location', label: t('training.location'), type: 'text' },
    { name: 'audience', label: t('training.audience'), type: 'select', options: listOptions(pl, 'training_audiences', 'audiences') },
    { name: 'organiser_org', label: t('training.organiser'), type: 'org' },
    { name: 'participants_female', label: t('training.female'), type: 'number', min: 0, step: 1 },
    { name: 'participants_male', label: t('training.male'), type: 'number', min: 0, step: 1 },
    { name: 'participants_other', label: t('training.other'), type: 'number', min: 0, step: 1 },
    { name: 'topics', label: t('training.topics'), type: 'longtext' },
  ];
  const cols = ['date', 'title', 'kind', 'audience', 'location', 'participants_female', 'participants_male', 'participants_other'];
  return html`<div class="page">
    <${PageHead} title=${t('training.title')}>
      ${can('training', 'create') && !(list.error && list.error.isMissingEndpoint) ? html`<button type="button" class="btn btn-primary" onClick=${() => setEdit({})}>${t('training.add')}</button>` : null}
    <//>
    <${Async} state=${stats} what=${t('module.trainings')}>${(d) => html`<div class="cards">
      <div class="card stats">
        <div class="stat"><span class="stat-n">${fmtNumber(d.events ?? d.total ?? 0)}</span><span>${t('training.events')}</span></div>
        <div class="stat"><span class="stat-n">${fmtNumber(d.participants ?? 0)}</span><span>${t('training.participants')}</span></div>
      </div>
      ${d.by_audience ? html`<div class="card"><${BarChart} title=${t('training.by_audience')} data=${d.by_audience} label=${(k) => recordValue('audience', k, spec)} /></div>` : null}
    </div>`}<//>
    <${Async} state=${list} what=${t('module.trainings')}>${(d) => (!d.items.length ? html`<${Empty}>${t('training.none')}<//>` : html`
      <div class="table-wrap" tabindex="0" role="region" aria-label=${t('common.table_scroll')}><table class="data"><caption class="sr-only">${t('training.title')}</caption>
        <thead><tr>${cols.map((c) => html`<th scope="col">${(spec.find((s) => s.name === c) || {}).label}</th>`)}<th scope="col"><span class="sr-only">${t('common.actions')}</span></th></tr></thead>
        <tbody>${d.items.map((r) => html`<tr>${cols.map((c) => html`<td>${recordValue(c, r[c], spec)}</td>`)}
          <td>${can('training', 'update') ? html`<button type="button" class="btn btn-small" onClick=${() => setEdit(r)}>${t('common.edit')}</button>` : null}</td></tr>`)}</tbody>
      </table></div>
      <${Pager} total=${d.total} limit=${LIMIT} offset=${offset} onPage=${(o) => navigate('/trainings', { offset: o || undefined })} />`)}<//>
    <${RecordDialog} open=${!!edit} title=${edit && edit.id ? t('training.edit') : t('training.add')} spec=${spec}
      initial=${edit ? Object.fromEntries(spec.map((s) => [s.name, edit[s.name]]).filter(([, v]) => v !== undefined)) : {}}
      submit=${(v) => (edit.id ? patch(`/api/v1/trainings/${edit.id}`, Object.fromEntries(spec.map((s) => [s.name, v[s.name] ?? null])), edit.version) : post('/api/v1/trainings', v))}
      onClose=${(saved) => { setEdit(null); if (saved) { toast(t('common.saved')); list.reload(); stats.reload(); } }} />
  </div>`;
}
