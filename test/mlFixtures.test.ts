/**
 * The ai.onnx.ml fixtures prove themselves like the others: onnxruntime on each file must
 * agree, row by row, with the float64 reference in helpers/mlReference.ts computed from the
 * parameters scripts/fixtures exports. The ZipMap output (a sequence of maps) cannot come
 * back through onnxruntime-node, so the test also exposes the ZipMap's input tensor as an
 * extra graph output of an in-memory copy and compares that.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { APPLICANT_COLUMNS, APPLICANT_TYPES, KNOWN_CODES, KNOWN_REGIONS, UNKNOWN_CODE, UNSEEN_REGION } from '../scripts/fixtures/applicants.js';
import { skPipelineParams, skTreeParams, xgbRegressorParams, type TreeEnsembleParams } from '../scripts/fixtures/mlModels.js';
import { acceptableLabels, skPipelineReference, tabularMlModels, type PipelineRow } from './helpers/mlReference.js';
import { readInput, type Row } from './helpers/parquet.js';
import { FIXTURES_DIR } from './helpers/reference.js';

const { onnx } = onnxProto;
/** float32 inference vs float64 reference; relative above 1. */
const TOLERANCE = 1e-5;
const ML_DOMAIN = 'ai.onnx.ml';

let transactions: Row[];
let applicants: { columns: { name: string; type: string }[]; rows: Row[] };
beforeAll(async () => {
  transactions = (await readInput(join(FIXTURES_DIR, 'data', 'transactions.parquet'))).rows;
  applicants = await readInput(join(FIXTURES_DIR, 'data', 'applicants.parquet'));
});

type Graph = onnxProto.onnx.GraphProto;

async function readModel(name: string): Promise<{ model: onnxProto.onnx.ModelProto; graph: Graph }> {
  const model = onnx.ModelProto.decode(await readFile(join(FIXTURES_DIR, 'models', `${name}.onnx`)));
  if (!model.graph) throw new Error(`${name}.onnx has no graph`);
  return { model, graph: model.graph as Graph };
}

/**
 * A session on the model with the ZipMap's input (the probabilities [N,C]) as an extra
 * output named `probabilities_tensor`; returns null for it when the model has no ZipMap.
 */
async function openExposingProbabilities(name: string): Promise<{ session: ort.InferenceSession; probabilities: string | null }> {
  const { model, graph } = await readModel(name);
  const zipMap = graph.node.find((n) => n.opType === 'ZipMap');
  const probabilities = zipMap?.input?.[0] ?? null;
  if (probabilities) graph.output.push({ name: probabilities, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT } } });
  return { session: await ort.InferenceSession.create(onnx.ModelProto.encode(model).finish()), probabilities };
}

const relativeError = (got: number, want: number): number => Math.abs(got - want) / Math.max(1, Math.abs(want));

/** Rows of raw feature values from transactions columns. */
const featureRows = (rows: readonly Row[], features: readonly string[]): number[][] => rows.map((r) => features.map((f) => Number(r[f])));

/** Every 4th row gets one NaN feature (a different one each time), to exercise the trees' missing-value branches. */
const withNaNs = (rows: readonly number[][]): number[][] => rows.map((r, i) => (i % 4 === 0 ? r.map((v, j) => (j === (i >> 2) % r.length ? NaN : v)) : r));

/** Runs a [N,K] model on rows; returns per row the scored tensor and (classifiers) the label output. */
async function runTabular(name: string, rows: readonly number[][]): Promise<{ scores: number[][]; labels: string[] | null }> {
  const { session, probabilities } = await openExposingProbabilities(name);
  try {
    const width = rows[0]!.length;
    const x = new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, width]);
    const scored = probabilities ?? 'variable';
    const outputs = probabilities ? [scored, 'output_label'] : [scored];
    const result = await session.run({ x }, outputs);
    const tensor = result[scored]!;
    const cols = Number(tensor.dims[1]);
    const data = Array.from(tensor.data as Float32Array);
    const scores = rows.map((_, i) => data.slice(i * cols, (i + 1) * cols));
    const labels = probabilities ? Array.from(result['output_label']!.data as ArrayLike<unknown>, String) : null;
    return { scores, labels };
  } finally {
    await session.release();
  }
}

describe.each(tabularMlModels().map((m) => [m.name, m] as const))('%s.onnx', (_name, m) => {
  const check = async (rows: number[][]) => {
    const { scores, labels } = await runTabular(m.name, rows);
    expect(scores).toHaveLength(rows.length);
    let worst = 0;
    const wrongLabels: string[] = [];
    rows.forEach((x, i) => {
      const want = m.reference(x);
      expect(scores[i]).toHaveLength(want.length);
      want.forEach((w, k) => (worst = Math.max(worst, relativeError(scores[i]![k]!, w))));
      if (labels && m.labels) {
        const ok = acceptableLabels(want, m.labels, TOLERANCE);
        if (!ok.includes(labels[i]!) && wrongLabels.length < 5) wrongLabels.push(`row ${i}: ${labels[i]}, expected ${ok.join(' or ')}`);
      }
    });
    expect(worst).toBeLessThan(TOLERANCE);
    expect(wrongLabels).toEqual([]);
  };

  it('matches the reference on every transactions row', async () => {
    await check(featureRows(transactions, m.features));
  });

  if (m.name === 'sk_tree' || m.name === 'xgb_regressor') {
    it('matches the reference with NaN features (missing-value branches)', async () => {
      await check(withNaNs(featureRows(transactions, m.features)));
    });
  }
});

describe('sk_pipeline.onnx', () => {
  it('matches the reference on every applicants row (NaN income imputed, unseen and empty regions all zeros)', async () => {
    const p = skPipelineParams();
    const rows: PipelineRow[] = applicants.rows.map((r) => ({
      income: r['income'] === null ? NaN : Number(r['income']),
      // A NULL region reaches the model as '' here (the CLI rejects such rows): an unknown category.
      region: r['region'] === null ? '' : String(r['region']),
      age: Number(r['age']),
      member: r['member'] === true,
      code: String(r['code']),
    }));
    const n = rows.length;
    const column = <T>(f: (r: PipelineRow) => T): T[] => rows.map(f);
    const { session, probabilities } = await openExposingProbabilities('sk_pipeline');
    try {
      const result = await session.run(
        {
          income: new ort.Tensor('float32', Float32Array.from(column((r) => r.income)), [n, 1]),
          region: new ort.Tensor('string', column((r) => r.region), [n, 1]),
          age: new ort.Tensor('int64', BigInt64Array.from(column((r) => BigInt(r.age))), [n, 1]),
          member: new ort.Tensor('bool', Uint8Array.from(column((r) => (r.member ? 1 : 0))), [n, 1]),
          code: new ort.Tensor('string', column((r) => r.code), [n, 1]),
        },
        [probabilities!, 'output_label'],
      );
      const probs = Array.from(result[probabilities!]!.data as Float32Array);
      const labels = Array.from(result['output_label']!.data as ArrayLike<unknown>, String);
      const classes = p.classifier.classLabels.map(String);
      let worst = 0;
      rows.forEach((row, i) => {
        const want = skPipelineReference(p, row);
        want.forEach((w, k) => (worst = Math.max(worst, Math.abs(probs[i * 2 + k]! - w))));
        expect(acceptableLabels(want, classes, TOLERANCE)).toContain(labels[i]);
      });
      expect(worst).toBeLessThan(TOLERANCE);
      expect(new Set(labels).size).toBe(2);
    } finally {
      await session.release();
    }
  });

  it('has one [N,1] input per applicants column, of the documented types', async () => {
    const { graph } = await readModel('sk_pipeline');
    const type = (code: number | null | undefined) => ({ 1: 'float32', 7: 'int64', 8: 'string', 9: 'bool' })[code ?? 0];
    const inputs = graph.input.map((i) => ({ name: i.name, elemType: type(i.type?.tensorType?.elemType), shape: i.type?.tensorType?.shape?.dim?.map((d) => d.dimParam || Number(d.dimValue)) }));
    expect(inputs).toEqual(skPipelineParams().inputs);
    for (const input of inputs) expect(APPLICANT_COLUMNS).toContain(input.name);
  });
});

describe('ai.onnx.ml model structure', () => {
  const expectedOpsets: Record<string, number> = { sk_linear: 1, sk_normalizer: 1, sk_tree: 3, xgb_regressor: 3, linear_regressor: 1, sk_pipeline: 2 };

  it.each(Object.entries(expectedOpsets))('%s imports ai.onnx.ml %i and puts every ML operator in that domain', async (name, version) => {
    const { model, graph } = await readModel(name);
    expect(model.opsetImport.map((o) => ({ domain: o.domain, version: Number(o.version) }))).toEqual([{ domain: '', version: 17 }, { domain: ML_DOMAIN, version }]);
    const mlOps = new Set(['Scaler', 'Normalizer', 'LinearClassifier', 'LinearRegressor', 'TreeEnsembleClassifier', 'TreeEnsembleRegressor', 'Imputer', 'OneHotEncoder', 'LabelEncoder', 'ZipMap']);
    for (const node of graph.node) expect(node.domain ?? '', node.opType ?? '').toBe(mlOps.has(node.opType ?? '') ? ML_DOMAIN : '');
  });

  it.each(['sk_linear', 'sk_normalizer', 'sk_tree', 'sk_pipeline'])('%s ends in a ZipMap over the classifier classes, beside a label output', async (name) => {
    const { graph } = await readModel(name);
    const zipMap = graph.node.find((n) => n.opType === 'ZipMap')!;
    const classifier = graph.node.find((n) => n.opType?.endsWith('Classifier'))!;
    const attr = (node: onnxProto.onnx.INodeProto, key: string) => node.attribute!.find((a) => a.name === key);
    const text = (bytes: Uint8Array[] | null | undefined) => (bytes ?? []).map((b) => new TextDecoder().decode(b));
    const zipLabels = [...text(attr(zipMap, 'classlabels_strings')?.strings), ...(attr(zipMap, 'classlabels_int64s')?.ints ?? []).map(String)];
    const classLabels = [...text(attr(classifier, 'classlabels_strings')?.strings), ...(attr(classifier, 'classlabels_ints')?.ints ?? attr(classifier, 'classlabels_int64s')?.ints ?? []).map(String)];
    expect(zipLabels).toEqual(classLabels);
    expect(zipMap.output).toEqual(['output_probability']);
    const outputs = graph.output;
    expect(outputs.map((o) => o.name)).toEqual(['output_label', 'output_probability']);
    expect(outputs[1]!.type?.sequenceType?.elemType?.mapType).toBeTruthy();
  });
});

describe('ai.onnx.ml fixtures are informative', () => {
  /** (row, branch node) pairs where the float32 feature equals the threshold: `<=` vs `<` decides them. */
  const onThreshold = (p: TreeEnsembleParams): number => {
    const rows = featureRows(transactions, p.features);
    return p.nodes.filter((n) => n.mode !== 'LEAF').reduce((count, n) => count + rows.filter((x) => Math.fround(x[n.featureId]!) === n.value).length, 0);
  };

  it('some rows sit exactly on tree thresholds (BRANCH_LEQ and BRANCH_LT both decided by them)', () => {
    expect(onThreshold(skTreeParams())).toBeGreaterThan(10);
    expect(onThreshold(xgbRegressorParams())).toBeGreaterThan(10);
  });

  it.each(tabularMlModels().filter((m) => m.labels).map((m) => [m.name, m] as const))('%s predicts every class with spread probabilities', (_name, m) => {
    const probs = featureRows(transactions, m.features).map((x) => m.reference(x));
    const predicted = new Set(probs.map((p) => p.indexOf(Math.max(...p))));
    expect(predicted.size).toBe(m.labels!.length);
    const unsure = probs.filter((p) => Math.max(...p) < 0.95).length;
    expect(unsure / probs.length).toBeGreaterThan(0.3);
  });
});

describe('reference label check', () => {
  it('accepts every class tied (within the tolerance) with the best one, and only those', () => {
    expect(acceptableLabels([0.4, 0.4, 0.2], ['a', 'b', 'c'], TOLERANCE)).toEqual(['a', 'b']);
    expect(acceptableLabels([0.3, 0.4, 0.4 - 5e-6], ['a', 'b', 'c'], TOLERANCE)).toEqual(['b', 'c']);
    expect(acceptableLabels([0.5, 0.3, 0.2], ['a', 'b', 'c'], TOLERANCE)).toEqual(['a']);
  });
});

describe('applicants.parquet', () => {
  it('has the documented columns and quirks', () => {
    expect(applicants.columns).toEqual(APPLICANT_COLUMNS.map((name, i) => ({ name, type: APPLICANT_TYPES[i] })));
    const rows = applicants.rows;
    expect(rows).toHaveLength(2000);
    expect(rows[0]!['applicant_id']).toBe('a00000');
    expect(rows[1999]!['applicant_id']).toBe('a01999');
    const count = (f: (r: Row) => boolean) => rows.filter(f).length;
    expect(count((r) => r['income'] === null)).toBeGreaterThan(50);
    expect(count((r) => r['income'] === null)).toBeLessThan(150);
    expect(count((r) => r['region'] === null)).toBeGreaterThan(5);
    expect(count((r) => r['region'] === null)).toBeLessThan(50);
    expect(new Set(rows.map((r) => r['region']))).toEqual(new Set([...KNOWN_REGIONS, UNSEEN_REGION, null]));
    expect(new Set(rows.map((r) => r['code']))).toEqual(new Set([...KNOWN_CODES, UNKNOWN_CODE]));
    expect(new Set(rows.map((r) => r['member']))).toEqual(new Set([true, false]));
    expect(count((r) => r['age'] === null || r['member'] === null || r['code'] === null)).toBe(0);
  });
});
