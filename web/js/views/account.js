// views/account.js — the person's own account (/account, from the account
// menu): change the password, see where the account is signed in and sign
// any of those sessions out. The current password is asked for every change;
// the server ends every other session when the password changes.
//
// Sections, in order: Password · Sessions · Security log (views/audit.js).

import { h } from '../dom.js';
import { patch, del, listAll } from '../api.js';
import { button, field, alertBox, setButtonBusy, confirmDialog, toast, tableRoles } from '../ui.js';
import { pageHeader, logout } from '../layout.js';
import { timeEl } from '../format.js';
import { securityLogSection } from './audit.js';

export const accountPaths = {
  password: () => '/v1/me/password',
  sessions: () => '/v1/me/sessions',
  session: (id) => `/v1/me/sessions/${encodeURIComponent(id)}`,
};

const PASSWORD_MIN = 8; // the server's rule (validate.c): 8..256 characters
const PASSWORD_MAX = 256;

// "Firefox on Windows" from a User-Agent header; the raw text stays in a
// tooltip. Order matters: Edge and Opera also say "Chrome", Chrome says
// "Safari".
const BROWSERS = [
  [/\bEdg(?:e|A|iOS)?\//, 'Edge'],
  [/\bOPR\//, 'Opera'],
  [/\bFirefox\/|\bFxiOS\//, 'Firefox'],
  [/\bChrom(?:e|ium)\/|\bCriOS\//, 'Chrome'],
  [/\bVersion\/[\d.]+.*\bSafari\//, 'Safari'],
  [/^latchkey-cli\//, 'latchkey CLI'],
  [/^curl\//, 'curl'],
];
const SYSTEMS = [
  [/\biPhone\b/, 'iPhone'],
  [/\biPad\b/, 'iPad'],
  [/\bAndroid\b/, 'Android'],
  [/\bCrOS\b/, 'ChromeOS'],
  [/\bWindows\b/, 'Windows'],
  [/\bMac OS X\b|\bMacintosh\b/, 'macOS'],
  [/\bLinux\b/, 'Linux'],
];

export function describeAgent(ua) {
  const s = String(ua || '');
  if (!s) return 'Unknown device';
  const b = BROWSERS.find(([re]) => re.test(s));
  const o = SYSTEMS.find(([re]) => re.test(s));
  if (b && o) return `${b[1]} on ${o[1]}`;
  if (b) return b[1];
  if (o) return `A browser on ${o[1]}`;
  const short = Array.from(s).slice(0, 40).join('');
  return short.length < s.length ? `${short}…` : short;
}

function passwordSection() {
  const alert = alertBox();
  const current = field({ label: 'Current password', name: 'current_password', type: 'password', autocomplete: 'current-password' });
  const next = field({ label: 'New password', name: 'new_password', type: 'password', autocomplete: 'new-password', hint: `At least ${PASSWORD_MIN} characters.` });
  const confirm = field({ label: 'Confirm new password', name: 'confirm_password', type: 'password', autocomplete: 'new-password' });
  const save = button('Change password', { kind: 'primary', type: 'submit' });
  const form = h(
    'form',
    { class: 'card form', novalidate: true, 'aria-labelledby': 'password-title', 'data-section': 'password' },
    h('h2', { class: 'card-title', id: 'password-title' }, 'Password'),
    h('p', { class: 'card-desc' }, 'Changing it signs you out everywhere else. Access keys keep working.'),
    alert.el,
    current.wrap,
    next.wrap,
    confirm.wrap,
    h('div', { class: 'form-actions' }, save),
  );

  function check() {
    const c = current.input.value;
    const n = next.input.value;
    const len = Array.from(n).length;
    const errs = [
      [current, c ? null : 'Enter your current password.'],
      [next, !n ? 'Enter a new password.' : len < PASSWORD_MIN ? `Use at least ${PASSWORD_MIN} characters.` : len > PASSWORD_MAX ? `Use at most ${PASSWORD_MAX} characters.` : n === c ? 'Choose a password different from the current one.' : null],
      [confirm, confirm.input.value === n ? null : 'The two new passwords don’t match.'],
    ];
    errs.forEach(([f, msg]) => f.setError(msg));
    const bad = errs.find(([, msg]) => msg);
    if (bad) bad[0].input.focus();
    return !bad;
  }

  return {
    form,
    bind(onChanged) {
      form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        alert.clear();
        if (!check()) return;
        setButtonBusy(save, true, 'Changing…');
        try {
          await patch(accountPaths.password(), { current_password: current.input.value, new_password: next.input.value });
          [current, next, confirm].forEach((f) => (f.input.value = ''));
          toast('Password changed. Your other sessions were signed out.');
          onChanged();
        } catch (e) {
          if (e.status === 400 && e.field === 'current_password') {
            current.setError('That is not your current password.');
            current.input.focus();
          } else if (e.status === 400 && e.field === 'new_password') {
            next.setError(e.human());
            next.input.focus();
          } else alert.show(e.human());
        } finally {
          setButtonBusy(save, false);
        }
      });
    },
  };
}

export function renderAccount(ctx) {
  const pw = passwordSection();
  const sessionsAlert = alertBox();
  const sessionsBody = h('div', { class: 'section-body' }, h('div', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), 'Loading…'));
  const sessions = h(
    'section',
    { class: 'section', 'aria-labelledby': 'sessions-title', 'data-section': 'sessions' },
    h('h2', { class: 'section-title', id: 'sessions-title' }, 'Sessions'),
    h('p', { class: 'page-desc' }, 'Browsers signed in to your account. Sign out any you don’t recognise — then change your password.'),
    sessionsAlert.el,
    sessionsBody,
  );
  // The security log: this account's audit events (views/audit.js).
  const securityLog = h('div', { 'data-slot': 'security-log' }, securityLogSection({ live: ctx.live }));
  const u = ctx.user || {};
  ctx.main.replaceChildren(pageHeader('Account', [u.name || '', u.email ? ` · ${u.email}` : '']), pw.form, sessions, securityLog);
  pw.bind(load);
  load();

  async function load() {
    try {
      const list = await listAll(accountPaths.sessions());
      if (!ctx.live()) return;
      sessionsAlert.clear();
      draw(list);
    } catch (e) {
      if (!ctx.live() || e.status === 401) return;
      sessionsAlert.show(`Couldn’t load your sessions. ${e.human()}`);
      sessionsBody.replaceChildren(h('div', { class: 'retry' }, button('Try again', { onClick: () => (sessionsAlert.clear(), load()) })));
    }
  }

  function draw(list) {
    const rows = list.map((s) =>
      h(
        'tr',
        { 'data-session-id': s.id },
        h('td', { class: 'cell-name', 'data-label': 'Device' }, h('span', { class: 'key-name', title: s.user_agent || '' }, describeAgent(s.user_agent)), s.current ? h('span', { class: 'badge' }, 'This session') : null),
        h('td', { 'data-label': 'Address' }, s.ip ? h('code', {}, s.ip) : h('span', { class: 'muted' }, '—')),
        h('td', { 'data-label': 'Signed in' }, timeEl(s.created_at)),
        h('td', { 'data-label': 'Last seen' }, timeEl(s.last_seen_at, { relative: true })),
        h('td', { class: 'col-actions' }, button('Sign out', { kind: 'secondary', onClick: () => openSignOut(s), attrs: { 'aria-label': `Sign out ${describeAgent(s.user_agent)}${s.current ? ' (this session)' : ''}` } })),
      ),
    );
    const table = h(
      'table',
      { class: 'table' },
      h('caption', { class: 'sr-only' }, 'Sessions'),
      h('thead', {}, h('tr', {}, ...['Device', 'Address', 'Signed in', 'Last seen'].map((t) => h('th', { scope: 'col' }, t)), h('th', { scope: 'col', class: 'col-actions' }, h('span', { class: 'sr-only' }, 'Actions')))),
      h('tbody', {}, rows),
    );
    sessionsBody.replaceChildren(h('div', { class: 'table-card' }, tableRoles(table)), h('p', { class: 'table-foot' }, `${list.length} ${list.length === 1 ? 'session' : 'sessions'}`));
  }

  function openSignOut(s) {
    const device = describeAgent(s.user_agent);
    confirmDialog({
      title: s.current ? 'Sign out of this browser?' : 'Sign out this session?',
      message: h('div', { class: 'confirm-text' }, s.current ? h('p', {}, 'You will be signed out here and taken to the login page.') : h('p', {}, h('strong', {}, device), s.ip ? ` at ${s.ip}` : '', ' will be signed out at once.')),
      confirmLabel: 'Sign out',
      danger: true,
      what: 'This session',
      onConfirm: async () => {
        if (s.current) return logout();
        try {
          await del(accountPaths.session(s.id));
        } catch (e) {
          if (e.status !== 404) throw e;
        }
        toast('Session signed out.');
        if (ctx.live()) load();
      },
    });
  }
}
