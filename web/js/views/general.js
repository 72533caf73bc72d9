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

  ctx.main.replaceChildren(pageHeader('General', ['Settings of ', h('strong', {}, org.name), '.']), form, danger);

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
