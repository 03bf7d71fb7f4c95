/**
 * Crash points for tests: `BATCHINFER_FAILPOINT=name` (or `name:N` for the N-th time it is
 * reached) makes the process kill itself with SIGKILL there, as a power cut or an OOM kill
 * would. Lets the crash-resume tests hit exact moments (mid-journal, mid-commit) instead of
 * racing a timer. `name:N:pause=MS` blocks the process there for MS milliseconds instead (a
 * run that holds its lock long enough for another to meet it). `name:N:stall=PATH` opens
 * PATH on libuv's threadpool and never waits for it: with a FIFO no one writes, that thread
 * stays blocked in open() (as one reading a hung network file system would), and an exit
 * that joins the threadpool never finishes. Unset in production: the check is one
 * environment lookup.
 */
import { open } from 'node:fs';

const spec = process.env['BATCHINFER_FAILPOINT'];
const counts = new Map<string, number>();

export function failpoint(name: string): void {
  if (!spec) return;
  for (const entry of spec.split(',')) {
    const [point, nth, action] = entry.split(':');
    if (point !== name) continue;
    const seen = (counts.get(name) ?? 0) + 1;
    counts.set(name, seen);
    if (seen !== Number(nth || 1)) continue;
    const pause = /^pause=(\d+)$/.exec(action ?? '');
    const stall = /^stall=(.+)$/.exec(action ?? '');
    if (pause) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(pause[1]));
    else if (stall) open(stall[1]!, 'r', () => undefined);
    else process.kill(process.pid, 'SIGKILL');
  }
}
