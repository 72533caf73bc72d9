// views/audit.js — the audit log: the "Audit Log" tab of an organization's
// settings (every change, filter by action and by actor, pages) and the
// "Security log" of the person (/account: sign-ins, failed sign-ins for their
// email, their personal keys, organizations they deleted).
//
// Each event reads as a sentence: "Ada renamed key ci → ci-prod · 2 minutes
// ago · 203.0.113.7", built from the event's actor, action, target and
// details (never from anything but text nodes: names are user input). The
// User-Agent is in the line's tooltip. Pages follow next_cursor; "Newer"
// goes back through the cursors already seen.

import { h } from '../dom.js';
import { get, listAll, paths } from '../api.js';
import { alertBox, button } from '../ui.js';
import { pageHeader, plainShell, showLoadError } from '../layout.js';
import { relativeText } from '../format.js';

const PAGE_SIZE = 25;

// The org's actions, as the filter lists them (the API accepts any).
export const ORG_ACTIONS = [
  'organization.created', 'organization.renamed', 'organization.deleted',
  'member.added', 'member.invited', 'member.joined', 'member.removed', 'member.role_changed',
  'invitation.revoked',
  'project.created', 'project.renamed', 'project.deleted',
  'environment.created', 'environment.renamed', 'environment.deleted',
  'billing.updated',
  'access_key.created', 'access_key.renamed', 'access_key.rotated', 'access_key.deleted', 'access_key.revoked_leaked',
];

const NOUN = { organization: 'the organization', project: 'project', environment: 'environment', access_key: 'key', user: '', billing: 'billing', invitation: 'the invitation for' };

function actorName(a) {
  if (!a || a.type === 'anonymous') return 'Someone';
  if (a.type === 'organization_key') return `Org key “${a.name || a.id}”`;
  if (a.type === 'personal_key') return `${a.name || 'A personal key'} (personal key)`;
  return a.name || a.id || 'Someone';
}

function target(ev) {
  const t = ev.target || {};
  const noun = NOUN[t.type] === undefined ? t.type : NOUN[t.type];
  return [noun, t.name || t.id || ''].filter(Boolean).join(' ');
}

function change(ev) {
  const d = ev.details || {};
  return d.from !== undefined && d.to !== undefined ? `${d.from} → ${d.to}` : null;
}

// What the actor did, after their name ("renamed key ci → ci-prod").
export function describe(ev) {
  const [kind, verb] = String(ev.action).split('.');
  const t = ev.target || {};
  const d = ev.details || {};
  const noun = NOUN[kind] === undefined ? kind : NOUN[kind];
  switch (ev.action) {
    case 'user.signed_up': return 'signed up';
    case 'user.logged_in': return 'signed in';
    case 'user.login_failed': return `failed to sign in as ${t.name || 'this account'}`;
    case 'user.renamed': return `changed their name ${change(ev) || ''}`.trim();
    case 'user.password_changed': return 'changed their password';
    case 'user.session_revoked': return 'ended a session';
    case 'member.added': return `added ${t.name || t.id} to the organization`;
    case 'member.removed': return `removed ${t.name || t.id} from the organization`;
    case 'member.invited': return `invited ${t.name || t.id}`;
    case 'member.joined': return 'joined the organization';
    case 'member.role_changed': return `changed the role of ${t.name || t.id} ${change(ev) || ''}`.trim();
    case 'billing.updated':
      return d.plan_from && d.plan_to && d.plan_from !== d.plan_to ? `changed the plan ${d.plan_from} → ${d.plan_to}` : 'updated billing';
    case 'access_key.revoked_leaked': return `revoked leaked key ${t.name || t.id}`;
    default:
      if (verb === 'renamed' && change(ev)) return `renamed ${noun} ${change(ev)}`;
      return `${(verb || ev.action).replace(/_/g, ' ')} ${target(ev)}`.trim();
  }
}

// The whole line as text (also what the browser tests read).
export function sentence(ev, now = Date.now()) {
  const when = relativeText(new Date(ev.created_at), now);
  return [`${actorName(ev.actor)} ${describe(ev)}`, when, ev.ip].filter(Boolean).join(' · ');
}

function eventItem(ev) {
  const d = new Date(ev.created_at);
  return h(
    'li',
    { class: 'audit-item', 'data-action': ev.action, title: ev.user_agent || '' },
    h('span', { class: 'audit-what' }, h('strong', {}, actorName(ev.actor)), ` ${describe(ev)}`),
    h('span', { class: 'audit-meta' }, ' · ', h('time', { datetime: ev.created_at }, relativeText(d)), ev.ip ? ` · ${ev.ip}` : ''),
  );
}

// A paged list of events at `base` (+ filters) into `content`.
function pagedLog({ ctx, content, alert, base, query, what, empty }) {
  const cursors = [null];
  let page = 0;

  async function load() {
    const q = new URLSearchParams(query());
    q.set('limit', String(PAGE_SIZE));
    if (cursors[page]) q.set('cursor', cursors[page]);
    try {
      const res = await get(`${base}?${q}`);
      if (!ctx.live()) return;
      alert.clear();
      cursors[page + 1] = res.next_cursor || null;
      draw(res.data || []);
    } catch (e) {
      if (!ctx.live()) return;
      showLoadError({ content, alert, error: e, what, retry: load });
    }
  }

  function draw(events) {
    const list = events.length
      ? h('ol', { class: 'audit-list card', 'aria-label': 'Events, newest first' }, events.map(eventItem))
      : h('p', { class: 'empty-text audit-empty' }, empty);
    const newer = button('Newer', { attrs: { disabled: page === 0 ? true : null } });
    const older = button('Older', { attrs: { disabled: cursors[page + 1] ? null : true } });
    newer.addEventListener('click', () => { page -= 1; load(); });
    older.addEventListener('click', () => { page += 1; load(); });
    content.replaceChildren(list, h('nav', { class: 'audit-pager', 'aria-label': 'Pages' }, newer, h('span', { class: 'muted' }, `Page ${page + 1}`), older));
  }

  return {
    reset() {
      cursors.length = 1;
      page = 0;
      return load();
    },
  };
}

function select(label, name, options) {
  const id = `audit-${name}`;
  const el = h('select', { id, name, class: 'input select' }, options.map(([v, text]) => h('option', { value: v }, text)));
  return { el, wrap: h('div', { class: 'field' }, h('label', { class: 'label', for: id }, label), el) };
}

function loading() {
  return h('div', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), 'Loading…');
}

// The "Audit Log" tab of an organization's settings.
export function renderAuditLog(ctx) {
  const org = ctx.org;
  const alert = alertBox();
  const content = h('div', { class: 'section' }, loading());
  const action = select('Action', 'action', [['', 'All actions'], ...ORG_ACTIONS.map((a) => [a, a])]);
  const actor = select('Actor', 'actor', [['', 'Anyone']]);
  const filters = h('form', { class: 'audit-filters inline-form', 'aria-label': 'Filter events' }, action.wrap, actor.wrap);
  ctx.main.replaceChildren(pageHeader('Audit Log', ['Who did what in ', h('strong', {}, org.name), ', when, and from where. Events cannot be edited or deleted.']), filters, alert.el, content);
  const log = pagedLog({
    ctx, content, alert,
    base: `${paths.org(org.id)}/audit-events`,
    query: () => Object.fromEntries([['action', action.el.value], ['actor', actor.el.value]].filter(([, v]) => v)),
    what: 'Couldn’t load the audit log.',
    empty: 'No events match.',
  });
  filters.addEventListener('submit', (ev) => ev.preventDefault());
  for (const s of [action.el, actor.el]) s.addEventListener('change', () => log.reset());
  log.reset();
  listAll(paths.members(org.id)).then((members) => {
    if (!ctx.live()) return;
    for (const m of members) actor.el.appendChild(h('option', { value: m.user_id }, m.name || m.email));
  }).catch(() => {}); // the filter only offers fewer people; the log itself reports errors
}

// The person's "Security log" section (the Account page holds it).
export function securityLogSection(ctx) {
  const alert = alertBox();
  const content = h('div', {}, loading());
  const section = h('section', { class: 'section audit-security', 'aria-labelledby': 'security-log-title' },
    h('h2', { id: 'security-log-title', class: 'card-title' }, 'Security log'),
    h('p', { class: 'card-desc' }, 'Sign-ins, failed sign-ins for your email, changes to your account and personal keys, and organizations you deleted.'),
    alert.el, content);
  pagedLog({ ctx, content, alert, base: '/v1/me/audit-events', query: () => ({}), what: 'Couldn’t load your security log.', empty: 'Nothing yet.' }).reset();
  return section;
}
