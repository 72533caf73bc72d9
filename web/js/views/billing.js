// views/billing.js — the organization's plan and billing email.

import { h, nextId } from '../dom.js';
import { get, patch, paths } from '../api.js';
import { button, field, alertBox, setButtonBusy, toast } from '../ui.js';
import { pageHeader, showLoadError } from '../layout.js';
import { timeEl } from '../format.js';

const PLANS = [
  { id: 'free', name: 'Free', text: 'For trying latchkey and small side projects.' },
  { id: 'pro', name: 'Pro', text: 'For teams running latchkey in production.' },
  { id: 'enterprise', name: 'Enterprise', text: 'For organizations with security and compliance needs.' },
];

export function renderBilling(ctx) {
  const org = ctx.org;
  const pageAlert = alertBox();
  const content = h('div', { class: 'section' }, h('div', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), 'Loading…'));
  ctx.main.replaceChildren(pageHeader('Billing', ['The plan and billing contact of ', h('strong', {}, org.name), '.']), pageAlert.el, content);
  load();

  async function load() {
    try {
      const b = await get(paths.billing(org.id));
      if (!ctx.live()) return;
      draw(b);
    } catch (e) {
      if (!ctx.live()) return;
      showLoadError({ content, alert: pageAlert, error: e, what: 'Couldn’t load billing.', retry: load });
    }
  }

  function draw(b) {
    const alert = alertBox();
    const group = nextId('plan');
    const legendId = nextId('plan-legend');
    const plans = h(
      'fieldset',
      { class: 'plans', 'aria-labelledby': legendId },
      h('legend', { id: legendId, class: 'label' }, 'Plan'),
      PLANS.map((p) => {
        const id = nextId('plan-opt');
        return h(
          'label',
          { class: 'plan', for: id },
          h('input', { type: 'radio', name: group, id, value: p.id, class: 'plan-radio', checked: b.plan === p.id }),
          h('span', { class: 'plan-body' }, h('span', { class: 'plan-name' }, p.name, b.plan === p.id ? h('span', { class: 'badge' }, 'Current') : null), h('span', { class: 'plan-text' }, p.text)),
        );
      }),
    );
    const email = field({ label: 'Billing email', name: 'billing_email', type: 'email', value: b.billing_email || '', hint: 'Invoices and receipts go to this address.', inputmode: 'email' });
    const save = button('Save changes', { kind: 'primary', type: 'submit' });
    const form = h(
      'form',
      { class: 'card form', novalidate: true },
      alert.el,
      plans,
      email.wrap,
      h('div', { class: 'form-actions form-actions-split' }, h('p', { class: 'muted small' }, b.updated_at ? ['Last updated ', timeEl(b.updated_at)] : ''), save),
    );
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      alert.clear();
      const plan = form.querySelector(`input[name="${group}"]:checked`);
      const em = email.input.value.trim();
      if (em && !em.includes('@')) {
        email.setError('Enter an email address like billing@example.com.');
        return email.input.focus();
      }
      setButtonBusy(save, true, 'Saving…');
      try {
        const body = { plan: plan ? plan.value : b.plan };
        if (em) body.billing_email = em;
        const nb = await patch(paths.billing(org.id), body);
        if (!ctx.live()) return;
        draw(nb);
        toast('Billing settings saved.');
      } catch (e) {
        setButtonBusy(save, false);
        if (e.status === 400 && e.field === 'billing_email') {
          email.setError(e.human());
          email.input.focus();
        } else alert.show(e.human('This organization'));
      }
    });
    content.replaceChildren(form);
  }
}
