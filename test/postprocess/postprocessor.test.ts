import { describe, expect, it } from 'vitest';
import type { AppendColumn } from '../../src/db/duckdb.js';
import { BatchinferError } from '../../src/errors.js';
import type { TensorData } from '../../src/infer/ort.js';
import type { ClassificationPlan, RegressionPlan } from '../../src/postprocess/outputPlan.js';
import { Postprocessor } from '../../src/postprocess/postprocessor.js';

const f32 = (values: number[], dims: number[]): TensorData => ({ type: 'float32', dims, data: new Float32Array(values) });

function classification(extra: Partial<ClassificationPlan> = {}): ClassificationPlan {
  return { task: 'classification', outputName: 'out', binary: false, classes: 2, labels: null, labelSource: 'class indices', scores: null, extras: [], ...extra };
}

const binaryPlan = (scores: ClassificationPlan['scores'] = null) => classification({ binary: true, classes: 2, scores });

/** Columns as plain arrays: [pred, confidence, p0, p1, ...]. */
const plain = (columns: AppendColumn[]) => columns.map((c) => Array.from(c.data as ArrayLike<number>));

const sig = (x: number) => 1 / (1 + Math.exp(-x));
const f = Math.fround;

describe('Postprocessor: binary [N,1]', () => {
  it('probabilities: p is the second class, 1 - p the first', () => {
    const post = new Postprocessor(binaryPlan());
    const columns = post.process(f32([0.9, 0.2, 0.5], [3, 1]), 3);
    expect(columns.map((c) => c.type)).toEqual(['INTEGER', 'FLOAT', 'FLOAT', 'FLOAT']);
    expect(columns[0]!.data).toBeInstanceOf(Int32Array);
    const [pred, confidence, p0, p1] = plain(columns);
    expect(pred).toEqual([1, 0, 0]);
    expect(p1).toEqual([f(0.9), f(0.2), 0.5]);
    expect(p0).toEqual([f(1 - f(0.9)), f(1 - f(0.2)), 0.5]);
    expect(confidence).toEqual([f(0.9), f(1 - f(0.2)), 0.5]);
    expect(post.scores).toEqual({ kind: 'probabilities', decidedBy: 'first batch' });
  });

  it('logits: a value outside [0,1] means logits, read through a sigmoid', () => {
    const post = new Postprocessor(binaryPlan());
    const [pred, confidence, p0, p1] = plain(post.process(f32([2, -1, 0.3], [3, 1]), 3));
    expect(post.scores).toEqual({ kind: 'logits', decidedBy: 'first batch' });
    expect(p1).toEqual([f(sig(2)), f(sig(-1)), f(sig(f(0.3)))]);
    expect(p0).toEqual([f(1 - sig(2)), f(1 - sig(-1)), f(1 - sig(f(0.3)))]);
    expect(pred).toEqual([1, 0, 1]);
    expect(confidence).toEqual([f(sig(2)), f(1 - sig(-1)), f(sig(f(0.3)))]);
  });

  it('scores: logits from the plan are applied even when values look like probabilities', () => {
    const post = new Postprocessor(binaryPlan({ kind: 'logits', decidedBy: 'job' }));
    const [, , , p1] = plain(post.process(f32([0.5], [1, 1]), 1));
    expect(p1).toEqual([f(sig(0.5))]);
    expect(post.scores).toEqual({ kind: 'logits', decidedBy: 'job' });
  });

  it('an exact tie (p = 0.5) predicts the first class', () => {
    const [pred] = plain(new Postprocessor(binaryPlan({ kind: 'probabilities', decidedBy: 'graph' })).process(f32([0.5], [1, 1]), 1));
    expect(pred).toEqual([0]);
  });
});

describe('Postprocessor: multi-class', () => {
  it('probabilities pass through; prediction is the argmax', () => {
    const post = new Postprocessor(classification({ classes: 3 }));
    const [pred, confidence, p0, p1, p2] = plain(post.process(f32([0.1, 0.7, 0.2, 0.5, 0.25, 0.25], [2, 3]), 2));
    expect(post.scores).toEqual({ kind: 'probabilities', decidedBy: 'first batch' });
    expect(pred).toEqual([1, 0]);
    expect(confidence).toEqual([f(0.7), 0.5]);
    expect(p0).toEqual([f(0.1), 0.5]);
    expect(p1).toEqual([f(0.7), 0.25]);
    expect(p2).toEqual([f(0.2), 0.25]);
  });

  it('logits get a softmax', () => {
    const post = new Postprocessor(classification({ classes: 3 }));
    const logits = [2, -1, 0.5, -3, 4, 4];
    const [pred, confidence, p0, p1, p2] = plain(post.process(f32(logits, [2, 3]), 2));
    expect(post.scores).toEqual({ kind: 'logits', decidedBy: 'first batch' });
    const softmax = (row: number[]) => {
      const e = row.map((x) => Math.exp(x - Math.max(...row)));
      const s = e.reduce((a, b) => a + b, 0);
      return e.map((x) => x / s);
    };
    const r0 = softmax(logits.slice(0, 3));
    const r1 = softmax(logits.slice(3));
    expect(p0).toEqual([f(r0[0]!), f(r1[0]!)]);
    expect(p1).toEqual([f(r0[1]!), f(r1[1]!)]);
    expect(p2).toEqual([f(r0[2]!), f(r1[2]!)]);
    // Ties: the first class wins.
    expect(pred).toEqual([0, 1]);
    expect(confidence).toEqual([f(r0[0]!), f(r1[1]!)]);
  });

  it('large logits do not overflow', () => {
    const post = new Postprocessor(classification({ classes: 2, scores: { kind: 'logits', decidedBy: 'job' } }));
    const [pred, confidence, p0, p1] = plain(post.process(f32([1000, 1001], [1, 2]), 1));
    expect(pred).toEqual([1]);
    expect(p0[0]).toBeCloseTo(sig(-1), 6);
    expect(p1[0]).toBeCloseTo(sig(1), 6);
    expect(confidence[0]).toBe(p1[0]);
  });

  it('a NaN row predicts -1 with NaN confidence', () => {
    const post = new Postprocessor(classification({ classes: 2, scores: { kind: 'probabilities', decidedBy: 'graph' } }));
    const [pred, confidence] = plain(post.process(f32([NaN, NaN, 0.2, 0.8], [2, 2]), 2));
    expect(pred).toEqual([-1, 1]);
    expect(confidence[0]).toBeNaN();
    expect(confidence[1]).toBe(f(0.8));
  });

  it('accepts float64 outputs', () => {
    const post = new Postprocessor(classification({ classes: 2 }));
    const [pred, confidence] = plain(post.process({ type: 'float64', dims: [1, 2], data: new Float64Array([0.25, 0.75]) }, 1));
    expect(pred).toEqual([1]);
    expect(confidence).toEqual([0.75]);
  });
});

describe('Postprocessor: the decision is kept for the whole run', () => {
  it('probabilities on the first batch stay probabilities when a later batch looks like logits', () => {
    const post = new Postprocessor(classification({ classes: 2 }));
    post.process(f32([0.3, 0.7], [1, 2]), 1);
    const [, , p0, p1] = plain(post.process(f32([3, -2], [1, 2]), 1));
    expect(post.scores).toEqual({ kind: 'probabilities', decidedBy: 'first batch' });
    expect([p0[0], p1[0]]).toEqual([3, -2]);
  });

  it('logits on the first batch stay logits when a later batch looks like probabilities', () => {
    const post = new Postprocessor(binaryPlan());
    post.process(f32([-4], [1, 1]), 1);
    const [, , , p1] = plain(post.process(f32([0.5], [1, 1]), 1));
    expect(post.scores).toEqual({ kind: 'logits', decidedBy: 'first batch' });
    expect(p1).toEqual([f(sig(0.5))]);
  });

  it('a decision from the graph is never revisited', () => {
    const post = new Postprocessor(classification({ classes: 2, scores: { kind: 'probabilities', decidedBy: 'graph' } }));
    post.process(f32([5, -5], [1, 2]), 1);
    expect(post.scores).toEqual({ kind: 'probabilities', decidedBy: 'graph' });
  });
});

describe('Postprocessor: regression', () => {
  const regression = (width: number, valueType: RegressionPlan['valueType'] = 'FLOAT'): RegressionPlan => ({ task: 'regression', outputName: 'v', width, valueType, extras: [] });

  it('one value per row', () => {
    const columns = new Postprocessor(regression(1)).process(f32([1.5, -2, 3], [3, 1]), 3);
    expect(columns).toHaveLength(1);
    expect(columns[0]!.type).toBe('FLOAT');
    expect(plain(columns)).toEqual([[1.5, -2, 3]]);
  });

  it('several outputs per row are split into columns', () => {
    const columns = new Postprocessor(regression(3)).process(f32([1, 2, 3, 4, 5, 6], [2, 3]), 2);
    expect(plain(columns)).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
  });

  it('float64 outputs stay float64', () => {
    const columns = new Postprocessor(regression(2, 'DOUBLE')).process({ type: 'float64', dims: [1, 2], data: new Float64Array([0.1, 0.2]) }, 1);
    expect(columns.map((c) => c.type)).toEqual(['DOUBLE', 'DOUBLE']);
    expect(columns[0]!.data).toBeInstanceOf(Float64Array);
    expect(plain(columns)).toEqual([[0.1], [0.2]]);
  });

  it('has no scores decision', () => {
    expect(new Postprocessor(regression(1)).scores).toBeNull();
  });
});

describe('Postprocessor: wrong outputs', () => {
  it('the wrong size for the batch is MODEL_MISMATCH with the shapes', () => {
    const post = new Postprocessor(classification({ classes: 3 }));
    let err: unknown;
    try {
      post.process(f32([0.5, 0.5, 0.5, 0.5], [2, 2]), 2);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BatchinferError);
    expect(err).toMatchObject({ code: 'MODEL_MISMATCH', expected: '[2,3]', actual: '[2,2]' });
    expect((err as Error).message).toBe("model output 'out' has the wrong size for the batch");
  });

  it('a binary plan needs exactly one value per row', () => {
    expect(() => new Postprocessor(binaryPlan()).process(f32([0.5, 0.5], [1, 2]), 1)).toThrow(/wrong size/);
  });

  it('regression checks the width too', () => {
    expect(() => new Postprocessor({ task: 'regression', outputName: 'v', width: 2, valueType: 'FLOAT', extras: [] }).process(f32([1, 2, 3], [3, 1]), 3)).toThrow(BatchinferError);
  });

  it('a non-float tensor is MODEL_MISMATCH', () => {
    const post = new Postprocessor(classification());
    expect(() => post.process({ type: 'int64', dims: [1, 2], data: new BigInt64Array([0n, 1n]) }, 1)).toThrow(expect.objectContaining({ code: 'MODEL_MISMATCH', actual: 'int64' }));
    expect(() => post.process({ type: 'string', dims: [1], data: ['a'] }, 1)).toThrow(expect.objectContaining({ code: 'MODEL_MISMATCH' }));
  });

  it('a failed batch does not decide the scores', () => {
    const post = new Postprocessor(classification({ classes: 2 }));
    expect(() => post.process(f32([5], [1, 1]), 1)).toThrow();
    expect(post.scores).toBeNull();
  });
});

describe('Postprocessor.columns: extra outputs and the label check', () => {
  it('appends each extra output as columns of its own type and checks the label output', () => {
    const plan = classification({
      classes: 2,
      scores: { kind: 'probabilities', decidedBy: 'graph' },
      labelCheck: { output: 'label', classes: ['no', 'yes'] },
      extras: [
        { output: 'label', type: 'VARCHAR', width: 1, columns: ['label'] },
        { output: 'leaf', type: 'BIGINT', width: 2, columns: ['leaf_0', 'leaf_1'] },
      ],
    });
    const post = new Postprocessor(plan);
    const columns = post.columns(
      {
        out: f32([0.2, 0.8, 0.9, 0.1], [2, 2]),
        label: { type: 'string', dims: [2], data: ['yes', 'yes'] },
        leaf: { type: 'int64', dims: [2, 2], data: new BigInt64Array([1n, 2n, 3n, 4n]) },
      },
      2,
    );
    // Two classes known to be probabilities: the table takes p0 and p1 only (the COPY derives
    // prediction and confidence, see partWriter.test.ts), then the extra outputs.
    expect(columns.map((c) => c.type)).toEqual(['FLOAT', 'FLOAT', 'VARCHAR', 'BIGINT', 'BIGINT']);
    expect([...(columns[0]!.data as Float32Array)]).toEqual([Math.fround(0.2), Math.fround(0.9)]);
    expect(columns[2]!.data).toEqual(['yes', 'yes']);
    expect([...(columns[3]!.data as BigInt64Array)]).toEqual([1n, 3n]);
    expect([...(columns[4]!.data as BigInt64Array)]).toEqual([2n, 4n]);
    expect(post.labels).toEqual({ output: 'label', rows: 2, disagreements: 1, examples: [{ row: 1, label: 'yes', argmax: 'no' }] });
  });

  it('three classes, or scores decided on the first batch: prediction and confidence come from here', () => {
    const three = new Postprocessor(classification({ classes: 3, scores: { kind: 'probabilities', decidedBy: 'graph' } }));
    expect(three.columns({ out: f32([0.2, 0.5, 0.3], [1, 3]) }, 1).map((c) => c.type)).toEqual(['INTEGER', 'FLOAT', 'FLOAT', 'FLOAT', 'FLOAT']);
    const undecided = new Postprocessor(classification({ classes: 2 }));
    expect(undecided.columns({ out: f32([0.2, 0.8], [1, 2]) }, 1).map((c) => c.type)).toEqual(['INTEGER', 'FLOAT', 'FLOAT', 'FLOAT']);
  });

  it('an extra output of the wrong size is a model mismatch', () => {
    const post = new Postprocessor(classification({ classes: 2, extras: [{ output: 'e', type: 'FLOAT', width: 1, columns: ['e'] }] }));
    expect(() => post.columns({ out: f32([0.5, 0.5], [1, 2]), e: f32([1, 2], [2]) }, 1)).toThrow(expect.objectContaining({ code: 'MODEL_MISMATCH' }));
  });
});
