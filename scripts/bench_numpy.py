#!/usr/bin/env python3
"""NumPy peer of the BENCHMARKS.md workloads W1, W2, W3, W6, W7 and W8, in float32.

W4 and W5 (whole convolutional networks) have no NumPy peer here: asked for, they are skipped
with a note on stderr (`scripts/bench_torch.py` has them).

Each workload is written the way the course's vectorised NumPy code writes it (examples as
columns, `W` as n[l] x n[l-1], caches, `1/m` scalings, the first layer's dA_prev computed),
with the same shapes, schedules and method as `cargo bench -p dlkit-benches`:

- W1 `logreg-cat`: the course's `propagate` + `optimize` on X 12288 x 209, lr 0.005; seconds
  for 2000 iterations (200 timed per repetition, x10).
- W2 `deep-cat`: the course's `L_layer_model` [12288, 20, 7, 5, 1], lr 0.0075; seconds for
  2500 iterations (250 timed per repetition, x10).
- W3 `mnist-mlp`: 784-512-256-10 ReLU, softmax cross-entropy, the course's Adam
  (`update_parameters_with_adam`, lr 1e-3), mini-batches of 128 gathered from a shuffled
  epoch of 60,000 synthetic examples; examples per second (100 mini-batches timed per
  repetition, scaled to the epoch).
- W6 `sgemm`: C = A @ B, GFLOP/s.
- W7 `conv3x3`: 3x3 convolution, stride 1, same padding, 64 -> 64 channels, 32x32, batch 32,
  bias, NHWC, by im2col (a padded copy, nine slice copies into the patch matrix, one matmul)
  and its backward (dW and dx by matmul, col2im by nine slice additions, db by a sum) from a
  fixed random dY; milliseconds for `fwd` and for `fwd+bwd`.
- W8 `mlp-infer`: W3's network, forward with softmax, batch 1 and 256; microseconds.

Method: for each thread count (threadpoolctl's `threadpool_limits`), one untimed warm-up call,
then at least 5 repetitions; short calls are repeated within a repetition to last
`--min-time-ms` (after one more untimed call to size them), long ones (W1, W2, W3) are one
call per repetition. The median is reported. `--full` times whole schedules instead of
fractions.

Run it with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset, or OpenBLAS falls back to its AVX2
(Haswell) kernels on this machine:

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 scripts/bench_numpy.py [W1 W7 ...]

`--json` prints one JSON object per line (an "info" line, then one per case), the format
that `scripts/bench_compare.py` joins with dlkit's.
"""

import json
import math
import sys

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from bench_common import (CAT_EXAMPLES, CAT_FEATURES, SEED, SGEMM_CASES, W1_ITERS, W1_LR, W1_TIMED,
                          W2_ITERS, W2_LAYERS, W2_LR, W2_TIMED, W3_BATCH, W3_EXAMPLES, W3_LAYERS,
                          W3_LR, W3_TIMED_STEPS, W7, W8_BATCHES, print_case, print_header,
                          timing, timing_long, NAMES, argument_parser)

F32 = np.float32
# OpenBLAS core names whose sgemm kernels use AVX-512.
AVX512_CORES = {"SkylakeX", "Cooperlake", "SapphireRapids", "Zen4", "Zen5"}




def sigmoid(z):
    return 1 / (1 + np.exp(-z))


# ---- W1: the course's logistic regression ----------------------------------------------


def propagate(w, b, X, Y):
    m = X.shape[1]
    A = sigmoid(np.dot(w.T, X) + b)
    cost = -1 / m * np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A))
    dw = 1 / m * np.dot(X, (A - Y).T)
    db = 1 / m * np.sum(A - Y)
    return {"dw": dw, "db": db}, np.squeeze(cost)


def optimize(w, b, X, Y, num_iterations, learning_rate):
    for _ in range(num_iterations):
        grads, cost = propagate(w, b, X, Y)
        w = w - learning_rate * grads["dw"]
        b = b - learning_rate * grads["db"]
    return w, b, cost


def bench_w1(args, rng):
    X = rng.random((CAT_FEATURES, CAT_EXAMPLES), dtype=F32)
    Y = rng.integers(0, 2, (1, CAT_EXAMPLES)).astype(F32)
    state = {"w": (rng.standard_normal((CAT_FEATURES, 1)) * np.sqrt(1 / CAT_FEATURES)).astype(F32),
             "b": F32(0)}
    iters = W1_ITERS if args.full else W1_TIMED

    def run():
        state["w"], state["b"], cost = optimize(state["w"], state["b"], X, Y, iters, W1_LR)
        assert np.isfinite(cost) and state["w"].dtype == F32

    scale = W1_ITERS / iters
    t = timing_long(run, args.reps, scale)
    note = "" if scale == 1 else f"{iters} of {W1_ITERS} iterations timed, x{scale:g}"
    yield "W1", f"{CAT_EXAMPLES}x{CAT_FEATURES}", t, scale, note, {"s": t["median_s"]}


# ---- W2: the course's L-layer network ------------------------------------------------------


def initialize_parameters_deep(layer_dims, rng):
    parameters = {}
    L = len(layer_dims)
    for l in range(1, L):
        gain = 2.0 if l < L - 1 else 1.0  # He for ReLU layers, Xavier for the sigmoid one
        parameters["W" + str(l)] = (rng.standard_normal((layer_dims[l], layer_dims[l - 1]))
                                    * np.sqrt(gain / layer_dims[l - 1])).astype(F32)
        parameters["b" + str(l)] = np.zeros((layer_dims[l], 1), dtype=F32)
    return parameters


def linear_forward(A, W, b):
    Z = np.dot(W, A) + b
    return Z, (A, W, b)


def relu(Z):
    return np.maximum(0, Z), Z


def linear_activation_forward(A_prev, W, b, activation):
    Z, linear_cache = linear_forward(A_prev, W, b)
    if activation == "sigmoid":
        A, activation_cache = sigmoid(Z), Z
    else:
        A, activation_cache = relu(Z)
    return A, (linear_cache, activation_cache)


def L_model_forward(X, parameters):
    caches = []
    A = X
    L = len(parameters) // 2
    for l in range(1, L):
        A, cache = linear_activation_forward(A, parameters["W" + str(l)],
                                             parameters["b" + str(l)], "relu")
        caches.append(cache)
    AL, cache = linear_activation_forward(A, parameters["W" + str(L)],
                                          parameters["b" + str(L)], "sigmoid")
    caches.append(cache)
    return AL, caches


def compute_cost(AL, Y):
    m = Y.shape[1]
    cost = -1 / m * np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL))
    return np.squeeze(cost)


def linear_backward(dZ, cache):
    A_prev, W, b = cache
    m = A_prev.shape[1]
    dW = 1 / m * np.dot(dZ, A_prev.T)
    db = 1 / m * np.sum(dZ, axis=1, keepdims=True)
    dA_prev = np.dot(W.T, dZ)
    return dA_prev, dW, db


def relu_backward(dA, Z):
    dZ = np.array(dA, copy=True)
    dZ[Z <= 0] = 0
    return dZ


def sigmoid_backward(dA, Z):
    s = sigmoid(Z)
    return dA * s * (1 - s)


def linear_activation_backward(dA, cache, activation):
    linear_cache, Z = cache
    dZ = relu_backward(dA, Z) if activation == "relu" else sigmoid_backward(dA, Z)
    return linear_backward(dZ, linear_cache)


def L_model_backward(AL, Y, caches):
    grads = {}
    L = len(caches)
    Y = Y.reshape(AL.shape)
    dAL = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))
    dA_prev, grads["dW" + str(L)], grads["db" + str(L)] = linear_activation_backward(
        dAL, caches[L - 1], "sigmoid")
    for l in reversed(range(L - 1)):
        dA_prev, grads["dW" + str(l + 1)], grads["db" + str(l + 1)] = linear_activation_backward(
            dA_prev, caches[l], "relu")
    return grads


def update_parameters(parameters, grads, learning_rate):
    for l in range(len(parameters) // 2):
        parameters["W" + str(l + 1)] = parameters["W" + str(l + 1)] - learning_rate * grads["dW" + str(l + 1)]
        parameters["b" + str(l + 1)] = parameters["b" + str(l + 1)] - learning_rate * grads["db" + str(l + 1)]
    return parameters


def bench_w2(args, rng):
    X = rng.random((CAT_FEATURES, CAT_EXAMPLES), dtype=F32)
    Y = rng.integers(0, 2, (1, CAT_EXAMPLES)).astype(F32)
    params = initialize_parameters_deep(W2_LAYERS, rng)
    iters = W2_ITERS if args.full else W2_TIMED

    def run():
        nonlocal params
        for _ in range(iters):
            AL, caches = L_model_forward(X, params)
            cost = compute_cost(AL, Y)
            grads = L_model_backward(AL, Y, caches)
            params = update_parameters(params, grads, W2_LR)
        assert np.isfinite(cost) and params["W1"].dtype == F32

    scale = W2_ITERS / iters
    t = timing_long(run, args.reps, scale)
    note = "" if scale == 1 else f"{iters} of {W2_ITERS} iterations timed, x{scale:g}"
    yield "W2", f"{CAT_EXAMPLES}x[12288,20,7,5,1]", t, scale, note, {"s": t["median_s"]}


# ---- W3 / W8: MLP with softmax, Adam --------------------------------------------------------


def softmax(Z):
    e = np.exp(Z - np.max(Z, axis=0, keepdims=True))
    return e / np.sum(e, axis=0, keepdims=True)


def mlp_params(rng):
    L = len(W3_LAYERS)
    params = {}
    for l in range(1, L):
        gain = 2.0 if l < L - 1 else 1.0
        params["W" + str(l)] = (rng.standard_normal((W3_LAYERS[l], W3_LAYERS[l - 1]))
                                * np.sqrt(gain / W3_LAYERS[l - 1])).astype(F32)
        params["b" + str(l)] = np.zeros((W3_LAYERS[l], 1), dtype=F32)
    return params


def mlp_forward(X, params):
    """ReLU hidden layers, softmax output; returns the probabilities and the caches."""
    L = len(params) // 2
    A, caches = X, []
    for l in range(1, L + 1):
        W, b = params["W" + str(l)], params["b" + str(l)]
        Z = np.dot(W, A) + b
        caches.append((A, W, Z))
        A = softmax(Z) if l == L else np.maximum(0, Z)
    return A, caches


def mlp_backward(AL, Y_onehot, caches):
    m = AL.shape[1]
    grads = {}
    dZ = (AL - Y_onehot) / m
    for l in reversed(range(len(caches))):
        A_prev, W, _ = caches[l]
        grads["dW" + str(l + 1)] = np.dot(dZ, A_prev.T)
        grads["db" + str(l + 1)] = np.sum(dZ, axis=1, keepdims=True)
        dA_prev = np.dot(W.T, dZ)  # the course computes it for the first layer too
        if l > 0:
            dZ = relu_backward(dA_prev, caches[l - 1][2])
    return grads


def initialize_adam(params):
    v, s = {}, {}
    for key, p in params.items():
        v["d" + key] = np.zeros_like(p)
        s["d" + key] = np.zeros_like(p)
    return v, s


def update_parameters_with_adam(params, grads, v, s, t, learning_rate=0.001, beta1=0.9,
                                beta2=0.999, epsilon=1e-8):
    for key in params:
        g = grads["d" + key]
        v["d" + key] = beta1 * v["d" + key] + (1 - beta1) * g
        v_corrected = v["d" + key] / (1 - beta1 ** t)
        s["d" + key] = beta2 * s["d" + key] + (1 - beta2) * np.power(g, 2)
        s_corrected = s["d" + key] / (1 - beta2 ** t)
        params[key] = params[key] - learning_rate * v_corrected / (np.sqrt(s_corrected) + epsilon)
    return params, v, s


def bench_w3(args, rng):
    n_in, n_out = W3_LAYERS[0], W3_LAYERS[-1]
    X = rng.random((W3_EXAMPLES, n_in), dtype=F32)  # one example per row, gathered per batch
    labels = rng.integers(0, n_out, W3_EXAMPLES)
    eye = np.eye(n_out, dtype=F32)
    params = mlp_params(rng)
    v, s = initialize_adam(params)
    t_adam = 0
    steps = math.ceil(W3_EXAMPLES / W3_BATCH) if args.full else W3_TIMED_STEPS
    timed = min(steps * W3_BATCH, W3_EXAMPLES)

    def epoch():
        nonlocal params, v, s, t_adam
        order = rng.permutation(W3_EXAMPLES)
        for start in range(0, timed, W3_BATCH):
            idx = order[start:start + W3_BATCH]
            A0 = X[idx].T  # (784, m), the course's layout
            Yb = eye[labels[idx]].T
            AL, caches = mlp_forward(A0, params)
            m = AL.shape[1]
            cost = -np.sum(np.log(AL[labels[idx], np.arange(m)])) / m
            grads = mlp_backward(AL, Yb, caches)
            t_adam += 1
            params, v, s = update_parameters_with_adam(params, grads, v, s, t_adam, W3_LR)
        assert np.isfinite(cost) and params["W1"].dtype == F32

    scale = W3_EXAMPLES / timed
    t = timing_long(epoch, args.reps, scale)
    note = "" if timed == W3_EXAMPLES else f"{timed} of {W3_EXAMPLES} examples timed, x{scale:.4f}"
    yield ("W3", f"{W3_BATCH}x{W3_LAYERS}".replace(" ", ""), t, scale, note,
           {"examples_per_s": W3_EXAMPLES / t["median_s"], "s": t["median_s"]})


def bench_w8(args, rng):
    params = mlp_params(rng)
    for b in W8_BATCHES:
        X = rng.random((W3_LAYERS[0], b), dtype=F32)
        probs, _ = mlp_forward(X, params)
        assert probs.dtype == F32 and np.allclose(probs.sum(axis=0), 1, atol=1e-4)
        t = timing(lambda: mlp_forward(X, params), args.reps, args.min_time_ms / 1e3)
        yield "W8", f"batch{b}", t, 1.0, "", {"us": t["median_s"] * 1e6}


# ---- W6 ---------------------------------------------------------------------------------------


def bench_w6(args, rng):
    for m, k, n in SGEMM_CASES:
        a = rng.uniform(-1.0, 1.0, (m, k)).astype(F32)
        b = rng.uniform(-1.0, 1.0, (k, n)).astype(F32)
        c = np.empty((m, n), dtype=F32)
        t = timing(lambda: np.matmul(a, b, out=c), args.reps, args.min_time_ms / 1e3)
        gflops = 2.0 * m * k * n / t["median_s"] / 1e9
        yield "W6", f"{m}x{k}x{n}", t, 1.0, "", {"gflops": gflops, "us": t["median_s"] * 1e6}


# ---- W7: im2col convolution --------------------------------------------------------------------


def conv_forward(x, w, b):
    """3x3, stride 1, same padding, NHWC x, HWIO w: im2col and one matmul."""
    n, h, wd, c = x.shape
    f = w.shape[3]
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    cols = np.empty((n, h, wd, 3, 3, c), dtype=x.dtype)
    for ky in range(3):
        for kx in range(3):
            cols[:, :, :, ky, kx, :] = xp[:, ky:ky + h, kx:kx + wd, :]
    cols = cols.reshape(n * h * wd, 9 * c)
    y = np.dot(cols, w.reshape(9 * c, f)) + b
    return y.reshape(n, h, wd, f), cols


def conv_backward(dy, cols, w, x_shape):
    """dx, dW, db of `conv_forward` from dY, reusing the cached patch matrix."""
    n, h, wd, c = x_shape
    f = w.shape[3]
    dy2 = dy.reshape(-1, f)
    dw = np.dot(cols.T, dy2).reshape(w.shape)
    db = np.sum(dy2, axis=0)
    dcols = np.dot(dy2, w.reshape(9 * c, f).T).reshape(n, h, wd, 3, 3, c)
    dxp = np.zeros((n, h + 2, wd + 2, c), dtype=dy.dtype)
    for ky in range(3):
        for kx in range(3):
            dxp[:, ky:ky + h, kx:kx + wd, :] += dcols[:, :, :, ky, kx, :]
    return dxp[:, 1:-1, 1:-1, :], dw, db


def bench_w7(args, rng):
    n, h, wd, c_in, c_out = W7
    x = rng.uniform(-1, 1, (n, h, wd, c_in)).astype(F32)
    w = rng.uniform(-1, 1, (3, 3, c_in, c_out)).astype(F32)
    b = rng.uniform(-1, 1, c_out).astype(F32)
    dy = rng.uniform(-1, 1, (n, h, wd, c_out)).astype(F32)
    y, cols = conv_forward(x, w, b)
    dx, dw, db = conv_backward(dy, cols, w, x.shape)
    # Check against direct sums at a corner and the middle.
    for (i, oy, ox, o) in [(0, 0, 0, 0), (n // 2, h // 2, wd // 3, c_out // 2)]:
        want = float(b[o])
        for ky in range(3):
            for kx in range(3):
                iy, ix = oy + ky - 1, ox + kx - 1
                if 0 <= iy < h and 0 <= ix < wd:
                    want += float(np.dot(x[i, iy, ix].astype(np.float64), w[ky, kx, :, o]))
        assert abs(y[i, oy, ox, o] - want) < 1e-3 * (1 + abs(want)), (y[i, oy, ox, o], want)
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == b.shape
    assert y.dtype == dx.dtype == dw.dtype == db.dtype == F32
    case = f"{n}x{h}x{wd}x{c_in}->{c_out}"

    def both():
        y, cols = conv_forward(x, w, b)
        conv_backward(dy, cols, w, x.shape)

    for what, f in [("fwd", lambda: conv_forward(x, w, b)), ("fwd+bwd", both)]:
        t = timing(f, args.reps, args.min_time_ms / 1e3)
        yield "W7", f"{case} {what}", t, 1.0, "", {"ms": t["median_s"] * 1e3}


WORKLOADS = {"W1": bench_w1, "W2": bench_w2, "W3": bench_w3, "W6": bench_w6, "W7": bench_w7,
             "W8": bench_w8}
# Workloads of BENCHMARKS.md without a NumPy peer.
NOT_HERE = {"W4", "W5"}
VARIANTS = {"W7": "im2col"}


def blas_info():
    """threadpoolctl's description of the BLAS that NumPy calls."""
    blas = [p for p in threadpool_info() if p.get("user_api") == "blas"]
    if not blas:
        sys.exit("bench_numpy: threadpoolctl finds no BLAS behind NumPy")
    return blas[0]


def main():
    ap = argument_parser(__doc__.splitlines()[0], "time whole schedules (W1, W2, W3)")
    ap.add_argument(
        "--allow-avx2", action="store_true", help="run even if OpenBLAS picked non-AVX-512 kernels"
    )
    args = ap.parse_args()
    ids = []
    for key in args.workloads or list(WORKLOADS):
        wid = NAMES.get(key.lower(), key.upper())
        if wid in NOT_HERE:
            print(f"bench_numpy: {wid} has no NumPy peer; skipped", file=sys.stderr)
            continue
        if wid not in WORKLOADS:
            sys.exit(f"bench_numpy: unknown workload {key!r} (known: {', '.join(WORKLOADS)})")
        ids.append(wid)

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

    print_header(args.json)
    for wid in ids:
        for t in (int(x) for x in args.threads.split(",")):
            rng = np.random.default_rng(SEED)
            with threadpool_limits(limits=t, user_api="blas"):
                actual = blas_info()["num_threads"]
                for case_row in WORKLOADS[wid](args, rng):
                    variant = VARIANTS.get(case_row[0], "numpy")
                    print_case(args.json, "numpy", variant, actual, case_row)


if __name__ == "__main__":
    main()
