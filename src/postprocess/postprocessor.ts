/**
 * Turns one batch of raw model output into prediction columns: class index, confidence and
 * per-class probabilities (classification) or values (regression). Whether a classifier
 * emits probabilities or logits is decided once, on the first batch when the job and the
 * graph did not settle it, and the decision is kept for the whole run.
 */
import { BatchinferError } from '../errors.js';
import type { AppendColumn } from '../db/duckdb.js';
import type { TensorData } from '../util/tensor.js';
import { argmaxRow, looksLikeProbabilities, sigmoid, softmaxRows } from './scores.js';
import { derivesInSql, type ClassificationPlan, type ExtraOutput, type OutputPlan, type ScoresDecision } from './outputPlan.js';
import { LabelCheck, type LabelCheckReport, type LabelCounts } from './labelCheck.js';

export class Postprocessor {
  private decision: ScoresDecision | null;
  private readonly labelCheck: LabelCheck | null;

  /**
   * @param resumed the decision of an interrupted run being resumed, kept for consistency
   * @param resumedLabels the label check counts of the rows a resumed run takes from the journal
   */
  constructor(
    private readonly plan: OutputPlan,
    resumed: ScoresDecision | null = null,
    resumedLabels?: LabelCounts,
  ) {
    this.decision = plan.task === 'classification' ? (plan.scores ?? resumed) : null;
    this.labelCheck = plan.task === 'classification' && plan.labelCheck ? new LabelCheck(plan.labelCheck, resumedLabels) : null;
  }

  /** The label output check (a classifier with its own label output), for the run summary. */
  get labels(): LabelCheckReport | null {
    return this.labelCheck?.report() ?? null;
  }

  /** The label check's running totals (null without one), to journal them with each part. */
  labelCounts(): LabelCounts | null {
    return this.labelCheck?.counts() ?? null;
  }

  /**
   * All prediction-table columns of one batch: the scored output's, then each extra output's;
   * the model's label output, if any, is checked against the argmax on the way.
   */
  columns(outputs: Record<string, TensorData>, rows: number): AppendColumn[] {
    const output = outputs[this.plan.outputName]!;
    const derived = derivesInSql(this.plan) ? this.checked(output, rows) : null;
    const columns = derived ? probabilityColumns(this.plan as ClassificationPlan, derived, rows) : this.process(output, rows);
    if (this.labelCheck && this.plan.task === 'classification') {
      const predicted = derived ? argmaxes(this.plan as ClassificationPlan, derived, rows) : (columns[0]!.data as Int32Array);
      this.labelCheck.observe(outputs[this.plan.labelCheck!.output], predicted, rows);
    }
    for (const extra of this.plan.extras) columns.push(...extraColumns(extra, outputs[extra.output], rows));
    return columns;
  }

  /** How scores were read (classification only): recorded in the run summary. */
  get scores(): ScoresDecision | null {
    return this.decision;
  }

  /** The output's values, checked to be floats of the batch's size. */
  private checked(output: TensorData, rows: number): Float32Array | Float64Array {
    const data = output.data;
    if (Array.isArray(data) || !(data instanceof Float32Array || data instanceof Float64Array)) {
      throw new BatchinferError('MODEL_MISMATCH', `model output '${this.plan.outputName}' is not a float tensor`, { expected: 'float32 or float64', actual: output.type });
    }
    const width = this.plan.task === 'regression' ? this.plan.width : this.plan.binary ? 1 : this.plan.classes;
    if (data.length !== rows * width) {
      throw new BatchinferError('MODEL_MISMATCH', `model output '${this.plan.outputName}' has the wrong size for the batch`, {
        expected: `[${rows},${width}]`,
        actual: `[${output.dims.join(',')}]`,
      });
    }
    return data;
  }

  /** Prediction, confidence and every probability, computed here (the full columns of a table that does not derive them in SQL). */
  process(output: TensorData, rows: number): AppendColumn[] {
    const data = this.checked(output, rows);
    if (this.plan.task === 'regression') return splitColumns(data, rows, this.plan.width, this.plan.valueType === 'DOUBLE');
    return this.classify(this.plan, data, rows);
  }

  private classify(plan: ClassificationPlan, data: Float32Array | Float64Array, rows: number): AppendColumn[] {
    const raw = plan.binary ? 1 : plan.classes;
    if (!this.decision) {
      this.decision = { kind: looksLikeProbabilities(data, rows, raw) ? 'probabilities' : 'logits', decidedBy: 'first batch' };
    }
    const classes = plan.classes;
    let probs: ArrayLike<number>;
    if (plan.binary) {
      const both = new Float64Array(rows * 2);
      const logits = this.decision.kind === 'logits';
      for (let r = 0; r < rows; r++) {
        const p = logits ? sigmoid(data[r]!) : data[r]!;
        both[r * 2] = 1 - p;
        both[r * 2 + 1] = p;
      }
      probs = both;
    } else {
      probs = this.decision.kind === 'logits' ? softmaxRows(data, rows, classes) : data;
    }
    const pred = new Int32Array(rows);
    const confidence = new Float32Array(rows);
    const perClass = Array.from({ length: classes }, () => new Float32Array(rows));
    for (let r = 0; r < rows; r++) {
      const best = argmaxRow(probs, r, classes);
      pred[r] = best;
      confidence[r] = best >= 0 ? probs[r * classes + best]! : NaN;
      for (let c = 0; c < classes; c++) perClass[c]![r] = probs[r * classes + c]!;
    }
    return [
      { type: 'INTEGER', data: pred },
      { type: 'FLOAT', data: confidence },
      ...perClass.map((p) => ({ type: 'FLOAT' as const, data: p })),
    ];
  }
}

/** An extra output [N] or [N,K] as K columns of its own type. */
function extraColumns(extra: ExtraOutput, output: TensorData | undefined, rows: number): AppendColumn[] {
  if (!output || output.data.length !== rows * extra.width) {
    throw new BatchinferError('MODEL_MISMATCH', `model output '${extra.output}' has the wrong size for the batch`, { expected: `[${rows},${extra.width}]`, actual: output ? `[${output.dims.join(',')}]` : 'missing' });
  }
  const data = output.data;
  const columns: AppendColumn[] = [];
  for (let k = 0; k < extra.width; k++) {
    let col: AppendColumn['data'];
    if (Array.isArray(data)) col = Array.from({ length: rows }, (_, r) => data[r * extra.width + k]!);
    else {
      const typed = new (data.constructor as new (n: number) => typeof data)(rows);
      for (let r = 0; r < rows; r++) typed[r] = data[r * extra.width + k]!;
      col = typed as AppendColumn['data'];
    }
    columns.push({ type: extra.type, data: col });
  }
  return columns;
}

/** The probabilities of a 2-class plan whose table derives the rest (`derivesInSql`), as float32 columns. */
function probabilityColumns(plan: ClassificationPlan, data: Float32Array | Float64Array, rows: number): AppendColumn[] {
  if (plan.binary) return [{ type: 'FLOAT', data: data instanceof Float32Array ? data : Float32Array.from(data) }];
  const p0 = new Float32Array(rows);
  const p1 = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    p0[r] = data[r * 2]!;
    p1[r] = data[r * 2 + 1]!;
  }
  return [{ type: 'FLOAT', data: p0 }, { type: 'FLOAT', data: p1 }];
}

/** Predicted class per row for the label check, by the same rule the SQL uses (see partWriter). */
function argmaxes(plan: ClassificationPlan, data: Float32Array | Float64Array, rows: number): Int32Array {
  const pred = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    if (plan.binary) {
      const p = Math.fround(data[r]!);
      pred[r] = Number.isNaN(p) ? -1 : p > 1 - p ? 1 : 0;
    } else {
      pred[r] = argmaxRow(Float32Array.of(data[r * 2]!, data[r * 2 + 1]!), 0, 2);
    }
  }
  return pred;
}

function splitColumns(data: Float32Array | Float64Array, rows: number, width: number, double: boolean): AppendColumn[] {
  const columns: AppendColumn[] = [];
  for (let k = 0; k < width; k++) {
    const col = double ? new Float64Array(rows) : new Float32Array(rows);
    for (let r = 0; r < rows; r++) col[r] = data[r * width + k]!;
    columns.push({ type: double ? 'DOUBLE' : 'FLOAT', data: col });
  }
  return columns;
}
