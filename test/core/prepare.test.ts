/**
 * prepareJob's output checks. A directory output is committed by replacing the whole
 * directory, so an output directory holding the input or the model would delete them.
 */
import { copyFile, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareJob } from '../../src/core/prepare.js';
import { Db } from '../../src/db/duckdb.js';
import { BatchinferError } from '../../src/errors.js';
import { parseJobSpec, type JobFile } from '../../src/spec/jobSpec.js';
import { FIXTURES_DIR } from '../helpers/reference.js';
import { describeFile } from '../../src/source/dataset.js';

let db: Db;
let root: string;

beforeAll(async () => {
  db = await Db.open({ threads: 1 });
  root = await mkdtemp(join(tmpdir(), 'batchinfer-prepare-'));
  await mkdir(join(root, 'data'));
  await mkdir(join(root, 'models'));
  await mkdir(join(root, 'existing-out'));
  for (const i of [0, 1]) await copyFile(join(FIXTURES_DIR, 'data', 'parts', `part-${i}.parquet`), join(root, 'data', `part-${i}.parquet`));
  await copyFile(join(FIXTURES_DIR, 'models', 'mlp.onnx'), join(root, 'models', 'mlp.onnx'));
});

afterAll(async () => {
  db?.close();
  await rm(root, { recursive: true, force: true });
});

const features = { inputs: { x: { columns: ['amount', 'f0', 'f1', 'risk score'], fill_null: 0 } } };

function spec(keys: JobFile) {
  return parseJobSpec({ model: 'models/mlp.onnx', input: 'data/', ...features, ...keys }, { baseDir: root, name: 't' });
}

async function problemsOf(keys: JobFile) {
  try {
    await prepareJob(db, spec(keys));
  } catch (err) {
    expect(err).toBeInstanceOf(BatchinferError);
    return (err as BatchinferError).problems.length > 0 ? [...(err as BatchinferError).problems] : [{ code: (err as BatchinferError).code, message: (err as Error).message }];
  }
  throw new Error('expected prepareJob to fail');
}

describe('prepareJob: output against input and model', () => {
  it('accepts a file output and a directory output elsewhere', async () => {
    const file = await prepareJob(db, spec({ output: 'out/scores.parquet' }));
    expect(file.outputMode).toBe('file');
    expect(file.dataset.files).toHaveLength(2);
    expect(file.outputColumns).toEqual(['prediction', 'confidence', 'prob_legit', 'prob_fraud']);
    expect((await prepareJob(db, spec({ output: 'out/' }))).outputMode).toBe('directory');
    expect((await prepareJob(db, spec({ output: 'existing-out' }))).outputMode).toBe('directory');
  });

  it('keeps each input file\'s columns as validation read them (a CSV is not sniffed again to stage it)', async () => {
    const job = await prepareJob(db, spec({ output: 'out/scores.parquet' }));
    for (const file of job.dataset.files) expect(file.columns).toEqual(await describeFile(db, { path: file.path, format: file.format }));
    expect(job.dataset.files[0]!.columns).toEqual(job.dataset.columns);
  });

  it.each([
    ['the input directory, with a trailing /', { input: 'data', output: 'data/' }, /holding input files/],
    ['a directory holding the input files', { output: './' }, /holding input files/],
    ['a directory holding the input file', { input: 'data/part-0.parquet', output: 'data/' }, /holding input files/],
    ['an existing directory (no /) holding the input', { input: 'data/part-1.parquet', output: 'data' }, /holding input files/],
    // Regression: only input files were checked, so the commit would delete the model.
    ['a directory holding the model', { input: 'data/part-0.parquet', output: 'models/' }, /holding the model file/],
    ['an existing directory (no /) holding the model', { input: 'data/part-0.parquet', output: 'models' }, /holding the model file/],
  ])('refuses a directory output that is %s', async (_label, keys, message) => {
    const problems = await problemsOf(keys as JobFile);
    expect(problems).toContainEqual(expect.objectContaining({ code: 'SPEC_INVALID', where: 'output', message: expect.stringMatching(message) }));
    // Nothing was touched.
    expect(await readdir(join(root, 'data'))).toEqual(['part-0.parquet', 'part-1.parquet']);
    expect(await readdir(join(root, 'models'))).toEqual(['mlp.onnx']);
  });

  it('reports the input and the model together when the output directory holds both', async () => {
    const problems = await problemsOf({ output: './' });
    const messages = problems.filter((p) => p.where === 'output').map((p) => p.message);
    expect(messages).toContain('is a directory holding input files; committing the output would replace them');
    expect(messages).toContain('is a directory holding the model file; committing the output would replace it');
  });

  it('refuses a file output that is one of the input files of a glob', async () => {
    const problems = await problemsOf({ input: 'data/*.parquet', output: 'data/part-1.parquet' });
    expect(problems).toContainEqual(expect.objectContaining({ code: 'SPEC_INVALID', where: 'output' }));
  });
});
