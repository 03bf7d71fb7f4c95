/**
 * A generic reader and writer for Thrift's compact protocol, enough to rewrite a Parquet
 * footer (FileMetaData) field by field: every struct is kept as its list of fields, so
 * re-encoding an unchanged value gives back the same bytes, fields we do not know included.
 *
 * @example
 *   const meta = decodeStruct(footerBytes);
 *   setI64(meta, 3, 1000n); // num_rows
 *   const bytes = encodeStruct(meta);
 */

/** Compact-protocol type codes. */
export const T = { TRUE: 1, FALSE: 2, BYTE: 3, I16: 4, I32: 5, I64: 6, DOUBLE: 7, BINARY: 8, LIST: 9, SET: 10, MAP: 11, STRUCT: 12 } as const;
export type T = (typeof T)[keyof typeof T];

export type Value = boolean | bigint | number | Uint8Array | ThriftList | ThriftMap | ThriftStruct;
export interface ThriftList {
  elemType: T;
  items: Value[];
}
export interface ThriftMap {
  keyType: T;
  valueType: T;
  entries: [Value, Value][];
}
export interface Field {
  id: number;
  type: T;
  value: Value;
}
export interface ThriftStruct {
  fields: Field[];
}

class Reader {
  pos = 0;
  constructor(private readonly bytes: Uint8Array) {}

  byte(): number {
    if (this.pos >= this.bytes.length) throw new Error('thrift: truncated');
    return this.bytes[this.pos++]!;
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 70n) throw new Error('thrift: varint too long');
    }
  }

  zigzag(): bigint {
    const v = this.varint();
    return (v >> 1n) ^ -(v & 1n);
  }

  value(type: T): Value {
    switch (type) {
      case T.TRUE:
      case T.FALSE:
        // Inside a list or map a boolean is a byte of its own (1 true, 2 false).
        return this.byte() === T.TRUE;
      case T.BYTE:
        return (this.byte() << 24) >> 24;
      case T.I16:
      case T.I32:
        return Number(this.zigzag());
      case T.I64:
        return this.zigzag();
      case T.DOUBLE: {
        const view = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.pos, 8);
        this.pos += 8;
        return view.getFloat64(0, true);
      }
      case T.BINARY: {
        const length = Number(this.varint());
        const out = this.bytes.slice(this.pos, this.pos + length);
        if (out.length !== length) throw new Error('thrift: truncated binary');
        this.pos += length;
        return out;
      }
      case T.LIST:
      case T.SET: {
        const header = this.byte();
        const elemType = (header & 0x0f) as T;
        const size = header >> 4 === 15 ? Number(this.varint()) : header >> 4;
        const items: Value[] = [];
        for (let i = 0; i < size; i++) items.push(this.value(elemType));
        return { elemType, items };
      }
      case T.MAP: {
        const size = Number(this.varint());
        if (size === 0) return { keyType: T.BYTE, valueType: T.BYTE, entries: [] };
        const types = this.byte();
        const keyType = (types >> 4) as T;
        const valueType = (types & 0x0f) as T;
        const entries: [Value, Value][] = [];
        for (let i = 0; i < size; i++) entries.push([this.value(keyType), this.value(valueType)]);
        return { keyType, valueType, entries };
      }
      case T.STRUCT:
        return this.struct();
      default:
        throw new Error(`thrift: unknown type ${String(type)}`);
    }
  }

  struct(): ThriftStruct {
    const fields: Field[] = [];
    let last = 0;
    for (;;) {
      const header = this.byte();
      if (header === 0) return { fields };
      const type = (header & 0x0f) as T;
      const delta = header >> 4;
      const id = delta === 0 ? Number(this.zigzag()) : last + delta;
      last = id;
      const value = type === T.TRUE || type === T.FALSE ? type === T.TRUE : this.value(type);
      fields.push({ id, type, value });
    }
  }
}

class Writer {
  private chunks: number[] = [];

  byte(b: number): void {
    this.chunks.push(b & 0xff);
  }

  varint(v: bigint): void {
    let x = v;
    do {
      let b = Number(x & 0x7fn);
      x >>= 7n;
      if (x > 0n) b |= 0x80;
      this.byte(b);
    } while (x > 0n);
  }

  zigzag(v: bigint): void {
    this.varint(v >= 0n ? v << 1n : ((-v) << 1n) - 1n);
  }

  value(type: T, value: Value): void {
    switch (type) {
      case T.TRUE:
      case T.FALSE:
        this.byte(value ? T.TRUE : T.FALSE);
        return;
      case T.BYTE:
        this.byte(value as number);
        return;
      case T.I16:
      case T.I32:
        this.zigzag(BigInt(value as number));
        return;
      case T.I64:
        this.zigzag(value as bigint);
        return;
      case T.DOUBLE: {
        const buf = new Uint8Array(8);
        new DataView(buf.buffer).setFloat64(0, value as number, true);
        for (const b of buf) this.byte(b);
        return;
      }
      case T.BINARY: {
        const bytes = value as Uint8Array;
        this.varint(BigInt(bytes.length));
        for (const b of bytes) this.byte(b);
        return;
      }
      case T.LIST:
      case T.SET: {
        const list = value as ThriftList;
        const size = list.items.length;
        if (size < 15) this.byte((size << 4) | list.elemType);
        else {
          this.byte(0xf0 | list.elemType);
          this.varint(BigInt(size));
        }
        for (const item of list.items) this.value(list.elemType, item);
        return;
      }
      case T.MAP: {
        const map = value as ThriftMap;
        this.varint(BigInt(map.entries.length));
        if (map.entries.length === 0) return;
        this.byte((map.keyType << 4) | map.valueType);
        for (const [k, v] of map.entries) {
          this.value(map.keyType, k);
          this.value(map.valueType, v);
        }
        return;
      }
      case T.STRUCT:
        this.struct(value as ThriftStruct);
        return;
    }
  }

  struct(s: ThriftStruct): void {
    let last = 0;
    for (const f of s.fields) {
      const type = f.type === T.TRUE || f.type === T.FALSE ? (f.value ? T.TRUE : T.FALSE) : f.type;
      const delta = f.id - last;
      if (delta > 0 && delta <= 15) this.byte((delta << 4) | type);
      else {
        this.byte(type);
        this.zigzag(BigInt(f.id));
      }
      last = f.id;
      if (type !== T.TRUE && type !== T.FALSE) this.value(type, f.value);
    }
    this.byte(0);
  }

  bytes(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}

export function decodeStruct(bytes: Uint8Array): ThriftStruct {
  return new Reader(bytes).struct();
}

export function encodeStruct(s: ThriftStruct): Uint8Array {
  const w = new Writer();
  w.struct(s);
  return w.bytes();
}

export function field(s: ThriftStruct, id: number): Field | undefined {
  return s.fields.find((f) => f.id === id);
}
