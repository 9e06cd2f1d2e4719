"""The Prefect flow: thin wiring of the pure steps in ``tasks/``.

raw files -> batches of files -> one Prefect task per batch (decode -> layout -> tables ->
validate) -> the flow writes each batch's tables into the warehouse (store) as it comes back.

Prefect sees batches, never articles or tokens: one task run per ``batch_size`` files.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import flows  # noqa: F401  - sets newsflow's Prefect settings before prefect is imported
import polars as pl
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import as_completed
from prefect.task_runners import ProcessPoolTaskRunner

from tasks import store
from tasks.decode import discover, read_document
from tasks.layout import parse_page
from tasks.model import Document, Page
from tasks.segment import get_segmenter
from tasks.tables import build_tables
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


@dataclass
class RunSummary:
    run_id: str
    files: int
    articles: int
    tokens: int
    quarantined: int
    seconds: float
    batches: int
    warehouse: str
    quarantine: dict[str, str] = field(default_factory=dict)  # source_path -> reason

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


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
) -> BatchResult:
    """One batch of files, start to end, without Prefect: decode -> layout -> tables -> validate."""
    docs = [read_document(Path(p), Path(raw_root)) for p in paths]
    items = parse_documents(docs)
    segmenter = get_segmenter(engine=engine)
    tables = build_tables(items, segmenter, run_id=run_id, ingested_at=ingested_at)
    result = validate_tables(tables)
    quarantined = {d.source_path: d.error or "quarantined" for d, _ in items if d.status != "ok"}
    path_of = {d.doc_id: d.source_path for d in docs}
    for doc_id, reason in result.quarantined.items():
        quarantined.setdefault(path_of.get(doc_id, doc_id), reason)
    return BatchResult(
        index=index, tables=dict(result.tables), n_files=len(paths), quarantined=quarantined
    )


@task(
    name="process-batch",
    task_run_name="batch-{index:05d}",
    cache_policy=NO_CACHE,
    persist_result=False,
)
def process_batch_task(
    index: int,
    paths: list[Path],
    raw_root: Path,
    run_id: str,
    ingested_at: dt.datetime,
    engine: str = DEFAULT_ENGINE,
) -> BatchResult:
    return process_batch(
        index, paths, raw_root, run_id=run_id, ingested_at=ingested_at, engine=engine
    )


def _workers() -> int:
    return max(1, min(2, os.cpu_count() or 1))


@flow(
    name="newsflow-run",
    task_runner=ProcessPoolTaskRunner(max_workers=_workers()),
    persist_result=False,
    validate_parameters=False,
)
def newsflow_run(
    raw: Path,
    warehouse: Path,
    batch_size: int = DEFAULT_BATCH_SIZE,
    engine: str = DEFAULT_ENGINE,
) -> RunSummary:
    """Rebuild ``warehouse`` from every ``*.txt`` below ``raw``; returns a :class:`RunSummary`."""
    started = time.perf_counter()
    logger = get_run_logger()
    raw, warehouse = Path(raw).resolve(), Path(warehouse).resolve()
    if not raw.is_dir():
        raise FileNotFoundError(f"raw directory not found: {raw}")

    run_id = _run_id()
    ingested_at = dt.datetime.now(dt.timezone.utc)
    paths = discover(raw)
    batches = make_batches(paths, batch_size)
    logger.info("%d files in %d batches, run %s", len(paths), len(batches), run_id)
    _report_progress(0, len(paths))

    with _api_shared_with_workers():
        futures = [
            process_batch_task.submit(i, batch, raw, run_id, ingested_at, engine)
            for i, batch in enumerate(batches)
        ]
    articles = tokens = done = 0
    quarantine: dict[str, str] = {}
    with store.WarehouseWriter(warehouse, run_id) as writer:
        for future in as_completed(futures):
            result: BatchResult = future.result()
            writer.write_batch(result.index, result.tables)
            articles += _height(result.tables, "articles")
            tokens += _height(result.tables, "tokens")
            quarantine.update(result.quarantined)
            done += result.n_files
            _report_progress(done, len(paths))
        writer.commit()

    summary = RunSummary(
        run_id=run_id,
        files=len(paths),
        articles=articles,
        tokens=tokens,
        quarantined=len(quarantine),
        seconds=round(time.perf_counter() - started, 2),
        batches=len(batches),
        warehouse=str(warehouse),
        quarantine=dict(sorted(quarantine.items())),
    )
    for path, reason in summary.quarantine.items():
        logger.info("quarantined %s: %s", path, reason)
    if summary.quarantined:
        logger.warning("%d of %d files quarantined", summary.quarantined, summary.files)
    return summary


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
