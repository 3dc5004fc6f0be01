// hotline.js — quick entry of a hotline contact (a call, a message, a
// walk-in) in a few fields, the recent contacts, and opening a case for a
// potential victim.
import { html, useState } from '../lib.js';
import { t, fmtDateTime, fmtNumber } from '../i18n.js';
import { get, post, ApiError } from '../api.js';
import { options } from '../schema.js';
import { can } from '../session.js';
import { navigate } from '../router.js';
import { useApi, Async, Empty, PageHead, Pager, toast, Badge, ModuleMissing } from '../ui.js';
import { useEditor, SpecForm, ErrorSummary, errorsFrom } from '../form.js';
import { usePicklists, listOptions, recordValue } from '../records.js';
import { BarChart } from '../charts.js';

const LIMIT = 20;

function nowLocal() {
  const d = new Date();
  d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
  return d.toISOString().slice(0, 16);
}

export function Hotline({ query }) {
  const pl = usePicklists('referrals');
  const offset = Number(query.offset || 0);
  const list = useApi(() => get('/api/v1/hotline/contacts', { limit: LIMIT, offset }), [offset]);
  const stats = useApi(() => get('/api/v1/hotline/stats'), []);
  const editor = useEditor({ received_at: nowLocal(), urgency: 'Standard' });
  const [errors, setErrors] = useState({});
  const [other, setOther] = useState([]);
  const [busy, setBusy] = useState(false);
  const missing = list.error instanceof ApiError && list.error.isMissingEndpoint;
  const indicators = listOptions(pl, 'indicators');
  const spec = [
    { name: 'channel', label: t('hotline.channel'), type: 'select', required: true, options: listOptions(pl, 'hotline_channels') },
    { name: 'caller_type', label: t('hotline.caller'), type: 'select', required: true, options: listOptions(pl, 'caller_types') },
    { name: 'urgency', label: t('referral.urgency'), type: 'select', required: true, options: listOptions(pl, 'hotline_urgency') },
    { name: 'received_at', label: t('hotline.received'), type: 'datetime' },
    { name: 'language', label: t('hotline.language'), type: 'select', options: options('language') },
    { name: 'place_country', label: t('hotline.country'), type: 'select', options: options('country') },
    { name: 'place', label: t('hotline.location'), type: 'text' },
    ...(indicators.length ? [{ name: 'indicators', label: t('hotline.indicators'), type: 'multi', options: indicators }] : []),
    ...(can('case_identity', 'create') ? [
      { name: 'summary', label: t('hotline.summary'), type: 'longtext' },
      { name: 'caller_contact', label: t('hotline.caller_contact'), type: 'text' }] : []),
    { name: 'outcome', label: t('hotline.outcome'), type: 'select', options: listOptions(pl, 'hotline_outcomes') },
  ];
  async function save(e) {
    e.preventDefault();
    setBusy(true);
    try {
      const body = { ...editor.values };
      if (body.received_at) body.received_at = new Date(body.received_at).toISOString();
      await post('/api/v1/hotline/contacts', body);
      toast(t('hotline.saved'));
      editor.reset({ received_at: nowLocal(), urgency: 'Standard' });
      setErrors({}); setOther([]);
      list.reload(); stats.reload();
    } catch (err) {
      const r = errorsFrom(err, new Set(spec.map((s) => s.name)), (n) => (spec.find((s) => s.name === n) || {}).label || n);
      setErrors(r.byField);
      setOther(r.other.length || Object.keys(r.byField).length ? r.other : [err.message]);
    } finally { setBusy(false); }
  }
  async function openCase(c) {
    try {
      const made = await post(`/api/v1/hotline/contacts/${c.id}/open-case`, {});
      const cs = made.case || made;
      const ref = cs.reference || cs.id;
      toast(t('hotline.case_opened', { ref }));
      navigate(`/cases/${encodeURIComponent(ref)}/edit`);
    } catch (err) { toast(err.message, 'error'); }
  }
  return html`<div class="page">
    <${PageHead} title=${t('hotline.title')} />
    ${missing ? html`<${ModuleMissing} what=${t('module.hotline')} />` : html`
    <div class="cards cards-2">
      ${can('hotline', 'create') ? html`<form class="card" onSubmit=${save} noValidate aria-labelledby="hl-new">
        <h2 id="hl-new">${t('hotline.quick')}</h2>
        <${ErrorSummary} errors=${errors} other=${other} prefix="hl" labelOf=${(n) => (spec.find((s) => s.name === n) || {}).label || n} />
        <${SpecForm} spec=${spec} editor=${editor} errors=${errors} prefix="hl" />
        <div class="actions"><button type="submit" class="btn btn-primary" disabled=${busy}>${t('hotline.save')}</button></div>
      </form>` : null}
      <section class="card" aria-labelledby="hl-stats"><h2 id="hl-stats">${t('hotline.stats')}</h2>
        <${Async} state=${stats} what=${t('module.hotline')}>${(d) => {
          const lbl = (list) => (k) => (listOptions(pl, list).find((o) => o.code === k) || { label: k === 'Unknown' ? t('report.unknown') : k }).label;
          return html`<div class="stats">
            <div class="stat"><span class="stat-n">${fmtNumber(d.contacts ?? 0)}</span><span>${t('hotline.contacts')}</span></div>
            <div class="stat"><span class="stat-n">${fmtNumber(d.cases_opened ?? 0)}</span><span>${t('hotline.cases_opened')}</span></div>
            <div class="stat"><span class="stat-n">${fmtNumber(d.repeat_contacts ?? 0)}</span><span>${t('hotline.repeats')}</span></div>
          </div>
          ${d.by_channel ? html`<${BarChart} title=${t('hotline.by_channel')} data=${d.by_channel} label=${lbl('hotline_channels')} />` : null}
          ${d.by_indicator && Object.keys(d.by_indicator).length ? html`<${BarChart} title=${t('hotline.by_indicator')} data=${d.by_indicator} label=${lbl('indicators')} />` : null}
          ${d.by_caller_type ? html`<${BarChart} title=${t('hotline.by_caller')} data=${d.by_caller_type} label=${lbl('caller_types')} />` : null}`;
        }}<//>
      </section>
    </div>
    <section aria-labelledby="hl-recent"><h2 id="hl-recent">${t('hotline.recent')}</h2>
      <${Async} state=${list} what=${t('module.hotline')}>${(d) => (!d.items.length ? html`<${Empty} />` : html`
        <div class="table-wrap" tabindex="0" role="region" aria-label=${`${t('hotline.recent')} — ${t('common.table_scroll')}`}><table class="data"><caption class="sr-only">${t('hotline.recent')}</caption>
          <thead><tr><th scope="col">${t('hotline.received')}</th><th scope="col">${t('hotline.channel')}</th><th scope="col">${t('hotline.caller')}</th><th scope="col">${t('hotline.summary')}</th><th scope="col">${t('hotline.case')}</th></tr></thead>
          <tbody>${d.items.map((c) => html`<tr>
            <td>${fmtDateTime(c.received_at || c.created_at)}</td><td>${recordValue('channel', c.channel, spec)}</td><td>${recordValue('caller_type', c.caller_type, spec)}</td>
            <td>${c.urgency && c.urgency !== 'Standard' ? html`<${Badge} kind=${c.urgency === 'Emergency' ? 'danger' : 'warn'}>${recordValue('urgency', c.urgency, spec)}<//> ` : null}${c.summary || (c.indicators || []).map((x) => recordValue('indicators', x, spec)).join(', ')}${c.repeat_count ? html` <${Badge} kind="info">${t('hotline.repeat_n', { n: c.repeat_count })}<//>` : null}</td>
            <td>${c.case ? html`<a href=${`#/cases/${encodeURIComponent(c.case_reference || c.case)}`}>${c.case_reference || t('home.open_case')}</a>`
              : can('case', 'create') ? html`<button type="button" class="btn btn-small" onClick=${() => openCase(c)}>${t('hotline.open_case')}</button>` : ''}</td>
          </tr>`)}</tbody></table></div>
        <${Pager} total=${d.total} limit=${LIMIT} offset=${offset} onPage=${(o) => navigate('/hotline', { offset: o || undefined })} />`)}<//>
    </section>`}
  </div>`;
}
