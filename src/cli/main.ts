/**
 * The command line: the only place that reads argv, writes stdout/stderr and sets the exit
 * code. Every command calls a library function and prints its result; the single catch at
 * the bottom turns errors into one line and an exit code.
 */
import { Command, CommanderError } from 'commander';
import { BatchinferError, EXIT, isBatchinferError } from '../errors.js';
import { loadJob } from '../spec/loadJob.js';
import { runJob } from '../core/runJob.js';
import { batchinferVersion } from '../core/summary.js';
import { inspectPath, formatReport } from '../core/inspect.js';
import { validateJob, formatValidation } from '../core/validateJob.js';
import { addJobFlags, flagsToJob, type JobFlags } from './jobFlags.js';
import { formatError, formatSummary } from './report.js';
import { createProgress } from './progress.js';

interface RunFlags extends JobFlags {
  json?: boolean;
  quiet?: boolean;
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
      .option('--json', 'print the run summary as JSON on stdout')
      .option('--quiet', 'no progress bar and no human summary'),
  )
    .addHelpText(
      'after',
      `
Examples:
  batchinfer run jobs/transactions-mlp.yaml
  batchinfer run jobs/transactions-mlp.yaml --batch-size 4096 --workers 1 --json
  batchinfer run --model m.onnx --input x.parquet --output y.parquet --features a,b,c --passthrough id`,
    )
    .exitOverride()
    .action(async (job: string | undefined, flags: RunFlags) => {
      const spec = await loadJob(job, requireOneOff(job, flagsToJob(flags)));
      const progress = createProgress(!flags.quiet);
      let summary;
      try {
        summary = await runJob(spec, { onProgress: (done, total) => progress.update(done, total) });
      } finally {
        progress.stop();
      }
      if (!flags.quiet) process.stderr.write(formatSummary(summary) + '\n');
      if (flags.json) process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
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
      const report = await validateJob(await loadJob(job, requireOneOff(job, flagsToJob(flags))));
      if (flags.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
      else process.stderr.write(formatValidation(report) + '\n');
    });

  program
    .command('inspect')
    .argument('<path>', 'an .onnx model, or a dataset (.parquet/.csv file, glob or directory)')
    .description("show a model's inputs, outputs, opsets and metadata, or a dataset's columns, types and rows")
    .option('--json', 'print the report as JSON on stdout')
    .addHelpText('after', '\nExamples:\n  batchinfer inspect fixtures/models/mlp.onnx\n  batchinfer inspect fixtures/data/transactions.parquet --json')
    .exitOverride()
    .action(async (path: string, flags: { json?: boolean }) => {
      const report = await inspectPath(path);
      process.stdout.write((flags.json ? JSON.stringify(report, null, 2) : formatReport(report)) + '\n');
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
  try {
    await program.parseAsync(argv);
    return EXIT.OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; commander already printed its usage message.
      return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    if (isBatchinferError(err)) {
      process.stderr.write(formatError(err) + '\n');
      return err.exitCode;
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`batchinfer: INTERNAL: ${message}\nThis is a bug in batchinfer; please report it with the command you ran.\n`);
    if (process.env['BATCHINFER_DEBUG'] && err instanceof Error) process.stderr.write(`${err.stack}\n`);
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
