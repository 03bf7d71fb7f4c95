// Raw inference: onnxruntime-node session.run on rows already in memory, in worker threads
// (one session each), the same batch size and thread budget as batchinfer. Loading the rows
// and the sessions is not timed.
// Usage: node rawInfer.mjs MODEL FILE.parquet BATCH WORKERS THREADS [COLUMNS] -> {"seconds": ..., "cpuSeconds": ..., "rows": ...}
// COLUMNS: comma-separated feature columns (default f0..f29); NULLs become 0.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import { DuckDBInstance } from '@duckdb/node-api';
import { cpuSince } from './cpu.mjs';

if (!isMainThread) {
  const session = await ort.InferenceSession.create(workerData.model, { intraOpNumThreads: workerData.threads, interOpNumThreads: 1 });
  parentPort.postMessage('ready');
  parentPort.on('message', async (m) => {
    if (m === 'close') return process.exit(0);
    const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', m.data, [m.rows, workerData.width]) });
    parentPort.postMessage({ id: m.id, n: out[session.outputNames[0]].data.length });
  });
} else {
  const [model, file, batchArg, workersArg, threadsArg, columnsArg] = process.argv.slice(2);
  const names = columnsArg ? columnsArg.split(',') : Array.from({ length: 30 }, (_, i) => `f${i}`);
  const width = names.length;
  const batch = Number(batchArg);
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  const cols = names.map((n, i) => `coalesce("${n.replace(/"/g, '""')}", 0)::FLOAT AS c${i}`).join(', ');
  const rows = Number((await (await conn.runAndReadAll('SELECT count(*) FROM read_parquet($1)', [file])).getRowsJS())[0][0]);
  const result = await conn.stream(`SELECT ${cols} FROM read_parquet($1)`, [file]);
  const x = new Float32Array(rows * width);
  let r0 = 0;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    for (let c = 0; c < width; c++) {
      const items = chunk.getColumnVector(c).items;
      for (let i = 0; i < chunk.rowCount; i++) x[(r0 + i) * width + c] = items[i];
    }
    r0 += chunk.rowCount;
  }
  const batches = [];
  for (let s = 0; s < rows; s += batch) batches.push(x.slice(s * width, Math.min(rows, s + batch) * width));
  const workers = await Promise.all(Array.from({ length: Number(workersArg) }, () => new Promise((resolve) => {
    const w = new Worker(new URL(import.meta.url), { workerData: { model, threads: Number(threadsArg), width } });
    w.once('message', () => resolve(w));
  })));
  const started = performance.now();
  const cpuStart = process.cpuUsage();
  let next = 0;
  await Promise.all(workers.map((w) => new Promise((resolve) => {
    const send = () => {
      if (next >= batches.length) return resolve();
      const data = batches[next];
      w.postMessage({ id: next++, data, rows: data.length / width }, [data.buffer]);
    };
    w.on('message', send);
    send();
  })));
  const seconds = (performance.now() - started) / 1000;
  for (const w of workers) w.postMessage('close');
  console.log(JSON.stringify({ seconds, cpuSeconds: cpuSince(cpuStart), rows }));
}
