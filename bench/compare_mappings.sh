#!/bin/sh
# Asymmetric vs symmetric vs table-wise on this machine with all cores: criteo-kaggle and
# dlrm-v2 (row-capped), batch 2048 and 65536, uniform, zipf:1.05 and two extremely unbalanced
# distributions, and the plan tuning chooses (`tuned`: the fastest of the planner's candidates,
# measured before the comparison, then measured again in it), beside every table on one core
# (`one-core`: divided by the cores, what a split that loses nothing would take).
# Usage: bench/compare_mappings.sh PROFILE OUT.md  (PROFILE from embflow calibrate)
set -eu
profile=$1
out=$2
bin=${EMBFLOW_BIN:-build/embflow}
{
  echo "# embflow compare: asymmetric vs the baselines"
  echo
  echo "$(date -u +%Y-%m-%d) on $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs; profile $profile"
  echo
  for model in "criteo-kaggle" "dlrm-v2 --max-rows 2000000"; do
    for batch in 2048 65536; do
      iters=20
      [ "$batch" = 65536 ] && iters=8
      for dist in uniform zipf:1.05 hot-rows:4 heavy-table:100; do
        echo "## --model $model --batch $batch --dist $dist"
        echo
        echo '```'
        # shellcheck disable=SC2086
        "$bin" compare --model $model --batch "$batch" --dist "$dist" --iters "$iters" --tune "$iters" --one-core --profile "$profile" 2>&1 |
          sed -n '/^makespan per batch/,$p'
        echo '```'
        echo
      done
    done
  done
} > "$out"
