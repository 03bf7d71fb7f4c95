/**
 * A tensor as plain data: what the reader builds, the workers run and return, and the
 * postprocessor reads. Here, not in the onnxruntime adapter, so those layers need not know it.
 */
export type TensorDtype = 'float32' | 'float64' | 'int64' | 'int32' | 'string' | 'bool' | 'int8' | 'uint8' | 'float16';

export type TensorValues = Float32Array | Float64Array | BigInt64Array | Int32Array | Int8Array | Uint8Array | Uint16Array | string[];

/** A tensor as plain data, safe to post between threads. */
export interface TensorData {
  type: TensorDtype;
  dims: number[];
  data: TensorValues;
}
