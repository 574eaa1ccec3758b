#!/usr/bin/env python3
"""Reference fixtures for the tests of crate dlkit-core.

Run by hand from the repository root; the outputs are committed:

    python3 scripts/make_fixtures.py           # writes crates/dlkit-core/tests/fixtures/*.safetensors
    python3 scripts/check_fixtures.py          # re-reads them and proves the references

Needs only NumPy. Every tensor is stored as little-endian F64 (class-index labels too, as
integer-valued F64). Inputs and upstream gradients are rounded through float32 so that an f32
test can use exactly the same numbers; all outputs and gradients are computed in float64.

Naming, per case CASE of a file:
    CASE.<input>        inputs (x, w, b, a, logits, labels, targets, ... as the op names them)
    CASE.out            the op's output (0-d for the scalar losses)
    CASE.gout           upstream gradient dL/dout; the scalar loss is L = sum(out * gout)
    CASE.grad_<input>   dL/d<input> for each differentiable input
Parameters of a case are strings in __metadata__ under "CASE.<param>", and "cases" lists the
cases of the file, comma separated, in order. See crates/dlkit-core/tests/fixtures/README.md.
"""

import json
import os
import struct
import sys
import zlib

import numpy as np

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crates", "dlkit-core",
                       "tests", "fixtures")
BASE_SEED = 20240611


# ----------------------------------------------------------------------------------------------
# safetensors, written and read by hand (F64 only)
# ----------------------------------------------------------------------------------------------

def encode_safetensors(tensors, metadata):
    """tensors: dict name -> float64 array; metadata: dict str -> str. Returns the file bytes."""
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        arr = np.asarray(tensors[name], dtype="<f8")   # not ascontiguousarray: it makes 0-d 1-d
        raw = arr.tobytes(order="C")
        header[name] = {"dtype": "F64", "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    header["__metadata__"] = {str(k): str(v) for k, v in sorted(metadata.items())}
    hbytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hbytes += b" " * (-len(hbytes) % 8)
    return struct.pack("<Q", len(hbytes)) + hbytes + b"".join(chunks)


def decode_safetensors(buf):
    """Inverse of encode_safetensors, with the checks the Rust `safetensors` crate makes."""
    if len(buf) < 8:
        raise ValueError("file shorter than the 8-byte header length")
    (n,) = struct.unpack("<Q", buf[:8])
    if n % 8 != 0 or 8 + n > len(buf):
        raise ValueError(f"bad header length {n} for a file of {len(buf)} bytes")
    header = json.loads(buf[8:8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise ValueError("__metadata__ must map strings to strings")
    data = buf[8 + n:]
    tensors, end = {}, 0
    for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"]):
        if info["dtype"] != "F64":
            raise ValueError(f"{name}: dtype {info['dtype']}, expected F64")
        begin, stop = info["data_offsets"]
        size = 8 * int(np.prod(info["shape"], dtype=np.int64))
        if begin != end or stop - begin != size:
            raise ValueError(f"{name}: data_offsets {info['data_offsets']} do not follow {end} "
                             f"with {size} bytes for shape {info['shape']}")
        tensors[name] = np.frombuffer(data[begin:stop], dtype="<f8").reshape(tuple(info["shape"])).copy()
        end = stop
    if end != len(data):
        raise ValueError(f"{len(data) - end} bytes after the last tensor")
    return tensors, metadata


# ----------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------

def f32(x):
    """Round to the nearest float32 and back, so the value is exact in both precisions."""
    return np.asarray(x, dtype=np.float64).astype(np.float32).astype(np.float64)


def normal(rng, shape, scale=1.0):
    return f32(rng.standard_normal(shape) * scale)


def distinct(rng, shape, half_range=2.0):
    """Values without ties: a random permutation of an even grid, jittered by at most 30% of
    the spacing, so any two differ by at least 0.4 * spacing (far above the FD step)."""
    n = int(np.prod(shape))
    spacing = 2.0 * half_range / n
    grid = (rng.permutation(n) - (n - 1) / 2.0) * spacing
    return f32((grid + rng.uniform(-0.3, 0.3, n) * spacing).reshape(shape))


def away_from_zero(rng, shape, lo=0.1, hi=2.0):
    return f32(rng.choice([-1.0, 1.0], size=shape) * rng.uniform(lo, hi, size=shape))


def ints(s):
    return tuple(int(v) for v in s.split(","))


def unbroadcast(g, shape):
    """Sum g over the axes that numpy broadcasting added or stretched, back to `shape`."""
    g = g.sum(axis=tuple(range(g.ndim - len(shape)))) if g.ndim > len(shape) else g
    axes = tuple(i for i, d in enumerate(shape) if d == 1 and g.shape[i] != 1)
    return g.sum(axis=axes, keepdims=True) if axes else g


def sigmoid(z):
    return np.exp(-np.logaddexp(0.0, -z))


def log_softmax_np(z, axis):
    m = z.max(axis=axis, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=axis, keepdims=True))


# ----------------------------------------------------------------------------------------------
# ops: each has cases(rng) -> [(name, params, inputs, gout)], forward(p, inp) -> out,
# backward(p, inp, gout) -> {input: grad}. Params are the metadata strings, parsed here, so
# check_fixtures.py recomputes everything from what the file itself says.
# ----------------------------------------------------------------------------------------------

class Op:
    name = None
    differentiable = ()          # input names that get a grad_ (others: labels, targets)

    def cases(self, rng):
        raise NotImplementedError

    def forward(self, p, inp):
        raise NotImplementedError

    def backward(self, p, inp, g):
        raise NotImplementedError


class MatMul(Op):
    name = "matmul"
    differentiable = ("a", "b")

    def cases(self, rng):
        shapes = [("m3_k4_n5", (3, 4), (4, 5)), ("m1_k6_n3", (1, 6), (6, 3)),
                  ("m4_k1_n2", (4, 1), (1, 2)), ("m7_k5_n1", (7, 5), (5, 1)),
                  ("m1_k8_n1", (1, 8), (8, 1)), ("batched_b2_m3_k4_n5", (2, 3, 4), (2, 4, 5)),
                  ("batched_b3_m1_k5_n2", (3, 1, 5), (3, 5, 2))]
        out = []
        for name, sa, sb in shapes:
            a, b = normal(rng, sa), normal(rng, sb)
            out.append((name, {}, {"a": a, "b": b}, normal(rng, np.matmul(a, b).shape)))
        return out

    def forward(self, p, inp):
        return np.matmul(inp["a"], inp["b"])

    def backward(self, p, inp, g):
        a, b = inp["a"], inp["b"]
        return {"a": np.matmul(g, np.swapaxes(b, -1, -2)), "b": np.matmul(np.swapaxes(a, -1, -2), g)}


class AddBroadcast(Op):
    name = "add_broadcast"
    differentiable = ("a", "b")

    def cases(self, rng):
        shapes = [("same_2x3", (2, 3), (2, 3)), ("row_4x3_3", (4, 3), (3,)),
                  ("col_4x3_4x1", (4, 3), (4, 1)), ("mid_2x1x3_4x1", (2, 1, 3), (4, 1)),
                  ("outer_5x1_1x6", (5, 1), (1, 6)), ("scalar1_1_2x3", (1,), (2, 3)),
                  ("scalar0_2x3", (2, 3), ())]
        out = []
        for name, sa, sb in shapes:
            a, b = normal(rng, sa), normal(rng, sb)
            out.append((name, {}, {"a": a, "b": b}, normal(rng, np.broadcast_shapes(sa, sb))))
        return out

    def forward(self, p, inp):
        return inp["a"] + inp["b"]

    def backward(self, p, inp, g):
        return {"a": unbroadcast(g, inp["a"].shape), "b": unbroadcast(g, inp["b"].shape)}


def resolve_padding(padding, h, w, kh, kw, sh, sw):
    """(top, bottom, left, right). "same" is TensorFlow's rule: out = ceil(in / stride),
    pad_total = max((out - 1) * stride + k - in, 0), the smaller half on top/left."""
    if padding == "valid":
        return (0, 0, 0, 0)
    if padding == "same":
        pads = []
        for n, k, s in ((h, kh, sh), (w, kw, sw)):
            o = -(-n // s)
            total = max((o - 1) * s + k - n, 0)
            pads += [total // 2, total - total // 2]
        return tuple(pads)
    t, b, l, r = ints(padding)
    return (t, b, l, r)


class Conv2d(Op):
    """NHWC input, HWIO filters, bias [c_out], NHWC output; cross-correlation (no flip)."""
    name = "conv2d"
    differentiable = ("x", "w", "b")

    def cases(self, rng):
        # name, (n, h, w, c_in), (kh, kw), c_out, stride, padding
        specs = [
            ("k3_s1_valid_c1_1", (2, 7, 7, 1), (3, 3), 1, (1, 1), "valid"),
            ("k3_s1_same_c3_4", (2, 6, 6, 3), (3, 3), 4, (1, 1), "same"),
            ("k3_s2_same_c3_4", (2, 8, 8, 3), (3, 3), 4, (2, 2), "same"),        # pads 0,1,0,1
            ("k3_s2_valid_c8_2", (2, 8, 7, 8), (3, 3), 2, (2, 2), "valid"),      # last row unused
            ("k1_s1_valid_c8_2", (2, 5, 5, 8), (1, 1), 2, (1, 1), "valid"),
            ("k1_s2_same_c2_16", (2, 5, 6, 2), (1, 1), 16, (2, 2), "same"),
            ("k5_s1_same_c2_16", (2, 6, 6, 2), (5, 5), 16, (1, 1), "same"),
            ("k5_s2_same_c1_1", (2, 8, 9, 1), (5, 5), 1, (2, 2), "same"),        # pads 1,2,2,2
            ("k2x3_s1_valid_c3_4", (2, 6, 7, 3), (2, 3), 4, (1, 1), "valid"),
            ("k2x3_s2x1_same_c3_4", (2, 7, 6, 3), (2, 3), 4, (2, 1), "same"),    # pads 0,1,1,1
            ("k3_s1_explicit_c3_4", (2, 5, 6, 3), (3, 3), 4, (1, 1), "1,2,0,1"),
            ("k3_s2_explicit_c2_16", (2, 7, 5, 2), (3, 3), 16, (2, 2), "2,0,1,1"),
        ]
        out = []
        for name, xs, (kh, kw), co, (sh, sw), padding in specs:
            x = normal(rng, xs)
            w = normal(rng, (kh, kw, xs[3], co), scale=1.0 / np.sqrt(kh * kw * xs[3]))
            b = normal(rng, (co,), scale=0.5)
            p = {"stride": f"{sh},{sw}", "padding": padding,
                 "resolved_padding": ",".join(map(str, resolve_padding(
                     padding, xs[1], xs[2], kh, kw, sh, sw)))}
            inp = {"x": x, "w": w, "b": b}
            out.append((name, p, inp, normal(rng, self.forward(p, inp).shape)))
        return out

    def _geometry(self, p, x, w):
        sh, sw = ints(p["stride"])
        kh, kw = w.shape[:2]
        t, b, l, r = resolve_padding(p["padding"], x.shape[1], x.shape[2], kh, kw, sh, sw)
        if "resolved_padding" in p:
            assert ints(p["resolved_padding"]) == (t, b, l, r), "resolved_padding disagrees"
        oh = (x.shape[1] + t + b - kh) // sh + 1
        ow = (x.shape[2] + l + r - kw) // sw + 1
        return sh, sw, kh, kw, (t, b, l, r), oh, ow

    def forward(self, p, inp):
        x, w, bias = inp["x"], inp["w"], inp["b"]
        sh, sw, kh, kw, (t, b, l, r), oh, ow = self._geometry(p, x, w)
        xp = np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)))
        out = np.zeros((x.shape[0], oh, ow, w.shape[3]))
        for i in range(kh):          # out[n,y,x,o] += xp[n, y*sh+i, x*sw+j, c] * w[i,j,c,o]
            for j in range(kw):
                win = xp[:, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw, :]
                out += np.einsum("nyxc,co->nyxo", win, w[i, j])
        return out + bias

    def backward(self, p, inp, g):
        x, w = inp["x"], inp["w"]
        sh, sw, kh, kw, (t, b, l, r), oh, ow = self._geometry(p, x, w)
        xp = np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)))
        gxp, gw = np.zeros_like(xp), np.zeros_like(w)
        for i in range(kh):
            for j in range(kw):
                sl = (slice(None), slice(i, i + sh * (oh - 1) + 1, sh),
                      slice(j, j + sw * (ow - 1) + 1, sw), slice(None))
                gw[i, j] = np.einsum("nyxc,nyxo->co", xp[sl], g)
                gxp[sl] += np.einsum("nyxo,co->nyxc", g, w[i, j])
        gx = gxp[:, t:t + x.shape[1], l:l + x.shape[2], :]
        return {"x": gx, "w": gw, "b": g.sum(axis=(0, 1, 2))}


POOL_SPECS = [  # name, (n, h, w, c), window, stride
    ("w2_s2", (2, 6, 6, 3), (2, 2), (2, 2)),
    ("w2_s2_ragged", (2, 7, 5, 2), (2, 2), (2, 2)),     # last row / column never pooled
    ("w3_s2_overlap", (2, 7, 7, 2), (3, 3), (2, 2)),
    ("w2_s1_overlap", (2, 5, 5, 3), (2, 2), (1, 1)),
    ("w2x3_s1x2", (2, 6, 7, 2), (2, 3), (1, 2)),
    ("w3_s1_n1_c1", (1, 5, 6, 1), (3, 3), (1, 1)),
]


class Pool(Op):
    differentiable = ("x",)

    def cases(self, rng):
        out = []
        for name, xs, (kh, kw), (sh, sw) in POOL_SPECS:
            p = {"window": f"{kh},{kw}", "stride": f"{sh},{sw}", "padding": "valid"}
            inp = {"x": distinct(rng, xs)}
            out.append((name, p, inp, normal(rng, self.forward(p, inp).shape)))
        return out

    def _windows(self, p, x):
        """[n, oh, ow, kh*kw, c] view of the windows, plus the geometry."""
        assert p["padding"] == "valid"
        kh, kw = ints(p["window"])
        sh, sw = ints(p["stride"])
        oh, ow = (x.shape[1] - kh) // sh + 1, (x.shape[2] - kw) // sw + 1
        wins = np.stack([x[:, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw, :]
                         for i in range(kh) for j in range(kw)], axis=3)
        return wins, (kh, kw, sh, sw, oh, ow)

    def _scatter(self, x, per_pos, geom):
        """Accumulate per_pos[n, oh, ow, kh*kw, c] back onto the input positions."""
        kh, kw, sh, sw, oh, ow = geom
        gx = np.zeros_like(x)
        for i in range(kh):
            for j in range(kw):
                gx[:, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw, :] += \
                    per_pos[:, :, :, i * kw + j, :]
        return gx


class MaxPool2d(Pool):
    name = "max_pool2d"

    def forward(self, p, inp):
        return self._windows(p, inp["x"])[0].max(axis=3)

    def backward(self, p, inp, g):
        wins, geom = self._windows(p, inp["x"])
        arg = wins.argmax(axis=3)[:, :, :, None, :]
        mask = np.arange(wins.shape[3])[None, None, None, :, None] == arg
        return {"x": self._scatter(inp["x"], mask * g[:, :, :, None, :], geom)}


class AvgPool2d(Pool):
    name = "avg_pool2d"

    def forward(self, p, inp):
        return self._windows(p, inp["x"])[0].mean(axis=3)

    def backward(self, p, inp, g):
        wins, geom = self._windows(p, inp["x"])
        per = np.broadcast_to(g[:, :, :, None, :] / wins.shape[3], wins.shape)
        return {"x": self._scatter(inp["x"], per, geom)}


class SoftmaxCrossEntropy(Op):
    """loss = mean over rows of -sum_c Y[r,c] * log_softmax(z)[r,c]; Y one-hot of `labels`
    (class indices stored as integer-valued F64) or `targets` given directly (rows sum to 1)."""
    name = "softmax_cross_entropy"
    differentiable = ("logits",)

    def cases(self, rng):
        def soft(m, c):      # rows of multiples of 1/16 that sum to exactly 1
            return (1 + np.stack([rng.multinomial(16 - c, rng.dirichlet(np.ones(c)))
                                  for _ in range(m)])) / 16.0

        def onehot(m, c):
            return np.eye(c)[rng.integers(0, c, m)]

        out = []
        for name, m, c, kind, scale, gout in [
                ("labels_m4_c3", 4, 3, "labels", 1.0, 1.0),
                ("labels_m1_c5", 1, 5, "labels", 2.0, 0.5),
                ("labels_m8_c10", 8, 10, "labels", 1.0, 1.0),
                ("onehot_m6_c4", 6, 4, "onehot", 1.0, 1.0),
                ("soft_m5_c3", 5, 3, "soft", 1.0, 0.5),
                ("labels_large_m4_c5", 4, 5, "labels", 50.0, 1.0),
                ("onehot_large_m3_c4", 3, 4, "onehot", 50.0, 0.5)]:
            if scale >= 50.0:
                z = f32(rng.uniform(-scale, scale, (m, c)))
                z[0, 0], z[-1, -1] = scale, -scale           # hit +-50 exactly
            else:
                z = normal(rng, (m, c), scale)
            if kind == "labels":
                inp = {"logits": z, "labels": rng.integers(0, c, m).astype(np.float64)}
                if name.startswith("labels_large"):
                    inp["labels"][0] = np.argmin(z[0])       # label on the smallest logit: loss > 50
            else:
                inp = {"logits": z, "targets": onehot(m, c) if kind == "onehot" else soft(m, c)}
            p = {"target_kind": kind, "reduction": "mean"}
            out.append((name, p, inp, np.array(gout)))
        return out

    def _y(self, inp):
        z = inp["logits"]
        if "labels" in inp:
            lab = inp["labels"]
            assert np.all(lab == np.round(lab)) and lab.min() >= 0 and lab.max() < z.shape[1]
            return np.eye(z.shape[1])[lab.astype(np.int64)]
        assert np.all(inp["targets"].sum(axis=1) == 1.0), "target rows must sum to exactly 1"
        return inp["targets"]

    def forward(self, p, inp):
        z = inp["logits"]
        return np.array(-(self._y(inp) * log_softmax_np(z, 1)).sum() / z.shape[0])

    def backward(self, p, inp, g):
        z = inp["logits"]
        return {"logits": (np.exp(log_softmax_np(z, 1)) - self._y(inp)) / z.shape[0] * g}


class BinaryCrossEntropy(Op):
    """From logits: loss = mean over all elements of max(z,0) - z*y + log(1 + exp(-|z|))."""
    name = "binary_cross_entropy"
    differentiable = ("logits",)

    def cases(self, rng):
        out = []
        for name, shape, kind, gout in [("col_m6x1", (6, 1), "hard", 1.0),
                                        ("vec_m5", (5,), "hard", 0.5),
                                        ("vec_m1", (1,), "hard", 1.0),
                                        ("large_m8x1", (8, 1), "hard", 1.0),
                                        ("soft_m6", (6,), "soft", 0.5)]:
            if name.startswith("large"):
                z = f32(np.array([40.0, -40.0, 40.0, -40.0, 25.5, -31.25, 0.75, -2.5]).reshape(shape))
                y = np.array([1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 1.0]).reshape(shape)
            else:
                z = normal(rng, shape, 2.0)
                y = (rng.integers(1, 16, shape) / 16.0 if kind == "soft"
                     else rng.integers(0, 2, shape).astype(np.float64))
            out.append((name, {"target_kind": kind, "reduction": "mean"},
                        {"logits": z, "targets": y}, np.array(gout)))
        return out

    def forward(self, p, inp):
        z, y = inp["logits"], inp["targets"]
        return np.array(np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))))

    def backward(self, p, inp, g):
        z, y = inp["logits"], inp["targets"]
        return {"logits": (sigmoid(z) - y) / z.size * g}


class Softmax(Op):
    name = "softmax"
    differentiable = ("x",)
    log = False

    def cases(self, rng):
        out = []
        for name, shape, axis, scale in [("axis_last_3x5", (3, 5), -1, 1.0),
                                         ("axis0_4x3", (4, 3), 0, 1.0),
                                         ("axis_last_2x3x4", (2, 3, 4), -1, 1.0),
                                         ("axis1_2x3x4", (2, 3, 4), 1, 1.0),
                                         ("axis_last_large_3x4", (3, 4), -1, 50.0)]:
            x = normal(rng, shape) if scale == 1.0 else f32(rng.uniform(-scale, scale, shape))
            out.append((name, {"axis": str(axis)}, {"x": x}, normal(rng, shape)))
        return out

    def forward(self, p, inp):
        ls = log_softmax_np(inp["x"], int(p["axis"]))
        return ls if self.log else np.exp(ls)

    def backward(self, p, inp, g):
        ax = int(p["axis"])
        s = np.exp(log_softmax_np(inp["x"], ax))
        if self.log:
            return {"x": g - s * g.sum(axis=ax, keepdims=True)}
        return {"x": s * (g - (g * s).sum(axis=ax, keepdims=True))}


class LogSoftmax(Softmax):
    name = "log_softmax"
    log = True


class Elementwise(Op):
    differentiable = ("x",)
    shape = (3, 4)

    def make_x(self, rng):
        raise NotImplementedError

    def params(self):
        return [("basic_3x4", {})]

    def cases(self, rng):
        return [(name, p, {"x": self.make_x(rng)}, normal(rng, self.shape))
                for name, p in self.params()]


class Sigmoid(Elementwise):
    name = "sigmoid"

    def make_x(self, rng):
        x = f32(rng.uniform(-6, 6, self.shape))
        x[0, 0], x[0, 1] = 30.0, -30.0
        return x

    def forward(self, p, inp):
        return sigmoid(inp["x"])

    def backward(self, p, inp, g):
        s = sigmoid(inp["x"])
        return {"x": g * s * (1 - s)}


class Tanh(Elementwise):
    name = "tanh"

    def make_x(self, rng):
        x = f32(rng.uniform(-3, 3, self.shape))
        x[0, 0], x[0, 1] = 12.0, -12.0
        return x

    def forward(self, p, inp):
        return np.tanh(inp["x"])

    def backward(self, p, inp, g):
        return {"x": g * (1 - np.tanh(inp["x"]) ** 2)}


class Relu(Elementwise):
    name = "relu"

    def make_x(self, rng):
        return away_from_zero(rng, self.shape)

    def forward(self, p, inp):
        return np.maximum(inp["x"], 0.0)

    def backward(self, p, inp, g):
        return {"x": g * (inp["x"] > 0)}


class LeakyRelu(Elementwise):
    """out = x if x > 0 else slope * x; slope is the f64 value of the decimal string."""
    name = "leaky_relu"

    def make_x(self, rng):
        return away_from_zero(rng, self.shape)

    def params(self):
        return [("slope_0_01", {"slope": "0.01"}), ("slope_0_2", {"slope": "0.2"})]

    def forward(self, p, inp):
        x = inp["x"]
        return np.where(x > 0, x, float(p["slope"]) * x)

    def backward(self, p, inp, g):
        return {"x": g * np.where(inp["x"] > 0, 1.0, float(p["slope"]))}


class Reduction(Op):
    differentiable = ("x",)
    AXES = [("axes1", "1"), ("axes0_2", "0,2"), ("all", "0,1,2")]

    def make_x(self, rng, shape):
        return normal(rng, shape)

    def cases(self, rng):
        out = []
        for name, axes in self.AXES:
            for keep in (True, False):
                p = {"axes": axes, "keepdims": "true" if keep else "false"}
                inp = {"x": self.make_x(rng, (2, 3, 4))}
                out.append((name + ("_keep" if keep else ""), p, inp,
                            normal(rng, self.forward(p, inp).shape)))
        return out

    def _parse(self, p):
        assert p["keepdims"] in ("true", "false")
        return ints(p["axes"]), p["keepdims"] == "true"

    def _g_keep(self, p, inp, g):
        axes, keep = self._parse(p)
        return g if keep else np.expand_dims(g, axes)


class Sum(Reduction):
    name = "sum"

    def forward(self, p, inp):
        axes, keep = self._parse(p)
        return inp["x"].sum(axis=axes, keepdims=keep)

    def backward(self, p, inp, g):
        return {"x": np.broadcast_to(self._g_keep(p, inp, g), inp["x"].shape).copy()}


class Mean(Reduction):
    name = "mean"

    def forward(self, p, inp):
        axes, keep = self._parse(p)
        return inp["x"].mean(axis=axes, keepdims=keep)

    def backward(self, p, inp, g):
        axes, _ = self._parse(p)
        count = int(np.prod([inp["x"].shape[a] for a in axes]))
        return {"x": np.broadcast_to(self._g_keep(p, inp, g) / count, inp["x"].shape).copy()}


class Max(Reduction):
    name = "max"

    def make_x(self, rng, shape):
        return distinct(rng, shape)

    def forward(self, p, inp):
        axes, keep = self._parse(p)
        return inp["x"].max(axis=axes, keepdims=keep)

    def backward(self, p, inp, g):
        axes, _ = self._parse(p)
        x = inp["x"]
        mask = x == x.max(axis=axes, keepdims=True)
        assert np.all(mask.sum(axis=axes) == 1), "tie in max"
        return {"x": mask * self._g_keep(p, inp, g)}


class BatchNorm(Op):
    """Batch norm over every axis but the last (channels last). mode "train": the biased batch
    statistics, with the backward through them; mode "eval": the given mean and var
    (non-differentiable inputs)."""
    name = "batch_norm"
    differentiable = ("x", "gamma", "beta")

    def cases(self, rng):
        out = []
        for name, mode, shape, eps in [("train_6x3", "train", (6, 3), "1e-05"),
                                       ("train_nhwc_2x3x2x4", "train", (2, 3, 2, 4), "1e-05"),
                                       ("train_two_rows_2x5", "train", (2, 5), "0.001"),
                                       ("eval_nhwc_2x2x3x4", "eval", (2, 2, 3, 4), "1e-05")]:
            c = shape[-1]
            inp = {"x": normal(rng, shape), "gamma": away_from_zero(rng, (c,)),
                   "beta": normal(rng, (c,))}
            if mode == "eval":
                inp["mean"] = normal(rng, (c,))
                inp["var"] = f32(rng.uniform(0.5, 2.0, (c,)))
            p = {"mode": mode, "epsilon": eps}
            out.append((name, p, inp, normal(rng, shape)))
        return out

    def _stats(self, p, inp):
        x = inp["x"]
        axes = tuple(range(x.ndim - 1))
        if p["mode"] == "train":
            return axes, x.mean(axis=axes), x.var(axis=axes)
        assert p["mode"] == "eval"
        return axes, inp["mean"], inp["var"]

    def forward(self, p, inp):
        _, mean, var = self._stats(p, inp)
        x_hat = (inp["x"] - mean) / np.sqrt(var + float(p["epsilon"]))
        return inp["gamma"] * x_hat + inp["beta"]

    def backward(self, p, inp, g):
        axes, mean, var = self._stats(p, inp)
        inv_std = 1.0 / np.sqrt(var + float(p["epsilon"]))
        x_hat = (inp["x"] - mean) * inv_std
        grads = {"gamma": (g * x_hat).sum(axis=axes), "beta": g.sum(axis=axes)}
        if p["mode"] == "eval":
            grads["x"] = inp["gamma"] * inv_std * g
        else:
            n = inp["x"].size // inp["x"].shape[-1]
            grads["x"] = (inp["gamma"] * inv_std / n) * (
                n * g - grads["beta"] - x_hat * grads["gamma"])
        return grads


OPS = [MatMul(), AddBroadcast(), Conv2d(), MaxPool2d(), AvgPool2d(), SoftmaxCrossEntropy(),
       BinaryCrossEntropy(), Softmax(), LogSoftmax(), Sigmoid(), Tanh(), Relu(), LeakyRelu(),
       Sum(), Mean(), Max(), BatchNorm()]


def seed_of(op):
    """One seed per file, so adding a case to one op does not change the others' numbers."""
    return BASE_SEED + zlib.crc32(op.name.encode())


def build(op):
    """Returns (tensors, metadata) of op's fixture file."""
    seed = seed_of(op)
    rng = np.random.default_rng(seed)
    tensors = {}
    metadata = {"op": op.name, "seed": str(seed), "generator": "scripts/make_fixtures.py",
                "dtype": "F64 everywhere; inputs and gout are exactly representable in f32"}
    names = []
    for case, params, inputs, gout in op.cases(rng):
        assert "." not in case and "," not in case and case not in names
        names.append(case)
        for k, v in inputs.items():
            assert np.array_equal(f32(v), v), f"{op.name}.{case}.{k} not f32-exact"
        assert np.array_equal(f32(gout), gout)
        out = op.forward(params, inputs)
        grads = op.backward(params, inputs, gout)
        assert out.shape == gout.shape and set(grads) == set(op.differentiable)
        for k, v in inputs.items():
            tensors[f"{case}.{k}"] = v
        tensors[f"{case}.out"] = out
        tensors[f"{case}.gout"] = gout
        for k, v in grads.items():
            assert v.shape == inputs[k].shape, (op.name, case, k, v.shape, inputs[k].shape)
            tensors[f"{case}.grad_{k}"] = v
        for k, v in params.items():
            metadata[f"{case}.{k}"] = v
    metadata["cases"] = ",".join(names)
    return tensors, metadata


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    total = 0
    for op in OPS:
        data = encode_safetensors(*build(op))
        path = os.path.join(OUT_DIR, op.name + ".safetensors")
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
        total += len(data)
        print(f"{os.path.relpath(path)}: {len(data)} bytes")
    print(f"total {total} bytes")


if __name__ == "__main__":
    sys.exit(main())
