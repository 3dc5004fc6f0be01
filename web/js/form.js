// form.js — forms generated from the field catalogue (and small forms for the
// modules' records): one widget per catalogue type, the API's validation
// errors at the field, an error summary, unsaved-change tracking and merge
// patches.
import { html, useState, useEffect, useMemo, useRef, useCallback } from './lib.js';
import { t, tl, today } from './i18n.js';
import { fieldOptions, applies, isRequired, countryName, options as codeOptions } from './schema.js';
import { setLeaveGuard, clearLeaveGuard } from './router.js';
import { useOrgs } from './ui.js';

const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

export function fieldId(prefix, name) {
  return `${prefix}-${String(name).replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

// {field: message} and the messages that name no known field, from an ApiError.
// labelOf(name) names the field in the user's language: the server's
// messages name fields by code ("prs_NumberOfChildren must be at most 30"),
// which the label replaces.
export function errorsFrom(err, known, labelOf) {
  const byField = {};
  const other = [];
  for (const f of (err && err.fields) || []) {
    const name = f.field || '';
    let msg = f.message || '';
    if (labelOf && name) {
      const lbl = labelOf(name);
      const bare = name.replace(/^.*\./, '');
      if (lbl && lbl !== name) msg = msg.split(name).join(lbl);
      if (lbl && bare !== name && lbl !== bare) msg = msg.split(bare).join(lbl);
    }
    if (!known || known.has(name)) byField[name] = byField[name] ? `${byField[name]} ${msg}` : msg;
    else other.push(msg);
  }
  return { byField, other };
}

// Values, what changed since `base`, and a leave guard while anything did.
export function useEditor(base, { guard = true } = {}) {
  const [baseline, setBaseline] = useState(base || {});
  const [values, setValues] = useState(base || {});
  const dirty = useMemo(() => Object.keys({ ...baseline, ...values }).some((k) => !same(baseline[k], values[k])), [baseline, values]);
  const dirtyRef = useRef(false);
  dirtyRef.current = dirty;
  useEffect(() => {
    if (!guard) return undefined;
    const fn = () => dirtyRef.current;
    setLeaveGuard(fn);
    return () => clearLeaveGuard(fn);
  }, [guard]);
  const set = useCallback((name, v) => setValues((old) => {
    const next = { ...old };
    if (v === undefined || v === '' || (Array.isArray(v) && !v.length)) delete next[name];
    else next[name] = v;
    return next;
  }), []);
  const reset = useCallback((b) => { setBaseline(b || {}); setValues(b || {}); }, []);
  // Their new version with my changes re-applied on top.
  const rebase = useCallback((theirs) => {
    setValues((mine) => {
      const next = { ...theirs };
      for (const k of Object.keys({ ...baseline, ...mine })) {
        if (!same(baseline[k], mine[k])) {
          if (mine[k] === undefined) delete next[k];
          else next[k] = mine[k];
        }
      }
      return next;
    });
    setBaseline(theirs);
  }, [baseline]);
  const changed = useMemo(() => Object.keys({ ...baseline, ...values }).filter((k) => !same(baseline[k], values[k])), [baseline, values]);
  // A JSON merge patch of the changed fields (null removes one).
  const patchBody = useCallback((keys) => {
    const p = {};
    for (const k of changed) if (!keys || keys.has(k)) p[k] = values[k] === undefined ? null : values[k];
    return p;
  }, [changed, values]);
  return { values, set, setValues, baseline, dirty, changed, reset, rebase, patchBody };
}

function Label({ id, text, required }) {
  return html`<label for=${id}>${text}${required ? html`<span class="req" aria-hidden="true"> *</span>` : null}</label>`;
}

function FieldError({ id, message }) {
  return message ? html`<p class="field-error" id=${`${id}-err`}><span aria-hidden="true">⚠ </span>${message}</p>` : null;
}

// Several countries (prs_Citizenship): chosen ones as removable chips.
function MultiCountry({ id, value, onChange, describedBy, invalid, label }) {
  const list = Array.isArray(value) ? value : value ? [value] : [];
  const opts = codeOptions('country');
  return html`<div class="multi-pick">
    <ul class="chips" aria-label=${label}>
      ${list.map((c) => html`<li class="chip">${countryName(c)}
        <button type="button" class="chip-x" aria-label=${t('form.remove_item', { item: countryName(c) })}
          onClick=${() => onChange(list.filter((x) => x !== c))}>×</button></li>`)}
    </ul>
    <select id=${id} aria-describedby=${describedBy} aria-invalid=${invalid ? 'true' : undefined}
      onChange=${(e) => { const v = e.target.value; if (v && !list.includes(v)) onChange([...list, v]); e.target.value = ''; }}>
      <option value="">${t('form.add_country')}</option>
      ${opts.filter((o) => !list.includes(o.code)).map((o) => html`<option value=${o.code}>${o.label}</option>`)}
    </select>
  </div>`;
}

// One catalogue field: label, widget, error.
export function CatalogueField({ f, id, value, onChange, error, required }) {
  const label = tl(f.label, f.name);
  const errId = `${id}-err`;
  const describedBy = error ? errId : undefined;
  const common = { id, 'aria-describedby': describedBy, 'aria-invalid': error ? 'true' : undefined, 'aria-required': required ? 'true' : undefined };
  const orgs = f.type === 'lookup' && f.target === 'organisation' ? useOrgs() : null;
  let control;
  switch (f.type) {
    case 'longtext':
      control = html`<textarea ...${common} rows="4" maxlength=${f.max_length} value=${value ?? ''} onInput=${(e) => onChange(e.target.value)}></textarea>`;
      break;
    case 'number':
      control = html`<input ...${common} type="number" inputmode=${f.integer ? 'numeric' : 'decimal'} step=${f.integer ? 1 : 'any'} min=${f.min} max=${f.max}
        value=${value ?? ''} onInput=${(e) => onChange(e.target.value === '' ? undefined : Number(e.target.value))} />`;
      break;
    case 'date':
      control = html`<input ...${common} type="date" max=${f.not_future ? today() : undefined} value=${value ?? ''} onInput=${(e) => onChange(e.target.value)} />`;
      break;
    case 'checkbox':
      return html`<div class=${`field field-check${error ? ' has-error' : ''}`}>
        <input ...${common} type="checkbox" checked=${!!value} onChange=${(e) => onChange(e.target.checked)} />
        <${Label} id=${id} text=${label} required=${required} />
        <${FieldError} id=${id} message=${error} />
      </div>`;
    case 'picklist':
    case 'language':
      control = html`<select ...${common} value=${value ?? ''} onChange=${(e) => onChange(e.target.value)}>
        <option value="">${t('form.choose')}</option>
        ${fieldOptions(f).map((o) => html`<option value=${o.code} selected=${o.code === value}>${o.label}</option>`)}
      </select>`;
      break;
    case 'country':
      if (f.multiple) {
        control = html`<${MultiCountry} id=${id} label=${label} value=${value} onChange=${onChange} describedBy=${describedBy} invalid=${!!error} />`;
      } else {
        control = html`<select ...${common} value=${value ?? ''} onChange=${(e) => onChange(e.target.value)}>
          <option value="">${t('form.choose')}</option>
          ${fieldOptions(f).map((o) => html`<option value=${o.code} selected=${o.code === value}>${o.label}</option>`)}
        </select>`;
      }
      break;
    case 'multiselect': {
      const list = Array.isArray(value) ? value : [];
      return html`<fieldset class=${`field field-multi${error ? ' has-error' : ''}`} id=${id} aria-describedby=${describedBy} tabindex="-1">
        <legend>${label}${required ? html`<span class="req" aria-hidden="true"> *</span>` : null}</legend>
        <div class="checks">
          ${fieldOptions(f).map((o, i) => html`<div class="check">
            <input type="checkbox" id=${`${id}-${i}`} checked=${list.includes(o.code)}
              onChange=${(e) => onChange(e.target.checked ? [...list, o.code] : list.filter((x) => x !== o.code))} />
            <label for=${`${id}-${i}`}>${o.label}</label></div>`)}
        </div>
        <${FieldError} id=${id} message=${error} />
      </fieldset>`;
    }
    case 'lookup':
      if (f.target === 'organisation') {
        control = html`<select ...${common} value=${value ?? ''} onChange=${(e) => onChange(e.target.value)}>
          <option value="">${t('form.choose')}</option>
          ${orgs.map((o) => html`<option value=${o.id} selected=${o.id === value}>${o.org_Name || o.id}</option>`)}
          ${value && !orgs.some((o) => o.id === value) ? html`<option value=${value} selected>${value}</option>` : null}
        </select>`;
        break;
      }
      control = html`<input ...${common} type="text" value=${value ?? ''} onInput=${(e) => onChange(e.target.value)} />`;
      break;
    case 'email':
      control = html`<input ...${common} type="email" autocomplete="off" maxlength=${f.max_length} value=${value ?? ''} onInput=${(e) => onChange(e.target.value)} />`;
      break;
    case 'phone':
      control = html`<input ...${common} type="tel" autocomplete="off" value=${value ?? ''} onInput=${(e) => onChange(e.target.value)} />`;
      break;
    default:
      control = html`<input ...${common} type="text" autocomplete="off" maxlength=${f.max_length} value=${value ?? ''} onInput=${(e) => onChange(e.target.value)} />`;
  }
  return html`<div class=${`field${error ? ' has-error' : ''}${f.type === 'longtext' || f.type === 'multiselect' ? ' field-wide' : ''}`}>
    <${Label} id=${id} text=${label} required=${required} />
    ${control}
    <${FieldError} id=${id} message=${error} />
  </div>`;
}

// The sections of a catalogue entity as fieldsets.  hideIdentity leaves out
// identity fields (roles that may not see them).
export function CatalogueForm({ sections, editor, errors, prefix, hideIdentity, exclude }) {
  return html`${sections.map((s) => {
    const fields = s.fields.filter((f) => !(hideIdentity && f.identity) && !(exclude && exclude.has(f.name)) && applies(f, editor.values));
    if (!fields.length) return null;
    return html`<fieldset class="section" id=${`${prefix}-sec-${s.name}`}>
      <legend>${tl(s.label, s.name)}</legend>
      <div class="grid">
        ${fields.map((f) => html`<${CatalogueField} key=${f.name} f=${f} id=${fieldId(prefix, f.name)}
          value=${editor.values[f.name]} required=${isRequired(f, editor.values)}
          error=${errors && errors[f.name]} onChange=${(v) => editor.set(f.name, v)} />`)}
      </div>
    </fieldset>`;
  })}`;
}

// A list of the errors at the top of a form, each a link to its field;
// focused when it appears, announced by screen readers.
export function ErrorSummary({ errors, other, prefix, labelOf }) {
  const ref = useRef(null);
  const names = Object.keys(errors || {});
  const count = names.length + (other ? other.length : 0);
  useEffect(() => { if (count && ref.current) ref.current.focus(); }, [errors, other]);
  if (!count) return null;
  return html`<div class="error-summary" role="alert" tabindex="-1" ref=${ref} aria-labelledby=${`${prefix}-errsum`}>
    <h2 id=${`${prefix}-errsum`}>${t('form.errors_title', { n: count })}</h2>
    <ul>
      ${names.map((n) => html`<li><a href=${`#${fieldId(prefix, n)}`} onClick=${(e) => { e.preventDefault(); const el = document.getElementById(fieldId(prefix, n)); if (el) el.focus(); }}>
        ${labelOf ? `${labelOf(n)}: ` : ''}${errors[n]}</a></li>`)}
      ${(other || []).map((m) => html`<li>${m}</li>`)}
    </ul>
  </div>`;
}

// When someone else saved first: reload theirs, or keep mine re-applied on theirs.
export function ConflictNotice({ conflict, onReload, onKeepMine, labelOf }) {
  if (!conflict) return null;
  const theirs = conflict.theirChanges || [];
  const both = conflict.both || [];
  return html`<div class="notice notice-warn" role="alert">
    <strong>${t('conflict.title')}</strong>
    <p>${t('conflict.body', { who: conflict.by || '?', version: conflict.version })}</p>
    ${theirs.length ? html`<p>${t('conflict.their_fields')} ${theirs.map((k) => labelOf(k)).join(', ')}</p>` : null}
    ${both.length ? html`<p class="strong">${t('conflict.both_fields')} ${both.map((k) => labelOf(k)).join(', ')}</p>` : null}
    <div class="actions">
      <button type="button" class="btn" onClick=${onReload}>${t('conflict.reload')}</button>
      <button type="button" class="btn btn-primary" onClick=${onKeepMine}>${t('conflict.keep_mine')}</button>
    </div>
  </div>`;
}

// What they changed (baseline → theirs) and what we both changed.
export function describeConflict(baseline, mine, theirs) {
  const keys = new Set([...Object.keys(baseline), ...Object.keys(mine), ...Object.keys(theirs)]);
  const skip = new Set(['version', 'updated_at', 'updated_by', 'events', 'comments', 'support_plans', 'perpetrators']);
  const theirChanges = [];
  const both = [];
  for (const k of keys) {
    if (skip.has(k)) continue;
    const they = !same(baseline[k], theirs[k]);
    const me = !same(baseline[k], mine[k]);
    if (they) theirChanges.push(k);
    if (they && me && !same(mine[k], theirs[k])) both.push(k);
  }
  return { theirChanges, both, version: theirs.version, by: theirs.updated_by };
}

// A small form for a module's record from a spec:
// [{name, label, type: text|longtext|date|number|select|multi|org|checkbox, options, required}].
export function SpecForm({ spec, editor, errors, prefix }) {
  const orgs = spec.some((s) => s.type === 'org') ? useOrgs() : [];
  return html`<div class="grid">${spec.map((s) => {
    const id = fieldId(prefix, s.name);
    const err = errors && errors[s.name];
    const v = editor.values[s.name];
    const common = { id, 'aria-describedby': err ? `${id}-err` : undefined, 'aria-invalid': err ? 'true' : undefined };
    const set = (x) => editor.set(s.name, x);
    let control;
    if (s.type === 'multi') {
      const list = Array.isArray(v) ? v : [];
      return html`<fieldset class=${`field field-multi field-wide${err ? ' has-error' : ''}`} id=${id} tabindex="-1">
        <legend>${s.label}${s.required ? html`<span class="req" aria-hidden="true"> *</span>` : null}</legend>
        <div class="checks">${(s.options || []).map((o, i) => html`<div class="check">
          <input type="checkbox" id=${`${id}-${i}`} checked=${list.includes(o.code)} onChange=${(e) => set(e.target.checked ? [...list, o.code] : list.filter((x) => x !== o.code))} />
          <label for=${`${id}-${i}`}>${o.label}</label></div>`)}</div>
        <${FieldError} id=${id} message=${err} />
      </fieldset>`;
    }
    if (s.type === 'heading') {
      return html`<h3 class="field-wide form-sub">${s.label}</h3>`;
    }
    if (s.type === 'checkbox') {
      return html`<div class="field field-check"><input ...${common} type="checkbox" checked=${!!v} onChange=${(e) => set(e.target.checked)} />
        <${Label} id=${id} text=${s.label} /><${FieldError} id=${id} message=${err} /></div>`;
    }
    if (s.type === 'select' || s.type === 'org') {
      const opts = s.type === 'org' ? orgs.filter((o) => !s.filter || s.filter(o)).map((o) => ({ code: o.id, label: o.org_Name || o.id })) : (s.options || []);
      // options may carry a group (rendered as <optgroup>)
      const groups = [...new Set(opts.map((o) => o.group).filter(Boolean))];
      const option = (o) => html`<option value=${o.code} selected=${String(o.code) === String(v)}>${o.label}</option>`;
      control = html`<select ...${common} onChange=${(e) => set(s.numeric && e.target.value !== '' ? Number(e.target.value) : e.target.value)}>
        <option value="">${t('form.choose')}</option>
        ${groups.length ? groups.map((g) => html`<optgroup label=${g}>${opts.filter((o) => o.group === g).map(option)}</optgroup>`) : opts.map(option)}
      </select>`;
    } else if (s.type === 'longtext') {
      control = html`<textarea ...${common} rows="3" value=${v ?? ''} onInput=${(e) => set(e.target.value)}></textarea>`;
    } else if (s.type === 'number') {
      control = html`<input ...${common} type="number" step=${s.step || 'any'} min=${s.min} max=${s.max} value=${v ?? ''} onInput=${(e) => set(e.target.value === '' ? undefined : Number(e.target.value))} />`;
    } else {
      control = html`<input ...${common} type=${s.type === 'date' ? 'date' : s.type === 'datetime' ? 'datetime-local' : 'text'} autocomplete="off" value=${v ?? ''} onInput=${(e) => set(e.target.value)} />`;
    }
    return html`<div class=${`field${err ? ' has-error' : ''}${s.type === 'longtext' ? ' field-wide' : ''}`}>
      <${Label} id=${id} text=${s.label} required=${s.required} />${control}<${FieldError} id=${id} message=${err} /></div>`;
  })}</div>`;
}
