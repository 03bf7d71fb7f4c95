/**
 * `batchinfer report JOB --from T1 --to T2`: the drift of a scheduled job window by window as
 * one self-contained page (htmlReport.ts's rules: inline CSS and SVG, no script, no request):
 * per column a line chart of the method's statistic over the windows with the threshold, then
 * the table of every window (missing ones included, so a gap shows where it is).
 */
import type { DriftSeries, MissingWindow, WindowDrift } from '../drift/windowSeries.js';
import { esc, num, page, table } from './htmlReport.js';

const SERIES_CSS = `
.pt { fill: var(--ref); } .pt.hot { fill: var(--cur); } .line { fill: none; stroke: var(--ref); stroke-width: 1.5; } .limit { stroke: var(--cur); stroke-dasharray: 5 4; }
.hot { color: var(--cur); font-weight: 600; } .charts { display: flex; flex-wrap: wrap; gap: 0 2rem; }
`;

/** What the figures are, by method (the label of every chart and table). */
const STATISTIC = { psi: 'PSI', js: 'Jensen-Shannon distance', wasserstein: 'Wasserstein distance (categorical: JS)', ks: 'KS p-value (categorical: χ² p-value)' } as const;

/** A slot of the range: a window with its row, or a missing one. */
type Slot = { start: string; row: WindowDrift | null; missing: MissingWindow | null };

function slotsOf(s: DriftSeries): Slot[] {
  const slots: Slot[] = [...s.windows.map((row) => ({ start: row.start, row, missing: null })), ...s.missing.map((missing) => ({ start: missing.start, row: null, missing }))];
  return slots.sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
}

/** `2026-11-29T04:00:00.000Z` as `2026-11-29 04:00`. */
function shortTime(iso: string): string {
  return iso.replace('T', ' ').replace(/:00(\.000)?Z$/, '');
}

/** The level a column's statistic is judged against in each window (ks: the level split over the window's columns). */
function limitOf(s: DriftSeries, row: WindowDrift): number {
  return s.method === 'ks' ? s.threshold / Math.max(1, Object.keys(row.columns).length) : s.threshold;
}

/**
 * One column's statistic over the slots: a line through consecutive windows (broken where a
 * window is missing), a dot per window (drifted ones in the current colour), the threshold
 * dashed. Each dot's title gives the window, the value and whether it drifted.
 */
function seriesChart(s: DriftSeries, name: string, slots: readonly Slot[]): string {
  const [width, height, left, bottom, top] = [560, 180, 52, 30, 10];
  const values = slots.map((slot) => slot.row?.columns[name] ?? null);
  const present = values.filter((v): v is number => v !== null && Number.isFinite(v));
  const rows = slots.flatMap((slot) => (slot.row ? [slot.row] : []));
  const limit = rows.length > 0 ? Math.max(...rows.map((r) => limitOf(s, r))) : s.threshold;
  const top_ = s.method === 'ks' ? 1 : Math.max(limit * 1.25, ...present) * 1.05 || 1;
  const x = (i: number): number => left + ((width - left - 10) * (slots.length <= 1 ? 0.5 : i / (slots.length - 1)));
  const y = (v: number): number => top + (height - top - bottom) * (1 - Math.min(v, top_) / top_);
  let path = '';
  let drawing = false;
  values.forEach((v, i) => {
    if (v === null || !Number.isFinite(v)) return void (drawing = false);
    path += `${drawing ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)} `;
    drawing = true;
  });
  const dots = slots.flatMap((slot, i) => {
    const v = values[i];
    if (v === null || v === undefined || !Number.isFinite(v)) return [];
    const hot = slot.row!.drifted.includes(name);
    return [`<circle class="pt${hot ? ' hot' : ''}" cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="${hot ? 4 : 3}"><title>${esc(`${shortTime(slot.start)}: ${num(v)}${hot ? ' (drifted)' : ''}`)}</title></circle>`];
  });
  const ticks = [0, Math.floor((slots.length - 1) / 2), slots.length - 1].filter((i, k, all) => i >= 0 && all.indexOf(i) === k);
  const xLabels = ticks.map((i) => `<text x="${x(i).toFixed(1)}" y="${height - 8}" text-anchor="${slots.length === 1 ? 'middle' : i === 0 ? 'start' : i === slots.length - 1 ? 'end' : 'middle'}">${esc(shortTime(slots[i]!.start))}</text>`);
  const yLabels = [0, top_].map((v) => `<text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${esc(num(v, 3))}</text>`);
  const drifted = rows.filter((r) => r.drifted.includes(name)).length;
  const label = `${name}: ${STATISTIC[s.method]} in ${present.length} window${present.length === 1 ? '' : 's'}, ${drifted} drifted; dashed: the threshold ${num(limit)}`;
  const svg = `<svg role="img" aria-label="${esc(label)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}"><line class="axis" x1="${left}" x2="${width - 10}" y1="${height - bottom}" y2="${height - bottom}"/><line class="axis" x1="${left}" x2="${left}" y1="${top}" y2="${height - bottom}"/><line class="limit" x1="${left}" x2="${width - 10}" y1="${y(limit).toFixed(1)}" y2="${y(limit).toFixed(1)}"/><path class="line" d="${path.trim()}"/>${dots.join('')}${xLabels.join('')}${yLabels.join('')}</svg>`;
  return `<figure>${svg}<figcaption class="muted">${esc(label)}</figcaption></figure>`;
}

function summarySection(s: DriftSeries, slots: readonly Slot[]): string {
  const latest = s.windows.at(-1);
  const figures: [string, string][] = [
    ['windows with a profile', num(s.windows.length)],
    ['windows missing', num(s.missing.length)],
    ['windows with dataset drift', num(s.windows.filter((w) => w.dataset_drift).length)],
    ['latest window with a profile', latest ? esc(shortTime(latest.start)) : '–'],
    ['its drifted columns', latest ? num(latest.drifted_columns) : '–'],
  ];
  const rule = s.method === 'ks' ? `p < ${s.threshold} / columns (Bonferroni)` : `${s.method} > ${s.threshold}`;
  const range = slots.length > 0 ? `${shortTime(slots[0]!.start)} to ${shortTime(slots.at(-1)!.start)}` : 'no window';
  return `<section id="summary"><h2>Summary</h2><p>Windows ${esc(range)} against <b>${esc(s.reference)}</b>: ${esc(STATISTIC[s.method])} per column; a column drifted when ${esc(rule)}.</p><div class="figures">${figures.map(([k, v]) => `<div class="figure"><b>${v}</b><span class="muted">${esc(k)}</span></div>`).join('')}</div></section>`;
}

function tableSection(s: DriftSeries, names: readonly string[], slots: readonly Slot[]): string {
  const head = ['window', ...names, 'dataset drift', 'prediction drift'];
  const rows = slots.map((slot) => {
    if (!slot.row) return [esc(shortTime(slot.start)), ...names.map(() => '–'), `missing (${esc(slot.missing!.reason)})`, ''];
    const r = slot.row;
    const cells = names.map((n) => (r.drifted.includes(n) ? `<span class="hot">${num(r.columns[n])} drifted</span>` : num(r.columns[n])));
    return [esc(shortTime(slot.start)), ...cells, r.dataset_drift ? 'yes' : 'no', r.prediction_drift === null ? '–' : r.prediction_drift ? 'yes' : 'no'];
  });
  return `<section id="windows"><h2>Windows</h2>${table(`${STATISTIC[s.method]} per window and column`, head, rows)}</section>`;
}

/** The page of a job's drift series; `job` names the job in the title. */
export function renderSeriesReport(s: DriftSeries, job: string): string {
  const slots = slotsOf(s);
  const names = [...new Set(s.windows.flatMap((w) => Object.keys(w.columns)))];
  const charts = names.length > 0 ? `<div class="charts">${names.map((n) => seriesChart(s, n, slots)).join('\n')}</div>` : '<p class="muted">No window of the range has a profile yet.</p>';
  const sections = [summarySection(s, slots), `<section id="columns"><h2>Per column</h2>${charts}</section>`, tableSection(s, names, slots)];
  return page(`batchinfer drift of ${job}`, `Drift of ${job}, window by window`, esc(`reference ${s.reference}`), sections, SERIES_CSS);
}
