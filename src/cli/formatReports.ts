/**
 * `inspect` and `validate` reports as text for the terminal (the core returns them as values;
 * `--json` prints those as they are).
 */
import type { DatasetReport, ModelReport } from '../core/inspect.js';
import type { ValidationReport } from '../core/validateJob.js';

/** `validate`'s report. */
export function formatValidation(r: ValidationReport): string {
  return [
    `batchinfer: job ${r.job} is valid`,
    `  model ${r.model.path} (sha256 ${r.model.sha256.slice(0, 12)}...)`,
    `  input ${r.input.path} (${r.input.files} ${r.input.format} file${r.input.files > 1 ? 's' : ''}${r.input.partitions ? `; partition keys ${r.input.partitions.map((p) => `${p.name} ${p.type}`).join(', ')}` : ''})`,
    ...(r.input.computed ?? []).map((c) => `  computed ${c.name} (${c.type}) = ${c.sql}`),
    ...(r.input.where !== undefined ? [`  where ${r.input.where}`] : []),
    ...r.feeds.map((f) => `  ${f.input} (${f.dtype}) <- ${f.columns.map((c, k) => (f.steps?.[k]?.length ? `${c} (${f.steps[k]!.join(' -> ')})` : c)).join(', ')}`),
    `  output ${r.output.path} (${r.output.mode}): ${r.output.columns.join(', ')}`,
    ...(r.output.decision ? [`  decision: ${r.output.decision.positive} when ${r.output.decision.threshold === null ? 'likelier' : `p >= ${r.output.decision.threshold}`}${r.output.decision.reviewBand ? `, review band [${r.output.decision.reviewBand.join(', ')}]` : ''}`] : []),
    ...r.notes.map((n) => `  note: ${n}`),
  ].join('\n');
}

/** A sampled value, 6 significant digits; `-` when no row had one. */
function formatNumber(v: number | null): string {
  return v === null ? '-' : String(Number(v.toPrecision(6)));
}

export function formatShape(shape: (number | string)[] | null): string {
  return shape ? `[${shape.join(',')}]` : '(unknown)';
}

/** Plain-text rendering for the terminal. */
export function formatReport(report: ModelReport | DatasetReport): string {
  if (report.kind === 'model') return formatModel(report);
  const lines = [`dataset ${report.path} (${report.format}, ${report.rows} rows, ${report.files.length} file${report.files.length > 1 ? 's' : ''})`, 'columns:'];
  lines.push(...report.columns.map((c) => `  ${c.name}  ${c.type}`));
  for (const f of report.files) {
    const groups = f.rowGroups ? `, ${f.rowGroups.length} row group${f.rowGroups.length === 1 ? '' : 's'} (${f.rowGroups.map((g) => g.rows).join(', ')})` : '';
    lines.push(`file ${f.path}: ${f.rows} rows${groups}`);
  }
  return lines.join('\n');
}

function formatModel(report: ModelReport): string {
  const i = report.info;
  const byDomain = new Map<string, string[]>();
  for (const op of i.opTypes) byDomain.set(op.domain, [...(byDomain.get(op.domain) ?? []), op.opType]);
  const lines = [
    `model ${report.path}`,
    `  sha256 ${report.sha256}`,
    `  ir_version ${i.irVersion}, producer ${i.producerName || '(none)'} ${i.producerVersion}`.trimEnd(),
    `  opsets ${i.opsets.map((o) => `${o.domain} ${o.version}`).join(', ')}`,
    `  ops ${[...byDomain].map(([domain, ops]) => `${domain}: ${ops.join(', ')}`).join('; ')}`,
    'inputs:',
    ...i.inputs.map((v) => `  ${v.name}  ${v.elemType} ${formatShape(v.shape)}`),
    'outputs:',
    ...i.outputs.map((v) => `  ${v.name}  ${v.elemType} ${formatShape(v.shape)}${i.producerOps[v.name] ? `  (from ${i.producerOps[v.name]})` : ''}`),
  ];
  for (const [output, labels] of Object.entries(i.classLabels ?? {})) {
    lines.push(`zipmap: stripped from output ${output} (onnxruntime-node cannot return a sequence of maps); classes ${labels.join(', ')}`);
  }
  if (report.fixedBatch) {
    lines.push(`batch: fixed at ${report.fixedBatch} rows per run (batches are cut into groups of ${report.fixedBatch}, the last group padded)`);
  }
  const s = report.scoring;
  if ('problems' in s) lines.push(`scoring: ${s.problems.map((p) => `${p.where ? `${p.where} ` : ''}${p.message}`).join('; ')}`);
  else if (s.task === 'regression') lines.push(`scoring: output ${s.output}, regression, ${s.width} value${s.width > 1 ? 's' : ''} per row`);
  else {
    lines.push(`scoring: output ${s.output}, classification, ${s.classes} classes`);
    lines.push(`labels: ${s.labels.join(', ')} (from ${s.labelSource})`);
    if (s.labelOutput) lines.push(`label output ${s.labelOutput} is checked against the highest-scoring class`);
  }
  const meta = Object.entries(i.metadata);
  if (meta.length > 0) lines.push('metadata:', ...meta.map(([k, v]) => `  ${k} = ${v}`));
  if (report.mapping) {
    const m = report.mapping;
    lines.push(`mapping onto ${m.dataset}:`);
    for (const c of m.computed ?? []) lines.push(`  computed ${c.name} (${c.type}) = ${c.sql}`);
    if (m.where !== undefined) lines.push(`  where ${m.where} (the sample is of the rows it keeps)`);
    for (const input of m.inputs) {
      if (!input.columns.some((c) => c.steps)) {
        lines.push(`  ${input.input} (${input.dtype}) <- ${input.columns.map((c) => `${c.column} ${c.type}, NULL -> ${c.nulls}`).join('; ')}`);
        continue;
      }
      // With --job: one line per position, its steps in the order they apply and its sampled values.
      lines.push(`  ${input.input} (${input.dtype}):`);
      input.columns.forEach((c, k) => {
        const steps = c.steps && c.steps.length > 0 ? ` -> ${c.steps.join(' -> ')}` : '';
        const s = c.sample;
        const values = s ? `   min ${formatNumber(s.min)}  mean ${formatNumber(s.mean)}  max ${formatNumber(s.max)}` : '';
        lines.push(`    [${k}] ${c.column} ${c.type}${steps}${c.nulls === 'bad row' ? ' (NULL: bad row)' : ''}${values}`);
      });
    }
    if (m.sample) lines.push(`  sample: first ${m.sample.rows} rows of the first file, ${m.sample.rejected} bad (left out of min/mean/max)`);
    for (const p of m.problems) lines.push(`  problem: ${p.where ? `${p.where}: ` : ''}${p.message}`);
  }
  return lines.join('\n');
}
