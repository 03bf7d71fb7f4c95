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
import type { FeedPlan } from '../preprocess/featurePlan.js';

export interface ValidationReport {
  job: string;
  model: { path: string; sha256: string };
  /** `partitions`: the hive keys read as columns (none: left out). */
  input: { path: string; files: number; format: string; partitions?: { name: string; type: string }[]; computed?: ComputedReport[]; where?: string };
  /**
   * `steps`: with transforms, one_hot or a reference fill, each position's steps in the order
   * they apply; `fills`: the values `fill_null: mean|median` took from the reference profile.
   */
  feeds: { input: string; dtype: string; columns: string[]; steps?: string[][]; fills?: ReferenceFillReport[] }[];
  output: { path: string; mode: string; columns: string[]; task: string; scoredOutput: string; decision?: RunSummary['decision'] };
  /** What a run would warn about (e.g. a CSV column with some values that are not numbers). */
  notes: string[];
  /** What a run would do, decided before it reads a row (executionPlan.ts). */
  plan: ExecutionPlan;
}

/** A NULL fill taken from the job's reference profile: the column, the statistic, the value used. */
export interface ReferenceFillReport {
  column: string;
  stat: 'mean' | 'median';
  value: number;
  reference: string;
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
      feeds: job.feeds.map((f) => {
        const fills = referenceFills(f, spec.reference);
        return {
          input: f.input,
          dtype: f.dtype,
          columns: f.columns.map((c) => c.column),
          ...(f.columns.some((c) => hasTransforms(c) || c.oneHot) || fills.length > 0 ? { steps: f.columns.map(describeSteps) } : {}),
          ...(fills.length > 0 ? { fills } : {}),
        };
      }),
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

function referenceFills(feed: FeedPlan, reference: string | undefined): ReferenceFillReport[] {
  return feed.columns.flatMap((c) => (c.nulls.kind === 'fill' && c.nulls.stat ? [{ column: c.column, stat: c.nulls.stat, value: Number(c.nulls.value), reference: reference ?? '' }] : []));
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
