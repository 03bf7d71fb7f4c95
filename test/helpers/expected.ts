/**
 * The expected side of the end-to-end tests: builds model inputs from dataset rows the way
 * a job describes them, runs the independent float64 reference (`reference.ts`), turns
 * scores into probabilities/labels, and compares with the rows the CLI wrote.
 *
 * Nothing here imports src/: the rules are restated from the job format, so a test fails
 * when src and this file disagree.
 *
 * @example
 *   const expected = expectedPredictions('mlp', rows, { x: { columns: ['amount', 'f0', 'f1', 'risk score'], fillNull: 0 } }, { labels: ['legit', 'fraud'] });
 *   expect(comparePredictions(outputRows, expected, { reviewBelow: 0.8 })).toEqual([]);
 */
import { feedRows, loadReference, type RefFeed, type Sidecar } from './reference.js';
import type { Row } from './parquet.js';

/** float32 inference (and float32 storage) vs the float64 reference. */
export const TOLERANCE = 1e-5;

/** How one model input is built from columns (the job file's `inputs.<name>`, camelCased). */
export interface FeatureSpec {
  columns?: string[];
  column?: string;
  fillNull?: number | 'error';
  scale?: { mean: number[]; std: number[] };
  vocab?: (string | number)[];
  unknown?: number | 'error';
}

/** A job file's keys that decide the features (snake_case, as written in YAML). */
export interface JobKeys {
  model?: string;
  input?: string;
  output?: string;
  features?: string[];
  inputs?: Record<string, { columns?: string[]; column?: string; fill_null?: number | 'error'; scale?: { mean: number[]; std: number[] }; vocab?: (string | number)[]; unknown?: number | 'error' }>;
  labels?: string[];
  task?: 'classification' | 'regression';
  scores?: 'probabilities' | 'logits';
  review_below?: number;
  batch_size?: number;
  passthrough?: string[];
}

/** The feature specs a job implies for a model: `inputs`, else `features`, else inputs named like columns. */
export function featureSpecsOf(job: JobKeys, sidecar: Sidecar): Record<string, FeatureSpec> {
  const specs: Record<string, FeatureSpec> = {};
  for (const input of sidecar.inputs) {
    const s = job.inputs?.[input.name];
    if (s) specs[input.name] = { columns: s.columns, column: s.column, fillNull: s.fill_null, scale: s.scale, vocab: s.vocab, unknown: s.unknown };
    else if (job.features) specs[input.name] = { columns: job.features };
    else specs[input.name] = { column: input.name };
  }
  return specs;
}

function featureValue(row: Row, column: string, spec: FeatureSpec, at: number): number {
  const raw = row[column];
  if (raw === undefined) throw new Error(`expected: row ${at + 1} has no column ${column}`);
  if (raw === null) {
    if (typeof spec.fillNull !== 'number') throw new Error(`expected: row ${at + 1} column ${column} is NULL and fill_null is ${String(spec.fillNull ?? 'error')}`);
    return spec.fillNull;
  }
  if (spec.vocab) {
    const idx = spec.vocab.map(String).indexOf(String(raw));
    if (idx >= 0) return idx;
    if (typeof spec.unknown !== 'number') throw new Error(`expected: row ${at + 1} column ${column} value ${String(raw)} is not in vocab`);
    return spec.unknown;
  }
  return Number(raw);
}

/** Model inputs for the reference: float32 inputs are float32-rounded, as the tensor would hold them. */
export function buildFeeds(sidecar: Sidecar, rows: readonly Row[], specs: Record<string, FeatureSpec>): Record<string, RefFeed> {
  const feeds: Record<string, RefFeed> = {};
  for (const input of sidecar.inputs) {
    const spec = specs[input.name];
    if (!spec) throw new Error(`expected: no feature spec for model input ${input.name}`);
    const columns = spec.columns ?? [spec.column!];
    const round = input.elemType === 'float32' ? Math.fround : (x: number) => x;
    const data = rows.flatMap((row, at) =>
      columns.map((column, k) => {
        // NULLs are filled with the raw value, then scaled (impute, then standardise).
        let v = featureValue(row, column, spec, at);
        if (spec.scale && !spec.vocab) v = (v - spec.scale.mean[k]!) / spec.scale.std[k]!;
        return round(v);
      }),
    );
    feeds[input.name] = feedRows({ elemType: input.elemType, shape: input.shape.length === 1 ? [rows.length] : [rows.length, columns.length], data });
  }
  return feeds;
}

export interface ClassificationExpectation {
  task: 'classification';
  labels: string[];
  labelSource: 'job' | 'model metadata' | 'class indices';
  kind: 'probabilities' | 'logits';
  decidedBy: 'job' | 'graph' | 'first batch';
  /** Per row, one probability per class (float64). */
  probs: number[][];
}

export interface RegressionExpectation {
  task: 'regression';
  /** Per row, the output's values (float64). */
  values: number[][];
}

export type Expectation = ClassificationExpectation | RegressionExpectation;

export interface PostprocessKeys {
  labels?: string[];
  task?: 'classification' | 'regression';
  scores?: 'probabilities' | 'logits';
  /** Rows in the first batch (the first file's rows, capped at the batch size). */
  firstBatchRows?: number;
}

/** True when every row is in [0,1] and (2+ classes) sums to 1 within 1e-3. */
function looksLikeProbabilities(rows: readonly number[][]): boolean {
  return rows.every((r) => r.every((v) => v >= 0 && v <= 1) && (r.length < 2 || Math.abs(r.reduce((s, v) => s + v, 0) - 1) <= 1e-3));
}

export function softmax(row: readonly number[]): number[] {
  const max = Math.max(...row);
  const exps = row.map((x) => Math.exp(x - max));
  const sum = exps.reduce((s, x) => s + x, 0);
  return exps.map((x) => x / sum);
}

/** The reference's raw output rows for `rows`. */
export function referenceOutput(modelName: string, rows: readonly Row[], specs: Record<string, FeatureSpec>): { sidecar: Sidecar; output: string; raw: number[][] } {
  const { sidecar, forward } = loadReference(modelName);
  if (sidecar.outputs.length !== 1) throw new Error(`expected: ${modelName} has ${sidecar.outputs.length} outputs`);
  const output = sidecar.outputs[0]!.name;
  const raw = forward(buildFeeds(sidecar, rows, specs))[output]!;
  return { sidecar, output, raw };
}

/**
 * What the CLI should write for `rows` scored by fixture model `modelName`.
 */
export function expectedPredictions(modelName: string, rows: readonly Row[], specs: Record<string, FeatureSpec>, keys: PostprocessKeys = {}): Expectation {
  const { sidecar, output, raw } = referenceOutput(modelName, rows, specs);
  const width = raw[0]?.length ?? 1;
  const producer = sidecar.nodes.find((n) => n.outputs.includes(output))?.op;
  // A [N,1] output ending in Sigmoid is a binary classifier even without labels.
  const classification = keys.task === 'classification' || (keys.task !== 'regression' && (width >= 2 || keys.labels !== undefined || producer === 'Sigmoid'));
  if (!classification) return { task: 'regression', values: raw };

  const classes = width === 1 ? 2 : width;
  const metadataLabels = sidecar.metadata['labels'] ? (JSON.parse(sidecar.metadata['labels']) as unknown[]).map(String) : null;
  const [labels, labelSource] = keys.labels
    ? ([keys.labels, 'job'] as const)
    : metadataLabels && metadataLabels.length === classes
      ? ([metadataLabels, 'model metadata'] as const)
      : ([Array.from({ length: classes }, (_, i) => String(i)), 'class indices'] as const);

  let kind: 'probabilities' | 'logits';
  let decidedBy: ClassificationExpectation['decidedBy'];
  if (keys.scores) [kind, decidedBy] = [keys.scores, 'job'];
  else if (producer === 'Softmax' || producer === 'Sigmoid') [kind, decidedBy] = ['probabilities', 'graph'];
  else [kind, decidedBy] = [looksLikeProbabilities(raw.slice(0, keys.firstBatchRows ?? raw.length)) ? 'probabilities' : 'logits', 'first batch'];

  const probs = raw.map((r) => {
    if (width === 1) {
      const p = kind === 'logits' ? 1 / (1 + Math.exp(-r[0]!)) : r[0]!;
      return [1 - p, p];
    }
    return kind === 'logits' ? softmax(r) : r;
  });
  return { task: 'classification', labels: [...labels], labelSource, kind, decidedBy, probs };
}

const close = (a: unknown, b: number): boolean => typeof a === 'number' && Math.abs(a - b) <= TOLERANCE;

/**
 * Compares output rows with the expectation; returns a description of each mismatch
 * (at most `limit`), so `expect(...).toEqual([])` prints the first few.
 */
export function comparePredictions(out: readonly Row[], expected: Expectation, options: { reviewBelow?: number; limit?: number } = {}): string[] {
  const problems: string[] = [];
  const limit = options.limit ?? 10;
  const n = expected.task === 'regression' ? expected.values.length : expected.probs.length;
  if (out.length !== n) return [`row count ${out.length}, expected ${n}`];
  for (let i = 0; i < n && problems.length < limit; i++) {
    const row = out[i]!;
    if (expected.task === 'regression') {
      const values = expected.values[i]!;
      values.forEach((v, k) => {
        const name = values.length === 1 ? 'prediction' : `prediction_${k}`;
        if (!close(row[name], v)) problems.push(`row ${i}: ${name} ${String(row[name])}, expected ${v}`);
      });
      continue;
    }
    const probs = expected.probs[i]!;
    expected.labels.forEach((label, c) => {
      if (!close(row[`prob_${label}`], probs[c]!)) problems.push(`row ${i}: prob_${label} ${String(row[`prob_${label}`])}, expected ${probs[c]}`);
    });
    const best = Math.max(...probs);
    if (!close(row['confidence'], best)) problems.push(`row ${i}: confidence ${String(row['confidence'])}, expected ${best}`);
    // argmax with the first index winning ties; near-ties (within float32 noise) may go either way.
    const first = probs.indexOf(best);
    const acceptable = expected.labels.filter((_, c) => c === first || best - probs[c]! <= TOLERANCE);
    if (!acceptable.includes(String(row['prediction']))) problems.push(`row ${i}: prediction ${String(row['prediction'])}, expected ${acceptable.join(' or ')} (probs ${probs.join(', ')})`);
    if (options.reviewBelow !== undefined) {
      // The flag is computed from the stored float32 confidence, not from the float64 reference.
      const confidence = row['confidence'] as number;
      const want = Number.isNaN(confidence) || confidence < options.reviewBelow;
      if (row['needs_review'] !== want) problems.push(`row ${i}: needs_review ${String(row['needs_review'])} with confidence ${confidence}, expected ${want}`);
    }
  }
  return problems;
}
