/**
 * A classifier exported with its own label output (a converter's `output_label`) next to its
 * scores: each row's label must be the class with the highest score. Rows where they differ
 * are counted for the run summary, not failed: tree ensembles may break ties differently, and
 * the scores are what the output holds.
 *
 * @example
 *   const check = new LabelCheck({ output: 'output_label', classes: ['a', 'b'] });
 *   check.observe(outputs['output_label'], predictedIndices, rows);
 *   check.report(); // { output: 'output_label', rows: 3000, disagreements: 0, examples: [] }
 */
import { BatchinferError } from '../errors.js';
import type { TensorData } from '../util/tensor.js';

/** Rows checked and how many disagreed: what a journaled part records, so a resumed run reports every row. */
export interface LabelCounts {
  rows: number;
  disagreements: number;
}

export interface LabelCheckReport {
  output: string;
  /** Rows checked: every scored row, a resumed run's included (their counts come from the journal). */
  rows: number;
  disagreements: number;
  /** Up to 5 rows (index among the rows checked) where the label is not the argmax; a resumed run's are from the rows it scored itself. */
  examples: { row: number; label: string; argmax: string }[];
}

export class LabelCheck {
  private rows = 0;
  private disagreements = 0;
  private readonly examples: LabelCheckReport['examples'] = [];
  private readonly index: Map<string, number> | null;

  /** @param prior the counts of the rows a resumed run takes from the journal */
  constructor(
    private readonly spec: { output: string; classes: string[] | null },
    prior: LabelCounts = { rows: 0, disagreements: 0 },
  ) {
    this.index = spec.classes ? new Map(spec.classes.map((c, i) => [c, i])) : null;
    this.rows = prior.rows;
    this.disagreements = prior.disagreements;
  }

  /** The running totals. */
  counts(): LabelCounts {
    return { rows: this.rows, disagreements: this.disagreements };
  }

  /** Compares one batch's label output with the predicted class indices. */
  observe(labels: TensorData | undefined, predicted: Int32Array, rows: number): void {
    if (!labels || labels.data.length !== rows) {
      throw new BatchinferError('MODEL_MISMATCH', `model label output '${this.spec.output}' does not hold one label per row`, { expected: rows, actual: labels ? labels.data.length : 'missing' });
    }
    const values = labels.data;
    for (let r = 0; r < rows; r++) {
      const label = String(values[r]);
      const expected = this.index ? (this.index.get(label) ?? -1) : Number(label);
      if (expected !== predicted[r]) {
        this.disagreements++;
        if (this.examples.length < 5) {
          const best = predicted[r]!;
          this.examples.push({ row: this.rows + r, label, argmax: this.spec.classes?.[best] ?? String(best) });
        }
      }
    }
    this.rows += rows;
  }

  report(): LabelCheckReport {
    return { output: this.spec.output, rows: this.rows, disagreements: this.disagreements, examples: [...this.examples] };
  }
}
