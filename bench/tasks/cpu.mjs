// The CPU a raw task's timed section spends, reported beside its wall time so the bench can
// say what the same work costs any tool on this machine's cores (the floors in bench/run.ts).

/** CPU seconds of the whole process (every thread: DuckDB's, the inference workers') since `start` (a `process.cpuUsage()`). */
export function cpuSince(start) {
  const { user, system } = process.cpuUsage(start);
  return (user + system) / 1e6;
}
