/**
 * A classifier in the layout scikit-learn converters produce (fixtures/models/sk_linear.onnx:
 * Scaler -> LinearClassifier (ai.onnx.ml) with a string label output and probabilities that
 * end in a ZipMap, a sequence of maps, which onnxruntime-node cannot return). batchinfer
 * strips the ZipMap in memory, scores the probabilities and takes the class names from it;
 * the file on disk stays as it was.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { skLinearParams } from '../../scripts/fixtures/mlModels.js';
import { stripZipMap } from '../../src/model/zipMap.js';
import { parseOnnx } from '../../src/model/onnxFile.js';
import { data, expectOk, model, runCli } from '../helpers/cli.js';
import { skLinearReference } from '../helpers/mlReference.js';
import { readInput, readParquet } from '../helpers/parquet.js';
import { useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-e2e-zipmap-');

const PARAMS = skLinearParams();
const FEATURES = PARAMS.features;
const CLASSES = PARAMS.classifier.classLabels as string[];
const MODEL = model('sk_linear');

/** Scaler -> softmax(x W^T + b) in float64 (helpers/mlReference.ts), from the float32 features the tensor holds. */
function reference(row: Record<string, unknown>): number[] {
  return skLinearReference(PARAMS, FEATURES.map((f) => Number(row[f])));
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

describe('scikit-learn style classifier with a ZipMap output', { timeout: 60_000 }, () => {
  it('stripZipMap exposes the probabilities tensor under the output name with the ZipMap class labels', async () => {
    const original = new Uint8Array(await readFile(MODEL));
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
    const before = sha256(await readFile(MODEL));
    const output = join(dir, 'scores.parquet');
    const result = await runCli(['run', '--model', MODEL, '--input', data('transactions.parquet'), '--output', output, '--features', FEATURES.join(','), '--passthrough', 'txn_id', '--json', '--quiet']);
    expectOk(result);
    const summary = JSON.parse(result.stdout);
    expect(summary.model.output).toBe('output_probability');
    expect(summary.model.sha256).toBe(before);
    expect(summary.labels).toEqual({ names: CLASSES, source: 'model ZipMap' });
    expect(summary.scores).toEqual({ kind: 'probabilities', decidedBy: 'first batch' });
    expect(sha256(await readFile(MODEL))).toBe(before);

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
    const result = await runCli(['inspect', MODEL]);
    expectOk(result);
    expect(result.stdout).toContain('zipmap: stripped from output output_probability');
    expect(result.stdout).toContain('classes low, medium, high');
  });
});
