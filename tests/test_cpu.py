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


def test_usable_cores_are_this_processes_affinity() -> None:
    import os

    want = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert cpu.usable_cores() == want >= 1
