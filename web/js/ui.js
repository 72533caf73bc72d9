// ui.js — the dashboard's interactive parts: modal dialogs, action menus,
// form fields, alerts and toasts. All of them are built from real buttons,
// labels and ARIA roles so they work from the keyboard and with a screen
// reader.
//
// Modal: a native <dialog> opened with showModal() (the rest of the page is
// inert), plus an explicit Tab/Shift+Tab loop so focus never leaves it,
// Escape to close (unless an action is in flight), and focus returned to the
// element that opened it. The dialog node is removed from the document when
// it closes, so nothing it showed (a new token) stays in the page.
//
// Menu: a button with aria-haspopup="menu" and a role="menu" list of
// role="menuitem" buttons. Enter, Space or ArrowDown opens it and focuses the
// current item (the org switcher) or the first; ArrowUp/ArrowDown/Home/End move; Escape closes and returns focus
// to the button; Tab or a click outside closes it.

import { h, icon, nextId } from './dom.js';

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

function focusables(root) {
  return Array.from(root.querySelectorAll(FOCUSABLE)).filter((el) => el.offsetParent !== null || el === document.activeElement);
}

// openModal({title, description, body, footer, initialFocus, onClose, danger})
// → {el, close(), setBusy(bool), body, footer}. body/footer are nodes or arrays.
const openModals = new Set();

// Close every dialog and menu (on navigation, e.g. a 401 sending the person
// to /login, or the back button): a dialog must never outlive its page.
export function closeAllOverlays() {
  for (const m of Array.from(openModals)) m.close(true);
  closeOpenMenu(false);
}

// A list redrawn while a dialog was open (a rename) replaces the row menu
// button that opened it; the new button with the same data-focus-key takes
// the focus instead.
function redrawnOpener(opener) {
  const key = opener && opener.dataset ? opener.dataset.focusKey : null;
  return key ? document.querySelector(`[data-focus-key="${CSS.escape(key)}"]`) : null;
}

export function openModal({ title, description, body = [], footer = [], initialFocus, onClose, size = 'md' }) {
  const opener = document.activeElement;
  const titleId = nextId('modal-title');
  const descId = description ? nextId('modal-desc') : null;
  const bodyEl = h('div', { class: 'modal-body' }, description ? h('p', { id: descId, class: 'modal-desc' }, description) : null, body);
  const footerEl = h('div', { class: 'modal-footer' }, footer);
  const closeBtn = h('button', { type: 'button', class: 'icon-btn modal-x', 'aria-label': 'Close' }, icon('close'));
  const dialog = h(
    'dialog',
    { class: `modal modal-${size}`, 'aria-labelledby': titleId, 'aria-describedby': descId },
    h('div', { class: 'modal-head' }, h('h2', { id: titleId, class: 'modal-title' }, title), closeBtn),
    bodyEl,
    footerEl,
  );
  let busy = false;
  let closed = false;
  let restoreFocus = true;

  const api = {
    el: dialog,
    body: bodyEl,
    footer: footerEl,
    setBusy(b) {
      busy = b;
      dialog.classList.toggle('is-busy', b);
      closeBtn.disabled = b;
    },
    close(navigating = false) {
      if (closed) return;
      restoreFocus = !navigating;
      if (dialog.open) dialog.close();
      finish(); // synchronously: the node (and any token in it) leaves the page now
    },
    get closed() {
      return closed;
    },
  };

  function finish() {
    if (closed) return;
    closed = true;
    openModals.delete(api);
    dialog.remove();
    try {
      if (onClose) onClose();
    } finally {
      if (!restoreFocus) {
        /* the page is being replaced; the new page places focus */
      } else if (opener && opener.isConnected && typeof opener.focus === 'function') opener.focus();
      else {
        const target = redrawnOpener(opener) || document.getElementById('main');
        if (target) target.focus();
      }
    }
  }

  closeBtn.addEventListener('click', () => api.close());
  dialog.addEventListener('cancel', (ev) => {
    if (busy) ev.preventDefault();
  });
  dialog.addEventListener('close', finish);
  dialog.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') {
      // Handled here as well as by the native cancel, so Escape works the
      // same in every browser and never needs two presses.
      ev.preventDefault();
      if (!busy) api.close();
      return;
    }
    if (ev.key !== 'Tab') return;
    const items = focusables(dialog);
    if (items.length === 0) {
      ev.preventDefault();
      return;
    }
    const first = items[0];
    const last = items[items.length - 1];
    if (ev.shiftKey && (document.activeElement === first || !dialog.contains(document.activeElement))) {
      ev.preventDefault();
      last.focus();
    } else if (!ev.shiftKey && (document.activeElement === last || !dialog.contains(document.activeElement))) {
      ev.preventDefault();
      first.focus();
    }
  });
  // A click on the backdrop (outside the dialog box) closes, like Escape.
  dialog.addEventListener('mousedown', (ev) => {
    if (ev.target === dialog && !busy) {
      const r = dialog.getBoundingClientRect();
      const inside = ev.clientX >= r.left && ev.clientX <= r.right && ev.clientY >= r.top && ev.clientY <= r.bottom;
      if (!inside) api.close();
    }
  });

  document.body.appendChild(dialog);
  openModals.add(api);
  dialog.showModal();
  const target = typeof initialFocus === 'function' ? initialFocus() : initialFocus;
  (target || focusables(bodyEl)[0] || focusables(footerEl)[0] || closeBtn).focus();
  return api;
}

// button('Save', {kind: 'primary'|'secondary'|'danger'|'ghost', type, onClick})
export function button(label, { kind = 'secondary', type = 'button', onClick, iconName, attrs = {} } = {}) {
  const b = h('button', { type, class: `btn btn-${kind}`, ...attrs }, iconName ? icon(iconName) : null, h('span', { class: 'btn-label' }, label));
  if (onClick) b.addEventListener('click', onClick);
  return b;
}

export function setButtonBusy(btn, busy, busyLabel) {
  const label = btn.querySelector('.btn-label');
  if (busy) {
    btn.dataset.label = label.textContent;
    if (busyLabel) label.textContent = busyLabel;
    btn.disabled = true;
    btn.setAttribute('aria-busy', 'true');
  } else {
    if (btn.dataset.label) label.textContent = btn.dataset.label;
    btn.disabled = false;
    btn.removeAttribute('aria-busy');
  }
}

// field({label, name, type, value, hint, autocomplete, required}) → {wrap, input, setError}
export function field({ label, name, type = 'text', value = '', hint, autocomplete, maxlength, placeholder, inputmode }) {
  const id = nextId(`f-${name}`);
  const hintId = hint ? `${id}-hint` : null;
  const errId = `${id}-err`;
  const input = h('input', {
    id,
    name,
    type,
    class: 'input',
    value,
    autocomplete,
    maxlength,
    placeholder,
    inputmode,
    spellcheck: type === 'text' ? 'false' : null,
    'aria-describedby': [hintId, errId].filter(Boolean).join(' '),
  });
  const err = h('p', { id: errId, class: 'field-error', hidden: true });
  const wrap = h('div', { class: 'field' }, h('label', { for: id, class: 'label' }, label), input, hint ? h('p', { id: hintId, class: 'hint' }, hint) : null, err);
  function setError(msg) {
    if (msg) {
      err.replaceChildren(icon('alert', 'icon icon-sm'), document.createTextNode(msg));
      err.hidden = false;
      input.setAttribute('aria-invalid', 'true');
    } else {
      err.replaceChildren();
      err.hidden = true;
      input.removeAttribute('aria-invalid');
    }
  }
  input.addEventListener('input', () => setError(null));
  return { wrap, input, setError };
}

// An inline alert region. show(msg) / clear(). role="alert" so it is read out.
export function alertBox() {
  const el = h('div', { class: 'alert alert-error', role: 'alert', hidden: true });
  return {
    el,
    show(msg) {
      el.replaceChildren(icon('alert'), h('span', { class: 'alert-text' }, msg));
      el.hidden = false;
    },
    clear() {
      el.replaceChildren();
      el.hidden = true;
    },
  };
}

// Name validation the server also does (1–100 characters after trimming, no
// control characters); checked here too so the common mistakes get an
// answer without a round trip.
export function checkName(value, what = 'a name') {
  const v = value.trim();
  if (!v) return `Enter ${what}.`;
  if (Array.from(v).length > 100) return 'Use at most 100 characters.';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(v)) return 'Remove the control characters.';
  return null;
}

// confirmDialog({title, message, confirmLabel, danger}) → Promise<bool>;
// with onConfirm, the dialog stays open while it runs and shows its error.
export function confirmDialog({ title, message, confirmLabel = 'Confirm', danger = false, onConfirm, what }) {
  return new Promise((resolve) => {
    const alert = alertBox();
    const cancel = button('Cancel', { kind: 'secondary' });
    const ok = button(confirmLabel, { kind: danger ? 'danger' : 'primary' });
    let result = false;
    const m = openModal({
      title,
      body: [alert.el, message],
      footer: [cancel, ok],
      initialFocus: cancel,
      size: 'sm',
      onClose: () => resolve(result),
    });
    m.el.setAttribute('role', 'alertdialog');
    cancel.addEventListener('click', () => m.close());
    ok.addEventListener('click', async () => {
      if (!onConfirm) {
        result = true;
        m.close();
        return;
      }
      alert.clear();
      m.setBusy(true);
      setButtonBusy(ok, true, 'Working…');
      cancel.disabled = true;
      try {
        await onConfirm();
        result = true;
        m.setBusy(false);
        m.close();
      } catch (e) {
        m.setBusy(false);
        setButtonBusy(ok, false);
        cancel.disabled = false;
        alert.show(e.human ? e.human(what) : String(e.message || e));
        ok.focus();
      }
    });
  });
}

let openMenu = null;

function closeOpenMenu(returnFocus) {
  if (openMenu) openMenu(returnFocus);
}

document.addEventListener('mousedown', (ev) => {
  if (openMenu && !ev.target.closest('.menu-wrap.is-open')) closeOpenMenu(false);
});

// menuButton({label, content, items: [{label, icon, danger, onSelect}], className, focusKey})
// label is the accessible name; content is what the button shows; focusKey
// (e.g. the row's id) lets a dialog opened from it return focus after a redraw.
export function menuButton({ label, content, items, className = 'icon-btn', align = 'end', header, focusKey }) {
  const menuId = nextId('menu');
  const btnId = nextId('menubtn');
  const btn = h('button', { type: 'button', id: btnId, class: className, 'aria-haspopup': 'menu', 'aria-expanded': 'false', 'aria-controls': menuId, 'aria-label': label, 'data-focus-key': focusKey }, content || icon('dots', 'icon icon-dots'));
  const menu = h('div', { id: menuId, class: `menu menu-${align}`, role: 'menu', 'aria-labelledby': btnId, hidden: true });
  if (header) menu.appendChild(h('div', { class: 'menu-header', role: 'none' }, header));
  const itemEls = items.map((it) => {
    const el = h(
      'button',
      { type: 'button', role: 'menuitem', tabindex: '-1', class: `menu-item${it.danger ? ' is-danger' : ''}${it.current ? ' is-current' : ''}`, 'aria-current': it.current ? 'true' : null },
      it.icon ? icon(it.icon) : null,
      h('span', { class: 'menu-item-label' }, it.label),
      it.current ? icon('check', 'icon menu-check') : null,
    );
    el.addEventListener('click', () => {
      close(true); // focus back on the button, so a dialog opened next returns there
      it.onSelect();
    });
    menu.appendChild(el);
    return el;
  });
  const wrap = h('div', { class: 'menu-wrap' }, btn, menu);

  function open(focusIndex = 0) {
    if (openMenu && openMenu !== close) closeOpenMenu(false);
    menu.hidden = false;
    menu.classList.remove('menu-up');
    const mr = menu.getBoundingClientRect();
    if (mr.bottom > window.innerHeight - 8 && btn.getBoundingClientRect().top > mr.height + 16) menu.classList.add('menu-up');
    wrap.classList.add('is-open');
    btn.setAttribute('aria-expanded', 'true');
    openMenu = close;
    const i = focusIndex < 0 ? itemEls.length - 1 : focusIndex;
    if (itemEls[i]) itemEls[i].focus();
  }
  function close(returnFocus = true) {
    if (menu.hidden) return;
    menu.hidden = true;
    wrap.classList.remove('is-open');
    btn.setAttribute('aria-expanded', 'false');
    if (openMenu === close) openMenu = null;
    if (returnFocus) btn.focus();
  }
  const startAt = Math.max(0, items.findIndex((it) => it.current)); // the current choice, else the first
  btn.addEventListener('click', () => (menu.hidden ? open(startAt) : close(true)));
  btn.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && !menu.hidden) {
      ev.preventDefault();
      close(true);
    } else if (ev.key === 'ArrowDown') {
      ev.preventDefault();
      open(startAt);
    } else if (ev.key === 'ArrowUp') {
      ev.preventDefault();
      open(-1);
    }
  });
  menu.addEventListener('keydown', (ev) => {
    const i = itemEls.indexOf(document.activeElement);
    let next = null;
    if (ev.key === 'ArrowDown') next = (i + 1) % itemEls.length;
    else if (ev.key === 'ArrowUp') next = (i - 1 + itemEls.length) % itemEls.length;
    else if (ev.key === 'Home') next = 0;
    else if (ev.key === 'End') next = itemEls.length - 1;
    else if (ev.key === 'Escape') {
      ev.preventDefault();
      ev.stopPropagation();
      close(true);
      return;
    } else if (ev.key === 'Tab') {
      close(false);
      return;
    }
    if (next !== null) {
      ev.preventDefault();
      itemEls[next].focus();
    }
  });
  return wrap;
}

// A short-lived notice in the polite live region at the bottom of the page.
export function toast(message, kind = 'success') {
  const host = document.getElementById('toasts');
  if (!host) return;
  const el = h('div', { class: `toast toast-${kind}` }, icon(kind === 'success' ? 'check' : 'alert'), h('span', {}, message));
  host.appendChild(el);
  while (host.children.length > 3) host.firstElementChild.remove(); // the newest few only
  setTimeout(() => el.remove(), 4000);
}

// Phone layouts restyle tables as cards (display: block/grid), which makes
// some browsers drop their table semantics; explicit roles keep them.
export function tableRoles(table) {
  const roles = { TABLE: 'table', THEAD: 'rowgroup', TBODY: 'rowgroup', TR: 'row', TH: 'columnheader', TD: 'cell' };
  for (const el of [table, ...table.querySelectorAll('thead, tbody, tr, th, td')]) el.setAttribute('role', roles[el.tagName]);
  return table;
}
