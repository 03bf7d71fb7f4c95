/**
 * A WebAssembly module of kernels (AssemblyScript under wasm/, its bytes generated as base64 by
 * scripts/wasm.mjs), instantiated once per thread on first use. Its linear memory grows to the
 * largest call and stays: the kernels allocate nothing, the caller lays out memory from `BASE`.
 *
 * @example
 *   const kernels = new WasmKernels<{ memory: WasmMemory; f(at: number, n: number): void }>(BYTES_BASE64);
 *   const k = kernels.withMemory(8 * n); // k.memory.buffer holds at least BASE + 8 * n bytes
 */

/** What the kernels use of the WebAssembly global (Node has it; TypeScript declares it only in its DOM libraries). */
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
};

export interface WasmMemory {
  buffer: ArrayBuffer;
  grow(pages: number): number;
}

/** Linear memory below this is left to the module (its stack and data, none today). */
export const BASE = 65_536;
const PAGE = 65_536;

export class WasmKernels<E extends { memory: WasmMemory }> {
  private exports: E | null = null;

  constructor(private readonly base64: string) {}

  /** The module's exports in this thread. */
  instance(): E {
    this.exports ??= new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(this.base64, 'base64')), {}).exports as E;
    return this.exports;
  }

  /** The module with at least `bytes` of linear memory from BASE. */
  withMemory(bytes: number): E {
    const k = this.instance();
    const short = BASE + bytes - k.memory.buffer.byteLength;
    if (short > 0) k.memory.grow(Math.ceil(short / PAGE));
    return k;
  }
}
