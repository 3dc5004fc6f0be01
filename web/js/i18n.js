// i18n.js — the UI's messages in en, es, fr and uk (web/i18n/<lang>.json),
// dates and numbers with Intl in the user's locale.
import { emit } from './lib.js';
import { setApiLanguage } from './api.js';

export const LANGUAGES = [
  { code: 'en', name: 'English' },
  { code: 'es', name: 'Español' },
  { code: 'fr', name: 'Français' },
  { code: 'uk', name: 'Українська' },
];
const SUPPORTED = LANGUAGES.map((l) => l.code);
const STORE_KEY = 'amparo.lang';

let lang = 'en';
let messages = {};
let fallback = {};
const cache = {};

async function load(code) {
  if (!cache[code]) {
    const res = await fetch(new URL(`../i18n/${code}.json`, import.meta.url));
    cache[code] = await res.json();
  }
  return cache[code];
}

export function currentLang() { return lang; }

// The language to start with: the one chosen on this device, else the
// browser's first supported one, else English.
export function initialLang() {
  const saved = localStorage.getItem(STORE_KEY);
  if (SUPPORTED.includes(saved)) return saved;
  for (const l of navigator.languages || [navigator.language || 'en']) {
    const base = String(l).slice(0, 2).toLowerCase();
    if (SUPPORTED.includes(base)) return base;
  }
  return 'en';
}

export async function setLang(code, { remember = true } = {}) {
  if (!SUPPORTED.includes(code)) code = 'en';
  const [m, f] = await Promise.all([load(code), load('en')]);
  lang = code;
  messages = m;
  fallback = f;
  if (remember) localStorage.setItem(STORE_KEY, code);
  document.documentElement.lang = code;
  setApiLanguage(code);
  numberFormats.clear();
  emit('lang', code);
}

function interpolate(s, vars) {
  return s.replace(/\{(\w+)\}/g, (m, k) => (vars && vars[k] !== undefined ? String(vars[k]) : m));
}

// t('cases.total', {n: 3}); a message may be {one, other, ...} for plurals (vars.n).
export function t(key, vars) {
  let m = messages[key] ?? fallback[key];
  if (m === undefined) return key;
  if (typeof m === 'object') {
    const form = new Intl.PluralRules(lang).select(Number(vars && vars.n) || 0);
    m = m[form] ?? m.other;
    if (vars && vars.n !== undefined) vars = { ...vars, n: fmtNumber(vars.n) };
  }
  return interpolate(m, vars);
}

// The message, or fallbackText when no catalogue has the key.
export function tx(key, fallbackText, vars) {
  return messages[key] !== undefined || fallback[key] !== undefined ? t(key, vars) : fallbackText;
}

// A label object {"en": ..., "es": ...} in the user's language.
export function tl(label, fallbackText = '') {
  if (!label) return fallbackText;
  if (typeof label === 'string') return label;
  return label[lang] || label.en || Object.values(label)[0] || fallbackText;
}

const numberFormats = new Map();
export function fmtNumber(n, opts) {
  if (n === null || n === undefined || n === '') return '';
  const k = JSON.stringify(opts || {});
  if (!numberFormats.has(k)) numberFormats.set(k, new Intl.NumberFormat(lang, opts));
  return numberFormats.get(k).format(Number(n));
}

export function fmtMoney(n, currency) {
  if (n === null || n === undefined || n === '') return '';
  try { return fmtNumber(n, { style: 'currency', currency: currency || 'USD' }); } catch { return `${fmtNumber(n)} ${currency || ''}`; }
}

// "2026-03-14" (a calendar date, no time zone) or a timestamp.
export function fmtDate(s) {
  if (!s) return '';
  const d = /^\d{4}-\d{2}-\d{2}$/.test(s) ? new Date(`${s}T00:00:00Z`) : new Date(s);
  if (Number.isNaN(d.getTime())) return String(s);
  return new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeZone: /^\d{4}-\d{2}-\d{2}$/.test(s) ? 'UTC' : undefined }).format(d);
}

export function fmtDateTime(s) {
  if (!s) return '';
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) return String(s);
  return new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

export function fmtDuration(hours) {
  if (hours === null || hours === undefined) return '';
  if (hours < 48) return t('unit.hours', { n: Math.round(hours) });
  return t('unit.days', { n: Math.round(hours / 24) });
}

export function today() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

export const collator = () => new Intl.Collator(lang);
