#!/usr/bin/env python3
"""Reference fixtures for the layers, losses and penalties of crate dlkit-nn.

Run by hand from the repository root; the outputs are committed:

    python3 scripts/make_nn_fixtures.py   # writes crates/dlkit-nn/tests/fixtures/*.safetensors

Needs only NumPy. The file format, the safetensors writer, the f32 rounding of inputs and the
per-file seeds are those of scripts/make_fixtures.py (imported, not copied): every tensor is
F64; inputs and `gout` are exactly representable in f32; outputs and gradients are computed in
float64. Per case CASE: `CASE.<input>`, `CASE.out`, `CASE.gout` (the loss is
L = sum(out * gout)), `CASE.grad_<input>` for the differentiable inputs, and for batch norm in
training the updated running statistics `CASE.running_mean_new`, `CASE.running_var_new`.
Parameters are strings `CASE.<param>` in `__metadata__`; `cases` lists the cases in order.
Every gradient is checked here against a central finite difference of L (eps 1e-6, relative
difference below 1e-7) before it is written.

Files and formulas (m = batch size, N = values per feature):
  dense              x [m, n_in], w [n_out, n_in], b [n_out]: out = x w^T + b
  batch_norm_train   x [m, n] or NHWC [m, h, w, c], gamma, beta [c], running_mean/var [c]:
                     mu, var = mean and biased variance over all axes but the last;
                     out = gamma (x - mu) / sqrt(var + eps) + beta;
                     running_new = momentum running + (1 - momentum) batch,
                     with var N/(N-1) for the running variance when unbiased_running_var
  batch_norm_eval    out = gamma (x - running_mean) / sqrt(running_var + eps) + beta
  mean_squared_error predictions, targets: out = mean((predictions - targets)^2) over all elements
  l2_penalty         w0, w1 (kind weight), b (kind bias): out = lambda/(2m) sum ||W||^2
  l1_penalty         out = lambda/m sum |W|; over the weights only unless all_params
"""

import os
import sys
import zlib

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import BASE_SEED, encode_safetensors, f32, normal  # noqa: E402

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crates", "dlkit-nn",
                       "tests", "fixtures")


def away_from_zero(rng, shape, lo=0.2, hi=1.5):
    """Magnitudes in [lo, hi) with random signs (L1's kink at 0 stays far from the FD step)."""
    return f32(rng.choice([-1.0, 1.0], size=shape) * rng.uniform(lo, hi, size=shape))


class Dense:
    name = "dense"

    def cases(self, rng):
        for case, m, n_in, n_out, bias in [("m4_in3_out5", 4, 3, 5, True),
                                           ("m1_in6_out2", 1, 6, 2, True),
                                           ("m7_in5_out1", 7, 5, 1, True),
                                           ("no_bias_m3_in4_out2", 3, 4, 2, False)]:
            inputs = {"x": normal(rng, (m, n_in)), "w": normal(rng, (n_out, n_in), 0.5)}
            if bias:
                inputs["b"] = normal(rng, (n_out,))
            yield case, {"bias": str(bias).lower()}, inputs, normal(rng, (m, n_out))

    def forward(self, p, inp):
        out = inp["x"] @ inp["w"].T
        return out + inp["b"] if "b" in inp else out

    def differentiable(self, p, inp):
        return list(inp)

    def backward(self, p, inp, g):
        grads = {"x": g @ inp["w"], "w": g.T @ inp["x"]}
        if "b" in inp:
            grads["b"] = g.sum(axis=0)
        return grads


def bn_cases(rng, with_running_update):
    """Dense and NHWC inputs with per-feature offsets and scales, and non-trivial statistics."""
    shapes = [("dense_m6_n4", (6, 4), "0.9", "1e-05", "false"),
              ("dense_m5_n3_unbiased", (5, 3), "0.8", "1e-05", "true"),
              ("nhwc_m2_h3_w3_c4", (2, 3, 3, 4), "0.9", "1e-05", "false"),
              ("nhwc_m3_h2_w2_c2_unbiased", (3, 2, 2, 2), "0.7", "0.001", "true")]
    for case, shape, momentum, eps, unbiased in shapes:
        c = shape[-1]
        x = f32(rng.standard_normal(shape) * rng.uniform(0.5, 3.0, c) + rng.uniform(-2, 2, c))
        inputs = {"x": x, "gamma": f32(rng.uniform(0.5, 1.5, c)), "beta": normal(rng, (c,)),
                  "running_mean": normal(rng, (c,)),
                  "running_var": f32(rng.uniform(0.5, 2.0, c))}
        params = {"epsilon": eps}
        if with_running_update:
            params.update(momentum=momentum, unbiased_running_var=unbiased)
        yield case, params, inputs, normal(rng, shape)


class BatchNormTrain:
    name = "batch_norm_train"

    def cases(self, rng):
        return bn_cases(rng, True)

    @staticmethod
    def stats(inp):
        x = inp["x"]
        axes = tuple(range(x.ndim - 1))
        return axes, x.mean(axis=axes), x.var(axis=axes)

    def forward(self, p, inp):
        _, mu, var = self.stats(inp)
        return inp["gamma"] * (inp["x"] - mu) / np.sqrt(var + float(p["epsilon"])) + inp["beta"]

    def differentiable(self, p, inp):
        return ["x", "gamma", "beta"]

    def backward(self, p, inp, g):
        axes, mu, var = self.stats(inp)
        n = inp["x"].size // inp["x"].shape[-1]
        inv_std = 1.0 / np.sqrt(var + float(p["epsilon"]))
        x_hat = (inp["x"] - mu) * inv_std
        d_hat = g * inp["gamma"]
        dx = inv_std / n * (n * d_hat - d_hat.sum(axis=axes) - x_hat * (d_hat * x_hat).sum(axis=axes))
        return {"x": dx, "gamma": (g * x_hat).sum(axis=axes), "beta": g.sum(axis=axes)}

    def extras(self, p, inp):
        _, mu, var = self.stats(inp)
        n = inp["x"].size // inp["x"].shape[-1]
        mom = float(p["momentum"])
        run_var = var * n / (n - 1) if p["unbiased_running_var"] == "true" else var
        return {"running_mean_new": mom * inp["running_mean"] + (1 - mom) * mu,
                "running_var_new": mom * inp["running_var"] + (1 - mom) * run_var}


class BatchNormEval:
    name = "batch_norm_eval"

    def cases(self, rng):
        return bn_cases(rng, False)

    @staticmethod
    def inv_std(p, inp):
        return 1.0 / np.sqrt(inp["running_var"] + float(p["epsilon"]))

    def forward(self, p, inp):
        x_hat = (inp["x"] - inp["running_mean"]) * self.inv_std(p, inp)
        return inp["gamma"] * x_hat + inp["beta"]

    def differentiable(self, p, inp):
        return ["x", "gamma", "beta"]

    def backward(self, p, inp, g):
        axes = tuple(range(inp["x"].ndim - 1))
        inv_std = self.inv_std(p, inp)
        x_hat = (inp["x"] - inp["running_mean"]) * inv_std
        return {"x": g * inp["gamma"] * inv_std, "gamma": (g * x_hat).sum(axis=axes),
                "beta": g.sum(axis=axes)}


class MeanSquaredError:
    name = "mean_squared_error"

    def cases(self, rng):
        for case, shape in [("col_m5x1", (5, 1)), ("m4x3", (4, 3)), ("vec_m6", (6,))]:
            yield (case, {"reduction": "mean"},
                   {"predictions": normal(rng, shape), "targets": normal(rng, shape)},
                   f32(rng.uniform(0.5, 2.0)) * np.ones(()))

    def forward(self, p, inp):
        return np.mean((inp["predictions"] - inp["targets"]) ** 2) * np.ones(())

    def differentiable(self, p, inp):
        return ["predictions"]

    def backward(self, p, inp, g):
        d = inp["predictions"] - inp["targets"]
        return {"predictions": g * 2.0 * d / d.size}


class Penalty:
    """L = scale * sum over penalised params of norm(W); w0, w1 are weights, b a bias."""

    def __init__(self, name, lam_scale, term, grad):
        self.name, self.lam_scale, self.term, self.grad = name, lam_scale, term, grad

    def cases(self, rng):
        for case, lam, m, all_params in [("weights_only", "0.7", "4", "false"),
                                         ("all_params", "0.3", "10", "true"),
                                         ("m1", "1.5", "1", "false")]:
            inputs = {"w0": away_from_zero(rng, (3, 4)), "w1": away_from_zero(rng, (2, 3)),
                      "b": away_from_zero(rng, (2,))}
            params = {"lambda": lam, "m": m, "all_params": all_params}
            yield case, params, inputs, f32(rng.uniform(0.5, 2.0)) * np.ones(())

    def penalised(self, p, inp):
        return [k for k in inp if k != "b" or p["all_params"] == "true"]

    def scale(self, p):
        return float(p["lambda"]) * self.lam_scale / float(p["m"])

    def forward(self, p, inp):
        return self.scale(p) * sum(self.term(inp[k]).sum() for k in self.penalised(p, inp)) * np.ones(())

    def differentiable(self, p, inp):
        return self.penalised(p, inp)

    def backward(self, p, inp, g):
        return {k: g * self.scale(p) * self.grad(inp[k]) for k in self.penalised(p, inp)}


OPS = [Dense(), BatchNormTrain(), BatchNormEval(), MeanSquaredError(),
       Penalty("l2_penalty", 0.5, np.square, lambda w: 2.0 * w),
       Penalty("l1_penalty", 1.0, np.abs, np.sign)]


def finite_difference_check(op, params, inputs, gout, grads, eps=1e-6):
    """Asserts every gradient agrees with a central difference of L = sum(out * gout)."""
    def loss(inp):
        return float((op.forward(params, inp) * gout).sum())
    for k, g in grads.items():
        fd = np.zeros_like(g)
        for idx in np.ndindex(g.shape):
            up = {n: v.copy() for n, v in inputs.items()}
            down = {n: v.copy() for n, v in inputs.items()}
            up[k][idx] += eps
            down[k][idx] -= eps
            fd[idx] = (loss(up) - loss(down)) / (2 * eps)
        rel = np.linalg.norm(fd - g) / max(np.linalg.norm(fd) + np.linalg.norm(g), 1e-300)
        assert rel < 1e-7, (op.name, k, rel)


def build(op):
    """Returns (tensors, metadata) of op's fixture file (seeded as make_fixtures.py does)."""
    seed = BASE_SEED + zlib.crc32(op.name.encode())
    rng = np.random.default_rng(seed)
    tensors, names = {}, []
    metadata = {"op": op.name, "seed": str(seed), "generator": "scripts/make_nn_fixtures.py",
                "dtype": "F64 everywhere; inputs and gout are exactly representable in f32"}
    for case, params, inputs, gout in op.cases(rng):
        assert "." not in case and "," not in case and case not in names
        names.append(case)
        for k, v in list(inputs.items()) + [("gout", gout)]:
            assert np.array_equal(f32(v), v), f"{op.name}.{case}.{k} not f32-exact"
        out = op.forward(params, inputs)
        grads = op.backward(params, inputs, gout)
        assert out.shape == gout.shape and sorted(grads) == sorted(op.differentiable(params, inputs))
        finite_difference_check(op, params, inputs, gout, grads)
        extras = op.extras(params, inputs) if hasattr(op, "extras") else {}
        for k, v in list(inputs.items()) + [("out", out), ("gout", gout)] + list(extras.items()):
            tensors[f"{case}.{k}"] = v
        for k, v in grads.items():
            assert v.shape == inputs[k].shape, (op.name, case, k)
            tensors[f"{case}.grad_{k}"] = v
        for k, v in params.items():
            metadata[f"{case}.{k}"] = v
    metadata["cases"] = ",".join(names)
    return tensors, metadata


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    for op in OPS:
        data = encode_safetensors(*build(op))
        path = os.path.join(OUT_DIR, op.name + ".safetensors")
        with open(path + ".tmp", "wb") as f:
            f.write(data)
        os.replace(path + ".tmp", path)
        print(f"{os.path.relpath(path)}: {len(data)} bytes")


if __name__ == "__main__":
    sys.exit(main())
