/**
 * The command line: the only place that reads argv, writes stdout/stderr and sets the exit
 * code. Every command calls a library function and prints its result; the single catch at
 * the bottom turns errors into one line and an exit code.
 */
import { Command, CommanderError } from 'commander';
import { BatchinferError, EXIT, isBatchinferError } from '../errors.js';
import { loadJob, loadJobChecked } from '../spec/loadJob.js';
import { batchinferVersion } from '../version.js';
import { addJobFlags, flagsToJob, number, type JobFlags } from './jobFlags.js';
import type { JobFile } from '../spec/jobSpec.js';
import { failureJson, formatBackfill, formatError, formatOutcomeLine, formatSkipped, formatStatus, formatSummary, outcomeJson } from './report.js';
import { createProgress, type LogFormat } from './progress.js';
import { formatReport, formatValidation } from './formatReports.js';
import type { PartProgress } from '../core/scoreFiles.js';
import type { RunCheckResult, RunChecks } from '../core/checkRun.js';
import { resolve } from 'node:path';
import { interruptible } from './signals.js';
import type { WindowOutcome } from '../core/windowRuns.js';
import { parseTime, type Window } from '../schedule/window.js';
import type { RunSummary, SkippedRun } from '../core/summary.js';
import type { RunDrift } from '../core/referenceDrift.js';
import type { JobSpec } from '../spec/jobSpec.js';
import type { Db } from '../db/duckdb.js';
import type { DriftOptions } from '../drift/drift.js';

interface RunFlags extends JobFlags {
  json?: boolean;
  quiet?: boolean;
  at?: string;
  force?: boolean;
  logFormat?: string;
  evaluate?: string;
  groupBy?: string;
  failBelow?: string;
  failAbove?: string;
  expect?: string;
  expectKey?: string;
  tolerance?: string;
  shard?: string;
  shards?: string;
}

/**
 * The job of `run` and `validate`. A job whose keys have problems is still checked against
 * its model and data where it can be, and every problem is reported together.
 */
async function checkedJob(job: string | undefined, overrides: JobFile): Promise<JobSpec> {
  const { spec, problems } = await loadJobChecked(job, overrides);
  if (problems.length === 0 && spec) return spec;
  const { validationProblems } = await import('../core/validateJob.js');
  throw BatchinferError.fromProblems([...problems, ...(spec ? await validationProblems(spec) : [])]);
}

function logFormat(value: string | undefined): LogFormat {
  if (value === undefined || value === 'text' || value === 'json') return value ?? 'text';
  throw new BatchinferError('USAGE', '--log-format takes text or json', { expected: 'text or json', actual: value });
}

interface EvaluateFlags {
  label: string;
  task?: string;
  positive?: string;
  groupBy?: string;
  minGroupRows?: string;
  targetPrecision?: string;
  targetRecall?: string;
  failBelow?: string;
  failAbove?: string;
  json?: boolean;
}

/**
 * The one place a check's verdict becomes exit 1 (EXIT.CHECK_FAILED): a failed gate of
 * evaluate, files that differ in compare. The report is printed first; errors keep their codes.
 */
function checkFailed(failed: boolean): void {
  if (failed) process.exitCode = EXIT.CHECK_FAILED;
}

/** A job's `drift.fail_on`: true (and said on stderr, even with --quiet) when that drift was found; the output stays committed. */
function driftGate(result: { status: string; drift?: RunDrift }): boolean {
  const drift = result.status === 'ok' ? result.drift : undefined;
  if (!drift || drift.failed.length === 0) return false;
  process.stderr.write(`batchinfer: ${drift.failed.join(' and ')} drift found against reference ${drift.reference} (drift.fail_on ${drift.fail_on.join(',')}): exit 1 (the output is committed)\n`);
  return true;
}

/**
 * `run --evaluate` and `run --expect`, checked before anything is scored: the label must be a
 * passthrough column (else the output does not hold it), gates need --evaluate.
 */
async function runChecks(flags: RunFlags, spec: JobSpec): Promise<RunChecks | null> {
  const gates = [...(flags.failBelow ? (await import('../evaluate/gates.js')).parseGates(flags.failBelow, 'below') : []), ...(flags.failAbove ? (await import('../evaluate/gates.js')).parseGates(flags.failAbove, 'above') : [])];
  if (!flags.evaluate && (gates.length > 0 || flags.groupBy)) throw new BatchinferError('USAGE', '--fail-below, --fail-above and --group-by need --evaluate COLUMN', { expected: '--evaluate COLUMN', actual: 'no --evaluate' });
  if (!flags.expect && (flags.expectKey || flags.tolerance)) throw new BatchinferError('USAGE', '--expect-key and --tolerance need --expect GOLDEN', { expected: '--expect GOLDEN', actual: 'no --expect' });
  if (!flags.evaluate && !flags.expect) return null;
  if (/\.jsonl$/i.test(spec.output)) throw new BatchinferError('USAGE', '--evaluate and --expect read Parquet or CSV outputs', { expected: 'an output ending in .parquet or .csv, or a directory', actual: spec.output });
  const groupBy = flags.groupBy ? listOption(flags.groupBy, '--group-by') : undefined;
  for (const column of [flags.evaluate, ...(groupBy ?? [])]) {
    if (column !== undefined && !spec.passthrough.includes(column)) {
      throw new BatchinferError('SPEC_INVALID', `--evaluate: column '${column}' is not a passthrough column, so the output will not hold it; add it to passthrough`, { expected: spec.passthrough, actual: column });
    }
  }
  return {
    ...(flags.evaluate ? { evaluate: { label: flags.evaluate, positive: spec.positiveLabel, groupBy, gates: gates.length > 0 ? gates : undefined } } : {}),
    ...(flags.expect ? { expect: { golden: resolve(flags.expect), key: flags.expectKey ? listOption(flags.expectKey, '--expect-key') : undefined, byPosition: !flags.expectKey, tolerance: number(flags.tolerance, '--tolerance') } } : {}),
    fileMode: spec.fileMode,
    ...(spec.encryption ? { encryption: spec.encryption } : {}),
  };
}

/** The checks' reports for people, on stderr (stdout is for --json): gates and differences even with --quiet. */
async function printChecks(checked: RunCheckResult, quiet: boolean): Promise<void> {
  const { formatEvaluation, formatGates, formatCompare } = await import('./evaluateReport.js');
  if (checked.evaluation) {
    if (!quiet) process.stderr.write(`${formatEvaluation(checked.evaluation)}\nmetrics written to ${checked.evaluation.path}\n`);
    if (checked.evaluation.gates) process.stderr.write(formatGates(checked.evaluation) + '\n');
  }
  if (checked.comparison && (!quiet || !checked.comparison.equal)) process.stderr.write(`compared with ${checked.comparison.golden}:\n${formatCompare(checked.comparison)}\n`);
  if (checked.failed) process.stderr.write('batchinfer: the output is committed, but a check failed (exit 1)\n');
}

function taskOption(value: string | undefined): 'classification' | 'regression' | undefined {
  if (value === undefined || value === 'classification' || value === 'regression') return value;
  throw new BatchinferError('USAGE', '--task takes classification or regression', { expected: 'classification or regression', actual: value });
}

function listOption(value: string, flag: string): string[] {
  const items = value.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) throw new BatchinferError('USAGE', `${flag} takes column names separated by commas`, { expected: 'COL[,COL]', actual: value });
  return items;
}

/** `--file-mode 0640`, as the job key `file_mode`: octal, the owner may read and write. */
function fileModeOption(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const mode = /^0?[0-7]{3}$/.test(value) ? parseInt(value, 8) : NaN;
  if (!Number.isInteger(mode) || (mode & 0o600) !== 0o600) throw new BatchinferError('USAGE', '--file-mode takes an octal mode that lets the owner read and write, e.g. 0640', { expected: "0600 or more, e.g. '0640'", actual: value });
  return mode;
}

interface DriftFlags {
  reference?: string;
  current?: string;
  from?: string;
  to?: string;
  method: string;
  threshold?: string;
  driftShare: string;
  columns?: string;
  failOn?: string;
  json?: boolean;
}

/** A scheduled job's windows in [--from, --to) against the reference: what `drift JOB` and `report JOB` show. */
async function jobDriftSeries(job: string, flags: { reference?: string; from?: string; to?: string }, options: DriftOptions) {
  const spec = await loadJob(job);
  requireSchedule(spec);
  const from = flags.from ? parseTime(flags.from, '--from', spec.timezone) : undefined;
  const to = flags.to ? parseTime(flags.to, '--to', spec.timezone) : undefined;
  const { driftSeries } = await import('../core/driftSeries.js');
  return { spec, series: await driftSeries(spec, { ...options, reference: flags.reference ? resolve(flags.reference) : undefined, from, to }) };
}

/** `drift JOB`: the series of the job's windows; --fail-on judges the latest window with a profile. */
async function driftOfWindows(job: string, flags: DriftFlags, options: DriftOptions, failOn: readonly string[]): Promise<void> {
  if (flags.current) throw new BatchinferError('USAGE', "--current is for comparing one dataset; with JOB each window's profile is the current", { expected: 'drift JOB [--from T1 --to T2] or drift --reference REF --current CUR', actual: '--current with JOB' });
  const { series } = await jobDriftSeries(job, flags, options);
  const { formatDriftSeries } = await import('./driftReport.js');
  process.stdout.write((flags.json ? JSON.stringify(series) : formatDriftSeries(series)) + '\n');
  if (failOn.length === 0) return;
  const { latestWindow } = await import('../drift/windowSeries.js');
  const latest = latestWindow(series);
  if (!latest) {
    process.stderr.write(`batchinfer: no window in the range has a profile, so --fail-on ${failOn.join(',')} has nothing to judge: exit 1\n`);
    return checkFailed(true);
  }
  const found = { column: latest.drifted_columns > 0, dataset: latest.dataset_drift, prediction: latest.prediction_drift ?? false };
  const failed = failOn.filter((f) => found[f as keyof typeof found]);
  if (failed.length > 0) process.stderr.write(`batchinfer: ${failed.join(' and ')} drift found in the latest window with a profile, ${latest.start} (--fail-on ${failOn.join(',')}): exit 1\n`);
  checkFailed(failed.length > 0);
}

/** `report JOB`: the page of the job's drift series, and where it goes. */
async function seriesReport(job: string, flags: { reference?: string; from?: string; to?: string; out?: string }, options: DriftOptions): Promise<{ target: string; html: string }> {
  const { spec, series } = await jobDriftSeries(job, flags, options);
  const { renderSeriesReport } = await import('./seriesReport.js');
  return { target: flags.out ?? `${resolve(job).replace(/\.(ya?ml|json)$/i, '')}.report.html`, html: renderSeriesReport(series, spec.name) };
}

/** The job of `commit` and `verify`: a scheduled job's window (`--at`, or the last complete one) with its output path. */
async function jobWindow(job: string, at: string | undefined): Promise<{ spec: JobSpec; window: Window | null }> {
  const spec = await loadJob(job);
  if (!spec.schedule) {
    if (at) throw new BatchinferError('USAGE', '--at needs a job with a `schedule`', { expected: 'a scheduled job', actual: 'no schedule' });
    return { spec, window: null };
  }
  const { resolveWindow } = await import('../core/windowRuns.js');
  return resolveWindow(spec, at ? parseTime(at, '--at', spec.timezone) : undefined);
}

function requireSchedule(spec: JobSpec): void {
  if (!spec.schedule) throw new BatchinferError('USAGE', `job ${spec.name} has no \`schedule\``, { expected: 'a scheduled job', actual: 'no schedule' });
}

function buildProgram(): Command {
  const program = new Command('batchinfer')
    .description('Batch inference with ONNX models: Parquet/CSV in, predictions and confidence out to Parquet.')
    .version(batchinferVersion(), '-V, --version')
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      writeOut: (s) => process.stdout.write(s),
      // Usage errors get the same one-line shape as every other error.
      outputError: (s, write) => write(`batchinfer: USAGE: ${usageError(s.replace(/^error: /, '')).message}`),
    });

  addJobFlags(
    program
      .command('run')
      .argument('[job]', 'job file (YAML or JSON); omit it to give --model, --input and --output')
      .description('score a dataset with a model and write predictions to Parquet')
      .option('--at <time>', 'scheduled jobs: score the window starting at this ISO 8601 time (default: the last complete window)')
      .option('--force', 'scheduled jobs: re-score a committed window and replace it atomically')
      .option('--json', 'print the run summary as JSON on stdout')
      .option('--quiet', 'no progress and no human summary')
      .option('--log-format <format>', 'progress lines when stderr is not a terminal (one per finished part): text or json', 'text')
      .option('--evaluate <column>', 'measure the committed scores against the true labels this passthrough column holds; writes <output>.metrics.json')
      .option('--group-by <cols>', 'with --evaluate: metrics per group and the fairness differences between groups')
      .option('--fail-below <gates>', 'with --evaluate: exit 1 when a metric is below its bound, e.g. accuracy=0.9,roc_auc=0.95 (the output stays committed)')
      .option('--fail-above <gates>', 'with --evaluate: exit 1 when a metric is above its bound, e.g. log_loss=0.3')
      .option('--expect <golden>', 'compare the committed output with a golden one; exit 1 when they differ (the output stays committed)')
      .option('--expect-key <cols>', 'with --expect: match rows on these columns (default: by position)')
      .option('--tolerance <abs>', 'with --expect: largest absolute difference of floats that counts as equal (default 1e-6)')
      .option('--shard <I/N|auto>', 'score shard I (0-based) of N of a sharded run; auto: I from the array engine (SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX, AWS_BATCH_JOB_ARRAY_INDEX, BATCH_TASK_INDEX); `commit` writes the output')
      .option('--shards <n>', 'with --shard auto: the number of shards (AWS Batch and Cloud Batch give it)'),
  )
    .addHelpText(
      'after',
      `
Examples:
  batchinfer run jobs/transactions-mlp.yaml
  batchinfer run jobs/transactions-mlp.yaml --batch-size 4096 --workers 1 --json
  batchinfer run --model m.onnx --input x.parquet --output y.parquet --features a,b,c --passthrough id
  batchinfer run jobs/hourly.yaml --at 2026-11-29T08:00:00Z
  batchinfer run jobs/big.yaml --shard 2/8
  batchinfer run jobs/big.yaml --shard auto --shards 8     (in a Slurm array or Kubernetes Indexed Job)`,
    )
    .exitOverride()
    .action(async (job: string | undefined, flags: RunFlags) => {
      const { resolveShard } = await import('../shard/shardIndex.js');
      const shard = resolveShard({ shard: flags.shard, shards: flags.shards }, process.env);
      const spec = await checkedJob(job, requireOneOff(job, flagsToJob(flags)));
      const checks = await runChecks(flags, spec);
      if (shard && (checks || flags.force)) throw new BatchinferError('USAGE', `--shard scores one shard: ${checks ? '--evaluate and --expect check the committed output: run them on it after `batchinfer commit`' : '--force does not re-score a committed window shard by shard'}`, { expected: 'run --shard without --evaluate, --expect or --force', actual: checks ? '--evaluate or --expect' : '--force' });
      // The engines load only for commands that use them: --help and inspect of a model stay fast.
      const { runJob, releaseRunsSync } = await import('../core/runJob.js');
      const { resolveWindow } = await import('../core/windowRuns.js');
      const progress = createProgress(!flags.quiet, logFormat(flags.logFormat));
      const interrupt = interruptible({ onInterrupt: () => progress.stop(), releaseSync: releaseRunsSync });
      const report = { onProgress: (d: number, t: number) => progress.update(d, t), onPart: (p: PartProgress) => progress.part(p) };
      let result: RunSummary | SkippedRun;
      try {
        if (spec.schedule) {
          const { spec: concrete, window } = resolveWindow(spec, flags.at ? parseTime(flags.at, '--at', spec.timezone) : undefined);
          result = await runJob(concrete, { window, force: flags.force, signal: interrupt.signal, ...(shard ? { shard } : {}), ...report });
        } else {
          if (flags.at || flags.force) throw new BatchinferError('USAGE', '--at and --force need a job with a `schedule`', { expected: 'a scheduled job', actual: 'no schedule' });
          result = await runJob(spec, { signal: interrupt.signal, ...(shard ? { shard } : {}), ...report });
        }
      } finally {
        progress.stop();
        interrupt.dispose();
      }
      if (!flags.quiet) process.stderr.write((result.status === 'skipped' ? formatSkipped(result) : formatSummary(result)) + '\n');
      // Shown even with --quiet: the output is committed (exit 0) but the summary file is missing.
      if (result.status === 'ok' && result.summaryError) process.stderr.write(`batchinfer: warning: ${result.summaryError}\n`);
      const checked = result.status === 'ok' && checks ? await (await import('../core/checkRun.js')).checkRun(result, checks) : null;
      if (checked) await printChecks(checked, flags.quiet ?? false);
      if (flags.json) process.stdout.write(JSON.stringify(checked ? { ...result, ...(checked.evaluation ? { evaluation: checked.evaluation } : {}), ...(checked.comparison ? { comparison: checked.comparison } : {}) } : result) + '\n');
      checkFailed((checked?.failed ?? false) || driftGate(result));
    });

  program
    .command('backfill')
    .argument('<job>', 'a scheduled job file')
    .requiredOption('--from <time>', 'first window start (ISO 8601, inclusive)')
    .requiredOption('--to <time>', 'end of the range (ISO 8601, exclusive)')
    .option('--continue-on-error', 'run the remaining windows after a failure')
    .option('--force', 're-score committed windows too')
    .option('--json', 'print the outcome of every window as JSON on stdout')
    .description('score every window of a scheduled job in a range, in order, skipping committed ones')
    .addHelpText('after', '\nExamples:\n  batchinfer backfill jobs/hourly.yaml --from 2026-11-28T00:00:00Z --to 2026-11-29T00:00:00Z\n  batchinfer backfill jobs/hourly.yaml --from 2026-11-28 --to 2026-11-29 --continue-on-error')
    .exitOverride()
    .action(async (job: string, flags: { from: string; to: string; continueOnError?: boolean; force?: boolean; json?: boolean }) => {
      const spec = await loadJob(job);
      requireSchedule(spec);
      const { backfill, releaseRunsSync } = await import('../core/windowRuns.js');
      const interrupt = interruptible({ releaseSync: releaseRunsSync });
      let outcomes: WindowOutcome[];
      try {
        outcomes = await backfill(spec, parseTime(flags.from, '--from', spec.timezone), parseTime(flags.to, '--to', spec.timezone), {
          continueOnError: flags.continueOnError,
          force: flags.force,
          signal: interrupt.signal,
          onWindow: (o) => process.stderr.write(formatOutcomeLine(o) + '\n'),
        });
      } finally {
        interrupt.dispose();
      }
      process.stderr.write(formatBackfill(outcomes) + '\n');
      if (flags.json) process.stdout.write(JSON.stringify(outcomes.map(outcomeJson)) + '\n');
      const failed = outcomes.find((o) => o.status === 'failed');
      if (failed?.error) process.exitCode = failed.error.exitCode;
      // A window whose drift gate failed is committed; the backfill still exits 1 for it, as `run --at` does (an error keeps its code).
      const drifted = outcomes.filter((o) => o.driftFailed);
      if (drifted.length > 0) process.stderr.write(`batchinfer: drift.fail_on found drift in ${drifted.length} window${drifted.length === 1 ? '' : 's'} (${drifted.map((o) => `${o.window.start.toISOString()}: ${o.driftFailed!.join(' and ')}`).join('; ')}): exit 1 (the outputs are committed)\n`);
      if (!failed) checkFailed(drifted.length > 0);
    });

  program
    .command('plan')
    .argument('<job>', 'a job file')
    .requiredOption('--shards <n>', 'the number of shards to split the input into')
    .option('--at <time>', 'scheduled jobs: the window starting at this ISO 8601 time (default: the last complete window)')
    .option('--json', 'print the plan as JSON on stdout')
    .description("show how a sharded run (run --shard I/N) splits the job's input: row groups and CSV files in contiguous ranges balanced by rows")
    .addHelpText('after', '\nExamples:\n  batchinfer plan jobs/transactions-mlp.yaml --shards 4\n  batchinfer plan jobs/transactions-mlp.yaml --shards 4 --json')
    .exitOverride()
    .action(async (job: string, flags: { shards: string; at?: string; json?: boolean }) => {
      const { parseCount } = await import('../shard/shardIndex.js');
      const shards = parseCount(flags.shards, '--shards');
      const spec = await checkedJob(job, {});
      const { planJob } = await import('../core/planJob.js');
      let report;
      if (spec.schedule) {
        const { resolveWindow } = await import('../core/windowRuns.js');
        const { spec: concrete, window } = resolveWindow(spec, flags.at ? parseTime(flags.at, '--at', spec.timezone) : undefined);
        report = await planJob(concrete, shards, window);
      } else {
        if (flags.at) throw new BatchinferError('USAGE', '--at needs a job with a `schedule`', { expected: 'a scheduled job', actual: 'no schedule' });
        report = await planJob(spec, shards);
      }
      const { formatPlan } = await import('./shardReport.js');
      process.stdout.write((flags.json ? JSON.stringify(report) : formatPlan(report)) + '\n');
    });

  program
    .command('commit')
    .argument('<job>', 'the job file the shards ran')
    .requiredOption('--shards <n>', 'the number of shards the run was split into')
    .option('--at <time>', 'scheduled jobs: the window starting at this ISO 8601 time (default: the last complete window)')
    .option('--json', 'print the summary as JSON on stdout')
    .option('--quiet', 'no human summary')
    .description("write a sharded run's output once every shard is done: checks each shard's manifest, then commits the output exactly as one run would, atomically")
    .addHelpText('after', '\nRun it as a job depending on the shards (Slurm --dependency=afterok, a Job after the Indexed Job, AWS Batch dependsOn).\n\nExamples:\n  batchinfer commit jobs/big.yaml --shards 8\n  batchinfer commit jobs/big.yaml --shards 8 --json')
    .exitOverride()
    .action(async (job: string, flags: { shards: string; at?: string; json?: boolean; quiet?: boolean }) => {
      const { parseCount } = await import('../shard/shardIndex.js');
      const shards = parseCount(flags.shards, '--shards');
      const { spec, window } = await jobWindow(job, flags.at);
      const { commitSharded } = await import('../core/commitSharded.js');
      const { releaseRunsSync } = await import('../core/runJob.js');
      const interrupt = interruptible({ releaseSync: releaseRunsSync });
      let result;
      try {
        result = await commitSharded(spec, shards, window);
      } finally {
        interrupt.dispose();
      }
      const { formatShardedCommit } = await import('./shardReport.js');
      if (!flags.quiet) process.stderr.write(formatShardedCommit(result) + '\n');
      if (result.status === 'ok' && result.summaryError) process.stderr.write(`batchinfer: warning: ${result.summaryError}\n`);
      if (flags.json) process.stdout.write(JSON.stringify(result) + '\n');
      checkFailed(driftGate(result));
    });

  program
    .command('verify')
    .argument('<job>', 'the job file the shards ran')
    .requiredOption('--shards <n>', 'the number of shards the run was split into')
    .option('--at <time>', 'scheduled jobs: the window starting at this ISO 8601 time (default: the last complete window)')
    .option('--json', 'print {complete, committed, missing, failed, stale} as JSON on stdout')
    .description('say which shards of a sharded run are done and which to rerun (with the commands); exit 0 when all are, 1 when not')
    .addHelpText('after', '\nExamples:\n  batchinfer verify jobs/big.yaml --shards 8\n  batchinfer verify jobs/big.yaml --shards 8 --json')
    .exitOverride()
    .action(async (job: string, flags: { shards: string; at?: string; json?: boolean }) => {
      const { parseCount } = await import('../shard/shardIndex.js');
      const shards = parseCount(flags.shards, '--shards');
      const { spec, window } = await jobWindow(job, flags.at);
      const { verifySharded } = await import('../core/commitSharded.js');
      const report = await verifySharded(spec, shards, window);
      const { formatShardStatus } = await import('./shardReport.js');
      if (flags.json) process.stdout.write(JSON.stringify(report) + '\n');
      else process.stdout.write((report.outputCommitted ? `batchinfer: the output ${spec.output} is committed from all ${shards} shards` : formatShardStatus(report, job, shards, window?.start.toISOString())) + '\n');
      checkFailed(!report.complete);
    });

  program
    .command('status')
    .argument('<job>', 'a scheduled job file')
    .option('--from <time>', 'first window start (ISO 8601); default: the last 24 windows')
    .option('--to <time>', 'end of the range (ISO 8601, exclusive)')
    .option('--json', 'print the windows as JSON on stdout')
    .description('list the windows of a scheduled job: committed, missing, failed, locked (running), partial (resumable) or sharding (shards in progress)')
    .addHelpText('after', '\nExamples:\n  batchinfer status jobs/hourly.yaml\n  batchinfer status jobs/hourly.yaml --from 2026-11-28T00:00:00Z --to 2026-11-29T00:00:00Z --json')
    .exitOverride()
    .action(async (job: string, flags: { from?: string; to?: string; json?: boolean }) => {
      const spec = await loadJob(job);
      requireSchedule(spec);
      const from = flags.from ? parseTime(flags.from, '--from', spec.timezone) : undefined;
      const to = flags.to ? parseTime(flags.to, '--to', spec.timezone) : undefined;
      const { jobStatus } = await import('../core/windowStatus.js');
      const states = await jobStatus(spec, from, to);
      process.stdout.write((flags.json ? JSON.stringify(states) : formatStatus(states)) + '\n');
    });

  addJobFlags(
    program
      .command('validate')
      .argument('[job]', 'job file (YAML or JSON)')
      .description('check a job against its model and dataset without scoring; reports every problem at once')
      .option('--json', 'print the validation report as JSON on stdout'),
  )
    .addHelpText('after', '\nExamples:\n  batchinfer validate jobs/transactions-mlp.yaml\n  batchinfer validate --model m.onnx --input x.parquet --output y.parquet')
    .exitOverride()
    .action(async (job: string | undefined, flags: RunFlags) => {
      const { validateJob } = await import('../core/validateJob.js');
      const report = await validateJob(await checkedJob(job, requireOneOff(job, flagsToJob(flags))));
      if (flags.json) process.stdout.write(JSON.stringify(report) + '\n');
      else process.stderr.write(formatValidation(report) + '\n');
    });

  program
    .command('inspect')
    .argument('<path>', 'an .onnx model, or a dataset (.parquet/.csv/.tsv file, .csv/.tsv also .gz or .zst; a glob or directory)')
    .description("show a model's inputs, outputs, opsets and metadata, or a dataset's columns, types and rows")
    .option('--json', 'print the report as JSON on stdout')
    .option('--data <path>', 'models: show which dataset column would feed each input')
    .option('--features <cols>', 'models, with --data: columns for the single [N,K] input, as run --features')
    .option('--csv-delimiter <char>', 'CSV datasets: , ; | or tab, as run --csv-delimiter')
    .option('--job <file>', 'models, with --data: build the inputs as this job file does (transforms), with min/mean/max per position on a sample')
    .addHelpText('after', '\nExamples:\n  batchinfer inspect fixtures/models/mlp.onnx\n  batchinfer inspect fixtures/models/percolumn.onnx --data fixtures/data/transactions.parquet\n  batchinfer inspect model.onnx --data x.parquet --job job.yaml\n  batchinfer inspect fixtures/data/transactions.parquet --json')
    .exitOverride()
    .action(async (path: string, flags: { json?: boolean; data?: string; features?: string; csvDelimiter?: string; job?: string }) => {
      const { inspectPath } = await import('../core/inspect.js');
      const features = flags.features?.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
      if (flags.job && !flags.data) throw new BatchinferError('USAGE', 'inspect --job needs --data: the dataset to build the inputs from', { expected: '--data <path>', actual: '--job without --data' });
      const report = await inspectPath(path, { data: flags.data, features, csvDelimiter: flags.csvDelimiter, job: flags.job });
      process.stdout.write((flags.json ? JSON.stringify(report) : formatReport(report)) + '\n');
    });

  program
    .command('evaluate')
    .argument('<scored>', 'a scored output of run (Parquet/CSV file, glob or directory) with a column holding the true label')
    .requiredOption('--label <column>', 'the column holding the true label (a class name as the prob_<label> columns spell it, or a number for regression)')
    .option('--task <task>', 'classification or regression (default: classification when the output has prob_ columns)')
    .option('--positive <label>', 'binary: the positive class (default: the second class, as with 0/1)')
    .option('--group-by <cols>', 'metrics per group of these columns, and the fairness differences between groups')
    .option('--min-group-rows <n>', 'groups with fewer rows are reported but left out of the differences', '30')
    .option('--target-precision <p>', 'binary: the lowest threshold whose precision reaches p')
    .option('--target-recall <r>', 'binary: the highest threshold whose recall reaches r')
    .option('--fail-below <gates>', 'exit 1 when a metric is below its bound, e.g. accuracy=0.9,roc_auc=0.95')
    .option('--fail-above <gates>', 'exit 1 when a metric is above its bound, e.g. log_loss=0.3,demographic_parity_difference=0.1')
    .option('--json', 'print the report as one JSON document on stdout')
    .description('measure a scored output against its true labels: accuracy, AUC, calibration, thresholds, per-group fairness; quality gates exit 1')
    .addHelpText(
      'after',
      `
A failed gate (or a gate on an undefined metric, such as the AUC of a single-class label)
exits 1 after the report; a gate naming an unknown metric is a usage error (exit 2).

Examples:
  batchinfer evaluate scores.parquet --label is_fraud
  batchinfer evaluate scores.parquet --label is_fraud --positive fraud --target-precision 0.9
  batchinfer evaluate scores.parquet --label is_fraud --group-by region --fail-above demographic_parity_difference=0.1
  batchinfer evaluate scores.parquet --label is_fraud --fail-below accuracy=0.9,roc_auc=0.95 --json
  batchinfer evaluate prices.parquet --label price --task regression`,
    )
    .exitOverride()
    .action(async (scored: string, flags: EvaluateFlags) => {
      const { parseGates } = await import('../evaluate/gates.js');
      const gates = [...(flags.failBelow ? parseGates(flags.failBelow, 'below') : []), ...(flags.failAbove ? parseGates(flags.failAbove, 'above') : [])];
      const { evaluateFile } = await import('../evaluate/evaluate.js');
      const report = await evaluateFile(scored, {
        label: flags.label,
        task: taskOption(flags.task),
        positive: flags.positive,
        groupBy: flags.groupBy ? listOption(flags.groupBy, '--group-by') : undefined,
        minGroupRows: number(flags.minGroupRows, '--min-group-rows'),
        targetPrecision: number(flags.targetPrecision, '--target-precision'),
        targetRecall: number(flags.targetRecall, '--target-recall'),
        gates: gates.length > 0 ? gates : undefined,
      });
      const { formatEvaluation, formatGates } = await import('./evaluateReport.js');
      process.stdout.write((flags.json ? JSON.stringify(report) : formatEvaluation(report)) + '\n');
      if (report.gates) process.stderr.write(formatGates(report) + '\n');
      checkFailed(report.gates?.passed === false);
    });

  program
    .command('compare')
    .argument('<actual>', 'the output to check (Parquet/CSV file, glob or directory)')
    .argument('<expected>', 'the golden output it should equal')
    .option('--key <cols>', 'match rows on these columns (unique in both files)')
    .option('--by-position', 'match rows by their position in file order')
    .option('--tolerance <abs>', 'floats: largest absolute difference that still counts as equal', '1e-6')
    .option('--rtol <rel>', 'floats: also equal within this share of the expected value (|a - e| <= tolerance + rtol x |e|)', '0')
    .option('--json', 'print the report as one JSON document on stdout')
    .description('compare an output with a golden file, row by row: missing, extra and differing rows per column; exit 1 when they differ')
    .addHelpText('after', '\nExit 0 when the files are equal, 1 when they differ (rows, values, columns or column types).\n\nExamples:\n  batchinfer compare out.parquet golden.parquet --key txn_id\n  batchinfer compare out.parquet golden.parquet --by-position --tolerance 0\n  batchinfer compare out.parquet golden.parquet --key txn_id --tolerance 1e-4 --rtol 1e-3 --json')
    .exitOverride()
    .action(async (actual: string, expected: string, flags: { key?: string; byPosition?: boolean; tolerance: string; rtol: string; json?: boolean }) => {
      const { compareFiles } = await import('../evaluate/compare.js');
      const report = await compareFiles(actual, expected, {
        key: flags.key ? listOption(flags.key, '--key') : undefined,
        byPosition: flags.byPosition,
        tolerance: number(flags.tolerance, '--tolerance'),
        rtol: number(flags.rtol, '--rtol'),
      });
      const { formatCompare } = await import('./evaluateReport.js');
      process.stdout.write((flags.json ? JSON.stringify(report) : formatCompare(report)) + '\n');
      checkFailed(!report.equal);
    });

  program
    .command('profile')
    .argument('<paths...>', 'a dataset (Parquet/CSV file, glob or directory); with --merge, profile files')
    .requiredOption('--output <file>', 'the profile to write (JSON, written atomically)')
    .option('--columns <cols>', 'profile only these columns (default: every number, string and boolean column)')
    .option('--merge', 'merge the profiles given into the profile of their union')
    .option('--file-mode <mode>', 'mode of the profile file, octal like 0640 (default: the umask\'s)')
    .option('--json', 'print the profile as JSON on stdout too')
    .description('profile a dataset (rows, NULLs, min, max, mean, std, quantile sketch, category counts) as a reference for drift, or merge profiles')
    .addHelpText('after', '\nExamples:\n  batchinfer profile train.parquet --output train.profile.json\n  batchinfer profile train.parquet --columns amount,region --output ref.profile.json\n  batchinfer profile --merge a.profile.json b.profile.json --output ab.profile.json')
    .exitOverride()
    .action(async (paths: string[], flags: { output: string; columns?: string; merge?: boolean; fileMode?: string; json?: boolean }) => {
      const fileMode = fileModeOption(flags.fileMode);
      const { writeProfile, readProfile } = await import('../profile/profileFile.js');
      let profile;
      if (flags.merge) {
        if (flags.columns) throw new BatchinferError('USAGE', '--columns is for profiling a dataset, not for --merge', { expected: 'profile DATA --columns ... or profile --merge A B ...', actual: '--merge with --columns' });
        const { mergeProfiles } = await import('../profile/profile.js');
        const profiles = [];
        for (const path of paths) profiles.push(await readProfile(path));
        profile = mergeProfiles(profiles);
      } else {
        if (paths.length !== 1) throw new BatchinferError('USAGE', 'profile takes one dataset (a glob or directory names many files); give --merge to merge profile files', { expected: 'one DATA path', actual: paths });
        const { Db } = await import('../db/duckdb.js');
        const { profileDataset } = await import('../profile/profileDataset.js');
        const db = await Db.open();
        try {
          const result = await profileDataset(db, paths[0]!, { columns: flags.columns ? listOption(flags.columns, '--columns') : undefined });
          profile = result.profile;
          if (result.skipped.length > 0) process.stderr.write(`batchinfer: left out columns of types a profile does not hold: ${result.skipped.map((c) => `${c.name} (${c.type})`).join(', ')}\n`);
        } finally {
          db.close();
        }
      }
      await writeProfile(flags.output, profile, fileMode);
      const { formatProfile } = await import('./driftReport.js');
      if (flags.json) process.stdout.write(JSON.stringify(profile) + '\n');
      else process.stderr.write(formatProfile(profile, flags.output) + '\n');
    });

  program
    .command('drift')
    .argument('[job]', 'a scheduled job file: the drift of each window in --from/--to against the reference')
    .option('--reference <ref>', "the reference: a profile (.json) or a dataset, profiled on the fly (with JOB: default the job's reference)")
    .option('--current <cur>', 'the data to check: a profile (.json) or a dataset (a scored output adds prediction drift)')
    .option('--from <time>', "with JOB: first window start (ISO 8601); default: the last 24 windows, as status")
    .option('--to <time>', 'with JOB: end of the range (ISO 8601, exclusive)')
    .option('--method <method>', 'what decides a column drifted: psi (> 0.2), ks (p < 0.05, Bonferroni over the columns), wasserstein (> 0.1, in reference standard deviations) or js (> 0.1)', 'psi')
    .option('--threshold <x>', "the method's threshold instead of its default (ks: the significance level)")
    .option('--drift-share <share>', 'dataset drift when at least this share of the columns drifted', '0.5')
    .option('--columns <cols>', 'compare only these columns')
    .option('--fail-on <what>', 'exit 1 when this drift is found (with JOB: in the latest window with a profile): column, dataset or prediction (comma-separated for several)')
    .option('--json', 'print the report as one JSON document on stdout')
    .description('compare data with a reference: per-column PSI, KS, Wasserstein, chi-square, Jensen-Shannon and NULL rates; dataset, prediction and schema drift; --fail-on exits 1. With a scheduled JOB: the series window by window')
    .addHelpText(
      'after',
      `
Every statistic is reported whatever the method; the method and threshold decide which
columns count as drifted. With --fail-on, drift found exits 1 after the report.
With a scheduled JOB, each committed window's _profile.json is compared with the reference and
the method's statistic is shown per column and window; --fail-on judges the latest window that
has a profile (exit 1 too when no window in the range has one: nothing was checked).

Examples:
  batchinfer drift --reference train.profile.json --current scores.parquet
  batchinfer drift --reference train.parquet --current today.parquet --method ks --json
  batchinfer drift --reference ref.profile.json --current cur.profile.json --fail-on dataset,prediction
  batchinfer drift jobs/hourly.yaml --from 2026-11-28T00:00:00Z --to 2026-11-29T00:00:00Z --fail-on dataset`,
    )
    .exitOverride()
    .action(async (job: string | undefined, flags: DriftFlags) => {
      const { DRIFT_METHODS, compareProfiles } = await import('../drift/drift.js');
      const method = DRIFT_METHODS.find((m) => m === flags.method);
      if (!method) throw new BatchinferError('USAGE', `--method takes ${DRIFT_METHODS.join(', ')}`, { expected: DRIFT_METHODS.join(', '), actual: flags.method });
      const failOn = flags.failOn === undefined ? [] : listOption(flags.failOn, '--fail-on');
      const wrong = failOn.find((f) => !['column', 'dataset', 'prediction'].includes(f));
      if (wrong) throw new BatchinferError('USAGE', '--fail-on takes column, dataset or prediction', { expected: 'column, dataset or prediction', actual: wrong });
      const options = { method, threshold: number(flags.threshold, '--threshold'), driftShare: number(flags.driftShare, '--drift-share'), columns: flags.columns ? listOption(flags.columns, '--columns') : undefined };
      if (job) return driftOfWindows(job, flags, options, failOn);
      if (flags.from || flags.to) throw new BatchinferError('USAGE', '--from and --to take a scheduled JOB: drift JOB --from T1 --to T2', { expected: 'drift JOB --from T1 --to T2', actual: 'no JOB' });
      if (!flags.reference || !flags.current) throw new BatchinferError('USAGE', 'drift compares --reference REF with --current CUR, or the windows of a scheduled JOB with its reference', { expected: 'drift --reference REF --current CUR, or drift JOB --from T1 --to T2', actual: `missing ${[flags.reference ? '' : '--reference', flags.current ? '' : '--current'].filter(Boolean).join(' and ')}` });
      const { profileOf } = await import('../profile/profileFile.js');
      let db: Db | undefined;
      const openDb = async (): Promise<Db> => (db ??= await (await import('../db/duckdb.js')).Db.open());
      let report;
      try {
        const reference = await profileOf(flags.reference, openDb, options.columns);
        const current = await profileOf(flags.current, openDb);
        report = compareProfiles(reference, current, options);
      } finally {
        db?.close();
      }
      const { formatDrift } = await import('./driftReport.js');
      process.stdout.write((flags.json ? JSON.stringify(report) : formatDrift(report)) + '\n');
      const found = { column: report.drifted_columns > 0, dataset: report.dataset_drift, prediction: report.prediction?.drifted ?? false };
      const failed = failOn.filter((f) => found[f as keyof typeof found]);
      if (failed.length > 0) process.stderr.write(`batchinfer: ${failed.join(' and ')} drift found (--fail-on ${failOn.join(',')}): exit 1\n`);
      checkFailed(failed.length > 0);
    });

  program
    .command('report')
    .argument('<output>', 'the output of a run (its summary, metrics and profile are read from beside it), or a scheduled job file (.yaml/.yml, or any job file with --from/--to)')
    .option('--reference <ref>', "add the drift against this reference: a profile (.json) or a dataset (with a job: instead of the job's reference)")
    .option('--from <time>', 'a scheduled job: first window start (ISO 8601); default: the last 24 windows, as status')
    .option('--to <time>', 'a scheduled job: end of the range (ISO 8601, exclusive)')
    .option('--method <method>', 'with --reference: psi, ks, wasserstein or js, as drift --method', 'psi')
    .option('--threshold <x>', "with --reference: the method's threshold, as drift --threshold")
    .option('-o, --out <file>', 'the HTML file to write (default <output>.report.html; for a job <job>.report.html beside the job file)')
    .option('--file-mode <mode>', "mode of the report file, octal like 0640 (default: the umask's)")
    .description('write one self-contained HTML report of a run: rows, time, rejects, predictions, drift and evaluation (no network needed to open it); of a scheduled job: its drift window by window')
    .addHelpText('after', '\nExamples:\n  batchinfer report scores.parquet\n  batchinfer report scores.parquet --reference train.profile.json -o report.html\n  batchinfer report jobs/hourly.yaml --from 2026-11-28T00:00:00Z --to 2026-11-29T00:00:00Z -o drift.html')
    .exitOverride()
    .action(async (output: string, flags: { reference?: string; from?: string; to?: string; method: string; threshold?: string; out?: string; fileMode?: string }) => {
      const fileMode = fileModeOption(flags.fileMode);
      const { DRIFT_METHODS } = await import('../drift/drift.js');
      const method = DRIFT_METHODS.find((m) => m === flags.method);
      if (!method) throw new BatchinferError('USAGE', `--method takes ${DRIFT_METHODS.join(', ')}`, { expected: DRIFT_METHODS.join(', '), actual: flags.method });
      const options = { method, threshold: number(flags.threshold, '--threshold') };
      const { writeFileAtomic } = await import('../sink/atomicFile.js');
      if (/\.ya?ml$/i.test(output) || flags.from || flags.to) {
        const { target, html } = await seriesReport(output, flags, options);
        await writeFileAtomic(target, html, fileMode);
        process.stderr.write(`report: ${target}\n`);
        return;
      }
      const { reportInputs } = await import('../core/reportInputs.js');
      const inputs = await reportInputs(output, { reference: flags.reference, ...options });
      const { renderReport } = await import('./htmlReport.js');
      const { outputTarget } = await import('../sink/outputPaths.js');
      const target = flags.out ?? `${outputTarget(output)}.report.html`;
      await writeFileAtomic(target, renderReport(inputs), fileMode);
      process.stderr.write(`report: ${target}\n`);
    });

  return program;
}

/** A run without a job file needs the three paths as flags. */
function requireOneOff<T extends { model?: string; input?: string | string[]; output?: string }>(job: string | undefined, overrides: T): T {
  if (job) return overrides;
  const missing = (['model', 'input', 'output'] as const).filter((k) => !overrides[k]).map((k) => `--${k}`);
  if (missing.length > 0) {
    throw new BatchinferError('USAGE', `give a job file, or ${missing.join(', ')}`, { expected: 'JOB.yaml or --model, --input and --output', actual: `missing ${missing.join(', ')}` });
  }
  return overrides;
}

/**
 * Commander's words on a bad command line, without the value of an unknown `--flag=value`
 * (it may be a secret); a flag named like a key says where keys come from instead.
 */
function usageError(message: string): BatchinferError {
  const unknown = /^unknown option '(--?[^=']*)(=[^']*)?'/.exec(message);
  if (!unknown) return new BatchinferError('USAGE', message);
  const flag = unknown[1]!;
  const newline = message.endsWith('\n') ? '\n' : '';
  if (/key/i.test(flag)) return new BatchinferError('USAGE', `${flag}: key values are never taken from the command line (ps and shell history show it): set BATCHINFER_KEY_<NAME> or name a key file in the job (encryption.keys.<NAME>.file)${newline}`);
  return new BatchinferError('USAGE', message.replace(unknown[0], `unknown option '${flag}'`));
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  // A command asked for JSON reports a failure as JSON on stdout too (scripts and CI parse one
  // stream either way); options stop at `--`.
  const end = argv.indexOf('--');
  const json = (end < 0 ? argv : argv.slice(0, end)).includes('--json');
  const report = (err: BatchinferError): void => {
    if (json) process.stdout.write(JSON.stringify(failureJson(err)) + '\n');
  };
  try {
    await program.parseAsync(argv);
    // A command that printed its own report may still fail (backfill with a failed window).
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; commander already printed its usage message.
      if (err.exitCode === 0) return EXIT.OK;
      report(usageError(err.message.replace(/^error: /, '')));
      return EXIT.USAGE;
    }
    if (isBatchinferError(err)) {
      process.stderr.write(formatError(err) + '\n');
      report(err);
      return err.exitCode;
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`batchinfer: INTERNAL: ${message}\nThis is a bug in batchinfer; please report it with the command you ran.\n`);
    if (process.env['BATCHINFER_DEBUG'] && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    report(new BatchinferError('INTERNAL', message));
    return EXIT.INTERNAL;
  }
}

// A closed pipe (`batchinfer inspect x | head`) is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? EXIT.OK);
    throw err;
  });
}

process.exitCode = await main(process.argv);
