/**
 * An independent float64 reference for the ai.onnx.ml fixtures: the operators restated
 * from the ONNX spec (Scaler, Normalizer, LinearClassifier/Regressor with their post
 * transforms, tree walks, Imputer, OneHotEncoder, LabelEncoder), driven by the parameters
 * scripts/fixtures exports as plain data. Nothing here runs onnxruntime or reads the .onnx
 * files, so agreement with onnxruntime means the files encode what the parameters say.
 *
 * Features are float32 in the tensor and thresholds float32 in the model: inputs are
 * rounded with Math.fround before use, so a tree takes the branch onnxruntime takes.
 *
 * @example
 *   const p = skTreeParams();
 *   skTreeReference(p, [0.1, -0.2, 0.3, 0.5, 4]); // [p(10), p(20), p(30)]
 */
import type {
  LinearClassifierParams,
  LinearRegressorParams,
  SkLinearParams,
  SkNormalizerParams,
  SkPipelineParams,
  TreeClassifierParams,
  TreeEnsembleParams,
  TreeNode,
  TreeRegressorParams,
} from '../../scripts/fixtures/mlModels.js';
import { linearRegressorParams, skLinearParams, skNormalizerParams, skTreeParams, xgbRegressorParams } from '../../scripts/fixtures/mlModels.js';

/** Scaler: (x - offset) * scale, per feature (or one offset/scale for all). */
export function scale(x: readonly number[], offset: readonly number[], factor: readonly number[]): number[] {
  return x.map((v, j) => (v - (offset.length === 1 ? offset[0]! : offset[j]!)) * (factor.length === 1 ? factor[0]! : factor[j]!));
}

/** Normalizer: divide by the L1 or L2 norm (or the max); a zero norm leaves the row as is. */
export function normalize(x: readonly number[], norm: 'L1' | 'L2' | 'MAX'): number[] {
  const z = norm === 'L1' ? x.reduce((s, v) => s + Math.abs(v), 0) : norm === 'L2' ? Math.sqrt(x.reduce((s, v) => s + v * v, 0)) : Math.max(...x);
  return z === 0 ? [...x] : x.map((v) => v / z);
}

/** x W^T + b with W row-major [targets, features]. */
export function linearScores(x: readonly number[], coefficients: readonly number[], intercepts: readonly number[]): number[] {
  return intercepts.map((b, t) => x.reduce((s, v, j) => s + v * coefficients[t * x.length + j]!, b));
}

/** The post_transform of LinearClassifier / TreeEnsemble*. */
export function postTransform(scores: readonly number[], kind: string): number[] {
  switch (kind) {
    case 'NONE':
      return [...scores];
    case 'LOGISTIC':
      return scores.map((s) => 1 / (1 + Math.exp(-s)));
    case 'SOFTMAX': {
      const max = Math.max(...scores);
      const exps = scores.map((s) => Math.exp(s - max));
      const sum = exps.reduce((a, b) => a + b, 0);
      return exps.map((e) => e / sum);
    }
    default:
      throw new Error(`mlReference: post_transform ${kind} not implemented`);
  }
}

/** The first index holding the largest value (how onnxruntime picks a label). */
export function argmax(values: readonly number[]): number {
  let best = 0;
  values.forEach((v, i) => {
    if (v > values[best]!) best = i;
  });
  return best;
}

/** LinearClassifier: probabilities after the post transform. */
export function linearClassifier(x: readonly number[], p: LinearClassifierParams): number[] {
  return postTransform(linearScores(x, p.coefficients, p.intercepts), p.postTransform);
}

const f32 = (x: readonly number[]): number[] => x.map((v) => Math.fround(v));

/** Indexes an ensemble's nodes by tree, each tree's nodes by id. */
function indexTrees(p: TreeEnsembleParams): Map<number, Map<number, TreeNode>> {
  const trees = new Map<number, Map<number, TreeNode>>();
  for (const node of p.nodes) {
    if (!trees.has(node.treeId)) trees.set(node.treeId, new Map());
    trees.get(node.treeId)!.set(node.nodeId, node);
  }
  return trees;
}

/** Walks one tree from node 0 to a leaf; NaN follows missingTracksTrue (else the false branch). */
export function walkTree(tree: ReadonlyMap<number, TreeNode>, x: readonly number[]): TreeNode {
  let node = tree.get(0);
  for (let steps = 0; node && node.mode !== 'LEAF'; steps++) {
    if (steps > tree.size) throw new Error('mlReference: the tree has a cycle');
    const v = Math.fround(x[node.featureId]!);
    const t = Math.fround(node.value);
    let goesTrue: boolean;
    if (Number.isNaN(v)) goesTrue = node.missingTracksTrue === true;
    else if (node.mode === 'BRANCH_LEQ') goesTrue = v <= t;
    else if (node.mode === 'BRANCH_LT') goesTrue = v < t;
    else throw new Error(`mlReference: node mode ${String(node.mode)} not implemented`);
    node = tree.get(goesTrue ? node.trueId : node.falseId);
  }
  if (!node) throw new Error('mlReference: a tree points at a node it does not have');
  return node;
}

/** Sums each target's leaf weights over the trees, plus base_values (SUM aggregation). */
export function treeEnsembleSums(p: TreeEnsembleParams, x: readonly number[], targets: number): number[] {
  const sums = new Array<number>(targets).fill(0).map((_, t) => p.baseValues[p.baseValues.length === 1 ? 0 : t] ?? 0);
  for (const [treeId, tree] of indexTrees(p)) {
    const leaf = walkTree(tree, x);
    for (const w of p.weights) if (w.treeId === treeId && w.nodeId === leaf.nodeId) sums[w.targetId]! += w.weight;
  }
  return sums;
}

/** sk_tree: class probabilities (the forest's averaged leaf distributions). */
export function skTreeReference(p: TreeClassifierParams, x: readonly number[]): number[] {
  return postTransform(treeEnsembleSums(p, f32(x), p.classLabels.length), p.postTransform);
}

/** xgb_regressor: base_score + the sum of the leaves reached. */
export function xgbRegressorReference(p: TreeRegressorParams, x: readonly number[]): number[] {
  return treeEnsembleSums(p, f32(x), 1);
}

/** sk_linear: Scaler -> LinearClassifier (SOFTMAX). */
export function skLinearReference(p: SkLinearParams, x: readonly number[]): number[] {
  return linearClassifier(scale(f32(x), p.scaler.offset, p.scaler.scale), p.classifier);
}

/** sk_normalizer: Normalizer(L2) -> LinearClassifier (LOGISTIC) -> Normalizer(L1). */
export function skNormalizerReference(p: SkNormalizerParams, x: readonly number[]): number[] {
  return normalize(linearClassifier(normalize(f32(x), p.inputNorm), p.classifier), p.probabilityNorm);
}

/** linear_regressor: x w + b. */
export function linearRegressorReference(p: LinearRegressorParams, x: readonly number[]): number[] {
  return linearScores(f32(x), p.coefficients, p.intercepts);
}

/** One applicants row as sk_pipeline's inputs see it: NULL income is NaN, code is its decimal text. */
export interface PipelineRow {
  income: number;
  region: string;
  age: number;
  member: boolean;
  code: string;
}

/** Imputer: NaN -> the imputed value. */
export function impute(v: number, imputed: number): number {
  return Number.isNaN(v) ? imputed : v;
}

/** OneHotEncoder with zeros=1: an unknown category is all zeros. */
export function oneHot(value: string, categories: readonly string[]): number[] {
  return categories.map((c) => (c === value ? 1 : 0));
}

/** LabelEncoder: the value at the key's position, else the default. */
export function labelEncode(value: string, keys: readonly string[], values: readonly number[], fallback: number): number {
  const i = keys.indexOf(value);
  return i < 0 ? fallback : values[i]!;
}

/** sk_pipeline's feature vector, in its Concat order. */
export function skPipelineFeatures(p: SkPipelineParams, row: PipelineRow): number[] {
  const income = scale([impute(Math.fround(row.income), p.income.imputed)], [p.income.offset], [p.income.scale]);
  const age = scale([row.age], [p.age.offset], [p.age.scale]);
  return [...income, ...age, ...oneHot(row.region, p.region.categories), labelEncode(row.code, p.code.keys, p.code.values, p.code.default), row.member ? 1 : 0];
}

/** sk_pipeline: the classifier's probabilities for one row. */
export function skPipelineReference(p: SkPipelineParams, row: PipelineRow): number[] {
  return linearClassifier(skPipelineFeatures(p, row), p.classifier);
}

/** A fixture with one float input `x` [N,K] fed from transactions columns, and its reference. */
export interface TabularMlModel {
  name: string;
  /** transactions columns feeding `x`, in order. */
  features: string[];
  /** Class names as the ZipMap gives them (classifiers), null for a regressor. */
  labels: string[] | null;
  /** Probabilities per class, or the regressor's [value], for one row of raw feature values. */
  reference(x: readonly number[]): number[];
}

/** The [N,K] ai.onnx.ml fixtures, each with its reference bound to its parameters. */
export function tabularMlModels(): TabularMlModel[] {
  const linear = skLinearParams();
  const normalizer = skNormalizerParams();
  const tree = skTreeParams();
  const xgb = xgbRegressorParams();
  const regressor = linearRegressorParams();
  const names = (labels: readonly (string | number)[]) => labels.map(String);
  return [
    { name: 'sk_linear', features: linear.features, labels: names(linear.classifier.classLabels), reference: (x) => skLinearReference(linear, x) },
    { name: 'sk_normalizer', features: normalizer.features, labels: names(normalizer.classifier.classLabels), reference: (x) => skNormalizerReference(normalizer, x) },
    { name: 'sk_tree', features: tree.features, labels: names(tree.classLabels), reference: (x) => skTreeReference(tree, x) },
    { name: 'xgb_regressor', features: xgb.features, labels: null, reference: (x) => xgbRegressorReference(xgb, x) },
    { name: 'linear_regressor', features: regressor.features, labels: null, reference: (x) => linearRegressorReference(regressor, x) },
  ];
}

/**
 * The labels a prediction may take: the reference's argmax, and any class within
 * `tolerance` of it (float32 sums may break a float64 tie, or make one).
 */
export function acceptableLabels(probs: readonly number[], labels: readonly string[], tolerance: number): string[] {
  const best = probs[argmax(probs)]!;
  return labels.filter((_, c) => best - probs[c]! <= tolerance);
}
