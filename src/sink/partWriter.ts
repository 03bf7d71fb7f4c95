/**
 * Writes predictions to Parquet part files without passthrough values ever entering JS:
 * predictions are appended to a DuckDB table, then one COPY joins them by position with the
 * passthrough columns read straight from the source file over the same row range
 * (`file_row_number` filters are pushed down into the Parquet scan).
 */
import { BatchinferError } from '../errors.js';
import type { AppendColumn, Db } from '../db/duckdb.js';
import { Params, quoteIdent } from '../util/sql.js';
import { literalPath, readerSql, type DatasetFile } from '../source/dataset.js';
import { classNames, predictionTableColumns, type OutputPlan } from '../postprocess/outputPlan.js';

export interface PartSource {
  file: DatasetFile;
  /** First file row (0-based) of the part. */
  rowStart: number;
  rowCount: number;
}

export class PartWriter {
  private rows = 0;

  private constructor(
    private readonly db: Db,
    private readonly table: string,
    private readonly plan: OutputPlan,
    private readonly passthrough: readonly string[],
  ) {}

  static async create(db: Db, plan: OutputPlan, passthrough: readonly string[]): Promise<PartWriter> {
    const writer = new PartWriter(db, 'predictions_segment', plan, passthrough);
    await writer.resetTable();
    return writer;
  }

  /**
   * A fresh TEMP table per part. A table in the main catalog keeps every dropped or deleted
   * version alive while the reader's streaming query (another connection, an older
   * transaction) is open: RSS grew 30 bytes a row, 846 MB at 10M rows. A connection-local
   * temp table is outside that snapshot and is freed when replaced.
   */
  private async resetTable(): Promise<void> {
    const cols = predictionTableColumns(this.plan).map((c) => `${c.name} ${c.type}`).join(', ');
    await this.db.exec(`CREATE OR REPLACE TEMP TABLE ${this.table} (${cols})`);
  }

  /** Rows appended since the last part was written. */
  get pendingRows(): number {
    return this.rows;
  }

  async append(columns: AppendColumn[], rowCount: number): Promise<void> {
    await this.db.appendColumns(this.table, columns, rowCount);
    this.rows += rowCount;
  }

  /** Writes the pending predictions beside their passthrough rows to `path`, then clears them. */
  async writePart(source: PartSource, path: string): Promise<number> {
    if (source.rowCount !== this.rows) {
      throw new BatchinferError('INTERNAL', 'prediction count does not match the rows read', { expected: source.rowCount, actual: this.rows });
    }
    const params = new Params();
    const predictions = this.predictionSelect(params);
    let from: string;
    if (this.passthrough.length > 0) {
      const cols = this.passthrough.map(quoteIdent).join(', ');
      const file = params.bind(literalPath(source.file.path));
      const start = params.bind(source.rowStart);
      const end = params.bind(source.rowStart + source.rowCount);
      const scan = readerSql(source.file.format, file, ', file_row_number = true');
      from = `(SELECT ${cols} FROM ${scan} WHERE file_row_number >= ${start} AND file_row_number < ${end}) AS src POSITIONAL JOIN ${this.table} AS p`;
    } else {
      from = `${this.table} AS p`;
    }
    const select = [...this.passthrough.map((c) => `src.${quoteIdent(c)}`), ...predictions].join(', ');
    const target = params.bind(path);
    const written = Number(await this.db.exec(`COPY (SELECT ${select} FROM ${from}) TO ${target} (FORMAT parquet, COMPRESSION zstd)`, params.values));
    if (written !== source.rowCount) {
      throw new BatchinferError('INTERNAL', 'part file row count does not match the rows scored', { expected: source.rowCount, actual: written });
    }
    await this.resetTable();
    this.rows = 0;
    return written;
  }

  private predictionSelect(params: Params): string[] {
    const plan = this.plan;
    if (plan.task === 'regression') {
      return plan.width === 1 ? ['p.v0 AS prediction'] : Array.from({ length: plan.width }, (_, i) => `p.v${i} AS ${quoteIdent(`prediction_${i}`)}`);
    }
    const prediction = plan.labels ? `(${params.bind(plan.labels)}::VARCHAR[])[p.pred + 1]` : 'p.pred';
    const cols = [`${prediction} AS prediction`, 'p.confidence AS confidence'];
    classNames(plan).forEach((label, i) => cols.push(`p.p${i} AS ${quoteIdent(`prob_${label}`)}`));
    if (plan.reviewBelow !== undefined) cols.push(`(p.confidence < ${params.bind(plan.reviewBelow)} OR isnan(p.confidence)) AS needs_review`);
    return cols;
  }
}
