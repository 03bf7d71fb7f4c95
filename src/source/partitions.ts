/**
 * Hive partition keys: `events/dt=2026-11-29/hour=05/part-0.parquet` read as the directory
 * `events/` gives each of its rows the columns `dt` (DATE) and `hour` (BIGINT).
 *
 * Only `key=value` directories below the input's root count: the directory an input names,
 * or a glob's directories before its first glob character. A file named alone has none, and
 * neither has an output written under `dt=.../` and read back as one file.
 */
import { relative, resolve, sep } from 'node:path';
import { BatchinferError } from '../errors.js';

export type PartitionType = 'DATE' | 'BIGINT' | 'VARCHAR';

/** The types a job may give a key (`partition_types`), and the DuckDB type each reads as. */
export const PARTITION_TYPE_NAMES = ['date', 'integer', 'text'] as const;
export type PartitionTypeName = (typeof PARTITION_TYPE_NAMES)[number];
const GIVEN: Record<PartitionTypeName, PartitionType> = { date: 'DATE', integer: 'BIGINT', text: 'VARCHAR' };

export interface PartitionValue {
  name: string;
  type: PartitionType;
  /** The value as the directory name writes it (percent-decoded); null for `__HIVE_DEFAULT_PARTITION__` or empty. */
  value: string | null;
}

/** `key=value`, the key not empty; Hive writes NULL as this value. */
const SEGMENT = /^([^=]+)=(.*)$/;
const HIVE_NULL = '__HIVE_DEFAULT_PARTITION__';
const DATE_SHAPE = /^\d{4}-\d{2}-\d{2}$/;
const INTEGER = /^[-+]?\d+$/;
const INT64_MAX = 2n ** 63n - 1n;

/** The directory a glob's matches sit below: its path up to the segment holding the first glob character. */
export function globRoot(glob: string): string {
  const segments = glob.split(/[\\/]/);
  const first = segments.findIndex((s) => /[*?[]/.test(s));
  return segments.slice(0, first < 0 ? segments.length - 1 : first).join('/') || '/';
}

/** The `key=value` directories of `file` below `root`, in path order. */
export function partitionSegments(root: string, file: string): { name: string; value: string | null }[] {
  const dirs = relative(root, resolve(file)).split(sep).slice(0, -1);
  const found: { name: string; value: string | null }[] = [];
  for (const dir of dirs) {
    const m = SEGMENT.exec(dir);
    if (!m) continue;
    const value = decode(m[2]!);
    found.push({ name: decode(m[1]!) ?? m[1]!, value: value === HIVE_NULL || value === '' ? null : value });
  }
  return found;
}

/** An input file and the root its partition keys are read below (null: a file named alone, none). */
export interface RootedFile {
  root: string | null;
  path: string;
}

/**
 * Each file's typed partition values (one array per file, empty when there are none). Every
 * file must sit under the same keys. A key whose values are all integers is BIGINT; a key
 * with a value shaped like a date is DATE, and then every value must be a date (a typo like
 * `dt=2026-13-01` among dates is an error naming its file, not a silent change to text);
 * anything else is VARCHAR.
 */
export function typePartitions(rooted: readonly RootedFile[], given: Readonly<Record<string, PartitionTypeName>> = {}): PartitionValue[][] {
  const files = rooted.map((f) => f.path);
  const raw = rooted.map((f) => (f.root === null ? [] : partitionSegments(f.root, f.path)));
  // The input's roots, as messages name them.
  const root = [...new Set(rooted.map((f) => f.root ?? f.path))].join(', ');
  const keys = raw[0]?.map((p) => p.name) ?? [];
  for (const [i, parts] of raw.entries()) {
    const names = parts.map((p) => p.name);
    if (names.join('/') === keys.join('/') && new Set(names).size === names.length) continue;
    const what = (k: readonly string[]): string => (k.length === 0 ? 'no partition keys' : `partition keys ${k.join(', ')}`);
    throw new BatchinferError('INPUT_INVALID', `input file ${files[i]} sits under ${what(names)}, but ${files[0]} under ${what(keys)}: every file of ${root} must sit under the same key=value directories below the input's root`, {
      expected: what(keys),
      actual: what(names),
    });
  }
  const types = keys.map((key, k) => keyType(root, files, raw.map((parts) => parts[k]!), Object.hasOwn(given, key) ? GIVEN[given[key]!] : undefined));
  return raw.map((parts) => parts.map((p, k) => ({ name: p.name, type: types[k]!, value: p.value })));
}

/** A key's type: `given` (partition_types), whose every value must then fit it, or the one its values imply. */
function keyType(root: string, files: readonly string[], values: readonly { name: string; value: string | null }[], given?: PartitionType): PartitionType {
  if (given === 'VARCHAR') return given;
  const present = values.filter((v) => v.value !== null).map((v) => v.value!);
  if (!given && present.length > 0 && present.every(isInt64)) return 'BIGINT';
  if (!given && !present.some((v) => DATE_SHAPE.test(v))) return 'VARCHAR';
  const type = given ?? 'DATE';
  const fits = type === 'DATE' ? isDate : isInt64;
  const bad = values.findIndex((v) => v.value !== null && !fits(v.value));
  if (bad < 0) return type;
  const { name, value } = values[bad]!;
  const what = type === 'DATE' ? 'a date' : 'an integer';
  const why = given ? `partition_types gives ${name} as ${type === 'DATE' ? 'date' : 'integer'}` : `other ${name} values below ${root} are dates`;
  throw new BatchinferError('INPUT_INVALID', `input file ${files[bad]}: partition ${name}=${value} is not ${what}, while ${why}`, {
    expected: `${type === 'DATE' ? 'a date YYYY-MM-DD' : 'a 64-bit integer'} for partition key ${name}`,
    actual: value,
  });
}

function isInt64(v: string): boolean {
  if (!INTEGER.test(v)) return false;
  const n = BigInt(v);
  return n <= INT64_MAX && n >= -INT64_MAX - 1n;
}

/** A real calendar day written YYYY-MM-DD. */
function isDate(v: string): boolean {
  if (!DATE_SHAPE.test(v)) return false;
  const d = new Date(`${v}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === v;
}

/** Hive writes special characters as %XX; a name that does not decode is taken as written. */
function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
