#!/usr/bin/env python3
"""The side-by-side table (markdown) from scripts/gpu-bench.sh's OUT_DIR: per preset and dtype,
seconds per 100 frames per stage for depthd and the reference, peak device memory, the speed-up,
and the difference between their outputs."""

import json
import os
import sys

STAGES = ["encode", "unet", "decode", "coalign", "merge", "refine", "total"]


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def main():
    out = sys.argv[1]
    steps = sorted(d for d in os.listdir(out) if os.path.isdir(os.path.join(out, d)))
    print("| preset, dtype | side | " + " | ".join(STAGES) + " | peak alloc / reserved GiB | speed-up |")
    print("|---" * (len(STAGES) + 4) + "|")
    notes, diffs = [], []
    for step in steps:
        d = load(os.path.join(out, step, "depthd.json"))
        r = load(os.path.join(out, step, "reference.json"))
        c = load(os.path.join(out, step, "compare.json"))
        rows = []
        if d and d.get("results"):
            res = d["results"][0]
            rows.append(("depthd", res["seconds_per_100_frames"], res.get("peak_allocated_gib", 0), res.get("peak_reserved_gib", 0)))
            notes.append(f"{step}: depthd merge {res.get('merge')}, solver {d.get('solver')}, noise {d.get('noise')}, {d['frames']} frames {d['width']}x{d['height']}, torch {d.get('torch')}")
        if r:
            rows.append(("reference", r["seconds_per_100_frames"], r.get("peak_allocated_gib", 0), r.get("peak_reserved_gib", 0)))
            notes.append(f"{step}: reference torch {r.get('torch')}, diffusers {r.get('diffusers')}, attention {r.get('attention')}, stand-ins {r.get('stand_ins') or 'none'}, text embedding {r.get('text_embedding')}")
        speedup = ""
        if len(rows) == 2 and rows[0][1]["total"] > 0:
            speedup = f"{rows[1][1]['total'] / rows[0][1]['total']:.2f}x"
        for side, per100, alloc, reserved in rows:
            cells = " | ".join(f"{per100.get(s, 0):.3f}" for s in STAGES)
            print(f"| {step} | {side} | {cells} | {alloc:.2f} / {reserved:.2f} | {speedup if side == 'depthd' else ''} |")
        if c:
            for name, s in c.items():
                diffs.append(f"| {step} | {name} | {s['max_abs']:.2e} | {s['mean_abs']:.2e} | {s['max_rel']:.2e} |")
    if diffs:
        print("\n| preset, dtype | output | max abs | mean abs | max rel |\n|---|---|---|---|---|")
        print("\n".join(diffs))
    if notes:
        print("\n" + "\n".join(f"- {n}" for n in notes))


if __name__ == "__main__":
    main()
