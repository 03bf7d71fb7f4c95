/**
 * Streams one file through DuckDB and cuts it into batches of model-ready tensors.
 * DuckDB does the casting, null filling, scaling, vocabulary lookups and row checks in SQL;
 * this module copies each vector's memory into a row-major batch buffer and steps over the
 * rows the checks reject (failing on the first one when the policy is `fail`).
 *
 * @example
 *   for await (const batch of readBatches(db, file, feeds, { batchSize: 2048 })) pool.run(batch.feeds);
 */
import { BatchinferError } from '../errors.js';
import type { ColumnChunk, ColumnVector, Db } from '../db/duckdb.js';
import type { TensorData, TensorValues } from '../util/tensor.js';
import { featureSql, type FeedPlan } from '../preprocess/featurePlan.js';
import { flatColumns, parseRejection, rejectSql, scannedChecks, type RejectReason } from '../preprocess/rowChecks.js';
import { ChunkChecks } from './chunkChecks.js';
import { allocateFeed, type BufferPool, type FeedBuffer } from './bufferPool.js';
import { copyRowMajor, ROW_MAJOR_MIN_WIDTH, type FloatColumns } from './rowMajor.js';
import { Params, quoteIdent } from '../util/sql.js';
import { guardRead, scanSql, SOURCE_ROW, type DatasetFile, type NamedFile, type ReadSource } from './dataset.js';

export interface Batch {
  /** File row (0-based) where this batch's span starts. */
  rowStart: number;
  /** File row just after the last row this batch consumed (scored or rejected). */
  rowEnd: number;
  /** Rows in the tensors (rejected rows are not). */
  rowCount: number;
  feeds: Record<string, TensorData>;
  /** File row of each scored row, when the reader was asked to track them. */
  rowNumbers?: BigInt64Array;
  /** Rejected rows in this batch's span, by reason. */
  rejected: Partial<Record<RejectReason, number>>;
  /**
   * The longest the reader waited on DuckDB for one chunk of this batch's rows, in ms: a chunk
   * takes a fraction of a ms, but the one that opens a row group waits for its pages to be
   * decompressed (docs/performance.md, "The reader's stalls at row-group starts"). The batch
   * sizer leaves such batches out of its measure: the stall is the rows' cost, not the size's.
   */
  longestWaitMs: number;
}

export interface ReadOptions {
  /** Rows per batch, or the size of each next batch (`batch_size: auto` tunes it while reading: infer/batchSizer.ts). */
  batchSize: number | (() => number);
  /** The input file as the user named it, for messages (CSV inputs are read from a staged Parquet copy). */
  display?: NamedFile;
  /** Time accounting: called with ms spent waiting on DuckDB and ms spent assembling. */
  onTiming?(readMs: number, preprocessMs: number): void;
  /** Start at this file row (0-based): a resumed run skips the rows already scored. */
  fromRow?: number;
  /** Stop before this file row: a shard reads its span of a file's rows (shard/shardPlan.ts). */
  toRow?: number;
  /** `fail` throws BAD_DATA on the first bad row; otherwise bad rows are counted and left out. */
  onError?: 'fail' | 'skip' | 'quarantine';
  /** Record each scored row's file row number: by default when rows can be left out (`onError` skip or quarantine). */
  trackRows?: boolean;
  /** Buffers the inference workers handed back, filled again instead of allocating new ones. */
  buffers?: BufferPool;
  /**
   * The file row a batch starting at file row `row` must end at, at the latest (a part's or a
   * lane's end: PartSink `cutAfter`): part files then hold the same rows whatever sizes
   * `batch_size: auto` chose, so a job writes the same bytes.
   */
  cutAfter?(row: number): number;
}


/**
 * The SELECT producing every feature column (`f0, f1, ...`, feed order) and the row check, over
 * the file's rows [fromRow, toRow) (all of them by default).
 */
export function batchQuery(file: DatasetFile, feeds: readonly FeedPlan[], fromRow = 0, toRow?: number): { sql: string; params: Params; rejectIndex: number } {
  const params = new Params();
  const ranged = fromRow > 0 || toRow !== undefined;
  if (ranged && file.format !== 'parquet') throw new BatchinferError('INTERNAL', 'reading a span of a file\'s rows needs a Parquet source');
  // Its rows are numbered after the filter: only its staged copy may be read (stageSource.ts).
  if (file.where !== undefined) throw new BatchinferError('INTERNAL', 'a filtered input is read from its staged copy');
  // The scan binds first: its path is $1.
  const scan = scanSql(file, params, ranged ? ', file_row_number = true' : '');
  const exprs = flatColumns(feeds).map(({ feed, col }) => featureSql(col, feed.dtype, params));
  // NULL and non-finite features are found by the reader itself (chunkChecks.ts).
  const reject = rejectSql(feeds, params, { withoutScanned: true });
  const rejectIndex = reject ? exprs.length : -1;
  if (reject) exprs.push(reject);
  const select = exprs.length > 0 ? exprs.map((e, i) => `${e} AS f${i}`).join(', ') : '1 AS f0';
  if (!ranged) return { sql: `SELECT ${select} FROM ${scan}`, params, rejectIndex };
  // The row-number filter is pushed into the Parquet scan: row groups outside the span are not read.
  const bounds = [...(fromRow > 0 ? [`file_row_number >= ${params.bind(fromRow)}`] : []), ...(toRow !== undefined ? [`file_row_number < ${params.bind(toRow)}`] : [])];
  return { sql: `SELECT ${select} FROM ${scan} WHERE ${bounds.join(' AND ')}`, params, rejectIndex };
}

export async function* readBatches(db: Db, file: DatasetFile, feeds: readonly FeedPlan[], options: ReadOptions): AsyncGenerator<Batch> {
  const fromRow = options.fromRow ?? 0;
  const { sql, params, rejectIndex } = batchQuery(file, feeds, fromRow, options.toRow);
  const fixed = options.batchSize;
  const sizeOf = typeof fixed === 'number' ? () => fixed : fixed;
  const source = options.display ?? file;
  const display = source.path;
  const columns = flatColumns(feeds);
  const cutAfter = options.cutAfter ?? (() => Infinity);
  // A batch that will end at a cut is made just big enough: one shorter than its buffer is copied out of it (finish).
  const newBuilder = (start: number): BatchBuilder => new BatchBuilder(feeds, Math.min(sizeOf(), cutAfter(start) - start), start, options.trackRows ?? (options.onError ?? 'fail') !== 'fail', options.buffers);
  // Made when the batch takes its first row: a batch size is asked for only for a batch that is yielded.
  let builder: BatchBuilder | null = null;
  let batchStart = fromRow;
  const current = (): BatchBuilder => (builder ??= newBuilder(batchStart));
  let fileRow = fromRow;
  // Time spent waiting on DuckDB vs copying into tensors; the consumer's time while this
  // generator is suspended at `yield` is neither.
  let readMs = 0;
  let prepMs = 0;
  let longestWait = 0;
  let waitStart = performance.now();
  // A DuckDB failure mid-stream (a corrupt page past the footer) is the input's fault: name the file.
  const chunks = guardStream(source, db.stream(sql, params.values));
  const checks = new ChunkChecks(scannedChecks(feeds), rejectIndex, columns.map((c) => c.col.column));
  for await (const chunk of chunks) {
    const waited = performance.now() - waitStart;
    readMs += waited;
    longestWait = Math.max(longestWait, waited);
    const started = performance.now();
    // NaN and Infinity are looked for as the features are copied (`copyColumn`); a chunk with
    // one is then checked in full, and its rows copied again where the checks allow.
    let checked = !checks.checksFinite;
    let anyBad = checks.load(chunk, checked);
    prepMs += performance.now() - started;
    let offset = 0;
    while (offset < chunk.rowCount) {
      const started = performance.now();
      if (anyBad) {
        while (offset < chunk.rowCount && checks.isBad(offset) && fileRow < cutAfter(batchStart)) {
          const rejection = checks.rejection(offset);
          if ((options.onError ?? 'fail') === 'fail') {
            const col = columns[rejection.columnIndex];
            const message = rejection.message ?? (await exactMessage(db, file, feeds, fileRow));
            // A filtered file is read from its staged copy, which keeps each row's input row number.
            const row = await sourceRowOf(db, file, fileRow);
            throw new BatchinferError('BAD_DATA', `${display} row ${row + 1}: ${message}`, {
              expected: col ? `a valid value for model input '${col.feed.input}' (or on_error: skip | quarantine)` : 'a valid row',
              actual: rejection.reason,
            });
          }
          current().reject(rejection.reason);
          offset++;
          fileRow++;
        }
      }
      const filling = current();
      const cut = cutAfter(batchStart);
      let take = Math.min(chunk.rowCount - offset, filling.capacity - filling.rowCount, cut - fileRow);
      if (anyBad) {
        let good = 0;
        while (good < take && !checks.isBad(offset + good)) good++;
        take = good;
      }
      if (take > 0 && !filling.copy(chunk, offset, take, fileRow, checked ? null : checks.finiteColumns)) {
        anyBad = checks.load(chunk, true);
        checked = true;
        prepMs += performance.now() - started;
        continue;
      }
      offset += take;
      fileRow += take;
      if (filling.rowCount === filling.capacity || fileRow === cut) {
        const batch = filling.finish(fileRow, longestWait);
        builder = null;
        batchStart = fileRow;
        prepMs += performance.now() - started;
        options.onTiming?.(readMs, prepMs);
        readMs = prepMs = longestWait = 0;
        yield batch;
      } else {
        prepMs += performance.now() - started;
      }
    }
    waitStart = performance.now();
  }
  readMs += performance.now() - waitStart;
  options.onTiming?.(readMs, prepMs);
  const last = builder as BatchBuilder | null;
  if (last && (last.rowCount > 0 || last.hasRejects)) yield last.finish(fileRow, longestWait);
}

/**
 * The full check's words for one bad row the reader found itself (NaN or Infinity): DuckDB
 * writes the value's text (`nan`, `-inf`), as in the quarantine file.
 */
async function exactMessage(db: Db, file: DatasetFile, feeds: readonly FeedPlan[], fileRow: number): Promise<string> {
  if (file.format !== 'parquet') return 'a value is not finite (set allow_nan to pass NaN/Infinity)';
  const params = new Params();
  const check = rejectSql(feeds, params)!;
  const scan = scanSql(file, params, ', file_row_number = true');
  const rows = await db.query<{ r: string | null }>(`SELECT ${check} AS r FROM ${scan} WHERE file_row_number = ${params.bind(fileRow)}`, params.values);
  const text = rows[0]?.r;
  return text ? parseRejection(text).message : 'a value is not finite';
}

/** Row `fileRow` of `file` as its input numbers it: itself, or for a filtered staged copy the number it kept. */
async function sourceRowOf(db: Db, file: DatasetFile, fileRow: number): Promise<number> {
  if (!file.sourceRows) return fileRow;
  const params = new Params();
  const scan = scanSql(file, params, ', file_row_number = true');
  const rows = await db.query<{ r: bigint | number }>(`SELECT ${quoteIdent(SOURCE_ROW)} AS r FROM ${scan} WHERE file_row_number = ${params.bind(fileRow)}`, params.values);
  return rows[0] ? Number(rows[0].r) : fileRow;
}

async function* guardStream<T>(source: ReadSource, stream: AsyncGenerator<T>): AsyncGenerator<T> {
  for (;;) {
    const next = await guardRead(source, () => stream.next());
    if (next.done) return;
    yield next.value;
  }
}


/** Fills one batch's tensors from DuckDB chunks. */
class BatchBuilder {
  rowCount = 0;
  private readonly buffers: FeedBuffer[];
  private readonly rowNumbers: BigInt64Array | null;
  private readonly rejected: Partial<Record<RejectReason, number>> = {};
  hasRejects = false;

  constructor(
    private readonly feeds: readonly FeedPlan[],
    readonly capacity: number,
    private readonly rowStart: number,
    trackRows: boolean,
    pool?: BufferPool,
  ) {
    this.buffers = feeds.map((f) => allocateFeed(f.dtype, capacity * f.columns.length, pool));
    this.rowNumbers = trackRows ? new BigInt64Array(capacity) : null;
  }

  reject(reason: RejectReason): void {
    this.rejected[reason] = (this.rejected[reason] ?? 0) + 1;
    this.hasRejects = true;
  }

  /**
   * Copies `count` rows of the chunk from row `from` into the batch. With `verify` (1 per flat
   * column whose values must be finite) false when one of those is NaN or infinite: the batch
   * then keeps none of the rows (they are copied again once the chunk's checks are known).
   */
  copy(chunk: ColumnChunk, from: number, count: number, fileRow: number, verify: Uint8Array | null = null): boolean {
    let c = 0;
    let finite = true;
    this.feeds.forEach((feed, f) => {
      const width = feed.columns.length;
      const vectors = chunk.columns.slice(c, c + width);
      finite = copyFeed(vectors, this.buffers[f]!, from, count, this.rowCount * width, feed.dtype === 'float32' || feed.dtype === 'float64', verify?.subarray(c, c + width) ?? null) && finite;
      c += width;
    });
    if (!finite) return false;
    if (this.rowNumbers) for (let i = 0; i < count; i++) this.rowNumbers[this.rowCount + i] = BigInt(fileRow + i);
    this.rowCount += count;
    return true;
  }

  finish(rowEnd: number, longestWaitMs: number): Batch {
    const feeds: Record<string, TensorData> = {};
    this.feeds.forEach((feed, f) => {
      const width = feed.columns.length;
      let data = this.buffers[f]!;
      const used = this.rowCount * width;
      if (used < data.length) data = data.slice(0, used);
      const dims = feed.rank === 1 ? [this.rowCount] : [this.rowCount, width];
      feeds[feed.input] = { type: feed.dtype, dims, data: data as TensorValues };
    });
    return {
      rowStart: this.rowStart,
      rowEnd,
      rowCount: this.rowCount,
      feeds,
      ...(this.rowNumbers ? { rowNumbers: this.rowNumbers.slice(0, this.rowCount) } : {}),
      rejected: this.rejected,
      longestWaitMs,
    };
  }
}


/**
 * Copies a feed's columns into its tensor from element `start` (row-major: column j of row i at
 * start + i * width + j); with `verify` (1 per column whose values must be finite), false when
 * one of the values read is NaN or infinite (NULL slots included: their garbage only costs a
 * full check of the chunk). A float32 feed of four or more columns, all FLOAT or all DOUBLE,
 * goes through the kernel (rowMajor.ts); others are copied column by column here.
 */
function copyFeed(vectors: readonly ColumnVector[], out: FeedBuffer, from: number, count: number, start: number, nullAsNaN: boolean, verify: Uint8Array | null): boolean {
  const width = vectors.length;
  const columns = interleavable(vectors, out);
  let finite = true;
  if (columns) {
    const checks = copyRowMajor(columns, from, count, out as Float32Array, start);
    vectors.forEach((vector, j) => {
      if (verify?.[j] === 1 && checks[j] !== 0) finite = false;
      blankNulls(vector, out, from, count, start + j, width, true);
    });
    return finite;
  }
  vectors.forEach((vector, j) => {
    finite = copyColumn(vector, out, from, count, start + j, width, nullAsNaN, verify?.[j] === 1) && finite;
  });
  return finite;
}

/** A float32 tensor's columns when the kernel takes them (wide enough, all FLOAT or all DOUBLE vectors); else null. */
function interleavable(vectors: readonly ColumnVector[], out: FeedBuffer): FloatColumns | null {
  if (!(out instanceof Float32Array) || vectors.length < ROW_MAJOR_MIN_WIDTH) return null;
  const first = vectors[0]!.items;
  if (!(first instanceof Float32Array || first instanceof Float64Array)) return null;
  const type = first.constructor;
  return vectors.every((v) => v.items?.constructor === type) ? (vectors.map((v) => v.items) as unknown as FloatColumns) : null;
}

/**
 * Copies a column's rows into the tensor (every `stride`-th slot from `start`); with `verify`,
 * false when one of the values read is NaN or infinite.
 */
function copyColumn(vector: ColumnVector, out: FeedBuffer, from: number, count: number, start: number, stride: number, nullAsNaN: boolean, verify: boolean): boolean {
  const items = vector.items;
  if (Array.isArray(out)) {
    for (let i = 0; i < count; i++) out[start + i * stride] = String(vector.value(from + i) ?? '');
    return true;
  }
  if (!items) throw new BatchinferError('INTERNAL', `DuckDB ${vector.typeName} column has no typed view`);
  const target = out as Float32Array;
  const source = items as Float32Array;
  let finite = true;
  if (stride === 1) {
    target.set(source.subarray(from, from + count), start);
    if (verify) finite = allFinite(source, from, count);
  } else if (verify) {
    finite = copyFinite(source, from, count, target, start, stride);
  } else {
    for (let i = 0, o = start; i < count; i++, o += stride) target[o] = source[from + i]!;
  }
  blankNulls(vector, out, from, count, start, stride, nullAsNaN);
  return finite;
}

/** NULL slots hold garbage in DuckDB's memory: their places in the tensor become NaN (float) or 0, so output is deterministic. */
function blankNulls(vector: ColumnVector, out: FeedBuffer, from: number, count: number, start: number, stride: number, nullAsNaN: boolean): void {
  if (!vector.hasNulls) return;
  const empty = out instanceof BigInt64Array ? 0n : nullAsNaN ? NaN : 0;
  for (let i = 0; i < count; i++) {
    if (!vector.isValid(from + i)) (out as unknown as unknown[])[start + i * stride] = empty;
  }
}

/**
 * The strided copy, adding up v - v as it goes: 0 for every finite value, NaN from the first
 * NaN or infinity on. Cheaper than a scan of its own (docs/performance.md, "Row checks in the copy").
 */
function copyFinite(source: Float32Array, from: number, count: number, target: Float32Array, start: number, stride: number): boolean {
  let sum = 0;
  for (let i = 0, o = start; i < count; i++, o += stride) {
    const v = source[from + i]!;
    target[o] = v;
    sum += v - v;
  }
  return sum === 0;
}

function allFinite(source: Float32Array, from: number, count: number): boolean {
  let sum = 0;
  for (let i = from; i < from + count; i++) sum += source[i]! - source[i]!;
  return sum === 0;
}
