import { RunProfiler, type TensorColumn } from '../src/profile/runProfiler.js';
const K = 30, B = 2048, N = 1_000_000;
const cols: TensorColumn[] = Array.from({ length: K }, (_, j) => ({ name: `f${j}`, type: 'FLOAT', kind: 'numeric', feed: 'x', position: j, width: K, nanIsNull: true, countValues: false }));
const data = new Float32Array(B * K);
let seed = 1;
for (let i = 0; i < data.length; i++) { seed = (seed * 1103515245 + 12345) % 2147483648; data[i] = seed / 2147483648; }
for (let rep = 0; rep < 4; rep++) {
  const p = new RunProfiler(cols, null);
  let t0 = performance.now(); let tPart = 0;
  for (let r = 0; r < N; r += B) {
    p.addBatch({ x: { data } }, B, 0, r);
    if ((r / B) % 128 === 127) { const s = performance.now(); p.takePart(B * 128, 'x'); tPart += performance.now() - s; }
  }
  const s = performance.now(); p.takePart(1e9, 'x'); tPart += performance.now() - s;
  console.log(`batches ${(performance.now() - t0 - tPart).toFixed(0)} ms, parts ${tPart.toFixed(0)} ms`);
}
