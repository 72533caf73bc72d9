// api.js — the one place the dashboard talks to latchkeyd's HTTP API.
//
// - Same origin, session cookie (HttpOnly; JavaScript never sees it).
// - Every state-changing call (POST, PATCH, DELETE) carries the CSRF token
//   that login or GET /v1/auth/session returned, as X-CSRF-Token. The token
//   lives only in this module's memory, never in storage.
// - A 401 from any call except the ones that expect it (login, session
//   probe) ends the session in the page and sends the person to /login.
// - Every failure becomes an ApiError whose .human is a sentence a person
//   can act on; callers show it, nothing is swallowed.

let csrfToken = null;
let onUnauthenticated = () => {};

export function setCsrf(token) {
  csrfToken = token || null;
}

export function setUnauthenticatedHandler(fn) {
  onUnauthenticated = fn;
}

export class ApiError extends Error {
  constructor(status, code, message, extra = {}) {
    super(message || code || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = extra.field || null;
    this.retryAfter = extra.retryAfter || null;
  }

  // A sentence for people. `what` names the thing for 404s ("This access key").
  human(what) {
    return humanize(this, what);
  }
}

function sentence(s) {
  s = String(s || '').trim();
  if (!s) return '';
  s = s[0].toUpperCase() + s.slice(1);
  return /[.!?]$/.test(s) ? s : `${s}.`;
}

const NOUNS = {
  organization: 'This organization',
  'access key': 'This access key',
  project: 'This project',
  environment: 'This environment',
  member: 'This member',
};

function humanize(err, what) {
  switch (err.status) {
    case 0:
      return 'Couldn’t reach the latchkey server. Check your connection and try again.';
    case 400:
      if (err.code === 'validation_failed') return sentence(err.message) || 'Some of the values are not valid.';
      return 'The request could not be understood. Reload the page and try again.';
    case 401:
      return 'Your session has ended. Please log in again.';
    case 403:
      if (/csrf/i.test(err.message)) return 'Your session’s security token is out of date. Reload the page and try again.';
      return 'You don’t have permission to do that.';
    case 404: {
      // The server names what it could not find ("organization not found");
      // that beats the caller's guess when, say, the org vanished under a key.
      const named = Object.entries(NOUNS).find(([k]) => String(err.message).toLowerCase().startsWith(k));
      return `${named ? named[1] : what || 'This item'} no longer exists, or you no longer have access to it.`;
    }
    case 409:
      return sentence(err.message) || 'That conflicts with something that already exists.';
    case 413:
      return 'That is too large to save.';
    case 429:
      return err.retryAfter
        ? `Too many requests. Wait ${err.retryAfter} second${err.retryAfter === '1' ? '' : 's'} and try again.`
        : 'Too many requests. Wait a moment and try again.';
    default:
      if (err.status >= 500) return 'Something went wrong on the server. Please try again in a moment.';
      return sentence(err.message) || `The server answered with an unexpected error (HTTP ${err.status}).`;
  }
}

const UNSAFE = new Set(['POST', 'PATCH', 'PUT', 'DELETE']);

// request('POST', '/v1/organizations', {name}) → parsed JSON (null for 204).
// opts.expect401: a 401 is an answer (login, session probe), not a logout.
export async function request(method, path, body, opts = {}) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store', redirect: 'error' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (UNSAFE.has(method) && csrfToken) headers['X-CSRF-Token'] = csrfToken;

  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, 'network', 'network error');
  }
  if (res.status === 204) return null;
  let data = null;
  const text = await res.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch (e) {
      data = null;
    }
  }
  if (res.ok) {
    if (data === null) throw new ApiError(res.status, 'bad_response', 'the server sent an unreadable answer');
    return data;
  }
  const e = (data && data.error) || {};
  const err = new ApiError(res.status, e.code || 'http_error', e.message || res.statusText, {
    field: e.field,
    retryAfter: res.headers.get('Retry-After'),
  });
  if (res.status === 401 && !opts.expect401) onUnauthenticated(err);
  throw err;
}

export const get = (path, opts) => request('GET', path, undefined, opts);
export const post = (path, body, opts) => request('POST', path, body === undefined ? {} : body, opts);
export const patch = (path, body, opts) => request('PATCH', path, body, opts);
export const del = (path, opts) => request('DELETE', path, undefined, opts);

const enc = encodeURIComponent;

// Every page of a list, following next_cursor (capped, so a runaway server
// cannot keep the page loading forever).
export async function listAll(path, maxPages = 20) {
  const out = [];
  let cursor = null;
  for (let i = 0; i < maxPages; i++) {
    const sep = path.includes('?') ? '&' : '?';
    const url = `${path}${sep}limit=1000${cursor ? `&cursor=${enc(cursor)}` : ''}`;
    const page = await get(url);
    out.push(...(page.data || []));
    cursor = page.next_cursor;
    if (!cursor) break;
  }
  return out;
}

export const paths = {
  orgs: () => '/v1/organizations',
  org: (org) => `/v1/organizations/${enc(org)}`,
  orgKeys: (org) => `/v1/organizations/${enc(org)}/access-keys`,
  orgKey: (org, key) => `/v1/organizations/${enc(org)}/access-keys/${enc(key)}`,
  myKeys: () => '/v1/me/access-keys',
  myKey: (key) => `/v1/me/access-keys/${enc(key)}`,
  members: (org) => `/v1/organizations/${enc(org)}/members`,
  member: (org, usr) => `/v1/organizations/${enc(org)}/members/${enc(usr)}`,
  invitations: (org) => `/v1/organizations/${enc(org)}/invitations`,
  invitation: (org, inv) => `/v1/organizations/${enc(org)}/invitations/${enc(inv)}`,
  invite: (token) => `/v1/invitations/${enc(token)}`,
  inviteAccept: () => '/v1/invitations/accept',
  projects: (org) => `/v1/organizations/${enc(org)}/projects`,
  project: (org, prj) => `/v1/organizations/${enc(org)}/projects/${enc(prj)}`,
  environments: (org, prj) => `/v1/organizations/${enc(org)}/projects/${enc(prj)}/environments`,
  environment: (org, prj, env) => `/v1/organizations/${enc(org)}/projects/${enc(prj)}/environments/${enc(env)}`,
  billing: (org) => `/v1/organizations/${enc(org)}/billing`,
};
