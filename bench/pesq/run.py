#!/usr/bin/env python3
"""PESQ benchmark of voxlet's receiver against real peers.

Speech (espeak-ng, or the committed fixture when espeak-ng is missing) is
encoded, sent through a simulated network trace (support/src/netsim.rs, via
`examples/impair.rs`), and the very same arrivals (packets and times,
written by impair's `--arrivals`) are rendered by four receivers:
voxlet's Receiver, libwebrtc's NetEq (bench/pesq/neteq_driver.cc, built
against Debian's libtgowt-dev into target/peers/), GStreamer's
rtpjitterbuffer (bench/pesq/gst_peer.py, system python3 with
python3-gst-1.0), and a fixed 60 ms buffer whose lost and late packets are
silence (in impair). Each is scored with ITU-T P.862.2 PESQ (PyPI `pesq`,
wideband at 16 kHz) against the clean speech. Prints markdown tables.

    python3 bench/pesq/run.py                  # all scenarios, G.722 and Opus, 3 seeds
    python3 bench/pesq/run.py --quick          # 1 seed
    python3 bench/pesq/run.py --voxlet-only    # voxlet vs the fixed buffer only (no peers)

Installs `pesq` and `numpy` into a venv under target/pyenv on first use.
`table()` (voxlet vs fixed buffer, with late and concealment columns) is
also used by bench/latency_quality.py.
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
PEERS = os.path.join(ROOT, "target", "peers")
NETEQ_SRC = os.path.join(ROOT, "bench", "pesq", "neteq_driver.cc")
NETEQ_EXE = os.path.join(PEERS, "neteq_driver")
GST_PEER = os.path.join(ROOT, "bench", "pesq", "gst_peer.py")
SYSTEM_PYTHON = "/usr/bin/python3"  # python3-gst-1.0 lives there, not in the venv
GST_LATENCY_MS = 120

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

# Packetisation and delivery patterns of real senders and paths (issue 12).
PATTERN_SCENARIOS = [
    # ffmpeg's RTP muxer alternates long and short packets; Opus allows 60/20.
    ("alternating 60/20 ms packets", "ptime=60,20"),
    # A relay or radio that flushes in bursts: 6 packets together every 120 ms.
    ("batched: 6 packets every 120 ms", "batch=120"),
    # Clean LAN, rendered like an AudioWorklet: 128-frame blocks at 48 kHz.
    ("LAN 1 ms + ~1 ms jitter, 48 kHz worklet blocks", "base=1 jitter=1 render=48000"),
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


def build_impair():
    subprocess.check_call(["cargo", "build", "--release", "--quiet", "--example", "impair"], cwd=ROOT)
    return os.path.join(ROOT, "target", "release", "examples", "impair")


def table(scenarios, codecs, seeds, note, prefix=""):
    """Runs every scenario x codec x seed through examples/impair.rs, scores
    voxlet and the baseline with PESQ and prints the markdown table (mean
    over seeds) under `note`. `prefix` names the work files."""
    import numpy as np
    from pesq import pesq

    os.makedirs(WORK, exist_ok=True)
    src = speech()
    exe = build_impair()
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


NETEQ_FLAGS = ["-std=c++20", "-O2", "-DWEBRTC_POSIX", "-DWEBRTC_LINUX", "-DWEBRTC_LIBRARY_IMPL",
               "-DRTC_DISABLE_TRACE_EVENTS", "-DWEBRTC_NON_STATIC_TRACE_EVENT_HANDLERS=1",
               "-I/usr/include/tg_owt"]


def build_neteq():
    """Builds the NetEq driver into target/peers/ when missing or older than
    its source (~3 s). Needs Debian libtgowt-dev, libabsl-dev, libopus-dev."""
    import glob
    if os.path.exists(NETEQ_EXE) and os.path.getmtime(NETEQ_EXE) >= os.path.getmtime(NETEQ_SRC):
        return NETEQ_EXE
    lib = "/usr/lib/x86_64-linux-gnu"
    if not os.path.exists(os.path.join(lib, "libtg_owt.a")):
        sys.exit("libtg_owt.a missing: apt-get install libtgowt-dev libabsl-dev libopus-dev "
                 "(scripts/setup.sh installs them)")
    os.makedirs(PEERS, exist_ok=True)
    absl = sorted(glob.glob(os.path.join(lib, "libabsl_*.so")))
    subprocess.check_call(["g++", *NETEQ_FLAGS, NETEQ_SRC, "-o", NETEQ_EXE + ".tmp",
                           "-Wl,--start-group", os.path.join(lib, "libtg_owt.a"), *absl,
                           "-Wl,--end-group", "-lopus", "-lpthread"])
    os.replace(NETEQ_EXE + ".tmp", NETEQ_EXE)
    return NETEQ_EXE


def check_gst():
    try:
        subprocess.check_call([SYSTEM_PYTHON, "-c", "import gi; gi.require_version('GstCheck', '1.0'); "
                               "from gi.repository import GstCheck"], stderr=subprocess.DEVNULL)
    except (OSError, subprocess.CalledProcessError):
        sys.exit("GStreamer for python missing: apt-get install python3-gst-1.0 gir1.2-gstreamer-1.0 "
                 "gstreamer1.0-plugins-good gstreamer1.0-libav (scripts/setup.sh installs them)")


PEER_NAMES = ("NetEq", "GStreamer", "fixed")


def peer_table(scenarios, codecs, seeds, prefix="p_"):
    """Runs every scenario x codec x seed once through examples/impair.rs
    (voxlet + the fixed 60 ms buffer, arrivals written to a file), renders
    the same arrivals with NetEq and GStreamer, scores all four with PESQ
    and prints two markdown tables (mean over seeds): PESQ @ delay, then
    late and concealed shares."""
    import numpy as np
    from pesq import pesq

    os.makedirs(WORK, exist_ok=True)
    src = speech()
    exe = build_impair()
    neteq = build_neteq()
    check_gst()
    ref = np.fromfile(src, dtype="<i2").astype(np.float32) / 32768
    rows = []
    for name, trace in scenarios:
        for codec in codecs:
            acc = {k: [] for k in ("voxlet",) + PEER_NAMES}
            for seed in seeds:
                f = {k: os.path.join(WORK, f"{prefix}{k}_{codec}_{seed}.wav") for k in acc}
                arr = os.path.join(WORK, f"{prefix}{codec}_{seed}.arrivals")
                r = json.loads(subprocess.check_output(
                    [exe, "--input", src, "--codec", codec, "--trace", f"seed={seed} {trace}",
                     "--voxlet", f["voxlet"], "--baseline", f["fixed"], "--arrivals", arr], cwd=ROOT))
                stats = {"voxlet": r["voxlet"], "fixed": r["baseline"]}
                stats["NetEq"] = json.loads(subprocess.check_output([neteq, arr, codec, f["NetEq"]]))
                stats["GStreamer"] = json.loads(subprocess.check_output(
                    [SYSTEM_PYTHON, GST_PEER, arr, codec, f["GStreamer"], "--latency", str(GST_LATENCY_MS)]))
                for k in acc:
                    acc[k].append((pesq(16000, ref, read_wav(f[k]), "wb"), stats[k]))

            def mean(k, f):
                return sum(f(x) for x in acc[k]) / len(acc[k])

            row = {k: {"pesq": mean(k, lambda x: x[0]),
                       "delay": mean(k, lambda x: x[1]["delay_ms"]),
                       "late": mean(k, lambda x: x[1].get("late", float("nan"))),
                       "concealed": mean(k, lambda x: x[1]["concealed"])} for k in acc}
            rows.append((name, codec, row))
            print(f"  {name} / {codec}: " + ", ".join(
                f"{k} {v['pesq']:.2f} @ {v['delay']:.0f} ms" for k, v in row.items()),
                file=sys.stderr, flush=True)

    print(f"Speech: {len(ref) / 16000:.1f} s ({os.path.relpath(src, ROOT)}), 20 ms packets unless the "
          f"scenario says otherwise, PESQ P.862.2 wideband (MOS-LQO) at 16 kHz, mean of {len(seeds)} "
          "seed(s); every receiver renders the same arrivals. Cells: PESQ @ mean delay from a packet's "
          "arrival to its playout. NetEq: libwebrtc M110 (Debian libtgowt-dev), defaults. GStreamer: "
          f"rtpjitterbuffer latency={GST_LATENCY_MS} ms, mode=slave, emulated sink (plays at PTS + latency "
          "+ 20 ms). Fixed: plays each packet 60 ms after the first arrival plus its media time, lost and "
          "late packets silent. Last columns: the best of NetEq, GStreamer and fixed among those whose "
          "delay is at most voxlet's + 10 ms, and voxlet's PESQ minus it.\n")
    print("| scenario | codec | voxlet | NetEq | GStreamer | fixed 60 ms | best peer ≤ voxlet delay + 10 ms "
          "| voxlet − best |")
    print("|---|---|---|---|---|---|---|---|")
    for name, codec, row in rows:
        v = row["voxlet"]
        fair = [k for k in PEER_NAMES if row[k]["delay"] <= v["delay"] + 10]
        best = max(fair, key=lambda k: row[k]["pesq"]) if fair else None
        cells = [f"{row[k]['pesq']:.2f} @ {row[k]['delay']:.0f} ms" for k in ("voxlet",) + PEER_NAMES]
        if best:
            d = v["pesq"] - row[best]["pesq"]
            if d > 0:
                cells[0] = f"**{cells[0]}**"
            tail = f"{best} {row[best]['pesq']:.2f} | {d:+.2f}"
        else:
            tail = "– | –"
        print(f"| {name} | {codec} | " + " | ".join(cells) + f" | {tail} |")
    print("\nLate: received packets not played (too late). Concealed: share of the media not played from "
          "its own packet (NetEq and voxlet: concealment counters; GStreamer and fixed: not played from a "
          "packet, so Opus FEC counts as concealed there).\n")
    print("| scenario | codec | late voxlet / NetEq / GStreamer / fixed | concealed voxlet / NetEq / GStreamer / fixed |")
    print("|---|---|---|---|")
    for name, codec, row in rows:
        late = " / ".join(f"{row[k]['late'] * 100:.1f}%" for k in ("voxlet",) + PEER_NAMES)
        conc = " / ".join(f"{row[k]['concealed'] * 100:.1f}%" for k in ("voxlet",) + PEER_NAMES)
        print(f"| {name} | {codec} | {late} | {conc} |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="one seed")
    ap.add_argument("--codecs", default="g722,opus")
    ap.add_argument("--voxlet-only", action="store_true",
                    help="voxlet vs the fixed 60 ms buffer only (no NetEq, no GStreamer)")
    ap.add_argument("--scenarios", help="only scenarios whose name contains one of these "
                    "comma-separated words")
    args = ap.parse_args()
    ensure_venv()
    scenarios = SCENARIOS + PATTERN_SCENARIOS
    if args.scenarios:
        words = args.scenarios.split(",")
        scenarios = [s for s in scenarios if any(w in s[0] for w in words)]
    seeds = [1] if args.quick else [1, 2, 3]
    if args.voxlet_only:
        table(scenarios, args.codecs.split(","), seeds,
              "Baseline: a fixed 60 ms buffer, lost and late packets zero-filled.")
    else:
        peer_table(scenarios, args.codecs.split(","), seeds)


if __name__ == "__main__":
    main()
