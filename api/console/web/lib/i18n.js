// Translations and formats. Vietnamese is the default, English the other
// choice (kept in localStorage). Every module registers its own messages
// with addMessages; t looks a key up in the current language, then in
// Vietnamese, and shows the key itself when both lack it (a missing
// translation is visible, not silent). Dates and times are shown in
// Asia/Ho_Chi_Minh whatever the browser's zone, numbers in the language's
// format (1.234,5 in Vietnamese).

export const TIME_ZONE = 'Asia/Ho_Chi_Minh';
export const LANGS = ['vi', 'en'];
const STORAGE_KEY = 'matthan.lang';
const LOCALES = { vi: 'vi-VN', en: 'en-GB' };

const messages = { vi: {}, en: {} };
const listeners = new Set();
let current = LANGS.includes(localStorage.getItem(STORAGE_KEY)) ? localStorage.getItem(STORAGE_KEY) : 'vi';

// addMessages merges {vi: {key: text}, en: {key: text}} into the catalogue.
export function addMessages(catalogue) {
  for (const l of LANGS) Object.assign(messages[l], catalogue[l] || {});
}

// t returns the text of key in the current language, with {name}
// placeholders replaced from vars.
export function t(key, vars) {
  let text = messages[current][key] ?? messages.vi[key] ?? key;
  if (vars) text = text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
  return text;
}

// has reports whether key has a text.
export const has = (key) => key in messages[current] || key in messages.vi;

export const lang = () => current;
export const locale = () => LOCALES[current];

// setLang switches the language and tells the listeners (the layout
// re-renders the page).
export function setLang(l) {
  if (!LANGS.includes(l) || l === current) return;
  current = l;
  localStorage.setItem(STORAGE_KEY, l);
  document.documentElement.lang = l;
  for (const fn of listeners) fn(l);
}

// onLangChange calls fn after every switch; it returns the unsubscribe.
export function onLangChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

const asDate = (v) => (v instanceof Date ? v : new Date(v));
const valid = (d) => !Number.isNaN(d.getTime());

function fmt(v, opts) {
  const d = asDate(v);
  if (!v || !valid(d)) return '—';
  return new Intl.DateTimeFormat(locale(), { timeZone: TIME_ZONE, ...opts }).format(d);
}

// fmtDateTime: 27/11/2026 14:05:09 in Vietnamese.
export const fmtDateTime = (v) =>
  fmt(v, { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
// fmtDate: 27/11/2026.
export const fmtDate = (v) => fmt(v, { year: 'numeric', month: '2-digit', day: '2-digit' });
// fmtTime: 14:05:09.
export const fmtTime = (v) => fmt(v, { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
// fmtHour: 14:00 (chart axes).
export const fmtHour = (v) => fmt(v, { hour: '2-digit', minute: '2-digit', hour12: false });

// fmtNumber formats a number; opts are Intl.NumberFormat options.
export function fmtNumber(n, opts) {
  if (n === null || n === undefined || Number.isNaN(Number(n))) return '—';
  return new Intl.NumberFormat(locale(), opts).format(n);
}

// fmtPercent formats a share (0.5 → 50 %).
export const fmtPercent = (share, digits = 1) => fmtNumber(share, { style: 'percent', maximumFractionDigits: digits });

// localDay returns the YYYY-MM-DD of v in Asia/Ho_Chi_Minh (for date inputs).
export function localDay(v) {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: TIME_ZONE, year: 'numeric', month: '2-digit', day: '2-digit' }).format(asDate(v));
  return parts; // en-CA formats as YYYY-MM-DD
}

// fromLocal turns a date (YYYY-MM-DD) and optional time (HH:MM) read in
// Asia/Ho_Chi_Minh (UTC+7, no daylight saving) into a Date.
export function fromLocal(day, time = '00:00') {
  return new Date(`${day}T${time}:00+07:00`);
}
