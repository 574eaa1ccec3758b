#!/usr/bin/env python3
"""How often the course's SIGNS recipe (row 8 of docs/results.md) dies in its first epochs,
in an implementation of its own: NumPy, independent of dlkit.

The recipe: [12288, 25, 12, 6], ReLU, ReLU, softmax; Glorot-uniform weights, zero biases;
inputs in [0, 1] (pixels / 255); Adam (lr 1e-4, betas 0.9 / 0.999, eps 1e-8); mini-batches of
32 from a fresh shuffle each epoch; the 1080 training images of data/signs. Its inputs are all
positive and alike, so a first-layer unit's pre-activation has nearly the same sign on every
image, and Adam moves each of its 12288 weights by about lr per step whatever the gradient's
size: a few dozen steps can push every unit of a layer below zero on every image. The network
then outputs its biases alone and its cost stays at ln 6 = 1.7918 for good.

    python3 -m venv .venv && .venv/bin/pip install numpy pillow
    .venv/bin/python scripts/signs_dying_relu.py [EPOCHS] [SEEDS]     # default 5 epochs, 30 seeds

dlkit's side, the shipped config with `--seed 1` to `--seed 30` and `epochs = 5`, counts the
runs whose fifth epoch ends at a cost of ln 6 (see docs/results.md).
"""

import glob
import os
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent / "data" / "signs" / "64x64_SIGNS"
DIMS = [12288, 25, 12, 6]
LR, B1, B2, EPS, BATCH = 1e-4, 0.9, 0.999, 1e-8, 32


def load():
    files = sorted(glob.glob(str(ROOT / "train_signs" / "*.jpg")))
    files += sorted(glob.glob(str(ROOT / "val_signs" / "*.jpg")))
    x = np.stack([np.asarray(Image.open(f).convert("RGB"), dtype=np.float32).reshape(-1)
                  for f in files]) / 255
    y = np.array([int(os.path.basename(f).split("_")[0]) for f in files])
    return x, np.eye(6, dtype=np.float32)[y]


def forward(params, x):
    """The activations of the two hidden layers and the softmax output."""
    a1 = np.maximum(x @ params[0] + params[1], 0)
    a2 = np.maximum(a1 @ params[2] + params[3], 0)
    z3 = a2 @ params[4] + params[5]
    e = np.exp(z3 - z3.max(1, keepdims=True))
    return a1, a2, e / e.sum(1, keepdims=True)


def train(x, y, seed, epochs):
    """Trains one seed; returns the last epoch's mean cost and the params."""
    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in zip(DIMS[:-1], DIMS[1:]):
        limit = np.sqrt(6 / (fan_in + fan_out))
        params += [rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32),
                   np.zeros(fan_out, np.float32)]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    t = 0
    for _ in range(epochs):
        order, total = rng.permutation(len(x)), 0.0
        for start in range(0, len(x), BATCH):
            idx = order[start:start + BATCH]
            xb, yb = x[idx], y[idx]
            a1, a2, p = forward(params, xb)
            total += -np.sum(yb * np.log(p + 1e-12))
            d3 = (p - yb) / len(idx)
            d2 = (d3 @ params[4].T) * (a2 > 0)
            d1 = (d2 @ params[2].T) * (a1 > 0)
            grads = [xb.T @ d1, d1.sum(0), a1.T @ d2, d2.sum(0), a2.T @ d3, d3.sum(0)]
            t += 1
            for i, g in enumerate(grads):
                m[i] = B1 * m[i] + (1 - B1) * g
                v[i] = B2 * v[i] + (1 - B2) * g * g
                params[i] -= LR * (m[i] / (1 - B1 ** t)) / (np.sqrt(v[i] / (1 - B2 ** t)) + EPS)
    return total / len(x), params


def main():
    epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    seeds = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    x, y = load()
    dead = 0
    for seed in range(seeds):
        cost, params = train(x, y, seed, epochs)
        a1, a2, _ = forward(params, x)
        # A layer is dead when no unit varies with the input: the output is then constant.
        varies1 = int((a1.std(0) > 1e-6).sum())
        varies2 = int((a2.std(0) > 1e-6).sum())
        died = varies1 == 0 or varies2 == 0
        dead += died
        print(f"seed {seed}: epoch {epochs} cost {cost:.4f}, units varying with the input: "
              f"{varies1}/25, {varies2}/12{'  DEAD' if died else ''}", flush=True)
    print(f"{dead} of {seeds} seeds dead after {epochs} epochs")


if __name__ == "__main__":
    main()
