/**
 * A full disk. The output lives on a small tmpfs (TMPDIR elsewhere)
 * filled to several levels: every failure is OUTPUT_UNWRITABLE (73) naming a path, leaves no
 * lock and nothing at the output path, and the exit code always agrees with the disk (0 if
 * and only if the output and its summary are there). A commit that ran out of space keeps its
 * journal: the next run commits without scoring again. Mounting needs root, as CI has.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statfsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOBS_DIR, data, describeResult, expectCliError, expectOk, model, runCli, startCli, type CliResult } from '../helpers/cli.js';
import { readParquet } from '../helpers/parquet.js';
import { stagingLeftovers, useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-e2e-disk-');
const TRANSACTIONS = data('transactions.parquet');
const ROWS = 3000;
const PAGE = 4096;

/** The logistic regression on the transactions fixture, by default in parts of 500 rows so the commit merges them. */
const args = (output: string, partRows = 500): string[] => ['run', '--model', model('logreg'), '--input', TRANSACTIONS, '--output', output, '--features', 'f0,f1,f2,risk score', '--passthrough', 'txn_id', '--checkpoint-rows', String(partRows), '--quiet', '--json'];

/** A single output file merged from parts, and an output directory whose one file is a lone part (linked into it). */
const SHAPES = [
  { shape: 'a file merged from 6 parts', name: 'o.parquet', trailing: '', partRows: 500 },
  { shape: 'a directory of one lone part', name: 'o', trailing: '/', partRows: 5000 },
];

const isRoot = process.getuid?.() === 0;
// CI runs as root: there the tests must run (and fail loudly if they cannot mount).
const skipReason = !isRoot && process.env['CI'] !== 'true' ? 'mounting a tmpfs needs root' : null;

describe.skipIf(skipReason !== null)('a full disk (small tmpfs at several fill levels)', { timeout: 120_000 }, () => {
  let mount = '';
  let scratch = '';
  let reference: Awaited<ReturnType<typeof readParquet>>;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'batchinfer-e2e-tmpfs-'));
    mount = join(scratch, 'mnt');
    await mkdir(mount);
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1M', 'tmpfs', mount], { encoding: 'utf8' });
    if (mounted.status !== 0) throw new Error(`cannot mount a tmpfs at ${mount}: ${mounted.stderr}`);
    const clean = join(await tmp.make(), 'o.parquet');
    expectOk(await runCli(args(clean)));
    reference = await readParquet(clean);
  });

  afterAll(async () => {
    if (mount) spawnSync('umount', [mount]);
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  let name = 'o.parquet';
  const output = (): string => join(mount, name);
  const free = (): number => Number(statfsSync(mount).bavail) * Number(statfsSync(mount).bsize);
  /** TMPDIR on the real disk: only the output's directory is full. */
  const env = (): NodeJS.ProcessEnv => ({ TMPDIR: scratch });

  async function empty(): Promise<void> {
    for (const name of await readdir(mount)) await rm(join(mount, name), { recursive: true, force: true });
  }

  /** Empties the tmpfs, then fills it until `bytes` are free. */
  async function leaveFree(bytes: number): Promise<void> {
    await empty();
    await writeFile(join(mount, 'filler'), Buffer.alloc(free() - bytes));
    expect(free()).toBe(bytes);
  }

  /**
   * What a run left agrees with its exit code: 0 with the output and its summary in place, or
   * 73 naming a path on the full disk with nothing at the output path. Never a lock. Returns
   * whether the run kept its staging directory for the next run to commit.
   */
  async function expectDiskAgrees(r: CliResult): Promise<boolean> {
    const context = describeResult(r);
    const beside = (await readdir(mount)).sort();
    expect(beside, context).not.toContain(`.${name}.lock`);
    if (r.code === 0) {
      expect(beside, context).toEqual(['filler', name, `${name}.summary.json`]);
      expect(JSON.parse(await readFile(`${output()}.summary.json`, 'utf8'))).toMatchObject({ status: 'ok', rows: { in: ROWS, out: ROWS } });
      expect((await readParquet(output())).rows).toEqual(reference.rows);
      return false;
    }
    const message = expectCliError(r, 73, 'OUTPUT_UNWRITABLE');
    expect(message, context).toContain(`cannot write ${mount}/`);
    expect(message, context).toContain('no space left on the device (ENOSPC)');
    expect(existsSync(output()), context).toBe(false);
    expect(existsSync(`${output()}.summary.json`), context).toBe(false);
    const kept = message.includes('the scored parts are kept in');
    expect(beside, context).toEqual(kept ? [`.${name}.staging`, 'filler'] : ['filler']);
    return kept;
  }

  it('0 bytes free: the lock cannot be written, 73 naming it, and no empty lock is left to block the next run', async () => {
    name = 'o.parquet';
    await leaveFree(0);
    const r = await runCli(args(output()), { env: env() });
    expect(await expectDiskAgrees(r)).toBe(false);
    expect(r.stderr).toContain(`cannot write ${mount}/.o.parquet.lock:`);
  });

  it('4 KiB free: the lock fits, the journal does not; 73 naming the journal, the lock released', async () => {
    name = 'o.parquet';
    await leaveFree(PAGE);
    const r = await runCli(args(output()), { env: env() });
    expect(await expectDiskAgrees(r)).toBe(false);
    expect(r.stderr).toContain(`cannot write ${mount}/.o.parquet.staging/journal.jsonl:`);
  });

  it.each(SHAPES)('$shape, around the space the run needs: the exit code agrees with the disk; a commit out of space resumes without scoring', async ({ name: target, trailing, partRows }) => {
    name = target;
    const run = (extra: NodeJS.ProcessEnv = {}) => runCli(args(output() + trailing, partRows), { env: { ...env(), ...extra } });
    // What the run holds at its commit's rename is the most it needs at once.
    await empty();
    const before = free();
    const paused = startCli(args(output() + trailing, partRows), { env: { ...env(), BATCHINFER_FAILPOINT: 'commit-renamed:1:pause=3000' } });
    let exited = false;
    void paused.result.then(() => (exited = true));
    while (!existsSync(output()) && !exited) await new Promise((resolve) => setTimeout(resolve, 10));
    const needed = before - free();
    expectOk(await paused.result);

    const outcomes: string[] = [];
    for (const level of [needed - 2 * PAGE, needed - PAGE, needed, needed + PAGE]) {
      await leaveFree(level);
      const r = await run();
      const kept = await expectDiskAgrees(r);
      outcomes.push(`${level}: ${r.code}${kept ? ' kept' : ''}`);
      if (!kept) continue;
      // Room again: the next run finds every part journaled and only commits.
      await rm(join(mount, 'filler'));
      const again = await run();
      expectOk(again);
      expect(JSON.parse(again.stdout)).toMatchObject({ resumedRows: ROWS, rows: { in: ROWS, out: ROWS } });
      expect((await readParquet(output())).rows).toEqual(reference.rows);
      expect((await readdir(mount)).sort()).toEqual([name, `${name}.summary.json`]);
    }
    // One page short of what the run needs fails its commit (the staged summary's page); what
    // it needs is enough. Two pages short fails the merge, or the scoring when nothing is merged.
    expect(outcomes.slice(1), outcomes.join('\n')).toEqual([`${needed - PAGE}: 73 kept`, `${needed}: 0`, `${needed + PAGE}: 0`]);
  });

  it('a rejects file on a full disk: 73 naming it, nothing committed, and the next run commits without scoring again', async () => {
    name = 'o.parquet';
    await leaveFree(0);
    const output = join(await tmp.make(), 'o.parquet');
    const rejects = join(mount, 'rejects.parquet');
    // `amount` has nulls: those rows are quarantined.
    const quarantine = [...args(output).map((a) => (a === 'f0,f1,f2,risk score' ? 'amount,f0,f1,risk score' : a)), '--fill-null', 'error', '--on-error', 'quarantine', '--rejects', rejects];
    const r = await runCli(quarantine, { env: env() });
    const message = expectCliError(r, 73, 'OUTPUT_UNWRITABLE');
    expect(message).toMatch(new RegExp(`cannot write ${mount}/\\.?rejects\\.parquet(\\.tmp)?: no space left on the device \\(ENOSPC\\)`));
    expect(message).toContain('the scored parts are kept in');
    expect(existsSync(output)).toBe(false);
    expect(await readdir(mount)).toEqual(['filler']);
    await rm(join(mount, 'filler'));
    const again = await runCli(quarantine, { env: env() });
    expectOk(again);
    const summary = JSON.parse(again.stdout) as { resumedRows: number; rows: { rejected: number } };
    expect(summary.rows.rejected).toBeGreaterThan(0);
    expect((await readParquet(rejects)).rows).toHaveLength(summary.rows.rejected);
    expect(summary.resumedRows).toBe(ROWS);
    expect(existsSync(rejects)).toBe(true);
    expect(await stagingLeftovers(output)).toEqual([]);
  });
});

describe('after the commit', { timeout: 120_000 }, () => {
  it('a summary that cannot be written beside a committed output: exit 0, the output in place, a warning on stderr', async () => {
    const dir = await tmp.make();
    const output = join(dir, 'o.parquet');
    // A directory in the summary's place: the rename of the summary there fails.
    await mkdir(`${output}.summary.json`);
    await writeFile(join(`${output}.summary.json`, 'keep'), 'x\n');
    const r = await runCli(args(output));
    expectOk(r);
    expect(r.stderr).toMatch(/^batchinfer: warning: the output is committed, but its summary could not be written: .*o\.parquet\.summary\.json/m);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'ok', summaryError: expect.stringContaining('could not be written') });
    expect((await readParquet(output)).rows).toHaveLength(ROWS);
    expect(await stagingLeftovers(output)).toEqual([]);
  });

  it("a window's summary cannot fail after its commit: it is inside the window, committed in the same rename", async () => {
    const dir = await tmp.make();
    const job = YAML.parse(await readFile(join(JOBS_DIR, 'transactions-hourly.yaml'), 'utf8')) as Record<string, unknown>;
    const jobPath = join(dir, 'hourly.yaml');
    await writeFile(jobPath, YAML.stringify({ ...job, model: model('mlp'), input: TRANSACTIONS, output: join(dir, 'out/hour={hour}/') }));
    const r = await runCli(['backfill', jobPath, '--from', '2026-11-29T00:00:00Z', '--to', '2026-11-29T02:00:00Z']);
    expectOk(r);
    expect(r.stderr).not.toContain('warning');
    for (const hour of ['00', '01']) expect(JSON.parse(await readFile(join(dir, 'out', `hour=${hour}`, '_summary.json'), 'utf8'))).toMatchObject({ status: 'ok' });
    expect((await readdir(join(dir, 'out'))).filter((n) => !n.startsWith('.')).sort()).toEqual(['hour=00', 'hour=01']);
  });
});
