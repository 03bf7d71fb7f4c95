import { describe, expect, it } from 'vitest';
import { runFingerprint } from '../../src/core/fingerprint.js';
import type { PreparedJob } from '../../src/core/prepare.js';
import type { JobSpec } from '../../src/spec/jobSpec.js';

/** The parts of a prepared job the fingerprint reads. */
function job(spec: Partial<JobSpec> = {}): PreparedJob {
  return {
    spec: { passthrough: ['id'], batchSize: 2048, checkpointRows: 1 << 20, ...spec } as JobSpec,
    model: { sha256: 'ab'.repeat(32) },
    feeds: [],
    output: { task: 'regression', width: 1, extras: [] },
    outputMode: 'file',
  } as unknown as PreparedJob;
}

const inputs = [{ path: '/data/in.csv', bytes: 10, mtime: '2026-11-29T00:00:00.000Z' }];

describe('runFingerprint', () => {
  it('is the same for the same job and inputs', () => {
    expect(runFingerprint(job(), inputs, null)).toBe(runFingerprint(job(), inputs, null));
    expect(runFingerprint(job({ csvDelimiter: ';' }), inputs, null)).toBe(runFingerprint(job({ csvDelimiter: ';' }), inputs, null));
  });

  it('differs when the CSV delimiter does: the same bytes read as other rows must not resume', () => {
    const prints = [undefined, ',', ';', '\t'].map((d) => runFingerprint(job(d ? { csvDelimiter: d as JobSpec['csvDelimiter'] } : {}), inputs, null));
    expect(new Set(prints).size).toBe(4);
  });

  it('differs with the batch size, the passthrough columns or the inputs', () => {
    const base = runFingerprint(job(), inputs, null);
    expect(runFingerprint(job({ batchSize: 1024 }), inputs, null)).not.toBe(base);
    expect(runFingerprint(job({ passthrough: [] }), inputs, null)).not.toBe(base);
    expect(runFingerprint(job(), [{ ...inputs[0]!, bytes: 11 }], null)).not.toBe(base);
  });
});
