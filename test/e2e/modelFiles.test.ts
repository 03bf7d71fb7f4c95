/**
 * Model paths a run cannot use: a FIFO (an open would wait for a writer forever), a
 * character device (/dev/zero reads without end; stat follows the symlink to it), a file
 * larger than one protobuf message, a model whose input name onnxruntime cannot address
 * (a NUL byte in it), and one with weights in an external data file. `run`, `validate` and
 * `inspect` refuse each at once with MODEL_INVALID, exit 78, naming the path and what is
 * wrong, and leave nothing at the output path.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { beforeAll, describe, expect, it } from 'vitest';
import { data, expectCliError, runCli } from '../helpers/cli.js';
import { stagingLeftovers, useTempDirs } from '../helpers/tempDir.js';

const { onnx } = onnxProto;
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
  await writeFile(join(models, 'nul.onnx'), softmaxModel('a\0b'));
  await writeFile(join(models, 'external.onnx'), softmaxModel('x', 'w.bin'));
  await writeFile(join(models, 'w.bin'), new Uint8Array(16));
});

/** [N,4] -> Softmax -> p, its input named `input`; with `external`, p = Softmax(x + w) and w's 4 floats in that file. */
function softmaxModel(input: string, external?: string): Uint8Array {
  const FLOAT = onnx.TensorProto.DataType.FLOAT;
  const tensor = (name: string) => ({ name, type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimParam: 'N' }, { dimValue: 4 }] } } } });
  const location = onnx.TensorProto.DataLocation.EXTERNAL;
  const initializer = external ? [{ name: 'w', dims: [4], dataType: FLOAT, dataLocation: location, externalData: [{ key: 'location', value: external }, { key: 'length', value: '16' }] }] : [];
  const node = external ? [{ opType: 'Add', input: [input, 'w'], output: ['s'] }, { opType: 'Softmax', input: ['s'], output: ['p'] }] : [{ opType: 'Softmax', input: [input], output: ['p'] }];
  const graph = { name: 'g', node, initializer, input: [tensor(input)], output: [tensor('p')] };
  return onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }], producerName: 'batchinfer-tests', graph })).finish();
}

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
  // onnxruntime's C API ends a name at its NUL: the run used to fail mid-way, 70, feeding 'a'.
  {
    name: 'a NUL byte in an input name',
    path: () => join(models, 'nul.onnx'),
    message: (p) => `model input 'a\\0b' has a NUL character in its name: ${p} (expected names without NUL characters, got a\\0b)`,
  },
  // The workers get the model as bytes: onnxruntime finds no file beside them, and validate used to pass it.
  {
    name: 'weights in an external data file',
    path: () => join(models, 'external.onnx'),
    message: (p) => `model initializer 'w' keeps its data in an external file (w.bin), which batchinfer does not load: ${p}`,
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
