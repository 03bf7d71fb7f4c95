import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchinferError } from '../../src/errors.js';
import { escapeName, parseOnnx, readOnnxFile } from '../../src/model/onnxFile.js';
import { mulberry32 } from '../../scripts/fixtures/rng.js';
import { FIXTURES_DIR } from '../helpers/reference.js';

const { onnx } = onnxProto;
const model = (name: string) => join(FIXTURES_DIR, 'models', `${name}.onnx`);

/** Expected signature of every fixture model, one golden row each. */
const GOLDEN = [
  { name: 'logreg', inputs: [['x', 'float32', ['N', 4]]], outputs: [['probability', 'float32', ['N', 1]]], producer: 'Sigmoid' },
  { name: 'mlp', inputs: [['x', 'float32', ['N', 4]]], outputs: [['probabilities', 'float32', ['N', 2]]], producer: 'Softmax' },
  { name: 'multiclass', inputs: [['x', 'float32', ['N', 4]]], outputs: [['logits', 'float32', ['N', 3]]], producer: 'Gemm' },
  {
    name: 'mixed',
    inputs: [['x', 'float32', ['N', 3]], ['merchant', 'int64', ['N']]],
    outputs: [['probabilities', 'float32', ['N', 2]]],
    producer: 'Softmax',
  },
  { name: 'regression', inputs: [['x', 'float32', ['N', 4]]], outputs: [['value', 'float32', ['N', 1]]], producer: 'Gemm' },
  {
    name: 'percolumn',
    inputs: [['f0', 'float32', ['N', 1]], ['f1', 'float32', ['N', 1]]],
    outputs: [['probability', 'float32', ['N', 1]]],
    producer: 'Sigmoid',
  },
  { name: 'logreg30', inputs: [['x', 'float32', ['N', 30]]], outputs: [['probability', 'float32', ['N', 1]]], producer: 'Sigmoid' },
  { name: 'mlp30', inputs: [['x', 'float32', ['N', 30]]], outputs: [['probabilities', 'float32', ['N', 2]]], producer: 'Softmax' },
] as const;

const asValueInfo = ([name, elemType, shape]: readonly [string, string, readonly (string | number)[]]) => ({ name, elemType, shape });

describe('readOnnxFile on fixture models', () => {
  it.each(GOLDEN)('$name: signature, opsets and producer op', async (golden) => {
    const info = await readOnnxFile(model(golden.name));
    expect(info.irVersion).toBe(8);
    expect(info.opsets).toEqual([{ domain: 'ai.onnx', version: 17 }]);
    expect(info.producerName).toBe('batchinfer-fixtures');
    expect(info.graphName).toBe(golden.name);
    expect(info.inputs).toEqual(golden.inputs.map(asValueInfo));
    expect(info.outputs).toEqual(golden.outputs.map(asValueInfo));
    const output = golden.outputs[0][0];
    expect(info.producerOps).toEqual({ [output]: golden.producer });
  });

  it('mlp: labels metadata, doc string, initializers and ops', async () => {
    const info = await readOnnxFile(model('mlp'));
    expect(info.metadata).toEqual({ labels: '["legit","fraud"]' });
    expect(JSON.parse(info.metadata.labels ?? '')).toEqual(['legit', 'fraud']);
    expect(info.docString).toMatch(/MLP/);
    expect(info.producerVersion).toBe('1');
    expect(info.initializerNames).toEqual(['W1', 'b1', 'W2', 'b2']);
    expect(info.nodeCount).toBe(4);
    expect(info.opTypes).toEqual([
      { domain: 'ai.onnx', opType: 'Gemm' },
      { domain: 'ai.onnx', opType: 'Relu' },
      { domain: 'ai.onnx', opType: 'Softmax' },
    ]);
  });

  it('only mlp carries metadata', async () => {
    expect((await readOnnxFile(model('logreg'))).metadata).toEqual({});
  });
});

describe('parseOnnx on hand-built models', () => {
  const encode = (m: onnxProto.onnx.IModelProto) => onnx.ModelProto.encode(onnx.ModelProto.create(m)).finish();
  const tensor = (name: string, elemType: number, dim: onnxProto.onnx.TensorShapeProto.IDimension[] | null) => ({
    name,
    type: { tensorType: dim ? { elemType, shape: { dim } } : { elemType } },
  });

  it('drops initializers listed as inputs, keeps unknown dims, names custom domains and walks subgraphs', () => {
    const body = { name: 'body', node: [{ opType: 'MyOp', domain: 'com.example', input: ['a'], output: ['b'] }], output: [{ name: 'b' }] };
    const bytes = encode({
      irVersion: 3,
      opsetImport: [{ domain: '', version: 9 }, { domain: 'ai.onnx.ml', version: 1 }],
      graph: {
        name: 'g',
        node: [
          { opType: 'If', input: ['cond'], output: ['y'], attribute: [{ name: 'then_branch', type: 5, g: body }, { name: 'else_branch', type: 5, g: body }] },
          { opType: 'ZipMap', domain: 'ai.onnx.ml', input: ['y'], output: ['z'] },
        ],
        initializer: [{ name: 'W', dims: [2], dataType: 1, floatData: [1, 2] }],
        input: [tensor('cond', 9, []), tensor('W', 1, [{ dimValue: 2 }]), tensor('s', 8, [{}, { dimValue: 0 }]), tensor('u', 1, null)],
        output: [{ name: 'z', type: { sequenceType: { elemType: { mapType: { keyType: 7 } } } } }, { name: 'cond' }, { name: 'y', type: { tensorType: { elemType: 99 } } }],
      },
    });
    const info = parseOnnx(bytes);
    expect(info.opsets).toEqual([{ domain: 'ai.onnx', version: 9 }, { domain: 'ai.onnx.ml', version: 1 }]);
    expect(info.inputs).toEqual([
      { name: 'cond', elemType: 'bool', shape: [] },
      { name: 's', elemType: 'string', shape: ['?', 0] },
      { name: 'u', elemType: 'float32', shape: null },
    ]);
    expect(info.initializerNames).toEqual(['W']);
    expect(info.outputs).toEqual([
      { name: 'z', elemType: 'sequence', shape: null },
      { name: 'cond', elemType: 'unknown', shape: null },
      { name: 'y', elemType: 'unknown', shape: null },
    ]);
    expect(info.producerOps).toEqual({ z: 'ZipMap', cond: undefined, y: 'If' });
    expect(info.nodeCount).toBe(2);
    expect(info.opTypes).toEqual([
      { domain: 'ai.onnx', opType: 'If' },
      { domain: 'com.example', opType: 'MyOp' },
      { domain: 'ai.onnx.ml', opType: 'ZipMap' },
    ]);
  });

  it.each([
    ['no ir_version', { opsetImport: [{ version: 17 }], graph: { node: [{ opType: 'Relu' }], output: [{ name: 'y' }] } }, /ir_version 0/],
    ['no graph', { irVersion: 8, opsetImport: [{ version: 17 }] }, /without a graph/],
    ['no nodes', { irVersion: 8, opsetImport: [{ version: 17 }], graph: { output: [{ name: 'y' }] } }, /without nodes/],
    ['no opsets', { irVersion: 8, graph: { node: [{ opType: 'Relu' }], output: [{ name: 'y' }] } }, /opset/],
  ])('rejects a model with %s', (_label, m, actual) => {
    const err = catchError(() => parseOnnx(encode(m as onnxProto.onnx.IModelProto)));
    expect(err.code).toBe('MODEL_INVALID');
    expect(err.expected).toBe('ONNX ModelProto');
    expect(String(err.actual)).toMatch(actual);
  });

  /** x -> Softmax -> p, with the input and output names given. */
  const softmax = (inputs: string[], outputs: string[]) =>
    encode({
      irVersion: 8,
      opsetImport: [{ version: 17 }],
      graph: { node: [{ opType: 'Softmax', input: [inputs[0]!], output: [outputs[0]!] }], input: inputs.map((n) => tensor(n, 1, [{ dimParam: 'N' }, { dimValue: 2 }])), output: outputs.map((n) => tensor(n, 1, null)) },
    });

  it.each([
    ['a NUL in an input name', ['a\0b'], ['p'], "model input 'a\\0b' has a NUL character in its name: m.onnx", 'names without NUL characters', 'a\\0b'],
    ['a NUL in an output name', ['x'], ['p\0'], "model output 'p\\0' has a NUL character in its name: m.onnx", 'names without NUL characters', 'p\\0'],
    ['an empty input name', ['x', ''], ['p'], 'model input #2 has an empty name: m.onnx', 'a name for every graph input', 'an empty name'],
    ['an input declared twice', ['x', 'x'], ['p'], "model input 'x' is declared twice: m.onnx", 'distinct input names', 'x'],
    ['an output declared twice, with a line break', ['x'], ['p\nq', 'p\nq'], "model output 'p\\nq' is declared twice: m.onnx", 'distinct output names', 'p\\nq'],
  ])('rejects %s, naming it escaped', (_label, inputs, outputs, message, expected, actual) => {
    const err = catchError(() => parseOnnx(softmax(inputs, outputs), 'm.onnx'));
    expect(err.code).toBe('MODEL_INVALID');
    expect(err.message).toBe(message);
    expect(err.expected).toBe(expected);
    expect(err.actual).toBe(actual);
  });

  it.each([
    ['the main graph', false],
    ['a subgraph', true],
  ])('rejects an initializer with external data in %s, naming it and its file', (_label, nested) => {
    const weights = { name: 'w', dims: [2], dataType: 1, dataLocation: onnx.TensorProto.DataLocation.EXTERNAL, externalData: [{ key: 'location', value: 'w.bin' }] };
    const body = { name: 'body', node: [{ opType: 'Identity', input: ['w'], output: ['b'] }], initializer: nested ? [weights] : [], output: [{ name: 'b' }] };
    const bytes = encode({
      irVersion: 8,
      opsetImport: [{ version: 17 }],
      graph: {
        node: [{ opType: 'If', input: ['c'], output: ['y'], attribute: [{ name: 'then_branch', type: 5, g: body }, { name: 'else_branch', type: 5, g: body }] }],
        initializer: nested ? [] : [weights],
        input: [tensor('c', 9, [])],
        output: [tensor('y', 1, null)],
      },
    });
    const err = catchError(() => parseOnnx(bytes, 'm.onnx'));
    expect(err.code).toBe('MODEL_INVALID');
    expect(err.message).toBe("model initializer 'w' keeps its data in an external file (w.bin), which batchinfer does not load: m.onnx");
    expect(err.actual).toBe('external data in w.bin');
  });

  it('accepts other control characters in names (onnxruntime addresses them), escaped in messages', () => {
    expect(parseOnnx(softmax(['a\x01b'], ['p'])).inputs[0]!.name).toBe('a\x01b');
    expect(escapeName('a\x01b\tc\x7f')).toBe('a\\x01b\\tc\\x7f');
  });
});

describe('readOnnxFile on files that are not models', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'batchinfer-onnxfile-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reports a missing file as MODEL_MISSING', async () => {
    const err = await catchAsync(readOnnxFile(join(dir, 'nope.onnx')));
    expect(err.code).toBe('MODEL_MISSING');
    expect(err.message).toContain('nope.onnx');
  });

  it('reports a directory as MODEL_INVALID', async () => {
    expect((await catchAsync(readOnnxFile(dir))).code).toBe('MODEL_INVALID');
  });

  it.each([
    ['a text file', new TextEncoder().encode('this is not a model\nsecond line, with text\n')],
    ['a CSV file', new TextEncoder().encode('txn_id,amount\nt00000,12.5\n')],
    ['an empty file', new Uint8Array(0)],
  ])('rejects %s with MODEL_INVALID', async (label, bytes) => {
    const path = join(dir, `${label.replace(/\W/g, '_')}.onnx`);
    await writeFile(path, bytes);
    const err = await catchAsync(readOnnxFile(path));
    expect(err.code).toBe('MODEL_INVALID');
    expect(err.message).toContain('model file is not a valid ONNX model');
    expect(err.message).toContain(path);
  });

  it('rejects a truncated model with MODEL_INVALID', async () => {
    const bytes = await readFile(model('mlp'));
    const err = catchError(() => parseOnnx(bytes.subarray(0, Math.floor(bytes.length / 2)), 'mlp-truncated.onnx'));
    expect(err.code).toBe('MODEL_INVALID');
    expect(err.message).toContain('mlp-truncated.onnx');
  });

  it('rejects 1000 seeded random byte strings with MODEL_INVALID', () => {
    // Short strings matter most: a few percent of them decode as a (meaningless) ModelProto.
    const rng = mulberry32(7);
    for (let i = 0; i < 1000; i++) {
      const length = i % 2 === 0 ? 1 + Math.floor(rng() * 24) : 16 + Math.floor(rng() * 2000);
      const bytes = Uint8Array.from({ length }, () => Math.floor(rng() * 256));
      expect(catchError(() => parseOnnx(bytes)).code, `random sample ${i}`).toBe('MODEL_INVALID');
    }
  });
});

function catchError(fn: () => unknown): BatchinferError {
  try {
    fn();
  } catch (err) {
    if (err instanceof BatchinferError) return err;
    throw err;
  }
  throw new Error('expected a BatchinferError');
}

async function catchAsync(promise: Promise<unknown>): Promise<BatchinferError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof BatchinferError) return err;
    throw err;
  }
  throw new Error('expected a BatchinferError');
}
