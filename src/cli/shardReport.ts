/** Sharded runs for people: `plan`'s split, one line per shard, and `verify`'s state with the commands to rerun what is not done. */
import type { CommittedAlready, ShardedSummary } from '../core/commitSharded.js';
import type { PlanReport } from '../core/planJob.js';
import type { ShardStatus } from '../shard/shardCheck.js';
import { driftLine, filteredLines, rejectedLines } from './report.js';

export function formatPlan(r: PlanReport): string {
  const p = r.plan;
  const total = p.rows;
  const recorded = { none: 'no shard has started (the first records this plan)', same: 'recorded by a started shard: the same', different: 'recorded by a started shard: ANOTHER plan (the inputs changed; shards would exit 65)' }[r.recorded];
  const rows = r.shards.map((s) => [
    String(s.shard),
    s.rows.toLocaleString('en-US'),
    total > 0 ? `${((100 * s.rows) / total).toFixed(1)}%` : '-',
    s.units[1] > s.units[0] ? (s.units[1] - s.units[0] === 1 ? String(s.units[0]) : `${s.units[0]}-${s.units[1] - 1}`) : '-',
    s.ranges.length > 0 ? s.ranges.map((x) => `${x.path} rows ${x.rowStart}-${x.rowEnd}`).join(', ') : 'nothing (commits an empty manifest)',
  ]);
  const header = ['shard', 'rows', 'share', 'units', 'reads'];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const line = (cells: string[]) => '  ' + cells.map((cell, c) => (c === cells.length - 1 ? cell : c === 1 || c === 2 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ');
  return [
    `batchinfer: plan of job ${r.job}: ${p.shards} shard${p.shards === 1 ? '' : 's'} over ${p.inputs.length} input file${p.inputs.length === 1 ? '' : 's'}, ${p.units.length} unit${p.units.length === 1 ? '' : 's'}, ${total.toLocaleString('en-US')} rows (plan ${p.hash.slice(0, 12)})`,
    `  ${r.shardsDir}: ${recorded}`,
    line(header),
    ...rows.map(line),
  ].join('\n');
}

/**
 * `verify`'s answer for people: what is committed, what is not and why, and the commands that
 * rerun the rest (a Slurm array of those indexes, or one `run --shard I/N` each on any engine).
 */
export function formatShardStatus(status: ShardStatus, job: string, shards: number, at?: string): string {
  const window = at ? ` --at ${at}` : '';
  if (status.complete) return `batchinfer: all ${shards} shards are done: commit with\n  batchinfer commit ${job}${window} --shards ${shards}`;
  const failures = new Map(status.failures.map((f) => [f.shard, f]));
  const why = (i: number): string => {
    if (status.stale.includes(i)) return 'scored another plan (the inputs changed)';
    const f = failures.get(i);
    if (f) return `failed: ${f.code} (exit ${f.exitCode}) at attempt ${f.attempt}: ${f.message}`;
    return 'missing (not started, running, or killed)';
  };
  const rerun = [...status.missing, ...status.failed, ...status.stale].sort((a, b) => a - b);
  return [
    `batchinfer: ${status.committed.length} of ${shards} shards done; ${rerun.length} not:`,
    ...rerun.map((i) => `  shard ${i}: ${why(i)}`),
    `rerun them, then commit:`,
    `  Slurm:  JOB=${job} SHARDS=${shards} sbatch --array=${indexRanges(rerun)} deploy/slurm/shards.sbatch`,
    `          (and the commit again with --dependency=afterok on that array)`,
    `  any engine, one job per shard:`,
    ...rerun.map((i) => `    batchinfer run ${job}${window} --shard ${i}/${shards}`),
  ].join('\n');
}

/** `1, 3, 4, 5, 9` -> `1,3-5,9`, as sbatch --array takes them. */
export function indexRanges(indexes: readonly number[]): string {
  const parts: string[] = [];
  for (let k = 0; k < indexes.length; ) {
    let end = k;
    while (end + 1 < indexes.length && indexes[end + 1] === indexes[end]! + 1) end++;
    parts.push(end > k ? `${indexes[k]}-${indexes[end]}` : String(indexes[k]));
    k = end + 1;
  }
  return parts.join(',');
}

/** `commit`'s summary for people: the output, its rows, the shards and their attempts. */
export function formatShardedCommit(r: ShardedSummary | CommittedAlready): string {
  if (r.status === 'skipped') return `batchinfer: ${r.output.path} is ${r.reason} from ${r.shards.count} shards (plan ${r.shards.plan.slice(0, 12)}, at ${r.committedAt}); nothing to do.`;
  const retried = r.shards.attempts.flatMap((a, i) => (a > 1 ? [`shard ${i} at attempt ${a}`] : []));
  const lines = [
    `batchinfer: committed ${r.rows.out.toLocaleString('en-US')} rows from ${r.shards.count} shards in ${r.seconds.wall.toFixed(2)} s -> ${r.output.path}`,
    `  plan ${r.shards.plan.slice(0, 12)}; ${retried.length > 0 ? `retried: ${retried.join(', ')}` : 'every shard at its first attempt'}`,
  ];
  lines.push(...rejectedLines(r.rows, r.rejects), ...filteredLines(r.rows));
  if (r.profile) lines.push(`  profile of the ${r.shards.count} shards' rows -> ${r.profile}`);
  if (r.drift) lines.push(driftLine(r.drift));
  for (const w of r.warnings) lines.push(`  warning: ${w}`);
  return lines.join('\n');
}
