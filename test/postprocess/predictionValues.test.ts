/**
 * The prediction values a run profiles: a two-class classifier whose part SQL decides its rows
 * hands its probabilities and rule to the profile's kernel (test/sink/partWriter.test.ts checks
 * the kernel against the written rows); the others are decided here, by worked examples of
 * review_below (NaN confidence included).
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
  it('two probability columns (derived in SQL): their probabilities and the argmax rule, for the kernel; review below 0.7', () => {
    const plan = classification({ reviewBelow: 0.7 });
    const [p0, p1] = [float(0.9, 0.2), float(0.1, 0.8)];
    expect(predictionValues(plan, [p0, p1], 2)).toEqual({ kind: 'two-class', p0: p0.data, p1: p1.data, rule: { threshold: NaN, positive: 1, below: 0.7, low: NaN, high: NaN } });
    expect(numericPredictionNames(plan)).toEqual(['confidence', 'prob_legit', 'prob_fraud']);
  });

  it('a [N,1] output: p1 alone (the kernel takes p0 as 1 - p1); threshold 0.3 on the positive class; review band [0.2, 0.4]', () => {
    const plan = classification({ binary: true, decision: { positive: 1, threshold: 0.3, reviewBand: [0.2, 0.4] } });
    const p1 = float(0.25, 0.35);
    expect(predictionValues(plan, [p1], 2)).toEqual({ kind: 'two-class', p0: null, p1: p1.data, rule: { threshold: 0.3, positive: 1, below: NaN, low: 0.2, high: 0.4 } });
  });

  it('two classes postprocessed in JS (logits) with a threshold: the probability columns, float64 ones as float32', () => {
    const plan = classification({ scores: { kind: 'logits', decidedBy: 'job' }, decision: { positive: 0, threshold: 0.6 } });
    const columns: AppendColumn[] = [{ type: 'INTEGER', data: Int32Array.of(0) }, float(0.7), { type: 'DOUBLE', data: Float64Array.of(0.7) }, float(0.3)];
    const v = predictionValues(plan, columns, 1);
    expect(v).toMatchObject({ kind: 'two-class', p1: columns[3]!.data, rule: { threshold: 0.6, positive: 0 } });
    expect(v.kind === 'two-class' && [...v.p0!]).toEqual([f(0.7)]);
  });

  it('two classes postprocessed in JS with no threshold: the class and confidence columns as given, review flags here', () => {
    const plan = classification({ scores: { kind: 'logits', decidedBy: 'job' }, reviewBelow: 0.65 });
    const columns: AppendColumn[] = [{ type: 'INTEGER', data: Int32Array.of(0, 1, -1) }, float(0.7, 0.6, NaN), float(0.7, 0.4, NaN), float(0.3, 0.6, NaN)];
    const v = predictionValues(plan, columns, 3);
    expect(v.kind === 'decided' && [[...v.classIndex!], [...v.review!]]).toEqual([[0, 1, -1], [0, 1, 1]]);
  });

  it('three classes (postprocessed in JS): the class and confidence columns as given; no review column, no flags', () => {
    const plan = classification({ classes: 3, labels: null });
    const columns: AppendColumn[] = [{ type: 'INTEGER', data: Int32Array.of(2, 0) }, float(0.5, 0.6), float(0.2, 0.6), float(0.3, 0.3), float(0.5, 0.1)];
    const v = predictionValues(plan, columns, 2);
    if (v.kind !== 'decided') throw new Error('decided here');
    expect([...v.classIndex!]).toEqual([2, 0]);
    expect(v.review).toBeNull();
    expect(v.numeric.map((c) => [...c])).toEqual([[0.5, f(0.6)], [f(0.2), f(0.6)], [f(0.3), f(0.3)], [0.5, f(0.1)]]);
    expect(numericPredictionNames(plan)).toEqual(['confidence', 'prob_0', 'prob_1', 'prob_2']);
  });

  it('a regression: its values, no classes', () => {
    const plan: RegressionPlan = { task: 'regression', outputName: 'y', width: 2, valueType: 'DOUBLE', extras: [] };
    const v = predictionValues(plan, [{ type: 'DOUBLE', data: Float64Array.of(1, 2) }, { type: 'DOUBLE', data: Float64Array.of(3, 4) }], 2);
    if (v.kind !== 'decided') throw new Error('decided here');
    expect(v.classIndex).toBeNull();
    expect(v.numeric.map((c) => [...c])).toEqual([[1, 2], [3, 4]]);
    expect(numericPredictionNames(plan)).toEqual(['prediction_0', 'prediction_1']);
  });
});
