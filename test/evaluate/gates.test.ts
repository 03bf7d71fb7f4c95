/** Parsing and judging quality gates (`--fail-below`, `--fail-above`). */
import { describe, expect, it } from 'vitest';
import { checkGates, checkGatesApply, GATE_METRICS, parseGates } from '../../src/evaluate/gates.js';

describe('parseGates', () => {
  it('reads METRIC=NUMBER pairs separated by commas', () => {
    expect(parseGates('accuracy=0.9, roc_auc=0.95', 'below')).toEqual([
      { metric: 'accuracy', kind: 'below', bound: 0.9 },
      { metric: 'roc_auc', kind: 'below', bound: 0.95 },
    ]);
    expect(parseGates('log_loss=0.3,demographic_parity_difference=1e-1', 'above')[1]).toEqual({ metric: 'demographic_parity_difference', kind: 'above', bound: 0.1 });
  });

  it('an unknown metric is a usage error naming the accepted names', () => {
    expect(() => parseGates('acuracy=0.9', 'below')).toThrow(expect.objectContaining({ code: 'USAGE', message: '--fail-below: unknown metric acuracy', expected: expect.stringContaining('accuracy, balanced_accuracy') }));
  });

  it('a malformed item is a usage error quoting it', () => {
    for (const bad of ['accuracy', 'accuracy=', 'accuracy=high', 'accuracy=0.9=1', '=0.9']) {
      expect(() => parseGates(bad, 'above')).toThrow(expect.objectContaining({ code: 'USAGE', message: '--fail-above takes METRIC=NUMBER[,METRIC=NUMBER]', actual: bad }));
    }
  });
});

describe('checkGates', () => {
  it('below fails under the bound, above fails over it; the bound itself passes', () => {
    const results = checkGates({ accuracy: 0.85, roc_auc: 0.95, log_loss: 0.31 }, [], [...parseGates('accuracy=0.9,roc_auc=0.95', 'below'), ...parseGates('log_loss=0.3', 'above')]);
    expect(results.map((r) => [r.metric, r.passed, r.message])).toEqual([
      ['accuracy', false, 'accuracy 0.85 is below 0.9'],
      ['roc_auc', true, undefined],
      ['log_loss', false, 'log_loss 0.31 is above 0.3'],
    ]);
  });

  it('a gate on an undefined (null) metric fails and says why', () => {
    const [r] = checkGates({ roc_auc: null }, ['roc_auc is undefined: every evaluated label is fraud (one class only)'], parseGates('roc_auc=0.5', 'below'));
    expect(r).toMatchObject({ passed: false, value: null, message: 'roc_auc is undefined (null), so it cannot be at least 0.5: roc_auc is undefined: every evaluated label is fraud (one class only)' });
  });
});

describe('checkGatesApply', () => {
  it('a metric the report does not compute is a usage error: regression metrics on a classification, fairness without --group-by', () => {
    expect(() => checkGatesApply(parseGates('mae=1', 'above'), 'classification', false, true)).toThrow(expect.objectContaining({ code: 'USAGE', message: 'gate on mae: not a metric of this binary classification report' }));
    expect(() => checkGatesApply(parseGates('demographic_parity_difference=0.1', 'above'), 'classification', false, true)).toThrow(/fairness figures need --group-by/);
    expect(() => checkGatesApply(parseGates('accuracy=0.9', 'below'), 'regression', false, false)).toThrow(/gate on accuracy: not a metric of this regression report/);
    expect(() => checkGatesApply(parseGates('f1_macro=0.9', 'below'), 'classification', false, true)).toThrow(/not a metric of this binary/);
  });

  it('every accepted name applies to some report', () => {
    const applies = (m: string) => [['classification', true, true], ['classification', true, false], ['regression', false, false]].some(([task, grouped, binary]) => {
      try {
        checkGatesApply([{ metric: m, kind: 'below', bound: 0 }], task as 'classification', grouped as boolean, binary as boolean);
        return true;
      } catch {
        return false;
      }
    });
    for (const m of GATE_METRICS) expect(applies(m), m).toBe(true);
  });
});
