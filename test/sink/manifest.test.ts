import { utimes, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeInputChange, describeOutputs, sameInputContent, stampInputs, withContentHashes } from '../../src/sink/manifest.js';
import { useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-manifest-');
const sha = (text: string) => createHash('sha256').update(text).digest('hex');

describe('input stamps', () => {
  it('a file touched but not changed is the same input by its content hash; another content of the same size is not', async () => {
    const dir = await tmp.make();
    const path = join(dir, 'in.parquet');
    await writeFile(path, 'abcdef');
    const committed = await withContentHashes(await stampInputs([path]));
    expect(committed[0]).toMatchObject({ bytes: 6, sha256: sha('abcdef') });
    await utimes(path, new Date(), new Date(Date.now() + 60_000));
    const touched = await stampInputs([path]);
    expect(touched[0]!.mtime).not.toBe(committed[0]!.mtime);
    expect(await sameInputContent(committed, touched)).toBe(true);
    await writeFile(path, 'abcdeX');
    expect(await sameInputContent(committed, await stampInputs([path]))).toBe(false);
    expect(describeInputChange(committed, await stampInputs([path]))).toMatch(/same size, mtime .* other content/);
  });

  it('without a hash (an older manifest) a new mtime is a change; so are other files, sizes and order', async () => {
    const dir = await tmp.make();
    const [a, b] = [join(dir, 'a'), join(dir, 'b')];
    await writeFile(a, 'x');
    await writeFile(b, 'yy');
    const stamps = await stampInputs([a, b]);
    expect(await sameInputContent(stamps, stamps)).toBe(true);
    expect(await sameInputContent(stamps, [{ ...stamps[0]!, mtime: 'later' }, stamps[1]!])).toBe(false);
    expect(await sameInputContent(stamps, [stamps[1]!, stamps[0]!])).toBe(false);
    expect(await sameInputContent(stamps, [stamps[0]!])).toBe(false);
    expect(describeInputChange(stamps, [stamps[0]!])).toBe(`${b} is gone`);
  });
});

describe('describeOutputs', () => {
  it('names each file where it will be, with the rows, size and sha256 of where it is before the commit', async () => {
    const dir = await tmp.make();
    await writeFile(join(dir, 'staged.parquet'), 'PAR1 bytes');
    expect(await describeOutputs(['/out/x.parquet'], [join(dir, 'staged.parquet')], [42])).toEqual([{ file: '/out/x.parquet', rows: 42, bytes: 10, sha256: sha('PAR1 bytes') }]);
  });

  it('takes the sha256 of a staged file the commit hashed as it wrote it, and reads the others', async () => {
    const dir = await tmp.make();
    const [joined, lone] = [join(dir, 'joined.parquet'), join(dir, 'lone.parquet')];
    await writeFile(joined, 'joined bytes');
    await writeFile(lone, 'lone bytes');
    // A hash the file's bytes do not have: it is used as given, so the file was not read for it.
    const given = sha('what the commit wrote');
    const entries = await describeOutputs(['/out/a.parquet', '/out/b.parquet'], [joined, lone], [1, 2], new Map([[joined, given]]));
    expect(entries).toEqual([
      { file: '/out/a.parquet', rows: 1, bytes: 12, sha256: given },
      { file: '/out/b.parquet', rows: 2, bytes: 10, sha256: sha('lone bytes') },
    ]);
  });
});
