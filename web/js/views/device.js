// views/device.js — /device and /device?code=BCDF-GHJK: a person approves (or
// denies) a sign-in that `latchkey login` started in a terminal (the device
// authorization flow, docs/cli.md).
//
// The page is written against phishing: before anything can be approved it
// shows what asks (the client's name), from where (the address the request
// came from) and when, and says plainly that approving gives whoever holds
// that terminal a key to this account. The code is looked up first (GET
// /v1/auth/device?user_code=…); approve and deny are POSTs with the CSRF
// token (api.js). Signed out, app.js sends the person to /login and back
// here with the code kept in ?next=.

import { h } from '../dom.js';
import { get, post } from '../api.js';
import { button, field, alertBox, setButtonBusy } from '../ui.js';
import { pageHeader } from '../layout.js';
import { timeEl } from '../format.js';

const ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
const askedFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const CODE_LEN = 8;

// "bcdf ghjk", "BCDF-GHJK", "bcdfghjk" → "BCDF-GHJK"; null if not a code.
export function normalizeCode(text) {
  const letters = String(text || '').toUpperCase().replace(/[\s-]/g, '');
  if (letters.length !== CODE_LEN || [...letters].some((c) => !ALPHABET.includes(c))) return null;
  return `${letters.slice(0, 4)}-${letters.slice(4)}`;
}

const lookupPath = (code) => `/v1/auth/device?user_code=${encodeURIComponent(code)}`;

export function renderDevice(ctx) {
  const main = ctx.main;
  const given = ctx.params.get('code');
  const header = pageHeader('Approve a sign-in', ['Signed in as ', h('strong', {}, ctx.user.email), '. A terminal running ', h('code', {}, 'latchkey login'), ' shows a code; enter it here to connect that terminal to your account.']);
  const code = normalizeCode(given);
  if (code) lookup(code);
  else showEntry(given ? 'That is not a sign-in code: it is 8 letters, like BCDF-GHJK.' : null);

  function showEntry(error) {
    const alert = alertBox();
    const input = field({ label: 'Code from your terminal', name: 'user_code', value: given || '', placeholder: 'BCDF-GHJK', autocomplete: 'off', maxlength: 20, hint: 'Eight letters, as `latchkey login` printed them. The dash is optional.' });
    input.input.classList.add('device-code-input');
    const go = button('Continue', { kind: 'primary', type: 'submit' });
    const form = h('form', { class: 'card form', novalidate: true, 'data-testid': 'device-entry' }, alert.el, input.wrap, h('div', { class: 'form-actions' }, go));
    if (error) input.setError(error);
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const c = normalizeCode(input.input.value);
      if (!c) {
        input.setError('Enter the 8 letters your terminal shows, like BCDF-GHJK.');
        return input.input.focus();
      }
      setButtonBusy(go, true, 'Looking up…');
      lookup(c, { onError: (msg) => { setButtonBusy(go, false); alert.show(msg); } });
    });
    main.replaceChildren(header, form);
    if (!given) input.input.focus();
  }

  async function lookup(c, { onError } = {}) {
    let d;
    try {
      d = await get(lookupPath(c));
    } catch (e) {
      if (!ctx.live()) return;
      const msg = failureText(e);
      if (onError) return onError(msg);
      return showResult('error', 'This code cannot be used', msg, true);
    }
    if (ctx.live()) showRequest(d);
  }

  function showRequest(d) {
    const alert = alertBox();
    const approve = button('Approve', { kind: 'primary', attrs: { 'data-testid': 'device-approve' } });
    const deny = button('Deny', { kind: 'danger', attrs: { 'data-testid': 'device-deny' } });
    const scopes = (d.scopes || []).join(', ');
    const card = h(
      'section',
      { class: 'card', 'aria-labelledby': 'device-title', 'data-testid': 'device-request' },
      h('h2', { class: 'card-title', id: 'device-title' }, 'A terminal asks for a key to your account'),
      h(
        'dl',
        { class: 'device-facts' },
        h('dt', {}, 'Code'), h('dd', {}, h('code', { class: 'device-code', 'data-testid': 'device-code' }, d.user_code)),
        h('dt', {}, 'Client'), h('dd', { 'data-testid': 'device-client' }, d.client_name),
        h('dt', {}, 'From address'), h('dd', {}, h('code', { 'data-testid': 'device-address' }, d.client_address)),
        h('dt', {}, 'Asked'), h('dd', {}, h('time', { datetime: d.created_at }, askedFmt.format(new Date(d.created_at))), ' (', timeEl(d.created_at, { relative: true }), ')'),
        h('dt', {}, 'Access'), h('dd', {}, scopes === '*' ? 'Everything your account can do' : scopes),
      ),
      h(
        'div',
        { class: 'alert alert-warning device-warning', role: 'note' },
        h('p', {}, h('strong', {}, 'Only approve if you started this sign-in yourself'), `, a moment ago, from a terminal at ${d.client_address}, and it shows the code ${d.user_code}.`),
        h('p', {}, 'Approving creates a personal access key for your account and hands it to that terminal. If someone sent you this link or code, or you are not sure, choose Deny.'),
      ),
      alert.el,
      h('div', { class: 'form-actions' }, deny, approve),
    );
    approve.addEventListener('click', () => decide(d, true, approve, [approve, deny], alert));
    deny.addEventListener('click', () => decide(d, false, deny, [approve, deny], alert));
    main.replaceChildren(header, card);
  }

  async function decide(d, yes, btn, all, alert) {
    alert.clear();
    all.forEach((b) => { b.disabled = true; });
    setButtonBusy(btn, true, yes ? 'Approving…' : 'Denying…');
    try {
      await post(`/v1/auth/device/${yes ? 'approve' : 'deny'}`, { user_code: d.user_code });
    } catch (e) {
      if (!ctx.live()) return;
      setButtonBusy(btn, false);
      all.forEach((b) => { b.disabled = false; });
      return alert.show(failureText(e));
    }
    if (!ctx.live()) return;
    if (yes) showResult('ok', 'Sign-in approved', `${d.client_name} at ${d.client_address} now has a personal key for your account. Return to your terminal; you can close this tab. The key is listed under Personal keys, where you can revoke it at any time.`);
    else showResult('ok', 'Sign-in denied', 'No key was created. The terminal that asked will be told that the sign-in was denied.');
  }

  function showResult(kind, title, text, again = false) {
    main.replaceChildren(
      header,
      h(
        'section',
        { class: `card device-result device-${kind}`, role: kind === 'error' ? 'alert' : 'status', 'data-testid': 'device-result' },
        h('h2', { class: 'card-title' }, title),
        h('p', { class: 'card-desc' }, text),
        again ? h('div', { class: 'form-actions' }, h('a', { href: '/device', class: 'btn btn-secondary' }, 'Enter another code')) : null,
      ),
    );
  }
}

function failureText(e) {
  if (e.status === 404) return 'This code is unknown, has expired, or was already used. Codes last 10 minutes: run `latchkey login` again for a new one.';
  if (e.status === 403 && !/csrf/i.test(e.message)) return 'Only a person signed in here can approve a sign-in.';
  return e.human ? e.human() : String(e);
}
