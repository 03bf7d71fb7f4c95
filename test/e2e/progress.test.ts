/**
 * An unattended run (stderr not a terminal: cron, Kubernetes logs, CI) reports a line per
 * durable part, as text or JSON (`--log-format json`); `--quiet` silences them; `--json`
 * prints the summary as one JSON document on one line.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectCliError, expectOk, model, runCli } from '../helpers/cli.js';
import { withDuckDb } from '../helpers/parquet.js';
import { useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-e2e-progress-');
let input: string;

beforeAll(async () => {
  input = join(await tmp.make(), 'in.parquet');
  await withDuckDb((q) => q(`COPY (SELECT i AS id, i / 3000.0 AS a, 0.5 AS b, 0.25 AS c, 1.0 AS d FROM range(3000) t(i)) TO '${input}' (FORMAT parquet)`));
});

const args = async (...extra: string[]) => ['run', '--model', model('mlp'), '--input', input, '--output', join(await tmp.make(), 'o.parquet'), '--features', 'a,b,c,d', '--batch-size', '500', '--checkpoint-rows', '1000', ...extra];

describe.concurrent('progress when stderr is not a terminal', { timeout: 60_000 }, () => {
  it('text: a line per part with rows done of all, the share, rows/s, elapsed and time left', async () => {
    const r = await runCli(await args());
    expectOk(r);
    const lines = r.stderr.split('\n').filter((l) => /^batchinfer: [\d,]+ of /.test(l));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^batchinfer: 1,000 of 3,000 rows \(33%\), [\d,]+ rows\/s, [\d.]+ s elapsed, [\d.]+ s left$/);
    expect(lines[2]).toMatch(/^batchinfer: 3,000 of 3,000 rows \(100%\), [\d,]+ rows\/s, [\d.]+ s elapsed, 0 s left$/);
  });

  it('json: one object a line, in order, and the --json summary is one line of stdout', async () => {
    const r = await runCli(await args('--log-format', 'json', '--json'));
    expectOk(r);
    const events = r.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    expect(events.map((e) => [e.event, e.rowsDone, e.rowsTotal])).toEqual([['part', 1000, 3000], ['part', 2000, 3000], ['part', 3000, 3000]]);
    for (const e of events) expect(Object.keys(e)).toEqual(['event', 'rowsDone', 'rowsTotal', 'rowsPerSecond', 'elapsedSeconds', 'etaSeconds']);
    expect(r.stdout.endsWith('\n')).toBe(true);
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(1);
    expect(JSON.parse(r.stdout).status).toBe('ok');
  });

  it('--quiet: nothing on stderr', async () => {
    const r = await runCli(await args('--quiet'));
    expectOk(r);
    expect(r.stderr).toBe('');
  });

  it('an unknown --log-format is a usage error (2)', async () => {
    expectCliError(await runCli(await args('--log-format', 'xml')), 2, 'USAGE');
  });
});
