#!/usr/bin/env python3
"""Compares depthd's and the reference's outputs in one folder (bench_rollingdepth --save and
run_reference.py --out) and prints one table row per output.

  compare.py DIR [--a depthd] [--b reference] [--json FILE]

Snippets (before co-alignment) compare value by value: the networks on the same input and
noise. The co-aligned video ([-1, 1]) and the final depth are min-max normalised over the
video on both sides before comparing (the output is affine-invariant), so they also carry the
difference between the co-alignment solvers.
"""

import argparse
import glob
import json
import os

import numpy as np


def stats(a, b, normalise):
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    if normalise:
        a = (a - a.min()) / max(a.max() - a.min(), 1e-30)
        b = (b - b.min()) / max(b.max() - b.min(), 1e-30)
    diff = np.abs(a - b)
    scale = max(np.abs(b).max(), 1e-30)
    return {
        "shape": list(a.shape),
        "max_abs": float(diff.max()),
        "mean_abs": float(diff.mean()),
        "max_rel": float(diff.max() / scale),
        "finite": bool(np.isfinite(a).all() and np.isfinite(b).all()),
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--a", default="depthd")
    p.add_argument("--b", default="reference")
    p.add_argument("--json", default=None)
    args = p.parse_args()
    rows = {}
    groups = sorted(glob.glob(os.path.join(args.dir, f"{args.a}_snippets_g*.npy")))
    for path in groups:
        g = path.rsplit("_g", 1)[1][:-4]
        other = os.path.join(args.dir, f"{args.b}_snippets_g{g}.npy")
        if os.path.exists(other):
            rows[f"snippets dilation group {g}"] = stats(np.load(path), np.load(other), False)
    for name in ("coaligned", "depth"):
        a, b = (os.path.join(args.dir, f"{side}_{name}.npy") for side in (args.a, args.b))
        if os.path.exists(a) and os.path.exists(b):
            rows[name] = stats(np.load(a), np.load(b), True)
    if not rows:
        raise SystemExit(f"nothing to compare in {args.dir}")
    print(f"{'output':28} {'shape':>22} {'max_abs':>10} {'mean_abs':>10} {'max_rel':>10}")
    for name, r in rows.items():
        print(f"{name:28} {str(r['shape']):>22} {r['max_abs']:10.3e} {r['mean_abs']:10.3e} {r['max_rel']:10.3e}"
              + ("" if r["finite"] else "  (non-finite values)"))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
