#!/bin/bash
# A/B of builds: the bench's e2e run (1M rows, 30 features, batch_size auto) with each build's
# dist/, alternating, printing each run's wall and user+sys CPU, then each build's runs.
#   bash bench/ab.sh MODEL REPS CHECKOUT[:FLAGS]... (MODEL: mlp30 | logreg30; CHECKOUT: a built
#   worktree; FLAGS: that variant's own flags, e.g. ".:--profile" against ".")
#   DATA=bench/.cache/bench-1000000.parquet (default), EXTRA="--workers 1 --threads 1" (more flags)
set -eu
model=$1; reps=$2; shift 2
root=$(cd "$(dirname "$0")/.." && pwd)
data=${DATA:-$root/bench/.cache/bench-1000000.parquet}
features=$(seq -s, 0 29 | sed 's/[0-9]\+/f&/g')
times=$(mktemp); out=$(mktemp -d)
for _ in $(seq "$reps"); do
  for variant in "$@"; do
    d=${variant%%:*}; flags=""; [ "$d" != "$variant" ] && flags=${variant#*:}
    label=$(echo "$variant" | tr ' ' '_')
    /usr/bin/time -a -o "$times" -f "$label %e %U %S" node "$d/dist/batchinfer.js" run --model "$root/fixtures/models/$model.onnx" \
      --input "$data" --output "$out/o.parquet" --features "$features" --passthrough id --labels legit,fraud --json --quiet $flags ${EXTRA:-} >/dev/null
    rm -rf "$out"/o.parquet*
  done
done
awk '{ w[$1] = w[$1] " " $2; c[$1] = c[$1] " " ($3 + $4) } END { for (k in w) print k, "wall:" w[k], " cpu:" c[k] }' "$times"
rm -rf "$times" "$out"
