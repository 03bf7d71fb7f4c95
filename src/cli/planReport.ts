/** `plan`'s report for people: one line per shard with its rows, share, units and the input rows it reads. */
import type { PlanReport } from '../core/planJob.js';

export function formatPlan(r: PlanReport): string {
  const p = r.plan;
  const total = p.rows;
  const recorded = { none: 'no shard has started (the first records this plan)', same: 'recorded by a started shard: the same', different: 'recorded by a started shard: ANOTHER plan (the inputs changed; shards would exit 65)' }[r.recorded];
  const rows = r.shards.map((s) => [
    String(s.shard),
    s.rows.toLocaleString('en-US'),
    total > 0 ? `${((100 * s.rows) / total).toFixed(1)}%` : '-',
    s.units[1] > s.units[0] ? (s.units[1] - s.units[0] === 1 ? String(s.units[0]) : `${s.units[0]}-${s.units[1] - 1}`) : '-',
    s.ranges.length > 0 ? s.ranges.map((x) => `${x.path} rows ${x.rowStart}-${x.rowEnd}`).join(', ') : 'nothing (commits an empty manifest)',
  ]);
  const header = ['shard', 'rows', 'share', 'units', 'reads'];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const line = (cells: string[]) => '  ' + cells.map((cell, c) => (c === cells.length - 1 ? cell : c === 1 || c === 2 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ');
  return [
    `batchinfer: plan of job ${r.job}: ${p.shards} shard${p.shards === 1 ? '' : 's'} over ${p.inputs.length} input file${p.inputs.length === 1 ? '' : 's'}, ${p.units.length} unit${p.units.length === 1 ? '' : 's'}, ${total.toLocaleString('en-US')} rows (plan ${p.hash.slice(0, 12)})`,
    `  ${r.shardsDir}: ${recorded}`,
    line(header),
    ...rows.map(line),
  ].join('\n');
}
