/**
 * evaluateOutput on small scored files: worked examples computed by hand from the metrics'
 * definitions, and random tables against plain-JS reference implementations written here
 * (O(n^2) pair counting for AUC, a sort for average precision).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Db } from '../../src/db/duckdb.js';
import { evaluateOutput, type EvaluationReport } from '../../src/evaluate/evaluate.js';
import { random, writeBinary, writeMulticlass, writeTable, type BinaryRow } from '../helpers/scoredFiles.js';
import { useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-evaluate-');
let db: Db;
beforeAll(async () => {
  db = await Db.open({ threads: 1 });
});
afterAll(() => db.close());

const close = (actual: number | null | undefined, expected: number, digits = 9): void => {
  expect(actual).not.toBeNull();
  expect(actual).toBeCloseTo(expected, digits);
};

// Six rows, probabilities exact in float32. Labels fraud (positive) on rows 1, 2, 5.
const WORKED: BinaryRow[] = [
  { label: 'fraud', p: 0.875, prediction: 'fraud' },
  { label: 'fraud', p: 0.5, prediction: 'legit' },
  { label: 'legit', p: 0.5, prediction: 'legit' },
  { label: 'legit', p: 0.25, prediction: 'legit' },
  { label: 'fraud', p: 0.75, prediction: 'fraud' },
  { label: 'legit', p: 0.625, prediction: 'fraud' },
];

describe('binary classification, a worked example', () => {
  let r: EvaluationReport;
  beforeAll(async () => {
    r = await evaluateOutput(db, await writeBinary(await tmp.make(), WORKED), { label: 'truth', targetPrecision: 0.9, targetRecall: 1 });
  });

  it('counts and the confusion matrix (rows: label, columns: prediction, in prob_ column order)', () => {
    expect(r.task).toBe('classification');
    expect(r.classes).toEqual(['legit', 'fraud']);
    expect(r.positive).toBe('fraud');
    expect(r.rows).toEqual({ evaluated: 6, null_labels: 0, unscored: 0 });
    expect(r.confusion).toEqual({ labels: ['legit', 'fraud'], matrix: [[2, 1], [1, 2]] });
  });

  it('accuracy 4/6, precision = recall = F1 = 2/3 of fraud, balanced accuracy 2/3', () => {
    close(r.metrics['accuracy'], 4 / 6);
    close(r.metrics['precision'], 2 / 3);
    close(r.metrics['recall'], 2 / 3);
    close(r.metrics['f1'], 2 / 3);
    close(r.metrics['balanced_accuracy'], 2 / 3);
  });

  it('ROC AUC with a tie at 0.5: 7.5 of 9 positive-negative pairs ordered right', () => {
    close(r.metrics['roc_auc'], 7.5 / 9);
  });

  it('average precision step-wise: 1/3 x 1 + 1/3 x 1 + 1/3 x 3/5 (the tie at 0.5 is one step)', () => {
    close(r.metrics['average_precision'], 1 / 3 + 1 / 3 + 1 / 5);
  });

  it('log loss and Brier score from p(true class)', () => {
    close(r.metrics['log_loss'], -(Math.log(0.875) + Math.log(0.5) + Math.log(0.5) + Math.log(0.75) + Math.log(0.75) + Math.log(0.375)) / 6);
    close(r.metrics['brier'], (0.125 ** 2 + 0.5 ** 2 + 0.5 ** 2 + 0.25 ** 2 + 0.25 ** 2 + 0.625 ** 2) / 6);
  });

  it('ECE over 10 bins of p(fraud): (0.125 + 0.25 + 0.625 + 0 + 0.25) / 6, with the reliability table', () => {
    close(r.metrics['ece'], 1.25 / 6);
    const used = r.calibration!.reliability.filter((b) => b.rows > 0);
    expect(used.map((b) => [b.bin, b.rows, b.mean_predicted, b.observed])).toEqual([[2, 1, 0.25, 0], [5, 2, 0.5, 0.5], [6, 1, 0.625, 0], [7, 1, 0.75, 1], [8, 1, 0.875, 1]]);
    expect(r.calibration!.reliability).toHaveLength(10);
  });

  it('thresholds every 0.05: at 0.5 five rows flagged, three of them fraud; at 0.55 three, two fraud', () => {
    expect(r.thresholds).toHaveLength(21);
    expect(r.thresholds!.map((t) => t.threshold)).toEqual(Array.from({ length: 21 }, (_, i) => Math.round(i * 5) / 100));
    const at = (t: number) => r.thresholds!.find((x) => x.threshold === t)!;
    expect(at(0.5)).toMatchObject({ precision: 0.6, recall: 1, flagged_share: 5 / 6 });
    close(at(0.5).f1, 0.75);
    close(at(0.55).precision, 2 / 3);
    close(at(0.55).recall, 2 / 3);
    expect(at(0)).toMatchObject({ precision: 0.5, recall: 1, flagged_share: 1 });
    expect(at(1)).toMatchObject({ precision: 0, recall: 0, f1: 0, flagged_share: 0 });
  });

  it('best thresholds: F1 0.8 at 0.75; precision 0.9 first reached at 0.75; recall 1 kept up to 0.5', () => {
    const b = r.best_thresholds!;
    expect(b.max_f1).toMatchObject({ threshold: 0.75, precision: 1 });
    close(b.max_f1!.f1, 0.8);
    expect(b.target_precision).toMatchObject({ target: 0.9, threshold: 0.75, precision: 1 });
    expect(b.target_recall).toMatchObject({ target: 1, threshold: 0.5, recall: 1 });
  });

  it('an unreachable target says so', async () => {
    const rows: BinaryRow[] = [{ label: 'legit', p: 0.9 }, { label: 'fraud', p: 0.1 }];
    const r2 = await evaluateOutput(db, await writeBinary(await tmp.make(), rows), { label: 'truth', targetPrecision: 0.9 });
    expect(r2.best_thresholds!.target_precision).toEqual({ target: 0.9, reached: false });
  });

  it('per class: both classes with support; the report has the issue\'s keys', () => {
    expect(Object.keys(r.per_class!)).toEqual(['legit', 'fraud']);
    expect(r.per_class!['legit']).toMatchObject({ support: 3, precision: 2 / 3, recall: 2 / 3 });
    expect(Object.keys(r)).toEqual(expect.arrayContaining(['task', 'rows', 'metrics', 'per_class', 'confusion', 'thresholds', 'groups', 'fairness']));
    expect(r.groups).toBeNull();
    expect(r.fairness).toBeNull();
  });

  it('--positive legit turns the binary metrics around', async () => {
    const r2 = await evaluateOutput(db, await writeBinary(await tmp.make(), WORKED), { label: 'truth', positive: 'legit' });
    expect(r2.positive).toBe('legit');
    close(r2.metrics['roc_auc'], 7.5 / 9); // AUC is symmetric in the classes
    close(r2.metrics['precision'], 2 / 3);
    expect(r2.thresholds!.find((t) => t.threshold === 0.5)!.flagged_share).toBeCloseTo(3 / 6, 9); // p(legit) >= 0.5 on rows 2, 3, 4
  });
});

describe('edge cases', () => {
  it('a single-class label column: AUC undefined (null) with a warning; accuracy still defined', async () => {
    const rows: BinaryRow[] = [{ label: 'fraud', p: 0.75 }, { label: 'fraud', p: 0.25 }, { label: 'fraud', p: 0.5 }];
    const r = await evaluateOutput(db, await writeBinary(await tmp.make(), rows), { label: 'truth' });
    expect(r.metrics['roc_auc']).toBeNull();
    expect(r.warnings.join('\n')).toMatch(/roc_auc is undefined: every evaluated label is fraud/);
    close(r.metrics['accuracy'], 1 / 3);
  });

  it('a class never predicted: precision 0 (scikit-learn zero_division) and a warning', async () => {
    const rows: BinaryRow[] = [{ label: 'fraud', p: 0.25 }, { label: 'legit', p: 0.125 }, { label: 'fraud', p: 0.375 }];
    const r = await evaluateOutput(db, await writeBinary(await tmp.make(), rows), { label: 'truth' });
    expect(r.metrics['precision']).toBe(0);
    expect(r.metrics['recall']).toBe(0);
    expect(r.metrics['f1']).toBe(0);
    expect(r.warnings.join('\n')).toMatch(/class fraud is never predicted/);
    close(r.metrics['roc_auc'], 1);
  });

  it('NULL labels are left out and counted', async () => {
    const rows: BinaryRow[] = [...WORKED, { label: null, p: 0.9 }, { label: null, p: 0.1 }];
    const r = await evaluateOutput(db, await writeBinary(await tmp.make(), rows), { label: 'truth' });
    expect(r.rows).toEqual({ evaluated: 6, null_labels: 2, unscored: 0 });
    close(r.metrics['roc_auc'], 7.5 / 9);
  });

  it('a label value that names no class is INPUT_INVALID naming it and its row count', async () => {
    const rows: BinaryRow[] = [...WORKED, { label: 'Fraud', p: 0.9 }, { label: 'Fraud', p: 0.9 }, { label: 'other', p: 0.1 }];
    await expect(evaluateOutput(db, await writeBinary(await tmp.make(), rows), { label: 'truth' })).rejects.toMatchObject({
      code: 'INPUT_INVALID',
      message: "label value 'Fraud' (2 rows), 'other' (1 rows) matches no class of the output",
      expected: 'one of the classes of its prob_ columns: legit, fraud',
    });
  });

  it('labels 0/1 as integers or 0.0/1.0 as doubles match classes named 0 and 1; the positive class is 1', async () => {
    for (const type of ['INTEGER', 'DOUBLE']) {
      const path = join(await tmp.make(), 'ints.parquet');
      await writeTable(path, [['y', type], ['prediction', 'INTEGER'], ['confidence', 'FLOAT'], ['prob_0', 'FLOAT'], ['prob_1', 'FLOAT']], WORKED.map((w) => [w.label === 'fraud' ? 1 : 0, w.prediction === 'fraud' ? 1 : 0, 0, 1 - w.p, w.p]));
      const r = await evaluateOutput(db, path, { label: 'y' });
      expect(r.positive).toBe('1');
      close(r.metrics['roc_auc'], 7.5 / 9);
      expect(r.confusion!.matrix).toEqual([[2, 1], [1, 2]]);
    }
  });

  it('a boolean label against classes 0 and 1: true is class 1', async () => {
    const path = join(await tmp.make(), 'bools.parquet');
    await writeTable(path, [['y', 'BOOLEAN'], ['prediction', 'INTEGER'], ['confidence', 'FLOAT'], ['prob_0', 'FLOAT'], ['prob_1', 'FLOAT']], WORKED.map((w) => [w.label === 'fraud', w.prediction === 'fraud' ? 1 : 0, 0, 1 - w.p, w.p]));
    const r = await evaluateOutput(db, path, { label: 'y' });
    close(r.metrics['roc_auc'], 7.5 / 9);
    expect(r.confusion!.matrix).toEqual([[2, 1], [1, 2]]);
  });

  it('a missing label column is SCHEMA_MISMATCH naming it and the columns there are', async () => {
    const path = await writeBinary(await tmp.make(), WORKED);
    await expect(evaluateOutput(db, path, { label: 'is_fraud' })).rejects.toMatchObject({ code: 'SCHEMA_MISMATCH', message: expect.stringContaining("has no column 'is_fraud'"), expected: expect.stringContaining('truth, grp, prediction') });
  });

  it('--positive naming no class is a usage error', async () => {
    await expect(evaluateOutput(db, await writeBinary(await tmp.make(), WORKED), { label: 'truth', positive: 'yes' })).rejects.toMatchObject({ code: 'USAGE', expected: ['legit', 'fraud'], actual: 'yes' });
  });

  it('an output of several files (a directory or glob, as run writes it) reads as one', async () => {
    const dir = await tmp.make();
    await writeBinary(dir, WORKED.slice(0, 3), undefined, 'part-0.parquet');
    await writeBinary(dir, WORKED.slice(3), undefined, 'part-1.parquet');
    for (const path of [dir, join(dir, 'part-*.parquet')]) {
      const r = await evaluateOutput(db, path, { label: 'truth' });
      expect(r.rows.evaluated).toBe(6);
      close(r.metrics['roc_auc'], 7.5 / 9);
    }
  });

  it('rows with NaN probabilities (a row the model could not score) are left out and counted', async () => {
    const path = join(await tmp.make(), 'nan.parquet');
    await writeTable(path, [['truth', 'VARCHAR'], ['prediction', 'VARCHAR'], ['confidence', 'FLOAT'], ['prob_a', 'FLOAT'], ['prob_b', 'FLOAT']], [['a', 'a', 0.75, 0.75, 0.25], ['b', null, NaN, NaN, NaN], ['b', 'b', 0.5, 0.25, 0.75]]);
    const r = await evaluateOutput(db, path, { label: 'truth' });
    expect(r.rows).toEqual({ evaluated: 2, null_labels: 0, unscored: 1 });
    expect(r.metrics['accuracy']).toBe(1);
  });
});

/** Plain-JS references, straight from the definitions. */
function aucRef(scores: number[], pos: boolean[]): number {
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < scores.length; i++) {
    if (!pos[i]) continue;
    for (let j = 0; j < scores.length; j++) {
      if (pos[j]) continue;
      pairs++;
      sum += scores[i]! > scores[j]! ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    }
  }
  return sum / pairs;
}

function apRef(scores: number[], pos: boolean[]): number {
  const thresholds = [...new Set(scores)].sort((a, b) => b - a);
  const P = pos.filter(Boolean).length;
  let ap = 0;
  let lastRecall = 0;
  for (const t of thresholds) {
    const flagged = scores.filter((s) => s >= t).length;
    const tp = scores.filter((s, i) => s >= t && pos[i]).length;
    ap += (tp / P - lastRecall) * (tp / flagged);
    lastRecall = tp / P;
  }
  return ap;
}

function randomBinary(seed: number, n: number): BinaryRow[] {
  const rand = random(seed);
  // Scores on a grid of 0.05 make many ties.
  return Array.from({ length: n }, () => {
    const p = Math.round(rand() * 20) / 20;
    return { label: rand() < p * 0.8 + 0.1 ? 'fraud' : 'legit', p, group: rand() < 0.3 ? 'a' : rand() < 0.6 ? 'b' : 'c' };
  });
}

describe('binary metrics against reference implementations (400 random rows, tied scores)', () => {
  const rows = randomBinary(7, 400);
  // The file holds float32 probabilities; the references use the same values.
  const p1 = rows.map((r) => Math.fround(r.p));
  const p0 = rows.map((r) => Math.fround(1 - r.p));
  const pos = rows.map((r) => r.label === 'fraud');
  let r: EvaluationReport;
  beforeAll(async () => {
    r = await evaluateOutput(db, await writeBinary(await tmp.make(), rows), { label: 'truth' });
  });

  it('ROC AUC equals the Mann-Whitney U statistic / (n+ x n-)', () => close(r.metrics['roc_auc'], aucRef(p1, pos), 12));
  it('average precision equals the sorted step sum', () => close(r.metrics['average_precision'], apRef(p1, pos), 12));
  it('log loss, Brier and ECE', () => {
    const pTrue = rows.map((_, i) => (pos[i] ? p1[i]! : p0[i]!));
    close(r.metrics['log_loss'], pTrue.reduce((a, p) => a - Math.log(Math.min(Math.max(p, 1e-15), 1 - 1e-15)), 0) / rows.length, 12);
    close(r.metrics['brier'], p1.reduce((a, p, i) => a + (p - (pos[i] ? 1 : 0)) ** 2, 0) / rows.length, 12);
    let ece = 0;
    for (let b = 0; b < 10; b++) {
      const inBin = p1.map((p, i) => [p, i] as const).filter(([p]) => Math.min(Math.floor(p * 10), 9) === b);
      if (inBin.length === 0) continue;
      const mp = inBin.reduce((a, [p]) => a + p, 0) / inBin.length;
      const obs = inBin.filter(([, i]) => pos[i]).length / inBin.length;
      ece += (inBin.length / rows.length) * Math.abs(obs - mp);
    }
    close(r.metrics['ece'], ece, 12);
  });
  it('accuracy from the predictions', () => {
    const right = rows.filter((row) => (row.p > 0.5 ? 'fraud' : 'legit') === row.label).length;
    close(r.metrics['accuracy'], right / rows.length, 12);
  });
  it('the threshold grid counts p >= t on the float32 scores, also for scores on the grid itself (0.35f < 0.35)', () => {
    for (const t of r.thresholds!) {
      const flagged = p1.filter((p) => p >= t.threshold).length;
      const tp = p1.filter((p, i) => p >= t.threshold && pos[i]).length;
      expect(t.flagged_share, String(t.threshold)).toBeCloseTo(flagged / rows.length, 12);
      expect(t.precision, String(t.threshold)).toBeCloseTo(flagged > 0 ? tp / flagged : 0, 12);
    }
  });
  it('every metric is the same with the rows in another order', async () => {
    const shuffled = [...rows].reverse().sort((a, b) => (a.group! < b.group! ? -1 : a.group! > b.group! ? 1 : 0));
    const r2 = await evaluateOutput(db, await writeBinary(await tmp.make(), shuffled), { label: 'truth' });
    for (const [k, v] of Object.entries(r.metrics)) close(r2.metrics[k], v!, 12);
    expect(r2.thresholds).toEqual(r.thresholds);
  });
});

describe('multiclass', () => {
  const classes = ['a', 'b', 'c'];
  const rand = random(11);
  const rows = Array.from({ length: 300 }, () => {
    const raw = classes.map(() => Math.round(rand() * 10) + 1);
    const sum = raw.reduce((x, y) => x + y, 0);
    const probs = raw.map((v) => v / sum);
    const label = classes[rand() < 0.5 ? probs.indexOf(Math.max(...probs)) : Math.floor(rand() * 3)]!;
    return { label, probs };
  });
  let r: EvaluationReport;
  beforeAll(async () => {
    r = await evaluateOutput(db, await writeMulticlass(await tmp.make(), classes, rows), { label: 'truth' });
  });

  it('one-vs-rest macro ROC AUC and average precision', () => {
    const ps = (k: number) => rows.map((row) => Math.fround(row.probs[k]!));
    const isK = (k: number) => rows.map((row) => row.label === classes[k]);
    close(r.metrics['roc_auc'], classes.reduce((a, _, k) => a + aucRef(ps(k), isK(k)), 0) / 3, 12);
    close(r.metrics['average_precision'], classes.reduce((a, _, k) => a + apRef(ps(k), isK(k)), 0) / 3, 12);
    expect(r.positive).toBeNull();
    expect(r.thresholds).toBeNull();
  });

  it('per class precision/recall/F1, macro and weighted averages, and the confusion matrix', () => {
    const pred = rows.map((row) => classes[row.probs.indexOf(Math.max(...row.probs))]!);
    const per = classes.map((c) => {
      const tp = rows.filter((row, i) => row.label === c && pred[i] === c).length;
      const predicted = pred.filter((p) => p === c).length;
      const support = rows.filter((row) => row.label === c).length;
      const precision = tp / predicted;
      const recall = tp / support;
      return { precision, recall, f1: (2 * precision * recall) / (precision + recall), support };
    });
    for (const [k, c] of classes.entries()) {
      close(r.per_class![c]!.precision, per[k]!.precision, 12);
      close(r.per_class![c]!.recall!, per[k]!.recall, 12);
      expect(r.per_class![c]!.support).toBe(per[k]!.support);
    }
    close(r.metrics['f1'], per.reduce((a, c) => a + c.f1, 0) / 3, 12);
    close(r.metrics['f1_macro'], per.reduce((a, c) => a + c.f1, 0) / 3, 12);
    close(r.metrics['recall_weighted'], per.reduce((a, c) => a + c.recall * c.support, 0) / 300, 12);
    close(r.metrics['balanced_accuracy'], per.reduce((a, c) => a + c.recall, 0) / 3, 12);
    const matrix = classes.map((t) => classes.map((p) => rows.filter((row, i) => row.label === t && pred[i] === p).length));
    expect(r.confusion).toEqual({ labels: classes, matrix });
  });

  it('log loss, the multiclass Brier score (sum over classes) and top-label ECE', () => {
    const f = (v: number) => Math.fround(v);
    close(r.metrics['log_loss'], rows.reduce((a, row) => a - Math.log(f(row.probs[classes.indexOf(row.label)]!)), 0) / 300, 12);
    close(r.metrics['brier'], rows.reduce((a, row) => a + row.probs.reduce((s, p, k) => s + (f(p) - (classes[k] === row.label ? 1 : 0)) ** 2, 0), 0) / 300, 12);
    expect(r.calibration!.reliability.reduce((a, b) => a + b.rows, 0)).toBe(300);
  });

  it('--target-precision on a multiclass output is a usage error', async () => {
    await expect(evaluateOutput(db, await writeMulticlass(await tmp.make(), classes, rows), { label: 'truth', targetPrecision: 0.9 })).rejects.toMatchObject({ code: 'USAGE', message: '--target-precision is for binary outputs; this is an output of 3 classes' });
  });

  it('a class that never occurs among the labels is left out of the one-vs-rest AUC with a warning', async () => {
    const some = rows.filter((row) => row.label !== 'c');
    const r2 = await evaluateOutput(db, await writeMulticlass(await tmp.make(), classes, some), { label: 'truth' });
    const ps = (k: number) => some.map((row) => Math.fround(row.probs[k]!));
    const isK = (k: number) => some.map((row) => row.label === classes[k]);
    close(r2.metrics['roc_auc'], (aucRef(ps(0), isK(0)) + aucRef(ps(1), isK(1))) / 2, 12);
    expect(r2.warnings.join('\n')).toMatch(/roc_auc: class c left out/);
  });
});

describe('regression, a worked example', () => {
  it('MAE, RMSE, R², MAPE without the zero label (counted), residual quantiles', async () => {
    const path = join(await tmp.make(), 'reg.parquet');
    await writeTable(path, [['price', 'DOUBLE'], ['prediction', 'FLOAT']], [[1, 1.5], [2, 2], [0, 1], [4, 3], [null, 7]]);
    const r = await evaluateOutput(db, path, { label: 'price' });
    expect(r.task).toBe('regression');
    expect(r.rows).toEqual({ evaluated: 4, null_labels: 1, unscored: 0, zero_labels: 1 });
    close(r.metrics['mae'], 2.5 / 4);
    close(r.metrics['rmse'], 0.75);
    close(r.metrics['r2'], 1 - 2.25 / 8.75);
    close(r.metrics['mape'], (0.5 + 0 + 0.25) / 3);
    expect(r.residuals).toEqual({ p0: -1, p5: expect.closeTo(-0.925, 9), p25: -0.625, p50: -0.25, p75: 0.25, p95: expect.closeTo(0.85, 9), p100: 1 });
    expect(r.warnings).toContain('mape leaves out 1 rows whose label is 0');
    expect(r.confusion).toBeNull();
  });

  it('--task regression on a classification output is SCHEMA_MISMATCH', async () => {
    await expect(evaluateOutput(db, await writeBinary(await tmp.make(), WORKED), { label: 'truth', task: 'regression' })).rejects.toMatchObject({ code: 'SCHEMA_MISMATCH' });
  });
});

describe('groups and fairness, a worked example', () => {
  // Group A: labels 1,1,0,0 predicted 1,0,1,0: selection 1/2, TPR 1/2, FPR 1/2.
  // Group B: labels 1,0,0,0 predicted 1,0,0,0: selection 1/4, TPR 1, FPR 0.
  // Group C: one row, under --min-group-rows 2.
  const row = (group: string, label: string, predicted: string): BinaryRow => ({ group, label, p: predicted === 'fraud' ? 0.75 : 0.25 });
  const rows = [row('A', 'fraud', 'fraud'), row('A', 'fraud', 'legit'), row('A', 'legit', 'fraud'), row('A', 'legit', 'legit'), row('B', 'fraud', 'fraud'), row('B', 'legit', 'legit'), row('B', 'legit', 'legit'), row('B', 'legit', 'legit'), row('C', 'fraud', 'legit')];
  let r: EvaluationReport;
  beforeAll(async () => {
    r = await evaluateOutput(db, await writeBinary(await tmp.make(), rows), { label: 'truth', groupBy: ['grp'], minGroupRows: 2 });
  });

  it('metrics per group with row counts; the small group marked', () => {
    expect(r.groups!.map((g) => [g.group, g.rows, g.too_small])).toEqual([[{ grp: 'A' }, 4, false], [{ grp: 'B' }, 4, false], [{ grp: 'C' }, 1, true]]);
    expect(r.groups![0]!.metrics).toMatchObject({ accuracy: 0.5, selection_rate: 0.5, true_positive_rate: 0.5, false_positive_rate: 0.5 });
    expect(r.groups![1]!.metrics).toMatchObject({ accuracy: 1, selection_rate: 0.25, true_positive_rate: 1, false_positive_rate: 0 });
    expect(r.groups![2]!.metrics['roc_auc']).toBeNull();
  });

  it('demographic parity difference 1/4 and ratio 1/2, equalized odds difference 1/2, over A and B only', () => {
    expect(r.fairness).toMatchObject({ min_group_rows: 2, groups_compared: 2, groups_too_small: 1, demographic_parity_difference: 0.25, demographic_parity_ratio: 0.5, equalized_odds_difference: 0.5 });
  });

  it('the worst group of each metric', () => {
    expect(r.fairness!.worst_group['accuracy']).toEqual({ group: { grp: 'A' }, value: 0.5 });
    expect(r.fairness!.worst_group['log_loss']!.group).toEqual({ grp: 'A' });
    expect(r.warnings.join('\n')).toMatch(/1 group under 2 rows \(--min-group-rows\) left out/);
  });

  it('the overall metrics do not change with --group-by; a NULL group value is a group of its own', async () => {
    const plain = await evaluateOutput(db, await writeBinary(await tmp.make(), rows), { label: 'truth' });
    expect(r.metrics).toEqual(plain.metrics);
    const withNull = await evaluateOutput(db, await writeBinary(await tmp.make(), [...rows, { label: 'fraud', p: 0.75, group: null }]), { label: 'truth', groupBy: ['grp'], minGroupRows: 2 });
    expect(withNull.groups!.map((g) => g.group)).toEqual([{ grp: 'A' }, { grp: 'B' }, { grp: 'C' }, { grp: null }]);
  });

  it('a missing group column is SCHEMA_MISMATCH', async () => {
    await expect(evaluateOutput(db, await writeBinary(await tmp.make(), rows), { label: 'truth', groupBy: ['region'] })).rejects.toMatchObject({ code: 'SCHEMA_MISMATCH', actual: ['region'] });
  });
});
