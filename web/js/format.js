// format.js — dates and small text helpers. Times from the API are RFC 3339
// UTC; the page shows them in the viewer's locale and time zone, with the
// exact timestamp in a tooltip and a <time datetime> for machines.

import { h } from './dom.js';

const dateFmt = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const rel = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

function parse(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

export function timeEl(iso, { relative = false } = {}) {
  const d = parse(iso);
  if (!d) return h('span', { class: 'muted' }, '—');
  const text = relative ? relativeText(d) : dateFmt.format(d);
  return h('time', { datetime: iso, title: fullFmt.format(d) }, text);
}

export function relativeText(d, now = Date.now()) {
  const sec = Math.round((d.getTime() - now) / 1000);
  const abs = Math.abs(sec);
  if (abs < 60) return 'just now'; // also absorbs small clock skew between server and browser
  if (abs < 3600) return rel.format(Math.round(sec / 60), 'minute');
  if (abs < 86400) return rel.format(Math.round(sec / 3600), 'hour');
  if (abs < 86400 * 30) return rel.format(Math.round(sec / 86400), 'day');
  return dateFmt.format(d);
}

// Up to two letters or digits for an avatar: the first of the first two words
// ("Acme Rockets" → "AR", "<b>" → "B").
export function initials(name, email) {
  const src = (name || email || '').trim();
  const words = src.split(/\s+/).map((w) => Array.from(w).filter((c) => /[\p{L}\p{N}]/u.test(c)).join('')).filter(Boolean);
  const picked = words.slice(0, 2);
  return picked.map((w) => Array.from(w)[0]).join('').toUpperCase() || '#';
}

export function byNewest(a, b) {
  const ta = Date.parse(a.created_at) || 0;
  const tb = Date.parse(b.created_at) || 0;
  return tb - ta; // ties keep the API's order (Array#sort is stable)
}
