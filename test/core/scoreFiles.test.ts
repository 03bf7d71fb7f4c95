import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Db } from '../../src/db/duckdb.js';
import { BatchinferError } from '../../src/errors.js';
import { prepareJob, type PreparedJob } from '../../src/core/prepare.js';
import { scoreFiles, takeLabels } from '../../src/core/scoreFiles.js';
import { planExecution, type ExecutionPlan } from '../../src/core/executionPlan.js';
import { WorkerPool } from '../../src/infer/workerPool.js';
import { requestedOutputs } from '../../src/postprocess/outputPlan.js';
import { Journal } from '../../src/sink/journal.js';
import { parseJobSpec } from '../../src/spec/jobSpec.js';
import { FIXTURES_DIR } from '../helpers/reference.js';

let db: Db;
let dir: string;
let job: PreparedJob;
let pool: WorkerPool;

beforeAll(async () => {
  db = await Db.open({ threads: 2 });
  dir = await mkdtemp(join(tmpdir(), 'batchinfer-score-'));
  const spec = parseJobSpec(
    {
      model: join(FIXTURES_DIR, 'models', 'mlp.onnx'),
      input: join(FIXTURES_DIR, 'data', 'transactions.parquet'),
      output: join(dir, 'out.parquet'),
      features: ['amount', 'f0', 'f1', 'risk score'],
      fill_null: 0,
      passthrough: ['txn_id'],
      batch_size: 256,
      checkpoint_rows: 1024,
    },
    { baseDir: dir, name: 't' },
  );
  job = await prepareJob(db, spec);
  pool = await WorkerPool.start({ model: job.model.bytes, workers: 1, intraOpThreads: 1, outputNames: requestedOutputs(job.output) });
});

afterAll(async () => {
  await pool?.close();
  db?.close();
  await rm(dir, { recursive: true, force: true });
});

/** The job's plan, its parts staged in `staging`. */
async function planIn(staging: string): Promise<ExecutionPlan> {
  const plan = await planExecution(db, job, { window: null });
  return { ...plan, output: { ...plan.output, staging } };
}

async function freshJournal(name: string): Promise<{ staging: string; journal: Journal }> {
  const staging = join(dir, name);
  await mkdir(staging);
  return { staging, journal: (await Journal.open(staging, 'test')).journal };
}

describe('scoreFiles: every row of a file is accounted for', () => {
  it('scores all 3000 rows of the fixture into journaled parts', async () => {
    const { staging, journal } = await freshJournal('whole');
    const result = await scoreFiles(db, pool, job, await planIn(staging), journal);
    expect(result.rowsIn).toBe(3000);
    expect(journal.done(0)).toEqual({ type: 'file-done', file: 0, rows: 3000 });
  });

  it('keeps as many batches at the workers as the in-flight rule allows for the size: 16,384 rows a worker, or two batches when the feeds are wide', async () => {
    // 3000 rows in batches of 256: 12 batches. 16,384 rows are 64 such batches for the one
    // worker: every batch of the file at once.
    const whole = await freshJournal('deep');
    const deep = await scoreFiles(db, pool, job, await planIn(whole.staging), whole.journal);
    expect(deep.latencies.length).toBe(Math.ceil(3000 / 256));
    expect(deep.batchesInFlight).toBe(12);
    // Rows of 1 MiB each: two batches already hold more than 4 MiB, so two at a time.
    const wide = await freshJournal('wide');
    const plan = await planIn(wide.staging);
    const shallow = await scoreFiles(db, pool, job, { ...plan, inFlight: { workers: 1, rowBytes: 2 ** 20 } }, wide.journal);
    expect(shallow.batchesInFlight).toBe(2);
    expect([deep.rowsIn, shallow.rowsIn]).toEqual([3000, 3000]);
  });

  it('a reader stream that ends early (as a statement on its connection makes it) fails the run instead of committing fewer rows', async () => {
    // The same database, whose streams stop after their first chunk without an error.
    const truncating = Object.create(db) as Db;
    truncating.stream = async function* (sql, params) {
      for await (const chunk of db.stream(sql, params)) {
        yield chunk;
        return;
      }
    };
    const { staging, journal } = await freshJournal('truncated');
    const err = await scoreFiles(truncating, pool, job, await planIn(staging), journal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BatchinferError);
    // What was read (the first chunk) was written and journaled; the file's end never was.
    const readRows = journal.parts(0).at(-1)!.rowEnd;
    expect(readRows).toBeGreaterThan(0);
    expect(readRows).toBeLessThan(3000);
    expect(err).toMatchObject({ code: 'INTERNAL', expected: 3000, actual: readRows });
    expect((err as Error).message).toBe(`${job.dataset.files[0]!.path}: the rows read differ from the rows in the file`);
    // Nothing says the file is done: a rerun would read it again.
    expect(journal.done(0)).toBeUndefined();
    expect((await readdir(staging)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('takeLabels: a part takes the label counts of its own batches', () => {
  it('whole batches, in order, leaving the rest for the next part', () => {
    const queue = [{ rows: 250, disagreements: 3 }, { rows: 250, disagreements: 0 }, { rows: 100, disagreements: 1 }];
    expect(takeLabels(queue, 500)).toEqual({ rows: 500, disagreements: 3 });
    expect(queue).toEqual([{ rows: 100, disagreements: 1 }]);
    expect(takeLabels(queue, 100)).toEqual({ rows: 100, disagreements: 1 });
    expect(takeLabels(queue, 0)).toEqual({ rows: 0, disagreements: 0 });
  });

  it('a batch split by a boundary counts its rows exactly and its disagreements first', () => {
    const queue = [{ rows: 250, disagreements: 7 }];
    expect(takeLabels(queue, 100)).toEqual({ rows: 100, disagreements: 7 });
    expect(queue).toEqual([{ rows: 150, disagreements: 0 }]);
    const few = [{ rows: 250, disagreements: 150 }];
    expect(takeLabels(few, 100)).toEqual({ rows: 100, disagreements: 100 });
    expect(takeLabels(few, 150)).toEqual({ rows: 150, disagreements: 50 });
  });
});
