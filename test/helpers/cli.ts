/**
 * Runs the real, compiled CLI (`node bin/batchinfer.js ...`) as a child process, the way a
 * user or a scheduler would, and checks the shape of what it prints on failure.
 *
 * @example
 *   const { code, stdout, stderr } = await runCli(['inspect', 'fixtures/models/mlp.onnx', '--json']);
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(REPO_ROOT, 'bin', 'batchinfer.js');
export const FIXTURE_MODELS = join(REPO_ROOT, 'fixtures', 'models');
export const FIXTURE_DATA = join(REPO_ROOT, 'fixtures', 'data');
export const JOBS_DIR = join(REPO_ROOT, 'jobs');

/** `fixtures/models/NAME.onnx`, absolute. */
export const model = (name: string): string => join(FIXTURE_MODELS, `${name}.onnx`);
/** `fixtures/data/NAME`, absolute. */
export const data = (name: string): string => join(FIXTURE_DATA, name);

export interface CliResult {
  /** Exit code; null only when the process was killed (see `signal`). */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time of the run in milliseconds. */
  ms: number;
  /** The arguments the CLI was given. */
  args: readonly string[];
}

export interface CliOptions {
  /** Working directory of the CLI; defaults to the repository root. */
  cwd?: string;
  /** Kill the CLI (SIGKILL) after this many milliseconds; the result then has `signal` set. */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** Run under this open-files limit (`ulimit -n`), set by a shell that then execs node. */
  openFiles?: number;
}

/** Spawns `node bin/batchinfer.js ...args` and resolves when it exits; never rejects on a non-zero exit. */
export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  return startCli(args, options).result;
}

export interface StartedCli {
  /** The CLI's process, for its pid and to send it signals. */
  child: ChildProcess;
  /** Settles when the process has exited, as `runCli` does. */
  result: Promise<CliResult>;
}

/**
 * Starts the CLI and returns at once, for tests that act while it runs (signals, locks).
 *
 * @example
 *   const run = startCli(['run', job]); run.child.kill('SIGTERM'); const r = await run.result;
 */
export function startCli(args: readonly string[], options: CliOptions = {}): StartedCli {
  const started = performance.now();
  // BATCHINFER_DEBUG would add stack traces to internal errors; the tests check their absence.
  const env = { ...process.env, BATCHINFER_DEBUG: '', NO_COLOR: '1', ...options.env };
  const [command, argv] = options.openFiles === undefined ? [process.execPath, [BIN, ...args]] : ['sh', ['-c', `ulimit -n ${options.openFiles} && exec "$0" "$@"`, process.execPath, BIN, ...args]];
  const child = spawn(command, argv, { cwd: options.cwd ?? REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const result = new Promise<CliResult>((resolvePromise, reject) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        ms: performance.now() - started,
        args,
      });
    });
  });
  return { child, result };
}

/** Formats a result for assertion messages, so a failing test shows what the CLI said. */
export function describeResult(r: CliResult): string {
  return `exit ${r.code}${r.signal ? ` (signal ${r.signal})` : ''}\n--- stderr ---\n${r.stderr}\n--- stdout ---\n${r.stdout.slice(0, 2000)}`;
}

/** Asserts a successful run (exit 0) and shows stderr when it was not. */
export function expectOk(r: CliResult): void {
  expect(r.code, describeResult(r)).toBe(0);
}

/**
 * Asserts the error shape: exit code `exit`, and stderr is exactly one
 * `batchinfer: CODE: message` line, or (several problems) that line followed only by
 * `  - ` lines. No stack trace. Nothing on stdout, or with `--json` only the failure report
 * (`expectFailureJson`). Returns stderr for further checks.
 */
export function expectCliError(r: CliResult, exit: number, code: string): string {
  const context = describeResult(r);
  expect(r.signal, context).toBeNull();
  expect(r.code, context).toBe(exit);
  if (r.args.includes('--json')) expectFailureJson(r, exit, code);
  else expect(r.stdout, context).toBe('');
  expect(r.stderr.endsWith('\n'), context).toBe(true);
  const lines = r.stderr.slice(0, -1).split('\n');
  expect(lines[0], context).toMatch(new RegExp(`^batchinfer: ${code}: \\S`));
  for (const line of lines.slice(1)) expect(line, context).toMatch(/^ {2}- \S/);
  if (lines.length > 1) expect(lines[0], context).toMatch(/\d+ problems:$/);
  expect(r.stderr, context).not.toMatch(/^\s+at /m);
  expect(r.stderr, context).not.toMatch(/INTERNAL|This is a bug/);
  return r.stderr;
}

/**
 * A failure under `--json`: stdout is one JSON document, `{ status: 'failed', error }`, whose
 * error has the code, the exit code and the message of stderr's line. Returns the error.
 */
export function expectFailureJson(r: CliResult, exit: number, code: string): { code: string; exitCode: number; message: string; expected?: unknown; actual?: unknown; problems?: { code: string; where?: string; message: string }[] } {
  const context = describeResult(r);
  const report = JSON.parse(r.stdout) as { status: string; error: ReturnType<typeof expectFailureJson> };
  expect(Object.keys(report), context).toEqual(['status', 'error']);
  expect(report.status, context).toBe('failed');
  expect(report.error, context).toMatchObject({ code, exitCode: exit });
  // The same words as the stderr line (which adds expected/actual in parentheses).
  const line = r.stderr.split('\n')[0]!;
  expect(line.startsWith(`batchinfer: ${code}: ${report.error.message.split('\n')[0]}`), context).toBe(true);
  return report.error;
}
