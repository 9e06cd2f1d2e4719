"""bench/run.py's corpus builder and figures (the benchmark itself is run by hand: make bench)."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

from tasks.decode import path_metadata

REPO = Path(__file__).resolve().parents[1]
SEED = REPO / "raw" / "000_c9cd572a92cace71.txt"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_run", REPO / "bench" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_corpus_copies_are_unique_and_dated(tmp_path: Path) -> None:
    bench = _bench()
    dev = tmp_path / "dev"
    for day, page in (("2020-02-01", "01"), ("2020-02-01", "02"), ("2020-02-02", "01")):
        (dev / "人民日报" / day).mkdir(parents=True, exist_ok=True)
        (dev / "人民日报" / day / f"{page}.txt").write_bytes(SEED.read_bytes())
    files, size = bench.build_corpus(dev, tmp_path / "corpus", 0.1)
    written = sorted((tmp_path / "corpus").rglob("*.txt"))
    assert len(written) == files and sum(p.stat().st_size for p in written) == size >= 100_000
    # no two files alike: content hashing skips none of them
    assert len({hashlib.sha256(p.read_bytes()).hexdigest() for p in written}) == files
    # each copy is a page of its own issue date, read from its path as any raw page
    metas = [path_metadata(p.relative_to(tmp_path / "corpus").as_posix()) for p in written]
    assert all(m["publication"] == "人民日报" and m["issue_date"] and m["page_no"] for m in metas)
    assert len({(m["issue_date"], m["page_no"]) for m in metas}) == files


def test_figures_from_a_run_summary() -> None:
    bench = _bench()
    summary = {"t0": 100.0, "t1": 130.0, "first_read_at": 104.0, "peak_rss": 512 * 2**20,
               "articles": 10, "tokens": 1000, "processes": 2,
               "stage_seconds": {"layout": 20.0, "segment": 10.0, "keywords": 2.0, "keywords_idf": 1.0,
                                 "commit": 2.0}}
    f = bench.newsflow_figures(summary, 52_000_000)
    assert f["startup_s"] == 4.0 and f["after_startup_s"] == 26.0
    assert abs(f["mb_per_s"] - 2.0) < 1e-9 and f["peak_rss_mb"] == 512
    # 32 s of task stages over 2 workers, 3 s in the flow itself: 7 s left for Prefect and waits
    assert abs(f["prefect_and_waiting_s"] - 7.0) < 1e-9 and f["processes"] == 2
    # over the run's own worker processes: 4 of them leave 26 - 8 - 3 = 15 s
    f4 = bench.newsflow_figures({**summary, "processes": 4}, 52_000_000)
    assert abs(f4["prefect_and_waiting_s"] - 15.0) < 1e-9 and f4["processes"] == 4


def test_cpu_by_role_sums_each_process_last_sample_and_at_a_moment() -> None:
    bench = _bench()
    samples = {
        10: ("flow", [(1.0, 0.5), (2.0, 1.5), (5.0, 2.0)]),
        11: ("server", [(1.1, 0.2), (2.1, 3.0), (5.0, 4.0)]),
        12: ("workers", [(1.9, 0.1), (5.0, 20.0)]),
        13: ("workers", [(3.0, 1.0), (5.0, 18.0)]),  # started after the moment asked about
    }
    assert bench.cpu_by_role(samples) == {"flow": 2.0, "server": 4.0, "workers": 38.0, "other": 0.0}
    assert bench.cpu_by_role(samples, at=2.5) == {"flow": 1.5, "server": 3.0, "workers": 0.1, "other": 0.0}
    assert bench.process_role(["python", "-m", "uvicorn", "--factory", "x"], root=False) == "server"
    assert bench.process_role(["python", "-c", "from multiprocessing.resource_tracker import main"],
                              root=False) == "other"
    assert bench.process_role(["python", "-c", "from multiprocessing.spawn import spawn_main"], root=False) == "workers"
    assert bench.process_role(["newsflow", "run"], root=True) == "flow"


def test_the_sampler_sees_the_cpu_of_each_process_of_a_tree() -> None:
    """A parent that spins half a second and starts a child named like Prefect's server that
    spins half a second more: the sampler gives each its role and about its CPU."""
    import subprocess
    import sys

    bench = _bench()
    spin = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.5: pass\n"
    child = [sys.executable, "-c", spin + "time.sleep(0.3)", "uvicorn"]  # seen after its spin
    parent = (f"import subprocess, sys\np = subprocess.Popen({child!r})\n{spin}"
              "time.sleep(0.3)\np.wait()\ntime.sleep(0.3)\n")
    proc = subprocess.Popen([sys.executable, "-c", parent])
    with bench.PeakRss(proc.pid, interval=0.02) as sampler:
        proc.wait()
    cpu = bench.cpu_by_role(sampler.cpu)
    assert 0.4 <= cpu["flow"] <= 1.5, cpu
    assert 0.4 <= cpu["server"] <= 1.5, cpu
    assert sampler.peak > 0


def test_the_stage_legend_names_every_stage_a_batch_reports_and_no_other(tmp_path: Path) -> None:
    """The benchmark explains each stage of a run's report: a real batch of the seed page, with
    its parts written, reports its stages; the flow adds the three it waits for (the ones
    newsflow_figures does not spread over the workers)."""
    import datetime as dt

    from flows.batch import process_batch

    bench = _bench()
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / SEED.name).write_bytes(SEED.read_bytes())
    out = tmp_path / "staging"
    out.mkdir()
    result = process_batch(0, [raw / SEED.name], raw, run_id="test",
                           ingested_at=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc), out_dir=out)
    named = [name for name, _ in bench.STAGES]
    assert len(named) == len(set(named)) and not set(result.seconds) & set(bench.FLOW_STAGES)
    assert set(result.seconds) | set(bench.FLOW_STAGES) == set(named)
