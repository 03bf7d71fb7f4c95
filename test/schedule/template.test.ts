/**
 * Path templates (src/schedule/template.ts) and the spec rules around them
 * (src/spec/jobSpec.ts checkSchedule): calendar tokens in the job's zone, window instants in
 * UTC, unknown tokens and templates without a schedule reported with their key path.
 */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BatchinferError, type Problem } from '../../src/errors.js';
import { checkTemplate, hasTemplate, renderTemplate, TEMPLATE_TOKENS } from '../../src/schedule/template.js';
import { parseSchedule, windowAt, windowsBetween, type Window } from '../../src/schedule/window.js';
import { parseJobSpec } from '../../src/spec/jobSpec.js';
import { resolveWindow, specForWindow } from '../../src/core/windowRuns.js';

const w = (start: string, end: string): Window => ({ start: new Date(start), end: new Date(end) });
const ALL = 'date={date} hour={hour} yyyy={yyyy} MM={MM} dd={dd} HH={HH} mm={mm} ws={window_start} we={window_end}';

describe('renderTemplate', () => {
  it('fills every token of a UTC window', () => {
    expect(renderTemplate(ALL, w('2026-11-29T08:00:00Z', '2026-11-29T09:00:00Z'), 'UTC')).toBe(
      'date=2026-11-29 hour=08 yyyy=2026 MM=11 dd=29 HH=08 mm=00 ws=2026-11-29T08:00:00Z we=2026-11-29T09:00:00Z',
    );
  });

  it('calendar tokens are local to the job zone: a Berlin window at 23:00Z is the next local day', () => {
    expect(renderTemplate(ALL, w('2026-11-29T23:00:00Z', '2026-11-30T00:00:00Z'), 'Europe/Berlin')).toBe(
      'date=2026-11-30 hour=00 yyyy=2026 MM=11 dd=30 HH=00 mm=00 ws=2026-11-29T23:00:00Z we=2026-11-30T00:00:00Z',
    );
  });

  it('the last hour of a year rolls the local year, month and day', () => {
    expect(renderTemplate('{yyyy}/{MM}/{dd}/{HH}', w('2026-12-31T23:00:00Z', '2027-01-01T00:00:00Z'), 'Europe/Berlin')).toBe('2027/01/01/00');
  });

  it('{window_start} and {window_end} are ISO instants in UTC whatever the zone', () => {
    const window = w('2026-07-01T22:00:00Z', '2026-07-02T22:00:00Z');
    expect(renderTemplate('{window_start}..{window_end}', window, 'Europe/Berlin')).toBe('2026-07-01T22:00:00Z..2026-07-02T22:00:00Z');
    expect(renderTemplate('{date}', window, 'Europe/Berlin')).toBe('2026-07-02');
  });

  it('{mm} names the minute of a 15-minute window', () => {
    const windows = windowsBetween(parseSchedule('*/15 * * * *', 'UTC'), new Date('2026-11-29T09:00:00Z'), new Date('2026-11-29T10:00:00Z'));
    expect(windows.map((x) => renderTemplate('{HH}{mm}', x, 'UTC'))).toEqual(['0900', '0915', '0930', '0945']);
  });

  it('Berlin hourly across the spring-forward gap: local hour 02 never appears, every path is distinct', () => {
    const windows = windowsBetween(parseSchedule('0 * * * *', 'Europe/Berlin'), new Date('2026-03-28T22:00:00Z'), new Date('2026-03-29T04:00:00Z'));
    const paths = windows.map((x) => renderTemplate('dt={date}/hour={hour}', x, 'Europe/Berlin'));
    expect(paths).toEqual(['dt=2026-03-28/hour=23', 'dt=2026-03-29/hour=00', 'dt=2026-03-29/hour=01', 'dt=2026-03-29/hour=03', 'dt=2026-03-29/hour=04', 'dt=2026-03-29/hour=05']);
    expect(new Set(paths).size).toBe(paths.length);
  });

  it('Berlin daily windows on the DST days render their own local date', () => {
    const daily = parseSchedule('0 0 * * *', 'Europe/Berlin');
    expect(renderTemplate('{date}', windowAt(daily, new Date('2026-03-28T23:00:00Z')), 'Europe/Berlin')).toBe('2026-03-29');
    expect(renderTemplate('{date}', windowAt(daily, new Date('2026-10-24T22:00:00Z')), 'Europe/Berlin')).toBe('2026-10-25');
  });

  it('an unknown token is SPEC_INVALID naming the template', () => {
    let err: unknown;
    try {
      renderTemplate('out/{day}/', w('2026-11-29T08:00:00Z', '2026-11-29T09:00:00Z'), 'UTC');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BatchinferError);
    expect((err as BatchinferError).code).toBe('SPEC_INVALID');
    expect((err as BatchinferError).message).toBe('unknown template token {day}');
    expect((err as BatchinferError).actual).toBe('out/{day}/');
  });

  it('text without tokens is returned unchanged', () => {
    expect(renderTemplate('/data/in.parquet', w('2026-11-29T08:00:00Z', '2026-11-29T09:00:00Z'), 'UTC')).toBe('/data/in.parquet');
  });
});

describe('checkTemplate and hasTemplate', () => {
  it('known tokens are fine', () => {
    expect(checkTemplate('output', TEMPLATE_TOKENS.map((t) => `{${t}}`).join('/'))).toEqual([]);
  });

  it('each unknown token is one problem with the key path, the known tokens and the token', () => {
    const problems = checkTemplate('output', 'out/{date}/{hr}/{Date}/{}');
    expect(problems.map((p) => [p.where, p.message, p.actual])).toEqual([
      ['output', 'unknown template token {hr}', '{hr}'],
      ['output', 'unknown template token {Date}', '{Date}'],
      ['output', 'unknown template token {}', '{}'],
    ]);
    expect(problems[0]!.code).toBe('SPEC_INVALID');
    expect(problems[0]!.expected).toContain('{window_start}');
  });

  it('hasTemplate', () => {
    expect(hasTemplate('in/dt={date}/*.parquet')).toBe(true);
    expect(hasTemplate('in/*.parquet')).toBe(false);
  });
});

describe('job spec rules for schedules', () => {
  const options = { baseDir: resolve('/jobs'), name: 'hourly' };
  const base = { model: 'm.onnx', input: 'in.parquet', output: 'out/' };

  function problemsOf(raw: unknown): Problem[] {
    try {
      parseJobSpec(raw, options);
    } catch (err) {
      expect(err).toBeInstanceOf(BatchinferError);
      expect((err as BatchinferError).code).toBe('SPEC_INVALID');
      expect((err as BatchinferError).exitCode).toBe(78);
      return [...(err as BatchinferError).problems];
    }
    throw new Error('expected parseJobSpec to reject the job');
  }
  const wheres = (raw: unknown): [string | undefined, string][] => problemsOf(raw).map((p) => [p.where, p.message]);

  it('a scheduled job with templates, a zone and a window column parses', () => {
    const spec = parseJobSpec({ ...base, input: 'in/dt={date}/*.parquet', output: 'out/dt={date}/hour={hour}/', schedule: '0 * * * *', timezone: 'Europe/Berlin', window_column: 'ts' }, options);
    expect(spec).toMatchObject({ schedule: '0 * * * *', timezone: 'Europe/Berlin', windowColumn: 'ts', input: resolve('/jobs/in/dt={date}/*.parquet'), output: resolve('/jobs/out/dt={date}/hour={hour}') + '/' });
  });

  it('templates in input or output without a schedule', () => {
    expect(wheres({ ...base, input: 'in/dt={date}/*.parquet', output: 'out/{hour}/' })).toEqual([
      ['input', 'uses window templates but the job has no `schedule`'],
      ['output', 'uses window templates but the job has no `schedule`'],
    ]);
  });

  it('window_column and timezone without a schedule', () => {
    expect(wheres({ ...base, window_column: 'ts', timezone: 'UTC' })).toEqual([
      ['window_column', 'needs a `schedule` to define the window'],
      ['timezone', 'only applies with a `schedule`'],
    ]);
  });

  it('an unknown token in output (and input) names the key', () => {
    expect(wheres({ ...base, schedule: '0 * * * *', input: 'in/{day}.parquet', output: 'out/{date}/{hr}/' })).toEqual([
      ['input', 'unknown template token {day}'],
      ['output', 'unknown template token {hr}'],
    ]);
  });

  it('an invalid cron expression is reported at schedule, an unknown zone at timezone', () => {
    const [schedule] = problemsOf({ ...base, schedule: '0 25 * * *' });
    expect(schedule).toMatchObject({ where: 'schedule', actual: '0 25 * * *' });
    expect(schedule!.message).toMatch(/^not a valid cron expression/);
    expect(wheres({ ...base, schedule: '0 * * * *', timezone: 'Europe/Berlyn' })).toEqual([['timezone', "unknown time zone 'Europe/Berlyn'"]]);
  });

  it('every schedule problem is reported at once', () => {
    expect(problemsOf({ ...base, input: '{nope}', output: 'out/{date}/', window_column: 'ts' }).map((p) => p.where)).toEqual(['input', 'input', 'output', 'window_column']);
  });
});

describe('specForWindow and resolveWindow', () => {
  const spec = parseJobSpec(
    { model: 'm.onnx', input: 'in/dt={date}/hour={hour}/*.parquet', output: 'out/dt={date}/hour={hour}', schedule: '0 * * * *', timezone: 'Europe/Berlin' },
    { baseDir: resolve('/jobs'), name: 'hourly' },
  );

  it('fills input and output for the window; the output is always a directory', () => {
    const concrete = specForWindow(spec, w('2026-11-29T23:00:00Z', '2026-11-30T00:00:00Z'));
    expect(concrete.input).toBe(resolve('/jobs/in/dt=2026-11-30/hour=00/*.parquet'));
    expect(concrete.output).toBe(resolve('/jobs/out/dt=2026-11-30/hour=00') + '/');
  });

  it('a rejects path is a template too, so windows do not overwrite each other', () => {
    const withRejects = parseJobSpec(
      { model: 'm.onnx', input: 'in.parquet', output: 'out/{date}/{hour}', schedule: '0 * * * *', on_error: 'quarantine', rejects: 'rejects/{date}-{hour}.parquet' },
      { baseDir: resolve('/jobs'), name: 'hourly' },
    );
    expect(specForWindow(withRejects, w('2026-11-29T08:00:00Z', '2026-11-29T09:00:00Z')).rejects).toBe(resolve('/jobs/rejects/2026-11-29-08.parquet'));
    expect(() => parseJobSpec({ model: 'm.onnx', input: 'in.parquet', output: 'o/', schedule: '0 * * * *', on_error: 'quarantine', rejects: 'r/{nope}.parquet' }, { baseDir: '/jobs', name: 'x' })).toThrow(/rejects: unknown template token \{nope\}/);
    expect(() => parseJobSpec({ model: 'm.onnx', input: 'in.parquet', output: 'o.parquet', on_error: 'quarantine', rejects: 'r/{date}.parquet' }, { baseDir: '/jobs', name: 'x' })).toThrow(/rejects: uses window templates but the job has no `schedule`/);
  });

  it('--at picks that window; without it the last complete window', () => {
    expect(resolveWindow(spec, new Date('2026-11-29T08:00:00Z')).window.start.toISOString()).toBe('2026-11-29T08:00:00.000Z');
    expect(resolveWindow(spec, undefined, new Date('2026-11-29T09:00:00Z')).window.start.toISOString()).toBe('2026-11-29T08:00:00.000Z');
  });

  it('--at on a job without a schedule is a USAGE error', () => {
    const plain = parseJobSpec({ model: 'm.onnx', input: 'in.parquet', output: 'out.parquet' }, { baseDir: resolve('/jobs'), name: 'plain' });
    expect(() => resolveWindow(plain, new Date('2026-11-29T08:00:00Z'))).toThrow(/--at needs a job with a `schedule`/);
  });
});
