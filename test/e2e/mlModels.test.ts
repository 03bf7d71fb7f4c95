/**
 * The ai.onnx.ml fixtures with one float input [N,K], scored end to end through the real
 * CLI with no job file: `--features` names the columns, the ZipMap of a classifier is
 * stripped in memory (class names from its classlabels), a regressor's `variable` output
 * becomes `prediction`. Every row is checked against the float64 reference computed from
 * the parameters scripts/fixtures exports (helpers/mlReference.ts).
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { data, expectOk, model, runCli } from '../helpers/cli.js';
import { acceptableLabels, argmax, tabularMlModels, type TabularMlModel } from '../helpers/mlReference.js';
import { readInput, readParquet, type Row } from '../helpers/parquet.js';
import { useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-e2e-ml-');
/** float32 inference and storage vs the float64 reference; relative for values above 1. */
const TOLERANCE = 1e-5;
const INPUT = data('transactions.parquet');

let input: Row[];
beforeAll(async () => {
  input = (await readInput(INPUT)).rows;
});

const close = (got: unknown, want: number): boolean => typeof got === 'number' && Math.abs(got - want) <= TOLERANCE * Math.max(1, Math.abs(want));

/** Every mismatch between the CLI's rows and the reference (at most 10), so `toEqual([])` prints the first ones. */
function mismatches(m: TabularMlModel, out: readonly Row[]): string[] {
  const problems: string[] = [];
  out.forEach((row, i) => {
    if (problems.length >= 10) return;
    const source = input[i]!;
    if (row['txn_id'] !== source['txn_id']) problems.push(`row ${i}: txn_id ${String(row['txn_id'])}, expected ${String(source['txn_id'])}`);
    const want = m.reference(m.features.map((f) => Number(source[f])));
    if (!m.labels) {
      if (!close(row['prediction'], want[0]!)) problems.push(`row ${i}: prediction ${String(row['prediction'])}, expected ${want[0]}`);
      return;
    }
    m.labels.forEach((label, c) => {
      if (!close(row[`prob_${label}`], want[c]!)) problems.push(`row ${i}: prob_${label} ${String(row[`prob_${label}`])}, expected ${want[c]}`);
    });
    const best = want[argmax(want)]!;
    if (!close(row['confidence'], best)) problems.push(`row ${i}: confidence ${String(row['confidence'])}, expected ${best}`);
    // Classes within float32 noise of the best (a tree ensemble's tie) are all acceptable.
    const ok = acceptableLabels(want, m.labels, TOLERANCE);
    if (!ok.includes(String(row['prediction']))) problems.push(`row ${i}: prediction ${String(row['prediction'])}, expected ${ok.join(' or ')} (probs ${want.join(', ')})`);
  });
  return problems;
}

describe.each(tabularMlModels().map((m) => [m.name, m] as const))('%s.onnx end to end', { timeout: 60_000 }, (name, m) => {
  it('scores every transactions row like the reference, with --features and no job file', async () => {
    const output = join(await tmp.make(), 'scores.parquet');
    const result = await runCli(['run', '--model', model(name), '--input', INPUT, '--output', output, '--features', m.features.join(','), '--passthrough', 'txn_id', '--json', '--quiet']);
    expectOk(result);
    const summary = JSON.parse(result.stdout);
    expect(summary.rows).toEqual({ in: input.length, out: input.length, rejected: 0, rejectedByReason: {} });

    const out = await readParquet(output);
    expect(out.rows).toHaveLength(input.length);
    if (m.labels) {
      expect(summary.task).toBe('classification');
      expect(summary.model.output).toBe('output_probability');
      expect(summary.labels).toEqual({ names: m.labels, source: 'model ZipMap' });
      expect(summary.scores).toEqual({ kind: 'probabilities', decidedBy: 'first batch' });
      // The model's own label output agrees with the argmax on every row.
      expect(summary.labelCheck).toMatchObject({ output: 'output_label', rows: input.length, disagreements: 0 });
      expect(out.columns.map((c) => c.name)).toEqual(['txn_id', 'prediction', 'confidence', ...m.labels.map((l) => `prob_${l}`)]);
      expect(new Set(out.rows.map((r) => r['prediction'])).size).toBe(m.labels.length);
    } else {
      expect(summary.task).toBe('regression');
      expect(summary.model.output).toBe('variable');
      expect(summary.labels).toBeUndefined();
      expect(out.columns.map((c) => c.name)).toEqual(['txn_id', 'prediction']);
    }
    expect(mismatches(m, out.rows)).toEqual([]);
  });
});
