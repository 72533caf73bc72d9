// views/environments.js — one project's page: its environments (production,
// staging, …) with create, rename and delete.
//
// Route: /orgs/{org}/settings/projects/{prj} (under the Projects tab; a back
// link returns to the list). The project itself is fetched for its name; a
// 404 on either request means the project (or the org) is gone and the page
// says so with a way back. Names reach the page only as text nodes (dom.js).
//
// Length and character rules for environment names are left to the server:
// the dialog refuses only an empty name locally, so what a person reads for
// a too-long or control-character name is the server's own message, under
// the field.

import { h, icon } from '../dom.js';
import { get, post, patch, del, listAll, paths } from '../api.js';
import { button, alertBox, confirmDialog, menuButton, toast, tableRoles } from '../ui.js';
import { pageHeader, showLoadError } from '../layout.js';
import { timeEl, byNewest } from '../format.js';
import { nameDialog } from './projects.js';

// Only the emptiness check runs in the page (see the header comment).
function checkEnvName(value) {
  return value.trim() ? null : 'Enter a name for the environment.';
}

function backLink(org) {
  const href = `/orgs/${encodeURIComponent(org.id)}/settings/projects`;
  return h('a', { href, class: 'back-link' }, icon('back', 'icon icon-sm'), h('span', {}, 'Projects'));
}

function envTable(envs, actions) {
  const head = h('tr', {}, h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'ID'), h('th', { scope: 'col' }, 'Created'), h('th', { scope: 'col', class: 'col-actions' }, h('span', { class: 'sr-only' }, 'Actions')));
  const rows = envs.map((e) =>
    h(
      'tr',
      { 'data-environment-id': e.id },
      h('td', { class: 'cell-name', 'data-label': 'Name' }, h('span', { class: 'key-name' }, e.name)),
      h('td', { 'data-label': 'ID' }, h('code', { class: 'redacted' }, e.id)),
      h('td', { 'data-label': 'Created' }, timeEl(e.created_at)),
      h('td', { class: 'col-actions' }, menuButton({ label: `Actions for ${e.name}`, items: actions(e), focusKey: e.id })),
    ),
  );
  const table = h('table', { class: 'table' }, h('caption', { class: 'sr-only' }, 'Environments'), h('thead', {}, head), h('tbody', {}, rows));
  return h('div', { class: 'table-card' }, tableRoles(table));
}

export function renderEnvironments(ctx, projectId) {
  const org = ctx.org;
  let project = { id: projectId, name: '' };
  let envs = [];
  const pageAlert = alertBox();
  const content = h('div', { class: 'section' }, h('div', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), 'Loading…'));
  const newBtn = button('New environment', { kind: 'primary', iconName: 'plus', onClick: () => openCreate() });
  const desc = h('p', { class: 'page-desc' });
  const header = pageHeader('Environments', null, [newBtn]);
  header.querySelector('.page-header-text').appendChild(desc);
  ctx.main.replaceChildren(backLink(org), header, pageAlert.el, content);
  load();

  async function load() {
    try {
      const [p, list] = await Promise.all([get(paths.project(org.id, projectId)), listAll(paths.environments(org.id, projectId))]);
      if (!ctx.live()) return;
      project = p;
      envs = list.sort(byNewest);
      describe();
      draw();
    } catch (e) {
      if (!ctx.live()) return;
      newBtn.disabled = true;
      showLoadError({ content, alert: pageAlert, error: e, what: 'Couldn’t load this project.', retry: () => ((newBtn.disabled = false), load()) });
    }
  }

  // The heading names the project once it is known; the tab title follows.
  function describe() {
    header.querySelector('.page-title').textContent = project.name;
    desc.replaceChildren('Where this project runs, such as production and staging.', h('span', { class: 'page-meta' }, 'Project ID ', h('code', { class: 'redacted' }, project.id)));
    if (ctx.onTitle) ctx.onTitle(project.name);
  }

  function draw() {
    if (envs.length === 0) {
      content.replaceChildren(
        h('div', { class: 'empty-state' }, h('div', { class: 'empty-icon', 'aria-hidden': 'true' }, icon('layers')), h('h2', { class: 'empty-title' }, 'No environments yet'), h('p', { class: 'empty-text' }, 'Create one environment for each place this project runs, such as production and staging.'), button('New environment', { kind: 'primary', iconName: 'plus', onClick: () => openCreate() })),
      );
      return;
    }
    content.replaceChildren(
      envTable(envs, (e) => [
        { label: 'Rename', icon: 'pencil', onSelect: () => openRename(e) },
        { label: 'Delete', icon: 'trash', danger: true, onSelect: () => openDelete(e) },
      ]),
    );
  }

  function openCreate() {
    nameDialog({
      title: 'New environment',
      submitLabel: 'Create',
      placeholder: 'e.g. production',
      what: 'This project',
      check: checkEnvName,
      onSubmit: async (name) => {
        const e = await post(paths.environments(org.id, projectId), { name });
        envs = [e, ...envs];
        if (ctx.live()) draw();
        toast('Environment created.');
      },
    });
  }

  function openRename(e) {
    nameDialog({
      title: 'Rename environment',
      value: e.name,
      submitLabel: 'Save',
      what: 'This environment',
      check: checkEnvName,
      onSubmit: async (name) => {
        const u = await patch(paths.environment(org.id, projectId, e.id), { name });
        envs = envs.map((x) => (x.id === e.id ? u : x));
        if (ctx.live()) draw();
        toast('Environment renamed.');
      },
    });
  }

  function openDelete(e) {
    confirmDialog({
      title: 'Delete environment?',
      message: h('div', { class: 'confirm-text' }, h('p', {}, 'The environment ', h('strong', { class: 'confirm-name' }, e.name), ' will be deleted from ', h('strong', { class: 'confirm-name' }, project.name), '. This cannot be undone.')),
      confirmLabel: 'Delete environment',
      danger: true,
      what: 'This environment',
      onConfirm: async () => {
        try {
          await del(paths.environment(org.id, projectId, e.id));
        } catch (err) {
          if (err.status !== 404) throw err;
        }
        envs = envs.filter((x) => x.id !== e.id);
        if (ctx.live()) draw();
        toast('Environment deleted.');
      },
    });
  }
}
