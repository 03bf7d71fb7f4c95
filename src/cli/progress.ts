/** A progress bar on stderr, only when stderr is a terminal. */
import { createRequire } from 'node:module';
import type cliProgressTypes from 'cli-progress';

export interface Progress {
  update(done: number, total: number): void;
  stop(): void;
}

export function createProgress(enabled: boolean): Progress {
  if (!enabled || !process.stderr.isTTY) return { update() {}, stop() {} };
  // Loaded only for a terminal: scheduled and CI runs do not pay its start-up time.
  const cliProgress = createRequire(import.meta.url)('cli-progress') as typeof cliProgressTypes;
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: 'scoring [{bar}] {percentage}% | {value}/{total} rows | {eta}s left', hideCursor: true, clearOnComplete: true },
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
    stop() {
      if (started) bar.stop();
    },
  };
}
