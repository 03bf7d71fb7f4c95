/**
 * Quality gates: `--fail-below accuracy=0.9,roc_auc=0.95` and `--fail-above log_loss=0.3`.
 * A gate fails when its metric is below (above) the bound, or undefined (null: an AUC of a
 * single-class label). Failed gates make the command exit 1 (EXIT.CHECK_FAILED); a gate
 * naming a metric this report does not compute is a usage error (exit 2).
 */
import { BatchinferError } from '../errors.js';
import type { Metrics } from './confusion.js';

import type { Task } from '../spec/jobSpec.js';

export type GateKind = 'below' | 'above';

export interface Gate {
  metric: string;
  kind: GateKind;
  bound: number;
}

export interface GateResult extends Gate {
  value: number | null;
  passed: boolean;
  /** Why it failed, e.g. `accuracy 0.85 is below 0.9`. */
  message?: string;
}

/** Metric names a gate may name: the report's metrics and fairness figures. */
export const GATE_METRICS = [
  'accuracy', 'balanced_accuracy', 'precision', 'recall', 'f1',
  'precision_macro', 'recall_macro', 'f1_macro', 'precision_weighted', 'recall_weighted', 'f1_weighted',
  'roc_auc', 'average_precision', 'log_loss', 'brier', 'ece',
  'mae', 'rmse', 'r2', 'mape',
  'demographic_parity_difference', 'demographic_parity_ratio', 'equalized_odds_difference',
] as const;

const FAIRNESS = new Set(['demographic_parity_difference', 'demographic_parity_ratio', 'equalized_odds_difference']);

/** Parses `name=bound,name=bound` of `--fail-below` / `--fail-above`. */
export function parseGates(text: string, kind: GateKind): Gate[] {
  const flag = `--fail-${kind}`;
  return text.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map((item): Gate => {
    const [name, bound, ...rest] = item.split('=').map((s) => s.trim());
    if (!name || bound === undefined || rest.length > 0 || bound === '' || !Number.isFinite(Number(bound))) {
      throw new BatchinferError('USAGE', `${flag} takes METRIC=NUMBER[,METRIC=NUMBER]`, { expected: 'e.g. accuracy=0.9', actual: item });
    }
    if (!(GATE_METRICS as readonly string[]).includes(name)) {
      throw new BatchinferError('USAGE', `${flag}: unknown metric ${name}`, { expected: `one of ${GATE_METRICS.join(', ')}`, actual: name });
    }
    return { metric: name, kind, bound: Number(bound) };
  });
}

/**
 * Gates the report cannot judge (a regression metric on a classification, a fairness figure
 * without --group-by): a usage error naming the gates and the metrics the report has. Checked
 * before evaluating, once the task is known, so a mistyped job fails at once.
 */
export function checkGatesApply(gates: readonly Gate[], task: Task, grouped: boolean, binary: boolean): void {
  const classification = ['accuracy', 'balanced_accuracy', 'precision', 'recall', 'f1', 'roc_auc', 'average_precision', 'log_loss', 'brier', 'ece'];
  const multiclass = ['precision_macro', 'recall_macro', 'f1_macro', 'precision_weighted', 'recall_weighted', 'f1_weighted'];
  const regression = ['mae', 'rmse', 'r2', 'mape'];
  const available = new Set(task === 'regression' ? regression : binary ? classification : [...classification, ...multiclass]);
  if (grouped && binary) for (const f of FAIRNESS) available.add(f);
  const wrong = gates.filter((g) => !available.has(g.metric));
  if (wrong.length === 0) return;
  const reason = wrong.some((g) => FAIRNESS.has(g.metric)) && !grouped ? ' (fairness figures need --group-by)' : '';
  throw new BatchinferError('USAGE', `gate on ${wrong.map((g) => g.metric).join(', ')}: not a metric of this ${binary ? 'binary ' : ''}${task} report${reason}`, { expected: `one of ${[...available].join(', ')}`, actual: wrong.map((g) => g.metric) });
}

/** Judges every gate against `values` (the report's metrics and fairness figures); `warnings` explain a null. */
export function checkGates(values: Metrics, warnings: readonly string[], gates: readonly Gate[]): GateResult[] {
  return gates.map((g): GateResult => {
    const raw = values[g.metric];
    const value = typeof raw === 'number' && Number.isFinite(raw) ? raw : null;
    if (value === null) {
      const why = warnings.find((w) => w.startsWith(g.metric));
      return { ...g, value, passed: false, message: `${g.metric} is undefined (null), so it cannot be ${g.kind === 'below' ? 'at least' : 'at most'} ${g.bound}${why ? `: ${why}` : ''}` };
    }
    const passed = g.kind === 'below' ? value >= g.bound : value <= g.bound;
    return passed ? { ...g, value, passed } : { ...g, value, passed, message: `${g.metric} ${value} is ${g.kind} ${g.bound}` };
  });
}
