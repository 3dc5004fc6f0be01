// audit.js — the audit trail for auditors: who did what to which record,
// when, filtered and paged by the API.  Details never hold identity data.
import { html, useState, useEffect } from '../lib.js';
import { t, fmtDateTime, fmtNumber } from '../i18n.js';
import { get } from '../api.js';
import { navigate } from '../router.js';
import { useApi, Async, Empty, PageHead, Pager, Badge } from '../ui.js';

const LIMIT = 50;
const FILTERS = ['actor', 'action', 'object_type', 'object_id', 'org'];

export function Audit({ query }) {
  const [draft, setDraft] = useState(query);
  useEffect(() => setDraft(query), [JSON.stringify(query)]);
  const offset = Number(query.offset || 0);
  const params = { ...query, limit: LIMIT, offset };
  const s = useApi(() => get('/api/v1/audit', params), [JSON.stringify(params)]);
  const set = (k) => (e) => setDraft({ ...draft, [k]: e.target.value });
  const [check, setCheck] = useState(null);
  const [checking, setChecking] = useState(false);
  async function verify() {
    setChecking(true);
    try { setCheck(await get('/api/v1/audit/verify')); } catch (e) { setCheck({ intact: false, problem: e.message }); } finally { setChecking(false); s.reload(); }
  }
  return html`<div class="page">
    <${PageHead} title=${t('audit.title')}><button type="button" class="btn" onClick=${verify} disabled=${checking}>${t('audit.verify')}</button><//>
    ${check ? html`<div class=${check.intact ? 'notice notice-info' : 'notice notice-error'} role="alert">
      ${check.intact ? t('audit.intact', { n: fmtNumber(check.entries ?? 0), head: check.head ? `${check.head.seq}:${String(check.head.hash).slice(0, 12)}…` : '—' }) : t('audit.tampered', { problem: check.problem || '?', seq: check.seq ?? '?' })}</div>` : null}
    <form class="filters card" role="search" aria-label=${t('audit.search')} onSubmit=${(e) => { e.preventDefault(); navigate('/audit', { ...draft, offset: undefined }); }}>
      <div class="grid">
        ${FILTERS.map((f) => html`<div class="field"><label for=${`au-${f}`}>${t(`audit.${f}`)}</label><input id=${`au-${f}`} value=${draft[f] || ''} onInput=${set(f)} /></div>`)}
        <div class="field"><label for="au-from">${t('audit.from')}</label><input id="au-from" type="date" value=${draft.from || ''} onInput=${set('from')} /></div>
        <div class="field"><label for="au-to">${t('audit.to')}</label><input id="au-to" type="date" value=${draft.to || ''} onInput=${set('to')} /></div>
        <div class="field"><label for="au-order">${t('cases.sort')}</label><select id="au-order" onChange=${set('order')}>
          <option value="desc" selected=${(draft.order || 'desc') === 'desc'}>${t('audit.newest')}</option>
          <option value="asc" selected=${draft.order === 'asc'}>${t('audit.oldest')}</option></select></div>
      </div>
      <div class="actions"><button type="submit" class="btn btn-primary">${t('common.search')}</button>
        <button type="button" class="btn" onClick=${() => navigate('/audit', {})}>${t('common.clear')}</button></div>
    </form>
    <${Async} state=${s} what=${t('module.audit')}>${(d) => html`
      <p class="muted">${t('audit.total', { n: d.total })}</p>
      ${!d.items.length ? html`<${Empty} />` : html`<div class="table-wrap" tabindex="0" role="region" aria-label=${`${t('audit.title')} — ${t('common.table_scroll')}`}><table class="data">
        <caption class="sr-only">${t('audit.title')}</caption>
        <thead><tr><th scope="col" class="num">#</th><th scope="col">${t('audit.at')}</th><th scope="col">${t('audit.actor')}</th><th scope="col">${t('audit.action')}</th><th scope="col">${t('audit.object_type')}</th><th scope="col">${t('audit.object_id')}</th><th scope="col">${t('audit.addr')}</th><th scope="col">${t('audit.detail')}</th></tr></thead>
        <tbody>${d.items.map((a) => html`<tr>
          <td class="num">${a.seq ?? ''}</td><td>${fmtDateTime(a.at)}</td><td>${a.actor}${a.org ? html` <span class="muted">(${a.org})</span>` : null}</td><td><code>${a.action}</code></td>
          <td>${a.object_type}</td><td><code>${a.object_id}</code></td><td>${a.addr || ''}</td>
          <td>${typeof a.detail === 'object' && a.detail ? Object.entries(a.detail).map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : v}`).join('; ') : a.detail || ''}</td>
        </tr>`)}</tbody></table></div>`}
      <${Pager} total=${d.total} limit=${LIMIT} offset=${offset} onPage=${(o) => navigate('/audit', { ...query, offset: o || undefined })} />`}<//>
  </div>`;
}
