import { describe, expect, it } from 'vitest';
import { resolveWindow, specForWindow, windowsInRange } from '../../src/core/windowRuns.js';
import { parseJobSpec } from '../../src/spec/jobSpec.js';

const spec = parseJobSpec(
  { schedule: '0 * * * *', model: 'm.onnx', input: 'in/dt={date}/hour={hour}/*.parquet', output: 'out/dt={date}/hour={hour}', on_error: 'quarantine', rejects: 'bad/{date}-{hour}.parquet' },
  { baseDir: '/jobs', name: 'hourly' },
);
const window = { start: new Date('2026-11-29T02:00:00Z'), end: new Date('2026-11-29T03:00:00Z') };

describe('specForWindow', () => {
  it('fills the templates of input, output and rejects; the output is a directory', () => {
    const s = specForWindow(spec, window);
    expect(s.input).toBe('/jobs/in/dt=2026-11-29/hour=02/*.parquet');
    expect(s.output).toBe('/jobs/out/dt=2026-11-29/hour=02/');
    expect(s.rejects).toBe('/jobs/bad/2026-11-29-02.parquet');
  });
});

describe('resolveWindow and windowsInRange', () => {
  it('--at names the window starting then; without it, the last complete window before now', () => {
    expect(resolveWindow(spec, new Date('2026-11-29T02:00:00Z')).window).toEqual(window);
    expect(resolveWindow(spec, undefined, new Date('2026-11-29T03:20:00Z')).window).toEqual(window);
  });

  it('every window starting in [from, to), and --from after --to is a USAGE error', () => {
    const windows = windowsInRange(spec, new Date('2026-11-29T00:00:00Z'), new Date('2026-11-29T03:00:00Z'));
    expect(windows.map((w) => w.start.toISOString())).toEqual(['2026-11-29T00:00:00.000Z', '2026-11-29T01:00:00.000Z', '2026-11-29T02:00:00.000Z']);
    expect(() => windowsInRange(spec, new Date('2026-11-29T03:00:00Z'), new Date('2026-11-29T00:00:00Z'))).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });

  it('a job without a schedule has no window', () => {
    const plain = parseJobSpec({ model: 'm.onnx', input: 'x.parquet', output: 'y.parquet' }, { baseDir: '/jobs', name: 'plain' });
    expect(() => resolveWindow(plain, new Date())).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });
});
