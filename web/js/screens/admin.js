// admin.js — administration: organisations (catalogue form), users (create,
// roles, disable, reset password), the roles' permission matrix and the
// referral network's service directory.
import { html, useState } from '../lib.js';
import { t, tl, fmtDateTime } from '../i18n.js';
import { get, post, put, patch, ApiError } from '../api.js';
import { sectionsOf, fieldLabel, displayValue, schema } from '../schema.js';
import { can, session } from '../session.js';
import { href } from '../router.js';
import { useApi, Async, Empty, PageHead, Dialog, toast, fmt, loadOrgs, Badge, orgName } from '../ui.js';
import { useEditor, CatalogueForm, ErrorSummary, errorsFrom } from '../form.js';
import { RecordDialog, usePicklists, listOptions, recordValue } from '../records.js';

const ROLES = ['sysadmin', 'orgadmin', 'coordinator', 'caseworker', 'hotline', 'shelter', 'analyst', 'auditor'];

function OrgDialog({ org, onClose }) {
  const editor = useEditor(org ? Object.fromEntries(Object.entries(org).filter(([k]) => k.startsWith('org_') || k.startsWith('amp_'))) : {}, { guard: false });
  const [id, setId] = useState(org ? org.id : '');
  const [errors, setErrors] = useState({});
  const [other, setOther] = useState([]);
  const known = new Set([...schema().fields.filter((f) => f.section === 'organisation').map((f) => f.name), 'id']);
  async function save(e) {
    e.preventDefault();
    try {
      await put(`/api/v1/organisations/${encodeURIComponent(id)}`, { ...editor.values, ...(org && org.version ? { version: org.version } : {}) });
      await loadOrgs(true);
      toast(t('common.saved'));
      onClose(true);
    } catch (err) {
      const r = errorsFrom(err, known, (k) => (k === 'id' ? t('admin.org_id') : fieldLabel(k, 'organisation')));
      setErrors(r.byField);
      setOther(r.other.length || Object.keys(r.byField).length ? r.other : [err.message]);
    }
  }
  return html`<${Dialog} open=${true} title=${org ? t('admin.edit_org', { name: org.org_Name || org.id }) : t('admin.new_org')} onClose=${() => onClose(false)} wide>
    <form onSubmit=${save} noValidate>
      <${ErrorSummary} errors=${errors} other=${other} prefix="org" labelOf=${(k) => (k === 'id' ? t('admin.org_id') : fieldLabel(k, 'organisation'))} />
      ${!org ? html`<div class=${`field${errors.id ? ' has-error' : ''}`}><label for="org-id">${t('admin.org_id')}</label>
        <input id="org-id" value=${id} onInput=${(e) => setId(e.target.value)} pattern="[a-z0-9-]+" aria-describedby="org-id-hint" />
        <p class="hint" id="org-id-hint">${t('admin.org_id_hint')}</p></div>` : null}
      <${CatalogueForm} sections=${sectionsOf('organisation')} editor=${editor} errors=${errors} prefix="org" />
      <div class="actions"><button type="submit" class="btn btn-primary" disabled=${!id}>${t('common.save')}</button>
        <button type="button" class="btn" onClick=${() => onClose(false)}>${t('common.cancel')}</button></div>
    </form>
  <//>`;
}

function Organisations() {
  const s = useApi(() => get('/api/v1/organisations'), []);
  const [edit, setEdit] = useState(null);
  const cols = ['org_Name', 'org_Type', 'amp_OrgCountry', 'amp_OrgRegion', 'amp_OrgCategory'];
  return html`<section>
    <div class="row-head"><h2>${t('admin.organisations')}</h2>
      ${can('organisation', 'create') ? html`<button type="button" class="btn btn-primary" onClick=${() => setEdit({ isNew: true })}>${t('admin.new_org')}</button>` : null}</div>
    <${Async} state=${s}>${(d) => (!d.items.length ? html`<${Empty} />` : html`<div class="table-wrap" tabindex="0" role="region" aria-label=${`${t('admin.organisations')} — ${t('common.table_scroll')}`}><table class="data">
      <caption class="sr-only">${t('admin.organisations')}</caption>
      <thead><tr><th scope="col">${t('admin.org_id')}</th>${cols.map((c) => html`<th scope="col">${fieldLabel(c, 'organisation')}</th>`)}<th scope="col"><span class="sr-only">${t('common.actions')}</span></th></tr></thead>
      <tbody>${d.items.map((o) => html`<tr><td><code>${o.id}</code></td>${cols.map((c) => html`<td>${displayValue(schema().fields.find((f) => f.name === c), o[c], fmt)}</td>`)}
        <td>${can('organisation', 'update') ? html`<button type="button" class="btn btn-small" onClick=${() => setEdit(o)}>${t('common.edit')}</button>` : null}</td></tr>`)}</tbody>
    </table></div>`)}<//>
    ${edit ? html`<${OrgDialog} org=${edit.isNew ? null : edit} onClose=${(saved) => { setEdit(null); if (saved) s.reload(); }} />` : null}
  </section>`;
}

function Users() {
  const s = useApi(() => get('/api/v1/users', { limit: 500 }), []);
  const [dialog, setDialog] = useState(null);
  const [shown, setShown] = useState(null); // a generated password, shown once
  const me = session();
  const roleOpts = ROLES.map((r) => ({ code: r, label: t(`role.${r}`) }));
  const createSpec = [
    { name: 'username', label: t('admin.username'), type: 'text', required: true },
    { name: 'display_name', label: t('admin.full_name'), type: 'text' },
    { name: 'org', label: t('admin.org'), type: 'org', required: true },
    { name: 'roles', label: t('admin.roles'), type: 'multi', options: roleOpts, required: true },
    { name: 'lang', label: t('admin.lang'), type: 'select', options: ['en', 'es', 'fr', 'uk'].map((l) => ({ code: l, label: t(`lang.${l}`) })) },
    { name: 'password', label: t('admin.initial_password_opt'), type: 'text' },
  ];
  const editSpec = createSpec.filter((x) => !['username', 'password'].includes(x.name));
  async function act(u, what) {
    try {
      const r = await post(`/api/v1/users/${encodeURIComponent(u.username)}/${what}`, {});
      if (what === 'reset-password' && r && r.password) setShown({ u: u.username, p: r.password });
      toast(t('common.saved'));
      s.reload();
    } catch (e) { toast(e.message, 'error'); }
  }
  return html`<section>
    <div class="row-head"><h2>${t('admin.users')}</h2>
      ${can('user', 'create') && !(s.error && s.error.isMissingEndpoint) ? html`<button type="button" class="btn btn-primary" onClick=${() => setDialog({ mode: 'new' })}>${t('admin.new_user')}</button>` : null}</div>
    <${Async} state=${s} what=${t('module.accounts')}>${(d) => (!d.items.length ? html`<${Empty} />` : html`<div class="table-wrap" tabindex="0" role="region" aria-label=${`${t('admin.users')} — ${t('common.table_scroll')}`}><table class="data">
      <caption class="sr-only">${t('admin.users')}</caption>
      <thead><tr><th scope="col">${t('admin.username')}</th><th scope="col">${t('admin.org')}</th><th scope="col">${t('admin.roles')}</th><th scope="col">${t('admin.mfa')}</th><th scope="col">${t('common.status')}</th><th scope="col">${t('admin.last_login')}</th><th scope="col"><span class="sr-only">${t('common.actions')}</span></th></tr></thead>
      <tbody>${d.items.map((u) => html`<tr>
        <td>${u.username}${u.display_name ? html`<br /><span class="muted">${u.display_name}</span>` : null}</td><td>${orgName(u.org)}</td>
        <td>${(u.roles || []).map((r) => t(`role.${r}`)).join(', ')}</td>
        <td>${u.mfa_enrolled ? html`<${Badge} kind="ok">${t('admin.mfa_on')}<//>` : html`<${Badge} kind="warn">${t('admin.mfa_off')}<//>`}</td>
        <td>${u.disabled ? html`<${Badge} kind="danger">${t('admin.disabled')}<//>` : html`<${Badge} kind="ok">${t('admin.active')}<//>`}</td>
        <td>${fmtDateTime(u.last_login_at)}</td>
        <td class="row-actions">${can('user', 'update') ? html`
          <button type="button" class="btn btn-small" onClick=${() => setDialog({ mode: 'edit', u })}>${t('common.edit')}</button>
          <button type="button" class="btn btn-small" onClick=${() => window.confirm(t('admin.confirm_reset', { u: u.username })) && act(u, 'reset-password')}>${t('admin.reset_password')}</button>
          ${u.mfa_enrolled ? html`<button type="button" class="btn btn-small" onClick=${() => window.confirm(t('admin.confirm_reset_totp', { u: u.username })) && act(u, 'reset-totp')}>${t('admin.reset_totp')}</button>` : null}
          ${u.username === me.user.username ? null : u.disabled
            ? html`<button type="button" class="btn btn-small" onClick=${() => act(u, 'enable')}>${t('admin.enable')}</button>`
            : html`<button type="button" class="btn btn-small btn-danger" onClick=${() => window.confirm(t('admin.confirm_disable', { u: u.username })) && act(u, 'disable')}>${t('admin.disable')}</button>`}` : null}</td>
      </tr>`)}</tbody></table></div>`)}<//>
    ${shown ? html`<div class="notice notice-warn" role="alert"><p>${t('admin.temp_password', { p: '' })}</p>
      <p><strong>${shown.u}</strong>: <code class="secret">${shown.p}</code></p>
      <button type="button" class="btn btn-small" onClick=${() => setShown(null)}>${t('common.close')}</button></div>` : null}
    ${dialog ? html`<${RecordDialog} open=${true} title=${dialog.mode === 'new' ? t('admin.new_user') : t('admin.edit_user', { u: dialog.u.username })}
      spec=${dialog.mode === 'new' ? createSpec : editSpec}
      initial=${dialog.mode === 'new' ? { lang: 'es' } : Object.fromEntries(editSpec.map((x) => [x.name, dialog.u[x.name]]).filter(([, v]) => v !== undefined))}
      submit=${async (v) => {
        if (dialog.mode !== 'new') return patch(`/api/v1/users/${encodeURIComponent(dialog.u.username)}`, { ...v, version: dialog.u.version });
        const made = await post('/api/v1/users', v);
        if (made && made.password) setShown({ u: made.username, p: made.password });
        return made;
      }}
      onClose=${(saved) => { setDialog(null); if (saved) { toast(t('common.saved')); s.reload(); } }} />` : null}
  </section>`;
}

function Roles() {
  const s = useApi(() => get('/api/v1/roles'), []);
  return html`<section><h2>${t('admin.roles_matrix')}</h2>
    <${Async} state=${s} what=${t('module.accounts')}>${(d) => {
      const roles = d.roles || Object.keys(d.matrix || {});
      const resources = [...new Set(roles.flatMap((r) => Object.keys((d.matrix || {})[r] || {})))];
      return html`<div class="table-wrap" tabindex="0" role="region" aria-label=${`${t('admin.roles_caption')} — ${t('common.table_scroll')}`}><table class="data matrix"><caption>${t('admin.roles_caption')}</caption>
        <thead><tr><th scope="col">${t('admin.resource')}</th>${roles.map((r) => html`<th scope="col">${t(`role.${r}`)}</th>`)}</tr></thead>
        <tbody>${resources.map((res) => html`<tr><th scope="row">${t(`resource.${res}`)}</th>${roles.map((r) => html`<td>${((d.matrix[r] || {})[res] || []).map((a) => t(`action.${a}`)).join(', ')}</td>`)}</tr>`)}</tbody>
      </table></div>`;
    }}<//>
  </section>`;
}

function Directory() {
  const s = useApi(() => get('/api/v1/directory', { limit: 500 }), []);
  const pl = usePicklists('referrals');
  const me = session();
  const [edit, setEdit] = useState(null);
  const spec = [
    { name: 'services', label: t('directory.services'), type: 'multi', options: listOptions(pl, 'services'), required: true },
    { name: 'availability', label: t('directory.availability'), type: 'select', options: listOptions(pl, 'availability') },
    { name: 'capacity', label: t('directory.capacity'), type: 'number', min: 0, step: 1 },
    { name: 'available_places', label: t('directory.available_places'), type: 'number', min: 0, step: 1 },
    { name: 'accepts_emergency', label: t('directory.accepts_emergency'), type: 'checkbox' },
    { name: 'age_groups', label: t('directory.age_groups'), type: 'multi', options: listOptions(pl, 'age_groups') },
    { name: 'regions', label: t('directory.regions'), type: 'text' },
    { name: 'languages', label: t('directory.languages'), type: 'text' },
    { name: 'hours', label: t('directory.hours'), type: 'text' },
    { name: 'contact_name', label: t('directory.contact'), type: 'text' },
    { name: 'contact_phone', label: t('directory.phone'), type: 'text' },
    { name: 'contact_email', label: t('admin.email'), type: 'text' },
    { name: 'notes', label: t('common.notes'), type: 'longtext' },
  ];
  const cols = ['services', 'availability', 'capacity', 'available_places', 'regions', 'languages', 'contact_name'];
  const split = (v) => (typeof v === 'string' ? v.split(',').map((x) => x.trim()).filter(Boolean) : v);
  const entries = (s.data && s.data.items) || [];
  const orgs = [...(new Map((entries || []).map((e) => [e.org, e]))).keys()];
  const canWrite = can('directory', 'update');
  return html`<section>
    <div class="row-head"><h2>${t('directory.title')}</h2>
      ${can('directory', 'create') && !(s.error && s.error.isMissingEndpoint) ? html`<button type="button" class="btn btn-primary" onClick=${() => setEdit({ isNew: true, org: me.user.org && !orgs.includes(me.user.org) ? me.user.org : undefined })}>${t('directory.add')}</button>` : null}</div>
    <${Async} state=${s} what=${t('module.referrals')}>${(d) => (!d.items.length ? html`<${Empty} />` : html`<div class="table-wrap" tabindex="0" role="region" aria-label=${`${t('directory.title')} — ${t('common.table_scroll')}`}><table class="data">
      <caption class="sr-only">${t('directory.title')}</caption>
      <thead><tr><th scope="col">${t('admin.org')}</th>${cols.map((c) => html`<th scope="col">${(spec.find((x) => x.name === c) || {}).label}</th>`)}<th scope="col"><span class="sr-only">${t('common.actions')}</span></th></tr></thead>
      <tbody>${d.items.map((e) => html`<tr><td>${e.org_Name || orgName(e.org)}</td>${cols.map((c) => html`<td>${recordValue(c, e[c], spec)}</td>`)}
        <td>${canWrite ? html`<button type="button" class="btn btn-small" onClick=${() => setEdit(e)}>${t('common.edit')}</button>` : null}</td></tr>`)}</tbody></table></div>`)}<//>
    ${edit ? html`<${RecordDialog} open=${true} title=${edit.isNew ? t('directory.add') : edit.org_Name || orgName(edit.org)}
      spec=${edit.isNew ? [{ name: 'org', label: t('admin.org'), type: 'org', required: true, filter: (o) => !orgs.includes(o.id) }, ...spec] : spec}
      initial=${Object.fromEntries([...spec, { name: 'org' }].map((x) => [x.name, Array.isArray(edit[x.name]) && x.type !== 'multi' ? edit[x.name].join(', ') : edit[x.name]]).filter(([, v]) => v !== undefined))}
      submit=${(v) => {
        const { org, ...rest } = v;
        const target = edit.isNew ? org : edit.org;
        const body = { ...rest, regions: split(rest.regions), languages: split(rest.languages) };
        for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
        return put(`/api/v1/directory/${encodeURIComponent(target || '')}`, body, edit.version ? { version: edit.version } : undefined);
      }}
      onClose=${(saved) => { setEdit(null); if (saved) { toast(t('common.saved')); s.reload(); } }} />` : null}
  </section>`;
}

export function Admin({ section }) {
  const sections = [
    ['organisations', can('organisation', 'read')],
    ['users', can('user', 'read')],
    ['roles', can('user', 'read')],
    ['directory', can('directory', 'update')],
  ].filter(([, ok]) => ok).map(([n]) => n);
  const cur = sections.includes(section) ? section : sections[0];
  return html`<div class="page">
    <${PageHead} title=${t('admin.title')} />
    <nav class="tabs" aria-label=${t('admin.title')}><ul>${sections.map((x) => html`<li><a href=${href(`/admin/${x}`)} aria-current=${x === cur ? 'page' : undefined}>${t(`admin.tab.${x}`)}</a></li>`)}</ul></nav>
    ${cur === 'users' ? html`<${Users} />` : cur === 'roles' ? html`<${Roles} />` : cur === 'directory' ? html`<${Directory} />` : html`<${Organisations} />`}
  </div>`;
}
