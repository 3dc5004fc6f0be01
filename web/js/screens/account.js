// account.js — my account: who I am, my language, two-factor
// authentication (TOTP enrolment with a QR code) and my API tokens.
import { html, useState } from '../lib.js';
import { t, fmtDateTime, LANGUAGES, currentLang, setLang } from '../i18n.js';
import { get, post, del } from '../api.js';
import { session, saveLanguage, loadSession } from '../session.js';
import { useApi, Async, Empty, PageHead, Facts, toast, orgName, Badge, ErrorBox } from '../ui.js';

export function Totp({ onEnrolled }) {
  const me = session();
  const [enrol, setEnrol] = useState(null);
  const [code, setCode] = useState('');
  const [error, setError] = useState(null);
  async function start() {
    setError(null);
    try { setEnrol(await post('/api/v1/me/totp', {})); } catch (e) { setError(e); }
  }
  async function confirm(e) {
    e.preventDefault();
    setError(null);
    try {
      await post('/api/v1/me/totp/confirm', { code: code.replace(/\s/g, '') });
      setEnrol(null); setCode('');
      toast(t('account.mfa_done'));
      if (onEnrolled) await onEnrolled();
      else await loadSession();
    } catch (err) { setError(err); }
  }
  return html`<section class="card" aria-labelledby="acc-mfa"><h2 id="acc-mfa">${t('account.mfa')}</h2>
    ${me.user.mfa_enrolled ? html`<p><${Badge} kind="ok">${t('admin.mfa_on')}<//> ${t('account.mfa_on')}</p>` : html`<p>${t('account.mfa_intro')}</p>`}
    <${ErrorBox} error=${error} />
    ${!enrol ? html`<button type="button" class="btn btn-primary" onClick=${start}>${me.user.mfa_enrolled ? t('account.mfa_reset') : t('account.mfa_start')}</button>` : html`
      <ol class="steps">
        <li>${t('account.mfa_scan')}
          ${enrol.qr_svg ? html`<img class="qr" alt=${t('account.qr_alt')} src=${`data:image/svg+xml;charset=utf-8,${encodeURIComponent(enrol.qr_svg)}`} width="200" height="200" />` : null}
          <p>${t('account.mfa_secret')} <code class="secret">${enrol.secret}</code></p></li>
        <li><form onSubmit=${confirm} noValidate class="inline">
          <div class="field"><label for="totp-code">${t('login.totp')}</label>
            <input id="totp-code" inputmode="numeric" autocomplete="one-time-code" maxlength="8" value=${code} onInput=${(e) => setCode(e.target.value)} /></div>
          <button type="submit" class="btn btn-primary">${t('account.mfa_confirm')}</button>
        </form></li>
      </ol>`}
  </section>`;
}

function Tokens() {
  const s = useApi(() => get('/api/v1/tokens'), []);
  const [name, setName] = useState('');
  const [made, setMade] = useState(null);
  const [days, setDays] = useState('90');
  async function create(e) {
    e.preventDefault();
    try { const r = await post('/api/v1/tokens', { name, expires_days: Number(days) || 90 }); setMade(r.token); setName(''); s.reload(); } catch (err) { toast(err.message, 'error'); }
  }
  return html`<section class="card" aria-labelledby="acc-tok"><h2 id="acc-tok">${t('account.tokens')}</h2>
    <p class="muted">${t('account.tokens_intro')}</p>
    ${made ? html`<div class="notice notice-warn" role="alert"><p>${t('account.token_once')}</p><code class="secret">${made}</code></div>` : null}
    <${Async} state=${s} what=${t('module.accounts')}>${(d) => html`
      ${!(d.items || []).length ? html`<${Empty} />` : html`<ul class="list">${d.items.map((x) => html`<li>${x.name || x.id} · <span class="muted">${fmtDateTime(x.created_at)}${x.expires_at ? ` → ${fmtDateTime(x.expires_at)}` : ''}</span>
        <button type="button" class="btn btn-small btn-danger" onClick=${async () => { if (window.confirm(t('account.revoke_q'))) { await del(`/api/v1/tokens/${x.id}`); s.reload(); } }}>${t('account.revoke')}</button></li>`)}</ul>`}
      <form class="inline" onSubmit=${create}><div class="field"><label for="tok-name">${t('account.token_name')}</label>
        <input id="tok-name" value=${name} onInput=${(e) => setName(e.target.value)} /></div>
        <div class="field"><label for="tok-days">${t('account.token_days')}</label>
        <input id="tok-days" type="number" min="1" max="365" value=${days} onInput=${(e) => setDays(e.target.value)} /></div>
        <button type="submit" class="btn" disabled=${!name}>${t('account.token_create')}</button></form>`}<//>
  </section>`;
}

export function Account() {
  const me = session();
  return html`<div class="page">
    <${PageHead} title=${t('account.title')} />
    <div class="cards cards-2">
      <section class="card" aria-labelledby="acc-me"><h2 id="acc-me">${t('account.me')}</h2>
        <${Facts} rows=${[[t('admin.username'), me.user.username], [t('admin.org'), orgName(me.user.org)], [t('admin.roles'), (me.user.roles || []).map((r) => t(`role.${r}`)).join(', ')]]} />
        <div class="field"><label for="acc-lang">${t('account.language')}</label>
          <select id="acc-lang" onChange=${async (e) => { await setLang(e.target.value); await saveLanguage(e.target.value); toast(t('common.saved')); }}>
            ${LANGUAGES.map((l) => html`<option value=${l.code} selected=${l.code === currentLang()}>${l.name}</option>`)}
          </select></div>
      </section>
      ${me.local ? null : html`<${Totp} />`}
      ${me.local ? null : html`<${Tokens} />`}
    </div>
  </div>`;
}
