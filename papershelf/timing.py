"""Seconds and peak memory per stage, for the build's own figures and the benchmarks."""

from __future__ import annotations

import resource
import time


class Stopwatch:
    """Seconds per stage, and the process's peak memory (high-water mark) after each."""

    def __init__(self, seconds: dict[str, float], peak_mb: dict[str, float] | None = None):
        self.seconds = seconds
        self.peak_mb = peak_mb if peak_mb is not None else {}
        self.last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.seconds[stage] = self.seconds.get(stage, 0.0) + now - self.last
        self.peak_mb[stage] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self.last = now
