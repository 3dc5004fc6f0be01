// records.js — the modules' records (assistance, returns, visits,
// proceedings…) shown and created the same way: a list read from the
// module's endpoint, a form from a small spec, the module's picklists with
// their four-language labels, and a notice when the module is not installed.
import { html, useState, useEffect, useEvent, emit } from './lib.js';
import { t, tx, fmtDate, fmtDateTime, fmtNumber } from './i18n.js';
import { get, post, patch, ApiError } from './api.js';
import { picklistOptions, countryName } from './schema.js';
import { useEditor, SpecForm, ErrorSummary, errorsFrom } from './form.js';
import { useApi, Async, Dialog, Empty, Facts, toast, orgName } from './ui.js';

const META = new Set(['id', 'version', 'created_at', 'updated_at', 'created_by', 'updated_by', 'case', 'case_id', 'case_uid']);

const picklistCache = {};
// The picklists of a module: "referrals" or "care" (null while loading or
// when the module is absent).
export function usePicklists(module) {
  useEvent('picklists');
  useEffect(() => {
    if (picklistCache[module] !== undefined) return;
    picklistCache[module] = null;
    get(`/api/v1/${module}/picklists`).then((p) => { picklistCache[module] = (p && p.picklists) || p || {}; emit('picklists'); })
      .catch(() => { picklistCache[module] = {}; emit('picklists'); });
  }, [module]);
  return picklistCache[module] || {};
}

// Options of the first list among names that the module serves.
export function listOptions(picklists, ...names) {
  for (const n of names) {
    const o = picklistOptions(picklists, n);
    if (o.length) return o;
  }
  return [];
}

function humanise(key) {
  return key.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
}

export function recordLabel(key) { return tx(`f.${key}`, humanise(key)); }

// A value of a module record for display.
export function recordValue(key, v, spec) {
  if (v === null || v === undefined || v === '') return '';
  const s = spec && spec.find((x) => x.name === key);
  if (Array.isArray(v)) return v.map((x) => recordValue(key, x, spec)).join(', ');
  if (typeof v === 'boolean') return v ? t('common.yes') : t('common.no');
  if (s && s.options) { const o = s.options.find((x) => x.code === v); if (o) return o.label; }
  if (/_org$|^org$|^to_org$|^from_org$|organisation/.test(key)) return orgName(v);
  if (/country$/.test(key) && /^[A-Z]{2}$/.test(v)) return countryName(v);
  if (typeof v === 'number') return fmtNumber(v);
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v)) return fmtDate(v);
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(v)) return fmtDateTime(v);
  if (typeof v === 'object') return Object.entries(v).map(([k, x]) => `${recordLabel(k)}: ${recordValue(k, x)}`).join('; ');
  return String(v);
}

// The label of a record's field: the form's own (translated) label when the
// spec has the field, else the catalogue of field names.
function factLabel(key, spec) {
  const s = spec && spec.find((x) => x.name === key);
  return (s && s.label) || recordLabel(key);
}

export function RecordFacts({ record, spec, skip }) {
  const keys = Object.keys(record).filter((k) => !META.has(k) && !(skip && skip.includes(k)));
  return html`<${Facts} rows=${keys.map((k) => [factLabel(k, spec), recordValue(k, record[k], spec)])} />`;
}

// A form in a dialog that POSTs (or PATCHes) a record and shows the API's
// errors at the fields.
export function RecordDialog({ open, title, spec, initial, onClose, submit, submitLabel }) {
  const editor = useEditor(initial || {}, { guard: false });
  const [errors, setErrors] = useState({});
  const [other, setOther] = useState([]);
  const [busy, setBusy] = useState(false);
  useEffect(() => { if (open) { editor.reset(initial || {}); setErrors({}); setOther([]); } }, [open]);
  const known = new Set(spec.map((s) => s.name));
  async function onSubmit(e) {
    e.preventDefault();
    setBusy(true);
    try {
      await submit(editor.values);
      onClose(true);
    } catch (err) {
      if (err instanceof ApiError && err.fields.length) {
        const { byField, other: rest } = errorsFrom(err, known, (n) => (spec.find((x) => x.name === n) || {}).label || n);
        setErrors(byField);
        setOther(rest);
      } else {
        setErrors({});
        setOther([err instanceof ApiError && err.isMissingEndpoint ? t('module.missing_title') : err.message]);
      }
    } finally { setBusy(false); }
  }
  return html`<${Dialog} open=${open} title=${title} onClose=${() => onClose(false)} wide>
    <form onSubmit=${onSubmit} noValidate>
      <${ErrorSummary} errors=${errors} other=${other} prefix="dlg" labelOf=${(n) => (spec.find((s) => s.name === n) || {}).label || n} />
      <${SpecForm} spec=${spec} editor=${editor} errors=${errors} prefix="dlg" />
      <div class="actions">
        <button type="submit" class="btn btn-primary" disabled=${busy}>${busy ? t('common.saving') : submitLabel || t('common.save')}</button>
        <button type="button" class="btn" onClick=${() => onClose(false)}>${t('common.cancel')}</button>
      </div>
    </form>
  <//>`;
}

// A list of a module's records with an "add" button: the common shape of the
// case page's module tabs.
export function RecordsSection({ title, what, listPath, listQuery, createPath, createBody, create, spec, canCreate, addLabel, columns, render, empty, onCreated, header, footer }) {
  const s = useApi(() => get(listPath, listQuery), [listPath, JSON.stringify(listQuery || {})]);
  const [adding, setAdding] = useState(false);
  const missing = s.error instanceof ApiError && s.error.isMissingEndpoint;
  return html`<section class="records" aria-labelledby=${`rs-${what}`}>
    <div class="row-head"><h2 id=${`rs-${what}`}>${title}</h2>
      ${canCreate && !missing && !s.loading ? html`<button type="button" class="btn btn-primary" onClick=${() => setAdding(true)}>${addLabel || t('common.add')}</button>` : null}
    </div>
    <${Async} state=${s} what=${title}>${(d) => {
      const items = (d && (d.items || (Array.isArray(d) ? d : null))) || [];
      let body;
      if (!items.length) body = html`<${Empty}>${empty || t('common.none')}<//>`;
      else if (render) body = render(items, s.reload);
      else if (columns) {
        body = html`<div class="table-wrap" tabindex="0" role="region" aria-label=${`${title} — ${t('common.table_scroll')}`}><table class="data"><caption class="sr-only">${title}</caption>
          <thead><tr>${columns.map((c) => html`<th scope="col">${recordLabel(c)}</th>`)}</tr></thead>
          <tbody>${items.map((r) => html`<tr>${columns.map((c) => html`<td>${recordValue(c, r[c], spec)}</td>`)}</tr>`)}</tbody></table></div>`;
      } else body = html`<ul class="record-list">${items.map((r) => html`<li class="card"><${RecordFacts} record=${r} spec=${spec} /></li>`)}</ul>`;
      return html`${header ? header(d) : null}${body}${footer ? footer(d) : null}`;
    }}<//>
    ${canCreate ? html`<${RecordDialog} open=${adding} title=${addLabel || title} spec=${spec}
      onClose=${(saved) => { setAdding(false); if (saved) { toast(t('common.saved')); s.reload(); if (onCreated) onCreated(); } }}
      submit=${(v) => (create ? create(v) : post(createPath || listPath, createBody ? createBody(v) : v))} />` : null}
  </section>`;
}

export { patch };
