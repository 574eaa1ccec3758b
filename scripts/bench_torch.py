#!/usr/bin/env python3
"""PyTorch peer of the BENCHMARKS.md workloads W1 to W8, in float32 on the CPU.

Each workload is written the way a PyTorch user writes it (`torch.nn` modules, autograd,
`torch.optim`, NCHW images), with the shapes, schedules and method of
`cargo bench -p dlkit-benches` and the output format of `scripts/bench_numpy.py`:

- W1 `logreg-cat`: `nn.Linear(12288, 1)`, `BCEWithLogitsLoss`, full-batch `SGD` lr 0.005 on
  209 examples; seconds for 2000 iterations (200 timed per repetition, x10).
- W2 `deep-cat`: [12288, 20, 7, 5, 1], ReLU hidden, `BCEWithLogitsLoss`, full-batch `SGD`
  lr 0.0075; seconds for 2500 iterations (250 timed per repetition, x10).
- W3 `mnist-mlp`: 784-512-256-10 ReLU, `CrossEntropyLoss`, `Adam` lr 1e-3, mini-batches of
  128 gathered from a shuffled epoch of 60,000 examples; examples per second (100 mini-batches
  timed per repetition, scaled to the epoch).
- W4 `signs-cnn`: the course's SIGNS ConvNet (CONV 4x4 8 same, ReLU, MAXPOOL 8/8, CONV 2x2 16
  same, ReLU, MAXPOOL 4/4, flatten, dense 6), `Adam` lr 0.009, mini-batches of 64 from 1080
  shuffled examples; seconds for 10 epochs (one timed per repetition, x10).
- W5 `resnet-cifar`: ResNet-20 (3x3 conv 16 + BN + ReLU; 3 stages of 3 basic blocks of
  16/32/64 channels, 1x1 stride-2 conv + BN projections; global average pool; dense 10),
  convolutions without bias before BN, `SGD` lr 0.1 momentum 0.9, batch 64; images per second
  over 50 steps (10 timed per repetition, x5).
- W6 `sgemm`: `torch.matmul(a, b, out=c)`, GFLOP/s.
- W7 `conv3x3`: `F.conv2d` 3x3, stride 1, padding 1, 64 -> 64 channels, 32x32, batch 32, with
  bias; `fwd` under `no_grad`, `fwd+bwd` the forward with gradients for input, filters and
  bias and `backward` from a fixed random dY; milliseconds.
- W8 `mlp-infer`: W3's network with softmax under `inference_mode`, batch 1 and 256;
  microseconds.

Initialisation: He (`kaiming_normal_`) for layers followed by ReLU and for convolutions,
Xavier (`xavier_normal_`) for the output layer, biases zero. Data: uniform in [0, 1), labels
random classes, from a fixed seed.

Method: for each thread count (`torch.set_num_threads`; one inter-op thread), one untimed
warm-up call, then at least 5 repetitions; short calls (W6, W7, W8) are repeated within a
repetition to last `--min-time-ms` (after one more untimed call to size them), training
fractions are one call per repetition. The median is reported. `--full` times whole schedules
instead of fractions.

PyTorch is not a dependency of the project: install its CPU build by hand, for example

    python3 -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch
    /tmp/torchenv/bin/python scripts/bench_torch.py [W4 W5 ...] [--json]

`--json` prints one JSON object per line (an "info" line, then one per case), the format
that `scripts/bench_compare.py` joins with dlkit's.
"""

import json
import math
import sys
import warnings

import torch
import torch.nn.functional as F
from torch import nn

from bench_common import (CAT_EXAMPLES, CAT_FEATURES, SEED, SGEMM_CASES, W1_ITERS, W1_LR, W1_TIMED,
                          W2_ITERS, W2_LAYERS, W2_LR, W2_TIMED, W3_BATCH, W3_EXAMPLES, W3_LAYERS,
                          W3_LR, W3_TIMED_STEPS, W7, W8_BATCHES, print_case, print_header,
                          timing, timing_long, NAMES, argument_parser)

# W4's even kernels with padding="same" pad asymmetrically (a padded copy), as they should.
warnings.filterwarnings("ignore", message="Using padding='same' with even kernel lengths")

F32 = torch.float32

W4_EXAMPLES, W4_BATCH, W4_EPOCHS, W4_CLASSES, W4_LR = 1080, 64, 10, 6, 0.009
W5_BATCH, W5_STEPS, W5_TIMED_STEPS, W5_CLASSES, W5_LR, W5_MOMENTUM = 64, 50, 10, 10, 0.1, 0.9
W5_STAGES, W5_BLOCKS = [16, 32, 64], 3


def init_weights(model):
    """He for every layer but the last (whose output feeds the loss), Xavier for the last,
    biases zero."""
    layers = [m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    for i, m in enumerate(layers):
        if i == len(layers) - 1 and isinstance(m, nn.Linear):
            nn.init.xavier_normal_(m.weight)
        else:
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    return model


def mlp(sizes):
    layers = []
    for i in range(1, len(sizes)):
        layers.append(nn.Linear(sizes[i - 1], sizes[i]))
        if i < len(sizes) - 1:
            layers.append(nn.ReLU())
    return init_weights(nn.Sequential(*layers))


def train(model, opt, loss_fn, x, y):
    """One step: zero the gradients, forward, loss, backward, update; returns the loss."""
    opt.zero_grad(set_to_none=True)
    loss = loss_fn(model(x), y)
    loss.backward()
    opt.step()
    return loss


def check_finite(workload, loss):
    if not math.isfinite(loss.item()):
        sys.exit(f"bench_torch: {workload}: the last loss is {loss.item()}")


# ---- W1, W2: full-batch gradient descent on the cat shapes ------------------------------


def full_batch(args, gen, workload, sizes, lr, total, timed_iters, case):
    x = torch.rand(CAT_EXAMPLES, CAT_FEATURES, generator=gen)
    y = torch.randint(0, 2, (CAT_EXAMPLES, 1), generator=gen).to(F32)
    model = mlp(sizes)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = nn.BCEWithLogitsLoss()
    iters = total if args.full else timed_iters

    def run():
        for _ in range(iters):
            loss = train(model, opt, loss_fn, x, y)
        check_finite(workload, loss)

    scale = total / iters
    t = timing_long(run, args.reps, scale)
    note = "" if scale == 1 else f"{iters} of {total} iterations timed, x{scale:g}"
    yield workload, case, t, scale, note, {"s": t["median_s"]}


def bench_w1(args, gen):
    yield from full_batch(args, gen, "W1", [CAT_FEATURES, 1], W1_LR, W1_ITERS, W1_TIMED,
                          f"{CAT_EXAMPLES}x{CAT_FEATURES}")


def bench_w2(args, gen):
    yield from full_batch(args, gen, "W2", W2_LAYERS, W2_LR, W2_ITERS, W2_TIMED,
                          f"{CAT_EXAMPLES}x[12288,20,7,5,1]")


# ---- W3: MLP on MNIST shapes, Adam ---------------------------------------------------------


def bench_w3(args, gen):
    n_in, n_out = W3_LAYERS[0], W3_LAYERS[-1]
    x = torch.rand(W3_EXAMPLES, n_in, generator=gen)
    labels = torch.randint(0, n_out, (W3_EXAMPLES,), generator=gen)
    model = mlp(W3_LAYERS)
    opt = torch.optim.Adam(model.parameters(), lr=W3_LR)
    loss_fn = nn.CrossEntropyLoss()
    steps = math.ceil(W3_EXAMPLES / W3_BATCH) if args.full else W3_TIMED_STEPS
    timed = min(steps * W3_BATCH, W3_EXAMPLES)

    def epoch():
        order = torch.randperm(W3_EXAMPLES, generator=gen)
        for start in range(0, timed, W3_BATCH):
            idx = order[start:start + W3_BATCH]
            loss = train(model, opt, loss_fn, x[idx], labels[idx])
        check_finite("W3", loss)

    scale = W3_EXAMPLES / timed
    t = timing_long(epoch, args.reps, scale)
    note = "" if timed == W3_EXAMPLES else f"{timed} of {W3_EXAMPLES} examples timed, x{scale:.4f}"
    yield ("W3", f"{W3_BATCH}x{W3_LAYERS}".replace(" ", ""), t, scale, note,
           {"examples_per_s": W3_EXAMPLES / t["median_s"], "s": t["median_s"]})


# ---- W4: the SIGNS ConvNet -------------------------------------------------------------------


def signs_cnn():
    return init_weights(nn.Sequential(
        nn.Conv2d(3, 8, 4, padding="same"), nn.ReLU(), nn.MaxPool2d(8, 8),
        nn.Conv2d(8, 16, 2, padding="same"), nn.ReLU(), nn.MaxPool2d(4, 4),
        nn.Flatten(), nn.Linear(64, W4_CLASSES),
    ))


def bench_w4(args, gen):
    x = torch.rand(W4_EXAMPLES, 3, 64, 64, generator=gen)
    labels = torch.randint(0, W4_CLASSES, (W4_EXAMPLES,), generator=gen)
    model = signs_cnn()
    opt = torch.optim.Adam(model.parameters(), lr=W4_LR)
    loss_fn = nn.CrossEntropyLoss()
    epochs = W4_EPOCHS if args.full else 1

    def run():
        for _ in range(epochs):
            order = torch.randperm(W4_EXAMPLES, generator=gen)
            for start in range(0, W4_EXAMPLES, W4_BATCH):
                idx = order[start:start + W4_BATCH]
                loss = train(model, opt, loss_fn, x[idx], labels[idx])
        check_finite("W4", loss)

    scale = W4_EPOCHS / epochs
    t = timing_long(run, args.reps, scale)
    note = "" if scale == 1 else f"{epochs} of {W4_EPOCHS} epochs timed, x{scale:g}"
    yield "W4", f"{W4_EXAMPLES}x64x64x3 batch{W4_BATCH}", t, scale, note, {"s": t["median_s"]}


# ---- W5: ResNet-20 ------------------------------------------------------------------------------


class BasicBlock(nn.Module):
    """conv 3x3, BN, ReLU, conv 3x3, BN, plus the shortcut (identity, or a 1x1 stride-2
    conv + BN), then ReLU."""

    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut = nn.Sequential()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False),
                                          nn.BatchNorm2d(c_out))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


def resnet20():
    layers = [nn.Conv2d(3, W5_STAGES[0], 3, 1, 1, bias=False), nn.BatchNorm2d(W5_STAGES[0]),
              nn.ReLU()]
    c_in = W5_STAGES[0]
    for stage, c in enumerate(W5_STAGES):
        for block in range(W5_BLOCKS):
            layers.append(BasicBlock(c_in, c, 2 if stage > 0 and block == 0 else 1))
            c_in = c
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c_in, W5_CLASSES)]
    return init_weights(nn.Sequential(*layers))


def bench_w5(args, gen):
    steps = W5_STEPS if args.full else W5_TIMED_STEPS
    x = torch.rand(steps * W5_BATCH, 3, 32, 32, generator=gen)
    labels = torch.randint(0, W5_CLASSES, (steps * W5_BATCH,), generator=gen)
    model = resnet20()
    params = sum(p.numel() for p in model.parameters())
    assert params == 272_474, params  # as benches/src/cnn.rs counts dlkit's
    opt = torch.optim.SGD(model.parameters(), lr=W5_LR, momentum=W5_MOMENTUM)
    loss_fn = nn.CrossEntropyLoss()

    def run():
        for start in range(0, steps * W5_BATCH, W5_BATCH):
            loss = train(model, opt, loss_fn, x[start:start + W5_BATCH],
                         labels[start:start + W5_BATCH])
        check_finite("W5", loss)

    scale = W5_STEPS / steps
    t = timing_long(run, args.reps, scale)
    note = "" if scale == 1 else f"{steps} of {W5_STEPS} steps timed, x{scale:g}"
    yield ("W5", f"batch{W5_BATCH}", t, scale, note,
           {"images_per_s": W5_STEPS * W5_BATCH / t["median_s"], "s": t["median_s"]})


# ---- W6, W7, W8 ----------------------------------------------------------------------------------


def bench_w6(args, gen):
    for m, k, n in SGEMM_CASES:
        a = torch.rand(m, k, generator=gen) * 2 - 1
        b = torch.rand(k, n, generator=gen) * 2 - 1
        c = torch.empty(m, n)
        t = timing(lambda: torch.matmul(a, b, out=c), args.reps, args.min_time_ms / 1e3)
        gflops = 2.0 * m * k * n / t["median_s"] / 1e9
        yield "W6", f"{m}x{k}x{n}", t, 1.0, "", {"gflops": gflops, "us": t["median_s"] * 1e6}


def bench_w7(args, gen):
    n, h, wd, c_in, c_out = W7
    x = torch.rand(n, c_in, h, wd, generator=gen) * 2 - 1
    w = torch.rand(c_out, c_in, 3, 3, generator=gen) * 2 - 1
    b = torch.rand(c_out, generator=gen) * 2 - 1
    dy = torch.rand(n, c_out, h, wd, generator=gen) * 2 - 1
    # Check one output against a direct sum.
    with torch.no_grad():
        y = F.conv2d(x, w, b, padding=1)
        want = b[3] + (x[1, :, 4:7, 5:8] * w[3]).sum()
        assert abs(float(y[1, 3, 5, 6] - want)) < 1e-3 * (1 + abs(float(want)))
    gx, gw, gb = (t.clone().requires_grad_() for t in (x, w, b))

    def fwd():
        with torch.no_grad():
            F.conv2d(x, w, b, padding=1)

    def both():
        for t in (gx, gw, gb):
            t.grad = None
        F.conv2d(gx, gw, gb, padding=1).backward(dy)

    case = f"{n}x{h}x{wd}x{c_in}->{c_out}"
    for what, f in [("fwd", fwd), ("fwd+bwd", both)]:
        t = timing(f, args.reps, args.min_time_ms / 1e3)
        yield "W7", f"{case} {what}", t, 1.0, "", {"ms": t["median_s"] * 1e3}


def bench_w8(args, gen):
    model = mlp(W3_LAYERS).eval()
    for batch in W8_BATCHES:
        x = torch.rand(batch, W3_LAYERS[0], generator=gen)

        def infer():
            with torch.inference_mode():
                return torch.softmax(model(x), dim=-1)

        probs = infer()
        assert probs.shape == (batch, 10) and torch.allclose(probs.sum(-1), torch.ones(batch))
        t = timing(infer, args.reps, args.min_time_ms / 1e3)
        yield "W8", f"batch{batch}", t, 1.0, "", {"us": t["median_s"] * 1e6}


WORKLOADS = {"W1": bench_w1, "W2": bench_w2, "W3": bench_w3, "W4": bench_w4, "W5": bench_w5,
             "W6": bench_w6, "W7": bench_w7, "W8": bench_w8}


def main():
    ap = argument_parser(__doc__.splitlines()[0], "time whole schedules (W1 to W5)")
    args = ap.parse_args()
    ids = []
    for key in args.workloads or list(WORKLOADS):
        wid = NAMES.get(key.lower(), key.upper())
        if wid not in WORKLOADS:
            sys.exit(f"bench_torch: unknown workload {key!r} (known: {', '.join(WORKLOADS)})")
        ids.append(wid)

    torch.set_num_interop_threads(1)
    line = {"source": "torch", "kind": "info", "torch": torch.__version__,
            "mkldnn": torch.backends.mkldnn.is_available(),
            "cpu_capability": torch.backends.cpu.get_cpu_capability()}
    print(json.dumps(line) if args.json else f"PyTorch {torch.__version__}, oneDNN "
          f"{line['mkldnn']}, CPU capability {line['cpu_capability']}")
    print_header(args.json)
    for wid in ids:
        for threads in (int(x) for x in args.threads.split(",")):
            torch.set_num_threads(threads)
            torch.manual_seed(SEED)
            gen = torch.Generator().manual_seed(SEED)
            for case_row in WORKLOADS[wid](args, gen):
                print_case(args.json, "torch", "torch", torch.get_num_threads(), case_row)


if __name__ == "__main__":
    main()
