/**
 * A classifier in the layout scikit-learn converters produce: LinearClassifier (ai.onnx.ml)
 * with a string label output and probabilities that end in a ZipMap (a sequence of maps,
 * which onnxruntime-node cannot return). batchinfer strips the ZipMap in memory, scores the
 * probabilities and takes the class names from it; the file on disk stays as it was.
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { stripZipMap } from '../../src/model/zipMap.js';
import { parseOnnx } from '../../src/model/onnxFile.js';
import { data, expectOk, runCli } from '../helpers/cli.js';
import { readInput, readParquet } from '../helpers/parquet.js';
import { useTempDirs } from '../helpers/tempDir.js';

const { onnx } = onnxProto;
const A = onnx.AttributeProto.AttributeType;
const tmp = useTempDirs('batchinfer-e2e-zipmap-');

const FEATURES = ['f0', 'f1', 'f2', 'risk score'];
const CLASSES = ['low', 'medium', 'high'];
// Coefficients per class (row-major [C, F]) and intercepts, as skl2onnx writes them.
const COEF = [0.8, -0.5, 0.3, 1.2, -0.4, 0.9, -0.2, -0.7, 0.1, 0.2, 0.6, 0.4];
const INTERCEPTS = [0.1, -0.3, 0.2];

function text(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

/** LinearClassifier (SOFTMAX) -> label [N] + probabilities [N,3] -> ZipMap -> output_probability. */
function sklearnStyleModel(): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'skl2onnx-like',
    opsetImport: [{ domain: '', version: 17 }, { domain: 'ai.onnx.ml', version: 1 }],
    graph: {
      name: 'linear_classifier',
      input: [{ name: 'x', type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimParam: 'N' }, { dimValue: 4 }] } } } }],
      output: [
        { name: 'output_label', type: { tensorType: { elemType: onnx.TensorProto.DataType.STRING, shape: { dim: [{ dimParam: 'N' }] } } } },
        {
          name: 'output_probability',
          type: { sequenceType: { elemType: { mapType: { keyType: onnx.TensorProto.DataType.STRING, valueType: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT } } } } } },
        },
      ],
      node: [
        {
          name: 'LinearClassifier',
          opType: 'LinearClassifier',
          domain: 'ai.onnx.ml',
          input: ['x'],
          output: ['label', 'probabilities'],
          attribute: [
            { name: 'coefficients', type: A.FLOATS, floats: COEF },
            { name: 'intercepts', type: A.FLOATS, floats: INTERCEPTS },
            { name: 'classlabels_strings', type: A.STRINGS, strings: CLASSES.map(text) },
            { name: 'post_transform', type: A.STRING, s: text('SOFTMAX') },
            { name: 'multi_class', type: A.INT, i: 0 },
          ],
        },
        { name: 'Identity', opType: 'Identity', input: ['label'], output: ['output_label'] },
        {
          name: 'ZipMap',
          opType: 'ZipMap',
          domain: 'ai.onnx.ml',
          input: ['probabilities'],
          output: ['output_probability'],
          attribute: [{ name: 'classlabels_strings', type: A.STRINGS, strings: CLASSES.map(text) }],
        },
      ],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Softmax(x W^T + b) in float64, from the float32 features the tensor holds. */
function reference(row: Record<string, unknown>): number[] {
  const x = FEATURES.map((f) => Math.fround(Number(row[f])));
  const scores = CLASSES.map((_, c) => x.reduce((s, v, j) => s + v * Math.fround(COEF[c * 4 + j]!), Math.fround(INTERCEPTS[c]!)));
  const max = Math.max(...scores);
  const exps = scores.map((s) => Math.exp(s - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

describe('scikit-learn style classifier with a ZipMap output', { timeout: 60_000 }, () => {
  it('stripZipMap exposes the probabilities tensor under the output name with the ZipMap class labels', () => {
    const original = sklearnStyleModel();
    expect(parseOnnx(original).outputs.map((o) => o.elemType)).toEqual(['string', 'sequence']);
    const { bytes, classLabels } = stripZipMap(original);
    expect(classLabels).toEqual({ output_probability: CLASSES });
    const info = parseOnnx(bytes);
    expect(info.outputs).toEqual([
      { name: 'output_label', elemType: 'string', shape: ['N'] },
      { name: 'output_probability', elemType: 'float32', shape: ['N', 3] },
    ]);
    expect(info.opTypes.map((o) => o.opType)).not.toContain('ZipMap');
    // A model without a ZipMap comes back unchanged.
    const plain = stripZipMap(bytes);
    expect(plain.bytes).toBe(bytes);
    expect(plain.classLabels).toEqual({});
  });

  it('scores end to end with no spec but --features: labels from the ZipMap, probabilities match, the file is untouched', async () => {
    const dir = await tmp.make();
    const modelPath = join(dir, 'sklearn.onnx');
    const bytes = sklearnStyleModel();
    await writeFile(modelPath, bytes);
    const before = createHash('sha256').update(bytes).digest('hex');
    const output = join(dir, 'scores.parquet');
    const result = await runCli(['run', '--model', modelPath, '--input', data('transactions.parquet'), '--output', output, '--features', FEATURES.join(','), '--passthrough', 'txn_id', '--json', '--quiet']);
    expectOk(result);
    const summary = JSON.parse(result.stdout);
    expect(summary.model.output).toBe('output_probability');
    expect(summary.model.sha256).toBe(before);
    expect(summary.labels).toEqual({ names: CLASSES, source: 'model ZipMap' });
    expect(summary.scores).toEqual({ kind: 'probabilities', decidedBy: 'first batch' });
    expect(createHash('sha256').update(await readFile(modelPath)).digest('hex')).toBe(before);

    const input = (await readInput(data('transactions.parquet'))).rows;
    const out = await readParquet(output);
    expect(out.columns.map((c) => c.name)).toEqual(['txn_id', 'prediction', 'confidence', 'prob_low', 'prob_medium', 'prob_high']);
    expect(out.rows).toHaveLength(input.length);
    const seen = new Set<string>();
    out.rows.forEach((row, i) => {
      const expected = reference(input[i]!);
      CLASSES.forEach((c, k) => expect(Math.abs((row[`prob_${c}`] as number) - expected[k]!)).toBeLessThanOrEqual(1e-5));
      const best = expected.indexOf(Math.max(...expected));
      expect(row['prediction']).toBe(CLASSES[best]);
      expect(Math.abs((row['confidence'] as number) - expected[best]!)).toBeLessThanOrEqual(1e-5);
      seen.add(row['prediction'] as string);
    });
    expect(seen.size).toBeGreaterThan(1);
  });

  it('inspect says the ZipMap is stripped and names its classes', async () => {
    const dir = await tmp.make();
    const modelPath = join(dir, 'sklearn.onnx');
    await writeFile(modelPath, sklearnStyleModel());
    const result = await runCli(['inspect', modelPath]);
    expectOk(result);
    expect(result.stdout).toContain('zipmap: stripped from output output_probability');
    expect(result.stdout).toContain('classes low, medium, high');
  });
});
