/**
 * Loads a model file once: its bytes (sent to every inference worker), its sha256 (pinned
 * and recorded in every summary) and what the file declares (read without onnxruntime).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { BatchinferError } from '../errors.js';
import { parseOnnx, type OnnxFileInfo } from './onnxFile.js';

export interface LoadedModel {
  path: string;
  bytes: Uint8Array;
  sha256: string;
  info: OnnxFileInfo;
}

export async function loadModel(path: string): Promise<LoadedModel> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EISDIR') throw new BatchinferError('MODEL_INVALID', `model path is a directory: ${path}`, { expected: 'an .onnx file', actual: 'a directory' });
    throw new BatchinferError('MODEL_MISSING', `model file not found: ${path}`, { expected: 'a readable .onnx file', actual: code === 'ENOENT' ? 'nothing at that path' : String(code) });
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return { path, bytes, sha256, info: parseOnnx(bytes, path) };
}
