/**
 * The prediction values a run profiles, from worked examples of the output's rules (as
 * docs/job-files.md states them): the argmax with the first class winning a tie and NaN never
 * winning, the two-class threshold, review_below (NaN confidence included) and review_band.
 */
import { describe, expect, it } from 'vitest';
import type { AppendColumn } from '../../src/db/duckdb.js';
import type { ClassificationPlan, RegressionPlan } from '../../src/postprocess/outputPlan.js';
import { numericPredictionNames, predictionValues } from '../../src/postprocess/predictionValues.js';

const f = Math.fround;
function classification(extra: Partial<ClassificationPlan> = {}): ClassificationPlan {
  return { task: 'classification', outputName: 'out', binary: false, classes: 2, labels: ['legit', 'fraud'], labelSource: 'job', scores: { kind: 'probabilities', decidedBy: 'job' }, extras: [], ...extra };
}
const float = (...v: number[]): AppendColumn => ({ type: 'FLOAT', data: Float32Array.from(v) });

describe('predictionValues', () => {
  it('two probability columns (derived in SQL): argmax, first class on a tie, NaN never wins; review below 0.7', () => {
    const plan = classification({ reviewBelow: 0.7 });
    const v = predictionValues(plan, [float(0.9, 0.2, 0.5, NaN, NaN), float(0.1, 0.8, 0.5, 0.6, NaN)], 5);
    expect([...v.classIndex!]).toEqual([0, 1, 0, 1, -1]);
    expect([...v.numeric[0]!]).toEqual([f(0.9), f(0.8), 0.5, f(0.6), NaN]);
    expect([...v.review!]).toEqual([0, 0, 1, 1, 1]);
    expect(numericPredictionNames(plan)).toEqual(['confidence', 'prob_legit', 'prob_fraud']);
  });

  it('a [N,1] output: p0 is 1 - p1 in float32; threshold 0.3 on the positive class; review band [0.2, 0.4]', () => {
    const plan = classification({ binary: true, decision: { positive: 1, threshold: 0.3, reviewBand: [0.2, 0.4] } });
    const v = predictionValues(plan, [float(0.25, 0.35, 0.9, NaN)], 4);
    expect([...v.classIndex!]).toEqual([0, 1, 1, -1]);
    expect([...v.numeric[0]!]).toEqual([f(1 - f(0.25)), f(0.35), f(0.9), NaN]);
    expect([...v.numeric[1]!]).toEqual([f(1 - f(0.25)), f(1 - f(0.35)), f(1 - f(0.9)), NaN]);
    expect([...v.review!]).toEqual([1, 1, 0, 0]);
  });

  it('three classes (postprocessed in JS): the class and confidence columns as given; no review column, no flags', () => {
    const plan = classification({ classes: 3, labels: null });
    const columns: AppendColumn[] = [{ type: 'INTEGER', data: Int32Array.of(2, 0) }, float(0.5, 0.6), float(0.2, 0.6), float(0.3, 0.3), float(0.5, 0.1)];
    const v = predictionValues(plan, columns, 2);
    expect([...v.classIndex!]).toEqual([2, 0]);
    expect(v.review).toBeNull();
    expect(v.numeric.map((c) => [...c])).toEqual([[0.5, f(0.6)], [f(0.2), f(0.6)], [f(0.3), f(0.3)], [0.5, f(0.1)]]);
    expect(numericPredictionNames(plan)).toEqual(['confidence', 'prob_0', 'prob_1', 'prob_2']);
  });

  it('a regression: its values, no classes', () => {
    const plan: RegressionPlan = { task: 'regression', outputName: 'y', width: 2, valueType: 'DOUBLE', extras: [] };
    const v = predictionValues(plan, [{ type: 'DOUBLE', data: Float64Array.of(1, 2) }, { type: 'DOUBLE', data: Float64Array.of(3, 4) }], 2);
    expect(v.classIndex).toBeNull();
    expect(v.numeric.map((c) => [...c])).toEqual([[1, 2], [3, 4]]);
    expect(numericPredictionNames(plan)).toEqual(['prediction_0', 'prediction_1']);
  });
});
