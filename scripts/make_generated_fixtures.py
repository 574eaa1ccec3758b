#!/usr/bin/env python3
"""Reference values for dlkit-data's generated datasets (module `generate`) and its copy of
NumPy's legacy random generator (module `numpy_random`), computed by NumPy and scikit-learn
themselves.

Run by hand from the repository root; the output is committed:

    python3 -m venv .venv && .venv/bin/pip install numpy scikit-learn
    .venv/bin/python scripts/make_generated_fixtures.py
    # writes crates/dlkit-data/tests/fixtures/generated.json

Written with NumPy 2.4.6 and scikit-learn 1.9.1 (Python 3.11). The legacy `RandomState`
stream has been frozen since NumPy 1.17 (NEP 19), and `make_circles` / `make_moons` draw the
same numbers for an even `n_samples` as the scikit-learn of the course did, so the values
are the course's.

What the JSON holds. Floats are written as text, shortest round-trip decimals (`repr`), a
float array as one string of space-separated decimals: the Rust test parses them with
`str::parse::<f64>`, which rounds correctly, so the comparison sees NumPy's exact values.

- `streams`: for each seed, after `np.random.seed(seed)` on a fresh `RandomState`:
  `raw` the first 20 raw 32-bit MT19937 outputs, `random_sample` 20 doubles, `gauss` 20
  `standard_normal` values, `normal` 20 values of `normal(1.5, 0.3)`, `shuffle` the
  permutation that `shuffle(np.arange(10))` makes and `shuffle_300` that of `np.arange(300)`;
  `mixed` one stream that interleaves the calls (gauss, random_sample, gauss, gauss,
  shuffle(arange(7)), gauss: the five floats, and the permutation in `mixed_shuffle`),
  which tests the cached second gauss value.
- `linspace`: a few `np.linspace` calls, to pin down its arithmetic.
- `datasets`: `x` (row-major, n x 2) and `y` (class per row) of the course's datasets and
  of some small and odd sizes:
  flower(n, seed): the course's `planar_utils.load_planar_dataset` with `m = n`, generalised
  to an odd `n` by giving class 0 `n // 2` points and class 1 the rest (the course's code
  leaves its last row at zero for an odd `m`); identical to the course's code for even `n`.
  circles(n, noise, factor, seed): `np.random.seed(seed); make_circles(n, noise=noise,
  factor=factor)`, the global RandomState as the course uses it.
  moons(n, noise, seed): `np.random.seed(seed); make_moons(n, noise=noise)`.
"""

import json
import os

import numpy as np
import sklearn
from sklearn.datasets import make_circles, make_moons

OUT = os.path.join("crates", "dlkit-data", "tests", "fixtures", "generated.json")


def flower(n, seed):
    """planar_utils.load_planar_dataset, with m = n and the per-class count generalised."""
    np.random.seed(seed)
    m = n
    D = 2
    X = np.zeros((m, D))
    Y = np.zeros((m, 1), dtype="uint8")
    a = 4
    counts = [m // 2, m - m // 2]  # the course: N = int(m/2) for both, m even
    start = 0
    for j in range(2):
        N = counts[j]
        ix = range(start, start + N)
        t = np.linspace(j * 3.12, (j + 1) * 3.12, N) + np.random.randn(N) * 0.2  # theta
        r = a * np.sin(4 * t) + np.random.randn(N) * 0.2  # radius
        X[ix] = np.c_[r * np.sin(t), r * np.cos(t)]
        Y[ix] = j
        start += N
    return X, Y.ravel()


def course_flower():
    """The course's code verbatim, to check that flower(400, 1) is it."""
    np.random.seed(1)
    m = 400
    N = int(m / 2)
    D = 2
    X = np.zeros((m, D))
    Y = np.zeros((m, 1), dtype="uint8")
    a = 4
    for j in range(2):
        ix = range(N * j, N * (j + 1))
        t = np.linspace(j * 3.12, (j + 1) * 3.12, N) + np.random.randn(N) * 0.2
        r = a * np.sin(4 * t) + np.random.randn(N) * 0.2
        X[ix] = np.c_[r * np.sin(t), r * np.cos(t)]
        Y[ix] = j
    return X.T, Y.T  # the course returns (2, m) and (1, m)


def circles(n, noise, factor, seed):
    np.random.seed(seed)
    return make_circles(n_samples=n, noise=noise, factor=factor)


def moons(n, noise, seed):
    np.random.seed(seed)
    return make_moons(n_samples=n, noise=noise)


def fl(v):
    """A float as its shortest round-trip decimal."""
    return repr(float(v))


def fls(values):
    """Floats as one string of space-separated shortest round-trip decimals."""
    return " ".join(repr(float(v)) for v in values)


def dataset(kind, params, X, y):
    X = np.asarray(X, dtype=np.float64)
    assert X.shape == (params["n"], 2), X.shape
    return {
        "type": kind,
        **{k: (fl(v) if isinstance(v, float) else v) for k, v in params.items()},
        "x": fls(X.ravel()),
        "y": [int(v) for v in y],
    }


def streams(seed):
    bg = np.random.MT19937()
    bg._legacy_seeding(seed)
    raw = [int(v) for v in bg.random_raw(20)]
    rs = np.random.RandomState(seed)
    # randint over the full 32-bit range hands out the raw outputs: a second check.
    assert raw == [int(v) for v in rs.randint(0, 2**32, size=20, dtype=np.uint64)]
    rs = np.random.RandomState(seed)
    sample = fls(rs.random_sample(20))
    rs = np.random.RandomState(seed)
    gauss = [float(v) for v in rs.standard_normal(20)]
    rs = np.random.RandomState(seed)
    normal = fls(rs.normal(1.5, 0.3, 20))
    rs = np.random.RandomState(seed)
    p = np.arange(10)
    rs.shuffle(p)
    rs = np.random.RandomState(seed)
    p300 = np.arange(300)
    rs.shuffle(p300)
    # The global functions are the same RandomState: np.random.seed resets the gauss cache.
    np.random.seed(seed)
    np.random.standard_normal()
    np.random.seed(seed)
    assert float(np.random.standard_normal()) == gauss[0]
    rs = np.random.RandomState(seed)
    mixed = [rs.standard_normal(), rs.random_sample()]
    mixed += [rs.standard_normal(), rs.standard_normal()]
    q = np.arange(7)
    rs.shuffle(q)
    mixed_shuffle = [int(v) for v in q]
    mixed.append(rs.standard_normal())
    return {
        "seed": seed,
        "raw": raw,
        "random_sample": sample,
        "gauss": fls(gauss),
        "normal": normal,
        "shuffle": [int(v) for v in p],
        "shuffle_300": [int(v) for v in p300],
        "mixed": fls(mixed),
        "mixed_shuffle": mixed_shuffle,
    }


def main():
    X, Y = flower(400, 1)
    CX, CY = course_flower()
    assert np.array_equal(X, CX.T) and np.array_equal(Y, CY.ravel())

    linspace = []
    for start, stop, num, endpoint in [
        (0.0, 3.12, 200, True),
        (3.12, 2 * 3.12, 200, True),
        (0.0, 2 * np.pi, 150, False),
        (0.0, np.pi, 151, True),
        (0.0, 3.12, 5, True),
        (0.0, 3.12, 1, True),
        (0.0, 2 * np.pi, 1, False),
        (1.0, 1.0, 4, True),
    ]:
        linspace.append(
            {
                "start": fl(start),
                "stop": fl(stop),
                "num": num,
                "endpoint": endpoint,
                "y": fls(np.linspace(start, stop, num, endpoint=endpoint)),
            }
        )

    datasets = []
    for n, seed in [(400, 1), (10, 1), (11, 4), (2, 0)]:
        datasets.append(dataset("flower", {"n": n, "seed": seed}, *flower(n, seed)))
    for n, noise, factor, seed in [
        (300, 0.05, 0.8, 1),
        (100, 0.05, 0.8, 2),
        (7, 0.05, 0.8, 5),
        (8, 0.0, 0.5, 0),
        (2, 0.1, 0.3, 9),
    ]:
        datasets.append(
            dataset(
                "circles",
                {"n": n, "noise": noise, "factor": factor, "seed": seed},
                *circles(n, noise, factor, seed),
            )
        )
    for n, noise, seed in [(300, 0.2, 3), (7, 0.2, 6), (100, 0.0, 0), (3, 0.1, 4294967295)]:
        datasets.append(
            dataset("moons", {"n": n, "noise": noise, "seed": seed}, *moons(n, noise, seed))
        )

    out = {
        "numpy": np.__version__,
        "sklearn": sklearn.__version__,
        "streams": [streams(s) for s in [0, 1, 2, 3, 42, 123456789, 4294967295]],
        "linspace": linspace,
        "datasets": datasets,
    }
    with open(OUT, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
