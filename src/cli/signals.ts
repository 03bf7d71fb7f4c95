/**
 * SIGTERM and SIGINT: the first one aborts the run (it stops taking batches, keeps its
 * journal, removes its lock, and exits 143 or 130); a second one, or the 4.5-second deadline,
 * removes the lock synchronously (the `releaseSync` the caller hands in) and ends the process
 * at once (see `endBySignal`).
 */
import { EXIT } from '../errors.js';

const DEADLINE_MS = 4500;

export interface Interruptible {
  signal: AbortSignal;
  dispose(): void;
}

export interface InterruptOptions {
  /** Called on the first signal (e.g. to stop a progress line). */
  onInterrupt?(signal: string): void;
  /** Undoes synchronously what the runs hold (their locks) before the process ends at once. */
  releaseSync(): void;
}

export function interruptible({ onInterrupt, releaseSync }: InterruptOptions): Interruptible {
  const controller = new AbortController();
  const endNow = (signal: NodeJS.Signals): never => {
    releaseSync();
    return endBySignal(signal);
  };
  const handler = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) endNow(signal);
    onInterrupt?.(signal);
    controller.abort(signal);
    setTimeout(() => {
      process.stderr.write(`batchinfer: INTERRUPTED: did not stop within ${DEADLINE_MS / 1000} s of ${signal}; exiting now\n`);
      endNow(signal);
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

/**
 * Ends the process by the signal's own default action (after `releaseSync` removed the lock). `process.exit`
 * cannot promise that: it first joins libuv's threadpool, which waits forever for a thread
 * stuck in a system call (an open() of a FIFO no one writes, a read from a hung network
 * mount), and native addons' exit hooks can wait on their threads too. A process ended by
 * SIGTERM (SIGINT) is reported by shells as 143 (130), the codes a run that stops in time
 * exits with.
 */
function endBySignal(signal: NodeJS.Signals): never {
  // With no listener left, Node restores the default action: the signal terminates.
  process.removeAllListeners(signal);
  process.kill(process.pid, signal);
  // Only reached where a signal cannot end the process this way (Windows).
  process.exit(signal === 'SIGINT' ? EXIT.SIGINT : EXIT.SIGTERM);
}
