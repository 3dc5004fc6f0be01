// login.js — sign in: user name and password, then a TOTP code when the
// account has two-factor authentication.
import { html, useState, useRef, useEffect } from '../lib.js';
import { t } from '../i18n.js';
import { login } from '../session.js';
import { navigate } from '../router.js';
import { ApiError } from '../api.js';

export function Login({ next }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [totp, setTotp] = useState('');
  const [needTotp, setNeedTotp] = useState(false);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const totpRef = useRef(null);
  useEffect(() => { document.title = `${t('login.title')} — Amparo`; }, []);
  useEffect(() => { if (needTotp && totpRef.current) totpRef.current.focus(); }, [needTotp]);

  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await login(username.trim(), password, needTotp ? totp.replace(/\s/g, '') : undefined);
      setPassword('');
      navigate(next && next.startsWith('/') && !next.startsWith('/login') ? next : '/', undefined, { replace: true });
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

  return html`<div class="login-wrap">
    <form class="card login" onSubmit=${submit} noValidate aria-describedby=${error ? 'login-error' : undefined}>
      <h1>${t('login.title')}</h1>
      <p class="muted">${t('login.intro')}</p>
      <div role="alert" id="login-error">${error ? html`<p class="notice notice-error">${error}</p>` : null}</div>
      ${!needTotp ? html`
        <div class="field">
          <label for="login-user">${t('login.username')}</label>
          <input id="login-user" name="username" autocomplete="username" required value=${username} onInput=${(e) => setUsername(e.target.value)} />
        </div>
        <div class="field">
          <label for="login-pass">${t('login.password')}</label>
          <input id="login-pass" name="password" type="password" autocomplete="current-password" required value=${password} onInput=${(e) => setPassword(e.target.value)} />
        </div>` : html`
        <p>${t('login.totp_intro')}</p>
        <div class="field">
          <label for="login-totp">${t('login.totp')}</label>
          <input id="login-totp" ref=${totpRef} name="totp" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]*" maxlength="8" required value=${totp} onInput=${(e) => setTotp(e.target.value)} />
        </div>`}
      <div class="actions">
        <button type="submit" class="btn btn-primary" disabled=${busy}>${busy ? t('common.wait') : needTotp ? t('login.verify') : t('login.submit')}</button>
        ${needTotp ? html`<button type="button" class="btn" onClick=${() => { setNeedTotp(false); setTotp(''); setError(null); }}>${t('common.back')}</button>` : null}
      </div>
    </form>
  </div>`;
}
