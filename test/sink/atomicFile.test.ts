import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BatchinferError } from '../../src/errors.js';
import { commitRename, directoryModeOf, writeFileAtomic } from '../../src/sink/atomicFile.js';
import { ensureOutputParent, openStaging } from '../../src/sink/staging.js';
import { rejection } from '../helpers/rejection.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'batchinfer-atomic-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});


describe('writeFileAtomic', () => {
  it('writes the file and leaves no temp file beside it', async () => {
    const target = join(dir, 'summary.json');
    await writeFileAtomic(target, '{"rows":3}');
    expect(await readFile(target, 'utf8')).toBe('{"rows":3}');
    expect(await readdir(dir)).toEqual(['summary.json']);
  });

  it('replaces an existing file whole', async () => {
    const target = join(dir, 'summary.json');
    await writeFile(target, 'x'.repeat(1000));
    await writeFileAtomic(target, 'short');
    expect(await readFile(target, 'utf8')).toBe('short');
    expect(await readdir(dir)).toEqual(['summary.json']);
  });

  it('fails with OUTPUT_UNWRITABLE when the directory is missing, leaving nothing', async () => {
    const err = await rejection(writeFileAtomic(join(dir, 'missing', 'summary.json'), 'x'));
    expect(err.code).toBe('OUTPUT_UNWRITABLE');
    expect(err.exitCode).toBe(73);
    expect(await readdir(dir)).toEqual([]);
  });

  it('fails when the target is a directory and removes its temp file', async () => {
    const target = join(dir, 'taken');
    await mkdir(target);
    await writeFile(join(target, 'keep'), 'k');
    const err = await rejection(writeFileAtomic(target, 'x'));
    expect(err.code).toBe('OUTPUT_UNWRITABLE');
    expect(await readdir(dir)).toEqual(['taken']);
    expect(await readFile(join(target, 'keep'), 'utf8')).toBe('k');
  });
});

describe('commitRename', () => {
  it('moves a staged file onto a new target', async () => {
    const staged = join(dir, '.staged');
    await writeFile(staged, 'new');
    await commitRename(staged, join(dir, 'out.parquet'));
    expect(await readdir(dir)).toEqual(['out.parquet']);
    expect(await readFile(join(dir, 'out.parquet'), 'utf8')).toBe('new');
  });

  it('replaces an existing file', async () => {
    const staged = join(dir, '.staged');
    const target = join(dir, 'out.parquet');
    await writeFile(target, 'old contents');
    await writeFile(staged, 'new');
    await commitRename(staged, target);
    expect(await readFile(target, 'utf8')).toBe('new');
    expect(await readdir(dir)).toEqual(['out.parquet']);
  });

  it('replaces an existing non-empty directory and drops the old one', async () => {
    const staged = join(dir, '.staged-dir');
    const target = join(dir, 'preds');
    await mkdir(join(target, 'nested'), { recursive: true });
    await writeFile(join(target, 'part-0.parquet'), 'old');
    await writeFile(join(target, 'nested', 'deep'), 'old');
    await mkdir(staged);
    await writeFile(join(staged, 'part-1.parquet'), 'new');
    await commitRename(staged, target, true);
    expect(await readdir(dir)).toEqual(['preds']);
    expect(await readdir(target)).toEqual(['part-1.parquet']);
    expect(await readFile(join(target, 'part-1.parquet'), 'utf8')).toBe('new');
  });

  it('moves a staged directory onto a new target', async () => {
    const staged = join(dir, '.staged-dir');
    await mkdir(staged);
    await writeFile(join(staged, 'a'), 'a');
    await commitRename(staged, join(dir, 'preds'), true);
    expect(await readdir(join(dir, 'preds'))).toEqual(['a']);
    expect(await readdir(dir)).toEqual(['preds']);
  });

  it('fails with OUTPUT_UNWRITABLE when the staged file is gone, and leaves the target alone', async () => {
    const target = join(dir, 'out.parquet');
    await writeFile(target, 'old');
    const err = await rejection(commitRename(join(dir, '.nothing'), target));
    expect(err.code).toBe('OUTPUT_UNWRITABLE');
    expect(err.actual).toBe(target);
    expect(await readFile(target, 'utf8')).toBe('old');
  });
});

describe('ensureOutputParent and openStaging', () => {
  it('creates missing parents (returning the topmost one created) and a fixed hidden staging directory beside the output', async () => {
    const output = join(dir, 'a', 'b', 'scores.parquet');
    expect(await ensureOutputParent(output)).toBe(join(dir, 'a'));
    const staging = (await openStaging(output)).dir;
    expect(staging).toBe(join(dir, 'a', 'b', '.scores.parquet.staging'));
    expect((await stat(staging)).isDirectory()).toBe(true);
    expect(await readdir(join(dir, 'a', 'b'))).toEqual([basename(staging)]);
    // The name is fixed so a run after a crash finds the journal of the run before.
    expect((await openStaging(output)).dir).toBe(staging);
    expect(await ensureOutputParent(output)).toBeUndefined();
  });

  it('works for a directory output given with a trailing /', async () => {
    const staging = (await openStaging(join(dir, 'preds') + '/')).dir;
    expect(dirname(staging)).toBe(dir);
    expect(basename(staging)).toBe('.preds.staging');
  });

  it('fails with OUTPUT_UNWRITABLE (exit 73) when a parent is a regular file', async () => {
    await writeFile(join(dir, 'file'), 'x');
    const err = await rejection(ensureOutputParent(join(dir, 'file', 'sub', 'scores.parquet')));
    expect(err.code).toBe('OUTPUT_UNWRITABLE');
    expect(err.exitCode).toBe(73);
    expect(err.message).toMatch(/^cannot create output .*scores\.parquet: /);
    expect(err.actual).toBe(join(dir, 'file', 'sub'));
    expect(await readFile(join(dir, 'file'), 'utf8')).toBe('x');
  });

  it('fails with OUTPUT_UNWRITABLE when the direct parent is a regular file', async () => {
    await writeFile(join(dir, 'file'), 'x');
    const err = await rejection(openStaging(join(dir, 'file', 'scores.parquet')));
    expect(err.code).toBe('OUTPUT_UNWRITABLE');
  });
});

describe('file modes', () => {
  const modeOf = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;

  it('directoryModeOf adds search wherever read is allowed', () => {
    expect(directoryModeOf(0o640)).toBe(0o750);
    expect(directoryModeOf(0o600)).toBe(0o700);
    expect(directoryModeOf(0o644)).toBe(0o755);
    expect(directoryModeOf(0o604)).toBe(0o705);
  });

  it('writeFileAtomic creates the file with the mode it is given', async () => {
    await writeFileAtomic(join(dir, 'summary.json'), '{}', 0o640);
    expect(await modeOf(join(dir, 'summary.json'))).toBe(0o640);
  });

  it('commitRename gives a staged directory and everything below it the mode before the rename', async () => {
    const staged = join(dir, '.out.staging');
    await mkdir(join(staged, '_rejects'), { recursive: true });
    await writeFile(join(staged, 'part-00000.parquet'), 'x', { mode: 0o666 });
    await writeFile(join(staged, '_rejects', 'rejects.parquet'), 'x');
    await commitRename(staged, join(dir, 'out'), true, 0o640);
    expect(await modeOf(join(dir, 'out'))).toBe(0o750);
    expect(await modeOf(join(dir, 'out', '_rejects'))).toBe(0o750);
    expect(await modeOf(join(dir, 'out', 'part-00000.parquet'))).toBe(0o640);
    expect(await modeOf(join(dir, 'out', '_rejects', 'rejects.parquet'))).toBe(0o640);
  });

  it('openStaging makes the staging directory 0700, also one an earlier run left wider', async () => {
    const output = join(dir, 'preds.parquet');
    await mkdir(join(dir, '.preds.parquet.staging'));
    await chmod(join(dir, '.preds.parquet.staging'), 0o755);
    const { dir: staging } = await openStaging(output);
    expect(await modeOf(staging)).toBe(0o700);
  });
});
