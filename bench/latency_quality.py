#!/usr/bin/env python3
"""Latency and quality over the impairment scenarios of issue 7, for
scripts/bench.sh: clean, 40 ms jitter, 5 % and 10 % burst loss, +/-1000 ppm
drift. Reuses bench/pesq/run.py (its venv, speech and WAV reading) and
examples/impair.rs (the same network traces rendered by voxlet's Receiver
and by a fixed 60 ms zero-fill buffer), PESQ P.862.2 wideband at 16 kHz.

    python3 bench/latency_quality.py [--seeds 3] [--codecs g722,opus]

Prints a markdown table. One row per scenario and codec, mean over seeds.
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "pesq"))
import run as pesq_run  # noqa: E402  (bench/pesq/run.py)

SCENARIOS = [
    ("clean (20 ms path)", "base=20"),
    ("jitter 40 ms (p95)", "jitter=40"),
    ("loss 5% in bursts (mean 3)", "loss=burst:0.05:3"),
    ("loss 10% in bursts (mean 3)", "loss=burst:0.10:3"),
    ("drift +1000 ppm (sender fast)", "drift=1000"),
    ("drift −1000 ppm (sender slow)", "drift=-1000"),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--codecs", default="g722,opus")
    args = ap.parse_args()
    pesq_run.ensure_venv()  # re-executes this script inside target/pyenv
    pesq_run.table(SCENARIOS, args.codecs.split(","), list(range(1, args.seeds + 1)),
                   "Baseline: a fixed 60 ms buffer, lost and late packets zero-filled.", prefix="lq_")


if __name__ == "__main__":
    main()
