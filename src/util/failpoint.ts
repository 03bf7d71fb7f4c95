/**
 * Crash points for tests: `BATCHINFER_FAILPOINT=name` (or `name:N` for the N-th time it is
 * reached) makes the process kill itself with SIGKILL there, as a power cut or an OOM kill
 * would. Lets the crash-resume tests hit exact moments (mid-journal, mid-commit) instead of
 * racing a timer. `name:N:pause=MS` blocks the process there for MS milliseconds instead (a
 * run that holds its lock long enough for another to meet it). Unset in production: the
 * check is one environment lookup.
 */
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
    if (pause) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(pause[1]));
    else process.kill(process.pid, 'SIGKILL');
  }
}
