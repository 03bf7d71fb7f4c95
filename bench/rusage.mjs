// Preloaded into every measured process (`node --import ./bench/rusage.mjs`): at exit it writes
// the process's own CPU time and peak RSS (all threads, workers included) to $BENCH_RUSAGE_FILE.
import { writeFileSync } from 'node:fs';

const file = process.env.BENCH_RUSAGE_FILE;
if (file) {
  process.on('exit', () => {
    const u = process.resourceUsage();
    writeFileSync(file, JSON.stringify({ cpuSeconds: (u.userCPUTime + u.systemCPUTime) / 1e6, peakRssMb: u.maxRSS / 1024 }));
  });
}
