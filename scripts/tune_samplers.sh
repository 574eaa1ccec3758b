#!/usr/bin/env bash
# TPE against random search on a study: the best dev value of each sampler after the same
# number of trials, for seeds 0..4, and their means.
# Usage: scripts/tune_samplers.sh [STUDY] [TRIALS]   (default: examples/studies/moons.toml 30)
set -euo pipefail
cd "$(dirname "$0")/.."
study=${1:-examples/studies/moons.toml}
trials=${2:-30}
cargo build --release -q -p dlkit-cli
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
printf '| seed | random | tpe |\n|---|---|---|\n'
declare -A sum=([random]=0 [tpe]=0)
for seed in 0 1 2 3 4; do
    row="| $seed |"
    for sampler in random tpe; do
        best=$(target/release/dlkit tune "$study" --sampler "$sampler" --seed "$seed" \
            --trials "$trials" --out "$out/$sampler-$seed" -q |
            sed -n 's/^best: trial [0-9]* dev [a-z_]* \([0-9.]*\).*/\1/p')
        row="$row $best |"
        sum[$sampler]=$(awk -v a="${sum[$sampler]}" -v b="$best" 'BEGIN { print a + b }')
    done
    echo "$row"
done
awk -v r="${sum[random]}" -v t="${sum[tpe]}" 'BEGIN { printf "| mean | %.4f | %.4f |\n", r / 5, t / 5 }'
