#!/usr/bin/env python3
"""PESQ benchmark of voxlet's receiver against a naive jitter buffer.

Speech (espeak-ng, or the committed fixture when espeak-ng is missing) is
encoded, sent through the same simulated network traces (tests/netsim, via
`examples/impair.rs`) and rendered twice: by voxlet's Receiver, and by a
baseline with a fixed 60 ms buffer whose lost and late packets are silence.
Both are scored with ITU-T P.862 PESQ (PyPI `pesq`, wideband at 16 kHz)
against the clean speech. Prints a markdown table.

    python3 bench/pesq/run.py            # all scenarios, G.722 and Opus, 3 seeds
    python3 bench/pesq/run.py --quick    # 1 seed

Installs `pesq` and `numpy` into a venv under target/pyenv on first use.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import wave

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
VENV = os.path.join(ROOT, "target", "pyenv")
WORK = os.path.join(ROOT, "target", "pesq")

SCENARIOS = [
    ("clean (20 ms path)", "base=20"),
    ("jitter 20 ms (p95)", "jitter=20"),
    ("jitter 40 ms (p95)", "jitter=40"),
    ("jitter 80 ms (p95)", "jitter=80"),
    ("loss 5% random", "loss=random:0.05"),
    ("loss 5% in bursts (mean 3)", "loss=burst:0.05:3"),
    ("jitter 40 ms + 5% bursts", "jitter=40 loss=burst:0.05:3"),
    ("delay spikes 300 ms (1 per 5 s) + jitter 10 ms", "jitter=10 spikes=0.2:300"),
    ("reorder 5% + duplicate 2% + jitter 10 ms", "jitter=10 reorder=0.05 duplicate=0.02"),
    ("drift −1000 ppm + jitter 20 ms + 2% loss", "drift=-1000 jitter=20 loss=random:0.02"),
]

TEXT = (
    "The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background. "
    "It is easy to tell the depth of a well. These days a chicken leg is a rare dish. "
    "Rice is often served in round bowls. The juice of lemons makes fine punch. "
    "The box was thrown beside the parked truck. The hogs were fed chopped corn and garbage."
)


def ensure_venv():
    py = os.path.join(VENV, "bin", "python")
    if not os.path.exists(py):
        subprocess.check_call([sys.executable, "-m", "venv", VENV])
    try:
        subprocess.check_call([py, "-c", "import pesq, numpy"], stderr=subprocess.DEVNULL)
    except subprocess.CalledProcessError:
        subprocess.check_call([py, "-m", "pip", "install", "-q", "pesq", "numpy"])
    if os.path.realpath(sys.prefix) != os.path.realpath(VENV):
        os.execv(py, [py] + sys.argv)


def speech():
    """16 kHz mono s16le speech; returns its path."""
    out = os.path.join(WORK, "speech_16k.s16le")
    if os.path.exists(out):
        return out
    if shutil.which("espeak-ng") and shutil.which("ffmpeg"):
        wav = os.path.join(WORK, "speech.wav")
        subprocess.check_call(["espeak-ng", "-v", "en-us", "-s", "150", "-w", wav, TEXT])
        subprocess.check_call(
            ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", wav,
             "-ar", "16000", "-ac", "1", "-f", "s16le", out])
        return out
    return os.path.join(ROOT, "tests", "fixtures", "speech_16k.s16le")


def read_wav(path):
    import numpy as np
    with wave.open(path) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float32) / 32768


def table(scenarios, codecs, seeds, note, prefix=""):
    """Runs every scenario x codec x seed through examples/impair.rs, scores
    voxlet and the baseline with PESQ and prints the markdown table (mean
    over seeds) under `note`. `prefix` names the work files."""
    import numpy as np
    from pesq import pesq

    os.makedirs(WORK, exist_ok=True)
    src = speech()
    subprocess.check_call(["cargo", "build", "--release", "--quiet", "--example", "impair"], cwd=ROOT)
    exe = os.path.join(ROOT, "target", "release", "examples", "impair")
    ref = np.fromfile(src, dtype="<i2").astype(np.float32) / 32768
    print(f"Speech: {len(ref) / 16000:.1f} s ({os.path.relpath(src, ROOT)}), 20 ms packets, "
          f"PESQ P.862.2 wideband (MOS-LQO) at 16 kHz, mean of {len(seeds)} seed(s). {note} "
          "Delay: mean time from a packet's arrival to its playout. Late: received packets that "
          "came too late to play. Concealed: share of the audio synthesised (baseline: "
          "zero-filled).\n")
    print("| scenario | codec | delay voxlet / baseline | late voxlet / baseline | "
          "concealed voxlet / baseline | PESQ voxlet | PESQ baseline | PESQ Δ |")
    print("|---|---|---|---|---|---|---|---|")
    for name, trace in scenarios:
        for codec in codecs:
            acc = []
            for seed in seeds:
                v = os.path.join(WORK, f"{prefix}v_{codec}_{seed}.wav")
                b = os.path.join(WORK, f"{prefix}b_{codec}_{seed}.wav")
                r = json.loads(subprocess.check_output(
                    [exe, "--input", src, "--codec", codec, "--trace", f"seed={seed} {trace}",
                     "--voxlet", v, "--baseline", b], cwd=ROOT))
                acc.append((r, pesq(16000, ref, read_wav(v), "wb"), pesq(16000, ref, read_wav(b), "wb")))

            def mean(f):
                return sum(f(x) for x in acc) / len(acc)

            def vox(k):
                return mean(lambda x: x[0]["voxlet"][k])

            def base(k):
                return mean(lambda x: x[0]["baseline"][k])

            pv, pb = mean(lambda x: x[1]), mean(lambda x: x[2])
            print(f"| {name} | {codec} | {vox('delay_ms'):.0f} / {base('delay_ms'):.0f} ms | "
                  f"{vox('late') * 100:.1f}% / {base('late') * 100:.1f}% | "
                  f"{vox('concealed') * 100:.1f}% / {base('concealed') * 100:.1f}% | "
                  f"**{pv:.2f}** | {pb:.2f} | {pv - pb:+.2f} |", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="one seed")
    ap.add_argument("--codecs", default="g722,opus")
    args = ap.parse_args()
    ensure_venv()
    table(SCENARIOS, args.codecs.split(","), [1] if args.quick else [1, 2, 3],
          "Baseline: a fixed 60 ms buffer, lost and late packets zero-filled.")


if __name__ == "__main__":
    main()
