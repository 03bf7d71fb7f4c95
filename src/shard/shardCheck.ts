/**
 * Where a sharded run stands (`verify`), and the check `commit` makes before it writes
 * anything: every shard's manifest is there, scored under the recorded plan with one model,
 * covers exactly the plan's units for its index (so every unit once, in order), accounts for
 * every row (in = out + rejected, in = the plan's rows, the parts' spans tile the shard's row
 * ranges), lists parts (and profiles) that are still there with their recorded sizes, and the
 * shards that read one input file stamped it (size, mtime) as the plan did, as it still is: no
 * shard hashes an input, so a file touched while the shards ran is a change.
 *
 * @example
 *   const status = await shardStatus(shardsDir, plan, 4); // { complete: false, missing: [3], ... }
 *   const { parts } = await checkShards(shardsDir, plan, 4); // parts[i]: input file i's parts, in row order
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BatchinferError } from '../errors.js';
import type { Part } from '../sink/part.js';
import type { InputFileStamp } from '../sink/manifest.js';
import { readShardFailure, readShardManifest, shardManifestOf, type ShardFailure, type ShardManifest } from '../sink/shardManifest.js';
import { shardDir } from '../sink/shardPaths.js';
import { shardRanges, unitRows, type ShardPlan } from './shardPlan.js';

/** `verify`'s answer. Each shard index is in exactly one of the four lists. */
export interface ShardStatus {
  complete: boolean;
  /** Shards whose manifest belongs to the recorded plan. */
  committed: number[];
  /** Shards with neither a manifest nor a failure record: not started, running, or killed. */
  missing: number[];
  /** Shards whose last attempt failed (a failure record, no manifest of this plan). */
  failed: number[];
  /** Shards whose manifest belongs to another plan (inputs changed, or another --shards), or to an earlier batchinfer. */
  stale: number[];
  /** The failure records of the failed shards. */
  failures: ShardFailure[];
}

/** Each shard's state; with no recorded plan every shard is missing (none has started). */
export async function shardStatus(shardsDir: string, plan: ShardPlan | null, count: number): Promise<ShardStatus> {
  checkCount(plan, count);
  const status: ShardStatus = { complete: false, committed: [], missing: [], failed: [], stale: [], failures: [] };
  for (let i = 0; i < count; i++) {
    const manifest = plan ? await shardManifestOf(shardsDir, i).catch(() => null) : null;
    const failure = plan ? await readShardFailure(shardsDir, i) : null;
    if (manifest && manifest !== 'outdated' && manifest.planHash === plan!.hash) status.committed.push(i);
    else if (manifest) status.stale.push(i);
    else if (failure) {
      status.failed.push(i);
      status.failures.push(failure);
    } else status.missing.push(i);
  }
  status.complete = status.committed.length === count;
  return status;
}

export interface CheckedShards {
  manifests: ShardManifest[];
  /** Each input file's parts across the shards, in row order, with absolute paths. */
  parts: Part[][];
  /** `filtered` when the shards ran a `where`. */
  rows: { in: number; out: number; rejected: number; filtered?: number };
  model: { path: string; sha256: string };
  /** The plan's inputs (size and mtime), as every shard read them and as they still are. */
  inputs: InputFileStamp[];
}

/**
 * Checks the shards' manifests against `plan` (see the module comment); throws naming every
 * shard at fault. `expected`: the model's sha256 and the output settings (core/fingerprint.ts
 * `outputSettings`) the commit's job has, when it knows them; else the shards must agree with shard 0.
 */
export async function checkShards(shardsDir: string, plan: ShardPlan, count: number, expected: { model?: string; settings?: Record<string, string> } = {}): Promise<CheckedShards> {
  checkCount(plan, count);
  const status = await shardStatus(shardsDir, plan, count);
  if (!status.complete) throw incomplete(status, count);
  const manifests: ShardManifest[] = [];
  for (let i = 0; i < count; i++) manifests.push((await readShardManifest(shardsDir, i))!);
  const { changed, unread } = await inputStamps(plan, manifests);
  if (changed.length > 0) {
    throw new BatchinferError('INPUTS_CHANGED', `the inputs changed while the shards ran: ${changed.join('; ')}; shards do not hash their inputs, so a touch counts as a change: rerun every shard (remove the shard directory ${shardsDir} to start over)`, {
      expected: "each input file as the plan recorded it (size, mtime)",
      actual: `${changed.length} file${changed.length === 1 ? '' : 's'} changed`,
    });
  }
  const problems = [...coverageProblems(plan, manifests), ...manifests.flatMap((m) => rowProblems(plan, m)), ...modelProblems(manifests, expected.model), ...settingProblems(manifests, expected.settings), ...unread];
  if (problems.length === 0) problems.push(...(await partProblems(shardsDir, manifests)));
  if (problems.length > 0) {
    throw new BatchinferError('INPUT_INVALID', `the shards' manifests do not add up to the plan: ${problems.join('; ')}; rerun the shards named (remove their shard-I directories first)`, {
      expected: `${plan.units.length} units, ${plan.rows} rows, once each`,
      actual: `${problems.length} problem${problems.length === 1 ? '' : 's'}`,
    });
  }
  const parts: Part[][] = plan.inputs.map(() => []);
  for (const [i, m] of manifests.entries()) {
    for (const p of m.parts) parts[p.input]!.push({ path: join(shardDir(shardsDir, i), p.file), rows: p.rows, ...(p.rejects ? { rejects: join(shardDir(shardsDir, i), p.rejects.file) } : {}) });
  }
  const rows: CheckedShards['rows'] = manifests.reduce((t, m) => ({ in: t.in + m.rows.in, out: t.out + m.rows.out, rejected: t.rejected + m.rows.rejected }), { in: 0, out: 0, rejected: 0 });
  if (manifests.some((m) => m.rows.filtered !== undefined)) rows.filtered = manifests.reduce((n, m) => n + (m.rows.filtered ?? 0), 0);
  return { manifests, parts, rows, model: manifests[0]!.model, inputs: plan.inputs.map((f) => ({ ...f })) };
}

/**
 * Each input file against the plan's stamp (size, mtime): as every shard that read it stamped
 * it, and as it is now. The files that differ (naming the shards), and those no shard stamped.
 */
async function inputStamps(plan: ShardPlan, manifests: readonly ShardManifest[]): Promise<{ changed: string[]; unread: string[] }> {
  const changed: string[] = [];
  const unread: string[] = [];
  const describe = (s: { bytes: number; mtime: string }) => `${s.bytes} bytes, mtime ${s.mtime}`;
  for (const [file, input] of plan.inputs.entries()) {
    const seen = manifests.flatMap((m) => (m.inputs ?? []).filter((h) => h.file === file).map((h) => ({ shard: m.shard.index, ...h })));
    if (seen.length === 0) unread.push(`input file ${file} (${input.path}) has no stamp from any shard`);
    const views = seen.filter((h) => h.bytes !== input.bytes || h.mtime !== input.mtime).map((h) => `shard ${h.shard} read ${describe(h)}`);
    const now = await stat(input.path).then((st) => ({ bytes: st.size, mtime: st.mtime.toISOString() }), () => null);
    if (now === null) views.push('it is gone now');
    else if (now.bytes !== input.bytes || now.mtime !== input.mtime) views.push(`now ${describe(now)}`);
    if (views.length > 0) changed.push(`${input.path} (planned ${describe(input)}): ${views.join(', ')}`);
  }
  return { changed, unread };
}

function checkCount(plan: ShardPlan | null, count: number): void {
  if (plan && plan.shards !== count) {
    throw new BatchinferError('USAGE', `the shards of this output were planned for ${plan.shards} shards, not ${count}: give --shards ${plan.shards}`, { expected: `--shards ${plan.shards}`, actual: `--shards ${count}` });
  }
}

function incomplete(status: ShardStatus, count: number): BatchinferError {
  const lists = [
    status.missing.length > 0 ? `no manifest from shard${status.missing.length === 1 ? '' : 's'} ${status.missing.join(', ')}` : '',
    status.failed.length > 0 ? `shard${status.failed.length === 1 ? '' : 's'} ${status.failed.join(', ')} failed (${status.failures.map((f) => `${f.shard}: ${f.code}`).join(', ')})` : '',
    status.stale.length > 0 ? `shard${status.stale.length === 1 ? '' : 's'} ${status.stale.join(', ')} scored another plan` : '',
  ].filter((s) => s !== '');
  const rerun = [...status.missing, ...status.failed, ...status.stale].sort((a, b) => a - b);
  return new BatchinferError('INPUT_MISSING', `cannot commit: ${status.committed.length} of ${count} shards are done; ${lists.join('; ')}: rerun shard${rerun.length === 1 ? '' : 's'} ${rerun.join(', ')}`, {
    expected: `a manifest from each of the ${count} shards`,
    actual: `${status.committed.length} of ${count}`,
  });
}

/** Each shard covers exactly the units the plan assigns it: every unit once, in order. */
function coverageProblems(plan: ShardPlan, manifests: readonly ShardManifest[]): string[] {
  const problems: string[] = [];
  const seen = new Array<number>(plan.units.length).fill(0);
  for (const m of manifests) for (const u of m.units) if (u >= 0 && u < seen.length) seen[u]!++;
  const twice = seen.flatMap((n, u) => (n > 1 ? [u] : []));
  const never = seen.flatMap((n, u) => (n === 0 ? [u] : []));
  if (twice.length > 0) problems.push(`unit${twice.length === 1 ? '' : 's'} ${twice.join(', ')} covered more than once`);
  if (never.length > 0) problems.push(`unit${never.length === 1 ? '' : 's'} ${never.join(', ')} covered by no shard`);
  for (const [i, m] of manifests.entries()) {
    const a = plan.assignments[i]!;
    const expected = Array.from({ length: a.endUnit - a.firstUnit }, (_, k) => a.firstUnit + k);
    if (m.shard.index !== i || m.shard.count !== plan.shards) problems.push(`shard ${i}'s manifest says it is shard ${m.shard.index} of ${m.shard.count}`);
    else if (JSON.stringify(m.units) !== JSON.stringify(expected)) problems.push(`shard ${i} covers units [${m.units.join(', ')}], the plan gives it [${expected.join(', ')}]`);
  }
  return problems;
}

/** in = out + rejected; in = the plan's rows for the shard; the parts' spans tile the shard's ranges, their rows add up. */
function rowProblems(plan: ShardPlan, m: ShardManifest): string[] {
  const i = m.shard.index;
  const problems: string[] = [];
  const planned = plan.units.slice(plan.assignments[i]?.firstUnit ?? 0, plan.assignments[i]?.endUnit ?? 0).reduce((n, u) => n + unitRows(u), 0);
  if (m.rows.in !== m.rows.out + m.rows.rejected) problems.push(`shard ${i}: rows in ${m.rows.in} != out ${m.rows.out} + rejected ${m.rows.rejected}`);
  if (m.rows.in !== planned) problems.push(`shard ${i}: ${m.rows.in} rows in, the plan gives it ${planned}`);
  const out = m.parts.reduce((n, p) => n + p.rows, 0);
  if (out !== m.rows.out) problems.push(`shard ${i}: its parts hold ${out} rows, it says ${m.rows.out} out`);
  const spans = m.parts.map((p) => ({ file: p.input, rowStart: p.rowStart, rowEnd: p.rowEnd }));
  const joined: typeof spans = [];
  for (const s of spans) {
    const last = joined.at(-1);
    if (last && last.file === s.file && last.rowEnd === s.rowStart) last.rowEnd = s.rowEnd;
    else joined.push({ ...s });
  }
  // Spans of no rows are left out on both sides: a run writes a part of zero rows for an empty file.
  const ranges = shardRanges(plan, i);
  const wanted = ranges.filter((r) => r.rowEnd > r.rowStart).map((r) => ({ file: r.file, rowStart: r.rowStart, rowEnd: r.rowEnd }));
  const got = joined.filter((s) => s.rowEnd > s.rowStart);
  if (JSON.stringify(got) !== JSON.stringify(wanted)) problems.push(`shard ${i}: its parts span ${describeSpans(got)}, the plan gives it ${describeSpans(wanted)}`);
  const files = new Set(ranges.map((r) => r.file));
  const stray = m.parts.filter((p) => !files.has(p.input));
  if (stray.length > 0) problems.push(`shard ${i}: parts of input file${stray.length === 1 ? '' : 's'} ${[...new Set(stray.map((p) => p.input))].join(', ')}, which the plan does not give it`);
  return problems;
}

function describeSpans(spans: readonly { file: number; rowStart: number; rowEnd: number }[]): string {
  return spans.length === 0 ? 'no rows' : spans.map((s) => `file ${s.file} rows ${s.rowStart}-${s.rowEnd}`).join(', ');
}

function modelProblems(manifests: readonly ShardManifest[], expected?: string): string[] {
  const want = expected ?? manifests[0]!.model.sha256;
  const other = manifests.filter((m) => m.model.sha256 !== want);
  if (other.length === 0) return [];
  return [`shard${other.length === 1 ? '' : 's'} ${other.map((m) => `${m.shard.index} (model sha256 ${m.model.sha256.slice(0, 12)})`).join(', ')} scored with another model than ${want.slice(0, 12)}`];
}

/** Shards that ran with other output settings than `expected` (or shard 0's), naming the settings. */
function settingProblems(manifests: readonly ShardManifest[], expected?: Record<string, string>): string[] {
  const want = expected ?? manifests[0]!.settings;
  const whose = expected ? "this job's" : "shard 0's";
  return manifests.flatMap((m) => {
    const names = [...new Set([...Object.keys(want), ...Object.keys(m.settings)])].filter((k) => want[k] !== m.settings[k]);
    return names.length === 0 ? [] : [`shard ${m.shard.index} ran with other settings than ${whose} (${names.join(', ')})`];
  });
}

/** Every listed part (and rejects file, and profile) is in its shard's directory with its recorded size. */
async function partProblems(shardsDir: string, manifests: readonly ShardManifest[]): Promise<string[]> {
  const problems: string[] = [];
  for (const [i, m] of manifests.entries()) {
    for (const entry of [...m.parts.flatMap((p) => (p.rejects ? [p, p.rejects] : [p])), ...(m.profile ? [m.profile] : [])]) {
      const path = join(shardDir(shardsDir, i), entry.file);
      const size = await stat(path).then((s) => s.size, () => null);
      if (size === null) problems.push(`shard ${i}: ${entry.file} is missing`);
      else if (size !== entry.bytes) problems.push(`shard ${i}: ${entry.file} has ${size} bytes, its manifest says ${entry.bytes}`);
    }
  }
  return problems;
}
