#!/usr/bin/env python3
"""ffmpeg's G.722 decoder and encoder, one slice at a time for bench/ab.py.

Inputs are the committed fixtures repeated REPS times (~19 min of audio) so
process start-up (~0.1 s of CPU on a loaded machine) is small. bench/ab.py
runs the codec command and, right after, a PCM pass-through of the same
audio (demux + mux, no codec); the codec alone ("codec only") is the
difference, the whole process is reported too.
Time is the children's user + system CPU time (getrusage, µs), so other
processes' turns on the core do not count; ffmpeg runs with -threads 1.

    python3 bench/ffmpeg_g722.py OUT_DIR      # one slice each, prints JSON
"""
import json
import os
import resource
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
FIX = os.path.join(ROOT, "tests", "fixtures")
REPS = 200


class Ffmpeg:
    def __init__(self, out, prefix=()):
        os.makedirs(out, exist_ok=True)
        self.prefix = list(prefix)
        g722 = os.path.join(out, "big.g722")
        pcm = os.path.join(out, "big16.s16le")
        with open(g722, "wb") as f:
            f.write(open(os.path.join(FIX, "g722.raw"), "rb").read() * REPS)
        with open(pcm, "wb") as f:
            f.write(open(os.path.join(FIX, "speech_16k.s16le"), "rb").read() * REPS)
        self.audio = {"decode": os.path.getsize(g722) / 8000.0, "encode": os.path.getsize(pcm) / 32000.0}
        pcm_in = ["-f", "s16le", "-ar", "16000", "-ac", "1", "-i", pcm]
        self.cmd = {
            "decode": ["-f", "g722", "-i", g722, "-f", "s16le", "-y", "/dev/null"],
            "encode": pcm_in + ["-c:a", "g722", "-f", "g722", "-y", "/dev/null"],
            # as many samples as the encoder takes; scaled to the decoder's output
            "passthrough": pcm_in + ["-c:a", "pcm_s16le", "-f", "s16le", "-y", "/dev/null"],
        }

    def cpu(self, what):
        """CPU seconds (user + system) and wall seconds of one ffmpeg run."""
        r0, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
        subprocess.run(self.prefix + ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error",
                                      "-threads", "1"] + self.cmd[what], check=True)
        r1, t1 = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
        return (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime), t1 - t0

    def codec_only(self, op, codec_cpu, passthrough_cpu):
        """CPU seconds of the codec alone: the run minus the pass-through of as much audio."""
        return max(codec_cpu - passthrough_cpu * self.audio[op] / self.audio["encode"], 1e-3)

    def meta(self):
        v = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout.split("\n")[0]
        return {"version": v, "decode_audio_s": round(self.audio["decode"], 1),
                "encode_audio_s": round(self.audio["encode"], 1)}


if __name__ == "__main__":
    f = Ffmpeg(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target", "bench"))
    res = f.meta()
    for op in ("decode", "encode"):
        c, p = f.cpu(op)[0], f.cpu("passthrough")[0]
        res[op + "_codec"] = round(f.audio[op] / f.codec_only(op, c, p), 1)
        res[op + "_process"] = round(f.audio[op] / c, 1)
    print(json.dumps(res))
