/**
 * The command line: the only place that reads argv, writes stdout/stderr and sets the exit
 * code. Every command calls a library function and prints its result; the single catch at
 * the bottom turns errors into one line and an exit code.
 */
import { Command, CommanderError } from 'commander';
import { BatchinferError, EXIT, isBatchinferError } from '../errors.js';
import { loadJob, loadJobChecked } from '../spec/loadJob.js';
import { batchinferVersion } from '../version.js';
import { addJobFlags, flagsToJob, type JobFlags } from './jobFlags.js';
import type { JobFile } from '../spec/jobSpec.js';
import { failureJson, formatBackfill, formatError, formatOutcomeLine, formatSkipped, formatStatus, formatSummary, outcomeJson } from './report.js';
import { createProgress, type LogFormat } from './progress.js';
import { formatReport, formatValidation } from './formatReports.js';
import type { PartProgress } from '../core/scoreFiles.js';
import { interruptible } from './signals.js';
import type { WindowOutcome } from '../core/windowRuns.js';
import { parseTime } from '../schedule/window.js';
import type { RunSummary, SkippedRun } from '../core/summary.js';
import type { JobSpec } from '../spec/jobSpec.js';

interface RunFlags extends JobFlags {
  json?: boolean;
  quiet?: boolean;
  at?: string;
  force?: boolean;
  logFormat?: string;
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
      outputError: (s, write) => write(`batchinfer: USAGE: ${s.replace(/^error: /, '')}`),
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
      .option('--log-format <format>', 'progress lines when stderr is not a terminal (one per finished part): text or json', 'text'),
  )
    .addHelpText(
      'after',
      `
Examples:
  batchinfer run jobs/transactions-mlp.yaml
  batchinfer run jobs/transactions-mlp.yaml --batch-size 4096 --workers 1 --json
  batchinfer run --model m.onnx --input x.parquet --output y.parquet --features a,b,c --passthrough id
  batchinfer run jobs/hourly.yaml --at 2026-11-29T08:00:00Z`,
    )
    .exitOverride()
    .action(async (job: string | undefined, flags: RunFlags) => {
      const spec = await checkedJob(job, requireOneOff(job, flagsToJob(flags)));
      // The engines load only for commands that use them: --help and inspect of a model stay fast.
      const { runJob } = await import('../core/runJob.js');
      const { resolveWindow } = await import('../core/windowRuns.js');
      const progress = createProgress(!flags.quiet, logFormat(flags.logFormat));
      const interrupt = interruptible(() => progress.stop());
      const report = { onProgress: (d: number, t: number) => progress.update(d, t), onPart: (p: PartProgress) => progress.part(p) };
      let result: RunSummary | SkippedRun;
      try {
        if (spec.schedule) {
          const { spec: concrete, window } = resolveWindow(spec, flags.at ? parseTime(flags.at, '--at', spec.timezone) : undefined);
          result = await runJob(concrete, { window, force: flags.force, signal: interrupt.signal, ...report });
        } else {
          if (flags.at || flags.force) throw new BatchinferError('USAGE', '--at and --force need a job with a `schedule`', { expected: 'a scheduled job', actual: 'no schedule' });
          result = await runJob(spec, { signal: interrupt.signal, ...report });
        }
      } finally {
        progress.stop();
        interrupt.dispose();
      }
      if (!flags.quiet) process.stderr.write((result.status === 'skipped' ? formatSkipped(result) : formatSummary(result)) + '\n');
      // Shown even with --quiet: the output is committed (exit 0) but the summary file is missing.
      if (result.status === 'ok' && result.summaryError) process.stderr.write(`batchinfer: warning: ${result.summaryError}\n`);
      if (flags.json) process.stdout.write(JSON.stringify(result) + '\n');
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
      const { backfill } = await import('../core/windowRuns.js');
      const interrupt = interruptible();
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
    });

  program
    .command('status')
    .argument('<job>', 'a scheduled job file')
    .option('--from <time>', 'first window start (ISO 8601); default: the last 24 windows')
    .option('--to <time>', 'end of the range (ISO 8601, exclusive)')
    .option('--json', 'print the windows as JSON on stdout')
    .description('list the windows of a scheduled job: committed, missing, failed, locked (running) or partial (resumable)')
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
    .addHelpText('after', '\nExamples:\n  batchinfer inspect fixtures/models/mlp.onnx\n  batchinfer inspect fixtures/models/percolumn.onnx --data fixtures/data/transactions.parquet\n  batchinfer inspect fixtures/data/transactions.parquet --json')
    .exitOverride()
    .action(async (path: string, flags: { json?: boolean; data?: string; features?: string; csvDelimiter?: string }) => {
      const { inspectPath } = await import('../core/inspect.js');
      const features = flags.features?.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
      const report = await inspectPath(path, { data: flags.data, features, csvDelimiter: flags.csvDelimiter });
      process.stdout.write((flags.json ? JSON.stringify(report) : formatReport(report)) + '\n');
    });

  return program;
}

/** A run without a job file needs the three paths as flags. */
function requireOneOff<T extends { model?: string; input?: string; output?: string }>(job: string | undefined, overrides: T): T {
  if (job) return overrides;
  const missing = (['model', 'input', 'output'] as const).filter((k) => !overrides[k]).map((k) => `--${k}`);
  if (missing.length > 0) {
    throw new BatchinferError('USAGE', `give a job file, or ${missing.join(', ')}`, { expected: 'JOB.yaml or --model, --input and --output', actual: `missing ${missing.join(', ')}` });
  }
  return overrides;
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
      report(new BatchinferError('USAGE', err.message.replace(/^error: /, '')));
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
