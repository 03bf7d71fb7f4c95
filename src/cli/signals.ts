/**
 * SIGTERM and SIGINT: the first one aborts the run (it stops taking batches, keeps its
 * journal, removes its lock, and exits 143 or 130); a second one, or the 5-second deadline,
 * exits at once after removing the lock synchronously.
 */
import { EXIT } from '../errors.js';
import { releaseHeldLocksSync } from '../sink/lock.js';

const DEADLINE_MS = 4500;

export interface Interruptible {
  signal: AbortSignal;
  dispose(): void;
}

export function interruptible(onInterrupt?: (signal: string) => void): Interruptible {
  const controller = new AbortController();
  const handler = (signal: NodeJS.Signals): void => {
    const code = signal === 'SIGINT' ? EXIT.SIGINT : EXIT.SIGTERM;
    if (controller.signal.aborted) {
      releaseHeldLocksSync();
      process.exit(code);
    }
    onInterrupt?.(signal);
    controller.abort(signal);
    setTimeout(() => {
      process.stderr.write(`batchinfer: INTERRUPTED: did not stop within ${DEADLINE_MS / 1000} s of ${signal}; exiting now\n`);
      releaseHeldLocksSync();
      process.exit(code);
    }, DEADLINE_MS).unref();
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGTERM', handler);
      process.off('SIGINT', handler);
    },
  };
}
