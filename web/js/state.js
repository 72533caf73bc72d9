// state.js — what the page knows between views: the signed-in user, the
// organizations they belong to (cached until something changes them), and
// client-side navigation. Secrets are not kept here: the CSRF token lives in
// api.js, and new access-key tokens only inside the dialog that shows them.

import { get, listAll, paths } from './api.js';

export const state = {
  user: null,
  orgs: null, // [{id, name, created_at}] or null when not loaded
};

let renderer = () => {};

export function setRenderer(fn) {
  renderer = fn;
}

// Go to an in-app path. focus: move focus to the new page's heading (for
// navigations a person started, not for redirects on load).
export function navigate(path, { replace = false, focus = true } = {}) {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  renderer({ focus });
}

export async function loadOrgs(force = false) {
  if (!state.orgs || force) {
    const orgs = await listAll(paths.orgs());
    orgs.sort((a, b) => a.name.localeCompare(b.name) || (a.id < b.id ? -1 : 1));
    state.orgs = orgs;
  }
  return state.orgs;
}

export async function refreshOrg(id) {
  const org = await get(paths.org(id));
  if (state.orgs) {
    const i = state.orgs.findIndex((o) => o.id === id);
    if (i >= 0) state.orgs[i] = org;
  }
  return org;
}

const LAST_ORG = 'latchkey.lastOrg';

// The organization id last opened in this browser (not a secret).
export function rememberOrg(id) {
  try {
    localStorage.setItem(LAST_ORG, id);
  } catch (e) {
    /* storage may be disabled; remembering is only a convenience */
  }
}

export function lastOrg() {
  try {
    return localStorage.getItem(LAST_ORG);
  } catch (e) {
    return null;
  }
}

// Only same-site paths are followed after login, never "//host" or "http:".
export function safeNext(next) {
  if (typeof next !== 'string' || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/';
  if (next.startsWith('/login') || next.startsWith('/signup')) return '/';
  return next;
}
