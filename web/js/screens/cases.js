// cases.js — the case list: search by reference, filters from the
// catalogue's filterable fields, sorting and paging by the API.
import { html, useState, useEffect } from '../lib.js';
import { t, fmtDate, fmtNumber } from '../i18n.js';
import { get } from '../api.js';
import { schema, fieldLabel, valueLabel, fieldOptions, options } from '../schema.js';
import { can } from '../session.js';
import { navigate } from '../router.js';
import { useApi, Async, Pager, PageHead, Empty, orgName, useOrgs, Badge } from '../ui.js';

const LIMIT = 25;

function filterFields() {
  return schema().fields.filter((f) => f.filter && f.section !== 'perpetrator_person' && f.filter !== 'registered');
}

export function statusBadge(s) {
  const kind = { Active: 'ok', FollowUp: 'info', Closed: 'plain', ClosedReferred: 'plain' }[s] || 'plain';
  return s ? html`<${Badge} kind=${kind}>${valueLabel('cas_Status', s)}<//>` : null;
}

export function personName(c) {
  return [c.prs_FirstName, c.prs_MiddleName, c.prs_SecondName].filter(Boolean).join(' ');
}

export function CaseList({ query }) {
  const [draft, setDraft] = useState(query);
  useEffect(() => setDraft(query), [JSON.stringify(query)]);
  const orgs = useOrgs();
  const offset = Number(query.offset || 0);
  const params = { ...query, limit: LIMIT, offset };
  const s = useApi(() => get('/api/v1/cases', params), [JSON.stringify(params)]);
  const showNames = can('case_identity', 'read');
  const apply = (q) => navigate('/cases', Object.fromEntries(Object.entries(q).filter(([, v]) => v !== '' && v !== undefined)));
  const set = (k) => (e) => setDraft({ ...draft, [k]: e.target.value, offset: undefined });
  const sel = (id, k, opts) => html`<div class="field"><label for=${id}>${k.label}</label>
    <select id=${id} onChange=${set(k.param)}>
      <option value="">${t('filter.any')}</option>
      ${opts.map((o) => html`<option value=${o.code} selected=${draft[k.param] === o.code}>${o.label}</option>`)}
    </select></div>`;

  return html`<div class="page">
    <${PageHead} title=${t('cases.title')}>
      ${can('case', 'create') ? html`<a class="btn btn-primary" href="#/cases/new">${t('cases.new')}</a>` : null}
    <//>
    <form class="filters card" role="search" aria-label=${t('cases.search')} onSubmit=${(e) => { e.preventDefault(); apply({ ...draft, offset: undefined }); }}>
      <div class="grid">
        <div class="field"><label for="f-reference">${t('cases.reference')}</label>
          <input id="f-reference" type="search" placeholder="EC-2026-" value=${draft.reference || ''} onInput=${set('reference')} /></div>
        ${filterFields().map((f) => sel(`f-${f.filter}`, { label: fieldLabel(f.name, f.section), param: f.filter }, fieldOptions(f)))}
        ${sel('f-coe', { label: t('cases.country_of_exploitation'), param: 'country_of_exploitation' }, options('country'))}
        ${orgs.length > 1 ? sel('f-owner', { label: t('cases.owner'), param: 'owner' }, orgs.map((o) => ({ code: o.id, label: o.org_Name || o.id }))) : null}
        <div class="field"><label for="f-from">${t('cases.registered_from')}</label>
          <input id="f-from" type="date" value=${draft.registered_from || ''} onInput=${set('registered_from')} /></div>
        <div class="field"><label for="f-to">${t('cases.registered_to')}</label>
          <input id="f-to" type="date" value=${draft.registered_to || ''} onInput=${set('registered_to')} /></div>
        <div class="field"><label for="f-sort">${t('cases.sort')}</label>
          <select id="f-sort" onChange=${set('sort')}>
            ${['-registered', 'registered', 'reference', '-updated'].map((o) => html`<option value=${o} selected=${(draft.sort || '-registered') === o}>${t(`cases.sort.${o}`)}</option>`)}
          </select></div>
      </div>
      <div class="actions">
        <button type="submit" class="btn btn-primary">${t('common.search')}</button>
        <button type="button" class="btn" onClick=${() => apply({})}>${t('common.clear')}</button>
      </div>
    </form>
    <${Async} state=${s} what=${t('nav.cases')}>${(d) => html`
      <p class="muted" aria-live="polite">${t('cases.total', { n: d.total })}</p>
      ${!d.items.length ? html`<${Empty}>${t('cases.none')}<//>` : html`
      <div class="table-wrap" tabindex="0" role="region" aria-label=${`${t('cases.title')} — ${t('common.table_scroll')}`}><table class="data">
        <caption class="sr-only">${t('cases.title')}</caption>
        <thead><tr>
          <th scope="col">${t('cases.reference')}</th>
          ${showNames ? html`<th scope="col">${t('cases.name')}</th>` : null}
          <th scope="col">${fieldLabel('prs_Gender', 'person')}</th>
          <th scope="col">${fieldLabel('prs_Citizenship', 'person')}</th>
          <th scope="col">${fieldLabel('vic_TypeOfExploitation')}</th>
          <th scope="col">${fieldLabel('cas_Status')}</th>
          <th scope="col">${fieldLabel('amp_RegistrationDate')}</th>
          <th scope="col">${t('cases.owner')}</th>
        </tr></thead>
        <tbody>${d.items.map((c) => html`<tr>
          <th scope="row"><a href=${`#/cases/${encodeURIComponent(c.reference || c.id)}`}>${c.reference || c.id}</a></th>
          ${showNames ? html`<td>${personName(c)}</td>` : null}
          <td>${c.prs_Gender ? valueLabel('prs_Gender', c.prs_Gender, 'person') : ''}</td>
          <td>${(c.prs_Citizenship || []).map((x) => valueLabel('prs_Citizenship', x, 'person')).join(', ')}</td>
          <td>${(c.vic_TypeOfExploitation || []).map((x) => valueLabel('vic_TypeOfExploitation', x)).join(', ')}</td>
          <td>${statusBadge(c.cas_Status)}</td>
          <td>${fmtDate(c.amp_RegistrationDate)}</td>
          <td>${orgName(c.amp_OwnerOrganisation)}</td>
        </tr>`)}</tbody>
      </table></div>`}
      <${Pager} total=${d.total} limit=${LIMIT} offset=${offset} onPage=${(o) => navigate('/cases', { ...query, offset: o || undefined })} />
    `}<//>
  </div>`;
}
export { fmtNumber };
