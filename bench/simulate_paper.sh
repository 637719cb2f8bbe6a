#!/bin/sh
# The paper's setting, predicted: asymmetric vs symmetric vs table-wise on a described machine
# (default: the Ascend-910-like SoC), for the Criteo models and real-like and extremely unbalanced
# query distributions. Nothing runs; see docs/PLANNER.md. Usage: bench/simulate_paper.sh [PROFILE] > OUT.md
set -eu
profile=${1:-ascend-910-like}
bin=${EMBFLOW_BIN:-build/embflow}
echo "# embflow simulate --profile $profile (predicted, --min-gain 0)"
echo
for model in criteo-kaggle criteo-terabyte dlrm-v2; do
  for batch in 2048 65536; do
    echo "## $model, batch $batch"
    echo
    echo '```'
    "$bin" simulate --profile "$profile" --model "$model" --batch "$batch" --min-gain 0 \
      --dists uniform,zipf:0.8,zipf:1.05,zipf:1.3,hotset:0.001:0.9,hot-rows:1,hot-rows:4,heavy-table:100 |
      sed -n '/^predicted makespan/,$p'
    echo '```'
    echo
  done
done
