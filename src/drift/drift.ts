/**
 * `drift`: compares a current profile with a reference one, column by column (statistics.ts),
 * decides which columns drifted by the chosen method and threshold, whether the dataset
 * drifted (a share of its columns did), whether the predictions did, and what changed in the
 * schema. Every statistic is reported whatever the method. Definitions: docs/drift.md.
 *
 * @example
 *   const report = compareProfiles(reference, current, { method: 'psi' });
 *   report.dataset_drift;
 */
import { BatchinferError } from '../errors.js';
import type { ColumnProfile } from '../profile/columnProfile.js';
import { isPredictionColumn, type Profile } from '../profile/profile.js';
import { QuantileSketch } from '../profile/quantileSketch.js';
import { ksPValue } from './distributions.js';
import { binShares, chiSquare, decileEdges, jensenShannon, ksStatistic, psi, wasserstein, type WeightedSample } from './statistics.js';

export const DRIFT_METHODS = ['psi', 'ks', 'wasserstein', 'js'] as const;
export type DriftMethod = (typeof DRIFT_METHODS)[number];

/** psi: PSI above; ks: p-value below (Bonferroni over the columns); wasserstein, js: distance above. */
export const DEFAULT_THRESHOLDS: Record<DriftMethod, number> = { psi: 0.2, ks: 0.05, wasserstein: 0.1, js: 0.1 };
export const DEFAULT_DRIFT_SHARE = 0.5;

export interface DriftOptions {
  method?: DriftMethod;
  threshold?: number;
  /** Dataset drift when at least this share of the columns drift (default 0.5). */
  driftShare?: number;
  /** Compare only these columns (each must be in both profiles). */
  columns?: readonly string[];
}

export interface ColumnDrift {
  column: string;
  kind: 'numeric' | 'categorical';
  psi: number | null;
  ks: number | null;
  ks_p_value: number | null;
  wasserstein: number | null;
  js: number | null;
  chi2_p_value: number | null;
  null_rate: { reference: number | null; current: number | null };
  drifted: boolean;
}

export interface ClassDrift {
  reference: Record<string, number>;
  current: Record<string, number>;
  psi: number | null;
  js: number | null;
  chi2_p_value: number | null;
  drifted: boolean;
}

export interface PredictionDrift {
  /** Shares of the predicted classes; null for a regression output. */
  classes: ClassDrift | null;
  review_rate: { reference: number | null; current: number | null };
  /** `confidence` (classification) or a numeric `prediction` (regression). */
  columns: ColumnDrift[];
  drifted: boolean;
}

export interface SchemaChanges {
  added: { column: string; type: string }[];
  removed: { column: string; type: string }[];
  retyped: { column: string; reference: string; current: string }[];
  /** Categories of the current data the reference never had (only when the reference kept all of its categories). */
  unseen_categories: { column: string; values: (string | number)[]; rows: number }[];
}

export interface DriftReport {
  method: DriftMethod;
  threshold: number;
  columns: ColumnDrift[];
  drifted_columns: number;
  drifted_share: number;
  dataset_drift: boolean;
  prediction: PredictionDrift | null;
  schema: SchemaChanges;
}

/** Compares `current` with `reference`. */
export function compareProfiles(reference: Profile, current: Profile, options: DriftOptions = {}): DriftReport {
  const method = options.method ?? 'psi';
  const threshold = options.threshold ?? DEFAULT_THRESHOLDS[method];
  checkOptions(threshold, method, options.driftShare);
  const refColumns = new Map(reference.columns.map((c) => [c.name, c]));
  const curColumns = new Map(current.columns.map((c) => [c.name, c]));
  checkNamed(options.columns, refColumns, curColumns, reference, current);
  const features = (options.columns ?? reference.columns.map((c) => c.name)).filter((n) => !isPredictionColumn(n) && curColumns.has(n) && refColumns.get(n)!.kind === curColumns.get(n)!.kind);
  const columns = features.map((n) => columnStatistics(refColumns.get(n)!, curColumns.get(n)!));
  const judge = judgeWith(method, threshold, columns.length);
  for (const c of columns) c.drifted = judge(c);
  const drifted = columns.filter((c) => c.drifted).length;
  const share = columns.length === 0 ? 0 : drifted / columns.length;
  return {
    method,
    threshold,
    columns,
    drifted_columns: drifted,
    drifted_share: share,
    dataset_drift: columns.length > 0 && share >= (options.driftShare ?? DEFAULT_DRIFT_SHARE),
    prediction: predictionDrift(reference, current, refColumns, curColumns, method, threshold),
    schema: schemaChanges(reference, current, refColumns, curColumns),
  };
}

/** Refuses a threshold or drift share the method cannot use (USAGE). */
export function checkOptions(threshold: number, method: DriftMethod, driftShare: number | undefined): void {
  if (!(threshold > 0) || (method === 'ks' && threshold >= 1)) throw new BatchinferError('USAGE', `--threshold for --method ${method} takes a number above 0${method === 'ks' ? ' and below 1 (a significance level)' : ''}`, { expected: method === 'ks' ? 'a p-value level, e.g. 0.05' : 'a positive number', actual: threshold });
  if (driftShare !== undefined && !(driftShare > 0 && driftShare <= 1)) throw new BatchinferError('USAGE', '--drift-share takes a share of the columns above 0 and at most 1', { expected: 'a number in (0, 1]', actual: driftShare });
}

function checkNamed(named: readonly string[] | undefined, ref: Map<string, ColumnProfile>, cur: Map<string, ColumnProfile>, reference: Profile, current: Profile): void {
  for (const [columns, profile, role] of [[ref, reference, 'reference'], [cur, current, 'current']] as const) {
    const missing = (named ?? []).filter((n) => !columns.has(n));
    if (missing.length > 0) throw new BatchinferError('SCHEMA_MISMATCH', `the ${role} ${profile.source} has no column ${missing.map((m) => `'${m}'`).join(', ')}`, { expected: `columns of the ${role}: ${[...columns.keys()].join(', ')}`, actual: missing });
  }
}

/** Whether a column drifted by `method`; a categorical column is judged by the method's counterpart (ks: chi-square, wasserstein: JS). */
function judgeWith(method: DriftMethod, threshold: number, tests: number): (c: ColumnDrift) => boolean {
  const above = (v: number | null): boolean => v !== null && v > threshold;
  const alpha = threshold / Math.max(1, tests);
  const below = (p: number | null): boolean => p !== null && p < alpha;
  switch (method) {
    case 'psi':
      return (c) => above(c.psi);
    case 'js':
      return (c) => above(c.js);
    case 'wasserstein':
      return (c) => (c.kind === 'numeric' ? above(c.wasserstein) : above(c.js));
    case 'ks':
      return (c) => (c.kind === 'numeric' ? below(c.ks_p_value) : below(c.chi2_p_value));
  }
}

function nullRate(c: ColumnProfile): number | null {
  return c.rows === 0 ? null : c.nulls / c.rows;
}

/** Every statistic of one column (`drifted` is set by the caller). */
export function columnStatistics(ref: ColumnProfile, cur: ColumnProfile): ColumnDrift {
  const base: ColumnDrift = { column: ref.name, kind: ref.kind, psi: null, ks: null, ks_p_value: null, wasserstein: null, js: null, chi2_p_value: null, null_rate: { reference: nullRate(ref), current: nullRate(cur) }, drifted: false };
  if (ref.kind === 'numeric') return { ...base, ...numericStatistics(ref, cur) };
  return { ...base, ...categoryStatistics(ref, cur) };
}

function sampleOf(c: ColumnProfile): WeightedSample | null {
  if (!c.numeric || c.numeric.count === 0) return null;
  return QuantileSketch.fromJSON(c.numeric.sketch).sorted();
}

/**
 * PSI and JS on the reference's decile bins, KS and its p-value over the two sketches, and the
 * Wasserstein distance divided by the reference's standard deviation (1 when it is 0 or unknown).
 */
function numericStatistics(ref: ColumnProfile, cur: ColumnProfile): Partial<ColumnDrift> {
  const r = sampleOf(ref);
  const c = sampleOf(cur);
  if (!r || !c) return {};
  const edges = decileEdges(r);
  const refShares = binShares(r, edges);
  const curShares = binShares(c, edges);
  const ks = ksStatistic(r, c);
  const std = ref.numeric!.std;
  const scale = std !== null && std > 0 ? std : 1;
  return { psi: psi(refShares, curShares), js: jensenShannon(refShares, curShares), ks, ks_p_value: ksPValue(ks, r.total, c.total), wasserstein: wasserstein(r, c) / scale };
}

/** Counts of both over the union of their categories, plus one `other` when either has one. */
function alignedCounts(ref: ColumnProfile, cur: ColumnProfile): { ref: number[]; cur: number[] } | null {
  const a = ref.categories;
  const b = cur.categories;
  if (!a || !b) return null;
  const keys = [...new Set([...a.values.map(([v]) => v), ...b.values.map(([v]) => v)])];
  const ra = new Map(a.values);
  const rb = new Map(b.values);
  const refCounts = keys.map((k) => ra.get(k) ?? 0);
  const curCounts = keys.map((k) => rb.get(k) ?? 0);
  if (a.other > 0 || b.other > 0) {
    refCounts.push(a.other);
    curCounts.push(b.other);
  }
  if (sum(refCounts) === 0 || sum(curCounts) === 0) return null;
  return { ref: refCounts, cur: curCounts };
}

function sum(values: readonly number[]): number {
  return values.reduce((s, v) => s + v, 0);
}

function categoryStatistics(ref: ColumnProfile, cur: ColumnProfile): Partial<ColumnDrift> {
  const counts = alignedCounts(ref, cur);
  if (!counts) return {};
  return countStatistics(counts.ref, counts.cur);
}

function countStatistics(ref: number[], cur: number[]): { psi: number; js: number; chi2_p_value: number } {
  const shares = (counts: number[]): number[] => counts.map((n) => n / sum(counts));
  return { psi: psi(shares(ref), shares(cur)), js: jensenShannon(ref, cur), chi2_p_value: chiSquare(ref, cur).pValue };
}

/**
 * Prediction drift, apart from the columns': the class shares (judged by the method's
 * categorical statistic) and the confidence, or a regression's numeric prediction. With
 * --method ks the level is split (Bonferroni) over these tests.
 */
function predictionDrift(reference: Profile, current: Profile, ref: Map<string, ColumnProfile>, cur: Map<string, ColumnProfile>, method: DriftMethod, threshold: number): PredictionDrift | null {
  const numeric = ['confidence', 'prediction'].filter((n) => ref.get(n)?.kind === 'numeric' && cur.get(n)?.kind === 'numeric');
  const a = reference.prediction;
  const b = current.prediction;
  if (numeric.length === 0 && !(a && b)) return null;
  const columns = numeric.map((n) => columnStatistics(ref.get(n)!, cur.get(n)!));
  const tests = columns.length + (a && b ? 1 : 0);
  const judge = judgeWith(method, threshold, tests);
  for (const c of columns) c.drifted = judge(c);
  let classes: ClassDrift | null = null;
  if (a && b) {
    const names = [...new Set([...Object.keys(a.classes), ...Object.keys(b.classes)])];
    const refCounts = names.map((n) => a.classes[n] ?? 0);
    const curCounts = names.map((n) => b.classes[n] ?? 0);
    const shares = (counts: number[]): Record<string, number> => Object.fromEntries(names.map((n, i) => [n, sum(counts) === 0 ? 0 : counts[i]! / sum(counts)]));
    const stats = sum(refCounts) > 0 && sum(curCounts) > 0 ? countStatistics(refCounts, curCounts) : { psi: null, js: null, chi2_p_value: null };
    const asColumn: ColumnDrift = { column: 'prediction', kind: 'categorical', ks: null, ks_p_value: null, wasserstein: null, null_rate: { reference: null, current: null }, drifted: false, ...stats };
    classes = { reference: shares(refCounts), current: shares(curCounts), ...stats, drifted: judge(asColumn) };
  }
  return {
    classes,
    review_rate: { reference: a?.review_rate ?? null, current: b?.review_rate ?? null },
    columns,
    drifted: (classes?.drifted ?? false) || columns.some((c) => c.drifted),
  };
}

/** Largest number of unseen categories named per column. */
const UNSEEN_SHOWN = 20;

function schemaChanges(reference: Profile, current: Profile, ref: Map<string, ColumnProfile>, cur: Map<string, ColumnProfile>): SchemaChanges {
  const changes: SchemaChanges = { added: [], removed: [], retyped: [], unseen_categories: [] };
  // A scored output's prediction columns against a training set are not a schema change.
  for (const c of current.columns) if (!ref.has(c.name) && !isPredictionColumn(c.name)) changes.added.push({ column: c.name, type: c.type });
  for (const r of reference.columns) {
    const c = cur.get(r.name);
    if (!c) {
      if (!isPredictionColumn(r.name)) changes.removed.push({ column: r.name, type: r.type });
      continue;
    }
    if (c.type !== r.type) changes.retyped.push({ column: r.name, reference: r.type, current: c.type });
    if (r.kind !== 'categorical' || c.kind !== 'categorical' || !r.categories || !c.categories || r.categories.truncated) continue;
    const known = new Set(r.categories.values.map(([v]) => v));
    const unseen = c.categories.values.filter(([v]) => !known.has(v));
    if (unseen.length > 0) changes.unseen_categories.push({ column: r.name, values: unseen.slice(0, UNSEEN_SHOWN).map(([v]) => v), rows: sum(unseen.map(([, n]) => n)) });
  }
  return changes;
}
