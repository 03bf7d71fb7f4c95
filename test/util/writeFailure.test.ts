/** File-system failures of the run's own writes become OUTPUT_UNWRITABLE (73) naming the path. */
import { describe, expect, it } from 'vitest';
import { BatchinferError } from '../../src/errors.js';
import { guardWrite, writeFailure } from '../../src/util/writeFailure.js';

const errno = (code: string, path?: string): NodeJS.ErrnoException => Object.assign(new Error(`${code}: failed, open '${path ?? ''}'`), { code, ...(path ? { path } : {}) });

describe('writeFailure', () => {
  it.each(['ENOSPC', 'EDQUOT', 'EROFS', 'EIO', 'EACCES', 'EPERM', 'EMFILE', 'ENFILE'])('%s from Node is OUTPUT_UNWRITABLE naming the path', (code) => {
    const err = writeFailure('/out/.o.parquet.lock', errno(code))!;
    expect(err).toMatchObject({ code: 'OUTPUT_UNWRITABLE', actual: '/out/.o.parquet.lock' });
    expect(err.message).toContain(`cannot write /out/.o.parquet.lock: `);
    expect(err.message).toContain(`(${code}`);
    expect(err.exitCode).toBe(73);
  });

  it('the open-files limit is named as such, not as the disk', () => {
    const err = writeFailure('/out/.o.staging/output.parquet', errno('EMFILE', '/out/.o.staging/part-170-0.parquet'))!;
    expect(err.message).toMatch(/too many open files: the open-files limit \(ulimit -n\) is reached, not the disk \(EMFILE at \/out\/\.o\.staging\/part-170-0\.parquet\)/);
    expect(err.expected).toContain('ulimit -n');
  });

  it("DuckDB's message text is recognised", () => {
    const duck = new Error('IO Error: Could not write file "/out/x/tmp_1": No space left on device');
    expect(writeFailure('/out/x/part.parquet', duck)).toMatchObject({ code: 'OUTPUT_UNWRITABLE', message: expect.stringContaining('(ENOSPC)') });
    expect(writeFailure('/out/x', new Error('IO Error: Cannot open file "a": Too many open files'))!.message).toContain('(EMFILE)');
  });

  it('anything else is not a write failure; a BatchinferError stays as it is', () => {
    expect(writeFailure('/x', errno('ENOENT'))).toBeNull();
    expect(writeFailure('/x', new Error('Binder Error: no such column'))).toBeNull();
    const own = new BatchinferError('LOCKED', 'held');
    expect(writeFailure('/x', own)).toBe(own);
  });

  it('guardWrite maps what fails inside it and passes the rest through', async () => {
    await expect(guardWrite('/out/o.json', async () => Promise.reject(errno('ENOSPC')))).rejects.toMatchObject({ code: 'OUTPUT_UNWRITABLE' });
    await expect(guardWrite('/out/o.json', async () => Promise.reject(errno('ENOENT')))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await guardWrite('/out/o.json', async () => 7)).toBe(7);
  });
});
