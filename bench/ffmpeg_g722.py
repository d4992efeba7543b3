#!/usr/bin/env python3
"""ffmpeg's G.722 decoder and encoder as x-realtime, for scripts/bench.sh.

Inputs are the committed fixtures repeated 200 times (~19 min of audio) so
process start-up is small; each command runs 3 times and the lowest user
CPU time (`-benchmark`'s utime) counts. A PCM pass-through of the same
audio (demux + mux, no codec) is measured too and subtracted, giving the
codec alone ("codec only"); the whole-process figure is printed as well.

    python3 bench/ffmpeg_g722.py OUT_DIR      # prints JSON
"""
import json
import os
import re
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
FIX = os.path.join(ROOT, "tests", "fixtures")
REPS = 200


def utime(args):
    best = float("inf")
    for _ in range(3):
        p = subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-benchmark", "-threads", "1"] + args,
                           capture_output=True, text=True, check=True)
        m = re.search(r"bench: utime=([\d.]+)s", p.stdout + p.stderr)
        best = min(best, float(m.group(1)))
    return best


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target", "bench")
    os.makedirs(out, exist_ok=True)
    g722 = os.path.join(out, "big.g722")
    pcm = os.path.join(out, "big16.s16le")
    with open(g722, "wb") as f:
        f.write(open(os.path.join(FIX, "g722.raw"), "rb").read() * REPS)
    with open(pcm, "wb") as f:
        f.write(open(os.path.join(FIX, "speech_16k.s16le"), "rb").read() * REPS)
    dec_s = os.path.getsize(g722) / 8000.0
    enc_s = os.path.getsize(pcm) / 32000.0
    pcm_in = ["-f", "s16le", "-ar", "16000", "-ac", "1", "-i", pcm]
    dec = utime(["-f", "g722", "-i", g722, "-f", "s16le", "-y", "/dev/null"])
    enc = utime(pcm_in + ["-c:a", "g722", "-f", "g722", "-y", "/dev/null"])
    # Pass-through of as many samples as the decoder produces / the encoder takes.
    passthrough = utime(pcm_in + ["-c:a", "pcm_s16le", "-f", "s16le", "-y", "/dev/null"])
    pt_dec = passthrough * dec_s / enc_s
    version = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout.split("\n")[0]
    print(json.dumps({
        "version": version,
        "decode_audio_s": round(dec_s, 1), "encode_audio_s": round(enc_s, 1),
        "decode_process": round(dec_s / dec, 1), "encode_process": round(enc_s / enc, 1),
        "decode_codec": round(dec_s / max(dec - pt_dec, 1e-3), 1),
        "encode_codec": round(enc_s / max(enc - passthrough, 1e-3), 1),
        "utime": {"decode": dec, "encode": enc, "passthrough": passthrough},
    }))


if __name__ == "__main__":
    main()
