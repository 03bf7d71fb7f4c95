/**
 * Encrypted Parquet (issue 20, part 1): inputs read with a key named in the job, outputs,
 * rejects and staged files written encrypted with the output key, keys only from the
 * environment or a 0600 key file, and no key value in anything a run prints or writes.
 *
 * DuckDB encrypts Parquet only with OpenSSL (its httpfs extension), which this machine cannot
 * download. The fixtures here, and the runs, use DuckDB's `force_mbedtls_unsafe` instead:
 * TEST ONLY (DuckDB calls it not secure). The CLI sets it only when BATCHINFER_TEST_UNSAFE_MBEDTLS=1,
 * which only these tests set; one test runs without it and checks the clear refusal.
 */
import { existsSync } from 'node:fs';
import { chmod, readdir, readFile, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import YAML from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectCliError, expectOk, model, runCli, type CliResult } from '../helpers/cli.js';
import { readParquet, withDuckDb, type Row } from '../helpers/parquet.js';
import { stagingLeftovers, useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-e2e-encryption-');
/** The input's key: 32 random bytes. The output's: 16 bytes of text, as DuckDB users often write them. */
const inputKey = randomBytes(32);
const outputKey = Buffer.from('Out0put1Key2Abcd');
const wrongKey = randomBytes(32);
/** A value only the input's rows hold: it must not be found in plaintext in any file a run leaves. */
const MARKER = 'PLAINTEXTMARKER';
let dir: string;
let plain: string;
let encrypted: string;

/** Every form a key value could leak in. */
const keyForms = (key: Buffer): string[] => [key.toString('base64'), key.toString('hex'), key.toString('hex').toUpperCase(), ...(/^[\x20-\x7e]+$/.test(key.toString('latin1')) ? [key.toString('latin1')] : [])];

/** Writes `sql`'s rows to `path` encrypted with `key` (TEST ONLY: mbedtls, see the top). */
async function writeEncrypted(sql: string, path: string, key: Buffer): Promise<void> {
  await withDuckDb(async (q) => {
    await q('SET force_mbedtls_unsafe = true');
    await q(`PRAGMA add_parquet_key('fixture', '${key.toString('base64')}')`);
    await q(`COPY (${sql}) TO '${path}' (FORMAT parquet, ENCRYPTION_CONFIG {footer_key: 'fixture'})`);
  });
}

/** Reads an encrypted Parquet file (or a directory's files) back with `key`. */
async function readEncrypted(path: string, key: Buffer): Promise<Row[]> {
  return withDuckDb(async (q) => {
    const text = key.length === 32 ? key.toString('base64') : key.toString('latin1');
    await q(`PRAGMA add_parquet_key('k', '${text}')`);
    return q(`SELECT * FROM read_parquet('${path}', encryption_config = {footer_key: 'k'})`);
  });
}

const ROWS = `SELECT i AS id, (i % 97) / 10.0 AS a, (i % 13) / 13.0 AS b, (i % 7) / 7.0 AS c, CASE WHEN i % 50 = 0 THEN NULL ELSE 0.5 END AS d,
  '${MARKER}' || i AS note, TIMESTAMP '2026-11-29 00:00:00' + to_minutes(i) AS ts FROM range(600) t(i)`;

beforeAll(async () => {
  dir = await tmp.make();
  plain = join(dir, 'plain.parquet');
  encrypted = join(dir, 'encrypted.parquet');
  await withDuckDb((q) => q(`COPY (${ROWS}) TO '${plain}' (FORMAT parquet)`));
  await writeEncrypted(ROWS, encrypted, inputKey);
});

const ENV = { BATCHINFER_TEST_UNSAFE_MBEDTLS: '1', BATCHINFER_KEY_CUSTOMERS: inputKey.toString('base64'), BATCHINFER_KEY_SCORES: outputKey.toString('hex') };
const ENCRYPTION = { input: { footer_key: 'customers' }, output: { footer_key: 'scores' } };

let labelledInput: string | undefined;
/** The encrypted input with a `truth` column, for --evaluate. */
async function labelled(): Promise<string> {
  labelledInput ??= join(dir, 'labelled.parquet');
  if (!existsSync(labelledInput)) await writeEncrypted(`SELECT *, CASE WHEN id % 3 = 0 THEN 'fraud' ELSE 'legit' END AS truth FROM (${ROWS})`, labelledInput, inputKey);
  return labelledInput;
}

async function writeJob(keys: Record<string, unknown>, input = encrypted): Promise<{ job: string; output: string }> {
  const at = await tmp.make();
  const output = join(at, 'scores.parquet');
  const job = join(at, 'job.yaml');
  await writeFile(job, YAML.stringify({ model: model('mlp'), input, output, features: ['a', 'b', 'c', 'd'], labels: ['legit', 'fraud'], passthrough: ['id', 'note'], fill_null: 0, ...keys }));
  return { job, output };
}

const isEncryptedFile = async (path: string): Promise<boolean> => (await readFile(path)).subarray(-4).toString('latin1') === 'PARE';

/** Every file below `path` (recursively), with its bytes. */
async function allFiles(path: string): Promise<string[]> {
  const entries = await readdir(path, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

function expectNoKey(texts: string[]): void {
  for (const text of texts) for (const key of [inputKey, outputKey]) for (const form of keyForms(key)) expect(text.includes(form), `a key value (${form.length} characters) in what the run wrote`).toBe(false);
}

describe.concurrent('encrypted Parquet', { timeout: 60_000 }, () => {
  it('reads an encrypted input with its key: the scores equal the plain input\'s, the output is encrypted with the output key', async () => {
    const { job, output } = await writeJob({ encryption: ENCRYPTION });
    const r = await runCli(['run', job, '--json'], { env: ENV });
    expectOk(r);
    const plainOut = join(await tmp.make(), 'plain-scores.parquet');
    expectOk(await runCli(['run', '--model', model('mlp'), '--input', plain, '--output', plainOut, '--features', 'a,b,c,d', '--labels', 'legit,fraud', '--passthrough', 'id,note', '--fill-null', '0', '--quiet']));
    expect(await isEncryptedFile(output)).toBe(true);
    const got = await readEncrypted(output, outputKey);
    const want = (await readParquet(plainOut)).rows;
    expect(got).toEqual(want);
    expect(got.length).toBe(600);
    // Without its key the output cannot be read.
    await expect(readParquet(output)).rejects.toThrow(/encrypted/);
    // No key value on stdout/stderr or in the summary; the fingerprints are there.
    const summary = await readFile(`${output}.summary.json`, 'utf8');
    expect((JSON.parse(summary) as { encryption: unknown }).encryption).toEqual({ inputKey: 'customers', outputKey: 'scores' });
    expectNoKey([r.stdout, r.stderr, summary]);
  });

  it('parts, staged rejects and the merged output of a crashed run are all encrypted, hold no plaintext row and no key; the resumed run commits encrypted output and rejects', async () => {
    // Small parts (so the output is merged by DuckDB) and quarantine (a NULL feature every 50th row).
    const { job, output } = await writeJob({ encryption: ENCRYPTION, on_error: 'quarantine', fill_null: 'error', batch_size: 100, checkpoint_rows: 100 });
    const crashed = await runCli(['run', job, '--quiet'], { env: { ...ENV, BATCHINFER_FAILPOINT: 'commit-merged' } });
    expect(crashed.signal).toBe('SIGKILL');
    const staging = join(output, '..', '.scores.parquet.staging');
    const left = [...(await allFiles(staging)), ...(await allFiles(join(output, '..'))).filter((f) => f.includes('rejects'))];
    const parquet = left.filter((f) => f.endsWith('.parquet'));
    // Six parts, their six rejects files, the merged output and the staged rejects file.
    expect(parquet.length).toBeGreaterThanOrEqual(14);
    for (const file of parquet) expect([file, await isEncryptedFile(file)]).toEqual([file, true]);
    for (const file of left) {
      const bytes = await readFile(file);
      expect([file, bytes.includes(MARKER)]).toEqual([file, false]);
      expectNoKey([bytes.toString('latin1')]);
    }
    const r = await runCli(['run', job, '--json'], { env: ENV });
    expectOk(r);
    expect(await isEncryptedFile(output)).toBe(true);
    const rows = await readEncrypted(output, outputKey);
    expect(rows.map((row) => Number(row['id']))).toEqual([...Array(600).keys()].filter((i) => i % 50 !== 0));
    const rejects = `${output}.rejects.parquet`;
    expect(await isEncryptedFile(rejects)).toBe(true);
    const rejected = await readEncrypted(rejects, outputKey);
    expect(rejected.map((row) => Number(row['id']))).toEqual([0, 50, 100, 150, 200, 250, 300, 350, 400, 450, 500, 550]);
    expect(rejected[1]!['note']).toBe(`${MARKER}50`);
    await expect(readParquet(rejects)).rejects.toThrow(/encrypted/);
    expectNoKey([r.stdout, r.stderr, await readFile(`${output}.summary.json`, 'utf8')]);
  });

  it('a run under another output key starts over instead of resuming parts written under the old one', async () => {
    const { job, output } = await writeJob({ encryption: ENCRYPTION, batch_size: 100, checkpoint_rows: 100 });
    const crashed = await runCli(['run', job, '--quiet'], { env: { ...ENV, BATCHINFER_FAILPOINT: 'part-journaled:3' } });
    expect(crashed.signal).toBe('SIGKILL');
    const journal = await readFile(join(output, '..', '.scores.parquet.staging', 'journal.jsonl'), 'utf8');
    expectNoKey([journal]);
    const newKey = randomBytes(32);
    const r = await runCli(['run', job, '--json'], { env: { ...ENV, BATCHINFER_KEY_SCORES: newKey.toString('base64') } });
    expectOk(r);
    const summary = JSON.parse(await readFile(`${output}.summary.json`, 'utf8')) as { warnings: string[] };
    expect(summary.warnings.join('\n')).toMatch(/started over.*encryption/s);
    expect((await readEncrypted(output, newKey)).length).toBe(600);
  });

  it('a window filtered by its column: the staged copy of the input is encrypted; the window directory holds encrypted parts', async () => {
    const at = await tmp.make();
    const jobPath = join(at, 'hourly.yaml');
    await writeFile(jobPath, YAML.stringify({ schedule: '0 * * * *', model: model('mlp'), input: encrypted, window_column: 'ts', output: join(at, 'out/hour={hour}/'), features: ['a', 'b', 'c', 'd'], labels: ['legit', 'fraud'], passthrough: ['id', 'note'], fill_null: 0, encryption: ENCRYPTION }));
    const crashed = await runCli(['run', jobPath, '--at', '2026-11-29T01:00:00Z', '--quiet'], { env: { ...ENV, BATCHINFER_FAILPOINT: 'source-staged' } });
    expect(crashed.signal).toBe('SIGKILL');
    const staged = (await allFiles(join(at, 'out'))).filter((f) => f.endsWith('.parquet'));
    expect(staged.some((f) => /source-0\.parquet$/.test(f))).toBe(true);
    for (const file of staged) {
      expect([file, await isEncryptedFile(file)]).toEqual([file, true]);
      expect((await readFile(file)).includes(MARKER)).toBe(false);
    }
    expectOk(await runCli(['run', jobPath, '--at', '2026-11-29T01:00:00Z', '--quiet'], { env: ENV }));
    const window = join(at, 'out', 'hour=01');
    const parts = (await readdir(window)).filter((n) => n.endsWith('.parquet'));
    expect(parts.length).toBeGreaterThan(0);
    const rows: Row[] = [];
    for (const part of parts) {
      expect(await isEncryptedFile(join(window, part))).toBe(true);
      rows.push(...(await readEncrypted(join(window, part), outputKey)));
    }
    // Minutes 60..119 of the input fall in the window 01:00-02:00.
    expect(rows.map((row) => Number(row['id']))).toEqual([...Array(60).keys()].map((i) => i + 60));
  });

  it('a directory of encrypted files to a directory output: one encrypted file per input, in order', async () => {
    const inputs = await tmp.make();
    await writeEncrypted(`SELECT * FROM (${ROWS}) WHERE id < 250`, join(inputs, 'a.parquet'), inputKey);
    await writeEncrypted(`SELECT * FROM (${ROWS}) WHERE id >= 250`, join(inputs, 'b.parquet'), inputKey);
    const { job, output } = await writeJob({ encryption: ENCRYPTION, batch_size: 100, checkpoint_rows: 100 }, inputs);
    const out = output.replace(/scores\.parquet$/, 'scores/');
    expectOk(await runCli(['run', job, '--output', out, '--quiet'], { env: ENV }));
    expect((await readdir(out)).sort()).toEqual(['a.parquet', 'b.parquet']);
    for (const [name, from] of [['a.parquet', 0], ['b.parquet', 250]] as const) {
      expect(await isEncryptedFile(join(out, name))).toBe(true);
      const rows = await readEncrypted(join(out, name), outputKey);
      expect(rows.map((r) => Number(r['id']))).toEqual([...Array(name === 'a.parquet' ? 250 : 350).keys()].map((i) => i + from));
    }
  });

  it('a plain CSV input with an encrypted output: its staged copy is encrypted too', async () => {
    const at = await tmp.make();
    const csv = join(at, 'in.csv');
    await withDuckDb((q) => q(`COPY (${ROWS}) TO '${csv}' (FORMAT csv, HEADER true)`));
    const { job, output } = await writeJob({ encryption: { output: { footer_key: 'scores' } } }, csv);
    const crashed = await runCli(['run', job, '--quiet'], { env: { ...ENV, BATCHINFER_FAILPOINT: 'source-staged' } });
    expect(crashed.signal).toBe('SIGKILL');
    const staged = (await allFiles(join(output, '..', '.scores.parquet.staging'))).filter((f) => f.endsWith('.parquet'));
    expect(staged.length).toBe(1);
    expect(await isEncryptedFile(staged[0]!)).toBe(true);
    expect((await readFile(staged[0]!)).includes(MARKER)).toBe(false);
    expectOk(await runCli(['run', job, '--quiet'], { env: ENV }));
    expect((await readEncrypted(output, outputKey)).length).toBe(600);
  });

  it('run --evaluate reads the encrypted output it committed with the output key', async () => {
    const { job, output } = await writeJob({ encryption: ENCRYPTION, passthrough: ['id', 'note', 'truth'] }, await labelled());
    expectOk(await runCli(['run', job, '--evaluate', 'truth', '--quiet'], { env: ENV }));
    const metrics = JSON.parse(await readFile(`${output}.metrics.json`, 'utf8')) as { rows: { evaluated: number } };
    expect(metrics.rows.evaluated).toBe(600);
  });

  it('validate and inspect --job read an encrypted input with the job\'s key; inspect without one is KEY_MISSING', async () => {
    const { job } = await writeJob({ encryption: ENCRYPTION });
    const v = await runCli(['validate', job, '--json'], { env: ENV });
    expectOk(v);
    expect((JSON.parse(v.stdout) as { input: { files: number } }).input.files).toBe(1);
    const i = await runCli(['inspect', model('mlp'), '--data', encrypted, '--job', job, '--json'], { env: ENV });
    expectOk(i);
    expect((JSON.parse(i.stdout) as { mapping: { sample: { rows: number } } }).mapping.sample.rows).toBeGreaterThan(0);
    expectNoKey([v.stdout, v.stderr, i.stdout, i.stderr]);
    expectCliError(await runCli(['inspect', encrypted]), 78, 'KEY_MISSING');
  });

  it('an encrypted input and no key in the job: KEY_MISSING (78), one line, nothing written', async () => {
    const { job, output } = await writeJob({});
    const stderr = expectCliError(await runCli(['run', job], { env: ENV }), 78, 'KEY_MISSING');
    expect(stderr).toContain('is encrypted');
    expect(stderr).toContain('BATCHINFER_KEY_');
    expect(existsSync(output)).toBe(false);
    expect(await stagingLeftovers(output)).toEqual([]);
  });

  it('the job names a key the environment does not hold: KEY_MISSING naming the variable', async () => {
    const { job, output } = await writeJob({ encryption: ENCRYPTION });
    const stderr = expectCliError(await runCli(['run', job], { env: { ...ENV, BATCHINFER_KEY_CUSTOMERS: '' } }), 78, 'KEY_MISSING');
    expect(stderr).toContain('BATCHINFER_KEY_CUSTOMERS');
    expect(existsSync(output)).toBe(false);
  });

  it('a wrong key: KEY_INVALID (78), one line naming the key and the file, nothing written', async () => {
    const { job, output } = await writeJob({ encryption: ENCRYPTION });
    const stderr = expectCliError(await runCli(['run', job], { env: { ...ENV, BATCHINFER_KEY_CUSTOMERS: wrongKey.toString('hex') } }), 78, 'KEY_INVALID');
    expect(stderr).toContain('key customers does not decrypt');
    expect(stderr).toContain(encrypted);
    expect(existsSync(output)).toBe(false);
    expect(await stagingLeftovers(output)).toEqual([]);
    expectNoKey([stderr]);
    expect(stderr.includes(wrongKey.toString('hex'))).toBe(false);
  });

  it('a key that is no AES key (10 bytes): KEY_INVALID, without the value', async () => {
    const { job } = await writeJob({ encryption: ENCRYPTION });
    const bad = randomBytes(10).toString('base64');
    const stderr = expectCliError(await runCli(['run', job], { env: { ...ENV, BATCHINFER_KEY_CUSTOMERS: bad } }), 78, 'KEY_INVALID');
    expect(stderr).toContain('not a 16, 24 or 32-byte AES key');
    expect(stderr.includes(bad)).toBe(false);
  });

  it('a 16-byte key of random bytes: KEY_INVALID naming the key, since DuckDB takes 16-byte keys only as text', async () => {
    const { job } = await writeJob({ encryption: ENCRYPTION });
    const key = Buffer.from('ff'.repeat(16), 'hex').toString('hex');
    const stderr = expectCliError(await runCli(['run', job], { env: { ...ENV, BATCHINFER_KEY_CUSTOMERS: key } }), 78, 'KEY_INVALID');
    expect(stderr).toContain('key customers: a 16-byte key can reach DuckDB only as text');
    expect(stderr.includes(key)).toBe(false);
  });

  it('a key file: used at 0600, refused at 0640 (group may read it) with KEY_INVALID', async () => {
    const keyDir = await tmp.make();
    const keyFile = join(keyDir, 'customers.key');
    await writeFile(keyFile, inputKey.toString('base64') + '\n', { mode: 0o600 });
    const { job, output } = await writeJob({ encryption: { ...ENCRYPTION, keys: { customers: { file: keyFile } } } });
    const env = { ...ENV, BATCHINFER_KEY_CUSTOMERS: undefined };
    expectOk(await runCli(['run', job, '--quiet'], { env }));
    expect((await readEncrypted(output, outputKey)).length).toBe(600);
    await chmod(keyFile, 0o640);
    const { job: job2, output: output2 } = await writeJob({ encryption: { ...ENCRYPTION, keys: { customers: { file: keyFile } } } });
    const stderr = expectCliError(await runCli(['run', job2], { env }), 78, 'KEY_INVALID');
    expect(stderr).toContain('has mode 0640');
    expect(stderr).toContain(`chmod 600 ${keyFile}`);
    expect(existsSync(output2)).toBe(false);
  });

  it('a key value in the job file is refused (SPEC_INVALID) without quoting it', async () => {
    const value = inputKey.toString('base64');
    for (const encryption of [{ ...ENCRYPTION, keys: { customers: value } }, { ...ENCRYPTION, keys: { customers: { value } } }, { input: { footer_key: value }, output: { footer_key: 'scores' } }]) {
      const { job, output } = await writeJob({ encryption });
      const stderr = expectCliError(await runCli(['run', job], { env: ENV }), 78, 'SPEC_INVALID');
      expect(stderr).toContain('key values are never taken from the job file');
      expect(stderr.includes(value)).toBe(false);
      expect(existsSync(output)).toBe(false);
    }
  });

  it('a key on the command line is refused (USAGE) without echoing it', async () => {
    const value = inputKey.toString('base64');
    for (const flag of [`--key=${value}`, `--encryption-key=${value}`]) {
      const { job } = await writeJob({ encryption: ENCRYPTION });
      const stderr = expectCliError(await runCli(['run', job, flag], { env: ENV }), 2, 'USAGE');
      expect(stderr).toContain('never taken from the command line');
      expect(stderr.includes(value)).toBe(false);
    }
  });

  it('encryption.input without encryption.output is refused: the rows would be written in plaintext', async () => {
    const { job } = await writeJob({ encryption: { input: { footer_key: 'customers' } } });
    const stderr = expectCliError(await runCli(['run', job], { env: ENV }), 78, 'SPEC_INVALID');
    expect(stderr).toContain('encryption.output');
  });

  it('encryption.output with a CSV output is refused: DuckDB encrypts Parquet only', async () => {
    const { job, output } = await writeJob({ encryption: ENCRYPTION });
    const stderr = expectCliError(await runCli(['run', job, '--output', output.replace(/\.parquet$/, '.csv')], { env: ENV }), 78, 'SPEC_INVALID');
    expect(stderr).toContain('needs a Parquet output');
  });

  it('without OpenSSL (httpfs) and without the test-only setting, asking for encrypted output fails clearly before anything is written', async () => {
    const { job, output } = await writeJob({ encryption: { output: { footer_key: 'scores' } } }, plain);
    const stderr = expectCliError(await runCli(['run', job], { env: { ...ENV, BATCHINFER_TEST_UNSAFE_MBEDTLS: '' } }), 78, 'SPEC_INVALID');
    expect(stderr).toContain('cannot write encrypted Parquet');
    expect(stderr).toContain('httpfs');
    expect(existsSync(output)).toBe(false);
  });
});
