// views/general.js — the organization itself: its name and id, renaming it,
// and deleting it (which revokes every one of its access keys at once).

import { h } from '../dom.js';
import { patch, del, paths } from '../api.js';
import { button, field, alertBox, setButtonBusy, checkName, confirmDialog, toast } from '../ui.js';
import { pageHeader } from '../layout.js';
import { timeEl } from '../format.js';
import { state, navigate } from '../state.js';

export function renderGeneral(ctx) {
  const org = ctx.org;
  const alert = alertBox();
  const name = field({ label: 'Organization name', name: 'name', value: org.name });
  const save = button('Save', { kind: 'primary', type: 'submit' });
  const form = h(
    'form',
    { class: 'card form', novalidate: true },
    h('h2', { class: 'card-title' }, 'Organization'),
    h('p', { class: 'card-desc' }, 'Created ', timeEl(org.created_at), '. Its ID, for the API and the command-line tool: ', h('code', { class: 'redacted' }, org.id)),
    alert.el,
    name.wrap,
    h('div', { class: 'form-actions' }, save),
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    alert.clear();
    const err = checkName(name.input.value, 'a name for the organization');
    name.setError(err);
    if (err) return name.input.focus();
    const v = name.input.value.trim();
    if (v === org.name) return;
    setButtonBusy(save, true, 'Saving…');
    try {
      const updated = await patch(paths.org(org.id), { name: v });
      state.orgs = null;
      toast('Organization renamed.');
      navigate(`/orgs/${encodeURIComponent(updated.id)}/settings/general`, { replace: true, focus: false });
    } catch (e) {
      setButtonBusy(save, false);
      if (e.status === 400 && e.field === 'name') {
        name.setError(e.human());
        name.input.focus();
      } else alert.show(e.human('This organization'));
    }
  });

  const danger = h(
    'section',
    { class: 'card card-danger', 'aria-labelledby': 'danger-title' },
    h('h2', { class: 'card-title', id: 'danger-title' }, 'Delete organization'),
    h('p', { class: 'card-desc' }, 'Deletes the organization with its projects and environments, and revokes all of its access keys immediately. Members keep their accounts. This cannot be undone.'),
    h('div', { class: 'form-actions' }, button('Delete organization', { kind: 'danger', onClick: openDelete })),
  );

  ctx.main.replaceChildren(pageHeader('General', ['Settings of ', h('strong', {}, org.name), '.']), form, keyLifetimeCard(org), danger);

  function openDelete() {
    confirmDialog({
      title: 'Delete organization?',
      message: h(
        'div',
        { class: 'confirm-text' },
        h('p', {}, h('strong', { class: 'confirm-name' }, org.name), ' will be deleted with its projects and environments.'),
        h('p', {}, 'All of its access keys will be revoked immediately — every service using them will be refused. This cannot be undone.'),
      ),
      confirmLabel: 'Delete organization',
      danger: true,
      what: 'This organization',
      onConfirm: async () => {
        try {
          await del(paths.org(org.id));
        } catch (e) {
          if (e.status !== 404) throw e;
        }
        state.orgs = null;
        toast(`Organization “${org.name}” deleted.`);
        navigate('/');
      },
    });
  }
}

// --- scopes: access_key_max_lifetime_days ----------------------------------
// "Maximum access key lifetime": empty = no limit; new org keys must then
// expire within that many days (the server refuses others with 400).
function keyLifetimeCard(org) {
  const alert = alertBox();
  const days = field({ label: 'Maximum lifetime of new access keys (days)', name: 'access_key_max_lifetime_days', type: 'number', inputmode: 'numeric', value: org.access_key_max_lifetime_days == null ? '' : String(org.access_key_max_lifetime_days), placeholder: 'No limit', hint: 'New organization keys must expire within this many days (1–3650). Leave empty for no limit. Keys that exist already are not changed.' });
  const save = button('Save limit', { kind: 'primary', type: 'submit' });
  const form = h('form', { class: 'card form key-lifetime', novalidate: true, 'aria-labelledby': 'lifetime-title' }, h('h2', { class: 'card-title', id: 'lifetime-title' }, 'Access key lifetime'), alert.el, days.wrap, h('div', { class: 'form-actions' }, save));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    alert.clear();
    const raw = days.input.value.trim();
    const n = raw === '' ? null : Number(raw);
    if (n !== null && !(Number.isInteger(n) && n >= 1 && n <= 3650)) {
      days.setError('Enter a whole number of days from 1 to 3650, or leave it empty for no limit.');
      return days.input.focus();
    }
    setButtonBusy(save, true, 'Saving…');
    try {
      const updated = await patch(paths.org(org.id), { access_key_max_lifetime_days: n });
      org.access_key_max_lifetime_days = updated.access_key_max_lifetime_days;
      setButtonBusy(save, false);
      toast(n === null ? 'New access keys may now live forever.' : `New access keys must now expire within ${n} ${n === 1 ? 'day' : 'days'}.`);
    } catch (e) {
      setButtonBusy(save, false);
      if (e.status === 400 && e.field === 'access_key_max_lifetime_days') {
        days.setError(e.human());
        days.input.focus();
      } else alert.show(e.human('This organization'));
    }
  });
  return form;
}
