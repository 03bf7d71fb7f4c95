/**
 * Windows of cron schedules (src/schedule/window.ts): which window a run scores, the windows
 * of a backfill range, and `--at`/`--from`/`--to` parsing, in UTC and across Europe/Berlin's
 * DST changes (2026-03-29 has 23 hours, 2026-10-25 has 25).
 */
import { describe, expect, it } from 'vitest';
import { BatchinferError } from '../../src/errors.js';
import { lastCompleteWindow, parseSchedule, parseTime, windowAt, windowContaining, windowsBetween, zoneOffsetMs, type Window } from '../../src/schedule/window.js';

const HOURLY = parseSchedule('0 * * * *', 'UTC');
const DAILY = parseSchedule('0 0 * * *', 'UTC');
const QUARTER = parseSchedule('*/15 * * * *', 'UTC');
const BERLIN_DAILY = parseSchedule('0 0 * * *', 'Europe/Berlin');
const BERLIN_HOURLY = parseSchedule('0 * * * *', 'Europe/Berlin');

const t = (iso: string): Date => new Date(iso);
const HOUR = 3_600_000;
/** A window as ISO strings, for readable equality. */
const show = (w: Window): [string, string] => [w.start.toISOString(), w.end.toISOString()];
const hours = (w: Window): number => (w.end.getTime() - w.start.getTime()) / HOUR;

/** The BatchinferError `fn` throws; fails the test when it returns. */
function errorOf(fn: () => unknown): BatchinferError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(BatchinferError);
    return err as BatchinferError;
  }
  throw new Error('expected a BatchinferError');
}

/** Windows must tile the range: each starts where the previous ended, none repeats. */
function expectContiguous(windows: Window[]): void {
  for (let i = 1; i < windows.length; i++) expect(windows[i]!.start.getTime()).toBe(windows[i - 1]!.end.getTime());
  expect(new Set(windows.map((w) => w.start.getTime())).size).toBe(windows.length);
}

describe('windowAt', () => {
  it('an hourly tick starts a one-hour window', () => {
    expect(show(windowAt(HOURLY, t('2026-11-29T08:00:00Z')))).toEqual(['2026-11-29T08:00:00.000Z', '2026-11-29T09:00:00.000Z']);
  });

  it('a daily tick starts a one-day window; a 15-minute tick a 15-minute one', () => {
    expect(show(windowAt(DAILY, t('2026-11-29T00:00:00Z')))).toEqual(['2026-11-29T00:00:00.000Z', '2026-11-30T00:00:00.000Z']);
    expect(show(windowAt(QUARTER, t('2026-11-29T09:45:00Z')))).toEqual(['2026-11-29T09:45:00.000Z', '2026-11-29T10:00:00.000Z']);
  });

  it.each([
    ['hourly, mid-hour', HOURLY, '2026-11-29T08:30:00Z', '2026-11-29T08:00:00.000Z'],
    ['hourly, half a second past the tick', HOURLY, '2026-11-29T08:00:00.500Z', '2026-11-29T08:00:00.000Z'],
    ['daily, at noon', DAILY, '2026-11-29T12:00:00Z', '2026-11-29T00:00:00.000Z'],
    ['15-minute, at :20', QUARTER, '2026-11-29T09:20:00Z', '2026-11-29T09:15:00.000Z'],
    ['Berlin daily, at UTC midnight', BERLIN_DAILY, '2026-11-29T00:00:00Z', '2026-11-28T23:00:00.000Z'],
  ])('%s is not a tick: USAGE naming the containing window start', (_name, schedule, at, containing) => {
    const err = errorOf(() => windowAt(schedule, t(at)));
    expect(err.code).toBe('USAGE');
    expect(err.message).toContain(`--at ${t(at).toISOString()} is not the start of a window`);
    expect(err.message).toContain(schedule.expression);
    expect(err.expected).toBe(`a window start such as ${containing}`);
    expect(err.actual).toBe(t(at).toISOString());
  });
});

describe('lastCompleteWindow', () => {
  it('a job fired at 09:05 on an hourly schedule scores 08:00-09:00', () => {
    expect(show(lastCompleteWindow(HOURLY, t('2026-11-29T09:05:00Z')))).toEqual(['2026-11-29T08:00:00.000Z', '2026-11-29T09:00:00.000Z']);
  });

  it('exactly at 09:00:00 the 08:00-09:00 window is complete and is the one scored', () => {
    expect(show(lastCompleteWindow(HOURLY, t('2026-11-29T09:00:00.000Z')))).toEqual(['2026-11-29T08:00:00.000Z', '2026-11-29T09:00:00.000Z']);
  });

  it('one millisecond before 09:00 the 08:00 window is still open', () => {
    expect(show(lastCompleteWindow(HOURLY, t('2026-11-29T08:59:59.999Z')))).toEqual(['2026-11-29T07:00:00.000Z', '2026-11-29T08:00:00.000Z']);
  });

  it('daily: yesterday, also exactly at midnight', () => {
    expect(show(lastCompleteWindow(DAILY, t('2026-11-29T09:05:00Z')))).toEqual(['2026-11-28T00:00:00.000Z', '2026-11-29T00:00:00.000Z']);
    expect(show(lastCompleteWindow(DAILY, t('2026-11-29T00:00:00Z')))).toEqual(['2026-11-28T00:00:00.000Z', '2026-11-29T00:00:00.000Z']);
  });

  it('15-minute: at 09:05 the 08:45-09:00 window; at 09:15:00 the 09:00-09:15 one', () => {
    expect(show(lastCompleteWindow(QUARTER, t('2026-11-29T09:05:00Z')))).toEqual(['2026-11-29T08:45:00.000Z', '2026-11-29T09:00:00.000Z']);
    expect(show(lastCompleteWindow(QUARTER, t('2026-11-29T09:15:00Z')))).toEqual(['2026-11-29T09:00:00.000Z', '2026-11-29T09:15:00.000Z']);
  });

  it('Berlin daily just after local midnight: the previous local day', () => {
    // 2026-11-29T23:30Z is 00:30 on 30 November in Berlin.
    expect(show(lastCompleteWindow(BERLIN_DAILY, t('2026-11-29T23:30:00Z')))).toEqual(['2026-11-28T23:00:00.000Z', '2026-11-29T23:00:00.000Z']);
  });

  it('the window it returns is one windowAt accepts', () => {
    for (const schedule of [HOURLY, DAILY, QUARTER, BERLIN_DAILY]) {
      const w = lastCompleteWindow(schedule, t('2026-11-29T09:05:00Z'));
      expect(show(windowAt(schedule, w.start))).toEqual(show(w));
    }
  });
});

describe('windowContaining', () => {
  it('a time inside a window, and a tick itself', () => {
    expect(show(windowContaining(HOURLY, t('2026-11-29T08:30:00Z')))).toEqual(['2026-11-29T08:00:00.000Z', '2026-11-29T09:00:00.000Z']);
    expect(show(windowContaining(HOURLY, t('2026-11-29T08:00:00Z')))).toEqual(['2026-11-29T08:00:00.000Z', '2026-11-29T09:00:00.000Z']);
  });
});

describe('windowsBetween', () => {
  it('hourly: every window starting in [from, to), in order', () => {
    const windows = windowsBetween(HOURLY, t('2026-11-29T00:00:00Z'), t('2026-11-29T06:00:00Z'));
    expect(windows.map((w) => w.start.toISOString())).toEqual(['00', '01', '02', '03', '04', '05'].map((h) => `2026-11-29T${h}:00:00.000Z`));
    expect(windows.every((w) => hours(w) === 1)).toBe(true);
    expectContiguous(windows);
  });

  it('from off a tick starts at the next tick; to is exclusive', () => {
    const windows = windowsBetween(HOURLY, t('2026-11-29T00:30:00Z'), t('2026-11-29T03:00:00Z'));
    expect(windows.map((w) => w.start.toISOString())).toEqual(['2026-11-29T01:00:00.000Z', '2026-11-29T02:00:00.000Z']);
  });

  it('from a fraction of a second past a tick starts at the next tick', () => {
    const windows = windowsBetween(HOURLY, t('2026-11-29T08:00:00.500Z'), t('2026-11-29T10:00:00Z'));
    expect(windows.map((x) => x.start.toISOString())).toEqual(['2026-11-29T09:00:00.000Z']);
  });

  it('a range shorter than one window and not holding a tick is empty', () => {
    expect(windowsBetween(HOURLY, t('2026-11-29T00:10:00Z'), t('2026-11-29T00:50:00Z'))).toEqual([]);
  });

  it('15-minute: four windows per hour', () => {
    const windows = windowsBetween(QUARTER, t('2026-11-29T09:00:00Z'), t('2026-11-29T10:00:00Z'));
    expect(windows.map(show)).toEqual([
      ['2026-11-29T09:00:00.000Z', '2026-11-29T09:15:00.000Z'],
      ['2026-11-29T09:15:00.000Z', '2026-11-29T09:30:00.000Z'],
      ['2026-11-29T09:30:00.000Z', '2026-11-29T09:45:00.000Z'],
      ['2026-11-29T09:45:00.000Z', '2026-11-29T10:00:00.000Z'],
    ]);
  });

  it('daily over a week', () => {
    const windows = windowsBetween(DAILY, t('2026-11-23T00:00:00Z'), t('2026-11-30T00:00:00Z'));
    expect(windows).toHaveLength(7);
    expect(windows.every((w) => hours(w) === 24)).toBe(true);
    expectContiguous(windows);
  });

  it('refuses a range with more windows than the limit', () => {
    const err = errorOf(() => windowsBetween(QUARTER, t('2026-11-29T00:00:00Z'), t('2026-11-30T00:00:00Z'), 10));
    expect(err.code).toBe('USAGE');
    expect(err.message).toContain('more than 10 windows');
  });
});

describe('Europe/Berlin and DST', () => {
  it('daily windows follow local midnight: 2026-03-29 has 23 hours', () => {
    const windows = windowsBetween(BERLIN_DAILY, parseTime('2026-03-28', '--from', 'Europe/Berlin'), parseTime('2026-03-31', '--to', 'Europe/Berlin'));
    expect(windows.map(show)).toEqual([
      ['2026-03-27T23:00:00.000Z', '2026-03-28T23:00:00.000Z'],
      ['2026-03-28T23:00:00.000Z', '2026-03-29T22:00:00.000Z'],
      ['2026-03-29T22:00:00.000Z', '2026-03-30T22:00:00.000Z'],
    ]);
    expect(windows.map(hours)).toEqual([24, 23, 24]);
  });

  it('daily windows follow local midnight: 2026-10-25 has 25 hours', () => {
    const windows = windowsBetween(BERLIN_DAILY, parseTime('2026-10-24', '--from', 'Europe/Berlin'), parseTime('2026-10-27', '--to', 'Europe/Berlin'));
    expect(windows.map(show)).toEqual([
      ['2026-10-23T22:00:00.000Z', '2026-10-24T22:00:00.000Z'],
      ['2026-10-24T22:00:00.000Z', '2026-10-25T23:00:00.000Z'],
      ['2026-10-25T23:00:00.000Z', '2026-10-26T23:00:00.000Z'],
    ]);
    expect(windows.map(hours)).toEqual([24, 25, 24]);
  });

  it('--at a bare date on a Berlin daily job is that local day', () => {
    expect(hours(windowAt(BERLIN_DAILY, parseTime('2026-03-29', '--at', 'Europe/Berlin')))).toBe(23);
    expect(hours(windowAt(BERLIN_DAILY, parseTime('2026-10-25', '--at', 'Europe/Berlin')))).toBe(25);
    expect(show(windowAt(BERLIN_DAILY, parseTime('2026-11-29', '--at', 'Europe/Berlin')))).toEqual(['2026-11-28T23:00:00.000Z', '2026-11-29T23:00:00.000Z']);
  });

  it('hourly across the spring-forward gap: one window per real hour, none missing or repeated', () => {
    // Local 02:00-03:00 on 2026-03-29 does not exist: 01:00 CET is followed by 03:00 CEST (01:00Z).
    const windows = windowsBetween(BERLIN_HOURLY, t('2026-03-28T22:00:00Z'), t('2026-03-29T04:00:00Z'));
    expect(windows.map((w) => w.start.toISOString().slice(11, 16))).toEqual(['22:00', '23:00', '00:00', '01:00', '02:00', '03:00']);
    expect(windows.every((w) => hours(w) === 1)).toBe(true);
    expectContiguous(windows);
    // The window that spans the gap is a tick for windowAt too.
    expect(show(windowAt(BERLIN_HOURLY, t('2026-03-29T01:00:00Z')))).toEqual(['2026-03-29T01:00:00.000Z', '2026-03-29T02:00:00.000Z']);
  });

  it('hourly across the fall-back: the repeated local hour gives two windows', () => {
    const windows = windowsBetween(BERLIN_HOURLY, t('2026-10-24T23:00:00Z'), t('2026-10-25T03:00:00Z'));
    expect(windows.map((w) => w.start.toISOString().slice(11, 16))).toEqual(['23:00', '00:00', '01:00', '02:00']);
    expect(windows.every((w) => hours(w) === 1)).toBe(true);
    expectContiguous(windows);
  });
});

describe('parseTime', () => {
  it.each([
    ['2026-11-29T08:00:00Z', 'UTC', '2026-11-29T08:00:00.000Z'],
    ['2026-11-29T08:00:00Z', 'Europe/Berlin', '2026-11-29T08:00:00.000Z'],
    ['2026-11-29T08:00:00+02:00', 'Europe/Berlin', '2026-11-29T06:00:00.000Z'],
    ['2026-11-29T08:00:00-0530', 'UTC', '2026-11-29T13:30:00.000Z'],
    ['2026-11-29T08:00:00.250Z', 'UTC', '2026-11-29T08:00:00.250Z'],
  ])('%s with an offset is that instant, whatever the job zone (%s)', (text, zone, iso) => {
    expect(parseTime(text, '--at', zone).toISOString()).toBe(iso);
  });

  it.each([
    ['2026-11-29T08:00:00', 'UTC', '2026-11-29T08:00:00.000Z'],
    ['2026-11-29T08:00', 'UTC', '2026-11-29T08:00:00.000Z'],
    ['2026-11-29 08:00:00', 'UTC', '2026-11-29T08:00:00.000Z'],
    ['2026-11-29T08:00:00', 'Europe/Berlin', '2026-11-29T07:00:00.000Z'],
    ['2026-07-01T08:00:00', 'Europe/Berlin', '2026-07-01T06:00:00.000Z'],
    ['2026-11-29T08:00:00.5', 'UTC', '2026-11-29T08:00:00.500Z'],
  ])('%s without an offset is read in the job zone (%s)', (text, zone, iso) => {
    expect(parseTime(text, '--at', zone).toISOString()).toBe(iso);
  });

  it.each([
    ['2026-11-29', 'UTC', '2026-11-29T00:00:00.000Z'],
    ['2026-11-29', 'Europe/Berlin', '2026-11-28T23:00:00.000Z'],
    ['2026-07-01', 'Europe/Berlin', '2026-06-30T22:00:00.000Z'],
    ['2026-03-29', 'Europe/Berlin', '2026-03-28T23:00:00.000Z'],
    ['2026-03-30', 'Europe/Berlin', '2026-03-29T22:00:00.000Z'],
    ['2026-10-25', 'Europe/Berlin', '2026-10-24T22:00:00.000Z'],
    ['2026-10-26', 'Europe/Berlin', '2026-10-25T23:00:00.000Z'],
  ])('a bare date %s is local midnight in %s', (text, zone, iso) => {
    expect(parseTime(text, '--from', zone).toISOString()).toBe(iso);
  });

  it('a local time in the spring-forward gap moves forward; the repeated fall-back hour takes one of its instants', () => {
    // 02:30 does not exist on 2026-03-29 in Berlin: the same distance past 02:00 CET is 03:30 CEST.
    expect(parseTime('2026-03-29T02:30', '--at', 'Europe/Berlin').toISOString()).toBe('2026-03-29T01:30:00.000Z');
    expect(['2026-10-25T00:30:00.000Z', '2026-10-25T01:30:00.000Z']).toContain(parseTime('2026-10-25T02:30', '--at', 'Europe/Berlin').toISOString());
  });

  it.each(['yesterday', '2026-11-29T8:00', '29.11.2026', '2026-11-29T08:00:00 UTC', '', '2026-13-01', '2026-02-30', '2026-11-29T24:00', '2026-11-29T08:60', '2026-11-29T08:00:00+25:00'])(
    '%j is a USAGE error naming the flag and the value',
    (text) => {
      const err = errorOf(() => parseTime(text, '--from', 'Europe/Berlin'));
      expect(err.code).toBe('USAGE');
      expect(err.message).toBe('--from takes an ISO 8601 time');
      expect(err.actual).toBe(text);
      expect(err.exitCode).toBe(2);
    },
  );

  it('zoneOffsetMs: Berlin is +1 h in winter and +2 h in summer', () => {
    expect(zoneOffsetMs('Europe/Berlin', t('2026-11-29T12:00:00Z'))).toBe(HOUR);
    expect(zoneOffsetMs('Europe/Berlin', t('2026-07-01T12:00:00Z'))).toBe(2 * HOUR);
    expect(zoneOffsetMs('UTC', t('2026-07-01T12:00:00Z'))).toBe(0);
  });
});

describe('parseSchedule', () => {
  it('accepts 5- and 6-part expressions in a zone', () => {
    expect(parseSchedule('0 * * * *', 'Europe/Berlin')).toMatchObject({ expression: '0 * * * *', timezone: 'Europe/Berlin' });
    expect(parseSchedule('30 0 * * * *').timezone).toBe('UTC');
  });

  it.each([
    ['61 * * * *', /schedule: not a valid cron expression: .*minute/],
    ['not a cron', /schedule: not a valid cron expression/],
    ['0 0 30 2 *', /schedule: the expression never fires/],
  ])('%j is SPEC_INVALID', (expression, message) => {
    const err = errorOf(() => parseSchedule(expression, 'UTC'));
    expect(err.code).toBe('SPEC_INVALID');
    expect(err.message).toMatch(message);
    expect(err.actual).toBe(expression);
    expect(err.exitCode).toBe(78);
  });

  it('an unknown time zone is SPEC_INVALID naming it', () => {
    const err = errorOf(() => parseSchedule('0 * * * *', 'Mars/Olympus_Mons'));
    expect(err.code).toBe('SPEC_INVALID');
    expect(err.message).toBe("timezone: unknown time zone 'Mars/Olympus_Mons'");
    expect(err.actual).toBe('Mars/Olympus_Mons');
  });
});
