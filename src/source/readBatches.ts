/**
 * Streams one file through DuckDB and cuts it into batches of model-ready tensors.
 * DuckDB does the casting, null filling, scaling and vocabulary lookups in SQL; this module
 * only copies each vector's memory into a row-major batch buffer.
 *
 * @example
 *   for await (const batch of readBatches(db, file, feeds, { batchSize: 8192 })) pool.run(batch.feeds);
 */
import { BatchinferError, formatValue } from '../errors.js';
import type { ColumnChunk, ColumnVector, Db } from '../db/duckdb.js';
import type { TensorData, TensorValues } from '../infer/ort.js';
import { featureSql, UNKNOWN_CATEGORY, type FeedPlan } from '../preprocess/featurePlan.js';
import { Params, quoteIdent } from '../util/sql.js';
import { literalPath, readerSql, type DatasetFile } from './dataset.js';

export interface Batch {
  /** Index of the batch's first row within its file (0-based). */
  rowStart: number;
  rowCount: number;
  feeds: Record<string, TensorData>;
}

export interface ReadOptions {
  batchSize: number;
  /** Original file name for messages (CSV inputs are read from a staged Parquet copy). */
  displayPath?: string;
  /** Time accounting: called with ms spent waiting on DuckDB and ms spent assembling. */
  onTiming?(readMs: number, preprocessMs: number): void;
  /** Start at this file row (0-based): a resumed run skips the rows already scored. */
  fromRow?: number;
}

/** The SELECT that produces every feature column of every feed, in feed order. */
export function batchQuery(file: DatasetFile, feeds: readonly FeedPlan[], fromRow = 0): { sql: string; params: Params } {
  const params = new Params();
  const path = params.bind(literalPath(file.path));
  if (fromRow > 0 && file.format !== 'parquet') throw new BatchinferError('INTERNAL', 'resuming mid-file needs a Parquet source');
  const exprs: string[] = [];
  for (const feed of feeds) for (const col of feed.columns) exprs.push(featureSql(col, feed.dtype, params));
  // Raw text of vocabulary columns, for naming an unknown category in the error.
  for (const feed of feeds) for (const col of feed.columns) if (col.vocab?.unknown === 'error') exprs.push(`CAST(${quoteIdent(col.column)} AS VARCHAR)`);
  const select = exprs.length > 0 ? exprs.map((e, i) => `${e} AS f${i}`).join(', ') : '1 AS f0';
  if (fromRow === 0) return { sql: `SELECT ${select} FROM ${readerSql(file.format, path)}`, params };
  // The row-number filter is pushed into the Parquet scan: skipped row groups are not read.
  const scan = readerSql(file.format, path, ', file_row_number = true');
  return { sql: `SELECT ${select} FROM ${scan} WHERE file_row_number >= ${params.bind(fromRow)}`, params };
}

export async function* readBatches(db: Db, file: DatasetFile, feeds: readonly FeedPlan[], options: ReadOptions): AsyncGenerator<Batch> {
  const fromRow = options.fromRow ?? 0;
  const { sql, params } = batchQuery(file, feeds, fromRow);
  const batchSize = options.batchSize;
  const display = options.displayPath ?? file.path;
  let builder = new BatchBuilder(feeds, batchSize, fromRow, display);
  let fileRow = fromRow;
  const stream = db.stream(sql, params.values);
  // Time spent waiting on DuckDB vs copying into tensors; the consumer's time while this
  // generator is suspended at `yield` is neither.
  let readMs = 0;
  let prepMs = 0;
  let waitStart = performance.now();
  for await (const chunk of stream) {
    readMs += performance.now() - waitStart;
    let offset = 0;
    while (offset < chunk.rowCount) {
      const started = performance.now();
      const take = Math.min(chunk.rowCount - offset, batchSize - builder.rowCount);
      builder.copy(chunk, offset, take, fileRow);
      offset += take;
      fileRow += take;
      if (builder.rowCount === batchSize) {
        const batch = builder.finish();
        builder = new BatchBuilder(feeds, batchSize, fileRow, display);
        prepMs += performance.now() - started;
        options.onTiming?.(readMs, prepMs);
        readMs = prepMs = 0;
        yield batch;
      } else {
        prepMs += performance.now() - started;
      }
    }
    waitStart = performance.now();
  }
  readMs += performance.now() - waitStart;
  options.onTiming?.(readMs, prepMs);
  if (builder.rowCount > 0) yield builder.finish();
}

type Buffer = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array | string[];

/** Fills one batch's tensors from DuckDB chunks. */
class BatchBuilder {
  rowCount = 0;
  private readonly buffers: Buffer[];

  constructor(
    private readonly feeds: readonly FeedPlan[],
    private readonly capacity: number,
    private readonly rowStart: number,
    private readonly displayPath: string,
  ) {
    this.buffers = feeds.map((f) => allocate(f.dtype, capacity * f.columns.length));
  }

  copy(chunk: ColumnChunk, from: number, count: number, fileRow: number): void {
    let c = 0;
    let rawIndex = this.feeds.reduce((n, f) => n + f.columns.length, 0);
    this.feeds.forEach((feed, f) => {
      const width = feed.columns.length;
      const out = this.buffers[f]!;
      feed.columns.forEach((col, j) => {
        const vector = chunk.columns[c++]!;
        if (vector.hasNulls && col.nulls.kind === 'error') {
          const row = firstNull(vector, from, count);
          if (row >= 0) {
            throw new BatchinferError('BAD_DATA', `${this.displayPath} row ${fileRow + row - from + 1}: column '${col.column}' is NULL and fill_null is error`, {
              expected: `a value, or set inputs.${feed.input}.fill_null`,
              actual: 'NULL',
            });
          }
        }
        if (col.vocab?.unknown === 'error') {
          const raw = chunk.columns[rawIndex++]!;
          checkKnownCategories(vector, raw, from, count, () => ({ path: this.displayPath, fileRow, from, column: col.column, vocab: col.vocab!.values }));
        }
        copyColumn(vector, out, from, count, this.rowCount * width + j, width, feed.dtype === 'float32' || feed.dtype === 'float64');
      });
    });
    this.rowCount += count;
  }

  finish(): Batch {
    const feeds: Record<string, TensorData> = {};
    this.feeds.forEach((feed, f) => {
      const width = feed.columns.length;
      let data = this.buffers[f]!;
      const used = this.rowCount * width;
      if (used < data.length) data = Array.isArray(data) ? data.slice(0, used) : data.slice(0, used);
      const dims = feed.rank === 1 ? [this.rowCount] : [this.rowCount, width];
      feeds[feed.input] = { type: feed.dtype, dims, data: data as TensorValues };
    });
    return { rowStart: this.rowStart, rowCount: this.rowCount, feeds };
  }
}

function allocate(dtype: FeedPlan['dtype'], length: number): Buffer {
  switch (dtype) {
    case 'float32':
      return new Float32Array(length);
    case 'float64':
      return new Float64Array(length);
    case 'int64':
      return new BigInt64Array(length);
    case 'int32':
      return new Int32Array(length);
    case 'bool':
      return new Uint8Array(length);
    case 'string':
      return new Array<string>(length).fill('');
  }
}

function copyColumn(vector: ColumnVector, out: Buffer, from: number, count: number, start: number, stride: number, nullAsNaN: boolean): void {
  const items = vector.items;
  if (Array.isArray(out)) {
    for (let i = 0; i < count; i++) out[start + i * stride] = String(vector.value(from + i) ?? '');
    return;
  }
  if (!items) throw new BatchinferError('INTERNAL', `DuckDB ${vector.typeName} column has no typed view`);
  const target = out as Float32Array;
  const source = items as Float32Array;
  if (stride === 1) {
    target.set(source.subarray(from, from + count), start);
  } else {
    for (let i = 0, o = start; i < count; i++, o += stride) target[o] = source[from + i]!;
  }
  // NULL slots hold garbage in DuckDB's memory; make them NaN (float) or 0 so output is deterministic.
  if (vector.hasNulls) {
    for (let i = 0; i < count; i++) {
      if (!vector.isValid(from + i)) (target as unknown as number[])[start + i * stride] = (nullAsNaN ? NaN : typeof target[0] === 'bigint' ? 0n : 0) as number;
    }
  }
}

function firstNull(vector: ColumnVector, from: number, count: number): number {
  for (let i = from; i < from + count; i++) if (!vector.isValid(i)) return i;
  return -1;
}

function checkKnownCategories(
  indices: ColumnVector,
  raw: ColumnVector,
  from: number,
  count: number,
  context: () => { path: string; fileRow: number; from: number; column: string; vocab: string[] },
): void {
  for (let i = from; i < from + count; i++) {
    if (indices.isValid(i) && Number(indices.value(i)) === UNKNOWN_CATEGORY) {
      const ctx = context();
      throw new BatchinferError('BAD_DATA', `${ctx.path} row ${ctx.fileRow + i - ctx.from + 1}: column '${ctx.column}' has a value not in vocab and unknown is error`, {
        expected: `one of ${formatValue(ctx.vocab)}`,
        actual: raw.value(i),
      });
    }
  }
}
