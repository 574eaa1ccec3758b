#!/usr/bin/env python3
"""Proves the committed fixtures of crates/dlkit-core/tests/fixtures/.

For every file written by scripts/make_fixtures.py:
  1. it re-reads the file with the hand-written reader (header length, JSON header, F64 dtype,
     contiguous data_offsets whose sizes match the shapes, no trailing bytes);
  2. checks the keys follow the naming convention (every case of "cases" has its inputs, out,
     gout and one grad_ per differentiable input, and nothing else is in the file);
  3. checks inputs and gout are exactly representable in f32;
  4. recomputes out and the analytic gradients from the stored inputs and the metadata params
     and compares them to the stored ones (conv2d and the pools also against a naive
     one-output-at-a-time loop written independently here);
  5. compares every stored gradient with a central finite difference in float64 (eps 1e-6) of
     L = sum(out * gout), asserting ||fd - g|| / (||fd|| + ||g||) < 1e-7;
  6. regenerates the file and reports whether it is byte-identical (a different NumPy/BLAS may
     change the last bits; values must still agree to 1e-12).

Exit status 0 when every check passes. Usage: python3 scripts/check_fixtures.py [-v]
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures as mf  # noqa: E402

EPS = 1e-6
FD_TOL = 1e-7
RECOMPUTE_TOL = 1e-12


def rel_diff(a, b):
    num = np.linalg.norm((a - b).ravel())
    den = np.linalg.norm(a.ravel()) + np.linalg.norm(b.ravel())
    return 0.0 if den == 0.0 else num / den


def close(a, b, tol=RECOMPUTE_TOL):
    return a.shape == b.shape and np.all(np.abs(a - b) <= tol * (1.0 + np.abs(b)))


def finite_difference(op, params, inputs, gout, name):
    """dL/d inputs[name] with L = sum(op(inputs) * gout), by central differences."""
    x = inputs[name]
    fd = np.zeros_like(x)
    flat, fdflat = x.reshape(-1), fd.reshape(-1)
    for i in range(flat.size):
        orig = flat[i]
        flat[i] = orig + EPS
        plus = op.forward(params, inputs)
        flat[i] = orig - EPS
        minus = op.forward(params, inputs)
        flat[i] = orig
        # difference the outputs first: unaffected elements cancel exactly
        fdflat[i] = np.sum((plus - minus) * gout) / (2.0 * EPS)
    return fd


def naive_conv2d(p, inp):
    """Independent of make_fixtures' conv: one output element at a time, padding by bounds."""
    x, w, bias = inp["x"], inp["w"], inp["b"]
    n, h, wd, ci = x.shape
    kh, kw, _, co = w.shape
    sh, sw = mf.ints(p["stride"])
    t, b, l, r = mf.ints(p["resolved_padding"])
    oh, ow = (h + t + b - kh) // sh + 1, (wd + l + r - kw) // sw + 1
    out = np.zeros((n, oh, ow, co))
    for bi in range(n):
        for oy in range(oh):
            for ox in range(ow):
                acc = bias.copy()
                for i in range(kh):
                    for j in range(kw):
                        iy, ix = oy * sh + i - t, ox * sw + j - l
                        if 0 <= iy < h and 0 <= ix < wd:
                            acc = acc + x[bi, iy, ix, :] @ w[i, j]
                out[bi, oy, ox] = acc
    return out


def naive_pool(p, inp, reduce):
    x = inp["x"]
    kh, kw = mf.ints(p["window"])
    sh, sw = mf.ints(p["stride"])
    n, h, wd, c = x.shape
    oh, ow = (h - kh) // sh + 1, (wd - kw) // sw + 1
    out = np.zeros((n, oh, ow, c))
    for oy in range(oh):
        for ox in range(ow):
            out[:, oy, ox, :] = reduce(x[:, oy * sh:oy * sh + kh, ox * sw:ox * sw + kw, :], (1, 2))
    return out


NAIVE = {"conv2d": naive_conv2d,
         "max_pool2d": lambda p, inp: naive_pool(p, inp, np.max),
         "avg_pool2d": lambda p, inp: naive_pool(p, inp, np.mean)}


def check_op(op, verbose):
    path = os.path.join(mf.OUT_DIR, op.name + ".safetensors")
    with open(path, "rb") as f:
        buf = f.read()
    tensors, meta = mf.decode_safetensors(buf)
    errors = []
    cases = meta["cases"].split(",")
    assert meta["op"] == op.name
    expected_keys = set()
    worst_fd = 0.0
    for case in cases:
        prefix = case + "."
        params = {k[len(prefix):]: v for k, v in meta.items() if k.startswith(prefix)}
        inputs = {k[len(prefix):]: v.copy() for k, v in tensors.items()
                  if k.startswith(prefix) and k[len(prefix):] not in ("out", "gout")
                  and not k[len(prefix):].startswith("grad_")}
        names = ["out", "gout"] + list(inputs) + ["grad_" + d for d in op.differentiable]
        expected_keys |= {prefix + n for n in names}
        missing = [n for n in names if prefix + n not in tensors]
        if missing or not set(op.differentiable) <= set(inputs):
            errors.append(f"{op.name}.{case}: missing {missing}")
            continue
        gout = tensors[prefix + "gout"]
        for k in list(inputs) + ["gout"]:
            v = tensors[prefix + k]
            if not np.array_equal(mf.f32(v), v):
                errors.append(f"{op.name}.{case}.{k}: not exactly representable in f32")
        out = op.forward(params, inputs)
        if not close(out, tensors[prefix + "out"]):
            errors.append(f"{op.name}.{case}.out: differs from the recomputed value")
        if op.name in NAIVE and not close(NAIVE[op.name](params, inputs), out):
            errors.append(f"{op.name}.{case}.out: differs from the naive loop implementation")
        if out.shape != gout.shape:
            errors.append(f"{op.name}.{case}: gout shape {gout.shape} != out shape {out.shape}")
        grads = op.backward(params, inputs, gout)
        for d in op.differentiable:
            stored = tensors[prefix + "grad_" + d]
            if not close(grads[d], stored):
                errors.append(f"{op.name}.{case}.grad_{d}: differs from the recomputed value")
            fd = finite_difference(op, params, inputs, gout, d)
            r = rel_diff(fd, stored)
            worst_fd = max(worst_fd, r)
            if verbose:
                print(f"  {op.name}.{case}.grad_{d}: shape {list(stored.shape)}, fd rel diff {r:.2e}")
            if not r < FD_TOL:
                errors.append(f"{op.name}.{case}.grad_{d}: finite-difference rel diff {r:.3e}")
    extra = set(tensors) - expected_keys
    if extra:
        errors.append(f"{op.name}: unexpected tensors {sorted(extra)}")
    params_ok = all(k in ("op", "seed", "generator", "dtype", "cases") or k.split(".")[0] in cases
                    for k in meta)
    if not params_ok:
        errors.append(f"{op.name}: metadata key outside any case")

    regenerated = mf.encode_safetensors(*mf.build(op))
    if regenerated == buf:
        regen = "byte-identical on regeneration"
    else:
        t2, m2 = mf.decode_safetensors(regenerated)
        if m2 != meta or set(t2) != set(tensors) or not all(close(t2[k], tensors[k]) for k in t2):
            errors.append(f"{op.name}: regenerated file differs beyond {RECOMPUTE_TOL}")
        regen = "regenerated values agree (not byte-identical)"
    print(f"{os.path.relpath(path)}: {len(buf)} bytes, {len(tensors)} tensors, {len(cases)} cases, "
          f"worst fd rel diff {worst_fd:.2e}, {regen}")
    return errors


# TensorFlow's "same" padding worked by hand: (in, k, stride) -> (before, after)
SAME_PADDING_TABLE = [((5, 3, 1), (1, 1)), ((6, 4, 1), (1, 2)), ((8, 3, 2), (0, 1)),
                      ((7, 3, 2), (1, 1)), ((8, 5, 2), (1, 2)), ((9, 5, 2), (2, 2)),
                      ((7, 2, 2), (0, 1)), ((6, 2, 2), (0, 0)), ((5, 1, 2), (0, 0)),
                      ((6, 3, 1), (1, 1)), ((4, 5, 3), (2, 2))]


def check_same_padding():
    errors = []
    for (n, k, s), want in SAME_PADDING_TABLE:
        got = mf.resolve_padding("same", n, n, k, k, s, s)
        if got != want + want:
            errors.append(f"resolve_padding same(in={n}, k={k}, s={s}) = {got}, expected {want * 2}")
    return errors


def main():
    verbose = "-v" in sys.argv[1:]
    errors = check_same_padding()
    files = {op.name + ".safetensors" for op in mf.OPS}
    present = {f for f in os.listdir(mf.OUT_DIR) if f.endswith(".safetensors")}
    if present - files:
        errors.append(f"stray fixture files: {sorted(present - files)}")
    for op in mf.OPS:
        try:
            errors += check_op(op, verbose)
        except Exception as e:  # a file that does not parse is one error, the rest still run
            errors.append(f"{op.name}: {type(e).__name__}: {e}")
    for e in errors:
        print("FAIL", e)
    print("all fixtures OK" if not errors else f"{len(errors)} failure(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
