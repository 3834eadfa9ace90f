#!/usr/bin/env python3
"""Independent numpy reference for `fastbfp train --policy fp32` on traces/train/mlp-digits.ron.

Trains the same MLP (64 -> 128 -> 64 -> 10, biases, ReLU) on traces/data/digits.npz with the
same initial weights, data order and hyper-parameters as fastbfp, written from fastbfp's
documented contract (docs/training.md), not from its code:

- random streams: SplitMix64; stream (seed, purpose, index) starts at
  seed ^ (purpose * 0xD1B54A32D192ED03) ^ (index * 0x8CB92BA72F3D8DD7) (mod 2^64);
  purpose 1 = a layer's weights (index = its position in the workload's layer list),
  purpose 2 = an epoch's data order (index = the epoch);
- uniform = (next >> 11) * 2^-53; He-uniform weight = (2u - 1) * sqrt(6 / fan_in) in binary64,
  rounded to binary32, drawn in row-major order of W[out, in]; biases 0;
- data order: Fisher-Yates from the last position down, j = next % (i + 1); batches of 32 in
  that order, the incomplete last batch dropped;
- loss: mean softmax cross-entropy; SGD with momentum 0.9, weight decay 1e-4 on weights
  (not biases): g' = g + wd w, v = mu v + g', w -= lr v, all in float32; learning rate cosine
  from 0.05 to 0 over the planned 20 epochs x 44 iterations, lr_i = 0.5 * 0.05 * (1 + cos(pi i / I)).

Everything is float32 except the learning rate, computed in float64 then rounded. numpy's
matmul sums in its own order (BLAS), fastbfp's fp32 cells sum sequentially: the trajectories
agree to rounding, not bit for bit.

Writes the training loss of the first N iterations (default 50) as JSON.
"""
import argparse
import json
import math

import numpy as np

M64 = (1 << 64) - 1


class SplitMix64:
    def __init__(self, state):
        self.state = state & M64

    @classmethod
    def stream(cls, seed, purpose, index):
        return cls(seed ^ ((purpose * 0xD1B54A32D192ED03) & M64) ^ ((index * 0x8CB92BA72F3D8DD7) & M64))

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & M64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        return z ^ (z >> 31)

    def uniform(self):
        return (self.next() >> 11) * (1.0 / (1 << 53))

    def permutation(self, n):
        p = list(range(n))
        for i in range(n - 1, 0, -1):
            j = self.next() % (i + 1)
            p[i], p[j] = p[j], p[i]
        return p


def he_uniform(seed, layer_index, out_f, in_f):
    r = SplitMix64.stream(seed, 1, layer_index)
    bound = math.sqrt(6.0 / in_f)
    w = [(2.0 * r.uniform() - 1.0) * bound for _ in range(out_f * in_f)]
    return np.array(w, dtype=np.float64).astype(np.float32).reshape(out_f, in_f)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="traces/data/digits.npz")
    ap.add_argument("--iterations", type=int, default=50)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("-o", "--output", default="tests/data/train/mlp-digits-fp32-loss.json")
    a = ap.parse_args()

    d = np.load(a.data)
    x = d["x_train"].reshape(len(d["x_train"]), -1).astype(np.float32)
    y = d["y_train"].astype(np.int64)
    n, batch, epochs = len(x), 32, 20
    per_epoch = n // batch
    total = per_epoch * epochs
    lr0, mom, wd = 0.05, np.float32(0.9), np.float32(1e-4)

    # Workload layer positions: flatten 0, fc1 1, relu1 2, fc2 3, relu2 4, fc3 5.
    dims = [(1, 128, 64), (3, 64, 128), (5, 10, 64)]
    W = [he_uniform(a.seed, i, o, k) for i, o, k in dims]
    B = [np.zeros(o, dtype=np.float32) for _, o, _ in dims]
    VW = [np.zeros_like(w) for w in W]
    VB = [np.zeros_like(b) for b in B]

    losses = []
    it = 0
    for epoch in range(epochs):
        order = SplitMix64.stream(a.seed, 2, epoch).permutation(n)
        for b in range(per_epoch):
            if it >= a.iterations:
                break
            idx = order[b * batch:(b + 1) * batch]
            xb, yb = x[idx], y[idx]
            # forward
            acts = [xb]
            h = xb
            for k in range(3):
                z = h @ W[k].T + B[k]
                if k < 2:
                    h = np.maximum(z, np.float32(0))
                    acts.append(h)
                else:
                    h = z
            zmax = h.max(axis=1, keepdims=True)
            e = np.exp(h - zmax)
            s = e.sum(axis=1, keepdims=True)
            loss = float(np.mean((zmax[:, 0] + np.log(s[:, 0])) - h[np.arange(batch), yb]))
            losses.append(loss)
            g = e / s
            g[np.arange(batch), yb] -= np.float32(1)
            g = (g / np.float32(batch)).astype(np.float32)
            # backward
            gw, gb = [None] * 3, [None] * 3
            for k in (2, 1, 0):
                gw[k] = g.T @ acts[k]
                gb[k] = g.sum(axis=0)
                if k > 0:
                    g = (g @ W[k]) * (acts[k] > 0)
            lr = np.float32(0.5 * lr0 * (1.0 + math.cos(math.pi * it / total)))
            for k in range(3):
                VW[k] = mom * VW[k] + (gw[k] + wd * W[k])
                W[k] = W[k] - lr * VW[k]
                VB[k] = mom * VB[k] + gb[k]
                B[k] = B[k] - lr * VB[k]
            it += 1
    with open(a.output, "w") as f:
        json.dump({"source": "scripts/train_reference.py (numpy %s)" % np.__version__,
                   "workload": "traces/train/mlp-digits.ron", "data": a.data, "seed": a.seed,
                   "iterations": len(losses), "train_loss": losses}, f, indent=1)
        f.write("\n")
    print("wrote %d losses to %s (first %.6f, last %.6f)" % (len(losses), a.output, losses[0], losses[-1]))


if __name__ == "__main__":
    main()
