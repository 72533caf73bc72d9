// views/keyscopes.js — least privilege in the dashboard: what a key may do
// (scopes), where it may be used from (allowed IP ranges), and the signals
// around it (access at a glance, last used address, "expires in N days").
//
// Used by views/keys.js (the create dialog and the table). The server is the
// authority on every rule: this file only offers the choices the API
// accepts and shows what it answered. Scope names mirror src/common/scope.h.

import { h, nextId, icon } from '../dom.js';
import { timeEl } from '../format.js';

// Grouped by resource, as the create dialog shows them.
export const SCOPE_GROUPS = [
  { id: 'projects', label: 'Projects and environments', read: 'projects:read', write: 'projects:write' },
  { id: 'members', label: 'Members', read: 'members:read', write: 'members:write' },
  { id: 'keys', label: 'Access keys', read: 'keys:read', write: 'keys:write' },
  { id: 'billing', label: 'Billing', read: 'billing:read', write: 'billing:write' },
  { id: 'org', label: 'Organization settings', read: null, write: 'org:write' },
  { id: 'audit', label: 'Audit log', read: 'audit:read', write: null },
  { id: 'user', label: 'Your profile', read: 'user:read', write: 'user:write', personalOnly: true },
];

export const WARN_DAYS = 7; // the "Expires in N days" warning (the CLI's too)
const DAY_MS = 86400000;

function groupsFor(isOrg) {
  return SCOPE_GROUPS.filter((g) => !(isOrg && g.personalOnly));
}

export function readOnlyScopes(isOrg) {
  return groupsFor(isOrg).map((g) => g.read).filter(Boolean);
}

// Every scope a key's list implies (":write" brings ":read").
function closed(scopes) {
  const s = new Set(scopes);
  for (const x of scopes) if (x.endsWith(':write')) s.add(x.replace(/:write$/, ':read'));
  s.add('org:read');
  return s;
}

// "Full access" / "Read-only" / "3 scopes" for a key object from the API.
export function accessLabel(k, isOrg) {
  const sc = k.scopes || ['*'];
  if (sc.includes('*')) return { text: 'Full access', list: null };
  const mine = [...closed(sc)].filter((x) => x !== 'org:read');
  const ro = readOnlyScopes(isOrg);
  if (mine.length === ro.length && ro.every((x) => mine.includes(x))) return { text: 'Read-only', list: sc };
  const n = sc.length;
  return { text: `${n} ${n === 1 ? 'scope' : 'scopes'}`, list: sc };
}

// The table cell: the label, and for a restricted key the list on hover
// and on keyboard focus (a focusable element with a tooltip and an
// accessible description).
export function accessCell(k, isOrg) {
  const { text, list } = accessLabel(k, isOrg);
  if (!list) return h('span', { class: 'access access-full' }, text);
  const tipId = nextId('scopes');
  const tip = h('span', { id: tipId, role: 'tooltip', class: 'scope-tip' }, list.join(', '));
  const cidrs = k.allowed_cidrs && k.allowed_cidrs.length ? h('span', { class: 'cidr-note' }, `from ${k.allowed_cidrs.join(', ')}`) : null;
  return h('span', { class: 'access-wrap' }, h('span', { class: 'access access-limited', tabindex: '0', title: list.join(', '), 'aria-describedby': tipId }, text), tip, cidrs);
}

// "Last used": time and address.
export function lastUsedCell(k) {
  if (!k.last_used_at) return h('span', { class: 'muted' }, 'Never used');
  return h('span', { class: 'last-used' }, timeEl(k.last_used_at, { relative: true }), k.last_used_ip ? h('span', { class: 'last-ip' }, `from ${k.last_used_ip}`) : null);
}

// "Expires in 3 days" when a live key expires within WARN_DAYS, else null.
export function expiryWarning(k, now = Date.now()) {
  if (!k.expires_at) return null;
  const left = Date.parse(k.expires_at) - now;
  if (!(left > 0) || left > WARN_DAYS * DAY_MS) return null;
  const days = Math.floor(left / DAY_MS);
  const text = days < 1 ? 'Expires today' : `Expires in ${days} ${days === 1 ? 'day' : 'days'}`;
  return h('span', { class: 'badge badge-warning expiry-warning', role: 'status' }, icon('alert', 'icon icon-sm'), text);
}

// The create dialog's "Access" fieldset: Full access / Read-only / Custom,
// with Custom's checkboxes grouped by resource (read and write). value()
// is what goes into the request: undefined for full access, else a list.
export function scopePicker(isOrg) {
  const name = nextId('access');
  const errId = `${name}-err`;
  const modes = [
    { id: 'full', label: 'Full access', hint: 'Everything you can do' + (isOrg ? ' in this organization' : '') + '.' },
    { id: 'read', label: 'Read-only', hint: 'Look, never change.' },
    { id: 'custom', label: 'Custom', hint: 'Pick what the key may read and change.' },
  ];
  const radios = modes.map((m) => h('input', { type: 'radio', name, value: m.id, id: `${name}-${m.id}`, checked: m.id === 'full' ? true : null }));
  const boxes = new Map(); // scope → checkbox
  const rows = groupsFor(isOrg).map((g) => {
    const cell = (scope, label) => {
      if (!scope) return h('td', {}, h('span', { class: 'muted' }, '—'));
      const id = `${name}-${scope.replace(':', '-')}`;
      const cb = h('input', { type: 'checkbox', id, value: scope, 'data-scope': scope });
      boxes.set(scope, cb);
      return h('td', {}, cb, h('label', { for: id, class: 'sr-only' }, `${g.label}: ${label}`));
    };
    return h('tr', {}, h('th', { scope: 'row' }, g.label), cell(g.read, 'read'), cell(g.write, 'write'));
  });
  const grid = h(
    'table',
    { class: 'scope-grid' },
    h('caption', { class: 'sr-only' }, 'Custom scopes'),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Resource'), h('th', { scope: 'col' }, 'Read'), h('th', { scope: 'col' }, 'Write'))),
    h('tbody', {}, rows),
  );
  const custom = h('div', { class: 'scope-custom', hidden: true }, grid);
  const err = h('p', { id: errId, class: 'field-error', hidden: true });
  const el = h(
    'fieldset',
    { class: 'field scope-picker', 'aria-describedby': errId },
    h('legend', { class: 'label' }, 'Access'),
    modes.map((m, i) => h('div', { class: 'radio-row' }, radios[i], h('label', { for: radios[i].id }, h('strong', {}, m.label), ' ', h('span', { class: 'hint' }, m.hint)))),
    custom,
    err,
  );
  // Write implies read: ticking write ticks (and locks) read.
  for (const g of groupsFor(isOrg)) {
    const w = g.write && boxes.get(g.write);
    const r = g.read && boxes.get(g.read);
    if (w && r)
      w.addEventListener('change', () => {
        if (w.checked) r.checked = true;
        r.disabled = w.checked;
      });
  }
  for (const r of radios) r.addEventListener('change', () => ((custom.hidden = mode() !== 'custom'), setError(null)));
  for (const cb of boxes.values()) cb.addEventListener('change', () => setError(null));
  function mode() {
    const r = radios.find((x) => x.checked);
    return r ? r.value : 'full';
  }
  function setError(msg) {
    err.hidden = !msg;
    err.replaceChildren(...(msg ? [icon('alert', 'icon icon-sm'), document.createTextNode(msg)] : []));
  }
  return {
    el,
    setError,
    focus: () => (mode() === 'custom' ? [...boxes.values()][0] : radios[0]).focus(),
    // undefined: every scope; null: Custom with nothing ticked (an error)
    value() {
      const m = mode();
      if (m === 'full') return undefined;
      if (m === 'read') return readOnlyScopes(isOrg);
      const picked = [...boxes.entries()].filter(([s, cb]) => cb.checked && !(s.endsWith(':read') && boxes.get(s.replace(/:read$/, ':write'))?.checked)).map(([s]) => s);
      return picked.length ? picked : null;
    },
  };
}

// "Allowed IP ranges": one CIDR or address per line or comma; empty =
// anywhere. value() is the list to send (the server checks each).
export function cidrField(field) {
  const f = field({ label: 'Allowed IP ranges (optional)', name: 'allowed_cidrs', placeholder: 'e.g. 203.0.113.0/24, 2001:db8::/32', hint: 'Only requests from these addresses may use the key. Leave empty to allow any address. Up to 32 ranges.' });
  return {
    ...f,
    value() {
      const parts = f.input.value.split(/[\s,]+/).filter(Boolean);
      return parts.length ? parts : undefined;
    },
  };
}
