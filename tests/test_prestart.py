"""Worker processes started before the flow (newsflow run, while Prefect's server boots) are the
ones the flow runs its batches on; unadopted ones are stopped."""

from __future__ import annotations

import flows.pipeline as pipeline


def _alive(runner) -> list:
    return [p for p in runner._executor._processes.values() if p.is_alive()]


def test_the_flow_adopts_the_workers_started_early_and_stops_them():
    pipeline.prestart_workers()
    try:
        warm = pipeline._PRESTARTED["runner"]
        procs = list(warm._executor._processes.values())
        assert len(procs) == pipeline._workers()
        # Prefect runs a flow run on a duplicate of the flow's runner: that is the pool started early
        runner = pipeline.newsflow_run.task_runner.duplicate()
        assert runner is warm and "runner" not in pipeline._PRESTARTED
        with runner:
            assert runner._executor is not None and len(_alive(runner)) == len(procs)
            assert runner._executor.submit(sum, [1, 2]).result(timeout=60) == 3
        assert runner._executor is None
        assert not any(p.is_alive() for p in procs)
        # once adopted, the next run starts a pool of its own
        again = pipeline.newsflow_run.task_runner.duplicate()
        assert again is not warm and isinstance(again, pipeline.WarmProcessPoolTaskRunner)
    finally:
        pipeline.discard_prestarted_workers()


def test_workers_started_early_and_never_adopted_are_stopped():
    pipeline.prestart_workers()
    warm = pipeline._PRESTARTED["runner"]
    procs = list(warm._executor._processes.values())
    pipeline.discard_prestarted_workers()
    assert "runner" not in pipeline._PRESTARTED
    assert not any(p.is_alive() for p in procs)
    pipeline.discard_prestarted_workers()  # nothing left: no error


def test_a_worker_loads_what_a_batch_needs_as_it_starts():
    from tasks import ner, segment

    segment._build.cache_clear()
    ner.lexicon.cache_clear()
    pipeline.warm_worker()
    assert segment._build.cache_info().currsize == 1  # the segmenter and its dictionary
    assert ner.lexicon.cache_info().currsize == 1  # the entity features' dictionary table
