/**
 * Finds why a CSV file cannot be read, with its line number. DuckDB's sniffer only says it
 * could not detect the dialect when a line in its sample is ragged or a quote never closes,
 * and its read errors span many lines (the whole rest of the file after an open quote). This
 * scans the file as RFC 4180 (comma, double quotes, `""` inside quotes) and reports the first
 * structural problem. Only called after DuckDB failed, so its cost is on the error path.
 *
 * @example
 *   await findCsvProblem('x.csv'); // { message: 'line 102 has 6 fields, the header has 5', ... }
 */
import { createReadStream } from 'node:fs';
import type { Readable, Transform } from 'node:stream';
import * as zlib from 'node:zlib';
import { delimiterName, kindOf, type Delimiter } from './fileKind.js';

export interface CsvProblem {
  /** One line, starting with `line N` where there is a line to name. */
  message: string;
  expected?: string;
  actual?: string;
}

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

/** What a file starting with these bytes is, when it is plainly not CSV text. */
export function binaryKind(head: Uint8Array): string | null {
  if (head.length >= 4 && head[0] === 0x50 && head[1] === 0x41 && head[2] === 0x52 && head[3] === 0x31) return 'a Parquet file (PAR1 magic bytes)';
  const nul = head.indexOf(0);
  if (nul >= 0) return `binary data (a NUL byte at offset ${nul})`;
  return null;
}

/**
 * The first structural problem of a CSV file read with `delimiter` (default: the name's, a tab
 * for `.tsv`; a `.gz` is decompressed, and a `.zst` too where Node has zstd), or null when it
 * scans clean (DuckDB's complaint is then about something else, e.g. the encoding) or cannot
 * be scanned here.
 */
export async function findCsvProblem(path: string, delimiter?: Delimiter): Promise<CsvProblem | null> {
  const kind = kindOf(path);
  const separator = delimiter ?? kind?.delimiter ?? ',';
  const what = `${delimiterName(separator)}-separated text with a header line`;
  const decompress = kind?.compression === 'gzip' ? zlib.createGunzip() : kind?.compression === 'zstd' ? zstdDecompress() : null;
  if (decompress === undefined) return null;
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  const bytes: Readable = decompress ? file.pipe(decompress) : file;
  file.on('error', (err) => bytes.destroy(err));
  try {
    let first = true;
    const scanner = new CsvScanner(separator);
    for await (const data of bytes) {
      let chunk = data as Uint8Array;
      if (first) {
        first = false;
        const found = binaryKind(chunk.subarray(0, 65536));
        if (found) return { message: `holds ${found}, not CSV text`, expected: what };
        // UTF-8 byte order mark.
        if (chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) chunk = chunk.subarray(3);
      }
      const problem = scanner.feed(chunk);
      if (problem) return problem;
    }
    return scanner.end();
  } finally {
    bytes.destroy();
    file.destroy();
  }
}

/** Node's zstd decompressor (Node 22.15 and later), or undefined where there is none. */
function zstdDecompress(): Transform | undefined {
  const create = (zlib as unknown as { createZstdDecompress?: () => Transform }).createZstdDecompress;
  return create?.();
}

type State = 'fieldStart' | 'unquoted' | 'quoted' | 'quoteInQuoted';

/** An RFC 4180 record scanner over byte chunks; blank lines are skipped as DuckDB does. */
class CsvScanner {
  private readonly delimiter: number;

  constructor(private readonly separator: Delimiter) {
    this.delimiter = separator.charCodeAt(0);
  }

  private state: State = 'fieldStart';
  private line = 1;
  private recordLine = 1;
  private quoteLine = 1;
  private fields = 0;
  /** Bytes in the current record (a blank line has none). */
  private recordBytes = 0;
  private headerFields = -1;
  private lastWasCr = false;

  feed(chunk: Uint8Array): CsvProblem | null {
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      // CR LF is one line end; a lone CR ends a line too.
      if (b === LF && this.lastWasCr) {
        this.lastWasCr = false;
        continue;
      }
      this.lastWasCr = b === CR;
      const newline = b === LF || b === CR;
      switch (this.state) {
        case 'quoted':
          if (b === QUOTE) this.state = 'quoteInQuoted';
          else if (newline) this.line++;
          continue;
        case 'quoteInQuoted':
          if (b === QUOTE) {
            this.state = 'quoted';
            continue;
          }
          if (b !== this.delimiter && !newline) {
            return { message: `line ${this.line}: a character after a closing quote (a quote inside a quoted value is written "")`, expected: `a ${delimiterName(this.separator)} or a line end after a closing quote`, actual: JSON.stringify(String.fromCharCode(b)) };
          }
          break;
        case 'fieldStart':
          if (b === QUOTE) {
            this.state = 'quoted';
            this.quoteLine = this.line;
            this.recordBytes++;
            continue;
          }
          break;
        case 'unquoted':
          break;
      }
      if (b === this.delimiter) {
        this.fields++;
        this.recordBytes++;
        this.state = 'fieldStart';
      } else if (newline) {
        const problem = this.endRecord();
        if (problem) return problem;
        this.line++;
        this.recordLine = this.line;
      } else {
        this.recordBytes++;
        this.state = 'unquoted';
      }
    }
    return null;
  }

  end(): CsvProblem | null {
    if (this.state === 'quoted') {
      return { message: `line ${this.quoteLine}: a quoted value is never closed (unterminated quote)`, expected: 'a closing quote', actual: 'the end of the file' };
    }
    const problem = this.endRecord();
    if (problem) return problem;
    if (this.headerFields < 0) return { message: 'holds no header line', expected: 'a header line naming the columns', actual: 'no text' };
    return null;
  }

  private endRecord(): CsvProblem | null {
    const blank = this.recordBytes === 0;
    const count = this.fields + 1;
    this.fields = 0;
    this.recordBytes = 0;
    this.state = 'fieldStart';
    if (blank) return null;
    if (this.headerFields < 0) {
      this.headerFields = count;
      return null;
    }
    if (count !== this.headerFields) {
      return {
        message: `line ${this.recordLine} has ${count} field${count === 1 ? '' : 's'}, the header has ${this.headerFields}`,
        expected: `${this.headerFields} fields`,
        actual: `${count} fields`,
      };
    }
    return null;
  }
}
