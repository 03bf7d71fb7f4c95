/** Human-readable text of `evaluate` and `compare` reports (stdout), and their gate lines. */
import type { EvaluationReport } from '../evaluate/evaluate.js';
import type { CompareReport } from '../evaluate/compare.js';

/** A metric value for people: 4 significant decimals, `n/a` for undefined. */
function fmt(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return 'n/a';
  return Number.isInteger(v) ? String(v) : v.toFixed(4);
}

function groupName(group: Record<string, unknown>): string {
  return Object.entries(group).map(([k, v]) => `${k}=${v === null ? 'NULL' : String(v)}`).join(', ');
}

export function formatEvaluation(r: EvaluationReport): string {
  const lines = [`evaluate: ${r.task}, label ${r.label}${r.positive ? `, positive class ${r.positive}` : ''}; ${r.rows.evaluated.toLocaleString('en-US')} rows evaluated, ${r.rows.null_labels} with a NULL label left out${r.rows.zero_labels !== undefined ? `, ${r.rows.zero_labels} with a zero label left out of mape` : ''}`];
  lines.push('metrics:');
  for (const [k, v] of Object.entries(r.metrics)) lines.push(`  ${k.padEnd(32)} ${fmt(v)}`);
  if (r.per_class) {
    lines.push('per class:            precision  recall     f1         support    roc_auc');
    for (const [label, c] of Object.entries(r.per_class)) lines.push(`  ${label.padEnd(20)}${[c.precision, c.recall, c.f1, c.support, c.roc_auc].map((v) => fmt(v).padEnd(11)).join('')}`.trimEnd());
  }
  if (r.confusion) {
    lines.push(`confusion (rows: label, columns: prediction; order ${r.confusion.labels.join(', ')}):`);
    for (const [i, row] of r.confusion.matrix.entries()) lines.push(`  ${r.confusion.labels[i]!.padEnd(20)}${row.map((n) => String(n).padStart(10)).join('')}`);
  }
  if (r.calibration) {
    lines.push('reliability (bin, rows, mean predicted, observed):');
    for (const b of r.calibration.reliability.filter((b) => b.rows > 0)) lines.push(`  [${b.lower.toFixed(1)}, ${b.upper.toFixed(1)})  ${String(b.rows).padStart(10)}  ${fmt(b.mean_predicted)}  ${fmt(b.observed)}`);
  }
  if (r.thresholds) {
    lines.push('thresholds (flag when p >= t): t, precision, recall, f1, flagged');
    for (const t of r.thresholds) lines.push(`  ${t.threshold.toFixed(2)}  ${fmt(t.precision)}  ${fmt(t.recall)}  ${fmt(t.f1)}  ${fmt(t.flagged_share)}`);
  }
  if (r.best_thresholds) {
    const b = r.best_thresholds;
    if (b.max_f1) lines.push(`  highest f1 ${fmt(b.max_f1.f1)} at t = ${b.max_f1.threshold}`);
    for (const [name, pick] of [['precision', b.target_precision], ['recall', b.target_recall]] as const) {
      if (!pick) continue;
      lines.push('reached' in pick ? `  no threshold reaches ${name} ${pick.target}` : `  ${name} ${pick.target} reached at t = ${pick.threshold} (precision ${fmt(pick.precision)}, recall ${fmt(pick.recall)})`);
    }
  }
  if (r.residuals) lines.push(`residuals (label - prediction): ${Object.entries(r.residuals).map(([k, v]) => `${k} ${fmt(v)}`).join(', ')}`);
  if (r.groups) {
    lines.push('groups:');
    for (const g of r.groups) lines.push(`  ${groupName(g.group)}: ${g.rows} rows${g.too_small ? ' (too small, left out of the differences)' : ''}; ${Object.entries(g.metrics).map(([k, v]) => `${k} ${fmt(v)}`).join(', ')}`);
  }
  if (r.fairness) {
    const f = r.fairness;
    lines.push(`fairness over ${f.groups_compared} groups: demographic_parity_difference ${fmt(f.demographic_parity_difference)}, demographic_parity_ratio ${fmt(f.demographic_parity_ratio)}, equalized_odds_difference ${fmt(f.equalized_odds_difference)}`);
    for (const [name, w] of Object.entries(f.worst_group)) if (w) lines.push(`  worst ${name}: ${groupName(w.group)} (${fmt(w.value)})`);
  }
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}

/** One line per failed gate and a verdict, for stderr. Empty when no gate was given. */
export function formatGates(r: EvaluationReport): string {
  if (!r.gates) return '';
  const failed = r.gates.results.filter((g) => !g.passed);
  if (failed.length === 0) return `batchinfer: all ${r.gates.results.length} gates passed`;
  return [...failed.map((g) => `batchinfer: gate failed: ${g.message}`), `batchinfer: ${failed.length} of ${r.gates.results.length} gates failed`].join('\n');
}

export function formatCompare(r: CompareReport): string {
  const how = r.key ? `on key ${r.key.join(', ')}` : 'by position';
  const lines = [`compare ${how}: ${r.equal ? 'equal' : 'different'}; actual ${r.rows.actual} rows, expected ${r.rows.expected}; ${r.rows.missing} missing, ${r.rows.extra} extra, ${r.rows.differing} differing (tolerance ${r.tolerance.absolute} absolute, ${r.tolerance.relative} relative)`];
  if (r.columns.only_in_actual.length > 0) lines.push(`  columns only in actual: ${r.columns.only_in_actual.join(', ')}`);
  if (r.columns.only_in_expected.length > 0) lines.push(`  columns only in expected: ${r.columns.only_in_expected.join(', ')}`);
  for (const t of r.columns.type_differences) lines.push(`  column ${t.column}: type ${t.actual} in actual, ${t.expected} in expected`);
  for (const d of r.differences) lines.push(`  column ${d.column}: ${d.rows} rows differ${d.max_abs_diff === null ? '' : `, largest difference ${d.max_abs_diff}`}`);
  for (const e of r.examples) {
    const where = r.key ? groupName(e.key) : `row ${e.key['row']}`;
    lines.push(`  ${where}: ${Object.entries(e.columns).map(([c, v]) => `${c} ${JSON.stringify(v.actual)} != ${JSON.stringify(v.expected)}`).join(', ')}`);
  }
  for (const k of r.missing_examples) lines.push(`  missing: ${r.key ? groupName(k) : `row ${k['row']}`}`);
  for (const k of r.extra_examples) lines.push(`  extra: ${r.key ? groupName(k) : `row ${k['row']}`}`);
  return lines.join('\n');
}
