/**
 * The quantized fixtures end to end: the real CLI scores the transactions with mlp_qdq and
 * mlp_dynamic, and every row is compared with the hand-written quantized reference.
 *
 * mlp_dynamic quantizes each batch with scales from that batch's min and max, so a row's
 * probabilities depend on its batch. The CLI's batches are a documented function of the
 * input: consecutive `batch_size` rows of one file, in file order, never spanning files.
 * The reference cuts the rows the same way, so these tests also check that the CLI feeds
 * ORT exactly the batches it reports.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { data, expectOk, model, runCli, type CliResult } from '../helpers/cli.js';
import { TOLERANCE, buildFeeds, comparePredictions, type ClassificationExpectation } from '../helpers/expected.js';
import { readInput, readParquet, type Table } from '../helpers/parquet.js';
import { loadQuantReference } from '../helpers/quantReference.js';
import { loadSidecar } from '../helpers/reference.js';
import { useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-e2e-quant-');
const FEATURES = ['amount', 'f0', 'f1', 'risk score'];
const DEFAULT_BATCH_SIZE = 2048;
/** Larger than any fixture file: one batch per file. */
const WHOLE_FILE = 4096;

interface QuantRun {
  id: string;
  name: 'mlp_qdq' | 'mlp_dynamic';
  input: string;
  batchSize?: number;
  /** Batches the summary must report: one per started batch_size rows of each file. */
  batches: number;
}

const RUNS: QuantRun[] = [
  { id: 'qdq', name: 'mlp_qdq', input: data('transactions.parquet'), batches: 2 },
  { id: 'dynamic, one batch', name: 'mlp_dynamic', input: data('transactions.parquet'), batchSize: WHOLE_FILE, batches: 1 },
  { id: 'dynamic, default batches', name: 'mlp_dynamic', input: data('transactions.parquet'), batches: 2 },
  { id: 'dynamic, batches of 250', name: 'mlp_dynamic', input: data('transactions.parquet'), batchSize: 250, batches: 12 },
  // Three 1000-row files: batches of 400, 400, 200 in each, never one across two files.
  { id: 'dynamic, three files in batches of 400', name: 'mlp_dynamic', input: data('parts') + '/', batchSize: 400, batches: 9 },
];

interface Outcome {
  result: CliResult;
  output: string;
  files: Table[];
}
const outcomes = new Map<string, Outcome>();

beforeAll(async () => {
  await Promise.all(
    RUNS.map(async (run) => {
      const output = join(await tmp.make(), 'scores.parquet');
      const args = ['run', '--model', model(run.name), '--input', run.input, '--output', output, '--features', FEATURES.join(','), '--fill-null', '0', '--passthrough', 'txn_id', '--json', '--quiet'];
      if (run.batchSize) args.push('--batch-size', String(run.batchSize));
      const result = await runCli(args);
      const inputFiles = (await readInput(run.input)).files;
      const files = await Promise.all(inputFiles.map((f) => readInput(f)));
      outcomes.set(run.id, { result, output, files });
    }),
  );
}, 120_000);

/** The reference's probabilities for every row, each input file cut into batches as the CLI does. */
function expectedFor(run: QuantRun, files: readonly Table[], batchSize = run.batchSize ?? DEFAULT_BATCH_SIZE): ClassificationExpectation {
  const sidecar = loadSidecar(run.name);
  const reference = loadQuantReference(run.name);
  const probs = files.flatMap((file) => {
    const { x } = buildFeeds(sidecar, file.rows, { x: { columns: FEATURES, fillNull: 0 } });
    return reference.forward(x as number[][], { batchSize }).probabilities;
  });
  const labels = (JSON.parse(sidecar.metadata['labels']!) as string[]).map(String);
  return { task: 'classification', labels, labelSource: 'model metadata', kind: 'probabilities', decidedBy: 'graph', probs };
}

describe.each(RUNS)('$id', (run) => {
  const get = () => outcomes.get(run.id)!;

  it('exits 0, reports the batches it cut and where labels and scores came from', () => {
    const { result } = get();
    expectOk(result);
    expect(result.stderr).toBe('');
    const summary = JSON.parse(result.stdout);
    expect(summary).toMatchObject({
      status: 'ok',
      rows: { in: 3000, out: 3000, rejected: 0 },
      batches: run.batches,
      batchSize: run.batchSize ?? DEFAULT_BATCH_SIZE,
      task: 'classification',
      scores: { kind: 'probabilities', decidedBy: 'graph' },
      labels: { names: ['legit', 'fraud'], source: 'model metadata' },
    });
  });

  it('writes txn_id, prediction, confidence and one probability per label, in input order', async () => {
    const { output, files } = get();
    const out = await readParquet(output);
    expect(out.columns.map((c) => c.name)).toEqual(['txn_id', 'prediction', 'confidence', 'prob_legit', 'prob_fraud']);
    expect(out.rows.map((r) => r['txn_id'])).toEqual(files.flatMap((f) => f.rows.map((r) => r['txn_id'])));
    expect(out.rows).toHaveLength(3000);
  });

  it('matches the quantized reference on every row', async () => {
    const { output, files } = get();
    const out = (await readParquet(output)).rows;
    const expected = expectedFor(run, files);
    expect(comparePredictions(out, expected)).toEqual([]);
    let worst = 0;
    out.forEach((row, i) => expected.labels.forEach((l, c) => (worst = Math.max(worst, Math.abs((row[`prob_${l}`] as number) - expected.probs[i]![c]!)))));
    expect(worst).toBeLessThan(TOLERANCE);
    // Both classes occur, so the prediction check is not vacuous.
    expect(new Set(out.map((r) => r['prediction']))).toEqual(new Set(['legit', 'fraud']));
  });
});

describe('mlp_dynamic batching', () => {
  it('the comparison would catch other batches: against one batch per file, most rows differ', async () => {
    const run = RUNS.find((r) => r.batchSize === 250)!;
    const { output, files } = outcomes.get(run.id)!;
    const out = (await readParquet(output)).rows;
    const oneBatch = expectedFor(run, files, WHOLE_FILE);
    expect(comparePredictions(out, oneBatch, { limit: 3000 }).length).toBeGreaterThan(2000);
  });

  it('the same rows score differently in one file than in three files', async () => {
    const whole = (await readParquet(outcomes.get('dynamic, one batch')!.output)).rows;
    const parts = (await readParquet(outcomes.get('dynamic, three files in batches of 400')!.output)).rows;
    expect(parts.map((r) => r['txn_id'])).toEqual(whole.map((r) => r['txn_id']));
    const differ = parts.filter((r, i) => Math.abs((r['prob_fraud'] as number) - (whole[i]!['prob_fraud'] as number)) > TOLERANCE).length;
    expect(differ).toBeGreaterThan(2000);
  });
});
