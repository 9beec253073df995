"""A compact line per long job on the terminal; the details stay in the job's log.

A job's stdout and stderr go to its Snakemake log (:func:`noisyrnn.core.provenance.log_to`), so
the terminal shows Snakemake's own "n of m steps" and nothing of an hour-long training run.
:class:`Progress` writes to the terminal the job was started from (``sys.__stderr__``) at most
a few lines a job: at each quarter of the work and at the end.
"""

from __future__ import annotations

import sys
import time


def _eta(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class Progress:
    """``Progress(label, total).update(done, "loss 0.01")`` prints ``[label] 50% (250/500)
    loss 0.01, 1m10s left`` when ``done`` crosses the next ``step`` fraction of ``total``."""

    def __init__(self, label: str, total: int, step: float = 0.25, stream=None):
        self.label, self.total, self.step = label, max(int(total), 1), step
        self.stream = stream if stream is not None else sys.__stderr__
        self.t0 = time.perf_counter()
        self.next = step

    def update(self, done: int, text: str = "") -> bool:
        """Print if a step was crossed (and always at the end); whether it printed."""
        frac = done / self.total
        if frac + 1e-12 < self.next and done < self.total:
            return False
        while self.next <= frac + 1e-12:
            self.next += self.step
        elapsed = time.perf_counter() - self.t0
        tail = (f"{_eta(elapsed * (self.total - done) / done)} left" if done < self.total
                else f"done in {_eta(elapsed)}")
        self.write(f"{frac:4.0%} ({done}/{self.total}){' ' + text if text else ''}, {tail}")
        return True

    def write(self, text: str) -> None:
        if self.stream is None:
            return
        try:
            self.stream.write(f"  [{self.label}] {text}\n")
            self.stream.flush()
        except (OSError, ValueError):  # a closed terminal must not fail the job
            pass
