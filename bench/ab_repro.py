#!/usr/bin/env python3
"""Do bench/ab.py's ratios reproduce? Compares the medians of several runs
(ab.json files, e.g. from back-to-back `bash scripts/bench.sh ratios`):
per ratio, each run's median and their half-range relative to the midpoint,
flagged when it exceeds +-5 %.

    python3 bench/ab_repro.py run1/ab.json run2/ab.json run3/ab.json
"""
import json
import sys

runs = [json.load(open(p)) for p in sys.argv[1:]]
keys = [(r["case"], r["a"], r["b"]) for r in runs[0]["ratios"]]
bad = 0
print(f"{'case':12} {'ratio':22} " + " ".join(f"{'run ' + str(i + 1):>14}" for i in range(len(runs))) + "   repro")
for k in keys:
    rs = [next(r for r in run["ratios"] if (r["case"], r["a"], r["b"]) == k) for run in runs]
    meds = [r["median"] for r in rs]
    lo, hi = min(meds), max(meds)
    half = (hi - lo) / (hi + lo)
    bad += half > 0.05
    cells = " ".join(f"{r['median']:7.3f} ±{r['spread'] * 100:4.1f}%" for r in rs)
    print(f"{k[0]:12} {k[1] + '/' + k[2]:22} {cells}   ±{half * 100:4.1f} %{'  > ±5 %' if half > 0.05 else ''}")
print(f"{bad} of {len(keys)} ratios outside ±5 % across {len(runs)} runs")
for i, run in enumerate(runs):
    o = [r["others_cores"] for r in run["load"]["rounds"]]
    print(f"run {i + 1}: others' load {min(o):.2f}-{max(o):.2f} cores; warnings: {len(run['warnings'])}")
