/**
 * The checkpoint journal of a run: one JSON line per durable step (a finished part file, a
 * staged CSV copy), appended and fsynced after the step's file is complete and renamed. A
 * run killed at any point leaves a journal whose every entry names a complete file; the next
 * run of the same job and inputs (same fingerprint) resumes after the last entry.
 *
 * A torn last line (killed mid-append) is ignored. A journal with another fingerprint (the
 * inputs, model or job changed) is discarded and the run starts over.
 */
import { appendFile, open, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncPath } from './atomicFile.js';
import { guardWrite } from '../util/writeFailure.js';

export interface PartEntry {
  type: 'part';
  /** Index of the input file. */
  file: number;
  seq: number;
  /** The part's span of file rows, [rowStart, rowEnd), rejected rows included. */
  rowStart: number;
  rowEnd: number;
  /** Rows scored (in the part file). */
  rowCount: number;
  /** Rows rejected in the span, by reason. */
  rejected: Record<string, number>;
  name: string;
  bytes: number;
  /** The quarantine file of the span's rejected rows (on_error: quarantine). */
  rejects?: { name: string; bytes: number };
  /** The run's probabilities-or-logits decision, kept across a resume. */
  scores?: { kind: 'probabilities' | 'logits'; decidedBy: 'job' | 'graph' | 'first batch' };
  /** The part's rows checked against the model's label output, and how many disagreed. */
  labelCheck?: { rows: number; disagreements: number };
  /** The profile of the part's rows (profile/runProfiler.ts), a file beside it; absent with `profile: false`. */
  profile?: { name: string; bytes: number };
}

export interface SourceEntry {
  type: 'source';
  file: number;
  name: string;
  bytes: number;
  /** Rows the job's `where` left out of the staged copy (only with a `where`). */
  filtered?: number;
}

export interface FileDoneEntry {
  type: 'file-done';
  file: number;
  /** The file row its last part ends at (its rows, for a run that reads the whole file). */
  rows: number;
}

export type JournalEntry = PartEntry | SourceEntry | FileDoneEntry;

interface Header {
  type: 'header';
  version: 1;
  fingerprint: string;
  /** The run's settings (see core/fingerprint.ts), to name what changed when a later run starts over. */
  settings?: Record<string, unknown>;
}

/** What a run is: its fingerprint, and the settings it hashes. */
export interface JournalIdentity {
  fingerprint: string;
  settings?: Record<string, unknown>;
}

export interface OpenedJournal {
  journal: Journal;
  resumed: boolean;
  /** A journal of another run was found and discarded: the settings it had (null when it recorded none). */
  discarded?: { settings: Record<string, unknown> | null };
}

export const JOURNAL_NAME = 'journal.jsonl';

export interface JournalOptions {
  /** The row file `file`'s first part starts at: 0, or a shard's first row of the file (shard/shardPlan.ts). */
  firstRow?(file: number): number;
}

export class Journal {
  private constructor(
    private readonly dir: string,
    readonly entries: JournalEntry[],
  ) {}

  /**
   * Opens the journal in `dir`. Returns the entries still valid for `fingerprint` (every file
   * they name exists with its recorded size), or starts a fresh journal.
   */
  static async open(dir: string, identity: string | JournalIdentity, options: JournalOptions = {}): Promise<OpenedJournal> {
    const { fingerprint, settings } = typeof identity === 'string' ? { fingerprint: identity, settings: undefined } : identity;
    const path = join(dir, JOURNAL_NAME);
    const found = await readJournal(path);
    if (found?.header.fingerprint === fingerprint) {
      const valid = await keepValid(dir, found.entries, options.firstRow ?? (() => 0));
      return { journal: new Journal(dir, valid), resumed: valid.length > 0 };
    }
    // No journal, or one of another run (inputs, model or job changed): start over, clean.
    await clearDirectory(dir);
    const header: Header = { type: 'header', version: 1, fingerprint, ...(settings ? { settings } : {}) };
    await guardWrite(path, async () => {
      const handle = await open(path, 'w');
      try {
        await handle.writeFile(JSON.stringify(header) + '\n');
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fsyncPath(dir);
    });
    const discarded = found && found.entries.length > 0 ? { discarded: { settings: found.header.settings ?? null } } : {};
    return { journal: new Journal(dir, []), resumed: false, ...discarded };
  }

  /** Appends an entry durably. */
  async append(entry: JournalEntry): Promise<void> {
    const path = join(this.dir, JOURNAL_NAME);
    await guardWrite(path, async () => {
      await appendFile(path, JSON.stringify(entry) + '\n');
      await fsyncPath(path);
    });
    this.entries.push(entry);
  }

  parts(file: number): PartEntry[] {
    return this.entries.filter((e): e is PartEntry => e.type === 'part' && e.file === file).sort((a, b) => a.seq - b.seq);
  }

  source(file: number): SourceEntry | undefined {
    return this.entries.find((e): e is SourceEntry => e.type === 'source' && e.file === file);
  }

  done(file: number): FileDoneEntry | undefined {
    return this.entries.find((e): e is FileDoneEntry => e.type === 'file-done' && e.file === file);
  }
}

async function clearDirectory(dir: string): Promise<void> {
  for (const name of await readdir(dir)) await rm(join(dir, name), { recursive: true, force: true });
}

/** The journal's header and entries; null when there is none, or no valid version-1 header. */
async function readJournal(path: string): Promise<{ header: Header; entries: JournalEntry[] } | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return null;
  }
  const lines = text.split('\n');
  const entries: JournalEntry[] = [];
  let header: Header | null = null;
  for (const line of lines) {
    if (!line.trim()) continue;
    let parsed: Header | JournalEntry;
    try {
      parsed = JSON.parse(line) as Header | JournalEntry;
    } catch {
      break; // a torn last line: everything before it stands
    }
    if (parsed.type === 'header') header = parsed;
    else entries.push(parsed);
  }
  if (!header || header.version !== 1) return null;
  return { header, entries };
}

/** Keeps the entries whose files are intact; parts must also be contiguous from the file's first row. */
async function keepValid(dir: string, entries: JournalEntry[], firstRow: (file: number) => number): Promise<JournalEntry[]> {
  const valid: JournalEntry[] = [];
  const nextRow = new Map<number, number>();
  for (const entry of entries) {
    if (entry.type === 'file-done') {
      if ((nextRow.get(entry.file) ?? firstRow(entry.file)) === entry.rows) valid.push(entry);
      continue;
    }
    const size = await fileSize(join(dir, entry.name));
    if (size !== entry.bytes) continue;
    if (entry.type === 'part') {
      if ((nextRow.get(entry.file) ?? firstRow(entry.file)) !== entry.rowStart) continue;
      if (entry.rejects && (await fileSize(join(dir, entry.rejects.name))) !== entry.rejects.bytes) continue;
      if (entry.profile && (await fileSize(join(dir, entry.profile.name))) !== entry.profile.bytes) continue;
      nextRow.set(entry.file, entry.rowEnd);
    }
    valid.push(entry);
  }
  return valid;
}

async function fileSize(path: string): Promise<number | null> {
  try {
    return (await stat(path)).size;
  } catch {
    return null;
  }
}
