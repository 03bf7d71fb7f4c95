/**
 * File modes (issue 20, part 2): what a run commits (output, rejects file, summary, manifest,
 * metrics; a directory output and a window directory with everything inside) gets
 * `--file-mode` / `file_mode`; without it the umask's modes as before, except the rejects
 * file, 0600 (it holds raw rows); the staging directory with its journal is 0700 always.
 * Modes are read with stat and masked with 0o777.
 */
import { existsSync } from 'node:fs';
import { readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import YAML from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectCliError, expectOk, model, runCli } from '../helpers/cli.js';
import { withDuckDb } from '../helpers/parquet.js';
import { stagingLeftovers, useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-e2e-modes-');
let input: string;

beforeAll(async () => {
  input = join(await tmp.make(), 'in.parquet');
  // Every 50th row has a NULL feature: a bad row, quarantined.
  await withDuckDb((q) =>
    q(`COPY (SELECT i AS id, (i % 97) / 10.0 AS a, (i % 13) / 13.0 AS b, (i % 7) / 7.0 AS c, CASE WHEN i % 50 = 0 THEN NULL ELSE 0.5 END AS d,
        CASE WHEN i % 3 = 0 THEN 'fraud' ELSE 'legit' END AS truth, TIMESTAMP '2026-11-29 00:00:00' + to_minutes(i) AS ts
        FROM range(600) t(i)) TO '${input}' (FORMAT parquet)`),
  );
});

const modeOf = async (path: string): Promise<string> => ((await stat(path)).mode & 0o777).toString(8).padStart(4, '0');
const BASE = ['--model', model('mlp'), '--features', 'a,b,c,d', '--labels', 'legit,fraud', '--passthrough', 'id,truth', '--on-error', 'quarantine', '--quiet'];
const run = (output: string, ...extra: string[]) => runCli(['run', '--input', input, '--output', output, ...BASE, ...extra]);
/** What a file created without a mode gets under the test's (and so the CLI's) umask. */
const umaskFileMode = (): string => (0o666 & ~process.umask()).toString(8).padStart(4, '0');

describe.concurrent('file modes', { timeout: 60_000 }, () => {
  it('--file-mode 0640: output, rejects file, summary, profile and metrics are 0640', async () => {
    const output = join(await tmp.make(), 'scores.parquet');
    expectOk(await run(output, '--file-mode', '0640', '--evaluate', 'truth', '--profile'));
    for (const path of [output, `${output}.rejects.parquet`, `${output}.summary.json`, `${output}.profile.json`, `${output}.metrics.json`]) expect([path, await modeOf(path)]).toEqual([path, '0640']);
  });

  it('without --file-mode: the output and summary have the umask\'s mode, the rejects file 0600', async () => {
    const output = join(await tmp.make(), 'scores.parquet');
    expectOk(await run(output));
    expect(await modeOf(output)).toBe(umaskFileMode());
    expect(await modeOf(`${output}.summary.json`)).toBe(umaskFileMode());
    expect(await modeOf(`${output}.rejects.parquet`)).toBe('0600');
  });

  it('a quarantine run with no bad row still writes its (empty) rejects file 0600', async () => {
    const output = join(await tmp.make(), 'scores.parquet');
    expectOk(await run(output, '--fill-null', '0'));
    expect(await modeOf(`${output}.rejects.parquet`)).toBe('0600');
  });

  it('a CSV output (written by DuckDB) and a rejects file a job names get the mode too', async () => {
    const dir = await tmp.make();
    const output = join(dir, 'scores.csv');
    const rejects = join(dir, 'bad', 'rows.parquet');
    expectOk(await run(output, '--file-mode', '0604', '--rejects', rejects));
    expect(await modeOf(output)).toBe('0604');
    expect(await modeOf(rejects)).toBe('0604');
  });

  it('a directory output: the directory 0750, each file in it 0640', async () => {
    const output = join(await tmp.make(), 'scores') + '/';
    expectOk(await run(output, '--file-mode', '0640'));
    expect(await modeOf(output)).toBe('0750');
    const files = await readdir(output);
    expect(files).toEqual(['in.parquet']);
    expect(await modeOf(join(output, 'in.parquet'))).toBe('0640');
  });

  it('a window: its directory and _rejects 0750; parts, _SUCCESS, _summary.json and the rejects file 0640', async () => {
    const dir = await tmp.make();
    const job = {
      schedule: '0 * * * *',
      model: model('mlp'),
      input,
      window_column: 'ts',
      output: join(dir, 'out/hour={hour}/'),
      features: ['a', 'b', 'c', 'd'],
      passthrough: ['id'],
      on_error: 'quarantine',
      file_mode: '0640',
    };
    const jobPath = join(dir, 'hourly.yaml');
    await writeFile(jobPath, YAML.stringify(job));
    expectOk(await runCli(['run', jobPath, '--at', '2026-11-29T01:00:00Z', '--quiet'], { cwd: dir }));
    const window = join(dir, 'out', 'hour=01');
    expect(await modeOf(window)).toBe('0750');
    expect(await modeOf(join(window, '_rejects'))).toBe('0750');
    for (const name of ['part-00000.parquet', '_SUCCESS', '_summary.json', '_profile.json', join('_rejects', 'rejects.parquet')]) expect([name, await modeOf(join(window, name))]).toEqual([name, '0640']);
  });

  it("a window's failure marker (a NULL feature: BAD_DATA) gets the mode too", async () => {
    const dir = await tmp.make();
    const job = { schedule: '0 * * * *', model: model('mlp'), input, window_column: 'ts', output: join(dir, 'out/hour={hour}/'), features: ['a', 'b', 'c', 'd'], file_mode: '0640' };
    const jobPath = join(dir, 'hourly.yaml');
    await writeFile(jobPath, YAML.stringify(job));
    expectCliError(await runCli(['run', jobPath, '--at', '2026-11-29T01:00:00Z', '--quiet'], { cwd: dir }), 65, 'BAD_DATA');
    expect(await modeOf(join(dir, 'out', '.hour=01.failed.json'))).toBe('0640');
  });

  it('the staging directory a crashed run leaves (its journal and parts inside) is 0700', async () => {
    const output = join(await tmp.make(), 'scores.parquet');
    const crashed = await runCli(['run', '--input', input, '--output', output, ...BASE, '--batch-size', '100', '--checkpoint-rows', '100'], { env: { BATCHINFER_FAILPOINT: 'part-journaled:1' } });
    expect(crashed.signal).toBe('SIGKILL');
    const staging = join(output, '..', '.scores.parquet.staging');
    expect(await modeOf(staging)).toBe('0700');
    expect(existsSync(join(staging, 'journal.jsonl'))).toBe(true);
    // The resumed run commits with the job's mode.
    expectOk(await run(output, '--batch-size', '100', '--checkpoint-rows', '100', '--file-mode', '0600'));
    expect(await modeOf(output)).toBe('0600');
  });

  it('a file mode that is a number, not octal, or not the owner\'s to read and write is SPEC_INVALID (78), nothing written', async () => {
    const dir = await tmp.make();
    const output = join(dir, 'scores.parquet');
    for (const [mode, says] of [['0400', 'must let the owner read and write'], ['0999', "an octal mode in quotes, e.g. '0640'"], ['rw-r-----', 'an octal mode']] as const) {
      const stderr = expectCliError(await run(output, '--file-mode', mode), 78, 'SPEC_INVALID');
      expect(stderr).toContain('file_mode');
      expect(stderr).toContain(says);
    }
    // YAML reads an unquoted 0640 as the number 640.
    const jobPath = join(dir, 'job.yaml');
    await writeFile(jobPath, `model: ${model('mlp')}\ninput: ${input}\noutput: ${output}\nfeatures: [a, b, c, d]\nfile_mode: 0640\n`);
    expect(expectCliError(await runCli(['run', jobPath, '--quiet']), 78, 'SPEC_INVALID')).toContain("file_mode: an octal mode in quotes, e.g. '0640'");
    expect(await readdir(dir)).toEqual(['job.yaml']);
    expect(await stagingLeftovers(output)).toEqual([]);
  });
});
