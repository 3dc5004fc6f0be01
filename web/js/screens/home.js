// home.js — what needs doing: my tasks, overdue referrals, follow-ups due,
// and a few counts.
import { html } from '../lib.js';
import { t, fmtDate, fmtDateTime, fmtNumber, today } from '../i18n.js';
import { get } from '../api.js';
import { can, session } from '../session.js';
import { useApi, Async, Empty, PageHead, Badge, orgName } from '../ui.js';
import { usePicklists, listOptions } from '../records.js';

function caseLink(id, label) {
  return id ? html`<a href=${`#/cases/${encodeURIComponent(id)}`}>${label || id}</a>` : null;
}

function overdue(due) { return due && due < today(); }

function taskLabel(x, pl) {
  const o = listOptions(pl, 'task_kinds').find((k) => k.code === x.kind);
  return (o && o.label) || x.label || x.title || x.kind;
}

function Tasks() {
  const pl = usePicklists('referrals');
  const s = useApi(() => get('/api/v1/tasks', { limit: 20 }), []);
  return html`<section class="card" aria-labelledby="home-tasks"><h2 id="home-tasks">${t('home.tasks')}</h2>
    <${Async} state=${s} what=${t('module.tasks')}>${(d) => (!d.items.length ? html`<${Empty}>${t('home.no_tasks')}<//>` : html`
      <ul class="list">${d.items.map((x) => {
        const late = x.overdue ?? overdue(x.due);
        return html`<li>
        ${x.referral ? html`<a href=${`#/referrals/${x.referral}`}>${taskLabel(x, pl)}</a>` : html`<span>${taskLabel(x, pl)}</span>`}
        ${x.case ? html` · ${caseLink(x.case_reference || x.case, x.case_reference)}` : null}
        ${x.due ? html` <${Badge} kind=${late ? 'danger' : 'plain'}>${late ? t('home.overdue_since', { date: fmtDate(x.due) }) : t('home.due', { date: fmtDate(x.due) })}<//>` : null}
        ${x.note ? html` <span class="muted">${x.note}</span>` : null}
      </li>`;
      })}</ul>
      ${d.total > d.items.length ? html`<p class="muted">${t('common.more', { n: d.total - d.items.length })}</p>` : null}`)}<//>
  </section>`;
}

function OverdueReferrals() {
  const s = useApi(() => get('/api/v1/referrals', { box: 'all', overdue: 'true', limit: 20 }), []);
  return html`<section class="card" aria-labelledby="home-overdue"><h2 id="home-overdue">${t('home.overdue_referrals')}</h2>
    <${Async} state=${s} what=${t('module.referrals')}>${(d) => (!d.items.length ? html`<${Empty}>${t('home.no_overdue')}<//>` : html`
      <ul class="list">${d.items.map((r) => html`<li>
        <a href=${`#/referrals/${r.id}`}>${r.case_reference || ''} · ${r.from_org_name || orgName(r.from_org)} → ${r.to_org_name || orgName(r.to_org)}</a>
        ${r.urgency === 'Emergency' ? html` <${Badge} kind="danger">${t('referral.urgency.Emergency')}<//>` : null}
        ${r.due_at ? html` <${Badge} kind="danger">${t('home.overdue_since', { date: fmtDateTime(r.due_at) })}<//>` : null}
      </li>`)}</ul>`)}<//>
  </section>`;
}

function FollowUps() {
  const s = useApi(() => get('/api/v1/reintegration/alerts', { limit: 20 }), []);
  return html`<section class="card" aria-labelledby="home-followups"><h2 id="home-followups">${t('home.followups')}</h2>
    <${Async} state=${s} what=${t('module.reintegration')}>${(d) => {
      const items = (d && d.items) || [];
      return !items.length ? html`<${Empty}>${t('home.no_followups')}<//>` : html`<ul class="list">${items.map((a) => html`<li>
        ${a.case ? html`<a href=${`#/cases/${encodeURIComponent(a.case)}/reintegration`}>${a.case_reference || t('home.open_case')}</a>` : null}
        · ${t(`alert.${a.kind}`, { days: a.days_overdue ?? '', dimension: a.dimension || '', score: a.score !== undefined ? fmtNumber(a.score, { maximumFractionDigits: 2 }) : '' })}
        ${a.severity === 'high' ? html` <${Badge} kind="danger">${t('alert.high')}<//>` : null}
        ${a.due ? html` <${Badge} kind="danger">${fmtDate(a.due)}<//>` : a.date ? html` <span class="muted">${fmtDate(a.date)}</span>` : null}</li>`)}</ul>`;
    }}<//>
  </section>`;
}

function Counts() {
  const s = useApi(async () => {
    const [active, follow] = await Promise.all([
      get('/api/v1/cases', { status: 'Active', limit: 1 }),
      get('/api/v1/cases', { status: 'FollowUp', limit: 1 }).catch(() => ({ total: null })),
    ]);
    return { active: active.total, follow: follow.total };
  }, []);
  return html`<section class="card" aria-labelledby="home-counts"><h2 id="home-counts">${t('home.caseload')}</h2>
    <${Async} state=${s}>${(d) => html`<div class="stats">
      <a class="stat" href="#/cases?status=Active"><span class="stat-n">${fmtNumber(d.active)}</span><span>${t('home.active_cases')}</span></a>
      ${d.follow !== null ? html`<a class="stat" href="#/cases?status=FollowUp"><span class="stat-n">${fmtNumber(d.follow)}</span><span>${t('home.followup_cases')}</span></a>` : null}
    </div>`}<//>
  </section>`;
}

export function Home() {
  const me = session();
  return html`<div class="page">
    <${PageHead} title=${t('home.title')}>
      ${can('case', 'create') ? html`<a class="btn btn-primary" href="#/cases/new">${t('cases.new')}</a>` : null}
      ${can('hotline', 'create') ? html`<a class="btn" href="#/hotline">${t('hotline.quick')}</a>` : null}
    <//>
    <p class="muted">${t('home.hello', { name: me.user.username })}</p>
    <div class="cards">
      <${Tasks} />
      ${can('referral', 'read') ? html`<${OverdueReferrals} />` : null}
      ${can('reintegration', 'read') ? html`<${FollowUps} />` : null}
      ${can('case', 'read') ? html`<${Counts} />` : null}
    </div>
  </div>`;
}
