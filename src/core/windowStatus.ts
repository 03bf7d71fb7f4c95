/**
 * `status`: the state of each window of a scheduled job, read from what runs leave beside
 * and inside each window's output: the `_SUCCESS` manifest (committed), a live lock
 * (running), the shards' directory of a sharded run not committed yet (sharding: where each
 * shard stands), a staging journal (interrupted, resumable), a failure record (failed).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { JobSpec } from '../spec/jobSpec.js';
import { parseSchedule, type Window } from '../schedule/window.js';
import { readManifest } from '../sink/manifest.js';
import { failureMarkerPath, lockPathFor, shardsPathFor, stagingPathFor } from '../sink/outputPaths.js';
import { isStale, type LockHolder } from '../sink/lock.js';
import { JOURNAL_NAME } from '../sink/journal.js';
import { shardLockPath } from '../sink/shardPaths.js';
import { readRecordedPlan } from '../shard/planRecord.js';
import { shardStatus } from '../shard/shardCheck.js';
import { specForWindow, windowsInRange } from './windowRuns.js';

export type WindowStateName = 'committed' | 'missing' | 'failed' | 'locked' | 'partial' | 'sharding';

/** Where the shards of a window's sharded run stand: each index in one list (as `verify`'s, with the live ones apart). */
export interface WindowShards {
  count: number;
  /** Done: a manifest of the recorded plan, waiting for the commit. */
  committed: number[];
  /** Not done, and a live attempt holds the shard's lock. */
  running: number[];
  failed: number[];
  stale: number[];
  /** Not started, or killed. */
  missing: number[];
}

export interface WindowState {
  start: string;
  end: string;
  state: WindowStateName;
  output: string;
  rows?: number;
  committedAt?: string;
  error?: { code: string; message: string; at: string };
  holder?: LockHolder;
  shards?: WindowShards;
}

/** Windows in [from, to); by default the last 24 complete windows before `now`. */
export async function jobStatus(spec: JobSpec, from?: Date, to?: Date, now = new Date()): Promise<WindowState[]> {
  let windows: Window[];
  if (from && to) {
    windows = windowsInRange(spec, from, to);
  } else {
    // Without --to: up to the last window complete at `now` (one ending exactly now included);
    // with --to: the windows starting before it, as with --from and --to.
    const cron = parseSchedule(spec.schedule!, spec.timezone).cron;
    const end = to ?? cron.previousRuns(1, new Date(now.getTime() + 1))[0];
    const ticks = end ? cron.previousRuns(24, end) : [];
    windows = end && ticks.length > 0 ? windowsInRange(spec, from ?? ticks[ticks.length - 1]!, end) : [];
  }
  return Promise.all(windows.map((w) => windowState(spec, w)));
}

async function windowState(spec: JobSpec, window: Window): Promise<WindowState> {
  const output = specForWindow(spec, window).output;
  const base = { start: window.start.toISOString(), end: window.end.toISOString(), output };
  const holder = await liveHolder(lockPathFor(output));
  if (holder) return { ...base, state: 'locked', holder };
  const manifest = await readManifest(output);
  // A manifest of another window at this path (an ambiguous output template) does not commit this one.
  if (manifest && manifest.window?.start === base.start) return { ...base, state: 'committed', rows: manifest.rows.out, committedAt: manifest.finishedAt };
  const shards = await windowShards(output);
  if (shards) return { ...base, state: 'sharding', shards };
  const failure = await readJson<{ code: string; message: string; at: string }>(failureMarkerPath(output));
  if (failure) return { ...base, state: 'failed', error: failure };
  if (existsSync(join(stagingPathFor(output), JOURNAL_NAME))) return { ...base, state: 'partial' };
  return { ...base, state: 'missing' };
}

/** The shards of a sharded run of the window, when one has started (a plan is recorded) and is not committed. */
async function windowShards(output: string): Promise<WindowShards | null> {
  const dir = shardsPathFor(output);
  const plan = await readRecordedPlan(dir).catch(() => null);
  if (!plan) return null;
  const status = await shardStatus(dir, plan, plan.shards);
  // A shard not done whose lock a live attempt holds is running, whatever an earlier attempt left.
  const running: number[] = [];
  for (const i of [...status.missing, ...status.failed, ...status.stale]) {
    if (await liveHolder(shardLockPath(dir, i))) running.push(i);
  }
  const idle = (list: number[]) => list.filter((i) => !running.includes(i));
  return { count: plan.shards, committed: status.committed, running: running.sort((a, b) => a - b), failed: idle(status.failed), stale: idle(status.stale), missing: idle(status.missing) };
}

/** The holder of the lock at `path` while it is live; null when there is no lock or a stale one. */
async function liveHolder(path: string): Promise<LockHolder | null> {
  const holder = await readJson<LockHolder>(path);
  return holder && !isStale(holder) ? holder : null;
}

async function readJson<T>(path: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return null;
  }
}
