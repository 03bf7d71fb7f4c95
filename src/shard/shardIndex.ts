/**
 * Which shard of how many this process scores: `--shard I/N` as given, or `--shard auto`
 * with the index from the array engine's environment (Slurm, a Kubernetes Indexed Job, AWS
 * Batch, Google Cloud Batch) and the count from `--shards` or the engine. Pure: the caller
 * passes the flags and an environment object (cli/ passes `process.env`).
 *
 * `SLURM_ARRAY_TASK_COUNT` is never read: resubmitting one index (`sbatch --array=2`) makes
 * it 1, and that task would then score the whole input as "shard 0 of 1".
 *
 * @example
 *   resolveShard({ shard: 'auto', shards: '4' }, { SLURM_ARRAY_TASK_ID: '2' }); // { index: 2, count: 4, ... }
 */
import { BatchinferError } from '../errors.js';

/** The flags as the command line gives them (strings), or numbers from a library caller. */
export interface ShardFlags {
  /** `I/N` or `auto`. */
  shard?: string;
  /** N: the number of shards. */
  shards?: string | number;
}

export type ShardEnv = Readonly<Record<string, string | undefined>>;

export interface ShardIndex {
  /** 0-based. */
  index: number;
  count: number;
  /** Where each came from, for messages and the summary: `--shard 2/4`, `SLURM_ARRAY_TASK_ID=2, --shards 4`. */
  source: string;
}

/** The environment variables holding a task's 0-based index, by engine. */
export const INDEX_VARIABLES = ['SLURM_ARRAY_TASK_ID', 'JOB_COMPLETION_INDEX', 'AWS_BATCH_JOB_ARRAY_INDEX', 'BATCH_TASK_INDEX'] as const;
/** The environment variables holding the array's size, where the engine sets one. */
export const COUNT_VARIABLES = ['AWS_BATCH_JOB_ARRAY_SIZE', 'BATCH_TASK_COUNT'] as const;
/** More shards than any engine runs in one array (AWS Batch: 10,000; Slurm's MaxArraySize default: 1001). */
export const MAX_SHARDS = 100_000;

/** The shard this process scores, or null when neither `--shard` nor `--shards` is given (an unsharded run). */
export function resolveShard(flags: ShardFlags, env: ShardEnv): ShardIndex | null {
  if (flags.shard === undefined) {
    if (flags.shards === undefined) return null;
    throw usage('--shards needs --shard: --shard I/N names one shard, --shard auto takes I from the engine', '--shard I/N or --shard auto --shards N', `--shards ${flags.shards} alone`);
  }
  const given = flags.shards === undefined ? null : parseCount(String(flags.shards), '--shards');
  if (flags.shard.trim() === 'auto') return autoShard(given, env);
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(flags.shard);
  if (!m) throw usage('--shard takes I/N (0-based index I of N shards) or auto', 'I/N, e.g. 0/4, or auto', flags.shard);
  const count = parseCount(m[2]!, '--shard');
  const index = Number(m[1]);
  if (given !== null && given !== count) throw usage(`--shard ${flags.shard} and --shards ${given} disagree on the number of shards`, `N = ${count} in both`, `${count} and ${given}`);
  return checkIndex(index, count, `--shard ${index}/${count}`);
}

/** `--shard auto`: the index from the one engine variable set, the count from --shards or the engine. */
function autoShard(given: number | null, env: ShardEnv): ShardIndex {
  const indexes = setVariables(env, INDEX_VARIABLES);
  if (indexes.length === 0) {
    const slurmCount = present(env, 'SLURM_ARRAY_TASK_COUNT') ? ' (SLURM_ARRAY_TASK_COUNT is set but gives no index)' : '';
    throw usage(`--shard auto found no array index in the environment: none of ${INDEX_VARIABLES.join(', ')} is set${slurmCount}; run it as an array task or give --shard I/N`, `one of ${INDEX_VARIABLES.join(', ')}`, 'none set');
  }
  const [name, value] = agreeing(indexes, 'array index');
  if (!/^\d+$/.test(value)) throw usage(`${name}=${value} is not an array index`, 'a whole number from 0', `${name}=${value}`);
  const index = Number(value);
  const counts = setVariables(env, COUNT_VARIABLES);
  let count: number;
  let countSource: string;
  if (given !== null) {
    const clash = counts.find(([, v]) => v !== String(given));
    if (clash) throw usage(`--shards ${given} disagrees with ${clash[0]}=${clash[1]}`, `the array's size, ${clash[1]}`, `--shards ${given}`);
    [count, countSource] = [given, `--shards ${given}`];
  } else if (counts.length > 0) {
    const [countName, countValue] = agreeing(counts, 'array size');
    [count, countSource] = [parseCount(countValue, countName), `${countName}=${countValue}`];
  } else {
    throw usage(`--shard auto needs --shards N: ${name}=${value} gives the index, and no ${COUNT_VARIABLES.join(' or ')} gives the count (SLURM_ARRAY_TASK_COUNT is never read: resubmitting one index makes it 1)`, '--shards N', `${name}=${value} and no count`);
  }
  return checkIndex(index, count, `${name}=${value}, ${countSource}`);
}

function checkIndex(index: number, count: number, source: string): ShardIndex {
  if (index >= count) {
    const hint = source.startsWith('SLURM_ARRAY_TASK_ID') ? `; shard indexes are 0-based: submit --array=0-${count - 1}` : '';
    throw usage(`shard index ${index} is not below the number of shards ${count} (read ${source})${hint}`, `an index from 0 to ${count - 1}`, index);
  }
  return { index, count, source };
}

/** A number of shards as `--shards` gives it: 1 to MAX_SHARDS. */
export function parseCount(text: string, what: string): number {
  const n = /^\s*\d+\s*$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_SHARDS) throw usage(`${what} takes a number of shards from 1 to ${MAX_SHARDS}`, `1..${MAX_SHARDS}`, text);
  return n;
}

function present(env: ShardEnv, name: string): boolean {
  return (env[name] ?? '').trim() !== '';
}

function setVariables(env: ShardEnv, names: readonly string[]): [string, string][] {
  return names.filter((n) => present(env, n)).map((n) => [n, env[n]!.trim()]);
}

/** The one value several variables give; two engines' variables with different values are an error naming both. */
function agreeing(found: [string, string][], what: string): [string, string] {
  const first = found[0]!;
  const other = found.find(([, v]) => v !== first[1]);
  if (other) throw usage(`the environment gives two different values for the ${what}: ${first[0]}=${first[1]} and ${other[0]}=${other[1]}`, `one ${what}`, found.map(([n, v]) => `${n}=${v}`).join(', '));
  return first;
}

function usage(message: string, expected: unknown, actual: unknown): BatchinferError {
  return new BatchinferError('USAGE', message, { expected, actual });
}
