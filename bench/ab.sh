#!/bin/bash
# A/B of builds: the bench's e2e run (1M rows, 30 features, batch_size auto) with each build's
# dist/, alternating, printing each variant's runs (wall and user+sys CPU, seconds) and medians.
#   bash bench/ab.sh MODEL REPS VARIANT...
#   MODEL: mlp30 | logreg30
#   VARIANT: [ENV=VALUE[,ENV=VALUE]@]CHECKOUT[:FLAGS]: a built worktree (or a copy of dist/ with
#     package.json and node_modules beside it), environment variables for that variant only, and
#     flags of its own, e.g. ". .:--profile" or "SWITCH=1@/tmp/patched:--batch-size 16384"
#   DATA=bench/.cache/bench-1000000.parquet (default), EXTRA="--workers 1 --threads 1" (more flags)
# Besides the medians: each later variant's wall over the first's in the same round, its median
# and quartiles over the rounds (paired, so a slow spell of the host weighs on both).
set -eu
model=$1; reps=$2; shift 2
root=$(cd "$(dirname "$0")/.." && pwd)
data=${DATA:-$root/bench/.cache/bench-1000000.parquet}
features=$(seq -s, 0 29 | sed 's/[0-9]\+/f&/g')
times=$(mktemp); out=$(mktemp -d)
for _ in $(seq "$reps"); do
  for variant in "$@"; do
    d=${variant%%:*}; flags=""; [ "$d" != "$variant" ] && flags=${variant#*:}
    envs=(); case "$d" in *@*) IFS=, read -r -a envs <<< "${d%%@*}"; d=${d#*@};; esac
    label=$(echo "$variant" | tr ' ' '_')
    # The wall to the microsecond (bash's clock; time's %e has 10 ms steps), CPU from time.
    start=$EPOCHREALTIME
    env "${envs[@]}" /usr/bin/time -o "$out/cpu" -f "%U %S" node "$d/dist/batchinfer.js" run --model "$root/fixtures/models/$model.onnx" \
      --input "$data" --output "$out/o.parquet" --features "$features" --passthrough id --labels legit,fraud --json --quiet $flags ${EXTRA:-} >/dev/null
    end=$EPOCHREALTIME
    echo "$label $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }') $(cat "$out/cpu")" >> "$times"
    rm -rf "$out"/o.parquet*
  done
done
awk -v nv=$# -v base="$(echo "$1" | tr ' ' '_')" '
  function sorted(list, v,   n, i, j, t) {
    n = split(substr(list, 2), v, " ")
    for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
    return n
  }
  function median(list,   n, v) {
    n = sorted(list, v)
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
  }
  # The q-quantile, interpolated between order statistics.
  function quantile(list, q,   n, v, h, lo) {
    n = sorted(list, v); h = 1 + (n - 1) * q; lo = int(h)
    return lo >= n ? v[n] : v[lo] + (h - lo) * (v[lo + 1] - v[lo])
  }
  # A round runs every variant in order: the wall of each later run over that of the first
  # (paired: a drift of the host between rounds cancels).
  { w[$1] = w[$1] " " $2; c[$1] = c[$1] " " ($3 + $4); i = (NR - 1) % nv; if (i == 0) first = $2; else r[$1] = r[$1] " " $2 / first }
  END {
    for (k in w) {
      printf "%s\n  wall:%s\n  cpu: %s\n  median wall %.3f s, cpu %.3f s\n", k, w[k], c[k], median(w[k]), median(c[k])
      if (k in r) printf "  paired wall / %s: median %.3f, quartiles %.3f-%.3f\n", base, median(r[k]), quantile(r[k], 0.25), quantile(r[k], 0.75)
    }
  }
' "$times"
rm -rf "$times" "$out"
