/**
 * Older converters export models whose first dimension is fixed (1, or even 3). Such a model
 * gets exactly that many rows per `session.run`: a batch is cut into groups of `size` rows,
 * the last group padded with copies of its last real row (values the model accepts), and
 * the padded rows' outputs dropped. Callers see one result per real row, as with any model.
 *
 * @example
 *   const { outputs, padded } = await runInGroups((f) => session.run(f, names), feeds, 1);
 */
import type { TensorData, TensorValues } from '../util/tensor.js';

export type RunFn = (feeds: Record<string, TensorData>) => Promise<Record<string, TensorData>>;

export async function runInGroups(run: RunFn, feeds: Record<string, TensorData>, size: number): Promise<{ outputs: Record<string, TensorData>; padded: number }> {
  const rows = Object.values(feeds)[0]?.dims[0] ?? 0;
  if (rows === size) return { outputs: await run(feeds), padded: 0 };
  const pieces: Record<string, TensorData>[] = [];
  let padded = 0;
  for (let start = 0; start < rows; start += size) {
    const real = Math.min(size, rows - start);
    const group: Record<string, TensorData> = {};
    for (const [name, t] of Object.entries(feeds)) group[name] = takeRows(t, start, real, size);
    const out = await run(group);
    const trimmed: Record<string, TensorData> = {};
    for (const [name, t] of Object.entries(out)) trimmed[name] = real === size ? t : takeRows(t, 0, real, real);
    pieces.push(trimmed);
    padded += size - real;
  }
  return { outputs: concatRows(pieces, rows), padded };
}

/** Rows [start, start + count) of a tensor, padded to `total` rows with copies of the last one. */
export function takeRows(t: TensorData, start: number, count: number, total: number): TensorData {
  const rows = t.dims[0] ?? 0;
  const width = rows > 0 ? t.data.length / rows : 0;
  const data = allocLike(t.data, total * width);
  for (let r = 0; r < total; r++) {
    const from = (start + Math.min(r, count - 1)) * width;
    for (let k = 0; k < width; k++) (data as unknown as unknown[])[r * width + k] = (t.data as unknown as unknown[])[from + k];
  }
  return { type: t.type, dims: [total, ...t.dims.slice(1)], data };
}

/** Stacks same-named tensors along the first axis. */
function concatRows(pieces: Record<string, TensorData>[], rows: number): Record<string, TensorData> {
  const out: Record<string, TensorData> = {};
  for (const name of Object.keys(pieces[0] ?? {})) {
    const parts = pieces.map((p) => p[name]!);
    const length = parts.reduce((n, p) => n + p.data.length, 0);
    const data = allocLike(parts[0]!.data, length);
    let offset = 0;
    for (const p of parts) {
      if (Array.isArray(data)) for (let i = 0; i < p.data.length; i++) data[offset + i] = (p.data as string[])[i]!;
      else (data as Float32Array).set(p.data as Float32Array, offset);
      offset += p.data.length;
    }
    out[name] = { type: parts[0]!.type, dims: [rows, ...parts[0]!.dims.slice(1)], data };
  }
  return out;
}

function allocLike(data: TensorValues, length: number): TensorValues {
  if (Array.isArray(data)) return new Array<string>(length).fill('');
  return new (data.constructor as new (n: number) => Exclude<TensorValues, string[]>)(length);
}
