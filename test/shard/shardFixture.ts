/**
 * A sharded run played out without the scoring engine, for the shard check and commit tests:
 * two Parquet inputs, a plan, and each shard's parts (`id`, `score = id * 2` of its rows,
 * written with DuckDB from the input rows its ranges name) with their manifests.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Db } from '../../src/db/duckdb.js';
import { buildShardPlan, shardInputs, shardRanges, type ShardPlan } from '../../src/shard/shardPlan.js';
import { SHARD_MANIFEST_FORMAT, describeShardParts, stampShardInputs, writeShardManifest, type FinishedPart, type ShardManifest } from '../../src/sink/shardManifest.js';
import { shardDir } from '../../src/sink/shardPaths.js';

export const MODEL = { path: '/models/m.onnx', sha256: 'f'.repeat(64) };
/** The output settings' digests every fixture shard ran with. */
export const SETTINGS = { inputs: 'a'.repeat(16), predictions: 'b'.repeat(16), passthrough: 'c'.repeat(16) };

export interface ShardedRun {
  dir: string;
  shardsDir: string;
  inputs: string[];
  plan: ShardPlan;
  manifests: ShardManifest[];
}

/** Inputs a (5000 rows: row groups 2048, 2048, 904) and b (3000 rows: 2048, 952), planned over `shards`. */
export async function shardedRun(db: Db, dir: string, shards: number, options: { write?: (index: number) => boolean } = {}): Promise<ShardedRun> {
  const inputs = [join(dir, 'a.parquet'), join(dir, 'b.parquet')];
  await db.exec('COPY (SELECT range AS x FROM range(5000)) TO $1 (FORMAT parquet, ROW_GROUP_SIZE 2048)', [inputs[0]!]);
  await db.exec('COPY (SELECT 100000 + range AS x FROM range(3000)) TO $1 (FORMAT parquet, ROW_GROUP_SIZE 2048)', [inputs[1]!]);
  const plan = await buildShardPlan(db, inputs.map((path) => ({ path, format: 'parquet' as const })), shards);
  const shardsDir = join(dir, '.out.shards');
  const manifests: ShardManifest[] = [];
  for (let i = 0; i < shards; i++) {
    const manifest = await scoreShard(db, shardsDir, plan, i);
    manifests.push(manifest);
    if (options.write?.(i) ?? true) await writeShardManifest(shardsDir, manifest);
  }
  return { dir, shardsDir, inputs, plan, manifests };
}

/** Shard `index`'s parts, one per range cut at 1000 rows (as checkpoints would), and its manifest (not written). */
export async function scoreShard(db: Db, shardsDir: string, plan: ShardPlan, index: number, attempt = 1): Promise<ShardManifest> {
  const dir = shardDir(shardsDir, index);
  await mkdir(dir, { recursive: true });
  const finished: FinishedPart[] = [];
  for (const r of shardRanges(plan, index)) {
    for (let start = r.rowStart; start < r.rowEnd || (start === r.rowStart && r.rowEnd === r.rowStart); start += 1000) {
      const end = Math.min(r.rowEnd, start + 1000);
      const file = `part-${finished.length}.parquet`;
      await db.exec('COPY (SELECT x AS id, x * 2 AS score FROM read_parquet($1, file_row_number = true) WHERE file_row_number >= $2 AND file_row_number < $3 ORDER BY file_row_number) TO $4 (FORMAT parquet)', [r.path, start, end, join(dir, file)]);
      finished.push({ file, input: r.file, rowStart: start, rowEnd: end, rows: end - start });
      if (end === r.rowEnd) break;
    }
  }
  const a = plan.assignments[index]!;
  const rows = finished.reduce((n, p) => n + p.rows, 0);
  return {
    format: SHARD_MANIFEST_FORMAT,
    job: 'test',
    window: null,
    shard: { index, count: plan.shards },
    planHash: plan.hash,
    units: Array.from({ length: a.endUnit - a.firstUnit }, (_, k) => a.firstUnit + k),
    attempt,
    inputs: await stampShardInputs(shardInputs(plan, index)),
    rows: { in: rows, out: rows, rejected: 0 },
    parts: await describeShardParts(shardsDir, index, finished),
    model: MODEL,
    settings: SETTINGS,
    versions: { batchinfer: 'test' },
    startedAt: '2026-12-05T00:00:00.000Z',
    finishedAt: '2026-12-05T00:00:01.000Z',
  };
}
