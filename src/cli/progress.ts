/**
 * Progress on stderr. On a terminal, a bar updated after each batch. Otherwise (cron, a
 * Kubernetes log, CI) a line per durable part: rows done, rows per second of this run, time
 * elapsed and left, as text or as one JSON object a line (`--log-format json`), so an
 * hour-long unattended run says how it goes.
 */
import { createRequire } from 'node:module';
import type cliProgressTypes from 'cli-progress';
import type { PartProgress } from '../core/scoreFiles.js';

export type LogFormat = 'text' | 'json';

export interface Progress {
  update(done: number, total: number): void;
  part(progress: PartProgress): void;
  stop(): void;
}

const SILENT: Progress = { update() {}, part() {}, stop() {} };

export function createProgress(enabled: boolean, format: LogFormat = 'text', stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!enabled) return SILENT;
  return stream.isTTY ? progressBar(stream) : partLines(format, stream);
}

function progressBar(stream: NodeJS.WriteStream): Progress {
  // Loaded only for a terminal: scheduled and CI runs do not pay its start-up time.
  const cliProgress = createRequire(import.meta.url)('cli-progress') as typeof cliProgressTypes;
  const bar = new cliProgress.SingleBar(
    { stream, format: 'scoring [{bar}] {percentage}% | {value}/{total} rows | {eta}s left', hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total) {
      if (!started) {
        bar.start(total, done);
        started = true;
      } else {
        bar.setTotal(Math.max(total, done));
        bar.update(done);
      }
    },
    part() {},
    stop() {
      if (started) bar.stop();
    },
  };
}

/** What a part line says; the rate counts only the rows this run scored (not those resumed). */
export function partLine(p: PartProgress, elapsedSeconds: number): { rowsDone: number; rowsTotal: number; rowsPerSecond: number; elapsedSeconds: number; etaSeconds: number | null } {
  const scored = p.rowsDone - p.rowsResumed;
  const rate = elapsedSeconds > 0 ? scored / elapsedSeconds : 0;
  const left = Math.max(0, p.rowsTotal - p.rowsDone);
  return { rowsDone: p.rowsDone, rowsTotal: p.rowsTotal, rowsPerSecond: Math.round(rate), elapsedSeconds: round1(elapsedSeconds), etaSeconds: rate > 0 ? round1(left / rate) : null };
}

function partLines(format: LogFormat, stream: NodeJS.WriteStream): Progress {
  const started = performance.now();
  return {
    update() {},
    part(p) {
      const line = partLine(p, (performance.now() - started) / 1000);
      if (format === 'json') {
        stream.write(JSON.stringify({ event: 'part', ...line }) + '\n');
        return;
      }
      const share = line.rowsTotal > 0 ? ` (${Math.floor((100 * line.rowsDone) / line.rowsTotal)}%)` : '';
      const eta = line.etaSeconds === null ? '' : `, ${line.etaSeconds} s left`;
      stream.write(`batchinfer: ${line.rowsDone.toLocaleString('en-US')} of ${line.rowsTotal.toLocaleString('en-US')} rows${share}, ${line.rowsPerSecond.toLocaleString('en-US')} rows/s, ${line.elapsedSeconds} s elapsed${eta}\n`);
    },
    stop() {},
  };
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
