/**
 * Smoke test of `npm run bench -- --quick`: every measurement runs as a real process and
 * the report has every figure and target. No timing assertions: figures vary by machine.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, test } from 'vitest';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'bench-quick-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('bench --quick measures every figure and writes the report', async () => {
  const out = join(dir, 'report.json');
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--quick', '--out', out, '--cache', join(dir, 'cache')], { timeout: 120_000 });
  const report = JSON.parse(readFileSync(out, 'utf8'));
  const names = report.results.map((r: { name: string }) => r.name);
  expect(names).toEqual([
    'raw_read', 'raw_infer_mlp_2x1', 'raw_infer_mlp_1x2', 'raw_infer_logreg_2x1', 'raw_write', 'sql_only_logreg',
    'e2e_mlp_parquet', 'e2e_mlp_csv', 'e2e_logreg_parquet', 'e2e_logreg_csv', 'e2e_mlp_parquet_large',
    'raw_infer_mlp_1x1', 'e2e_mlp_parquet_1x1', 'startup_1k',
    'raw_infer_main_example', 'e2e_main_example',
    'bare_start', 'raw_read_csv', 'e2e_mlp_auto', 'e2e_logreg_auto', 'e2e_logreg_csv_auto', 'e2e_mlp_auto_large', 'e2e_mlp_profile', 'e2e_logreg_profile',
    'e2e_mlp_b1024', 'e2e_mlp_b4096', 'e2e_mlp_b16384', 'e2e_mlp_b65536',
    'e2e_logreg_b1024', 'e2e_logreg_b4096', 'e2e_logreg_b16384', 'e2e_logreg_b65536',
  ]);
  for (const r of report.results) {
    expect(r.wallSeconds).toBeGreaterThan(0);
    expect(r.walls).toEqual([r.wallSeconds]);
    expect(r.peakRssMb).toBeGreaterThan(0);
    // The bare start reads no rows: its figures are the process's start-up.
    if (r.name === 'bare_start') expect(r.rows).toBe(0);
    else expect(r.rows).toBeGreaterThan(0);
    // batchinfer runs carry their summary's stage seconds (where the time goes); raw tasks do not.
    if (r.name.startsWith('e2e_') || r.name === 'startup_1k') expect(Object.keys(r.stages)).toEqual(['stage', 'read', 'preprocess', 'infer', 'postprocess', 'write', 'wall']);
    else expect(r.stages).toBeUndefined();
    // Raw tasks report their timed section's CPU: the floors are made of it.
    if (r.name.startsWith('raw_') || r.name.startsWith('sql_')) expect(r.innerCpuSeconds).toBeGreaterThan(0);
    else expect(r.innerCpuSeconds).toBeUndefined();
  }
  expect(Object.keys(report.floors)).toEqual(['cores', 'readCpuSeconds', 'writeCpuSeconds', 'mlpInferCpuSeconds', 'logregInferCpuSeconds', 'processSeconds', 'p1Floor', 'p2aCeiling', 'p2bFloor']);
  for (const value of Object.values(report.floors)) expect(value).toBeGreaterThanOrEqual(0);
  for (const key of ['cores', 'readCpuSeconds', 'p1Floor', 'p2aCeiling', 'p2bFloor']) expect(report.floors[key]).toBeGreaterThan(0);
  expect(report.ratios.mlpE2eOverRawInfer1x1).toBeGreaterThan(0);
  expect(report.targets.map((t: { id: string }) => t.id)).toEqual(['P1', 'P2a', 'P2b', 'P3a', 'P3b', 'P4', 'P5']);
  // Issue 21's targets, each with the yardstick measured in the same run.
  expect(report.machineTargets.map((t: { id: string }) => t.id)).toEqual(['F1', 'F1', 'F3', 'auto', 'F2', 'F2', 'F3', 'auto', 'F4', 'profile', 'profile', 'F5', 'mem', 'mem']);
  for (const t of report.machineTargets) expect(t.value).toBeGreaterThan(0);
  expect(stdout).toContain('| target (issue 21) | measured | yardstick | goal | met |');
  expect(stdout).toContain('| target | measured | goal | met |');
  expect(stdout).toContain('| batchinfer run | stage s | read s |');
  expect(stdout).toContain('floors (best any tool could do on');
}, 180_000);
