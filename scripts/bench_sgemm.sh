#!/usr/bin/env bash
# W6 sgemm only: kept for the commands in BENCHMARKS.md; `scripts/bench.sh` runs every workload.
#
#   bash scripts/bench_sgemm.sh [--reps 7]     # = bash scripts/bench.sh W6 [--reps 7]
#   ROUNDS=3 bash scripts/bench_sgemm.sh
exec bash "$(dirname "$0")/bench.sh" W6 "$@"
