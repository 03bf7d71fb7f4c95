/** Human-readable text for summaries and errors (stderr). */
import type { RunDrift } from '../core/referenceDrift.js';
import type { RunSummary, SkippedRun } from '../core/summary.js';
import type { WindowOutcome } from '../core/windowRuns.js';
import type { WindowShards, WindowState } from '../core/windowStatus.js';
import { errorMessage, type BatchinferError } from '../errors.js';

export function formatError(err: BatchinferError): string {
  return `batchinfer: ${err.code}: ${errorMessage(err)}`;
}

/**
 * A failed command's report under `--json` (stdout; the error line still goes to stderr): the
 * stable code, the exit code, the message, expected and actual, and every validation problem.
 */
export function failureJson(err: BatchinferError): Record<string, unknown> {
  const defined = (o: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  return {
    status: 'failed',
    error: defined({
      code: err.code,
      exitCode: err.exitCode,
      message: err.message,
      expected: err.expected,
      actual: err.actual,
      problems: err.problems.length > 0 ? err.problems.map((p) => defined({ ...p })) : undefined,
    }),
  };
}

export function formatSummary(s: RunSummary): string {
  const target = s.shard ? `shard ${s.shard.index}/${s.shard.count} (attempt ${s.shard.attempt}) done in ${s.shard.dir}; \`batchinfer commit\` writes ${s.output.path} once all ${s.shard.count} are` : s.output.path;
  const lines = [
    `batchinfer: scored ${s.rows.out.toLocaleString('en-US')} rows in ${s.seconds.wall.toFixed(2)} s (${s.rowsPerSecond.toLocaleString('en-US')} rows/s${resumedNote(s)}) -> ${target}`,
    `  task ${s.task}${s.scores ? `, scores read as ${s.scores.kind} (decided by ${s.scores.decidedBy})` : ''}${s.labels ? `, labels from ${s.labels.source}` : ''}${decisionNote(s)}`,
    `  ${s.batches} batch${s.batches === 1 ? '' : 'es'} of ${s.batchSize}, ${s.workers} worker${s.workers > 1 ? 's' : ''} x ${s.threadsPerWorker} thread${s.threadsPerWorker > 1 ? 's' : ''} beside ${s.duckdbThreads.reading} DuckDB thread${s.duckdbThreads.reading > 1 ? 's' : ''}; batch p50 ${s.batchLatencyMs.p50} ms, p95 ${s.batchLatencyMs.p95} ms; peak RSS ${s.peakRssMb} MB`,
    `  seconds: ${s.seconds.stage > 0 ? `stage ${s.seconds.stage}, ` : ''}read ${s.seconds.read}, preprocess ${s.seconds.preprocess}, infer ${s.seconds.infer}, postprocess ${s.seconds.postprocess}, write ${s.seconds.write}`,
  ];
  lines.push(...rejectedLines(s.rows, s.rejects));
  if (s.batchSizing.candidates.length > 0) lines.push(batchSizingLine(s));
  lines.push(...filteredLines(s.rows));
  // Disagreements and padding are also warnings; agreement is worth one line too.
  if (s.labelCheck && s.labelCheck.disagreements === 0) lines.push(`  model label output ${s.labelCheck.output} agrees with the highest-scoring class on all ${s.labelCheck.rows.toLocaleString('en-US')} rows`);
  if (s.drift) lines.push(driftLine(s.drift));
  for (const w of s.warnings) lines.push(`  warning: ${w}`);
  return lines.join('\n');
}

/** `batch size 4096, measured: 1024 at 800,000 rows/s (7 MB), ...; 16384 not tried: ~115 MB projected for the model and its feeds, over 64 MB`. */
function batchSizingLine(s: RunSummary): string {
  const { candidates, notTried } = s.batchSizing;
  const measured = candidates.map((c) => `${c.batchSize} at ${c.rowsPerSecond.toLocaleString('en-US')} rows/s${c.memoryMb === undefined ? '' : ` (${c.memoryMb} MB)`}`).join(', ');
  const skipped = notTried ? `; ${notTried.batchSize} not tried: ~${notTried.projectedMb} MB projected for the model and its feeds, over ${notTried.budgetMb} MB` : '';
  return `  batch size ${s.batchSize}, measured: ${measured}${skipped}`;
}

function decisionNote(s: RunSummary): string {
  const d = s.decision;
  if (!d) return '';
  const rule = d.threshold === null ? `${d.positive} when likelier` : `${d.positive} when p(${d.positive}) >= ${d.threshold}`;
  return `; predicts ${rule}${d.reviewBand ? `, review band [${d.reviewBand.join(', ')}]` : ''}`;
}

/** A resumed run's rate is of the rows it read itself: say how many came from the run before. */
function resumedNote(s: RunSummary): string {
  return s.resumedRows ? ` over the ${s.rowsThisRun.toLocaleString('en-US')} rows of this run; ${s.resumedRows.toLocaleString('en-US')} resumed from an interrupted run` : '';
}

export function formatSkipped(s: SkippedRun): string {
  if (s.shard || !s.window) return `batchinfer: shard ${s.shard?.index}/${s.shard?.count} of job ${s.job} ${s.reason} (${s.rows.out} rows at ${s.committedAt}); nothing to do.`;
  return `batchinfer: window ${s.window.start} of job ${s.job} ${s.reason} (${s.rows.out} rows at ${s.committedAt}); nothing to do. Use --force to re-score it.`;
}

export function formatOutcomeLine(o: WindowOutcome): string {
  const what = o.status === 'failed' ? `failed: ${o.error?.code}: ${o.error?.message}` : o.status === 'skipped' ? 'already committed' : `${o.rows} rows`;
  const warning = o.summaryError ? `; warning: ${o.summaryError}` : '';
  return `batchinfer: window ${o.window.start.toISOString()} ${o.status === 'committed' ? 'committed, ' : ''}${what}${warning}`;
}

/** The table printed at the end of a backfill. */
export function formatBackfill(outcomes: WindowOutcome[]): string {
  const lines = ['window start               status      rows       seconds'];
  for (const o of outcomes) {
    lines.push(`${o.window.start.toISOString().padEnd(26)} ${o.status.padEnd(11)} ${String(o.rows ?? '').padEnd(10)} ${o.seconds === undefined ? '' : o.seconds.toFixed(2)}`);
  }
  const count = (s: WindowOutcome['status']): number => outcomes.filter((o) => o.status === s).length;
  lines.push(`${outcomes.length} windows: ${count('committed')} committed, ${count('skipped')} skipped, ${count('failed')} failed, ${count('not run')} not run`);
  return lines.join('\n');
}

export function outcomeJson(o: WindowOutcome): Record<string, unknown> {
  return {
    start: o.window.start.toISOString(),
    end: o.window.end.toISOString(),
    status: o.status,
    rows: o.rows,
    seconds: o.seconds,
    ...(o.error ? { error: { code: o.error.code, message: o.error.message, exitCode: o.error.exitCode } } : {}),
    ...(o.summaryError ? { summaryError: o.summaryError } : {}),
    ...(o.driftFailed ? { driftFailed: o.driftFailed } : {}),
  };
}

export function formatStatus(states: WindowState[]): string {
  const lines = ['window start               state       rows       detail'];
  for (const s of states) {
    const detail = s.state === 'failed' ? `${s.error?.code}: ${s.error?.message}` : s.state === 'locked' ? `pid ${s.holder?.pid} on ${s.holder?.host} since ${s.holder?.startedAt}` : s.state === 'committed' ? `at ${s.committedAt}` : s.state === 'partial' ? 'interrupted; the next run resumes' : s.shards ? shardsDetail(s.shards) : '';
    lines.push(`${s.start.padEnd(26)} ${s.state.padEnd(11)} ${String(s.rows ?? '').padEnd(10)} ${detail}`);
  }
  return lines.join('\n');
}

/** A window's shards in progress: how many are done, and which are running, failed, stale or missing. */
function shardsDetail(s: WindowShards): string {
  const lists = (['running', 'failed', 'stale', 'missing'] as const).filter((k) => s[k].length > 0).map((k) => `${k} ${s[k].join(',')}`);
  return `${s.committed.length} of ${s.count} shards done${lists.length > 0 ? `; ${lists.join('; ')}` : '; commit them'}`;
}

/** The rejected rows by reason, and where they went: a run's or a sharded commit's (none when no row was rejected or quarantined). */
export function rejectedLines(rows: RunSummary['rows'], rejects: string | undefined): string[] {
  if (rows.rejected === 0 && !rejects) return [];
  const reasons = Object.entries(rows.rejectedByReason).map(([r, n]) => `${r} ${n}`).join(', ');
  return [`  rejected ${rows.rejected} of ${rows.in} rows${reasons ? ` (${reasons})` : ''}${rejects ? ` -> ${rejects}` : ''}`];
}

/** The rows a `where` left out (none without one). */
export function filteredLines(rows: RunSummary['rows']): string[] {
  return rows.filtered === undefined ? [] : [`  where left out ${rows.filtered.toLocaleString('en-US')} rows (kept ${rows.in.toLocaleString('en-US')})`];
}

/** A run's drift against its reference in one line (a run's summary, a sharded commit's). */
export function driftLine(d: RunDrift): string {
  return `  drift against ${d.reference} (${d.method}): ${d.drifted_columns.length > 0 ? `${d.drifted_columns.length} column${d.drifted_columns.length === 1 ? '' : 's'} drifted (${d.drifted_columns.join(', ')})` : 'no column drifted'}${d.dataset_drift ? ', dataset drift' : ''}${d.prediction_drift ? ', prediction drift' : ''}`;
}
