// layout.js — the frame around every signed-in page: the top bar (brand,
// organization switcher, account menu) and the settings sidebar, plus the
// centered card used by the sign-in and onboarding pages.

import { h, icon } from './dom.js';
import { post } from './api.js';
import { menuButton, toast } from './ui.js';
import { state, navigate } from './state.js';
import { initials } from './format.js';

export const TABS = [
  { id: 'access-keys', label: 'Org Access Keys', icon: 'key', group: 'Access keys' },
  { id: 'personal-keys', label: 'Personal Access Keys', icon: 'user', group: 'Access keys' },
  { id: 'general', label: 'General', icon: 'settings', group: 'Organization' },
  { id: 'projects', label: 'Projects', icon: 'folder', group: 'Organization' },
  { id: 'members', label: 'Members', icon: 'users', group: 'Organization' },
  { id: 'billing', label: 'Billing', icon: 'card', group: 'Organization' },
  { id: 'audit-log', label: 'Audit Log', icon: 'layers', group: 'Organization' },
];

function brand() {
  return h('a', { href: '/', class: 'brand', 'aria-label': 'latchkey home' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, icon('key', 'icon brand-icon')), h('span', { class: 'brand-name' }, 'latchkey'));
}

export async function logout() {
  try {
    await post('/v1/auth/logout', undefined, { expect401: true });
  } catch (e) {
    if (e.status !== 401) {
      toast(`Couldn’t log out: ${e.human()}`, 'error');
      return;
    }
  }
  state.user = null;
  state.orgs = null;
  navigate('/login', { replace: true });
}

function orgSwitcher(current, tab) {
  const orgs = state.orgs || [];
  const items = orgs.map((o) => ({
    label: o.name,
    current: current && o.id === current.id,
    onSelect: () => navigate(`/orgs/${encodeURIComponent(o.id)}/settings/${tab || 'access-keys'}`),
  }));
  items.push({ label: 'Create organization', icon: 'plus', onSelect: () => navigate('/orgs/new') });
  const content = [
    h('span', { class: 'org-avatar', 'aria-hidden': 'true' }, current ? initials(current.name) : icon('building')),
    h('span', { class: 'org-switcher-name' }, current ? current.name : 'Select organization'),
    icon('chevron', 'icon icon-sm'),
  ];
  return menuButton({
    label: current ? `Organization: ${current.name}. Switch organization` : 'Switch organization',
    content,
    items,
    className: 'org-switcher',
    align: 'start',
    header: h('span', { class: 'menu-header-label' }, 'Organizations'),
  });
}

function userMenu() {
  const u = state.user || {};
  return menuButton({
    label: `Account: ${u.name || u.email || ''}`,
    content: h('span', { class: 'avatar', 'aria-hidden': 'true' }, initials(u.name, u.email)),
    className: 'avatar-btn',
    items: [
      { label: 'Account', icon: 'user', onSelect: () => navigate('/account') },
      { label: 'Log out', icon: 'logout', onSelect: logout },
    ],
    header: [h('span', { class: 'menu-header-name' }, u.name || ''), h('span', { class: 'menu-header-email' }, u.email || '')],
  });
}

function topbar(org, tab) {
  return h(
    'header',
    { class: 'topbar' },
    h('div', { class: 'topbar-inner' }, brand(), h('span', { class: 'topbar-sep', 'aria-hidden': 'true' }, '/'), orgSwitcher(org, tab), h('div', { class: 'topbar-spacer' }), userMenu()),
  );
}

function sidebar(org, tab) {
  const groups = new Map();
  for (const t of TABS) {
    if (!groups.has(t.group)) groups.set(t.group, []);
    groups.get(t.group).push(t);
  }
  const nav = h('nav', { class: 'sidebar', 'aria-label': 'Organization settings' });
  nav.appendChild(h('p', { class: 'sidebar-title' }, 'Settings'));
  for (const [group, tabs] of groups) {
    nav.appendChild(h('p', { class: 'sidebar-group' }, group));
    const ul = h('ul', { class: 'sidebar-list' });
    for (const t of tabs) {
      const href = `/orgs/${encodeURIComponent(org.id)}/settings/${t.id}`;
      ul.appendChild(h('li', {}, h('a', { href, class: 'sidebar-link', 'aria-current': t.id === tab ? 'page' : null }, icon(t.icon), h('span', {}, t.label))));
    }
    nav.appendChild(ul);
  }
  return nav;
}

// The signed-in frame for an organization settings tab. Returns the <main>
// that the view fills.
export function orgShell(root, org, tab) {
  const main = h('main', { id: 'main', class: 'main', tabindex: '-1' });
  const nav = sidebar(org, tab);
  root.replaceChildren(topbar(org, tab), h('div', { class: 'shell' }, nav, main));
  // At phone width the sidebar is a row of tabs that scrolls sideways: bring
  // the current one into view.
  requestAnimationFrame(() => {
    const cur = nav.querySelector('[aria-current="page"]');
    if (cur && nav.scrollWidth > nav.clientWidth) nav.scrollLeft = Math.max(0, cur.offsetLeft - 16);
  });
  return main;
}

// A list failed to load: say why in the page's alert, and offer the way on —
// "Try again" for a passing failure, the dashboard when the organization is
// gone or the person is no longer in it (404).
export function showLoadError({ content, alert, error, what, retry }) {
  if (error.status === 401) return; // already on the way to /login
  content.replaceChildren();
  if (error.status === 404) {
    state.orgs = null;
    alert.show(`${what} ${error.human('This organization')}`);
    content.appendChild(h('div', { class: 'retry' }, h('a', { href: '/', class: 'btn btn-secondary' }, 'Go to your dashboard')));
  } else {
    alert.show(`${what} ${error.human()}`);
    content.appendChild(h('div', { class: 'retry' }, h('button', { type: 'button', class: 'btn btn-secondary', on: { click: () => (alert.clear(), retry()) } }, 'Try again')));
  }
}

// A signed-in page outside any organization (create organization, not found).
export function plainShell(root, { org = null } = {}) {
  const main = h('main', { id: 'main', class: 'main main-narrow', tabindex: '-1' });
  root.replaceChildren(topbar(org, null), h('div', { class: 'shell shell-plain' }, main));
  return main;
}

// The centered card of the sign-in pages.
export function authShell(root) {
  const main = h('main', { id: 'main', class: 'auth-main', tabindex: '-1' });
  root.replaceChildren(h('div', { class: 'auth-page' }, h('div', { class: 'auth-brand' }, brand()), main, h('p', { class: 'auth-foot' }, 'Access keys for your organization, in one place.')));
  return main;
}

// The heading block of a page: title, description, actions on the right.
export function pageHeader(title, description, actions = []) {
  return h(
    'div',
    { class: 'page-header' },
    h('div', { class: 'page-header-text' }, h('h1', { class: 'page-title', tabindex: '-1' }, title), description ? h('p', { class: 'page-desc' }, description) : null),
    actions.length ? h('div', { class: 'page-actions' }, actions) : null,
  );
}
