/**
 * Where inference runs: onnxruntime's CPU execution provider, or its CUDA one on GPU N.
 * `auto` tries CUDA (GPU 0) and falls back to CPU with a warning; `cuda:N` that does not load
 * fails before anything is scored, saying how to get the provider.
 */
import { BatchinferError } from '../errors.js';

/** `cpu`, `cuda:N` (the job's `cuda` is `cuda:0`), or `auto`. */
export type Device = 'cpu' | 'auto' | `cuda:${number}`;

/** The provider a session runs on. */
export type Provider = 'cpu' | `cuda:${number}`;

/**
 * With CUDA one worker feeds the GPU (more only contend for it) and batches are larger: a GPU
 * amortizes each `run` call's launch and copy costs over more rows. Not measured here (no GPU).
 */
export const CUDA_BATCH_SIZE = 16384;

/**
 * How to get onnxruntime-node's CUDA provider, in place of ORT's raw message: its install
 * script downloads the provider files (Linux x64 only) unless ONNXRUNTIME_NODE_INSTALL=skip,
 * and they need an NVIDIA driver with CUDA 12 and cuDNN 9.
 */
export function cudaUnavailable(device: string, reason: string): BatchinferError {
  const how = 'onnxruntime-node downloads it at install on Linux x64 unless ONNXRUNTIME_NODE_INSTALL=skip (reinstall with `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node`); it needs an NVIDIA driver, CUDA 12 and cuDNN 9; or run with --device cpu or auto';
  return new BatchinferError('SPEC_INVALID', `device ${device}: onnxruntime's CUDA execution provider did not load (${reason}); ${how}`, {
    expected: "onnxruntime-node's CUDA execution provider",
    actual: device,
  });
}

/** The summary's warning when `auto` ran on CPU. */
export function fallbackWarning(reason: string): string {
  return `device auto: onnxruntime's CUDA execution provider did not load (${reason}); the model ran on CPU`;
}
