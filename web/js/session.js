// session.js — who is signed in and what they may do (GET /api/v1/me).
// Until accounts exist on the server (/me answers 404) the UI acts as the
// server does: a local operator with every permission.
import { get, post, patch, setCsrfToken, setBearer, ApiError } from './api.js';
import { emit } from './lib.js';

let me = null; // {user, permissions, local}

export function session() { return me; }

export async function loadSession() {
  try {
    const data = await get('/api/v1/me');
    if (data && data.csrf_token) setCsrfToken(data.csrf_token);
    const user = data.user || data;
    me = { user, permissions: data.permissions || {}, local: false, mfaPending: !!(user.mfa_required && !user.mfa_enrolled) };
  } catch (e) {
    if (e instanceof ApiError && e.isMissingEndpoint) {
      me = { user: { username: 'local', roles: [], lang: null }, permissions: null, local: true };
    } else if (e instanceof ApiError && e.status === 401) {
      me = null;
    } else {
      throw e;
    }
  }
  emit('session', me);
  return me;
}

// Logs in; answers the user, or throws ApiError (401 totp_required, 429…).
export async function login(username, password, totp) {
  const body = { username, password };
  if (totp) body.totp = totp;
  let data;
  try {
    data = await post('/api/v1/login', body, { noReauth: true });
    setBearer(null);
  } catch (e) {
    // This page lost its CSRF token (a reload) while the session cookie is
    // still valid, and the server wants the token on every cookie POST: sign
    // in without the cookie and use the new session's token from memory.
    if (!(e instanceof ApiError && e.code === 'csrf_failed')) throw e;
    data = await post('/api/v1/login', body, { noReauth: true, credentials: 'omit' });
    setBearer(data.token);
  }
  setCsrfToken(data.csrf_token);
  me = null;
  await loadSession();
  // a role that requires a second factor, not enrolled yet: this session may
  // only enrol one
  if (me && data.mfa_enrolment_required) { me.mfaPending = true; emit('session', me); }
  return data.user;
}

export async function logout() {
  try { await post('/api/v1/logout', {}, { noReauth: true }); } catch { /* gone already */ }
  setCsrfToken(null);
  setBearer(null);
  me = null;
  emit('session', null);
}

export function clearSession() {
  setCsrfToken(null);
  setBearer(null);
  me = null;
  emit('session', null);
}

// True when the user's roles allow the action on the resource
// (resource and action names as in GET /api/v1/me: "case", "read"…).
export function can(resource, action = 'read') {
  if (!me || me.mfaPending) return false;
  if (!me.permissions) return true; // local operator
  const acts = me.permissions[resource];
  return Array.isArray(acts) && acts.includes(action);
}

export function hasRole(role) {
  return !!me && (!me.permissions || (me.user.roles || []).includes(role));
}

export async function saveLanguage(lang) {
  if (!me || me.local) return;
  try { await patch('/api/v1/me', { lang }); me.user.lang = lang; } catch { /* kept locally */ }
}
