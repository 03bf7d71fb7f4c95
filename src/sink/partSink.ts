/**
 * The part files of a run: predictions come in batch by batch, and every `checkpointRows`
 * rows the pending ones are written as a part file (under a temp name, then renamed), with
 * its quarantine file when rows of its span were rejected, and journaled. A part's span of
 * file rows includes its rejected rows; the next part starts where it ends.
 *
 * One file at a time: `resume` takes the parts an earlier run journaled, `startFile` begins
 * after them, `append`/`extendSpan` take each batch in order, `flush` writes a part.
 *
 * Writing behind (`writeBehind`), two writers take turns: `flush` cuts the part and starts its
 * COPY, and the next part's rows go to the other writer meanwhile; parts are journaled in
 * order, and `drain` waits for them all (a failed write is thrown there, or by a later `flush`).
 * Joined by position, parts end at the file rows that are multiples of `checkpointRows`, and
 * their lanes where `laneEnd` says, not where batches happen to: the reader ends its batches
 * there (`cutAfter`), so a job writes the same parts whatever its batch sizes.
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
import type { Profile } from '../profile/profile.js';
import { profileBytes } from '../profile/profileJson.js';
import { prepareFileAtomic, type PreparedFile } from './atomicFile.js';
import type { Journal } from './journal.js';
import type { Part } from './part.js';
import { laneRowsFor, PartWriter, type PartSource, type WrittenPart } from './partWriter.js';
import { RejectTally } from './rejectTally.js';

export interface PartSinkOptions {
  staging: string;
  journal: Journal;
  passthrough: readonly string[];
  /** Predictions carry their file row number and are joined on it (rows may be left out). */
  byRowNumber: boolean;
  /** A part's rows may be split in two lanes (the positional join with passthrough columns; never with `byRowNumber`). */
  lanes: boolean;
  /** Rows per part file; joined by position, parts also end at the file rows that are multiples of it. */
  checkpointRows: number;
  /** Write each part while the next one fills (two writers), instead of holding the reader while it is written. */
  writeBehind?: boolean;
  /** DuckDB's threads while a part joined on row numbers is written (one parallel COPY); null: as they are. */
  copyThreads: number | null;
  /** on_error quarantine: the feature columns (a reject's index names one) and the job's `rejects_columns`. */
  quarantine: { columnNames: readonly string[]; keep?: readonly string[] } | null;
  /** What each part's journal entry records beside its rows: the scores decision, the label counts of its `rows` rows. */
  notes(rows: number): { scores?: ScoresDecision; labelCheck?: LabelCounts };
  /** The profile of each part's `rows` rows, kept beside it (absent or null: the run keeps no profile). */
  profile?(rows: number): Profile | null | Promise<Profile | null>;
  /** Told each part's profile once its file is written, in the order the parts are journaled. */
  onProfile?(path: string, profile: Profile): void;
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

/** Rows of a DuckDB vector: a lane the reader cuts holds whole ones. */
const LANE_UNIT = 2048;

/** A part cut from the pending rows: what its files' journal entries record, fixed when it is cut. */
interface CutPart {
  file: SinkFile;
  span: PartSource;
  /** Sequence number of its first file (a part split in lanes is two files). */
  first: number;
  /** Per file, what its journal entry records beside its rows. */
  notes: { scores?: ScoresDecision; labelCheck?: LabelCounts }[];
  /** Per file, its profile (null: the run keeps none), written under a temporary name as soon as it is made. */
  profiles: Promise<StagedPartProfile | null>[];
  rejected: Record<string, number>;
  rejectedTotal: number;
}

/** A part file's profile, written and synced under a temporary name, renamed to `name` when the part is journaled. */
interface StagedPartProfile {
  name: string;
  profile: Profile;
  file: PreparedFile;
}

/** A writer (its own connections and predictions table), and the part it is writing in the background, if any. */
interface WriterSlot {
  writer: PartWriter;
  writing: Promise<void> | null;
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
  /** The row after the file's last journaled part. */
  private durableEnd = 0;
  /** Sequence number of the file's next part file. */
  private nextSeq = 0;
  private readonly partRejects = new RejectTally();
  /** The slot taking rows; the other (write-behind) writes the part before. */
  private active = 0;
  /** The last part's journaling: the next part is journaled after it, so the journal lists parts in order. */
  private journaled: Promise<void> = Promise.resolve();
  /** The profile of the first lane of the part being filled, taken once that lane has its rows. */
  private firstLaneProfile: Promise<StagedPartProfile | null> | null = null;

  private constructor(
    private readonly slots: WriterSlot[],
    private readonly options: PartSinkOptions,
  ) {}

  /**
   * Opens its own connection to `db`: a statement on the reader's would end the reader's stream.
   * Writing behind takes two writers, each on its own connection (temp tables are per connection):
   * one takes rows while the other's part is written.
   */
  static async open(db: Db, plan: OutputPlan, options: PartSinkOptions): Promise<PartSink> {
    const dbs: Db[] = [];
    try {
      const slots: WriterSlot[] = [];
      for (let k = 0; k < (options.writeBehind ? 2 : 1); k++) {
        const writerDb = await db.fork();
        dbs.push(writerDb);
        slots.push({ writer: await PartWriter.create(writerDb, plan, options.passthrough, { byRowNumber: options.byRowNumber, lanes: options.lanes }), writing: null });
      }
      return new PartSink(slots, options);
    } catch (err) {
      for (const d of dbs) d.close();
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
    this.spanEnd = this.durableEnd = this.partStart;
    this.nextSeq = this.currentParts().length;
    this.partRejects.clear();
    this.planPart();
    return this.partStart;
  }

  /**
   * Joined by position: the file row a batch starting at `row` must end at, at the latest, so
   * that parts and lanes end where the rows say, not where batches happen to (readBatches
   * `cutAfter`): a part at the next multiple of `checkpointRows`, its first lane where
   * `laneEnd` says. Called by the reader ahead of the parts: a function of `row` alone.
   * Joined on row numbers, parts need no cut (Infinity).
   */
  cutAfter(row: number): number {
    if (this.options.byRowNumber) return Infinity;
    const every = this.options.checkpointRows;
    const end = (Math.floor(row / every) + 1) * every;
    const lane = this.laneEnd(row);
    return row < lane ? Math.min(lane, end) : end;
  }

  /** The file rows the journaled parts hold, rejected ones included (`drain` first for all of them). */
  get rowsWritten(): number {
    return this.durableEnd;
  }

  /** The row after the last batch taken. */
  get rowsTaken(): number {
    return this.spanEnd;
  }

  /** The pending rows fill a part, or (joined by position) reach a part boundary. */
  get full(): boolean {
    const pending = this.writer.pendingRows;
    const { byRowNumber, checkpointRows } = this.options;
    return pending >= checkpointRows || (!byRowNumber && pending > 0 && this.spanEnd % checkpointRows === 0);
  }

  /** The file's last part is due: rows or rejects pending, or no part yet (an empty file gets one: zero rows, full schema). */
  get lastPartDue(): boolean {
    return this.writer.pendingRows > 0 || this.partRejects.total > 0 || this.nextSeq === 0;
  }

  /** A batch's span of file rows ends at `rowEnd`, with `rejected` of them rejected. */
  extendSpan(rowEnd: number, rejected: Partial<Record<string, number>>): void {
    this.partRejects.add(rejected);
    this.spanEnd = rowEnd;
  }

  async append(columns: AppendColumn[], rows: number): Promise<void> {
    await this.writer.append(columns, rows);
    // The first lane of a part split in two has its rows: its profile is made now, its sketches
    // built while the second lane's rows are scored, not after the part's last row.
    if (!this.firstLaneProfile && this.writer.firstLaneFull) this.firstLaneProfile = this.takeProfile(this.current(), this.nextSeq, this.writer.pendingFiles[0]!);
  }

  /**
   * Writes the pending rows as the file's next part (or two consecutive parts: lanes), each
   * renamed from its temp name once complete and journaled; `onJournaled` gets each part's row end.
   * Writing behind, it returns once the part is cut: the part is written while the next one
   * fills, and its failure is thrown by a later `flush` or by `drain`.
   */
  async flush(onJournaled?: (rowEnd: number) => void): Promise<void> {
    const slot = this.slots[this.active]!;
    const part = this.cut();
    const previous = this.journaled;
    const written = this.writeSlot(slot, part);
    // Journaled in order, after the part before (a failure stops the chain); settled only once
    // its own COPY has: its connection must not close under it.
    const journaled = (async () => {
      const files = await written;
      await previous;
      await this.journal(slot.writer, part, files, onJournaled);
    })();
    this.journaled = journaled;
    slot.writing = journaled;
    if (this.slots.length === 1) {
      await journaled;
    } else {
      // Awaited when the slot is next used, or by `drain`; never an unhandled rejection meanwhile.
      journaled.catch(() => undefined);
      this.active = 1 - this.active;
      await this.slots[this.active]!.writing;
    }
    this.planPart();
  }

  /** Waits for every part cut so far to be journaled; throws the first failure. */
  async drain(): Promise<void> {
    for (const slot of this.slots) await slot.writing;
  }

  /** Lets every write in flight end (failures ignored: the run already fails), then closes the connections. */
  async close(): Promise<void> {
    await Promise.allSettled(this.slots.map((s) => s.writing));
    for (const { writer } of this.slots) {
      writer.close();
      writer.db.close();
    }
  }

  private get writer(): PartWriter {
    return this.slots[this.active]!.writer;
  }

  /** Takes the pending rows as the next part: its span, sequence numbers and journal notes. */
  private cut(): CutPart {
    const file = this.current();
    const files = this.writer.pendingFiles;
    const part: CutPart = {
      file,
      span: { file: file.source, rowStart: this.partStart, rowEnd: this.spanEnd, rowCount: this.writer.pendingRows, display: file.display },
      first: this.nextSeq,
      notes: files.map((rows) => this.options.notes(rows)),
      // Asked for at the cut (a first lane's once its rows were in): their sketches are built (on
      // the inference workers) while the rows are scored and written.
      profiles: files.map((rows, k) => (k === 0 && this.firstLaneProfile) || this.takeProfile(file, this.nextSeq + k, rows)),
      rejected: this.partRejects.counts(),
      rejectedTotal: this.partRejects.total,
    };
    this.nextSeq += files.length;
    this.firstLaneProfile = null;
    this.partStart = this.spanEnd;
    this.partRejects.clear();
    return part;
  }

  /** The part's files, under temp names (a part file under its final name is always complete). */
  private writeSlot(slot: WriterSlot, part: CutPart): Promise<WrittenPart[]> {
    const { copyThreads, staging } = this.options;
    const write = (): Promise<WrittenPart[]> => slot.writer.writeParts(part.span, (k) => join(staging, partName(part.file.index, part.first + k) + '.tmp'));
    // Set through the writer's connection: a statement on the reader's would end its stream.
    return copyThreads !== null ? slot.writer.db.withThreads(copyThreads, write) : write();
  }

  private async journal(writer: PartWriter, part: CutPart, written: WrittenPart[], onJournaled?: (rowEnd: number) => void): Promise<void> {
    const { staging, journal } = this.options;
    const { file } = part;
    const fileParts = this.parts[file.index]!;
    for (const [k, w] of written.entries()) {
      const seq = part.first + k;
      const name = partName(file.index, seq);
      const path = join(staging, name);
      const rowEnd = w.rowEnd ?? part.span.rowEnd!;
      await rename(w.path, path);
      this.rowsOut += w.rowCount;
      // Rows are only left out (and quarantined) with one lane: its part holds the whole span.
      const rejects = k === 0 ? await this.writeRejects(writer, part, { ...part.span, rowStart: w.rowStart, rowEnd }, seq) : undefined;
      const profile = await this.placeProfile((await part.profiles[k]) ?? null);
      failpoint('part-written');
      const notes = part.notes[k]!;
      await journal.append({ type: 'part', file: file.index, seq, rowStart: w.rowStart, rowEnd, rowCount: w.rowCount, rejected: k === 0 ? part.rejected : {}, name, bytes: (await stat(path)).size, rejects, scores: notes.scores, labelCheck: notes.labelCheck, profile });
      failpoint('part-journaled');
      onJournaled?.(rowEnd);
      fileParts.push({ path, rows: w.rowCount, ...(rejects ? { rejects: join(staging, rejects.name) } : {}), ...(profile ? { profile: join(staging, profile.name) } : {}) });
      this.durableEnd = rowEnd;
    }
  }

  /** The part's quarantine file, when rows of its span were rejected. */
  private async writeRejects(writer: PartWriter, part: CutPart, span: PartSource, seq: number): Promise<{ name: string; bytes: number } | undefined> {
    const { quarantine, staging } = this.options;
    if (!quarantine || part.rejectedTotal === 0) return undefined;
    const { file } = part;
    const name = `rejects-${file.index}-${seq}.parquet`;
    const temp = join(staging, name + '.tmp');
    const written = await writer.writeRejects(span, file.display, quarantine.columnNames, (params) => file.rejectCheck(params), temp, quarantine.keep);
    if (written !== part.rejectedTotal) throw new BatchinferError('INTERNAL', 'quarantined rows differ from rejected rows', { expected: part.rejectedTotal, actual: written });
    await rename(temp, join(staging, name));
    return { name, bytes: (await stat(join(staging, name))).size };
  }

  /**
   * The profile of the next part's `rows` rows (null: the run keeps none), written as soon as
   * it is made, while DuckDB writes the part; a failure surfaces where it is awaited.
   */
  private takeProfile(file: SinkFile, seq: number, rows: number): Promise<StagedPartProfile | null> {
    const name = `profile-${file.index}-${seq}.json`;
    const staged = Promise.resolve(this.options.profile?.(rows) ?? null).then(async (profile) =>
      profile ? { name, profile, file: await prepareFileAtomic(join(this.options.staging, name), profileBytes(profile)) } : null,
    );
    staged.catch(() => undefined);
    return staged;
  }

  /** The part's profile file in place, named in its journal entry: a resumed run merges it with the new parts'. */
  private async placeProfile(staged: StagedPartProfile | null): Promise<{ name: string; bytes: number } | undefined> {
    if (!staged) return undefined;
    const path = join(this.options.staging, staged.name);
    await staged.file.place();
    this.options.onProfile?.(path, staged.profile);
    return { name: staged.name, bytes: (await stat(path)).size };
  }

  /** Splits the next part in two lanes when it will be big enough: half of the rows it will hold. */
  private planPart(): void {
    const start = this.partStart;
    if (!this.options.lanes) return this.writer.planPart(0);
    const lane = this.laneEnd(start);
    this.writer.planPart(lane > start ? lane - start : 0);
  }

  /**
   * Joined by position: where the first lane of the part holding `row` ends (its start when it
   * is not split). Lanes are planned on the part's whole span (from its multiple of
   * `checkpointRows`), in whole DuckDB vectors: a run resumed between two lanes writes the same files.
   */
  private laneEnd(row: number): number {
    const every = this.options.checkpointRows;
    const file = this.current();
    const start = Math.max(Math.floor(row / every) * every, file.rowStart ?? 0);
    if (!this.options.lanes) return start;
    return start + laneRowsFor(Math.min(every, file.rows - start), LANE_UNIT);
  }

  private current(): SinkFile {
    if (!this.file) throw new BatchinferError('INTERNAL', 'a part was written before its file was started');
    return this.file;
  }

  private currentParts(): Part[] {
    return this.parts[this.current().index] ?? (this.parts[this.current().index] = []);
  }
}

function partName(file: number, seq: number): string {
  return `part-${file}-${seq}.parquet`;
}
