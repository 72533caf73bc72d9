// views/keys.js — the Org Access Keys and Personal Access Keys pages.
//
// A table of keys (name, redacted preview, created, last used, expiry),
// newest first; an empty state that says what keys are for; "Create Access
// Key" (a dialog asking for a name and an optional expiry, then showing the
// token exactly once with Copy); a ⋯ menu per row with Rename and Delete.
//
// The token: it arrives in the POST response, is taken out of that object at
// once, lives only in the closure of the dialog that shows it and in that
// dialog's text node, and both are dropped when the dialog closes (the
// dialog element is removed from the document). It is never put in the key
// list, in storage, in the URL or in a log.
//
// Rotate (the row menu): a dialog asks how long the old token keeps working
// (Immediately / 1 hour / 24 hours / 7 days), then shows the new token once
// with Copy, exactly like creation; while a previous token is live the row
// says "previous token valid until …". The new token follows the same rules.

import { h, icon } from '../dom.js';
import { post, patch, del, listAll, paths } from '../api.js';
import { openModal, button, field, alertBox, setButtonBusy, checkName, confirmDialog, menuButton, toast, tableRoles } from '../ui.js';
import { pageHeader, showLoadError } from '../layout.js';
import { timeEl, byNewest } from '../format.js';
import { accessCell, lastUsedCell, expiryWarning, scopePicker, cidrField } from './keyscopes.js';

// --- rotate: the grace periods offered (seconds)
const GRACE = [
  { id: '0', label: 'Immediately', secs: 0 },
  { id: '3600', label: '1 hour', secs: 3600 },
  { id: '86400', label: '24 hours', secs: 86400 },
  { id: '604800', label: '7 days', secs: 604800 },
];

const EXPIRY = [
  { id: 'never', label: 'No expiration', days: 0 },
  { id: '7', label: '7 days', days: 7 },
  { id: '30', label: '30 days', days: 30 },
  { id: '90', label: '90 days', days: 90 },
  { id: '365', label: '1 year', days: 365 },
];

export function renderKeys(ctx, kind) {
  const isOrg = kind === 'org';
  const org = ctx.org;
  const listPath = isOrg ? paths.orgKeys(org.id) : paths.myKeys();
  const keyPath = (id) => (isOrg ? paths.orgKey(org.id, id) : paths.myKey(id));
  let keys = [];
  let creators = null; // user id → name, for org keys

  const createBtn = button('Create Access Key', { kind: 'primary', iconName: 'plus', onClick: () => openCreate() });
  const pageAlert = alertBox();
  const content = h('div', { class: 'section', 'aria-live': 'polite' }, loadingRows());
  const title = isOrg ? 'Org Access Keys' : 'Personal Access Keys';
  const desc = isOrg
    ? ['Keys that act as ', h('strong', {}, org.name), '. They belong to the organization and keep working when the person who created them leaves.']
    : ['Keys that act as you, in every organization you belong to. When you leave an organization, your personal keys lose access to it immediately.'];
  ctx.main.replaceChildren(pageHeader(title, desc, [createBtn]), pageAlert.el, content);

  load();

  async function load() {
    try {
      // Org keys also say who created them: names come from the member list.
      const [data, people] = await Promise.all([listAll(listPath), isOrg ? listAll(paths.members(org.id)).catch((e) => e) : null]);
      if (!ctx.live()) return;
      if (people instanceof Error) {
        if (people.status === 401) return;
        pageAlert.show(`Couldn’t load the names of the members who created these keys. ${people.human('This organization')}`);
      } else if (people) {
        creators = new Map(people.map((m) => [m.user_id, m.name || m.email]));
      }
      keys = data.sort(byNewest);
      draw();
    } catch (e) {
      if (!ctx.live()) return;
      showLoadError({ content, alert: pageAlert, error: e, what: 'Couldn’t load the access keys.', retry: () => (content.replaceChildren(loadingRows()), load()) });
    }
  }

  function draw() {
    if (keys.length === 0) {
      content.replaceChildren(emptyState());
      return;
    }
    const table = h(
      'table',
      { class: 'table keys-table' },
      h('caption', { class: 'sr-only' }, title),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Key'), h('th', { scope: 'col' }, 'Created'), h('th', { scope: 'col' }, 'Last used'), h('th', { scope: 'col' }, 'Expires'), h('th', { scope: 'col' }, 'Access'), h('th', { scope: 'col', class: 'col-actions' }, h('span', { class: 'sr-only' }, 'Actions')))),
      h('tbody', {}, keys.map(row)),
    );
    content.replaceChildren(h('div', { class: 'table-card' }, tableRoles(table)), h('p', { class: 'table-foot' }, `${keys.length} ${keys.length === 1 ? 'key' : 'keys'}`));
  }

  function row(k) {
    const expired = k.expires_at && Date.parse(k.expires_at) <= Date.now();
    return h(
      'tr',
      { 'data-key-id': k.id },
      h('td', { class: 'cell-name', 'data-label': 'Name' }, h('span', { class: 'key-name' }, k.name)),
      h('td', { 'data-label': 'Key' }, h('code', { class: 'redacted' }, k.redacted), previousLine(k)),
      h('td', { 'data-label': 'Created' }, h('span', { class: 'created' }, timeEl(k.created_at), creatorLine(k))),
      h('td', { 'data-label': 'Last used' }, lastUsedCell(k)),
      h('td', { 'data-label': 'Expires' }, k.expires_at ? h('span', { class: 'expiry-cell' }, h('span', { class: expired ? 'badge badge-danger' : '' }, expired ? 'Expired' : timeEl(k.expires_at)), expired ? null : expiryWarning(k)) : h('span', { class: 'muted' }, 'Never')),
      h('td', { 'data-label': 'Access', class: 'cell-access' }, accessCell(k, isOrg)),
      h(
        'td',
        { class: 'col-actions' },
        menuButton({
          label: `Actions for ${k.name}`,
          items: [
            { label: 'Rename', icon: 'pencil', onSelect: () => openRename(k) },
            { label: 'Rotate', icon: 'key', onSelect: () => openRotate(k) },
            { label: 'Delete', icon: 'trash', danger: true, onSelect: () => openDelete(k) },
          ],
        }),
      ),
    );
  }

  // --- rotate: "previous token valid until …" while the old token still works
  function previousLine(k) {
    const until = k.previous_token_expires_at;
    if (!until || Date.parse(until) <= Date.now()) return null;
    return h('span', { class: 'prev-token' }, 'previous token valid until ', timeEl(until));
  }

  function openRotate(k) {
    const alert = alertBox();
    const gId = 'f-grace-' + Math.random().toString(36).slice(2, 8);
    const grace = h('select', { id: gId, name: 'grace', class: 'input select' }, GRACE.map((o) => h('option', { value: o.id }, o.label)));
    const gWrap = h('div', { class: 'field' }, h('label', { for: gId, class: 'label' }, 'Keep the current token working'), grace, h('p', { class: 'hint' }, 'Long enough to put the new token everywhere the old one is used. Rotating again ends any earlier token at once.'));
    const cancel = button('Cancel', { kind: 'secondary' });
    const go = button('Rotate', { kind: 'primary', type: 'submit' });
    const form = h('form', { class: 'form', novalidate: true, id: 'rotate-form-' + Math.random().toString(36).slice(2, 8) }, alert.el, gWrap);
    go.setAttribute('form', form.id);
    let token = null; // the secret; dropped on close
    let tokenNode = null;
    const m = openModal({
      title: 'Rotate access key',
      description: h('span', {}, 'A new token for ', h('strong', {}, k.name), ' (same name, same access). The current token stops working after the time you choose.'),
      body: [form],
      footer: [cancel, go],
      initialFocus: grace,
      onClose: () => {
        token = null;
        if (tokenNode) tokenNode.textContent = '';
        tokenNode = null;
      },
    });
    cancel.addEventListener('click', () => m.close());
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      alert.clear();
      const choice = GRACE.find((o) => o.id === grace.value) || GRACE[0];
      m.setBusy(true);
      setButtonBusy(go, true, 'Rotating…');
      cancel.disabled = true;
      let rotated;
      try {
        rotated = await post(keyPath(k.id) + '/rotate', { grace_period_seconds: choice.secs });
      } catch (e) {
        m.setBusy(false);
        setButtonBusy(go, false);
        cancel.disabled = false;
        if (e.status === 404 && ctx.live()) {
          keys = keys.filter((x) => x.id !== k.id);
          draw();
        }
        alert.show(e.human('This access key'));
        go.focus();
        return;
      }
      token = rotated.token;
      delete rotated.token;
      m.setBusy(false);
      if (ctx.live()) {
        keys = keys.map((x) => (x.id === k.id ? { ...x, ...rotated } : x));
        draw();
      }
      const copyBtn = button('Copy', { kind: 'secondary', iconName: 'copy', attrs: { class: 'btn btn-secondary copy-btn' } });
      const note = h('p', { class: 'copy-note', 'aria-live': 'polite' });
      tokenNode = document.createTextNode(token);
      const tokenEl = h('code', { class: 'token', id: 'new-token', tabindex: '0', 'aria-label': 'Your new access key' }, tokenNode);
      const done = button('Done', { kind: 'primary' });
      done.addEventListener('click', () => m.close());
      copyBtn.addEventListener('click', () => copyToken(token, tokenEl, copyBtn, note));
      m.el.querySelector('.modal-title').textContent = 'Save your new access key';
      const desc = m.el.querySelector('.modal-desc');
      if (desc) desc.remove();
      m.el.removeAttribute('aria-describedby');
      const until = rotated.previous_token_expires_at;
      m.body.replaceChildren(
        h('p', { class: 'modal-desc' }, 'The key ', h('strong', {}, rotated.name), ' has a new token. ', until ? h('span', { class: 'prev-note' }, 'The previous token keeps working until ', timeEl(until), '.') : 'The previous token no longer works.'),
        h('div', { class: 'callout callout-warning', role: 'note' }, icon('alert'), h('p', {}, h('strong', {}, 'Copy it now — it will not be shown again. '), 'latchkey keeps only a fingerprint of it.')),
        h('div', { class: 'token-box' }, tokenEl, copyBtn),
        note,
      );
      m.footer.replaceChildren(done);
      copyBtn.focus();
    });
  }
  // --- end rotate

  function creatorLine(k) {
    if (!isOrg || !creators || !k.created_by) return null;
    const who = k.created_by === (ctx.user && ctx.user.id) ? 'you' : creators.get(k.created_by) || 'a former member';
    return h('span', { class: 'by' }, `by ${who}`);
  }

  function emptyState() {
    return h(
      'div',
      { class: 'empty-state' },
      h('div', { class: 'empty-icon', 'aria-hidden': 'true' }, icon('key')),
      h('h2', { class: 'empty-title' }, isOrg ? 'No organization access keys yet' : 'No personal access keys yet'),
      h(
        'p',
        { class: 'empty-text' },
        isOrg
          ? 'Access keys let servers, CI pipelines and scripts call the latchkey API on behalf of this organization — no password involved. Create one for each service, store it in your secret manager, and delete it the moment it is no longer needed.'
          : 'A personal access key lets your own scripts and the latchkey command-line tool call the API as you. Create one per machine or tool, so you can revoke each on its own.',
      ),
      button('Create Access Key', { kind: 'primary', iconName: 'plus', onClick: () => openCreate() }),
    );
  }

  function openCreate() {
    const alert = alertBox();
    const name = field({ label: 'Name', name: 'name', placeholder: isOrg ? 'e.g. Production deploys' : 'e.g. My laptop', hint: 'A name that tells you where this key is used.' });
    const expId = 'f-expiry-' + Math.random().toString(36).slice(2, 8);
    // The org's maximum key lifetime leaves only the choices within it.
    const maxDays = isOrg && org.access_key_max_lifetime_days ? org.access_key_max_lifetime_days : 0;
    const choices = maxDays ? EXPIRY.filter((o) => o.days && o.days <= maxDays) : EXPIRY;
    if (maxDays && !choices.some((o) => o.days === maxDays)) choices.push({ id: String(maxDays), label: `${maxDays} days (the maximum)`, days: maxDays });
    const expiry = h('select', { id: expId, name: 'expiry', class: 'input select' }, choices.map((o) => h('option', { value: o.id }, o.label)));
    if (maxDays) expiry.value = choices[choices.length - 1].id;
    const expWrap = h('div', { class: 'field' }, h('label', { for: expId, class: 'label' }, 'Expiration'), expiry);
    const cancel = button('Cancel', { kind: 'secondary' });
    const create = button('Create', { kind: 'primary', type: 'submit' });
    const access = scopePicker(isOrg);
    const cidrs = cidrField(field);
    const form = h('form', { class: 'form', novalidate: true }, alert.el, name.wrap, expWrap, access.el, cidrs.wrap);
    form.id = 'create-key-form-' + Math.random().toString(36).slice(2, 8);
    create.setAttribute('form', form.id);

    let token = null; // the secret; dropped on close
    let tokenNode = null;
    const m = openModal({
      title: 'Create Access Key',
      description: isOrg ? `The key will act as the organization ${org.name}.` : 'The key will act as you.',
      body: [form],
      footer: [cancel, create],
      initialFocus: name.input,
      onClose: () => {
        token = null;
        if (tokenNode) tokenNode.textContent = '';
        tokenNode = null;
      },
    });
    cancel.addEventListener('click', () => m.close());

    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      alert.clear();
      const err = checkName(name.input.value, 'a name for the key');
      name.setError(err);
      if (err) return name.input.focus();
      const body = { name: name.input.value.trim() };
      const choice = choices.find((o) => o.id === expiry.value);
      if (choice && choice.days) body.expires_at = new Date(Date.now() + choice.days * 86400000).toISOString().replace(/\.\d{3}Z$/, 'Z');
      const scopes = access.value();
      if (scopes === null) {
        access.setError('Pick at least one thing this key may do, or choose Full access.');
        return access.focus();
      }
      if (scopes) body.scopes = scopes;
      const allowed = cidrs.value();
      if (allowed) body.allowed_cidrs = allowed;
      m.setBusy(true);
      setButtonBusy(create, true, 'Creating…');
      cancel.disabled = true;
      let created;
      try {
        created = await post(isOrg ? paths.orgKeys(org.id) : paths.myKeys(), body);
      } catch (e) {
        m.setBusy(false);
        setButtonBusy(create, false);
        cancel.disabled = false;
        if (e.status === 400 && e.field === 'name') {
          name.setError(e.human());
          name.input.focus();
        } else if (e.status === 400 && e.field === 'allowed_cidrs') {
          cidrs.setError(e.human());
          cidrs.input.focus();
        } else if (e.status === 400 && e.field === 'scopes') {
          access.setError(e.human());
          access.focus();
        } else {
          alert.show(e.human(isOrg ? 'This organization' : undefined));
          create.focus();
        }
        return;
      }
      token = created.token;
      delete created.token;
      m.setBusy(false);
      if (ctx.live()) {
        keys = [created, ...keys.filter((k) => k.id !== created.id)];
        draw();
      }
      showToken(created);
    });

    function showToken(k) {
      const copyBtn = button('Copy', { kind: 'secondary', iconName: 'copy', attrs: { class: 'btn btn-secondary copy-btn' } });
      const note = h('p', { class: 'copy-note', 'aria-live': 'polite' });
      tokenNode = document.createTextNode(token);
      const tokenEl = h('code', { class: 'token', id: 'new-token', tabindex: '0', 'aria-label': 'Your new access key' }, tokenNode);
      const done = button('Done', { kind: 'primary' });
      done.addEventListener('click', () => m.close());
      copyBtn.addEventListener('click', () => copyToken(token, tokenEl, copyBtn, note));
      m.el.querySelector('.modal-title').textContent = 'Save your access key';
      const desc = m.el.querySelector('.modal-desc');
      if (desc) desc.remove();
      m.el.removeAttribute('aria-describedby');
      m.body.replaceChildren(
        h('p', { class: 'modal-desc' }, 'Your new key ', h('strong', {}, k.name), ' is ready.'),
        h('div', { class: 'callout callout-warning', role: 'note' }, icon('alert'), h('p', {}, h('strong', {}, 'Copy it now — it will not be shown again. '), 'latchkey keeps only a fingerprint of it. If you lose it, delete the key and create a new one.')),
        h('div', { class: 'token-box' }, tokenEl, copyBtn),
        note,
      );
      m.footer.replaceChildren(done);
      copyBtn.focus();
    }
  }

  function openRename(k) {
    const alert = alertBox();
    const name = field({ label: 'Name', name: 'name', value: k.name });
    // scopes: the allowed IP ranges change here too (the scopes never do)
    const ranges = cidrField(field);
    const oldRanges = (k.allowed_cidrs || []).join(', ');
    ranges.input.value = oldRanges;
    const cancel = button('Cancel', { kind: 'secondary' });
    const save = button('Save', { kind: 'primary', type: 'submit' });
    const form = h('form', { class: 'form', novalidate: true, id: 'rename-form-' + Math.random().toString(36).slice(2, 8) }, alert.el, name.wrap, ranges.wrap);
    save.setAttribute('form', form.id);
    const m = openModal({ title: 'Rename access key', body: [form], footer: [cancel, save], initialFocus: name.input, size: 'sm' });
    name.input.select();
    cancel.addEventListener('click', () => m.close());
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      alert.clear();
      const err = checkName(name.input.value, 'a name for the key');
      name.setError(err);
      if (err) return name.input.focus();
      const newName = name.input.value.trim();
      const rangesChanged = ranges.input.value.trim() !== oldRanges;
      if (newName === k.name && !rangesChanged) return m.close();
      const body = { name: newName };
      if (rangesChanged) body.allowed_cidrs = ranges.value() || [];
      m.setBusy(true);
      setButtonBusy(save, true, 'Saving…');
      cancel.disabled = true;
      try {
        const updated = await patch(keyPath(k.id), body);
        m.setBusy(false);
        keys = keys.map((x) => (x.id === k.id ? { ...x, ...updated } : x));
        draw();
        m.close();
        toast(newName !== k.name ? 'Access key renamed.' : 'Allowed IP ranges saved.');
      } catch (e) {
        m.setBusy(false);
        setButtonBusy(save, false);
        cancel.disabled = false;
        if (e.status === 404) {
          keys = keys.filter((x) => x.id !== k.id);
          draw();
        }
        if (e.status === 400 && e.field === 'name') {
          name.setError(e.human());
          name.input.focus();
        } else if (e.status === 400 && e.field === 'allowed_cidrs') {
          ranges.setError(e.human());
          ranges.input.focus();
        } else alert.show(e.human('This access key'));
      }
    });
  }

  function openDelete(k) {
    confirmDialog({
      title: 'Delete access key?',
      message: h(
        'div',
        { class: 'confirm-text' },
        h('p', {}, 'The key ', h('strong', { class: 'confirm-name' }, k.name), ' ', h('span', { class: 'nowrap' }, '(', h('code', { class: 'redacted' }, k.redacted), ')'), ' will be revoked.'),
        h('p', {}, 'Any request that uses it will be refused immediately. This cannot be undone.'),
      ),
      confirmLabel: 'Delete key',
      danger: true,
      what: 'This access key',
      onConfirm: async () => {
        try {
          await del(keyPath(k.id));
        } catch (e) {
          if (e.status !== 404) throw e; // already gone: the outcome is the same
        }
        keys = keys.filter((x) => x.id !== k.id);
        if (ctx.live()) draw();
        toast(`Access key “${k.name}” deleted.`);
      },
    }).then((deleted) => {
      if (deleted && ctx.live()) {
        const h1 = ctx.main.querySelector('h1');
        if (h1) h1.focus();
      }
    });
  }
}

function loadingRows() {
  return h('div', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), h('span', {}, 'Loading…'));
}

function selectText(el) {
  const sel = window.getSelection();
  const range = document.createRange();
  range.selectNodeContents(el);
  sel.removeAllRanges();
  sel.addRange(range);
}

// Copy, for a created or rotated token: the Clipboard API, else select the
// token and try the legacy copy command, else say how to copy by hand.
async function copyToken(token, tokenEl, btn, note) {
  note.textContent = '';
  if (!token) return;
  let ok = false;
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(token);
      ok = true;
    }
  } catch (e) {
    ok = false;
  }
  if (!ok) {
    // No Clipboard API (plain HTTP on a non-local address) or permission
    // refused: select the token so Ctrl+C / ⌘C copies it.
    selectText(tokenEl);
    try {
      ok = document.execCommand('copy');
    } catch (e) {
      ok = false;
    }
    if (!ok) {
      note.textContent = 'Your browser didn’t allow copying. The key is selected — press Ctrl+C (⌘C on a Mac) to copy it.';
      note.className = 'copy-note is-warning';
      tokenEl.focus();
      return;
    }
  }
  btn.classList.add('is-copied');
  btn.querySelector('.btn-label').textContent = 'Copied';
  btn.replaceChild(icon('check'), btn.querySelector('svg'));
  note.className = 'copy-note sr-only';
  note.textContent = 'Access key copied to the clipboard.';
  setTimeout(() => {
    if (!btn.isConnected) return;
    btn.classList.remove('is-copied');
    btn.querySelector('.btn-label').textContent = 'Copy';
    btn.replaceChild(icon('copy'), btn.querySelector('svg'));
  }, 2500);
}
