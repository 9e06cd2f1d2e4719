"""The machine's cores as a run sees them: how many worker processes the default task runner
starts (:func:`default_processes`: one per core, as memory allows), and how busy the cores are
with work other than this run's, measured over the run's own start-up (``newsflow run`` decides
from it whether to start its worker processes early).

For the latter, the load average it replaces lags by a minute: a run started right after
another (the benchmark's runs, one after the other) saw the previous run's load and did not start
its workers early on an idle machine. Here the cores' busy time over the last seconds (psutil's
system-wide CPU times) less the CPU time of this process and of the processes it names (Prefect's
temporary server) is what the rest of the machine used.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


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


#: Where the control groups of Linux are mounted, and where a process finds its own.
CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC_CGROUP = Path("/proc/self/cgroup")


def _cgroup_value(controller: str, names: Sequence[str], root: Path, proc_cgroup: Path) -> list[str] | None:
    """The contents (stripped) of the files ``names`` of this process's control group for
    ``controller`` (cgroup v1: ``cpu``, ``memory``; v2, one hierarchy for all: ``""``), read
    from its own group, else from the mount's root (what a container sees as its own); None
    when they cannot be read (no such hierarchy, another platform)."""
    try:
        lines = proc_cgroup.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = (line.split(":", 2) + ["", ""])[:3]
        listed = controllers.split(",") if controllers else []
        if (controller not in listed) if controller else listed:  # v2's line lists none
            continue
        base = root / controller if controller else root
        for group in (base / path.lstrip("/"), base):
            try:
                return [(group / name).read_text(encoding="utf-8").strip() for name in names]
            except OSError:
                continue
    return None


def cgroup_cores(root: Path = CGROUP_ROOT, proc_cgroup: Path = PROC_CGROUP) -> int | None:
    """The cores a CPU quota of this process's control group allows (rounded up), None without
    a quota: a container started with ``--cpus 2`` on a machine of many cores runs on all of
    them (its affinity) but gets the time of two."""
    v2 = _cgroup_value("", ["cpu.max"], root, proc_cgroup)
    if v2 is not None:
        quota, _, period = v2[0].partition(" ")
    else:
        v1 = _cgroup_value("cpu", ["cpu.cfs_quota_us", "cpu.cfs_period_us"], root, proc_cgroup)
        if v1 is None:
            return None
        quota, period = v1
    try:
        q, p = int(quota), int(period)
    except ValueError:  # "max": no quota
        return None
    return max(1, -(-q // p)) if q > 0 and p > 0 else None


def cgroup_free_mb(root: Path = CGROUP_ROOT, proc_cgroup: Path = PROC_CGROUP) -> int | None:
    """MB this process's control group may still use (its memory limit less its use), None
    without a limit: in a container, the machine's available memory is the host's."""
    v2 = _cgroup_value("", ["memory.max", "memory.current"], root, proc_cgroup)
    got = v2 if v2 is not None else _cgroup_value(
        "memory", ["memory.limit_in_bytes", "memory.usage_in_bytes"], root, proc_cgroup)
    if got is None:
        return None
    try:
        limit, used = int(got[0]), int(got[1])
    except ValueError:  # "max": no limit
        return None
    if limit >= 1 << 60:  # cgroup v1's "no limit" (a page-rounded 2**63 - 1)
        return None
    return max(0, limit - used) // 2**20


def usable_cores() -> int:
    """The cores this process may run on: its CPU affinity where the platform tells it (which a
    container's cpuset or ``taskset`` narrows; else the machine's count), no more than its
    control group's CPU quota allows."""
    try:
        cores = max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # no affinity on this platform
        cores = max(1, os.cpu_count() or 1)
    quota = cgroup_cores()
    return min(cores, quota) if quota else cores


def available_mb() -> int | None:
    """MB of memory available now: the machine's (psutil), or what this process's control group
    has left when that is less; None where neither can be told."""
    figures = []
    try:
        import psutil

        figures.append(psutil.virtual_memory().available // 2**20)
    except Exception:  # noqa: BLE001 - no memory figure on this platform
        pass
    group = cgroup_free_mb()
    if group is not None:
        figures.append(group)
    return min(figures) if figures else None


def processes_setting(environ: Mapping[str, str] | None = None) -> int | None:
    """The count ``$NEWSFLOW_PROCESSES`` sets (None when unset or blank); ValueError when it is
    no whole number of at least 1."""
    env = os.environ if environ is None else environ
    value = env.get(PROCESSES_ENV, "").strip()
    if not value:
        return None
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise ValueError(f"{PROCESSES_ENV} must be a whole number of at least 1, not {value!r}")
    return n


def default_processes(environ: Mapping[str, str] | None = None) -> int:
    """Worker processes of the default task runner: ``$NEWSFLOW_PROCESSES`` when set
    (:func:`processes_setting`), else one per usable core (:func:`usable_cores`), as many as the
    memory available now leaves room for (:func:`available_mb`; :data:`WORKER_MB` each beyond
    :data:`RESERVED_MB`), at least one. Segmentation and the other steps are pure Python and hold
    the GIL, so a process per core is what uses the machine."""
    n = processes_setting(environ)
    if n is not None:
        return n
    cores = usable_cores()
    free = available_mb()
    if free is None:  # no memory figure on this platform: the cores decide
        return cores
    return max(1, min(cores, (free - RESERVED_MB) // WORKER_MB))
