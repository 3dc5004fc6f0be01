// login.js — sign in: user name and password, then a TOTP code when the
// account has two-factor authentication.
import { html, useState, useRef, useEffect } from '../lib.js';
import { t } from '../i18n.js';
import { login } from '../session.js';
import { navigate } from '../router.js';
import { ApiError } from '../api.js';

export function Login({ next }) {
  useEffect(() => { document.title = `${t('login.title')} — Amparo`; }, []);
  return html`<div class="login-wrap">
    <div class="card login">
      <h1>${t('login.title')}</h1>
      <p class="muted">${t('login.intro')}</p>
      <${LoginForm} onDone=${() => navigate(next && next.startsWith('/') && !next.startsWith('/login') ? next : '/', undefined, { replace: true })} />
    </div>
  </div>`;
}

// The sign-in form (user name and password, then a TOTP code when needed);
// onDone() after success.  Used by the sign-in screen and by the dialog that
// signs in again when a session lost its CSRF token.
export function LoginForm({ onDone, username: fixedUser, prefix = 'login' }) {
  const [username, setUsername] = useState(fixedUser || '');
  const [password, setPassword] = useState('');
  const [totp, setTotp] = useState('');
  const [needTotp, setNeedTotp] = useState(false);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const totpRef = useRef(null);
  useEffect(() => { if (needTotp && totpRef.current) totpRef.current.focus(); }, [needTotp]);

  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await login(username.trim(), password, needTotp ? totp.replace(/\s/g, '') : undefined);
      setPassword('');
      onDone();
    } catch (err) {
      if (err instanceof ApiError && err.code === 'totp_required') {
        if (needTotp) setError(t('login.totp_wrong'));
        setNeedTotp(true);
      } else if (err instanceof ApiError && err.status === 429) {
        setError(t('login.throttled', { s: err.retryAfter || '60' }));
      } else if (err instanceof ApiError && err.status === 401) {
        setError(t('login.wrong'));
      } else if (err instanceof ApiError && err.isMissingEndpoint) {
        setError(t('login.unavailable'));
      } else {
        setError(err.message);
      }
    } finally {
      setBusy(false);
    }
  }

  const id = (x) => `${prefix}-${x}`;
  return html`<form onSubmit=${submit} noValidate aria-describedby=${error ? id('error') : undefined}>
      <div role="alert" id=${id('error')}>${error ? html`<p class="notice notice-error">${error}</p>` : null}</div>
      ${!needTotp ? html`
        <div class="field">
          <label for=${id('user')}>${t('login.username')}</label>
          <input id=${id('user')} name="username" autocomplete="username" required value=${username} readOnly=${!!fixedUser} onInput=${(e) => setUsername(e.target.value)} />
        </div>
        <div class="field">
          <label for=${id('pass')}>${t('login.password')}</label>
          <input id=${id('pass')} name="password" type="password" autocomplete="current-password" required value=${password} onInput=${(e) => setPassword(e.target.value)} />
        </div>` : html`
        <p>${t('login.totp_intro')}</p>
        <div class="field">
          <label for=${id('totp')}>${t('login.totp')}</label>
          <input id=${id('totp')} ref=${totpRef} name="totp" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]*" maxlength="8" required value=${totp} onInput=${(e) => setTotp(e.target.value)} />
        </div>`}
      <div class="actions">
        <button type="submit" class="btn btn-primary" disabled=${busy}>${busy ? t('common.wait') : needTotp ? t('login.verify') : t('login.submit')}</button>
        ${needTotp ? html`<button type="button" class="btn" onClick=${() => { setNeedTotp(false); setTotp(''); setError(null); }}>${t('common.back')}</button>` : null}
      </div>
    </form>`;
}
