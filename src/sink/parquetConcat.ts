/**
 * Joins Parquet part files into one file without decoding them: the row groups (with any
 * page indexes) are copied byte for byte, one after the other, and one footer lists them all
 * with their offsets moved: the time of copying the bytes, where re-encoding through DuckDB
 * decodes and compresses every value again.
 *
 * A part is opened only while its footer is read and while its bytes are copied: the footers
 * stay in memory, so thousands of parts need two open files, not one per part.
 *
 * The file is written in order, front to back (magic, each part's bytes, footer), so the
 * sha256 of what is written is taken on the way and returned: the commit's manifest need not
 * read the file back to hash it.
 *
 * Only parts with byte-identical schemas are joined this way; `concatParquet` returns null
 * otherwise and the caller merges through DuckDB (which also widens types across parts).
 *
 * @example
 *   if ((await concatParquet(['part-0.parquet', 'part-1.parquet'], 'out.parquet')) === null) await mergeWithDuckDb(...);
 */
import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { decodeStruct, encodeStruct, field, T, type ThriftList, type ThriftStruct } from '../util/thriftCompact.js';

const MAGIC = new TextEncoder().encode('PAR1');
const COPY_CHUNK = 8 << 20;

/** FileMetaData, RowGroup, ColumnChunk and ColumnMetaData field ids (parquet.thrift). */
const FILE = { schema: 2, numRows: 3, rowGroups: 4 } as const;
const ROW_GROUP = { columns: 1, fileOffset: 5, ordinal: 7 } as const;
const CHUNK = { fileOffset: 2, metaData: 3, offsetIndexOffset: 4, columnIndexOffset: 6 } as const;
/** data_page_offset, index_page_offset, dictionary_page_offset, bloom_filter_offset. */
const META_OFFSETS = [9, 10, 11, 14];

interface Part {
  path: string;
  meta: ThriftStruct;
  /** Bytes between the leading magic and the footer: row groups and page indexes. */
  dataLength: number;
}

/** Joins the parts into `output`; returns the sha256 (hex) of the file written, or null when their schemas differ (nothing written). */
export async function concatParquet(inputs: readonly string[], output: string): Promise<string | null> {
  const parts: Part[] = [];
  for (const path of inputs) parts.push(await readPart(path));
  const schema = encodeStruct({ fields: [field(parts[0]!.meta, FILE.schema)!] });
  if (parts.some((p) => !sameBytes(encodeStruct({ fields: [field(p.meta, FILE.schema)!] }), schema))) return null;

  const out = await open(output, 'w');
  const writer = new HashedWriter(out);
  try {
    await writer.write(MAGIC);
    const rowGroups: ThriftStruct[] = [];
    let rows = 0n;
    for (const part of parts) {
      const delta = BigInt(writer.position - 4);
      await copyPart(part, writer);
      const groups = (field(part.meta, FILE.rowGroups)?.value as ThriftList | undefined)?.items ?? [];
      for (const group of groups as ThriftStruct[]) rowGroups.push(moveRowGroup(group, delta, rowGroups.length));
      rows += field(part.meta, FILE.numRows)!.value as bigint;
    }
    const meta: ThriftStruct = {
      fields: parts[0]!.meta.fields.map((f) => {
        if (f.id === FILE.numRows) return { ...f, value: rows };
        if (f.id === FILE.rowGroups) return { ...f, value: { elemType: T.STRUCT, items: rowGroups } };
        return f;
      }),
    };
    const footer = encodeStruct(meta);
    const tail = new Uint8Array(footer.length + 8);
    tail.set(footer, 0);
    new DataView(tail.buffer).setUint32(footer.length, footer.length, true);
    tail.set(MAGIC, footer.length + 4);
    await writer.write(tail);
    await out.sync();
  } finally {
    await out.close();
  }
  return writer.digest();
}

/** A part's row groups and page indexes (the bytes between its magic and its footer), written next to `out`. */
async function copyPart(part: Part, out: HashedWriter): Promise<void> {
  const handle = await open(part.path, 'r');
  try {
    await copyRange(handle, 4, part.dataLength, out);
  } finally {
    await handle.close();
  }
}

/** A part's footer, read with the file open only meanwhile. */
async function readPart(path: string): Promise<Part> {
  const handle = await open(path, 'r');
  try {
    const size = (await handle.stat()).size;
    const tail = Buffer.alloc(8);
    await handle.read(tail, 0, 8, size - 8);
    if (size < 12 || !sameBytes(tail.subarray(4), MAGIC)) throw new Error(`${path} is not a Parquet file`);
    const footerLength = tail.readUInt32LE(0);
    const footer = Buffer.alloc(footerLength);
    await handle.read(footer, 0, footerLength, size - 8 - footerLength);
    return { path, meta: decodeStruct(footer), dataLength: size - 8 - footerLength - 4 };
  } finally {
    await handle.close();
  }
}

/** A row group with every absolute file offset in it moved by `delta`, renumbered. */
function moveRowGroup(group: ThriftStruct, delta: bigint, ordinal: number): ThriftStruct {
  const fields = group.fields.map((f) => {
    if (f.id === ROW_GROUP.fileOffset) return { ...f, value: shift(f.value as bigint, delta) };
    if (f.id === ROW_GROUP.ordinal) return { ...f, value: ordinal };
    if (f.id === ROW_GROUP.columns) {
      const list = f.value as ThriftList;
      return { ...f, value: { ...list, items: (list.items as ThriftStruct[]).map((c) => moveChunk(c, delta)) } };
    }
    return f;
  });
  return { fields };
}

function moveChunk(chunk: ThriftStruct, delta: bigint): ThriftStruct {
  return {
    fields: chunk.fields.map((f) => {
      if (f.id === CHUNK.fileOffset || f.id === CHUNK.offsetIndexOffset || f.id === CHUNK.columnIndexOffset) return { ...f, value: shift(f.value as bigint, delta) };
      if (f.id === CHUNK.metaData) {
        const meta = f.value as ThriftStruct;
        return { ...f, value: { fields: meta.fields.map((m) => (META_OFFSETS.includes(m.id) && m.type === T.I64 ? { ...m, value: shift(m.value as bigint, delta) } : m)) } };
      }
      return f;
    }),
  };
}

/** An offset moved by `delta`; 0 means "not set" (a part's real offsets are past its magic). */
function shift(offset: bigint, delta: bigint): bigint {
  return offset > 0n ? offset + delta : offset;
}

/** Copies `length` bytes from `start` in `from` to the end of `to`, chunk after chunk in order. */
async function copyRange(from: FileHandle, start: number, length: number, to: HashedWriter): Promise<void> {
  const buffer = Buffer.alloc(Math.min(COPY_CHUNK, Math.max(1, length)));
  let done = 0;
  while (done < length) {
    const { bytesRead } = await from.read(buffer, 0, Math.min(buffer.length, length - done), start + done);
    if (bytesRead === 0) throw new Error('unexpected end of a Parquet part');
    await to.write(buffer.subarray(0, bytesRead));
    done += bytesRead;
  }
}

/**
 * The output file, written front to back with no gap: each write goes where the last ended, so
 * the sha256 of the bytes written is the sha256 of the file.
 */
class HashedWriter {
  position = 0;
  private readonly hash = createHash('sha256');

  constructor(private readonly out: FileHandle) {}

  async write(bytes: Uint8Array): Promise<void> {
    this.hash.update(bytes);
    for (let done = 0; done < bytes.length; ) {
      const { bytesWritten } = await this.out.write(bytes, done, bytes.length - done, this.position);
      if (bytesWritten === 0) throw new Error('a write to the joined Parquet file wrote nothing');
      done += bytesWritten;
      this.position += bytesWritten;
    }
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
