#!/usr/bin/env python3
"""Reference initial weights for dlkit-nn's NumPy init stream (`InitRng::Numpy`), computed
by NumPy itself with the course's own initialisation code.

Run by hand from the repository root; the output is committed:

    python3 -m venv .venv && .venv/bin/pip install numpy
    .venv/bin/python scripts/make_init_fixtures.py
    # writes crates/dlkit-nn/tests/fixtures/numpy_init.json

Written with NumPy 2.4.6 (Python 3.11). The legacy global `RandomState` stream
(`np.random.seed`, `np.random.randn`, `np.random.uniform`) has been frozen since NumPy 1.17
(NEP 19), so the values are the course's.

Each model is initialised as the course's notebooks do it, with the global generator:

    np.random.seed(seed)
    for l in range(1, L):
        W[l] = np.random.randn(n[l], n[l-1]) <scaled>
        b[l] = np.zeros((n[l], 1))

scaled by `/ np.sqrt(n[l-1])` ("xavier": the course's football model in the regularization
assignment, [2, 20, 3, 1] seed 3), `* np.sqrt(2 / n[l-1])` ("he": the initialization
assignment, [2, 10, 5, 1] seed 3), `* scale` ("normal": the initialization assignment's
`* 10` with [2, 10, 5, 1] seed 3, and the two-layer cat model's `* 0.01` with [12288, 7, 1]
seed 1). Two more small cases pin down what the course does not show: "xavier" with odd
weight counts ([3, 5, 3, 1] seed 2: 15, 15 and 3 draws, so NumPy's cached second Gaussian
carries from one layer to the next), and Glorot uniform ([4, 3, 2] seed 0:
`np.random.uniform(-l, l, (n[l], n[l-1]))`, `l = np.sqrt(6 / (n[l-1] + n[l]))`). `conv` is
a conv layer then a dense one, He, seed 5: filters `np.random.randn(3, 3, 2, 4) *
np.sqrt(2 / 18)` (the course's `(f, f, n_C_prev, n_C)` layout, also dlkit's), then the dense
weights `np.random.randn(1, 36) * np.sqrt(2 / 36)`.

What the JSON holds. Floats are written as text, shortest round-trip decimals (`repr`), an
array as one string of space-separated decimals, row-major: the Rust test parses them with
`str::parse::<f64>`, which rounds correctly, so it compares against NumPy's exact values.

- `models`: `name`, `dims` (n[0], ..., n[L-1]), `seed`, `init` (dlkit's `Init` as JSON) and
  `weights`, one string per layer, W[l] row-major (`n[l]` rows of `n[l-1]` values).
- `big`: the [12288, 7, 1] model, with W[1] (86,016 values) summarised to keep the file
  small: `head` and `tail` (its first and last 16 values), `strided` (every 1009th value,
  from index 0), `sum` (the values added one by one in row-major order, in float64, left
  to right), and `checksum` (sum over i of bits(W[i]) * (2i + 1) mod 2^64, with bits the
  IEEE 754 binary64 pattern as an unsigned integer, i the row-major index; a decimal
  string), which changes if any value changes by any bit. W[2] (7 values) is in full.
- `conv`: input shape [5, 5, 2], `seed`, the filters (row-major over [3, 3, 2, 4]) and the
  dense weights.
"""

import json
import os

import numpy as np

OUT = os.path.join("crates", "dlkit-nn", "tests", "fixtures", "numpy_init.json")


def text(a):
    return " ".join(repr(float(v)) for v in np.asarray(a, dtype=np.float64).ravel())


def course_init(dims, seed, init):
    """The course's initialize_parameters: W[l] for l = 1..L-1 (biases are zeros)."""
    np.random.seed(seed)
    weights = []
    for l in range(1, len(dims)):
        n, n_prev = dims[l], dims[l - 1]
        kind = init["type"]
        if kind == "xavier":
            w = np.random.randn(n, n_prev) / np.sqrt(n_prev)
        elif kind == "he":
            w = np.random.randn(n, n_prev) * np.sqrt(2 / n_prev)
        elif kind == "normal":
            w = np.random.randn(n, n_prev) * init["scale"]
        elif kind == "glorot_uniform":
            limit = np.sqrt(6 / (n_prev + n))
            w = np.random.uniform(-limit, limit, (n, n_prev))
        else:
            raise ValueError(kind)
        b = np.zeros((n, 1))
        assert not b.any()
        weights.append(w)
    return weights


def checksum(a):
    bits = np.ascontiguousarray(a, dtype=np.float64).ravel().view(np.uint64)
    total = 0
    for i, b in enumerate(bits.tolist()):
        total = (total + b * (2 * i + 1)) % (1 << 64)
    return str(total)


def sequential_sum(a):
    total = 0.0
    for v in np.asarray(a, dtype=np.float64).ravel().tolist():
        total += v
    return total


def main():
    small = [
        ("football_xavier", [2, 20, 3, 1], 3, {"type": "xavier"}),
        ("he", [2, 10, 5, 1], 3, {"type": "he"}),
        ("random_times_10", [2, 10, 5, 1], 3, {"type": "normal", "scale": 10.0}),
        ("xavier_odd_counts", [3, 5, 3, 1], 2, {"type": "xavier"}),
        ("glorot_uniform", [4, 3, 2], 0, {"type": "glorot_uniform"}),
    ]
    models = [
        {
            "name": name,
            "dims": dims,
            "seed": seed,
            "init": init,
            "weights": [text(w) for w in course_init(dims, seed, init)],
        }
        for name, dims, seed, init in small
    ]

    big_init = {"type": "normal", "scale": 0.01}
    w1, w2 = course_init([12288, 7, 1], 1, big_init)
    flat = w1.ravel()
    big = {
        "name": "cat_two_layer",
        "dims": [12288, 7, 1],
        "seed": 1,
        "init": big_init,
        "head": text(flat[:16]),
        "tail": text(flat[-16:]),
        "stride": 1009,
        "strided": text(flat[::1009]),
        "sum": repr(sequential_sum(flat)),
        "checksum": checksum(flat),
        "w2": text(w2),
    }

    np.random.seed(5)
    filters = np.random.randn(3, 3, 2, 4) * np.sqrt(2 / 18)
    dense = np.random.randn(1, 36) * np.sqrt(2 / 36)
    conv = {
        "input": [5, 5, 2],
        "seed": 5,
        "filters": text(filters),
        "dense": text(dense),
    }

    with open(OUT, "w") as f:
        json.dump(
            {"numpy": np.__version__, "models": models, "big": big, "conv": conv},
            f,
            indent=1,
        )
        f.write("\n")
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
