import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchinferError } from '../../src/errors.js';
import { loadJob } from '../../src/spec/loadJob.js';
import { rejection } from '../helpers/rejection.js';

let root: string;
let jobsDir: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'batchinfer-loadjob-'));
  jobsDir = join(root, 'jobs');
  await mkdir(jobsDir);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function jobFile(name: string, text: string): Promise<string> {
  const path = join(jobsDir, name);
  await writeFile(path, text);
  return path;
}


const YAML_JOB = `
model: ../models/m.onnx
input: ../data/in.parquet
output: ../out/
passthrough: [txn_id]
inputs:
  x:
    columns: [amount, risk score]
    fill_null: 0
`;

describe('loadJob', () => {
  it('names the job after its file, resolves paths against its directory, keeps output/ and defaults batch size', async () => {
    const path = await jobFile('fraud-hourly.yaml', YAML_JOB);
    const spec = await loadJob(path);
    expect(spec.name).toBe('fraud-hourly');
    expect(spec.model).toBe(join(root, 'models', 'm.onnx'));
    expect(spec.input).toBe(join(root, 'data', 'in.parquet'));
    expect(spec.output).toBe(join(root, 'out') + '/');
    expect(spec.batchSize).toBe(2048);
    expect(spec.passthrough).toEqual(['txn_id']);
    expect(spec.inputs.x).toMatchObject({ columns: ['amount', 'risk score'], fillNull: 0 });
  });

  it('resolves a relative job path against cwd, not the process cwd', async () => {
    await jobFile('rel.yaml', YAML_JOB);
    const spec = await loadJob('jobs/rel.yaml', {}, root);
    expect(spec.name).toBe('rel');
    expect(spec.model).toBe(join(root, 'models', 'm.onnx'));
  });

  it('a name in the file wins over the file name', async () => {
    const path = await jobFile('other.yml', `name: nightly\n${YAML_JOB}`);
    expect((await loadJob(path)).name).toBe('nightly');
  });

  it('reads JSON job files', async () => {
    const path = await jobFile('job.json', JSON.stringify({ model: 'm.onnx', input: 'in.csv', output: 'o.parquet', batch_size: 64 }));
    const spec = await loadJob(path);
    expect(spec.name).toBe('job');
    expect(spec.input).toBe(join(jobsDir, 'in.csv'));
    expect(spec.batchSize).toBe(64);
  });

  it('flag overrides win over the file and keep their absolute paths', async () => {
    const path = await jobFile('override.yaml', `${YAML_JOB}batch_size: 10\nlabels: [a, b]\n`);
    const spec = await loadJob(path, { model: '/elsewhere/x.onnx', output: '/elsewhere/preds/', batch_size: 99, labels: ['no', 'yes'] });
    expect(spec.model).toBe('/elsewhere/x.onnx');
    expect(spec.output).toBe('/elsewhere/preds/');
    expect(spec.batchSize).toBe(99);
    expect(spec.labels).toEqual(['no', 'yes']);
    // Keys without an override come from the file.
    expect(spec.input).toBe(join(root, 'data', 'in.parquet'));
  });

  it('ignores overrides that are undefined', async () => {
    const path = await jobFile('undef.yaml', `${YAML_JOB}batch_size: 10\n`);
    const spec = await loadJob(path, { batch_size: undefined, model: undefined });
    expect(spec.batchSize).toBe(10);
    expect(spec.model).toBe(join(root, 'models', 'm.onnx'));
  });

  it('a flag-only run is named adhoc and resolves against cwd', async () => {
    const spec = await loadJob(undefined, { model: 'm.onnx', input: 'in.parquet', output: 'out/' }, root);
    expect(spec.name).toBe('adhoc');
    expect(spec.model).toBe(join(root, 'm.onnx'));
    expect(spec.output).toBe(join(root, 'out') + '/');
  });

  it('a flag-only run without paths reports each missing key', async () => {
    const err = await rejection(loadJob(undefined, {}, root));
    expect(err.code).toBe('SPEC_INVALID');
    expect(err.problems.map((p) => p.where)).toEqual(['model', 'input', 'output']);
  });

  it('a missing job file is SPEC_MISSING (exit 66) naming the path', async () => {
    const err = await rejection(loadJob(join(jobsDir, 'nope.yaml')));
    expect(err.code).toBe('SPEC_MISSING');
    expect(err.exitCode).toBe(66);
    expect(err.message).toMatch(/nope\.yaml does not exist/);
    expect(err.actual).toBe(join(jobsDir, 'nope.yaml'));
  });

  it('a directory as the job file is SPEC_MISSING', async () => {
    const err = await rejection(loadJob(jobsDir));
    expect(err.code).toBe('SPEC_MISSING');
  });

  it('invalid YAML is SPEC_INVALID with the parser\'s first line', async () => {
    const path = await jobFile('broken.yaml', 'model: [unclosed\ninput: x\n');
    const err = await rejection(loadJob(path));
    expect(err.code).toBe('SPEC_INVALID');
    expect(err.message).toMatch(/^job file .*broken\.yaml is not valid YAML\/JSON: /);
    expect(err.message).not.toContain('\n');
  });

  it('duplicate keys are refused', async () => {
    const path = await jobFile('dupe.yaml', 'model: a.onnx\nmodel: b.onnx\ninput: i.csv\noutput: o.parquet\n');
    const err = await rejection(loadJob(path));
    expect(err.code).toBe('SPEC_INVALID');
    expect(err.message).toMatch(/not valid YAML/);
  });

  it('a YAML list is refused as not a mapping', async () => {
    const path = await jobFile('list.yaml', '- model: m.onnx\n- input: in.parquet\n');
    const err = await rejection(loadJob(path));
    expect(err.code).toBe('SPEC_INVALID');
    expect(err.message).toMatch(/must hold a mapping of keys/);
    expect(err.expected).toBe('mapping');
    expect(err.actual).toBe('list');
  });

  it('a YAML scalar is refused as not a mapping', async () => {
    const path = await jobFile('scalar.yaml', 'just some text\n');
    const err = await rejection(loadJob(path));
    expect(err.code).toBe('SPEC_INVALID');
    expect(err.actual).toBe('string');
  });

  it('an empty job file without flags reports the missing paths; with flags it is a full job', async () => {
    const path = await jobFile('empty.yaml', '');
    const err = await rejection(loadJob(path));
    expect(err.problems.map((p) => p.where)).toEqual(['model', 'input', 'output']);
    const spec = await loadJob(path, { model: '/m.onnx', input: '/in.parquet', output: '/o.parquet' });
    expect(spec.name).toBe('empty');
  });

  it('schema problems in the file keep their key paths', async () => {
    const path = await jobFile('bad.yaml', `${YAML_JOB}    colour: red\nbatch_size: lots\n`);
    const err = await rejection(loadJob(path));
    expect(err.code).toBe('SPEC_INVALID');
    expect(err.problems.map((p) => p.where).sort()).toEqual(['batch_size', 'inputs.x.colour']);
  });
});
