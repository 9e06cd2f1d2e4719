"""The machine's cores as a run sees them: how many worker processes the default task runner
starts (:func:`default_processes`: one per core, as memory allows), and how busy the cores are
with work other than this run's, measured over the run's own start-up (``newsflow run`` decides
from it whether to start its worker processes early).

For the latter, the load average it replaces lags by a minute: a run started right after another (the
benchmark's runs, one after the other) saw the previous run's load and did not start its
workers early on an idle machine. Here the cores' busy time over the last seconds (psutil's
system-wide CPU times) less the CPU time of this process and of the processes it names (Prefect's
temporary server) is what the rest of the machine used.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping
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


#: The number of worker processes of the default task runner, when set (``newsflow run
#: --processes N`` sets it for its run).
PROCESSES_ENV = "NEWSFLOW_PROCESSES"
#: What one worker process is given room for: its peak at the default batch size (290-306 MB
#: measured over 10 MB of pages), and some margin.
WORKER_MB = 384
#: Memory left to the flow's process and Prefect's temporary server (about 150 and 195 MB
#: measured during a run) and to the rest of the machine.
RESERVED_MB = 512


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the platform tells it, which a
    container's cpuset or ``taskset`` narrows; else the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # no affinity on this platform
        return max(1, os.cpu_count() or 1)


def default_processes(environ: Mapping[str, str] | None = None) -> int:
    """Worker processes of the default task runner: ``$NEWSFLOW_PROCESSES`` when set, else one per
    usable core, as many as the memory available now leaves room for (:data:`WORKER_MB` each
    beyond :data:`RESERVED_MB`), at least one. Segmentation and the other steps are pure Python
    and hold the GIL, so a process per core is what uses the machine."""
    env = os.environ if environ is None else environ
    value = env.get(PROCESSES_ENV, "").strip()
    if value:
        try:
            n = int(value)
        except ValueError:
            n = 0
        if n < 1:
            raise ValueError(f"{PROCESSES_ENV} must be a whole number of at least 1, not {value!r}")
        return n
    cores = usable_cores()
    try:
        import psutil

        available_mb = psutil.virtual_memory().available // 2**20
    except Exception:  # noqa: BLE001 - no memory figure on this platform: the cores decide
        return cores
    return max(1, min(cores, (available_mb - RESERVED_MB) // WORKER_MB))
