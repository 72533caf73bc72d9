// views/orgs.js — create an organization (also the first step after sign-up).

import { h } from '../dom.js';
import { post, paths } from '../api.js';
import { field, button, alertBox, setButtonBusy, checkName } from '../ui.js';
import { state, navigate } from '../state.js';

export function renderNewOrg(ctx) {
  const alert = alertBox();
  const name = field({ label: 'Organization name', name: 'name', placeholder: 'Acme Inc.', hint: 'Usually your company or team. You can add people once it exists.' });
  const submit = button('Create organization', { kind: 'primary', type: 'submit' });
  const actions = [submit];
  if (!ctx.firstOrg) actions.unshift(h('button', { type: 'button', class: 'btn btn-secondary', on: { click: () => navigate('/') } }, 'Cancel'));
  const form = h('form', { class: 'form', novalidate: true }, alert.el, name.wrap, h('div', { class: 'form-actions' }, actions));

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    alert.clear();
    const err = checkName(name.input.value, 'a name for the organization');
    name.setError(err);
    if (err) return name.input.focus();
    setButtonBusy(submit, true, 'Creating…');
    try {
      const org = await post(paths.orgs(), { name: name.input.value.trim() });
      state.orgs = null;
      navigate(`/orgs/${encodeURIComponent(org.id)}/settings/access-keys`);
    } catch (e) {
      setButtonBusy(submit, false);
      if (e.status === 400 && e.field === 'name') {
        name.setError(e.human());
        name.input.focus();
      } else alert.show(e.human());
    }
  });

  ctx.main.replaceChildren(
    h(
      'div',
      { class: 'card card-narrow' },
      h('h1', { class: 'page-title', tabindex: '-1' }, ctx.firstOrg ? 'Create your first organization' : 'Create an organization'),
      h('p', { class: 'page-desc' }, 'An organization holds your projects, the people who work on them, and the access keys your services use to call the API.'),
      form,
    ),
  );
  if (ctx.firstOrg) name.input.focus();
}
