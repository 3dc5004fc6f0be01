// main.js — starts the app: language, field catalogue, session; the page
// frame (skip link, header, navigation, language switcher) and the screens.
import { html, render, useState, useEffect, useRef, useEvent, on } from './lib.js';
import { t, setLang, initialLang, currentLang, LANGUAGES } from './i18n.js';
import { loadSchema } from './schema.js';
import { session, loadSession, can, logout, saveLanguage, clearSession } from './session.js';
import { useRoute, navigate, confirmLeave } from './router.js';
import { Toaster, Loading, ErrorBox, loadOrgs, Dialog, toast } from './ui.js';
import { setReauth } from './api.js';
import { Login, LoginForm } from './screens/login.js';
import { Home } from './screens/home.js';
import { CaseList } from './screens/cases.js';
import { CaseEdit } from './screens/case-edit.js';
import { CasePage } from './screens/case-page.js';
import { Referrals, ReferralPage } from './screens/referrals.js';
import { Shelters, ShelterPage } from './screens/shelters.js';
import { Hotline } from './screens/hotline.js';
import { Trainings } from './screens/trainings.js';
import { Reports } from './screens/reports.js';
import { Admin } from './screens/admin.js';
import { Audit } from './screens/audit.js';
import { Account, Totp } from './screens/account.js';

function navItems() {
  return [
    { path: '/', key: 'nav.home', show: true },
    { path: '/cases', key: 'nav.cases', show: can('case', 'read') },
    { path: '/referrals', key: 'nav.referrals', show: can('referral', 'read') },
    { path: '/shelters', key: 'nav.shelters', show: can('shelter', 'read') },
    { path: '/hotline', key: 'nav.hotline', show: can('hotline', 'read') },
    { path: '/trainings', key: 'nav.trainings', show: can('training', 'read') },
    { path: '/reports', key: 'nav.reports', show: can('report', 'read') },
    { path: '/admin', key: 'nav.admin', show: can('organisation', 'update') || can('user', 'read') },
    { path: '/audit', key: 'nav.audit', show: can('audit', 'read') },
  ].filter((i) => i.show);
}

function LanguageSwitcher() {
  return html`<div class="lang-switch">
    <label for="lang-select">${t('nav.language')}</label>
    <select id="lang-select" value=${currentLang()} onChange=${async (e) => {
      const l = e.target.value;
      await setLang(l);
      saveLanguage(l);
    }}>
      ${LANGUAGES.map((l) => html`<option value=${l.code} lang=${l.code} selected=${l.code === currentLang()}>${l.name}</option>`)}
    </select>
  </div>`;
}

function Header({ route }) {
  const me = session();
  const [open, setOpen] = useState(false);
  const active = (p) => (p === '/' ? route.path === '/' : route.path.startsWith(p));
  useEffect(() => setOpen(false), [route.path]);
  return html`<header class="top">
    <a class="skip" href="#main" onClick=${(e) => { e.preventDefault(); document.getElementById('main').focus(); }}>${t('nav.skip')}</a>
    <div class="top-bar">
      <a class="brand" href="#/"><span class="logo" aria-hidden="true">◆</span> Amparo</a>
      ${me ? html`<button type="button" class="btn nav-toggle" aria-expanded=${open ? 'true' : 'false'} aria-controls="main-nav" onClick=${() => setOpen(!open)}>${t('nav.menu')}</button>` : null}
      <div class="top-right">
        <${LanguageSwitcher} />
        ${me ? html`<div class="user">
          ${me.local ? html`<span class="badge badge-warn" title=${t('session.local_hint')}>${t('session.local')}</span>`
            : html`<a href="#/account" class="user-name">${me.user.username}${me.user.org ? html` <span class="muted">· ${me.user.org}</span>` : null}</a>
              <button type="button" class="btn btn-small" onClick=${async () => { if (confirmLeave()) { await logout(); navigate('/login'); } }}>${t('nav.logout')}</button>`}
        </div>` : null}
      </div>
    </div>
    ${me ? html`<nav id="main-nav" class=${open ? 'main-nav open' : 'main-nav'} aria-label=${t('nav.main')}>
      <ul>${navItems().map((i) => html`<li><a href=${`#${i.path}`} aria-current=${active(i.path) ? 'page' : undefined}>${t(i.key)}</a></li>`)}</ul>
    </nav>` : null}
  </header>`;
}

function Screen({ route }) {
  const [a, b, c] = route.parts;
  const q = route.query;
  switch (a) {
    case undefined: return html`<${Home} />`;
    case 'cases':
      if (!b) return html`<${CaseList} query=${q} />`;
      if (b === 'new') return html`<${CaseEdit} query=${q} />`;
      if (c === 'edit') return html`<${CaseEdit} id=${b} />`;
      return html`<${CasePage} id=${b} tab=${c || 'person'} query=${q} />`;
    case 'referrals': return b ? html`<${ReferralPage} id=${b} />` : html`<${Referrals} query=${q} />`;
    case 'shelters': return b ? html`<${ShelterPage} id=${b} query=${q} />` : html`<${Shelters} />`;
    case 'hotline': return html`<${Hotline} query=${q} />`;
    case 'trainings': return html`<${Trainings} query=${q} />`;
    case 'reports': return html`<${Reports} tab=${b || 'dashboard'} query=${q} />`;
    case 'admin': return html`<${Admin} section=${b || 'organisations'} query=${q} />`;
    case 'audit': return html`<${Audit} query=${q} />`;
    case 'account': return html`<${Account} />`;
    default: return html`<div class="page"><h1>${t('error.not_found_title')}</h1><p>${t('error.not_found_body')}</p><p><a href="#/">${t('nav.home')}</a></p></div>`;
  }
}

// Signs in again, in a dialog, when a write was refused because this page has
// no CSRF token (a reload forgets it: it is kept in memory only); the write is
// then sent again, so nothing typed is lost.
function Reauth() {
  const [pending, setPending] = useState(null);
  useEffect(() => {
    setReauth(() => new Promise((resolve, reject) => setPending({ resolve, reject })));
    return () => setReauth(null);
  }, []);
  if (!pending) return null;
  const me = session();
  return html`<${Dialog} open=${true} title=${t('login.again_title')} onClose=${() => { pending.reject(new Error(t('login.again_cancelled'))); setPending(null); }}>
    <p>${t('login.again_body')}</p>
    <${LoginForm} prefix="reauth" username=${me && !me.local ? me.user.username : ''} onDone=${() => { pending.resolve(); setPending(null); }} />
  <//>`;
}

// A role that must use a second factor, not enrolled yet: enrolment only.
function MfaRequired() {
  return html`<div class="page">
    <h1>${t('account.mfa_required_title')}</h1>
    <p class="notice notice-warn" role="note">${t('account.mfa_required_body')}</p>
    <${Totp} onEnrolled=${async () => { await logout(); toast(t('account.mfa_signin_again')); navigate('/login'); }} />
  </div>`;
}

function App() {
  useEvent('lang');
  useEvent('session');
  const route = useRoute();
  const me = session();
  const firstRoute = useRef(true);
  useEffect(() => {
    // after navigating (not on the first page load, where the skip link comes
    // first), focus the new screen's heading so screen readers announce it
    if (firstRoute.current) { firstRoute.current = false; return; }
    window.scrollTo(0, 0);
    const focusHeading = () => {
      const h1 = document.querySelector('main h1');
      if (!h1) return false;
      h1.tabIndex = -1;
      h1.focus({ preventScroll: true });
      return true;
    };
    if (!focusHeading()) setTimeout(focusHeading, 300);
  }, [route.path]);
  const onLogin = route.parts[0] === 'login';
  return html`
    <${Header} route=${route} />
    <main id="main" tabindex="-1">
      ${!me || onLogin ? html`<${Login} next=${route.query.next} />` : me.mfaPending ? html`<${MfaRequired} />` : html`<${Screen} route=${route} />`}
    </main>
    <footer class="foot"><p>${t('footer.text')}</p></footer>
    <${Toaster} />
    <${Reauth} />`;
}

async function start() {
  const root = document.getElementById('app');
  await setLang(initialLang(), { remember: false });
  try {
    await loadSchema();
    const me = await loadSession();
    if (me && me.user && me.user.lang && me.user.lang !== currentLang()) await setLang(me.user.lang);
    if (me) loadOrgs();
  } catch (e) {
    render(html`<main id="main" class="page"><${ErrorBox} error=${e} /></main>`, root);
    return;
  }
  on('unauthorised', () => {
    if (session() && !session().local) { clearSession(); navigate('/login', { next: location.hash.slice(1) }); }
  });
  on('session', async (me) => {
    if (me && me.user && me.user.lang && me.user.lang !== currentLang()) await setLang(me.user.lang);
    if (me) loadOrgs(true);
  });
  root.textContent = '';
  render(html`<${App} />`, root);
}

render(html`<${Loading} />`, document.getElementById('app'));
start();
