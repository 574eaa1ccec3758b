#!/usr/bin/env bash
# The BENCHMARKS.md workloads: dlkit (`cargo bench -p dlkit-benches`) against NumPy
# (`scripts/bench_numpy.py`, OpenBLAS) and PyTorch (`scripts/bench_torch.py`, CPU build), in
# the same run, with 1 thread and 2, and the ratio peer time / dlkit time per case (above 1:
# dlkit faster), one table per peer.
#
#   bash scripts/bench.sh                      # W1 to W8 (NumPy has no W4, W5)
#   bash scripts/bench.sh W7 W8                # some workloads (ids or names: conv3x3, ...)
#   bash scripts/bench.sh W6 --reps 7          # options go to every side
#   ROUNDS=3 bash scripts/bench.sh W1 W2 W3    # alternate the sides 3 times
#   bash scripts/bench.sh W1 --full            # whole schedules instead of a fraction x10
#   TORCH_PYTHON=venv/bin/python bash scripts/bench.sh W4 W5   # PyTorch from a virtualenv
#
# Options (every side): --threads 1,2  --reps N  --min-time-ms N  --full.
#
# PyTorch is never a dependency: the PyTorch side runs when $TORCH_PYTHON (default python3)
# imports torch, and is skipped with a note otherwise (install the CPU build by hand:
# `python3 -m venv DIR && DIR/bin/pip install torch`). NO_NUMPY=1 or NO_TORCH=1 skips a side.
#
# On a shared machine a burst of someone else's work can halve a 2-thread figure. With
# ROUNDS > 1 the sides alternate, each keeps its best median over the rounds, and the
# table adds the range over the rounds. With IDLE=90 each side first waits (up to
# IDLE_TIMEOUT seconds, default 600) until the CPUs were at least 90% idle over 2 seconds.
#
# OpenBLAS falls back to its AVX2 kernels when OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are set,
# so the NumPy side runs with both unset (and refuses to run if OpenBLAS still picks non-AVX-512
# kernels). Raw JSON lines are kept in $OUT_DIR when it is set.
set -euo pipefail
cd "$(dirname "$0")/.."
workloads=()
options=()
while (($#)); do
    case "$1" in
    --threads | --reps | --min-time-ms)
        options+=("$1" "$2")
        shift 2
        ;;
    -*)
        options+=("$1")
        shift
        ;;
    *)
        workloads+=("$1")
        shift
        ;;
    esac
done
if ((${#workloads[@]} == 0)); then
    workloads=(W1 W2 W3 W4 W5 W6 W7 W8)
fi
tmp=${OUT_DIR:-$(mktemp -d)}
mkdir -p "$tmp"
[[ -n "${OUT_DIR:-}" ]] || trap 'rm -rf "$tmp"' EXIT

echo "date:      $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "cpu:       $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores," \
    "avx512f: $(grep -qw avx512f /proc/cpuinfo && echo yes || echo no)"
if cargo tree -q -p dlkit-benches -e features -i gemm-f32 | grep -q 'gemm-f32 feature "x86-v4"'; then
    echo "gemm:      x86-v4 (AVX-512) kernels compiled in"
else
    echo "gemm:      WARNING: the x86-v4 feature is off; AVX2 kernels only" >&2
fi
# On a CPU without AVX-512 both sides run AVX2 kernels: NumPy's may then be compared too.
numpy_options=()
grep -qw avx512f /proc/cpuinfo || numpy_options=(--allow-avx2)
torch_python=${TORCH_PYTHON:-python3}
run_numpy=$([[ -z "${NO_NUMPY:-}" ]] && echo yes || echo no)
run_torch=no
if [[ -z "${NO_TORCH:-}" ]]; then
    if "$torch_python" -c 'import torch' 2>/dev/null; then
        run_torch=yes
    else
        echo "torch:     $torch_python cannot import torch; the PyTorch side is skipped" >&2
    fi
fi
echo "peers:     numpy $run_numpy, torch $run_torch"
echo "workloads: ${workloads[*]}  options: ${options[*]:-(defaults)}"
echo "load:      $(cut -d' ' -f1-3 /proc/loadavg)"

# Percentage of CPU time idle over the next 2 seconds (from /proc/stat).
idle_percent() {
    local a b
    read -r -a a < <(head -1 /proc/stat)
    sleep 2
    read -r -a b < <(head -1 /proc/stat)
    local total=0 idle=$((b[4] + b[5] - a[4] - a[5])) k
    for k in 1 2 3 4 5 6 7 8; do
        total=$((total + b[k] - a[k]))
    done
    echo $((100 * idle / (total > 0 ? total : 1)))
}

# With IDLE set, waits until the machine is that idle (or IDLE_TIMEOUT passes).
wait_idle() {
    [[ -n "${IDLE:-}" ]] || return 0
    local deadline=$((SECONDS + ${IDLE_TIMEOUT:-600})) pct
    while :; do
        pct=$(idle_percent)
        if ((pct >= IDLE)); then
            echo "idle:      ${pct}% before $1"
            return 0
        fi
        if ((SECONDS > deadline)); then
            echo "idle:      WARNING: only ${pct}% idle before $1 (waited ${IDLE_TIMEOUT:-600} s)"
            return 0
        fi
    done
}

cargo bench -q -p dlkit-benches --bench workloads --no-run
for round in $(seq "${ROUNDS:-1}"); do
    wait_idle "dlkit, round $round"
    cargo bench -q -p dlkit-benches --bench workloads -- "${workloads[@]}" --json \
        ${options[@]+"${options[@]}"} >>"$tmp/dlkit.jsonl"
    if [[ $run_numpy == yes ]]; then
        wait_idle "numpy, round $round"
        env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 scripts/bench_numpy.py --json \
            "${workloads[@]}" ${options[@]+"${options[@]}"} \
            ${numpy_options[@]+"${numpy_options[@]}"} >>"$tmp/numpy.jsonl"
    fi
    if [[ $run_torch == yes ]]; then
        wait_idle "torch, round $round"
        "$torch_python" scripts/bench_torch.py --json "${workloads[@]}" \
            ${options[@]+"${options[@]}"} >>"$tmp/torch.jsonl"
    fi
    echo "round $round done, load $(cut -d' ' -f1-3 /proc/loadavg)"
done

for peer in numpy torch; do
    if [[ -s "$tmp/$peer.jsonl" ]]; then
        echo
        python3 scripts/bench_compare.py "$tmp/dlkit.jsonl" "$tmp/$peer.jsonl"
    fi
done
