// views/invite.js — the page an invitation link opens: /invite/<token>.
//
// Signed out: what this is, and Log in / Create account, each coming back
// here afterwards (?next=). Signed in: what the invitation offers (the
// organization, the role, who invited, for which email) from
// GET /v1/invitations/{token}, then Accept (POST /v1/invitations/accept) or
// Decline (leave without joining; the link keeps working until it expires
// or is revoked). Signed in with another email: say so, offer to switch
// accounts, no Accept. The token never leaves this page except to those two
// calls (the dashboard is served with Referrer-Policy: no-referrer).

import { h, icon } from '../dom.js';
import { get, post, paths, setCsrf } from '../api.js';
import { button, alertBox, setButtonBusy, toast } from '../ui.js';
import { timeEl } from '../format.js';
import { state, navigate } from '../state.js';

const TOKEN_RE = /^lki_[0-9A-Za-z]{38}$/;

function card(...children) {
  return h('div', { class: 'card invite-card' }, ...children);
}

function heading(text) {
  return h('h1', { class: 'page-title', tabindex: '-1' }, text);
}

export function renderInvite(ctx) {
  const { main, token } = ctx;
  const here = `/invite/${encodeURIComponent(token)}`;
  if (!TOKEN_RE.test(token)) return invalid(main);
  if (!ctx.user) return signedOut(main, here);
  main.replaceChildren(h('div', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), 'Loading the invitation…'));
  load();

  async function load() {
    let inv;
    try {
      inv = await get(paths.invite(token));
    } catch (e) {
      if (!ctx.live()) return;
      if (e.status === 404) return invalid(main);
      const alert = alertBox();
      alert.show(e.human());
      main.replaceChildren(heading('Invitation'), alert.el, button('Try again', { kind: 'primary', onClick: load }));
      return;
    }
    if (!ctx.live()) return;
    show(inv);
  }

  function show(inv) {
    const alert = alertBox();
    const mine = (ctx.user.email || '').toLowerCase() === (inv.email || '').toLowerCase();
    // (a node lives in one place: one per use)
    const inviter = () => (inv.inviter ? h('span', {}, h('strong', {}, inv.inviter.name), ` (${inv.inviter.email})`) : 'A member');
    const facts = h(
      'dl',
      { class: 'invite-facts' },
      h('dt', {}, 'Organization'),
      h('dd', {}, h('strong', { class: 'invite-org' }, inv.organization.name)),
      h('dt', {}, 'Your role'),
      h('dd', {}, h('span', { class: 'badge' }, inv.role === 'owner' ? 'Owner' : 'Member')),
      h('dt', {}, 'Invited by'),
      h('dd', {}, inviter()),
      h('dt', {}, 'For'),
      h('dd', {}, inv.email),
      h('dt', {}, 'Expires'),
      h('dd', {}, timeEl(inv.expires_at)),
    );
    const accept = button('Accept', { kind: 'primary', iconName: 'check' });
    const decline = button('Decline', { kind: 'secondary' });
    decline.addEventListener('click', () => {
      toast('Invitation declined. The link keeps working until it expires or is revoked.');
      navigate('/');
    });
    accept.addEventListener('click', () => join(inv, accept, decline, alert));
    const body = [heading(`Join ${inv.organization.name}`), alert.el, card(h('p', { class: 'card-desc' }, inviter(), ' invited you to join this organization on latchkey.'), facts)];
    if (mine) {
      body.push(h('div', { class: 'form-actions' }, accept, decline));
    } else {
      const sw = button('Log in as someone else', { kind: 'primary', iconName: 'logout' });
      sw.addEventListener('click', () => switchAccount(here));
      body.push(
        h('div', { class: 'callout callout-warning', role: 'note' }, icon('alert'), h('p', {}, h('strong', {}, 'This invitation is for ', inv.email, '. '), 'You are signed in as ', ctx.user.email, '. Only the invited person can accept it.')),
        h('div', { class: 'form-actions' }, sw, decline),
      );
    }
    main.replaceChildren(...body);
  }

  async function join(inv, accept, decline, alert) {
    alert.clear();
    setButtonBusy(accept, true, 'Joining…');
    decline.disabled = true;
    try {
      await post(paths.inviteAccept(), { token });
    } catch (e) {
      setButtonBusy(accept, false);
      decline.disabled = false;
      if (e.status === 409) alert.show('You are already a member of this organization.');
      else if (e.status === 404) return invalid(main);
      else if (e.status === 403) alert.show('This invitation is for another email address.');
      else alert.show(e.human());
      return;
    }
    if (ctx.onAccepted) ctx.onAccepted();
    toast(`You joined ${inv.organization.name}.`);
    navigate(`/orgs/${encodeURIComponent(inv.organization.id)}/settings/access-keys`, { replace: true });
  }
}

function invalid(main) {
  main.replaceChildren(
    h(
      'div',
      { class: 'empty' },
      heading('This invitation link doesn’t work'),
      h('p', { class: 'page-desc', role: 'alert' }, 'It may have been used already, revoked, or it expired (links last 7 days). Ask the person who invited you for a new one.'),
      h('a', { href: '/', class: 'btn btn-primary' }, 'Go to your dashboard'),
    ),
  );
}

function signedOut(main, here) {
  const next = encodeURIComponent(here);
  main.replaceChildren(
    heading('You’ve been invited to latchkey'),
    card(
      h('p', { class: 'card-desc' }, 'Someone invited you to join their organization. Log in, or create an account with the email address the invitation was sent to, to see it and accept.'),
      h('div', { class: 'form-actions' }, h('a', { href: `/login?next=${next}`, class: 'btn btn-primary' }, 'Log in'), h('a', { href: `/signup?next=${next}`, class: 'btn btn-secondary' }, 'Create account')),
    ),
  );
}

async function switchAccount(here) {
  try {
    await post('/v1/auth/logout');
  } catch (e) {
    /* the session may be gone already */
  }
  state.user = null;
  state.orgs = null;
  setCsrf(null);
  navigate(`/login?next=${encodeURIComponent(here)}`, { replace: true });
}
