/**
 * Loads a model file once: its bytes (sent to every inference worker), its sha256 (pinned
 * and recorded in every summary) and what the file declares (read without onnxruntime).
 */
import { createHash } from 'node:crypto';
import { readModelBytes } from './modelBytes.js';
import { parseOnnx, type OnnxFileInfo } from './onnxFile.js';
import { stripZipMap } from './zipMap.js';

export interface LoadedModel {
  path: string;
  bytes: Uint8Array;
  sha256: string;
  info: OnnxFileInfo;
}

/** The bytes workers run are the file's, with any ZipMap stripped (see zipMap.ts); the sha256 is the file's. */
export async function loadModel(path: string): Promise<LoadedModel> {
  const original = await readModelBytes(path);
  const sha256 = createHash('sha256').update(original).digest('hex');
  const info = parseOnnx(original, path);
  const { bytes, classLabels } = stripZipMap(original);
  if (bytes === original) return { path, bytes, sha256, info };
  return { path, bytes, sha256, info: { ...parseOnnx(bytes, path), classLabels } };
}
