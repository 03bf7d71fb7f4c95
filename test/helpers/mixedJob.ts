/**
 * The job the bad-row tests score their transactions-like inputs with: the mixed model (three
 * float features with a range, a merchant category through a vocabulary), every check on,
 * fill_null error (the default).
 */
import { model } from './cli.js';

export const MIXED_LABELS = ['legit', 'fraud'];
export const MIXED_VOCAB = ['grocery', 'travel', 'fuel'];
export const MIXED_RANGE: [number, number] = [-1000, 1000];

export function mixedJob(input: string, output: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    model: model('mixed'),
    input,
    output,
    passthrough: ['txn_id'],
    labels: MIXED_LABELS,
    inputs: {
      x: { columns: ['amount', 'f0', 'f1'], range: MIXED_RANGE },
      merchant: { column: 'merchant_category', vocab: MIXED_VOCAB, unknown: 'error' },
    },
    ...extra,
  };
}
