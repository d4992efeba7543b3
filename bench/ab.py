#!/usr/bin/env python3
"""Codec speed ratios measured in alternating rounds, for scripts/bench.sh.

Why: figures measured minutes apart (each the best of 5 rounds) drifted by
up to 2x between runs on a shared machine, because the other processes'
load changed between the two measurements. Here every candidate of a case
runs one short slice per round, back to back, and a ratio is the median over
rounds of that round's ratio, so a load change hits both sides of a ratio
alike, and the spread of the per-round ratios shows how much to trust it.

- Candidates: voxlet native (`bench_anchors --serve`), voxlet wasm and the
  npm anchors in one Node process (`bench/anchors.mjs`), and ffmpeg (one
  process per slice, see bench/ffmpeg_g722.py). The two workers stay alive
  and idle between commands, so only one candidate runs at a time.
- Time is CPU time (clock_gettime / process.cpuUsage / the children's
  rusage), not wall time: wall time also counts other processes' turns on
  the core. Wall time is kept to see how often we were preempted.
- Slices are sized to ~--slice s of CPU each after a warm-up; the first
  round is discarded (JIT tier-up); the order of the candidates alternates
  from round to round (A B, then B A) so a trend inside a round cancels.
- Inside a round each candidate's slice is cut into --inner short pieces run
  A B A B ..., and the round keeps each candidate's fastest piece: other
  processes only ever make a piece slower (cold caches after they ran on
  the core, a busy sibling), so the fastest of a few interleaved pieces is
  the least disturbed, and it was measured within milliseconds of the other
  candidate's. ffmpeg (a process per run, ~0.1 s of start-up CPU under
  load) gets up to FFMPEG_PIECES codec runs and pass-through runs per round.
- Node runs with --single-threaded-gc: with concurrent GC, helper threads'
  CPU time (counted by process.cpuUsage) depends on whether a core was free,
  which made the JS anchors' figures swing with the load.
- Load: /proc/stat's busy time of the whole machine is sampled around every
  round; what we did not use ourselves is the others' load, in cores.
  Rounds where it moved away from the run's median, or where we got less
  than 90 % of the wall time on a core, are flagged, and a warning is
  printed when the load changed or a ratio's spread exceeds ±5 %.

    python3 bench/ab.py OUT_DIR [--rounds 10] [--slice 0.1] [--inner 5] [--cpu N] [--only CASE,...] > OUT_DIR/ab.json

OUT_DIR must hold opus_packets.bin (from `bench_anchors OUT_DIR`) and the
wasm bindings in OUT_DIR/wasm; a readable summary goes to stderr.
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ffmpeg_g722  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))

# case -> candidates (the first one is voxlet wasm, the subject of the ratios)
CASES = {
    "opus_decode": ["wasm", "native", "opus-decoder"],
    "opus_encode": ["wasm", "native"],
    "pcmu_decode": ["wasm", "native", "alawmulaw"],
    "pcma_decode": ["wasm", "native", "alawmulaw"],
    "pcmu_encode": ["wasm", "native", "alawmulaw"],
    "pcma_encode": ["wasm", "native", "alawmulaw"],
    "g722_decode": ["wasm", "native", "ffmpeg"],
    "g722_encode": ["wasm", "native", "ffmpeg"],
    "rx_pcmu": ["wasm", "native"],
    "rx_g722": ["wasm", "native"],
    "rx_opus": ["wasm", "native"],
}
# The ratios the reports print: (case, numerator, denominator).
RATIOS = []
for _c, _cands in CASES.items():
    for _b in _cands[1:]:
        RATIOS.append((_c, "wasm", _b))
    if "ffmpeg" in _cands:
        RATIOS.append((_c, "native", "ffmpeg"))
        RATIOS.append((_c, "wasm", "ffmpeg-process"))

FFMPEG_PIECES = 3  # ffmpeg runs are long (whole input per process): fewer pieces
SPREAD_WARN = 0.05  # +-5 %: the reproducibility the ratios are meant to have
LOAD_WARN = 0.25    # cores: a change in the others' load worth flagging
ON_CPU_WARN = 0.90  # share of a slice's wall time we were on a core


def log(*a):
    print(*a, file=sys.stderr, flush=True)


class Worker:
    """A long-lived process answering "... PASSES" lines with "CPU WALL AUDIO"."""

    def __init__(self, argv, prefix=""):
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.prefix = prefix

    def ask(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        reply = self.p.stdout.readline()
        if not reply:
            raise SystemExit(f"worker {self.p.args} died")
        return reply

    def run(self, case, n):
        cpu, wall, audio = map(float, self.ask(f"{self.prefix}{case} {n}").split())
        return cpu, wall, audio

    def close(self):
        self.p.stdin.close()
        self.p.wait()


def busy_total():
    """Busy and total CPU seconds of the whole machine so far (/proc/stat)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    hz = os.sysconf("SC_CLK_TCK")
    idle = v[3] + v[4]  # idle + iowait
    return (sum(v[:8]) - idle) / hz, sum(v[:8]) / hz


def q(xs, p):
    """Percentile p (0..1) by linear interpolation."""
    s = sorted(xs)
    k = (len(s) - 1) * p
    i = int(k)
    return s[i] if i + 1 >= len(s) else s[i] + (s[i + 1] - s[i]) * (k - i)


def summary(xs):
    return {"median": statistics.median(xs), "q1": q(xs, 0.25), "q3": q(xs, 0.75),
            "min": min(xs), "max": max(xs), "n": len(xs)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--rounds", type=int, default=10, help="counted rounds (one more is discarded as warm-up)")
    ap.add_argument("--slice", type=float, default=0.1, help="CPU seconds per candidate per round")
    ap.add_argument("--inner", type=int, default=5, help="interleaved pieces per slice; the fastest counts")
    ap.add_argument("--cpu", type=int, default=None, help="pin every candidate to this CPU (taskset)")
    ap.add_argument("--only", default="", help="comma-separated cases (default: all)")
    a = ap.parse_args()
    out = a.out
    cases = {c: v for c, v in CASES.items() if not a.only or c in a.only.split(",")}
    pin = ["taskset", "-c", str(a.cpu)] if a.cpu is not None else []
    T = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))

    native = Worker(pin + [os.path.join(T, "release", "examples", "bench_anchors"), "--serve", out])
    node = Worker(pin + ["node", "--single-threaded-gc", os.path.join(ROOT, "bench", "anchors.mjs"), os.path.join(out, "wasm"),
                         os.path.join(out, "opus_packets.bin"), os.path.join(ROOT, "tests", "fixtures")])
    info = json.loads(node.ask("info"))
    ff = ffmpeg_g722.Ffmpeg(out, pin)

    def run(cand, case, n):
        """One slice: (cpu_s, wall_s, audio_s)."""
        if cand == "native":
            return native.run(case, n)
        return node.run(f"{cand} {case}", n)

    # Warm-up and sizing: double the passes until a slice takes a quarter of
    # --slice, then size from that (ffmpeg's slice is its fixed input).
    passes = {}
    for case, cands in cases.items():
        for cand in cands:
            if cand == "ffmpeg":
                continue
            n = 1
            while True:
                cpu, _, _ = run(cand, case, n)
                if cpu >= a.slice / 4:
                    break
                n *= 2
            passes[case, cand] = max(1, round(n * a.slice / a.inner / cpu))
    log(f"[ab] {a.rounds} rounds (+1 warm-up) of {sum(len(v) for v in cases.values())} slices "
        f"of ~{a.slice} s CPU each, in {a.inner} interleaved pieces{', pinned to CPU %d' % a.cpu if pin else ''}")

    xrt = {}     # (case, cand) -> [x-realtime per round]
    ratios = {}  # (case, a, b) -> [ratio per round]
    load = []    # per round: others' load in cores, our on-CPU share
    ncpu = os.cpu_count()
    for r in range(a.rounds + 1):
        b0, t0, self0 = *busy_total(), resource.getrusage(resource.RUSAGE_SELF)
        ours = wall = 0.0
        got, fbest = {}, {}
        for case, cands in cases.items():
            order = cands if r % 2 == 0 else cands[::-1]
            for piece in range(a.inner):
                for cand in order:
                    if cand == "ffmpeg":  # codec run + pass-through run; the fastest of each counts
                        if piece < FFMPEG_PIECES:
                            op = case.split("_")[1]
                            for what in (op, "passthrough"):
                                cpu, w = ff.cpu(what)
                                fbest[case, what] = min(fbest.get((case, what), 1e9), cpu)
                                ours += cpu
                                wall += w
                        continue
                    cpu, w, audio = run(cand, case, passes[case, cand])
                    got[case, cand] = max(got.get((case, cand), 0.0), audio / cpu)
                    ours += cpu
                    wall += w
        for case in cases:
            if (case, "passthrough") in fbest:
                op = case.split("_")[1]
                c, p = fbest[case, op], fbest[case, "passthrough"]
                got[case, "ffmpeg"] = ff.audio[op] / ff.codec_only(op, c, p)
                got[case, "ffmpeg-process"] = ff.audio[op] / c
        b1, t1, self1 = *busy_total(), resource.getrusage(resource.RUSAGE_SELF)
        ours += (self1.ru_utime + self1.ru_stime) - (self0.ru_utime + self0.ru_stime)
        span = (t1 - t0) / ncpu  # wall seconds of the round, from the same counters
        others = max(0.0, (b1 - b0) - ours) / span if span > 0 else 0.0
        on_cpu = ours / wall if wall else 1.0
        log(f"[ab] round {r}{' (warm-up, discarded)' if r == 0 else ''}: others {others:.2f} cores, "
            f"on-CPU {min(on_cpu, 1):.0%}")
        if r == 0:
            continue
        load.append({"round": r, "others_cores": round(others, 3), "on_cpu": round(min(on_cpu, 1.0), 3)})
        for k, v in got.items():
            xrt.setdefault(k, []).append(v)
        for c, x, y in RATIOS:
            if (c, x) in got and (c, y) in got:
                ratios.setdefault((c, x, y), []).append(got[c, x] / got[c, y])
    native.close()
    node.close()

    # Flags and warnings.
    med_others = statistics.median(l["others_cores"] for l in load)
    flagged = [l["round"] for l in load if abs(l["others_cores"] - med_others) > LOAD_WARN]
    low_cpu = [l["round"] for l in load if l["on_cpu"] < ON_CPU_WARN]
    warnings = []
    lo, hi = min(l["others_cores"] for l in load), max(l["others_cores"] for l in load)
    if flagged:
        warnings.append(f"load changed during the run: other processes used {lo:.2f}-{hi:.2f} cores "
                        f"(median {med_others:.2f}); rounds more than {LOAD_WARN} cores away: {flagged}")
    if low_cpu:
        warnings.append(f"rounds {low_cpu} of {len(load)} got less than {ON_CPU_WARN:.0%} of their wall time "
                        "on a core (other processes took turns)")
    res = []
    for (c, x, y), v in ratios.items():
        s = summary(v)
        s.update(case=c, a=x, b=y, spread=(s["q3"] - s["q1"]) / 2 / s["median"])
        res.append(s)
        if s["spread"] > SPREAD_WARN:
            warnings.append(f"{c} {x}/{y}: spread ±{s['spread']:.1%} (half the IQR) exceeds ±{SPREAD_WARN:.0%}")

    log(f"[ab] {'case':12} {'ratio':22} {'median':>7}  IQR         min-max")
    for s in res:
        log(f"[ab] {s['case']:12} {s['a'] + '/' + s['b']:22} {s['median']:7.3f}  ±{s['spread'] * 100:4.1f} %    "
            f"{s['min']:.3f}-{s['max']:.3f}")
    for w in warnings:
        log(f"[ab] WARNING: {w}")
    print(json.dumps({
        "method": {"rounds": a.rounds, "slice_s": a.slice, "inner": a.inner, "pinned_cpu": a.cpu, "time": "cpu"},
        # per round: the others' load in cores, the share of our wall time on a core
        "xrt": {f"{c}/{k}": summary(v) for (c, k), v in xrt.items()},
        "ratios": res,
        "load": {"rounds": load, "others_median": med_others, "flagged": flagged, "low_on_cpu": low_cpu, "ncpu": ncpu},
        "warnings": warnings,
        "info": info,
        "ffmpeg": ff.meta(),
    }, indent=1))


if __name__ == "__main__":
    main()
