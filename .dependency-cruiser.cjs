/**
 * The layout's rules, checked by `npm test` (test/architecture.test.ts): layers import
 * downward only, and no file imports another in a cycle (type-only imports count: a type
 * cycle is a design cycle too).
 *
 *   cli/ -> core/ -> shard/ -> sink/, source/, preprocess/, infer/, postprocess/, model/, schedule/, spec/ -> db/, util/
 *   cli/ -> core/ -> drift/ -> profile/ -> source/ -> db/, util/
 */
const LOWER = '^src/(shard|sink|source|preprocess|postprocess|infer|model|schedule|db|util|spec|profile|drift)/';
const BELOW_SHARD = '^src/(sink|source|preprocess|postprocess|infer|model|schedule|db|util|spec|profile|drift)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'files that import each other, directly or through others', from: {}, to: { circular: true } },
    { name: 'lower-layers-stay-below-core', severity: 'error', comment: 'nothing below core/ imports core/ or cli/', from: { path: LOWER }, to: { path: '^src/(core|cli)/' } },
    { name: 'profile-below-drift', severity: 'error', comment: 'profiles know nothing of the comparisons made with them', from: { path: '^src/profile/' }, to: { path: '^src/drift/' } },
    { name: 'shard-stays-above-sink-and-source', severity: 'error', comment: 'shard/ (plans, their checks) joins sink/ and source/; they never import it', from: { path: BELOW_SHARD }, to: { path: '^src/shard/' } },
    { name: 'core-never-imports-cli', severity: 'error', comment: 'only cli/ touches argv, stdout, stderr and exit codes', from: { path: '^src/core/' }, to: { path: '^src/cli/' } },
    { name: 'one-onnxruntime-importer', severity: 'error', comment: 'src/infer/ort.ts is the only module importing onnxruntime-node', from: { path: '^src/', pathNot: '^src/infer/ort\\.ts$' }, to: { path: 'node_modules/onnxruntime-node/' } },
    { name: 'one-duckdb-importer', severity: 'error', comment: 'src/db/duckdb.ts is the only module importing @duckdb/node-api', from: { path: '^src/', pathNot: '^src/db/duckdb\\.ts$' }, to: { path: 'node_modules/@duckdb/' } },
    { name: 'no-dev-dependencies-in-src', severity: 'error', from: { path: '^src/' }, to: { dependencyTypes: ['npm-dev'] } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    includeOnly: ['^src/', 'node_modules'],
  },
};
