// case-edit.js — registration of a case (with its route) and editing of an
// existing one: forms generated from the catalogue, the API's validation at
// the field, and a clear way through when someone else saved first.
import { html, useState, useEffect, useMemo } from '../lib.js';
import { t, tl, today } from '../i18n.js';
import { get, post, patch, ApiError } from '../api.js';
import { sectionsOf, fieldLabel, schema } from '../schema.js';
import { can, session } from '../session.js';
import { navigate } from '../router.js';
import { useEditor, CatalogueForm, ErrorSummary, ConflictNotice, describeConflict, errorsFrom, fieldId } from '../form.js';
import { Loading, ErrorBox, PageHead, toast } from '../ui.js';

const CHILDREN = ['events', 'comments', 'support_plans', 'perpetrators'];
const META = ['id', 'reference', 'version', 'created_at', 'updated_at', 'created_by', 'updated_by'];

export function caseFields(c) {
  const out = {};
  for (const [k, v] of Object.entries(c || {})) if (!CHILDREN.includes(k) && !META.includes(k) && !k.startsWith('_')) out[k] = v;
  return out;
}

function labelOf(name) {
  const m = /^events\[(\d+)\]\.(.+)$/.exec(name);
  if (m) return `${t('route.event_n', { n: Number(m[1]) + 1 })} · ${fieldLabel(m[2], 'event')}`;
  return fieldLabel(name);
}

// One event of the route being registered with the case.
function EventRow({ index, ev, onChange, onRemove, errors }) {
  const editor = { values: ev, set: (k, v) => { const n = { ...ev }; if (v === undefined || v === '' || (Array.isArray(v) && !v.length)) delete n[k]; else n[k] = v; onChange(n); } };
  const sections = sectionsOf('event');
  return html`<div class="event-row card">
    <div class="row-head"><h3>${t('route.event_n', { n: index + 1 })}</h3>
      <button type="button" class="btn btn-small" onClick=${onRemove}>${t('route.remove_event', { n: index + 1 })}</button></div>
    <${CatalogueForm} sections=${sections} editor=${editor} errors=${errors} prefix=${`events_${index}_`} hideIdentity=${!can('case_identity', 'create')} />
  </div>`;
}

export function CaseEdit({ id }) {
  const creating = !id;
  const [loaded, setLoaded] = useState(creating ? { fields: {} } : null);
  const [loadError, setLoadError] = useState(null);
  useEffect(() => {
    if (creating) return;
    get(`/api/v1/cases/${encodeURIComponent(id)}`).then((c) => setLoaded({ record: c, fields: caseFields(c) })).catch(setLoadError);
  }, [id]);
  if (loadError) return html`<div class="page"><${ErrorBox} error=${loadError} /></div>`;
  if (!loaded) return html`<div class="page"><${Loading} /></div>`;
  return html`<${CaseForm} key=${id || 'new'} id=${id} record=${loaded.record} initial=${loaded.fields} />`;
}

function CaseForm({ id, record: initialRecord, initial }) {
  const creating = !id;
  const me = session();
  const defaults = creating ? { amp_RegistrationDate: today(), ...(me.user.org ? { amp_OwnerOrganisation: me.user.org } : {}) } : initial;
  const editor = useEditor(defaults);
  const [record, setRecord] = useState(initialRecord);
  const [events, setEvents] = useState([]);
  const [errors, setErrors] = useState({});
  const [other, setOther] = useState([]);
  const [conflict, setConflict] = useState(null);
  const [busy, setBusy] = useState(false);
  const sections = sectionsOf('case');
  const known = useMemo(() => new Set(schema().fields.map((f) => f.name)), []);
  const identityAllowed = can('case_identity', creating ? 'create' : 'update');
  const prefix = 'case';

  function showErrors(err) {
    const names = new Set(known);
    events.forEach((ev, i) => schema().fields.filter((f) => f.section === 'event').forEach((f) => names.add(`events[${i}].${f.name}`)));
    const { byField, other: rest } = errorsFrom(err, names, labelOf);
    setErrors(byField);
    setOther(rest.length || Object.keys(byField).length ? rest : [err.message]);
  }

  async function save(e) {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    setOther([]);
    try {
      if (creating) {
        const body = { ...editor.values };
        if (events.length) body.events = events.map((ev, i) => ({ amp_EventSequence: i + 1, ...ev }));
        const c = await post('/api/v1/cases', body);
        editor.reset(editor.values);
        toast(t('case.created', { ref: c.reference }));
        navigate(`/cases/${encodeURIComponent(c.reference || c.id)}`);
      } else {
        const c = await patch(`/api/v1/cases/${encodeURIComponent(record.id)}`, editor.patchBody(), record.version);
        editor.reset(caseFields(c));
        setRecord(c);
        toast(t('case.saved', { ref: c.reference }));
        navigate(`/cases/${encodeURIComponent(c.reference || c.id)}`);
      }
    } catch (err) {
      if (err instanceof ApiError && (err.status === 412 || err.status === 409) && !creating && err.code !== 'invalid_state') {
        const theirs = await get(`/api/v1/cases/${encodeURIComponent(record.id)}`);
        setConflict({ ...describeConflict(editor.baseline, editor.values, caseFields(theirs)), version: theirs.version, by: theirs.updated_by, record: theirs });
      } else if (err instanceof ApiError && err.fields.length) {
        showErrors(err);
      } else {
        setOther([err.message]);
      }
    } finally {
      setBusy(false);
    }
  }

  const eventErrors = (i) => {
    const out = {};
    for (const [k, v] of Object.entries(errors)) {
      const m = /^events\[(\d+)\]\.(.+)$/.exec(k);
      if (m && Number(m[1]) === i) out[m[2]] = v;
    }
    return out;
  };
  const title = creating ? t('case.register') : t('case.edit', { ref: record.reference });
  return html`<div class="page">
    <${PageHead} title=${title} />
    <${ConflictNotice} conflict=${conflict} labelOf=${labelOf}
      onReload=${() => { editor.reset(caseFields(conflict.record)); setRecord(conflict.record); setConflict(null); toast(t('conflict.reloaded')); }}
      onKeepMine=${() => { editor.rebase(caseFields(conflict.record)); setRecord(conflict.record); setConflict(null); toast(t('conflict.reapplied')); }} />
    <form class="case-form" onSubmit=${save} noValidate>
      <${ErrorSummary} errors=${Object.fromEntries(Object.entries(errors).filter(([k]) => !k.startsWith('events[')))} other=${[
        ...other,
        ...Object.entries(errors).filter(([k]) => k.startsWith('events[')).map(([k, v]) => `${labelOf(k)}: ${v}`),
      ]} prefix=${prefix} labelOf=${labelOf} />
      <nav class="section-nav" aria-label=${t('form.sections')}>
        <ul>${sections.map((s) => html`<li><a href=${`#${prefix}-sec-${s.name}`} onClick=${(e) => { e.preventDefault(); const el = document.getElementById(`${prefix}-sec-${s.name}`); if (el) { el.scrollIntoView(); const first = el.querySelector('input,select,textarea'); if (first) first.focus(); } }}>${tl(s.label, s.name)}</a></li>`)}
        ${creating ? html`<li><a href="#case-route" onClick=${(e) => { e.preventDefault(); document.getElementById('case-route').scrollIntoView(); }}>${t('route.title')}</a></li>` : null}</ul>
      </nav>
      <p class="muted">${t('form.required_note')}</p>
      <${CatalogueForm} sections=${sections} editor=${editor} errors=${errors} prefix=${prefix} hideIdentity=${!identityAllowed} />
      ${creating ? html`<fieldset class="section" id="case-route"><legend>${t('route.title')}</legend>
        <p class="muted">${t('route.intro')}</p>
        ${events.map((ev, i) => html`<${EventRow} key=${i} index=${i} ev=${ev} errors=${eventErrors(i)}
          onChange=${(n) => setEvents(events.map((x, j) => (j === i ? n : x)))} onRemove=${() => setEvents(events.filter((_, j) => j !== i))} />`)}
        <button type="button" class="btn" onClick=${() => setEvents([...events, { hte_Type: events.length ? 'Exploitation' : 'Recruitment' }])}>${t('route.add_event')}</button>
      </fieldset>` : null}
      <div class="actions sticky-actions">
        <button type="submit" class="btn btn-primary" disabled=${busy || (!creating && !editor.dirty)}>${busy ? t('common.saving') : creating ? t('case.register_submit') : t('common.save')}</button>
        <a class="btn" href=${creating ? '#/cases' : `#/cases/${encodeURIComponent(record.reference || record.id)}`}>${t('common.cancel')}</a>
        ${editor.dirty ? html`<span class="muted" aria-live="polite">${t('form.unsaved')}</span>` : null}
      </div>
    </form>
  </div>`;
}
export { fieldId };
