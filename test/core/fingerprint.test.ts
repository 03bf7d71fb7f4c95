import { describe, expect, it } from 'vitest';
import { changedSettings, runIdentity } from '../../src/core/fingerprint.js';
import type { PreparedJob } from '../../src/core/prepare.js';
import type { JobSpec } from '../../src/spec/jobSpec.js';

/** The parts of a prepared job the fingerprint reads. */
function job(spec: Partial<JobSpec> = {}): PreparedJob {
  return {
    spec: { passthrough: ['id'], batchSize: 2048, checkpointRows: 1 << 20, onError: 'fail', timezone: 'UTC', ...spec } as JobSpec,
    model: { sha256: 'ab'.repeat(32) },
    feeds: [],
    output: { task: 'regression', width: 1, extras: [] },
    outputMode: 'file',
  } as unknown as PreparedJob;
}

function runFingerprint(...args: Parameters<typeof runIdentity>): string {
  return runIdentity(...args).fingerprint;
}

const inputs = [{ path: '/data/in.csv', bytes: 10, mtime: '2026-11-29T00:00:00.000Z' }];

describe('runFingerprint', () => {
  it('differs with computed columns and with the where filter, each change of them named; unchanged when they are unset', () => {
    const base = runIdentity(job(), inputs, null);
    expect(Object.keys(base.settings)).not.toContain('computed');
    expect(Object.keys(base.settings)).not.toContain('where');
    const filtered = runIdentity(job({ where: "country = 'DE'" }), inputs, null);
    const other = runIdentity(job({ where: "country = 'FR'" }), inputs, null);
    expect(new Set([base.fingerprint, filtered.fingerprint, other.fingerprint]).size).toBe(3);
    expect(changedSettings(filtered.settings, other.settings)).toEqual(['where']);
    const ratio = runIdentity(job({ computed: { ratio: 'a / b' } }), inputs, null);
    const inverse = runIdentity(job({ computed: { ratio: 'b / a' } }), inputs, null);
    expect(ratio.fingerprint).not.toBe(inverse.fingerprint);
    expect(changedSettings(ratio.settings, inverse.settings)).toEqual(['computed']);
  });

  it('is the same for the same job and inputs', () => {
    expect(runFingerprint(job(), inputs, null)).toBe(runFingerprint(job(), inputs, null));
    expect(runFingerprint(job({ csvDelimiter: ';' }), inputs, null)).toBe(runFingerprint(job({ csvDelimiter: ';' }), inputs, null));
  });

  it('differs when the CSV delimiter does: the same bytes read as other rows must not resume', () => {
    const prints = [undefined, ',', ';', '\t'].map((d) => runFingerprint(job(d ? { csvDelimiter: d as JobSpec['csvDelimiter'] } : {}), inputs, null));
    expect(new Set(prints).size).toBe(4);
  });

  it('differs with rejects_columns and with redaction (in the feed plans); not with file_mode or device; unchanged when they are unset', () => {
    const base = runIdentity(job(), inputs, null);
    expect(Object.keys(base.settings)).not.toContain('rejects_columns');
    expect(runFingerprint(job({ rejectsColumns: ['id'] }), inputs, null)).not.toBe(base.fingerprint);
    const redacted = { ...job(), feeds: [{ input: 'x', dtype: 'float32', rank: 2, columns: [], redact: true }] } as unknown as PreparedJob;
    const plain = { ...job(), feeds: [{ input: 'x', dtype: 'float32', rank: 2, columns: [] }] } as unknown as PreparedJob;
    expect(runFingerprint(redacted, inputs, null)).not.toBe(runFingerprint(plain, inputs, null));
    expect(runFingerprint(job({ fileMode: 0o640, device: 'auto' }), inputs, null)).toBe(base.fingerprint);
  });

  it('a job without partition_types keeps the settings it had (an interrupted run still resumes after an upgrade)', () => {
    expect(Object.keys(runIdentity(job(), inputs, null).settings)).not.toContain('partition_types');
  });

  it('differs with the batch size, the passthrough columns or the inputs', () => {
    const base = runFingerprint(job(), inputs, null);
    expect(runFingerprint(job({ batchSize: 1024 }), inputs, null)).not.toBe(base);
    expect(runFingerprint(job({ passthrough: [] }), inputs, null)).not.toBe(base);
    expect(runFingerprint(job(), [{ ...inputs[0]!, bytes: 11 }], null)).not.toBe(base);
  });

  // A resume keeps the rows of the parts it finds: a setting that decides which rows those
  // parts hold (or where their rejected rows went) must start the run over.
  it.each([
    ['on_error skip', {}, { onError: 'skip' }],
    ['on_error quarantine', {}, { onError: 'quarantine' }],
    ['another rejects file', { onError: 'quarantine' }, { onError: 'quarantine', rejects: '/data/other.rejects.parquet' }],
    ['the time zone', {}, { timezone: 'Europe/Berlin' }],
    ['the window column', {}, { windowColumn: 'ts' }],
    ['the checkpoint rows', {}, { checkpointRows: 1000 }],
    ['partition_types', {}, { partitionTypes: { dt: 'text' } }],
  ] as [string, Partial<JobSpec>, Partial<JobSpec>][])('differs with %s', (_name, before, after) => {
    expect(runFingerprint(job(after), inputs, null)).not.toBe(runFingerprint(job(before), inputs, null));
  });

  it('differs with what the feeds and the output plan decide (fills, allow_nan, labels, review_below)', () => {
    const feed = (allowNan: boolean, fill: number) => [{ input: 'x', dtype: 'float32', rank: 2, columns: [{ column: 'a', columnType: 'DOUBLE', nulls: { kind: 'fill', value: fill }, allowNan, parsed: false }] }];
    const withFeeds = (feeds: unknown, output: unknown = { task: 'classification', labels: ['a', 'b'] }) => runFingerprint({ ...job(), feeds, output } as unknown as PreparedJob, inputs, null);
    const base = withFeeds(feed(false, 0));
    expect(withFeeds(feed(true, 0))).not.toBe(base);
    expect(withFeeds(feed(false, 1))).not.toBe(base);
    expect(withFeeds(feed(false, 0), { task: 'classification', labels: ['b', 'a'] })).not.toBe(base);
    expect(withFeeds(feed(false, 0), { task: 'classification', labels: ['a', 'b'], reviewBelow: 0.5 })).not.toBe(base);
    expect(withFeeds(feed(false, 0))).toBe(base);
  });

  it('does not change with workers, threads, the job name or max_errors', () => {
    const base = runFingerprint(job(), inputs, null);
    expect(runFingerprint(job({ workers: 7, threads: 3, name: 'other', maxErrors: 5, maxErrorRate: 0.1 }), inputs, null)).toBe(base);
  });

  it('names the settings that changed', () => {
    const a = runIdentity(job(), inputs, null).settings;
    const b = runIdentity(job({ onError: 'skip', batchSize: 7 }), inputs, null).settings;
    expect(changedSettings(a, b).sort()).toEqual(['batch_size', 'on_error']);
    expect(changedSettings(a, a)).toEqual([]);
    expect(changedSettings({ x: 1 }, {})).toEqual(['x']);
  });
});
