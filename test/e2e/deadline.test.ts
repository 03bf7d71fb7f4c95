/**
 * The shutdown deadline is real: a run that has not stopped 4.5 s after SIGTERM says so and
 * is gone, without its lock, even when a libuv threadpool thread is stuck in a system call;
 * so is a second signal.
 * Such a thread used to keep the process alive after "exiting now" (process.exit joins the
 * threadpool), as a model path that was a FIFO did until something wrote to it.
 *
 * The stuck thread comes from the `stall` failpoint: an open() of a FIFO no one writes,
 * started after the first part is written. The run then pauses after journaling that part,
 * the test sends SIGTERM, and the run stops taking batches; the stuck open keeps the event
 * loop alive, so only the deadline (or a second signal) can end the process.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { data, describeResult, model, startCli, type StartedCli } from '../helpers/cli.js';
import { useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-e2e-deadline-');

const beside = (output: string, suffix: string): string => join(dirname(output), `.${basename(output)}${suffix}`);

async function journalHasPart(output: string): Promise<boolean> {
  try {
    return (await readFile(join(beside(output, '.staging'), 'journal.jsonl'), 'utf8')).includes('"type":"part"');
  } catch {
    return false;
  }
}

/** A run of the MLP over the fixture in 6 parts that, after its first part, has a thread stuck in open() and pauses 1.5 s. */
async function startStuckRun(): Promise<{ run: StartedCli; output: string }> {
  const dir = await tmp.make();
  const fifo = join(dir, 'stuck.fifo');
  execFileSync('mkfifo', [fifo]);
  const output = join(dir, 'scores.parquet');
  const args = ['run', '--model', model('mlp'), '--input', data('transactions.parquet'), '--output', output, '--features', 'amount,f0,f1,risk score', '--fill-null', '0'];
  const run = startCli([...args, '--checkpoint-rows', '500', '--batch-size', '100', '--quiet'], {
    cwd: dir,
    timeoutMs: 25_000,
    env: { ...process.env, BATCHINFER_FAILPOINT: `part-written:1:stall=${fifo},part-journaled:1:pause=1500` },
  });
  await waitFor('a journaled part', run, () => journalHasPart(output));
  return { run, output };
}

async function waitFor(what: string, run: StartedCli, check: () => boolean | Promise<boolean>): Promise<void> {
  for (let waited = 0; !(await check()); waited += 50) {
    if (waited > 20_000 || run.child.exitCode !== null || run.child.signalCode !== null) throw new Error(`${what} did not happen\n${describeResult(await run.result)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.concurrent('ending a run whose process cannot exit normally', { timeout: 60_000 }, () => {
  it('SIGTERM with a threadpool thread stuck in open(): "exiting now" at the 4.5 s deadline, and the process is gone, lock removed', async () => {
    const { run, output } = await startStuckRun();
    const sent = performance.now();
    run.child.kill('SIGTERM');
    const r = await run.result;
    const exitedAfter = performance.now() - sent;
    // SIGTERM is handled once the 1.5 s pause ends; the deadline is 4.5 s after that.
    expect(r.stderr, describeResult(r)).toContain('batchinfer: INTERRUPTED: interrupted by SIGTERM');
    expect(r.stderr, describeResult(r)).toContain('batchinfer: INTERRUPTED: did not stop within 4.5 s of SIGTERM; exiting now\n');
    expect(exitedAfter, describeResult(r)).toBeLessThan(9_000);
    // Ended by SIGTERM itself, which shells report as 143 (see signals.ts).
    expect(r.signal, describeResult(r)).toBe('SIGTERM');
    expect(existsSync(beside(output, '.lock'))).toBe(false);
    expect(existsSync(output)).toBe(false);
  });

  it('a second signal before the run has stopped ends it at once, by that signal, lock removed', async () => {
    const { run, output } = await startStuckRun();
    // Both arrive during the pause and are handled one after the other when it ends (Linux
    // delivers the lower-numbered SIGINT first): the second finds the run still unwinding,
    // with the stuck open pending.
    const sent = performance.now();
    run.child.kill('SIGTERM');
    run.child.kill('SIGINT');
    const r = await run.result;
    expect(performance.now() - sent, describeResult(r)).toBeLessThan(4_000);
    expect(r.stderr, describeResult(r)).not.toContain('did not stop within');
    expect(['SIGTERM', 'SIGINT'], describeResult(r)).toContain(r.signal);
    expect(existsSync(beside(output, '.lock'))).toBe(false);
    expect(existsSync(output)).toBe(false);
  });
});
