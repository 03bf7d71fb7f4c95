/**
 * The values of the output's prediction columns for one batch, from the prediction-table
 * columns `Postprocessor.columns` gave (a run profiles them: profile/runProfiler.ts). They
 * follow the rules the part writer's SQL applies (sink/partWriter.ts `predictionsRelation`,
 * `decided`, `predictionSelect`): the argmax (the first class wins a tie, NaN never wins) or
 * the two-class `threshold`, `review_below` and `review_band`. test/e2e/runProfile.test.ts
 * checks the profile's class counts and review rate against the committed output.
 */
import type { AppendColumn } from '../db/duckdb.js';
import { classNames, derivesInSql, type OutputPlan } from './outputPlan.js';

export interface PredictionValues {
  /** Predicted class per row (-1: none); null for a regression. */
  classIndex: Int32Array | null;
  review: Uint8Array | null;
  /** `confidence` then each `prob_<label>` (classification), or each regression value. */
  numeric: (Float32Array | Float64Array)[];
}

/** The names of `predictionValues(...).numeric`, in order. */
export function numericPredictionNames(plan: OutputPlan): string[] {
  if (plan.task === 'regression') return plan.width === 1 ? ['prediction'] : Array.from({ length: plan.width }, (_, i) => `prediction_${i}`);
  return ['confidence', ...classNames(plan).map((label) => `prob_${label}`)];
}

export function hasReview(plan: OutputPlan): boolean {
  return plan.task === 'classification' && (plan.reviewBelow !== undefined || plan.decision?.reviewBand !== undefined);
}

export function predictionValues(plan: OutputPlan, columns: readonly AppendColumn[], rows: number): PredictionValues {
  if (plan.task === 'regression') return { classIndex: null, review: null, numeric: columns.slice(0, plan.width).map((c) => c.data as Float32Array | Float64Array) };
  const probs = probabilities(plan, columns, rows);
  let pred: Int32Array;
  let confidence: Float32Array;
  const threshold = plan.decision?.threshold;
  if (threshold !== undefined) ({ pred, confidence } = byThreshold(probs, plan.decision!.positive, threshold, rows));
  else if (derivesInSql(plan)) ({ pred, confidence } = argmaxOfTwo(probs, rows));
  else ({ pred, confidence } = { pred: columns[0]!.data as Int32Array, confidence: columns[1]!.data as Float32Array });
  return { classIndex: pred, review: review(plan, probs, confidence, rows), numeric: [confidence, ...probs] };
}

/** p0, p1, ... as the output's prob_ columns hold them (float32). */
function probabilities(plan: Extract<OutputPlan, { task: 'classification' }>, columns: readonly AppendColumn[], rows: number): Float32Array[] {
  const f32 = (c: AppendColumn): Float32Array => (c.data instanceof Float32Array ? c.data : Float32Array.from(c.data as Float64Array));
  if (!derivesInSql(plan)) return columns.slice(2, 2 + plan.classes).map(f32);
  if (!plan.binary) return [f32(columns[0]!), f32(columns[1]!)];
  const p1 = f32(columns[0]!);
  const p0 = new Float32Array(rows);
  for (let r = 0; r < rows; r++) p0[r] = 1 - p1[r]!;
  return [p0, p1];
}

/** The argmax of two classes as the SQL has it: class 0 if a number above -Infinity, class 1 if a number above that. */
function argmaxOfTwo([p0, p1]: Float32Array[], rows: number): { pred: Int32Array; confidence: Float32Array } {
  const pred = new Int32Array(rows);
  const confidence = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const a = p0![r]!;
    const b = p1![r]!;
    const first = !Number.isNaN(a) && a > -Infinity;
    const c = !Number.isNaN(b) && b > (first ? a : -Infinity) ? 1 : first ? 0 : -1;
    pred[r] = c;
    confidence[r] = c === 1 ? b : c === 0 ? a : NaN;
  }
  return { pred, confidence };
}

function byThreshold(probs: Float32Array[], positive: number, threshold: number, rows: number): { pred: Int32Array; confidence: Float32Array } {
  const pred = new Int32Array(rows);
  const confidence = new Float32Array(rows);
  const p = probs[positive]!;
  const other = probs[1 - positive]!;
  for (let r = 0; r < rows; r++) {
    if (Number.isNaN(p[r]!)) {
      pred[r] = -1;
      confidence[r] = NaN;
    } else if (p[r]! >= threshold) {
      pred[r] = positive;
      confidence[r] = p[r]!;
    } else {
      pred[r] = 1 - positive;
      confidence[r] = other[r]!;
    }
  }
  return { pred, confidence };
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
