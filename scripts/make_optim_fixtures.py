#!/usr/bin/env python3
"""Reference values for the optimisers and learning-rate schedules of crate dlkit-nn.

Run by hand from the repository root; the output is committed:

    python3 scripts/make_optim_fixtures.py   # writes crates/dlkit-nn/tests/fixtures/optim.json

Needs only NumPy. Two parameters, a [3, 4] weight "w" (kind weight) and a [4] bias "b" (kind
bias), start from fixed values; each optimiser variant takes three steps with fixed per-step
gradients, and the parameters after each step are recorded. Inputs (initial parameters and
gradients) are rounded through float32 so an f32 run sees exactly the same numbers; all
arithmetic is float64. Each variant's "config" is the JSON form of dlkit's OptimizerConfig,
which the test deserialises and builds. The schedules record alpha at epochs 0..=10.

Formulas (g is the gradient after clipping and weight decay):
  clipping      g *= max_norm / max(||g||, max_norm), the norm over all parameters together
  weight decay  g += wd * w, on the kinds in decay_on (weights only by default)
  sgd           w -= lr g
  momentum      course:  v = b v + (1 - b) g;  pytorch: v = b v + g;  w -= lr v
  rmsprop       s = b s + (1 - b) g^2;  w -= lr g / (sqrt(s) + eps)   [or sqrt(s + eps)]
  adam          v = b1 v + (1 - b1) g;  s = b2 s + (1 - b2) g^2;  vh = v / (1 - b1^t);
                sh = s / (1 - b2^t);  w -= lr vh / (sqrt(sh) + eps)  [or sqrt(sh + eps)]
"""

import json
import math
import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crates", "dlkit-nn",
                   "tests", "fixtures", "optim.json")
SEED = 20240612
STEPS = 3
KINDS = {"w": "weight", "b": "bias"}

DEFAULTS = {
    "gradient_descent": {"lr": 0.01},
    "momentum": {"lr": 0.01, "beta": 0.9, "form": "course"},
    "rmsprop": {"lr": 0.001, "beta": 0.9, "eps": 1e-8, "eps_placement": "outside_sqrt"},
    "adam": {"lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8,
             "eps_placement": "outside_sqrt"},
}
COMMON = {"weight_decay": 0.0, "decay_on": ["weight"], "clip_norm": None}

VARIANTS = [
    ("sgd", {"type": "sgd", "lr": 0.1}),
    ("sgd_weight_decay", {"type": "gradient_descent", "lr": 0.1, "weight_decay": 0.05}),
    ("sgd_weight_decay_all", {"type": "gradient_descent", "lr": 0.1, "weight_decay": 0.05,
                              "decay_on": ["weight", "bias"]}),
    ("sgd_clip", {"type": "sgd", "lr": 0.1, "clip_norm": 1.0}),
    ("momentum_course", {"type": "momentum", "lr": 0.1}),
    ("momentum_pytorch", {"type": "momentum", "lr": 0.1, "beta": 0.8, "form": "pytorch"}),
    ("momentum_clip_weight_decay", {"type": "momentum", "lr": 0.1, "clip_norm": 1.0,
                                    "weight_decay": 0.1}),
    ("rmsprop", {"type": "rmsprop", "lr": 0.01}),
    ("rmsprop_beta_0999", {"type": "rmsprop", "lr": 0.01, "beta": 0.999}),
    ("rmsprop_eps_inside", {"type": "rmsprop", "lr": 0.01, "eps": 1e-2,
                            "eps_placement": "inside_sqrt"}),
    ("adam", {"type": "adam", "lr": 0.01}),
    ("adam_weight_decay", {"type": "adam", "lr": 0.01, "weight_decay": 0.1}),
    ("adam_clip", {"type": "adam", "lr": 0.01, "clip_norm": 1.0}),
    ("adam_eps_inside", {"type": "adam", "lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-2,
                         "eps_placement": "inside_sqrt"}),
]

SCHEDULES = [
    ("constant", {"type": "constant"}),
    ("inverse_time", {"type": "inverse_time", "decay_rate": 1.0}),
    ("inverse_time_0.3", {"type": "inverse_time", "decay_rate": 0.3}),
    ("exponential", {"type": "exponential"}),
    ("exponential_0.8", {"type": "exponential", "base": 0.8}),
    ("inverse_sqrt", {"type": "inverse_sqrt"}),
    ("inverse_sqrt_k", {"type": "inverse_sqrt", "k": 0.5}),
    ("step_decay", {"type": "step_decay", "step_size": 3}),
    ("step_decay_halving", {"type": "step_decay", "step_size": 1, "factor": 0.5}),
    ("step_decay_0.1", {"type": "step_decay", "step_size": 4, "factor": 0.1}),
    ("fixed_interval", {"type": "fixed_interval", "decay_rate": 1.0, "time_interval": 3}),
]
SCHEDULE_DEFAULTS = {"exponential": {"base": 0.95}, "inverse_sqrt": {"k": 1.0},
                     "step_decay": {"factor": 0.5}}


def f32(a):
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def full_config(cfg):
    kind = {"sgd": "gradient_descent"}.get(cfg["type"], cfg["type"])
    return {**DEFAULTS[kind], **COMMON, **cfg, "type": kind}


def run(cfg, params, grads):
    c = full_config(cfg)
    p = {k: v.copy() for k, v in params.items()}
    state = {k: {"v": np.zeros_like(v), "s": np.zeros_like(v), "t": 0} for k, v in p.items()}
    history = []
    for step in range(STEPS):
        g = {k: grads[k][step].copy() for k in p}
        if c["clip_norm"] is not None:
            norm = math.sqrt(sum(float(np.sum(x * x)) for x in g.values()))
            scale = c["clip_norm"] / max(norm, c["clip_norm"])
            g = {k: x * scale for k, x in g.items()}
        for k in p:
            if KINDS[k] in c["decay_on"]:
                g[k] = g[k] + c["weight_decay"] * p[k]
            st, gk, lr = state[k], g[k], c["lr"]
            st["t"] += 1
            if c["type"] == "gradient_descent":
                p[k] = p[k] - lr * gk
            elif c["type"] == "momentum":
                damp = 1.0 - c["beta"] if c["form"] == "course" else 1.0
                st["v"] = c["beta"] * st["v"] + damp * gk
                p[k] = p[k] - lr * st["v"]
            elif c["type"] == "rmsprop":
                st["s"] = c["beta"] * st["s"] + (1.0 - c["beta"]) * gk * gk
                p[k] = p[k] - lr * gk / denom(st["s"], c)
            elif c["type"] == "adam":
                st["v"] = c["beta1"] * st["v"] + (1.0 - c["beta1"]) * gk
                st["s"] = c["beta2"] * st["s"] + (1.0 - c["beta2"]) * gk * gk
                vh = st["v"] / (1.0 - c["beta1"] ** st["t"])
                sh = st["s"] / (1.0 - c["beta2"] ** st["t"])
                p[k] = p[k] - lr * vh / denom(sh, c)
        history.append({k: p[k].ravel().tolist() for k in p})
    return history


def denom(s, c):
    if c["eps_placement"] == "outside_sqrt":
        return np.sqrt(s) + c["eps"]
    return np.sqrt(s + c["eps"])


def schedule_lr(cfg, epoch, a0):
    c = {**SCHEDULE_DEFAULTS.get(cfg["type"], {}), **cfg}
    t = c["type"]
    if t == "constant":
        return a0
    if t == "inverse_time":
        return a0 / (1.0 + c["decay_rate"] * epoch)
    if t == "exponential":
        return c["base"] ** epoch * a0
    if t == "inverse_sqrt":
        return c["k"] / math.sqrt(epoch + 1) * a0   # epochs numbered from 1 in the course
    if t == "step_decay":
        return c["factor"] ** (epoch // c["step_size"]) * a0
    if t == "fixed_interval":
        return a0 / (1.0 + c["decay_rate"] * (epoch // c["time_interval"]))
    raise ValueError(t)


def main():
    rng = np.random.default_rng(SEED)
    params = {"w": f32(rng.normal(size=(3, 4))), "b": f32(rng.normal(size=4) * 0.1)}
    # Per-step scales: the global norms are 2.69, 0.55 and 8.52, so clip_norm = 1 acts on
    # steps 1 and 3 only.
    scales = [1.0, 0.1, 2.0]
    grads = {k: [f32(rng.normal(size=v.shape) * s) for s in scales] for k, v in params.items()}
    out = {
        "params": {k: {"shape": list(v.shape), "kind": KINDS[k], "init": v.ravel().tolist(),
                       "grads": [g.ravel().tolist() for g in grads[k]]}
                   for k, v in params.items()},
        "optimizers": [{"name": n, "config": cfg, "steps": run(cfg, params, grads)}
                       for n, cfg in VARIANTS],
        "schedules": [{"name": n, "config": cfg, "base_lr": 0.1,
                       "lr": [schedule_lr(cfg, e, 0.1) for e in range(11)]}
                      for n, cfg in SCHEDULES],
    }
    norms = [math.sqrt(sum(float(np.sum(grads[k][s] ** 2)) for k in grads)) for s in range(3)]
    print("gradient norms per step:", ["%.3f" % n for n in norms])
    with open(OUT, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("wrote", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
