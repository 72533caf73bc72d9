// views/auth.js — log in and sign up. After sign-up the person is logged in
// straight away and lands on "create your organization".

import { h } from '../dom.js';
import { post } from '../api.js';
import { authShell } from '../layout.js';
import { field, button, alertBox, setButtonBusy, checkName } from '../ui.js';
import { safeNext } from '../state.js';

// The other sign-in page, keeping where to go afterwards (an invitation link).
function withNext(page, ctx) {
  const next = safeNext(ctx.params && ctx.params.get('next'));
  return next === '/' ? page : `${page}?next=${encodeURIComponent(next)}`;
}

function checkEmail(v) {
  const s = v.trim();
  if (!s) return 'Enter your email address.';
  if (s.length > 254 || s.split('@').length !== 2 || !s.split('@')[0] || !s.split('@')[1]) return 'Enter an email address like name@example.com.';
  return null;
}

async function login(email, password) {
  return post('/v1/auth/login', { email, password }, { expect401: true });
}

export function renderLogin(ctx) {
  const main = authShell(ctx.root);
  const alert = alertBox();
  const email = field({ label: 'Email', name: 'email', type: 'email', autocomplete: 'username', inputmode: 'email' });
  const password = field({ label: 'Password', name: 'password', type: 'password', autocomplete: 'current-password' });
  const submit = button('Log in', { kind: 'primary', type: 'submit', attrs: { class: 'btn btn-primary btn-block' } });
  const form = h('form', { class: 'form', novalidate: true }, alert.el, email.wrap, password.wrap, submit);
  if (ctx.flash) alert.show(ctx.flash);

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    alert.clear();
    const e1 = checkEmail(email.input.value);
    const e2 = password.input.value ? null : 'Enter your password.';
    email.setError(e1);
    password.setError(e2);
    if (e1 || e2) return (e1 ? email : password).input.focus();
    setButtonBusy(submit, true, 'Logging in…');
    try {
      const r = await login(email.input.value.trim(), password.input.value);
      password.input.value = '';
      ctx.onSignedIn(r.user, r.csrf_token, safeNext(ctx.params.get('next')));
    } catch (e) {
      setButtonBusy(submit, false);
      if (e.status === 401) alert.show('That email and password don’t match an account. Check them and try again.');
      else alert.show(e.human());
      password.input.focus();
    }
  });

  main.replaceChildren(
    h('div', { class: 'auth-card' }, h('h1', { class: 'auth-title', tabindex: '-1' }, 'Log in to latchkey'), h('p', { class: 'auth-sub' }, 'Manage your organization’s access keys.'), form),
    h('p', { class: 'auth-switch' }, 'New to latchkey? ', h('a', { href: withNext('/signup', ctx) }, 'Create an account')),
  );
}

export function renderSignup(ctx) {
  const main = authShell(ctx.root);
  const alert = alertBox();
  const name = field({ label: 'Your name', name: 'name', autocomplete: 'name' });
  const email = field({ label: 'Email', name: 'email', type: 'email', autocomplete: 'username', inputmode: 'email' });
  const password = field({ label: 'Password', name: 'password', type: 'password', autocomplete: 'new-password', hint: 'At least 8 characters.' });
  const submit = button('Create account', { kind: 'primary', type: 'submit', attrs: { class: 'btn btn-primary btn-block' } });
  const form = h('form', { class: 'form', novalidate: true }, alert.el, name.wrap, email.wrap, password.wrap, submit);

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    alert.clear();
    const pw = password.input.value;
    const errs = [
      [name, checkName(name.input.value, 'your name')],
      [email, checkEmail(email.input.value)],
      [password, pw.length < 8 ? 'Use at least 8 characters.' : pw.length > 256 ? 'Use at most 256 characters.' : null],
    ];
    let first = null;
    for (const [f, msg] of errs) {
      f.setError(msg);
      if (msg && !first) first = f;
    }
    if (first) return first.input.focus();
    setButtonBusy(submit, true, 'Creating account…');
    const addr = email.input.value.trim();
    try {
      await post('/v1/auth/signup', { email: addr, password: pw, name: name.input.value.trim() }, { expect401: true });
    } catch (e) {
      setButtonBusy(submit, false);
      if (e.status === 409) {
        email.setError('An account with this email already exists. Log in instead.');
        email.input.focus();
      } else if (e.status === 403) {
        alert.show('Sign-up is closed on this latchkey server. Ask an administrator to create an account for you.');
      } else if (e.status === 400 && e.field) {
        const f = { name, email, password }[e.field];
        if (f) {
          f.setError(e.human());
          f.input.focus();
        } else alert.show(e.human());
      } else alert.show(e.human());
      return;
    }
    try {
      const r = await login(addr, pw);
      password.input.value = '';
      // A new account has no organization: create one first, unless it
      // came from an invitation link (then back to that page to accept).
      const next = safeNext(ctx.params.get('next'));
      ctx.onSignedIn(r.user, r.csrf_token, next.startsWith('/invite/') ? next : '/orgs/new');
    } catch (e) {
      setButtonBusy(submit, false);
      alert.show(`Your account was created, but logging in failed: ${e.human()}`);
    }
  });

  main.replaceChildren(
    h('div', { class: 'auth-card' }, h('h1', { class: 'auth-title', tabindex: '-1' }, 'Create your account'), h('p', { class: 'auth-sub' }, 'Issue and revoke API access keys for your team.'), form),
    h('p', { class: 'auth-switch' }, 'Already have an account? ', h('a', { href: withNext('/login', ctx) }, 'Log in')),
  );
}
