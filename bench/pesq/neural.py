#!/usr/bin/env python3
"""PESQ of neural Opus (issue 16) beside the classic decoder and WebRTC NetEq.

For each loss scenario and seed the same network trace is applied to two
Opus streams of the same speech: one encoded as voxlet's sender does by
default (24 kbit/s, in-band FEC), one with Deep REDundancy (`--dred` ms) on
top. Every receiver of a stream renders the very same arrivals:

  classic   voxlet's Receiver, libopus classic PLC + FEC (the default build)
  deep PLC  voxlet's Receiver, `neural` build, deep PLC only
  neural    voxlet's Receiver, deep PLC + DRED + OSCE LACE (NeuralOpus::ON)
  NetEq     libwebrtc M110 (Debian libtgowt-dev), its libopus' classic PLC

    python3 bench/pesq/neural.py            # 3 seeds
    python3 bench/pesq/neural.py --quick    # 1 seed

The `neural` voxlet build goes to target/neural/ (its own target dir, so the
default build in target/ is not rebuilt back and forth). Prints markdown.
"""
import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
import run  # noqa: E402  (the peers' helpers: venv, speech, NetEq driver)

NEURAL_TARGET = os.environ.get("VOXLET_NEURAL_TARGET", os.path.join(run.ROOT, "target", "neural"))

SCENARIOS = [
    ("loss 5% random", "loss=random:0.05"),
    ("loss 10% random", "loss=random:0.10"),
    ("loss 20% random", "loss=random:0.20"),
    ("loss 5% bursts (mean 3)", "loss=burst:0.05:3"),
    ("loss 10% bursts (mean 3)", "loss=burst:0.10:3"),
    ("loss 20% bursts (mean 3)", "loss=burst:0.20:3"),
    ("200 ms outage every 3 s", "outage=3000:200"),
    ("500 ms outage every 3 s", "outage=3000:500"),
]

RECEIVERS = [("classic", "off"), ("deep PLC", "plc"), ("neural", "on"), ("neural + rewind", "rewind")]


def build():
    subprocess.check_call(["cargo", "build", "--release", "--quiet", "--features", "neural",
                           "--example", "impair"], cwd=run.ROOT,
                          env={**os.environ, "CARGO_TARGET_DIR": NEURAL_TARGET})
    return os.path.join(NEURAL_TARGET, "release", "examples", "impair")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="one seed")
    ap.add_argument("--dred", type=int, default=1000, help="DRED duration asked of the second stream's encoder, ms")
    ap.add_argument("--bitrate", type=int, default=32000, help="Opus bitrate of both streams, bit/s")
    ap.add_argument("--scenarios", help="only scenarios whose name contains one of these words")
    args = ap.parse_args()
    run.ensure_venv()
    import numpy as np
    from pesq import pesq

    scenarios = SCENARIOS
    if args.scenarios:
        words = args.scenarios.split(",")
        scenarios = [s for s in scenarios if any(w in s[0] for w in words)]
    seeds = [1] if args.quick else [1, 2, 3]
    os.makedirs(run.WORK, exist_ok=True)
    src = run.speech()
    exe = build()
    neteq = run.build_neteq()
    ref = np.fromfile(src, dtype="<i2").astype(np.float32) / 32768
    streams = [("no DRED", 0), ("DRED", args.dred)]
    cols = [(s, r) for s in streams for r in RECEIVERS + [("NetEq", None)]]
    rows = []
    for name, trace in scenarios:
        acc = {c: [] for c in range(len(cols))}
        for seed in seeds:
            for si, (sname, dred) in enumerate(streams):
                arr = os.path.join(run.WORK, f"n_{si}_{seed}.arrivals")
                for ri, (rname, mode) in enumerate(RECEIVERS + [("NetEq", None)]):
                    c = si * (len(RECEIVERS) + 1) + ri
                    wav = os.path.join(run.WORK, f"n_{si}_{ri}_{seed}.wav")
                    if mode is None:
                        st = json.loads(subprocess.check_output([neteq, arr, "opus", wav]))
                        st["dred_samples"] = 0
                    else:
                        cmd = [exe, "--input", src, "--codec", "opus", "--trace", f"seed={seed} {trace}",
                               "--voxlet", wav, "--neural", mode, "--dred", str(dred),
                               "--bitrate", str(args.bitrate)]
                        if ri == 0:
                            cmd += ["--arrivals", arr]
                        r = json.loads(subprocess.check_output(cmd, cwd=run.ROOT))
                        st = r["voxlet"]
                    acc[c].append((pesq(16000, ref, run.read_wav(wav), "wb"), st))
        row = []
        for c in range(len(cols)):
            xs = acc[c]
            row.append({"pesq": sum(x[0] for x in xs) / len(xs),
                        "delay": sum(x[1]["delay_ms"] for x in xs) / len(xs),
                        "dred": sum(x[1].get("dred_samples", 0) for x in xs) / len(xs),
                        "conc": sum(x[1]["concealed"] for x in xs) / len(xs)})
        rows.append((name, row))
        print(f"  {name}: " + ", ".join(f"{cols[i][0][0]}/{cols[i][1][0]} {v['pesq']:.2f}"
                                        for i, v in enumerate(row)), file=sys.stderr, flush=True)

    print(f"Speech: {len(ref) / 16000:.1f} s, Opus {args.bitrate // 1000} kbit/s 20 ms (the first stream with "
          "in-band FEC, the DRED stream without: with both libopus leaves DRED too few bits), PESQ P.862.2 wideband at "
          f"16 kHz, mean of {len(seeds)} seed(s). Each stream's receivers render the same arrivals; the two "
          "streams see the same network trace. Cells: PESQ @ mean arrival→playout delay.\n")
    head = " | ".join(f"{s[0]}: {r[0]}" for s, r in cols)
    print(f"| scenario | {head} |")
    print("|---|" + "---|" * len(cols))
    for name, row in rows:
        print(f"| {name} | " + " | ".join(f"{v['pesq']:.2f} @ {v['delay']:.0f}" for v in row) + " |")
    print("\nDRED stream, neural receivers: audio recovered from DRED (dredSamples, ms of media) and "
          "the share of output concealed.\n")
    print("| scenario | no rewind: from DRED | concealed | with rewind: from DRED | concealed |")
    print("|---|---|---|---|---|")
    base = len(RECEIVERS) + 1
    for name, row in rows:
        a, b = row[base + 2], row[base + 3]
        print(f"| {name} | {a['dred'] / 16:.0f} ms | {a['conc'] * 100:.1f}% | {b['dred'] / 16:.0f} ms | "
              f"{b['conc'] * 100:.1f}% |")


if __name__ == "__main__":
    main()
