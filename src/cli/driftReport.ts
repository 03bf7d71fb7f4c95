/** `drift` and `profile` reports for people (stdout, unless --json). */
import type { ColumnDrift, DriftReport } from '../drift/drift.js';
import type { Profile } from '../profile/profile.js';
import type { DriftSeries } from '../drift/windowSeries.js';

function figure(v: number | null, digits = 4): string {
  if (v === null) return '-';
  if (v !== 0 && Math.abs(v) < 1e-4) return v.toExponential(1);
  return v.toFixed(digits);
}

function percent(v: number | null): string {
  return v === null ? '-' : `${(100 * v).toFixed(1)}%`;
}

function row(c: ColumnDrift): string {
  const nulls = `${percent(c.null_rate.reference)} -> ${percent(c.null_rate.current)}`;
  return [c.column.padEnd(20), c.kind.padEnd(11), figure(c.psi).padStart(8), figure(c.ks).padStart(8), figure(c.ks_p_value).padStart(9), figure(c.wasserstein).padStart(9), figure(c.js).padStart(8), figure(c.chi2_p_value).padStart(9), nulls.padStart(16), c.drifted ? ' DRIFTED' : ''].join(' ').trimEnd();
}

const HEADER = ['column'.padEnd(20), 'kind'.padEnd(11), 'psi'.padStart(8), 'ks'.padStart(8), 'ks_p'.padStart(9), 'wasser.'.padStart(9), 'js'.padStart(8), 'chi2_p'.padStart(9), 'NULLs'.padStart(16)].join(' ');

export function formatDrift(r: DriftReport): string {
  const rule = r.method === 'ks' ? `p < ${r.threshold} / ${r.columns.length} (Bonferroni)` : `${r.method} > ${r.threshold}`;
  const lines = [`drift: ${r.drifted_columns} of ${r.columns.length} columns drifted (${rule}); dataset drift: ${r.dataset_drift ? 'yes' : 'no'} (${percent(r.drifted_share)} of the columns)`, HEADER, ...r.columns.map(row)];
  const p = r.prediction;
  if (p) {
    lines.push(`predictions: ${p.drifted ? 'DRIFTED' : 'no drift'}`);
    if (p.classes) {
      const shares = Object.keys({ ...p.classes.reference, ...p.classes.current }).map((c) => `${c} ${percent(p.classes!.reference[c] ?? 0)} -> ${percent(p.classes!.current[c] ?? 0)}`);
      lines.push(`  class shares: ${shares.join(', ')} (psi ${figure(p.classes.psi)}, js ${figure(p.classes.js)}, chi2_p ${figure(p.classes.chi2_p_value)})${p.classes.drifted ? '  DRIFTED' : ''}`);
    }
    if (p.review_rate.reference !== null || p.review_rate.current !== null) lines.push(`  review rate: ${percent(p.review_rate.reference)} -> ${percent(p.review_rate.current)}`);
    for (const c of p.columns) lines.push(`  ${row(c).trimEnd()}`);
  }
  const s = r.schema;
  if (s.added.length > 0) lines.push(`schema: added ${s.added.map((c) => `${c.column} (${c.type})`).join(', ')}`);
  if (s.removed.length > 0) lines.push(`schema: removed ${s.removed.map((c) => `${c.column} (${c.type})`).join(', ')}`);
  if (s.retyped.length > 0) lines.push(`schema: retyped ${s.retyped.map((c) => `${c.column} ${c.reference} -> ${c.current}`).join(', ')}`);
  for (const u of s.unseen_categories) lines.push(`schema: ${u.column} has ${u.rows} rows of categories the reference never had: ${u.values.map(String).join(', ')}`);
  return lines.join('\n');
}

export function formatProfile(p: Profile, output: string): string {
  const numeric = p.columns.filter((c) => c.kind === 'numeric').length;
  return `profile: ${p.rows.toLocaleString('en-US')} rows, ${p.columns.length} columns (${numeric} numeric, ${p.columns.length - numeric} categorical)${p.prediction ? ', with predictions' : ''} -> ${output}`;
}

/** What the series' figures are, by method. */
const SERIES_STATISTIC = { psi: 'PSI', js: 'Jensen-Shannon distance', wasserstein: 'Wasserstein distance in reference standard deviations (categorical: JS)', ks: 'KS p-value (categorical: chi-square p-value)' } as const;

/**
 * `drift JOB`: one line per window (time runs down, as in `status`), one column per compared
 * column holding the method's statistic, `*` after a drifted cell; then the missing windows.
 */
export function formatDriftSeries(s: DriftSeries): string {
  const rule = s.method === 'ks' ? `p < ${s.threshold} / columns (Bonferroni)` : `${s.method} > ${s.threshold}`;
  const names = [...new Set(s.windows.flatMap((w) => Object.keys(w.columns)))];
  const widths = names.map((n) => Math.max(n.length, 9));
  const lines = [`drift of ${s.windows.length} window${s.windows.length === 1 ? '' : 's'} against ${s.reference}: ${SERIES_STATISTIC[s.method]} per column (${rule}; * drifted)`];
  lines.push(['window start'.padEnd(24), ...names.map((n, i) => n.padStart(widths[i]!)), 'dataset'.padStart(8), 'predictions'.padStart(12)].join(' '));
  for (const w of s.windows) {
    const cells = names.map((n, i) => {
      const v = w.columns[n];
      return (v === undefined ? '' : figure(v) + (w.drifted.includes(n) ? '*' : ' ')).padStart(widths[i]!);
    });
    const predictions = w.prediction_drift === null ? '-' : w.prediction_drift ? 'DRIFTED' : 'no';
    lines.push([w.start.padEnd(24), ...cells, (w.dataset_drift ? 'DRIFTED' : 'no').padStart(8), predictions.padStart(12)].join(' ').trimEnd());
  }
  if (s.missing.length > 0) lines.push(`missing ${s.missing.length}: ${s.missing.map((m) => `${m.start} (${m.reason})`).join(', ')}`);
  return lines.join('\n');
}
