/**
 * The plan a sharded run's shards agree on, recorded in the output's shard directory by the
 * first shard to start: created whole and at most once (`createFileOnce`: two shards starting
 * at once record one plan, and the other compares with it). Every later shard checks its own
 * plan against the record: inputs changed between shards are INPUTS_CHANGED (65) naming the
 * files, a different number of shards a usage error; neither scores a different split.
 *
 * @example
 *   const recorded = await readRecordedPlan(dir);
 *   const plan = await recordOrCheckPlan(dir, await buildShardPlan(db, files, n, { known: recorded }));
 */
import { chmod, mkdir } from 'node:fs/promises';
import { BatchinferError } from '../errors.js';
import { PRIVATE_DIR_MODE, createFileOnce } from '../sink/atomicFile.js';
import { describeInputChange } from '../sink/manifest.js';
import { planPath } from '../sink/shardPaths.js';
import { readOptional } from '../util/fs.js';
import { guardWrite } from '../util/writeFailure.js';
import { PLAN_FORMAT, planHash, type ShardPlan } from './shardPlan.js';

/** How long a reader waits for a plan another shard is writing where hard links are missing. */
const PARTIAL_RETRIES = 20;
const PARTIAL_WAIT_MS = 50;

/**
 * Records `plan` in `dir` (created, private) when no plan is recorded there; otherwise checks
 * it equals the recorded one. Returns the recorded plan (whose mtimes are those seen first).
 */
export async function recordOrCheckPlan(dir: string, plan: ShardPlan, fileMode?: number): Promise<ShardPlan> {
  await guardWrite(dir, async () => {
    await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
    await chmod(dir, PRIVATE_DIR_MODE);
  });
  if (await createFileOnce(planPath(dir), JSON.stringify(plan, null, 2) + '\n', fileMode)) return plan;
  const recorded = await waitForPlan(dir);
  checkSamePlan(recorded, plan, dir);
  return recorded;
}

/** The plan recorded in `dir`, or null when there is none. A damaged record is an error: it is not guessed around. */
export async function readRecordedPlan(dir: string): Promise<ShardPlan | null> {
  const text = await readOptional(planPath(dir));
  return text === null ? null : parsePlan(text, planPath(dir));
}

/** Throws when `now` is not the plan `recorded`: another shard count, or other inputs. */
export function checkSamePlan(recorded: ShardPlan, now: ShardPlan, dir: string): void {
  if (recorded.hash === now.hash) return;
  const where = planPath(dir);
  if (recorded.shards !== now.shards) {
    throw new BatchinferError('USAGE', `the shards of this output were planned for ${recorded.shards} shards, not ${now.shards} (${where}): give --shards ${recorded.shards}, or remove ${dir} to start the sharded run over`, {
      expected: `--shards ${recorded.shards}`,
      actual: `--shards ${now.shards}`,
    });
  }
  const change = recorded.inputs.length === now.inputs.length && recorded.inputs.every((f, i) => sameContent(f, now.inputs[i]!)) ? `the split differs (${firstUnitChange(recorded, now)})` : describeInputChange(recorded.inputs, now.inputs);
  throw new BatchinferError('INPUTS_CHANGED', `the inputs changed since the first shard recorded the plan ${where}: ${change}; shards of one run must score the same inputs (remove ${dir} to start the sharded run over)`, {
    expected: `plan ${recorded.hash.slice(0, 12)}`,
    actual: `plan ${now.hash.slice(0, 12)}`,
  });
}

function sameContent(a: ShardPlan['inputs'][number], b: ShardPlan['inputs'][number]): boolean {
  return a.path === b.path && a.bytes === b.bytes;
}

function firstUnitChange(a: ShardPlan, b: ShardPlan): string {
  const i = a.units.findIndex((u, k) => JSON.stringify(u) !== JSON.stringify(b.units[k]));
  if (i < 0) return `${a.units.length} units recorded, ${b.units.length} now`;
  return `unit ${i}: ${JSON.stringify(a.units[i])} recorded, ${JSON.stringify(b.units[i] ?? null)} now`;
}

/** The recorded plan, read again while it is short (another shard writing it without hard links). */
async function waitForPlan(dir: string): Promise<ShardPlan> {
  for (let attempt = 0; ; attempt++) {
    try {
      const plan = await readRecordedPlan(dir);
      if (plan) return plan;
    } catch (err) {
      if (attempt >= PARTIAL_RETRIES || !(err instanceof BatchinferError)) throw err;
    }
    if (attempt >= PARTIAL_RETRIES) throw new BatchinferError('INTERNAL', `the shard plan ${planPath(dir)} vanished while it was read`);
    await new Promise((r) => setTimeout(r, PARTIAL_WAIT_MS));
  }
}

function parsePlan(text: string, where: string): ShardPlan {
  let plan: ShardPlan;
  try {
    plan = JSON.parse(text) as ShardPlan;
  } catch {
    throw damaged(where, 'not JSON');
  }
  if (plan?.format !== PLAN_FORMAT) throw damaged(where, `format ${JSON.stringify(plan?.format ?? null)}`);
  if (planHash(plan) !== plan.hash) throw damaged(where, 'its hash does not match its content');
  return plan;
}

function damaged(where: string, actual: string): BatchinferError {
  return new BatchinferError('INPUT_INVALID', `the shard plan ${where} is damaged: remove its directory to start the sharded run over`, { expected: PLAN_FORMAT, actual });
}
