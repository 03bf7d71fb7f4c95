/**
 * Loads a model file once: its bytes (sent to every inference worker), its sha256 (pinned
 * and recorded in every summary) and what the file declares (read without onnxruntime).
 */
import { createHash } from 'node:crypto';
import { parseOnnx, readModelBytes, type OnnxFileInfo } from './onnxFile.js';

export interface LoadedModel {
  path: string;
  bytes: Uint8Array;
  sha256: string;
  info: OnnxFileInfo;
}

export async function loadModel(path: string): Promise<LoadedModel> {
  const bytes = await readModelBytes(path);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return { path, bytes, sha256, info: parseOnnx(bytes, path) };
}
