/**
 * `memory_limit`: how much memory DuckDB may use before it spills to disk or gives up. Written
 * as a size (`512MB`, `4GiB`, `2.5GB`) or a share of the machine's memory (`50%`). The
 * default is half the machine's memory (the cgroup's limit where one is set): the other half
 * is left to the inference workers (each holds the model and its activations) and Node.
 */
import { totalmem } from 'node:os';

const UNITS: Record<string, number> = {
  b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12,
  kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40,
};

/** DuckDB cannot run a query in less. */
export const MIN_MEMORY_LIMIT = 64 * 2 ** 20;

export const MEMORY_LIMIT_EXPECTED = 'a size such as 512MB, 4GiB or 50% (of the machine\'s memory), at least 64MiB';

/** The memory this process may use: the machine's, or its cgroup's limit when lower. */
export function machineMemoryBytes(): number {
  const constrained = typeof process.constrainedMemory === 'function' ? process.constrainedMemory() : 0;
  const total = totalmem();
  return constrained && constrained > 0 && constrained < total ? constrained : total;
}

/** Half the machine's memory. */
export function defaultMemoryLimit(): number {
  return Math.floor(machineMemoryBytes() / 2);
}

/** Bytes for `512MB`, `4GiB`, `50%`; null when the text is none of these. */
export function parseMemorySize(text: string, machine = machineMemoryBytes()): number | null {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(%|[kmgt]?i?b)\s*$/i.exec(text);
  if (!match) return null;
  const value = Number(match[1]);
  const unit = match[2]!.toLowerCase();
  if (unit === '%') return value > 0 && value <= 100 ? Math.floor((machine * value) / 100) : null;
  const factor = UNITS[unit];
  return factor === undefined ? null : Math.floor(value * factor);
}

/** `1.5 GiB`, for messages and summaries. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return `${i === 0 ? value : value.toFixed(1)} ${units[i]}`;
}
