import { totalmem } from 'node:os';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BatchinferError, type Problem } from '../../src/errors.js';
import { DEFAULT_BATCH_SIZE, parseJobSpec } from '../../src/spec/jobSpec.js';

const BASE = resolve('/jobs/team');
const options = { baseDir: BASE, name: 'from-file' };
const minimal = { model: 'm.onnx', input: 'data/in.parquet', output: 'out.parquet' };

/** The problems parseJobSpec reports, or fails the test when it accepts the job. */
function problemsOf(raw: unknown): Problem[] {
  try {
    parseJobSpec(raw, options);
  } catch (err) {
    expect(err).toBeInstanceOf(BatchinferError);
    const e = err as BatchinferError;
    expect(e.problems.length).toBeGreaterThan(0);
    for (const p of e.problems) expect(p.code).toBe(e.code);
    return [...e.problems];
  }
  throw new Error('expected parseJobSpec to reject the job');
}

const wheres = (raw: unknown) => problemsOf(raw).map((p) => p.where);

describe('parseJobSpec: defaults and paths', () => {
  it('memory_limit: half the machine by default, or the size given', () => {
    const machine = Math.min(totalmem(), process.constrainedMemory?.() || Infinity);
    expect(parseJobSpec(minimal, options).memoryLimit).toBe(Math.floor(machine / 2));
    expect(parseJobSpec({ ...minimal, memory_limit: '2GiB' }, options).memoryLimit).toBe(2 * 2 ** 30);
  });

  it('input may be a list of paths and globs, each resolved against baseDir, in the order given', () => {
    const spec = parseJobSpec({ ...minimal, input: ['b/*.parquet', 'a/', '/abs/x.parquet'] }, options);
    expect(spec.inputList).toEqual([resolve(BASE, 'b/*.parquet'), resolve(BASE, 'a') + '/', '/abs/x.parquet']);
    expect(spec.input).toBe(spec.inputList!.join(', '));
    expect(parseJobSpec(minimal, options)).not.toHaveProperty('inputList');
  });

  it('an input list: empty, an entry that is the output, or a template without a schedule, is refused', () => {
    expect(wheres({ ...minimal, input: [] })).toEqual(['input']);
    expect(wheres({ ...minimal, input: ['a.parquet', 'out.parquet'] })).toEqual(['output']);
    expect(wheres({ ...minimal, input: ['a.parquet', 'in/dt={date}/'] })).toEqual(['input']);
  });

  it('partition_types: date, integer or text per key', () => {
    expect(parseJobSpec({ ...minimal, partition_types: { dt: 'text', hour: 'integer' } }, options).partitionTypes).toEqual({ dt: 'text', hour: 'integer' });
    expect(wheres({ ...minimal, partition_types: { dt: 'timestamp' } })).toEqual(['partition_types.dt']);
  });

  it('applies defaults and resolves paths against baseDir', () => {
    const spec = parseJobSpec(minimal, options);
    expect(spec).toEqual({
      name: 'from-file',
      model: resolve(BASE, 'm.onnx'),
      input: resolve(BASE, 'data/in.parquet'),
      output: resolve(BASE, 'out.parquet'),
      passthrough: [],
      labels: undefined,
      inputs: {},
      features: undefined,
      task: undefined,
      outputName: undefined,
      extraOutputs: [],
      scores: undefined,
      reviewBelow: undefined,
      batchSize: 2048,
      batchSizeAuto: true,
      workers: undefined,
      threads: undefined,
      fillNull: undefined,
      onError: 'fail',
      rejects: undefined,
      maxErrors: undefined,
      maxErrorRate: undefined,
      allowNan: false,
      modelSha256: undefined,
      checkpointRows: 1 << 20,
      schedule: undefined,
      timezone: 'UTC',
      windowColumn: undefined,
      csvDelimiter: undefined,
      memoryLimit: expect.any(Number),
      minRows: undefined,
      fileMode: undefined,
      redact: false,
      rejectsColumns: undefined,
      device: 'cpu',
      profile: false,
      writeBehind: false,
      notes: [],
    });
    expect(DEFAULT_BATCH_SIZE).toBe(2048);
  });

  it.each([['0640', 0o640], ['600', 0o600], ['0777', 0o777]])('file_mode %j is octal %o', (mode, expected) => {
    expect(parseJobSpec({ ...minimal, file_mode: mode }, options).fileMode).toBe(expected);
  });

  it.each([[640, 'file_mode'], ['0400', 'file_mode'], ['08', 'file_mode'], ['01640', 'file_mode']])('file_mode %j is refused', (mode, where) => {
    expect(wheres({ ...minimal, file_mode: mode })).toEqual([where]);
  });

  it.each([['cpu', 'cpu'], ['auto', 'auto'], ['cuda', 'cuda:0'], ['cuda:1', 'cuda:1']])('device %j is %j', (device, expected) => {
    expect(parseJobSpec({ ...minimal, device }, options).device).toBe(expected);
  });

  it.each(['gpu', 'cuda:', 'cuda:x', 'CPU', 'tensorrt'])('device %j is refused', (device) => {
    expect(problemsOf({ ...minimal, device })[0]).toMatchObject({ where: 'device', message: expect.stringContaining('cpu, cuda, cuda:N or auto') });
  });

  it('redact and rejects_columns (with quarantine)', () => {
    const spec = parseJobSpec({ ...minimal, redact: true, on_error: 'quarantine', rejects_columns: ['id'] }, options);
    expect([spec.redact, spec.rejectsColumns]).toEqual([true, ['id']]);
    expect(wheres({ ...minimal, rejects_columns: ['id'] })).toEqual(['rejects_columns']);
  });

  it.each([
    [',', ','], [';', ';'], ['|', '|'], ['\t', '\t'],
    ['comma', ','], ['semicolon', ';'], ['pipe', '|'], ['tab', '\t'],
  ])('csv_delimiter %j is %j', (word, delimiter) => {
    expect(parseJobSpec({ ...minimal, csv_delimiter: word }, options).csvDelimiter).toBe(delimiter);
  });

  it.each([':', 'Tab', ' ', '', ';;', '\\t'])('csv_delimiter %j is refused', (word) => {
    const problems = problemsOf({ ...minimal, csv_delimiter: word });
    expect(problems).toEqual([{ code: 'SPEC_INVALID', where: 'csv_delimiter', message: 'must be one of , ; | or a tab (or comma, semicolon, pipe, tab)', actual: word }]);
  });

  it('keeps absolute paths, a name from the job, and maps snake_case keys', () => {
    const spec = parseJobSpec(
      {
        name: 'fraud-hourly',
        model: '/models/m.onnx',
        input: '../data/*.parquet',
        output: 'out/',
        passthrough: ['txn_id'],
        labels: ['legit', 'fraud'],
        task: 'classification',
        output_name: 'probabilities',
        scores: 'logits',
        review_below: 0.8,
        batch_size: 100,
        workers: 3,
        threads: 2,
      },
      options,
    );
    expect(spec.name).toBe('fraud-hourly');
    expect(spec.model).toBe(resolve('/models/m.onnx'));
    expect(spec.input).toBe(resolve('/jobs/data/*.parquet'));
    expect(spec.output).toBe(resolve(BASE, 'out') + '/');
    expect(spec).toMatchObject({ outputName: 'probabilities', scores: 'logits', reviewBelow: 0.8, batchSize: 100, workers: 3, threads: 2, task: 'classification' });
  });

  it('keeps a trailing / on output (a directory) and only there', () => {
    expect(parseJobSpec({ ...minimal, output: 'preds/' }, options).output).toBe(resolve(BASE, 'preds') + '/');
    expect(parseJobSpec({ ...minimal, output: '/abs/preds/' }, options).output).toBe('/abs/preds/');
    expect(parseJobSpec({ ...minimal, output: 'preds' }, options).output).toBe(resolve(BASE, 'preds'));
  });

  it('maps input specs to camelCase', () => {
    const spec = parseJobSpec(
      {
        ...minimal,
        inputs: {
          x: { columns: ['a', 'b'], fill_null: 0, scale: { mean: [1, 2], std: [3, 4] } },
          m: { column: 'cat', vocab: ['p', 'q'], unknown: 1 },
        },
      },
      options,
    );
    expect(spec.inputs).toEqual({
      x: { columns: ['a', 'b'], column: undefined, fillNull: 0, scale: { mean: [1, 2], std: [3, 4] }, vocab: undefined, unknown: undefined },
      m: { columns: undefined, column: 'cat', fillNull: undefined, scale: undefined, vocab: ['p', 'q'], unknown: 1 },
    });
  });

  it('treats null/undefined as an empty job: every required path is reported', () => {
    for (const raw of [null, undefined, {}]) {
      const problems = problemsOf(raw);
      expect(problems.map((p) => [p.where, p.message])).toEqual([
        ['model', 'is required'],
        ['input', 'is required'],
        ['output', 'is required'],
      ]);
    }
  });
});

describe('parseJobSpec: schema problems', () => {
  it('names unknown keys with their full path', () => {
    const problems = problemsOf({ ...minimal, colour: 'red', inputs: { x: { columns: ['a'], colour: 'blue' } } });
    expect(problems).toContainEqual({ code: 'SPEC_INVALID', where: 'colour', message: 'unknown key' });
    expect(problems).toContainEqual({ code: 'SPEC_INVALID', where: 'inputs.x.colour', message: 'unknown key' });
  });

  it('lists several unknown keys of one object in one problem', () => {
    const problems = problemsOf({ ...minimal, inputs: { x: { columns: ['a'], colour: 1, size: 2 } } });
    expect(problems).toEqual([{ code: 'SPEC_INVALID', where: 'inputs.x.colour, inputs.x.size', message: 'unknown keys' }]);
  });

  it('names unknown keys inside scale', () => {
    expect(wheres({ ...minimal, inputs: { x: { columns: ['a'], scale: { mean: [0], std: [1], median: [0] } } } })).toEqual(['inputs.x.scale.median']);
  });

  it.each([
    ['batch_size', 'big'],
    ['batch_size', 0],
    ['batch_size', 1.5],
    ['batch_size', 10_000_001],
    ['workers', -1],
    ['workers', 257],
    ['threads', '2'],
    ['review_below', 0],
    ['review_below', 1.5],
    ['task', 'clustering'],
    ['scores', 'odds'],
    ['model', 7],
    ['model', ''],
    ['passthrough', 'txn_id'],
    ['labels', []],
    ['features', []],
    ['name', ''],
  ])('%s = %j is a wrong value reported at its key', (key, value) => {
    const problems = problemsOf({ ...minimal, [key]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ code: 'SPEC_INVALID', where: key });
    expect(problems[0]!.message).not.toMatch(/^Invalid input: /);
  });

  it('reports element paths inside lists and input specs', () => {
    expect(wheres({ ...minimal, passthrough: ['a', 3] })).toEqual(['passthrough[1]']);
    expect(wheres({ ...minimal, inputs: { x: { columns: ['a', '', 'c'] } } })).toEqual(['inputs.x.columns[1]']);
    expect(wheres({ ...minimal, inputs: { x: { column: 'a', fill_null: 'zero' } } })).toEqual(['inputs.x.fill_null']);
    expect(wheres({ ...minimal, inputs: { x: { column: 'a', vocab: ['p'], unknown: 0.5 } } })).toEqual(['inputs.x.unknown']);
    expect(wheres({ ...minimal, inputs: { x: { columns: ['a'], scale: { mean: ['0'], std: [1] } } } })).toEqual(['inputs.x.scale.mean[0]']);
    expect(wheres({ ...minimal, inputs: { x: 'a' } })).toEqual(['inputs.x']);
  });

  it('reports every schema problem at once, with a counted message', () => {
    let err: BatchinferError | undefined;
    try {
      parseJobSpec({ ...minimal, batch_size: 'big', workers: 0, colour: 1, inputs: { x: { columns: ['a'], colour: 1 } } }, options);
    } catch (e) {
      err = e as BatchinferError;
    }
    expect(err?.code).toBe('SPEC_INVALID');
    expect(err?.exitCode).toBe(78);
    expect(err?.problems.map((p) => p.where).sort()).toEqual(['batch_size', 'colour', 'inputs.x.colour', 'workers']);
    expect(err?.message).toMatch(/^4 problems:\n {2}- /);
  });

  it('an object that is a list or a scalar is a problem at (job)', () => {
    expect(wheres(['model: m.onnx'])).toEqual(['(job)']);
    expect(wheres('model')).toEqual(['(job)']);
  });
});

describe('parseJobSpec: input spec rules (checkInputSpec)', () => {
  const withInput = (x: Record<string, unknown>) => ({ ...minimal, inputs: { x } });

  it.each([
    ['both columns and column', { columns: ['a'], column: 'a' }, /either `columns` or `column`/],
    ['neither columns nor column', { fill_null: 0 }, /needs `columns`/],
    ['vocab with columns', { columns: ['a'], vocab: ['p'] }, /`vocab` maps a single `column`/],
    ['unknown without vocab', { column: 'a', unknown: 0 }, /`unknown` only applies with `vocab`/],
    ['unknown past the vocab', { column: 'a', vocab: ['p', 'q'], unknown: 2 }, /`unknown` must be an index/],
    ['negative unknown', { column: 'a', vocab: ['p', 'q'], unknown: -1 }, /`unknown` must be an index/],
    ['duplicate vocab entries', { column: 'a', vocab: ['p', 'q', 'p'] }, /duplicate entries/],
    ['vocab entries equal as text', { column: 'a', vocab: [1, '1'] }, /duplicate entries/],
    ['scale.mean of the wrong width', { columns: ['a', 'b'], scale: { mean: [0], std: [1, 1] } }, /`scale.mean` needs one value per column/],
    ['scale.std of the wrong width', { column: 'a', scale: { mean: [0], std: [1, 1] } }, /`scale.std` needs one value per column/],
    ['zero std', { columns: ['a', 'b'], scale: { mean: [0, 0], std: [1, 0] } }, /must not contain 0/],
    ['scale with vocab', { column: 'a', vocab: ['p'], scale: { mean: [0], std: [1] } }, /`scale` does not apply to a `vocab` input/],
    ['a column listed twice', { columns: ['a', 'b', 'a'] }, /lists a column twice/],
  ])('%s', (_label, x, message) => {
    const problems = problemsOf(withInput(x));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ code: 'SPEC_INVALID', where: 'inputs.x' });
    expect(problems[0]!.message).toMatch(message);
  });

  it('unknown out of range carries the allowed range and the value', () => {
    expect(problemsOf(withInput({ column: 'a', vocab: ['p', 'q', 'r'], unknown: 7 }))[0]).toMatchObject({ expected: '0..2', actual: 7 });
  });

  it('scale width mismatch carries expected and actual widths', () => {
    expect(problemsOf(withInput({ columns: ['a', 'b', 'c'], scale: { mean: [0], std: [1, 1, 1] } }))[0]).toMatchObject({ expected: 3, actual: 1 });
  });

  it('accepts every valid combination', () => {
    expect(() => parseJobSpec(withInput({ column: 'a', vocab: ['p', 'q'], unknown: 1, fill_null: 0 }), options)).not.toThrow();
    expect(() => parseJobSpec(withInput({ column: 'a', vocab: ['p'], unknown: 'error' }), options)).not.toThrow();
    expect(() => parseJobSpec(withInput({ column: 'a', scale: { mean: [3], std: [2] }, fill_null: 'error' }), options)).not.toThrow();
  });

  it('reports the problems of several inputs and rules together', () => {
    const problems = problemsOf({
      ...minimal,
      inputs: {
        x: { columns: ['a', 'a'], column: 'b' },
        y: { column: 'c', unknown: 0 },
      },
    });
    expect(problems.map((p) => p.where)).toEqual(['inputs.x', 'inputs.x', 'inputs.y']);
  });
});

describe('parseJobSpec: combination rules (checkCombinations)', () => {
  it.each([
    ['features with inputs', { features: ['a'], inputs: { x: { column: 'a' } } }, 'features', /`features` or `inputs`/],
    ['review_below for regression', { task: 'regression', review_below: 0.5 }, 'review_below', /only applies to classification/],
    ['labels for regression', { task: 'regression', labels: ['a', 'b'] }, 'labels', /only apply to classification/],
    ['duplicate labels', { labels: ['a', 'b', 'a'] }, 'labels', /duplicate labels/],
    ['passthrough twice', { passthrough: ['id', 'id'] }, 'passthrough', /lists a column twice/],
    ['output is the model', { model: 'same.parquet', output: 'same.parquet' }, 'output', /must not be the model file/],
    ['output is the input', { input: './in.parquet', output: 'in.parquet' }, 'output', /must not be the input/],
  ])('%s', (_label, extra, where, message) => {
    const problems = problemsOf({ ...minimal, ...extra });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ code: 'SPEC_INVALID', where });
    expect(problems[0]!.message).toMatch(message);
  });

  it('reports missing keys, input spec rules and combination rules at once', () => {
    const problems = problemsOf({
      input: 'in.parquet',
      output: 'in.parquet',
      task: 'regression',
      labels: ['a', 'a'],
      review_below: 0.5,
      passthrough: ['id', 'id'],
      features: ['a'],
      inputs: { x: {} },
    });
    expect(problems.map((p) => p.where)).toEqual(['model', 'inputs.x', 'features', 'review_below', 'labels', 'labels', 'passthrough', 'output']);
  });
});
