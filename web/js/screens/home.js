// home.js — what needs doing: my tasks, overdue referrals, follow-ups due,
// and a few counts.
import { html } from '../lib.js';
import { t, fmtDate, fmtNumber, today } from '../i18n.js';
import { get } from '../api.js';
import { can, session } from '../session.js';
import { useApi, Async, Empty, PageHead, Badge, orgName } from '../ui.js';

function caseLink(id, label) {
  return id ? html`<a href=${`#/cases/${encodeURIComponent(id)}`}>${label || id}</a>` : null;
}

function overdue(due) { return due && due < today(); }

function Tasks() {
  const s = useApi(() => get('/api/v1/tasks', { limit: 20 }), []);
  return html`<section class="card" aria-labelledby="home-tasks"><h2 id="home-tasks">${t('home.tasks')}</h2>
    <${Async} state=${s} what=${t('module.tasks')}>${(d) => (!d.items.length ? html`<${Empty}>${t('home.no_tasks')}<//>` : html`
      <ul class="list">${d.items.map((x) => html`<li>
        <span>${x.title || x.summary || x.description || t(`task.kind.${x.kind}`)}</span>
        ${x.case ? html` · ${caseLink(x.case, x.case_reference)}` : null}
        ${x.due ? html` <${Badge} kind=${overdue(x.due) ? 'danger' : 'plain'}>${overdue(x.due) ? t('home.overdue_since', { date: fmtDate(x.due) }) : t('home.due', { date: fmtDate(x.due) })}<//>` : null}
      </li>`)}</ul>
      ${d.total > d.items.length ? html`<p class="muted">${t('common.more', { n: d.total - d.items.length })}</p>` : null}`)}<//>
  </section>`;
}

function OverdueReferrals() {
  const s = useApi(() => get('/api/v1/referrals', { box: 'all', overdue: 'true', limit: 20 }), []);
  return html`<section class="card" aria-labelledby="home-overdue"><h2 id="home-overdue">${t('home.overdue_referrals')}</h2>
    <${Async} state=${s} what=${t('module.referrals')}>${(d) => (!d.items.length ? html`<${Empty}>${t('home.no_overdue')}<//>` : html`
      <ul class="list">${d.items.map((r) => html`<li>
        <a href=${`#/referrals/${r.id}`}>${orgName(r.from_org)} → ${orgName(r.to_org)}</a>
        ${r.urgency === 'Emergency' ? html` <${Badge} kind="danger">${t('referral.urgency.Emergency')}<//>` : null}
        ${r.due ? html` <span class="muted">${t('home.due', { date: fmtDate(r.due) })}</span>` : null}
      </li>`)}</ul>`)}<//>
  </section>`;
}

function FollowUps() {
  const s = useApi(() => get('/api/v1/reintegration/alerts', { limit: 20 }), []);
  return html`<section class="card" aria-labelledby="home-followups"><h2 id="home-followups">${t('home.followups')}</h2>
    <${Async} state=${s} what=${t('module.reintegration')}>${(d) => {
      const items = (d && d.items) || [];
      return !items.length ? html`<${Empty}>${t('home.no_followups')}<//>` : html`<ul class="list">${items.map((a) => html`<li>
        ${caseLink(a.case || a.case_id, a.case_reference)} · ${a.message || a.reason || t('home.visit_due')}
        ${a.due ? html` <${Badge} kind=${overdue(a.due) ? 'danger' : 'plain'}>${fmtDate(a.due)}<//>` : null}</li>`)}</ul>`;
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
