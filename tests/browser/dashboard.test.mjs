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
