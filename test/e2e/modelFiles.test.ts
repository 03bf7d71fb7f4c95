/**
 * Model paths that are not an ONNX file a run can read: a FIFO (an open would wait for a
 * writer forever), a character device (/dev/zero reads without end; stat follows the symlink), a file larger than one
 * protobuf message. `run`, `validate` and `inspect` refuse each at once with MODEL_INVALID,
 * exit 78, naming the path and what it is, and leave nothing at the output path.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { data, expectCliError, runCli } from '../helpers/cli.js';
import { stagingLeftovers, useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-e2e-modelfiles-');
const TRANSACTIONS = data('transactions.parquet');

let models: string;
beforeAll(async () => {
  models = await tmp.make();
  execFileSync('mkfifo', [join(models, 'fifo.onnx')]);
  await symlink('/dev/zero', join(models, 'zero.onnx'));
  // Sparse: 3 GiB by its size, no blocks written.
  await writeFile(join(models, 'big.onnx'), '');
  await truncate(join(models, 'big.onnx'), 3 * 2 ** 30);
});

type Command = 'run' | 'validate' | 'inspect';

function args(command: Command, modelPath: string, output: string): string[] {
  if (command === 'inspect') return ['inspect', modelPath];
  return [command, '--model', modelPath, '--input', TRANSACTIONS, '--output', output, '--features', 'f0,f1,f2,risk score', ...(command === 'run' ? ['--quiet'] : [])];
}

const CASES: { name: string; path: () => string; message: (path: string) => string }[] = [
  { name: 'a FIFO', path: () => join(models, 'fifo.onnx'), message: (p) => `model path is not a regular file (a FIFO): ${p} (expected a regular .onnx file, got a FIFO)` },
  { name: 'a symlink to /dev/zero', path: () => join(models, 'zero.onnx'), message: (p) => `model path is not a regular file (a character device): ${p}` },
  {
    name: 'a 3 GiB file',
    path: () => join(models, 'big.onnx'),
    message: (p) =>
      `model file is too large: ${p} is 3 GiB; an ONNX file holds at most 2 GiB, and batchinfer does not load external data files (expected at most 2147483647 bytes, got 3221225472 bytes)`,
  },
];

describe.concurrent('model paths that are not a readable ONNX file', { timeout: 60_000 }, () => {
  const commands: Command[] = ['run', 'validate', 'inspect'];
  it.each(CASES.flatMap((c) => commands.map((command) => ({ ...c, command }))))('$command with $name: exit 78 at once, nothing written', async (c) => {
    const dir = await tmp.make();
    const output = join(dir, 'out.parquet');
    const started = performance.now();
    const result = await runCli(args(c.command, c.path(), output), { cwd: dir, timeoutMs: 20_000 });
    const stderr = expectCliError(result, 78, 'MODEL_INVALID');
    expect(stderr).toContain(c.message(c.path()));
    expect(performance.now() - started).toBeLessThan(15_000);
    expect(existsSync(output)).toBe(false);
    expect(await stagingLeftovers(output)).toEqual([]);
    expect(await readdir(dir)).toEqual([]);
  });
});
