// dashboard.test.mjs — the latchkey dashboard in real headless Chromium,
// against a real latchkeyd (started by run.sh with a fresh database).
//
// The tests run in order and build on each other the way a person would use
// the product: sign up, create an organization, create/copy/rename/delete
// keys, manage a project's environments, invite a second person, try hostile
// names, check contrast in the light and the dark scheme. Every token the page
// shows is checked against the API itself (Authorization: Bearer) — the page
// saying "deleted" is not taken on trust.
//
// Prints one line per test and "RESULT <passed> <failed>" last.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const BASE = process.env.LK_URL || 'http://127.0.0.1:8080';
const CLOSED = process.env.LK_CLOSED_URL || null; // a latchkeyd with --signup closed
const SHOTS = process.env.LK_SCREENSHOTS || path.join(path.dirname(new URL(import.meta.url).pathname), 'screenshots');
const ONLY = process.env.LK_BROWSER_ONLY ? new RegExp(process.env.LK_BROWSER_ONLY, 'i') : null;
const TIMEOUT = 10000;
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const TOKEN_RE = /^(lko|lkp)_[0-9A-Za-z]{38}$/;

let passed = 0;
let failed = 0;
const failures = [];

async function test(name, fn) {
  if (ONLY && !ONLY.test(name)) return;
  const t0 = Date.now();
  try {
    await fn();
    passed++;
    console.log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failed++;
    failures.push(name);
    console.log(`FAIL ${name}\n     ${String(e && e.stack ? e.stack : e).split('\n').slice(0, 6).join('\n     ')}`);
  }
}

fs.mkdirSync(SHOTS, { recursive: true });

// --- helpers ---------------------------------------------------------------

const redactedOf = (token) => `${token.slice(0, 8)}…${token.slice(-4)}`;

async function bearer(token, pathname, method = 'GET') {
  const r = await fetch(BASE + pathname, { method, headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' } });
  let body = null;
  try {
    body = await r.json();
  } catch (e) {
    body = null;
  }
  return { status: r.status, body };
}

// A person with their own browser context (own cookies), watching for
// dialogs, page errors, CSP violations and the CSRF header on every
// state-changing API call.
class Person {
  constructor(browser, label) {
    this.browser = browser;
    this.label = label;
    this.email = `${label}-${Date.now()}-${Math.random().toString(36).slice(2, 7)}@example.com`;
    this.password = `pw-${Math.random().toString(36).slice(2)}-long`;
    this.name = label[0].toUpperCase() + label.slice(1) + ' Tester';
    this.dialogs = [];
    this.errors = [];
    this.csrfProblems = [];
    this.csrf = null;
  }

  async open(viewport = DESKTOP) {
    this.context = await this.browser.newContext({
      baseURL: BASE,
      viewport,
      permissions: ['clipboard-read', 'clipboard-write'],
      locale: 'en-US',
      timezoneId: 'UTC',
    });
    this.context.setDefaultTimeout(TIMEOUT);
    this.page = await this.context.newPage();
    this.watch(this.page);
    return this;
  }

  watch(page) {
    page.on('dialog', async (d) => {
      this.dialogs.push(`${d.type()}: ${d.message()}`);
      await d.dismiss().catch(() => {});
    });
    page.on('pageerror', (e) => this.errors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of (400|401|404|409|403)/.test(m.text())) this.errors.push(`console: ${m.text()}`);
      if (/Content Security Policy/i.test(m.text())) this.errors.push(`csp: ${m.text()}`);
    });
    page.on('response', async (res) => {
      const u = new URL(res.url());
      if ((u.pathname === '/v1/auth/login' || u.pathname === '/v1/auth/session') && res.status() === 200) {
        try {
          this.csrf = (await res.json()).csrf_token;
        } catch (e) {
          /* navigation raced the body; the next session call sets it */
        }
      }
    });
    page.on('request', (req) => {
      const u = new URL(req.url());
      if (!u.pathname.startsWith('/v1/') || ['GET', 'HEAD'].includes(req.method())) return;
      if (u.pathname === '/v1/auth/login' || u.pathname === '/v1/auth/signup') return;
      const sent = req.headers()['x-csrf-token'];
      if (!sent || (this.csrf && sent !== this.csrf)) this.csrfProblems.push(`${req.method()} ${u.pathname} csrf=${sent || '(none)'}`);
    });
  }

  // GET through the page's own session cookie (same cookie jar as the page).
  async api(pathname) {
    const r = await this.context.request.get(pathname, { headers: { Accept: 'application/json' } });
    return { status: r.status(), body: r.status() === 204 ? null : await r.json().catch(() => null) };
  }

  async close() {
    if (this.context) await this.context.close();
  }
}

async function shot(page, name) {
  await page.waitForTimeout(50); // let focus rings and toasts settle
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: false });
}

// WCAG contrast of every visible text run on the page against the first
// opaque background behind it. Returns the failures.
async function contrastFailures(page) {
  return page.evaluate(() => {
    const parse = (c) => {
      const m = c.match(/rgba?\(([^)]+)\)/);
      if (!m) return null;
      const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
      return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
    };
    const lum = ({ r, g, b }) => {
      const f = (v) => {
        v /= 255;
        return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const bgOf = (el) => {
      for (let e = el; e; e = e.parentElement) {
        const cs = getComputedStyle(e);
        if (cs.backgroundImage !== 'none' && e !== document.body) return null; // gradients: not judged
        const c = parse(cs.backgroundColor);
        if (c && c.a >= 0.99) return c;
      }
      return { r: 255, g: 255, b: 255, a: 1 };
    };
    const out = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const seen = new Set();
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!n.textContent.trim() || seen.has(el)) continue;
      seen.add(el);
      const r = el.getBoundingClientRect();
      const cs = getComputedStyle(el);
      if (r.width === 0 || r.height === 0 || cs.visibility === 'hidden' || el.closest('.sr-only,[hidden],dialog:not([open]),[aria-hidden="true"]')) continue; // decorative text is exempt
      if (el.closest('[inert]') || (document.querySelector('dialog[open]') && !el.closest('dialog[open]'))) continue; // under a modal's backdrop
      const fg = parse(cs.color);
      const bg = bgOf(el);
      if (!fg || !bg) continue;
      const a = fg.a;
      const mix = { r: fg.r * a + bg.r * (1 - a), g: fg.g * a + bg.g * (1 - a), b: fg.b * a + bg.b * (1 - a) };
      const [hi, lo] = [lum(mix), lum(bg)].sort((x, y) => y - x);
      const ratio = (hi + 0.05) / (lo + 0.05);
      const size = parseFloat(cs.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(cs.fontWeight) >= 700);
      const need = large ? 3 : 4.5;
      const dim = Number(cs.opacity) < 1 || el.closest('button:disabled');
      if (!dim && ratio < need) out.push(`${ratio.toFixed(2)} < ${need}: "${n.textContent.trim().slice(0, 40)}" (${cs.color} on rgb(${bg.r},${bg.g},${bg.b}))`);
    }
    return out;
  });
}

// Keyboard focus on `loc` draws a ring (outline) whose colour stands out
// from the background behind it by at least 3:1 (WCAG 1.4.11).
async function assertFocusRing(page, loc, what) {
  await loc.focus();
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Tab');
  const r = await loc.evaluate((el) => {
    const cs = getComputedStyle(el);
    const parse = (c) => c.match(/\d+(\.\d+)?/g).map(Number);
    const lum = ([r, g, b]) => {
      const f = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    let bg = [255, 255, 255];
    for (let e = el.parentElement; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c.length < 4 || c[3] >= 0.99) {
        bg = c;
        break;
      }
    }
    const [hi, lo] = [lum(parse(cs.outlineColor)), lum(bg)].sort((x, y) => y - x);
    return { focused: document.activeElement === el, style: cs.outlineStyle, width: parseFloat(cs.outlineWidth), ratio: (hi + 0.05) / (lo + 0.05) };
  });
  assert.ok(r.focused, `${what}: has focus`);
  assert.notEqual(r.style, 'none', `${what}: focus ring drawn`);
  assert.ok(r.width >= 2, `${what}: focus ring at least 2px`);
  assert.ok(r.ratio >= 3, `${what}: focus ring contrast ${r.ratio.toFixed(2)} ≥ 3`);
}

async function signUp(p) {
  const page = p.page;
  await page.goto('/signup');
  await page.getByLabel('Your name').fill(p.name);
  await page.getByLabel('Email').fill(p.email);
  await page.getByLabel('Password').fill(p.password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('heading', { name: /Create your first organization/ }).waitFor();
}

async function createOrg(p, name, first = false) {
  const page = p.page;
  if (!first) await page.goto('/orgs/new');
  await page.getByLabel('Organization name').fill(name);
  await page.getByRole('button', { name: 'Create organization' }).click();
  await page.getByRole('heading', { name: 'Org Access Keys', level: 1 }).waitFor();
  const m = new URL(page.url()).pathname.match(/^\/orgs\/([^/]+)\/settings\/access-keys$/);
  assert.ok(m, `unexpected URL after creating an org: ${page.url()}`);
  return decodeURIComponent(m[1]);
}

function keyRow(page, name) {
  return page.locator('tbody tr').filter({ has: page.locator('.key-name', { hasText: name }) });
}

async function openRowMenu(page, name) {
  const row = keyRow(page, name);
  await row.getByRole('button', { name: `Actions for ${name}` }).click();
  return row;
}

// Creates a key through the modal; returns {token, dialog} with the dialog open.
async function createKeyInModal(page, name) {
  await page.getByRole('button', { name: 'Create Access Key' }).first().click();
  const dialog = page.getByRole('dialog', { name: 'Create Access Key' });
  await dialog.waitFor();
  await dialog.getByLabel('Name').fill(name);
  await dialog.getByRole('button', { name: 'Create', exact: true }).click();
  const saved = page.getByRole('dialog', { name: 'Save your access key' });
  await saved.waitFor();
  const token = (await saved.locator('code.token').textContent()).trim();
  return { token, dialog: saved };
}

// The full key lifecycle on one keys page, checked against the API.
async function keyLifecycle(p, { kind, orgId, label }) {
  const page = p.page;
  const listPath = kind === 'org' ? `/v1/organizations/${orgId}/access-keys` : '/v1/me/access-keys';
  const prefix = kind === 'org' ? 'lko_' : 'lkp_';
  const principal = kind === 'org' ? 'organization_key' : 'personal_key';
  const keyName = `${label} deploys`;
  let token = null;

  await test(`${label}: empty state explains what keys are for`, async () => {
    const empty = page.locator('.empty-state');
    await empty.waitFor();
    assert.match(await empty.textContent(), /access key/i);
    assert.match(await empty.textContent(), kind === 'org' ? /on behalf of this organization/ : /as you/);
    await shot(page, `${kind}-keys-empty-1280`);
  });

  await test(`${label}: create shows the token once, matching the API's redacted preview`, async () => {
    const r = await createKeyInModal(page, keyName);
    token = r.token;
    assert.match(token, TOKEN_RE);
    assert.ok(token.startsWith(prefix), `token ${token.slice(0, 4)} should start with ${prefix}`);
    assert.match(await r.dialog.textContent(), /will not be shown again/);
    await shot(page, `${kind}-key-created-1280`);
    assert.deepEqual(await contrastFailures(page), [], 'text contrast (WCAG AA) in the token dialog');
    const api = await p.api(listPath);
    assert.equal(api.status, 200);
    const k = api.body.data.find((x) => x.name === keyName);
    assert.ok(k, 'the new key is in the API list');
    assert.equal(k.redacted, redactedOf(token));
    assert.ok(!JSON.stringify(api.body).includes(token), 'the list never carries the token');
    const row = keyRow(page, keyName);
    assert.equal((await row.locator('code.redacted').textContent()).trim(), k.redacted);
  });

  await test(`${label}: Copy puts the token on the clipboard and says Copied`, async () => {
    const dialog = page.getByRole('dialog', { name: 'Save your access key' });
    await page.evaluate(() => navigator.clipboard.writeText('not the token'));
    await dialog.getByRole('button', { name: 'Copy' }).click();
    await dialog.getByRole('button', { name: 'Copied' }).waitFor();
    const clip = await page.evaluate(() => navigator.clipboard.readText());
    assert.equal(clip, token);
  });

  await test(`${label}: after closing, the token is gone from the page; reopening shows none`, async () => {
    const dialog = page.getByRole('dialog', { name: 'Save your access key' });
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assert.equal(await page.locator('dialog').count(), 0, 'the dialog element is removed, not just hidden');
    const html = await page.content();
    assert.ok(!html.includes(token), 'token still in the DOM');
    assert.ok(!html.includes(token.slice(8, 30)), 'part of the token still in the DOM');
    await page.getByRole('button', { name: 'Create Access Key' }).first().click();
    const again = page.getByRole('dialog', { name: 'Create Access Key' });
    await again.waitFor();
    assert.equal(await again.getByLabel('Name').inputValue(), '');
    assert.equal(await again.locator('code.token').count(), 0);
    assert.ok(!(await page.content()).includes(token));
    await again.getByRole('button', { name: 'Cancel' }).click();
    await again.waitFor({ state: 'detached' });
  });

  await test(`${label}: the closed dialog leaves no copy of the token in the page's JavaScript heap`, async () => {
    // A full heap snapshot (V8 collects garbage first) of the page, searched
    // for the token's random part. Strings still referenced anywhere — the
    // key list, a closure, a detached DOM node — would show up here.
    const cdp = await p.context.newCDPSession(page);
    const chunks = [];
    cdp.on('HeapProfiler.addHeapSnapshotChunk', (e) => chunks.push(e.chunk));
    await cdp.send('HeapProfiler.enable');
    await cdp.send('HeapProfiler.collectGarbage');
    await cdp.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
    await cdp.detach();
    const snap = chunks.join('');
    assert.ok(snap.length > 100000, 'got a heap snapshot');
    assert.ok(!snap.includes(token.slice(4)), 'the token is still in the page heap');
    // A reload fetches everything again from the API: still only the preview.
    await page.reload();
    await keyRow(page, keyName).waitFor();
    assert.ok(!(await page.content()).includes(token));
  });

  await test(`${label}: the token works against the API`, async () => {
    const r = await bearer(token, '/v1/whoami');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.principal, principal);
    if (kind === 'org') assert.equal(r.body.organization.id, orgId);
    else assert.equal(r.body.user.email, p.email.toLowerCase());
  });

  await test(`${label}: rename through the row menu`, async () => {
    await openRowMenu(page, keyName);
    await page.getByRole('menuitem', { name: 'Rename' }).click();
    const dialog = page.getByRole('dialog', { name: 'Rename access key' });
    await dialog.waitFor();
    assert.equal(await dialog.getByLabel('Name').inputValue(), keyName);
    await shot(page, `${kind}-key-rename-1280`);
    await dialog.getByLabel('Name').fill(`${keyName} (renamed)`);
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'detached' });
    await keyRow(page, `${keyName} (renamed)`).waitFor();
    const api = await p.api(listPath);
    assert.ok(api.body.data.some((x) => x.name === `${keyName} (renamed)`));
  });

  const renamed = `${keyName} (renamed)`;
  await test(`${label}: delete → Cancel keeps the key`, async () => {
    await openRowMenu(page, renamed);
    await page.getByRole('menuitem', { name: 'Delete' }).click();
    const dialog = page.getByRole('alertdialog', { name: 'Delete access key?' });
    await dialog.waitFor();
    const text = await dialog.textContent();
    assert.ok(text.includes(renamed), 'the confirmation names the key');
    assert.match(text, /refused immediately/);
    assert.match(text, /cannot be undone/);
    await shot(page, `${kind}-key-delete-1280`);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    assert.equal(await keyRow(page, renamed).count(), 1);
    assert.equal((await bearer(token, '/v1/whoami')).status, 200);
  });

  await test(`${label}: delete → confirm removes it and the token is refused at once`, async () => {
    await openRowMenu(page, renamed);
    await page.getByRole('menuitem', { name: 'Delete' }).click();
    const dialog = page.getByRole('alertdialog', { name: 'Delete access key?' });
    await dialog.getByRole('button', { name: 'Delete key' }).click();
    await dialog.waitFor({ state: 'detached' });
    await keyRow(page, renamed).waitFor({ state: 'detached' });
    const r = await bearer(token, '/v1/whoami');
    assert.equal(r.status, 401);
    const api = await p.api(listPath);
    assert.ok(!api.body.data.some((x) => x.name === renamed));
  });
}

// --- rotate (issue 15): Rotate in the row menu, on one keys page ---------------
// Rotate asks the grace period, shows the new token once with Copy (like
// creation); the row then says "previous token valid until …"; both tokens
// work for the grace period; rotating "Immediately" ends every older token.
// Checked against the API with the tokens themselves.
async function rotateFlow(p, { kind, orgId, label }) {
  const page = p.page;
  const keyName = `${label} rotated`;
  const prefix = kind === 'org' ? 'lko_' : 'lkp_';
  const tokens = [];

  async function rotate(grace) {
    await openRowMenu(page, keyName);
    await page.getByRole('menuitem', { name: 'Rotate' }).click();
    const dialog = page.getByRole('dialog', { name: 'Rotate access key' });
    await dialog.waitFor();
    const options = await dialog.getByLabel('Keep the current token working').locator('option').allTextContents();
    assert.deepEqual(options, ['Immediately', '1 hour', '24 hours', '7 days']);
    await dialog.getByLabel('Keep the current token working').selectOption({ label: grace });
    await dialog.getByRole('button', { name: 'Rotate', exact: true }).click();
    const saved = page.getByRole('dialog', { name: 'Save your new access key' });
    await saved.waitFor();
    const token = (await saved.locator('code.token').textContent()).trim();
    return { token, dialog: saved };
  }

  await test(`${label}: Rotate asks the grace period, then shows the new token once with Copy`, async () => {
    const first = await createKeyInModal(page, keyName);
    tokens.push(first.token);
    await page.keyboard.press('Escape');
    await first.dialog.waitFor({ state: 'detached' });
    const r = await rotate('1 hour');
    assert.match(r.token, TOKEN_RE);
    assert.ok(r.token.startsWith(prefix));
    assert.notEqual(r.token, tokens[0]);
    tokens.push(r.token);
    const text = await r.dialog.textContent();
    assert.match(text, /will not be shown again/);
    assert.match(text, /previous token keeps working until/);
    await shot(page, `${kind}-key-rotated-1280`);
    assert.deepEqual(await contrastFailures(page), [], 'text contrast (WCAG AA) in the rotate dialog');
    await page.evaluate(() => navigator.clipboard.writeText('not the token'));
    await r.dialog.getByRole('button', { name: 'Copy' }).click();
    await r.dialog.getByRole('button', { name: 'Copied' }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), r.token);
    await page.keyboard.press('Escape');
    await r.dialog.waitFor({ state: 'detached' });
    const html = await page.content();
    assert.ok(!html.includes(r.token) && !html.includes(tokens[0]), 'a token is still in the DOM');
  });

  await test(`${label}: after rotating, both tokens work and the row says until when`, async () => {
    for (const t of tokens) assert.equal((await bearer(t, '/v1/whoami')).status, 200);
    const row = keyRow(page, keyName);
    assert.equal((await row.locator('code.redacted').textContent()).trim(), redactedOf(tokens[1]));
    assert.match(await row.locator('.prev-token').textContent(), /previous token valid until/);
    // the same after a reload (from the API's previous_token_expires_at)
    await page.reload();
    await keyRow(page, keyName).locator('.prev-token').waitFor();
  });

  await test(`${label}: rotating "Immediately" ends every older token at once`, async () => {
    const r = await rotate('Immediately');
    tokens.push(r.token);
    assert.match(await r.dialog.textContent(), /previous token no longer works/);
    await page.keyboard.press('Escape');
    await r.dialog.waitFor({ state: 'detached' });
    assert.equal((await bearer(tokens[0], '/v1/whoami')).status, 401);
    assert.equal((await bearer(tokens[1], '/v1/whoami')).status, 401);
    assert.equal((await bearer(tokens[2], '/v1/whoami')).status, 200);
    const row = keyRow(page, keyName);
    assert.equal(await row.locator('.prev-token').count(), 0);
    assert.equal((await row.locator('code.redacted').textContent()).trim(), redactedOf(tokens[2]));
  });
}

// --- the run ------------------------------------------------------------------

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

const alice = new Person(browser, 'alice');
const bob = new Person(browser, 'bob');
let orgId = null;
let orgName = 'Acme Rockets';
let prjId = null; // the project whose environments page the tests use

try {
  await alice.open();
  const page = alice.page;

  await test('the dashboard is served with its security headers', async () => {
    const r = await fetch(`${BASE}/`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /text\/html/);
    const csp = r.headers.get('content-security-policy') || '';
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(r.headers.get('x-frame-options'), 'DENY');
    const deep = await fetch(`${BASE}/orgs/org_x/settings/access-keys`);
    assert.equal(deep.status, 200);
    assert.equal(await deep.text(), await r.text());
    const js = await fetch(`${BASE}/js/app.js`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type'), /javascript/);
    assert.equal((await fetch(`${BASE}/no-such-file.js`)).status, 404);
  });

  await test('a signed-out visit to a deep link goes to the login page', async () => {
    await page.goto('/orgs/org_nope/settings/members');
    await page.getByRole('heading', { name: 'Log in to latchkey' }).waitFor();
    const u = new URL(page.url());
    assert.equal(u.pathname, '/login');
    assert.equal(u.searchParams.get('next'), '/orgs/org_nope/settings/members');
    await shot(page, 'login-1280');
    assert.deepEqual(await contrastFailures(page), [], 'text contrast (WCAG AA) on the login page');
  });

  await test('login with a wrong password says so in words', async () => {
    await page.getByLabel('Email').fill('nobody@example.com');
    await page.getByLabel('Password').fill('wrong-password');
    await page.getByRole('button', { name: 'Log in' }).click();
    const alert = page.getByRole('alert').filter({ hasText: /don’t match an account/ });
    await alert.waitFor();
  });

  await test('sign up lands on "create your first organization"', async () => {
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByRole('heading', { name: 'Create your account' }).waitFor();
    await shot(page, 'signup-1280');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByText('Enter your name.').waitFor(); // client-side check, nothing sent
    await page.getByLabel('Your name').fill(alice.name);
    await page.getByLabel('Email').fill(alice.email);
    await page.getByLabel('Password').fill(alice.password);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'Create your first organization' }).waitFor();
    await shot(page, 'org-new-1280');
  });

  await test('create an organization → settings with the keys tabs', async () => {
    orgId = await createOrg(alice, orgName, true);
    assert.match(orgId, /^org_/);
    const nav = page.getByRole('navigation', { name: 'Organization settings' });
    for (const tab of ['Org Access Keys', 'Personal Access Keys', 'General', 'Projects', 'Members', 'Billing']) await nav.getByRole('link', { name: tab }).waitFor();
    assert.equal(await nav.getByRole('link', { name: 'Org Access Keys' }).getAttribute('aria-current'), 'page');
  });

  if (orgId) await keyLifecycle(alice, { kind: 'org', orgId, label: 'org key' });

  await test('switch to Personal Access Keys', async () => {
    await page.getByRole('navigation', { name: 'Organization settings' }).getByRole('link', { name: 'Personal Access Keys' }).click();
    await page.getByRole('heading', { name: 'Personal Access Keys', level: 1 }).waitFor();
    assert.match(page.url(), /\/settings\/personal-keys$/);
    assert.equal(await page.title(), `Personal Access Keys · ${orgName} · latchkey`);
    // Back and forward move between tabs inside the page; focus lands on the heading.
    await page.goBack();
    await page.getByRole('heading', { name: 'Org Access Keys', level: 1 }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement.tagName), 'H1');
    await page.goForward();
    await page.getByRole('heading', { name: 'Personal Access Keys', level: 1 }).waitFor();
  });

  if (orgId) await keyLifecycle(alice, { kind: 'personal', orgId, label: 'personal key' });

  await test('keys are listed newest first with created, last used and expiry', async () => {
    await page.getByRole('navigation', { name: 'Organization settings' }).getByRole('link', { name: 'Org Access Keys' }).click();
    await page.getByRole('heading', { name: 'Org Access Keys', level: 1 }).waitFor();
    for (const n of ['first', 'second']) {
      const r = await createKeyInModal(page, `order ${n}`);
      await r.dialog.getByRole('button', { name: 'Done' }).click();
      await r.dialog.waitFor({ state: 'detached' });
      if (n === 'second') {
        const w = await bearer(r.token, '/v1/whoami'); // gives it a last_used_at (may lag)
        assert.equal(w.status, 200);
      }
    }
    // One with an expiry chosen in the modal.
    await page.getByRole('button', { name: 'Create Access Key' }).first().click();
    const d = page.getByRole('dialog', { name: 'Create Access Key' });
    await d.getByLabel('Name').fill('order third (expires)');
    await d.getByLabel('Expiration').selectOption({ label: '30 days' });
    await d.getByRole('button', { name: 'Create', exact: true }).click();
    await page.getByRole('dialog', { name: 'Save your access key' }).getByRole('button', { name: 'Done' }).click();
    await page.reload();
    await keyRow(page, 'order first').waitFor();
    const names = await page.locator('tbody tr .key-name').allTextContents();
    assert.deepEqual(names.slice(0, 3), ['order third (expires)', 'order second', 'order first']);
    const headers = await page.locator('thead th').allTextContents();
    assert.deepEqual(headers.slice(0, 5), ['Name', 'Key', 'Created', 'Last used', 'Expires']);
    const exp = await keyRow(page, 'order third (expires)').locator('td[data-label="Expires"] time').getAttribute('datetime');
    const days = (Date.parse(exp) - Date.now()) / 86400000;
    assert.ok(days > 29 && days < 31, `expiry ${exp} is about 30 days out`);
    assert.equal((await keyRow(page, 'order first').locator('td[data-label="Expires"]').textContent()).trim(), 'Never');
    const created = await keyRow(page, 'order first').locator('td[data-label="Created"] time').getAttribute('datetime');
    assert.ok(Math.abs(Date.parse(created) - Date.now()) < 10 * 60000, 'created date is now');
    assert.equal((await keyRow(page, 'order first').locator('.by').textContent()).trim(), 'by you');
    await shot(page, 'org-keys-list-1280');
    assert.deepEqual(await contrastFailures(page), [], 'text contrast (WCAG AA) on the keys page');
  });

  await test('Copy falls back to selecting the token when the Clipboard API refuses', async () => {
    const r = await createKeyInModal(page, 'fallback copy');
    await page.evaluate(() => {
      navigator.clipboard.writeText = () => Promise.reject(new DOMException('denied', 'NotAllowedError'));
    });
    await page.evaluate(() => navigator.clipboard.readText()).catch(() => null);
    try {
      await r.dialog.getByRole('button', { name: 'Copy' }).click();
      // Either the legacy copy command worked on the selection ("Copied"),
      // or the page says how to copy by hand; in both cases the token is selected.
      await r.dialog.locator('.copy-btn.is-copied, .copy-note.is-warning').first().waitFor();
      assert.equal(await page.evaluate(() => window.getSelection().toString()), r.token);
      if (await r.dialog.locator('.copy-note.is-warning').count()) {
        assert.match(await r.dialog.locator('.copy-note').textContent(), /press Ctrl\+C/);
      } else {
        assert.equal(await page.evaluate(() => navigator.clipboard.readText()), r.token);
      }
    } finally {
      await page.evaluate(() => delete navigator.clipboard.writeText);
    }
    await r.dialog.getByRole('button', { name: 'Done' }).click();
    await r.dialog.waitFor({ state: 'detached' });
    assert.equal(await page.evaluate(() => window.getSelection().toString()), '', 'no selection left holding the token');
    await openRowMenu(page, 'fallback copy');
    await page.getByRole('menuitem', { name: 'Delete' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Delete key' }).click();
    await keyRow(page, 'fallback copy').waitFor({ state: 'detached' });
  });

  await test('keyboard: the ⋯ menu opens, moves and closes with keys', async () => {
    const btn = keyRow(page, 'order first').getByRole('button', { name: 'Actions for order first' });
    await btn.focus();
    await page.keyboard.press('Enter');
    const menu = page.getByRole('menu');
    await menu.waitFor();
    assert.equal(await btn.getAttribute('aria-expanded'), 'true');
    let focused = await page.evaluate(() => document.activeElement.textContent.trim());
    assert.equal(focused, 'Rename');
    await page.keyboard.press('ArrowDown');
    focused = await page.evaluate(() => document.activeElement.textContent.trim());
    assert.equal(focused, 'Rotate'); // issue 15
    await page.keyboard.press('ArrowDown');
    focused = await page.evaluate(() => document.activeElement.textContent.trim());
    assert.equal(focused, 'Delete');
    await page.keyboard.press('ArrowDown'); // wraps
    focused = await page.evaluate(() => document.activeElement.textContent.trim());
    assert.equal(focused, 'Rename');
    await shot(page, 'row-menu-1280');
    await page.keyboard.press('Escape');
    await menu.waitFor({ state: 'hidden' });
    assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), 'Actions for order first');
    // Enter on an item acts on it.
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Rename access key' });
    await dialog.waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), 'Actions for order first', 'focus returns to the menu button');
  });

  await test('keyboard: the modal traps focus and closes on Escape', async () => {
    await page.getByRole('button', { name: 'Create Access Key' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'Create Access Key' });
    await dialog.waitFor();
    assert.equal(await page.evaluate(() => document.activeElement.name), 'name', 'focus starts on the Name field');
    const seen = new Set();
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press(i < 6 ? 'Tab' : 'Shift+Tab');
      const inside = await page.evaluate(() => {
        const d = document.querySelector('dialog[open]');
        return d && d.contains(document.activeElement) ? document.activeElement.outerHTML.slice(0, 60) : null;
      });
      assert.ok(inside, `focus left the dialog after ${i + 1} tabs`);
      seen.add(inside);
    }
    assert.ok(seen.size >= 4, 'Tab visits the close button, name, expiry, cancel and create');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assert.equal(await page.evaluate(() => document.activeElement.textContent.trim()), 'Create Access Key');
    // Focus is visible (an outline) on keyboard focus.
    await page.keyboard.press('Tab');
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    assert.notEqual(outline, 'none');
  });

  await test('an empty name is refused with a message, before any request', async () => {
    await page.getByRole('button', { name: 'Create Access Key' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'Create Access Key' });
    await dialog.getByLabel('Name').fill('   ');
    await dialog.getByRole('button', { name: 'Create', exact: true }).click();
    await dialog.getByText('Enter a name for the key.').waitFor();
    assert.equal(await dialog.getByLabel('Name').getAttribute('aria-invalid'), 'true');
    await shot(page, 'create-key-error-1280');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
  });

  await test('hostile key name is shown as text, never run', async () => {
    const evil = '<img src=x onerror=alert(1)>';
    const r = await createKeyInModal(page, evil);
    assert.ok((await r.dialog.textContent()).includes(evil));
    await r.dialog.getByRole('button', { name: 'Done' }).click();
    const row = keyRow(page, evil);
    await row.waitFor();
    assert.equal((await row.locator('.key-name').textContent()), evil);
    assert.equal(await page.locator('main img, dialog img').count(), 0);
    await openRowMenu(page, evil);
    await page.getByRole('menuitem', { name: 'Delete' }).click();
    const confirm = page.getByRole('alertdialog', { name: 'Delete access key?' });
    assert.ok((await confirm.textContent()).includes(evil));
    assert.equal(await confirm.locator('img').count(), 0);
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    // Also an organization and a project with hostile names.
    const evilOrg = '"><script>alert(2)</script>';
    await createOrg(alice, evilOrg);
    await page.getByRole('button', { name: /Switch organization/ }).click();
    await page.getByRole('menuitem', { name: evilOrg }).waitFor();
    await page.keyboard.press('Escape');
    assert.equal(await page.locator('script:not([src])').count(), 0);
    assert.deepEqual(alice.dialogs, [], 'no alert/confirm/prompt fired');
  });

  await test('switch between organizations', async () => {
    await page.getByRole('button', { name: /Switch organization/ }).click();
    const items = await page.getByRole('menuitem').allTextContents();
    assert.ok(items.some((t) => t.includes(orgName)));
    assert.ok(items.some((t) => t.includes('Create organization')));
    await shot(page, 'org-switcher-1280');
    await page.getByRole('menuitem', { name: orgName }).click();
    await page.waitForURL(new RegExp(`/orgs/${orgId}/settings/access-keys$`));
    await page.locator('.page-desc strong', { hasText: orgName }).waitFor();
    await keyRow(page, 'order first').waitFor();
    await page.getByRole('button', { name: `Organization: ${orgName}. Switch organization` }).waitFor();
  });

  await test('projects: create, rename, delete', async () => {
    await page.getByRole('link', { name: 'Projects' }).click();
    await page.getByRole('heading', { name: 'Projects', level: 1 }).waitFor();
    await page.locator('.empty-state').waitFor();
    await page.getByRole('button', { name: 'New project' }).first().click();
    let d = page.getByRole('dialog', { name: 'New project' });
    await d.getByLabel('Name').fill('Billing API');
    await d.getByRole('button', { name: 'Create' }).click();
    await d.waitFor({ state: 'detached' });
    await keyRow(page, 'Billing API').waitFor();
    await page.getByRole('button', { name: 'New project' }).first().click();
    d = page.getByRole('dialog', { name: 'New project' });
    await d.getByLabel('Name').fill('Website');
    await d.getByRole('button', { name: 'Create' }).click();
    await keyRow(page, 'Website').waitFor();
    await shot(page, 'projects-1280');
    await openRowMenu(page, 'Website');
    await page.getByRole('menuitem', { name: 'Rename' }).click();
    d = page.getByRole('dialog', { name: 'Rename project' });
    await d.getByLabel('Name').fill('Marketing site');
    await d.getByRole('button', { name: 'Save' }).click();
    await keyRow(page, 'Marketing site').waitFor();
    await openRowMenu(page, 'Marketing site');
    await page.getByRole('menuitem', { name: 'Delete' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Delete project' }).click();
    await keyRow(page, 'Marketing site').waitFor({ state: 'detached' });
    const api = await alice.api(`/v1/organizations/${orgId}/projects`);
    assert.deepEqual(api.body.data.map((x) => x.name), ['Billing API']);
  });

  // --- environments (a project's page) ---------------------------------------

  const envRow = keyRow;
  await test('environments: a project name opens its page (empty state, back link, deep link)', async () => {
    await page.getByRole('link', { name: 'Projects' }).first().click();
    await page.getByRole('heading', { name: 'Projects', level: 1 }).waitFor();
    await keyRow(page, 'Billing API').getByRole('link', { name: 'Billing API' }).click();
    await page.getByRole('heading', { name: 'Billing API', level: 1 }).waitFor();
    const m = new URL(page.url()).pathname.match(new RegExp(`^/orgs/${orgId}/settings/projects/([^/]+)$`));
    assert.ok(m, `unexpected URL for a project: ${page.url()}`);
    prjId = decodeURIComponent(m[1]);
    assert.match(prjId, /^prj_/);
    const empty = page.locator('.empty-state');
    await empty.waitFor();
    assert.match(await empty.textContent(), /No environments yet/);
    assert.equal(await page.title(), `Billing API · Projects · ${orgName} · latchkey`);
    const nav = page.getByRole('navigation', { name: 'Organization settings' });
    assert.equal(await nav.getByRole('link', { name: 'Projects' }).getAttribute('aria-current'), 'page');
    await shot(page, 'environments-empty-1280');
    await page.locator('main').getByRole('link', { name: 'Projects' }).click();
    await page.getByRole('heading', { name: 'Projects', level: 1 }).waitFor();
    await page.goBack();
    await page.getByRole('heading', { name: 'Billing API', level: 1 }).waitFor();
    await page.reload();
    await page.getByRole('heading', { name: 'Billing API', level: 1 }).waitFor();
    await page.locator('.empty-state').waitFor();
  });

  async function createEnv(name) {
    await page.getByRole('button', { name: 'New environment' }).first().click();
    const d = page.getByRole('dialog', { name: 'New environment' });
    await d.getByLabel('Name').fill(name);
    await d.getByRole('button', { name: 'Create', exact: true }).click();
    await d.waitFor({ state: 'detached' });
    await envRow(page, name).waitFor();
  }
  const envsApi = async () => (await alice.api(`/v1/organizations/${orgId}/projects/${prjId}/environments`)).body.data;

  await test('environments: create through the modal; name, id and created as the API has them', async () => {
    await createEnv('production');
    await createEnv('staging');
    const api = await envsApi();
    assert.deepEqual(api.map((e) => e.name).sort(), ['production', 'staging']);
    const names = await page.locator('tbody tr .key-name').allTextContents();
    assert.deepEqual(names, ['staging', 'production'], 'newest first');
    const prod = api.find((e) => e.name === 'production');
    assert.equal(prod.project_id, prjId);
    const row = envRow(page, 'production');
    assert.equal((await row.locator('td[data-label="ID"] code').textContent()).trim(), prod.id);
    assert.equal(await row.locator('td[data-label="Created"] time').getAttribute('datetime'), prod.created_at);
    assert.deepEqual((await page.locator('thead th').allTextContents()).slice(0, 3), ['Name', 'ID', 'Created']);
    await shot(page, 'environments-1280');
    assert.deepEqual(await contrastFailures(page), [], 'text contrast (WCAG AA) on the environments page');
  });

  await test('environments: rename from the keyboard (⋯ menu, Enter, type, Enter)', async () => {
    await envRow(page, 'staging').getByRole('button', { name: 'Actions for staging' }).focus();
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.activeElement.textContent.trim()), 'Rename');
    await page.keyboard.press('Enter');
    const d = page.getByRole('dialog', { name: 'Rename environment' });
    await d.waitFor();
    assert.equal(await page.evaluate(() => document.activeElement.value), 'staging', 'focus is on the name, selected');
    await page.keyboard.type('preview');
    await page.keyboard.press('Enter');
    await d.waitFor({ state: 'detached' });
    await envRow(page, 'preview').waitFor();
    assert.equal(await envRow(page, 'staging').count(), 0);
    assert.deepEqual((await envsApi()).map((e) => e.name).sort(), ['preview', 'production']);
    assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), 'Actions for preview', 'focus back on the row’s menu button');
  });

  await test('environments: delete → Cancel keeps it; the confirmation names it', async () => {
    await openRowMenu(page, 'preview');
    await page.getByRole('menuitem', { name: 'Delete' }).click();
    const d = page.getByRole('alertdialog', { name: 'Delete environment?' });
    await d.waitFor();
    const text = await d.textContent();
    assert.ok(text.includes('preview'), 'the confirmation names the environment');
    assert.ok(text.includes('Billing API'), 'and its project');
    assert.match(text, /cannot be undone/);
    assert.equal(await page.evaluate(() => document.activeElement.textContent.trim()), 'Cancel', 'Cancel is focused first');
    await shot(page, 'environment-delete-1280');
    await d.getByRole('button', { name: 'Cancel' }).click();
    await d.waitFor({ state: 'detached' });
    assert.equal(await envRow(page, 'preview').count(), 1);
    assert.ok((await envsApi()).some((e) => e.name === 'preview'), 'Cancel deleted nothing');
  });

  await test('environments: delete → confirm removes it from the page and the API', async () => {
    await openRowMenu(page, 'preview');
    await page.getByRole('menuitem', { name: 'Delete' }).click();
    const d = page.getByRole('alertdialog', { name: 'Delete environment?' });
    await d.getByRole('button', { name: 'Delete environment' }).click();
    await d.waitFor({ state: 'detached' });
    await envRow(page, 'preview').waitFor({ state: 'detached' });
    assert.deepEqual((await envsApi()).map((e) => e.name), ['production']);
  });

  await test('environments: a 101-character name gets the server’s message under the field', async () => {
    const long = 'e'.repeat(101);
    await page.getByRole('button', { name: 'New environment' }).first().click();
    const d = page.getByRole('dialog', { name: 'New environment' });
    await d.getByLabel('Name').fill(long);
    const answer = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname.endsWith('/environments'));
    await d.getByRole('button', { name: 'Create', exact: true }).click();
    const res = await answer;
    assert.equal(res.status(), 400);
    const err = (await res.json()).error;
    assert.equal(err.code, 'validation_failed');
    const shown = d.locator('.field-error');
    await shown.waitFor();
    const text = (await shown.textContent()).trim();
    assert.ok(text.toLowerCase().includes(String(err.message).toLowerCase().replace(/\.$/, '')), `"${text}" shows the server’s "${err.message}"`);
    assert.match(text, /100 characters/);
    assert.equal(await d.getByLabel('Name').getAttribute('aria-invalid'), 'true');
    await shot(page, 'environment-create-error-1280');
    await d.getByRole('button', { name: 'Cancel' }).click();
    await d.waitFor({ state: 'detached' });
    assert.equal((await envsApi()).length, 1, 'nothing was created');
  });

  await test('environments: a name with <script> is shown as text, never run', async () => {
    const evil = '<script>alert(3)</script><b>bold</b>';
    await createEnv(evil);
    const row = envRow(page, evil);
    assert.equal(await row.locator('.key-name').textContent(), evil);
    assert.equal(await page.locator('main b, main script').count(), 0);
    await openRowMenu(page, evil);
    await page.getByRole('menuitem', { name: 'Delete' }).click();
    const d = page.getByRole('alertdialog', { name: 'Delete environment?' });
    assert.ok((await d.textContent()).includes(evil));
    assert.equal(await d.locator('script, b').count(), 0);
    await d.getByRole('button', { name: 'Cancel' }).click();
    await d.waitFor({ state: 'detached' });
    await page.reload();
    await envRow(page, evil).waitFor();
    assert.equal(await page.locator('script:not([src])').count(), 0);
    assert.deepEqual(alice.dialogs, [], 'no alert/confirm/prompt fired');
  });

  await test('environments: a project deleted under the page is said in words', async () => {
    const csrf = (await alice.api('/v1/auth/session')).body.csrf_token;
    const p = await alice.context.request.post(`/v1/organizations/${orgId}/projects`, { headers: { 'X-CSRF-Token': csrf }, data: { name: 'Doomed project' } });
    assert.equal(p.status(), 201);
    const doomed = (await p.json()).id;
    await page.goto(`/orgs/${orgId}/settings/projects/${doomed}`);
    await page.getByRole('heading', { name: 'Doomed project', level: 1 }).waitFor();
    assert.equal((await alice.context.request.delete(`/v1/organizations/${orgId}/projects/${doomed}`, { headers: { 'X-CSRF-Token': csrf } })).status(), 204);
    await page.getByRole('button', { name: 'New environment' }).first().click();
    const d = page.getByRole('dialog', { name: 'New environment' });
    await d.getByLabel('Name').fill('too late');
    await d.getByRole('button', { name: 'Create', exact: true }).click();
    await d.getByRole('alert').filter({ hasText: 'This project no longer exists, or you no longer have access to it.' }).waitFor();
    await d.getByRole('button', { name: 'Cancel' }).click();
    await page.reload();
    await page.getByRole('alert').filter({ hasText: /no longer exists/ }).waitFor();
    await page.locator('main').getByRole('link', { name: 'Projects' }).waitFor();
  });

  await test('dark mode: the main pages pass the contrast check in both schemes, focus rings visible', async () => {
    const pages = [
      ['org-keys', `/orgs/${orgId}/settings/access-keys`, 'Org Access Keys'],
      ['personal-keys', `/orgs/${orgId}/settings/personal-keys`, 'Personal Access Keys'],
      ['projects', `/orgs/${orgId}/settings/projects`, 'Projects'],
      ['environments', `/orgs/${orgId}/settings/projects/${prjId}`, 'Billing API'],
      ['members', `/orgs/${orgId}/settings/members`, 'Members'],
      ['billing', `/orgs/${orgId}/settings/billing`, 'Billing'],
      ['general', `/orgs/${orgId}/settings/general`, 'General'],
    ];
    try {
      for (const scheme of ['light', 'dark']) {
        await page.emulateMedia({ colorScheme: scheme });
        for (const [name, url, heading] of pages) {
          await page.goto(url);
          await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
          await page.locator('.loading').waitFor({ state: 'detached' });
          const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
          assert.equal(bg, scheme === 'dark' ? 'rgb(13, 17, 23)' : 'rgb(246, 247, 249)', `${name}: the ${scheme} palette is in use`);
          assert.deepEqual(await contrastFailures(page), [], `text contrast (WCAG AA) on ${name}, ${scheme}`);
          if (name === 'environments') {
            await shot(page, `environments-${scheme}-1280`);
            await assertFocusRing(page, page.locator('main a.back-link'), `${scheme} back link`);
            await assertFocusRing(page, page.getByRole('button', { name: 'New environment' }), `${scheme} primary button`);
            await shot(page, `environments-focus-${scheme}-1280`);
            await openRowMenu(page, 'production');
            assert.deepEqual(await contrastFailures(page), [], `text contrast in the row menu, ${scheme}`);
            await shot(page, `environment-menu-${scheme}-1280`);
            await page.getByRole('menuitem', { name: 'Delete' }).click();
            const d = page.getByRole('alertdialog', { name: 'Delete environment?' });
            await d.waitFor();
            assert.deepEqual(await contrastFailures(page), [], `text contrast in the confirmation, ${scheme}`);
            await shot(page, `environment-delete-${scheme}-1280`);
            await d.getByRole('button', { name: 'Cancel' }).click();
            await d.waitFor({ state: 'detached' });
            await page.getByRole('button', { name: 'New environment' }).first().click();
            const c = page.getByRole('dialog', { name: 'New environment' });
            await c.getByLabel('Name').fill('x'.repeat(101));
            await c.getByRole('button', { name: 'Create', exact: true }).click();
            await c.locator('.field-error').waitFor();
            assert.deepEqual(await contrastFailures(page), [], `text contrast in a dialog with an error, ${scheme}`);
            await shot(page, `environment-error-${scheme}-1280`);
            await c.getByRole('button', { name: 'Cancel' }).click();
            await c.waitFor({ state: 'detached' });
          }
        }
        const anon = await browser.newContext({ baseURL: BASE, viewport: DESKTOP, colorScheme: scheme });
        try {
          const ap = await anon.newPage();
          await ap.goto('/login');
          await ap.getByRole('heading', { name: 'Log in to latchkey' }).waitFor();
          assert.deepEqual(await contrastFailures(ap), [], `text contrast on the login page, ${scheme}`);
          await shot(ap, `login-${scheme}-1280`);
        } finally {
          await anon.close();
        }
      }
    } finally {
      await page.emulateMedia({ colorScheme: 'light' });
    }
  });

  await test('billing: change the plan and billing email', async () => {
    await page.getByRole('link', { name: 'Billing' }).click();
    await page.getByRole('heading', { name: 'Billing', level: 1 }).waitFor();
    await page.getByRole('radio', { name: /Pro/ }).check();
    await page.getByLabel('Billing email').fill('billing@acme.example');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Billing settings saved.').waitFor();
    const api = await alice.api(`/v1/organizations/${orgId}/billing`);
    assert.equal(api.body.plan, 'pro');
    assert.equal(api.body.billing_email, 'billing@acme.example');
    assert.ok(await page.getByRole('radio', { name: /Pro/ }).isChecked());
    await shot(page, 'billing-1280');
    assert.deepEqual(await contrastFailures(page), [], 'text contrast (WCAG AA) on the billing page');
  });

  // A second person.
  await bob.open();
  let bobOrg = null;
  await test('second member: sign up, and is added by email on the Members page', async () => {
    await signUp(bob);
    bobOrg = await createOrg(bob, 'Bob’s Garage', true);
    await page.getByRole('link', { name: 'Members' }).click();
    await page.getByRole('heading', { name: 'Members', level: 1 }).waitFor();
    // An address with no account gets a clear answer from the API's 404.
    await page.getByLabel('Email address').fill('nobody-here@example.com');
    await page.getByRole('button', { name: 'Add member' }).click();
    await page.getByText('No latchkey account uses this email address').waitFor();
    await page.getByLabel('Email address').fill(bob.email);
    await page.getByRole('button', { name: 'Add member' }).click();
    await page.locator(`tr[data-user-id]`, { hasText: bob.email }).waitFor();
    // Adding again: the API's 409 in words.
    await page.getByLabel('Email address').fill(bob.email);
    await page.getByRole('button', { name: 'Add member' }).click();
    await page.getByText('This person is already a member.').waitFor();
    await shot(page, 'members-1280');
    assert.deepEqual(await contrastFailures(page), [], 'text contrast (WCAG AA) on the members page');
  });

  await test('second member sees the org keys but not the first member’s personal keys', async () => {
    // Alice has a personal key too.
    await page.getByRole('link', { name: 'Personal Access Keys' }).click();
    const r = await createKeyInModal(page, 'Alice laptop');
    await r.dialog.getByRole('button', { name: 'Done' }).click();
    const bp = bob.page;
    await bp.goto('/');
    await bp.getByRole('button', { name: /Switch organization/ }).click();
    await bp.getByRole('menuitem', { name: orgName }).click();
    await bp.waitForURL(new RegExp(`/orgs/${orgId}/settings/access-keys$`));
    await keyRow(bp, 'order first').waitFor();
    await keyRow(bp, 'order second').waitFor();
    assert.equal((await keyRow(bp, 'order first').locator('.by').textContent()).trim(), `by ${alice.name}`);
    await bp.getByRole('link', { name: 'Personal Access Keys' }).click();
    await bp.getByRole('heading', { name: 'Personal Access Keys', level: 1 }).waitFor();
    await bp.locator('.empty-state').waitFor();
    assert.equal(await keyRow(bp, 'Alice laptop').count(), 0);
    const mine = await bob.api('/v1/me/access-keys');
    assert.equal(mine.body.data.length, 0);
    assert.ok(!(await bp.content()).includes(r.token));
  });

  await test('removing a member: confirm names them; they lose the org', async () => {
    await page.getByRole('link', { name: 'Members' }).click();
    const row = page.locator('tr[data-user-id]', { hasText: bob.email });
    await row.getByRole('button', { name: `Actions for ${bob.name}` }).click();
    await page.getByRole('menuitem', { name: 'Remove from organization' }).click();
    const d = page.getByRole('alertdialog', { name: 'Remove member?' });
    assert.ok((await d.textContent()).includes(bob.email));
    await shot(page, 'member-remove-1280');
    await d.getByRole('button', { name: 'Remove' }).click();
    await row.waitFor({ state: 'detached' });
    // Bob, still on the old org's page, gets a clear message on his next action.
    const bp = bob.page;
    await bp.getByRole('link', { name: 'Org Access Keys' }).click();
    await bp.getByRole('alert').filter({ hasText: /no longer exists, or you no longer have access/ }).waitFor();
    await shot(bp, 'error-lost-access-1280');
    await bp.getByRole('link', { name: 'Go to your dashboard' }).click();
    await bp.waitForURL(new RegExp(`/orgs/${bobOrg}/settings/access-keys$`));
    const orgs = await bob.api('/v1/organizations');
    assert.deepEqual(orgs.body.data.map((o) => o.id), [bobOrg]);
  });

  await test('a 401 (session ended elsewhere) sends the person to the login page', async () => {
    const bp = bob.page;
    await bp.goto(`/orgs/${bobOrg}/settings/access-keys`);
    await bp.getByRole('heading', { name: 'Org Access Keys', level: 1 }).waitFor();
    // End the session behind the page's back (same cookie jar).
    const csrf = (await bob.api('/v1/auth/session')).body.csrf_token;
    const r = await bob.context.request.post('/v1/auth/logout', { headers: { 'X-CSRF-Token': csrf } });
    assert.equal(r.status(), 204);
    await bp.getByRole('link', { name: 'Members' }).click();
    await bp.getByRole('heading', { name: 'Log in to latchkey' }).waitFor();
    await bp.getByText('Your session has ended. Please log in again.').waitFor();
    assert.equal(new URL(bp.url()).searchParams.get('next'), `/orgs/${bobOrg}/settings/members`);
    // Logging in goes back to where they were.
    await bp.getByLabel('Email').fill(bob.email);
    await bp.getByLabel('Password').fill(bob.password);
    await bp.getByRole('button', { name: 'Log in' }).click();
    await bp.getByRole('heading', { name: 'Members', level: 1 }).waitFor();
    // A 401 while a dialog is open: the dialog goes with the page.
    await bp.getByRole('link', { name: 'Org Access Keys' }).click();
    await bp.getByRole('button', { name: 'Create Access Key' }).first().click();
    const d = bp.getByRole('dialog', { name: 'Create Access Key' });
    await d.getByLabel('Name').fill('after logout');
    const csrf2 = (await bob.api('/v1/auth/session')).body.csrf_token;
    assert.equal((await bob.context.request.post('/v1/auth/logout', { headers: { 'X-CSRF-Token': csrf2 } })).status(), 204);
    await d.getByRole('button', { name: 'Create', exact: true }).click();
    await bp.getByRole('heading', { name: 'Log in to latchkey' }).waitFor();
    assert.equal(await bp.locator('dialog').count(), 0);
  });

  await test('log out, and log back in', async () => {
    await page.getByRole('button', { name: /^Account:/ }).click();
    await shot(page, 'user-menu-1280');
    await page.getByRole('menuitem', { name: 'Log out' }).click();
    await page.getByRole('heading', { name: 'Log in to latchkey' }).waitFor();
    assert.equal((await alice.api('/v1/auth/session')).status, 401);
    await page.goto('/');
    await page.getByRole('heading', { name: 'Log in to latchkey' }).waitFor();
    await page.getByLabel('Email').fill(alice.email);
    await page.getByLabel('Password').fill(alice.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: /Access Keys|Members/, level: 1 }).waitFor();
  });

  await test('phone width (390px): every page fits without sideways scrolling', async () => {
    await page.setViewportSize(PHONE);
    const pages = [
      ['org-keys', `/orgs/${orgId}/settings/access-keys`, 'Org Access Keys'],
      ['personal-keys', `/orgs/${orgId}/settings/personal-keys`, 'Personal Access Keys'],
      ['projects', `/orgs/${orgId}/settings/projects`, 'Projects'],
      ['members', `/orgs/${orgId}/settings/members`, 'Members'],
      ['billing', `/orgs/${orgId}/settings/billing`, 'Billing'],
      ['general', `/orgs/${orgId}/settings/general`, 'General'],
      ['environments', `/orgs/${orgId}/settings/projects/${prjId}`, 'Billing API'],
    ];
    for (const [name, url, heading] of pages) {
      await page.goto(url);
      await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
      await page.locator('.loading').waitFor({ state: 'detached' }).catch(() => {});
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `${name} scrolls sideways by ${overflow}px`);
      await shot(page, `${name}-390`);
    }
    await page.goto(`/orgs/${orgId}/settings/access-keys`);
    // Rows shown as cards keep their table semantics for screen readers.
    await page.getByRole('row', { name: /order first/ }).waitFor();
    assert.equal(await page.getByRole('columnheader', { name: 'Key' }).count(), 1);
    await page.getByRole('button', { name: /Switch organization/ }).click();
    await shot(page, 'org-switcher-390');
    await page.keyboard.press('Escape');
    await page.getByRole('button', { name: 'Create Access Key' }).first().click();
    await page.getByRole('dialog', { name: 'Create Access Key' }).getByLabel('Name').fill('Phone key');
    await shot(page, 'create-key-390');
    await page.keyboard.press('Escape');
    const r = await createKeyInModal(page, 'Phone key');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0);
    await shot(page, 'key-created-390');
    await r.dialog.getByRole('button', { name: 'Done' }).click();
    await openRowMenu(page, 'Phone key');
    await shot(page, 'row-menu-390');
    await page.getByRole('menuitem', { name: 'Delete' }).click();
    await shot(page, 'key-delete-390');
    await page.getByRole('alertdialog').getByRole('button', { name: 'Delete key' }).click();
    await keyRow(page, 'Phone key').waitFor({ state: 'detached' });
    // The sign-in pages at phone width.
    const anon = await browser.newContext({ baseURL: BASE, viewport: PHONE });
    const ap = await anon.newPage();
    await ap.goto('/login');
    await ap.getByRole('heading', { name: 'Log in to latchkey' }).waitFor();
    await shot(ap, 'login-390');
    await ap.goto('/signup');
    await ap.getByRole('heading', { name: 'Create your account' }).waitFor();
    await shot(ap, 'signup-390');
    await anon.close();
    await page.setViewportSize(DESKTOP);
  });

  await test('general: rename an organization, then delete it — its keys are revoked at once', async () => {
    const doomed = await createOrg(alice, 'Doomed Org');
    const r = await createKeyInModal(page, 'doomed key');
    await r.dialog.getByRole('button', { name: 'Done' }).click();
    assert.equal((await bearer(r.token, '/v1/whoami')).status, 200);
    await page.getByRole('link', { name: 'General' }).click();
    await page.getByRole('heading', { name: 'General', level: 1 }).waitFor();
    await page.getByLabel('Organization name').fill('Doomed Org (renamed)');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByRole('button', { name: 'Organization: Doomed Org (renamed). Switch organization' }).waitFor();
    assert.equal((await alice.api(`/v1/organizations/${doomed}`)).body.name, 'Doomed Org (renamed)');
    await shot(page, 'general-1280');
    await page.getByRole('button', { name: 'Delete organization' }).click();
    const d = page.getByRole('alertdialog', { name: 'Delete organization?' });
    assert.ok((await d.textContent()).includes('Doomed Org (renamed)'));
    assert.match(await d.textContent(), /revoked immediately/);
    await d.getByRole('button', { name: 'Cancel' }).click();
    await d.waitFor({ state: 'detached' });
    assert.equal((await bearer(r.token, '/v1/whoami')).status, 200, 'Cancel deleted nothing');
    await page.getByRole('button', { name: 'Delete organization' }).click();
    await d.getByRole('button', { name: 'Delete organization' }).click();
    await page.waitForURL((u) => !u.pathname.includes(doomed));
    await page.getByRole('heading', { name: 'Org Access Keys', level: 1 }).waitFor();
    assert.equal((await bearer(r.token, '/v1/whoami')).status, 401);
    await page.getByRole('button', { name: /Switch organization/ }).click();
    const items = await page.getByRole('menuitem').allTextContents();
    assert.ok(!items.some((t) => t.includes('Doomed')), 'the deleted org is gone from the switcher');
    await page.keyboard.press('Escape');
  });

  await test('an API error in a dialog is shown in words (org deleted under the page)', async () => {
    // A throwaway org, deleted through the API while its page is open.
    const tmpOrg = await createOrg(alice, 'Short-lived Org');
    const csrf = (await alice.api('/v1/auth/session')).body.csrf_token;
    const r = await alice.context.request.delete(`/v1/organizations/${tmpOrg}`, { headers: { 'X-CSRF-Token': csrf } });
    assert.equal(r.status(), 204);
    await page.getByRole('button', { name: 'Create Access Key' }).first().click();
    const d = page.getByRole('dialog', { name: 'Create Access Key' });
    await d.getByLabel('Name').fill('too late');
    await d.getByRole('button', { name: 'Create', exact: true }).click();
    await d.getByRole('alert').filter({ hasText: 'This organization no longer exists, or you no longer have access to it.' }).waitFor();
    await shot(page, 'error-in-dialog-1280');
    await d.getByRole('button', { name: 'Cancel' }).click();
  });

  await test('sign-up on a server with --signup closed says so in words', async () => {
    assert.ok(CLOSED, 'run.sh provides a --signup closed server');
    const ctx = await browser.newContext({ baseURL: CLOSED, viewport: DESKTOP });
    try {
      const cp = await ctx.newPage();
      const errors = [];
      cp.on('pageerror', (e) => errors.push(e.message));
      await cp.goto('/signup');
      await cp.getByLabel('Your name').fill('Closed Out');
      await cp.getByLabel('Email').fill('closed@example.com');
      await cp.getByLabel('Password').fill('long-enough-password');
      await cp.getByRole('button', { name: 'Create account' }).click();
      await cp.getByRole('alert').filter({ hasText: 'Sign-up is closed on this latchkey server' }).waitFor();
      await shot(cp, 'signup-closed-1280');
      assert.equal(new URL(cp.url()).pathname, '/signup');
      assert.deepEqual(errors, []);
    } finally {
      await ctx.close();
    }
  });

  // --- scopes: least privilege in the dashboard (issue 12) -------------------
  // On an organization of its own: the one the tests above used is gone.
  let scopesOrg = null;
  await test('scopes: a fresh organization for the least-privilege tests', async () => {
    scopesOrg = await createOrg(alice, 'Least Privilege');
    assert.match(scopesOrg, /^org_/);
  });
  {
    const orgId = scopesOrg;
    const keysUrl = `/orgs/${orgId}/settings/access-keys`;
    const orgKeys = `/v1/organizations/${orgId}/access-keys`;
    const apiPost = async (pathname, data) => {
      const r = await alice.context.request.post(pathname, { data, headers: { 'X-CSRF-Token': alice.csrf, Accept: 'application/json' } });
      return { status: r.status(), body: await r.json().catch(() => null) };
    };
    const apiPatch = async (pathname, data) => {
      const r = await alice.context.request.patch(pathname, { data, headers: { 'X-CSRF-Token': alice.csrf, Accept: 'application/json' } });
      return { status: r.status(), body: await r.json().catch(() => null) };
    };
    const openCreate = async () => {
      await page.goto(keysUrl);
      await page.getByRole('heading', { name: 'Org Access Keys', level: 1 }).waitFor();
      await page.getByRole('button', { name: 'Create Access Key' }).first().click();
      const dialog = page.getByRole('dialog', { name: 'Create Access Key' });
      await dialog.waitFor();
      return dialog;
    };
    const finish = async () => {
      const saved = page.getByRole('dialog', { name: 'Save your access key' });
      await saved.waitFor();
      const token = (await saved.locator('code.token').textContent()).trim();
      await saved.getByRole('button', { name: 'Done' }).click();
      await saved.waitFor({ state: 'detached' });
      return token;
    };

    await test('scopes: the create dialog offers Full access, Read-only and Custom, and allowed IP ranges', async () => {
      const dialog = await openCreate();
      for (const name of [/^Full access/, /^Read-only/, /^Custom/]) await dialog.getByRole('radio', { name }).waitFor();
      assert.ok(await dialog.getByRole('radio', { name: /^Full access/ }).isChecked(), 'Full access is the default');
      await dialog.getByLabel('Allowed IP ranges (optional)').waitFor();
      await dialog.getByRole('radio', { name: /^Custom/ }).check();
      await dialog.getByRole('checkbox', { name: 'Projects and environments: write' }).waitFor();
      assert.equal(await dialog.getByRole('checkbox', { name: 'Your profile: read' }).count(), 0, 'an org key is never offered user scopes');
      await shot(page, 'key-create-scopes-1280');
      assert.deepEqual(await contrastFailures(page), [], 'text contrast (WCAG AA) in the scopes dialog');
      await dialog.getByRole('button', { name: 'Cancel' }).click();
    });

    await test('scopes: a read-only key limited to an IP range, shown as "Read-only"', async () => {
      const dialog = await openCreate();
      await dialog.getByLabel('Name').fill('ro exporter');
      await dialog.getByRole('radio', { name: /^Read-only/ }).check();
      await dialog.getByLabel('Allowed IP ranges (optional)').fill('127.0.0.0/8, 2001:db8::/32');
      await dialog.getByRole('button', { name: 'Create', exact: true }).click();
      const token = await finish();
      const k = (await alice.api(orgKeys)).body.data.find((x) => x.name === 'ro exporter');
      assert.deepEqual(k.scopes, ['audit:read', 'billing:read', 'keys:read', 'members:read', 'projects:read']);
      assert.deepEqual(k.allowed_cidrs, ['127.0.0.0/8', '2001:db8::/32']);
      assert.equal((await keyRow(page, 'ro exporter').locator('.access').textContent()).trim(), 'Read-only');
      assert.equal((await bearer(token, `/v1/organizations/${orgId}/projects`)).status, 200);
      const w = await bearer(token, `/v1/organizations/${orgId}/projects`, 'POST');
      assert.equal(w.status, 403);
      assert.equal(w.body.error.required_scope, 'projects:write');
    });

    await test('scopes: a custom key shows "N scopes" with the list on hover and on keyboard focus', async () => {
      const dialog = await openCreate();
      await dialog.getByLabel('Name').fill('previews');
      await dialog.getByRole('radio', { name: /^Custom/ }).check();
      await dialog.getByRole('button', { name: 'Create', exact: true }).click();
      await dialog.getByText('Pick at least one thing this key may do').waitFor(); // nothing ticked: nothing sent
      await dialog.getByRole('checkbox', { name: 'Projects and environments: write' }).check();
      assert.ok(await dialog.getByRole('checkbox', { name: 'Projects and environments: read' }).isChecked(), 'write ticks read');
      await dialog.getByRole('checkbox', { name: 'Access keys: read' }).check();
      await dialog.getByRole('button', { name: 'Create', exact: true }).click();
      await finish();
      const k = (await alice.api(orgKeys)).body.data.find((x) => x.name === 'previews');
      assert.deepEqual(k.scopes, ['keys:read', 'projects:write']);
      const access = keyRow(page, 'previews').locator('.access');
      assert.equal((await access.textContent()).trim(), '2 scopes');
      const tip = keyRow(page, 'previews').locator('.scope-tip');
      assert.ok(!(await tip.isVisible()), 'the list is hidden until asked for');
      await access.focus();
      await tip.waitFor({ state: 'visible' });
      assert.equal((await tip.textContent()).trim(), 'keys:read, projects:write');
      await assertFocusRing(page, access, 'the scopes label');
      await shot(page, 'key-scopes-tooltip-1280');
      await page.locator('h1').click();
      await tip.waitFor({ state: 'hidden' });
      await access.hover();
      await tip.waitFor({ state: 'visible' });
    });

    await test('scopes: a bad IP range is shown under its field', async () => {
      const dialog = await openCreate();
      await dialog.getByLabel('Name').fill('bad range');
      await dialog.getByLabel('Allowed IP ranges (optional)').fill('10.0.0.0/33');
      await dialog.getByRole('button', { name: 'Create', exact: true }).click();
      await dialog.locator('.field-error').filter({ hasText: /10\.0\.0\.0\/33/ }).first().waitFor();
      assert.ok((await alice.api(orgKeys)).body.data.every((x) => x.name !== 'bad range'));
      await dialog.getByRole('button', { name: 'Cancel' }).click();
    });

    await test('scopes: the row menu changes a key’s allowed IP ranges (normalised), never its scopes', async () => {
      await page.goto(keysUrl);
      await openRowMenu(page, 'ro exporter');
      await page.getByRole('menuitem', { name: 'Rename' }).click();
      const dialog = page.getByRole('dialog', { name: 'Rename access key' });
      await dialog.waitFor();
      const ranges = dialog.getByLabel('Allowed IP ranges (optional)');
      assert.equal(await ranges.inputValue(), '127.0.0.0/8, 2001:db8::/32');
      await ranges.fill('300.1.1.1/8');
      await dialog.getByRole('button', { name: 'Save' }).click();
      await dialog.locator('.field-error').filter({ hasText: /300\.1\.1\.1\/8/ }).first().waitFor();
      await ranges.fill('10.1.2.3/8');
      await dialog.getByRole('button', { name: 'Save' }).click();
      await dialog.waitFor({ state: 'detached' });
      const k = (await alice.api(orgKeys)).body.data.find((x) => x.name === 'ro exporter');
      assert.deepEqual(k.allowed_cidrs, ['10.0.0.0/8']);
      assert.equal(k.scopes.length, 5);
      await page.getByText('Allowed IP ranges saved.').waitFor();
    });

    await test('scopes: a key expiring soon says "Expires in 3 days"; last used shows the address', async () => {
      const when = new Date(Date.now() + 3 * 86400000 + 3600000).toISOString().replace(/\.\d{3}Z$/, 'Z');
      const r = await apiPost(orgKeys, { name: 'short lived', expires_at: when });
      assert.equal(r.status, 201);
      const used = await bearer(r.body.token, '/v1/whoami');
      assert.equal(used.status, 200);
      let k = null;
      for (let i = 0; i < 60 && !(k && k.last_used_ip); i++) {
        await page.waitForTimeout(1000); // last use is written in batches (every 15 s)
        k = (await alice.api(orgKeys)).body.data.find((x) => x.name === 'short lived');
      }
      assert.equal(k.last_used_ip, '127.0.0.1');
      await page.goto(keysUrl);
      const row = keyRow(page, 'short lived');
      await row.waitFor();
      assert.equal((await row.locator('.expiry-warning').textContent()).trim(), 'Expires in 3 days');
      assert.match(await row.locator('.last-used').textContent(), /from 127\.0\.0\.1/);
      assert.equal(await keyRow(page, 'previews').locator('.expiry-warning').count(), 0);
      await shot(page, 'keys-expiry-warning-1280');
      assert.deepEqual(await contrastFailures(page), [], 'text contrast (WCAG AA) with the expiry warning');
    });

    await test('scopes: General sets the maximum key lifetime; the create dialog follows it', async () => {
      await page.goto(`/orgs/${orgId}/settings/general`);
      const days = page.getByLabel('Maximum lifetime of new access keys (days)');
      await days.fill('0');
      await page.locator('form.key-lifetime').getByRole('button', { name: 'Save limit' }).click();
      await page.getByText('Enter a whole number of days from 1 to 3650').waitFor();
      await days.fill('30');
      await page.locator('form.key-lifetime').getByRole('button', { name: 'Save limit' }).click();
      await page.getByText('New access keys must now expire within 30 days.').waitFor();
      assert.equal((await alice.api(`/v1/organizations/${orgId}`)).body.access_key_max_lifetime_days, 30);
      await page.reload();
      assert.equal(await page.getByLabel('Maximum lifetime of new access keys (days)').inputValue(), '30');
      await shot(page, 'general-key-lifetime-1280');
      const dialog = await openCreate();
      const options = await dialog.getByLabel('Expiration').locator('option').allTextContents();
      assert.ok(!options.includes('No expiration'), `options: ${options}`);
      await dialog.getByLabel('Name').fill('bounded');
      await dialog.getByRole('button', { name: 'Create', exact: true }).click();
      await finish();
      const k = (await alice.api(orgKeys)).body.data.find((x) => x.name === 'bounded');
      assert.ok(k.expires_at && Date.parse(k.expires_at) <= Date.now() + 30 * 86400000 + 60000, k.expires_at);
      assert.equal((await apiPatch(`/v1/organizations/${orgId}`, { access_key_max_lifetime_days: null })).status, 200);
    });
  }

  // --- account security (issue 13 B): the Account page -----------------------
  // dana: her own browser; her other "devices" are API logins with their own cookies.
  const dana = new Person(browser, 'dana');
  const FIREFOX_WIN = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0';
  async function apiLogin(email, password, ua = FIREFOX_WIN) {
    const r = await fetch(`${BASE}/v1/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'User-Agent': ua },
      body: JSON.stringify({ email, password }),
    });
    assert.equal(r.status, 200, 'API login');
    const cookie = (r.headers.get('set-cookie') || '').split(';')[0];
    return cookie;
  }
  async function meWith(cookie) {
    return (await fetch(`${BASE}/v1/me`, { headers: { Cookie: cookie, Accept: 'application/json' } })).status;
  }
  function sessionRows(pg) {
    return pg.locator('[data-section="sessions"] tbody tr');
  }

  await test('the Account page is reached from the account menu and lists the sessions', async () => {
    await dana.open();
    await signUp(dana);
    const pg = dana.page;
    const other = await apiLogin(dana.email, dana.password);
    dana.otherCookie = other;
    await pg.getByRole('button', { name: /^Account: / }).click();
    await pg.getByRole('menuitem', { name: 'Account' }).click();
    await pg.getByRole('heading', { name: 'Account', level: 1 }).waitFor();
    assert.equal(new URL(pg.url()).pathname, '/account');
    await sessionRows(pg).nth(1).waitFor();
    assert.equal(await sessionRows(pg).count(), 2);
    const mine = sessionRows(pg).filter({ hasText: 'This session' });
    assert.equal(await mine.count(), 1, 'exactly one row is this session');
    const firefox = sessionRows(pg).filter({ hasText: 'Firefox on Windows' });
    assert.equal(await firefox.count(), 1, 'the other device is described in words');
    assert.match(await firefox.textContent(), /127\.0\.0\.1/);
    assert.equal(await firefox.locator('[title]').first().getAttribute('title'), FIREFOX_WIN, 'raw User-Agent in the tooltip');
    await pg.locator('[data-slot="security-log"]').waitFor({ state: 'attached' });
    assert.deepEqual(await contrastFailures(pg), [], 'text contrast (WCAG AA) on the Account page');
    await shot(pg, 'account-1280');
  });

  await test('changing the password: errors in words, then the other sessions end', async () => {
    const pg = dana.page;
    const form = pg.locator('form[data-section="password"]');
    const save = form.getByRole('button', { name: 'Change password' });
    await save.click();
    await form.getByText('Enter your current password.').waitFor();
    await form.getByLabel('Current password').fill(dana.password);
    await form.getByLabel('New password', { exact: true }).fill('a new passphrase 1');
    await form.getByLabel('Confirm new password').fill('a new passphrase 2');
    await save.click();
    await form.getByText('The two new passwords don’t match.').waitFor();
    await form.getByLabel('Current password').fill('not my password at all');
    await form.getByLabel('Confirm new password').fill('a new passphrase 1');
    await save.click();
    await form.getByText('That is not your current password.').waitFor();
    assert.equal(await meWith(dana.otherCookie), 200, 'a refused change ended nothing');
    await form.getByLabel('Current password').fill(dana.password);
    await save.click();
    await pg.getByText('Password changed. Your other sessions were signed out.').waitFor();
    dana.password = 'a new passphrase 1';
    await pg.waitForFunction(() => document.querySelectorAll('[data-section="sessions"] tbody tr').length === 1);
    assert.equal(await sessionRows(pg).filter({ hasText: 'This session' }).count(), 1);
    assert.equal(await meWith(dana.otherCookie), 401, 'the other session still works after the change');
    assert.equal(await form.getByLabel('Current password').inputValue(), '', 'the form was cleared');
    assert.equal((await dana.api('/v1/me')).status, 200, 'this session ended');
  });

  await test('signing another session out asks first, then ends it at once', async () => {
    const pg = dana.page;
    const cookie = await apiLogin(dana.email, dana.password, 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15');
    await pg.reload();
    const row = sessionRows(pg).filter({ hasText: 'Safari on macOS' });
    await row.waitFor();
    await row.getByRole('button', { name: /^Sign out/ }).click();
    let dialog = pg.getByRole('alertdialog', { name: 'Sign out this session?' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    assert.equal(await meWith(cookie), 200, 'Cancel signed the session out');
    await row.getByRole('button', { name: /^Sign out/ }).click();
    dialog = pg.getByRole('alertdialog', { name: 'Sign out this session?' });
    await dialog.getByRole('button', { name: 'Sign out' }).click();
    await pg.getByText('Session signed out.').waitFor();
    await row.waitFor({ state: 'detached' });
    assert.equal(await meWith(cookie), 401, 'the signed-out session still works');
    await pg.setViewportSize(PHONE);
    await shot(pg, 'account-390');
    await pg.setViewportSize(DESKTOP);
    await pg.emulateMedia({ colorScheme: 'dark' });
    assert.deepEqual(await contrastFailures(pg), [], 'text contrast (WCAG AA) on the Account page, dark');
    await shot(pg, 'account-dark-1280');
    await pg.emulateMedia({ colorScheme: 'light' });
    assert.deepEqual(dana.errors, []);
    assert.deepEqual(dana.dialogs, []);
    assert.deepEqual(dana.csrfProblems, []);
    await dana.close();
  });

  // --- roles and invitations (issue 13) -------------------------------------------
  // Their own people, so these tests do not depend on the state above.
  const olivia = new Person(browser, 'olivia');
  const ivan = new Person(browser, 'ivan');
  const mallory = new Person(browser, 'mallory');
  const people = [olivia, ivan, mallory];
  let invOrg = null;
  let invLink = null;
  const invOrgName = 'Invite Works';
  try {
    await olivia.open();
    await ivan.open();
    await mallory.open();

    await test('invitations: an owner invites; the link is shown once with Copy; pending list', async () => {
      const op = olivia.page;
      await signUp(olivia);
      invOrg = await createOrg(olivia, invOrgName, true);
      await op.getByRole('link', { name: 'Members' }).click();
      await op.getByRole('heading', { name: 'Members', level: 1 }).waitFor();
      const me = op.locator('tr[data-user-id]', { hasText: olivia.email });
      assert.equal(await me.getByRole('combobox', { name: `Role of ${olivia.name}` }).inputValue(), 'owner');
      await op.getByRole('button', { name: 'Invite member' }).click();
      const d = op.getByRole('dialog', { name: 'Invite member' });
      await d.getByLabel('Email address').fill(ivan.email);
      await d.getByRole('button', { name: 'Create invitation' }).click();
      const shown = op.getByRole('dialog', { name: 'Send this invitation link' });
      invLink = (await shown.locator('#invite-link').textContent()).trim();
      assert.match(invLink, /^https?:\/\/[^/]+\/invite\/lki_[0-9A-Za-z]{38}$/);
      await shown.getByRole('button', { name: 'Copy' }).click();
      await shown.getByRole('button', { name: 'Copied' }).waitFor();
      assert.equal(await op.evaluate(() => navigator.clipboard.readText()), invLink);
      await shot(op, 'invite-link-1280');
      assert.deepEqual(await contrastFailures(op), [], 'text contrast (WCAG AA) in the invite dialog');
      await shown.getByRole('button', { name: 'Done' }).click();
      await shown.waitFor({ state: 'detached' });
      const row = op.locator('tr[data-invitation-id]', { hasText: ivan.email });
      await row.waitFor();
      assert.ok(!(await op.content()).includes(invLink.split('/').pop()), 'the link stays on the page after Done');
      const api = await olivia.api(`/v1/organizations/${invOrg}/invitations`);
      assert.equal(api.body.data.length, 1);
      assert.equal(api.body.data[0].url, undefined);
    });

    await test('invitations: a signed-out person signs up from the link, comes back and accepts', async () => {
      const ip = ivan.page;
      await ip.goto(invLink.replace(/^https?:\/\/[^/]+/, ''));
      await ip.getByRole('heading', { name: 'You’ve been invited to latchkey' }).waitFor();
      await ip.getByRole('link', { name: 'Create account' }).click();
      await ip.getByRole('heading', { name: 'Create your account' }).waitFor();
      assert.match(new URL(ip.url()).searchParams.get('next'), /^\/invite\/lki_/);
      await ip.getByLabel('Your name').fill(ivan.name);
      await ip.getByLabel('Email').fill(ivan.email);
      await ip.getByLabel('Password').fill(ivan.password);
      await ip.getByRole('button', { name: 'Create account' }).click();
      await ip.getByRole('heading', { name: `Join ${invOrgName}` }).waitFor();
      const facts = await ip.locator('.invite-facts').textContent();
      assert.ok(facts.includes('Member') && facts.includes(olivia.name) && facts.includes(ivan.email), facts);
      await shot(ip, 'invite-page-1280');
      assert.deepEqual(await contrastFailures(ip), [], 'text contrast (WCAG AA) on the invitation page');
      await ip.getByRole('button', { name: 'Accept' }).click();
      await ip.waitForURL(new RegExp(`/orgs/${invOrg}/settings/access-keys$`));
      const members = await olivia.api(`/v1/organizations/${invOrg}/members`);
      const mine = members.body.data.find((m) => m.email === ivan.email);
      assert.equal(mine && mine.role, 'member');
      // used once
      await ip.goto(invLink.replace(/^https?:\/\/[^/]+/, ''));
      await ip.getByRole('heading', { name: 'This invitation link doesn’t work' }).waitFor();
    });

    await test('roles: an owner changes a role; a member sees roles read-only', async () => {
      const op = olivia.page;
      await op.goto(`/orgs/${invOrg}/settings/members`);
      const sel = op.getByRole('combobox', { name: `Role of ${ivan.name}` });
      await sel.selectOption('owner');
      await op.getByText(`${ivan.name} is now an owner.`).waitFor();
      let m = await olivia.api(`/v1/organizations/${invOrg}/members`);
      assert.equal(m.body.data.find((x) => x.email === ivan.email).role, 'owner');
      await sel.selectOption('member');
      await op.getByText(`${ivan.name} is now a member.`).waitFor();
      m = await olivia.api(`/v1/organizations/${invOrg}/members`);
      assert.equal(m.body.data.find((x) => x.email === ivan.email).role, 'member');
      const ip = ivan.page;
      await ip.goto(`/orgs/${invOrg}/settings/members`);
      await ip.getByText('Only owners can change roles or remove other members.').waitFor();
      assert.equal(await ip.getByRole('combobox').count(), 0);
      assert.equal(await ip.getByRole('heading', { name: 'Add an existing account' }).count(), 0);
      const oliviaRow = ip.locator('tr[data-user-id]', { hasText: olivia.email });
      assert.equal((await oliviaRow.locator('td[data-role]').textContent()).trim(), 'Owner');
      assert.equal(await oliviaRow.getByRole('button', { name: `Actions for ${olivia.name}` }).count(), 0);
      // a member may invite, but not as an owner
      await ip.getByRole('button', { name: 'Invite member' }).click();
      const d = ip.getByRole('dialog', { name: 'Invite member' });
      assert.ok(await d.locator('option[value="owner"]').isDisabled());
      await d.getByRole('button', { name: 'Cancel' }).click();
      await shot(ip, 'members-as-member-1280');
    });

    await test('the last owner cannot leave: the page says so', async () => {
      const op = olivia.page;
      await op.goto(`/orgs/${invOrg}/settings/members`);
      const row = op.locator('tr[data-user-id]', { hasText: olivia.email });
      await row.getByRole('button', { name: `Actions for ${olivia.name}` }).click();
      await op.getByRole('menuitem', { name: 'Leave organization' }).click();
      const d = op.getByRole('alertdialog', { name: 'Leave organization?' });
      await d.getByRole('button', { name: 'Leave' }).click();
      await d.getByRole('alert').filter({ hasText: 'An organization needs at least one owner' }).waitFor();
      await d.getByRole('button', { name: 'Cancel' }).click();
      const m = await olivia.api(`/v1/organizations/${invOrg}/members`);
      assert.ok(m.body.data.some((x) => x.email === olivia.email && x.role === 'owner'));
    });

    await test('pre-registration attack: an account holding the email first is not let in', async () => {
      const victim = `victim-${Date.now()}@example.com`;
      // Mallory registers the victim's address before anyone invites it.
      const mp = mallory.page;
      mallory.email = victim;
      await signUp(mallory);
      // The owner invites the victim; the link goes to the victim, not to Mallory.
      const op = olivia.page;
      await op.goto(`/orgs/${invOrg}/settings/members`);
      await op.getByRole('button', { name: 'Invite member' }).click();
      let d = op.getByRole('dialog', { name: 'Invite member' });
      await d.getByLabel('Email address').fill(victim);
      await d.getByRole('button', { name: 'Create invitation' }).click();
      await op.getByRole('dialog', { name: 'Send this invitation link' }).getByRole('button', { name: 'Done' }).click();
      let orgs = await mallory.api('/v1/organizations');
      assert.ok(!orgs.body.data.some((o) => o.id === invOrg), 'Mallory became a member without the link');
      // A link for someone else that Mallory got hold of: she cannot accept it.
      await op.getByRole('button', { name: 'Invite member' }).click();
      d = op.getByRole('dialog', { name: 'Invite member' });
      await d.getByLabel('Email address').fill(`bystander-${Date.now()}@example.com`);
      await d.getByRole('button', { name: 'Create invitation' }).click();
      const shown = op.getByRole('dialog', { name: 'Send this invitation link' });
      const stolen = (await shown.locator('#invite-link').textContent()).trim();
      await shown.getByRole('button', { name: 'Done' }).click();
      await mp.goto(stolen.replace(/^https?:\/\/[^/]+/, ''));
      await mp.getByText('Only the invited person can accept it.').waitFor();
      assert.equal(await mp.getByRole('button', { name: 'Accept' }).count(), 0);
      await shot(mp, 'invite-wrong-account-1280');
      const csrf = (await mallory.api('/v1/auth/session')).body.csrf_token;
      const r = await mallory.context.request.post('/v1/invitations/accept', {
        headers: { 'X-CSRF-Token': csrf, 'Content-Type': 'application/json' },
        data: { token: stolen.split('/').pop() },
      });
      assert.equal(r.status(), 403);
      orgs = await mallory.api('/v1/organizations');
      assert.ok(!orgs.body.data.some((o) => o.id === invOrg));
      await mp.getByRole('button', { name: 'Decline' }).click();
      await mp.waitForURL((u) => !u.pathname.startsWith('/invite/'));
    });

    await test('a revoked invitation link says it does not work', async () => {
      const op = olivia.page;
      await op.goto(`/orgs/${invOrg}/settings/members`);
      await op.getByRole('button', { name: 'Invite member' }).click();
      const d = op.getByRole('dialog', { name: 'Invite member' });
      const who = `late-${Date.now()}@example.com`;
      await d.getByLabel('Email address').fill(who);
      await d.getByRole('button', { name: 'Create invitation' }).click();
      const shown = op.getByRole('dialog', { name: 'Send this invitation link' });
      const link = (await shown.locator('#invite-link').textContent()).trim();
      await shown.getByRole('button', { name: 'Done' }).click();
      await op.getByRole('button', { name: `Revoke the invitation for ${who}` }).click();
      await op.getByRole('alertdialog', { name: 'Revoke invitation?' }).getByRole('button', { name: 'Revoke' }).click();
      await op.locator('tr[data-invitation-id]', { hasText: who }).waitFor({ state: 'detached' });
      await ivan.page.goto(link.replace(/^https?:\/\/[^/]+/, ''));
      await ivan.page.getByRole('heading', { name: 'This invitation link doesn’t work' }).waitFor();
    });

    await test('invitations: CSRF on every call, no script errors or dialogs', async () => {
      for (const p of people) {
        assert.deepEqual(p.csrfProblems, [], p.label);
        assert.deepEqual(p.errors, [], p.label);
        assert.deepEqual(p.dialogs, [], p.label);
      }
    });
  } finally {
    for (const p of people) await p.close().catch(() => {});
  }

  // --- rotate (issue 15): on a fresh organization, org keys then personal keys
  let rotOrg = null;
  await test('rotate: a fresh organization for the rotation tests', async () => {
    rotOrg = await createOrg(alice, 'Rotation Works');
  });
  if (rotOrg) {
    await rotateFlow(alice, { kind: 'org', orgId: rotOrg, label: 'rotate org key' });
    await test('rotate: open Personal Access Keys', async () => {
      await page.goto(`/orgs/${rotOrg}/settings/personal-keys`);
      await page.getByRole('heading', { name: 'Personal Access Keys', level: 1 }).waitFor();
    });
    await rotateFlow(alice, { kind: 'personal', orgId: rotOrg, label: 'rotate personal key' });
  }

  // --- audit --- (views/audit.js: the org's Audit Log tab, the Security log)
  const ada = new Person(browser, 'ada');
  let adaOrg = null;
  await test('audit log tab: readable sentences, newest first, with time and address', async () => {
    await ada.open();
    await signUp(ada);
    adaOrg = await createOrg(ada, 'Audit Co', true);
    ada.csrf = (await ada.api('/v1/auth/session')).body.csrf_token;
    const page = ada.page;
    const { dialog } = await createKeyInModal(page, 'ci');
    await dialog.getByRole('button', { name: 'Done' }).click();
    const keys = (await ada.api(`/v1/organizations/${adaOrg}/access-keys`)).body.data;
    const ci = keys.find((k) => k.name === 'ci');
    const r = await ada.context.request.patch(`/v1/organizations/${adaOrg}/access-keys/${ci.id}`, { headers: { 'X-CSRF-Token': ada.csrf }, data: { name: 'ci-prod' } });
    assert.equal(r.status(), 200);
    await page.getByRole('link', { name: 'Audit Log' }).click();
    await page.getByRole('heading', { name: 'Audit Log', level: 1 }).waitFor();
    const items = page.locator('.audit-item');
    await items.first().waitFor();
    const lines = (await items.allTextContents()).map((t) => t.replace(/\s+/g, ' ').trim());
    assert.equal(lines[0], `${ada.name} renamed key ci → ci-prod · just now · 127.0.0.1`);
    assert.equal(lines[1], `${ada.name} created key ci · just now · 127.0.0.1`);
    assert.equal(lines[2], `${ada.name} created the organization Audit Co · just now · 127.0.0.1`);
    assert.equal(await items.first().getAttribute('data-action'), 'access_key.renamed');
    await shot(page, 'audit-log-1280');
  });

  await test('audit log tab: filter by action and by actor; pages', async () => {
    const page = ada.page;
    for (let i = 0; i < 26; i++) {
      const r = await ada.context.request.post(`/v1/organizations/${adaOrg}/projects`, { headers: { 'X-CSRF-Token': ada.csrf }, data: { name: `p${i}` } });
      assert.equal(r.status(), 201);
    }
    await page.reload();
    const items = page.locator('.audit-item');
    await page.getByLabel('Action').selectOption('access_key.created');
    await page.waitForFunction(() => document.querySelectorAll('.audit-item').length === 1);
    assert.match(await items.first().textContent(), /created key ci/);
    await page.getByLabel('Action').selectOption('project.created');
    await page.waitForFunction(() => document.querySelectorAll('.audit-item').length === 25);
    assert.match(await items.first().textContent(), /created project p25/);
    const older = page.getByRole('button', { name: 'Older' });
    assert.equal(await page.getByRole('button', { name: 'Newer' }).isDisabled(), true);
    await older.click();
    await page.waitForFunction(() => document.querySelectorAll('.audit-item').length === 1);
    assert.match(await items.first().textContent(), /created project p0 /);
    assert.equal(await older.isDisabled(), true);
    await page.getByRole('button', { name: 'Newer' }).click();
    await page.waitForFunction(() => document.querySelectorAll('.audit-item').length === 25);
    // actor: a person who did nothing here yet has no events
    await page.getByLabel('Action').selectOption('');
    await page.getByLabel('Actor').locator('option', { hasText: ada.name }).waitFor({ state: 'attached' });
    const opts = await page.getByLabel('Actor').locator('option').allTextContents();
    assert.deepEqual(opts, ['Anyone', ada.name]);
    await page.getByLabel('Actor').selectOption({ label: ada.name });
    await page.waitForFunction(() => document.querySelectorAll('.audit-item').length === 25);
    await shot(page, 'audit-log-filtered-1280');
  });

  await test('security log on the Account page: sign-ins and failed sign-ins for my email', async () => {
    const bad = await fetch(`${BASE}/v1/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email: ada.email, password: 'not the password' }) });
    assert.equal(bad.status, 401);
    const page = ada.page;
    await page.getByRole('button', { name: /^Account:/ }).click();
    await page.getByRole('menuitem', { name: 'Account' }).click();
    await page.getByRole('heading', { name: 'Security log' }).waitFor();
    const items = page.locator('.audit-security .audit-item');
    await items.first().waitFor();
    const lines = (await items.allTextContents()).map((t) => t.replace(/\s+/g, ' ').trim());
    assert.equal(lines[0], `Someone failed to sign in as ${ada.name} · just now · 127.0.0.1`);
    assert.ok(lines.includes(`${ada.name} signed in · just now · 127.0.0.1`), lines.join('\n'));
    assert.ok(lines.includes(`${ada.name} signed up · just now · 127.0.0.1`), lines.join('\n'));
    assert.ok(!lines.some((l) => /project/.test(l)), 'org events are not in the security log');
    await shot(page, 'security-log-1280');
    await page.emulateMedia({ colorScheme: 'dark' });
    await shot(page, 'security-log-1280-dark');
    await page.emulateMedia({ colorScheme: 'light' });
    assert.deepEqual(ada.errors, []);
    assert.deepEqual(ada.dialogs, []);
    assert.deepEqual(ada.csrfProblems, []);
    await ada.close();
  });

  await test('every state-changing call carried the session’s CSRF token', async () => {
    assert.deepEqual(alice.csrfProblems, []);
    assert.deepEqual(bob.csrfProblems, []);
  });

  await test('no alert dialogs, script errors or CSP violations during the run', async () => {
    assert.deepEqual(alice.dialogs, []);
    assert.deepEqual(bob.dialogs, []);
    assert.deepEqual(alice.errors, []);
    assert.deepEqual(bob.errors, []);
  });
  // --- device --- `latchkey login` through the browser (issue 16): the real
  // CLI on a pseudo-terminal (device_pty.py), the real /device page.
  {
    const { spawn } = await import('node:child_process');
    const os = await import('node:os');
    const here = path.dirname(new URL(import.meta.url).pathname);
    const buildDir = process.env.LK_BUILD || 'build';
    const LATCHKEY = path.isAbsolute(buildDir) ? path.join(buildDir, 'latchkey') : path.join(here, '..', '..', buildDir, 'latchkey');
    const CODE_RE = /\b([BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4})\b/;

    // `latchkey login` in a fresh HOME; $BROWSER records the URL it is given.
    function cliLogin(args = []) {
      const home = fs.mkdtempSync(path.join(os.tmpdir(), 'lk-device-'));
      const log = path.join(home, 'browser.log');
      const fake = path.join(home, 'browser');
      fs.writeFileSync(fake, `#!/bin/sh\nprintf '%s\\n' "$1" >> '${log}'\n`, { mode: 0o755 });
      const env = { PATH: process.env.PATH, HOME: home, LANG: 'C.UTF-8', LATCHKEY_URL: BASE, BROWSER: fake };
      const child = spawn('python3', [path.join(here, 'device_pty.py'), LATCHKEY, 'login', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      const run = { home, log, out: '', exited: null };
      child.stdout.on('data', (d) => { run.out += d.toString(); });
      child.stderr.on('data', (d) => { run.out += d.toString(); });
      run.done = new Promise((resolve) => child.on('exit', (code) => { run.exited = code; resolve(code); }));
      run.kill = () => { if (run.exited === null) child.kill('SIGKILL'); };
      return run;
    }

    async function until(what, fn, ms = 15000) {
      const end = Date.now() + ms;
      for (;;) {
        const v = await fn();
        if (v) return v;
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }

    async function startDevice(body = {}) {
      const r = await fetch(`${BASE}/v1/auth/device`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      assert.equal(r.status, 200);
      return r.json();
    }

    async function pollDevice(deviceCode) {
      const r = await fetch(`${BASE}/v1/auth/device/token`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ device_code: deviceCode }) });
      return { status: r.status, body: await r.json() };
    }

    const carol = new Person(browser, 'carol');
    const dave = new Person(browser, 'dave');
    await carol.open();
    await dave.open();
    const cp = carol.page;
    let cliRun = null;

    await test('device: `latchkey login` on a terminal is approved on the /device page', async () => {
      await signUp(carol);
      cliRun = cliLogin();
      try {
        const url = await until('the CLI to open the browser', () => fs.existsSync(cliRun.log) && fs.readFileSync(cliRun.log, 'utf8').trim());
        const code = url.match(CODE_RE)[1];
        assert.equal(url, `${BASE}/device?code=${code}`);
        assert.match(cliRun.out, new RegExp(code));
        await cp.goto(url);
        const card = cp.getByTestId('device-request');
        await card.waitFor();
        await cp.getByRole('heading', { name: 'Approve a sign-in', level: 1 }).waitFor();
        assert.equal(await cp.getByTestId('device-code').textContent(), code);
        assert.match(await cp.getByTestId('device-client').textContent(), /^latchkey CLI on /);
        assert.equal(await cp.getByTestId('device-address').textContent(), '127.0.0.1');
        await card.getByText('Only approve if you started this sign-in yourself').waitFor();
        await card.getByText(`from a terminal at 127.0.0.1, and it shows the code ${code}`).waitFor();
        await shot(cp, 'device-request-1280');
        assert.deepEqual(await contrastFailures(cp), [], 'text contrast (WCAG AA) on the device page');
        await cp.emulateMedia({ colorScheme: 'dark' });
        assert.deepEqual(await contrastFailures(cp), [], 'text contrast (WCAG AA) on the device page, dark');
        await shot(cp, 'device-request-dark-1280');
        await cp.emulateMedia({ colorScheme: 'light' });
        await assertFocusRing(cp, cp.getByTestId('device-approve'), 'Approve button');
        await cp.getByTestId('device-approve').click();
        await cp.getByRole('heading', { name: 'Sign-in approved' }).waitFor();
        const rc = await Promise.race([cliRun.done, new Promise((r) => setTimeout(() => r('timeout'), 20000))]);
        assert.equal(rc, 0, `latchkey login exited ${rc}: ${cliRun.out}`);
        assert.match(cliRun.out, new RegExp(`Logged in as ${carol.name} <${carol.email.replace(/[.+]/g, '\\$&')}>`));
        const cred = fs.readFileSync(path.join(cliRun.home, '.config', 'latchkey', 'credentials'), 'utf8');
        const token = cred.match(/lkp_[0-9A-Za-z]{38}/)[0];
        assert.ok(!cliRun.out.includes(token), 'the token never reaches the terminal');
        const who = await bearer(token, '/v1/whoami');
        assert.equal(who.status, 200);
        assert.equal(who.body.user.email, carol.email);
        // The key is listed among carol's personal keys in the dashboard.
        const keys = (await carol.api('/v1/me/access-keys')).body.data;
        assert.ok(keys.some((k) => k.id === who.body.key.id));
      } finally {
        cliRun.kill();
      }
    });

    await test('device: signed out → log in → back on /device with the code, then Deny', async () => {
      // dave has an account but this browser is not signed in
      const r = await fetch(`${BASE}/v1/auth/signup`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email: dave.email, password: dave.password, name: dave.name }) });
      assert.equal(r.status, 201);
      const g = await startDevice({ client_name: 'ci-box terminal' });
      const dp = dave.page;
      await dp.goto(`/device?code=${g.user_code}`);
      await dp.getByRole('heading', { name: 'Log in to latchkey' }).waitFor();
      assert.equal(new URL(dp.url()).searchParams.get('next'), `/device?code=${g.user_code}`);
      await dp.getByLabel('Email').fill(dave.email);
      await dp.getByLabel('Password').fill(dave.password);
      await dp.getByRole('button', { name: 'Log in' }).click();
      await dp.getByTestId('device-request').waitFor();
      assert.equal(new URL(dp.url()).pathname, '/device');
      assert.equal(await dp.getByTestId('device-client').textContent(), 'ci-box terminal');
      await dp.getByTestId('device-deny').click();
      await dp.getByRole('heading', { name: 'Sign-in denied' }).waitFor();
      const p = await pollDevice(g.device_code);
      assert.equal(p.status, 400);
      assert.equal(p.body.error.code, 'access_denied');
    });

    await test('device: the code typed by hand (lower case, no dash) and approved by another person', async () => {
      // the code reached carol's page first; dave approves: the key is dave's
      const g = await startDevice({ client_name: 'typed-by-hand' });
      await cp.goto(`/device?code=${g.user_code}`);
      await cp.getByTestId('device-request').waitFor();
      const dp = dave.page;
      await dp.goto('/device');
      const input = dp.getByLabel('Code from your terminal');
      await input.fill(g.user_code.replace('-', '').toLowerCase());
      await dp.getByRole('button', { name: 'Continue' }).click();
      await dp.getByTestId('device-request').waitFor();
      await dp.getByTestId('device-approve').click();
      await dp.getByRole('heading', { name: 'Sign-in approved' }).waitFor();
      // carol's stale page can no longer approve it
      await cp.getByTestId('device-approve').click();
      await cp.getByRole('alert').filter({ hasText: 'unknown, has expired, or was already used' }).waitFor();
      const p = await pollDevice(g.device_code);
      assert.equal(p.status, 200);
      const who = await bearer(p.body.token, '/v1/whoami');
      assert.equal(who.body.user.email, dave.email);
    });

    await test('device: unknown and malformed codes are explained', async () => {
      await cp.goto('/device?code=BBBB-BBBB');
      await cp.getByTestId('device-result').filter({ hasText: 'This code is unknown, has expired, or was already used' }).waitFor();
      await cp.goto('/device?code=hello');
      await cp.getByText('That is not a sign-in code').waitFor();
      await shot(cp, 'device-entry-1280');
    });

    await test('device: approve and deny need the session’s CSRF token', async () => {
      const g = await startDevice();
      for (const what of ['approve', 'deny']) {
        const r = await carol.context.request.post(`/v1/auth/device/${what}`, { data: { user_code: g.user_code }, headers: { 'Content-Type': 'application/json' } });
        assert.equal(r.status(), 403, what);
      }
      const p = await pollDevice(g.device_code);
      assert.equal(p.body.error.code, 'authorization_pending');
    });

    await test('device: no script errors, dialogs or CSRF problems on the device pages', async () => {
      assert.deepEqual(carol.errors, []);
      assert.deepEqual(dave.errors, []);
      assert.deepEqual(carol.dialogs, []);
      assert.deepEqual(dave.dialogs, []);
      assert.deepEqual(carol.csrfProblems, []);
      assert.deepEqual(dave.csrfProblems, []);
    });
    await carol.close().catch(() => {});
    await dave.close().catch(() => {});
  }
} catch (e) {
  failed++;
  console.log(`FAIL (harness) ${e && e.stack ? e.stack : e}`);
} finally {
  await alice.close().catch(() => {});
  await bob.close().catch(() => {});
  await browser.close().catch(() => {});
}

if (failures.length) console.log(`failed: ${failures.join('; ')}`);
console.log(`RESULT ${passed} ${failed}`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
