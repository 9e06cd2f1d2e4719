"""How busy the machine's cores are with work other than this run's, measured over the run's own
start-up (``newsflow run`` decides from it whether to start its worker processes early).

The load average it replaces lags by a minute: a run started right after another (the
benchmark's runs, one after the other) saw the previous run's load and did not start its
workers early on an idle machine. Here the cores' busy time over the last seconds (psutil's
system-wide CPU times) less the CPU time of this process and of the processes it names (Prefect's
temporary server) is what the rest of the machine used.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass


def _busy_seconds() -> float:
    """Seconds the machine's cores have spent busy since boot (all cores summed)."""
    import psutil

    t = psutil.cpu_times()
    idle = t.idle + getattr(t, "iowait", 0.0)
    # guest time is counted in user time already
    total = sum(t) - getattr(t, "guest", 0.0) - getattr(t, "guest_nice", 0.0)
    return total - idle


def _own_seconds(pids: Iterable[int]) -> float:
    """CPU seconds of this process and of ``pids`` (those gone count nothing)."""
    import psutil

    t = os.times()
    own = t.user + t.system
    for pid in pids:
        try:
            c = psutil.Process(pid).cpu_times()
            own += c.user + c.system
        except psutil.Error:
            pass
    return own


@dataclass
class CpuSample:
    """The machine's busy seconds, this process's CPU seconds and the time, at one moment."""

    at: float
    busy: float
    own: float

    @classmethod
    def now(cls, pids: Iterable[int] = ()) -> CpuSample | None:
        """A sample now; None where psutil cannot read the system's CPU times."""
        try:
            return cls(at=time.monotonic(), busy=_busy_seconds(), own=_own_seconds(pids))
        except Exception:  # noqa: BLE001 - no CPU times on this platform: the caller falls back
            return None


def others_cores(since: CpuSample, pids: Iterable[int] = ()) -> float | None:
    """Cores used on average since ``since`` by processes other than this one and ``pids``
    (which must be the ``pids`` of the moment ``since`` was taken or started after it); None
    when that cannot be told (no CPU times, or too short a window)."""
    pids = list(pids)
    now = CpuSample.now(pids)
    if now is None or now.at - since.at < 0.2:
        return None
    others = (now.busy - since.busy) - (now.own - since.own)
    return max(0.0, others) / (now.at - since.at)
