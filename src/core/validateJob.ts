/**
 * `validate`: checks a job against its model and dataset without scoring, and describes
 * what a run would do (which columns feed which input, which columns come out, and the
 * execution plan).
 */
import { isBatchinferError, type Problem } from '../errors.js';
import { redactError, redactMessage } from '../util/redact.js';
import { Db } from '../db/duckdb.js';
import type { JobSpec } from '../spec/jobSpec.js';
import { openJobKeys } from './jobKeys.js';
import { prepareJob } from './prepare.js';
import { expressionReport, type ComputedReport } from './jobExpressions.js';
import { describeSteps, hasTransforms } from '../preprocess/transforms.js';
import { decisionOf, partitionKeys, type RunSummary } from './summary.js';
import { planExecution, type ExecutionPlan } from './executionPlan.js';

export interface ValidationReport {
  job: string;
  model: { path: string; sha256: string };
  /** `partitions`: the hive keys read as columns (none: left out). */
  input: { path: string; files: number; format: string; partitions?: { name: string; type: string }[]; computed?: ComputedReport[]; where?: string };
  /** `steps`: with transforms or one_hot, each position's steps in the order they apply. */
  feeds: { input: string; dtype: string; columns: string[]; steps?: string[][] }[];
  output: { path: string; mode: string; columns: string[]; task: string; scoredOutput: string; decision?: RunSummary['decision'] };
  /** What a run would warn about (e.g. a CSV column with some values that are not numbers). */
  notes: string[];
  /** What a run would do, decided before it reads a row (executionPlan.ts). */
  plan: ExecutionPlan;
}

export async function validateJob(spec: JobSpec): Promise<ValidationReport> {
  const db = await Db.open({ memoryLimit: spec.memoryLimit });
  try {
    await openJobKeys(db, spec);
    const job = await prepareJob(db, spec);
    return {
      job: spec.name,
      model: { path: spec.model, sha256: job.model.sha256 },
      input: { path: spec.input, files: job.dataset.files.length, format: job.dataset.format, ...partitionKeys(job), ...expressionReport(job.dataset) },
      feeds: job.feeds.map((f) => ({
        input: f.input,
        dtype: f.dtype,
        columns: f.columns.map((c) => c.column),
        ...(f.columns.some((c) => hasTransforms(c) || c.oneHot) ? { steps: f.columns.map(describeSteps) } : {}),
      })),
      output: { path: spec.output, mode: job.outputMode, columns: job.outputColumns, task: job.output.task, scoredOutput: job.output.outputName, ...(job.output.task === 'classification' ? decisionOf(job.output) : {}) },
      notes: spec.redact ? job.notes.map(redactMessage) : job.notes,
      plan: await planExecution(db, job, { window: null }),
    };
  } catch (err) {
    // Problems quoting the data (DuckDB's read errors) say no value with `redact`.
    throw spec.redact ? redactError(err) : err;
  } finally {
    db.close();
  }
}

/** The problems validation finds in `spec` (none when it is valid), for a report that also lists the job's own. */
export async function validationProblems(spec: JobSpec): Promise<Problem[]> {
  try {
    await validateJob(spec);
    return [];
  } catch (err) {
    if (!isBatchinferError(err)) throw err;
    return err.problems.length > 0 ? [...err.problems] : [{ code: err.code, message: err.message, expected: err.expected, actual: err.actual }];
  }
}
