#!/usr/bin/env bash
# W6 sgemm (BENCHMARKS.md): dlkit's gemm kernel against NumPy's OpenBLAS, in the same run,
# with 1 thread and 2, and the ratio dlkit / NumPy per shape.
#
#   bash scripts/bench_sgemm.sh                 # defaults: 5 reps of >= 200 ms each
#   bash scripts/bench_sgemm.sh --reps 7        # options go to both benchmarks
#   ROUNDS=3 bash scripts/bench_sgemm.sh        # alternate dlkit and NumPy 3 times
#
# On a shared machine a burst of someone else's work can halve a 2-thread figure. With
# ROUNDS > 1 the two sides alternate, and each keeps its fastest median over the rounds.
#
# OpenBLAS falls back to its AVX2 kernels when OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are set,
# so the NumPy side runs with both unset.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "cpu:     $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores," \
    "avx512f: $(grep -qw avx512f /proc/cpuinfo && echo yes || echo no)"
if cargo tree -q -p dlkit-benches -e features -i gemm-f32 | grep -q 'gemm-f32 feature "x86-v4"'; then
    echo "gemm:    x86-v4 (AVX-512) kernels compiled in"
else
    echo "gemm:    WARNING: the x86-v4 feature is off; AVX2 kernels only" >&2
fi
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg)"

cargo bench -q -p dlkit-benches --bench workloads --no-run
for round in $(seq "${ROUNDS:-1}"); do
    cargo bench -q -p dlkit-benches --bench workloads -- W6 --json "$@" >>"$tmp/dlkit.jsonl"
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
        python3 scripts/bench_numpy.py --json "$@" >>"$tmp/numpy.jsonl"
    echo "round $round done, load $(cut -d' ' -f1-3 /proc/loadavg)"
done

echo
python3 scripts/bench_compare.py "$tmp/dlkit.jsonl" "$tmp/numpy.jsonl"
