/** Fairlearn's figures and the worst group, from per-group metrics given by hand. */
import { describe, expect, it } from 'vitest';
import { fairness, type GroupMetrics } from '../../src/evaluate/fairness.js';

const group = (name: string, rows: number, metrics: GroupMetrics['metrics']): GroupMetrics => ({ group: { region: name }, rows, too_small: rows < 30, metrics });

describe('fairness', () => {
  const groups = [
    group('north', 100, { selection_rate: 0.2, true_positive_rate: 0.9, false_positive_rate: 0.1, accuracy: 0.9, log_loss: 0.3 }),
    group('south', 50, { selection_rate: 0.4, true_positive_rate: 0.7, false_positive_rate: 0.15, accuracy: 0.8, log_loss: 0.5 }),
    group('tiny', 5, { selection_rate: 1, true_positive_rate: 0, false_positive_rate: 1, accuracy: 0, log_loss: 9 }),
  ];

  it('parity over the groups that are large enough: difference 0.2, ratio 0.5; equalized odds the larger gap (TPR 0.2 vs FPR 0.05)', () => {
    const f = fairness(groups, 30);
    expect(f).toMatchObject({ min_group_rows: 30, groups_compared: 2, groups_too_small: 1 });
    expect(f.demographic_parity_difference).toBeCloseTo(0.2, 12);
    expect(f.demographic_parity_ratio).toBeCloseTo(0.5, 12);
    expect(f.equalized_odds_difference).toBeCloseTo(0.2, 12);
  });

  it('the worst group: lowest for scores, highest for losses; the small group never', () => {
    const f = fairness(groups, 30);
    expect(f.worst_group['accuracy']).toEqual({ group: { region: 'south' }, value: 0.8 });
    expect(f.worst_group['log_loss']).toEqual({ group: { region: 'south' }, value: 0.5 });
    expect(f.worst_group['selection_rate']).toBeUndefined();
  });

  it('no group selected at all: ratio null (0 / 0); no groups large enough: every figure null', () => {
    expect(fairness([group('a', 40, { selection_rate: 0 }), group('b', 40, { selection_rate: 0 })], 30).demographic_parity_ratio).toBeNull();
    expect(fairness([group('tiny', 5, { selection_rate: 1 })], 30)).toMatchObject({ groups_compared: 0, demographic_parity_difference: null, demographic_parity_ratio: null, equalized_odds_difference: null });
  });
});
