/**
 * `batchinfer report` opened in a real browser: headless Chromium (Debian's `chromium`)
 * driven by playwright-core, every request but the file itself blocked and counted. The page
 * must make no request, log no console error, hold the run's key figures, reach its sections
 * from the keyboard, and a screenshot is saved. Under CI=true a missing browser fails the
 * test; elsewhere the browser tests skip, saying why. A scheduled job's report (`report JOB
 * --from --to`) shows its drift series: a chart per column and the table of windows.
 */
import { existsSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import YAML from 'yaml';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { data, expectCliError, expectOk, model, runCli } from '../helpers/cli.js';
import { at, DAY, stageDriftingJob } from '../helpers/driftingJob.js';
import { withDuckDb } from '../helpers/parquet.js';
import { useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-e2e-report-');
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const hasBrowser = existsSync(CHROMIUM);
if (!hasBrowser && process.env['CI'] === 'true') throw new Error(`report tests need Chromium at ${CHROMIUM} under CI (apt-get install chromium; .ci/run does)`);
if (!hasBrowser) console.warn(`report browser tests skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);

const MLP = ['--model', model('mlp'), '--features', 'amount,f0,f1,risk score', '--fill-null', '0', '--labels', 'legit,fraud', '--quiet'];
let dir: string;

beforeAll(async () => {
  dir = await tmp.make();
  const source = data('transactions.parquet').replace(/'/g, "''");
  await withDuckDb(async (q) => {
    await q(`COPY (SELECT *, CASE WHEN amount > 60 THEN 'fraud' ELSE 'legit' END AS truth FROM read_parquet('${source}') ORDER BY txn_id LIMIT 10) TO '${join(dir, 'ten.parquet')}' (FORMAT parquet)`);
    await q(`COPY (SELECT amount + 1000 AS amount, f0 + 50 AS f0, f1 - 50 AS f1 FROM read_parquet('${source}')) TO '${join(dir, 'moved.parquet')}' (FORMAT parquet)`);
  });
});

interface Opened {
  text: string;
  requests: string[];
  errors: string[];
  focused: string[];
}

/** Opens `file` with every request but itself blocked; the page's text, the requests, console errors, and what Tab focuses. */
async function openInBrowser(browser: Browser, file: string, screenshot: string): Promise<Opened> {
  const context = await browser.newContext({ offline: true, colorScheme: 'dark' });
  const url = pathToFileURL(file).href;
  const requests: string[] = [];
  const errors: string[] = [];
  await context.route('**/*', (route) => (route.request().url() === url ? route.continue() : route.abort()));
  const page = await context.newPage();
  page.on('request', (r) => {
    if (r.url() !== url) requests.push(r.url());
  });
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  const focused: string[] = [];
  for (let i = 0; i < 3; i++) {
    await page.keyboard.press('Tab');
    focused.push(await page.evaluate(() => document.activeElement?.textContent ?? ''));
  }
  await page.screenshot({ path: screenshot, fullPage: true });
  const text = await page.innerText('body');
  await context.close();
  return { text, requests, errors, focused };
}

describe.skipIf(!hasBrowser)('report in a browser', { timeout: 120_000 }, () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    return async () => browser.close();
  });

  it('a 10-row run with --evaluate: run figures, predictions, confusion matrix; no request, no console error', async () => {
    const out = join(dir, 'ten-out.parquet');
    const run = await runCli(['run', ...MLP, '--input', join(dir, 'ten.parquet'), '--output', out, '--passthrough', 'txn_id,truth', '--evaluate', 'truth']);
    expect(run.code === 0 || run.code === 1, run.stderr).toBe(true);
    const r = await runCli(['report', out]);
    expectOk(r);
    const html = `${out}.report.html`;
    expect(r.stderr).toBe(`report: ${html}\n`);
    const page = await openInBrowser(browser, html, join(dir, 'ten.png'));
    expect(page.requests).toEqual([]);
    expect(page.errors).toEqual([]);
    expect(page.text).toMatch(/10\s+rows scored/);
    expect(page.text).toContain('Predicted classes');
    expect(page.text).toContain('Evaluation against truth');
    expect(page.text).toContain('Confusion matrix');
    expect(page.focused).toEqual(['Run', 'Predictions', 'Evaluation against truth']);
    expect((await stat(join(dir, 'ten.png'))).size).toBeGreaterThan(10_000);
    const summary = JSON.parse(await readFile(`${out}.summary.json`, 'utf8'));
    expect(page.text).toContain(summary.model.sha256);
  });

  it('a run with every column drifted: the drift table says so, with the reference and current histograms', async () => {
    const out = join(dir, 'all-out.parquet');
    expectOk(await runCli(['run', ...MLP, '--input', data('transactions.parquet'), '--output', out, '--passthrough', 'amount,f0,f1']));
    const reference = join(dir, 'moved.profile.json');
    expectOk(await runCli(['profile', join(dir, 'moved.parquet'), '--output', reference]));
    const html = join(dir, 'all.html');
    expectOk(await runCli(['report', out, '--reference', reference, '-o', html]));
    const page = await openInBrowser(browser, html, join(dir, 'all.png'));
    expect(page.requests).toEqual([]);
    expect(page.errors).toEqual([]);
    expect(page.text).toMatch(/3 of 3\s+columns drifted/);
    expect(page.text).toMatch(/dataset drift: yes/);
    expect((page.text.match(/– drifted/g) ?? []).length).toBe(3);
    const source = await readFile(html, 'utf8');
    expect(source).not.toMatch(/<script|https?:\/\/|<link/i);
    expect(source.match(/<svg/g)!.length).toBeGreaterThanOrEqual(4);
  });
});

describe.skipIf(!hasBrowser)('the report of a scheduled job in a browser', { timeout: 180_000 }, () => {
  let browser: Browser;
  let jobDir: string;
  let job: string;
  beforeAll(async () => {
    jobDir = await tmp.make();
    job = await stageDriftingJob(jobDir);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    return async () => browser.close();
  }, 180_000);

  it('a chart per column (statistic vs window) and the table: drifted cells marked, the missing window listed; no request, no console error', async () => {
    const html = join(jobDir, 'series.html');
    const r = await runCli(['report', job, '--from', at('00'), '--to', at('06'), '-o', html], { cwd: jobDir });
    expectOk(r);
    expect(r.stderr).toBe(`report: ${html}\n`);
    const series = JSON.parse((await runCli(['drift', job, '--from', at('00'), '--to', at('06'), '--json'], { cwd: jobDir })).stdout);
    const page = await openInBrowser(browser, html, join(jobDir, 'series.png'));
    expect(page.requests).toEqual([]);
    expect(page.errors).toEqual([]);
    expect(page.focused).toEqual(['Summary', 'Per column', 'Windows']);
    expect(page.text).toMatch(/5\s+windows with a profile/);
    expect(page.text).toMatch(/1\s+windows missing/);
    expect(page.text).toContain(`${DAY} 05:00`);
    expect(page.text).toContain('missing (no profile)');
    // Every window's PSI of `a` as the table shows it (4 decimals), drifted ones marked.
    for (const w of series.windows) {
      const a = w.columns.a as number;
      expect(page.text).toContain(`${a.toFixed(4)}${w.drifted.includes('a') ? ' drifted' : ''}`);
    }
    const drifted = series.windows.filter((w: { drifted: string[] }) => w.drifted.includes('a')).length;
    expect(drifted).toBeGreaterThan(0);
    const source = await readFile(html, 'utf8');
    expect(source).not.toMatch(/<script|https?:\/\/|<link/i);
    // One chart per column; a dot per window with a profile, the drifted ones hot.
    expect(source.match(/<svg/g)!.length).toBe(3);
    expect(source).toContain(`aria-label="a: PSI in 5 windows, ${drifted} drifted; dashed: the threshold 0.2000"`);
    expect(source.match(/<circle class="pt hot"/g)!.length).toBe(series.windows.reduce((n: number, w: { drifted: string[] }) => n + w.drifted.length, 0));
    expect((await stat(join(jobDir, 'series.png'))).size).toBeGreaterThan(10_000);
  });

  it('the default file is beside the job; --method ks charts p-values; a job without schedule or reference is refused', async () => {
    const r = await runCli(['report', job, '--from', at('00'), '--to', at('06'), '--method', 'ks'], { cwd: jobDir });
    expectOk(r);
    const html = join(jobDir, 'hourly.report.html');
    expect(r.stderr).toBe(`report: ${html}\n`);
    const source = await readFile(html, 'utf8');
    expect(source).toContain('KS p-value (categorical: χ² p-value) per column');
    const page = await openInBrowser(browser, html, join(jobDir, 'ks.png'));
    expect(page.errors).toEqual([]);
    expect(expectCliError(await runCli(['report', join(jobDir, 'nowhere.yaml')], { cwd: jobDir }), 66, 'SPEC_MISSING')).toContain('does not exist');
    const keys = YAML.parse(await readFile(job, 'utf8'));
    await writeFile(join(jobDir, 'noref.yaml'), YAML.stringify({ ...keys, reference: undefined }));
    expect(expectCliError(await runCli(['report', 'noref.yaml', '--from', at('00'), '--to', at('01')], { cwd: jobDir }), 2, 'USAGE')).toContain('names no `reference`');
    await writeFile(join(jobDir, 'once.yaml'), YAML.stringify({ ...keys, schedule: undefined, input: 'train.parquet', output: 'once.parquet' }));
    expect(expectCliError(await runCli(['report', 'once.yaml'], { cwd: jobDir }), 2, 'USAGE')).toContain('has no `schedule`');
    expect(existsSync(join(jobDir, 'noref.report.html')) || existsSync(join(jobDir, 'once.report.html'))).toBe(false);
  });
});

describe.concurrent('report without a browser', { timeout: 60_000 }, () => {
  it('its size does not grow with the rows', async () => {
    const small = join(dir, 'small-out.parquet');
    const large = join(dir, 'large-out.parquet');
    expectOk(await runCli(['run', ...MLP, '--input', join(dir, 'ten.parquet'), '--output', small]));
    expectOk(await runCli(['run', ...MLP, '--input', data('transactions.parquet'), '--output', large]));
    for (const out of [small, large]) expectOk(await runCli(['report', out]));
    const [a, b] = await Promise.all([stat(`${small}.report.html`), stat(`${large}.report.html`)]);
    expect(Math.abs(a.size - b.size)).toBeLessThan(5_000);
  });

  it('bad input: a missing output, a bad reference, a bad --method', async () => {
    expect(expectCliError(await runCli(['report', join(dir, 'nothing.parquet')]), 66, 'INPUT_MISSING')).toContain('does not exist');
    expect(expectCliError(await runCli(['report', join(dir, 'ten.parquet'), '--reference', join(dir, 'nope.profile.json')]), 66, 'INPUT_MISSING')).toContain('nope.profile.json does not exist');
    expect(expectCliError(await runCli(['report', join(dir, 'ten.parquet'), '--method', 'x']), 2, 'USAGE')).toContain('--method');
  });
});
