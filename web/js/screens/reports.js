// reports.js — the figures: a dashboard of charts (cases per year, by
// exploitation type, gender, age group and nationality; routes; referral
// response times; shelter occupancy), a table builder over the reporting
// dimensions, and the standard reports, each downloadable as CSV or XLSX.
// Disclosure control is the server's: suppressed cells stay suppressed here.
import { html, useState } from '../lib.js';
import { t, tl, fmtNumber, fmtDuration, currentLang } from '../i18n.js';
import { get, qs } from '../api.js';
import { valueLabel, countryName } from '../schema.js';
import { can } from '../session.js';
import { navigate, href } from '../router.js';
import { useApi, Async, Empty, PageHead, ErrorBox } from '../ui.js';
import { BarChart, ColumnChart, LineChart, Sankey, toSeries } from '../charts.js';

// Downloads name categories by their labels, in the language of the screen.
const fileLabels = () => ({ lang: currentLang(), labels: 'labels' });

// The label of a crosstab category code (from the answer's categories).
export function catLabel(ct, dim, code) {
  if (code === null || code === undefined) return t('report.total');
  const c = ((ct && ct.categories && ct.categories[dim]) || []).find((x) => x.code === code);
  if (c) return tl(c.label, code);
  if (code === '_none') return t('report.unknown');
  return String(code);
}

// A one-dimension crosstab as chart rows.
function rows1(ct, measure) {
  return ((ct && ct.cells) || []).map((c) => ({ key: c.keys ? c.keys[0] : c.month, count: measure ? (c[measure] === null || c[measure] === undefined ? null : Math.round(c[measure] * 10) / 10) : c.count, suppressed: !!c.suppressed }))
    .filter((r) => r.suppressed || r.count !== null);
}

function DisclosureNote({ d }) {
  if (!d) return null;
  const x = d.disclosure;
  const pop = d.population || {};
  if (!(x && x.applied) && !pop.excluded_without_statistics_consent) return null;
  return html`<div class="notice notice-info" role="note">
    ${x && x.applied ? html`<p>${t('report.disclosure', { threshold: x.threshold ?? '?', rounding: x.rounding ?? '—' })}</p>` : null}
    ${pop.excluded_without_statistics_consent ? html`<p>${t('report.excluded_consent', { n: pop.excluded_without_statistics_consent })}</p>` : null}
  </div>`;
}

function Dashboard() {
  const s = useApi(() => get('/api/v1/reports/dashboard'), []);
  return html`<${Async} state=${s} what=${t('module.reports')}>${(d) => {
    const f = d.figures || d;
    const one = (key) => f[key];
    const lab = (key) => (code) => catLabel(f[key], (f[key] && f[key].dims && f[key].dims[0]) || '', code);
    const occ = one('shelter_occupancy');
    const rt = one('referral_response_hours');
    const cpy = one('cases_per_year');
    return html`<div>
      <${DisclosureNote} d=${cpy} />
      ${cpy && cpy.totals ? html`<div class="card stats"><div class="stat"><span class="stat-n">${(() => { const tot = cpy.totals.find((x) => x.keys.every((k) => k === null)); return tot ? (tot.suppressed ? t('chart.suppressed_short') : fmtNumber(tot.count)) : '—'; })()}</span><span>${t('report.total.cases')}</span></div></div>` : null}
      <div class="charts">
        <${ColumnChart} title=${t('report.cases_per_year')} data=${rows1(cpy)} label=${lab('cases_per_year')} />
        <${BarChart} title=${t('report.by_exploitation')} data=${rows1(one('by_exploitation'))} label=${lab('by_exploitation')} />
        <${BarChart} title=${t('report.by_gender')} data=${rows1(one('by_gender'))} label=${lab('by_gender')} />
        <${ColumnChart} title=${t('report.by_age')} data=${rows1(one('by_age_group'))} label=${lab('by_age_group')} />
        <${BarChart} title=${t('report.by_nationality')} data=${rows1(one('by_nationality'))} label=${lab('by_nationality')} />
        ${rt ? html`<${ColumnChart} title=${t('report.response_times')} data=${rows1(rt, (rt.measure || '').startsWith('mean') ? 'mean' : null)} label=${lab('referral_response_hours')} />` : null}
      </div>
      <${Sankey} title=${t('report.routes')} routes=${one('routes')} label=${(code) => (code === '_none' ? t('report.unknown') : countryName(code))} />
      ${occ ? html`<${LineChart} title=${t('report.occupancy')} series=${[{ name: t('report.occupancy'), points: rows1(occ).map((r) => ({ key: r.key, count: r.suppressed ? null : r.count })) }]} />` : null}
    </div>`;
  }}<//>`;
}

function dimLabel(dims, entity, name) {
  const e = (dims.entities || []).find((x) => x.name === entity);
  const d = e && (e.dimensions || []).find((x) => x.name === name);
  return d ? tl(d.label, name) : name;
}

let currentCt = null;
function keyLabel(dim, k) {
  if (currentCt) return catLabel(currentCt, dim, k);
  if (k === null || k === undefined) return t('report.unknown');
  return String(k);
}

function TableBuilder({ query }) {
  const dims = useApi(() => get('/api/v1/reports/dimensions'), []);
  const entity = query.entity || 'cases';
  const chosen = (query.dims || 'year').split(',').filter(Boolean).slice(0, 2);
  const params = { entity, dims: chosen.join(','), year: query.year };
  const s = useApi(() => get('/api/v1/reports/crosstab', { ...params, format: 'json' }), [JSON.stringify(params)]);
  return html`<${Async} state=${dims} what=${t('module.reports')}>${(D) => {
    const e = (D.entities || []).find((x) => x.name === entity) || (D.entities || [])[0] || { dimensions: [] };
    const set = (k, v) => navigate('/reports/tables', { ...query, [k]: v });
    return html`<div>
      <form class="filters card inline" onSubmit=${(ev) => ev.preventDefault()}>
        <div class="field"><label for="rb-entity">${t('report.entity')}</label>
          <select id="rb-entity" onChange=${(ev) => navigate('/reports/tables', { entity: ev.target.value })}>
            ${(D.entities || []).map((x) => html`<option value=${x.name} selected=${x.name === entity}>${tl(x.label, x.name)}</option>`)}
          </select></div>
        ${[0, 1].map((i) => html`<div class="field"><label for=${`rb-dim${i}`}>${t(i ? 'report.dim2' : 'report.dim1')}</label>
          <select id=${`rb-dim${i}`} onChange=${(ev) => { const c = [...chosen]; c[i] = ev.target.value; set('dims', c.filter(Boolean).join(',')); }}>
            ${i ? html`<option value="">${t('report.none')}</option>` : null}
            ${(e.dimensions || []).map((x) => html`<option value=${x.name} selected=${chosen[i] === x.name}>${tl(x.label, x.name)}</option>`)}
          </select></div>`)}
      </form>
      <${Async} state=${s} what=${t('module.reports')}>${(d) => { currentCt = d; return html`<div>
        <${DisclosureNote} d=${d} />
        <p class="actions">
          <a class="btn" href=${`/api/v1/reports/crosstab${qs({ ...params, format: 'csv', ...fileLabels() })}`} download>${t('report.download_csv')}</a>
          <a class="btn" href=${`/api/v1/reports/crosstab${qs({ ...params, format: 'xlsx', ...fileLabels() })}`} download>${t('report.download_xlsx')}</a>
        </p>
        ${!(d.cells || []).length ? html`<${Empty}>${t('chart.no_data')}<//>` : chosen.length === 1
          ? html`<${BarChart} title=${dimLabel(D, entity, chosen[0])} data=${d.cells.map((c) => ({ key: c.keys[0], count: c.count, suppressed: c.suppressed }))} label=${(k) => keyLabel(chosen[0], k)} max=${40} />`
          : html`<${Crosstab} d=${d} dims=${chosen} D=${D} entity=${entity} />`}
        ${d.counts_what ? html`<p class="muted">${t(`report.counts_${d.counts_what}`)}</p>` : null}
      </div>`; }}<//>
    </div>`;
  }}<//>`;
}

function Crosstab({ d, dims, D, entity }) {
  const rows = [...new Set(d.cells.map((c) => c.keys[0]))];
  const cols = [...new Set(d.cells.map((c) => c.keys[1]))];
  const cell = (r, c) => d.cells.find((x) => x.keys[0] === r && x.keys[1] === c);
  return html`<div class="table-wrap" tabindex="0" role="region" aria-label=${t('common.table_scroll')}><table class="data crosstab">
    <caption>${dimLabel(D, entity, dims[0])} × ${dimLabel(D, entity, dims[1])}</caption>
    <thead><tr><th scope="col">${dimLabel(D, entity, dims[0])}</th>${cols.map((c) => html`<th scope="col" class="num">${keyLabel(dims[1], c)}</th>`)}</tr></thead>
    <tbody>${rows.map((r) => html`<tr><th scope="row">${keyLabel(dims[0], r)}</th>${cols.map((c) => {
      const x = cell(r, c);
      return html`<td class="num">${!x ? '0' : x.suppressed || x.count === null ? html`<abbr title=${t('chart.suppressed')}>${t('chart.suppressed_short')}</abbr>` : fmtNumber(x.count)}</td>`;
    })}</tr>`)}</tbody></table></div>`;
}

function Standard() {
  const s = useApi(() => get('/api/v1/reports/standard'), []);
  const year = new Date().getFullYear();
  const [y, setY] = useState(String(year - 1));
  return html`<${Async} state=${s} what=${t('module.reports')}>${(d) => {
    const items = d.items || d;
    return html`<div>
      <div class="field inline"><label for="std-year">${t('report.year')}</label>
        <input id="std-year" type="number" min="2000" max=${year} value=${y} onInput=${(e) => setY(e.target.value)} /></div>
      ${!items.length ? html`<${Empty} />` : html`<ul class="record-list">${items.map((r) => html`<li class="card">
        <h2 class="h3">${tl(r.title || r.label, r.name)}</h2>${r.description ? html`<p>${tl(r.description)}</p>` : null}
        <p class="actions">${['csv', 'xlsx'].map((f) => html`<a class="btn" href=${`/api/v1/reports/standard/${encodeURIComponent(r.name)}${qs({ year: y, format: f, ...fileLabels() })}`} download>${t(`report.download_${f}`)}</a>`)}</p>
      </li>`)}</ul>`}
    </div>`;
  }}<//>`;
}

export function Reports({ tab, query }) {
  const tabs = ['dashboard', 'tables', 'standard'];
  return html`<div class="page">
    <${PageHead} title=${t('report.title')} />
    <nav class="tabs" aria-label=${t('report.title')}><ul>${tabs.map((x) => html`<li><a href=${href(`/reports/${x}`)} aria-current=${x === tab ? 'page' : undefined}>${t(`report.tab.${x}`)}</a></li>`)}</ul></nav>
    ${tab === 'tables' ? html`<${TableBuilder} query=${query} />` : tab === 'standard' ? html`<${Standard} />` : html`<${Dashboard} />`}
  </div>`;
}
