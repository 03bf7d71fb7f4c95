/**
 * An independent reference for the fixture models: a plain-JS interpreter (float64) for
 * the handful of ONNX ops the fixtures use, driven by the JSON sidecars in
 * fixtures/models. It shares no code with scripts/fixtures or src/, so agreement with
 * onnxruntime means the ONNX files encode what the sidecars say.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';

export const FIXTURES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures');

/** A dense tensor in row-major order. */
export interface RefTensor {
  shape: number[];
  data: number[];
}

export type FeatureSource =
  | { kind: 'columns'; columns: string[]; fillNull: number }
  | { kind: 'vocab'; column: string; vocab: string[]; unknown: number };

/** The parts of a sidecar (`fixtures/models/NAME.json`) the reference reads. */
export interface Sidecar {
  name: string;
  inputs: { name: string; elemType: 'float32' | 'int64'; shape: (number | string)[] }[];
  outputs: { name: string; elemType: string; shape: (number | string)[] }[];
  features: Record<string, FeatureSource>;
  nodes: { op: string; inputs: string[]; outputs: string[]; attrs?: Record<string, number> }[];
  params: Record<string, RefTensor>;
  metadata: Record<string, string>;
}

/** Rows as arrays ([N][k]) or a flat [N] array (for int64 [N] inputs like `merchant`). */
export type RefFeed = number[][] | number[];

/** One row of fixtures/data/transactions.parquet. */
export interface TransactionRow {
  txn_id: string;
  ts: Date;
  merchant_category: string;
  amount: number | null;
  f0: number;
  f1: number;
  f2: number;
  'risk score': number;
  n_items: number;
}

/** Reads `fixtures/models/NAME.json`. */
export function loadSidecar(name: string): Sidecar {
  return JSON.parse(readFileSync(join(FIXTURES_DIR, 'models', `${name}.json`), 'utf8')) as Sidecar;
}

/**
 * The reference model for a fixture: `forward` returns each graph output as rows.
 *
 * @example
 *   const { forward } = loadReference('logreg');
 *   forward({ x: [[10, 0.1, -0.2, 0.5]] }).probability; // [[0.52...]]
 */
export function loadReference(name: string): { sidecar: Sidecar; forward(feeds: Record<string, RefFeed>): Record<string, number[][]> } {
  const sidecar = loadSidecar(name);
  const forward = (feeds: Record<string, RefFeed>): Record<string, number[][]> => {
    const values = new Map<string, RefTensor>(Object.entries(sidecar.params));
    for (const input of sidecar.inputs) {
      const feed = feeds[input.name];
      if (feed === undefined) throw new Error(`reference ${name}: missing feed ${input.name}`);
      values.set(input.name, toTensor(feed));
    }
    for (const node of sidecar.nodes) {
      const args = node.inputs.map((n) => {
        const value = values.get(n);
        if (!value) throw new Error(`reference ${name}: ${node.op} reads undefined value ${n}`);
        return value;
      });
      const out = runOp(node.op, args, node.attrs ?? {});
      values.set(node.outputs[0] ?? '', out);
    }
    return Object.fromEntries(sidecar.outputs.map((o) => [o.name, toRows(values.get(o.name))]));
  };
  return { sidecar, forward };
}

function toTensor(feed: RefFeed): RefTensor {
  if (feed.length > 0 && Array.isArray(feed[0])) {
    const rows = feed as number[][];
    return { shape: [rows.length, rows[0]?.length ?? 0], data: rows.flat() };
  }
  return { shape: [feed.length], data: [...(feed as number[])] };
}

function toRows(t: RefTensor | undefined): number[][] {
  if (!t) throw new Error('reference: output was never computed');
  const width = t.shape.length === 1 ? 1 : (t.shape[1] ?? 1);
  const rows: number[][] = [];
  for (let i = 0; i < t.data.length; i += width) rows.push(t.data.slice(i, i + width));
  return rows;
}

/** ONNX semantics for the ops the fixtures use (rank <= 2, float64 arithmetic). */
function runOp(op: string, args: RefTensor[], attrs: Record<string, number>): RefTensor {
  const [a, b, c] = args;
  if (!a) throw new Error(`reference: ${op} has no inputs`);
  switch (op) {
    case 'MatMul':
      return matmul(a, need(b, op));
    case 'Gemm': {
      if ((attrs.transA ?? 0) !== 0 || (attrs.transB ?? 0) !== 0) throw new Error('reference: Gemm transA/transB not supported');
      const product = scale(matmul(a, need(b, op)), attrs.alpha ?? 1);
      return c ? broadcast(product, scale(c, attrs.beta ?? 1), (x, y) => x + y) : product;
    }
    case 'Add':
      return broadcast(a, need(b, op), (x, y) => x + y);
    case 'Relu':
      return { shape: a.shape, data: a.data.map((x) => Math.max(0, x)) };
    case 'Sigmoid':
      return { shape: a.shape, data: a.data.map((x) => 1 / (1 + Math.exp(-x))) };
    case 'Softmax':
      return softmaxLastAxis(a, attrs.axis ?? -1);
    case 'Gather':
      return gatherRows(a, need(b, op), attrs.axis ?? 0);
    case 'Concat':
      return concat2d(args, attrs.axis ?? 0);
    default:
      throw new Error(`reference: op ${op} not implemented`);
  }
}

function need(t: RefTensor | undefined, op: string): RefTensor {
  if (!t) throw new Error(`reference: ${op} is missing an input`);
  return t;
}

function dims2(t: RefTensor): [number, number] {
  if (t.shape.length !== 2) throw new Error(`reference: expected a 2-D tensor, got shape ${JSON.stringify(t.shape)}`);
  return [t.shape[0] ?? 0, t.shape[1] ?? 0];
}

function matmul(a: RefTensor, b: RefTensor): RefTensor {
  const [n, k] = dims2(a);
  const [k2, m] = dims2(b);
  if (k !== k2) throw new Error(`reference: MatMul inner dims ${k} != ${k2}`);
  const data = new Array<number>(n * m).fill(0);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < m; j++) {
      let sum = 0;
      for (let p = 0; p < k; p++) sum += (a.data[i * k + p] ?? 0) * (b.data[p * m + j] ?? 0);
      data[i * m + j] = sum;
    }
  return { shape: [n, m], data };
}

function scale(t: RefTensor, factor: number): RefTensor {
  return factor === 1 ? t : { shape: t.shape, data: t.data.map((x) => x * factor) };
}

/** Numpy-style broadcasting for rank <= 2 (what Add and Gemm's C need). */
function broadcast(a: RefTensor, b: RefTensor, f: (x: number, y: number) => number): RefTensor {
  const rank = Math.max(a.shape.length, b.shape.length);
  const pad = (s: number[]) => [...new Array<number>(rank - s.length).fill(1), ...s];
  const sa = pad(a.shape);
  const sb = pad(b.shape);
  const shape = sa.map((d, i) => {
    const e = sb[i] ?? 1;
    if (d !== e && d !== 1 && e !== 1) throw new Error(`reference: cannot broadcast ${JSON.stringify(a.shape)} with ${JSON.stringify(b.shape)}`);
    return Math.max(d, e);
  });
  const rows = rank === 2 ? (shape[0] ?? 1) : 1;
  const cols = shape[rank - 1] ?? 1;
  const at = (t: RefTensor, s: number[], i: number, j: number) => {
    const r = rank === 2 && s[0] !== 1 ? i : 0;
    const c = s[rank - 1] !== 1 ? j : 0;
    return t.data[r * (s[rank - 1] ?? 1) + c] ?? NaN;
  };
  const data: number[] = [];
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) data.push(f(at(a, sa, i, j), at(b, sb, i, j)));
  return { shape, data };
}

function softmaxLastAxis(t: RefTensor, axis: number): RefTensor {
  const rank = t.shape.length;
  if (axis !== -1 && axis !== rank - 1) throw new Error(`reference: Softmax only on the last axis, got ${axis}`);
  const width = t.shape[rank - 1] ?? 1;
  const data: number[] = [];
  for (let i = 0; i < t.data.length; i += width) {
    const row = t.data.slice(i, i + width);
    const max = Math.max(...row);
    const exps = row.map((x) => Math.exp(x - max));
    const sum = exps.reduce((s, x) => s + x, 0);
    data.push(...exps.map((x) => x / sum));
  }
  return { shape: t.shape, data };
}

/** Gather on axis 0 of a [V, D] table with [N] indices -> [N, D]; negative indices count from the end. */
function gatherRows(table: RefTensor, indices: RefTensor, axis: number): RefTensor {
  if (axis !== 0) throw new Error('reference: Gather only on axis 0');
  const [v, d] = dims2(table);
  const data: number[] = [];
  for (const raw of indices.data) {
    const idx = raw < 0 ? raw + v : raw;
    if (!Number.isInteger(idx) || idx < 0 || idx >= v) throw new Error(`reference: Gather index ${raw} out of range [${-v}, ${v - 1}]`);
    data.push(...table.data.slice(idx * d, idx * d + d));
  }
  return { shape: [indices.data.length, d], data };
}

function concat2d(parts: RefTensor[], axis: number): RefTensor {
  const dims = parts.map(dims2);
  if (axis === 0 || axis === -2) {
    return { shape: [dims.reduce((s, [n]) => s + n, 0), dims[0]?.[1] ?? 0], data: parts.flatMap((p) => p.data) };
  }
  const n = dims[0]?.[0] ?? 0;
  const data: number[] = [];
  for (let i = 0; i < n; i++) parts.forEach((p, k) => data.push(...p.data.slice(i * (dims[k]?.[1] ?? 0), (i + 1) * (dims[k]?.[1] ?? 0))));
  return { shape: [n, dims.reduce((s, [, m]) => s + m, 0)], data };
}

/**
 * Reads transactions.parquet (or another fixture file readable by DuckDB) into JS objects, in file order.
 *
 * @example
 *   const rows = await readFixtureRows(); rows.length; // 3000
 */
export async function readFixtureRows(path = join(FIXTURES_DIR, 'data', 'transactions.parquet')): Promise<TransactionRow[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    const reader = await conn.runAndReadAll('SELECT * FROM read_parquet($1)', [path]);
    return reader.getRowObjectsJS() as unknown as TransactionRow[];
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

/** Model input values built from rows per the sidecar: float32 values are float32-rounded. */
export interface BuiltFeed {
  elemType: 'float32' | 'int64';
  shape: number[];
  data: number[];
}

/**
 * Builds each model input from transactions rows as the README describes (nulls -> fillNull,
 * unknown categories -> `unknown`).
 *
 * @example
 *   const feeds = buildFeatureFeeds(loadSidecar('mixed'), rows); feeds.merchant.shape; // [3000]
 */
export function buildFeatureFeeds(sidecar: Sidecar, rows: readonly TransactionRow[]): Record<string, BuiltFeed> {
  const feeds: Record<string, BuiltFeed> = {};
  for (const input of sidecar.inputs) {
    const source = sidecar.features[input.name];
    if (!source) throw new Error(`reference: sidecar ${sidecar.name} has no feature source for ${input.name}`);
    const record = (row: TransactionRow) => row as unknown as Record<string, unknown>;
    if (source.kind === 'columns') {
      const data = rows.flatMap((row) =>
        source.columns.map((col) => {
          const v = record(row)[col];
          return Math.fround(v === null || v === undefined ? source.fillNull : Number(v));
        }),
      );
      feeds[input.name] = { elemType: 'float32', shape: [rows.length, source.columns.length], data };
    } else {
      const data = rows.map((row) => {
        const idx = source.vocab.indexOf(String(record(row)[source.column]));
        return idx < 0 ? source.unknown : idx;
      });
      feeds[input.name] = { elemType: 'int64', shape: [rows.length], data };
    }
  }
  return feeds;
}

/** A built feed as the reference's input: rows for 2-D, a flat array for 1-D. */
export function feedRows(feed: BuiltFeed): RefFeed {
  if (feed.shape.length === 1) return feed.data;
  const width = feed.shape[1] ?? 1;
  const rows: number[][] = [];
  for (let i = 0; i < feed.data.length; i += width) rows.push(feed.data.slice(i, i + width));
  return rows;
}
