/**
 * The bench's rounds: every task once a round, the first round in the listed order, the
 * others in seeded shuffles (the same every bench, different from round to round).
 */
import { describe, expect, it } from 'vitest';
import { roundOrder } from '../../bench/measure.js';

describe('roundOrder', () => {
  it('is a permutation of the tasks, the listed order first, then shuffled the same way every time', () => {
    const ids = Array.from({ length: 31 }, (_, i) => i);
    expect(roundOrder(31, 0)).toEqual(ids);
    const rounds = [1, 2, 3, 4].map((r) => roundOrder(31, r));
    for (const order of rounds) {
      expect([...order].sort((a, b) => a - b)).toEqual(ids);
      expect(order).not.toEqual(ids);
    }
    expect(new Set(rounds.map((o) => o.join(','))).size).toBe(4);
    expect(roundOrder(31, 3)).toEqual(rounds[2]);
    // No task stays in its place in every round.
    expect(ids.filter((i) => rounds.every((o) => o[i] === i))).toEqual([]);
  });
});
