/**
 * The part files of a run: predictions come in batch by batch, and every `checkpointRows`
 * rows the pending ones are written as a part file (under a temp name, then renamed), with
 * its quarantine file when rows of its span were rejected, and journaled. A part's span of
 * file rows includes its rejected rows; the next part starts where it ends.
 *
 * One file at a time: `resume` takes the parts an earlier run journaled, `startFile` begins
 * after them, `append`/`extendSpan` take each batch in order, `flush` writes a part.
 */
import { rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BatchinferError } from '../errors.js';
import type { AppendColumn, Db } from '../db/duckdb.js';
import type { DatasetFile, NamedFile } from '../source/dataset.js';
import type { OutputPlan, ScoresDecision } from '../postprocess/outputPlan.js';
import type { LabelCounts } from '../postprocess/labelCheck.js';
import type { Params } from '../util/sql.js';
import { failpoint } from '../util/failpoint.js';
import { writeFileAtomic } from './atomicFile.js';
import type { Journal } from './journal.js';
import type { Part } from './part.js';
import { laneRowsFor, PartWriter } from './partWriter.js';
import { RejectTally } from './rejectTally.js';

export interface PartSinkOptions {
  staging: string;
  journal: Journal;
  passthrough: readonly string[];
  /** Predictions carry their file row number and are joined on it (rows may be left out). */
  byRowNumber: boolean;
  /** A part's rows may be split in two lanes (the positional join with passthrough columns). */
  lanes: boolean;
  checkpointRows: number;
  batchSize: number;
  /** DuckDB's threads while a part joined on row numbers is written (one parallel COPY); null: as they are. */
  copyThreads: number | null;
  /** on_error quarantine: the feature columns (a reject's index names one) and the job's `rejects_columns`. */
  quarantine: { columnNames: readonly string[]; keep?: readonly string[] } | null;
  /** What each part's journal entry records beside its rows: the scores decision, the label counts of its `rows` rows. */
  notes(rows: number): { scores?: ScoresDecision; labelCheck?: LabelCounts };
  /** The profile of each part's `rows` rows, kept beside it (absent or null: the run keeps no profile). */
  profile?(rows: number): object | null | Promise<object | null>;
}

/** The input file being written: where its rows are read from, and how a rejected row is found again. */
export interface SinkFile {
  index: number;
  /** The file the rows are read from (a staged copy for a CSV). */
  source: DatasetFile;
  /** The input file as the user named it, for messages and the rejects file. */
  display: NamedFile;
  /** The row after its last (its rows, unless a shard reads a span): each part's lanes are planned against it. */
  rows: number;
  /** The first row read (a shard's span of the file); 0 by default. */
  rowStart?: number;
  /** The row-check expression (NULL for good rows), for the quarantine file. */
  rejectCheck(params: Params): string;
}

export class PartSink {
  /** `parts[i]`: the part files of input file i, in order. */
  readonly parts: Part[][] = [];
  /** Rows in the written parts (resumed ones included). */
  rowsOut = 0;
  private file: SinkFile | null = null;
  /** First file row of the part being filled, and the row after the last batch taken. */
  private partStart = 0;
  private spanEnd = 0;
  private readonly partRejects = new RejectTally();

  private constructor(
    private readonly writerDb: Db,
    private readonly writer: PartWriter,
    private readonly options: PartSinkOptions,
  ) {}

  /** Opens its own connection to `db`: a statement on the reader's would end the reader's stream. */
  static async open(db: Db, plan: OutputPlan, options: PartSinkOptions): Promise<PartSink> {
    const writerDb = await db.fork();
    try {
      const writer = await PartWriter.create(writerDb, plan, options.passthrough, { byRowNumber: options.byRowNumber, lanes: options.lanes });
      return new PartSink(writerDb, writer, options);
    } catch (err) {
      writerDb.close();
      throw err;
    }
  }

  /** The parts of file `index` an earlier run journaled; the file's new parts follow them. */
  resume(index: number): Part[] {
    const { staging, journal } = this.options;
    const fileParts = journal.parts(index).map((p) => ({ path: join(staging, p.name), rows: p.rowCount, ...(p.rejects ? { rejects: join(staging, p.rejects.name) } : {}), ...(p.profile ? { profile: join(staging, p.profile.name) } : {}) }));
    for (const p of journal.parts(index)) this.rowsOut += p.rowCount;
    this.parts[index] = fileParts;
    return fileParts;
  }

  /** Starts writing `file` after its resumed parts: returns the first file row still to read. */
  startFile(file: SinkFile): number {
    this.file = file;
    this.partStart = this.options.journal.parts(file.index).at(-1)?.rowEnd ?? file.rowStart ?? 0;
    this.spanEnd = this.partStart;
    this.partRejects.clear();
    this.planPart();
    return this.partStart;
  }

  /** The file rows the written parts hold, rejected ones included. */
  get rowsWritten(): number {
    return this.partStart;
  }

  /** The row after the last batch taken. */
  get rowsTaken(): number {
    return this.spanEnd;
  }

  /** The pending rows fill a part. */
  get full(): boolean {
    return this.writer.pendingRows >= this.options.checkpointRows;
  }

  /** The file's last part is due: rows or rejects pending, or no part yet (an empty file gets one: zero rows, full schema). */
  get lastPartDue(): boolean {
    return this.writer.pendingRows > 0 || this.partRejects.total > 0 || this.currentParts().length === 0;
  }

  /** A batch's span of file rows ends at `rowEnd`, with `rejected` of them rejected. */
  extendSpan(rowEnd: number, rejected: Partial<Record<string, number>>): void {
    this.partRejects.add(rejected);
    this.spanEnd = rowEnd;
  }

  append(columns: AppendColumn[], rows: number): Promise<void> {
    return this.writer.append(columns, rows);
  }

  /**
   * Writes the pending rows as the file's next part (or two consecutive parts: lanes), each
   * renamed from its temp name once complete and journaled; `onJournaled` gets each part's row end.
   */
  async flush(onJournaled?: (rowEnd: number) => void): Promise<void> {
    const { copyThreads } = this.options;
    const write = (): Promise<void> => this.writePart(onJournaled);
    // Set through the writer's connection: a statement on the reader's would end its stream.
    await (copyThreads !== null ? this.writerDb.withThreads(copyThreads, write) : write());
  }

  /** Closes its connections. */
  close(): void {
    this.writer.close();
    this.writerDb.close();
  }

  private async writePart(onJournaled?: (rowEnd: number) => void): Promise<void> {
    const file = this.current();
    const { staging, journal } = this.options;
    const fileParts = this.currentParts();
    const span = { file: file.source, rowStart: this.partStart, rowEnd: this.spanEnd, rowCount: this.writer.pendingRows, display: file.display };
    const first = fileParts.length;
    const nameOf = (k: number): string => `part-${file.index}-${first + k}.parquet`;
    // The parts' profiles are asked for first: their sketches are built (on the inference
    // workers) while DuckDB writes the rows.
    const profiles = this.writer.partRows.map((rows) => this.takeProfile(rows));
    // Written under temp names: a part file under its final name is always complete.
    const written = await this.writer.writeParts(span, (k) => join(staging, nameOf(k) + '.tmp'));
    if (written.length !== profiles.length) throw new BatchinferError('INTERNAL', 'the parts written differ from the parts planned', { expected: profiles.length, actual: written.length });
    for (const [k, part] of written.entries()) {
      const seq = first + k;
      const name = nameOf(k);
      const path = join(staging, name);
      const rowEnd = part.rowEnd ?? this.spanEnd;
      await rename(part.path, path);
      this.rowsOut += part.rowCount;
      // Rows are only left out (and quarantined) with one lane: its part holds the whole span.
      const rejects = await this.writeRejects(file, { ...span, rowStart: part.rowStart, rowEnd }, seq);
      const profile = await this.writeProfile(file, seq, await profiles[k]!);
      failpoint('part-written');
      const notes = this.options.notes(part.rowCount);
      await journal.append({ type: 'part', file: file.index, seq, rowStart: part.rowStart, rowEnd, rowCount: part.rowCount, rejected: this.partRejects.counts(), name, bytes: (await stat(path)).size, rejects, scores: notes.scores, labelCheck: notes.labelCheck, profile });
      failpoint('part-journaled');
      onJournaled?.(rowEnd);
      fileParts.push({ path, rows: part.rowCount, ...(rejects ? { rejects: join(staging, rejects.name) } : {}), ...(profile ? { profile: join(staging, profile.name) } : {}) });
      this.partRejects.clear();
      this.partStart = rowEnd;
    }
    this.planPart();
  }

  /** The part's quarantine file, when rows of its span were rejected. */
  private async writeRejects(file: SinkFile, span: { file: DatasetFile; rowStart: number; rowEnd: number; rowCount: number }, seq: number): Promise<{ name: string; bytes: number } | undefined> {
    const { quarantine, staging } = this.options;
    if (!quarantine || this.partRejects.total === 0) return undefined;
    const name = `rejects-${file.index}-${seq}.parquet`;
    const temp = join(staging, name + '.tmp');
    const written = await this.writer.writeRejects(span, file.display, quarantine.columnNames, (params) => file.rejectCheck(params), temp, quarantine.keep);
    if (written !== this.partRejects.total) throw new BatchinferError('INTERNAL', 'quarantined rows differ from rejected rows', { expected: this.partRejects.total, actual: written });
    await rename(temp, join(staging, name));
    return { name, bytes: (await stat(join(staging, name))).size };
  }

  /** The profile of the next part's `rows` rows (null: the run keeps none); a failure surfaces where it is awaited. */
  private takeProfile(rows: number): Promise<object | null> {
    const profile = Promise.resolve(this.options.profile?.(rows) ?? null);
    profile.catch(() => undefined);
    return profile;
  }

  /** The part's profile file, named in its journal entry: a resumed run merges it with the new parts'. */
  private async writeProfile(file: SinkFile, seq: number, profile: object | null): Promise<{ name: string; bytes: number } | undefined> {
    if (!profile) return undefined;
    const name = `profile-${file.index}-${seq}.json`;
    const path = join(this.options.staging, name);
    await writeFileAtomic(path, JSON.stringify(profile) + '\n');
    return { name, bytes: (await stat(path)).size };
  }

  /** Splits the next part in two lanes when it will be big enough: half of the rows it will hold. */
  private planPart(): void {
    const file = this.current();
    this.writer.planPart(laneRowsFor(Math.min(this.options.checkpointRows, file.rows - this.partStart), this.options.batchSize));
  }

  private current(): SinkFile {
    if (!this.file) throw new BatchinferError('INTERNAL', 'a part was written before its file was started');
    return this.file;
  }

  private currentParts(): Part[] {
    return this.parts[this.current().index] ?? (this.parts[this.current().index] = []);
  }
}
