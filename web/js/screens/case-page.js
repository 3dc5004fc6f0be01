// case-page.js — one case: a header with its reference, status and actions,
// and tabs for the person, the trafficking profile and route, consent,
// assistance, referrals, shelter, return, reintegration, proceedings,
// comments and history.
import { html, useState } from '../lib.js';
import { t, tl, fmtDate, fmtDateTime, today } from '../i18n.js';
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
        const r = errorsFrom(err, known);
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
    <div class="table-wrap" tabindex="0" role="region" aria-label=${t('common.table_scroll')}><table class="data"><caption class="sr-only">${t('route.events')}</caption>
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
      const r = errorsFrom(err, known);
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

function Decisions({ c }) {
  const pl = usePicklists('referrals');
  const spec = [
    { name: 'kind', label: t('decision.kind'), type: 'select', required: true, options: [{ code: 'Initial', label: t('decision.kind.Initial') }, { code: 'Conclusive', label: t('decision.kind.Conclusive') }] },
    { name: 'outcome', label: t('decision.outcome'), type: 'select', required: true, options: listOptions(pl, 'decision_outcomes', 'identification_outcomes').length ? listOptions(pl, 'decision_outcomes', 'identification_outcomes') : (schema().fields.find((f) => f.name === 'vic_TraffickingStatus').values || []).map((v) => ({ code: v.name, label: tl(v.label) })) },
    { name: 'decided_on', label: t('decision.date'), type: 'date' },
    { name: 'notes', label: t('common.notes'), type: 'longtext' },
  ];
  return html`<${RecordsSection} title=${t('decision.title')} what="decisions" listPath=${`/api/v1/cases/${c.id}/decisions`}
    spec=${spec} canCreate=${can('lifecycle', 'create')} addLabel=${t('decision.add')} columns=${['kind', 'outcome', 'decided_on', 'created_by']} />`;
}

function ProfileTab({ c, reload }) {
  return html`<div class="stack">
    <div class="cards cards-2"><${SectionFacts} c=${c} names=${['victim']} /></div>
    <${RouteView} c=${c} reload=${reload} />
    <${Decisions} c=${c} />
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

export function assistanceSpec(pl) {
  return [
    { name: 'type', label: t('assistance.type'), type: 'select', required: true, options: listOptions(pl, 'assistance_types', 'services') },
    { name: 'provider_org', label: t('assistance.provider'), type: 'org' },
    { name: 'start_date', label: t('assistance.start'), type: 'date' },
    { name: 'end_date', label: t('assistance.end'), type: 'date' },
    { name: 'outcome', label: t('assistance.outcome'), type: 'select', options: listOptions(pl, 'assistance_outcomes', 'outcomes') },
    { name: 'cost', label: t('assistance.cost'), type: 'number', min: 0 },
    { name: 'currency', label: t('assistance.currency'), type: 'text' },
    { name: 'notes', label: t('common.notes'), type: 'longtext' },
  ];
}

function AssistanceTab({ c }) {
  const pl = usePicklists('referrals');
  const spec = assistanceSpec(pl);
  return html`<div class="stack">
    <${RecordsSection} title=${t('assistance.title')} what="assistance" listPath=${`/api/v1/cases/${c.id}/assistance`} spec=${spec}
      canCreate=${can('assistance', 'create')} addLabel=${t('assistance.add')} columns=${['type', 'provider_org', 'start_date', 'end_date', 'outcome', 'cost', 'currency']} />
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
  const shelters = useApi(() => get('/api/v1/shelters', { limit: 200 }), []);
  const opts = ((shelters.data && shelters.data.items) || []).map((s) => ({ code: s.id, label: s.name || s.id }));
  const spec = [
    { name: 'shelter', label: t('shelter.shelter'), type: 'select', required: true, options: opts },
    { name: 'admitted_on', label: t('shelter.admitted_on'), type: 'date' },
    { name: 'expected_discharge', label: t('shelter.expected_discharge'), type: 'date' },
    { name: 'notes', label: t('common.notes'), type: 'longtext' },
  ];
  return html`<div class="stack">
    <${RecordsSection} title=${t('shelter.stays')} what="stays" listPath=${`/api/v1/cases/${c.id}/stays`} spec=${spec}
      canCreate=${can('shelter', 'create') && opts.length > 0} addLabel=${t('shelter.admit')}
      create=${(v) => { const { shelter, ...rest } = v; return post(`/api/v1/shelters/${encodeURIComponent(shelter || '')}/stays`, { ...rest, case: c.id }); }} empty=${t('shelter.no_stays')}
      render=${(items, reload) => html`<ul class="record-list">${items.map((s) => html`<li class="card">
        <${RecordFacts} record=${s} spec=${spec} />
        ${!s.discharged_on && !s.discharged_at && can('shelter', 'update') ? html`<div class="actions"><button type="button" class="btn" onClick=${async () => {
          try { await post(`/api/v1/stays/${s.id}/discharge`, { discharged_on: today() }); toast(t('shelter.discharged')); reload(); } catch (e) { toast(e.message, 'error'); }
        }}>${t('shelter.discharge')}</button></div>` : null}</li>`)}</ul>`} />
  </div>`;
}

function ReturnTab({ c }) {
  const pl = usePicklists('care');
  const spec = [
    { name: 'type', label: t('return.type'), type: 'select', options: listOptions(pl, 'return_types') },
    { name: 'destination_country', label: t('return.destination'), type: 'select', options: options('country') },
    { name: 'planned_date', label: t('return.planned'), type: 'date' },
    { name: 'return_date', label: t('return.date'), type: 'date' },
    { name: 'status', label: t('common.status'), type: 'select', options: listOptions(pl, 'return_statuses') },
    { name: 'family_assessment', label: t('return.family'), type: 'longtext' },
    { name: 'notes', label: t('common.notes'), type: 'longtext' },
  ];
  return html`<${RecordsSection} title=${t('return.title')} what="returns" listPath=${`/api/v1/cases/${c.id}/returns`} spec=${spec}
    canCreate=${can('return', 'create')} addLabel=${t('return.add')} />`;
}

function ReintegrationTab({ c }) {
  const plan = useApi(() => get(`/api/v1/cases/${c.id}/reintegration`), [c.id]);
  const indicators = useApi(() => get('/api/v1/reintegration/indicators'), []);
  const trend = useApi(() => get(`/api/v1/cases/${c.id}/reintegration/trend`), [c.id]);
  const [editPlan, setEditPlan] = useState(false);
  const inds = (indicators.data && (indicators.data.items || indicators.data)) || [];
  const visitSpec = [
    { name: 'visit_date', label: t('reint.visit_date'), type: 'date', required: true },
    ...(Array.isArray(inds) ? inds : []).map((i) => ({ name: `score_${i.code || i.id || i.name}`, label: `${tl(i.label, i.name || i.code)} (${i.min ?? 0}–${i.max ?? 5})`, type: 'number', min: i.min ?? 0, max: i.max ?? 5, step: 1 })),
    { name: 'notes', label: t('common.notes'), type: 'longtext' },
  ];
  const toVisit = (v) => {
    const scores = {};
    const out = {};
    for (const [k, x] of Object.entries(v)) { if (k.startsWith('score_')) scores[k.slice(6)] = x; else out[k] = x; }
    if (Object.keys(scores).length) out.scores = scores;
    return out;
  };
  const planSpec = [
    { name: 'goals', label: t('reint.goals'), type: 'longtext' },
    { name: 'actions', label: t('reint.actions'), type: 'longtext' },
    { name: 'next_visit', label: t('reint.next_visit'), type: 'date' },
    { name: 'visit_interval_days', label: t('reint.interval'), type: 'number', min: 1, step: 1 },
  ];
  const trendSeries = () => {
    const d = trend.data;
    const pts = (d && (d.items || d.points || d.trend)) || [];
    return [{ name: t('reint.score'), points: pts.map((p) => ({ key: p.date || p.visit_date || p.key, count: p.score ?? p.total ?? p.value ?? null })) }];
  };
  return html`<div class="stack">
    <section class="card" aria-labelledby="plan-h"><div class="row-head"><h2 id="plan-h">${t('reint.plan')}</h2>
      ${can('reintegration', 'update') && !(plan.error && plan.error.isMissingEndpoint) ? html`<button type="button" class="btn" onClick=${() => setEditPlan(true)}>${t('common.edit')}</button>` : null}</div>
      ${plan.error && plan.error.status === 404 && !plan.error.isMissingEndpoint ? html`<${Empty}>${t('reint.no_plan')}<//>`
        : html`<${Async} state=${plan} what=${t('module.reintegration')}>${(p) => html`<${RecordFacts} record=${p || {}} />`}<//>`}
      <${RecordDialog} open=${editPlan} title=${t('reint.plan')} spec=${planSpec} initial=${plan.data || {}}
        submit=${(v) => putPlan(`/api/v1/cases/${c.id}/reintegration`, { ...v, version: plan.data && plan.data.version })}
        onClose=${(saved) => { setEditPlan(false); if (saved) plan.reload(); }} />
    </section>
    ${trend.data ? html`<${LineChart} title=${t('reint.trend')} series=${trendSeries()} />` : null}
    <${RecordsSection} title=${t('reint.visits')} what="visits" listPath=${`/api/v1/cases/${c.id}/visits`} spec=${visitSpec}
      canCreate=${can('reintegration', 'create')} addLabel=${t('reint.add_visit')} createBody=${toVisit} onCreated=${() => trend.reload()} />
  </div>`;
}

function putPlan(path, body) {
  if (body.version === undefined) delete body.version;
  return put(path, body);
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
  return [
    { name: 'stage', label: t('proceeding.stage'), type: 'select', options: listOptions(pl, 'proceeding_stages', 'stages') },
    { name: 'case_number', label: t('proceeding.number'), type: 'text' },
    { name: 'court', label: t('proceeding.court'), type: 'text' },
    { name: 'charges', label: t('proceeding.charges'), type: 'longtext' },
    { name: 'opened_on', label: t('proceeding.opened'), type: 'date' },
    { name: 'outcome', label: t('proceeding.outcome'), type: 'select', options: listOptions(pl, 'proceeding_outcomes', 'verdicts') },
    { name: 'notes', label: t('common.notes'), type: 'longtext' },
  ];
}

function ProceedingsTab({ c }) {
  const pl = usePicklists('care');
  return html`<div class="stack">
    <${RecordsSection} title=${t('proceeding.title')} what="proceedings" listPath=${`/api/v1/cases/${c.id}/proceedings`}
      createPath="/api/v1/proceedings" createBody=${(v) => ({ ...v, case: c.id })} spec=${proceedingSpec(pl)}
      canCreate=${can('proceeding', 'create')} addLabel=${t('proceeding.add')} />
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
    return html`<div class="table-wrap" tabindex="0" role="region" aria-label=${t('common.table_scroll')}><table class="data"><caption>${t('history.title')}</caption>
      <thead><tr><th scope="col">${t('history.version')}</th><th scope="col">${t('history.when')}</th><th scope="col">${t('history.who')}</th><th scope="col">${t('history.action')}</th><th scope="col">${t('history.fields')}</th></tr></thead>
      <tbody>${[...items].reverse().map((h) => html`<tr><td>${h.version}</td><td>${fmtDateTime(h.at)}</td><td>${h.actor}</td><td>${t(`history.action.${h.action}`) === `history.action.${h.action}` ? h.action : t(`history.action.${h.action}`)}</td>
        <td>${(h.fields || []).map((f) => fieldLabel(f)).join(', ')}</td></tr>`)}</tbody></table></div>`;
  }}<//>`;
}

function CloseDialog({ open, c, reopen, onClose }) {
  const spec = [{ name: 'reason', label: t('case.reason'), type: 'longtext', required: true }];
  return html`<${RecordDialog} open=${open} title=${reopen ? t('case.reopen') : t('case.close')} spec=${spec}
    submitLabel=${reopen ? t('case.reopen') : t('case.close')}
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
