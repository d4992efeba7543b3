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
import json
import os
import subprocess
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
    import numpy as np
    from pesq import pesq

    root, work = pesq_run.ROOT, pesq_run.WORK
    os.makedirs(work, exist_ok=True)
    src = pesq_run.speech()
    subprocess.check_call(["cargo", "build", "--release", "--quiet", "--example", "impair"], cwd=root)
    exe = os.path.join(root, "target", "release", "examples", "impair")
    ref = np.fromfile(src, dtype="<i2").astype(np.float32) / 32768
    seeds = list(range(1, args.seeds + 1))
    print(f"Speech: {len(ref) / 16000:.1f} s ({os.path.relpath(src, root)}), 20 ms packets, "
          f"PESQ P.862.2 wideband (MOS-LQO) at 16 kHz, mean of {len(seeds)} seeds. Baseline: a fixed "
          "60 ms buffer, lost and late packets zero-filled. Delay: mean time from a packet's arrival to "
          "its playout. Late: received packets that came too late to play. Concealed: share of the "
          "audio synthesised (baseline: zero-filled).\n")
    print("| scenario | codec | delay voxlet / baseline | late voxlet / baseline | "
          "concealed voxlet / baseline | PESQ voxlet | PESQ baseline | PESQ Δ |")
    print("|---|---|---|---|---|---|---|---|")
    for name, trace in SCENARIOS:
        for codec in args.codecs.split(","):
            acc = []
            for seed in seeds:
                v = os.path.join(work, f"lq_v_{codec}_{seed}.wav")
                b = os.path.join(work, f"lq_b_{codec}_{seed}.wav")
                r = json.loads(subprocess.check_output(
                    [exe, "--input", src, "--codec", codec, "--trace", f"seed={seed} {trace}",
                     "--voxlet", v, "--baseline", b], cwd=root))
                acc.append((r, pesq(16000, ref, pesq_run.read_wav(v), "wb"),
                            pesq(16000, ref, pesq_run.read_wav(b), "wb")))
            m = lambda f: sum(f(x) for x in acc) / len(acc)  # noqa: E731
            v = lambda k: m(lambda x: x[0]["voxlet"][k])  # noqa: E731
            b = lambda k: m(lambda x: x[0]["baseline"][k])  # noqa: E731
            pv, pb = m(lambda x: x[1]), m(lambda x: x[2])
            print(f"| {name} | {codec} | {v('delay_ms'):.0f} / {b('delay_ms'):.0f} ms | "
                  f"{v('late') * 100:.1f}% / {b('late') * 100:.1f}% | "
                  f"{v('concealed') * 100:.1f}% / {b('concealed') * 100:.1f}% | "
                  f"**{pv:.2f}** | {pb:.2f} | {pv - pb:+.2f} |", flush=True)


if __name__ == "__main__":
    main()
