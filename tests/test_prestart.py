"""Worker processes started before the flow (newsflow run, while Prefect's server boots) are the
ones the flow runs its batches on; unadopted ones are stopped. The workers never import Prefect."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import flows.pipeline as pipeline


def _alive(runner) -> list:
    return [p for p in runner.pool._processes.values() if p.is_alive()]


#: Which of these modules a process has imported (evaluated in a worker by ``eval``, a builtin:
#: a function of this test module would import the module, and with it Prefect, there).
_MODULES = ("sorted(m for m in ('prefect', 'flows.pipeline', 'flows.batch', 'tasks.ner') "
            "if m in __import__('sys').modules)")


def test_the_flow_adopts_the_workers_started_early_and_stops_them():
    pipeline.prestart_workers()
    try:
        warm = pipeline._PRESTARTED["runner"]
        procs = list(warm.pool._processes.values())
        assert len(procs) == 1
        # Prefect runs a flow run on a duplicate of the flow's runner: that is the pool started early
        runner = pipeline.newsflow_run.task_runner.duplicate()
        assert runner is warm and "runner" not in pipeline._PRESTARTED
        with runner:
            assert runner.pool is not None and len(_alive(runner)) == len(procs)
            assert runner.pool.submit(sum, [1, 2]).result(timeout=60) == 3
            # a worker has what a batch needs, and no Prefect, even after a batch
            done = runner.pool.submit(pipeline.process_batch, 0, [], Path("."), run_id="t",
                                      ingested_at=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc))
            assert done.result(timeout=60).n_files == 0
            assert runner.pool.submit(eval, _MODULES).result(timeout=60) == ["flows.batch", "tasks.ner"]
        assert runner.pool is None
        assert not any(p.is_alive() for p in procs)
        # once adopted, the next run starts a pool of its own
        again = pipeline.newsflow_run.task_runner.duplicate()
        assert again is not warm and isinstance(again, pipeline.WorkerPoolTaskRunner)
        assert again.pool is None
    finally:
        pipeline.discard_prestarted_workers()


def test_a_runner_of_the_default_count_adopts_the_early_workers_one_of_another_count_does_not(monkeypatch):
    """The early workers were counted by the default rule moments before the flow asks: a runner
    of the default count adopts them even when the rule would now say otherwise (memory moves);
    a runner asking for another count stops them and makes its own."""
    monkeypatch.setattr(pipeline, "_workers", lambda: 2)
    pipeline.prestart_workers()
    try:
        warm = pipeline._PRESTARTED["runner"]
        monkeypatch.setattr(pipeline, "_workers", lambda: 3)
        assert pipeline.WorkerPoolTaskRunner().duplicate() is warm
    finally:
        warm.stop_workers()
    pipeline.prestart_workers()
    warm = pipeline._PRESTARTED["runner"]
    procs = list(warm.pool._processes.values())
    other = pipeline.WorkerPoolTaskRunner(max_workers=1).duplicate()
    assert other is not warm and other.processes == 1 and other.pool is None
    assert "runner" not in pipeline._PRESTARTED and not any(p.is_alive() for p in procs)


def test_workers_started_early_and_never_adopted_are_stopped():
    pipeline.prestart_workers()
    warm = pipeline._PRESTARTED["runner"]
    procs = list(warm.pool._processes.values())
    pipeline.discard_prestarted_workers()
    assert "runner" not in pipeline._PRESTARTED
    assert not any(p.is_alive() for p in procs)
    pipeline.discard_prestarted_workers()  # nothing left: no error


def test_one_worker_starts_early_and_the_pool_adds_the_others_on_demand():
    import os
    import time

    pipeline.prestart_workers()
    try:
        warm = pipeline._PRESTARTED["runner"]
        assert warm.processes == pipeline._workers()
        assert len(warm.pool._processes) == 1
        if warm.processes < 2:
            return  # a one-core machine: one worker in any case
        # two calls at once, the first still running: the pool starts another process (one
        # more if the early worker was still warming when the first call came; never more
        # than the runner's count)
        first = warm.pool.submit(time.sleep, 2)
        assert warm.pool.submit(os.getpid).result(timeout=60) != os.getpid()
        first.result(timeout=60)
        assert 2 <= len(_alive(warm)) <= min(3, warm.processes)
    finally:
        pipeline.discard_prestarted_workers()


def test_a_task_runs_in_the_workers_and_here_without_them():
    import os

    from flows.batch import start_pool

    runner = pipeline.WorkerPoolTaskRunner(max_workers=1)
    assert runner._max_workers == 2  # threads: one more than processes
    with runner:
        pid = runner.pool.submit(os.getpid).result(timeout=60)
        assert pid != os.getpid()
        runner.stop_workers()
        assert runner.pool is None
    assert pipeline.in_worker(os.getpid) == os.getpid()  # no flow run: here
    pool = start_pool(1)
    try:
        assert len(pool._processes) == 1
    finally:
        pool.shutdown()


def test_a_worker_loads_what_a_batch_needs_as_it_starts():
    from tasks import ner, segment

    segment._build.cache_clear()
    ner.lexicon.cache_clear()
    pipeline.warm_worker()
    assert segment._build.cache_info().currsize == 1  # the segmenter and its dictionary
    assert ner.lexicon.cache_info().currsize == 1  # the entity features' dictionary table


def test_a_worker_imports_the_layout_as_it_starts_the_flows_process_does_not():
    """The layout module (parse_documents imports it where it runs) is imported by a worker's
    warm-up, not by its first batch; importing what the flow's process hands the workers does
    not import it."""
    import subprocess
    import sys

    code = ("import sys\nimport flows.batch as b\nprint('tasks.layout' in sys.modules)\n"
            "b.warm_worker()\nprint('tasks.layout' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=pipeline.__file__.rsplit("/flows/", 1)[0], check=True).stdout.split()
    assert out == ["False", "True"]


def test_the_cpu_of_this_run_and_its_server_does_not_count_as_a_busy_machine():
    import subprocess
    import sys
    import time

    import psutil

    from flows.cpu import CpuSample, others_cores

    since = CpuSample.now()
    assert since is not None
    # a process of this run (as Prefect's server is) spinning on a core while this one waits
    spin = subprocess.Popen([sys.executable, "-c", "import time\nt = time.time()\nwhile time.time() - t < 3: pass"])
    try:
        time.sleep(1.5)
        with_it = others_cores(since)
        without_it = others_cores(since, [spin.pid])
        spun = psutil.Process(spin.pid).cpu_times()
        window = time.monotonic() - since.at
    finally:
        spin.kill()
        spin.wait()
    assert with_it is not None and without_it is not None
    # the spinning process is the difference: the cores it used over the window (most of one
    # on an idle machine; what the scheduler gave it on a busy one)
    share = (spun.user + spun.system) / window
    assert share > 0.1
    assert with_it - without_it > 0.5 * share
    assert pipeline.spare_core(since, [spin.pid]) in (True, False)


def test_spare_core_falls_back_to_the_load_average_on_too_short_a_window():
    from flows.cpu import CpuSample, others_cores

    since = CpuSample.now()
    assert others_cores(since) is None  # a window under 0.2 s tells nothing
    assert pipeline.spare_core(since) in (True, False)
