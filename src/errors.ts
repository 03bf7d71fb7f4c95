/**
 * Every failure a user can cause carries a stable `code`; the CLI maps codes to exit
 * codes here and nowhere else.
 *
 * @example
 *   throw new BatchinferError('INPUT_MISSING', 'input file not found', { expected: 'an existing file', actual: path });
 */

/** Exit codes (sysexits.h), documented in the README and docs/errors.md. */
export const EXIT = {
  OK: 0,
  /**
   * A check ran and found a difference, as `diff` and test runners say it: a quality gate of
   * `evaluate` failed, or `compare` found the files differ. Not an error code: the command
   * still prints its whole report (and --json its report, not a failure document).
   */
  CHECK_FAILED: 1,
  USAGE: 2,
  DATA: 65,
  NO_INPUT: 66,
  INTERNAL: 70,
  OS_ERROR: 71,
  CANT_CREATE: 73,
  TEMP_FAIL: 75,
  CONFIG: 78,
  /** 128 + signal number, as shells report a process killed by a signal. */
  SIGINT: 130,
  SIGTERM: 143,
} as const;

/** Stable error codes and the exit code each maps to. */
export const ERROR_CODES = {
  USAGE: EXIT.USAGE,
  SPEC_INVALID: EXIT.CONFIG,
  SPEC_MISSING: EXIT.NO_INPUT,
  MODEL_MISSING: EXIT.NO_INPUT,
  MODEL_INVALID: EXIT.CONFIG,
  MODEL_MISMATCH: EXIT.CONFIG,
  INPUT_MISSING: EXIT.NO_INPUT,
  INPUT_INVALID: EXIT.DATA,
  SCHEMA_MISMATCH: EXIT.CONFIG,
  /** An encrypted Parquet file without a key, or a named key that is not set (spec/encryption.ts). */
  KEY_MISSING: EXIT.CONFIG,
  /** A key that is wrong for the file, malformed, or in a key file others may read. */
  KEY_INVALID: EXIT.CONFIG,
  BAD_DATA: EXIT.DATA,
  OUTPUT_UNWRITABLE: EXIT.CANT_CREATE,
  LOCKED: EXIT.TEMP_FAIL,
  INPUTS_CHANGED: EXIT.DATA,
  TOO_FEW_ROWS: EXIT.DATA,
  INTERRUPTED: EXIT.SIGTERM,
  RESOURCE_LIMIT: EXIT.OS_ERROR,
  INFERENCE_FAILED: EXIT.INTERNAL,
  INTERNAL: EXIT.INTERNAL,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorDetails {
  /** What the tool needed, e.g. `float32 [N,4]`. */
  expected?: unknown;
  /** What it found, e.g. `VARCHAR`. */
  actual?: unknown;
  /** Further problems reported together with this one (validation collects all). */
  problems?: readonly Problem[];
  cause?: unknown;
}

/** One problem found by validation; several are reported at once. */
export interface Problem {
  code: ErrorCode;
  /** Where the problem is: a job key path (`inputs.x.columns[2]`), a file, a model input. */
  where?: string;
  message: string;
  expected?: unknown;
  actual?: unknown;
}

export class BatchinferError extends Error {
  readonly code: ErrorCode;
  readonly expected?: unknown;
  readonly actual?: unknown;
  readonly problems: readonly Problem[];

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'BatchinferError';
    this.code = code;
    this.expected = details.expected;
    this.actual = details.actual;
    this.problems = details.problems ?? [];
  }

  get exitCode(): number {
    if (this.code === 'INTERRUPTED' && this.actual === 'SIGINT') return EXIT.SIGINT;
    return ERROR_CODES[this.code];
  }

  /** Builds one error out of every problem validation found. */
  static fromProblems(problems: readonly Problem[]): BatchinferError {
    const first = problems[0];
    if (!first) throw new Error('fromProblems needs at least one problem');
    const code = first.code;
    const message =
      problems.length === 1
        ? describeProblem(first)
        : `${problems.length} problems:\n` + problems.map((p) => '  - ' + describeProblem(p)).join('\n');
    // expected/actual belong to one problem: with several, each problem carries its own.
    return new BatchinferError(code, message, problems.length === 1 ? { expected: first.expected, actual: first.actual, problems } : { problems });
  }
}

/**
 * `where: message (expected X, got Y)`, on one line: a line break inside a name or value (a
 * CSV column called "a<LF>b") is shown as `\n`, so an error stays one line on stderr.
 */
export function describeProblem(p: Problem): string {
  let text = p.where ? `${p.where}: ${p.message}` : p.message;
  const parts: string[] = [];
  if (p.expected !== undefined) parts.push(`expected ${formatValue(p.expected)}`);
  if (p.actual !== undefined) parts.push(`got ${formatValue(p.actual)}`);
  if (parts.length > 0) text += ` (${parts.join(', ')})`;
  return text.replace(/\r/g, '\\r').replace(/\n/g, '\\n');
}

/** Items of a list shown in a message (a CSV may have 30,000 columns). */
const MAX_LIST_ITEMS = 20;

export function formatValue(value: unknown): string {
  if (value === '') return '""';
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.length > MAX_LIST_ITEMS) {
    return `${formatValue(value.slice(0, MAX_LIST_ITEMS)).replace(/]$/, '')},... (${value.length} in all)]`;
  }
  if (typeof value === 'bigint') return value.toString();
  return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
}

/** The message to show for an error, with expected/actual when the error carries them. */
export function errorMessage(err: BatchinferError): string {
  if (err.problems.length > 0) return err.message;
  return describeProblem({ code: err.code, message: err.message, expected: err.expected, actual: err.actual });
}

export function isBatchinferError(err: unknown): err is BatchinferError {
  return err instanceof BatchinferError;
}
