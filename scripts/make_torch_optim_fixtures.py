#!/usr/bin/env python3
"""PyTorch's values for dlkit-nn's PyTorch-form optimisers, loss reductions and batch norm.

Run by hand from the repository root with a Python that has PyTorch; the output is committed
and no test or CI job needs PyTorch:

    python scripts/make_torch_optim_fixtures.py
    # writes crates/dlkit-nn/tests/fixtures/torch_optim.json

Inputs (initial parameters, gradients, logits, targets, batches) are rounded through float32
so that an f32 run sees exactly the same numbers; PyTorch computes in float64.

- "optimizers": a [3, 4] weight "w" (kind weight) and a [4] bias "b" (kind bias) take four
  steps of torch.optim.{SGD, RMSprop, Adam, AdamW} with fixed per-step gradients (p.grad is
  set, then opt.step()); the parameters after each step are recorded. Each "config" is the
  JSON form of dlkit's OptimizerConfig. dlkit decays only the kinds in decay_on (weights by
  default), so the bias goes in a PyTorch parameter group with weight_decay 0 unless decay_on
  names it. Step 2's gradients are small, so AMSGrad's maximum differs from the average.
- "losses": binary_cross_entropy_with_logits, cross_entropy (class indices and probability
  targets) and mse_loss with reduction mean, sum and none: the value, and the gradient of
  sum(loss * upstream) with respect to the input, upstream being 1 for mean and sum.
- "batch_norm": torch.nn.BatchNorm1d on [m, c] batches and BatchNorm2d on NHWC batches
  (permuted to NCHW for PyTorch) in training mode, four forwards; the running mean and
  (unbiased) running variance after each, for PyTorch's momentum.
"""

import json
import os

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crates", "dlkit-nn",
                   "tests", "fixtures", "torch_optim.json")
SEED = 20261207
STEPS = 4
SCALES = [1.0, 0.1, 2.0, 0.5]
KINDS = {"w": "weight", "b": "bias"}

OPTIMIZERS = [
    ("sgd", {"type": "sgd", "lr": 0.1}),
    ("sgd_momentum", {"type": "sgd", "lr": 0.1, "momentum": 0.9}),
    ("sgd_dampening", {"type": "sgd", "lr": 0.1, "momentum": 0.9, "dampening": 0.5}),
    ("sgd_nesterov", {"type": "sgd", "lr": 0.1, "momentum": 0.8, "nesterov": True}),
    ("sgd_nesterov_weight_decay_all", {"type": "sgd", "lr": 0.1, "momentum": 0.9,
                                       "nesterov": True, "weight_decay": 0.05,
                                       "decay_on": ["weight", "bias"]}),
    ("sgd_momentum_weight_decay", {"type": "gradient_descent", "lr": 0.05, "momentum": 0.7,
                                   "dampening": 0.1, "weight_decay": 0.1}),
    ("rmsprop", {"type": "rmsprop", "lr": 0.01, "beta": 0.99}),
    ("rmsprop_centered", {"type": "rmsprop", "lr": 0.01, "beta": 0.99, "centered": True}),
    ("rmsprop_momentum", {"type": "rmsprop", "lr": 0.01, "momentum": 0.9}),
    ("rmsprop_centered_momentum", {"type": "rmsprop", "lr": 0.01, "beta": 0.95,
                                   "centered": True, "momentum": 0.5, "eps": 1e-6,
                                   "weight_decay": 0.1}),
    ("adam", {"type": "adam", "lr": 0.01}),
    ("adam_amsgrad", {"type": "adam", "lr": 0.01, "amsgrad": True}),
    ("adam_amsgrad_weight_decay", {"type": "adam", "lr": 0.01, "beta1": 0.8, "beta2": 0.99,
                                   "amsgrad": True, "weight_decay": 0.1}),
    ("adamw", {"type": "adamw", "lr": 0.01}),
    ("adamw_all", {"type": "adamw", "lr": 0.01, "weight_decay": 0.1,
                   "decay_on": ["weight", "bias"]}),
    ("adamw_amsgrad", {"type": "adamw", "lr": 0.02, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6,
                       "amsgrad": True, "weight_decay": 0.05}),
]


def f32(a):
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def t64(a):
    return torch.tensor(np.asarray(a), dtype=torch.float64)


def torch_optimizer(cfg, w, b):
    kind = {"sgd": "gradient_descent"}.get(cfg["type"], cfg["type"])
    default_wd = 0.01 if kind == "adamw" else 0.0
    wd = cfg.get("weight_decay", default_wd)
    decay_on = cfg.get("decay_on", ["weight"])
    groups = [{"params": [w], "weight_decay": wd if "weight" in decay_on else 0.0},
              {"params": [b], "weight_decay": wd if "bias" in decay_on else 0.0}]
    lr = cfg["lr"]
    if kind == "gradient_descent":
        return torch.optim.SGD(groups, lr=lr, momentum=cfg.get("momentum", 0.0),
                               dampening=cfg.get("dampening", 0.0),
                               nesterov=cfg.get("nesterov", False))
    if kind == "rmsprop":
        return torch.optim.RMSprop(groups, lr=lr, alpha=cfg.get("beta", 0.9),
                                   eps=cfg.get("eps", 1e-8),
                                   momentum=cfg.get("momentum", 0.0),
                                   centered=cfg.get("centered", False))
    betas = (cfg.get("beta1", 0.9), cfg.get("beta2", 0.999))
    cls = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[kind]
    return cls(groups, lr=lr, betas=betas, eps=cfg.get("eps", 1e-8),
               amsgrad=cfg.get("amsgrad", False), foreach=False)


def run_optimizer(cfg, params, grads):
    w = t64(params["w"]).requires_grad_(True)
    b = t64(params["b"]).requires_grad_(True)
    opt = torch_optimizer(cfg, w, b)
    history = []
    for step in range(STEPS):
        w.grad = t64(grads["w"][step])
        b.grad = t64(grads["b"][step])
        opt.step()
        history.append({"w": w.detach().numpy().ravel().tolist(),
                        "b": b.detach().numpy().ravel().tolist()})
    return history


def loss_case(name, loss, fn, output, target, reduction, rng):
    """One loss value and the input's gradient; targets as indices when `target` is ints."""
    z = t64(output).requires_grad_(True)
    tgt = torch.tensor(target) if np.asarray(target).dtype.kind == "i" else t64(target)
    value = fn(z, tgt, reduction=reduction)
    upstream = f32(rng.normal(size=value.shape)) if reduction == "none" else np.ones(())
    (value * t64(upstream)).sum().backward()
    dense = np.asarray(target).dtype.kind != "i"
    return {"name": f"{name}_{reduction}", "loss": loss, "reduction": reduction,
            "output": {"shape": list(z.shape), "values": z.detach().numpy().ravel().tolist()},
            "targets": ({"shape": list(np.shape(target)), "values": np.ravel(target).tolist()}
                        if dense else {"indices": np.ravel(target).tolist()}),
            "value": value.detach().numpy().ravel().tolist(),
            "value_shape": list(value.shape),
            "upstream": np.ravel(upstream).tolist(),
            "grad": z.grad.numpy().ravel().tolist()}


def losses(rng):
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    ce = torch.nn.functional.cross_entropy
    mse = torch.nn.functional.mse_loss
    logits_b = f32(rng.normal(size=(4, 2)) * 2.0)
    labels_b = f32(rng.integers(0, 2, size=(4, 2)))
    logits_c = f32(rng.normal(size=(5, 3)) * 1.5)
    indices = rng.integers(0, 3, size=5).astype(np.int64)
    probs = rng.uniform(0.1, 1.0, size=(5, 3))
    probs = f32(probs / probs.sum(axis=1, keepdims=True))
    y_hat = f32(rng.normal(size=(3, 2)))
    y = f32(rng.normal(size=(3, 2)))
    out = []
    for reduction in ["mean", "sum", "none"]:
        out.append(loss_case("bce", "binary_cross_entropy", bce, logits_b, labels_b,
                             reduction, rng))
        out.append(loss_case("softmax_indices", "softmax_cross_entropy", ce, logits_c, indices,
                             reduction, rng))
        out.append(loss_case("softmax_probs", "softmax_cross_entropy", ce, logits_c, probs,
                             reduction, rng))
        out.append(loss_case("mse", "mean_squared_error", mse, y_hat, y, reduction, rng))
    return out


def batch_norms(rng):
    out = []
    for name, shape, momentum in [("dense_m6_c3", (6, 3), 0.1), ("nhwc_m2_h2_w3_c4",
                                  (2, 2, 3, 4), 0.3)]:
        c = shape[-1]
        bn = (torch.nn.BatchNorm1d(c, momentum=momentum) if len(shape) == 2
              else torch.nn.BatchNorm2d(c, momentum=momentum)).double().train()
        batches, means, variances = [], [], []
        for step in range(4):
            x = f32(rng.normal(size=shape) * (1.0 + step) + step)
            xt = t64(x) if len(shape) == 2 else t64(x).permute(0, 3, 1, 2)
            with torch.no_grad():
                bn(xt)
            batches.append(x.ravel().tolist())
            means.append(bn.running_mean.numpy().tolist())
            variances.append(bn.running_var.numpy().tolist())
        out.append({"name": name, "shape": list(shape), "momentum_pytorch": momentum,
                    "epsilon": bn.eps, "batches": batches, "running_mean": means,
                    "running_var": variances})
    return out


def main():
    torch.use_deterministic_algorithms(True)
    rng = np.random.default_rng(SEED)
    params = {"w": f32(rng.normal(size=(3, 4))), "b": f32(rng.normal(size=4) * 0.1)}
    grads = {k: [f32(rng.normal(size=v.shape) * s) for s in SCALES] for k, v in params.items()}
    out = {
        "torch_version": torch.__version__.split("+")[0],
        "params": {k: {"shape": list(v.shape), "kind": KINDS[k], "init": v.ravel().tolist(),
                       "grads": [g.ravel().tolist() for g in grads[k]]}
                   for k, v in params.items()},
        "optimizers": [{"name": n, "config": cfg, "steps": run_optimizer(cfg, params, grads)}
                       for n, cfg in OPTIMIZERS],
        "losses": losses(rng),
        "batch_norm": batch_norms(rng),
    }
    with open(OUT, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("wrote", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
