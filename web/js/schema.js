// schema.js — the field catalogue (GET /api/v1/schema): HTCDS sections,
// fields, picklists and the ISO country and language lists, with labels in
// en/es/fr/uk.
import { get } from './api.js';
import { tl, collator } from './i18n.js';

let catalogue = null;
const byKey = new Map(); // "section/name" -> field
const byName = new Map(); // name -> first field of that name

export async function loadSchema() {
  if (catalogue) return catalogue;
  catalogue = await get('/api/v1/schema');
  for (const f of catalogue.fields) {
    byKey.set(`${f.section}/${f.name}`, f);
    if (!byName.has(f.name)) byName.set(f.name, f);
  }
  return catalogue;
}

export function schema() { return catalogue; }

export function entity(name) { return catalogue.entities.find((e) => e.name === name); }

export function section(name) { return catalogue.sections.find((s) => s.name === name); }

// The sections of an entity, each with its fields, in catalogue order.
export function sectionsOf(entityName, { only } = {}) {
  const e = entity(entityName);
  if (!e) return [];
  return e.sections
    .filter((s) => !only || only.includes(s))
    .map((s) => ({ ...section(s), fields: catalogue.fields.filter((f) => f.section === s) }));
}

export function field(name, sectionName) {
  return (sectionName && byKey.get(`${sectionName}/${name}`)) || byName.get(name);
}

export function fieldLabel(name, sectionName) {
  const f = field(name, sectionName);
  return f ? tl(f.label, name) : name;
}

export function valueLabel(fieldName, value, sectionName) {
  const f = field(fieldName, sectionName);
  if (!f) return String(value);
  if (f.type === 'country') return countryName(value);
  if (f.type === 'language') return languageName(value);
  const v = (f.values || []).find((x) => x.name === value);
  return v ? tl(v.label, value) : String(value);
}

// A field's value for display: lists joined, booleans, labels.
export function displayValue(f, value, fmt) {
  if (value === undefined || value === null || value === '') return '';
  if (Array.isArray(value)) return value.map((v) => displayValue(f, v, fmt)).join(', ');
  if (f.type === 'checkbox') return value ? fmt.yes : fmt.no;
  if (f.type === 'date') return fmt.date(value);
  if (f.type === 'number') return fmt.number(value);
  if (['picklist', 'multiselect', 'country', 'language'].includes(f.type)) return valueLabel(f.name, value, f.section);
  if (f.type === 'lookup' && f.target === 'organisation' && fmt.org) return fmt.org(value);
  return String(value);
}

function codelist(name) {
  return (catalogue && catalogue.codelists && catalogue.codelists[name]) || [];
}

export function countryName(code) {
  const c = codelist('country').find((x) => x.code === code);
  return c ? tl(c.label, code) : code;
}

export function languageName(code) {
  const c = codelist('language').find((x) => x.code === code);
  return c ? tl(c.label, code) : code;
}

// [{code, label}] sorted by label in the user's language.
export function options(listName) {
  const col = collator();
  return codelist(listName)
    .map((c) => ({ code: c.code, label: tl(c.label, c.code) }))
    .sort((a, b) => col.compare(a.label, b.label));
}

export function fieldOptions(f) {
  if (f.type === 'country') return options('country');
  if (f.type === 'language') return options('language');
  return (f.values || []).map((v) => ({ code: v.name, label: tl(v.label, v.name) }));
}

// True when the field's applies_if condition holds for the record.
export function applies(f, record) {
  const c = f.applies_if;
  if (!c) return true;
  const v = record[c.field];
  const vals = Array.isArray(v) ? v : v === undefined || v === null ? [] : [v];
  return vals.some((x) => c.in.includes(x));
}

export function isRequired(f, record) {
  if (f.required) return true;
  const c = f.required_if;
  if (!c) return false;
  const v = record[c.field];
  const vals = Array.isArray(v) ? v : v === undefined || v === null ? [] : [v];
  return vals.some((x) => c.in.includes(x));
}

// Module picklists ({"services": [{"name"|"code", "label": {...}}], ...} or
// {"services": {"Code": {...labels}}}) as [{code, label}] for one list.
export function picklistOptions(picklists, listName) {
  const list = picklists && picklists[listName];
  if (!list) return [];
  if (Array.isArray(list)) {
    return list.map((v) => (typeof v === 'string'
      ? { code: v, label: v }
      : { code: v.name ?? v.code ?? v.value ?? v.id, label: tl(v.label ?? v.labels, v.name ?? v.code ?? v.value) }));
  }
  if (list.values) return picklistOptions({ x: list.values }, 'x');
  return Object.entries(list).map(([code, label]) => ({ code, label: tl(label, code) }));
}

export function picklistLabel(picklists, listName, code) {
  const o = picklistOptions(picklists, listName).find((x) => x.code === code);
  return o ? o.label : code;
}
