/**
 * The ONNX protobuf classes (onnx-proto), loaded with require: importing this large CommonJS
 * module from ESM makes Node scan it for named exports at every start, which costs start-up time.
 *
 * @example
 *   const model = onnx.ModelProto.decode(bytes);
 */
import { createRequire } from 'node:module';
import type onnxProto from 'onnx-proto';

export const { onnx } = createRequire(import.meta.url)('onnx-proto') as typeof onnxProto;
export type { onnxProto };
