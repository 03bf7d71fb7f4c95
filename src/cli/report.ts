/** Human-readable text for summaries and errors (stderr). */
import type { RunSummary } from '../core/summary.js';
import { errorMessage, type BatchinferError } from '../errors.js';

export function formatError(err: BatchinferError): string {
  return `batchinfer: ${err.code}: ${errorMessage(err)}`;
}

export function formatSummary(s: RunSummary): string {
  const lines = [
    `batchinfer: scored ${s.rows.out.toLocaleString('en-US')} rows in ${s.seconds.wall.toFixed(2)} s (${s.rowsPerSecond.toLocaleString('en-US')} rows/s) -> ${s.output.path}`,
    `  task ${s.task}${s.scores ? `, scores read as ${s.scores.kind} (decided by ${s.scores.decidedBy})` : ''}${s.labels ? `, labels from ${s.labels.source}` : ''}`,
    `  ${s.batches} batches of ${s.batchSize}, ${s.workers} workers x ${s.threadsPerWorker} threads; batch p50 ${s.batchLatencyMs.p50} ms, p95 ${s.batchLatencyMs.p95} ms; peak RSS ${s.peakRssMb} MB`,
    `  seconds: read ${s.seconds.read}, preprocess ${s.seconds.preprocess}, infer ${s.seconds.infer}, postprocess ${s.seconds.postprocess}, write ${s.seconds.write}`,
  ];
  for (const w of s.warnings) lines.push(`  warning: ${w}`);
  return lines.join('\n');
}
