// ui.js — shared pieces of the screens: loading and error states, the
// "module not available" notice, paging, dialogs, toasts, definition lists.
import { html, useState, useEffect, useRef, useCallback, emit, on, useEvent, uid } from './lib.js';
import { t, fmtDate, fmtNumber, fmtDateTime } from './i18n.js';
import { ApiError, getAll } from './api.js';

// Runs an API call when deps change: {data, error, loading, reload, setData}.
export function useApi(fn, deps) {
  const [state, setState] = useState({ data: undefined, error: null, loading: true });
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true, error: null }));
    Promise.resolve()
      .then(fn)
      .then((data) => live && setState({ data, error: null, loading: false }))
      .catch((error) => live && setState({ data: undefined, error, loading: false }));
    return () => { live = false; };
  }, [...deps, n]);
  const reload = useCallback(() => setN((x) => x + 1), []);
  const setData = useCallback((data) => setState({ data, error: null, loading: false }), []);
  return { ...state, reload, setData };
}

export function Loading({ label }) {
  return html`<p class="loading" role="status"><span class="spinner" aria-hidden="true"></span>${label || t('common.loading')}</p>`;
}

export function ModuleMissing({ what }) {
  return html`<div class="notice notice-info" role="note">
    <strong>${t('module.missing_title')}</strong>
    <p>${t('module.missing_body', { what: what || '' })}</p>
  </div>`;
}

export function ErrorBox({ error, what }) {
  if (!error) return null;
  if (error instanceof ApiError && error.isMissingEndpoint) return html`<${ModuleMissing} what=${what} />`;
  let msg = error.message;
  if (error instanceof ApiError) {
    if (error.status === 0) msg = t('error.network');
    else if (error.status === 403) msg = `${t('error.forbidden')} ${error.message}`;
    else if (error.status === 429) msg = t('error.throttled', { s: error.retryAfter || '?' });
  }
  return html`<div class="notice notice-error" role="alert">
    <strong>${t('error.title')}</strong> <span>${msg}</span>
    ${error.fields && error.fields.length ? html`<ul>${error.fields.map((f) => html`<li>${f.message}</li>`)}</ul>` : null}
  </div>`;
}

// Shows the states of a useApi result, or renders children(data).
export function Async({ state, what, children }) {
  if (state.loading && state.data === undefined) return html`<${Loading} />`;
  if (state.error) return html`<${ErrorBox} error=${state.error} what=${what} />`;
  return children(state.data);
}

export function Pager({ total, limit, offset, onPage }) {
  if (!total || total <= limit) return null;
  const page = Math.floor(offset / limit) + 1;
  const pages = Math.ceil(total / limit);
  return html`<nav class="pager" aria-label=${t('pager.label')}>
    <button type="button" class="btn" disabled=${offset <= 0} onClick=${() => onPage(Math.max(0, offset - limit))}>${t('pager.prev')}</button>
    <span>${t('pager.page', { page: fmtNumber(page), pages: fmtNumber(pages) })}</span>
    <button type="button" class="btn" disabled=${offset + limit >= total} onClick=${() => onPage(offset + limit)}>${t('pager.next')}</button>
  </nav>`;
}

// A modal dialog (the native <dialog>: focus stays inside, Escape closes).
export function Dialog({ open, title, onClose, children, wide }) {
  const ref = useRef(null);
  const headingId = useRef(uid('dialog-heading')).current;
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return html`<dialog ref=${ref} class=${wide ? 'dialog wide' : 'dialog'} aria-labelledby=${title ? headingId : undefined}
      onClose=${() => open && onClose && onClose()} onCancel=${(e) => { e.preventDefault(); onClose && onClose(); }}>
    ${open ? html`<div class="dialog-head"><h2 id=${headingId}>${title}</h2>
      <button type="button" class="btn-icon" aria-label=${t('common.close')} onClick=${onClose}>×</button></div>
      <div class="dialog-body">${children}</div>` : null}
  </dialog>`;
}

export function toast(message, kind = 'ok') { emit('toast', { message, kind, at: Date.now() }); }

export function Toaster() {
  const [items, setItems] = useState([]);
  useEffect(() => on('toast', (x) => {
    setItems((l) => [...l.slice(-3), x]);
    setTimeout(() => setItems((l) => l.filter((i) => i !== x)), 6000);
  }), []);
  // a message about a case must not outlive the session that caused it
  useEffect(() => on('session', () => setItems([])), []);
  return html`<div class="toasts" role="status" aria-live="polite">
    ${items.map((i) => html`<div class=${`toast toast-${i.kind}`}>${i.message}
      <button type="button" class="toast-x" aria-label=${t('common.close')} onClick=${() => setItems((l) => l.filter((x) => x !== i))}>×</button></div>`)}
  </div>`;
}

// <dl> of [label, value] pairs (empty values shown as a dash).
export function Facts({ rows }) {
  return html`<dl class="facts">${rows.filter(Boolean).map(([k, v]) => html`<div><dt>${k}</dt><dd>${v === '' || v === undefined || v === null ? html`<span class="muted">—</span>` : v}</dd></div>`)}</dl>`;
}

export function Badge({ kind, children }) {
  return html`<span class=${`badge badge-${kind || 'plain'}`}>${children}</span>`;
}

export function Empty({ children }) {
  return html`<p class="empty">${children || t('common.none')}</p>`;
}

export const fmt = {
  get yes() { return t('common.yes'); },
  get no() { return t('common.no'); },
  date: fmtDate,
  number: fmtNumber,
  datetime: fmtDateTime,
};

// Organisations, loaded once per session: id -> record.
let orgCache = null;
export async function loadOrgs(force) {
  if (!orgCache || force) {
    try {
      const items = await getAll('/api/v1/organisations');
      orgCache = new Map(items.map((o) => [o.id, o]));
    } catch { orgCache = new Map(); }
    emit('orgs');
  }
  return orgCache;
}
export function orgName(id) {
  const o = orgCache && orgCache.get(id);
  return (o && o.org_Name) || id || '';
}
export function useOrgs() {
  useEvent('orgs');
  useEffect(() => { loadOrgs(); }, []);
  return orgCache ? [...orgCache.values()] : [];
}
fmt.org = orgName;

export function PageHead({ title, children }) {
  useEffect(() => { document.title = `${title} — Amparo`; }, [title]);
  return html`<div class="page-head"><h1>${title}</h1><div class="page-actions">${children}</div></div>`;
}
