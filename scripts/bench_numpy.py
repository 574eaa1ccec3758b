#!/usr/bin/env python3
"""NumPy peer of W6 `sgemm` (BENCHMARKS.md): C = A @ B in float32, row-major.

Same shapes and method as `cargo bench -p dlkit-benches -- W6`: for each thread count
(threadpoolctl's `threadpool_limits`) and each m x k x n case, one untimed warm-up call, one
untimed call to size the repetitions, then at least 5 repetitions of enough calls to last
`--min-time-ms`; the median time per call is reported.

Run it with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset, or OpenBLAS falls back to its AVX2
(Haswell) kernels on this machine:

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 scripts/bench_numpy.py

`--json` prints one JSON object per line (an "info" line, then one per case), the format
that `scripts/bench_compare.py` joins with dlkit's.
"""

import argparse
import json
import math
import sys
import time

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

# m x k x n, as in benches/src/sgemm.rs.
CASES = [
    (256, 256, 256),
    (1024, 1024, 1024),
    (2048, 2048, 2048),
    (1, 12288, 209),
    (20, 12288, 209),
    (20, 209, 12288),
]
SEED = 6
# OpenBLAS core names whose sgemm kernels use AVX-512.
AVX512_CORES = {"SkylakeX", "Cooperlake", "SapphireRapids", "Zen4", "Zen5"}


def timing(f, reps, min_time):
    """Median, min and max seconds per call of `f` (warm-up and sizing calls excluded)."""
    f()
    t0 = time.perf_counter()
    f()
    once = max(time.perf_counter() - t0, 1e-9)
    calls = max(1, math.ceil(min_time / once))
    samples = []
    for _ in range(max(reps, 5)):
        t0 = time.perf_counter()
        for _ in range(calls):
            f()
        samples.append((time.perf_counter() - t0) / calls)
    samples.sort()
    n = len(samples)
    median = samples[n // 2] if n % 2 else 0.5 * (samples[n // 2 - 1] + samples[n // 2])
    return median, samples[0], samples[-1], n, calls


def blas_info():
    """threadpoolctl's description of the BLAS that NumPy calls."""
    blas = [p for p in threadpool_info() if p.get("user_api") == "blas"]
    if not blas:
        sys.exit("bench_numpy: threadpoolctl finds no BLAS behind NumPy")
    return blas[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--min-time-ms", type=float, default=200.0)
    ap.add_argument("--json", action="store_true", help="JSON lines instead of a table")
    ap.add_argument(
        "--allow-avx2", action="store_true", help="run even if OpenBLAS picked non-AVX-512 kernels"
    )
    args = ap.parse_args()

    info = blas_info()
    arch = info.get("architecture", "?")
    line = {
        "source": "numpy",
        "kind": "info",
        "numpy": np.__version__,
        "blas": info.get("internal_api"),
        "blas_version": info.get("version"),
        "architecture": arch,
        "max_threads": info.get("num_threads"),
    }
    print(json.dumps(line) if args.json else f"NumPy {np.__version__}, {line['blas']} "
          f"{line['blas_version']}, architecture {arch}")
    if arch not in AVX512_CORES and not args.allow_avx2:
        sys.exit(
            f"bench_numpy: OpenBLAS runs {arch} kernels, not AVX-512 ones; unset "
            "OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE (or pass --allow-avx2)"
        )

    rng = np.random.default_rng(SEED)
    if not args.json:
        print(f"{'case':<20} {'threads':>7} {'median us':>12} {'spread':>7} {'GFLOP/s':>9}")
    for t in (int(x) for x in args.threads.split(",")):
        with threadpool_limits(limits=t, user_api="blas"):
            actual = blas_info()["num_threads"]
            for m, k, n in CASES:
                a = rng.uniform(-1.0, 1.0, (m, k)).astype(np.float32)
                b = rng.uniform(-1.0, 1.0, (k, n)).astype(np.float32)
                c = np.empty((m, n), dtype=np.float32)
                med, lo, hi, reps, calls = timing(
                    lambda: np.matmul(a, b, out=c), args.reps, args.min_time_ms / 1e3
                )
                gflops = 2.0 * m * k * n / med / 1e9
                case = f"{m}x{k}x{n}"
                if args.json:
                    print(json.dumps({
                        "source": "numpy", "workload": "W6", "case": case, "threads": actual,
                        "median_s": med, "min_s": lo, "max_s": hi, "reps": reps,
                        "calls_per_rep": calls, "gflops": gflops, "us": med * 1e6,
                    }), flush=True)
                else:
                    spread = 100.0 * (hi - lo) / med
                    print(f"{case:<20} {actual:>7} {med * 1e6:>12.1f} {spread:>6.1f}% "
                          f"{gflops:>9.1f}", flush=True)


if __name__ == "__main__":
    main()
