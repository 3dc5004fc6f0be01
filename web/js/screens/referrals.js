// referrals.js — referrals between organisations: received / sent / all,
// one referral with its history and actions (accept, decline with a reason,
// complete with an outcome, withdraw), and the "refer this case" form, which
// puts the organisations of the service directory that offer the services
// first.
import { html, useState } from '../lib.js';
import { t, fmtDate, fmtDateTime, fmtDuration, fmtNumber } from '../i18n.js';
import { get, post } from '../api.js';
import { valueLabel, countryName } from '../schema.js';
import { can, session } from '../session.js';
import { navigate, href } from '../router.js';
import { useApi, Async, Empty, PageHead, Pager, Badge, toast, orgName, useOrgs, ErrorBox, Loading, Facts } from '../ui.js';
import { RecordDialog, usePicklists, listOptions } from '../records.js';

const LIMIT = 25;
const FALLBACK_STATUSES = ['Sent', 'Accepted', 'Declined', 'Completed', 'Cancelled'];

function label(pl, list, code, fallbackKey) {
  const o = listOptions(pl, list).find((x) => x.code === code);
  if (o) return o.label;
  const k = `${fallbackKey}.${code}`;
  return t(k) === k ? code : t(k);
}

function statusKind(s) {
  return { Sent: 'warn', Accepted: 'ok', Declined: 'danger', Completed: 'plain', Cancelled: 'plain' }[s] || 'plain';
}

function serviceLabels(pl, list) {
  return (list || []).map((c) => label(pl, 'services', c, 'service')).join(', ');
}

export function StatusBadge({ pl, r }) {
  return html`<${Badge} kind=${statusKind(r.status)}>${label(pl, 'referral_statuses', r.status, 'referral.status')}<//>${r.overdue ? html` <${Badge} kind="danger">${t('referral.overdue')}<//>` : null}`;
}

export function ReferralList({ query, offset = 0, onPage }) {
  const pl = usePicklists('referrals');
  const params = { ...query, limit: LIMIT, offset };
  const s = useApi(() => get('/api/v1/referrals', params), [JSON.stringify(params)]);
  return html`<${Async} state=${s} what=${t('module.referrals')}>${(d) => (!d.items.length ? html`<${Empty}>${t('referral.none')}<//>` : html`
    <div class="table-wrap" tabindex="0" role="region" aria-label=${`${t('referral.title')} — ${t('common.table_scroll')}`}><table class="data"><caption class="sr-only">${t('referral.title')}</caption>
      <thead><tr><th scope="col">${t('referral.case')}</th><th scope="col">${t('referral.from')}</th><th scope="col">${t('referral.to')}</th>
        <th scope="col">${t('referral.services')}</th><th scope="col">${t('referral.urgency')}</th><th scope="col">${t('common.status')}</th><th scope="col">${t('referral.sent')}</th><th scope="col">${t('referral.due')}</th></tr></thead>
      <tbody>${d.items.map((r) => html`<tr>
        <th scope="row"><a href=${`#/referrals/${r.id}`}>${r.case_reference || r.case || r.id}</a></th>
        <td>${r.from_org_name || orgName(r.from_org)}</td><td>${r.to_org_name || orgName(r.to_org)}</td>
        <td>${serviceLabels(pl, r.services)}</td>
        <td>${r.urgency === 'Emergency' ? html`<${Badge} kind="danger">${label(pl, 'urgency', 'Emergency', 'referral.urgency')}<//>` : label(pl, 'urgency', r.urgency || 'Standard', 'referral.urgency')}</td>
        <td><${StatusBadge} pl=${pl} r=${r} /></td>
        <td>${fmtDate(r.sent_at || r.created_at)}</td><td>${r.status === 'Sent' ? fmtDateTime(r.due_at) : ''}</td>
      </tr>`)}</tbody></table></div>
    ${onPage ? html`<${Pager} total=${d.total} limit=${LIMIT} offset=${offset} onPage=${onPage} />` : null}`)}<//>`;
}

// Counts and answer times between organisations (coordinators: every flow).
function Flows() {
  const s = useApi(() => get('/api/v1/referrals/flows'), []);
  return html`<section class="records" aria-labelledby="flows-h"><h2 id="flows-h">${t('referral.flows')}</h2>
    <${Async} state=${s} what=${t('module.referrals')}>${(d) => (!(d.items || []).length ? html`<${Empty} />` : html`
      <div class="table-wrap" tabindex="0" role="region" aria-label=${`${t('referral.flows')} — ${t('common.table_scroll')}`}><table class="data"><caption class="sr-only">${t('referral.flows')}</caption>
        <thead><tr><th scope="col">${t('referral.from')}</th><th scope="col">${t('referral.to')}</th><th scope="col" class="num">${t('referral.flow_total')}</th>
          <th scope="col" class="num">${t('referral.status.Accepted')}</th><th scope="col" class="num">${t('referral.status.Declined')}</th><th scope="col" class="num">${t('referral.overdue')}</th><th scope="col" class="num">${t('referral.median_answer')}</th></tr></thead>
        <tbody>${d.items.map((f) => html`<tr><td>${orgName(f.from_org)}</td><td>${orgName(f.to_org)}</td><td class="num">${fmtNumber(f.total)}</td>
          <td class="num">${fmtNumber(f.accepted)}</td><td class="num">${fmtNumber(f.declined)}</td><td class="num">${fmtNumber(f.overdue)}</td>
          <td class="num">${f.median_hours === null || f.median_hours === undefined ? '—' : fmtDuration(f.median_hours)}</td></tr>`)}</tbody></table></div>`)}<//>
  </section>`;
}

export function Referrals({ query }) {
  const box = query.box || 'inbox';
  const offset = Number(query.offset || 0);
  const pl = usePicklists('referrals');
  const statuses = listOptions(pl, 'referral_statuses').map((o) => o.code);
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
          ${(statuses.length ? statuses : FALLBACK_STATUSES).map((s) => html`<option value=${s} selected=${query.status === s}>${label(pl, 'referral_statuses', s, 'referral.status')}</option>`)}
        </select></div>
      <div class="field field-check"><input id="rf-overdue" type="checkbox" checked=${query.overdue === 'true'}
        onChange=${(e) => navigate('/referrals', { ...query, overdue: e.target.checked ? 'true' : undefined, offset: undefined })} />
        <label for="rf-overdue">${t('referral.only_overdue')}</label></div>
    </form>
    <${ReferralList} query=${filter} offset=${offset} onPage=${(o) => navigate('/referrals', { ...query, offset: o || undefined })} />
    ${can('referral', 'read') && (can('lifecycle', 'update') || can('directory', 'create')) ? html`<${Flows} />` : null}
  </div>`;
}

function CaseSummary({ c }) {
  if (!c) return null;
  return html`<${Facts} rows=${[
    [t('cases.reference'), c.reference],
    c.prs_Gender ? [t('referral.gender'), valueLabel('prs_Gender', c.prs_Gender, 'person')] : null,
    c.child !== undefined ? [t('referral.child'), c.child ? t('common.yes') : t('common.no')] : null,
    c.age_group ? [t('referral.age_group'), c.age_group] : null,
    c.prs_Citizenship ? [t('referral.citizenship'), (c.prs_Citizenship || []).map(countryName).join(', ')] : null,
    c.vic_TraffickingStatus ? [t('referral.trafficking_status'), valueLabel('vic_TraffickingStatus', c.vic_TraffickingStatus)] : null,
    c.vic_TypeOfExploitation ? [t('referral.exploitation'), (c.vic_TypeOfExploitation || []).map((x) => valueLabel('vic_TypeOfExploitation', x)).join(', ')] : null,
    c.cas_Status ? [t('common.status'), valueLabel('cas_Status', c.cas_Status)] : null,
  ]} />`;
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
  const reasonSpec = (list, name, lbl) => {
    const opts = listOptions(pl, list);
    return opts.length ? { name, label: lbl, type: 'select', required: true, options: opts } : { name, label: lbl, type: 'longtext', required: true };
  };
  const specs = {
    accept: [],
    decline: [reasonSpec('decline_reasons', 'reason', t('referral.decline_reason')), { name: 'details', label: t('referral.details_f'), type: 'longtext' }],
    complete: [reasonSpec('referral_outcomes', 'outcome', t('referral.outcome')), { name: 'notes', label: t('common.notes'), type: 'longtext' }],
    cancel: [reasonSpec('cancel_reasons', 'reason', t('referral.cancel_reason')), { name: 'details', label: t('referral.details_f'), type: 'longtext' }],
  };
  async function accept() {
    try { const x = await post(`/api/v1/referrals/${r.id}/accept`, { version: r.version }); toast(t('referral.accepted')); if (x && x.id) s.setData(x); else s.reload(); } catch (e) { toast(e.message, 'error'); }
  }
  const who = (org) => (org === r.from_org ? r.from_org_name : org === r.to_org ? r.to_org_name : null) || orgName(org);
  return html`<div class="page">
    <${PageHead} title=${t('referral.one', { ref: r.case_reference || r.case })}>
      <${StatusBadge} pl=${pl} r=${r} />
      ${r.case && can('case', 'read') && (r.status === 'Accepted' || r.status === 'Completed' || fromMe) ? html`<a class="btn" href=${`#/cases/${encodeURIComponent(r.case_reference || r.case)}/referrals`}>${t('referral.open_case')}</a>` : null}
    <//>
    <div class="cards cards-2">
      <section class="card" aria-labelledby="ref-facts"><h2 id="ref-facts">${t('referral.details')}</h2>
        <${Facts} rows=${[
          [t('referral.from'), who(r.from_org)], [t('referral.to'), who(r.to_org)],
          [t('referral.services'), serviceLabels(pl, r.services)],
          [t('referral.urgency'), label(pl, 'urgency', r.urgency || 'Standard', 'referral.urgency')],
          [t('referral.reason'), r.reason ? label(pl, 'referral_reasons', r.reason, 'referral.reason') : ''],
          [t('referral.sent'), `${fmtDateTime(r.sent_at || r.created_at)}${r.sent_by ? ` · ${r.sent_by}` : ''}`],
          r.status === 'Sent' ? [t('referral.due'), fmtDateTime(r.due_at)] : null,
          r.response_hours !== undefined && r.response_hours !== null ? [t('referral.answered_in'), `${fmtDuration(r.response_hours)}${r.answered_on_time === false ? ` · ${t('referral.late')}` : ''}`] : null,
          r.cross_border ? [t('referral.cross_border'), t('common.yes')] : null,
          r.notes ? [t('common.notes'), r.notes] : null,
          r.decline_reason || (r.status === 'Declined' && r.reason_declined) ? [t('referral.decline_reason'), label(pl, 'decline_reasons', r.decline_reason || r.reason_declined, 'x')] : null,
          r.outcome ? [t('referral.outcome'), label(pl, 'referral_outcomes', r.outcome, 'x')] : null,
        ]} />
        ${r.warnings && r.warnings.length ? html`<div class="notice notice-warn" role="note">${r.warnings.map((w) => html`<p>${w.message || w}</p>`)}</div>` : null}
      </section>
      <section class="card" aria-labelledby="ref-actions"><h2 id="ref-actions">${t('common.actions')}</h2>
        ${!canAct ? html`<p class="muted">${t('referral.no_actions')}</p>` : html`<div class="actions">
          ${r.status === 'Sent' && toMe ? html`<button type="button" class="btn btn-primary" onClick=${accept}>${t('referral.accept')}</button>
            <button type="button" class="btn btn-danger" onClick=${() => setAction('decline')}>${t('referral.decline')}</button>` : null}
          ${r.status === 'Accepted' && toMe ? html`<button type="button" class="btn btn-primary" onClick=${() => setAction('complete')}>${t('referral.complete')}</button>` : null}
          ${r.status === 'Sent' && fromMe && !toMe ? html`<button type="button" class="btn" onClick=${() => setAction('cancel')}>${t('referral.cancel')}</button>` : null}
          ${!['Sent', 'Accepted'].includes(r.status) ? html`<p class="muted">${t('referral.closed')}</p>` : null}
        </div>`}
        ${r.case_summary ? html`<h3>${t('referral.about_case')}</h3><${CaseSummary} c=${r.case_summary} />` : null}
      </section>
    </div>
    ${(r.history || []).length ? html`<section class="card records" aria-labelledby="ref-hist"><h2 id="ref-hist">${t('history.title_short')}</h2>
      <ol class="timeline">${r.history.map((h) => html`<li><strong>${label(pl, 'referral_statuses', h.status, 'referral.status')}</strong>
        · <time datetime=${h.at}>${fmtDateTime(h.at)}</time> · ${h.by || ''}${h.org ? ` (${who(h.org)})` : ''}${h.reason ? ` · ${label(pl, 'decline_reasons', h.reason, 'x') || h.reason}` : ''}</li>`)}</ol>
    </section>` : null}
    ${action ? html`<${RecordDialog} open=${true} title=${t(`referral.${action}`)} spec=${specs[action]} submitLabel=${t(`referral.${action}`)}
      submit=${(v) => post(`/api/v1/referrals/${r.id}/${action}`, { ...v, version: r.version })}
      onClose=${(saved) => { setAction(null); if (saved) { toast(t(`referral.done.${action}`)); s.reload(); } }} />` : null}
  </div>`;
}

// "Refer this case": services, the organisation (those of the directory
// offering the services first), urgency, reason, notes.  The server checks
// the consent and names each missing element at its field.
export function ReferDialog({ open, c, onClose }) {
  const pl = usePicklists('referrals');
  const orgs = useOrgs();
  const me = session();
  const dir = useApi(() => (open ? get('/api/v1/directory', { limit: 500 }) : Promise.resolve(null)), [open]);
  if (!open) return null;
  const entries = (dir.data && dir.data.items) || [];
  const own = me.user.org || c.amp_OwnerOrganisation;
  const serviceOpts = listOptions(pl, 'services');
  const inDir = new Map(entries.map((e) => [e.org || e.id, e]));
  const toOpts = orgs.filter((o) => o.id !== own).map((o) => {
    const e = inDir.get(o.id);
    const offers = e ? (e.services || []).map((x) => label(pl, 'services', x, 'service')).join(', ') : '';
    return {
      code: o.id,
      label: `${o.org_Name || o.id}${o.amp_OrgCountry ? ` (${countryName(o.amp_OrgCountry)})` : ''}${offers ? ` — ${offers}` : ''}${e && e.availability && e.availability !== 'Available' ? ` · ${label(pl, 'availability', e.availability, 'x')}` : ''}`,
      group: entries.length ? (e ? t('referral.in_directory') : t('referral.not_in_directory')) : undefined,
    };
  }).sort((a, b) => (a.group === b.group ? 0 : a.group === t('referral.in_directory') ? -1 : 1));
  const reasonOpts = listOptions(pl, 'referral_reasons');
  const spec = [
    { name: 'services', label: t('referral.services'), type: serviceOpts.length ? 'multi' : 'text', options: serviceOpts, required: true },
    { name: 'to_org', label: t('referral.to'), type: 'select', required: true, options: toOpts },
    { name: 'urgency', label: t('referral.urgency'), type: 'select', required: true, options: (listOptions(pl, 'urgency').length ? listOptions(pl, 'urgency') : ['Standard', 'Emergency'].map((u) => ({ code: u, label: t(`referral.urgency.${u}`) }))) },
    reasonOpts.length ? { name: 'reason', label: t('referral.reason'), type: 'select', required: true, options: reasonOpts } : { name: 'reason', label: t('referral.reason'), type: 'text' },
    ...(can('case_identity', 'update') ? [{ name: 'notes', label: t('common.notes'), type: 'longtext' }] : []),
  ];
  return html`<${RecordDialog} open=${open} title=${t('referral.refer_case', { ref: c.reference })} spec=${spec} initial=${{ urgency: 'Standard' }}
    submitLabel=${t('referral.send')}
    submit=${async (v) => {
      const body = { case: c.id, ...v };
      if (typeof body.services === 'string') body.services = body.services.split(',').map((x) => x.trim()).filter(Boolean);
      const made = await post('/api/v1/referrals', body);
      if (made && made.warnings && made.warnings.length) toast(made.warnings.map((w) => w.message || w).join(' '), 'warn');
      return made;
    }}
    onClose=${(saved) => { if (saved) toast(t('referral.sent_ok')); onClose(saved); }} />`;
}
