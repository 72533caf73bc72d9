// views/projects.js — the organization's projects: list, create, rename,
// delete (deleting a project deletes its environments). A project's name
// links to its page (views/environments.js).

import { h, icon } from '../dom.js';
import { post, patch, del, listAll, paths } from '../api.js';
import { openModal, button, field, alertBox, setButtonBusy, checkName, confirmDialog, menuButton, toast, tableRoles } from '../ui.js';
import { pageHeader, showLoadError } from '../layout.js';
import { timeEl, byNewest } from '../format.js';

// A one-field dialog (name) used for create and rename. `check` is the
// client-side check run before any request (default: the server's full name
// rules, see ui.js checkName); the server's answer is shown under the field.
export function nameDialog({ title, label = 'Name', value = '', submitLabel, placeholder, onSubmit, what, check = checkName }) {
  const alert = alertBox();
  const name = field({ label, name: 'name', value, placeholder });
  const cancel = button('Cancel', { kind: 'secondary' });
  const submit = button(submitLabel, { kind: 'primary', type: 'submit' });
  const form = h('form', { class: 'form', novalidate: true, id: 'name-form-' + Math.random().toString(36).slice(2, 8) }, alert.el, name.wrap);
  submit.setAttribute('form', form.id);
  const m = openModal({ title, body: [form], footer: [cancel, submit], initialFocus: name.input, size: 'sm' });
  if (value) name.input.select();
  cancel.addEventListener('click', () => m.close());
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    alert.clear();
    const err = check(name.input.value);
    name.setError(err);
    if (err) return name.input.focus();
    m.setBusy(true);
    setButtonBusy(submit, true, 'Saving…');
    cancel.disabled = true;
    try {
      await onSubmit(name.input.value.trim());
      m.setBusy(false);
      m.close();
    } catch (e) {
      m.setBusy(false);
      setButtonBusy(submit, false);
      cancel.disabled = false;
      if (e.status === 400 && e.field === 'name') {
        name.setError(e.human());
        name.input.focus();
      } else alert.show(e.human ? e.human(what) : String(e));
    }
  });
  return m;
}

export function renderProjects(ctx) {
  const org = ctx.org;
  let projects = [];
  const pageAlert = alertBox();
  const content = h('div', { class: 'section' }, h('div', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), 'Loading…'));
  const newBtn = button('New project', { kind: 'primary', iconName: 'plus', onClick: () => openCreate() });
  ctx.main.replaceChildren(pageHeader('Projects', ['The applications and services of ', h('strong', {}, org.name), '. Each project has its own environments (production, staging, …): open a project to manage them.'], [newBtn]), pageAlert.el, content);
  load();

  async function load() {
    try {
      const data = await listAll(paths.projects(org.id));
      if (!ctx.live()) return;
      projects = data.sort(byNewest);
      draw();
    } catch (e) {
      if (!ctx.live()) return;
      showLoadError({ content, alert: pageAlert, error: e, what: 'Couldn’t load projects.', retry: load });
    }
  }

  function draw() {
    if (projects.length === 0) {
      content.replaceChildren(
        h('div', { class: 'empty-state' }, h('div', { class: 'empty-icon', 'aria-hidden': 'true' }, icon('folder')), h('h2', { class: 'empty-title' }, 'No projects yet'), h('p', { class: 'empty-text' }, 'Create a project for each application or service your organization runs.'), button('New project', { kind: 'primary', iconName: 'plus', onClick: () => openCreate() })),
      );
      return;
    }
    const table = h(
      'table',
      { class: 'table' },
      h('caption', { class: 'sr-only' }, 'Projects'),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'ID'), h('th', { scope: 'col' }, 'Created'), h('th', { scope: 'col', class: 'col-actions' }, h('span', { class: 'sr-only' }, 'Actions')))),
      h(
        'tbody',
        {},
        projects.map((p) =>
          h(
            'tr',
            { 'data-project-id': p.id },
            h('td', { class: 'cell-name', 'data-label': 'Name' }, h('a', { class: 'key-name row-link', href: `/orgs/${encodeURIComponent(org.id)}/settings/projects/${encodeURIComponent(p.id)}` }, p.name)),
            h('td', { 'data-label': 'ID' }, h('code', { class: 'redacted' }, p.id)),
            h('td', { 'data-label': 'Created' }, timeEl(p.created_at)),
            h(
              'td',
              { class: 'col-actions' },
              menuButton({
                label: `Actions for ${p.name}`,
                focusKey: p.id,
                items: [
                  { label: 'Rename', icon: 'pencil', onSelect: () => openRename(p) },
                  { label: 'Delete', icon: 'trash', danger: true, onSelect: () => openDelete(p) },
                ],
              }),
            ),
          ),
        ),
      ),
    );
    content.replaceChildren(h('div', { class: 'table-card' }, tableRoles(table)));
  }

  function openCreate() {
    nameDialog({
      title: 'New project',
      submitLabel: 'Create',
      placeholder: 'e.g. Billing API',
      what: 'This organization',
      onSubmit: async (name) => {
        const p = await post(paths.projects(org.id), { name });
        projects = [p, ...projects];
        if (ctx.live()) draw();
        toast('Project created.');
      },
    });
  }

  function openRename(p) {
    nameDialog({
      title: 'Rename project',
      value: p.name,
      submitLabel: 'Save',
      what: 'This project',
      onSubmit: async (name) => {
        const u = await patch(paths.project(org.id, p.id), { name });
        projects = projects.map((x) => (x.id === p.id ? u : x));
        if (ctx.live()) draw();
        toast('Project renamed.');
      },
    });
  }

  function openDelete(p) {
    confirmDialog({
      title: 'Delete project?',
      message: h('div', { class: 'confirm-text' }, h('p', {}, 'The project ', h('strong', {}, p.name), ' and all of its environments will be deleted. This cannot be undone.')),
      confirmLabel: 'Delete project',
      danger: true,
      what: 'This project',
      onConfirm: async () => {
        try {
          await del(paths.project(org.id, p.id));
        } catch (e) {
          if (e.status !== 404) throw e;
        }
        projects = projects.filter((x) => x.id !== p.id);
        if (ctx.live()) draw();
        toast('Project deleted.');
      },
    });
  }
}
