/** Metrics of a confusion matrix, on worked examples computed by hand. */
import { describe, expect, it } from 'vitest';
import { confusionMetrics } from '../../src/evaluate/confusion.js';

describe('confusionMetrics', () => {
  // Rows: true a, b, c; columns: predicted a, b, c. Class c is never predicted.
  const matrix = [
    [3, 1, 0],
    [1, 2, 0],
    [1, 1, 0],
  ];

  it('multiclass: accuracy 5/9, per class, macro and weighted averages; class c never predicted has precision 0 and a warning', () => {
    const r = confusionMetrics(matrix, ['a', 'b', 'c'], null);
    expect(r.metrics['accuracy']).toBeCloseTo(5 / 9, 12);
    // Precision a 3/5, b 2/4, c 0; recall a 3/4, b 2/3, c 0.
    expect(r.perClass.map((c) => [c.precision, c.recall, c.support])).toEqual([[3 / 5, 3 / 4, 4], [2 / 4, 2 / 3, 3], [0, 0, 2]]);
    const f1 = [(2 * (3 / 5) * (3 / 4)) / (3 / 5 + 3 / 4), (2 * 0.5 * (2 / 3)) / (0.5 + 2 / 3), 0];
    expect(r.metrics['f1']).toBeCloseTo((f1[0]! + f1[1]!) / 3, 12);
    expect(r.metrics['precision_macro']).toBeCloseTo((3 / 5 + 1 / 2) / 3, 12);
    expect(r.metrics['recall_weighted']).toBeCloseTo((3 + 2 + 0) / 9, 12);
    expect(r.metrics['balanced_accuracy']).toBeCloseTo((3 / 4 + 2 / 3 + 0) / 3, 12);
    expect(r.warnings).toEqual(['class c is never predicted: its precision is 0 (no predicted rows)']);
  });

  it('a class neither labelled nor predicted is left out of the macro average (scikit-learn averages the labels present)', () => {
    const r = confusionMetrics([[2, 0, 0], [1, 1, 0], [0, 0, 0]], ['a', 'b', 'c'], null);
    expect(r.metrics['recall_macro']).toBeCloseTo((1 + 0.5) / 2, 12);
    expect(r.metrics['balanced_accuracy']).toBeCloseTo(0.75, 12);
  });

  it('binary: precision, recall and F1 of the positive class; predictions naming no class count as wrong', () => {
    const r = confusionMetrics([[5, 1], [2, 2]], ['no', 'yes'], 1, [0, 1]);
    expect(r.metrics['accuracy']).toBeCloseTo(7 / 11, 12);
    expect(r.metrics['precision']).toBeCloseTo(2 / 3, 12);
    expect(r.metrics['recall']).toBeCloseTo(2 / 5, 12);
    expect(r.metrics['f1']).toBeCloseTo((2 * (2 / 3) * (2 / 5)) / (2 / 3 + 2 / 5), 12);
    expect(r.metrics['f1_macro']).toBeUndefined();
  });
});
