/**
 * Reads what an ONNX file declares (inputs, outputs, opsets, metadata) straight from its
 * protobuf bytes, without onnxruntime: validation and `inspect` should not need a session,
 * and a broken file should fail with a clear error before any native code sees it.
 */
import { onnx, type onnxProto } from './onnxProto.js';
import { BatchinferError } from '../errors.js';
import { readModelBytes } from './modelBytes.js';

type GraphProto = onnxProto.onnx.IGraphProto;
type ValueInfoProto = onnxProto.onnx.IValueInfoProto;

/** A graph input or output. `shape` is null when the file gives no shape (or not a tensor). */
export interface ValueInfo {
  name: string;
  /** 'float32', 'int64', 'string', ... for tensors; 'map', 'sequence' or 'unknown' otherwise. */
  elemType: string;
  /** Fixed dims as numbers, symbolic dims as their name, dims with neither as '?'. */
  shape: (number | string)[] | null;
}

export interface OnnxFileInfo {
  irVersion: number;
  producerName: string;
  producerVersion: string;
  docString: string;
  /** Imported opsets; the default domain '' is shown as 'ai.onnx'. */
  opsets: { domain: string; version: number }[];
  /** Model-level metadata_props. */
  metadata: Record<string, string>;
  graphName: string;
  /** Graph inputs that are not initializers (older exporters list weights as inputs too). */
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  initializerNames: string[];
  /** For each graph output, the op type of the top-level node producing it. */
  producerOps: Record<string, string | undefined>;
  /** Top-level nodes only. */
  nodeCount: number;
  /** Distinct ops in first-seen order, including those inside subgraphs (If/Loop/Scan bodies). */
  opTypes: { domain: string; opType: string }[];
  /** Class names of outputs whose ZipMap was stripped (set by loadModel). */
  classLabels?: Record<string, string[]>;
  /**
   * Class names of outputs produced (directly or through Identity/Cast) as the scores of an
   * ai.onnx.ml classifier (LinearClassifier, TreeEnsembleClassifier, SVMClassifier), from
   * its `classlabels_strings` / `classlabels_int64s`.
   */
  classifierLabels: Record<string, string[]>;
}

const DEFAULT_DOMAIN = 'ai.onnx';

/** TensorProto.DataType codes; 17+ are newer than onnx-proto's enum but appear in real files. */
const ELEM_TYPES: Record<number, string> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string',
  9: 'bool', 10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 14: 'complex64', 15: 'complex128',
  16: 'bfloat16', 17: 'float8e4m3fn', 18: 'float8e4m3fnuz', 19: 'float8e5m2', 20: 'float8e5m2fnuz',
  21: 'uint4', 22: 'int4', 23: 'float4e2m1',
};

/**
 * Reads and parses an ONNX model file.
 *
 * @example
 *   const info = await readOnnxFile('fixtures/models/mlp.onnx');
 *   info.outputs[0]; // { name: 'probabilities', elemType: 'float32', shape: ['N', 2] }
 */
export async function readOnnxFile(path: string): Promise<OnnxFileInfo> {
  return parseOnnx(await readModelBytes(path), path);
}

/**
 * Parses ONNX ModelProto bytes. `source` (a path) only appears in error messages.
 *
 * @example
 *   parseOnnx(await readFile('model.onnx')).opsets; // [{ domain: 'ai.onnx', version: 17 }]
 */
export function parseOnnx(bytes: Uint8Array, source = 'model'): OnnxFileInfo {
  const invalid = (actual: string, cause?: unknown) =>
    new BatchinferError('MODEL_INVALID', `model file is not a valid ONNX model: ${source}`, { expected: 'ONNX ModelProto', actual, cause });

  if (bytes.length === 0) throw invalid('an empty file');
  let model: onnxProto.onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw invalid(`bytes that do not decode as protobuf (${err instanceof Error ? err.message : String(err)})`, err);
  }
  // Protobuf is permissive: text or random bytes sometimes decode into a "model".
  // Real exports always carry an ir_version, an opset import and a graph with nodes and outputs.
  const irVersion = toNumber(model.irVersion);
  const graph = model.graph;
  if (irVersion <= 0) throw invalid(`ir_version ${irVersion}`);
  if (!graph) throw invalid('a model without a graph');
  if (!graph.node?.length) throw invalid('a graph without nodes');
  if (!graph.output?.length) throw invalid('a graph without outputs');
  if (!model.opsetImport.length) throw invalid('a model without opset imports');
  refuseExternalData(graph, source);

  const initializerNames = (graph.initializer ?? []).map((t) => t.name ?? '');
  const initializers = new Set(initializerNames);
  const producedBy = new Map<string, string>();
  for (const node of graph.node) for (const out of node.output ?? []) producedBy.set(out, node.opType ?? '');
  const outputs = graph.output.map(valueInfo);
  const inputs = (graph.input ?? []).filter((v) => !initializers.has(v.name ?? '')).map(valueInfo);
  checkNames('input', inputs, source);
  checkNames('output', outputs, source);

  return {
    irVersion,
    producerName: model.producerName,
    producerVersion: model.producerVersion,
    docString: model.docString,
    opsets: model.opsetImport.map((o) => ({ domain: domainName(o.domain), version: toNumber(o.version) })),
    metadata: Object.fromEntries(model.metadataProps.map((p) => [p.key ?? '', p.value ?? ''])),
    graphName: graph.name ?? '',
    inputs,
    outputs,
    initializerNames,
    producerOps: Object.fromEntries(outputs.map((o) => [o.name, producedBy.get(o.name)])),
    nodeCount: graph.node.length,
    opTypes: distinctOps(graph),
    classifierLabels: classifierLabels(graph),
  };
}

/**
 * Graph inputs and outputs are fed and fetched by name through onnxruntime's C API, where a
 * name ends at its first NUL: 'a\0b' would be looked up as 'a' and fail mid-run. An empty
 * or repeated name cannot be addressed either. Each is MODEL_INVALID before any data is read.
 */
function checkNames(kind: 'input' | 'output', values: readonly ValueInfo[], source: string): void {
  const seen = new Set<string>();
  values.forEach((v, i) => {
    const name = escapeName(v.name);
    const invalid = (problem: string, expected: string) =>
      new BatchinferError('MODEL_INVALID', `model ${kind} ${problem}: ${source}`, { expected, actual: v.name === '' ? 'an empty name' : name });
    if (v.name === '') throw invalid(`#${i + 1} has an empty name`, `a name for every graph ${kind}`);
    if (v.name.includes('\0')) throw invalid(`'${name}' has a NUL character in its name`, 'names without NUL characters');
    if (seen.has(v.name)) throw invalid(`'${name}' is declared twice`, `distinct ${kind} names`);
    seen.add(v.name);
  });
}

/** A name for a one-line message: control characters as escapes ('a\0b', 'a\nb', 'a\x01b'). */
export function escapeName(name: string): string {
  const named: Record<string, string> = { '\0': '\\0', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
  return name.replace(/[\x00-\x1f\x7f]/g, (c) => named[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * Weights kept in external data files: the workers get the model as bytes, and onnxruntime
 * resolves no file beside bytes, so such a model would pass validation and fail to load.
 */
function refuseExternalData(graph: GraphProto, source: string): void {
  const EXTERNAL = onnx.TensorProto.DataLocation.EXTERNAL;
  const visit = (g: GraphProto): void => {
    for (const t of g.initializer ?? []) {
      if (t.dataLocation !== EXTERNAL) continue;
      const location = t.externalData?.find((e) => e.key === 'location')?.value ?? '?';
      throw new BatchinferError('MODEL_INVALID', `model initializer '${escapeName(t.name ?? '')}' keeps its data in an external file (${location}), which batchinfer does not load: ${source}`, {
        expected: 'a single-file model (weights inside the .onnx file)',
        actual: `external data in ${location}`,
      });
    }
    for (const node of g.node ?? []) for (const attr of node.attribute ?? []) for (const sub of [...(attr.g ? [attr.g] : []), ...(attr.graphs ?? [])]) visit(sub);
  };
  visit(graph);
}

/** Ops that only pass a tensor on (a converter's Identity before an output, a Cast to float). */
const PASS_THROUGH = new Set(['Identity', 'Cast']);

/** For each graph output: the class labels of the classifier whose scores (its 2nd output) it is. */
function classifierLabels(graph: GraphProto): Record<string, string[]> {
  const producer = new Map<string, onnxProto.onnx.INodeProto>();
  for (const node of graph.node ?? []) for (const out of node.output ?? []) producer.set(out, node);
  const found: Record<string, string[]> = {};
  for (const output of graph.output ?? []) {
    let name = output.name ?? '';
    let node = producer.get(name);
    for (let hops = 0; node && PASS_THROUGH.has(node.opType ?? '') && hops < 8; hops++) {
      name = node.input?.[0] ?? '';
      node = producer.get(name);
    }
    if (!node || node.output?.[1] !== name) continue;
    const labels = classLabelsOf(node);
    if (labels.length > 0) found[output.name ?? ''] = labels;
  }
  return found;
}

/** A node's `classlabels_strings`, else its `classlabels_int64s` as decimal text. */
export function classLabelsOf(node: onnxProto.onnx.INodeProto): string[] {
  const attr = (name: string) => (node.attribute ?? []).find((a) => a.name === name);
  const strings = attr('classlabels_strings')?.strings;
  if (strings && strings.length > 0) return strings.map((s) => new TextDecoder().decode(s));
  return (attr('classlabels_int64s')?.ints ?? []).map((i) => String(i));
}

/** int64 fields decode as `Long` objects (protobufjs finds the `long` package), or numbers. */
function toNumber(value: number | { toNumber(): number } | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'number' ? value : value.toNumber();
}

function domainName(domain: string | null | undefined): string {
  return domain ? domain : DEFAULT_DOMAIN;
}

function valueInfo(v: ValueInfoProto): ValueInfo {
  const name = v.name ?? '';
  const type = v.type;
  if (type?.tensorType) {
    const elemType = ELEM_TYPES[type.tensorType.elemType ?? 0] ?? 'unknown';
    const dims = type.tensorType.shape?.dim;
    const shape = dims ? dims.map((d) => (d.dimValue != null ? toNumber(d.dimValue) : d.dimParam ? d.dimParam : '?')) : null;
    return { name, elemType, shape };
  }
  if (type?.sequenceType) return { name, elemType: 'sequence', shape: null };
  if (type?.mapType) return { name, elemType: 'map', shape: null };
  return { name, elemType: 'unknown', shape: null };
}

/** Ops of a graph and every subgraph attribute, each (domain, opType) once. */
function distinctOps(graph: GraphProto): { domain: string; opType: string }[] {
  const seen = new Map<string, { domain: string; opType: string }>();
  const visit = (g: GraphProto) => {
    for (const node of g.node ?? []) {
      const op = { domain: domainName(node.domain), opType: node.opType ?? '' };
      const key = `${op.domain}\u0000${op.opType}`;
      if (!seen.has(key)) seen.set(key, op);
      for (const attr of node.attribute ?? []) {
        if (attr.g) visit(attr.g);
        for (const sub of attr.graphs ?? []) visit(sub);
      }
    }
  };
  visit(graph);
  return [...seen.values()];
}
