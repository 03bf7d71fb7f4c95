/**
 * `batchinfer report`: one self-contained HTML page (inline CSS and SVG, no script, no
 * network) from a run's summary, metrics, profile and drift. Its size depends on the columns
 * and classes, never on the rows. Light and dark follow the reader's setting; sections are
 * reached from a keyboard through the contents' links; it prints without the navigation.
 */
import type { ReportInputs } from '../core/reportInputs.js';
import type { ColumnDrift } from '../drift/drift.js';
import { sampleCdf, type WeightedSample } from '../drift/statistics.js';
import type { ColumnProfile } from '../profile/columnProfile.js';
import { QuantileSketch } from '../profile/quantileSketch.js';

export const CSS = `
:root { color-scheme: light dark; --fg: #1b1f24; --bg: #ffffff; --muted: #57606a; --line: #d0d7de; --ref: #0969da; --cur: #d1242f; --ok: #1a7f37; --warn: #bf3989; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117; --muted: #9198a1; --line: #3d444d; --ref: #4493f8; --cur: #f85149; --ok: #3fb950; --warn: #db61a2; } }
body { font: 15px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); margin: 0 auto; max-width: 72rem; padding: 1rem 1.5rem 3rem; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid var(--line); }
nav ul { display: flex; flex-wrap: wrap; gap: .25rem 1rem; list-style: none; padding: 0; }
a { color: var(--ref); } a:focus-visible, summary:focus-visible { outline: 3px solid var(--warn); outline-offset: 2px; }
table { border-collapse: collapse; margin: .5rem 0; } th, td { padding: .2rem .6rem; border-bottom: 1px solid var(--line); text-align: right; } th:first-child, td:first-child { text-align: left; }
.pairs td { text-align: left; } .drifted td { color: var(--cur); font-weight: 600; } .muted { color: var(--muted); } .figures { display: flex; flex-wrap: wrap; gap: 1rem 2rem; }
.figure b { display: block; font-size: 1.3rem; } svg { max-width: 100%; height: auto; } svg text { fill: var(--fg); font-size: 11px; }
.ref { fill: var(--ref); } .cur { fill: var(--cur); } .axis { stroke: var(--line); } .curve { fill: none; stroke: var(--ref); stroke-width: 2; } .diag { stroke: var(--muted); stroke-dasharray: 4 3; }
.legend span::before { content: ""; display: inline-block; width: .8em; height: .8em; margin: 0 .3em 0 1em; background: var(--c); }
@media print { nav { display: none; } body { max-width: none; } h2 { break-after: avoid; } table, svg { break-inside: avoid; } }
`;

export function esc(text: unknown): string {
  return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function num(v: number | null | undefined, digits = 4): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  if (v !== 0 && Math.abs(v) < 1e-4) return v.toExponential(1);
  return Number.isInteger(v) ? v.toLocaleString('en-US') : v.toFixed(digits);
}

export function pct(v: number | null | undefined): string {
  return v === null || v === undefined ? '–' : `${(100 * v).toFixed(1)}%`;
}

export function table(caption: string, head: readonly string[], rows: readonly (readonly string[])[], rowClass: (i: number) => string = () => ''): string {
  const body = rows.map((r, i) => `<tr${rowClass(i) ? ` class="${rowClass(i)}"` : ''}>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('');
  const thead = head.some((h) => h !== '') ? `<thead><tr>${head.map((h) => `<th scope="col">${esc(h)}</th>`).join('')}</tr></thead>` : '';
  return `<table${thead ? '' : ' class="pairs"'}><caption class="muted">${esc(caption)}</caption>${thead}<tbody>${body}</tbody></table>`;
}

/** Bars of one or two series over the same bins, with a title per bar for screen readers and hovering. */
function bars(label: string, bins: readonly string[], series: readonly { name: string; cls: string; values: readonly number[] }[]): string {
  const width = 560;
  const height = 160;
  const max = Math.max(1e-12, ...series.flatMap((s) => s.values));
  const slot = width / Math.max(1, bins.length);
  const barWidth = (slot - 2) / series.length;
  const rects = bins.flatMap((bin, i) =>
    series.map((s, k) => {
      const h = (height - 20) * (s.values[i]! / max);
      return `<rect class="${s.cls}" x="${(i * slot + 1 + k * barWidth).toFixed(1)}" y="${(height - 16 - h).toFixed(1)}" width="${barWidth.toFixed(1)}" height="${h.toFixed(1)}"><title>${esc(`${s.name} ${bin}: ${pct(s.values[i]!)}`)}</title></rect>`;
    }),
  );
  const ticks = bins.length <= 12 ? bins.map((b, i) => `<text x="${(i * slot + slot / 2).toFixed(1)}" y="${height - 3}" text-anchor="middle">${esc(b.length > 10 ? b.slice(0, 9) + '…' : b)}</text>`) : [];
  const legend = series.length > 1 ? `<div class="legend muted">${series.map((s) => `<span style="--c: var(--${s.cls})">${esc(s.name)}</span>`).join('')}</div>` : '';
  return `<figure><svg role="img" aria-label="${esc(label)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}"><line class="axis" x1="0" x2="${width}" y1="${height - 16}" y2="${height - 16}"/>${rects.join('')}${ticks.join('')}</svg>${legend}<figcaption class="muted">${esc(label)}</figcaption></figure>`;
}

/** A curve through points in [0, 1] x [0, 1] with the diagonal, as ROC and calibration are drawn. */
function curve(label: string, points: readonly [number, number][], xName: string, yName: string): string {
  const s = 220;
  const path = points.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${(20 + x * s).toFixed(1)},${(10 + (1 - y) * s).toFixed(1)}`).join(' ');
  return `<figure><svg role="img" aria-label="${esc(label)}" viewBox="0 0 ${s + 40} ${s + 40}" width="${s + 40}" height="${s + 40}"><rect class="axis" x="20" y="10" width="${s}" height="${s}" fill="none"/><line class="diag" x1="20" y1="${s + 10}" x2="${s + 20}" y2="10"/><path class="curve" d="${path}"/><text x="${20 + s / 2}" y="${s + 35}" text-anchor="middle">${esc(xName)}</text><text x="12" y="${10 + s / 2}" transform="rotate(-90 12 ${10 + s / 2})" text-anchor="middle">${esc(yName)}</text></svg><figcaption class="muted">${esc(label)}</figcaption></figure>`;
}

function sampleOf(c: ColumnProfile | undefined): WeightedSample | null {
  return c?.numeric && c.numeric.count > 0 ? QuantileSketch.fromJSON(c.numeric.sketch).sorted() : null;
}

/** Shares of 20 equal-width bins over [lo, hi] from a sketch. */
function histogram(s: WeightedSample, lo: number, hi: number, bins = 20): number[] {
  const edges = Array.from({ length: bins - 1 }, (_, i) => lo + ((hi - lo) * (i + 1)) / bins);
  const below = [...edges.map((e) => sampleCdf(s, e)), 1];
  return below.map((b, i) => b - (i === 0 ? 0 : below[i - 1]!));
}

/** A numeric column's histogram, or the reference's and the current one's over a common range. */
function columnChart(name: string, cur: ColumnProfile | undefined, ref?: ColumnProfile): string {
  if (cur?.kind === 'categorical' || ref?.kind === 'categorical') {
    const values = [...new Set([...(ref?.categories?.values ?? []).map(([v]) => v), ...(cur?.categories?.values ?? []).map(([v]) => v)])].slice(0, 12);
    const share = (c: ColumnProfile | undefined): number[] => {
      const counts = new Map(c?.categories?.values ?? []);
      const total = c ? c.rows - c.nulls : 0;
      return values.map((v) => (total > 0 ? (counts.get(v) ?? 0) / total : 0));
    };
    const series = [...(ref ? [{ name: 'reference', cls: 'ref', values: share(ref) }] : []), { name: 'current', cls: 'cur', values: share(cur) }];
    return bars(`${name}: share of each category${values.length === 12 ? ' (first 12)' : ''}`, values.map(String), series);
  }
  const samples = [sampleOf(ref), sampleOf(cur)];
  const present = samples.filter((s): s is WeightedSample => s !== null);
  if (present.length === 0) return `<p class="muted">${esc(name)}: no value.</p>`;
  const lo = Math.min(...present.map((s) => s.items[0]!));
  const hi = Math.max(...present.map((s) => s.items[s.items.length - 1]!));
  const labels = Array.from({ length: 20 }, (_, i) => `${num(lo + ((hi - lo) * i) / 20, 3)} to ${num(lo + ((hi - lo) * (i + 1)) / 20, 3)}`);
  const series = [...(ref && samples[0] ? [{ name: 'reference', cls: 'ref', values: histogram(samples[0], lo, hi) }] : []), ...(samples[1] ? [{ name: 'current', cls: 'cur', values: histogram(samples[1], lo, hi) }] : [])];
  return bars(`${name}: share of values in 20 bins from ${num(lo, 3)} to ${num(hi, 3)}`, labels, series);
}

function runSection(r: ReportInputs): string {
  const s = r.summary;
  if (!s) return `<section id="run"><h2>Run</h2><p class="muted">No run summary beside ${esc(r.output)}: the figures below come from the output itself (${num(r.profile.rows)} rows).</p></section>`;
  const figures: [string, string][] = [['rows scored', num(s.rows.out)], ['rows in', num(s.rows.in)], ['rejected', num(s.rows.rejected)], ['wall time', `${num(s.seconds.wall, 2)} s`], ['throughput', `${num(s.rowsPerSecond)} rows/s`], ['task', esc(s.task)]];
  const rejects = Object.entries(s.rows.rejectedByReason ?? {});
  const files = [['model', `${esc(s.model.path)}<br><span class="muted">sha256 ${esc(s.model.sha256)}</span>`], ['input', `${esc(s.input.path)} (${num(s.input.files)} files, ${esc(s.input.format)})`], ['output', esc(s.output.path)], ['started', esc(s.startedAt)], ['versions', esc(Object.entries(s.versions).map(([k, v]) => `${k} ${v}`).join(', '))]];
  const data = (s.manifest ?? []).map((m) => [esc(m.file), num(m.rows), esc(m.sha256)]);
  return `<section id="run"><h2>Run${s.window ? ` – window ${esc(s.window.start)}` : ''}</h2><div class="figures">${figures.map(([k, v]) => `<div class="figure"><b>${v}</b><span class="muted">${esc(k)}</span></div>`).join('')}</div>
${rejects.length > 0 ? table('Rejected rows by reason', ['reason', 'rows'], rejects.map(([k, v]) => [esc(k), num(v)])) : ''}
${table('Model and data', ['', ''], files)}${data.length > 0 ? table('Output files', ['file', 'rows', 'sha256'], data) : ''}</section>`;
}

function predictionSection(r: ReportInputs): string {
  const p = r.profile.prediction;
  const confidence = r.profile.columns.find((c) => c.name === 'confidence');
  const regression = !p ? r.profile.columns.find((c) => c.name === 'prediction' && c.kind === 'numeric') : undefined;
  if (!p && !confidence && !regression) return '';
  const parts: string[] = [];
  if (p) {
    const classes = Object.entries(p.classes);
    parts.push(bars('Predicted classes: share of the rows', classes.map(([c]) => c), [{ name: 'current', cls: 'cur', values: classes.map(([, n]) => (p.rows > 0 ? n / p.rows : 0)) }]));
    parts.push(table('Predicted classes', ['class', 'rows', 'share'], classes.map(([c, n]) => [esc(c), num(n), pct(p.rows > 0 ? n / p.rows : null)])));
    parts.push(`<p>Review share: <b>${pct(p.review_rate)}</b>${p.review !== null ? ` (${num(p.review)} rows flagged <code>needs_review</code>)` : ' (no review flag in this output)'}</p>`);
  }
  if (confidence) parts.push(columnChart('confidence', confidence));
  if (regression) parts.push(columnChart('prediction', regression));
  return `<section id="predictions"><h2>Predictions</h2>${parts.join('\n')}</section>`;
}

function driftRow(c: ColumnDrift): string[] {
  return [esc(c.column), c.kind, num(c.psi), num(c.ks), num(c.ks_p_value), num(c.wasserstein), num(c.js), num(c.chi2_p_value), `${pct(c.null_rate.reference)} → ${pct(c.null_rate.current)}`, c.drifted ? 'drifted' : 'no'];
}

function driftSection(r: ReportInputs): string {
  const d = r.drift;
  if (!d || !r.referenceProfile) return '';
  const ref = new Map(r.referenceProfile.columns.map((c) => [c.name, c]));
  const cur = new Map(r.profile.columns.map((c) => [c.name, c]));
  const rule = d.method === 'ks' ? `p < ${d.threshold} / ${d.columns.length} (Bonferroni)` : `${d.method} > ${d.threshold}`;
  const head = ['column', 'kind', 'PSI', 'KS', 'KS p', 'Wasserstein', 'JS', 'χ² p', 'NULLs', 'drift'];
  const charts = d.columns.map((c) => `<details${c.drifted ? ' open' : ''}><summary>${esc(c.column)}${c.drifted ? ' – drifted' : ''}</summary>${columnChart(c.column, cur.get(c.column), ref.get(c.column))}</details>`);
  const s = d.schema;
  const schema = [
    ...s.added.map((c) => `added ${esc(c.column)} (${esc(c.type)})`),
    ...s.removed.map((c) => `removed ${esc(c.column)} (${esc(c.type)})`),
    ...s.retyped.map((c) => `retyped ${esc(c.column)}: ${esc(c.reference)} → ${esc(c.current)}`),
    ...s.unseen_categories.map((u) => `${esc(u.column)}: ${num(u.rows)} rows of categories the reference never had (${esc(u.values.join(', '))})`),
  ];
  const p = d.prediction;
  const prediction = p ? `<p>Prediction drift: <b>${p.drifted ? 'yes' : 'no'}</b>${p.classes ? ` (class shares: PSI ${num(p.classes.psi)}, JS ${num(p.classes.js)})` : ''}; review rate ${pct(p.review_rate.reference)} → ${pct(p.review_rate.current)}.</p>` : '';
  return `<section id="drift"><h2>Drift against ${esc(r.reference)}</h2>
<p><b>${d.drifted_columns} of ${d.columns.length}</b> columns drifted (${esc(rule)}); dataset drift: <b>${d.dataset_drift ? 'yes' : 'no'}</b> (${pct(d.drifted_share)} of the columns).</p>${prediction}
${table('Drift per column: every statistic, whatever the method', head, d.columns.map(driftRow), (i) => (d.columns[i]!.drifted ? 'drifted' : ''))}
${schema.length > 0 ? `<h3>Schema changes</h3><ul>${schema.map((x) => `<li>${x}</li>`).join('')}</ul>` : ''}
<h3>Reference and current distributions</h3>${charts.join('\n')}</section>`;
}

function evaluationSection(r: ReportInputs): string {
  const e = r.evaluation;
  if (!e) return '';
  const metrics = table('Metrics', ['metric', 'value'], Object.entries(e.metrics).map(([k, v]) => [esc(k), num(v)]));
  const parts = [metrics];
  if (e.confusion) parts.push(table('Confusion matrix: rows are true labels, columns predictions', ['true \\ predicted', ...e.confusion.labels], e.confusion.matrix.map((row, i) => [esc(e.confusion!.labels[i]), ...row.map((n) => num(n))])));
  const positive = e.positive;
  const support = positive && e.per_class ? e.per_class[positive]?.support : undefined;
  if (e.thresholds && support !== undefined && e.rows.evaluated > support) {
    // FPR from the grid: flagged = TP + FP, TP = recall x positives.
    const n = e.rows.evaluated;
    const points: [number, number][] = e.thresholds.map((t): [number, number] => [Math.max(0, (t.flagged_share * n - (t.recall ?? 0) * support) / (n - support)), t.recall ?? 0]);
    const roc = [[1, 1] as [number, number], ...points, [0, 0] as [number, number]].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    parts.push(curve(`ROC curve (from the threshold grid); AUC ${num(e.metrics['roc_auc'] as number | null)}`, roc, 'false positive rate', 'true positive rate'));
  }
  if (e.calibration) {
    const points = e.calibration.reliability.filter((b) => b.mean_predicted !== null && b.observed !== null).map((b): [number, number] => [b.mean_predicted!, b.observed!]);
    if (points.length > 0) parts.push(curve('Calibration: observed share against mean predicted probability per bin', points, 'mean predicted', 'observed'));
  }
  if (e.groups) {
    const names = [...new Set(e.groups.flatMap((g) => Object.keys(g.metrics)))].slice(0, 6);
    parts.push(table('Per group', ['group', 'rows', ...names], e.groups.map((g) => [esc(Object.entries(g.group).map(([k, v]) => `${k}=${v}`).join(', ')) + (g.too_small ? ' <span class="muted">(too small)</span>' : ''), num(g.rows), ...names.map((m) => num(g.metrics[m] as number | null))])));
  }
  return `<section id="evaluation"><h2>Evaluation against ${esc(e.label)}</h2>${parts.join('\n')}</section>`;
}

function profileSection(r: ReportInputs): string {
  const rows = r.profile.columns.map((c) => [esc(c.name), esc(c.type), num(c.rows), pct(c.rows > 0 ? c.nulls / c.rows : null), num(c.nan + c.inf), num(c.numeric?.min ?? null), num(c.numeric?.mean ?? null), num(c.numeric?.max ?? null), num(c.numeric?.std ?? null), c.categories ? num(c.categories.values.length) + (c.categories.truncated ? '+' : '') : '–']);
  return `<section id="columns"><h2>Columns</h2>${table('Profile of the output', ['column', 'type', 'rows', 'NULLs', 'NaN/Inf', 'min', 'mean', 'max', 'std', 'categories'], rows)}</section>`;
}

/** The whole page. */
export function renderReport(r: ReportInputs): string {
  const sections = [runSection(r), predictionSection(r), driftSection(r), evaluationSection(r), profileSection(r)].filter((s) => s !== '');
  return page(`batchinfer report: ${r.output}`, 'batchinfer report', esc(r.output), sections);
}

/** A self-contained page of `sections` (each `<section id><h2>`), with a contents list linking to each; `css` adds to the common style. */
export function page(title: string, heading: string, subtitle: string, sections: readonly string[], css = ''): string {
  const nav = sections.map((s) => /<section id="([^"]+)"><h2>([^<]*)/.exec(s)).filter((m) => m !== null).map((m) => `<li><a href="#${m![1]}">${m![2]}</a></li>`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(title)}</title><style>${CSS}${css}</style></head>
<body><header><h1>${esc(heading)}</h1><p class="muted">${subtitle}</p><nav aria-label="Contents"><ul>${nav.join('')}</ul></nav></header>
<main>${sections.join('\n')}</main></body></html>
`;
}
