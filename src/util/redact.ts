/**
 * Redaction (`redact: true`): no raw data value in a message. Our own messages word values
 * through SQL that redaction replaces (preprocess/rowChecks.ts); libraries' messages (DuckDB's
 * conversion and CSV errors) quote the values they met, so every quoted run is dropped, names
 * quoted beside them too: a lost column name costs less than a leaked value. Codes, row and
 * line numbers and paths stay.
 */
import { BatchinferError, type Problem } from '../errors.js';

/** What stands for a value. */
export const REDACTED = '<redacted>';

/** `text` with every '...' and "..." run (a quoted value) replaced by '<redacted>'; an empty one ("") holds none. */
export function redactMessage(text: string): string {
  return text.replace(/'[^']*'|"[^"]*"/g, (quoted) => (quoted.length === 2 ? quoted : `'${REDACTED}'`));
}

/** A detail (`expected`, `actual`) without data: numbers stay, text is redacted, anything else is dropped. */
function redactDetail(value: unknown): unknown {
  if (value === undefined || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'string') return /^[A-Z_]+$/.test(value) ? value : redactMessage(value);
  return REDACTED;
}

function redactProblem(p: Problem): Problem {
  return { ...p, message: redactMessage(p.message), expected: redactDetail(p.expected), actual: redactDetail(p.actual) };
}

/** The same error (code, exit) with its message, details and problems redacted; not its cause, which is never printed. */
export function redactError(err: unknown): unknown {
  // An unexpected error (INTERNAL) prints its message too.
  if (!(err instanceof BatchinferError)) return err instanceof Error ? new Error(redactMessage(err.message)) : err;
  return new BatchinferError(err.code, redactMessage(err.message), {
    expected: redactDetail(err.expected),
    actual: redactDetail(err.actual),
    problems: err.problems.map(redactProblem),
    cause: err.cause,
  });
}
