/**
 * Seeded fuzzing of the inputs: fixture Parquet and CSV files (the first 300 rows) mutated by
 * truncation, byte flips, garbage, and for CSV line deletions, duplications, swaps, stray
 * quotes and commas. Every run must end within its time limit with either
 *
 * - exit 0 and a valid output (readable, the output columns, rows in = out + rejected, and
 *   under quarantine a readable rejects file holding the rejected rows), or
 * - a documented non-zero exit (65, 66, 73, 78; never 70 INTERNAL) with one
 *   `batchinfer: CODE: message` line (or the multi-problem form), no stack trace, and nothing
 *   at the output path: no output, summary, rejects file, staging directory or lock.
 *
 * The PRNG and seed are fixed, so a failing case is reproducible: its name says which base
 * file and which mutations made it, and KEEP_TEST_OUTPUT=1 keeps the inputs;
 * FUZZ_DUMP=path writes the first stderr line of every failing run there.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { data, model, runCli, type CliResult } from '../helpers/cli.js';
import { mulberry32 as prng } from '../../scripts/fixtures/rng.js';
import { readParquet, withDuckDb } from '../helpers/parquet.js';
import { stagingLeftovers, useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-e2e-fuzz-');

/** Fixed; FUZZ_SEED=n explores other cases (a failure there becomes a regression test with its seed). */
const SEED = Number(process.env['FUZZ_SEED'] ?? 0x5eed_2026);
const CASES_PER_FORMAT = 100;
const CONCURRENCY = 3;
const TIME_LIMIT_MS = 30_000;
/** Exit codes a bad input may end with (docs/errors.md). */
const DOCUMENTED_EXITS: Record<number, string[]> = {
  65: ['BAD_DATA', 'INPUT_INVALID'],
  66: ['INPUT_MISSING'],
  73: ['OUTPUT_UNWRITABLE'],
  78: ['SCHEMA_MISMATCH', 'MODEL_MISMATCH', 'SPEC_INVALID'],
};
const OUTPUT_COLUMNS = ['txn_id', 'prediction', 'confidence', 'prob_legit', 'prob_fraud'];
const POLICIES = ['fail', 'skip', 'quarantine'] as const;

class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = prng(seed);
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  bytes(n: number): Buffer {
    return Buffer.from(Array.from({ length: n }, () => this.int(256)));
  }
}

type Mutation = (b: Buffer, rng: Rng) => { bytes: Buffer; what: string };

const BYTE_MUTATIONS: Mutation[] = [
  (b, rng) => {
    const at = rng.int(b.length);
    return { bytes: b.subarray(0, at), what: `truncate@${at}` };
  },
  (b, rng) => {
    const c = Buffer.from(b);
    const n = 1 + rng.int(8);
    const at: number[] = [];
    for (let i = 0; i < n; i++) {
      const p = rng.int(c.length);
      c[p]! ^= 1 + rng.int(255);
      at.push(p);
    }
    return { bytes: c, what: `flip@${at.join('+')}` };
  },
  (b, rng) => {
    const c = Buffer.from(b);
    const len = 1 + rng.int(64);
    const at = rng.int(Math.max(1, c.length - len));
    rng.bytes(len).copy(c, at);
    return { bytes: c, what: `garbage@${at}x${len}` };
  },
  (b, rng) => {
    const at = rng.int(b.length);
    const len = 1 + rng.int(64);
    return { bytes: Buffer.concat([b.subarray(0, at), rng.bytes(len), b.subarray(at)]), what: `insert@${at}x${len}` };
  },
  (b, rng) => {
    const at = rng.int(b.length);
    const len = 1 + rng.int(256);
    return { bytes: Buffer.concat([b.subarray(0, at), b.subarray(at + len)]), what: `delete@${at}x${len}` };
  },
];

/** Parquet only: the footer (Thrift metadata) and its length word are where readers start. */
const PARQUET_MUTATIONS: Mutation[] = [
  ...BYTE_MUTATIONS,
  (b, rng) => {
    const c = Buffer.from(b);
    const p = c.length - 1 - rng.int(Math.min(1024, c.length));
    c[p]! ^= 1 + rng.int(255);
    return { bytes: c, what: `footer-flip@${p}` };
  },
  (b, rng) => {
    const c = Buffer.from(b);
    const len = 1 + rng.int(32);
    const at = rng.int(c.length - len);
    c.fill(0, at, at + len);
    return { bytes: c, what: `zero@${at}x${len}` };
  },
];

const lines = (b: Buffer): string[] => b.toString('latin1').split('\n');
const joinLines = (ls: string[]): Buffer => Buffer.from(ls.join('\n'), 'latin1');

const CSV_MUTATIONS: Mutation[] = [
  ...BYTE_MUTATIONS,
  (b, rng) => {
    const ls = lines(b);
    const n = 1 + rng.int(5);
    const gone: number[] = [];
    for (let i = 0; i < n && ls.length > 0; i++) {
      const at = rng.int(ls.length);
      ls.splice(at, 1);
      gone.push(at);
    }
    return { bytes: joinLines(ls), what: `delete-lines(${gone.join('+')})` };
  },
  (b, rng) => {
    const ls = lines(b);
    const n = 1 + rng.int(5);
    const at: number[] = [];
    for (let i = 0; i < n; i++) {
      const from = rng.int(ls.length);
      const to = rng.int(ls.length);
      ls.splice(to, 0, ls[from]!);
      at.push(from);
    }
    return { bytes: joinLines(ls), what: `duplicate-lines(${at.join('+')})` };
  },
  (b, rng) => {
    const ls = lines(b);
    const i = rng.int(ls.length);
    const j = rng.int(ls.length);
    [ls[i], ls[j]] = [ls[j]!, ls[i]!];
    return { bytes: joinLines(ls), what: `swap-lines(${i},${j})` };
  },
  (b, rng) => {
    const ls = lines(b);
    const i = rng.int(ls.length);
    const fields = ls[i]!.split(',');
    if (fields.length > 1) fields.splice(rng.int(fields.length), rng.int(2) === 0 ? 1 : 0, ...(rng.int(2) === 0 ? [] : ['extra']));
    ls[i] = fields.join(',');
    return { bytes: joinLines(ls), what: `ragged-line(${i})` };
  },
  (b, rng) => {
    const s = b.toString('latin1');
    const at = rng.int(s.length);
    return { bytes: Buffer.from(s.slice(0, at) + '"' + s.slice(at), 'latin1'), what: `quote@${at}` };
  },
  (b, rng) => {
    const ls = lines(b);
    const i = 1 + rng.int(Math.max(1, ls.length - 1));
    const fields = (ls[i] ?? '').split(',');
    const f = rng.int(fields.length);
    fields[f] = rng.pick(['abc', 'NaN', 'inf', '-inf', '', '1e400', '1e300', '""', '"x,y"', 'électronique', '\u0000', '9'.repeat(40), ' 1.5 ', '0x10']);
    ls[i] = fields.join(',');
    return { bytes: joinLines(ls), what: `field(${i},${f})` };
  },
  (b, rng) => {
    const ls = lines(b);
    const i = rng.int(ls.length + 1);
    ls.splice(i, 0, rng.bytes(1 + rng.int(40)).toString('latin1').replace(/\n/g, ' '));
    return { bytes: joinLines(ls), what: `garbage-line(${i})` };
  },
  (b, rng) => {
    const s = b.toString('latin1');
    const at = rng.int(s.length);
    return { bytes: Buffer.from(s.slice(0, at) + s.slice(at).replace(',', ''), 'latin1'), what: `drop-comma@${at}` };
  },
];

interface FuzzCase {
  name: string;
  format: 'parquet' | 'csv';
  bytes: Buffer;
  policy: (typeof POLICIES)[number];
}

/** The cases: one stream of random choices per format, 1-3 mutations each. */
function makeCases(format: 'parquet' | 'csv', bases: { name: string; bytes: Buffer }[], seed: number): FuzzCase[] {
  const rng = new Rng(seed);
  const mutations = format === 'parquet' ? PARQUET_MUTATIONS : CSV_MUTATIONS;
  return Array.from({ length: CASES_PER_FORMAT }, (_, i) => {
    const base = rng.pick(bases);
    let bytes = base.bytes;
    const whats: string[] = [];
    const n = 1 + (rng.int(4) === 0 ? 1 + rng.int(2) : 0);
    for (let m = 0; m < n && bytes.length > 0; m++) {
      const r = rng.pick(mutations)(bytes, rng);
      bytes = r.bytes;
      whats.push(r.what);
    }
    const policy = POLICIES[i % POLICIES.length]!;
    return { name: `${format} #${i} ${base.name} ${whats.join(' ')} on_error=${policy}`, format, bytes, policy };
  });
}

interface Outcome {
  c: FuzzCase;
  result: CliResult;
  /** What broke the contract; empty when the run was fine. */
  problems: string[];
}

async function duck(sql: string, params: string[]): Promise<void> {
  await withDuckDb((query) => query(sql, params));
}

/** Checks one run against the contract in the header comment. */
async function check(c: FuzzCase, work: string, input: string, output: string, result: CliResult): Promise<string[]> {
  const problems: string[] = [];
  const rejectsPath = `${output}.rejects.parquet`;
  if (result.signal) return [`killed by ${result.signal} after ${Math.round(result.ms)} ms (hang?)`];
  if (result.stderr.match(/^\s+at /m)) problems.push('stack trace on stderr');
  if (result.code === 0) {
    try {
      const summary = JSON.parse(result.stdout);
      const out = await readParquet(output);
      if (JSON.stringify(out.columns.map((col) => col.name)) !== JSON.stringify(OUTPUT_COLUMNS)) problems.push(`output columns ${out.columns.map((col) => col.name).join(',')}`);
      if (out.rows.length !== summary.rows.out) problems.push(`output has ${out.rows.length} rows, summary says ${summary.rows.out}`);
      if (summary.rows.in !== summary.rows.out + summary.rows.rejected) problems.push(`rows in ${summary.rows.in} != out ${summary.rows.out} + rejected ${summary.rows.rejected}`);
      if (c.policy === 'fail' && summary.rows.rejected !== 0) problems.push('on_error fail but rows were rejected');
      if (c.policy === 'quarantine') {
        const rejects = await readParquet(rejectsPath);
        if (rejects.rows.length !== summary.rows.rejected) problems.push(`rejects file has ${rejects.rows.length} rows, summary says ${summary.rows.rejected}`);
      } else if (existsSync(rejectsPath)) {
        problems.push('a rejects file without quarantine');
      }
    } catch (err) {
      problems.push(`exit 0 but the output is not valid: ${(err as Error).message.split('\n')[0]}`);
    }
    return problems;
  }
  const codes = DOCUMENTED_EXITS[result.code ?? -1];
  const lines = result.stderr.replace(/\n$/, '').split('\n');
  const head = /^batchinfer: ([A-Z_]+): \S/.exec(lines[0] ?? '');
  if (!codes) problems.push(`undocumented exit ${result.code}`);
  if (!head) problems.push('stderr does not start with one `batchinfer: CODE: message` line');
  else if (codes && !codes.includes(head[1]!)) problems.push(`error code ${head[1]} with exit ${result.code}`);
  if (lines.slice(1).some((l) => !/^ {2}- \S/.test(l))) problems.push('more than one line on stderr');
  if (result.stdout !== '' && !isFailureJson(result.stdout, head?.[1], result.code)) problems.push('output on stdout other than the --json failure report');
  if (existsSync(output) || existsSync(`${output}.summary.json`) || existsSync(rejectsPath)) problems.push('something at the output path after a failure');
  const left = await stagingLeftovers(output);
  if (left.length > 0) problems.push(`leftovers: ${left.join(', ')}`);
  const files = (await readdir(work)).filter((n) => n !== input.slice(work.length + 1));
  if (files.length > 0) problems.push(`files left in the work dir: ${files.join(', ')}`);
  return problems;
}

async function runCase(c: FuzzCase): Promise<Outcome> {
  const work = await tmp.make();
  const input = join(work, `input.${c.format}`);
  await writeFile(input, c.bytes);
  const output = join(work, 'out.parquet');
  const args = ['run', '--model', model('mlp'), '--input', input, '--output', output, '--features', 'amount,f0,f1,risk score', '--passthrough', 'txn_id', '--labels', 'legit,fraud'];
  args.push('--on-error', c.policy, '--workers', '1', '--threads', '1', '--batch-size', '128', '--checkpoint-rows', '256', '--json', '--quiet');
  const result = await runCli(args, { cwd: work, timeoutMs: TIME_LIMIT_MS });
  return { c, result, problems: await check(c, work, input, output, result) };
}

/** Runs `items` through `fn`, `limit` at a time, keeping their order. */
async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: limit }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  });
  await Promise.all(lanes);
  return results;
}

function report(outcomes: Outcome[]): string[] {
  return outcomes.map((o) => `${o.c.name}: exit ${o.result.code}${o.result.signal ? ` ${o.result.signal}` : ''}: ${o.problems.join('; ')}\n    ${o.result.stderr.split('\n').slice(0, 3).join('\n    ')}`);
}

let outcomes: Outcome[] = [];

describe('fuzzed inputs', () => {
  beforeAll(async () => {
    const started = performance.now();
    const dir = await tmp.make();
    // Bases: the first 300 rows as Parquet (row groups of 100; snappy, zstd and uncompressed,
    // so corrupt pages either fail to decompress or decode to garbage values) and as CSV.
    const parquetBases: { name: string; bytes: Buffer }[] = [];
    for (const codec of ['snappy', 'zstd', 'uncompressed']) {
      const path = join(dir, `base-${codec}.parquet`);
      await duck(`COPY (SELECT * FROM read_parquet($1) LIMIT 300) TO $2 (FORMAT parquet, COMPRESSION ${codec}, ROW_GROUP_SIZE 100)`, [data('transactions.parquet'), path]);
      parquetBases.push({ name: codec, bytes: await readFile(path) });
    }
    const csvText = (await readFile(data('transactions.csv'), 'latin1')).split('\n').slice(0, 301).join('\n') + '\n';
    const csvBases = [
      { name: 'transactions', bytes: Buffer.from(csvText, 'latin1') },
      // CRLF line ends and quoted fields (as quirky.csv has them).
      { name: 'crlf-quoted', bytes: Buffer.from(csvText.replace(/\n/g, '\r\n').replace(/,(grocery|travel|fuel|electronics),/g, ',"$1",'), 'latin1') },
    ];
    const cases = [...makeCases('parquet', parquetBases, SEED), ...makeCases('csv', csvBases, SEED + 1)];
    outcomes = await pool(cases, CONCURRENCY, runCase);
    const seconds = (performance.now() - started) / 1000;
    const ok = outcomes.filter((o) => o.result.code === 0).length;
    const byExit = outcomes.reduce<Record<string, number>>((acc, o) => ((acc[String(o.result.code)] = (acc[String(o.result.code)] ?? 0) + 1), acc), {});
    if (process.env['FUZZ_DUMP']) await writeFile(process.env['FUZZ_DUMP'], outcomes.filter((o) => o.result.code !== 0).map((o) => `${o.c.name} exit ${o.result.code}: ${o.result.stderr.split('\n')[0]}`).join('\n'));
    console.log(`fuzz: ${outcomes.length} cases in ${seconds.toFixed(1)} s; ${ok} exit 0; by exit code ${JSON.stringify(byExit)}`);
  }, 300_000);

  it(`runs at least 200 cases, half of each format`, () => {
    expect(outcomes.length).toBeGreaterThanOrEqual(200);
    expect(outcomes.filter((o) => o.c.format === 'csv').length).toBe(CASES_PER_FORMAT);
  });

  it('every case ends in time with exit 0 and a valid output, or a documented code, one line and nothing written', () => {
    const bad = outcomes.filter((o) => o.problems.length > 0);
    expect(report(bad)).toEqual([]);
  });

  it('mutations reach both outcomes (the fuzz is not all-fail or all-pass)', () => {
    for (const format of ['parquet', 'csv']) {
      const mine = outcomes.filter((o) => o.c.format === format);
      expect(mine.some((o) => o.result.code === 0)).toBe(true);
      expect(mine.some((o) => o.result.code !== 0)).toBe(true);
    }
  });
});

/** The `--json` failure report of this code and exit code (the only stdout a failed run may print). */
function isFailureJson(stdout: string, code: string | undefined, exit: number | null): boolean {
  try {
    const report = JSON.parse(stdout) as { status?: string; error?: { code?: string; exitCode?: number } };
    return report.status === 'failed' && report.error?.code === code && report.error?.exitCode === exit;
  } catch {
    return false;
  }
}
