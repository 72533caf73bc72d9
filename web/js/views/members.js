// views/members.js — who is in the organization: list, add by email (the
// person needs an account already), remove, or leave.

import { h, icon } from '../dom.js';
import { post, del, listAll, paths } from '../api.js';
import { button, field, alertBox, setButtonBusy, confirmDialog, menuButton, toast, tableRoles } from '../ui.js';
import { pageHeader, showLoadError } from '../layout.js';
import { timeEl, initials } from '../format.js';
import { state, navigate } from '../state.js';

export function renderMembers(ctx) {
  const org = ctx.org;
  const me = ctx.user;
  let members = [];
  const pageAlert = alertBox();
  const formAlert = alertBox();
  const email = field({ label: 'Email address', name: 'email', type: 'email', placeholder: 'teammate@example.com', autocomplete: 'off', inputmode: 'email' });
  const add = button('Add member', { kind: 'primary', type: 'submit', iconName: 'plus' });
  const form = h(
    'form',
    { class: 'card form', novalidate: true },
    h('h2', { class: 'card-title' }, 'Add a member'),
    h('p', { class: 'card-desc' }, 'They need a latchkey account already. Enter the email address they signed up with.'),
    formAlert.el,
    h('div', { class: 'inline-form' }, email.wrap, add),
  );
  const content = h('div', { class: 'section' }, h('div', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), 'Loading…'));
  ctx.main.replaceChildren(pageHeader('Members', ['People who can manage ', h('strong', {}, org.name), ', its projects and its access keys.']), form, pageAlert.el, content);

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    formAlert.clear();
    const v = email.input.value.trim();
    if (!v || !v.includes('@')) {
      email.setError('Enter an email address like name@example.com.');
      return email.input.focus();
    }
    setButtonBusy(add, true, 'Adding…');
    try {
      await post(paths.members(org.id), { email: v });
      email.input.value = '';
      toast('Member added.');
      await load();
    } catch (e) {
      if (e.status === 404 && !/organization/i.test(e.message)) email.setError('No latchkey account uses this email address. Ask them to sign up first.');
      else if (e.status === 409) email.setError('This person is already a member.');
      else if (e.status === 400) email.setError(e.human());
      else formAlert.show(e.human('This organization'));
      email.input.focus();
    } finally {
      setButtonBusy(add, false);
    }
  });

  load();

  async function load() {
    try {
      const data = await listAll(paths.members(org.id));
      if (!ctx.live()) return;
      members = data.sort((a, b) => (a.name || a.email).localeCompare(b.name || b.email));
      pageAlert.clear();
      draw();
    } catch (e) {
      if (!ctx.live()) return;
      showLoadError({ content, alert: pageAlert, error: e, what: 'Couldn’t load members.', retry: load });
    }
  }

  function draw() {
    const table = h(
      'table',
      { class: 'table' },
      h('caption', { class: 'sr-only' }, 'Members'),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Email'), h('th', { scope: 'col' }, 'Joined'), h('th', { scope: 'col', class: 'col-actions' }, h('span', { class: 'sr-only' }, 'Actions')))),
      h(
        'tbody',
        {},
        members.map((m) => {
          const isMe = me && m.user_id === me.id;
          return h(
            'tr',
            { 'data-user-id': m.user_id },
            h('td', { class: 'cell-name', 'data-label': 'Name' }, h('span', { class: 'member' }, h('span', { class: 'avatar avatar-sm', 'aria-hidden': 'true' }, initials(m.name, m.email)), h('span', { class: 'key-name' }, m.name), isMe ? h('span', { class: 'badge' }, 'You') : null)),
            h('td', { 'data-label': 'Email' }, m.email),
            h('td', { 'data-label': 'Joined' }, timeEl(m.joined_at)),
            h('td', { class: 'col-actions' }, menuButton({ label: `Actions for ${m.name}`, items: [{ label: isMe ? 'Leave organization' : 'Remove from organization', icon: isMe ? 'logout' : 'trash', danger: true, onSelect: () => openRemove(m, isMe) }] })),
          );
        }),
      ),
    );
    content.replaceChildren(h('div', { class: 'table-card' }, tableRoles(table)), h('p', { class: 'table-foot' }, `${members.length} ${members.length === 1 ? 'member' : 'members'}`));
  }

  function openRemove(m, isMe) {
    confirmDialog({
      title: isMe ? 'Leave organization?' : 'Remove member?',
      message: h(
        'div',
        { class: 'confirm-text' },
        isMe
          ? h('p', {}, 'You will lose access to ', h('strong', {}, org.name), ' at once, and your personal access keys will stop working for it.')
          : h('p', {}, h('strong', {}, m.name), ' (', m.email, ') will lose access to ', h('strong', {}, org.name), ' at once, and their personal access keys will stop working for it. Organization keys they created keep working.'),
      ),
      confirmLabel: isMe ? 'Leave' : 'Remove',
      danger: true,
      what: 'This member',
      onConfirm: async () => {
        try {
          await del(paths.member(org.id, m.user_id));
        } catch (e) {
          if (e.status !== 404) throw e;
        }
        if (isMe) {
          state.orgs = null;
          toast(`You left ${org.name}.`);
          navigate('/');
          return;
        }
        members = members.filter((x) => x.user_id !== m.user_id);
        if (ctx.live()) draw();
        toast('Member removed.');
      },
    });
  }
}
