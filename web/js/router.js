// router.js — hash routes ("#/cases/EC-2026-000001/referrals?x=1"), with a
// guard that asks before leaving a form with unsaved changes.
import { useEffect, useRef, useState } from './lib.js';
import { t } from './i18n.js';

let guard = null; // () => boolean: true when there are unsaved changes
let current = location.hash;

export function parseHash(hash = location.hash) {
  const raw = hash.replace(/^#/, '') || '/';
  const [path, query = ''] = raw.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { path, parts, query: Object.fromEntries(new URLSearchParams(query)) };
}

export function href(path, query) {
  const q = query ? new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined && v !== null && v !== '')).toString() : '';
  return `#${path}${q ? `?${q}` : ''}`;
}

export function navigate(path, query, { replace = false } = {}) {
  const h = href(path, query);
  if (replace) history.replaceState(null, '', h);
  else if (location.hash !== h) location.hash = h;
  window.dispatchEvent(new HashChangeEvent('hashchange'));
}

export function setLeaveGuard(fn) { guard = fn; }
export function clearLeaveGuard(fn) { if (guard === fn) guard = null; }

// Asks the user when the guard says there are unsaved changes.
export function confirmLeave() {
  return !(guard && guard()) || window.confirm(t('form.unsaved_leave'));
}

window.addEventListener('beforeunload', (e) => {
  if (guard && guard()) { e.preventDefault(); e.returnValue = ''; }
});

export function useRoute() {
  const [route, setRoute] = useState(parseHash());
  const shown = useRef(location.hash); // the hash `route` was read from
  useEffect(() => {
    const onChange = () => {
      if (location.hash === current) { shown.current = current; setRoute(parseHash()); return; }
      if (!confirmLeave()) { history.replaceState(null, '', current); return; }
      guard = null;
      current = location.hash;
      shown.current = current;
      setRoute(parseHash());
    };
    window.addEventListener('hashchange', onChange);
    // a hash changed between the first render and this listener (a script or a
    // quick click while the page was starting) is not lost: the page follows it
    if (location.hash !== shown.current) onChange();
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
