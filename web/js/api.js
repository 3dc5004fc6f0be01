// api.js — every call to the JSON API goes through here: JSON in and out, the
// caller's language, the CSRF token on unsafe methods (kept in memory only,
// never in storage), versions (If-Match) and one error type.
import { emit } from './lib.js';

let csrfToken = null;
let language = 'en';

let reauth = null; // () => Promise: signs the user in again (a dialog)
let reauthInFlight = null;

let bearer = null; // a session token from a sign-in made without the cookie (see login)

export function setCsrfToken(t) { csrfToken = t || null; }
export function setBearer(t) { bearer = t || null; }
export function hasCsrfToken() { return !!csrfToken; }
// The function that signs in again when a write is refused for want of the
// CSRF token (after a page reload it is gone: it lives in memory only).
export function setReauth(fn) { reauth = fn; }
export function setApiLanguage(l) { language = l; }

// The error shape of the API: {"error":{status, code, message, fields:[{field, rule, message}]}}.
export class ApiError extends Error {
  constructor(status, body, retryAfter) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.status = status;
    this.code = e.code || (status === 0 ? 'network' : 'http_error');
    this.fields = Array.isArray(e.fields) ? e.fields : [];
    this.retryAfter = retryAfter;
    this.body = body;
  }
  // True when the endpoint itself does not exist on this server (a module not
  // installed yet), as opposed to a record that does not exist.
  get isMissingEndpoint() {
    return this.status === 404 && /no such resource/.test(this.message);
  }
  get isConflict() { return this.status === 409 && this.code !== 'invalid_state' && this.code !== 'over_capacity' || this.status === 412; }
}

export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v === undefined || v === null || v === '' || (Array.isArray(v) && !v.length)) continue;
    u.set(k, Array.isArray(v) ? v.join(',') : String(v));
  }
  const s = u.toString();
  return s ? `?${s}` : '';
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export async function request(method, path, opts = {}) {
  try {
    return await send(method, path, opts);
  } catch (e) {
    if (e instanceof ApiError && e.status === 403 && e.code === 'csrf_failed' && reauth && !opts.retried && !opts.noReauth) {
      if (!reauthInFlight) reauthInFlight = reauth().finally(() => { reauthInFlight = null; });
      await reauthInFlight;
      return send(method, path, { ...opts, retried: true });
    }
    throw e;
  }
}

async function send(method, path, { body, query, version, signal, credentials = 'same-origin' } = {}) {
  const headers = { Accept: 'application/json', 'Accept-Language': language };
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers['Content-Type'] = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json';
  if (version) headers['If-Match'] = `"${version}"`;
  if (UNSAFE.has(method) && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let res;
  try {
    res = await fetch(path + qs(query), {
      method, headers, signal, credentials, cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, { error: { message: e.message } });
  }
  const type = res.headers.get('Content-Type') || '';
  let data = null;
  if (res.status !== 204 && res.status !== 304) {
    data = type.includes('json') ? await res.json().catch(() => null) : await res.text();
  }
  if (!res.ok) {
    const err = new ApiError(res.status, data, res.headers.get('Retry-After'));
    if (res.status === 401 && !path.endsWith('/login')) emit('unauthorised', err);
    throw err;
  }
  return data;
}

export const get = (path, query, opts) => request('GET', path, { ...opts, query });
export const post = (path, body, opts) => request('POST', path, { ...opts, body: body === undefined ? {} : body });
export const put = (path, body, opts) => request('PUT', path, { ...opts, body });
export const patch = (path, body, version, opts) => request('PATCH', path, { ...opts, body, version });
export const del = (path, version, opts) => request('DELETE', path, { ...opts, version });

// Fetches every page of a list (for small lists: organisations, shelters).
export async function getAll(path, query = {}, max = 2000) {
  const items = [];
  for (let offset = 0; offset < max; offset += 500) {
    const page = await get(path, { ...query, limit: 500, offset });
    const got = (page && page.items) || [];
    items.push(...got);
    if (items.length >= (page.total ?? items.length) || got.length < 500) break;
  }
  return items;
}
