// app.js — the dashboard's entry point: restore the session, route the URL to
// a view, keep links inside the single page.
//
// Routes (every one is also a deep link: latchkeyd answers unknown dot-less
// paths with index.html):
//   /login, /signup                       sign in / create an account
//   /                                     → the last or first organization
//   /orgs/new                             create an organization
//   /orgs/{org}/settings/{tab}            tab: access-keys, personal-keys,
//                                         general, projects, members, billing
//   /orgs/{org}/settings/projects/{prj}   a project's environments
//   /account                              password, sessions, security log (account menu)
//   /invite/{token}                       an invitation: log in or sign up,
//                                         then Accept / Decline
//   /device, /device?code=BCDF-GHJK       approve a sign-in from the CLI
//   /orgs/{org}/settings/audit-log        the org's audit log (views/audit.js)

import { get, setCsrf, setUnauthenticatedHandler } from './api.js';
import { h } from './dom.js';
import { closeAllOverlays } from './ui.js';
import { state, navigate, setRenderer, loadOrgs, lastOrg, rememberOrg } from './state.js';
import { orgShell, plainShell, TABS } from './layout.js';
import { renderLogin, renderSignup } from './views/auth.js';
import { renderNewOrg } from './views/orgs.js';
import { renderKeys } from './views/keys.js';
import { renderProjects } from './views/projects.js';
import { renderEnvironments } from './views/environments.js';
import { renderMembers } from './views/members.js';
import { renderBilling } from './views/billing.js';
import { renderGeneral } from './views/general.js';
import { renderAccount } from './views/account.js';
import { renderInvite } from './views/invite.js';
import { renderDevice } from './views/device.js';
import { renderAuditLog } from './views/audit.js';

const root = document.getElementById('app');
let generation = 0;
let flash = null;

setUnauthenticatedHandler(() => {
  if (!state.user) return;
  state.user = null;
  state.orgs = null;
  setCsrf(null);
  flash = 'Your session has ended. Please log in again.';
  const here = location.pathname + location.search;
  navigate(`/login?next=${encodeURIComponent(here)}`, { replace: true, focus: true });
});

const VIEWS = {
  'access-keys': (ctx) => renderKeys(ctx, 'org'),
  'personal-keys': (ctx) => renderKeys(ctx, 'personal'),
  general: renderGeneral,
  projects: renderProjects,
  members: renderMembers,
  billing: renderBilling,
  'audit-log': renderAuditLog,
};

function title(parts) {
  document.title = [...parts, 'latchkey'].filter(Boolean).join(' · ');
}

// Each render gets a generation number; async work from a superseded render
// checks ctx.live() and stops touching the page.
async function render({ focus = false } = {}) {
  const gen = ++generation;
  closeAllOverlays();
  const live = () => gen === generation;
  const path = location.pathname.replace(/\/+$/, '') || '/';
  const params = new URLSearchParams(location.search);
  root.setAttribute('aria-busy', 'true');
  try {
    if (path === '/login' || path === '/signup') {
      if (state.user) return navigate('/', { replace: true });
      const msg = flash;
      flash = null;
      title([path === '/login' ? 'Log in' : 'Create account']);
      const ctx = { root, live, params, flash: msg, onSignedIn };
      if (path === '/login') renderLogin(ctx);
      else renderSignup(ctx);
      return finish(focus);
    }
    const inv = path.match(/^\/invite\/([^/]+)$/);
    if (inv) {
      title(['Invitation']);
      renderInvite({ root, live, main: plainShell(root), token: decodeURIComponent(inv[1]), user: state.user, onAccepted: () => (state.orgs = null) });
      return finish(focus);
    }
    if (!state.user) {
      return navigate(`/login?next=${encodeURIComponent(location.pathname + location.search)}`, { replace: true, focus });
    }
    const orgs = await loadOrgs();
    if (!live()) return;
    if (path === '/') {
      if (orgs.length === 0) return navigate('/orgs/new', { replace: true, focus });
      const last = lastOrg();
      const org = orgs.find((o) => o.id === last) || orgs[0];
      return navigate(`/orgs/${encodeURIComponent(org.id)}/settings/access-keys`, { replace: true, focus });
    }
    if (path === '/account') {
      title(['Account']);
      renderAccount({ root, live, main: plainShell(root), user: state.user });
      return finish(focus);
    }
    if (path === '/orgs/new') {
      title(['Create organization']);
      renderNewOrg({ root, live, main: plainShell(root), firstOrg: orgs.length === 0 });
      return finish(focus);
    }
    if (path === '/device') {
      title(['Approve sign-in']);
      renderDevice({ root, live, main: plainShell(root), params, user: state.user });
      return finish(focus);
    }
    const m = path.match(/^\/orgs\/([^/]+)(?:\/settings(?:\/([^/]+)(?:\/([^/]+))?)?)?$/);
    if (m) {
      const orgId = decodeURIComponent(m[1]);
      const tab = m[2] || null;
      const sub = m[3] ? decodeURIComponent(m[3]) : null;
      if (!tab) return navigate(`/orgs/${encodeURIComponent(orgId)}/settings/access-keys`, { replace: true, focus });
      const org = orgs.find((o) => o.id === orgId);
      if (!org) return notFound('Organization not found', 'It may have been deleted, or you are no longer a member of it.');
      if (!VIEWS[tab] || (sub && tab !== 'projects')) return notFound('Page not found', 'There is no settings page at this address.', org);
      rememberOrg(org.id);
      const tabInfo = TABS.find((t) => t.id === tab);
      title([tabInfo.label, org.name]);
      const main = orgShell(root, org, tab);
      const ctx = { root, main, org, live, user: state.user, params };
      if (sub) renderEnvironments({ ...ctx, onTitle: (name) => live() && title([name, tabInfo.label, org.name]) }, sub);
      else VIEWS[tab](ctx);
      return finish(focus);
    }
    return notFound('Page not found', 'There is nothing at this address.');
  } catch (e) {
    if (!live()) return;
    if (e.status === 401) return; // the handler has already moved to /login
    const main = plainShell(root);
    main.replaceChildren(
      h('div', { class: 'empty' }, h('h1', { class: 'page-title', tabindex: '-1' }, 'Something went wrong'), h('p', { class: 'page-desc', role: 'alert' }, e.human ? e.human() : String(e)), h('button', { type: 'button', class: 'btn btn-primary', on: { click: () => render({ focus: true }) } }, 'Try again')),
    );
    finish(true);
  } finally {
    if (live()) root.removeAttribute('aria-busy');
  }

  function finish(doFocus) {
    if (!doFocus) return;
    const target = root.querySelector('h1') || root.querySelector('main');
    if (target) target.focus({ preventScroll: false });
  }

  function notFound(heading, text, org = null) {
    title([heading]);
    const main = plainShell(root, { org });
    main.replaceChildren(h('div', { class: 'empty' }, h('h1', { class: 'page-title', tabindex: '-1' }, heading), h('p', { class: 'page-desc' }, text), h('a', { href: '/', class: 'btn btn-primary' }, 'Go to your dashboard')));
    finish(true);
  }
}

function onSignedIn(user, csrf, next) {
  state.user = user;
  state.orgs = null;
  setCsrf(csrf);
  navigate(next || '/', { replace: true });
}

// Keep same-origin link clicks inside the page.
document.addEventListener('click', (ev) => {
  if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
  const a = ev.target.closest('a[href]');
  if (!a || a.target || a.hasAttribute('download')) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || url.pathname.startsWith('/v1/')) return;
  if (url.hash && url.pathname === location.pathname) return; // in-page anchors (skip link)
  ev.preventDefault();
  navigate(url.pathname + url.search);
});

window.addEventListener('popstate', () => render({ focus: true }));
setRenderer(render);

async function boot() {
  try {
    const s = await get('/v1/auth/session', { expect401: true });
    state.user = s.user;
    setCsrf(s.csrf_token);
  } catch (e) {
    if (e.status !== 401) {
      // The server is unreachable or failing: say so rather than pretending
      // the person is signed out.
      const main = plainShell(root);
      main.replaceChildren(h('div', { class: 'empty' }, h('h1', { class: 'page-title' }, 'latchkey is not responding'), h('p', { class: 'page-desc', role: 'alert' }, e.human ? e.human() : String(e)), h('button', { type: 'button', class: 'btn btn-primary', on: { click: () => location.reload() } }, 'Try again')));
      root.removeAttribute('aria-busy');
      return;
    }
  }
  render({ focus: false });
}

boot();
