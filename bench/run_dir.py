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
