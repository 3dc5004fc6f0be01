// referrals.js — referrals between organisations: inbox and outbox, one
// referral with its actions (accept, decline, complete, cancel), and the
// "refer this case" form, which suggests organisations from the service
// directory.
import { html, useState, useEffect } from '../lib.js';
import { t, fmtDate, fmtDateTime } from '../i18n.js';
import { get, post, ApiError } from '../api.js';
import { can, session } from '../session.js';
import { navigate, href } from '../router.js';
import { useApi, Async, Empty, PageHead, Pager, Badge, toast, orgName, useOrgs, ErrorBox, Loading } from '../ui.js';
import { RecordDialog, RecordFacts, usePicklists, listOptions } from '../records.js';

const LIMIT = 25;
const STATUSES = ['Pending', 'Accepted', 'Declined', 'Completed', 'Cancelled'];

function statusLabel(pl, s) {
  const o = listOptions(pl, 'statuses', 'referral_statuses').find((x) => x.code === s);
  return o ? o.label : t(`referral.status.${s}`) === `referral.status.${s}` ? s : t(`referral.status.${s}`);
}

function statusKind(s) {
  return { Pending: 'warn', Accepted: 'ok', Declined: 'danger', Completed: 'plain', Cancelled: 'plain' }[s] || 'plain';
}

function serviceLabels(pl, list) {
  const opts = listOptions(pl, 'services', 'service_types');
  return (list || []).map((c) => (opts.find((o) => o.code === c) || { label: c }).label).join(', ');
}

export function ReferralList({ query, offset = 0, onPage }) {
  const pl = usePicklists('referrals');
  const params = { ...query, limit: LIMIT, offset };
  const s = useApi(() => get('/api/v1/referrals', params), [JSON.stringify(params)]);
  return html`<${Async} state=${s} what=${t('module.referrals')}>${(d) => (!d.items.length ? html`<${Empty}>${t('referral.none')}<//>` : html`
    <div class="table-wrap" tabindex="0" role="region" aria-label=${t('common.table_scroll')}><table class="data"><caption class="sr-only">${t('referral.title')}</caption>
      <thead><tr><th scope="col">${t('referral.case')}</th><th scope="col">${t('referral.from')}</th><th scope="col">${t('referral.to')}</th>
        <th scope="col">${t('referral.services')}</th><th scope="col">${t('referral.urgency')}</th><th scope="col">${t('common.status')}</th><th scope="col">${t('referral.sent')}</th><th scope="col">${t('referral.due')}</th></tr></thead>
      <tbody>${d.items.map((r) => html`<tr>
        <th scope="row"><a href=${`#/referrals/${r.id}`}>${r.case_reference || r.case || r.id}</a></th>
        <td>${orgName(r.from_org)}</td><td>${orgName(r.to_org)}</td>
        <td>${serviceLabels(pl, r.services)}</td>
        <td>${r.urgency === 'Emergency' ? html`<${Badge} kind="danger">${t('referral.urgency.Emergency')}<//>` : t(`referral.urgency.${r.urgency || 'Standard'}`)}</td>
        <td><${Badge} kind=${statusKind(r.status)}>${statusLabel(pl, r.status)}<//>${r.overdue ? html` <${Badge} kind="danger">${t('referral.overdue')}<//>` : null}</td>
        <td>${fmtDate(r.created_at)}</td><td>${fmtDate(r.due || r.respond_by)}</td>
      </tr>`)}</tbody></table></div>
    ${onPage ? html`<${Pager} total=${d.total} limit=${LIMIT} offset=${offset} onPage=${onPage} />` : null}`)}<//>`;
}

export function Referrals({ query }) {
  const box = query.box || 'inbox';
  const offset = Number(query.offset || 0);
  const pl = usePicklists('referrals');
  const filter = { box, status: query.status, overdue: query.overdue };
  return html`<div class="page">
    <${PageHead} title=${t('referral.title')} />
    <nav class="tabs" aria-label=${t('referral.boxes')}><ul>
      ${['inbox', 'outbox', 'all'].map((b) => html`<li><a href=${href('/referrals', { box: b })} aria-current=${b === box ? 'page' : undefined}>${t(`referral.box.${b}`)}</a></li>`)}
    </ul></nav>
    <form class="filters card inline" onSubmit=${(e) => e.preventDefault()}>
      <div class="field"><label for="rf-status">${t('common.status')}</label>
        <select id="rf-status" onChange=${(e) => navigate('/referrals', { ...query, status: e.target.value, offset: undefined })}>
          <option value="">${t('filter.any')}</option>
          ${STATUSES.map((s) => html`<option value=${s} selected=${query.status === s}>${statusLabel(pl, s)}</option>`)}
        </select></div>
      <div class="field field-check"><input id="rf-overdue" type="checkbox" checked=${query.overdue === 'true'}
        onChange=${(e) => navigate('/referrals', { ...query, overdue: e.target.checked ? 'true' : undefined, offset: undefined })} />
        <label for="rf-overdue">${t('referral.only_overdue')}</label></div>
    </form>
    <${ReferralList} query=${filter} offset=${offset} onPage=${(o) => navigate('/referrals', { ...query, offset: o || undefined })} />
  </div>`;
}

export function ReferralPage({ id }) {
  const s = useApi(() => get(`/api/v1/referrals/${encodeURIComponent(id)}`), [id]);
  const pl = usePicklists('referrals');
  const [action, setAction] = useState(null);
  const me = session();
  if (s.loading && !s.data) return html`<div class="page"><${Loading} /></div>`;
  if (s.error) return html`<div class="page"><${ErrorBox} error=${s.error} what=${t('module.referrals')} /></div>`;
  const r = s.data;
  const mine = me.local || !me.user.org;
  const toMe = mine || r.to_org === me.user.org;
  const fromMe = mine || r.from_org === me.user.org;
  const canAct = can('referral', 'update');
  const declineOpts = listOptions(pl, 'decline_reasons');
  const specs = {
    accept: [{ name: 'notes', label: t('common.notes'), type: 'longtext' }],
    decline: [declineOpts.length ? { name: 'reason', label: t('referral.decline_reason'), type: 'select', required: true, options: declineOpts }
      : { name: 'reason', label: t('referral.decline_reason'), type: 'longtext', required: true }],
    complete: [{ name: 'outcome', label: t('referral.outcome'), type: listOptions(pl, 'outcomes', 'referral_outcomes').length ? 'select' : 'longtext', required: true, options: listOptions(pl, 'outcomes', 'referral_outcomes') }],
    cancel: [{ name: 'reason', label: t('referral.cancel_reason'), type: 'longtext', required: true }],
  };
  async function accept() {
    try { const x = await post(`/api/v1/referrals/${r.id}/accept`, {}); toast(t('referral.accepted')); s.setData(x && x.id ? x : { ...r, status: 'Accepted' }); s.reload(); } catch (e) { toast(e.message, 'error'); }
  }
  return html`<div class="page">
    <${PageHead} title=${t('referral.one', { ref: r.case_reference || r.case })}>
      <${Badge} kind=${statusKind(r.status)}>${statusLabel(pl, r.status)}<//>
      ${r.case && can('case', 'read') && (r.status === 'Accepted' || fromMe) ? html`<a class="btn" href=${`#/cases/${encodeURIComponent(r.case)}/referrals`}>${t('referral.open_case')}</a>` : null}
    <//>
    <div class="cards cards-2">
      <section class="card" aria-labelledby="ref-facts"><h2 id="ref-facts">${t('referral.details')}</h2>
        <${RecordFacts} record=${{ from_org: r.from_org, to_org: r.to_org, services: serviceLabels(pl, r.services), urgency: t(`referral.urgency.${r.urgency || 'Standard'}`), reason: r.reason, notes: r.notes, sent: fmtDateTime(r.created_at), due: r.due || r.respond_by, responded: r.responded_at ? fmtDateTime(r.responded_at) : undefined, decline_reason: r.decline_reason, outcome: r.outcome }} />
      </section>
      <section class="card" aria-labelledby="ref-actions"><h2 id="ref-actions">${t('common.actions')}</h2>
        ${!canAct ? html`<p class="muted">${t('referral.no_actions')}</p>` : html`<div class="actions">
          ${r.status === 'Pending' && toMe ? html`<button type="button" class="btn btn-primary" onClick=${accept}>${t('referral.accept')}</button>
            <button type="button" class="btn btn-danger" onClick=${() => setAction('decline')}>${t('referral.decline')}</button>` : null}
          ${r.status === 'Accepted' && toMe ? html`<button type="button" class="btn btn-primary" onClick=${() => setAction('complete')}>${t('referral.complete')}</button>` : null}
          ${r.status === 'Pending' && fromMe ? html`<button type="button" class="btn" onClick=${() => setAction('cancel')}>${t('referral.cancel')}</button>` : null}
          ${!['Pending', 'Accepted'].includes(r.status) ? html`<p class="muted">${t('referral.closed')}</p>` : null}
        </div>`}
      </section>
    </div>
    ${action ? html`<${RecordDialog} open=${true} title=${t(`referral.${action}`)} spec=${specs[action]} submitLabel=${t(`referral.${action}`)}
      submit=${(v) => post(`/api/v1/referrals/${r.id}/${action}`, v)}
      onClose=${(saved) => { setAction(null); if (saved) { toast(t(`referral.done.${action}`)); s.reload(); } }} />` : null}
  </div>`;
}

// "Refer this case": services, then an organisation offering them (from the
// directory when it is installed), urgency, reason.
export function ReferDialog({ open, c, onClose }) {
  const pl = usePicklists('referrals');
  const orgs = useOrgs();
  const me = session();
  // organisations in the service directory (all organisations while the
  // directory is not installed)
  const dir = useApi(() => (open ? get('/api/v1/directory') : Promise.resolve(null)), [open]);
  const dirOrgs = dir.data && dir.data.items ? dir.data.items.map((x) => x.org || x.id) : null;
  const candidates = orgs.filter((o) => o.id !== (me.user.org || c.amp_OwnerOrganisation) && (!dirOrgs || dirOrgs.includes(o.id)));
  const serviceOpts = listOptions(pl, 'services', 'service_types');
  const reasonOpts = listOptions(pl, 'referral_reasons', 'reasons');
  const spec = [
    { name: 'services', label: t('referral.services'), type: serviceOpts.length ? 'multi' : 'text', options: serviceOpts, required: true },
    { name: 'to_org', label: t('referral.to'), type: 'select', required: true, options: candidates.map((o) => ({ code: o.id, label: o.org_Name || o.id })) },
    { name: 'urgency', label: t('referral.urgency'), type: 'select', required: true, options: ['Standard', 'Emergency'].map((u) => ({ code: u, label: t(`referral.urgency.${u}`) })) },
    reasonOpts.length ? { name: 'reason', label: t('referral.reason'), type: 'select', options: reasonOpts } : { name: 'reason', label: t('referral.reason'), type: 'text' },
    { name: 'notes', label: t('common.notes'), type: 'longtext' },
  ];
  if (!open) return null;
  return html`<div>
    ${serviceOpts.length ? html`<div class="sr-only" aria-live="polite">${dirOrgs ? t('referral.directory_hint', { n: candidates.length }) : ''}</div>` : null}
    <${RecordDialog} open=${open} title=${t('referral.refer_case', { ref: c.reference })} spec=${spec} initial=${{ urgency: 'Standard' }}
      submitLabel=${t('referral.send')}
      submit=${(v) => {
        const body = { case: c.id, ...v };
        if (typeof body.services === 'string') body.services = body.services.split(',').map((x) => x.trim()).filter(Boolean);
        return post('/api/v1/referrals', body);
      }}
      onClose=${(saved) => { if (saved) toast(t('referral.sent_ok')); onClose(saved); }} />
  </div>`;
}
