/**
 * The values of the output's prediction columns for one batch, from the prediction-table
 * columns `Postprocessor.columns` gave (a run profiles them: profile/runProfiler.ts). A
 * two-class classifier whose part SQL decides the class (sink/partWriter.ts
 * `predictionsRelation`, `decided`, `predictionSelect`: the argmax or a `threshold`, with
 * `review_below` and `review_band`) hands its probabilities and that rule to the profile's
 * kernel (profile/kernels.ts `twoClassColumns`); the other outputs' columns hold their class
 * and confidence, and their review flags are set here. test/e2e/runProfile.test.ts checks the
 * profile's class counts and review rate against the committed output.
 */
import type { AppendColumn } from '../db/duckdb.js';
import { classNames, derivesInSql, type OutputPlan } from './outputPlan.js';
import type { TwoClassRule } from '../profile/kernels.js';
import type { BatchPredictions } from '../profile/runProfiler.js';

/** The names of the numeric prediction columns a profile takes (a two-class classifier's: confidence, p0, p1), in order. */
export function numericPredictionNames(plan: OutputPlan): string[] {
  if (plan.task === 'regression') return plan.width === 1 ? ['prediction'] : Array.from({ length: plan.width }, (_, i) => `prediction_${i}`);
  return ['confidence', ...classNames(plan).map((label) => `prob_${label}`)];
}

export function hasReview(plan: OutputPlan): boolean {
  return plan.task === 'classification' && (plan.reviewBelow !== undefined || plan.decision?.reviewBand !== undefined);
}

export function predictionValues(plan: OutputPlan, columns: readonly AppendColumn[], rows: number): BatchPredictions {
  if (plan.task === 'regression') return { kind: 'decided', classIndex: null, review: null, numeric: columns.slice(0, plan.width).map((c) => c.data as Float32Array | Float64Array) };
  const rule = twoClassRule(plan);
  if (rule) {
    if (!derivesInSql(plan)) return { kind: 'two-class', p0: f32(columns[2]!), p1: f32(columns[3]!), rule };
    return plan.binary ? { kind: 'two-class', p0: null, p1: f32(columns[0]!), rule } : { kind: 'two-class', p0: f32(columns[0]!), p1: f32(columns[1]!), rule };
  }
  const probs = columns.slice(2, 2 + plan.classes).map(f32);
  const confidence = columns[1]!.data as Float32Array;
  return { kind: 'decided', classIndex: columns[0]!.data as Int32Array, review: review(plan, probs, confidence, rows), numeric: [confidence, ...probs] };
}

/**
 * The rule of a two-class classifier whose part SQL decides the class (a threshold, or a table
 * that derives it: partWriter.ts), for the kernel; null when the columns hold the class.
 */
function twoClassRule(plan: Extract<OutputPlan, { task: 'classification' }>): TwoClassRule | null {
  const threshold = plan.decision?.threshold;
  if (threshold === undefined && !derivesInSql(plan)) return null;
  const band = plan.decision?.reviewBand;
  return { threshold: threshold ?? NaN, positive: plan.decision?.positive ?? 1, below: plan.reviewBelow ?? NaN, low: band?.[0] ?? NaN, high: band?.[1] ?? NaN };
}

/** A probability column as the output's prob_ columns hold it (float32). */
function f32(c: AppendColumn): Float32Array {
  return c.data instanceof Float32Array ? c.data : Float32Array.from(c.data as Float64Array);
}

function review(plan: Extract<OutputPlan, { task: 'classification' }>, probs: Float32Array[], confidence: Float32Array, rows: number): Uint8Array | null {
  if (!hasReview(plan)) return null;
  const flags = new Uint8Array(rows);
  const below = plan.reviewBelow;
  const band = plan.decision?.reviewBand;
  const p = band ? probs[plan.decision!.positive]! : null;
  for (let r = 0; r < rows; r++) {
    const c = confidence[r]!;
    const low = below !== undefined && (c < below || Number.isNaN(c));
    const inBand = p !== null && p[r]! >= band![0] && p[r]! <= band![1];
    flags[r] = low || inBand ? 1 : 0;
  }
  return flags;
}
