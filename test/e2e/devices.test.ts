/**
 * Devices (issue 20, part 4), on this machine: no GPU, and onnxruntime-node's CUDA provider
 * files are not installed (ONNXRUNTIME_NODE_INSTALL=skip). `--device auto` scores on CPU with
 * a warning in the summary; `--device cuda` / `cuda:N` fails with SPEC_INVALID (78) naming how
 * to get the provider instead of onnxruntime's raw message, and writes nothing. The summary
 * records the provider of each worker.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { data, expectCliError, expectOk, model, runCli } from '../helpers/cli.js';
import { readParquet } from '../helpers/parquet.js';
import { useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-e2e-devices-');
const ARGS = ['--model', model('mlp'), '--input', data('transactions.parquet'), '--features', 'amount,f0,f1,risk score', '--fill-null', '0', '--passthrough', 'txn_id', '--labels', 'legit,fraud', '--workers', '2', '--threads', '1', '--quiet'];
const run = (output: string, ...extra: string[]) => runCli(['run', ...ARGS, '--output', output, ...extra]);

describe.concurrent('--device', { timeout: 60_000 }, () => {
  it('cpu (the default): every worker on cpu, no warning', async () => {
    const output = join(await tmp.make(), 'scores.parquet');
    const r = await run(output, '--json');
    expectOk(r);
    const summary = JSON.parse(r.stdout);
    expect(summary.device).toEqual({ requested: 'cpu', providers: ['cpu', 'cpu'] });
    expect(summary.warnings.join('\n')).not.toContain('device');
  });

  it('auto: CUDA does not load here, so the workers run on CPU, the summary says why, and the output equals a CPU run', async () => {
    const dir = await tmp.make();
    const output = join(dir, 'auto.parquet');
    const r = await run(output, '--device', 'auto', '--json');
    expectOk(r);
    const summary = JSON.parse(r.stdout);
    expect(summary.device).toEqual({ requested: 'auto', providers: ['cpu', 'cpu'] });
    const warning = summary.warnings.find((w: string) => w.startsWith('device auto:'));
    expect(warning).toMatch(/^device auto: onnxruntime's CUDA execution provider did not load \(.+\); the model ran on CPU$/);
    expect(JSON.parse(await readFile(`${output}.summary.json`, 'utf8')).warnings).toContain(warning);
    // Nothing from onnxruntime's own logger on stderr.
    expect(r.stderr).toBe('');
    // Scored as on CPU, batch size too (auto plans for the CPU it may fall back to).
    expect(summary.batchSize).toBe(2048);
    const cpu = join(dir, 'cpu.parquet');
    expectOk(await run(cpu));
    expect((await readParquet(output)).rows).toEqual((await readParquet(cpu)).rows);
  });

  it.each(['cuda', 'cuda:1'])('%s: SPEC_INVALID (78) naming how to get the provider, not onnxruntime\'s words; nothing written', async (device) => {
    const dir = await tmp.make();
    const output = join(dir, 'out', 'scores.parquet');
    const r = await run(output, '--device', device);
    const stderr = expectCliError(r, 78, 'SPEC_INVALID');
    const shown = device === 'cuda' ? 'cuda:0' : device;
    expect(stderr).toContain(`device ${shown}: onnxruntime's CUDA execution provider did not load (libonnxruntime_providers_cuda.so and libonnxruntime_providers_shared.so are not in `);
    expect(stderr).toContain('ONNXRUNTIME_NODE_INSTALL=skip');
    expect(stderr).toContain('ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node');
    expect(stderr).toContain('--device cpu or auto');
    expect(stderr).not.toMatch(/OrtSessionOptionsAppendExecutionProvider|onnxruntime_src|provider_bridge/);
    expect(await readdir(dir)).toEqual([]);
  });

  it('cuda after a crashed run: the crashed run\'s journal is left as it was, and a CPU run resumes from it', async () => {
    const dir = await tmp.make();
    const output = join(dir, 'scores.parquet');
    const small = ['--batch-size', '500', '--checkpoint-rows', '500'];
    const crashed = await runCli(['run', ...ARGS, '--output', output, ...small], { env: { BATCHINFER_FAILPOINT: 'part-journaled:2' } });
    expect(crashed.signal).toBe('SIGKILL');
    const journal = await readFile(join(dir, '.scores.parquet.staging', 'journal.jsonl'), 'utf8');
    expectCliError(await run(output, ...small, '--device', 'cuda'), 78, 'SPEC_INVALID');
    expect(await readFile(join(dir, '.scores.parquet.staging', 'journal.jsonl'), 'utf8')).toBe(journal);
    const resumed = await run(output, ...small, '--json');
    expectOk(resumed);
    expect(JSON.parse(resumed.stdout).resumedRows).toBe(1000);
  });

  it('--json: the failure report carries the same code and exit', async () => {
    const dir = await tmp.make();
    const r = await run(join(dir, 'scores.parquet'), '--device', 'cuda', '--json');
    expectCliError(r, 78, 'SPEC_INVALID');
    expect(await readdir(dir)).toEqual([]);
  });

  it('a device onnxruntime has no name for is SPEC_INVALID from the job schema', async () => {
    const dir = await tmp.make();
    const stderr = expectCliError(await run(join(dir, 'scores.parquet'), '--device', 'gpu'), 78, 'SPEC_INVALID');
    expect(stderr).toContain('device');
    expect(stderr).toContain('cpu, cuda, cuda:N or auto');
    expect(await readdir(dir)).toEqual([]);
  });
});
