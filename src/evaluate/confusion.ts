/**
 * Metrics of a confusion matrix (rows: true class, columns: predicted class, in the order of
 * the output's prob_ columns), as scikit-learn defines them:
 * - accuracy: the diagonal over all rows (a prediction naming no class counts as wrong);
 * - balanced accuracy: the mean recall of the classes that occur in the labels;
 * - precision, recall, F1 per class; a class never predicted has precision 0 (scikit-learn's
 *   zero_division default) and a warning;
 * - binary: `precision`, `recall`, `f1` of the positive class; multiclass: macro averages
 *   (over the classes that occur in the labels or the predictions) as `precision`, `recall`,
 *   `f1`, `*_macro`, and support-weighted averages as `*_weighted`.
 */
export type Metrics = Record<string, number | null>;

export interface ClassMetrics {
  precision: number;
  recall: number | null;
  f1: number;
  support: number;
  predicted: number;
}

export interface ConfusionResult {
  metrics: Metrics;
  perClass: ClassMetrics[];
  warnings: string[];
}

/** `matrix[t][p]`: rows of true class t predicted as p; `unmatched[t]`: predictions naming no class. */
export function confusionMetrics(matrix: readonly (readonly number[])[], classes: readonly string[], positive: number | null, unmatched: readonly number[] = []): ConfusionResult {
  const k = classes.length;
  const support = matrix.map((row, t) => row.reduce((a, b) => a + b, 0) + (unmatched[t] ?? 0));
  const predicted = classes.map((_, p) => matrix.reduce((a, row) => a + (row[p] ?? 0), 0));
  const total = support.reduce((a, b) => a + b, 0);
  const correct = classes.reduce((a, _, i) => a + (matrix[i]?.[i] ?? 0), 0);
  const warnings: string[] = [];
  const perClass = classes.map((_, i): ClassMetrics => {
    const tp = matrix[i]?.[i] ?? 0;
    const precision = predicted[i]! > 0 ? tp / predicted[i]! : 0;
    const recall = support[i]! > 0 ? tp / support[i]! : null;
    const f1 = precision + (recall ?? 0) > 0 ? (2 * precision * recall!) / (precision + recall!) : 0;
    return { precision, recall, f1, support: support[i]!, predicted: predicted[i]! };
  });
  const present = perClass.filter((c) => c.support > 0);
  const metrics: Metrics = {
    accuracy: total > 0 ? correct / total : null,
    balanced_accuracy: present.length > 0 ? mean(present.map((c) => c.recall!)) : null,
  };
  const neverPredicted = classes.filter((_, i) => predicted[i] === 0 && (positive === null || i === positive));
  if (neverPredicted.length > 0 && total > 0) warnings.push(`class ${neverPredicted.join(', ')} is never predicted: its precision is 0 (no predicted rows)`);
  if (positive !== null && k === 2) {
    const c = perClass[positive]!;
    if (c.support === 0 && total > 0) warnings.push(`no row has the positive label ${classes[positive]}: recall is undefined`);
    Object.assign(metrics, { precision: c.precision, recall: c.recall, f1: c.recall === null ? null : c.f1 });
    return { metrics, perClass, warnings };
  }
  const averaged = perClass.filter((c) => c.support > 0 || c.predicted > 0);
  const weight = averaged.reduce((a, c) => a + c.support, 0);
  const weighted = (f: (c: ClassMetrics) => number): number | null => (weight > 0 ? averaged.reduce((a, c) => a + f(c) * c.support, 0) / weight : null);
  const macro = {
    precision: averaged.length > 0 ? mean(averaged.map((c) => c.precision)) : null,
    recall: averaged.length > 0 ? mean(averaged.map((c) => c.recall ?? 0)) : null,
    f1: averaged.length > 0 ? mean(averaged.map((c) => c.f1)) : null,
  };
  Object.assign(metrics, {
    ...macro,
    precision_macro: macro.precision,
    recall_macro: macro.recall,
    f1_macro: macro.f1,
    precision_weighted: weighted((c) => c.precision),
    recall_weighted: weighted((c) => c.recall ?? 0),
    f1_weighted: weighted((c) => c.f1),
  });
  return { metrics, perClass, warnings };
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}
