#!/usr/bin/env python3
"""PyTorch's values for dlkit-core's transposed convolution (Tensor::conv2d_transpose).

Run by hand from the repository root with a Python that has PyTorch; the output is committed
and no test or CI job needs PyTorch:

    python scripts/make_torch_conv_transpose_fixtures.py
    # writes crates/dlkit-core/tests/fixtures/torch_conv2d_transpose.json

Each case runs torch.nn.functional.conv_transpose2d in float64 on inputs rounded through
float32 (so that an f32 run sees exactly the same numbers): out = conv_transpose2d(x, weight,
bias, stride, padding, output_padding), then L = sum(out * gout) is backpropagated.

Layouts in the file: "x", "gout", "out" and "grad_x" are NHWC (PyTorch's NCHW permuted by
(0, 2, 3, 1)); "weight" and "grad_weight" are in PyTorch's ConvTranspose2d layout
[c_in, c_out, kh, kw], which dlkit's [kh, kw, c_out, c_in] is permute(2, 3, 1, 0) of (the test
applies it); "bias" and "grad_bias" are [c_out] (absent without a bias). Every tensor is
{"shape": [...], "data": [... row-major ...]}. "stride", "padding" and "output_padding" are
[height, width] pairs.
"""

import json
import os

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crates", "dlkit-core",
                   "tests", "fixtures", "torch_conv2d_transpose.json")
SEED = 20261208

# name, x [n, h, w, c_in], c_out, kernel, stride, padding, output_padding, bias
CASES = [
    ("dcgan_k4_s2_p1", [2, 3, 3, 3], 2, (4, 4), (2, 2), (1, 1), (0, 0), True),
    ("k3_s2_p1_op1", [2, 4, 3, 2], 3, (3, 3), (2, 2), (1, 1), (1, 1), True),
    ("k3_s1_p0_no_bias", [1, 4, 5, 3], 2, (3, 3), (1, 1), (0, 0), (0, 0), False),
    ("k3_s1_p1", [2, 3, 4, 2], 3, (3, 3), (1, 1), (1, 1), (0, 0), True),
    ("k2_s2_p0_no_bias", [2, 3, 2, 4], 2, (2, 2), (2, 2), (0, 0), (0, 0), False),
    ("k5x3_s3x2_p2x1_op2x1", [1, 3, 4, 2], 3, (5, 3), (3, 2), (2, 1), (2, 1), True),
    ("k1_s1", [2, 3, 3, 4], 3, (1, 1), (1, 1), (0, 0), (0, 0), True),
    ("k1_s2_op1_no_bias", [1, 3, 2, 2], 2, (1, 1), (2, 2), (0, 0), (1, 1), False),
    ("k3_s2_p3_wide_padding", [1, 5, 6, 2], 2, (3, 3), (2, 2), (3, 3), (0, 1), True),
    ("k4_s2_p1_op1_7x7", [1, 3, 3, 2], 2, (4, 4), (2, 2), (1, 1), (1, 1), True),
]


def f32(a):
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def tensor(a):
    a = np.asarray(a, dtype=np.float64)
    return {"shape": list(a.shape), "data": a.ravel().tolist()}


def nhwc(t):
    return t.detach().permute(0, 2, 3, 1).numpy()


def case(rng, name, xs, c_out, kernel, stride, padding, output_padding, bias):
    c_in = xs[3]
    x = f32(rng.normal(size=xs))
    weight = f32(rng.normal(size=(c_in, c_out) + kernel) * 0.5)
    b = f32(rng.normal(size=c_out)) if bias else None
    tx = torch.tensor(x, dtype=torch.float64).permute(0, 3, 1, 2).contiguous()
    tx.requires_grad_(True)
    tw = torch.tensor(weight, dtype=torch.float64, requires_grad=True)
    tb = torch.tensor(b, dtype=torch.float64, requires_grad=True) if bias else None
    out = torch.nn.functional.conv_transpose2d(tx, tw, tb, stride=stride, padding=padding,
                                               output_padding=output_padding)
    gout = f32(rng.normal(size=nhwc(out).shape))
    tg = torch.tensor(gout, dtype=torch.float64).permute(0, 3, 1, 2)
    (out * tg).sum().backward()
    c = {
        "name": name,
        "stride": list(stride),
        "padding": list(padding),
        "output_padding": list(output_padding),
        "x": tensor(x),
        "weight": tensor(weight),
        "gout": tensor(gout),
        "out": tensor(nhwc(out)),
        "grad_x": tensor(nhwc(tx.grad)),
        "grad_weight": tensor(tw.grad.numpy()),
    }
    if bias:
        c["bias"] = tensor(b)
        c["grad_bias"] = tensor(tb.grad.numpy())
    return c


def main():
    torch.use_deterministic_algorithms(True)
    rng = np.random.default_rng(SEED)
    out = {
        "torch_version": torch.__version__.split("+")[0],
        "cases": [case(rng, *c) for c in CASES],
    }
    with open(OUT, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("wrote", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
