"""The Prefect flow: thin wiring of the pure steps in ``tasks/``.

raw files -> hashed and compared with the warehouse's documents (:func:`plan_run`: new, changed,
unchanged, removed) -> batches of the new and changed files (every file with ``full``) -> Prefect
tasks of a few batches each (a batch: decode -> layout -> tables -> validate -> its own Parquet
parts in the run's staging directory) while the flow stages the kept parts of each table less the changed and
removed documents -> keywords over the whole staged warehouse, in tasks -> one atomic commit
(store) -> the run's row in ``runs``.

Prefect sees batches, never articles or tokens: one task run per batch of ``batch_size`` files
or per few consecutive batches (:func:`group_batches`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import flows  # noqa: F401  - sets newsflow's Prefect settings before prefect is imported
import polars as pl
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import as_completed
from prefect.task_runners import ThreadPoolTaskRunner

# What the worker processes run (no Prefect there), named here too as the flow's API
from flows.batch import (  # noqa: F401
    CANDIDATES_DIR,
    DEFAULT_ENGINE,
    EMPTY_FREQUENCIES,
    KEYWORD_INPUT,
    KEYWORD_INPUT_SCHEMA,
    BatchResult,
    WordCounts,
    add_counts,
    candidates_path,
    keyword_frequencies,
    keywords_of_candidates,
    keywords_of_part,
    keywords_parts,
    parse_documents,
    process_batch,
    process_batches,
    start_pool,
    trim_c_heap,
    warm_worker,
    write_candidates,
    write_idf,
)
from tasks import store
from schemas import DERIVED_TABLES, TABLES, RunsModel
from schemas._fast import validate as fast_validate
from tasks.decode import _source_path, discover

#: Files per batch (a batch's rows become one part of every table). A worker's peak memory grows with it (its rows as Python
#: objects, then as frames): 25 files keep each worker about 25 MB lower than 50 (10 MB run: peak
#: of the process tree 995-1,012 MB at 50, 940-948 MB at 25), for about 8% more CPU in the workers
#: (each batch validates and writes its own parts: some 0.1 s whatever its size).
DEFAULT_BATCH_SIZE = 25


@dataclass
class RunSummary:
    """A run: files seen and what became of them; articles, tokens, quarantined are the
    warehouse's after the run (files kept from earlier runs included)."""

    run_id: str
    files: int
    articles: int
    tokens: int
    quarantined: int
    seconds: float
    batches: int
    warehouse: str
    quarantine: dict[str, str] = field(default_factory=dict)  # source_path -> reason
    mode: str = "full"
    files_new: int = 0
    files_changed: int = 0
    files_unchanged: int = 0
    files_removed: int = 0
    #: seconds per stage, summed over tasks (read, layout, load, segment, extract, tables,
    #: validate, keywords, write); keep, keywords_idf and commit are the flow's own
    stage_seconds: dict[str, float] = field(default_factory=dict)
    first_read_at: float | None = None  # time.time() when the first batch began reading
    #: worker processes of the default task runner (None on Dask, whose workers ran the batches)
    processes: int | None = None

    @property
    def processed(self) -> int:
        """Files decoded and laid out by this run."""
        return self.files if self.mode == "full" else self.files_new + self.files_changed

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass
class Plan:
    """What an incremental run does with each file: by ``source_path`` (``doc_id`` follows it)."""

    new: list[Path] = field(default_factory=list)
    changed: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # source paths
    drop_doc_ids: set[str] = field(default_factory=set)  # doc_ids of changed and removed files

    @property
    def to_process(self) -> list[Path]:
        return sorted(self.new + self.changed, key=lambda p: p.as_posix())

    @property
    def writes(self) -> bool:
        return bool(self.new or self.changed or self.removed)


def file_sha256(path: Path) -> str | None:
    """SHA-256 of a file's bytes, read in chunks; None when it cannot be read."""
    digest = hashlib.sha256()
    try:
        with Path(path).open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


def current_documents(warehouse: Path) -> pl.DataFrame | None:
    """``source_path, doc_id, sha256`` of the warehouse's documents; None when the warehouse has
    not every table (nothing to build on: the run rebuilds it)."""
    warehouse = Path(warehouse)
    if not set(TABLES) <= set(store.table_names(warehouse)):
        return None
    try:
        return pl.read_parquet(
            str(warehouse / "documents" / "*.parquet"), columns=["source_path", "doc_id", "sha256"]
        )
    except Exception:  # noqa: BLE001 - unreadable or from another version: rebuild
        return None


def plan_run(paths: Sequence[Path], raw_root: Path, existing: pl.DataFrame) -> Plan:
    """Classify the discovered files against the warehouse's documents by content hash."""
    known = {r[0]: (r[1], r[2]) for r in existing.select("source_path", "doc_id", "sha256").iter_rows()}
    plan = Plan()
    seen: set[str] = set()
    for path in paths:
        source_path = _source_path(Path(path), Path(raw_root))
        seen.add(source_path)
        if source_path not in known:
            plan.new.append(path)
            continue
        doc_id, sha = known[source_path]
        digest = file_sha256(path)
        if digest is not None and digest == sha:
            plan.unchanged.append(path)
        else:
            plan.changed.append(path)
            plan.drop_doc_ids.add(doc_id)
    for source_path, (doc_id, _) in known.items():
        if source_path not in seen:
            plan.removed.append(source_path)
            plan.drop_doc_ids.add(doc_id)
    plan.removed.sort()
    return plan


def make_batches(paths: Sequence[Path], batch_size: int) -> list[list[Path]]:
    """Consecutive groups of ``batch_size`` paths; always at least one (maybe empty) batch, so
    every table gets at least one Parquet file even when there is nothing to read."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    batches = [list(paths[i : i + batch_size]) for i in range(0, len(paths), batch_size)]
    return batches or [[]]


BATCH_RETRIES = 2
BATCH_RETRY_DELAY_SECONDS = 2


def retry_on_os_error(task, task_run, state) -> bool:
    """Prefect ``retry_condition_fn`` of the batch task: retry a transient I/O failure
    (``OSError``: a file system or network share hiccup), not a bug or bad data (anything else;
    a bad file is quarantined, never raised)."""
    try:
        state.result(raise_on_failure=True)
    except OSError:
        return True
    except BaseException:  # noqa: BLE001 - any other failure is not retried
        return False
    return False


@task(
    name="process-batches",
    task_run_name="batches-{index:05d}",
    cache_policy=NO_CACHE,
    persist_result=False,
    retries=BATCH_RETRIES,
    retry_delay_seconds=BATCH_RETRY_DELAY_SECONDS,
    retry_condition_fn=retry_on_os_error,
)
def process_batches_task(
    index: int,
    batches: list[tuple[int, list[Path]]],
    raw_root: Path,
    run_id: str,
    ingested_at: dt.datetime,
    engine: str = DEFAULT_ENGINE,
    out_dir: Path | None = None,
    part_tag: str = "",
) -> list[BatchResult]:
    """Task ``index``: some consecutive batches ``(index, paths)``, one after the other in one
    worker (:func:`flows.batch.process_batches`); a retry runs them all again (each rewrites
    its own parts whole)."""
    return in_worker(
        process_batches, batches, raw_root, run_id=run_id, ingested_at=ingested_at,
        engine=engine, out_dir=out_dir, part_tag=part_tag,
    )


#: Batches per Prefect task, at most. Each task run costs the flow's process and Prefect's
#: server about 0.11 s of CPU (its states, their events, the server's records of them: measured
#: over 10 MB with 6 and 24 tasks), on the same two cores as the workers, against 0.4-0.5 s of a
#: worker's CPU for a batch of 25 files; four batches per task leave a quarter of that.
MAX_BATCHES_PER_TASK = 4
#: Tasks per worker process, at least, when there are batches enough: the last tasks to finish
#: leave the other workers idle, and a task of fewer batches leaves them idle for less.
MIN_TASKS_PER_WORKER = 4


def group_batches(n_batches: int, workers: int | None) -> list[range]:
    """The batches (numbered ``0 .. n_batches - 1``) of each Prefect task, consecutive: one each
    when the number of workers is unknown (a Dask cluster), else up to
    :data:`MAX_BATCHES_PER_TASK`, fewer when there would be under :data:`MIN_TASKS_PER_WORKER`
    tasks for each of ``workers``."""
    per_task = 1
    if workers:
        per_task = max(1, min(MAX_BATCHES_PER_TASK, n_batches // (MIN_TASKS_PER_WORKER * workers)))
    return [range(i, min(i + per_task, n_batches)) for i in range(0, n_batches, per_task)]


_R = TypeVar("_R")


def in_worker(fn: Callable[..., _R], /, *args: Any, **kwargs: Any) -> _R:
    """``fn(*args, **kwargs)`` in a worker process of this flow run's task runner when it has
    them (:class:`WorkerPoolTaskRunner`, the default), else here (a Dask worker, or no flow run
    at all). The task's Prefect run (states, retries) stays in this thread; ``fn`` and what it
    returns cross to and from the worker by pickling."""
    from prefect.context import FlowRunContext

    ctx = FlowRunContext.get()
    pool = getattr(getattr(ctx, "task_runner", None), "pool", None)
    if pool is None:
        return fn(*args, **kwargs)
    return pool.submit(fn, *args, **kwargs).result()


KEYWORD_PARTS_PER_TASK = 8  # parts of the staged tokens per keywords task


@task(name="keyword-frequencies", task_run_name="frequencies-{index:05d}", cache_policy=NO_CACHE,
      persist_result=False, retries=BATCH_RETRIES, retry_delay_seconds=BATCH_RETRY_DELAY_SECONDS,
      retry_condition_fn=retry_on_os_error)
def keyword_frequencies_task(index: int, tokens_parts: list[Path]) -> tuple[pl.DataFrame, int, float]:
    """Document frequencies of the words of some parts of the staged tokens that no batch of
    this run computed (parts kept from earlier runs)."""
    return in_worker(keyword_frequencies, tokens_parts)


@task(name="keywords", task_run_name="keywords-{index:05d}", cache_policy=NO_CACHE,
      persist_result=False, retries=BATCH_RETRIES, retry_delay_seconds=BATCH_RETRY_DELAY_SECONDS,
      retry_condition_fn=retry_on_os_error)
def keywords_part_task(index: int, jobs: list[tuple[Path, Path]], idf_path: Path) -> tuple[int, float]:
    """The keywords of the articles of some parts of the staged tokens, with the warehouse's IDF,
    validated and written (second pass): ``jobs`` pairs a tokens part with its keywords part.
    Returns (rows, seconds)."""
    return in_worker(keywords_parts, jobs, idf_path)


def stage_keywords(writer: store.WarehouseWriter, counted: set[str], counts: WordCounts) -> dict[str, float]:
    """The ``keywords`` table of the staged warehouse, over the parts of the staged ``tokens``
    (articles never span two parts): document frequencies of every part (``counts`` holds those
    of the parts named in ``counted``, which the batches computed; the others, kept from earlier
    runs, are counted in tasks) summed into the IDF of the whole warehouse; then every part's
    keywords with that IDF, in tasks of :data:`KEYWORD_PARTS_PER_TASK` parts. Memory holds a few
    parts and the word counts at a time. Returns seconds: in the tasks, and the IDF step in the
    flow."""
    parts = sorted((writer.staging / "tokens").glob("*.parquet"))
    missing = [p for p in parts if p.name not in counted]
    groups = [missing[i : i + KEYWORD_PARTS_PER_TASK] for i in range(0, len(missing), KEYWORD_PARTS_PER_TASK)]
    with _api_shared_with_workers():
        first = [keyword_frequencies_task.submit(i, group) for i, group in enumerate(groups)]
    secs = 0.0
    for future in first:
        df, n, took = future.result()
        counts = add_counts(counts, (df, n))
        secs += took
    t0 = time.perf_counter()
    idf_path = writer.staging / "_idf.parquet"
    in_worker(write_idf, counts, idf_path)  # jieba's IDF table is loaded there, not here
    idf_secs = time.perf_counter() - t0
    out_dir = writer.staging / "keywords"
    out_dir.mkdir()
    jobs = [(part, out_dir / store.part_name(i, writer.tag)) for i, part in enumerate(parts)]
    with _api_shared_with_workers():
        second = [keywords_part_task.submit(i, jobs[k : k + KEYWORD_PARTS_PER_TASK], idf_path)
                  for i, k in enumerate(range(0, len(jobs), KEYWORD_PARTS_PER_TASK))]
    for future in second:
        secs += future.result()[1]
    if not parts:  # no tokens part at all: still one (empty) part, so the table has its schema
        store.write_parquet(keywords_of_part(pl.DataFrame(schema=KEYWORD_INPUT_SCHEMA),
                                             pl.read_parquet(idf_path)),
                            out_dir / store.part_name(0, writer.tag))
    idf_path.unlink()
    shutil.rmtree(writer.staging / CANDIDATES_DIR, ignore_errors=True)
    writer.adopt_table("keywords")
    return {"keywords": secs, "keywords_idf": idf_secs}



def task_runner(workers: int | None = None, dask_address: str | None = None):
    """The task runner of a run: this machine's worker processes by default
    (:class:`WorkerPoolTaskRunner`); with ``workers`` a
    local Dask cluster of that many single-threaded processes; with ``dask_address`` an existing
    Dask cluster (``tcp://host:port``), whose workers must have newsflow installed and see the
    raw and warehouse paths."""
    if dask_address or workers:
        from prefect_dask import DaskTaskRunner

        if dask_address:
            return DaskTaskRunner(address=dask_address)
        # Dask's own loggers print only CRITICAL: at shutdown a worker's heartbeat can race the
        # scheduler's close and log a CommClosedError traceback at ERROR level after a run that
        # succeeded. A task that fails (or a worker that dies under one) still fails its Prefect
        # task run, which newsflow reports as an error row.
        return DaskTaskRunner(cluster_kwargs={"n_workers": workers, "threads_per_worker": 1,
                                              "processes": True, "dashboard_address": None,
                                              "silence_logs": logging.CRITICAL})
    return WorkerPoolTaskRunner(max_workers=_workers())


def _workers() -> int:
    from flows.cpu import default_processes

    return default_processes()


def _worker_processes() -> int | None:
    """The worker processes of this flow run's task runner; None when it has no known number
    (a Dask cluster)."""
    from prefect.context import FlowRunContext

    ctx = FlowRunContext.get()
    return getattr(getattr(ctx, "task_runner", None), "processes", None)


class WorkerPoolTaskRunner(ThreadPoolTaskRunner):
    """The default task runner: Prefect's thread pool, whose task runs hand their work to a pool
    of ``max_workers`` worker processes (:func:`flows.batch.start_pool`, through
    :func:`in_worker`). Prefect runs each task (its states, retries, logs) in a thread of the
    flow's process; the workers import the pure steps and their libraries, never Prefect (which
    cost about 70 MB in each worker when Prefect's own process pool ran the tasks there). One
    thread more than there are processes keeps the next call waiting at the pool while a task's
    states are being written.

    ``newsflow run`` can start the processes before the flow (:func:`prestart_workers`): they
    import the pipeline and load their dictionaries while Prefect's temporary server boots,
    instead of after it; the flow adopts them. The flow stops them as soon as it has no more
    work for them (:func:`release_workers`, before the commit), else when the run ends."""

    def __init__(self, max_workers: int | None = None) -> None:
        self.requested = max_workers  # None: the default count (flows.cpu.default_processes)
        self.processes = max_workers or _workers()
        super().__init__(max_workers=self.processes + 1)
        self.pool: ProcessPoolExecutor | None = None

    def duplicate(self) -> WorkerPoolTaskRunner:
        # Prefect runs each flow run on a duplicate of the flow's runner: hand it the runner
        # whose processes were started early, once (counted by the same rule moments before,
        # when this one asks for the default count). Otherwise a runner of the default count
        # counts again for each run: the flow's was made when this module was imported, before
        # a command's --processes, and a scheduled run sees the memory of its own start
        warm = _PRESTARTED.pop("runner", None)
        if warm is not None and self.requested in (None, warm.processes):
            return warm
        if warm is not None:
            warm.stop_workers()
        return type(self)(max_workers=self.requested or _workers())

    def start_workers(self, started: int | None = None) -> None:
        """Start the worker processes (each loads what a batch needs), unless they run: all of
        them, or ``started`` now and the others when calls find none idle."""
        if self.pool is None:
            self.pool = start_pool(self.processes, started)

    def stop_workers(self) -> None:
        """Stop the worker processes (calls not started yet are cancelled); a task run after
        this runs in its thread."""
        pool, self.pool = self.pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> WorkerPoolTaskRunner:
        super().__enter__()
        self.start_workers()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        try:
            super().__exit__(*exc_info)
        finally:
            self.stop_workers()


_PRESTARTED: dict[str, WorkerPoolTaskRunner] = {}


def spare_core(since: Any = None, pids: Sequence[int] = ()) -> bool:
    """Is a core idle now: do the processes other than this run's use more than half a core
    less than the core count?

    With ``since`` (a :class:`flows.cpu.CpuSample` taken at the command's start) that use is
    measured since then, this process and ``pids`` (Prefect's temporary server) left out;
    without it, or where it cannot be measured, the last minute's load average stands for it
    (which counts the runs that ended in the last minute: a run right after another saw a busy
    machine).
    Workers started early overlap Prefect's server boot only on an idle core; on a busy machine
    they slow that boot down instead (measured: first file read 20-23 s with them, 14-16 s
    without, with two other jobs running on this 2-core machine)."""
    cores = os.cpu_count() or 1
    if since is not None:
        from flows.cpu import others_cores

        others = others_cores(since, pids)
        if others is not None:
            return others < cores - 0.5
    try:
        return os.getloadavg()[0] < cores - 0.5
    except OSError:  # no load average on this platform
        return False


def prestart_workers() -> None:
    """Start one of the default task runner's worker processes now (it loads what a batch
    needs); the next run of :func:`newsflow_run` in this process adopts it, and the pool starts
    the others when the flow's calls find none idle. One worker is what the first batch needs:
    a second one loading its dictionaries while Prefect's server boots only takes CPU from the
    boot on a 2-core machine (10 MB, alternately, six runs each: first file read 5.43-6.38 s
    with two started early, 4.53-5.90 s with one; the whole command 14.98-18.62 s and
    15.46-17.20 s)."""
    discard_prestarted_workers()
    runner = WorkerPoolTaskRunner(max_workers=_workers())
    runner.start_workers(1)
    _PRESTARTED["runner"] = runner


def discard_prestarted_workers() -> None:
    """Stop workers :func:`prestart_workers` started that no run adopted."""
    warm = _PRESTARTED.pop("runner", None)
    if warm is not None:
        warm.stop_workers()


def release_workers() -> None:
    """Stop the worker processes of this flow run's task runner, if it has any: the flow calls
    it once it has no more work for them, so that their memory is given back before the
    commit and the catalog are written, not after."""
    from prefect.context import FlowRunContext

    ctx = FlowRunContext.get()
    stop = getattr(getattr(ctx, "task_runner", None), "stop_workers", None)
    if stop is not None:
        stop()


@flow(
    name="newsflow-run",
    task_runner=WorkerPoolTaskRunner(),
    persist_result=False,
    validate_parameters=False,
)
def newsflow_run(
    raw: Path,
    warehouse: Path,
    batch_size: int = DEFAULT_BATCH_SIZE,
    engine: str = DEFAULT_ENGINE,
    full: bool = False,
) -> RunSummary:
    """Bring ``warehouse`` up to date with the ``*.txt`` files below ``raw``; returns a
    :class:`RunSummary`.

    Incremental: only new files and files whose content (SHA-256) changed are processed; their
    old rows and those of removed files leave every table; parts holding none of them are kept
    as they are (hard links). Nothing to do: nothing is written. ``full`` (or a warehouse
    without every table) rebuilds every table from every file."""
    started = time.perf_counter()
    started_at = dt.datetime.now(dt.timezone.utc)
    logger = get_run_logger()
    raw, warehouse = Path(raw).resolve(), Path(warehouse).resolve()
    if not raw.is_dir():
        raise FileNotFoundError(f"raw directory not found: {raw}")

    for step in store.recover(warehouse):  # a run killed earlier left its traces
        logger.warning("recovering the warehouse: %s", step)
    run_id = _run_id()
    ingested_at = dt.datetime.now(dt.timezone.utc)
    paths = discover(raw)
    existing = current_documents(warehouse)
    if full or existing is None:  # a rebuild: every file is processed, every table written anew
        mode = "full"
        plan = Plan(new=list(paths)) if existing is None else plan_run(paths, raw, existing)
        batches = make_batches(paths, batch_size)
    else:
        mode = "incremental"
        plan = plan_run(paths, raw, existing)
        batches = make_batches(plan.to_process, batch_size) if plan.to_process else []
    to_process = sum(len(b) for b in batches)
    logger.info(
        "%d files (%d new, %d changed, %d unchanged, %d removed) in %d batches, run %s (%s)",
        len(paths), len(plan.new), len(plan.changed), len(plan.unchanged), len(plan.removed),
        len(batches), run_id, mode,
    )
    _report_progress(0, to_process)

    done = 0
    stage_seconds: dict[str, float] = {}
    first_read_at: float | None = None

    def add(seconds: dict[str, float]) -> None:
        for stage, secs in seconds.items():
            stage_seconds[stage] = stage_seconds.get(stage, 0.0) + secs

    if mode == "full" or plan.writes:
        with store.WarehouseWriter(warehouse, run_id) as writer:
            groups = group_batches(len(batches), _worker_processes())
            with _api_shared_with_workers():
                futures = [
                    process_batches_task.submit(k, [(i, batches[i]) for i in group], raw, run_id,
                                                ingested_at, engine, writer.staging, writer.tag)
                    for k, group in enumerate(groups)
                ]
            if mode == "incremental":
                t0 = time.perf_counter()
                writer.keep_existing(TABLES, plan.drop_doc_ids)
                add({"keep": time.perf_counter() - t0})
            counted: set[str] = set()  # tokens parts whose words the batches counted
            counts: WordCounts = (EMPTY_FREQUENCIES, 0)  # summed as they come: bounded memory
            for future in as_completed(futures):
                for result in future.result():
                    add(result.seconds)
                    if result.frequencies is not None:
                        counted.add(store.part_name(result.index, writer.tag))
                        counts = add_counts(counts, result.frequencies)
                        # the task's future keeps its result to the end of the flow: not its words
                        result.frequencies = None
                    if result.n_files:
                        first_read_at = min(first_read_at or result.started_at, result.started_at)
                    writer.adopt_batch(result.index, result.written)
                    done += result.n_files
                _report_progress(done, to_process)
            add(stage_keywords(writer, counted, counts))
            release_workers()  # no more work for them: their memory goes before the commit
            t0 = time.perf_counter()
            writer.commit()
            add({"commit": time.perf_counter() - t0})

    articles, tokens, quarantine = _warehouse_totals(warehouse)
    summary = RunSummary(
        run_id=run_id,
        files=len(paths),
        articles=articles,
        tokens=tokens,
        quarantined=len(quarantine),
        seconds=round(time.perf_counter() - started, 2),
        batches=len(batches),
        warehouse=str(warehouse),
        quarantine=quarantine,
        mode=mode,
        files_new=len(plan.new),
        files_changed=len(plan.changed),
        files_unchanged=len(plan.unchanged),
        files_removed=len(plan.removed),
        stage_seconds={k: round(v, 3) for k, v in stage_seconds.items()},
        first_read_at=first_read_at,
        processes=_worker_processes(),
    )
    record_run(warehouse, summary, started_at)
    _publish_summary(summary)
    for path, reason in summary.quarantine.items():
        logger.info("quarantined %s: %s", path, reason)
    if summary.quarantined:
        logger.warning("%d of %d files quarantined", summary.quarantined, summary.files)
    return summary


def run_row(warehouse: Path, summary: RunSummary, started_at: dt.datetime,
            finished_at: dt.datetime | None = None) -> pl.DataFrame:
    """The ``runs`` row of a finished run, validated against :class:`schemas.RunsModel`."""
    finished_at = finished_at or dt.datetime.now(dt.timezone.utc)
    row = {
        "run_id": summary.run_id,
        "started_at": started_at,
        "finished_at": max(finished_at, started_at),
        "seconds": float(summary.seconds),
        "mode": summary.mode,
        "files_seen": summary.files,
        "files_new": summary.files_new,
        "files_changed": summary.files_changed,
        "files_unchanged": summary.files_unchanged,
        "files_removed": summary.files_removed,
        "files_quarantined": summary.quarantined,
        **{f"rows_{t}": store.table_rows(warehouse, t) for t in [*TABLES, *DERIVED_TABLES]},
        "status": "ok",
    }
    schema = {
        "run_id": pl.Utf8,
        "started_at": pl.Datetime("us", "UTC"),
        "finished_at": pl.Datetime("us", "UTC"),
        "seconds": pl.Float64,
        "mode": pl.Utf8,
        **{k: pl.Int64 for k in row if k.startswith(("files_", "rows_"))},
        "status": pl.Utf8,
    }
    return fast_validate(RunsModel, pl.DataFrame([row], schema=schema))


def record_run(warehouse: Path, summary: RunSummary, started_at: dt.datetime) -> Path:
    """Append the run's row to ``warehouse/runs/`` (one Parquet file per run); the catalog gets
    a ``runs`` view the first time. The other tables are not touched."""
    row = run_row(warehouse, summary, started_at)
    runs_dir = Path(warehouse) / "runs"
    first = not runs_dir.is_dir() or not any(runs_dir.glob("*.parquet"))
    runs_dir.mkdir(parents=True, exist_ok=True)
    name = f"run-{started_at:%Y%m%dT%H%M%S%f}-{store._UNSAFE.sub('_', summary.run_id)[:36]}.parquet"
    path = runs_dir / name
    store.write_parquet(row, path)
    if first:
        store.build_catalog(warehouse)
    return path


def summary_markdown(summary: RunSummary) -> str:
    """The run's summary as a markdown table (the Prefect artifact of the run)."""
    cells = {
        "mode": summary.mode, "files": summary.files, "new": summary.files_new,
        "changed": summary.files_changed, "unchanged": summary.files_unchanged,
        "removed": summary.files_removed, "processed": summary.processed,
        "articles": summary.articles, "tokens": summary.tokens,
        "quarantined": summary.quarantined, "seconds": summary.seconds,
    }
    head = "| " + " | ".join(cells) + " |"
    rule = "|" + "---|" * len(cells)
    row = "| " + " | ".join(str(v) for v in cells.values()) + " |"
    lines = [f"# newsflow run `{summary.run_id}`", "", head, rule, row]
    if summary.quarantine:
        lines += ["", "Quarantined:", ""] + [
            f"- `{path}`: {reason.replace(chr(10), ' ')}" for path, reason in summary.quarantine.items()
        ]
    return "\n".join(lines) + "\n"


def _publish_summary(summary: RunSummary) -> None:
    """Attach the summary to the flow run as a Prefect markdown artifact; a failure to do so is
    logged at DEBUG and does not fail the run (the warehouse is already written)."""
    from prefect.artifacts import create_markdown_artifact

    try:
        create_markdown_artifact(
            markdown=summary_markdown(summary),
            key="newsflow-run-summary",
            description=f"newsflow run {summary.run_id}: {summary.mode}",
        )
    except Exception as exc:  # noqa: BLE001
        get_run_logger().debug("summary artifact not created: %s", exc)


ProgressCallback = Callable[[int, int], None]
_progress_callbacks: list[ProgressCallback] = []


@contextmanager
def progress_callback(callback: ProgressCallback) -> Iterator[None]:
    """Within the block, ``callback(files_done, files_total)`` is called (in this process) as
    batches come back. Not a flow parameter: Prefect would try to serialise it."""
    _progress_callbacks.append(callback)
    try:
        yield
    finally:
        _progress_callbacks.remove(callback)


def _report_progress(done: int, total: int) -> None:
    for callback in list(_progress_callbacks):
        callback(done, total)


def _height(tables: dict[str, pl.DataFrame], name: str) -> int:
    df = tables.get(name)
    return 0 if df is None else df.height


def _warehouse_totals(warehouse: Path) -> tuple[int, int, dict[str, str]]:
    """Articles, tokens and the quarantined files (source_path -> error) of the warehouse."""
    docs = pl.read_parquet(
        str(Path(warehouse) / "documents" / "*.parquet"), columns=["source_path", "status", "error"]
    )
    quarantined = docs.filter(pl.col("status") == "quarantined").sort("source_path")
    quarantine = {r[0]: r[1] or "quarantined" for r in quarantined.select("source_path", "error").iter_rows()}
    return store.table_rows(warehouse, "articles"), store.table_rows(warehouse, "tokens"), quarantine


def _api_shared_with_workers() -> AbstractContextManager:
    """Point the task runner's worker processes at this flow's Prefect API.

    With no PREFECT_API_URL set, Prefect starts a temporary API server for the flow, but the
    process pool's workers only inherit settings and environment, which do not name that server:
    each worker would start a temporary server of its own (seconds each, and a second writer on
    the same SQLite database). The runner builds the workers' environment from the settings at
    submit time, so submitting under a setting naming the flow's server shares it.
    """
    from prefect.context import FlowRunContext
    from prefect.settings import PREFECT_API_URL, get_current_settings, temporary_settings

    ctx = FlowRunContext.get()
    client = getattr(ctx, "client", None) if ctx else None
    if client is None or get_current_settings().api.url:
        return nullcontext()
    return temporary_settings(updates={PREFECT_API_URL: str(client.api_url).rstrip("/")})


def _run_id() -> str:
    from prefect.runtime import flow_run

    run = flow_run.get_id()
    return str(run) if run else uuid.uuid4().hex
