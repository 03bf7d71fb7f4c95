/** Awaits a promise that must reject with a BatchinferError, and returns that error. */
import { expect } from 'vitest';
import { BatchinferError } from '../../src/errors.js';

export async function rejection(promise: Promise<unknown>): Promise<BatchinferError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(BatchinferError);
    return err as BatchinferError;
  }
  throw new Error('expected a rejection');
}
