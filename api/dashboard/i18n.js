// Interface language: Russian by default, English on request; the choice is kept in localStorage.
import ru from './i18n/ru.js';
import en from './i18n/en.js';
import coopRu from './i18n/cooperation.ru.js';
import coopEn from './i18n/cooperation.en.js';
import plansRu from './i18n/plans.ru.js';
import plansEn from './i18n/plans.en.js';

const STRINGS = { ru: { ...ru, ...coopRu, ...plansRu }, en: { ...en, ...coopEn, ...plansEn } };
const STORE_KEY = 'coopgraph.lang';
const listeners = [];
let current = 'ru';

try {
  const saved = localStorage.getItem(STORE_KEY);
  if (saved && saved in STRINGS) current = saved;
} catch { /* storage may be disabled: stay with the default */ }

/** The current language code: 'ru' or 'en'. */
export function lang() {
  return current;
}

/** Switch the language, remember it, and notify the listeners (the page re-renders). */
export function setLang(code) {
  if (!(code in STRINGS) || code === current) return;
  current = code;
  try { localStorage.setItem(STORE_KEY, code); } catch { /* ignore */ }
  document.documentElement.lang = code;
  for (const fn of listeners) fn(code);
}

export function onLangChange(fn) {
  listeners.push(fn);
}

/** The interface string `key` with {placeholders} filled from params; the key itself if missing. */
export function t(key, params) {
  let text = STRINGS[current][key] ?? STRINGS.ru[key] ?? key;
  if (params) {
    for (const [name, value] of Object.entries(params)) {
      text = text.replaceAll(`{${name}}`, String(value));
    }
  }
  return text;
}

/**
 * The word of `key` that goes with the number n, by the language's CLDR plural rules
 * (Intl.PluralRules): 1 участник, 3 участника, 8 участников; 1 member, 8 members.
 * The dictionary entry is { one, few, many, other } (missing forms fall back to other).
 */
export function tn(key, n, params) {
  const entry = STRINGS[current][key] ?? STRINGS.ru[key];
  if (!entry || typeof entry !== 'object') return t(key, { n, ...params });
  const loc = current === 'ru' ? 'ru-RU' : 'en-GB';
  const form = new Intl.PluralRules(loc).select(Number(n));
  let text = entry[form] ?? entry.other ?? entry.many ?? '';
  const shown = new Intl.NumberFormat(loc, { maximumFractionDigits: 1 }).format(Number(n));
  for (const [name, value] of Object.entries({ n: shown, ...params })) {
    text = text.replaceAll(`{${name}}`, String(value));
  }
  return text;
}

/**
 * A value the API gives in both languages, in the current one.
 * Understands {ru, en} objects and `<base>_ru` / `<base>_en` fields of obj.
 */
export function pick(obj, base) {
  if (obj === null || obj === undefined) return '';
  if (base === undefined) {
    if (typeof obj === 'string') return obj;
    return obj[current] ?? obj.ru ?? obj.en ?? '';
  }
  const direct = obj[base];
  if (direct && typeof direct === 'object') return pick(direct);
  return obj[`${base}_${current}`] ?? obj[`${base}_ru`] ?? obj[`${base}_en`] ?? direct ?? '';
}

/** The name of a role, a KPI code, etc. from a prefixed dictionary, falling back to the raw code. */
export function term(prefix, code) {
  const key = `${prefix}.${code}`;
  const text = t(key);
  return text === key ? String(code) : text;
}
