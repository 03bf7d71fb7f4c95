/**
 * Writes predictions to Parquet part files without passthrough values ever entering JS:
 * predictions are appended to a DuckDB table, then one COPY joins them with the passthrough
 * columns read straight from the source file over the same row range (`file_row_number`
 * filters are pushed down into the Parquet scan). When bad rows can be left out
 * (on_error: skip | quarantine) the join is on the file row number, else by position.
 * Quarantined rows are written by the same kind of COPY, with their original values.
 * A positional join runs on one DuckDB thread, so large parts are split in two lanes (two
 * connections, each with its own predictions table) written as two files at once.
 */
import { BatchinferError } from '../errors.js';
import type { AppendColumn, Db, TableAppender } from '../db/duckdb.js';
import { Params, quoteIdent } from '../util/sql.js';
import { writeKeyOption } from '../db/parquetKeys.js';
import { PARQUET_OPTIONS } from './outputFormat.js';
import { guardCopy, scanSql, SOURCE_ROW, type DatasetFile, type NamedFile } from '../source/dataset.js';
import { classNames, derivesInSql, predictionTableColumns, type ClassificationPlan, type OutputPlan } from '../postprocess/outputPlan.js';

export interface PartSource {
  file: DatasetFile;
  /** First file row (0-based) of the part. */
  rowStart: number;
  /** File row after the part's span (rejected rows included); null: to the end of the file. */
  rowEnd: number | null;
  /** Rows the part must hold (scored rows). */
  rowCount: number;
  /** The input file as the user named it, for messages (CSV is read from a staged copy). */
  display?: NamedFile;
}

export interface PartWriterOptions {
  /** Predictions carry their file row number and are joined on it (rows may be left out). */
  byRowNumber: boolean;
  /**
   * Parts may be split in two lanes (`planPart`). Used only for the positional join with
   * passthrough columns, the one COPY DuckDB runs on a single thread.
   */
  lanes?: boolean;
}

/** Lanes exist only for the positional join with passthrough columns, the one COPY DuckDB runs on a single thread. */
export function usesLanes(byRowNumber: boolean, passthrough: readonly string[]): boolean {
  return !byRowNumber && passthrough.length > 0;
}

/** Parts under twice this many rows stay whole: two COPYs buy nothing on small parts. */
export const MIN_LANE_ROWS = 16_384;

/** The first lane's rows for parts of `partRows` rows: half, in whole batches (0: no split). */
export function laneRowsFor(partRows: number, batchSize: number): number {
  const half = Math.ceil(partRows / 2 / batchSize) * batchSize;
  return half >= MIN_LANE_ROWS && half < partRows ? half : 0;
}

/** One file `writeParts` wrote: a contiguous span of the source's rows. */
export interface WrittenPart {
  path: string;
  rowStart: number;
  rowEnd: number | null;
  rowCount: number;
}

/** A connection with its own predictions table (temp tables are per connection) and appender. */
interface Lane {
  db: Db;
  appender: TableAppender | null;
  rows: number;
}

export class PartWriter {
  private constructor(
    private readonly lanes: readonly Lane[],
    private readonly table: string,
    private readonly plan: OutputPlan,
    private readonly passthrough: readonly string[],
    private readonly byRowNumber: boolean,
  ) {}

  /** Rows the first lane takes before the second fills, for the part being appended. */
  private laneRows = Infinity;

  /**
   * A POSITIONAL JOIN runs on one DuckDB thread, so a part's rows can be split between two
   * connections (`planPart`) whose COPYs run at once, on two cores (docs/performance.md, writing).
   */
  static async create(db: Db, plan: OutputPlan, passthrough: readonly string[], options: PartWriterOptions = { byRowNumber: false }): Promise<PartWriter> {
    const split = usesLanes(options.byRowNumber, passthrough) && (options.lanes ?? false);
    const dbs = split ? [db, await db.fork()] : [db];
    const lanes = dbs.map((d) => ({ db: d, appender: null, rows: 0 }));
    const writer = new PartWriter(lanes, 'predictions_segment', plan, passthrough, options.byRowNumber);
    for (const lane of lanes) await writer.resetTable(lane);
    return writer;
  }

  /**
   * A fresh TEMP table per part. A table in the main catalog keeps every dropped or deleted
   * version alive while the reader's streaming query (another connection, an older
   * transaction) is open, so memory would grow with every row scored. A connection-local
   * temp table is outside that snapshot and is freed when replaced.
   */
  private async resetTable(lane: Lane): Promise<void> {
    const cols = [...(this.byRowNumber ? ['rn BIGINT'] : []), ...predictionTableColumns(this.plan).map((c) => `${c.name} ${c.type}`)].join(', ');
    await lane.db.exec(`CREATE OR REPLACE TEMP TABLE ${this.table} (${cols})`);
    lane.rows = 0;
  }

  /**
   * Before a part's first row: its first `firstLaneRows` rows go to the first lane, the rest to
   * the second (0: all to the first, as a writer without lanes does anyway).
   */
  planPart(firstLaneRows: number): void {
    if (this.pendingRows > 0) throw new BatchinferError('INTERNAL', 'a part was planned after its rows came in', { expected: 0, actual: this.pendingRows });
    this.laneRows = firstLaneRows > 0 ? firstLaneRows : Infinity;
  }

  /** Rows appended since the last part was written. */
  get pendingRows(): number {
    return this.lanes.reduce((n, lane) => n + lane.rows, 0);
  }

  /** The connection rows are appended on (the first lane's), for the statements the part's writer runs beside its COPY. */
  get db(): Db {
    return this.lanes[0]!.db;
  }

  /** The part is split in lanes and its first lane has all its rows: what follows goes to the second. */
  get firstLaneFull(): boolean {
    return this.lanes.length > 1 && this.lanes[0]!.rows >= this.laneRows;
  }

  /** The rows of each file `writeParts` will write for the pending rows, in order (the first lane's always). */
  get pendingFiles(): number[] {
    return this.lanes.filter((lane, k) => k === 0 || lane.rows > 0).map((lane) => lane.rows);
  }

  async append(columns: AppendColumn[], rowCount: number): Promise<void> {
    const lane = this.firstLaneFull ? this.lanes[1]! : this.lanes[0]!;
    // One appender per part: each flush is a commit, too costly per batch.
    lane.appender ??= await lane.db.appender(this.table);
    lane.appender.append(columns, rowCount);
    lane.rows += rowCount;
  }

  /**
   * Writes the pending predictions beside their passthrough rows as one file per lane holding
   * rows (`pathFor(0)`, `pathFor(1)`; the first lane always, so an empty source still gets a
   * file), the COPYs at once, then clears them. The files hold consecutive spans of `source`.
   */
  async writeParts(source: PartSource, pathFor: (k: number) => string): Promise<WrittenPart[]> {
    for (const lane of this.lanes) {
      lane.appender?.close();
      lane.appender = null;
    }
    if (source.rowCount !== this.pendingRows) {
      throw new BatchinferError('INTERNAL', 'prediction count does not match the rows read', { expected: source.rowCount, actual: this.pendingRows });
    }
    const used = this.lanes.filter((lane, k) => k === 0 || lane.rows > 0);
    // Lanes exist only for the positional join, where the rows of a span are contiguous.
    let start = source.rowStart;
    const jobs = used.map((lane, k) => {
      const rowEnd = k === used.length - 1 ? source.rowEnd : start + lane.rows;
      const span: PartSource = { ...source, rowStart: start, rowEnd, rowCount: lane.rows };
      start = rowEnd ?? start;
      return { lane, span, path: pathFor(k) };
    });
    const results = await Promise.allSettled(jobs.map((j) => this.copyLane(j.lane, j.span, j.path)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return jobs.map((j) => ({ path: j.path, rowStart: j.span.rowStart, rowEnd: j.span.rowEnd, rowCount: j.span.rowCount }));
  }

  /** Closes the second lane's connection (the first is the caller's). */
  close(): void {
    for (const lane of this.lanes.slice(1)) lane.db.close();
  }

  private async copyLane(lane: Lane, source: PartSource, path: string): Promise<void> {
    const params = new Params();
    const predictions = this.predictionsRelation();
    const select = this.predictionSelect(params);
    let from: string;
    const order = this.byRowNumber ? ' ORDER BY p.rn' : '';
    if (this.passthrough.length > 0) {
      const cols = this.passthrough.map(quoteIdent).join(', ');
      const scan = `${scanSql(source.file, params, ', file_row_number = true')} WHERE ${rowRange(source, params)}`;
      from = this.byRowNumber
        ? `(SELECT ${cols}, file_row_number AS batchinfer_rn FROM ${scan}) AS src JOIN ${predictions} AS p ON src.batchinfer_rn = p.rn`
        : `(SELECT ${cols} FROM ${scan}) AS src POSITIONAL JOIN ${predictions} AS p`;
    } else {
      from = `${predictions} AS p`;
    }
    const columns = [...this.passthrough.map((c) => `src.${quoteIdent(c)}`), ...select].join(', ');
    const target = params.bind(path);
    // The COPY reads the passthrough columns from the source: its failures are the input's,
    // unless they name the part file (or a full disk).
    const copy = `COPY (SELECT ${columns} FROM ${from}${order}) TO ${target} (${PARQUET_OPTIONS}${writeKeyOption(lane.db)})`;
    const written = Number(await guardCopy(source.display ?? source.file, path, () => lane.db.exec(copy, params.values)));
    if (written !== source.rowCount) {
      throw new BatchinferError('INTERNAL', 'part file row count does not match the rows scored', { expected: source.rowCount, actual: written });
    }
    await this.resetTable(lane);
  }

  /**
   * Writes the part's rejected rows, their original columns (all, or only `keep`: the job's
   * `rejects_columns`) plus where and why, to `path`. `check` is the row-check expression
   * (NULL for good rows) built on `params`. Written into `path` when it exists (USE_TMP_FILE
   * false), keeping the mode it was created with (commitRejects.ts).
   */
  async writeRejects(source: PartSource, display: NamedFile, columnNames: readonly string[], check: (params: Params) => string, path: string, keep?: readonly string[]): Promise<number> {
    const params = new Params();
    const scan = `${scanSql(source.file, params, ', file_row_number = true')} WHERE ${rowRange(source, params)}`;
    const reason = `split_part(batchinfer_reject, '|', 1)`;
    // A filtered staged copy's rows are numbered as its input numbers them (stageSource.ts).
    const numbered = source.file.sourceRows === true;
    const index = `split_part(batchinfer_reject, '|', 2)`;
    const sql = `COPY (
        SELECT ${keep ? keep.map((c) => `${quoteIdent(c)}, `).join('') : `* EXCLUDE (batchinfer_reject, file_row_number${numbered ? `, ${quoteIdent(SOURCE_ROW)}` : ''}), `}
          ${numbered ? quoteIdent(SOURCE_ROW) : 'file_row_number'} + 1 AS reject_row,
          ${params.bind(display.path)} AS reject_file,
          (${params.bind([...columnNames])}::VARCHAR[])[CAST(${index} AS INTEGER) + 1] AS reject_column,
          ${reason} AS reject_reason,
          substr(batchinfer_reject, length(${reason}) + length(${index}) + 3) AS reject_message
        FROM (SELECT *, ${check(params)} AS batchinfer_reject FROM ${scan})
        WHERE batchinfer_reject IS NOT NULL ORDER BY file_row_number
      ) TO ${params.bind(path)} (${PARQUET_OPTIONS}, USE_TMP_FILE false${writeKeyOption(this.lanes[0]!.db)})`;
    return Number(await guardCopy(display, path, () => this.lanes[0]!.db.exec(sql, params.values)));
  }

  /**
   * The predictions as a relation with `pred`, `confidence` and `p0..` columns: the table
   * itself, or for a 2-class probabilities table (`derivesInSql`) the table with them derived
   * by the rules of `Postprocessor`: the first class wins a tie, NaN never wins, a row of NaN
   * is class -1 with a NaN confidence; prob_0 of a [N,1] output is 1 - p1 in float32, as
   * the JS path rounds it. test/sink/partWriter.test.ts checks both agree on edge values.
   */
  private predictionsRelation(): string {
    if (!derivesInSql(this.plan)) return this.table;
    const binary = this.plan.task === 'classification' && this.plan.binary;
    // argmaxRow for two classes: class 0 counts if it is a number above -Infinity, class 1 if it
    // is a number above that (NaN compares above everything in DuckDB, hence the isnan tests).
    const first = `(NOT isnan(p0) AND p0 > CAST('-inf' AS FLOAT))`;
    const pred = `CASE WHEN NOT isnan(p1) AND p1 > (CASE WHEN ${first} THEN p0 ELSE CAST('-inf' AS FLOAT) END) THEN 1 WHEN ${first} THEN 0 ELSE -1 END`;
    const withP0 = binary ? `(SELECT *, CAST(1 AS FLOAT) - p1 AS p0 FROM ${this.table})` : this.table;
    const withPred = `(SELECT *, CAST(${pred} AS INTEGER) AS pred FROM ${withP0})`;
    return `(SELECT *, CASE pred WHEN 1 THEN p1 WHEN 0 THEN p0 ELSE CAST('NaN' AS FLOAT) END AS confidence FROM ${withPred})`;
  }

  /** The output's prediction columns, in the order of `outputColumnNames(plan)`. */
  private predictionSelect(params: Params): string[] {
    const plan = this.plan;
    const extras = plan.extras.flatMap((e, i) => e.columns.map((name, k) => `p.x${i}_${k} AS ${quoteIdent(name)}`));
    if (plan.task === 'regression') {
      const values = plan.width === 1 ? ['p.v0 AS prediction'] : Array.from({ length: plan.width }, (_, i) => `p.v${i} AS ${quoteIdent(`prediction_${i}`)}`);
      return [...values, ...extras];
    }
    const { pred, confidence } = decided(plan, params);
    const prediction = plan.labels ? `(${params.bind(plan.labels)}::VARCHAR[])[${pred} + 1]` : pred;
    const cols = [`${prediction} AS prediction`, `${confidence} AS confidence`];
    classNames(plan).forEach((label, i) => cols.push(`p.p${i} AS ${quoteIdent(`prob_${label}`)}`));
    const review: string[] = [];
    if (plan.reviewBelow !== undefined) review.push(`${confidence} < ${params.bind(plan.reviewBelow)} OR isnan(${confidence})`);
    const band = plan.decision?.reviewBand;
    if (band) review.push(`p.p${plan.decision!.positive} BETWEEN ${params.bind(band[0])} AND ${params.bind(band[1])}`);
    if (review.length > 0) cols.push(`(${review.join(' OR ')}) AS needs_review`);
    return [...cols, ...extras];
  }
}

/**
 * The predicted class and its confidence: the argmax the relation holds, or with a `threshold`
 * the positive class when its probability (as written, float32) is at least the threshold and
 * the other class otherwise; a NaN probability is class -1 with a NaN confidence, as the argmax has it.
 */
function decided(plan: ClassificationPlan, params: Params): { pred: string; confidence: string } {
  const threshold = plan.decision?.threshold;
  if (threshold === undefined) return { pred: 'p.pred', confidence: 'p.confidence' };
  const pos = plan.decision!.positive;
  const [p, other] = [`p.p${pos}`, `p.p${1 - pos}`];
  const above = `${p} >= ${params.bind(threshold)}`;
  return {
    pred: `(CASE WHEN isnan(${p}) THEN -1 WHEN ${above} THEN ${pos} ELSE ${1 - pos} END)`,
    confidence: `(CASE WHEN isnan(${p}) THEN CAST('NaN' AS FLOAT) WHEN ${above} THEN ${p} ELSE ${other} END)`,
  };
}

function rowRange(source: PartSource, params: Params): string {
  const start = `file_row_number >= ${params.bind(source.rowStart)}`;
  return source.rowEnd === null ? start : `${start} AND file_row_number < ${params.bind(source.rowEnd)}`;
}
