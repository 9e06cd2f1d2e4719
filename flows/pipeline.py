"""The Prefect flow: thin wiring of the pure steps in ``tasks/``.

raw files -> hashed and compared with the warehouse's documents (:func:`plan_run`: new, changed,
unchanged, removed) -> batches of the new and changed files (every file with ``full``) -> one
Prefect task per batch (decode -> layout -> tables -> validate -> its own Parquet parts in the
run's staging directory) while the flow stages the kept parts of each table less the changed and
removed documents -> keywords over the whole staged warehouse, in tasks -> one atomic commit
(store) -> the run's row in ``runs``.

Prefect sees batches, never articles or tokens: one task run per ``batch_size`` files.
"""

from __future__ import annotations

import ctypes
import dataclasses
import datetime as dt
import functools
import hashlib
import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import flows  # noqa: F401  - sets newsflow's Prefect settings before prefect is imported
import polars as pl
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import as_completed
from prefect.task_runners import ProcessPoolTaskRunner

from tasks import store
from schemas import DERIVED_TABLES, TABLES, RunsModel
from schemas._fast import validate as fast_validate
from tasks.decode import _source_path, discover, read_document
from tasks.keywords import (
    idf_from_frequencies,
    keywords_from_candidates,
    keywords_table,
    prepared_frequencies,
    prepared_input,
)
from tasks.layout import parse_page
from tasks.model import Document, Page
from tasks.segment import get_segmenter
from tasks.tables import TOKENS_SCHEMA, Extractors, build_tables
from tasks.validate import validate_tables

DEFAULT_BATCH_SIZE = 50
DEFAULT_ENGINE = "rjieba"


@dataclass
class BatchResult:
    """What one batch task hands back to the flow."""

    index: int
    tables: dict[str, pl.DataFrame]
    n_files: int
    quarantined: dict[str, str] = field(default_factory=dict)  # source_path -> reason
    seconds: dict[str, float] = field(default_factory=dict)  # stage -> seconds in this task
    started_at: float = 0.0  # time.time() when the task began reading its first file
    written: list[str] = field(default_factory=list)  # tables the task wrote itself (out_dir)
    #: document frequencies of the batch's words and its number of articles (for the keywords'
    #: IDF, computed here while the tokens are at hand)
    frequencies: tuple[pl.DataFrame, int] | None = None


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


def parse_documents(docs: Sequence[Document]) -> list[tuple[Document, Page | None]]:
    """Layout for every ok document. An exception on one page quarantines that page only."""
    items: list[tuple[Document, Page | None]] = []
    for doc in docs:
        if doc.status != "ok" or doc.text is None:
            items.append((doc, None))
            continue
        try:
            page = parse_page(doc.text)
        except Exception as exc:  # noqa: BLE001 - any layout failure quarantines the page
            reason = f"layout failed: {type(exc).__name__}: {exc}".rstrip(": ")
            items.append((dataclasses.replace(doc, status="quarantined", error=reason), None))
            continue
        items.append((doc, page))
    return items


def process_batch(
    index: int,
    paths: Sequence[Path],
    raw_root: Path,
    *,
    run_id: str,
    ingested_at: dt.datetime,
    engine: str = DEFAULT_ENGINE,
    out_dir: Path | None = None,
    part_tag: str = "",
) -> BatchResult:
    """One batch of files, start to end, without Prefect: decode -> layout -> tables -> validate.

    With ``out_dir`` (a run's staging directory) the batch writes its own part of every table
    there (:func:`tasks.store.write_parts`) and hands back no tables, only what happened: the
    flow never holds, nor receives through a pipe, the rows of a batch."""
    started_at = time.time()
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    docs = [read_document(Path(p), Path(raw_root)) for p in paths]
    t1 = time.perf_counter()
    items = parse_documents(docs)
    t2 = time.perf_counter()
    segmenter = get_segmenter(engine=engine)
    extractors = Extractors.default()
    t3 = time.perf_counter()
    tables = build_tables(items, segmenter, run_id=run_id, ingested_at=ingested_at,
                          extractors=extractors, timings=seconds)
    trim_c_heap()  # the rows' Python objects are gone: their pages go back before polars works
    t4 = time.perf_counter()
    result = validate_tables(tables)
    t5 = time.perf_counter()
    seconds.update(read=t1 - t0, layout=t2 - t1, load=t3 - t2, validate=t5 - t4)
    quarantined = {d.source_path: d.error or "quarantined" for d, _ in items if d.status != "ok"}
    path_of = {d.doc_id: d.source_path for d in docs}
    for doc_id, reason in result.quarantined.items():
        quarantined.setdefault(path_of.get(doc_id, doc_id), reason)
    tables, written = dict(result.tables), []
    t6 = time.perf_counter()
    frequencies, candidates = prepared_input(tables["tokens"].select(*KEYWORD_INPUT))
    if out_dir is not None:  # for the keywords' second pass, which need not prepare them again
        write_candidates(candidates, candidates_path(Path(out_dir), store.part_name(index, part_tag)))
    seconds["keywords"] = time.perf_counter() - t6
    if out_dir is not None:
        t7 = time.perf_counter()
        written = store.write_parts(Path(out_dir), index, part_tag, tables)
        seconds["write"] = time.perf_counter() - t7
        tables = {}
    return BatchResult(
        index=index, tables=tables, n_files=len(paths), quarantined=quarantined,
        seconds=seconds, started_at=started_at, written=written, frequencies=frequencies,
    )


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL(None).malloc_trim  # glibc's
    except (OSError, AttributeError):  # another C library: nothing to do
        return None


def trim_c_heap() -> None:
    """Hand the C heap's free pages back to the system (glibc ``malloc_trim``; a no-op
    elsewhere). The Python objects of a batch's rows (some 80 MB at 50 files) are freed when
    :func:`build_tables` returns, but glibc keeps most of their pages, and what polars allocates
    next comes from its own allocator: without this, a worker's peak holds both (about 40 MB
    more per worker). Costs a few milliseconds."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


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
    name="process-batch",
    task_run_name="batch-{index:05d}",
    cache_policy=NO_CACHE,
    persist_result=False,
    retries=BATCH_RETRIES,
    retry_delay_seconds=BATCH_RETRY_DELAY_SECONDS,
    retry_condition_fn=retry_on_os_error,
)
def process_batch_task(
    index: int,
    paths: list[Path],
    raw_root: Path,
    run_id: str,
    ingested_at: dt.datetime,
    engine: str = DEFAULT_ENGINE,
    out_dir: Path | None = None,
    part_tag: str = "",
) -> BatchResult:
    return process_batch(
        index, paths, raw_root, run_id=run_id, ingested_at=ingested_at, engine=engine,
        out_dir=out_dir, part_tag=part_tag,
    )


KEYWORD_PARTS_PER_TASK = 8  # parts of the staged tokens per keywords task


@task(name="keyword-frequencies", task_run_name="frequencies-{index:05d}", cache_policy=NO_CACHE,
      persist_result=False, retries=BATCH_RETRIES, retry_delay_seconds=BATCH_RETRY_DELAY_SECONDS,
      retry_condition_fn=retry_on_os_error)
def keyword_frequencies_task(index: int, tokens_parts: list[Path]) -> tuple[pl.DataFrame, int, float]:
    """Document frequencies of the words of some parts of the staged tokens that no batch of
    this run computed (parts kept from earlier runs)."""
    t0 = time.perf_counter()
    frames, n = [], 0
    for part in tokens_parts:
        df, k = prepared_frequencies(pl.read_parquet(part, columns=list(KEYWORD_INPUT)))
        frames.append(df)
        n += k
    return pl.concat(frames) if frames else EMPTY_FREQUENCIES, n, time.perf_counter() - t0


@task(name="keywords", task_run_name="keywords-{index:05d}", cache_policy=NO_CACHE,
      persist_result=False, retries=BATCH_RETRIES, retry_delay_seconds=BATCH_RETRY_DELAY_SECONDS,
      retry_condition_fn=retry_on_os_error)
def keywords_part_task(index: int, jobs: list[tuple[Path, Path]], idf_path: Path) -> tuple[int, float]:
    """The keywords of the articles of some parts of the staged tokens, with the warehouse's IDF,
    validated and written (second pass): ``jobs`` pairs a tokens part with its keywords part.
    Returns (rows, seconds)."""
    t0 = time.perf_counter()
    idf = pl.read_parquet(idf_path)
    rows = 0
    for tokens_part, out in jobs:
        side = candidates_path(tokens_part.parent.parent, tokens_part.name)
        if side.is_file():  # a part this run's batches wrote: its candidates are ready
            frame = keywords_of_candidates(pl.read_parquet(side), idf)
        else:
            frame = keywords_of_part(pl.read_parquet(tokens_part, columns=list(KEYWORD_INPUT)), idf)
        store.write_parquet(frame, out)
        rows += frame.height
    return rows, time.perf_counter() - t0


EMPTY_FREQUENCIES = pl.DataFrame(schema={"token": pl.Utf8, "df": pl.Float64})
#: Document frequencies of words and the number of articles they were counted over.
WordCounts = tuple[pl.DataFrame, int]


def add_counts(total: WordCounts, more: WordCounts) -> WordCounts:
    """Word counts of two disjoint sets of articles, summed (one row per word)."""
    df = pl.concat([total[0], more[0]]).group_by("token").agg(pl.col("df").sum())
    return df, total[1] + more[1]


KEYWORD_INPUT = ("article_id", "doc_id", "token", "pos", "char_start")
KEYWORD_INPUT_SCHEMA = {c: TOKENS_SCHEMA[c] for c in KEYWORD_INPUT}


def keywords_of_part(tokens: pl.DataFrame, idf: pl.DataFrame) -> pl.DataFrame:
    """The ``keywords`` rows of the articles in ``tokens`` (whole articles), validated."""
    docs = tokens.select("article_id", "doc_id").unique()
    return _keywords_rows(keywords_table(tokens.drop("doc_id"), idf=idf), docs)


def keywords_of_candidates(candidates: pl.DataFrame, idf: pl.DataFrame) -> pl.DataFrame:
    """:func:`keywords_of_part` of the tokens whose keyword candidates (with ``doc_id``) a batch
    wrote (:func:`tasks.keywords.prepared_input`): the same rows."""
    docs = candidates.select("article_id", "doc_id").unique()
    return _keywords_rows(keywords_from_candidates(candidates.drop("doc_id"), idf=idf), docs)


def _keywords_rows(keywords: pl.DataFrame, docs: pl.DataFrame) -> pl.DataFrame:
    frame = keywords.join(docs, on="article_id", how="left")
    frame = frame.select("article_id", "doc_id", "keyword", "weight", "rank", "method").sort(
        "article_id", "method", "rank"
    )
    return fast_validate(DERIVED_TABLES["keywords"], frame)


#: Where a batch leaves the keyword candidates of its tokens part for the keywords' second pass,
#: below the run's staging directory (removed before the commit).
CANDIDATES_DIR = "_keyword_candidates"


def candidates_path(staging: Path, part: str) -> Path:
    return Path(staging) / CANDIDATES_DIR / Path(part).name


def write_candidates(candidates: pl.DataFrame, path: Path) -> None:
    """Parquet with lz4 and no statistics (read once, moments later: the cheapest to write that
    stays small, its ids dictionary-encoded: a tenth of uncompressed Arrow); written to a
    temporary file and moved into place, so a retried batch replaces it whole."""
    path.parent.mkdir(exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        candidates.write_parquet(tmp, compression="lz4", statistics=False)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


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
    idf = idf_from_frequencies(*counts)
    idf_path = writer.staging / "_idf.parquet"
    store.write_parquet(idf, idf_path)
    idf_secs = time.perf_counter() - t0
    out_dir = writer.staging / "keywords"
    out_dir.mkdir()
    jobs = [(part, out_dir / store.part_name(i, writer.tag)) for i, part in enumerate(parts)]
    with _api_shared_with_workers():
        second = [keywords_part_task.submit(i, jobs[k : k + KEYWORD_PARTS_PER_TASK], idf_path)
                  for i, k in enumerate(range(0, len(jobs), KEYWORD_PARTS_PER_TASK))]
    for future in second:
        secs += future.result()[1]
    idf_path.unlink()
    shutil.rmtree(writer.staging / CANDIDATES_DIR, ignore_errors=True)
    if not parts:  # no tokens part at all: still one (empty) part, so the table has its schema
        store.write_parquet(keywords_of_part(pl.DataFrame(schema=KEYWORD_INPUT_SCHEMA), idf),
                            out_dir / store.part_name(0, writer.tag))
    writer.adopt_table("keywords")
    return {"keywords": secs, "keywords_idf": idf_secs}



def task_runner(workers: int | None = None, dask_address: str | None = None):
    """The task runner of a run: this machine's process pool by default; with ``workers`` a
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
    return WarmProcessPoolTaskRunner(max_workers=_workers())


def _workers() -> int:
    return max(1, min(2, os.cpu_count() or 1))


def warm_worker() -> None:
    """Run in each worker process as it starts: the segmenter's dictionary, the entity model and
    the dictionary tables its features use are loaded once, before the first batch, not inside
    it. A failure here is left to the batch that meets it (as its own error), not raised here,
    where it would break the whole pool."""
    try:
        segmenter = get_segmenter(engine=DEFAULT_ENGINE)
        extractors = Extractors.default()
        if extractors.entities is not None:
            text = "区委书记谢坚钢在五角场街道调研。"
            extractors.entities.extract([text], [segmenter.tag(text)])
    except Exception:  # noqa: BLE001, S110 - see above
        pass
    # building the dictionary tables freed far more than they keep (jieba's dictionary read
    # as Python strings and a dict of words): those pages go back to the system now
    trim_c_heap()


class WarmProcessPoolTaskRunner(ProcessPoolTaskRunner):
    """Prefect's process pool whose workers run :func:`warm_worker` as they start, and which
    ``newsflow run`` can start before the flow (:func:`prestart_workers`): the workers then import
    the pipeline and load their dictionaries while Prefect's temporary server boots, instead of
    after it. The flow adopts the pool started early; without one it starts its own as usual."""

    def __init__(self, max_workers: int | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("initializer", warm_worker)
        super().__init__(max_workers=max_workers, **kwargs)
        self._prestarted = False

    def duplicate(self) -> WarmProcessPoolTaskRunner:
        # Prefect runs each flow run on a duplicate of the flow's runner: hand it the pool
        # started early, once
        warm = _PRESTARTED.pop("runner", None)
        if warm is not None and warm._max_workers == self._max_workers:
            return warm
        if warm is not None:
            warm.__exit__(None, None, None)
        return super().duplicate()

    def __enter__(self) -> WarmProcessPoolTaskRunner:
        if self._prestarted:  # started by prestart_workers(): already running
            self._prestarted = False
            return self
        return super().__enter__()


_PRESTARTED: dict[str, WarmProcessPoolTaskRunner] = {}


def spare_core() -> bool:
    """Is a core idle now (the last minute's load average more than half a core below the core
    count)?
    Workers started early overlap Prefect's server boot only on an idle core; on a busy machine
    they slow that boot down instead (measured: first file read 20-23 s with them, 14-16 s
    without, with two other jobs running on this 2-core machine)."""
    try:
        return os.getloadavg()[0] < (os.cpu_count() or 1) - 0.5
    except OSError:  # no load average on this platform
        return False


def prestart_workers() -> None:
    """Start the default task runner's worker processes now (each loads what a batch needs);
    the next run of :func:`newsflow_run` in this process adopts them."""
    discard_prestarted_workers()
    runner = WarmProcessPoolTaskRunner(max_workers=_workers()).__enter__()
    runner._prestarted = True
    # a process pool starts a worker process for each task submitted while none is idle
    for _ in range(runner._max_workers):
        runner._executor.submit(int)  # type: ignore[union-attr]
    _PRESTARTED["runner"] = runner


def discard_prestarted_workers() -> None:
    """Stop workers :func:`prestart_workers` started that no run adopted."""
    warm = _PRESTARTED.pop("runner", None)
    if warm is not None:
        warm.__exit__(None, None, None)


@flow(
    name="newsflow-run",
    task_runner=WarmProcessPoolTaskRunner(max_workers=_workers()),
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
            with _api_shared_with_workers():
                futures = [
                    process_batch_task.submit(i, batch, raw, run_id, ingested_at, engine,
                                              writer.staging, writer.tag)
                    for i, batch in enumerate(batches)
                ]
            if mode == "incremental":
                t0 = time.perf_counter()
                writer.keep_existing(TABLES, plan.drop_doc_ids)
                add({"keep": time.perf_counter() - t0})
            counted: set[str] = set()  # tokens parts whose words the batches counted
            counts: WordCounts = (EMPTY_FREQUENCIES, 0)  # summed as they come: bounded memory
            for future in as_completed(futures):
                result: BatchResult = future.result()
                add(result.seconds)
                if result.frequencies is not None:
                    counted.add(store.part_name(result.index, writer.tag))
                    counts = add_counts(counts, result.frequencies)
                if result.n_files:
                    first_read_at = min(first_read_at or result.started_at, result.started_at)
                writer.adopt_batch(result.index, result.written)
                done += result.n_files
                _report_progress(done, to_process)
            add(stage_keywords(writer, counted, counts))
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
