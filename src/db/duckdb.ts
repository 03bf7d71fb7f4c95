/**
 * The only module that imports `@duckdb/node-api`. Everything else talks to DuckDB through
 * `Db`: SQL with bound parameters, streamed column chunks, and bulk appends of typed arrays.
 *
 * Column data is read through the typed view of each vector's memory (`vector.items`),
 * which is not in the package's public types; the version is pinned in package.json and
 * `test/db/duckdb.test.ts` checks the shape we rely on.
 *
 * @example
 *   const db = await Db.open();
 *   for await (const chunk of db.stream('SELECT a::FLOAT AS a FROM read_parquet($1)', [path])) { ... }
 */
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import duckdb from '@duckdb/node-api';
import { BatchinferError } from '../errors.js';
import { defaultMemoryLimit, formatBytes } from '../util/memorySize.js';
import type { DuckDBAppender, DuckDBConnection, DuckDBInstance, DuckDBType, DuckDBValue, DuckDBVector } from '@duckdb/node-api';

// The default import is the package's CommonJS exports. The CLI runs from a bundle
// (scripts/bundle.mjs) holding this package's files: loading them one by one (and scanning
// them for named exports when imported from ESM) was much of every run's start-up.
const { DuckDBDataChunk, DOUBLE, FLOAT, INTEGER, BIGINT, BOOLEAN, VARCHAR, listValue, structValue, version: duckdbVersion } = duckdb;

/** A value bound to a `$n` parameter. Arrays bind as DuckDB lists, `{ struct }` as a STRUCT. */
export type SqlParam = string | number | bigint | boolean | null | readonly (string | number | null)[] | { struct: Record<string, string> };

export type NumericArray = Float32Array | Float64Array | Int32Array | BigInt64Array;

/** One column of a streamed chunk. `items` is a view of DuckDB's memory: copy before the next fetch. */
export interface ColumnVector {
  /** DuckDB type name, e.g. `FLOAT`, `VARCHAR`. */
  readonly typeName: string;
  /** Typed view for fixed-width numeric types (FLOAT, DOUBLE, INTEGER, BIGINT, ...). */
  readonly items: NumericArray | Uint8Array | null;
  /** True when at least one row of the chunk is NULL. */
  readonly hasNulls: boolean;
  /** True when at least one row of the chunk is not NULL. */
  readonly hasValues: boolean;
  isValid(row: number): boolean;
  /** Row value as JS (strings for VARCHAR, numbers, bigint, boolean, null). */
  value(row: number): unknown;
}

export interface ColumnChunk {
  readonly rowCount: number;
  readonly columns: readonly ColumnVector[];
}

/** Column types the appender writes from typed arrays. */
export type AppendType = 'FLOAT' | 'DOUBLE' | 'INTEGER' | 'BIGINT' | 'BOOLEAN' | 'VARCHAR';

export interface AppendColumn {
  type: AppendType;
  /** Strings for VARCHAR; a typed array of the type's width otherwise. */
  data: Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | string[];
}

const APPEND_TYPES: Record<AppendType, DuckDBType> = { FLOAT, DOUBLE, INTEGER, BIGINT, BOOLEAN, VARCHAR };
const VECTOR_SIZE = 2048;

export interface DbOptions {
  /** DuckDB worker threads; defaults to DuckDB's own choice (all cores). */
  threads?: number;
  /** Bytes DuckDB may use before it spills (default: half the machine's memory). */
  memoryLimit?: number;
  /** Session time zone: naive TIMESTAMP values compare with instants in this zone. */
  timezone?: string;
}

/**
 * The DuckDB names of the Parquet keys a run registered (db/parquetKeys.ts): `input` reads
 * encrypted input files, `output` encrypts everything the run writes as Parquet.
 */
export interface ParquetKeyNames {
  input?: string;
  output?: string;
}

/** Our own key names, the only ones `addParquetKey` registers (a prefix and a job's key name). */
const PARQUET_KEY_NAME = /^[a-z][a-z0-9_]{0,80}$/;
/** Key bytes DuckDB can be given as themselves: none needs quoting in an SQL string. */
const PLAIN_KEY_BYTES = /^[A-Za-z0-9+/=_-]+$/;

export class Db {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly conn: DuckDBConnection,
    private readonly owner: boolean,
    /** Bytes DuckDB may use (`memory_limit`). */
    readonly memoryLimit: number,
    /** Keys registered in this database; shared by its forks (keys are the database's). */
    readonly parquetKeys: ParquetKeyNames = {},
  ) {}

  /**
   * Registers a Parquet encryption key (16, 24 or 32 bytes) under `name`.
   *
   * `PRAGMA add_parquet_key` takes no bound parameters, so this is the one statement into
   * which a value is rendered. Only text that cannot leave the string literal reaches it:
   * `name` is one of our own names (PARQUET_KEY_NAME); the key is re-encoded here from its
   * bytes, never passed on as the user wrote it. DuckDB takes a value of 16, 24 or 32
   * characters as the key's own bytes and decodes any other as base64: a 32-byte key is
   * given as its base64 (44 characters of [A-Za-z0-9+/=]); a 16 or 24-byte key's base64
   * (24 or 32 characters) would be taken as the key itself, so such a key is given as its
   * bytes, which must then all be letters, digits or `+/=_-` (KEY_INVALID otherwise: DuckDB
   * has no other way to receive it). The statement is never logged or put in a message.
   */
  async addParquetKey(name: string, key: Uint8Array): Promise<void> {
    if (!PARQUET_KEY_NAME.test(name)) throw new Error(`not a Parquet key name of ours: ${name}`);
    const bytes = Buffer.from(key);
    let text: string;
    if (bytes.length === 32) text = bytes.toString('base64');
    else if ((bytes.length === 16 || bytes.length === 24) && PLAIN_KEY_BYTES.test(bytes.toString('latin1'))) text = bytes.toString('latin1');
    else throw new BatchinferError('KEY_INVALID', `a ${bytes.length}-byte key can reach DuckDB only as text of letters, digits and +/=_- (it takes a 16 or 24-byte key as text): use a 32-byte key`, { expected: 'a 32-byte key, or a 16/24-byte key of letters and digits', actual: `${bytes.length} bytes` });
    if (!/^[A-Za-z0-9+/=_-]+$/.test(text)) throw new Error('a rendered key must be base64 or plain letters and digits');
    // Rendered on purpose (see above); errors from DuckDB are replaced: they could quote the statement.
    await this.conn.run(`PRAGMA add_parquet_key('${name}', '${text}')`).catch(() => {
      throw new BatchinferError('KEY_INVALID', `DuckDB refused the key registered as ${name}`, { expected: 'a 16, 24 or 32-byte AES key' });
    });
  }

  /**
   * Spill to `dir` from now on (a run's staging directory, beside the output, sized for the
   * data). DuckDB cannot move a directory it has already spilled to: it then stays where it is.
   */
  async spillTo(dir: string): Promise<void> {
    try {
      await this.conn.run('SET temp_directory = $1', bindParams([dir]));
    } catch (err) {
      if (!/Cannot switch temporary directory/i.test((err as Error).message)) throw err;
    }
  }

  static async open(options: DbOptions = {}): Promise<Db> {
    const config: Record<string, string> = {};
    if (options.threads !== undefined) config['threads'] = String(options.threads);
    // Spills go to a directory of this process's own (DuckDB creates it when it first spills and
    // removes it on close), never `.tmp` in the working directory; a run moves it to its
    // staging directory (`spillTo`).
    config['temp_directory'] = join(tmpdir(), `batchinfer-spill-${process.pid}-${randomUUID().slice(0, 8)}`);
    // Rows must come back in file order: predictions are matched to rows by position.
    config['preserve_insertion_order'] = 'true';
    // Each file is read once (features) plus once per part for passthrough: caching file
    // blocks in memory buys nothing and would grow memory with the input size.
    config['enable_external_file_cache'] = 'false';
    const memoryLimit = options.memoryLimit ?? defaultMemoryLimit();
    config['memory_limit'] = `${Math.floor(memoryLimit / 1024)}KiB`;
    const instance = await duckdb.DuckDBInstance.create(':memory:', config);
    const conn = await instance.connect();
    const db = new Db(instance, conn, true, memoryLimit);
    if (options.timezone) await db.exec('SET TimeZone = $1', [options.timezone]);
    return db;
  }

  /** DuckDB's threads: a setting of the database, so of every connection to it. */
  async threads(): Promise<number> {
    return Number(await this.exec("SELECT current_setting('threads')"));
  }

  async setThreads(threads: number): Promise<void> {
    await this.exec('SET threads = $1', [threads]);
  }

  /** Runs `work` with DuckDB at `threads` threads, then puts back the count it had. */
  async withThreads<T>(threads: number, work: () => Promise<T>): Promise<T> {
    const before = await this.threads();
    await this.setThreads(threads);
    try {
      return await work();
    } finally {
      await this.setThreads(before);
    }
  }

  /** The DuckDB library version, e.g. `v1.5.6` (for summaries: callers need not import this module). */
  get libraryVersion(): string {
    return duckdbLibraryVersion();
  }

  /**
   * A second connection to the same database. A connection holds one streaming result at a
   * time, so the reader streams on one connection while the writer appends on another.
   */
  async fork(): Promise<Db> {
    return new Db(this.instance, await this.instance.connect(), false, this.memoryLimit, this.parquetKeys);
  }

  /** Runs a statement; returns the first column of the first row when there is one (COPY returns its row count). */
  async exec(sql: string, params: readonly SqlParam[] = []): Promise<unknown> {
    const reader = await this.conn.runAndReadAll(sql, bindParams(params)).catch((err) => this.fail(err));
    const rows = reader.getRowsJS();
    return rows[0]?.[0];
  }

  /** Runs a query and returns every row as a plain object (bigints for BIGINT). */
  async query<T = Record<string, unknown>>(sql: string, params: readonly SqlParam[] = []): Promise<T[]> {
    const reader = await this.conn.runAndReadAll(sql, bindParams(params)).catch((err) => this.fail(err));
    return reader.getRowObjectsJS() as T[];
  }

  /** Streams a query chunk by chunk (at most 2048 rows each) without materialising it. */
  async *stream(sql: string, params: readonly SqlParam[] = []): AsyncGenerator<ColumnChunk> {
    const result = await this.conn.stream(sql, bindParams(params)).catch((err) => this.fail(err));
    const typeNames = result.columnTypes().map((t) => t.toString());
    // One chunk of read-ahead: DuckDB produces chunk k+1 while the caller works on chunk k.
    const fetch = () => result.fetchChunk().catch((err) => this.fail(err));
    let next = fetch();
    for (;;) {
      const chunk = await next;
      if (!chunk || chunk.rowCount === 0) return;
      next = fetch();
      const columns: ColumnVector[] = [];
      for (let c = 0; c < chunk.columnCount; c++) {
        columns.push(wrapVector(chunk.getColumnVector(c), typeNames[c] ?? 'UNKNOWN', chunk.rowCount));
      }
      try {
        yield { rowCount: chunk.rowCount, columns };
      } catch (err) {
        await next.catch(() => undefined);
        throw err;
      }
    }
  }

  /**
   * An appender on an existing table: typed arrays go in one DuckDB data chunk at a time
   * (memcpy into each vector). Keep it open across many appends: each flush costs a commit.
   */
  async appender(table: string): Promise<TableAppender> {
    return new TableAppender(await this.conn.createAppender(table));
  }

  /**
   * DuckDB at its memory limit is a resource the user can raise, not bad data: RESOURCE_LIMIT
   * naming the limit and the setting. Other errors pass as they are.
   */
  private fail(err: unknown): never {
    const text = err instanceof Error ? err.message : String(err);
    if (/^Out of Memory Error/i.test(text)) {
      throw new BatchinferError('RESOURCE_LIMIT', `DuckDB reached its memory limit of ${formatBytes(this.memoryLimit)}: raise memory_limit (job key) or --memory-limit, e.g. to ${formatBytes(this.memoryLimit * 2)}`, {
        expected: `at most ${formatBytes(this.memoryLimit)} (memory_limit)`,
        actual: text.split('\n')[0]!.replace(/^Out of Memory Error: /i, ''),
        cause: err,
      });
    }
    throw err;
  }

  close(): void {
    this.conn.closeSync();
    if (this.owner) this.instance.closeSync();
  }
}

export class TableAppender {
  private closed = false;

  constructor(private readonly appender: DuckDBAppender) {}

  append(columns: readonly AppendColumn[], rowCount: number): void {
    const types = columns.map((c) => APPEND_TYPES[c.type]);
    for (let offset = 0; offset < rowCount; offset += VECTOR_SIZE) {
      const n = Math.min(VECTOR_SIZE, rowCount - offset);
      const chunk = DuckDBDataChunk.create(types, n);
      columns.forEach((col, c) => {
        const vector = chunk.getColumnVector(c) as unknown as RawVector;
        if (Array.isArray(col.data)) {
          // Strings go through the public API, one item at a time (no fixed-width memory).
          for (let i = 0; i < n; i++) vector.setItem(i, col.data[offset + i]!);
          vector.flush();
          return;
        }
        const slice = col.data.subarray(offset, offset + n);
        if (col.type === 'BOOLEAN') {
          const view = vector.dataView;
          if (!view) throw new Error('DuckDB boolean vector has no dataView');
          for (let i = 0; i < n; i++) view.setUint8(i, slice[i] ? 1 : 0);
        } else {
          if (!vector.items) throw new Error(`DuckDB ${col.type} vector has no items view`);
          (vector.items as NumericArray).set(slice as never);
        }
        vector.flush();
      });
      this.appender.appendDataChunk(chunk);
    }
  }

  /** Flushes the appended rows into the table and closes the appender. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.appender.flushSync();
    } finally {
      this.appender.closeSync();
    }
  }
}

/** The DuckDB library version, e.g. `v1.5.6`. */
export function duckdbLibraryVersion(): string {
  return duckdbVersion();
}

/** The members of node-api vectors we use beyond the public types (pinned version). */
interface RawVector {
  items?: NumericArray;
  dataView?: DataView;
  validity: { data: BigUint64Array | null; itemValid(i: number): boolean };
  getItem(i: number): unknown;
  setItem(i: number, value: string): void;
  flush(): void;
}

function wrapVector(vector: DuckDBVector, typeName: string, rowCount: number): ColumnVector {
  const raw = vector as unknown as RawVector;
  const validity = raw.validity;
  const hasNulls = anyInvalid(validity.data, rowCount);
  const hasValues = anyValid(validity.data, rowCount);
  let items: NumericArray | Uint8Array | null = raw.items && ArrayBuffer.isView(raw.items) ? raw.items : null;
  if (!items && raw.dataView && typeName === 'BOOLEAN') {
    const view = raw.dataView;
    items = new Uint8Array(view.buffer, view.byteOffset, rowCount);
  }
  return {
    typeName,
    items,
    hasNulls,
    hasValues,
    isValid: (row) => !hasNulls || validity.itemValid(row),
    value: (row) => toJs(raw.getItem(row)),
  };
}

/** Scans the validity mask 64 rows at a time (per-row BigInt tests cost more than the copy). */
function anyInvalid(words: BigUint64Array | null, rowCount: number): boolean {
  if (!words) return false;
  const full = Math.floor(rowCount / 64);
  for (let w = 0; w < full; w++) if (words[w] !== 0xffffffffffffffffn) return true;
  const rest = rowCount % 64;
  if (rest === 0) return false;
  const mask = (1n << BigInt(rest)) - 1n;
  return (words[full]! & mask) !== mask;
}

function anyValid(words: BigUint64Array | null, rowCount: number): boolean {
  if (!words) return rowCount > 0;
  const full = Math.floor(rowCount / 64);
  for (let w = 0; w < full; w++) if (words[w] !== 0n) return true;
  const rest = rowCount % 64;
  return rest > 0 && (words[full]! & ((1n << BigInt(rest)) - 1n)) !== 0n;
}

function toJs(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  const v = value as { toString(): string };
  return v.toString();
}

function bindParams(params: readonly SqlParam[]): DuckDBValue[] {
  return params.map((p) => {
    if (Array.isArray(p)) return listValue(p as (string | number | null)[]);
    if (p !== null && typeof p === 'object' && 'struct' in p) return structValue(p.struct);
    return p as DuckDBValue;
  });
}
