/**
 * A schema library's complaint about a job key, said in our words: the key's path, what it
 * accepts (a range, a list of words, a type) and the value it got. "Too big: expected number
 * to be <=1" reached users as it was.
 */
import type * as z from 'zod';
import type { Problem } from '../errors.js';
import { formatPath, valueAt } from './keyPath.js';

type Issue = z.core.$ZodIssue;

export function issueToProblem(issue: Issue, raw: unknown): Problem {
  const where = formatPath(issue.path) || '(job)';
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => (where !== '(job)' ? `${where}.${k}` : k));
    return { code: 'SPEC_INVALID', where: keys.join(', '), message: `unknown key${keys.length > 1 ? 's' : ''}` };
  }
  const actual = valueAt(raw, issue.path);
  if (issue.code === 'too_small' && Number(issue.minimum) === 1 && (issue.origin === 'string' || issue.origin === 'array')) {
    return { code: 'SPEC_INVALID', where, message: issue.origin === 'string' ? 'must not be empty text' : 'must not be an empty list' };
  }
  // A message the schema wrote itself (a sha256 is 64 hex digits, ...) is already in our words.
  const accepted = /^(Invalid|Too (big|small))/.test(issue.message) ? expectedOf(issue) : null;
  if (accepted === null) return { code: 'SPEC_INVALID', where, message: issue.message.replace(/^Invalid input: /, ''), ...(actual === undefined ? {} : { actual }) };
  return { code: 'SPEC_INVALID', where, message: WHAT[issue.code] ?? 'is not accepted', expected: accepted, actual: actual === undefined ? 'nothing' : actual };
}

const WHAT: Partial<Record<Issue['code'], string>> = {
  too_big: 'is out of range',
  too_small: 'is out of range',
  invalid_type: 'has the wrong type',
  invalid_value: 'is not an accepted value',
  invalid_union: 'is not an accepted value',
};

/** What the key accepts, in words; null for a message the schema wrote itself. */
function expectedOf(issue: Issue): string | null {
  switch (issue.code) {
    case 'too_big':
      return bound(issue.origin, issue.maximum, issue.inclusive ?? true, 'most');
    case 'too_small':
      return bound(issue.origin, issue.minimum, issue.inclusive ?? true, 'least');
    case 'invalid_type':
      return issue.expected === 'int' ? 'a whole number' : `${article(issue.expected)} ${issue.expected}`;
    case 'invalid_value':
      return issue.values.length === 1 ? JSON.stringify(issue.values[0]) : `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_union':
      return unionOf(issue);
    default:
      return null;
  }
}

function bound(origin: string, limit: number | bigint, inclusive: boolean, side: 'most' | 'least'): string {
  const n = Number(limit);
  if (origin === 'array' || origin === 'set') return side === 'most' ? `a list of at most ${n} item${n === 1 ? '' : 's'}` : `a list of at least ${n} item${n === 1 ? '' : 's'}`;
  if (origin === 'string') return `a text of at ${side} ${n} characters`;
  if (inclusive) return `a number of at ${side} ${n}`;
  return `a number ${side === 'most' ? 'below' : 'above'} ${n}`;
}

function unionOf(issue: Extract<Issue, { code: 'invalid_union' }>): string | null {
  const options = issue.errors.map((branch) => (branch.length === 1 ? expectedOf(branch[0]!) : null));
  return options.every((o) => o !== null) ? options.join(' or ') : null;
}

function article(word: string): string {
  return /^[aeiou]/i.test(word) ? 'an' : 'a';
}
