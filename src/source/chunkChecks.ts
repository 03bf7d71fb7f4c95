/**
 * Which rows of a chunk are bad, and why. Two sources agree on one verdict per row: the
 * reader's own scan of the feature vectors (NULL, NaN, Infinity: `scannedChecks`) and
 * DuckDB's check column for everything else (parse errors, vocabularies, ranges, values a
 * tensor type cannot hold). As in the single SQL expression both replace, the first column
 * in feed order with a failing check decides; on the same column DuckDB's check wins (a
 * feature a cast left NULL is that check's, not a NULL in the data).
 *
 * The NaN/Infinity scans can be left to the reader's copy into the tensors (`load` with
 * `finite` false; the copy looks at the `finiteColumns` values it moves anyway): a chunk
 * whose copy meets a NaN or an infinity is then loaded again in full, so the verdicts are
 * always the full checks'.
 *
 * @example
 *   const checks = new ChunkChecks(scannedChecks(feeds), rejectIndex);
 *   if (checks.load(chunk)) for (let r = 0; r < chunk.rowCount; r++) if (checks.isBad(r)) checks.rejection(r);
 */
import type { ColumnChunk } from '../db/duckdb.js';
import { FLT_MAX, parseRejection, REJECT_REASONS, type Rejection, type RejectReason, type ScannedCheck } from '../preprocess/rowChecks.js';

/** A rejection; `message` is null when only DuckDB can word it (the value's text). */
export interface Verdict {
  reason: RejectReason;
  columnIndex: number;
  message: string | null;
}

const REASONS = REJECT_REASONS.length;

export class ChunkChecks {
  /** Per row: -1, or columnIndex * REASONS + reason of the scan's verdict. */
  private codes = new Int32Array(0);
  private readonly fromSql = new Map<number, Rejection>();
  /** Per flat column, 1 when a check reads whether its values are finite (NaN or Infinity rejected). */
  readonly finiteColumns: Uint8Array;

  constructor(
    private readonly scanned: readonly ScannedCheck[],
    /** Index of DuckDB's check column in the chunk, or -1. */
    private readonly rejectIndex: number,
    /** Column names in feed order, for the scan's own messages. */
    private readonly columnNames: readonly string[],
  ) {
    this.finiteColumns = new Uint8Array(columnNames.length);
    for (const check of scanned) if (isFiniteCheck(check)) this.finiteColumns[check.columnIndex] = 1;
  }

  /** True when some column's values are checked for NaN or Infinity (what `load` may leave to the copy). */
  get checksFinite(): boolean {
    return this.finiteColumns.includes(1);
  }

  /**
   * Evaluates a chunk; false when every row is good (the common case, at little cost). With
   * `finite` false the NaN/Infinity scans are left out: the caller looks at those values itself
   * and loads the chunk again in full when one is not finite.
   */
  load(chunk: ColumnChunk, finite = true): boolean {
    const rows = chunk.rowCount;
    if (this.codes.length < rows) this.codes = new Int32Array(Math.max(rows, 2048));
    const codes = this.codes;
    codes.fill(-1, 0, rows);
    this.fromSql.clear();
    let any = false;
    for (const check of this.scanned) {
      const vector = chunk.columns[check.columnIndex]!;
      const code = check.columnIndex * REASONS + REJECT_REASONS.indexOf(check.reason);
      if (check.kind === 'null') {
        if (!vector.hasNulls) continue;
        for (let r = 0; r < rows; r++) {
          if (codes[r]! < 0 && !vector.isValid(r)) {
            codes[r] = code;
            any = true;
          }
        }
        continue;
      }
      if (!finite && isFiniteCheck(check)) continue;
      const items = vector.items as Float32Array | Float64Array | null;
      if (!items) continue;
      const nulls = vector.hasNulls;
      if (check.kind === 'narrow') {
        // A finite value whose float32 rounding is infinite (as DuckDB's cast rounds it): only
        // values beyond FLT_MAX can round that way.
        for (let r = 0; r < rows; r++) {
          const v = items[r]!;
          if (v - v !== 0 || Math.abs(v) < FLT_MAX || codes[r]! >= 0 || (nulls && !vector.isValid(r))) continue;
          const f = Math.fround(v);
          if (f - f === 0) continue;
          codes[r] = code;
          any = true;
        }
        continue;
      }
      const infinite = check.kind === 'infinite';
      for (let r = 0; r < rows; r++) {
        const v = items[r]!;
        // v - v is 0 for every finite number, NaN for NaN and the infinities (v !== v: NaN).
        if (v - v === 0 || codes[r]! >= 0 || (infinite && v !== v) || (nulls && !vector.isValid(r))) continue;
        codes[r] = code;
        any = true;
      }
    }
    if (this.rejectIndex >= 0) {
      const column = chunk.columns[this.rejectIndex]!;
      if (column.hasValues) {
        for (let r = 0; r < rows; r++) {
          if (!column.isValid(r)) continue;
          const rejection = parseRejection(String(column.value(r)));
          const scan = codes[r]!;
          if (scan < 0 || rejection.columnIndex <= Math.floor(scan / REASONS)) {
            this.fromSql.set(r, rejection);
            codes[r] = rejection.columnIndex * REASONS + REJECT_REASONS.indexOf(rejection.reason);
          }
          any = true;
        }
      }
    }
    return any;
  }

  isBad(row: number): boolean {
    return this.codes[row]! >= 0;
  }

  rejection(row: number): Verdict {
    const sql = this.fromSql.get(row);
    if (sql) return sql;
    const code = this.codes[row]!;
    const columnIndex = Math.floor(code / REASONS);
    const reason = REJECT_REASONS[code % REASONS]!;
    // The same words as the SQL check (rowChecks.ts); a value's text is DuckDB's to give.
    const message = reason === 'NULL_VALUE' ? `NULL in column ${this.columnNames[columnIndex]} and fill_null is error` : null;
    return { reason, columnIndex, message };
  }
}

/** A check of whether a value is finite: NaN or an infinity (`notFinite`), an infinity (`infinite`). */
function isFiniteCheck(check: ScannedCheck): boolean {
  return check.kind === 'notFinite' || check.kind === 'infinite';
}
