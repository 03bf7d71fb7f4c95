import { describe, expect, it } from 'vitest';
import { flagsToJob } from '../../src/cli/jobFlags.js';

describe('flagsToJob', () => {
  it('turns flags into job keys: lists split on commas, numbers parsed, paths made absolute from the working directory', () => {
    expect(
      flagsToJob(
        { model: 'm.onnx', input: 'data/*.parquet', output: 'out/', features: 'a, b,c', passthrough: 'id', batchSize: '512', fillNull: 'error', reviewBand: '0.4,0.6', threshold: '0.3', positive: 'fraud', allowNan: true, minRows: '10', memoryLimit: '2GB', fileMode: '0640', redact: true, rejectsColumns: 'id, ts', device: 'cuda:1' },
        '/work',
      ),
    ).toEqual({
      model: '/work/m.onnx',
      input: '/work/data/*.parquet',
      output: '/work/out/',
      features: ['a', 'b', 'c'],
      passthrough: ['id'],
      batch_size: 512,
      fill_null: 'error',
      review_band: [0.4, 0.6],
      threshold: 0.3,
      positive_label: 'fraud',
      allow_nan: true,
      min_rows: 10,
      memory_limit: '2GB',
      file_mode: '0640',
      redact: true,
      rejects_columns: ['id', 'ts'],
      device: 'cuda:1',
    });
  });

  it('leaves out the flags not given, so they do not override the job file', () => {
    expect(flagsToJob({}, '/work')).toEqual({});
  });

  it('a flag that takes a number and gets something else is a USAGE error naming the flag', () => {
    expect(() => flagsToJob({ batchSize: 'lots' }, '/work')).toThrow(expect.objectContaining({ code: 'USAGE', message: '--batch-size takes a number' }));
    expect(() => flagsToJob({ reviewBand: '0.4,x' }, '/work')).toThrow(expect.objectContaining({ code: 'USAGE', message: '--review-band takes a number' }));
    expect(() => flagsToJob({ workers: ' ' }, '/work')).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });
});
