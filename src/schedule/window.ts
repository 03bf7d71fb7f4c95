/**
 * Time windows of a cron schedule. A window runs from one tick of the schedule to the next,
 * [start, end). Ticks are computed by croner in the job's time zone, so daily windows follow
 * local midnight across DST changes (23- and 25-hour days).
 *
 * @example
 *   windowAt(schedule('0 * * * *', 'UTC'), new Date('2026-11-29T08:00:00Z'))
 *   // { start: 08:00Z, end: 09:00Z }
 */
import { Cron } from 'croner';
import { BatchinferError } from '../errors.js';

export interface Window {
  start: Date;
  end: Date;
}

export interface Schedule {
  expression: string;
  timezone: string;
  cron: Cron;
}

/** Parses a cron expression in a time zone; both errors are job-spec errors. */
export function parseSchedule(expression: string, timezone = 'UTC'): Schedule {
  if (!isValidTimezone(timezone)) {
    throw new BatchinferError('SPEC_INVALID', `timezone: unknown time zone '${timezone}'`, { expected: 'an IANA time zone such as UTC or Europe/Berlin', actual: timezone });
  }
  let cron: Cron;
  try {
    cron = new Cron(expression, { timezone, paused: true, mode: '5-or-6-parts' });
  } catch (err) {
    throw new BatchinferError('SPEC_INVALID', `schedule: not a valid cron expression: ${(err as Error).message}`, { expected: "a cron expression such as '0 * * * *'", actual: expression });
  }
  if (!cron.nextRun(new Date(0))) {
    throw new BatchinferError('SPEC_INVALID', 'schedule: the expression never fires', { actual: expression });
  }
  return { expression, timezone, cron };
}

/** The window that starts at `start`, which must be a tick of the schedule. */
export function windowAt(schedule: Schedule, start: Date): Window {
  const tick = schedule.cron.nextRun(new Date(start.getTime() - 1000));
  if (!tick || tick.getTime() !== start.getTime()) {
    const containing = windowContaining(schedule, start);
    throw new BatchinferError('USAGE', `--at ${start.toISOString()} is not the start of a window of schedule '${schedule.expression}' (${schedule.timezone})`, {
      expected: `a window start such as ${containing.start.toISOString()}`,
      actual: start.toISOString(),
    });
  }
  return { start, end: schedule.cron.nextRun(start)! };
}

/** The last complete window before `now`: a job fired at 09:05 on an hourly schedule scores 08:00-09:00. */
export function lastCompleteWindow(schedule: Schedule, now: Date): Window {
  // previousRuns is strictly before its argument; a window ending exactly at `now` is complete.
  const [end, start] = schedule.cron.previousRuns(2, new Date(now.getTime() + 1));
  if (!end || !start) throw new BatchinferError('SPEC_INVALID', 'schedule: no complete window before now', { actual: schedule.expression });
  return { start, end };
}

/** The window that contains `time`. */
export function windowContaining(schedule: Schedule, time: Date): Window {
  const next = schedule.cron.nextRun(time)!;
  const [start] = schedule.cron.previousRuns(1, new Date(time.getTime() + 1));
  return { start: start ?? time, end: next };
}

/** Every window starting in [from, to), in order. */
export function windowsBetween(schedule: Schedule, from: Date, to: Date, limit = 100_000): Window[] {
  const windows: Window[] = [];
  // nextRun is strictly after its argument: 1 ms before `from` finds a tick at `from` itself.
  let start = schedule.cron.nextRun(new Date(from.getTime() - 1));
  while (start && start.getTime() < to.getTime()) {
    const end = schedule.cron.nextRun(start)!;
    windows.push({ start, end });
    if (windows.length > limit) {
      throw new BatchinferError('USAGE', `the range holds more than ${limit} windows`, { expected: `at most ${limit}`, actual: 'more' });
    }
    start = end;
  }
  return windows;
}

/**
 * Parses an ISO 8601 time given on the command line. A time without an offset (or a bare
 * date) is read in the job's time zone: `--at 2026-11-29` on a Europe/Berlin daily job is
 * Berlin midnight.
 */
export function parseTime(text: string, flag: string, timezone = 'UTC'): Date {
  const match = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(text.trim());
  const bad = (): BatchinferError => new BatchinferError('USAGE', `${flag} takes an ISO 8601 time`, { expected: '2026-11-29T08:00:00Z', actual: text });
  if (!match) throw bad();
  const [y, mo, d, h, mi, sec] = match.slice(1, 7).map((v) => Number(v ?? 0)) as [number, number, number, number, number, number];
  // Date.UTC rolls 2026-02-30 over to 2 March and 24:00 to the next day: refuse out-of-range fields.
  const fields = new Date(Date.UTC(y, mo - 1, d, h, mi, sec));
  if (fields.getUTCFullYear() !== y || fields.getUTCMonth() !== mo - 1 || fields.getUTCDate() !== d || fields.getUTCHours() !== h || fields.getUTCMinutes() !== mi || fields.getUTCSeconds() !== sec) throw bad();
  if (match[8]) {
    const date = new Date(text.trim());
    if (Number.isNaN(date.getTime())) throw bad();
    return date;
  }
  const naive = fields.getTime() + Math.round(Number(match[7] ?? 0) * 1000);
  // Shift by the zone's offset at that instant; a second pass settles DST edges.
  let utc = naive - zoneOffsetMs(timezone, new Date(naive));
  utc = naive - zoneOffsetMs(timezone, new Date(utc));
  return new Date(utc);
}

/** Offset of `timezone` from UTC at `at`, in ms (Berlin in winter: +3600000). */
export function zoneOffsetMs(timezone: string, at: Date): number {
  const parts = zonedParts(timezone, at);
  return Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second) - Math.floor(at.getTime() / 1000) * 1000;
}

export interface ZonedParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** Calendar fields of `at` as seen in `timezone`. */
export function zonedParts(timezone: string, at: Date): ZonedParts {
  const fmt = new Intl.DateTimeFormat('en-US', {
    timeZone: timezone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
  const get = (type: string): number => Number(fmt.formatToParts(at).find((p) => p.type === type)?.value);
  return { year: get('year'), month: get('month'), day: get('day'), hour: get('hour'), minute: get('minute'), second: get('second') };
}

function isValidTimezone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
