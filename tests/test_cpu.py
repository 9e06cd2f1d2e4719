"""How many worker processes the default task runner starts (flows/cpu.py: default_processes)."""

from __future__ import annotations

from collections import namedtuple

import pytest

from flows import cpu

Memory = namedtuple("Memory", "available")
MB = 2**20


@pytest.fixture
def machine(monkeypatch: pytest.MonkeyPatch):
    """Sets the usable cores and the available memory (MB) default_processes sees."""
    import psutil

    def set_(cores: int, available_mb: int) -> None:
        monkeypatch.setattr(cpu, "usable_cores", lambda: cores)
        monkeypatch.setattr(psutil, "virtual_memory", lambda: Memory(available_mb * MB))
        monkeypatch.setattr(cpu, "cgroup_free_mb", lambda: None)  # whatever group the tests run in

    return set_


def test_one_process_per_core_when_memory_allows(machine) -> None:
    machine(8, 64_000)
    assert cpu.default_processes({}) == 8
    machine(2, 24_000)  # this machine
    assert cpu.default_processes({}) == 2


def test_memory_bounds_the_processes(machine) -> None:
    # room for (available - RESERVED_MB) // WORKER_MB workers, at least one
    machine(8, cpu.RESERVED_MB + 3 * cpu.WORKER_MB + cpu.WORKER_MB // 2)
    assert cpu.default_processes({}) == 3
    machine(8, 300)
    assert cpu.default_processes({}) == 1


def test_the_environment_sets_the_count_and_a_bad_value_is_an_error(machine) -> None:
    machine(2, 24_000)
    assert cpu.default_processes({cpu.PROCESSES_ENV: "5"}) == 5
    assert cpu.default_processes({cpu.PROCESSES_ENV: " "}) == 2  # blank: unset
    for bad in ("0", "-1", "two", "1.5"):
        with pytest.raises(ValueError, match=cpu.PROCESSES_ENV):
            cpu.default_processes({cpu.PROCESSES_ENV: bad})


def test_usable_cores_are_this_processes_affinity_within_its_quota() -> None:
    import os

    want = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    quota = cpu.cgroup_cores()
    assert cpu.usable_cores() == (min(want, quota) if quota else want) >= 1


# --- control groups: a container's CPU quota and memory limit --------------------------------


def _tree(tmp_path, proc: str, files: dict[str, str]):
    """A fake /sys/fs/cgroup (``files`` by path below it) and /proc/self/cgroup (``proc``)."""
    root = tmp_path / "cgroup"
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text + "\n")
    (tmp_path / "proc").write_text(proc)
    return root, tmp_path / "proc"


def test_cgroup_v2_quota_and_limit_of_the_processes_own_group(tmp_path) -> None:
    root, proc = _tree(tmp_path, "0::/job/42\n", {
        "job/42/cpu.max": "150000 100000", "job/42/memory.max": str(4 * 2**30),
        "job/42/memory.current": str(2**30),
        "cpu.max": "max 100000",  # the root's: no quota (the group's own file wins)
    })
    assert cpu.cgroup_cores(root, proc) == 2  # 1.5 cores, rounded up
    assert cpu.cgroup_free_mb(root, proc) == 3 * 1024


def test_cgroup_v2_without_quota_or_limit_and_a_container_at_the_root(tmp_path) -> None:
    root, proc = _tree(tmp_path, "0::/\n", {"cpu.max": "max 100000", "memory.max": "max",
                                            "memory.current": "123"})
    assert cpu.cgroup_cores(root, proc) is None and cpu.cgroup_free_mb(root, proc) is None
    # a group path that is not mounted in this namespace: the mount's root is the container's
    root, proc = _tree(tmp_path / "b", "0::/elsewhere\n", {"cpu.max": "200000 100000",
                                                           "memory.max": str(2**31), "memory.current": "0"})
    assert cpu.cgroup_cores(root, proc) == 2 and cpu.cgroup_free_mb(root, proc) == 2048


def test_cgroup_v1_quota_and_limit(tmp_path) -> None:
    proc = "4:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n0::/\n"
    root, proc_path = _tree(tmp_path, proc, {
        "cpu/docker/abc/cpu.cfs_quota_us": "300000", "cpu/docker/abc/cpu.cfs_period_us": "100000",
        "memory/docker/abc/memory.limit_in_bytes": str(2 * 2**30),
        "memory/docker/abc/memory.usage_in_bytes": str(2**29),
    })
    assert cpu.cgroup_cores(root, proc_path) == 3
    assert cpu.cgroup_free_mb(root, proc_path) == 1536
    # no quota (-1) and v1's "no limit" (2**63 rounded down to a page)
    root, proc_path = _tree(tmp_path / "b", proc, {
        "cpu/docker/abc/cpu.cfs_quota_us": "-1", "cpu/docker/abc/cpu.cfs_period_us": "100000",
        "memory/docker/abc/memory.limit_in_bytes": "9223372036854771712",
        "memory/docker/abc/memory.usage_in_bytes": "1000",
    })
    assert cpu.cgroup_cores(root, proc_path) is None and cpu.cgroup_free_mb(root, proc_path) is None


def test_no_control_groups_to_read(tmp_path) -> None:
    assert cpu.cgroup_cores(tmp_path / "none", tmp_path / "no-proc") is None
    assert cpu.cgroup_free_mb(tmp_path / "none", tmp_path / "no-proc") is None
    root, proc = _tree(tmp_path, "0::/\n", {})  # a hierarchy without these files
    assert cpu.cgroup_cores(root, proc) is None and cpu.cgroup_free_mb(root, proc) is None


def test_a_container_on_a_big_machine_gets_what_its_group_allows(monkeypatch: pytest.MonkeyPatch) -> None:
    """64 cores and 256 GB on the host, a container of 2 CPUs and 1.5 GB: one worker (memory),
    and with 4 GB two (its quota)."""
    import os

    import psutil

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(64)), raising=False)
    monkeypatch.setattr(psutil, "virtual_memory", lambda: Memory(256_000 * MB))
    monkeypatch.setattr(cpu, "cgroup_cores", lambda: 2)
    monkeypatch.setattr(cpu, "cgroup_free_mb", lambda: 1536)
    assert cpu.usable_cores() == 2 and cpu.available_mb() == 1536
    assert cpu.default_processes({}) == 2  # (1536 - 512) // 384 = 2
    monkeypatch.setattr(cpu, "cgroup_free_mb", lambda: 1000)
    assert cpu.default_processes({}) == 1
    monkeypatch.setattr(cpu, "cgroup_cores", lambda: None)
    monkeypatch.setattr(cpu, "cgroup_free_mb", lambda: None)
    assert cpu.usable_cores() == 64 and cpu.default_processes({}) == 64
