/**
 * scikit-learn converters end classifiers with a ZipMap node, so `output_probability` is a
 * sequence of maps, which onnxruntime-node cannot return ("Non tensor type is temporarily not
 * supported"). This rewrites the graph in memory: the ZipMap is removed and its input tensor
 * [N,C] is exposed under the same output name; the class names come from its
 * `classlabels_strings` / `classlabels_int64s`. The file on disk is never changed.
 *
 * @example
 *   const { bytes, classLabels } = stripZipMap(await readFile('sklearn.onnx'));
 *   classLabels['output_probability']; // ['legit', 'fraud']
 */
import { onnx } from './onnxProto.js';
import { classLabelsOf } from './onnxFile.js';


export interface ZipMapRewrite {
  /** The model to run: the input bytes when there was no ZipMap. */
  bytes: Uint8Array;
  /** Class names of each rewritten output, in column order. */
  classLabels: Record<string, string[]>;
}

export function stripZipMap(bytes: Uint8Array): ZipMapRewrite {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph;
  if (!graph?.node) return { bytes, classLabels: {} };
  const outputNames = new Set((graph.output ?? []).map((o) => o.name ?? ''));
  const zipMaps = graph.node.filter((n) => n.opType === 'ZipMap' && (n.output ?? []).some((o) => outputNames.has(o)));
  if (zipMaps.length === 0) return { bytes, classLabels: {} };

  const classLabels: Record<string, string[]> = {};
  for (const zipMap of zipMaps) {
    const output = zipMap.output![0]!;
    const input = zipMap.input![0]!;
    classLabels[output] = classLabelsOf(zipMap);
    graph.node = graph.node.filter((n) => n !== zipMap);
    // The probabilities tensor now carries the output's name, wherever it is produced or used.
    for (const node of graph.node) {
      node.output = (node.output ?? []).map((o) => (o === input ? output : o));
      node.input = (node.input ?? []).map((i) => (i === input ? output : i));
    }
    const classes = classLabels[output]!.length;
    graph.output = (graph.output ?? []).map((o) =>
      o.name === output
        ? { name: output, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimParam: 'N' }, { dimValue: classes }] } } } }
        : o,
    );
  }
  return { bytes: onnx.ModelProto.encode(model).finish(), classLabels };
}
