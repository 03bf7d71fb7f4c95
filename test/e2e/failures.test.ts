/**
 * Failing runs: the right exit code, one `batchinfer: CODE: message` line on stderr (or the
 * multi-problem form) naming what is wrong, no stack trace, and nothing at the output path:
 * no output, no summary, no staging leftovers. A file already at the output path survives
 * a failed run byte for byte.
 */
import { existsSync, statSync } from 'node:fs';
import { readFile, readdir, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { data, expectCliError, expectFailureJson, expectOk, model, runCli, REPO_ROOT } from '../helpers/cli.js';
import { readParquet } from '../helpers/parquet.js';
import { stagingLeftovers, useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-e2e-failures-');
const TRANSACTIONS = data('transactions.parquet');
const FEATURES = 'f0,f1,f2,risk score';

/** Job keys for the MLP on the transactions fixture; cases override what they break. */
const mlpJob = (output: string, overrides: Record<string, unknown> = {}) => ({
  model: model('mlp'),
  input: TRANSACTIONS,
  output,
  passthrough: ['txn_id'],
  labels: ['legit', 'fraud'],
  inputs: { x: { columns: ['amount', 'f0', 'f1', 'risk score'], fill_null: 0 } },
  ...overrides,
});

async function writeJob(dir: string, job: unknown, name = 'job.yaml'): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof job === 'string' ? job : YAML.stringify(job));
  return path;
}

/** mixed.onnx with a `vocab` of four names for its 3-row embedding table: index 3 fails in onnxruntime. */
function longVocabJob(output: string, vocab: string[]): Record<string, unknown> {
  return {
    model: model('mixed'),
    input: TRANSACTIONS,
    output,
    labels: ['legit', 'fraud'],
    inputs: { x: { columns: ['amount', 'f0', 'f1'], fill_null: 0 }, merchant: { column: 'merchant_category', vocab } },
  };
}

interface FailureCase {
  name: string;
  exit: number;
  code: string;
  /** CLI arguments; `output` is where the run would write. */
  args(dir: string, output: string): Promise<string[]> | string[];
  /** Substrings stderr must contain (names and values involved). */
  mentions: (string | RegExp)[];
}

const oneOff = (output: string, ...extra: string[]) => ['run', '--model', model('logreg'), '--input', TRANSACTIONS, '--output', output, '--quiet', ...extra];

const CASES: FailureCase[] = [
  {
    name: 'model file missing',
    exit: 66,
    code: 'MODEL_MISSING',
    args: (dir, output) => ['run', '--model', join(dir, 'nope.onnx'), '--input', TRANSACTIONS, '--output', output, '--features', FEATURES],
    mentions: ['nope.onnx'],
  },
  {
    name: 'input missing',
    exit: 66,
    code: 'INPUT_MISSING',
    args: (dir, output) => ['run', '--model', model('logreg'), '--input', join(dir, 'nope.parquet'), '--output', output, '--features', FEATURES],
    mentions: ['nope.parquet', 'does not exist'],
  },
  {
    name: 'a feature column not in the dataset',
    exit: 78,
    code: 'SCHEMA_MISMATCH',
    args: (_dir, output) => oneOff(output, '--features', 'f0,f1,f2,no_such_column'),
    mentions: ["column 'no_such_column' is not in the dataset"],
  },
  {
    name: 'three features for a model taking four',
    exit: 78,
    code: 'MODEL_MISMATCH',
    args: (_dir, output) => oneOff(output, '--features', 'f0,f1,f2'),
    mentions: ["model input 'x'", 'expected 4, got 3'],
  },
  {
    name: 'a string column fed to a float input',
    exit: 78,
    code: 'SCHEMA_MISMATCH',
    args: (_dir, output) => oneOff(output, '--features', 'f0,f1,f2,merchant_category'),
    mentions: ['merchant_category', 'float32', 'VARCHAR'],
  },
  {
    name: 'an unknown key in the job file',
    exit: 78,
    code: 'SPEC_INVALID',
    args: async (dir, output) => {
      const job = mlpJob(output, { inputs: { x: { columns: ['amount', 'f0', 'f1', 'risk score'], fill_nul: 0 } } });
      return ['run', await writeJob(dir, job)];
    },
    mentions: ['inputs.x.fill_nul', 'unknown key'],
  },
  {
    name: 'a model file that is not ONNX',
    exit: 78,
    code: 'MODEL_INVALID',
    args: (_dir, output) => ['run', '--model', join(REPO_ROOT, 'fixtures', 'README.md'), '--input', TRANSACTIONS, '--output', output, '--features', FEATURES],
    mentions: ['README.md', 'not a valid ONNX model'],
  },
  {
    name: 'a NULL with fill_null: error',
    exit: 65,
    code: 'BAD_DATA',
    args: async (dir, output) => ['run', await writeJob(dir, mlpJob(output, { inputs: { x: { columns: ['amount', 'f0', 'f1', 'risk score'], fill_null: 'error' } } }))],
    // The first NULL amount is t00004, the 5th row of the file.
    mentions: ['transactions.parquet row 5', 'NULL in column amount', 'fill_null is error', 'NULL_VALUE'],
  },
  {
    name: 'an unknown category with unknown: error',
    exit: 65,
    code: 'BAD_DATA',
    args: async (dir, output) =>
      [
        'run',
        await writeJob(dir, {
          model: model('mixed'),
          input: data('transactions.csv'),
          output,
          labels: ['legit', 'fraud'],
          inputs: {
            x: { columns: ['amount', 'f0', 'f1'], fill_null: 0 },
            merchant: { column: 'merchant_category', vocab: ['grocery', 'travel', 'fuel'], unknown: 'error' },
          },
        }),
      ],
    // The first `electronics` row is t00019, the 20th row.
    mentions: ['transactions.csv row 20', 'column merchant_category', "'electronics'", 'UNKNOWN_CATEGORY'],
  },
  {
    name: 'three labels for a two-class model',
    exit: 78,
    code: 'MODEL_MISMATCH',
    args: async (dir, output) => ['run', await writeJob(dir, mlpJob(output, { labels: ['a', 'b', 'c'] }))],
    mentions: ['labels', '2 classes', 'expected 2, got 3'],
  },
  {
    name: '`run` with neither a job nor flags',
    exit: 2,
    code: 'USAGE',
    args: () => ['run'],
    mentions: ['--model', '--input', '--output'],
  },
  {
    name: 'an unknown flag',
    exit: 2,
    code: 'USAGE',
    args: (_dir, output) => [...oneOff(output, '--features', FEATURES), '--no-such-flag'],
    mentions: ['--no-such-flag'],
  },
  {
    name: 'an unknown command',
    exit: 2,
    code: 'USAGE',
    args: () => ['score'],
    mentions: ["unknown command 'score'"],
  },
  {
    name: 'a job file that does not exist',
    exit: 66,
    code: 'SPEC_MISSING',
    args: (dir) => ['run', join(dir, 'missing-job.yaml')],
    mentions: ['missing-job.yaml', 'does not exist'],
  },
  {
    name: 'a job file that is not valid YAML',
    exit: 78,
    code: 'SPEC_INVALID',
    args: async (dir, output) => ['run', await writeJob(dir, `model: [unclosed\n  output: ${output}\n: :\n`, 'broken.yaml')],
    mentions: ['broken.yaml', 'not valid YAML'],
  },
  {
    name: 'an output whose parent is a regular file',
    exit: 73,
    code: 'OUTPUT_UNWRITABLE',
    args: async (dir) => {
      await writeFile(join(dir, 'plain-file'), 'not a directory\n');
      return oneOff(join(dir, 'plain-file', 'sub', 'out.parquet'), '--features', FEATURES);
    },
    mentions: ['plain-file', 'cannot create output'],
  },
  {
    name: '--batch-size that is not a number',
    exit: 2,
    code: 'USAGE',
    args: (_dir, output) => oneOff(output, '--features', FEATURES, '--batch-size', 'abc'),
    mentions: ['--batch-size', 'abc'],
  },
  {
    // onnxruntime fails inside session.run; its native logger must not add its own (coloured) line.
    name: 'a vocabulary longer than the model embedding table (onnxruntime fails mid-run)',
    exit: 70,
    code: 'INFERENCE_FAILED',
    args: async (dir, output) => ['run', await writeJob(dir, longVocabJob(output, ['grocery', 'travel', 'fuel', 'electronics']))],
    mentions: ['onnxruntime failed', 'Gather', 'idx=3'],
  },
  {
    // Regression: a batch failing while the reader still ran (its promise not yet awaited)
    // ended the process with an unhandled rejection (exit 1, a stack trace) instead of 70.
    name: 'onnxruntime failing on many small batches in flight at once',
    exit: 70,
    code: 'INFERENCE_FAILED',
    args: async (dir, output) => ['run', await writeJob(dir, { ...longVocabJob(output, ['electronics', 'grocery', 'travel', 'fuel']), batch_size: 16 })],
    mentions: ['onnxruntime failed', 'Gather'],
  },
  {
    name: 'labels equal but for case (their prob_ columns would collide)',
    exit: 78,
    code: 'SPEC_INVALID',
    args: (_dir, output) => oneOff(output, '--features', FEATURES, '--labels', 'Yes,yes'),
    mentions: ["'prob_yes' collides with 'prob_Yes'"],
  },
  {
    name: 'a path with glob characters that exists is read literally; a missing one is a glob that matches nothing',
    exit: 66,
    code: 'INPUT_MISSING',
    args: (dir, output) => ['run', '--model', model('logreg'), '--input', join(dir, 'run[1].parquet'), '--output', output, '--features', FEATURES],
    mentions: ['run[1].parquet', 'matches no Parquet or CSV file'],
  },
  {
    name: 'a batch size of 0 in the job file',
    exit: 78,
    code: 'SPEC_INVALID',
    args: async (dir, output) => ['run', await writeJob(dir, mlpJob(output, { batch_size: 0 }))],
    mentions: ['batch_size'],
  },
];

describe.concurrent('failing runs', { timeout: 60_000 }, () => {
  it.each(CASES)('$name: exit $exit, $code', async (c) => {
    const dir = await tmp.make();
    const output = join(dir, 'out.parquet');
    const result = await runCli(await c.args(dir, output), { cwd: dir, timeoutMs: 30_000 });
    const stderr = expectCliError(result, c.exit, c.code);
    for (const m of c.mentions) {
      if (typeof m === 'string') expect(stderr).toContain(m);
      else expect(stderr).toMatch(m);
    }
    // Nothing at the output path, no summary, no staging directory or temp file beside it.
    expect(existsSync(output)).toBe(false);
    expect(existsSync(`${output}.summary.json`)).toBe(false);
    expect(await stagingLeftovers(output)).toEqual([]);
    const left = (await readdir(dir)).filter((n) => n.startsWith('.') || n.endsWith('.parquet') || n.endsWith('.json'));
    expect(left).toEqual([]);
    if (c.code === 'OUTPUT_UNWRITABLE') {
      expect(statSync(join(dir, 'plain-file')).isFile()).toBe(true);
      expect(await readFile(join(dir, 'plain-file'), 'utf8')).toBe('not a directory\n');
    }
  });
});

describe.concurrent('--json reports a failure as JSON on stdout too', { timeout: 60_000 }, () => {
  it('validation problems: each with its code, key path, expected and actual; stderr keeps its lines', async () => {
    const dir = await tmp.make();
    const output = join(dir, 'out.parquet');
    for (const command of ['run', 'validate']) {
      const r = await runCli([command, '--model', model('mlp'), '--input', TRANSACTIONS, '--output', output, '--features', 'f0,nope', '--passthrough', 'gone', '--json'], { cwd: dir });
      expectCliError(r, 78, 'MODEL_MISMATCH');
      const error = expectFailureJson(r, 78, 'MODEL_MISMATCH');
      expect(error.problems).toEqual([
        { code: 'MODEL_MISMATCH', where: 'features', message: "model input 'x' takes 4 features per row [N,4]", expected: 4, actual: 2 },
        { code: 'SCHEMA_MISMATCH', where: 'features', message: "column 'nope' is not in the dataset", expected: expect.any(Array), actual: 'nope' },
        { code: 'SCHEMA_MISMATCH', where: 'passthrough', message: "column 'gone' is not in the dataset", expected: expect.any(Array), actual: 'gone' },
      ]);
      expect(existsSync(output)).toBe(false);
      expect(await readdir(dir)).toEqual([]);
    }
  });

  it('a bad row, a missing input (run and inspect), and a usage error', async () => {
    const dir = await tmp.make();
    const output = join(dir, 'out.parquet');
    const bad = await runCli(['run', '--model', model('mlp'), '--input', TRANSACTIONS, '--output', output, '--features', 'amount,f0,f1,risk score', '--json'], { cwd: dir });
    expectCliError(bad, 65, 'BAD_DATA');
    expect(expectFailureJson(bad, 65, 'BAD_DATA')).toMatchObject({ message: expect.stringMatching(/row 5: NULL in column amount/), actual: 'NULL_VALUE' });
    const missing = await runCli(['run', '--model', model('mlp'), '--input', join(dir, 'nope.parquet'), '--output', output, '--features', FEATURES, '--json'], { cwd: dir });
    expect(expectFailureJson(missing, 66, 'INPUT_MISSING').message).toContain('does not exist');
    const inspect = await runCli(['inspect', join(dir, 'nope.parquet'), '--json']);
    expect(expectFailureJson(inspect, 66, 'INPUT_MISSING').expected).toBe('a file, glob or directory');
    const usage = await runCli(['run', '--bogus', '--json']);
    expect(usage.code).toBe(2);
    expect(JSON.parse(usage.stdout)).toEqual({ status: 'failed', error: { code: 'USAGE', exitCode: 2, message: "unknown option '--bogus'" } });
    // Without --json, stdout stays empty.
    const plain = await runCli(['run', '--model', model('mlp'), '--input', join(dir, 'nope.parquet'), '--output', output, '--features', FEATURES], { cwd: dir });
    expectCliError(plain, 66, 'INPUT_MISSING');
    expect(plain.stdout).toBe('');
    expect(await readdir(dir)).toEqual([]);
  });
});

describe.concurrent('a failed run leaves the previous output alone', { timeout: 60_000 }, () => {
  const failingJob = (output: string) => mlpJob(output, { inputs: { x: { columns: ['amount', 'f0', 'f1', 'risk score'], fill_null: 'error' } } });

  it('an existing output file and its summary keep their bytes when scoring fails', async () => {
    const dir = await tmp.make();
    const output = join(dir, 'scores.parquet');
    const sentinel = Buffer.from('previous output: not to be touched\n');
    await writeFile(output, sentinel);
    await writeFile(`${output}.summary.json`, '{"previous":true}\n');
    const result = await runCli(['run', await writeJob(dir, failingJob(output))]);
    expectCliError(result, 65, 'BAD_DATA');
    expect(await readFile(output)).toEqual(sentinel);
    expect(await readFile(`${output}.summary.json`, 'utf8')).toBe('{"previous":true}\n');
    expect(await stagingLeftovers(output)).toEqual([]);
    expect((await readdir(dir)).sort()).toEqual(['job.yaml', 'scores.parquet', 'scores.parquet.summary.json']);
  });

  it('an existing output directory keeps its files when scoring fails', async () => {
    const dir = await tmp.make();
    const output = join(dir, 'scores') + '/';
    // A previous batchinfer output: its summary beside it says batchinfer may replace it.
    await mkdir(output);
    await writeFile(join(output, 'transactions.parquet'), 'old part\n');
    await writeFile(join(dir, 'scores.summary.json'), '{}\n');
    const result = await runCli(['run', await writeJob(dir, failingJob(output))]);
    expectCliError(result, 65, 'BAD_DATA');
    expect(await readdir(output)).toEqual(['transactions.parquet']);
    expect(await readFile(join(output, 'transactions.parquet'), 'utf8')).toBe('old part\n');
    expect(await readFile(join(dir, 'scores.summary.json'), 'utf8')).toBe('{}\n');
    expect(await stagingLeftovers(output)).toEqual([]);
    expect((await readdir(dir)).sort()).toEqual(['job.yaml', 'scores', 'scores.summary.json']);
  });

  it('refuses to replace an existing directory batchinfer did not write', async () => {
    const dir = await tmp.make();
    const output = join(dir, 'photos') + '/';
    await mkdir(output);
    await writeFile(join(output, 'holiday.jpg'), 'not ours\n');
    const result = await runCli(['run', await writeJob(dir, mlpJob(output))]);
    expectCliError(result, 73, 'OUTPUT_UNWRITABLE');
    expect(result.stderr).toContain('holds files batchinfer did not write');
    expect(await readdir(output)).toEqual(['holiday.jpg']);
    expect(await stagingLeftovers(output)).toEqual([]);
  });

  it('a failed run removes the parent directories it created for the output', async () => {
    const dir = await tmp.make();
    const result = await runCli(['run', await writeJob(dir, failingJob(join(dir, 'new', 'deeper', 'scores.parquet')))]);
    expectCliError(result, 65, 'BAD_DATA');
    expect((await readdir(dir)).sort()).toEqual(['job.yaml']);
  });

  it('by contrast, a successful run replaces an existing output file', async () => {
    const dir = await tmp.make();
    const output = join(dir, 'scores.parquet');
    await writeFile(output, 'previous output\n');
    expectOk(await runCli(['run', await writeJob(dir, mlpJob(output)), '--quiet']));
    const out = await readParquet(output);
    expect(out.rows).toHaveLength(3000);
    expect(await stagingLeftovers(output)).toEqual([]);
    expect((await readdir(dir)).sort()).toEqual(['job.yaml', 'scores.parquet', 'scores.parquet.summary.json']);
  });
});

describe.concurrent('an output that would replace the input is refused', { timeout: 60_000 }, () => {
  const PART_NAMES = ['part-0.parquet', 'part-1.parquet', 'part-2.parquet'];

  /** A private copy of fixtures/data/parts in a temp dir (the run must not touch it). */
  async function copyParts(): Promise<{ dir: string; parts: string }> {
    const dir = await tmp.make();
    const parts = join(dir, 'parts');
    await mkdir(parts);
    for (const name of PART_NAMES) await writeFile(join(parts, name), await readFile(data(join('parts', name))));
    return { dir, parts };
  }

  async function expectPartsIntact(parts: string): Promise<void> {
    expect((await readdir(parts)).sort()).toEqual(PART_NAMES);
    for (const name of PART_NAMES) expect((await readFile(join(parts, name))).equals(await readFile(data(join('parts', name))))).toBe(true);
  }

  it.each([
    ['the input directory given without, the output with a trailing slash', (parts: string) => ({ input: parts, output: `${parts}/` })],
    ['a glob input inside the output directory', (parts: string) => ({ input: join(parts, '*.parquet'), output: parts })],
    ['a file output that is one of the glob input files', (parts: string) => ({ input: join(parts, '*.parquet'), output: join(parts, 'part-1.parquet') })],
  ])('%s: exit 78 and the input files are untouched', async (_name, paths) => {
    const { dir, parts } = await copyParts();
    const { input, output } = paths(parts);
    const result = await runCli(['run', '--model', model('mlp'), '--input', input, '--output', output, '--features', FEATURES, '--quiet'], { cwd: dir });
    const stderr = expectCliError(result, 78, 'SPEC_INVALID');
    expect(stderr).toContain('output');
    expect(stderr).toContain(parts);
    await expectPartsIntact(parts);
    expect(await stagingLeftovers(output)).toEqual([]);
    expect((await readdir(dir)).sort()).toEqual(['parts']);
  });
});
