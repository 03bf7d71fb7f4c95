/**
 * `batchinfer plan JOB --shards N`: the split a sharded run of the job would score, computed
 * from the job's input as a run reads it (the job is validated as for a run), and compared
 * with the plan recorded beside the output, if a shard has started. It records nothing.
 */
import { Db } from '../db/duckdb.js';
import type { JobSpec } from '../spec/jobSpec.js';
import type { Window } from '../schedule/window.js';
import { readRecordedPlan } from '../shard/planRecord.js';
import { shardRanges, type ShardPlan, type ShardRange } from '../shard/shardPlan.js';
import { shardsPathFor } from '../sink/outputPaths.js';
import { planExecution } from './executionPlan.js';
import { openJobKeys } from './jobKeys.js';
import { prepareJob } from './prepare.js';
import { shardPlanFor } from './shardRun.js';

export interface PlannedShard {
  shard: number;
  rows: number;
  /** Plan units [first, end). */
  units: [number, number];
  /** What the shard reads: spans of input file rows. */
  ranges: ShardRange[];
}

export interface PlanReport {
  job: string;
  output: string;
  /** Where the shards keep the plan, their staging and manifests. */
  shardsDir: string;
  /** The plan recorded there by a shard that started: the same as this one, another, or none yet. */
  recorded: 'same' | 'different' | 'none';
  shards: PlannedShard[];
  plan: ShardPlan;
}

export async function planJob(spec: JobSpec, shards: number, window?: Window): Promise<PlanReport> {
  const db = await Db.open({ timezone: spec.timezone });
  try {
    // Encrypted inputs: their rows are counted with the key.
    await openJobKeys(db, spec);
    const job = await prepareJob(db, spec, window ? { windowed: true, window } : {});
    const shardsDir = shardsPathFor(spec.output);
    const recorded = await readRecordedPlan(shardsDir);
    const plan = await shardPlanFor(db, job, await planExecution(db, job, { window: window ?? null }), shards, recorded);
    return {
      job: spec.name,
      output: spec.output,
      shardsDir,
      recorded: recorded === null ? 'none' : recorded.hash === plan.hash ? 'same' : 'different',
      shards: plan.assignments.map((a) => ({ shard: a.shard, rows: a.rows, units: [a.firstUnit, a.endUnit], ranges: shardRanges(plan, a.shard) })),
      plan,
    };
  } finally {
    db.close();
  }
}
