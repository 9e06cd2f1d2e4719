"""Store: tables -> Parquet files in the warehouse, and the DuckDB catalog over them.

Layout of a warehouse directory::

    warehouse/
      documents/part-00000.parquet     one file per table per batch of input files (zstd)
      articles/part-00000.parquet
      ...
      runs/run-<time>-<run_id>.parquet one row per run, appended (flows/pipeline.py)
      newsflow.duckdb                  one VIEW per table over <table>/**/*.parquet
      .newsflow.lock                   flock'ed by a run (warehouse_lock)
      .staging-<run_id>/               only while a run is writing

Each table reads with ``read_parquet('warehouse/<table>/**/*.parquet', hive_partitioning=true)``.

A run writes the next version of each table below ``.staging-<run_id>/`` (a full run: every
batch; an incremental run: :meth:`WarehouseWriter.keep_existing` hard-links the parts it keeps and
rewrites those holding changed or removed documents, then the new batches); on
:meth:`WarehouseWriter.commit` each staged table directory is swapped in with renames (the old one
is renamed aside, then deleted), so a reader sees the old table or the new one, never a
half-written one, and running twice gives the same warehouse, not duplicated rows. Then
``newsflow.duckdb`` is rebuilt into a temporary file and moved into place with ``os.replace``.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl
import pyarrow.parquet as pq

CATALOG_NAME = "newsflow.duckdb"
LOCK_NAME = ".newsflow.lock"
STAGING_PREFIX = ".staging-"
COMMITTED_PREFIX = ".committed-"  # marks a commit whose tables are all swapped in
PARQUET_COMPRESSION = "zstd"
_TABLE_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def part_name(index: int, prefix: str = "") -> str:
    return f"part-{prefix + '-' if prefix else ''}{index:05d}.parquet"


class WarehouseWriter:
    """Stages one run's tables, then swaps them into the warehouse all at once.

    Use as a context manager: leaving the block with an exception removes the staging dir and
    leaves the warehouse as it was; :meth:`commit` must be called explicitly.
    """

    def __init__(self, warehouse: Path, run_id: str, *, part_prefix: str = "") -> None:
        self.warehouse = Path(warehouse)
        self.run_id = _UNSAFE.sub("_", run_id)
        self.part_prefix = _UNSAFE.sub("_", part_prefix)
        self.staging = self.warehouse / f"{STAGING_PREFIX}{self.run_id}"
        self._tables: list[str] | None = None
        self._indexes: set[int] = set()
        self.warehouse.mkdir(parents=True, exist_ok=True)
        if self.staging.exists():
            shutil.rmtree(self.staging)
        self.staging.mkdir()

    def __enter__(self) -> WarehouseWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.abort()

    def _register(self, tables: Iterable[str], what: str) -> list[str]:
        """Check table names; every batch and the kept parts must name the same tables."""
        names = list(tables)
        for name in names:
            if not _TABLE_NAME.match(name):
                raise ValueError(f"not a valid table name: {name!r}")
        if self._tables is None:
            self._tables = names
        elif set(names) != set(self._tables):
            raise ValueError(f"{what} {sorted(names)}, earlier ones {sorted(self._tables)}")
        return names

    def write_batch(self, index: int, tables: Mapping[str, pl.DataFrame]) -> None:
        """Write one batch: ``<table>/part-<index>.parquet`` for every table, even an empty one."""
        if index < 0 or index in self._indexes:
            raise ValueError(f"batch index {index} is negative or already written")
        names = self._register(tables, f"batch {index} has tables")
        for name in names:
            table_dir = self.staging / name
            table_dir.mkdir(exist_ok=True)
            target = table_dir / part_name(index, self.part_prefix)
            if target.exists():
                raise ValueError(f"part {target.name} of table {name} already staged")
            write_parquet(tables[name], target)
        self._indexes.add(index)

    def keep_existing(self, tables: Iterable[str], drop_doc_ids: Iterable[str]) -> dict[str, int]:
        """Stage the warehouse's current parts of ``tables``, less the rows of ``drop_doc_ids``.

        A part holding none of those documents is hard-linked into staging unchanged (copied where
        links are not possible); one holding some is rewritten without their rows (dropped when
        nothing is left). A table keeps at least one (maybe empty) part, so it keeps its schema.
        Call before :meth:`write_batch`. Returns ``{table: parts rewritten or dropped}``.
        """
        drop = sorted(set(drop_doc_ids))
        names = self._register(tables, "kept tables")
        touched: dict[str, int] = {}
        for name in names:
            source_dir = self.warehouse / name
            table_dir = self.staging / name
            table_dir.mkdir(exist_ok=True)
            parts = sorted(source_dir.glob("*.parquet")) if source_dir.is_dir() else []
            empty: Path | None = None  # an empty part, kept only if the table has no other
            emptied: tuple[pl.DataFrame, str] | None = None
            kept = touched[name] = 0
            for part in parts:
                if pq.ParquetFile(part).metadata.num_rows == 0:
                    empty = empty or part
                    continue
                ids = pl.read_parquet(part, columns=["doc_id"])["doc_id"]
                if not drop or not ids.is_in(pl.Series(drop, dtype=pl.Utf8).implode()).any():
                    link_or_copy(part, table_dir / part.name)
                    kept += 1
                    continue
                touched[name] += 1
                frame = pl.read_parquet(part).filter(~pl.col("doc_id").is_in(drop))  # list: no ambiguity
                if frame.height:
                    write_parquet(frame, table_dir / part.name)
                    kept += 1
                elif emptied is None:
                    emptied = (frame, part.name)
            if not kept:
                if empty is not None:
                    link_or_copy(empty, table_dir / empty.name)
                elif emptied is not None:
                    write_parquet(emptied[0], table_dir / emptied[1])
        return touched

    def commit(self) -> list[str]:
        """Swap every staged table into the warehouse, rebuild the catalog; returns the tables."""
        tables = list(self._tables or [])
        for name in tables:
            _unify_parts(self.staging / name)
        aside: list[Path] = []
        for name in tables:
            target = self.warehouse / name
            if target.exists():
                old = self.warehouse / f".old-{self.run_id}-{name}"
                if old.exists():
                    shutil.rmtree(old)
                target.rename(old)
                aside.append(old)
            (self.staging / name).rename(target)
        # every table is swapped: from here on a killed run is rolled forward, not back
        committed = self.warehouse / f"{COMMITTED_PREFIX}{self.run_id}"
        committed.touch()
        for old in aside:
            shutil.rmtree(old, ignore_errors=True)
        committed.unlink()
        shutil.rmtree(self.staging, ignore_errors=True)
        build_catalog(self.warehouse, sorted(set(tables) | set(table_names(self.warehouse))))
        return tables

    def abort(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)


def recover(warehouse: Path) -> list[str]:
    """Put a warehouse back as the last committed run left it, after a run was killed.

    A run killed while staging leaves ``.staging-<run>/`` (never read): removed. A run killed
    inside :meth:`WarehouseWriter.commit` before every table was swapped leaves the previous
    version of each table it had swapped as ``.old-<run>-<table>/``: all are moved back, so the
    warehouse is the previous run's again, every table of it. One killed after every table was
    swapped (``.committed-<run>`` exists) is rolled forward: the old versions are removed. Call it
    holding the warehouse lock, before reading the warehouse. Returns what it did, for the log.
    """
    warehouse = Path(warehouse)
    done: list[str] = []
    if not warehouse.is_dir():
        return done
    committed = {p.name[len(COMMITTED_PREFIX):] for p in warehouse.glob(f"{COMMITTED_PREFIX}*")}
    for entry in sorted(warehouse.iterdir()):
        if entry.name.startswith(".old-") and entry.is_dir():
            run, table = entry.name[len(".old-"):].rsplit("-", 1)  # table names have no "-"
            target = warehouse / table
            if run in committed or not _TABLE_NAME.match(table):
                shutil.rmtree(entry, ignore_errors=True)  # that run committed: roll forward
                done.append(f"removed {entry.name} of a committed run")
            else:  # that run did not commit: roll every table it swapped back
                if target.exists():
                    shutil.rmtree(target)
                entry.rename(target)
                done.append(f"restored {table} from an interrupted commit")
    for run in committed:
        (warehouse / f"{COMMITTED_PREFIX}{run}").unlink(missing_ok=True)
    for entry in sorted(warehouse.iterdir()):
        if entry.name.startswith(STAGING_PREFIX) and entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
            done.append(f"removed {entry.name} of an interrupted run")
    return done


def write_warehouse(
    warehouse: Path, batches: Iterable[Mapping[str, pl.DataFrame]], run_id: str
) -> list[str]:
    """Rebuild the warehouse from batches of tables (batch i -> part i); returns the tables."""
    with WarehouseWriter(warehouse, run_id) as writer:
        for index, tables in enumerate(batches):
            writer.write_batch(index, tables)
        return writer.commit()


def write_parquet(df: pl.DataFrame, path: Path) -> None:
    """Deterministic zstd Parquet (same frame -> same bytes).

    Written to a temporary file and moved into place, so a path that is a hard link to a
    warehouse part gets a new file and never overwrites the part it was linked to."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        df.write_parquet(tmp, compression=PARQUET_COMPRESSION, statistics=True)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def link_or_copy(source: Path, target: Path) -> None:
    """Hard-link ``source`` at ``target`` (same bytes, same mtime, no copying); copy if links fail."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def table_rows(warehouse: Path, table: str) -> int:
    """Rows of a table, from the Parquet footers (0 when it has no parts)."""
    table_dir = Path(warehouse) / table
    if not table_dir.is_dir():
        return 0
    return sum(pq.ParquetFile(p).metadata.num_rows for p in table_dir.rglob("*.parquet"))


def _unify_parts(table_dir: Path) -> None:
    """Make every part of a table share one schema so DuckDB can read them as one.

    Batches normally already agree (tables come with fixed schemas); a column that is all-null in
    one batch may still come out as polars' ``Null`` type, and DuckDB takes the schema from the
    first file. So when parts differ, each one is rewritten cast to the common supertype.
    """
    parts = sorted(table_dir.glob("*.parquet"))
    schemas = [pq.read_schema(p).remove_metadata() for p in parts]
    if all(s.equals(schemas[0]) for s in schemas[1:]):
        return
    frames = [pl.read_parquet(p) for p in parts]
    try:
        target = pl.concat([f.clear() for f in frames], how="diagonal_relaxed").schema
    except Exception as exc:  # noqa: BLE001 - re-raised with the table named
        raise ValueError(f"batches of table {table_dir.name} have incompatible schemas: {exc}")
    for path, frame in zip(parts, frames):
        fixed = frame.select(
            [
                pl.col(c).cast(t) if c in frame.columns else pl.lit(None, dtype=t).alias(c)
                for c, t in target.items()
            ]
        )
        write_parquet(fixed, path)


def table_names(warehouse: Path) -> list[str]:
    """The tables present in a warehouse: non-hidden directories holding Parquet files."""
    warehouse = Path(warehouse)
    if not warehouse.is_dir():
        return []
    return sorted(
        d.name
        for d in warehouse.iterdir()
        if d.is_dir()
        and not d.name.startswith((".", "_"))
        and _TABLE_NAME.match(d.name)
        and any(d.rglob("*.parquet"))
    )


def parquet_glob(table_dir: Path, *, relative_to: Path | None = None) -> str:
    """The glob a view reads: relative to ``relative_to`` when the table lies below it."""
    table_dir = Path(os.path.abspath(table_dir))
    if relative_to is not None:
        base = Path(os.path.abspath(relative_to))
        if table_dir == base or base in table_dir.parents:
            return f"{table_dir.relative_to(base).as_posix()}/**/*.parquet"
    return f"{table_dir.as_posix()}/**/*.parquet"


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def view_sql(table: str, glob: str) -> str:
    if not _TABLE_NAME.match(table):
        raise ValueError(f"not a valid table name: {table!r}")
    return (
        f"CREATE OR REPLACE VIEW {table} AS "
        f"SELECT * FROM read_parquet({_sql_str(glob)}, hive_partitioning = true)"
    )


def _no_downloads(con: duckdb.DuckDBPyConnection) -> None:
    """Parquet support is built into duckdb: never install or load an extension from outside."""
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")


def build_catalog(
    warehouse: Path, tables: Iterable[str] | None = None, *, cwd: Path | None = None
) -> Path:
    """(Re)build ``warehouse/newsflow.duckdb``: one view per table over its Parquet files.

    Paths in the views are relative to ``cwd`` (default: the current directory) when the warehouse
    lies below it, as analysts open it from the project root (``duckdb warehouse/newsflow.duckdb``);
    otherwise absolute. Built into a temporary file, then moved into place with ``os.replace``.
    """
    warehouse = Path(warehouse)
    names = sorted(tables) if tables is not None else table_names(warehouse)
    base = Path.cwd() if cwd is None else Path(cwd)
    target = warehouse / CATALOG_NAME
    tmp = warehouse / f".{CATALOG_NAME}.tmp-{os.getpid()}"
    for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
        leftover.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    try:
        _no_downloads(con)
        for name in names:
            con.execute(view_sql(name, parquet_glob(warehouse / name, relative_to=base)))
        con.execute("CHECKPOINT")
    finally:
        con.close()
    os.replace(tmp, target)
    return target


def connect(warehouse: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with one view per warehouse table, over absolute paths."""
    warehouse = Path(warehouse)
    con = duckdb.connect(":memory:")
    _no_downloads(con)
    for name in table_names(warehouse):
        con.execute(view_sql(name, parquet_glob(warehouse / name)))
    return con


class LockTimeout(RuntimeError):
    """Another process holds the warehouse's lock."""


@contextmanager
def warehouse_lock(warehouse: Path, timeout: float = 0.0, poll: float = 0.1) -> Iterator[Path]:
    """Hold ``warehouse/.newsflow.lock`` exclusively (``fcntl.flock``) for the block.

    Tries without blocking, again every ``poll`` seconds until ``timeout`` seconds have passed
    (0: once only), then raises :class:`LockTimeout`. The lock goes with the process, so a
    crashed run never leaves the warehouse locked; the (empty) file itself stays.
    """
    warehouse = Path(warehouse)
    warehouse.mkdir(parents=True, exist_ok=True)
    path = warehouse / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockTimeout(
                        f"another newsflow run holds {path}; gave up after {timeout:g} s"
                    ) from None
                time.sleep(min(poll, max(0.0, deadline - time.monotonic())) or poll)
        try:
            yield path
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
