import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Problem } from '../../src/errors.js';
import { readOnnxFile, type OnnxFileInfo, type ValueInfo } from '../../src/model/onnxFile.js';
import { classNames, outputColumnNames, planOutput, predictionTableColumns, type ClassificationPlan, type OutputPlan } from '../../src/postprocess/outputPlan.js';
import type { JobSpec } from '../../src/spec/jobSpec.js';
import { FIXTURES_DIR } from '../helpers/reference.js';

function job(extra: Partial<JobSpec> = {}): JobSpec {
  return { name: 't', model: '/m.onnx', input: '/in.parquet', output: '/out.parquet', passthrough: [], inputs: {}, extraOutputs: [], batchSize: 8192, ...extra } as JobSpec;
}

const out = (name: string, elemType: string, shape: (number | string)[] | null): ValueInfo => ({ name, elemType, shape });

/** A model declaring only what planOutput reads. */
function model(outputs: ValueInfo[], extra: { producerOps?: Record<string, string>; metadata?: Record<string, string> } = {}): OnnxFileInfo {
  return {
    irVersion: 8,
    producerName: 'test',
    producerVersion: '1',
    docString: '',
    opsets: [{ domain: 'ai.onnx', version: 17 }],
    metadata: extra.metadata ?? {},
    graphName: 'g',
    inputs: [out('x', 'float32', ['N', 4])],
    outputs,
    initializerNames: [],
    producerOps: extra.producerOps ?? {},
    nodeCount: 1,
    opTypes: [],
    classifierLabels: {},
  };
}

function plan(spec: JobSpec, info: OnnxFileInfo): OutputPlan {
  const result = planOutput(spec, info);
  expect(result.problems).toEqual([]);
  expect(result.plan).not.toBeNull();
  return result.plan!;
}

function problems(spec: JobSpec, info: OnnxFileInfo): Problem[] {
  const result = planOutput(spec, info);
  expect(result.problems.length).toBeGreaterThan(0);
  return result.problems;
}

const PROBS = out('probabilities', 'float32', ['N', 2]);

describe('planOutput: choosing the output', () => {
  it('uses the only output', () => {
    expect(plan(job(), model([PROBS])).outputName).toBe('probabilities');
  });

  it('uses the only tensor output when the others are maps or sequences', () => {
    const info = model([out('label', 'sequence', null), PROBS, out('zip', 'map', null)]);
    expect(plan(job(), info).outputName).toBe('probabilities');
  });

  it('output_name picks one of several', () => {
    const info = model([out('label', 'int64', ['N']), PROBS]);
    expect(plan(job({ outputName: 'probabilities' }), info).outputName).toBe('probabilities');
  });

  it('a label output next to the probabilities (the scikit-learn layout): the probabilities are scored', () => {
    const info = model([out('label', 'int64', ['N']), PROBS]);
    expect(planOutput(job(), info).problems).toEqual([]);
    expect(plan(job(), info)).toMatchObject({ task: 'classification', outputName: 'probabilities', classes: 2 });
  });

  it('several float outputs without output_name: a problem listing them', () => {
    const info = model([out('label', 'int64', ['N']), PROBS, out('logits', 'float32', ['N', 2])]);
    expect(problems(job(), info)).toEqual([
      {
        code: 'MODEL_MISMATCH',
        where: 'output_name',
        message: 'the model has several outputs; say which one to score with output_name / --output-name',
        expected: ['label', 'probabilities', 'logits'],
        actual: 'none chosen',
      },
    ]);
    expect(planOutput(job(), info).plan).toBeNull();
  });

  it('class names from a stripped ZipMap come before the metadata labels', () => {
    const info = { ...model([PROBS], { metadata: { labels: '["a","b"]' } }), classLabels: { probabilities: ['no', 'yes'] } };
    expect(plan(job(), info)).toMatchObject({ labels: ['no', 'yes'], labelSource: 'model ZipMap' });
    expect(plan(job({ labels: ['x', 'y'] }), info)).toMatchObject({ labels: ['x', 'y'], labelSource: 'job' });
  });

  it('an output_name the model does not have', () => {
    expect(problems(job({ outputName: 'prob' }), model([PROBS]))).toEqual([
      { code: 'MODEL_MISMATCH', where: 'output_name', message: 'the model has no output with this name', expected: ['probabilities'], actual: 'prob' },
    ]);
  });

  it.each([
    ['int64', ['N']],
    ['string', ['N']],
    ['sequence', null],
    ['float16', ['N', 2]],
  ])('a %s output cannot be scored', (elemType, shape) => {
    const result = problems(job({ outputName: 'o' }), model([out('o', elemType, shape), PROBS]));
    expect(result).toEqual([{ code: 'MODEL_MISMATCH', where: "model output 'o'", message: 'is not a float tensor batchinfer can score', expected: 'float32 or float64 tensor', actual: elemType }]);
  });

  it('a single sequence output is refused as not a float tensor', () => {
    expect(problems(job(), model([out('zip', 'sequence', null)]))[0]).toMatchObject({ where: "model output 'zip'", actual: 'sequence' });
  });

  it('refuses rank 3, unknown shapes and a symbolic class axis', () => {
    expect(problems(job(), model([out('o', 'float32', ['N', 2, 2])]))[0]).toMatchObject({ message: 'must have shape [N] or [N,C]', actual: '[N,2,2]' });
    expect(problems(job(), model([out('o', 'float32', null)]))[0]).toMatchObject({ actual: 'unknown rank' });
    expect(problems(job(), model([out('o', 'float32', ['N', 'C'])]))[0]).toMatchObject({ message: 'needs a fixed class/value axis', actual: '[N,C]' });
  });
});

describe('planOutput: task', () => {
  it('[N,2] is classification with two classes', () => {
    expect(plan(job(), model([PROBS]))).toMatchObject({ task: 'classification', binary: false, classes: 2 });
  });

  it('[N,C] is classification with C classes', () => {
    expect(plan(job(), model([out('logits', 'float32', ['N', 5])]))).toMatchObject({ task: 'classification', classes: 5, labels: null, labelSource: 'class indices' });
  });

  it('[N,1] and [N] are regression', () => {
    expect(plan(job(), model([out('value', 'float32', ['N', 1])]))).toEqual({ task: 'regression', outputName: 'value', width: 1, valueType: 'FLOAT', extras: [] });
    expect(plan(job(), model([out('value', 'float64', ['N'])]))).toEqual({ task: 'regression', outputName: 'value', width: 1, valueType: 'DOUBLE', extras: [] });
  });

  it('[N,1] ending in Sigmoid is binary classification even without labels', () => {
    expect(plan(job(), model([out('p', 'float32', ['N', 1])], { producerOps: { p: 'Sigmoid' } }))).toMatchObject({
      task: 'classification',
      binary: true,
      classes: 2,
      labels: null,
      labelSource: 'class indices',
      scores: { kind: 'probabilities', decidedBy: 'graph' },
    });
    expect(plan(job({ task: 'regression' }), model([out('p', 'float32', ['N', 1])], { producerOps: { p: 'Sigmoid' } }))).toMatchObject({ task: 'regression' });
  });

  it('ignores model metadata labels that are equal but for case (their prob_ columns would collide)', () => {
    expect(plan(job(), model([PROBS], { metadata: { labels: '["Yes","yes"]' } }))).toMatchObject({ labels: null, labelSource: 'class indices' });
  });

  it('[N,1] with labels is binary classification', () => {
    expect(plan(job({ labels: ['no', 'yes'] }), model([out('p', 'float32', ['N', 1])]))).toMatchObject({
      task: 'classification',
      binary: true,
      classes: 2,
      labels: ['no', 'yes'],
      labelSource: 'job',
    });
  });

  it('[N,1] with task: classification is binary classification', () => {
    expect(plan(job({ task: 'classification' }), model([out('p', 'float32', ['N', 1])]))).toMatchObject({ task: 'classification', binary: true, classes: 2 });
  });

  it('[N,3] with task: regression is three values per row', () => {
    expect(plan(job({ task: 'regression' }), model([out('v', 'float32', ['N', 3])]))).toEqual({ task: 'regression', outputName: 'v', width: 3, valueType: 'FLOAT', extras: [] });
  });

  it('review_below on a regression output is a problem', () => {
    expect(problems(job({ reviewBelow: 0.5 }), model([out('v', 'float32', ['N', 1])]))).toEqual([
      { code: 'SPEC_INVALID', where: 'review_below', message: 'only applies to classification', actual: 'regression output [N,1]' },
    ]);
  });
});

describe('planOutput: labels', () => {
  const withLabels = (labels: string) => model([PROBS], { metadata: { labels } });

  it('the job\'s labels win over the model metadata', () => {
    expect(plan(job({ labels: ['a', 'b'] }), withLabels('["legit","fraud"]'))).toMatchObject({ labels: ['a', 'b'], labelSource: 'job' });
  });

  it('labels from the model metadata (a JSON array)', () => {
    expect(plan(job(), withLabels('["legit","fraud"]'))).toMatchObject({ labels: ['legit', 'fraud'], labelSource: 'model metadata' });
    expect(plan(job(), withLabels('[0, 1]'))).toMatchObject({ labels: ['0', '1'], labelSource: 'model metadata' });
  });

  it('metadata labels of the wrong count, not JSON, or not an array are ignored', () => {
    for (const text of ['["a","b","c"]', 'legit,fraud', '{"0":"a","1":"b"}', '']) {
      expect(plan(job(), withLabels(text))).toMatchObject({ labels: null, labelSource: 'class indices' });
    }
  });

  it('job labels of the wrong count are a problem', () => {
    const result = planOutput(job({ labels: ['a', 'b', 'c'] }), model([PROBS]));
    expect(result.problems).toEqual([{ code: 'MODEL_MISMATCH', where: 'labels', message: 'the model output [N,2] has 2 classes', expected: 2, actual: 3 }]);
  });

  it('the fixture mlp carries its labels', async () => {
    const info = await readOnnxFile(join(FIXTURES_DIR, 'models', 'mlp.onnx'));
    expect(plan(job(), info)).toEqual({
      task: 'classification',
      outputName: 'probabilities',
      binary: false,
      classes: 2,
      labels: ['legit', 'fraud'],
      labelSource: 'model metadata',
      scores: { kind: 'probabilities', decidedBy: 'graph' },
      reviewBelow: undefined,
      extras: [],
    });
  });
});

describe('planOutput: scores', () => {
  it('the job decides first', () => {
    const info = model([PROBS], { producerOps: { probabilities: 'Softmax' } });
    expect((plan(job({ scores: 'logits' }), info) as ClassificationPlan).scores).toEqual({ kind: 'logits', decidedBy: 'job' });
  });

  it('a Softmax or Sigmoid last op means probabilities', () => {
    expect((plan(job(), model([PROBS], { producerOps: { probabilities: 'Softmax' } })) as ClassificationPlan).scores).toEqual({ kind: 'probabilities', decidedBy: 'graph' });
    const binary = model([out('p', 'float32', ['N', 1])], { producerOps: { p: 'Sigmoid' } });
    expect((plan(job({ task: 'classification' }), binary) as ClassificationPlan).scores).toEqual({ kind: 'probabilities', decidedBy: 'graph' });
  });

  it('any other last op leaves it to the first batch', () => {
    for (const op of ['Gemm', 'Add', 'Identity']) {
      expect((plan(job(), model([PROBS], { producerOps: { probabilities: op } })) as ClassificationPlan).scores).toBeNull();
    }
    expect((plan(job(), model([PROBS])) as ClassificationPlan).scores).toBeNull();
  });

  it('fixture models: logreg Sigmoid, multiclass Gemm', async () => {
    const logreg = await readOnnxFile(join(FIXTURES_DIR, 'models', 'logreg.onnx'));
    expect(plan(job({ labels: ['legit', 'fraud'] }), logreg)).toMatchObject({ binary: true, scores: { kind: 'probabilities', decidedBy: 'graph' } });
    const multiclass = await readOnnxFile(join(FIXTURES_DIR, 'models', 'multiclass.onnx'));
    expect(plan(job(), multiclass)).toMatchObject({ classes: 3, scores: null });
    const regression = await readOnnxFile(join(FIXTURES_DIR, 'models', 'regression.onnx'));
    expect(plan(job(), regression)).toMatchObject({ task: 'regression', width: 1 });
  });
});

describe('output columns', () => {
  const classification: ClassificationPlan = {
    task: 'classification',
    outputName: 'p',
    binary: false,
    classes: 3,
    labels: ['low', 'mid', 'high'],
    labelSource: 'job',
    scores: null,
    extras: [],
  };

  it('extra outputs come last: one column for [N], name_k for [N,K], in their own type', () => {
    const extras = [
      { output: 'output_label', type: 'VARCHAR' as const, width: 1, columns: ['output_label'] },
      { output: 'emb', type: 'FLOAT' as const, width: 2, columns: ['emb_0', 'emb_1'] },
    ];
    expect(outputColumnNames({ ...classification, reviewBelow: 0.5, extras })).toEqual(['prediction', 'confidence', 'prob_low', 'prob_mid', 'prob_high', 'needs_review', 'output_label', 'emb_0', 'emb_1']);
    expect(predictionTableColumns({ ...classification, extras }).slice(5)).toEqual([
      { name: 'x0_0', type: 'VARCHAR' },
      { name: 'x1_0', type: 'FLOAT' },
      { name: 'x1_1', type: 'FLOAT' },
    ]);
    expect(outputColumnNames({ task: 'regression', outputName: 'v', width: 1, valueType: 'FLOAT', extras })).toEqual(['prediction', 'output_label', 'emb_0', 'emb_1']);
  });

  it('classification: prediction, confidence, a prob per label, needs_review when asked', () => {
    expect(outputColumnNames(classification)).toEqual(['prediction', 'confidence', 'prob_low', 'prob_mid', 'prob_high']);
    expect(outputColumnNames({ ...classification, labels: null, reviewBelow: 0.8 })).toEqual(['prediction', 'confidence', 'prob_0', 'prob_1', 'prob_2', 'needs_review']);
    expect(classNames({ ...classification, labels: null })).toEqual(['0', '1', '2']);
    expect(predictionTableColumns(classification)).toEqual([
      { name: 'pred', type: 'INTEGER' },
      { name: 'confidence', type: 'FLOAT' },
      { name: 'p0', type: 'FLOAT' },
      { name: 'p1', type: 'FLOAT' },
      { name: 'p2', type: 'FLOAT' },
    ]);
  });

  it('regression: prediction, or prediction_<i> for several values', () => {
    expect(outputColumnNames({ task: 'regression', outputName: 'v', width: 1, valueType: 'FLOAT', extras: [] })).toEqual(['prediction']);
    expect(outputColumnNames({ task: 'regression', outputName: 'v', width: 2, valueType: 'DOUBLE', extras: [] })).toEqual(['prediction_0', 'prediction_1']);
    expect(predictionTableColumns({ task: 'regression', outputName: 'v', width: 2, valueType: 'DOUBLE', extras: [] })).toEqual([
      { name: 'v0', type: 'DOUBLE' },
      { name: 'v1', type: 'DOUBLE' },
    ]);
  });
});

describe('planOutput: extra outputs and the label check', () => {
  const LABEL = out('output_label', 'string', ['N']);
  const sk = (extra: Partial<OnnxFileInfo> = {}): OnnxFileInfo => ({ ...model([LABEL, out('output_probability', 'float32', ['N', 2])]), ...extra });

  it('extra_outputs maps each named tensor output to typed columns', () => {
    const info = model([PROBS, LABEL, out('leaf', 'int64', ['N', 3]), out('flag', 'bool', ['N', 1])]);
    const p = plan(job({ outputName: 'probabilities', extraOutputs: ['output_label', 'leaf', 'flag'] }), info);
    expect(p.extras).toEqual([
      { output: 'output_label', type: 'VARCHAR', width: 1, columns: ['output_label'] },
      { output: 'leaf', type: 'BIGINT', width: 3, columns: ['leaf_0', 'leaf_1', 'leaf_2'] },
      { output: 'flag', type: 'BOOLEAN', width: 1, columns: ['flag'] },
    ]);
  });

  it('extra_outputs: unknown names, the scored output, non-tensors and rank 3 are problems, all at once', () => {
    const info = model([PROBS, out('seq', 'sequence', null), out('cube', 'float32', ['N', 2, 2]), out('half', 'float16', ['N'])]);
    const found = problems(job({ outputName: 'probabilities', extraOutputs: ['nope', 'probabilities', 'seq', 'cube', 'half'] }), info);
    expect(found.map((p) => [p.where, p.message])).toEqual([
      ['extra_outputs.nope', 'the model has no output with this name'],
      ['extra_outputs.probabilities', 'is the scored output; its columns are written already'],
      ['extra_outputs.seq', 'must be a tensor [N] or [N,K] of float, int, bool or string'],
      ['extra_outputs.cube', 'must be a tensor [N] or [N,K] of float, int, bool or string'],
      ['extra_outputs.half', 'must be a tensor [N] or [N,K] of float, int, bool or string'],
    ]);
  });

  it('a label output beside the scores is checked, mapped through the model class names', () => {
    const p = plan(job(), sk({ classLabels: { output_probability: ['no', 'yes'] } })) as ClassificationPlan;
    expect(p.outputName).toBe('output_probability');
    expect(p.labelSource).toBe('model ZipMap');
    expect(p.labelCheck).toEqual({ output: 'output_label', classes: ['no', 'yes'] });
  });

  it('class names from an ai.onnx.ml classifier attribute, after the ZipMap and before metadata', () => {
    const p = plan(job(), sk({ classifierLabels: { output_probability: ['a', 'b'] }, metadata: { labels: '["x","y"]' } })) as ClassificationPlan;
    expect(p.labels).toEqual(['a', 'b']);
    expect(p.labelSource).toBe('model classifier');
  });

  it('an int64 label output without class names is read as class indices; a string one cannot be checked', () => {
    const ints = model([out('output_label', 'int64', ['N']), PROBS]);
    expect((plan(job(), ints) as ClassificationPlan).labelCheck).toEqual({ output: 'output_label', classes: null });
    expect((plan(job(), sk()) as ClassificationPlan).labelCheck).toBeUndefined();
  });
});
