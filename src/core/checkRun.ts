/**
 * The checks a run makes on the output it just committed (`run --evaluate`, `run --expect`):
 * the metrics of its scores against the labels a passthrough column holds, written beside the
 * summary as `<output>.metrics.json` (a window's as `_metrics.json` inside it), with their
 * gates; and a comparison with a golden output. A failed check does not undo the commit (the
 * scores are valid; the model or the change is not good enough): the CLI exits 1 and says so.
 */
import { join } from 'node:path';
import { Db } from '../db/duckdb.js';
import { evaluateOutput, type EvaluateOptions, type EvaluationReport } from '../evaluate/evaluate.js';
import { compareOutputs, type CompareOptions, type CompareReport } from '../evaluate/compare.js';
import { writeFileAtomic } from '../sink/atomicFile.js';
import { outputTarget } from '../sink/outputPaths.js';
import type { RunSummary } from './summary.js';
import type { EncryptionSpec } from '../spec/encryption.js';
import { openOutputKey } from './jobKeys.js';

export interface RunChecks {
  evaluate?: EvaluateOptions;
  expect?: CompareOptions & { golden: string };
  /** Mode of the metrics file (the job's `file_mode`; default: the umask's). */
  fileMode?: number;
  /** The job's keys: an encrypted output is read with its output key. */
  encryption?: EncryptionSpec;
}

export interface RunCheckResult {
  evaluation?: EvaluationReport & { path: string };
  comparison?: CompareReport & { golden: string };
  /** A gate failed or the output differs from the golden one. */
  failed: boolean;
}

/** Where a run's metrics go: beside its summary. */
export function metricsPath(output: string, windowed: boolean): string {
  return windowed ? join(outputTarget(output), '_metrics.json') : outputTarget(output) + '.metrics.json';
}

export async function checkRun(summary: RunSummary, checks: RunChecks): Promise<RunCheckResult> {
  const output = summary.output.path;
  const db = await Db.open();
  try {
    await openOutputKey(db, checks.encryption);
    const result: RunCheckResult = { failed: false };
    if (checks.evaluate) {
      const report = await evaluateOutput(db, output, checks.evaluate);
      const path = metricsPath(output, summary.window !== undefined);
      await writeFileAtomic(path, JSON.stringify(report, null, 2) + '\n', checks.fileMode);
      result.evaluation = { ...report, path };
      if (report.gates?.passed === false) result.failed = true;
    }
    if (checks.expect) {
      const { golden, ...options } = checks.expect;
      const report = await compareOutputs(db, output, golden, options);
      result.comparison = { ...report, golden };
      if (!report.equal) result.failed = true;
    }
    return result;
  } finally {
    db.close();
  }
}
