/**
 * Runs a command as a whole Node process, repeatedly, and reports medians of wall time, CPU
 * time and peak RSS (read by bench/rusage.mjs inside the process) plus the process's own
 * JSON report (`{"seconds": ...}` from the raw tasks, the run summary from batchinfer).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mulberry32 } from '../scripts/fixtures/rng.js';

export interface Measurement {
  name: string;
  rows: number;
  repetitions: number;
  wallSeconds: number;
  /** Each repetition's wall seconds, in the order run: how far the median can be trusted. */
  walls: number[];
  cpuSeconds: number;
  peakRssMb: number;
  /** The timed section reported by the process itself (raw tasks), else wall. */
  innerSeconds: number;
  /** Raw tasks: CPU seconds of the timed section (every thread of the process). */
  innerCpuSeconds?: number;
  rowsPerSecond: number;
  /** batchinfer only: the summary's seconds per stage (medians), where a run's time goes. */
  stages?: Record<string, number>;
}

const RUSAGE_HOOK = new URL('./rusage.mjs', import.meta.url).pathname;

/** One process to measure: `args` after `node`, expected to report `rows` rows. */
export interface Task {
  name: string;
  rows: number;
  args: string[];
}

/**
 * Runs every task `repetitions` times, in rounds (every task once, then again, in another
 * order: `roundOrder`), so a slow spell of the host weighs on all the figures alike and the
 * ratios between them hold.
 */
export async function measureAll(tasks: readonly Task[], repetitions: number, onRound?: (round: number) => void): Promise<Measurement[]> {
  const runs = tasks.map((): Run[] => []);
  for (let r = 0; r < repetitions; r++) {
    for (const i of roundOrder(tasks.length, r)) runs[i]!.push(await runOnce(tasks[i]!.args, tasks[i]!.rows));
    onRound?.(r + 1);
  }
  return tasks.map((task, i) => summarize(task, runs[i]!));
}

/**
 * The order of round `round`'s tasks: the listed order first, then shuffled (seeded: the same
 * orders every bench). A task's place in a round weighs on it: listed after the MLP's and the
 * CSV read, the logistic regression's `auto` run took 0.98 s against 0.92 s at 4096 rows, where
 * alternating runs give the two alike (docs/performance.md). Shuffled, a median of rounds is
 * not the median of one place.
 */
export function roundOrder(tasks: number, round: number): number[] {
  const order = Array.from({ length: tasks }, (_, i) => i);
  if (round === 0) return order;
  const random = mulberry32(round * 0x9e3779b1);
  for (let i = tasks - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

function summarize(task: Task, runs: Run[]): Measurement {
  const med = (f: (r: Run) => number): number => median(runs.map(f));
  const inner = med((r) => r.inner);
  const stageNames = Object.keys(runs[0]?.stages ?? {});
  const innerCpu = runs.every((r) => r.innerCpu !== undefined) ? round(med((r) => r.innerCpu!)) : undefined;
  const stages = stageNames.length > 0 ? Object.fromEntries(stageNames.map((k) => [k, round(med((r) => r.stages?.[k] ?? 0))])) : undefined;
  return {
    name: task.name,
    rows: task.rows,
    repetitions: runs.length,
    wallSeconds: round(med((r) => r.wall)),
    walls: runs.map((r) => round(r.wall)),
    cpuSeconds: round(med((r) => r.cpu)),
    peakRssMb: Math.round(med((r) => r.rss)),
    innerSeconds: round(inner),
    ...(innerCpu !== undefined ? { innerCpuSeconds: innerCpu } : {}),
    rowsPerSecond: Math.round(task.rows / inner),
    ...(stages ? { stages } : {}),
  };
}

interface Run {
  wall: number;
  cpu: number;
  rss: number;
  inner: number;
  innerCpu?: number;
  stages?: Record<string, number>;
}

async function runOnce(args: string[], expectedRows: number): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-rusage-'));
  const rusageFile = join(dir, 'rusage.json');
  try {
    const started = performance.now();
    const stdout = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', RUSAGE_HOOK, ...args], {
        env: { ...process.env, BENCH_RUSAGE_FILE: rusageFile },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${args.join(' ')} exited ${code}: ${err}`))));
    });
    const wall = (performance.now() - started) / 1000;
    const usage = JSON.parse(readFileSync(rusageFile, 'utf8')) as { cpuSeconds: number; peakRssMb: number };
    const report = JSON.parse(stdout) as { seconds?: unknown; cpuSeconds?: unknown; rows?: unknown; rows_out?: unknown };
    // A task that read fewer rows than asked measured nothing: refuse its figure.
    const reported = typeof report.rows === 'number' ? report.rows : (report.rows as { out?: number } | undefined)?.out;
    if (reported !== undefined && reported !== expectedRows) throw new Error(`${args.join(' ')} processed ${reported} rows, expected ${expectedRows}`);
    // Raw tasks report their timed section as a number; batchinfer's summary is judged by wall.
    const inner = typeof report.seconds === 'number' ? report.seconds : wall;
    const stages = report.seconds !== null && typeof report.seconds === 'object' ? (report.seconds as Record<string, number>) : undefined;
    const innerCpu = typeof report.cpuSeconds === 'number' ? report.cpuSeconds : undefined;
    return { wall, cpu: usage.cpuSeconds, rss: usage.peakRssMb, inner, ...(innerCpu !== undefined ? { innerCpu } : {}), ...(stages ? { stages } : {}) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
