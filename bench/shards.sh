#!/bin/bash
# One process against 4 shards run one after another and their commit, on the bench's 10M-row
# file (mlp30, 30 features, `id` passed through, batch_size auto): wall seconds of each command
# (process start included), then a check that both outputs hold the same rows.
#   bash bench/shards.sh            DATA=bench/.cache/bench-10000000.parquet (default; npm run bench makes it)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
data=${DATA:-$root/bench/.cache/bench-10000000.parquet}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
columns=$(seq -s, 0 29 | sed 's/[0-9]\+/f&/g; s/,/, /g')
for kind in one sharded; do
  printf 'name: shardbench\nmodel: %s\ninput: %s\noutput: %s\npassthrough: [id]\nlabels: [legit, fraud]\ninputs:\n  x:\n    columns: [%s]\n' \
    "$root/fixtures/models/mlp30.onnx" "$data" "$work/$kind/scores.parquet" "$columns" > "$work/$kind.yaml"
done
cli() { local start; start=$(date +%s.%N); node "$root/dist/batchinfer.js" "$@" --quiet >/dev/null; echo "$(date +%s.%N) - $start" | bc; }
one=$(cli run "$work/one.yaml")
shards=""; for i in 0 1 2 3; do shards="$shards $(cli run "$work/sharded.yaml" --shard "$i/4")"; done
commit=$(cli commit "$work/sharded.yaml" --shards 4)
echo "one process $one s; shards$shards s; commit $commit s"
cd "$root" && node -e "
const { DuckDBInstance } = require('@duckdb/node-api');
(async () => {
  const c = await (await DuckDBInstance.create(':memory:')).connect();
  const r = await c.runAndReadAll('SELECT count(*)::INT AS n, count(*) FILTER (WHERE a.id <> b.id OR a.prob_fraud <> b.prob_fraud OR a.prediction <> b.prediction)::INT AS differ FROM read_parquet(\$1) a POSITIONAL JOIN read_parquet(\$2) b', ['$work/one/scores.parquet', '$work/sharded/scores.parquet']);
  console.log('rows compared:', JSON.stringify(r.getRowObjectsJS()[0]));
})();"
