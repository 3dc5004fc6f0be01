// case-page.js — one case: a header with its reference, status and actions,
// and tabs for the person, the trafficking profile and route, consent,
// assistance, referrals, shelter, return, reintegration, proceedings,
// comments and history.
import { html, useState } from '../lib.js';
import { t, tl, tx, fmtDate, fmtDateTime, fmtNumber, fmtMoney, today } from '../i18n.js';
import { get, post, put, patch, del, ApiError } from '../api.js';
import { sectionsOf, fieldLabel, displayValue, valueLabel, countryName, options, schema } from '../schema.js';
import { can } from '../session.js';
import { navigate, href } from '../router.js';
import { useApi, Async, ErrorBox, Facts, PageHead, Empty, Dialog, toast, fmt, orgName, Loading } from '../ui.js';
import { useEditor, CatalogueForm, ErrorSummary, ConflictNotice, describeConflict, errorsFrom } from '../form.js';
import { RecordsSection, RecordDialog, RecordFacts, usePicklists, listOptions, recordValue } from '../records.js';
import { LineChart } from '../charts.js';
import { statusBadge, personName } from './cases.js';
import { caseFields } from './case-edit.js';
import { ReferDialog, ReferralList } from './referrals.js';

const TABS = ['person', 'profile', 'consent', 'assistance', 'referrals', 'shelter', 'return', 'reintegration', 'proceedings', 'comments', 'history'];

function tabAllowed(tab) {
  switch (tab) {
    case 'consent': return can('consent', 'read');
    case 'assistance': return can('assistance', 'read');
    case 'referrals': return can('referral', 'read');
    case 'shelter': return can('shelter', 'read');
    case 'return': return can('return', 'read');
    case 'reintegration': return can('reintegration', 'read');
    case 'proceedings': return can('proceeding', 'read');
    default: return can('case', 'read');
  }
}

function SectionFacts({ c, names }) {
  const hideId = !can('case_identity', 'read');
  return sectionsOf('case', { only: names }).map((s) => html`<section class="card" aria-labelledby=${`sf-${s.name}`}>
    <h2 id=${`sf-${s.name}`}>${tl(s.label, s.name)}</h2>
    <${Facts} rows=${s.fields.filter((f) => !(hideId && f.identity)).filter((f) => c[f.name] !== undefined || !f.applies_if)
      .map((f) => [tl(f.label, f.name), displayValue(f, c[f.name], fmt)])} />
  </section>`);
}

// Edits one or more sections of the case in place (consent, for instance).
function SectionEditor({ c, names, onSaved, onCancel }) {
  const editor = useEditor(caseFields(c));
  const [record, setRecord] = useState(c);
  const [errors, setErrors] = useState({});
  const [other, setOther] = useState([]);
  const [conflict, setConflict] = useState(null);
  const known = new Set(schema().fields.map((f) => f.name));
  async function save(e) {
    e.preventDefault();
    try {
      const saved = await patch(`/api/v1/cases/${record.id}`, editor.patchBody(), record.version);
      editor.reset(caseFields(saved));
      toast(t('case.saved', { ref: saved.reference }));
      onSaved(saved);
    } catch (err) {
      if (err instanceof ApiError && (err.status === 412 || err.status === 409)) {
        const theirs = await get(`/api/v1/cases/${record.id}`);
        setConflict({ ...describeConflict(editor.baseline, editor.values, caseFields(theirs)), version: theirs.version, by: theirs.updated_by, record: theirs });
      } else {
        const r = errorsFrom(err, known, (k) => fieldLabel(k));
        setErrors(r.byField);
        setOther(r.other.length || Object.keys(r.byField).length ? r.other : [err.message]);
      }
    }
  }
  return html`<form onSubmit=${save} noValidate class="card">
    <${ConflictNotice} conflict=${conflict} labelOf=${(k) => fieldLabel(k)}
      onReload=${() => { editor.reset(caseFields(conflict.record)); setRecord(conflict.record); setConflict(null); }}
      onKeepMine=${() => { editor.rebase(caseFields(conflict.record)); setRecord(conflict.record); setConflict(null); }} />
    <${ErrorSummary} errors=${errors} other=${other} prefix="sec" labelOf=${(k) => fieldLabel(k)} />
    <${CatalogueForm} sections=${sectionsOf('case', { only: names })} editor=${editor} errors=${errors} prefix="sec" hideIdentity=${!can('case_identity', 'update')} />
    <div class="actions">
      <button type="submit" class="btn btn-primary" disabled=${!editor.dirty}>${t('common.save')}</button>
      <button type="button" class="btn" onClick=${onCancel}>${t('common.cancel')}</button>
    </div>
  </form>`;
}

function PersonTab({ c }) {
  return html`<div class="cards cards-2"><${SectionFacts} c=${c} names=${['person', 'case', 'registration', 'referral']} /></div>`;
}

// The route as a line of places, then the events themselves.
function RouteView({ c, reload }) {
  const events = c.events || [];
  const [adding, setAdding] = useState(false);
  const [editing, setEditing] = useState(null);
  const evFields = schema().fields.filter((f) => f.section === 'event' && !(f.identity && !can('case_identity', 'read')));
  return html`<section class="card" aria-labelledby="route-h">
    <div class="row-head"><h2 id="route-h">${t('route.title')}</h2>
      ${can('case', 'update') ? html`<button type="button" class="btn btn-primary" onClick=${() => setAdding(true)}>${t('route.add_event')}</button>` : null}</div>
    ${events.length ? html`<ol class="route-line" aria-label=${t('route.title')}>${events.map((e) => html`<li class=${`stop stop-${e.hte_Type}`}>
      <span class="stop-type">${valueLabel('hte_Type', e.hte_Type, 'event')}</span>
      <span class="stop-place">${[e.hte_City, e.hte_Country ? countryName(e.hte_Country) : ''].filter(Boolean).join(', ') || '—'}</span>
      ${e.hte_Date ? html`<span class="muted">${fmtDate(e.hte_Date)}</span>` : null}</li>`)}</ol>
    <div class="table-wrap" tabindex="0" role="region" aria-label=${`${t('route.events')} — ${t('common.table_scroll')}`}><table class="data"><caption class="sr-only">${t('route.events')}</caption>
      <thead><tr>${['amp_EventSequence', 'hte_Type', 'hte_Country', 'hte_City', 'hte_Date'].map((n) => html`<th scope="col">${fieldLabel(n, 'event')}</th>`)}<th scope="col"><span class="sr-only">${t('common.actions')}</span></th></tr></thead>
      <tbody>${events.map((e) => html`<tr>
        <td>${e.amp_EventSequence ?? ''}</td><td>${valueLabel('hte_Type', e.hte_Type, 'event')}</td>
        <td>${e.hte_Country ? countryName(e.hte_Country) : ''}</td><td>${e.hte_City || ''}</td><td>${fmtDate(e.hte_Date)}</td>
        <td class="row-actions">${can('case', 'update') ? html`
          <button type="button" class="btn btn-small" onClick=${() => setEditing(e)}>${t('common.edit')}</button>
          <button type="button" class="btn btn-small btn-danger" onClick=${async () => {
            if (!window.confirm(t('route.confirm_delete'))) return;
            try { await del(`/api/v1/cases/${c.id}/events/${e.id}`, e.version); toast(t('common.deleted')); reload(); } catch (err) { toast(err.message, 'error'); }
          }}>${t('common.delete')}</button>` : null}</td></tr>`)}</tbody></table></div>` : html`<${Empty}>${t('route.none')}<//>`}
    <${EventDialog} open=${adding || !!editing} ev=${editing} c=${c} fields=${evFields} onClose=${(saved) => { setAdding(false); setEditing(null); if (saved) reload(); }} />
  </section>`;
}

function EventDialog({ open, ev, c, onClose }) {
  const base = ev ? Object.fromEntries(Object.entries(ev).filter(([k]) => k.startsWith('hte_') || k.startsWith('amp_'))) : { amp_EventSequence: (c.events || []).length + 1 };
  const editor = useEditor(base, { guard: false });
  const [errors, setErrors] = useState({});
  const [other, setOther] = useState([]);
  const [lastKey, setLastKey] = useState(null);
  const key = open ? (ev ? ev.id : 'new') : null;
  if (key !== lastKey) { setLastKey(key); if (open) { editor.reset(base); setErrors({}); setOther([]); } }
  const known = new Set(schema().fields.filter((f) => f.section === 'event').map((f) => f.name));
  async function save(e) {
    e.preventDefault();
    try {
      if (ev) await patch(`/api/v1/cases/${c.id}/events/${ev.id}`, editor.patchBody(), ev.version);
      else await post(`/api/v1/cases/${c.id}/events`, editor.values);
      toast(t('common.saved'));
      onClose(true);
    } catch (err) {
      const r = errorsFrom(err, known, (k) => fieldLabel(k, 'event'));
      setErrors(r.byField);
      setOther(r.other.length || Object.keys(r.byField).length ? r.other : [err.message]);
    }
  }
  return html`<${Dialog} open=${open} title=${ev ? t('route.edit_event') : t('route.add_event')} onClose=${() => onClose(false)} wide>
    <form onSubmit=${save} noValidate>
      <${ErrorSummary} errors=${errors} other=${other} prefix="ev" labelOf=${(k) => fieldLabel(k, 'event')} />
      <${CatalogueForm} sections=${sectionsOf('event')} editor=${editor} errors=${errors} prefix="ev" hideIdentity=${!can('case_identity', 'update')} />
      <div class="actions"><button type="submit" class="btn btn-primary">${t('common.save')}</button>
        <button type="button" class="btn" onClick=${() => onClose(false)}>${t('common.cancel')}</button></div>
    </form>
  <//>`;
}

function Decisions({ c, onChanged }) {
  const pl = usePicklists('referrals');
  const dm = schema().fields.find((f) => f.name === 'vic_TraffickingStatusDecisionMakingOrg');
  const spec = [
    { name: 'kind', label: t('decision.kind'), type: 'select', required: true, options: listOptions(pl, 'decision_kinds') },
    { name: 'outcome', label: t('decision.outcome'), type: 'select', required: true, options: listOptions(pl, 'decision_outcomes') },
    { name: 'decision_maker', label: tl(dm.label), type: 'select', required: true, options: dm.values.map((v) => ({ code: v.name, label: tl(v.label) })) },
    { name: 'deciding_org', label: t('decision.deciding_org'), type: 'org' },
    { name: 'decided_on', label: t('decision.date'), type: 'date' },
    ...(can('case_identity', 'update') ? [{ name: 'notes', label: t('common.notes'), type: 'longtext' }] : []),
  ];
  return html`<${RecordsSection} title=${t('decision.title')} what="decisions" listPath=${`/api/v1/cases/${c.id}/decisions`}
    spec=${spec} canCreate=${can('lifecycle', 'create')} addLabel=${t('decision.add')} onCreated=${onChanged}
    header=${(d) => (d && d.identification ? html`<${IdentificationStage} pl=${pl} x=${d.identification} />` : null)}
    columns=${['kind', 'outcome', 'decision_maker', 'decided_on', 'deciding_org', 'created_by']} />`;
}

function IdentificationStage({ pl, x }) {
  const stage = listOptions(pl, 'identification_stages').find((o) => o.code === x.stage);
  return html`<p class=${x.overdue ? 'notice notice-warn' : 'muted'}>
    <strong>${stage ? stage.label : x.stage}</strong>
    ${x.initial_due && x.stage === 'AwaitingInitial' ? ` · ${t('decision.initial_due', { date: fmtDate(x.initial_due) })}` : ''}
    ${x.reflection_ends && x.stage === 'Reflection' ? ` · ${t('decision.reflection_ends', { date: fmtDate(x.reflection_ends) })}` : ''}
    ${x.conclusive_due && x.stage === 'Reflection' ? ` · ${t('decision.conclusive_due', { date: fmtDate(x.conclusive_due) })}` : ''}
    ${x.overdue ? ` · ${t('referral.overdue')}` : ''}</p>`;
}

function ProfileTab({ c, reload }) {
  return html`<div class="stack">
    <div class="cards cards-2"><${SectionFacts} c=${c} names=${['victim']} /></div>
    <${RouteView} c=${c} reload=${reload} />
    <${Decisions} c=${c} onChanged=${reload} />
  </div>`;
}

function ConsentTab({ c, onSaved }) {
  const [editing, setEditing] = useState(false);
  const missing = [];
  if (!c.con_Consent) missing.push(t('consent.none'));
  if (c.amp_ConsentWithdrawn) missing.push(t('consent.withdrawn'));
  return html`<div class="stack">
    ${missing.length ? html`<div class="notice notice-warn" role="note">${missing.join(' ')}</div>` : null}
    ${editing ? html`<${SectionEditor} c=${c} names=${['consent']} onSaved=${(s) => { setEditing(false); onSaved(s); }} onCancel=${() => setEditing(false)} />`
      : html`<${SectionFacts} c=${c} names=${['consent']} />
        ${can('consent', 'update') ? html`<div class="actions"><button type="button" class="btn btn-primary" onClick=${() => setEditing(true)}>${t('consent.edit')}</button></div>` : null}`}
  </div>`;
}

function SupportPlans({ c }) {
  const f = schema().fields.find((x) => x.name === 'spl_Type');
  const spec = [
    { name: 'spl_Type', label: tl(f.label), type: 'select', required: true, options: f.values.map((v) => ({ code: v.name, label: tl(v.label) })) },
    ...(can('case_identity', 'update') ? [{ name: 'spl_Objectives', label: fieldLabel('spl_Objectives'), type: 'longtext' }, { name: 'spl_ActionPlan', label: fieldLabel('spl_ActionPlan'), type: 'longtext' }] : []),
    { name: 'spl_PlannedEndDate', label: fieldLabel('spl_PlannedEndDate'), type: 'date' },
    { name: 'spl_ActualEndDate', label: fieldLabel('spl_ActualEndDate'), type: 'date' },
  ];
  return html`<${RecordsSection} title=${t('support.title')} what="plans" listPath=${`/api/v1/cases/${c.id}/support-plans`} spec=${spec}
    canCreate=${can('assistance', 'create')} addLabel=${t('support.add')}
    render=${(items) => html`<ul class="record-list">${items.map((p) => html`<li class="card"><${Facts} rows=${Object.keys(p).filter((k) => k.startsWith('spl_')).map((k) => [fieldLabel(k), displayValue(schema().fields.find((x) => x.name === k), p[k], fmt)])} /></li>`)}</ul>`} />`;
}

export function assistanceSpec(pl, plans) {
  return [
    { name: 'type', label: t('assistance.type'), type: 'select', required: true, options: listOptions(pl, 'services') },
    { name: 'provider_org', label: t('assistance.provider'), type: 'org' },
    { name: 'start_date', label: t('assistance.start'), type: 'date', required: true },
    { name: 'planned_end_date', label: t('assistance.planned_end'), type: 'date' },
    { name: 'end_date', label: t('assistance.end'), type: 'date' },
    { name: 'status', label: t('common.status'), type: 'select', options: listOptions(pl, 'assistance_statuses') },
    { name: 'outcome', label: t('assistance.outcome'), type: 'select', options: listOptions(pl, 'assistance_outcomes') },
    { name: 'cost', label: t('assistance.cost'), type: 'number', min: 0 },
    { name: 'currency', label: t('assistance.currency'), type: 'text' },
    ...(plans && plans.length ? [{ name: 'support_plan', label: t('assistance.support_plan'), type: 'select', options: plans }] : []),
    ...(can('case_identity', 'update') ? [{ name: 'notes', label: t('common.notes'), type: 'longtext' }] : []),
  ];
}

function AssistanceTab({ c }) {
  const pl = usePicklists('referrals');
  const spl = schema().fields.find((f) => f.name === 'spl_Type');
  const plans = (c.support_plans || []).map((p) => ({ code: p.id, label: `${(spl.values.find((v) => v.name === p.spl_Type) || {}).label ? tl(spl.values.find((v) => v.name === p.spl_Type).label) : p.spl_Type}${p.spl_PlannedEndDate ? ` → ${fmtDate(p.spl_PlannedEndDate)}` : ''}` }));
  const spec = assistanceSpec(pl, plans);
  return html`<div class="stack">
    <${RecordsSection} title=${t('assistance.title')} what="assistance" listPath=${`/api/v1/cases/${c.id}/assistance`} listQuery=${{ limit: 200 }} spec=${spec}
      canCreate=${can('assistance', 'create')} addLabel=${t('assistance.add')} columns=${['type', 'provider_org', 'start_date', 'end_date', 'status', 'outcome', 'cost', 'currency']}
      footer=${(d) => (d && d.cost && Object.keys(d.cost).length ? html`<p><strong>${t('assistance.total_cost')}</strong> ${Object.entries(d.cost).map(([cur, n]) => fmtMoney(n, cur)).join(' · ')}</p>` : null)} />
    <${SupportPlans} c=${c} />
  </div>`;
}

function ReferralsTab({ c }) {
  const [open, setOpen] = useState(false);
  const [n, setN] = useState(0);
  return html`<div class="stack">
    <div class="row-head"><h2>${t('referral.of_case')}</h2>
      ${can('referral', 'create') ? html`<button type="button" class="btn btn-primary" onClick=${() => setOpen(true)}>${t('referral.refer')}</button>` : null}</div>
    <${ReferralList} key=${n} query=${{ case: c.id, box: 'all' }} />
    <${ReferDialog} open=${open} c=${c} onClose=${(saved) => { setOpen(false); if (saved) setN(n + 1); }} />
  </div>`;
}

function ShelterTab({ c }) {
  const pl = usePicklists('care');
  const shelters = useApi(() => get('/api/v1/shelters', { limit: 200 }), []);
  const list = (shelters.data && shelters.data.items) || [];
  const [admit, setAdmit] = useState(false);
  const [full, setFull] = useState(null); // the refused admission, to put on the waiting list
  const [discharge, setDischarge] = useState(null);
  const [n, setN] = useState(0);
  const spec = [
    { name: 'shelter', label: t('shelter.shelter'), type: 'select', required: true, options: list.map((x) => ({ code: x.id, label: `${x.name} — ${t('shelter.free', { n: x.free_total ?? 0 })}` })) },
    { name: 'place_kind', label: t('shelter.place_kind'), type: 'select', required: true, options: listOptions(pl, 'place_kinds') },
    { name: 'admitted_on', label: t('shelter.admitted_on'), type: 'date' },
    { name: 'planned_discharge', label: t('shelter.expected_discharge'), type: 'date' },
    ...(can('case_identity', 'update') ? [{ name: 'notes', label: t('common.notes'), type: 'longtext' }] : []),
  ];
  async function doAdmit(v, waiting) {
    const { shelter, ...rest } = v;
    try {
      return await post(`/api/v1/shelters/${encodeURIComponent(shelter || '')}/stays`, { ...rest, case: c.id, ...(waiting ? { waiting_list: true } : {}) });
    } catch (e) {
      if (e.status === 409 && e.code === 'over_capacity' && !waiting) { setFull(v); }
      throw e;
    }
  }
  return html`<div class="stack" key=${n}>
    <div class="row-head"><h2>${t('shelter.stays')}</h2>
      ${can('shelter', 'create') && list.length ? html`<button type="button" class="btn btn-primary" onClick=${() => setAdmit(true)}>${t('shelter.admit')}</button>` : null}</div>
    ${full ? html`<div class="notice notice-warn" role="alert"><p>${t('shelter.full')}</p>
      <div class="actions"><button type="button" class="btn btn-primary" onClick=${async () => { try { await doAdmit(full, true); toast(t('shelter.waiting_added')); setFull(null); setN(n + 1); } catch (e) { toast(e.message, 'error'); } }}>${t('shelter.add_waiting')}</button>
        <button type="button" class="btn" onClick=${() => setFull(null)}>${t('common.cancel')}</button></div></div>` : null}
    <${StaysTable} path=${`/api/v1/cases/${c.id}/stays`} pl=${pl} onDischarge=${setDischarge} showShelter=${true} shelters=${list} />
    ${admit ? html`<${RecordDialog} open=${true} title=${t('shelter.admit')} spec=${spec} submit=${(v) => doAdmit(v, false)}
      onClose=${(saved) => { setAdmit(false); if (saved) { toast(t('shelter.admitted')); setN(n + 1); } }} />` : null}
    ${discharge ? html`<${DischargeDialog} stay=${discharge} pl=${pl} onClose=${(saved) => { setDischarge(null); if (saved) setN(n + 1); }} />` : null}
  </div>`;
}

// Stays (of a case or of a shelter), with discharge, admit and cancel for
// waiting-list entries.
export function StaysTable({ path, pl, onDischarge, showShelter, shelters, query, onChanged }) {
  const s = useApi(() => get(path, { limit: 200, ...(query || {}) }), [path, JSON.stringify(query || {})]);
  const kind = (k) => (listOptions(pl, 'place_kinds').find((o) => o.code === k) || { label: k }).label;
  const status = (k) => (listOptions(pl, 'stay_statuses').find((o) => o.code === k) || { label: k }).label;
  const act = async (st, what) => { try { await post(`/api/v1/stays/${st.id}/${what}`, {}); toast(t('common.saved')); s.reload(); if (onChanged) onChanged(); } catch (e) { toast(e.message, 'error'); } };
  return html`<${Async} state=${s} what=${t('module.shelters')}>${(d) => (!(d.items || []).length ? html`<${Empty}>${t('shelter.no_stays')}<//>` : html`
    <div class="table-wrap" tabindex="0" role="region" aria-label=${`${t('shelter.stays')} — ${t('common.table_scroll')}`}><table class="data"><caption class="sr-only">${t('shelter.stays')}</caption>
      <thead><tr>${showShelter ? html`<th scope="col">${t('shelter.shelter')}</th>` : html`<th scope="col">${t('shelter.case_ref')}</th>`}
        <th scope="col">${t('shelter.place_kind')}</th><th scope="col">${t('common.status')}</th><th scope="col">${t('shelter.admitted_on')}</th>
        <th scope="col">${t('shelter.expected_discharge')}</th><th scope="col">${t('shelter.discharged_on_h')}</th><th scope="col" class="num">${t('shelter.nights')}</th>
        <th scope="col"><span class="sr-only">${t('common.actions')}</span></th></tr></thead>
      <tbody>${d.items.map((st) => html`<tr>
        ${showShelter ? html`<td>${((shelters || []).find((x) => x.id === st.shelter) || {}).name || st.shelter_name || st.shelter || ''}</td>`
          : html`<td>${st.case ? html`<a href=${`#/cases/${encodeURIComponent(st.case_reference || st.case)}/shelter`}>${st.case_reference || t('home.open_case')}</a>` : ''}</td>`}
        <td>${kind(st.place_kind)}${st.places > 1 ? ` × ${st.places}` : ''}</td><td>${status(st.status)}${st.position ? ` (#${st.position})` : ''}</td>
        <td>${fmtDate(st.admitted_on || st.requested_on)}</td><td>${fmtDate(st.planned_discharge)}</td><td>${fmtDate(st.discharged_on)}</td>
        <td class="num">${st.nights ?? ''}</td>
        <td class="row-actions">${can('shelter', 'update') ? html`
          ${st.status === 'Admitted' ? html`<button type="button" class="btn btn-small" onClick=${() => onDischarge(st)}>${t('shelter.discharge')}</button>` : null}
          ${st.status === 'Waiting' ? html`<button type="button" class="btn btn-small" onClick=${() => act(st, 'admit')}>${t('shelter.admit_waiting')}</button>
            <button type="button" class="btn btn-small" onClick=${() => act(st, 'cancel')}>${t('common.cancel')}</button>` : null}` : null}</td>
      </tr>`)}</tbody></table></div>`)}<//>`;
}

export function DischargeDialog({ stay, pl, onClose }) {
  const spec = [
    { name: 'discharge_reason', label: t('shelter.discharge_reason'), type: 'select', required: true, options: listOptions(pl, 'discharge_reasons') },
    { name: 'discharged_on', label: t('shelter.discharged_on_h'), type: 'date' },
    ...(can('case_identity', 'update') ? [{ name: 'notes', label: t('common.notes'), type: 'longtext' }] : []),
  ];
  return html`<${RecordDialog} open=${true} title=${t('shelter.discharge')} spec=${spec} initial=${{ discharged_on: today() }} submitLabel=${t('shelter.discharge')}
    submit=${(v) => post(`/api/v1/stays/${stay.id}/discharge`, v)}
    onClose=${(saved) => { if (saved) toast(t('shelter.discharged')); onClose(saved); }} />`;
}

export function returnSpec(pl) {
  const o = (n) => listOptions(pl, n);
  const countries = options('country');
  return [
    { name: 'type', label: t('return.type'), type: 'select', required: true, options: o('return_types') },
    { name: 'status', label: t('common.status'), type: 'select', options: o('return_statuses') },
    { name: 'h1', label: t('return.route'), type: 'heading' },
    { name: 'departure_country', label: t('return.departure_country'), type: 'select', options: countries },
    { name: 'departure_city', label: t('return.departure_city'), type: 'text' },
    { name: 'destination_country', label: t('return.destination'), type: 'select', options: countries },
    { name: 'destination_city', label: t('return.destination_city'), type: 'text' },
    { name: 'departure_date', label: t('return.departure_date'), type: 'date' },
    { name: 'arrival_date', label: t('return.arrival_date'), type: 'date' },
    { name: 'escort', label: t('return.escort'), type: 'select', options: o('escorts') },
    { name: 'receiving_org', label: t('return.receiving_org'), type: 'org' },
    { name: 'travel_documents', label: t('return.travel_documents'), type: 'select', options: o('travel_documents') },
    { name: 'travel_documents_ready', label: t('return.documents_ready'), type: 'checkbox' },
    { name: 'h2', label: t('return.family'), type: 'heading' },
    { name: 'family_tracing', label: t('return.family_tracing'), type: 'select', options: o('family_tracing_results') },
    { name: 'family_tracing_date', label: t('return.family_tracing_date'), type: 'date' },
    { name: 'family_assessment_date', label: t('return.family_assessment_date'), type: 'date' },
    { name: 'risk_level', label: t('return.risk_level'), type: 'select', options: o('risk_levels') },
    { name: 'reunification_date', label: t('return.reunification_date'), type: 'date' },
    { name: 'reunified_with', label: t('return.reunified_with'), type: 'select', options: o('reunified_with') },
    ...(can('case_identity', 'update') ? [
      { name: 'escort_details', label: t('return.escort_details'), type: 'longtext' },
      { name: 'family_contact', label: t('return.family_contact'), type: 'longtext' },
      { name: 'notes', label: t('common.notes'), type: 'longtext' }] : []),
  ];
}
const strip = (v) => Object.fromEntries(Object.entries(v).filter(([k]) => !/^h\d$/.test(k)));

function ReturnTab({ c }) {
  const pl = usePicklists('care');
  const spec = returnSpec(pl);
  const [edit, setEdit] = useState(null);
  const [n, setN] = useState(0);
  return html`<div key=${n}><${RecordsSection} title=${t('return.title')} what="returns" listPath=${`/api/v1/cases/${c.id}/returns`} spec=${spec}
    canCreate=${can('return', 'create')} addLabel=${t('return.add')} createBody=${strip}
    render=${(items) => html`<ul class="record-list">${items.map((r) => html`<li class="card">
      <div class="row-head"><h3>${recordValue('type', r.type, spec)} · ${recordValue('status', r.status, spec)}${r.minor ? ` · ${t('return.minor')}` : ''}${r.cross_border ? ` · ${t('referral.cross_border')}` : ''}</h3>
        ${can('return', 'update') ? html`<button type="button" class="btn btn-small" onClick=${() => setEdit(r)}>${t('common.edit')}</button>` : null}</div>
      <${RecordFacts} record=${r} spec=${spec} skip=${['type', 'status', 'minor', 'cross_border', 'case_reference']} /></li>`)}</ul>`} />
    ${edit ? html`<${RecordDialog} open=${true} title=${t('return.edit')} spec=${spec}
      initial=${Object.fromEntries(spec.map((x) => [x.name, edit[x.name]]).filter(([, v]) => v !== undefined))}
      submit=${(v) => patch(`/api/v1/cases/${c.id}/returns/${edit.id}`, mergePatch(edit, strip(v), spec), edit.version)}
      onClose=${(saved) => { setEdit(null); if (saved) { toast(t('common.saved')); setN(n + 1); } }} />` : null}
  </div>`;
}

// A merge patch from a record and the edited values of the spec's fields.
export function mergePatch(record, values, spec) {
  const out = {};
  for (const f of spec) {
    if (f.type === 'heading') continue;
    const before = record[f.name];
    const after = values[f.name];
    if (JSON.stringify(before ?? null) !== JSON.stringify(after ?? null)) out[f.name] = after === undefined ? null : after;
  }
  return out;
}

// The indicators of a framework as [{code, label, dimension}].
function frameworkIndicators(cfg, name) {
  const fw = cfg && cfg.frameworks && cfg.frameworks[name];
  if (!fw) return [];
  return (fw.dimensions || []).flatMap((d) => (d.indicators || []).map((i) => ({ code: i.code, label: tl(i.label, i.code), dimension: tl(d.label, d.code) })));
}

const SCORES = [0, 0.25, 0.5, 0.75, 1];

function ReintegrationTab({ c }) {
  const pl = usePicklists('care');
  const plan = useApi(() => get(`/api/v1/cases/${c.id}/reintegration`), [c.id]);
  const cfg = useApi(() => get('/api/v1/reintegration/indicators'), []);
  const trend = useApi(() => get(`/api/v1/cases/${c.id}/reintegration/trend`), [c.id]);
  const [editPlan, setEditPlan] = useState(false);
  const p = plan.data;
  const framework = (p && p.framework) || 'adult';
  const inds = frameworkIndicators(cfg.data, framework);
  const scoreOpts = SCORES.map((x) => ({ code: x, label: `${fmtNumber(x, { maximumFractionDigits: 2 })} — ${t(`reint.level.${x * 4}`)}` }));
  let lastDim = null;
  const visitSpec = [
    { name: 'date', label: t('reint.visit_date'), type: 'date', required: true },
    { name: 'type', label: t('reint.visit_type'), type: 'select', required: true, options: listOptions(pl, 'visit_types') },
    ...inds.flatMap((i) => {
      const head = i.dimension !== lastDim ? [{ name: `h_${i.dimension}`, label: i.dimension, type: 'heading' }] : [];
      lastDim = i.dimension;
      return [...head, { name: `score_${i.code}`, label: i.label, type: 'select', numeric: true, options: scoreOpts }];
    }),
    ...(can('case_identity', 'update') ? [{ name: 'notes', label: t('common.notes'), type: 'longtext' }] : []),
  ];
  const toVisit = (v) => {
    const scores = {};
    const out = {};
    for (const [k, x] of Object.entries(v)) {
      if (k.startsWith('score_')) scores[k.slice(6)] = x;
      else if (!k.startsWith('h_')) out[k] = x;
    }
    out.scores = scores;
    return out;
  };
  const planSpec = [
    { name: 'start_date', label: t('reint.start'), type: 'date', required: true },
    { name: 'planned_end_date', label: t('reint.planned_end'), type: 'date' },
    { name: 'end_date', label: t('reint.end'), type: 'date' },
    { name: 'status', label: t('common.status'), type: 'select', options: listOptions(pl, 'plan_statuses') },
    { name: 'framework', label: t('reint.framework'), type: 'select', options: listOptions(pl, 'frameworks') },
    { name: 'visit_interval_days', label: t('reint.interval'), type: 'number', min: 7, max: 365, step: 1 },
    { name: 'services', label: t('reint.services'), type: 'multi', options: listOptions(pl, 'reintegration_services') },
    { name: 'responsible_org', label: t('reint.responsible'), type: 'org' },
    { name: 'location_country', label: t('reint.country'), type: 'select', options: options('country') },
    { name: 'location_city', label: t('reint.city'), type: 'text' },
    ...(can('case_identity', 'update') ? [{ name: 'goals', label: t('reint.goals'), type: 'longtext' }, { name: 'notes', label: t('common.notes'), type: 'longtext' }] : []),
  ];
  const noPlan = plan.error && plan.error.status === 404 && !plan.error.isMissingEndpoint;
  const td = trend.data;
  const series = td && td.items ? [{ name: t('reint.composite'), points: td.items.map((x) => ({ key: x.date, count: x.composite ?? null })) },
    ...Object.entries(td.by_dimension || {}).map(([dim, pts]) => ({ name: dim, points: (Array.isArray(pts) ? pts : []).map((x) => ({ key: x.date, count: x.score ?? x.value ?? null })) }))] : null;
  return html`<div class="stack">
    <section class="card" aria-labelledby="plan-h"><div class="row-head"><h2 id="plan-h">${t('reint.plan')}</h2>
      ${can('reintegration', 'update') && !(plan.error && plan.error.isMissingEndpoint) && !plan.loading ? html`<button type="button" class="btn btn-primary" onClick=${() => setEditPlan(true)}>${noPlan ? t('reint.new_plan') : t('common.edit')}</button>` : null}</div>
      ${noPlan ? html`<${Empty}>${t('reint.no_plan')}<//>`
        : html`<${Async} state=${plan} what=${t('module.reintegration')}>${(x) => html`
          ${(x.alerts || []).length ? html`<div class="notice notice-warn" role="note">${x.alerts.map((a) => html`<p>${t(`alert.${a.kind}`, { days: a.days_overdue ?? '', dimension: a.dimension || '', score: a.score !== undefined ? fmtNumber(a.score, { maximumFractionDigits: 2 }) : '' })}</p>`)}</div>` : null}
          <${RecordFacts} record=${x} spec=${planSpec} skip=${['alerts', 'visits']} />`}<//>`}
      ${editPlan ? html`<${RecordDialog} open=${true} title=${t('reint.plan')} spec=${planSpec}
        initial=${p ? Object.fromEntries(planSpec.map((f) => [f.name, p[f.name]]).filter(([, v]) => v !== undefined)) : { start_date: today() }}
        submit=${(v) => put(`/api/v1/cases/${c.id}/reintegration`, { ...v, ...(p && p.version ? { version: p.version } : {}) })}
        onClose=${(saved) => { setEditPlan(false); if (saved) { toast(t('common.saved')); plan.reload(); } }} />` : null}
    </section>
    ${series && series[0].points.length ? html`<${LineChart} title=${t('reint.trend')} series=${series} />` : null}
    ${!noPlan ? html`<${RecordsSection} title=${t('reint.visits')} what="visits" listPath=${`/api/v1/cases/${c.id}/visits`} spec=${visitSpec}
      canCreate=${can('reintegration', 'create') && !!p} addLabel=${t('reint.add_visit')} createBody=${toVisit} onCreated=${() => { trend.reload(); plan.reload(); }}
      columns=${['date', 'type', 'composite', 'sustainable', 'next_visit_due', 'created_by']} />` : null}
  </div>`;
}

function Perpetrators({ c }) {
  const roles = schema().fields.find((f) => f.name === 'per_RoleInProcess');
  const spec = [
    ...(can('case_identity', 'update') ? [{ name: 'prs_FirstName', label: fieldLabel('prs_FirstName', 'perpetrator_person'), type: 'text' }, { name: 'prs_SecondName', label: fieldLabel('prs_SecondName', 'perpetrator_person'), type: 'text' }] : []),
    { name: 'prs_Gender', label: fieldLabel('prs_Gender', 'perpetrator_person'), type: 'select', options: schema().fields.find((f) => f.name === 'prs_Gender').values.map((v) => ({ code: v.name, label: tl(v.label) })) },
    { name: 'per_RoleInProcess', label: tl(roles.label), type: 'multi', options: roles.values.map((v) => ({ code: v.name, label: tl(v.label) })) },
  ];
  return html`<${RecordsSection} title=${t('perpetrator.title')} what="perps" listPath=${`/api/v1/cases/${c.id}/perpetrators`} spec=${spec}
    canCreate=${can('proceeding', 'create')} addLabel=${t('perpetrator.add')}
    render=${(items) => html`<ul class="record-list">${items.map((p) => html`<li class="card"><${Facts} rows=${Object.keys(p).filter((k) => /^(prs_|per_)/.test(k)).map((k) => [fieldLabel(k, k.startsWith('per_') ? 'perpetrator' : 'perpetrator_person'), displayValue(schema().fields.find((x) => x.name === k && (x.section === 'perpetrator' || x.section === 'perpetrator_person')) || { type: 'text' }, p[k], fmt)])} /></li>`)}</ul>`} />`;
}

export function proceedingSpec(pl) {
  const o = (n) => listOptions(pl, n);
  return [
    { name: 'authority', label: t('proceeding.court'), type: 'text' },
    { name: 'jurisdiction_country', label: t('proceeding.country'), type: 'select', options: options('country') },
    { name: 'jurisdiction_city', label: t('proceeding.city'), type: 'text' },
    { name: 'offences', label: t('proceeding.charges'), type: 'multi', options: o('offences') },
    { name: 'first_stage', label: t('proceeding.stage'), type: 'select', required: true, options: o('proceeding_stages') },
    { name: 'first_stage_date', label: t('proceeding.stage_date'), type: 'date', required: true },
    { name: 'victim_roles', label: t('proceeding.victim_roles'), type: 'multi', options: o('victim_roles') },
    { name: 'protection_measures', label: t('proceeding.protection'), type: 'multi', options: o('protection_measures') },
    { name: 'legal_representation', label: t('proceeding.legal_representation'), type: 'checkbox' },
    ...(can('case_identity', 'update') ? [{ name: 'file_number', label: t('proceeding.number'), type: 'text' }, { name: 'notes', label: t('common.notes'), type: 'longtext' }] : []),
  ];
}

function toProceeding(c, v) {
  const { first_stage, first_stage_date, ...rest } = v;
  return { ...rest, case: c.id, stages: first_stage ? [{ stage: first_stage, date: first_stage_date }] : [] };
}

function ProceedingsTab({ c }) {
  const pl = usePicklists('care');
  const spec = proceedingSpec(pl);
  const [stageOf, setStageOf] = useState(null);
  const [verdictOf, setVerdictOf] = useState(null);
  const [n, setN] = useState(0);
  const stageSpec = [
    { name: 'stage', label: t('proceeding.stage'), type: 'select', required: true, options: listOptions(pl, 'proceeding_stages') },
    { name: 'date', label: t('proceeding.stage_date'), type: 'date', required: true },
    ...(can('case_identity', 'update') ? [{ name: 'notes', label: t('common.notes'), type: 'longtext' }] : []),
  ];
  const verdictSpec = [
    { name: 'verdict', label: t('proceeding.outcome'), type: 'select', required: true, options: listOptions(pl, 'verdicts') },
    { name: 'verdict_date', label: t('proceeding.verdict_date'), type: 'date', required: true },
    { name: 'sentence_months', label: t('proceeding.sentence_months'), type: 'number', min: 0, step: 1 },
    { name: 'compensation_awarded', label: t('proceeding.compensation_awarded'), type: 'number', min: 0 },
    { name: 'compensation_paid', label: t('proceeding.compensation_paid'), type: 'number', min: 0 },
    { name: 'currency', label: t('assistance.currency'), type: 'text' },
  ];
  const stageLabel = (k) => (listOptions(pl, 'proceeding_stages').find((o) => o.code === k) || { label: k }).label;
  return html`<div class="stack" key=${n}>
    <${RecordsSection} title=${t('proceeding.title')} what="proceedings" listPath=${`/api/v1/cases/${c.id}/proceedings`}
      createPath="/api/v1/proceedings" createBody=${(v) => toProceeding(c, v)} spec=${spec}
      canCreate=${can('proceeding', 'create')} addLabel=${t('proceeding.add')}
      render=${(items) => html`<ul class="record-list">${items.map((p) => html`<li class="card">
        <div class="row-head"><h3>${stageLabel(p.stage)}${p.authority ? ` · ${p.authority}` : ''}${p.status ? ` · ${tx(`proceeding.status_${p.status}`, p.status)}` : ''}</h3>
          ${can('proceeding', 'update') ? html`<div class="actions">
            <button type="button" class="btn btn-small" onClick=${() => setStageOf(p)}>${t('proceeding.add_stage')}</button>
            <button type="button" class="btn btn-small" onClick=${() => setVerdictOf(p)}>${t('proceeding.record_verdict')}</button></div>` : null}</div>
        ${(p.stages || []).length ? html`<ol class="timeline">${p.stages.map((st) => html`<li><strong>${stageLabel(st.stage)}</strong> · ${fmtDate(st.date)}${st.notes ? ` · ${st.notes}` : ''}</li>`)}</ol>` : null}
        <${RecordFacts} record=${p} spec=${[...spec, ...verdictSpec]} skip=${['stages', 'stage', 'status', 'authority', 'case_reference', 'perpetrators']} />
      </li>`)}</ul>`} />
    ${stageOf ? html`<${RecordDialog} open=${true} title=${t('proceeding.add_stage')} spec=${stageSpec} initial=${{ date: today() }}
      submit=${(v) => patch(`/api/v1/proceedings/${stageOf.id}`, { stages: [...(stageOf.stages || []), v] }, stageOf.version)}
      onClose=${(saved) => { setStageOf(null); if (saved) { toast(t('common.saved')); setN(n + 1); } }} />` : null}
    ${verdictOf ? html`<${RecordDialog} open=${true} title=${t('proceeding.record_verdict')} spec=${verdictSpec}
      initial=${Object.fromEntries(verdictSpec.map((f) => [f.name, verdictOf[f.name]]).filter(([, v]) => v !== undefined))}
      submit=${(v) => patch(`/api/v1/proceedings/${verdictOf.id}`, mergePatch(verdictOf, v, verdictSpec), verdictOf.version)}
      onClose=${(saved) => { setVerdictOf(null); if (saved) { toast(t('common.saved')); setN(n + 1); } }} />` : null}
    <${Perpetrators} c=${c} />
  </div>`;
}

function CommentsTab({ c }) {
  const s = useApi(() => get(`/api/v1/cases/${c.id}/comments`), [c.id]);
  const [text, setText] = useState('');
  const [error, setError] = useState(null);
  if (!can('case_identity', 'read')) return html`<p class="notice notice-info">${t('comments.hidden')}</p>`;
  async function add(e) {
    e.preventDefault();
    setError(null);
    try {
      await post(`/api/v1/cases/${c.id}/comments`, { cco_CaseComment: text });
      setText('');
      toast(t('comments.added'));
      s.reload();
    } catch (err) { setError(err.fields && err.fields.length ? err.fields.map((f) => f.message).join(' ') : err.message); }
  }
  return html`<div class="stack">
    ${can('case_identity', 'create') ? html`<form class="card" onSubmit=${add} noValidate>
      <div class=${`field field-wide${error ? ' has-error' : ''}`}><label for="new-comment">${t('comments.new')}</label>
        <textarea id="new-comment" rows="3" value=${text} onInput=${(e) => setText(e.target.value)} aria-describedby=${error ? 'new-comment-err' : undefined} aria-invalid=${error ? 'true' : undefined}></textarea>
        ${error ? html`<p class="field-error" id="new-comment-err" role="alert">${error}</p>` : null}</div>
      <div class="actions"><button type="submit" class="btn btn-primary">${t('comments.add')}</button></div>
    </form>` : null}
    <${Async} state=${s}>${(d) => (!d.items.length ? html`<${Empty}>${t('comments.none')}<//>` : html`<ul class="comments">${[...d.items].reverse().map((x) => html`<li class="card">
      <p class="comment-meta"><strong>${x.created_by}</strong> · <time datetime=${x.created_at}>${fmtDateTime(x.created_at)}</time></p>
      <p class="comment-text">${x.cco_CaseComment}</p></li>`)}</ul>`)}<//>
  </div>`;
}

function HistoryTab({ c }) {
  const s = useApi(() => get(`/api/v1/cases/${c.id}/history`), [c.id, c.version]);
  return html`<${Async} state=${s}>${(d) => {
    const items = d.items || d;
    return html`<div class="table-wrap" tabindex="0" role="region" aria-label=${`${t('history.title')} — ${t('common.table_scroll')}`}><table class="data"><caption>${t('history.title')}</caption>
      <thead><tr><th scope="col">${t('history.version')}</th><th scope="col">${t('history.when')}</th><th scope="col">${t('history.who')}</th><th scope="col">${t('history.action')}</th><th scope="col">${t('history.fields')}</th></tr></thead>
      <tbody>${[...items].reverse().map((h) => html`<tr><td>${h.version}</td><td>${fmtDateTime(h.at)}</td><td>${h.actor}</td><td>${t(`history.action.${h.action}`) === `history.action.${h.action}` ? h.action : t(`history.action.${h.action}`)}</td>
        <td>${(h.fields || []).map((f) => fieldLabel(f)).join(', ')}</td></tr>`)}</tbody></table></div>`;
  }}<//>`;
}

function CloseDialog({ open, c, reopen, onClose }) {
  const pl = usePicklists('referrals');
  const spec = reopen ? [{ name: 'reason', label: t('case.reason'), type: 'longtext', required: true }] : [
    { name: 'kind', label: t('case.closure_kind'), type: 'select', options: listOptions(pl, 'closure_kinds').length ? listOptions(pl, 'closure_kinds') : undefined },
    { name: 'reason', label: t('case.reason'), type: 'longtext', required: true },
    { name: 'follow_up', label: t('case.follow_up'), type: 'date' },
  ];
  if (!open) return null;
  return html`<${RecordDialog} open=${open} title=${reopen ? t('case.reopen') : t('case.close')} spec=${spec}
    submitLabel=${reopen ? t('case.reopen') : t('case.close')} initial=${reopen ? {} : { kind: 'Closed' }}
    submit=${(v) => post(`/api/v1/cases/${c.id}/${reopen ? 'reopen' : 'close'}`, v)} onClose=${onClose} />`;
}

export function CasePage({ id, tab }) {
  const s = useApi(() => get(`/api/v1/cases/${encodeURIComponent(id)}`), [id]);
  const [closing, setClosing] = useState(false);
  if (s.loading && !s.data) return html`<div class="page"><${Loading} /></div>`;
  if (s.error) return html`<div class="page"><${ErrorBox} error=${s.error} /></div>`;
  const c = s.data;
  const tabs = TABS.filter(tabAllowed);
  const current = tabs.includes(tab) ? tab : 'person';
  const name = can('case_identity', 'read') ? personName(c) : '';
  const closed = c.cas_Status === 'Closed' || c.cas_Status === 'ClosedReferred';
  const body = {
    person: () => html`<${PersonTab} c=${c} />`,
    profile: () => html`<${ProfileTab} c=${c} reload=${s.reload} />`,
    consent: () => html`<${ConsentTab} c=${c} onSaved=${(x) => s.setData(x)} />`,
    assistance: () => html`<${AssistanceTab} c=${c} />`,
    referrals: () => html`<${ReferralsTab} c=${c} />`,
    shelter: () => html`<${ShelterTab} c=${c} />`,
    return: () => html`<${ReturnTab} c=${c} />`,
    reintegration: () => html`<${ReintegrationTab} c=${c} />`,
    proceedings: () => html`<${ProceedingsTab} c=${c} />`,
    comments: () => html`<${CommentsTab} c=${c} />`,
    history: () => html`<${HistoryTab} c=${c} />`,
  }[current];
  return html`<div class="page">
    <${PageHead} title=${`${c.reference}${name ? ` · ${name}` : ''}`}>
      ${statusBadge(c.cas_Status)}
      ${can('case', 'update') ? html`<a class="btn" href=${`#/cases/${encodeURIComponent(c.reference)}/edit`}>${t('common.edit')}</a>` : null}
      ${can('lifecycle', 'update') ? html`<button type="button" class="btn" onClick=${() => setClosing(true)}>${closed ? t('case.reopen') : t('case.close')}</button>` : null}
    <//>
    <p class="muted">${t('case.meta', { owner: orgName(c.amp_OwnerOrganisation) || '—', date: fmtDate(c.amp_RegistrationDate), version: c.version })}</p>
    <nav class="tabs" aria-label=${t('case.sections')}>
      <ul>${tabs.map((x) => html`<li><a href=${href(`/cases/${encodeURIComponent(id)}/${x}`)} aria-current=${x === current ? 'page' : undefined}>${t(`case.tab.${x}`)}</a></li>`)}</ul>
    </nav>
    <div class="tab-body">${body()}</div>
    <${CloseDialog} open=${closing} c=${c} reopen=${closed} onClose=${(saved) => { setClosing(false); if (saved) { toast(t('common.saved')); s.reload(); } }} />
  </div>`;
}
