/**
 * The fixtures prove themselves: onnxruntime on each ONNX file must agree with the
 * plain-JS reference reading the JSON sidecar, and rebuilding must reproduce the
 * committed bytes.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildFixtures } from '../scripts/fixtures/buildAll.js';
import { FIXTURES_DIR, buildFeatureFeeds, feedRows, loadReference, readFixtureRows, type TransactionRow } from './helpers/reference.js';

const MODELS = ['logreg', 'mlp', 'multiclass', 'mixed', 'regression', 'percolumn'];
/** float32 inference vs float64 reference; relative for the few values above 1. */
const TOLERANCE = 1e-5;

let rows: TransactionRow[];
beforeAll(async () => {
  rows = await readFixtureRows();
});

describe('fixture data', () => {
  it('has 3000 rows in txn_id order with the documented quirks', () => {
    expect(rows).toHaveLength(3000);
    expect(rows[0]?.txn_id).toBe('t00000');
    expect(rows[2999]?.txn_id).toBe('t02999');
    expect(rows[1]?.ts.toISOString()).toBe('2026-11-29T00:00:07.000Z');
    const nullAmounts = rows.filter((r) => r.amount === null).length;
    expect(nullAmounts).toBeGreaterThan(30);
    expect(nullAmounts).toBeLessThan(150);
    expect(rows.some((r) => r.merchant_category === 'electronics')).toBe(true);
    expect(rows.every((r) => typeof r['risk score'] === 'number')).toBe(true);
  });
});

describe.each(MODELS)('%s.onnx', (name) => {
  it('matches the reference on every fixture row', async () => {
    const { sidecar, forward } = loadReference(name);
    const feeds = buildFeatureFeeds(sidecar, rows);
    const session = await ort.InferenceSession.create(join(FIXTURES_DIR, 'models', `${name}.onnx`));
    try {
      const ortFeeds: Record<string, ort.Tensor> = {};
      for (const [input, feed] of Object.entries(feeds)) {
        ortFeeds[input] =
          feed.elemType === 'int64'
            ? new ort.Tensor('int64', BigInt64Array.from(feed.data, (v) => BigInt(v)), feed.shape)
            : new ort.Tensor('float32', Float32Array.from(feed.data), feed.shape);
      }
      const actual = await session.run(ortFeeds);
      const expected = forward(Object.fromEntries(Object.entries(feeds).map(([k, f]) => [k, feedRows(f)])));

      for (const output of sidecar.outputs) {
        const got = actual[output.name];
        const want = expected[output.name];
        expect(got?.dims).toEqual([rows.length, output.shape[1]]);
        expect(want).toHaveLength(rows.length);
        const flat = (want ?? []).flat();
        let worst = 0;
        (got?.data as Float32Array).forEach((v, i) => {
          const w = flat[i] ?? NaN;
          worst = Math.max(worst, Math.abs(v - w) / Math.max(1, Math.abs(w)));
        });
        expect(worst).toBeLessThan(TOLERANCE);
      }
    } finally {
      await session.release();
    }
  });
});

describe('model outputs are informative', () => {
  it('multiclass logits often fall outside [0, 1]', () => {
    const { sidecar, forward } = loadReference('multiclass');
    const logits = forward({ x: feedRows(buildFeatureFeeds(sidecar, rows).x!) }).logits!.flat();
    const outside = logits.filter((v) => v < 0 || v > 1).length;
    expect(outside / logits.length).toBeGreaterThan(0.5);
  });

  it('probabilities are spread, not saturated', () => {
    const { sidecar, forward } = loadReference('logreg');
    const p = forward({ x: feedRows(buildFeatureFeeds(sidecar, rows).x!) }).probability!.flat();
    expect(p.filter((v) => v > 0.05 && v < 0.95).length / p.length).toBeGreaterThan(0.5);
  });
});

describe('fixture build', () => {
  it('rebuilds byte-identical files', async () => {
    const root = await mkdtemp(join(tmpdir(), 'batchinfer-fixtures-'));
    try {
      const written = await buildFixtures(root);
      expect(written.length).toBeGreaterThan(15);
      // Every committed model and data file is one the build writes, so each is compared below.
      expect(await committedFixtures()).toEqual(written);
      for (const path of written) {
        const [fresh, committed] = await Promise.all([readFile(join(root, path)), readFile(join(FIXTURES_DIR, path))]);
        expect(sha256(fresh), path).toBe(sha256(committed));
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }, 60_000);
});

/** The files under fixtures/models and fixtures/data, relative to fixtures/, sorted. */
async function committedFixtures(): Promise<string[]> {
  const files: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(join(dir, e.name));
      else if (e.isFile()) files.push(relative(FIXTURES_DIR, join(dir, e.name)));
    }
  };
  for (const dir of ['models', 'data']) await walk(join(FIXTURES_DIR, dir));
  return files.sort();
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
