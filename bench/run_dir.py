"""Reading one bench run's output directory (OUT_DIR of scripts/bench.sh),
shared by bench/report.py and bench/summary.py."""
import json
import os


class RunDir:
    """The files one run wrote, by name."""

    def __init__(self, path):
        self.path = path

    def file(self, name):
        return os.path.join(self.path, name)

    def load(self, name):
        with open(self.file(name)) as f:
            return json.load(f)

    def text(self, name):
        with open(self.file(name)) as f:
            return f.read().strip()


def x(v):
    """A speed-up as the tables print it: 1,234× or 1.5×."""
    return f"{v:,.0f}×" if v >= 10 else f"{v:.1f}×"


class AB:
    """bench/ab.py's output (ab.json): medians over alternating rounds."""

    def __init__(self, d):
        self.d = d
        self.ratios = {(r["case"], r["a"], r["b"]): r for r in d["ratios"]}

    def xrt(self, case, cand):
        """Median x-realtime of one candidate over the rounds."""
        return self.d["xrt"][f"{case}/{cand}"]["median"]

    def ratio(self, case, a, b):
        return self.ratios[(case, a, b)]

    def r(self, case, a, b, bold=False, digits=2):
        """A ratio as the tables print it: median of the per-round ratios and
        its spread (half the interquartile range, relative), e.g. 1.05 ±1.2 %."""
        s = self.ratio(case, a, b)
        m = f"{s['median']:.{digits}f}"
        return f"{'**' + m + '**' if bold else m} ±{s['spread'] * 100:.1f} %"

    def method(self):
        m, ld = self.d["method"], self.d["load"]
        others = [r["others_cores"] for r in ld["rounds"]]
        return (f"{m['rounds']} alternating rounds (plus one discarded warm-up), each running every "
                f"candidate of a case back to back for ~{m['slice_s']} s of CPU time; a ratio is the "
                "median of the per-round ratios, ± half their interquartile range; x-realtime figures "
                "are medians over the rounds, in CPU time (`bench/ab.py`). Other processes used "
                f"{min(others):.2f}–{max(others):.2f} cores (median {ld['others_median']:.2f}) of "
                f"{ld['ncpu']} during the rounds.")

    def warnings(self):
        return self.d["warnings"]
