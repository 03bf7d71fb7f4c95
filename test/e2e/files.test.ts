/**
 * File- and model-level failures: each case checks the exit code, the stable error code, what
 * the message names (file, line, column, both sides of a mismatch), and that the output
 * location is untouched (no output, summary, rejects, staging or lock; the input intact).
 * Inputs and models are built in temp dirs: truncated and corrupt Parquet, files of the other
 * format, ragged and unterminated-quote CSVs, ONNX files that are not ONNX, need opset 99, use
 * an unknown operator or return a sequence; and the cases that must succeed with zero rows.
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import onnxProto from 'onnx-proto';
import { beforeAll, describe, expect, it } from 'vitest';
import { data, describeResult, expectCliError, expectOk, model, runCli } from '../helpers/cli.js';
import { readParquet, type Row } from '../helpers/parquet.js';
import { stagingLeftovers, useTempDirs } from '../helpers/tempDir.js';

const { onnx } = onnxProto;
const tmp = useTempDirs('batchinfer-e2e-files-');
const TRANSACTIONS = data('transactions.parquet');
const FEATURES = 'amount,f0,f1,risk score';

/** The fixture's 3000 CSV lines (header first). */
let csvLines: string[];
/** Where the inputs and models of all cases are written. */
let dir: string;
const at = (name: string): string => join(dir, name);

async function duck(sql: string, params: string[] = []): Promise<Row[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    return (await conn.runAndReadAll(sql, params)).getRowObjectsJS() as Row[];
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

// ---- ONNX models built here, with onnx-proto (as scripts/fixtures/onnxBuilder.ts does) ----

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;
const FLOAT16 = onnx.TensorProto.DataType.FLOAT16;

function tensor(name: string, shape: (number | string)[], elemType = FLOAT): onnxProto.onnx.IValueInfoProto {
  return { name, type: { tensorType: { elemType, shape: { dim: shape.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } } };
}

function encode(graph: onnxProto.onnx.IGraphProto, opset = 17): Uint8Array {
  return onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: opset }], producerName: 'batchinfer-tests', graph: { name: 'g', ...graph } })).finish();
}

const softmax = (input: string, output: string): onnxProto.onnx.INodeProto => ({ opType: 'Softmax', input: [input], output: [output], attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: -1 }] });

/** A working two-class model over x [N,4]: Softmax of the first two features. */
const slice2 = (): onnxProto.onnx.INodeProto[] => [
  { opType: 'Constant', output: ['starts'], attribute: [{ name: 'value', type: onnx.AttributeProto.AttributeType.TENSOR, t: { dims: [1], dataType: INT64, int64Data: [0] } }] },
  { opType: 'Constant', output: ['ends'], attribute: [{ name: 'value', type: onnx.AttributeProto.AttributeType.TENSOR, t: { dims: [1], dataType: INT64, int64Data: [2] } }] },
  { opType: 'Constant', output: ['axes'], attribute: [{ name: 'value', type: onnx.AttributeProto.AttributeType.TENSOR, t: { dims: [1], dataType: INT64, int64Data: [1] } }] },
  { opType: 'Slice', input: ['x', 'starts', 'ends', 'axes'], output: ['two'] },
];

const MODELS: Record<string, () => Uint8Array> = {
  'opset99.onnx': () => encode({ node: [softmax('x', 'p')], input: [tensor('x', ['N', 2])], output: [tensor('p', ['N', 2])] }, 99),
  'unknown-op.onnx': () => encode({ node: [{ opType: 'FrobnicateTensor', input: ['x'], output: ['p'] }], input: [tensor('x', ['N', 2])], output: [tensor('p', ['N', 2])] }),
  'sequence-out.onnx': () =>
    encode({ node: [{ opType: 'SequenceConstruct', input: ['x'], output: ['s'] }], input: [tensor('x', ['N', 2])], output: [{ name: 's', type: { sequenceType: { elemType: { tensorType: { elemType: FLOAT } } } } }] }),
  'map-out.onnx': () =>
    encode({ node: [softmax('x', 'm')], input: [tensor('x', ['N', 2])], output: [{ name: 'm', type: { mapType: { keyType: INT64, valueType: { tensorType: { elemType: FLOAT } } } } }] }),
  'int64-in.onnx': () =>
    encode({
      node: [{ opType: 'Cast', input: ['x'], output: ['xf'], attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: FLOAT }] }, softmax('xf', 'p')],
      input: [tensor('x', ['N', 2], INT64)],
      output: [tensor('p', ['N', 2])],
    }),
  'float16-in.onnx': () =>
    encode({
      node: [{ opType: 'Cast', input: ['x'], output: ['xf'], attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: FLOAT }] }, softmax('xf', 'p')],
      input: [tensor('x', ['N', 2], FLOAT16)],
      output: [tensor('p', ['N', 2])],
    }),
  // A fixed batch dimension is served (groups of that size); two different ones cannot be.
  'fixed-batches.onnx': () => encode({ node: [softmax('x', 'p')], input: [tensor('x', [8, 2]), tensor('y', [4, 2])], output: [tensor('p', [8, 2])] }),
  'rank3.onnx': () => encode({ node: [softmax('x', 'p')], input: [tensor('x', ['N', 2, 2])], output: [tensor('p', ['N', 2, 2])] }),
  'ok4.onnx': () => encode({ node: [...slice2(), softmax('two', 'p')], input: [tensor('x', ['N', 4])], output: [tensor('p', ['N', 2])] }),
};

beforeAll(async () => {
  dir = await tmp.make();
  csvLines = (await readFile(data('transactions.csv'), 'utf8')).trimEnd().split('\n');
  const csv = (name: string, lines: string[]) => writeFile(at(name), lines.join('\n') + '\n');
  const mlp = await readFile(model('mlp'));
  const parquet = await readFile(TRANSACTIONS);

  // Empty and wrong-format files.
  await writeFile(at('empty.csv'), '');
  await writeFile(at('empty.parquet'), '');
  await writeFile(at('blank.csv'), '\n\n  \n');
  await writeFile(at('truncated.parquet'), parquet.subarray(0, Math.floor(parquet.length / 2)));
  // The footer (Thrift metadata just before the closing PAR1) scrambled.
  const footer = Buffer.from(parquet);
  for (let i = footer.length - 400; i < footer.length - 300; i += 7) footer[i]! ^= 0x5a;
  await writeFile(at('corrupt-footer.parquet'), footer);
  // A data page scrambled (its ZSTD stream no longer decompresses); the footer intact. One
  // copy breaks a feature column (f0), the other the passthrough column (txn_id).
  const offsets = new Map(
    (await duck(`SELECT path_in_schema AS col, data_page_offset AS at FROM parquet_metadata($1) WHERE row_group_id = 0`, [TRANSACTIONS])).map((r) => [String(r['col']), Number(r['at'])]),
  );
  for (const col of ['f0', 'txn_id']) {
    const page = Buffer.from(parquet);
    const start = offsets.get(col)! + 40;
    for (let i = start; i < start + 100; i += 7) page[i]! ^= 0x5a;
    await writeFile(at(`corrupt-page-${col}.parquet`), page);
  }
  await copyFile(data('transactions.csv'), at('csv-bytes.parquet'));
  await copyFile(TRANSACTIONS, at('parquet-bytes.csv'));

  // CSVs broken at a known line: inside DuckDB's 20480-row sample, and past it.
  const head = csvLines.slice(0, 301);
  const broken = (lineNo: number, edit: (line: string) => string, lines = head) => lines.map((l, i) => (i === lineNo - 1 ? edit(l) : l));
  await csv('ragged-extra.csv', broken(102, (l) => l + ',EXTRA'));
  await csv('ragged-short.csv', broken(57, (l) => l.split(',').slice(0, 3).join(',')));
  await csv('unterminated.csv', broken(61, (l) => l.replace(',grocery,', ',"grocery,').replace(',travel,', ',"travel,').replace(',fuel,', ',"fuel,').replace(',electronics,', ',"electronics,')));
  await csv('after-quote.csv', broken(45, (l) => l.replace(/,(grocery|travel|fuel|electronics),/, ',"$1"x,')));
  await writeFile(at('latin1.csv'), Buffer.concat([Buffer.from(head.slice(0, 80).join('\n') + '\n'), Buffer.from('t09999,2026-11-29 00:00:00,caf\xe9,1.5,0.1,0.2,0.3,0.4,1\n', 'latin1'), Buffer.from(head.slice(80).join('\n') + '\n')]));
  // 24000 rows: the fixture's rows repeated (ids made unique).
  const long = [csvLines[0]!, ...Array.from({ length: 24000 }, (_, i) => csvLines[1 + (i % 3000)]!.replace(/^t\d+/, `r${String(i).padStart(5, '0')}`))];
  await csv('late-ragged.csv', broken(22002, (l) => l + ',EXTRA', long));
  await csv('late-unterminated.csv', broken(23003, (l) => l.replace(/,(grocery|travel|fuel|electronics),/, ',"$1,'), long));

  // The fixture CSV gzipped, tab-separated (written by DuckDB from the text as read), both,
  // and zstd-compressed; and broken ones: a truncated gzip, gzipped blank lines, ragged lines.
  await writeFile(at('transactions.csv.gz'), gzipSync(await readFile(data('transactions.csv'))));
  await duck(`COPY (SELECT * FROM read_csv($1, all_varchar = true)) TO $2 (HEADER, DELIMITER '\t')`, [data('transactions.csv'), at('transactions.tsv')]);
  await writeFile(at('transactions.tsv.gz'), gzipSync(await readFile(at('transactions.tsv'))));
  await duck(`COPY (SELECT * FROM read_csv($1, all_varchar = true)) TO $2 (HEADER, COMPRESSION zstd)`, [data('transactions.csv'), at('transactions.csv.zst')]);
  const gzipped = gzipSync(Buffer.from(csvLines.join('\n') + '\n'));
  await writeFile(at('truncated.csv.gz'), gzipped.subarray(0, Math.floor(gzipped.length / 2)));
  await writeFile(at('blank.csv.gz'), gzipSync(Buffer.from('\n\n  \n')));
  await writeFile(at('ragged.csv.gz'), gzipSync(Buffer.from(broken(102, (l) => l + ',EXTRA').join('\n') + '\n')));
  await writeFile(at('ragged.tsv'), broken(102, (l) => l + '\tEXTRA', head.map((l) => l.replaceAll(',', '\t'))).join('\n') + '\n');
  await writeFile(at('data.parquet.gz'), gzipSync(parquet));
  await copyFile(data('transactions.csv'), at('plain-text.csv.gz'));
  await copyFile(data('transactions.csv'), at('plain-text.csv.zst'));
  // Other delimiters, for csv_delimiter (the fixture has no quoted values: a plain swap).
  await csv('semicolon.csv', csvLines.map((l) => l.replaceAll(',', ';')));
  await writeFile(at('pipe.csv.gz'), gzipSync(Buffer.from(csvLines.map((l) => l.replaceAll(',', '|')).join('\n') + '\n')));
  await csv('ragged-semicolon.csv', broken(102, (l) => l + ';EXTRA', head.map((l) => l.replaceAll(',', ';'))));

  // A header-only CSV, and a zero-row Parquet file with the fixture's schema.
  await csv('header-only.csv', [csvLines[0]!]);
  await duck(`COPY (SELECT * FROM read_parquet($1) LIMIT 0) TO $2 (FORMAT parquet)`, [TRANSACTIONS, at('zero-rows.parquet')]);

  // A glob whose files disagree on a used column (amount: DOUBLE vs VARCHAR, and missing).
  await mkdir(at('mixed-types'));
  await duck(`COPY (SELECT txn_id, amount, f0, f1, "risk score" FROM read_parquet($1) LIMIT 100) TO $2 (FORMAT parquet)`, [TRANSACTIONS, at('mixed-types/a.parquet')]);
  await duck(`COPY (SELECT txn_id, CAST(amount AS VARCHAR) AS amount, f0, f1, "risk score" FROM read_parquet($1) LIMIT 100) TO $2 (FORMAT parquet)`, [TRANSACTIONS, at('mixed-types/b.parquet')]);
  await mkdir(at('missing-column'));
  await csv('missing-column/a.csv', head);
  await csv('missing-column/b.csv', head.map((l) => l.split(',').filter((_, i) => i !== 3).join(',')));
  // CSV files whose types differ only as DuckDB guesses them (integers, decimals, all NULL): fine.
  await mkdir(at('csv-guesses'));
  await csv('csv-guesses/a.csv', ['id,amount,f0,f1,risk score', '1,1.5,0.1,0.2,0.3', '2,2.5,0.1,0.2,0.3']);
  await csv('csv-guesses/b.csv', ['id,amount,f0,f1,risk score', '3,3,0.1,0.2,0.3', '4,4,0.1,0.2,0.3']);
  await csv('csv-guesses/c.csv', ['id,amount,f0,f1,risk score', '5,,0.1,0.2,0.3', '6,,0.1,0.2,0.3']);
  await mkdir(at('no-data'));
  await writeFile(at('no-data/readme.txt'), 'nothing to score\n');

  // Models.
  await writeFile(at('not-onnx.onnx'), 'this is not a model\n');
  await writeFile(at('truncated.onnx'), mlp.subarray(0, Math.floor(mlp.length / 2)));
  const flipped = Buffer.from(mlp);
  for (let i = 100; i < 140; i++) flipped[i]! ^= 0xff;
  await writeFile(at('corrupt.onnx'), flipped);
  for (const [name, build] of Object.entries(MODELS)) await writeFile(at(name), build());
  await mkdir(at('model-dir.onnx'));
}, 60_000);

interface Case {
  name: string;
  exit: number;
  code: string;
  args(output: string, work: string): string[] | Promise<string[]>;
  /** Substrings (or patterns) stderr must contain. */
  mentions: (string | RegExp)[] | (() => (string | RegExp)[]);
  /** Substrings stderr must not contain. */
  absent?: string[];
}

const run = (input: string, modelPath = model('mlp'), ...extra: string[]) => (output: string) => ['run', '--model', modelPath, '--input', input, '--output', output, '--features', FEATURES, '--fill-null', '0', '--quiet', ...extra];

const CASES: Case[] = [
  // ---- inputs ----
  { name: 'an input file that does not exist', exit: 66, code: 'INPUT_MISSING', args: (o) => run(at('nope.parquet'))(o), mentions: () => [at('nope.parquet'), 'does not exist'] },
  { name: 'a glob that matches nothing', exit: 66, code: 'INPUT_MISSING', args: (o) => run(at('nothing-*.parquet'))(o), mentions: () => [at('nothing-*.parquet'), 'matches no Parquet or CSV file'] },
  { name: 'a directory without data files', exit: 66, code: 'INPUT_MISSING', args: (o) => run(at('no-data'))(o), mentions: () => [at('no-data'), 'holds no Parquet or CSV file'] },
  { name: 'an empty (0-byte) CSV', exit: 65, code: 'INPUT_INVALID', args: (o) => run(at('empty.csv'))(o), mentions: () => [at('empty.csv'), 'is empty (0 bytes)'] },
  { name: 'an empty (0-byte) Parquet file', exit: 65, code: 'INPUT_INVALID', args: (o) => run(at('empty.parquet'))(o), mentions: () => [at('empty.parquet'), 'is empty (0 bytes)'] },
  { name: 'a CSV of blank lines', exit: 65, code: 'INPUT_INVALID', args: (o) => run(at('blank.csv'))(o), mentions: () => [at('blank.csv'), 'holds no header line'] },
  { name: 'a truncated Parquet file', exit: 65, code: 'INPUT_INVALID', args: (o) => run(at('truncated.parquet'))(o), mentions: () => [`cannot read ${at('truncated.parquet')}`, 'magic bytes'] },
  { name: 'a Parquet file with a corrupt footer', exit: 65, code: 'INPUT_INVALID', args: (o) => run(at('corrupt-footer.parquet'))(o), mentions: () => [`cannot read ${at('corrupt-footer.parquet')}`] },
  { name: 'CSV bytes in a .parquet file', exit: 65, code: 'INPUT_INVALID', args: (o) => run(at('csv-bytes.parquet'))(o), mentions: () => [`cannot read ${at('csv-bytes.parquet')}`, 'magic bytes'] },
  { name: 'Parquet bytes in a .csv file', exit: 65, code: 'INPUT_INVALID', args: (o) => run(at('parquet-bytes.csv'))(o), mentions: () => [`cannot read ${at('parquet-bytes.csv')}`, 'holds a Parquet file', 'not CSV text'] },
  { name: 'a truncated .csv.gz', exit: 65, code: 'INPUT_INVALID', args: (o) => run(at('truncated.csv.gz'))(o), mentions: () => [`cannot read ${at('truncated.csv.gz')}`] },
  { name: 'plain text named .csv.gz', exit: 65, code: 'INPUT_INVALID', args: (o) => run(at('plain-text.csv.gz'))(o), mentions: () => [`cannot read ${at('plain-text.csv.gz')}`, 'not a GZIP stream'] },
  { name: 'plain text named .csv.zst', exit: 65, code: 'INPUT_INVALID', args: (o) => run(at('plain-text.csv.zst'))(o), mentions: () => [`cannot read ${at('plain-text.csv.zst')}`] },
  { name: 'a .csv.gz of blank lines', exit: 65, code: 'INPUT_INVALID', args: (o) => run(at('blank.csv.gz'))(o), mentions: () => [at('blank.csv.gz'), 'holds no header line'] },
  { name: 'a ragged line in a .csv.gz', exit: 65, code: 'INPUT_INVALID', args: (o) => run(at('ragged.csv.gz'))(o), mentions: () => [`cannot read ${at('ragged.csv.gz')}`, 'line 102 has 10 fields, the header has 9'] },
  { name: 'a ragged line in a .tsv', exit: 65, code: 'INPUT_INVALID', args: (o) => run(at('ragged.tsv'))(o), mentions: () => [`cannot read ${at('ragged.tsv')}`, 'line 102 has 10 fields, the header has 9'] },
  { name: 'a semicolon CSV read with commas (the hint names the delimiter)', exit: 78, code: 'SCHEMA_MISMATCH', args: (o) => run(at('semicolon.csv'))(o), mentions: () => [`${at('semicolon.csv')} reads as one column`, 'looks semicolon-separated', 'set csv_delimiter: semicolon (--csv-delimiter semicolon)', "column 'amount' is not in the dataset"] },
  { name: 'a ragged line in a semicolon CSV', exit: 65, code: 'INPUT_INVALID', args: (o) => [...run(at('ragged-semicolon.csv'))(o), '--csv-delimiter', ';'], mentions: () => [`cannot read ${at('ragged-semicolon.csv')}`, 'line 102 has 10 fields, the header has 9'] },
  { name: 'csv_delimiter with a Parquet input', exit: 78, code: 'SPEC_INVALID', args: (o) => [...run(TRANSACTIONS)(o), '--csv-delimiter', 'tab'], mentions: () => ['csv_delimiter: only applies to CSV inputs', TRANSACTIONS] },
  { name: 'an unknown --csv-delimiter', exit: 78, code: 'SPEC_INVALID', args: (o) => [...run(at('semicolon.csv'))(o), '--csv-delimiter', ':'], mentions: ['csv_delimiter: must be one of , ; | or a tab'] },
  { name: 'a gzipped Parquet file (.parquet.gz)', exit: 65, code: 'INPUT_INVALID', args: (o) => run(at('data.parquet.gz'))(o), mentions: () => [at('data.parquet.gz'), 'neither Parquet nor CSV', '.parquet, .csv or .tsv'] },
  {
    name: 'files of one glob disagreeing on a used column (type, and missing)',
    exit: 65,
    code: 'INPUT_INVALID',
    args: (o) => run(at('mixed-types/*.parquet'))(o),
    mentions: () => [at('mixed-types/a.parquet'), at('mixed-types/b.parquet'), "column 'amount'", 'expected DOUBLE, got VARCHAR'],
  },
  {
    name: 'a CSV of a directory input missing a used column',
    exit: 65,
    code: 'INPUT_INVALID',
    args: (o) => run(at('missing-column'))(o),
    mentions: () => [at('missing-column/a.csv'), at('missing-column/b.csv'), "column 'amount'", 'got missing'],
  },
  { name: 'a CSV line with an extra field', exit: 65, code: 'INPUT_INVALID', args: (o) => run(at('ragged-extra.csv'))(o), mentions: () => [at('ragged-extra.csv'), 'line 102 has 10 fields, the header has 9'] },
  { name: 'a CSV line with missing fields', exit: 65, code: 'INPUT_INVALID', args: (o) => run(at('ragged-short.csv'))(o), mentions: () => [at('ragged-short.csv'), 'line 57 has 3 fields, the header has 9'] },
  { name: 'a CSV quote that is never closed', exit: 65, code: 'INPUT_INVALID', args: (o) => run(at('unterminated.csv'))(o), mentions: () => [at('unterminated.csv'), 'line 61', 'unterminated quote'] },
  { name: 'a CSV value with text after its closing quote', exit: 65, code: 'INPUT_INVALID', args: (o) => run(at('after-quote.csv'))(o), mentions: () => [at('after-quote.csv'), 'line 45', 'after a closing quote'] },
  { name: 'a CSV that is not UTF-8', exit: 65, code: 'INPUT_INVALID', args: (o) => run(at('latin1.csv'))(o), mentions: () => [at('latin1.csv'), 'line 81', 'not utf-8'] },
  { name: 'a ragged CSV line past the type sample', exit: 65, code: 'INPUT_INVALID', args: (o) => run(at('late-ragged.csv'))(o), mentions: () => [at('late-ragged.csv'), 'line 22002 has 10 fields, the header has 9'] },
  { name: 'an unclosed CSV quote past the type sample', exit: 65, code: 'INPUT_INVALID', args: (o) => run(at('late-unterminated.csv'))(o), mentions: () => [at('late-unterminated.csv'), 'line 23003', 'unterminated quote'] },

  // ---- outputs ----
  {
    name: 'an output under a regular file',
    exit: 73,
    code: 'OUTPUT_UNWRITABLE',
    args: async (_o, work) => {
      await writeFile(join(work, 'plain'), 'x\n');
      return run(TRANSACTIONS)(join(work, 'plain', 'out.parquet'));
    },
    mentions: ['plain', 'cannot create output'],
  },
  ...(existsSync('/proc/self')
    ? [{ name: 'an output in a directory nobody can write (/proc)', exit: 73, code: 'OUTPUT_UNWRITABLE', args: () => run(TRANSACTIONS)('/proc/batchinfer-test-out.parquet'), mentions: ['/proc'] }]
    : []),
  {
    name: 'a rejects file under a regular file: nothing committed',
    exit: 73,
    code: 'OUTPUT_UNWRITABLE',
    args: async (o, work) => {
      await writeFile(join(work, 'plain'), 'x\n');
      return [...run(TRANSACTIONS)(o), '--fill-null', 'error', '--on-error', 'quarantine', '--rejects', join(work, 'plain', 'rejects.parquet')];
    },
    mentions: ['rejects', 'plain'],
  },
  {
    name: 'a rejects file that is the input file',
    exit: 78,
    code: 'SPEC_INVALID',
    args: async (o, work) => {
      await copyFile(TRANSACTIONS, join(work, 'input.parquet'));
      return ['run', '--model', model('mlp'), '--input', join(work, 'input.parquet'), '--output', o, '--features', FEATURES, '--on-error', 'quarantine', '--rejects', join(work, 'input.parquet'), '--quiet'];
    },
    mentions: ['rejects: is one of the input files'],
  },
  {
    name: 'a rejects file that is the output',
    exit: 78,
    code: 'SPEC_INVALID',
    args: (o) => [...run(TRANSACTIONS)(o), '--on-error', 'quarantine', '--rejects', o],
    mentions: ['rejects: is the output'],
  },

  // ---- models ----
  { name: 'a model file that is text', exit: 78, code: 'MODEL_INVALID', args: (o) => run(TRANSACTIONS, at('not-onnx.onnx'))(o), mentions: () => [at('not-onnx.onnx'), 'not a valid ONNX model'] },
  { name: 'a truncated ONNX file', exit: 78, code: 'MODEL_INVALID', args: (o) => run(TRANSACTIONS, at('truncated.onnx'))(o), mentions: () => [at('truncated.onnx'), 'not a valid ONNX model'] },
  { name: 'a corrupt ONNX file', exit: 78, code: 'MODEL_INVALID', args: (o) => run(TRANSACTIONS, at('corrupt.onnx'))(o), mentions: () => [at('corrupt.onnx'), 'not a valid ONNX model'] },
  { name: 'a model path that is a directory', exit: 78, code: 'MODEL_INVALID', args: (o) => run(TRANSACTIONS, at('model-dir.onnx'))(o), mentions: ['is a directory'] },
  {
    name: 'a model needing opset 99',
    exit: 78,
    code: 'MODEL_INVALID',
    args: (o) => ['run', '--model', at('opset99.onnx'), '--input', TRANSACTIONS, '--output', o, '--features', 'f0,f1', '--quiet'],
    mentions: ['onnxruntime cannot load the model', 'Opset 99'],
    absent: ['onnxruntime_src', 'std::'],
  },
  {
    name: 'a model with an unknown operator',
    exit: 78,
    code: 'MODEL_INVALID',
    args: (o) => ['run', '--model', at('unknown-op.onnx'), '--input', TRANSACTIONS, '--output', o, '--features', 'f0,f1', '--quiet'],
    mentions: ['onnxruntime cannot load the model', 'FrobnicateTensor'],
  },
  {
    name: 'a model whose output is a sequence',
    exit: 78,
    code: 'MODEL_MISMATCH',
    args: (o) => ['run', '--model', at('sequence-out.onnx'), '--input', TRANSACTIONS, '--output', o, '--features', 'f0,f1', '--quiet'],
    mentions: ["model output 's'", 'got sequence'],
  },
  {
    name: 'a model whose output is a map',
    exit: 78,
    code: 'MODEL_MISMATCH',
    args: (o) => ['run', '--model', at('map-out.onnx'), '--input', TRANSACTIONS, '--output', o, '--features', 'f0,f1', '--quiet'],
    mentions: ["model output 'm'", 'got map'],
  },
  { name: 'fewer features than the model input takes', exit: 78, code: 'MODEL_MISMATCH', args: (o) => ['run', '--model', model('mlp'), '--input', TRANSACTIONS, '--output', o, '--features', 'f0,f1', '--quiet'], mentions: ["model input 'x'", '[N,4]', 'expected 4, got 2'] },
  {
    name: 'float columns for an int64 model input',
    exit: 78,
    code: 'SCHEMA_MISMATCH',
    args: (o) => ['run', '--model', at('int64-in.onnx'), '--input', TRANSACTIONS, '--output', o, '--features', 'f0,f1', '--quiet'],
    mentions: ["column 'f0' cannot feed int64 input 'x'", 'got DOUBLE'],
  },
  {
    name: 'a float16 model input',
    exit: 78,
    code: 'MODEL_MISMATCH',
    args: (o) => ['run', '--model', at('float16-in.onnx'), '--input', TRANSACTIONS, '--output', o, '--features', 'f0,f1', '--quiet'],
    mentions: ["model input 'x'", 'got float16'],
  },
  {
    name: 'a model whose inputs have different fixed batch dimensions',
    exit: 78,
    code: 'MODEL_MISMATCH',
    args: (o) => ['run', '--model', at('fixed-batches.onnx'), '--input', TRANSACTIONS, '--output', o, '--quiet'],
    mentions: ['model inputs: have different fixed batch dimensions', 'x: 8, y: 4'],
  },
  {
    name: 'a rank-3 model input',
    exit: 78,
    code: 'MODEL_MISMATCH',
    args: (o) => ['run', '--model', at('rank3.onnx'), '--input', TRANSACTIONS, '--output', o, '--features', 'f0,f1', '--quiet'],
    mentions: ['[N] or [N,K]', '[N,2,2]'],
  },
  {
    name: '--model-sha256 of another model: refused before any data is read',
    exit: 78,
    code: 'MODEL_MISMATCH',
    args: (o) => ['run', '--model', model('mlp'), '--input', at('does-not-exist.parquet'), '--output', o, '--features', FEATURES, '--model-sha256', '0'.repeat(64), '--quiet'],
    mentions: ['is not the pinned model (model_sha256)', `expected ${'0'.repeat(64)}`],
    absent: ['does-not-exist', 'INPUT_MISSING'],
  },
  {
    name: '--model-sha256 that is not a sha256',
    exit: 78,
    code: 'SPEC_INVALID',
    args: (o) => [...run(TRANSACTIONS)(o), '--model-sha256', 'abc'],
    mentions: ['model_sha256', '64 hex digits'],
  },
];

describe.concurrent('file- and model-level failures', { timeout: 120_000 }, () => {
  it.each(CASES)('$name: exit $exit, $code', async (c) => {
    const work = await tmp.make();
    const output = join(work, 'out.parquet');
    const before = await readdir(work);
    const result = await runCli(await c.args(output, work), { cwd: work, timeoutMs: 90_000 });
    const stderr = expectCliError(result, c.exit, c.code);
    for (const m of typeof c.mentions === 'function' ? c.mentions() : c.mentions) {
      if (typeof m === 'string') expect(stderr).toContain(m);
      else expect(stderr).toMatch(m);
    }
    for (const a of c.absent ?? []) expect(stderr).not.toContain(a);
    // The output location is untouched: nothing new in the work dir but what the case wrote.
    expect(existsSync(output)).toBe(false);
    expect(await stagingLeftovers(output)).toEqual([]);
    const after = (await readdir(work)).filter((n) => !before.includes(n) && n !== 'plain' && n !== 'input.parquet');
    expect(after).toEqual([]);
    if (existsSync(join(work, 'input.parquet'))) expect((await readFile(join(work, 'input.parquet'))).equals(await readFile(TRANSACTIONS))).toBe(true);
  });
});

describe.concurrent('inputs that score to zero rows, or despite differing guesses', { timeout: 120_000 }, () => {
  async function score(input: string, ...extra: string[]) {
    const work = await tmp.make();
    const output = join(work, 'out.parquet');
    const result = await runCli(['run', '--model', model('mlp'), '--input', input, '--output', output, '--features', FEATURES, '--fill-null', '0', '--labels', 'legit,fraud', '--json', '--quiet', ...extra], { cwd: work });
    expectOk(result);
    return { output, summary: JSON.parse(result.stdout), out: await readParquet(output) };
  }

  it('a header-only CSV: zero rows, the full schema, and (quarantine) an empty rejects file', async () => {
    const { output, summary, out } = await score(at('header-only.csv'), '--passthrough', 'txn_id', '--on-error', 'quarantine');
    expect(out.rows).toEqual([]);
    expect(out.columns.map((c) => c.name)).toEqual(['txn_id', 'prediction', 'confidence', 'prob_legit', 'prob_fraud']);
    expect(summary.rows).toEqual({ in: 0, out: 0, rejected: 0, rejectedByReason: {} });
    const rejects = await readParquet(`${output}.rejects.parquet`);
    expect(rejects.rows).toEqual([]);
    expect(rejects.columns.map((c) => c.name).slice(-5)).toEqual(['reject_row', 'reject_file', 'reject_column', 'reject_reason', 'reject_message']);
  });

  it('a zero-row Parquet file: zero rows with the passthrough types kept', async () => {
    const { summary, out } = await score(at('zero-rows.parquet'), '--passthrough', 'txn_id,ts,n_items');
    expect(out.rows).toEqual([]);
    expect(out.columns).toEqual([
      { name: 'txn_id', type: 'VARCHAR' },
      { name: 'ts', type: 'TIMESTAMP' },
      { name: 'n_items', type: 'INTEGER' },
      { name: 'prediction', type: 'VARCHAR' },
      { name: 'confidence', type: 'FLOAT' },
      { name: 'prob_legit', type: 'FLOAT' },
      { name: 'prob_fraud', type: 'FLOAT' },
    ]);
    expect(summary.rows).toEqual({ in: 0, out: 0, rejected: 0, rejectedByReason: {} });
  });

  it('CSV files whose column types DuckDB guesses differently (integers, decimals, all NULL) score together', async () => {
    const { summary, out } = await score(join(at('csv-guesses'), '*.csv'), '--passthrough', 'id');
    expect(summary.rows.out).toBe(6);
    expect(out.rows.map((r) => Number(r['id']))).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('a CSV gzipped, tab-separated, both, or zstd-compressed scores exactly as the CSV itself', async () => {
    const plain = await score(data('transactions.csv'), '--passthrough', 'txn_id,ts,n_items');
    expect(plain.out.rows).toHaveLength(3000);
    for (const name of ['transactions.csv.gz', 'transactions.tsv', 'transactions.tsv.gz', 'transactions.csv.zst']) {
      const { summary, out } = await score(at(name), '--passthrough', 'txn_id,ts,n_items');
      expect(summary.input, name).toMatchObject({ path: at(name), format: 'csv' });
      expect(out.columns, name).toEqual(plain.out.columns);
      expect(out.rows, name).toEqual(plain.out.rows);
    }
    // A directory takes them as data files too (one format: all CSV).
    const mixed = await tmp.make();
    await copyFile(at('transactions.tsv.gz'), join(mixed, 'a.tsv.gz'));
    await copyFile(data('transactions.csv'), join(mixed, 'b.csv'));
    const both = await score(mixed, '--passthrough', 'txn_id');
    expect(both.summary.rows.out).toBe(6000);
  });

  it('csv_delimiter reads semicolons and pipes (flag or job key, a name or the character) exactly as the CSV', async () => {
    const plain = await score(data('transactions.csv'), '--passthrough', 'txn_id,ts,n_items');
    for (const [name, delimiter] of [['semicolon.csv', ';'], ['semicolon.csv', 'semicolon'], ['pipe.csv.gz', 'pipe']]) {
      const { out } = await score(at(name!), '--passthrough', 'txn_id,ts,n_items', '--csv-delimiter', delimiter!);
      expect(out.rows, `${name} ${delimiter}`).toEqual(plain.out.rows);
    }
    const work = await tmp.make();
    const job = join(work, 'job.yaml');
    const output = join(work, 'out.parquet');
    await writeFile(job, `model: ${model('mlp')}\ninput: ${at('semicolon.csv')}\noutput: ${output}\nfeatures: [amount, f0, f1, risk score]\nfill_null: 0\nlabels: [legit, fraud]\npassthrough: [txn_id, ts, n_items]\ncsv_delimiter: ";"\n`);
    expectOk(await runCli(['run', job, '--quiet'], { cwd: work }));
    expect((await readParquet(output)).rows).toEqual(plain.out.rows);
    // inspect reads the columns with it too.
    const inspected = await runCli(['inspect', at('semicolon.csv'), '--csv-delimiter', ';', '--json']);
    expectOk(inspected);
    expect(JSON.parse(inspected.stdout).columns.map((c: { name: string }) => c.name)).toEqual(csvLines[0]!.split(','));
    expectCliError(await runCli(['inspect', at('semicolon.csv'), '--csv-delimiter', 'colon']), 2, 'USAGE');
  });

  it('--model-sha256 of the model itself runs', async () => {
    const { createHash } = await import('node:crypto');
    const sha = createHash('sha256').update(await readFile(model('mlp'))).digest('hex');
    const { summary } = await score(TRANSACTIONS, '--model-sha256', sha.toUpperCase());
    expect(summary.model.sha256).toBe(sha);
    expect(summary.rows.out).toBe(3000);
  });

  it('a model built in the test scores (the builder makes loadable models)', async () => {
    const work = await tmp.make();
    const output = join(work, 'out.parquet');
    const result = await runCli(['run', '--model', at('ok4.onnx'), '--input', TRANSACTIONS, '--output', output, '--features', FEATURES, '--fill-null', '0', '--quiet'], { cwd: work });
    expect(result.code, describeResult(result)).toBe(0);
    expect((await readParquet(output)).rows).toHaveLength(3000);
  });
});

describe.concurrent('a Parquet file whose data pages are corrupt (footer intact)', { timeout: 60_000 }, () => {
  // DuckDB's "Failed to read file ...: ZSTD Decompression failure" from a corrupt page comes
  // mid-stream (readBatches) or from the passthrough COPY (partWriter): both name the file.
  const cases = [
    ['a feature column (readBatches.ts)', 'f0'],
    ['a passthrough column (partWriter.ts)', 'txn_id'],
  ] as const;

  it.each(cases)('%s: exit 65 INPUT_INVALID naming the file, nothing written', async (_name, col) => {
    const work = await tmp.make();
    const output = join(work, 'out.parquet');
    const result = await runCli(run(at(`corrupt-page-${col}.parquet`), model('mlp'), '--passthrough', 'txn_id')(output), { cwd: work });
    const stderr = expectCliError(result, 65, 'INPUT_INVALID');
    expect(stderr).toContain(at(`corrupt-page-${col}.parquet`));
    expect(await readdir(work)).toEqual([]);
  });

});
