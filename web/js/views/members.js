// views/members.js — who is in the organization, and with which role.
//
// Everyone sees the members with their roles, can invite someone (as a
// member) and can leave. Owners also change roles (a select per row), remove
// others, invite owners, and add an existing account directly (the API's
// POST …/members, kept for closed sign-up). "Invite member" opens a modal
// that shows the new link exactly once, with Copy; pending invitations are
// listed below the members with Revoke. The last owner cannot leave or be
// demoted: the API answers 409 and the page says so.

import { h, icon } from '../dom.js';
import { post, patch, del, listAll, paths } from '../api.js';
import { openModal, button, field, alertBox, setButtonBusy, confirmDialog, menuButton, toast, tableRoles } from '../ui.js';
import { pageHeader, showLoadError } from '../layout.js';
import { timeEl, initials } from '../format.js';
import { state, navigate } from '../state.js';

const ROLE_LABEL = { owner: 'Owner', member: 'Member' };
const LAST_OWNER = 'An organization needs at least one owner. Make someone else an owner first.';

export function renderMembers(ctx) {
  const org = ctx.org;
  const me = ctx.user;
  let members = [];
  let invitations = [];
  let myRole = null;
  const pageAlert = alertBox();
  const inviteBtn = button('Invite member', { kind: 'primary', iconName: 'plus' });
  inviteBtn.addEventListener('click', () => openInvite());
  const addCard = h('div');
  const content = h('div', { class: 'section' }, h('div', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), 'Loading…'));
  const pending = h('div', { class: 'section' });
  ctx.main.replaceChildren(pageHeader('Members', ['People who can manage ', h('strong', {}, org.name), ', its projects and its access keys.'], [inviteBtn]), pageAlert.el, content, pending, addCard);

  load();

  async function load() {
    try {
      const [data, invs] = await Promise.all([listAll(paths.members(org.id)), listAll(paths.invitations(org.id))]);
      if (!ctx.live()) return;
      members = data.sort((a, b) => (a.name || a.email).localeCompare(b.name || b.email));
      invitations = invs;
      const mine = me && members.find((m) => m.user_id === me.id);
      myRole = mine ? mine.role : null;
      pageAlert.clear();
      draw();
    } catch (e) {
      if (!ctx.live()) return;
      showLoadError({ content, alert: pageAlert, error: e, what: 'Couldn’t load members.', retry: load });
    }
  }

  const isOwner = () => myRole === 'owner';

  function draw() {
    drawMembers();
    drawPending();
    drawAdd();
  }

  function roleCell(m) {
    if (!isOwner()) return h('span', { class: 'badge' }, ROLE_LABEL[m.role] || m.role);
    const sel = h(
      'select',
      { class: 'input select role-select', 'aria-label': `Role of ${m.name}` },
      ['owner', 'member'].map((r) => h('option', { value: r, selected: r === m.role ? true : undefined }, ROLE_LABEL[r])),
    );
    sel.value = m.role;
    sel.addEventListener('change', () => changeRole(m, sel));
    return sel;
  }

  function drawMembers() {
    const table = h(
      'table',
      { class: 'table' },
      h('caption', { class: 'sr-only' }, 'Members'),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Email'), h('th', { scope: 'col' }, 'Role'), h('th', { scope: 'col' }, 'Joined'), h('th', { scope: 'col', class: 'col-actions' }, h('span', { class: 'sr-only' }, 'Actions')))),
      h(
        'tbody',
        {},
        members.map((m) => {
          const isMe = me && m.user_id === me.id;
          const canAct = isMe || isOwner();
          return h(
            'tr',
            { 'data-user-id': m.user_id },
            h('td', { class: 'cell-name', 'data-label': 'Name' }, h('span', { class: 'member' }, h('span', { class: 'avatar avatar-sm', 'aria-hidden': 'true' }, initials(m.name, m.email)), h('span', { class: 'key-name' }, m.name), isMe ? h('span', { class: 'badge' }, 'You') : null)),
            h('td', { 'data-label': 'Email' }, m.email),
            h('td', { 'data-label': 'Role', 'data-role': m.role }, roleCell(m)),
            h('td', { 'data-label': 'Joined' }, timeEl(m.joined_at)),
            h('td', { class: 'col-actions' }, canAct ? menuButton({ label: `Actions for ${m.name}`, items: [{ label: isMe ? 'Leave organization' : 'Remove from organization', icon: isMe ? 'logout' : 'trash', danger: true, onSelect: () => openRemove(m, isMe) }] }) : null),
          );
        }),
      ),
    );
    const note = isOwner() ? null : h('p', { class: 'table-foot' }, 'Only owners can change roles or remove other members.');
    content.replaceChildren(h('div', { class: 'table-card' }, tableRoles(table)), h('p', { class: 'table-foot' }, `${members.length} ${members.length === 1 ? 'member' : 'members'}`), note);
  }

  function drawPending() {
    if (invitations.length === 0) return pending.replaceChildren();
    const table = h(
      'table',
      { class: 'table invitations-table' },
      h('caption', { class: 'sr-only' }, 'Pending invitations'),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Email'), h('th', { scope: 'col' }, 'Role'), h('th', { scope: 'col' }, 'Expires'), h('th', { scope: 'col', class: 'col-actions' }, h('span', { class: 'sr-only' }, 'Actions')))),
      h(
        'tbody',
        {},
        invitations.map((inv) =>
          h(
            'tr',
            { 'data-invitation-id': inv.id },
            h('td', { class: 'cell-name', 'data-label': 'Email' }, inv.email),
            h('td', { 'data-label': 'Role' }, h('span', { class: 'badge' }, ROLE_LABEL[inv.role] || inv.role)),
            h('td', { 'data-label': 'Expires' }, timeEl(inv.expires_at)),
            h('td', { class: 'col-actions' }, button('Revoke', { kind: 'secondary', attrs: { 'aria-label': `Revoke the invitation for ${inv.email}` }, onClick: () => openRevoke(inv) })),
          ),
        ),
      ),
    );
    pending.replaceChildren(h('h2', { class: 'section-title' }, 'Pending invitations'), h('div', { class: 'table-card' }, tableRoles(table)));
  }

  // Owners may add an account directly (kept for closed sign-up).
  function drawAdd() {
    if (!isOwner()) return addCard.replaceChildren();
    const formAlert = alertBox();
    const email = field({ label: 'Email address', name: 'email', type: 'email', placeholder: 'teammate@example.com', autocomplete: 'off', inputmode: 'email' });
    const add = button('Add member', { kind: 'secondary', type: 'submit', iconName: 'plus' });
    const form = h(
      'form',
      { class: 'card form', novalidate: true },
      h('h2', { class: 'card-title' }, 'Add an existing account'),
      h('p', { class: 'card-desc' }, 'Adds the account with this email at once, as a member. Prefer “Invite member”: an invitation works only for the person who holds the link and owns the address.'),
      formAlert.el,
      h('div', { class: 'inline-form' }, email.wrap, add),
    );
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
    addCard.replaceChildren(h('div', { class: 'section' }, form));
  }

  async function changeRole(m, sel) {
    const to = sel.value;
    sel.disabled = true;
    pageAlert.clear();
    try {
      const updated = await patch(paths.member(org.id, m.user_id), { role: to });
      members = members.map((x) => (x.user_id === m.user_id ? { ...x, role: updated.role } : x));
      if (me && m.user_id === me.id) myRole = updated.role;
      toast(`${m.name} is now ${updated.role === 'owner' ? 'an owner' : 'a member'}.`);
    } catch (e) {
      sel.value = m.role;
      pageAlert.show(e.status === 409 ? LAST_OWNER : e.human('This member'));
    } finally {
      sel.disabled = false;
    }
    if (ctx.live()) draw();
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
          if (e.status === 409) throw Object.assign(e, { human: () => (m.role === 'owner' ? LAST_OWNER : e.message) });
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

  function openRevoke(inv) {
    confirmDialog({
      title: 'Revoke invitation?',
      message: h('div', { class: 'confirm-text' }, h('p', {}, 'The link sent to ', h('strong', {}, inv.email), ' stops working at once.')),
      confirmLabel: 'Revoke',
      danger: true,
      what: 'This invitation',
      onConfirm: async () => {
        try {
          await del(paths.invitation(org.id, inv.id));
        } catch (e) {
          if (e.status !== 404) throw e;
        }
        invitations = invitations.filter((x) => x.id !== inv.id);
        if (ctx.live()) draw();
        toast('Invitation revoked.');
      },
    });
  }

  function openInvite() {
    const alert = alertBox();
    const email = field({ label: 'Email address', name: 'email', type: 'email', placeholder: 'teammate@example.com', autocomplete: 'off', inputmode: 'email', hint: 'Only an account with this email can accept.' });
    const roleId = 'f-role-' + Math.random().toString(36).slice(2, 8);
    const role = h(
      'select',
      { id: roleId, name: 'role', class: 'input select' },
      h('option', { value: 'member' }, 'Member'),
      h('option', { value: 'owner', disabled: isOwner() ? undefined : true }, isOwner() ? 'Owner' : 'Owner (owners only)'),
    );
    const roleWrap = h('div', { class: 'field' }, h('label', { for: roleId, class: 'label' }, 'Role'), role);
    const cancel = button('Cancel', { kind: 'secondary' });
    const send = button('Create invitation', { kind: 'primary', type: 'submit' });
    const form = h('form', { class: 'form', novalidate: true }, alert.el, email.wrap, roleWrap);
    form.id = 'invite-form-' + Math.random().toString(36).slice(2, 8);
    send.setAttribute('form', form.id);
    let link = null; // the secret; dropped on close
    let linkNode = null;
    const m = openModal({
      title: 'Invite member',
      description: `They join ${org.name} when they open the link, sign in with this email address and accept.`,
      body: [form],
      footer: [cancel, send],
      initialFocus: email.input,
      onClose: () => {
        link = null;
        if (linkNode) linkNode.textContent = '';
        linkNode = null;
      },
    });
    cancel.addEventListener('click', () => m.close());
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      alert.clear();
      const v = email.input.value.trim();
      if (!v || !v.includes('@')) {
        email.setError('Enter an email address like name@example.com.');
        return email.input.focus();
      }
      email.setError(null);
      m.setBusy(true);
      setButtonBusy(send, true, 'Creating…');
      cancel.disabled = true;
      let inv;
      try {
        inv = await post(paths.invitations(org.id), { email: v, role: role.value });
      } catch (e) {
        m.setBusy(false);
        setButtonBusy(send, false);
        cancel.disabled = false;
        if (e.status === 409) email.setError('This person is already a member.');
        else if (e.status === 400 && e.field === 'email') email.setError(e.human());
        else alert.show(e.human('This organization'));
        email.input.focus();
        return;
      }
      link = inv.url;
      delete inv.url;
      m.setBusy(false);
      if (ctx.live()) {
        invitations = [inv, ...invitations.filter((x) => x.id !== inv.id)];
        draw();
      }
      showLink(inv);
    });

    function showLink(inv) {
      const copyBtn = button('Copy', { kind: 'secondary', iconName: 'copy', attrs: { class: 'btn btn-secondary copy-btn' } });
      const note = h('p', { class: 'copy-note', 'aria-live': 'polite' });
      linkNode = document.createTextNode(link);
      const linkEl = h('code', { class: 'token', id: 'invite-link', tabindex: '0', 'aria-label': 'The invitation link' }, linkNode);
      const done = button('Done', { kind: 'primary' });
      done.addEventListener('click', () => m.close());
      copyBtn.addEventListener('click', () => copyLink(linkEl, copyBtn, note));
      m.el.querySelector('.modal-title').textContent = 'Send this invitation link';
      const desc = m.el.querySelector('.modal-desc');
      if (desc) desc.remove();
      m.el.removeAttribute('aria-describedby');
      m.body.replaceChildren(
        h('p', { class: 'modal-desc' }, 'Send this link to ', h('strong', {}, inv.email), '. It works once, for 7 days, and only for an account with that email address. When the server has email set up, latchkey has sent it too.'),
        h('div', { class: 'callout callout-warning', role: 'note' }, icon('alert'), h('p', {}, h('strong', {}, 'Copy it now — it will not be shown again. '), 'If it gets lost, revoke the invitation and invite them again.')),
        h('div', { class: 'token-box' }, linkEl, copyBtn),
        note,
      );
      m.footer.replaceChildren(done);
      copyBtn.focus();
    }

    async function copyLink(el, btn, note) {
      note.textContent = '';
      if (!link) return;
      let ok = false;
      try {
        if (navigator.clipboard && window.isSecureContext) {
          await navigator.clipboard.writeText(link);
          ok = true;
        }
      } catch (e) {
        ok = false;
      }
      if (!ok) {
        const range = document.createRange();
        range.selectNodeContents(el);
        const sel = window.getSelection();
        sel.removeAllRanges();
        sel.addRange(range);
        try {
          ok = document.execCommand('copy');
        } catch (e) {
          ok = false;
        }
      }
      if (!ok) {
        note.textContent = 'Your browser didn’t allow copying. The link is selected — press Ctrl+C (⌘C on a Mac) to copy it.';
        note.className = 'copy-note is-warning';
        el.focus();
        return;
      }
      btn.querySelector('.btn-label').textContent = 'Copied';
      note.className = 'copy-note sr-only';
      note.textContent = 'Invitation link copied to the clipboard.';
    }
  }
}
