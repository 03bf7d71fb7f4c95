/**
 * Decision thresholds for two-class models (issue 16, part 4): `threshold` predicts the
 * positive class when its probability is at least the threshold, `positive_label` names that
 * class, `review_band` flags rows whose positive probability lies in a band. Checked row by
 * row against the rule applied in the test to the probabilities the output holds, on the
 * path that derives predictions in SQL (a Softmax graph) and on the one that computes them in
 * JS (scores read as logits).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { data, expectCliError, expectOk, model, runCli } from '../helpers/cli.js';
import { readParquet, type Row } from '../helpers/parquet.js';
import { useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-e2e-decision-');
const FEATURES = 'amount,f0,f1,risk score';

/** Scores the transactions with the MLP; `keys` are job keys beside the flags (`scores` has no flag). */
async function score(...extra: (string | Record<string, unknown>)[]): Promise<{ rows: Row[]; summary: Record<string, unknown> }> {
  const dir = await tmp.make();
  const output = join(dir, 'o.parquet');
  const keys = Object.assign({}, ...extra.filter((e): e is Record<string, unknown> => typeof e === 'object'));
  const job = join(dir, 'job.json');
  await writeFile(job, JSON.stringify({ model: model('mlp'), input: data('transactions.parquet'), output, features: FEATURES.split(','), fill_null: 0, labels: ['legit', 'fraud'], ...keys }));
  const r = await runCli(['run', job, '--quiet', '--json', ...extra.filter((e): e is string => typeof e === 'string')]);
  expectOk(r);
  return { rows: (await readParquet(output)).rows, summary: JSON.parse(r.stdout) };
}

describe.concurrent('threshold, positive_label and review_band', { timeout: 60_000 }, () => {
  it.each([
    ['probabilities (derived in SQL)', [], 0.3],
    ['logits (computed in JS)', [{ scores: 'logits' }], 0.45],
  ] as [string, (string | Record<string, unknown>)[], number][])('%s, threshold %d: fraud exactly when p(fraud) >= the threshold; confidence is the predicted class\'s', async (_name, extra, t) => {
    const { rows, summary } = await score('--threshold', String(t), ...extra);
    const fraud = rows.filter((r) => Number(r['prob_fraud']) >= t).length;
    expect(fraud).toBeGreaterThan(0);
    expect(fraud).toBeLessThan(rows.length);
    for (const r of rows) {
      const pf = Number(r['prob_fraud']);
      const expected = pf >= t ? 'fraud' : 'legit';
      expect(r['prediction']).toBe(expected);
      expect(r['confidence']).toBe(expected === 'fraud' ? r['prob_fraud'] : r['prob_legit']);
    }
    expect(summary['decision']).toEqual({ positive: 'fraud', threshold: t, reviewBand: null });
  });

  it('positive_label legit with threshold 0.9: legit only when p(legit) >= 0.9, which differs from the argmax', async () => {
    const { rows } = await score('--positive', 'legit', '--threshold', '0.9');
    let differs = 0;
    for (const r of rows) {
      const pl = Number(r['prob_legit']);
      expect(r['prediction']).toBe(pl >= 0.9 ? 'legit' : 'fraud');
      if ((pl >= 0.9 ? 'legit' : 'fraud') !== (pl >= Number(r['prob_fraud']) ? 'legit' : 'fraud')) differs++;
    }
    expect(differs).toBeGreaterThan(0);
  });

  it('review_band [0.2, 0.8] beside review_below 0.6: needs_review when either says so', async () => {
    const { rows, summary } = await score('--review-band', '0.2,0.8', '--review-below', '0.6');
    let band = 0;
    for (const r of rows) {
      const pf = Number(r['prob_fraud']);
      const inBand = pf >= 0.2 && pf <= 0.8;
      if (inBand) band++;
      expect(r['needs_review']).toBe(inBand || Number(r['confidence']) < 0.6);
    }
    expect(band).toBeGreaterThan(0);
    expect(summary['decision']).toEqual({ positive: 'fraud', threshold: null, reviewBand: [0.2, 0.8] });
  });

  it('without a threshold the prediction stays the argmax', async () => {
    const { rows } = await score('--review-band', '0.4,0.6');
    for (const r of rows) expect(r['prediction']).toBe(Number(r['prob_fraud']) > Number(r['prob_legit']) ? 'fraud' : 'legit');
  });
});

describe.concurrent('decision keys that do not fit the model or each other', { timeout: 60_000 }, () => {
  const run = async (modelName: string, ...extra: string[]) => runCli(['run', '--model', model(modelName), '--input', data('transactions.parquet'), '--output', join(await tmp.make(), 'o.parquet'), '--features', FEATURES, '--fill-null', '0', ...extra]);

  it('an unknown positive label: 78 naming the classes', async () => {
    expect(expectCliError(await run('mlp', '--labels', 'legit,fraud', '--positive', 'spam'), 78, 'SPEC_INVALID')).toContain('positive_label: is not one of the classes (expected ["legit","fraud"], got spam)');
  });

  it('a threshold on a regression model: 78', async () => {
    expect(expectCliError(await run('regression', '--threshold', '0.5'), 78, 'SPEC_INVALID')).toContain('threshold: only applies to a two-class classifier');
  });

  it('a review band the wrong way round, or outside [0, 1]: 78', async () => {
    expect(expectCliError(await run('mlp', '--review-band', '0.6,0.4'), 78, 'SPEC_INVALID')).toContain('review_band: must be [low, high] with low <= high');
    expect(expectCliError(await run('mlp', '--threshold', '1.5'), 78, 'SPEC_INVALID')).toContain('threshold: is out of range (expected a number of at most 1, got 1.5)');
  });

  it('validate says which rule a run would use', async () => {
    const r = await runCli(['validate', '--model', model('mlp'), '--input', data('transactions.parquet'), '--output', join(await tmp.make(), 'o.parquet'), '--features', FEATURES, '--labels', 'legit,fraud', '--threshold', '0.3', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).output.decision).toEqual({ positive: 'fraud', threshold: 0.3, reviewBand: null });
  });

  it('validate --json prints the execution plan a run would follow', async () => {
    const out = join(await tmp.make(), 'o.parquet');
    const r = await runCli(['validate', '--model', model('mlp'), '--input', data('transactions.parquet'), '--output', out, '--features', FEATURES, '--labels', 'legit,fraud', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const { plan } = JSON.parse(r.stdout);
    expect(plan.inputs).toEqual([{ index: 0, path: data('transactions.parquet'), format: 'parquet', rows: { start: 0, end: 3000 }, read: 'direct' }]);
    expect(plan.join).toEqual({ by: 'position', lanes: 1 });
    expect(plan.output).toMatchObject({ path: out, mode: 'file', format: 'parquet', summary: `${out}.summary.json` });
  });
});
