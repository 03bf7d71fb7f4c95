/**
 * Path templates for windowed jobs: `data/events/dt={date}/hour={hour}/*.parquet`.
 * Calendar tokens are rendered in the job's time zone; `{window_start}` and `{window_end}`
 * are ISO 8601 instants in UTC.
 */
import { BatchinferError, type Problem } from '../errors.js';
import { zonedParts, type Window } from './window.js';

export const TEMPLATE_TOKENS = ['date', 'hour', 'yyyy', 'MM', 'dd', 'HH', 'mm', 'window_start', 'window_end'] as const;
const TOKEN = /\{([^{}]*)\}/g;

/** Problems for every unknown `{token}` in a template (checked at spec-parse time). */
export function checkTemplate(where: string, template: string): Problem[] {
  const problems: Problem[] = [];
  for (const match of template.matchAll(TOKEN)) {
    const token = match[1]!;
    if (!(TEMPLATE_TOKENS as readonly string[]).includes(token)) {
      problems.push({ code: 'SPEC_INVALID', where, message: `unknown template token {${token}}`, expected: TEMPLATE_TOKENS.map((t) => `{${t}}`).join(' '), actual: `{${token}}` });
    }
  }
  return problems;
}

export function hasTemplate(text: string): boolean {
  return /\{[^{}]*\}/.test(text);
}

/** Fills every token of `template` for `window`. */
export function renderTemplate(template: string, window: Window, timezone: string): string {
  const p = zonedParts(timezone, window.start);
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  const values: Record<string, string> = {
    date: `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}`,
    hour: pad(p.hour),
    yyyy: pad(p.year, 4),
    MM: pad(p.month),
    dd: pad(p.day),
    HH: pad(p.hour),
    mm: pad(p.minute),
    window_start: isoSeconds(window.start),
    window_end: isoSeconds(window.end),
  };
  return template.replace(TOKEN, (_m, token: string) => {
    const value = values[token];
    if (value === undefined) throw new BatchinferError('SPEC_INVALID', `unknown template token {${token}}`, { actual: template });
    return value;
  });
}

function isoSeconds(d: Date): string {
  return d.toISOString().replace(/\.000Z$/, 'Z');
}
