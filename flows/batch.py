"""What the worker processes of a run do: one batch of files start to end, and the keywords'
two passes over the staged parts. No Prefect here, nor anything that imports it: the default
task runner (:class:`flows.pipeline.WorkerPoolTaskRunner`) runs each Prefect task in a thread of
the flow's process and hands its work to a pool of plain worker processes (:func:`start_pool`),
which import this module, the pure steps of ``tasks/`` and their libraries only (Prefect,
imported and running its task engine in every worker, cost some 70 MB of each worker's
memory). On a Dask cluster the Prefect tasks run these same functions in the Dask workers."""

from __future__ import annotations

import ctypes
import dataclasses
import datetime as dt
import functools
import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import flows  # noqa: F401  - newsflow's environment (polars' allocator) before polars loads
import polars as pl

from schemas import DERIVED_TABLES
from schemas._fast import validate as fast_validate
from tasks import store
from tasks.decode import read_document
from tasks.keywords import (
    idf_from_frequencies,
    jieba_idf,
    jieba_median_idf,
    keywords_from_candidates,
    prepared_frequencies,
    prepared_input,
)
from tasks.model import Document, Page
from tasks.segment import get_segmenter
from tasks.tables import TOKENS_SCHEMA, Extractors, build_tables
from tasks.validate import ValidationResult, validate_tables

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


def parse_documents(docs: Sequence[Document]) -> list[tuple[Document, Page | None]]:
    """Layout for every ok document. An exception on one page quarantines that page only."""
    # imported here, not with this module: the flow's process imports this module (for what it
    # hands the workers) but lays out no page (the layout and cn2an: some 6 MB)
    from tasks import layout

    items: list[tuple[Document, Page | None]] = []
    for doc in docs:
        if doc.status != "ok" or doc.text is None:
            items.append((doc, None))
            continue
        try:
            page = layout.parse_page(doc.text)
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

    def rows(items: list[tuple[Document, Page | None]]) -> ValidationResult:
        tables = build_tables(items, segmenter, run_id=run_id, ingested_at=ingested_at,
                              extractors=extractors, timings=seconds)
        trim_c_heap()  # the rows' Python objects are gone: their pages go back before polars works
        t = time.perf_counter()
        try:
            return validate_tables(tables)
        finally:
            seconds["validate"] = seconds.get("validate", 0.0) + time.perf_counter() - t

    try:
        result = rows(items)
    except Exception:  # noqa: BLE001 - one document's rows broke the batch: find it
        items = quarantine_failing(items, rows)
        result = rows(items)
    seconds.update(read=t1 - t0, layout=t2 - t1, load=t3 - t2)
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


def process_batches(
    batches: Sequence[tuple[int, Sequence[Path]]],
    raw_root: Path,
    *,
    run_id: str,
    ingested_at: dt.datetime,
    engine: str = DEFAULT_ENGINE,
    out_dir: Path | None = None,
    part_tag: str = "",
) -> list[BatchResult]:
    """Some batches ``(index, paths)`` one after the other, each exactly as :func:`process_batch`
    (with ``out_dir``, each writes its own parts before the next one is read, so memory holds
    one batch at a time): the work of one Prefect task."""
    return [process_batch(index, paths, raw_root, run_id=run_id, ingested_at=ingested_at,
                          engine=engine, out_dir=out_dir, part_tag=part_tag)
            for index, paths in batches]


def quarantine_failing(
    items: list[tuple[Document, Page | None]], rows: Callable[[list[tuple[Document, Page | None]]], object]
) -> list[tuple[Document, Page | None]]:
    """``items`` with each laid-out document whose rows fail on their own (``rows`` of it alone
    raises: the segmenter lost text, a row no document can be quarantined for...) quarantined,
    with the exception as its error. Called when a whole batch's rows raised, so that one page
    costs its own rows, not the batch's nor the run."""
    out: list[tuple[Document, Page | None]] = []
    for doc, page in items:
        if page is not None:
            try:
                rows([(doc, page)])
            except Exception as exc:  # noqa: BLE001 - any failure quarantines this page only
                reason = f"tables failed: {type(exc).__name__}: {exc}".rstrip(": ")
                doc, page = dataclasses.replace(doc, status="quarantined", error=reason), None
        out.append((doc, page))
    return out


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
    """The ``keywords`` rows of the articles in ``tokens`` (whole articles, with ``doc_id``),
    validated: their candidates (:func:`tasks.keywords.prepared_input`) scored as a batch's
    are (:func:`keywords_of_candidates`)."""
    return keywords_of_candidates(prepared_input(tokens)[1], idf)


def keywords_of_candidates(candidates: pl.DataFrame, idf: pl.DataFrame) -> pl.DataFrame:
    """The ``keywords`` rows of the tokens whose keyword candidates (with ``doc_id``) a batch
    wrote (:func:`tasks.keywords.prepared_input`), validated."""
    # doc_id kept after article_id: the table's columns, in its order
    return fast_validate(DERIVED_TABLES["keywords"], keywords_from_candidates(candidates, idf=idf))


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


def keyword_frequencies(tokens_parts: Sequence[Path]) -> tuple[pl.DataFrame, int, float]:
    """Document frequencies of the words of some parts of the staged tokens that no batch of
    this run computed (parts kept from earlier runs), their number of articles, and seconds."""
    t0 = time.perf_counter()
    frames, n = [], 0
    for part in tokens_parts:
        df, k = prepared_frequencies(pl.read_parquet(part, columns=list(KEYWORD_INPUT)))
        frames.append(df)
        n += k
    return pl.concat(frames) if frames else EMPTY_FREQUENCIES, n, time.perf_counter() - t0


def write_idf(counts: WordCounts, path: Path) -> None:
    """The IDF of the words counted in ``counts`` (:func:`tasks.keywords.idf_from_frequencies`),
    written to ``path``. Done in a worker: the flow's process, which lives to the end of the
    run, never loads jieba's IDF table that it joins (some 350,000 words); nor does the worker
    keep it: the keywords' second pass, with the IDF of every word it scores, does not read it."""
    store.write_parquet(idf_from_frequencies(*counts), path)
    jieba_idf.cache_clear()
    jieba_median_idf.cache_clear()


def keywords_parts(jobs: Sequence[tuple[Path, Path]], idf_path: Path) -> tuple[int, float]:
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


def warm_worker() -> None:
    """Run in each worker process as it starts: the segmenter's dictionary, the entity model and
    the dictionary tables its features use are loaded once, before the first batch, not inside
    it; so is the layout module (its import, with cn2an's, some 0.14 s of CPU, was the first
    batch's). A failure here is left to the batch that meets it (as its own error), not raised
    here, where it would break the whole pool."""
    try:
        from tasks import layout  # noqa: F401 - imported for the batches (see parse_documents)

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


def start_pool(workers: int, started: int | None = None) -> ProcessPoolExecutor:
    """A pool of up to ``workers`` worker processes, ``started`` of them (all by default)
    started now (spawned, each running :func:`warm_worker` as it starts), the others when
    calls find none idle. They import this module and what it needs, never Prefect."""
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=warm_worker)
    # a process pool starts a worker process for each call submitted while none is idle
    for _ in range(workers if started is None else max(1, min(started, workers))):
        pool.submit(int)
    return pool
