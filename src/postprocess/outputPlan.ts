/**
 * Decides, before any row is read, which model output is scored, whether the task is
 * classification or regression, where class names come from, and which prediction columns
 * the output file gets.
 */
import type { Problem } from '../errors.js';
import type { JobSpec, ScoresKind } from '../spec/jobSpec.js';
import type { OnnxFileInfo, ValueInfo } from '../model/onnxFile.js';
import type { AppendType } from '../db/duckdb.js';

export type LabelSource = 'job' | 'model ZipMap' | 'model classifier' | 'model metadata' | 'class indices';
export type ScoresDecision = { kind: ScoresKind; decidedBy: 'job' | 'graph' | 'first batch' };

export interface ClassificationPlan {
  task: 'classification';
  outputName: string;
  /** True for a [N,1] output read as p(second class). */
  binary: boolean;
  classes: number;
  labels: string[] | null;
  labelSource: LabelSource;
  /** Known up front from the job or the graph's last op; else decided on the first batch. */
  scores: ScoresDecision | null;
  reviewBelow?: number;
  /**
   * Two classes: the decision rule. `prediction` is class `positive` when its probability is
   * at least `threshold` (else the other class), `confidence` the probability of the predicted
   * class; `reviewBand` flags rows whose positive probability lies in [low, high].
   */
  decision?: { positive: number; threshold?: number; reviewBand?: [number, number] };
  /**
   * The model's own label output (a converter's `output_label`), checked against the argmax
   * of the scores; `classes` maps its values to score columns (null: the values are indices).
   */
  labelCheck?: { output: string; classes: string[] | null };
  extras: ExtraOutput[];
  /** The scored output is float64 (its probabilities are rounded to float32 only when written). */
  float64?: boolean;
}

export interface RegressionPlan {
  task: 'regression';
  outputName: string;
  width: number;
  valueType: 'FLOAT' | 'DOUBLE';
  extras: ExtraOutput[];
}

/** Another model output written as columns (`extra_outputs`): `name`, or `name_0..` for [N,K]. */
export interface ExtraOutput {
  output: string;
  type: AppendType;
  width: number;
  columns: string[];
}

const EXTRA_TYPES: Record<string, AppendType> = { float32: 'FLOAT', float64: 'DOUBLE', int64: 'BIGINT', int32: 'INTEGER', bool: 'BOOLEAN', string: 'VARCHAR' };

/** The model outputs workers must return: the scored one, then the label check's, then extras. */
export function requestedOutputs(plan: OutputPlan): string[] {
  const names = [plan.outputName];
  if (plan.task === 'classification' && plan.labelCheck) names.push(plan.labelCheck.output);
  for (const e of plan.extras) names.push(e.output);
  return [...new Set(names)];
}

export type OutputPlan = ClassificationPlan | RegressionPlan;

/** Columns of the per-segment predictions table, in order. */
export function predictionTableColumns(plan: OutputPlan): { name: string; type: AppendType }[] {
  const extras = plan.extras.flatMap((e, i) => Array.from({ length: e.width }, (_, k) => ({ name: `x${i}_${k}`, type: e.type })));
  if (plan.task === 'regression') return [...Array.from({ length: plan.width }, (_, i) => ({ name: `v${i}`, type: plan.valueType })), ...extras];
  if (derivesInSql(plan)) return [...(plan.task === 'classification' && plan.binary ? [] : [{ name: 'p0', type: 'FLOAT' as const }]), { name: 'p1', type: 'FLOAT' }, ...extras];
  const probs = Array.from({ length: plan.classes }, (_, i) => ({ name: `p${i}`, type: 'FLOAT' as const }));
  return [{ name: 'pred', type: 'INTEGER' }, { name: 'confidence', type: 'FLOAT' }, ...probs, ...extras];
}

/** Names of the prediction columns in the output file (extra outputs last). */
export function outputColumnNames(plan: OutputPlan): string[] {
  const extras = plan.extras.flatMap((e) => e.columns);
  if (plan.task === 'regression') return [...(plan.width === 1 ? ['prediction'] : Array.from({ length: plan.width }, (_, i) => `prediction_${i}`)), ...extras];
  const names = ['prediction', 'confidence', ...classNames(plan).map((l) => `prob_${l}`)];
  if (plan.reviewBelow !== undefined || plan.decision?.reviewBand) names.push('needs_review');
  return [...names, ...extras];
}

/**
 * Two classes whose scores are known to be probabilities before the first batch (the graph
 * ends in Softmax or Sigmoid, or the job says so): the table holds the probabilities alone
 * (p1, or p0 and p1) and the part's COPY derives prediction, confidence and prob_0 = 1 - p1
 * with the same float32 arithmetic and argmax rules as `Postprocessor`: one column appended
 * per row instead of four.
 */
export function derivesInSql(plan: OutputPlan): boolean {
  return plan.task === 'classification' && plan.classes === 2 && plan.scores?.kind === 'probabilities' && !plan.float64;
}

export function classNames(plan: ClassificationPlan): string[] {
  return plan.labels ?? Array.from({ length: plan.classes }, (_, i) => String(i));
}

export function planOutput(spec: JobSpec, model: OnnxFileInfo): { plan: OutputPlan | null; problems: Problem[] } {
  const problems: Problem[] = [];
  const tensors = model.outputs.filter((o) => !['map', 'sequence', 'unknown'].includes(o.elemType));
  let output: ValueInfo | undefined;
  if (spec.outputName) {
    output = model.outputs.find((o) => o.name === spec.outputName);
    if (!output) {
      problems.push({ code: 'MODEL_MISMATCH', where: 'output_name', message: 'the model has no output with this name', expected: model.outputs.map((o) => o.name), actual: spec.outputName });
      return { plan: null, problems };
    }
  } else if (model.outputs.length === 1 || tensors.length === 1) {
    output = tensors[0] ?? model.outputs[0];
  } else if (scoreCandidates(tensors).length === 1) {
    // A classifier's label output next to its probabilities (the scikit-learn layout): score the probabilities.
    output = scoreCandidates(tensors)[0];
  } else {
    problems.push({ code: 'MODEL_MISMATCH', where: 'output_name', message: 'the model has several outputs; say which one to score with output_name / --output-name', expected: model.outputs.map((o) => o.name), actual: 'none chosen' });
    return { plan: null, problems };
  }
  if (!output) return { plan: null, problems };
  const where = `model output '${output.name}'`;
  if (!['float32', 'float64'].includes(output.elemType)) {
    problems.push({ code: 'MODEL_MISMATCH', where, message: 'is not a float tensor batchinfer can score', expected: 'float32 or float64 tensor', actual: output.elemType });
    return { plan: null, problems };
  }
  const shape = output.shape;
  if (!shape || shape.length < 1 || shape.length > 2) {
    problems.push({ code: 'MODEL_MISMATCH', where, message: 'must have shape [N] or [N,C]', expected: '[N] or [N,C]', actual: shape ? `[${shape.join(',')}]` : 'unknown rank' });
    return { plan: null, problems };
  }
  const last = shape.length === 1 ? 1 : shape[1];
  if (typeof last !== 'number' || last < 1) {
    problems.push({ code: 'MODEL_MISMATCH', where, message: 'needs a fixed class/value axis', expected: '[N,C] with a number C', actual: `[${shape.join(',')}]` });
    return { plan: null, problems };
  }
  const extras = planExtras(spec, model, output.name, problems);
  const lastOp = model.producerOps[output.name];
  // A [N,1] output ending in Sigmoid is a binary classifier even without labels.
  const classification = spec.task === 'classification' || (spec.task !== 'regression' && (last >= 2 || spec.labels !== undefined || lastOp === 'Sigmoid'));
  if (!classification) {
    if (spec.reviewBelow !== undefined) problems.push({ code: 'SPEC_INVALID', where: 'review_below', message: 'only applies to classification', actual: `regression output [${shape.join(',')}]` });
    problems.push(...decisionKeys(spec).map((key) => ({ code: 'SPEC_INVALID' as const, where: key, message: 'only applies to a two-class classifier', actual: `regression output [${shape.join(',')}]` })));
    return { plan: { task: 'regression', outputName: output.name, width: last, valueType: output.elemType === 'float64' ? 'DOUBLE' : 'FLOAT', extras }, problems };
  }
  const binary = last === 1;
  const classes = binary ? 2 : last;
  let labels: string[] | null = null;
  let labelSource: LabelSource = 'class indices';
  if (spec.labels) {
    labels = spec.labels;
    labelSource = 'job';
    if (labels.length !== classes) {
      problems.push({ code: 'MODEL_MISMATCH', where: 'labels', message: `the model output [${shape.join(',')}] has ${classes} classes`, expected: classes, actual: labels.length });
    }
  } else if (model.classLabels?.[output.name]?.length === classes) {
    labels = model.classLabels[output.name]!;
    labelSource = 'model ZipMap';
  } else if (model.classifierLabels[output.name]?.length === classes) {
    labels = model.classifierLabels[output.name]!;
    labelSource = 'model classifier';
  } else {
    const fromModel = metadataLabels(model.metadata);
    if (fromModel && fromModel.length === classes) {
      labels = fromModel;
      labelSource = 'model metadata';
    }
  }
  let scores: ScoresDecision | null = null;
  if (spec.scores) scores = { kind: spec.scores, decidedBy: 'job' };
  else if (lastOp === 'Softmax' || lastOp === 'Sigmoid') scores = { kind: 'probabilities', decidedBy: 'graph' };
  const decision = planDecision(spec, labels ?? Array.from({ length: classes }, (_, i) => String(i)), problems);
  return {
    plan: { task: 'classification', outputName: output.name, binary, classes, labels, labelSource, scores, reviewBelow: spec.reviewBelow, ...(decision ? { decision } : {}), ...withLabelCheck(model, output.name, classes), extras, ...(output.elemType === 'float64' ? { float64: true } : {}) },
    problems,
  };
}

/** The decision keys a job sets. */
function decisionKeys(spec: JobSpec): string[] {
  return [spec.threshold !== undefined ? 'threshold' : '', spec.positiveLabel !== undefined ? 'positive_label' : '', spec.reviewBand ? 'review_band' : ''].filter((k) => k !== '');
}

/** `threshold`, `positive_label` and `review_band` of a two-class classifier; null when the job sets none. */
function planDecision(spec: JobSpec, names: string[], problems: Problem[]): ClassificationPlan['decision'] | null {
  const keys = decisionKeys(spec);
  if (keys.length === 0) return null;
  if (names.length !== 2) {
    for (const key of keys) problems.push({ code: 'SPEC_INVALID', where: key, message: 'only applies to a two-class classifier', expected: '2 classes', actual: `${names.length} classes` });
    return null;
  }
  // The second class is the positive one by default, as with 0/1 labels.
  let positive = 1;
  if (spec.positiveLabel !== undefined) {
    positive = names.indexOf(spec.positiveLabel);
    if (positive < 0) {
      problems.push({ code: 'SPEC_INVALID', where: 'positive_label', message: 'is not one of the classes', expected: names, actual: spec.positiveLabel });
      return null;
    }
  }
  return { positive, ...(spec.threshold !== undefined ? { threshold: spec.threshold } : {}), ...(spec.reviewBand ? { reviewBand: spec.reviewBand } : {}) };
}

/**
 * A classifier exported with a label output next to its scores (a string or integer tensor
 * [N] or [N,1], the only other tensor output): its values are checked against the argmax.
 */
function withLabelCheck(model: OnnxFileInfo, scored: string, classes: number): Pick<ClassificationPlan, 'labelCheck'> {
  const labelCheck = labelCheckOf(model, scored, classes);
  return labelCheck ? { labelCheck } : {};
}

function labelCheckOf(model: OnnxFileInfo, scored: string, classes: number): ClassificationPlan['labelCheck'] {
  const others = model.outputs.filter((o) => o.name !== scored && !['map', 'sequence', 'unknown'].includes(o.elemType));
  const labels = others.filter((o) => ['string', 'int64', 'int32'].includes(o.elemType) && (o.shape?.length === 1 || (o.shape?.length === 2 && o.shape[1] === 1)));
  if (labels.length !== 1) return undefined;
  const names = model.classLabels?.[scored] ?? model.classifierLabels[scored] ?? null;
  if (names && names.length !== classes) return undefined;
  if (!names && labels[0]!.elemType === 'string') return undefined;
  return { output: labels[0]!.name, classes: names };
}

/** `extra_outputs`: other tensor outputs of shape [N] or [N,K], written as columns. */
function planExtras(spec: JobSpec, model: OnnxFileInfo, scored: string, problems: Problem[]): ExtraOutput[] {
  const extras: ExtraOutput[] = [];
  for (const name of spec.extraOutputs) {
    const where = `extra_outputs.${name}`;
    const info = model.outputs.find((o) => o.name === name);
    if (!info) {
      problems.push({ code: 'MODEL_MISMATCH', where, message: 'the model has no output with this name', expected: model.outputs.map((o) => o.name), actual: name });
      continue;
    }
    if (name === scored) {
      problems.push({ code: 'SPEC_INVALID', where, message: 'is the scored output; its columns are written already', expected: 'another output', actual: name });
      continue;
    }
    const type = EXTRA_TYPES[info.elemType];
    const shape = info.shape;
    const width = shape?.length === 1 ? 1 : shape?.length === 2 ? shape[1] : undefined;
    if (!type || typeof width !== 'number' || width < 1) {
      problems.push({ code: 'MODEL_MISMATCH', where, message: 'must be a tensor [N] or [N,K] of float, int, bool or string', expected: `${Object.keys(EXTRA_TYPES).join('|')} [N] or [N,K]`, actual: `${info.elemType} ${shape ? `[${shape.join(',')}]` : '(no shape)'}` });
      continue;
    }
    extras.push({ output: name, type, width, columns: width === 1 ? [name] : Array.from({ length: width }, (_, k) => `${name}_${k}`) });
  }
  return extras;
}

/** Float outputs with a fixed class axis [N,C]: what a classifier's probabilities look like. */
function scoreCandidates(outputs: ValueInfo[]): ValueInfo[] {
  const floats = outputs.filter((o) => o.elemType === 'float32' || o.elemType === 'float64');
  const rest = outputs.filter((o) => !floats.includes(o));
  // Only when every other output is a label (integers or strings), never between two float outputs.
  if (rest.some((o) => o.elemType.startsWith('float'))) return [];
  return floats.filter((o) => o.shape?.length === 2 && typeof o.shape[1] === 'number' && o.shape[1] >= 2);
}

/** Class names from the model's `labels` metadata entry (a JSON array), if any. */
function metadataLabels(metadata: Record<string, string>): string[] | null {
  const text = metadata['labels'];
  if (!text) return null;
  try {
    const parsed: unknown = JSON.parse(text);
    if (!Array.isArray(parsed)) return null;
    const labels = parsed.map(String);
    // Output columns are prob_<label>; names equal but for case would collide.
    return new Set(labels.map((l) => l.toLowerCase())).size === labels.length ? labels : null;
  } catch {
    return null;
  }
}
