/**
 * `evaluate`: the quality of a scored output against a true label column, as one report
 * value (the CLI prints it; `run --evaluate` can call `evaluateOutput` on its committed
 * output with its own Db).
 *
 * @example
 *   const report = await evaluateFile('scores.parquet', { label: 'is_fraud', groupBy: ['region'] });
 *   report.metrics.roc_auc;
 */
import { Db } from '../db/duckdb.js';
import { BatchinferError } from '../errors.js';
import { classificationMetrics, type ClassificationResult } from './classification.js';
import type { Metrics } from './confusion.js';
import { fairness, type Fairness, type GroupMetrics } from './fairness.js';
import { checkGates, checkGatesApply, type Gate, type GateResult } from './gates.js';
import type { ReliabilityBin } from './probabilityMetrics.js';
import { stepsTable } from './ranking.js';
import { regressionMetrics } from './regression.js';
import { GROUPS_TABLE, loadScoredOutput, ROWS_TABLE, type ReadOptions, type ScoredOutput, type Task } from './scoredOutput.js';
import { pickThresholds, thresholdGrid, type ThresholdPicks, type ThresholdRow } from './thresholds.js';

export const DEFAULT_MIN_GROUP_ROWS = 30;

export interface EvaluateOptions extends ReadOptions {
  /** Groups with fewer rows are reported but left out of the fairness figures (default 30). */
  minGroupRows?: number;
  targetPrecision?: number;
  targetRecall?: number;
  /** Quality gates (`--fail-below`, `--fail-above`), judged into `report.gates`. */
  gates?: readonly Gate[];
}

export interface PerClass {
  precision: number;
  recall: number | null;
  f1: number;
  support: number;
  roc_auc: number | null;
  average_precision: number | null;
}

export interface EvaluationReport {
  task: Task;
  label: string;
  /** Classification: the classes in the order of the prob_ columns; the positive one when binary. */
  classes: string[] | null;
  positive: string | null;
  rows: { evaluated: number; null_labels: number; unscored: number; zero_labels?: number };
  metrics: Metrics;
  per_class: Record<string, PerClass> | null;
  /** Rows are true labels, columns predictions, both in `labels` order. */
  confusion: { labels: string[]; matrix: number[][] } | null;
  calibration: { bins: number; reliability: ReliabilityBin[] } | null;
  thresholds: ThresholdRow[] | null;
  best_thresholds: ThresholdPicks | null;
  /** Regression: residual (label - prediction) quantiles, `p0` ... `p100`. */
  residuals: Record<string, number> | null;
  groups: GroupMetrics[] | null;
  fairness: Fairness | null;
  warnings: string[];
  /** Present when gates were given: `passed` is false when any failed (the CLI exits 1). */
  gates?: { passed: boolean; results: GateResult[] };
}

/** Opens its own DuckDB, evaluates `path` and closes it. */
export async function evaluateFile(path: string, options: EvaluateOptions): Promise<EvaluationReport> {
  const db = await Db.open();
  try {
    return await evaluateOutput(db, path, options);
  } finally {
    db.close();
  }
}

/**
 * Evaluates the scored output at `path` (file, glob or directory) with `db`: what `run
 * --evaluate` calls on its committed output. Works in temporary tables named
 * `batchinfer_eval_*` (dropped at the end): one evaluation at a time per connection.
 */
export async function evaluateOutput(db: Db, path: string, options: EvaluateOptions): Promise<EvaluationReport> {
  checkOptions(options);
  const scored = await loadScoredOutput(db, path, options);
  try {
    if (options.gates) checkGatesApply(options.gates, scored.task, (options.groupBy ?? []).length > 0, scored.positive !== null);
    checkTargets(options, scored);
    if (scored.rows.evaluated === 0) {
      throw new BatchinferError('INPUT_INVALID', `${path} has no row to evaluate: ${scored.rows.null_labels} rows have a NULL label ${options.label}${scored.rows.unscored > 0 ? `, ${scored.rows.unscored} have no score` : ''}`, { expected: 'at least one labelled, scored row', actual: scored.rows });
    }
    const report = scored.task === 'regression' ? await regressionReport(db, scored, options) : await classificationReport(db, scored, options);
    if (scored.rows.unscored > 0) report.warnings.push(`${scored.rows.unscored} rows have no score (NaN probabilities or prediction) and are left out`);
    if (options.gates) {
      const f = report.fairness;
      const fairnessFigures: Metrics = f ? { demographic_parity_difference: f.demographic_parity_difference, demographic_parity_ratio: f.demographic_parity_ratio, equalized_odds_difference: f.equalized_odds_difference } : {};
      const results = checkGates({ ...report.metrics, ...fairnessFigures }, report.warnings, options.gates);
      report.gates = { passed: results.every((r) => r.passed), results };
    }
    return report;
  } finally {
    await dropTables(db, scored.classes.length);
  }
}

/** The temporary tables of one evaluation: the rows and each class's steps. */
async function dropTables(db: Db, classes: number): Promise<void> {
  const steps = Array.from({ length: classes }, (_, c) => [stepsTable(c, '0'), stepsTable(c, 'g')]).flat();
  for (const table of [ROWS_TABLE, GROUPS_TABLE, ...steps]) await db.exec(`DROP TABLE IF EXISTS ${table}`);
}

function checkOptions(options: EvaluateOptions): void {
  for (const [flag, value] of [['--target-precision', options.targetPrecision], ['--target-recall', options.targetRecall]] as const) {
    if (value !== undefined && !(value >= 0 && value <= 1)) throw new BatchinferError('USAGE', `${flag} takes a number from 0 to 1`, { expected: 'a number in [0, 1]', actual: value });
  }
  const min = options.minGroupRows;
  if (min !== undefined && !(Number.isInteger(min) && min >= 0)) throw new BatchinferError('USAGE', '--min-group-rows takes a whole number of rows', { expected: 'an integer >= 0', actual: min });
  if (options.label === '') throw new BatchinferError('USAGE', '--label names the column holding the true label', { expected: 'a column name', actual: '""' });
}

/** Threshold targets need a binary output: a multiclass or regression one has no single threshold. */
function checkTargets(options: EvaluateOptions, scored: ScoredOutput): void {
  const flags = [options.targetPrecision !== undefined ? '--target-precision' : null, options.targetRecall !== undefined ? '--target-recall' : null].filter((f) => f !== null);
  if (flags.length === 0 || scored.positive !== null) return;
  const what = scored.task === 'regression' ? 'a regression output' : `an output of ${scored.classes.length} classes`;
  throw new BatchinferError('USAGE', `${flags.join(' and ')} ${flags.length > 1 ? 'are' : 'is'} for binary outputs; this is ${what}`, { expected: 'a binary classification output', actual: what });
}

function base(scored: ScoredOutput, options: EvaluateOptions): EvaluationReport {
  return {
    task: scored.task,
    label: options.label,
    classes: scored.task === 'classification' ? scored.classes : null,
    positive: scored.positive === null ? null : scored.classes[scored.positive]!,
    rows: { ...scored.rows },
    metrics: {},
    per_class: null,
    confusion: null,
    calibration: null,
    thresholds: null,
    best_thresholds: null,
    residuals: null,
    groups: null,
    fairness: null,
    warnings: [],
  };
}

async function classificationReport(db: Db, scored: ScoredOutput, options: EvaluateOptions): Promise<EvaluationReport> {
  const report = base(scored, options);
  const all = (await classificationMetrics(db, scored.classes, scored.positive, '0')).get(0)!;
  report.metrics = all.metrics;
  report.per_class = Object.fromEntries(scored.classes.map((c, i) => {
    const { precision, recall, f1, support, roc_auc, average_precision } = all.perClass[i]!;
    return [c, { precision, recall, f1, support, roc_auc, average_precision }];
  }));
  report.confusion = { labels: scored.classes, matrix: all.matrix };
  report.calibration = { bins: all.reliability.length, reliability: all.reliability };
  report.warnings.push(...all.warnings);
  if (scored.positive !== null) {
    report.thresholds = await thresholdGrid(db, scored.positive);
    report.best_thresholds = await pickThresholds(db, scored.positive, { precision: options.targetPrecision, recall: options.targetRecall });
  }
  if (scored.groups.columns.length > 0) {
    const perGroup = await classificationMetrics(db, scored.classes, scored.positive, 'g');
    addGroups(report, scored, perGroup, options, (r: ClassificationResult) => r.warnings);
  }
  return report;
}

async function regressionReport(db: Db, scored: ScoredOutput, options: EvaluateOptions): Promise<EvaluationReport> {
  const report = base(scored, options);
  const all = (await regressionMetrics(db, '0')).get(0)!;
  report.metrics = all.metrics;
  report.rows.zero_labels = all.zeroLabels;
  report.residuals = all.residuals;
  if (all.metrics['r2'] === null) report.warnings.push('r2 is undefined: every label has the same value');
  if (all.zeroLabels > 0) report.warnings.push(`mape leaves out ${all.zeroLabels} rows whose label is 0`);
  if (scored.groups.columns.length > 0) addGroups(report, scored, await regressionMetrics(db, 'g'), options, () => []);
  return report;
}

/** Per-group metrics (in group order), the fairness figures, and one warning per kind of group problem. */
function addGroups<R extends { rows: number; metrics: Metrics }>(report: EvaluationReport, scored: ScoredOutput, perGroup: Map<number, R>, options: EvaluateOptions, warningsOf: (r: R) => string[]): void {
  const min = options.minGroupRows ?? DEFAULT_MIN_GROUP_ROWS;
  report.groups = [...perGroup.entries()].sort(([a], [b]) => a - b).map(([id, r]) => ({ group: scored.groups.values.get(id) ?? {}, rows: r.rows, too_small: r.rows < min, metrics: r.metrics }));
  report.fairness = fairness(report.groups, min);
  const counted = new Map<string, number>();
  for (const r of perGroup.values()) for (const w of warningsOf(r)) counted.set(w.split(':')[0]!, (counted.get(w.split(':')[0]!) ?? 0) + 1);
  for (const [what, n] of counted) report.warnings.push(`groups: ${what} in ${n} group${n === 1 ? '' : 's'}`);
  const small = report.fairness.groups_too_small;
  if (small > 0) report.warnings.push(`${small} group${small === 1 ? '' : 's'} under ${min} rows (--min-group-rows) left out of the fairness figures`);
  if (scored.positive === null && scored.task === 'classification') report.warnings.push('demographic parity and equalized odds need a binary output: they are null');
}

