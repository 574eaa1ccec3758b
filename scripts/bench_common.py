"""What the peer scripts of the BENCHMARKS.md workloads share (`bench_numpy.py`,
`bench_torch.py`): the workloads' sizes, the timing method and the output lines.

Method: one untimed warm-up call, then at least 5 repetitions; a short call is repeated within
a repetition to last `min_time` seconds (after one more untimed call to size it), a long one
(a fraction of a schedule) is one call per repetition, its time multiplied by `scale`. The
median is reported, with the minimum and maximum.
"""

import argparse
import json
import math
import time

SEED = 6

# W6: m x k x n, as in benches/src/sgemm.rs.
SGEMM_CASES = [
    (256, 256, 256),
    (1024, 1024, 1024),
    (2048, 2048, 2048),
    (1, 12288, 209),
    (20, 12288, 209),
    (20, 209, 12288),
]
CAT_EXAMPLES, CAT_FEATURES = 209, 12288
W1_ITERS, W1_TIMED, W1_LR = 2000, 200, 0.005
W2_LAYERS, W2_ITERS, W2_TIMED, W2_LR = [12288, 20, 7, 5, 1], 2500, 250, 0.0075
W3_LAYERS, W3_BATCH, W3_EXAMPLES, W3_TIMED_STEPS, W3_LR = [784, 512, 256, 10], 128, 60000, 100, 1e-3
W7 = (32, 32, 32, 64, 64)  # n, h, w, c_in, c_out
W8_BATCHES = [1, 256]
NAMES = {"logreg-cat": "W1", "deep-cat": "W2", "mnist-mlp": "W3", "signs-cnn": "W4",
         "resnet-cifar": "W5", "sgemm": "W6", "conv3x3": "W7", "mlp-infer": "W8"}


def stats(samples, calls, scale=1.0):
    samples = sorted(s * scale for s in samples)
    n = len(samples)
    median = samples[n // 2] if n % 2 else 0.5 * (samples[n // 2 - 1] + samples[n // 2])
    return {"median_s": median, "min_s": samples[0], "max_s": samples[-1], "reps": n,
            "calls_per_rep": calls}


def timing(f, reps, min_time):
    """Seconds per call of a short `f`: warm-up and sizing calls, then repetitions of enough
    calls to last `min_time`."""
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
    return stats(samples, calls)


def timing_long(f, reps, scale):
    """A long `f` (a fraction of a schedule): one warm-up call, then one call per repetition;
    times multiplied by `scale`."""
    f()
    samples = []
    for _ in range(max(reps, 5)):
        t0 = time.perf_counter()
        f()
        samples.append(time.perf_counter() - t0)
    return stats(samples, 1, scale)


def argument_parser(description, full_help):
    """The options every peer script takes: workloads, `--threads`, `--reps`,
    `--min-time-ms`, `--full` and `--json`."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("workloads", nargs="*", help="ids or names (default: all)")
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--min-time-ms", type=float, default=200.0)
    ap.add_argument("--full", action="store_true", help=full_help)
    ap.add_argument("--json", action="store_true", help="JSON lines instead of a table")
    return ap


def print_header(as_json):
    """The column heads of the text output (none for JSON lines)."""
    if not as_json:
        print(f"{'id':<4} {'case':<28} {'threads':>7} {'median':>12} {'spread':>7}  figures")


def print_case(as_json, source, variant, threads, case_row):
    """One measured case, `case_row = (workload, case, timing, scale, note, figures)`, as a
    JSON line for `scripts/bench_compare.py` or as a text row."""
    workload, case, tm, scale, note, figures = case_row
    if as_json:
        row = {"source": source, "workload": workload, "case": case, "variant": variant,
               "threads": threads, **tm, "scale": scale}
        if note:
            row["note"] = note
        row.update(figures)
        print(json.dumps(row), flush=True)
    else:
        spread = 100.0 * (tm["max_s"] - tm["min_s"]) / tm["median_s"]
        figs = ", ".join(f"{k} {v:.4g}" for k, v in figures.items())
        extra = f"  ({note})" if note else ""
        print(f"{workload:<4} {case:<28} {threads:>7} {tm['median_s'] * 1e3:>9.3f} ms "
              f"{spread:>6.1f}%  {figs}{extra}", flush=True)
