"""Store: tables -> Parquet files in the warehouse, and the DuckDB catalog over them.

Layout of a warehouse directory::

    warehouse/
      documents -> .current/documents  one symlink per table, always the same
      articles  -> .current/articles
      ...
      .current  -> .versions/v000007-<run_id>   the committed version: ONE symlink
      .versions/v000007-<run_id>/documents/part-<run>-00000.parquet  one file per table per batch
      .versions/v000006-<run_id>/...   the version before, kept for readers still reading it
      runs/run-<time>-<run_id>.parquet one row per run, appended (flows/pipeline.py)
      newsflow.duckdb                  one VIEW per table over <table>/**/*.parquet
      .newsflow.lock                   flock'ed by a run (warehouse_lock)
      .staging-<run_id>/               only while a run is writing

Each table reads with ``read_parquet('warehouse/<table>/**/*.parquet', hive_partitioning=true)``;
the path goes through the table's symlink and ``.current`` to the committed version.

A run writes the next version of every table below ``.staging-<run_id>/`` (a full run: every
batch; an incremental run: :meth:`WarehouseWriter.keep_existing` hard-links the parts it keeps and
rewrites those holding changed or removed documents, then the new batches). :meth:`commit` moves
the finished staging directory to ``.versions/<next>`` and then switches ``.current`` to it with
one ``os.replace`` of a symlink: the single atomic step of a commit. Before it, every table is the
previous version; after it, every table is the new one; a process killed at any moment leaves
one or the other, never a mix. Versions are never modified once committed; the previous one is
kept (:data:`KEEP_VERSIONS`) so a query that listed its files just before the switch can still
read them, older ones are removed. Then ``newsflow.duckdb`` is rebuilt into a temporary file and
moved into place with ``os.replace``.
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
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    import duckdb

# duckdb and pyarrow are imported where they are used (the catalog, Parquet footers and
# schemas), not with this module: a batch task imports it to write its parts and needs neither
# (some 35 MB of memory and 0.3 s of import per worker process)

CATALOG_NAME = "newsflow.duckdb"
LOCK_NAME = ".newsflow.lock"
STAGING_PREFIX = ".staging-"
VERSIONS_DIR = ".versions"
CURRENT_LINK = ".current"
KEEP_VERSIONS = 2  # the committed version and the one before it
DEFAULT_GRACE_SECONDS = 600.0  # and any version replaced less than this ago
#: Hidden entries a warehouse keeps between runs (anything else hidden is a run's leftover).
KEPT_HIDDEN = frozenset({VERSIONS_DIR, CURRENT_LINK, LOCK_NAME})
_VERSION = re.compile(r"^v(\d{6,})-")
PARQUET_COMPRESSION = "zstd"
_TABLE_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def part_name(index: int, tag: str) -> str:
    """``part-<tag>-<index>.parquet``: the tag is the writing run's, so a file name never stands
    for two different contents in two versions (a kept part keeps its name and its bytes)."""
    return f"part-{tag}-{index:05d}.parquet"


def run_tag(run_id: str) -> str:
    """The short tag of a run in its part names: its id's first 12 letters and digits."""
    tag = re.sub(r"[^A-Za-z0-9]", "", run_id)[:12]
    return tag or "run"


class WarehouseWriter:
    """Stages one run's tables, then swaps them into the warehouse all at once.

    Use as a context manager: leaving the block with an exception removes the staging dir and
    leaves the warehouse as it was; :meth:`commit` must be called explicitly.
    """

    def __init__(self, warehouse: Path, run_id: str) -> None:
        self.warehouse = Path(warehouse)
        self.run_id = _UNSAFE.sub("_", run_id)
        self.tag = run_tag(run_id)
        self.staging = self.warehouse / f"{STAGING_PREFIX}{self.run_id}"
        self._tables: list[str] | None = None
        self._indexes: set[int] = set()
        self._derived: list[str] = []
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

    def _claim(self, index: int, tables: Iterable[str]) -> list[str]:
        """Check a batch's index (new, not negative) and its tables."""
        if index < 0 or index in self._indexes:
            raise ValueError(f"batch index {index} is negative or already written")
        return self._register(tables, f"batch {index} has tables")

    def write_batch(self, index: int, tables: Mapping[str, pl.DataFrame]) -> None:
        """Write one batch: ``<table>/part-<tag>-<index>.parquet`` for every table, even an empty
        one."""
        for name in self._claim(index, tables):
            if (self.staging / name / part_name(index, self.tag)).exists():
                raise ValueError(f"part {index} of table {name} already staged")
        write_parts(self.staging, index, self.tag, tables)
        self._indexes.add(index)

    def adopt_batch(self, index: int, tables: Iterable[str]) -> None:
        """Take in a batch whose parts a worker wrote itself into :attr:`staging` with
        :func:`write_parts` (same index, :attr:`tag`)."""
        for name in self._claim(index, tables):
            if not (self.staging / name / part_name(index, self.tag)).is_file():
                raise ValueError(f"part {index} of table {name} was not written")
        self._indexes.add(index)

    def adopt_table(self, name: str) -> None:
        """Take in a whole table computed over the others whose parts were written into
        ``staging/<name>/`` directly (e.g. keywords, by tasks)."""
        if not _TABLE_NAME.match(name) or name in (self._tables or []) or name in self._derived:
            raise ValueError(f"not a valid new table name: {name!r}")
        if not any((self.staging / name).glob("*.parquet")):
            raise ValueError(f"table {name} has no staged part")
        self._derived.append(name)

    def keep_existing(self, tables: Iterable[str], drop_doc_ids: Iterable[str]) -> dict[str, int]:
        """Stage the warehouse's current parts of ``tables``, less the rows of ``drop_doc_ids``.

        A part holding none of those documents is hard-linked into staging unchanged (copied where
        links are not possible); one holding some is rewritten without their rows (dropped when
        nothing is left). A table keeps at least one (maybe empty) part, so it keeps its schema.
        Call before :meth:`write_batch`. A rewritten part is named ``part-<tag>-kept<n>``, this
        run's. Returns ``{table: parts rewritten or dropped}``.
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
                if _num_rows(part) == 0:
                    empty = empty or part
                    continue
                ids = pl.read_parquet(part, columns=["doc_id"])["doc_id"]
                if not drop or not ids.is_in(pl.Series(drop, dtype=pl.Utf8).implode()).any():
                    link_or_copy(part, table_dir / part.name)
                    kept += 1
                    continue
                touched[name] += 1
                frame = pl.read_parquet(part).filter(~pl.col("doc_id").is_in(drop))  # list: no ambiguity
                new_name = f"part-{self.tag}-kept{touched[name]:05d}.parquet"
                if frame.height:
                    write_parquet(frame, table_dir / new_name)
                    kept += 1
                elif emptied is None:
                    emptied = (frame, new_name)
            if not kept:
                if empty is not None:
                    link_or_copy(empty, table_dir / empty.name)
                elif emptied is not None:
                    write_parquet(emptied[0], table_dir / emptied[1])
        return touched

    def commit(self) -> list[str]:
        """Make the staged tables the warehouse's committed version; returns the tables.

        Tables of the current version that this run did not write are carried over (hard links),
        so a commit never loses a table. The switch is one ``os.replace`` of ``.current``."""
        tables = list(self._tables or []) + self._derived
        for name in tables:
            _unify_parts(self.staging / name)
        _migrate_legacy(self.warehouse)
        current = current_version(self.warehouse)
        if current is not None:
            for old in sorted(current.iterdir()):
                if old.is_dir() and old.name not in tables and _TABLE_NAME.match(old.name):
                    (self.staging / old.name).mkdir()
                    for part in sorted(old.glob("*.parquet")):
                        link_or_copy(part, self.staging / old.name / part.name)
        versions = self.warehouse / VERSIONS_DIR
        versions.mkdir(exist_ok=True)
        version = versions / f"v{_next_version(self.warehouse):06d}-{self.run_id}"
        _fsync_tree(self.staging)
        self.staging.rename(version)
        os.utime(version)  # its commit time, for prune_versions' grace period
        _switch_current(self.warehouse, version)  # the commit point
        _link_tables(self.warehouse)
        prune_versions(self.warehouse)
        build_catalog(self.warehouse)
        return tables

    def abort(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)


def recover(warehouse: Path) -> list[str]:
    """Tidy a warehouse after a run was killed; call it holding the warehouse lock.

    Nothing a killed run left is ever read, since only ``.current`` says what is committed; this
    removes it: a ``.staging-<run>/`` (killed while writing), a version newer than the committed
    one (killed between moving its staging into ``.versions`` and switching ``.current``), a
    temporary symlink, versions beyond :data:`KEEP_VERSIONS`. It also puts the table symlinks in
    line with the committed version (killed right after the switch), and moves a warehouse of
    the earlier layout (table directories in place, no ``.current``) into a first version.
    Returns what it did, for the log."""
    warehouse = Path(warehouse)
    done: list[str] = []
    if not warehouse.is_dir():
        return done
    for entry in sorted(warehouse.iterdir()):
        if entry.name.startswith(STAGING_PREFIX) and entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
            done.append(f"removed {entry.name} of an interrupted run")
        elif entry.name.startswith(f"{CURRENT_LINK}.tmp-") or entry.name.startswith(".old-"):
            _remove(entry)
            done.append(f"removed {entry.name} of an interrupted commit")
    done += _migrate_legacy(warehouse)
    done += [f"linked table {name}" for name in _link_tables(warehouse)]
    done += [f"removed version {name}" for name in prune_versions(warehouse)]
    return done


def current_version(warehouse: Path) -> Path | None:
    """The committed version's directory, or None (a new warehouse, or one of the earlier
    layout with table directories in place)."""
    link = Path(warehouse) / CURRENT_LINK
    if not link.is_symlink():
        return None
    target = link.parent / os.readlink(link)
    return target if target.is_dir() else None


def versions(warehouse: Path) -> list[Path]:
    """Every version directory of the warehouse, oldest first."""
    root = Path(warehouse) / VERSIONS_DIR
    if not root.is_dir():
        return []
    found = [(_version_number(d), d) for d in root.iterdir() if _VERSION.match(d.name) and d.is_dir()]
    return [d for _, d in sorted(found)]


def _version_number(version: Path) -> int:
    """``n`` of a version directory ``v<n>-<run>``."""
    match = _VERSION.match(version.name)
    assert match is not None, version
    return int(match.group(1))


def prune_versions(
    warehouse: Path, keep: int = KEEP_VERSIONS, grace_seconds: float | None = None
) -> list[str]:
    """Remove old versions; returns the names removed.

    Kept: the committed version, the ``keep - 1`` before it, and any older one replaced less than
    ``grace_seconds`` ago (default ``NEWSFLOW_VERSION_GRACE_S``, 600), so a reader that resolved
    it just before a commit (an open catalog, a long query) can finish. A version newer than the
    committed one was never committed (a run killed before its switch): removed."""
    current = current_version(warehouse)
    if current is None:
        return []
    if grace_seconds is None:
        grace_seconds = float(os.environ.get("NEWSFLOW_VERSION_GRACE_S", DEFAULT_GRACE_SECONDS))
    all_versions = versions(warehouse)
    names = [v.name for v in all_versions]
    if current.name not in names:
        return []
    at = names.index(current.name)
    kept = set(names[max(0, at - (keep - 1)) : at + 1])
    now = time.time()
    for older, newer in zip(all_versions[:at], all_versions[1 : at + 1]):
        if now - _committed_at(newer) < grace_seconds:  # replaced only a moment ago
            kept.add(older.name)
    removed = []
    for v in all_versions:
        if v.name not in kept:
            shutil.rmtree(v, ignore_errors=True)
            removed.append(v.name)
    return removed


def _committed_at(version: Path) -> float:
    """When a version was committed (the time :meth:`WarehouseWriter.commit` stamped on it)."""
    try:
        return version.stat().st_mtime
    except OSError:
        return 0.0


def _next_version(warehouse: Path) -> int:
    return max((_version_number(v) for v in versions(warehouse)), default=0) + 1


def _switch_current(warehouse: Path, version: Path) -> None:
    """Point ``.current`` at ``version`` in one atomic step (a new symlink renamed over it)."""
    warehouse = Path(warehouse)
    tmp = warehouse / f"{CURRENT_LINK}.tmp-{os.getpid()}"
    _remove(tmp)
    os.symlink(os.path.relpath(version, warehouse), tmp)
    os.replace(tmp, warehouse / CURRENT_LINK)
    _fsync_dir(warehouse)


def _link_tables(warehouse: Path) -> list[str]:
    """Make ``warehouse/<table>`` a symlink to ``.current/<table>`` for every table of the
    committed version, and remove table symlinks that lead nowhere; returns the tables linked.
    A directory of the earlier layout in the way is replaced by the link."""
    warehouse = Path(warehouse)
    current = current_version(warehouse)
    if current is None:
        return []
    linked = []
    wanted = {d.name for d in current.iterdir() if d.is_dir() and _TABLE_NAME.match(d.name)}
    for name in sorted(wanted):
        link = warehouse / name
        target = f"{CURRENT_LINK}/{name}"
        if link.is_symlink() and os.readlink(link) == target:
            continue
        tmp = warehouse / f"{CURRENT_LINK}.tmp-{os.getpid()}-{name}"
        _remove(tmp)
        os.symlink(target, tmp)
        if link.is_dir() and not link.is_symlink():  # earlier layout: a real directory
            shutil.rmtree(link)
        os.replace(tmp, link)
        linked.append(name)
    for entry in warehouse.iterdir():
        if entry.is_symlink() and os.readlink(entry).startswith(f"{CURRENT_LINK}/") and not entry.exists():
            entry.unlink()
    return linked


def _migrate_legacy(warehouse: Path) -> list[str]:
    """Move the table directories of a warehouse of the earlier layout (tables in place, no
    ``.current``) into a first version; nothing to do otherwise."""
    if current_version(warehouse) is not None:
        return []
    legacy = [d for d in sorted(Path(warehouse).iterdir()) if _is_legacy_table(d)]
    if not legacy:
        return []
    version = Path(warehouse) / VERSIONS_DIR / f"v{_next_version(warehouse):06d}-migrated"
    version.mkdir(parents=True)
    for table in legacy:
        table.rename(version / table.name)
    _switch_current(warehouse, version)
    _link_tables(warehouse)
    return [f"moved tables {', '.join(d.name for d in legacy)} into {version.name}"]


def _is_legacy_table(path: Path) -> bool:
    """A table directory of the earlier layout: a real directory of Parquet parts."""
    return (
        path.is_dir() and not path.is_symlink() and path.name != "runs"
        and not path.name.startswith((".", "_")) and _TABLE_NAME.match(path.name) is not None
        and any(path.glob("*.parquet"))
    )


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    elif path.is_dir():
        shutil.rmtree(path, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(root: Path) -> None:
    """Flush a staged version's files and directories to disk before it is committed, so the
    switch never points at data still only in the page cache (power loss, not just kill -9)."""
    for dirpath, _, files in os.walk(root):
        for name in files:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(dirpath))


def write_parts(staging: Path, index: int, tag: str, tables: Mapping[str, pl.DataFrame]) -> list[str]:
    """Write one batch's part of every table, ``<staging>/<table>/part-<tag>-<index>.parquet``
    (even an empty one); returns the table names. Called by a worker for its own batch, or by
    :meth:`WarehouseWriter.write_batch`. Rewriting a part (a retried task) replaces it whole."""
    for name in tables:
        if not _TABLE_NAME.match(name):
            raise ValueError(f"not a valid table name: {name!r}")
        table_dir = Path(staging) / name
        table_dir.mkdir(exist_ok=True)
        write_parquet(tables[name], table_dir / part_name(index, tag))
    return list(tables)


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
    return sum(_num_rows(p) for p in table_dir.rglob("*.parquet"))


def _num_rows(path: Path) -> int:
    """Rows of a Parquet file, from its footer."""
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


def _unify_parts(table_dir: Path) -> None:
    """Make every part of a table share one schema so DuckDB can read them as one.

    Batches normally already agree (tables come with fixed schemas); a column that is all-null in
    one batch may still come out as polars' ``Null`` type, and DuckDB takes the schema from the
    first file. So when parts differ, each one is rewritten cast to the common supertype.
    """
    import pyarrow.parquet as pq

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


def parquet_files(warehouse: Path) -> list[Path]:
    """Every Parquet file a reader sees, by the path it reads it at (``<warehouse>/<table>/...``,
    through the table's symlink): the committed version's parts and ``runs``."""
    warehouse = Path(warehouse)
    return sorted(p for t in table_names(warehouse) for p in (warehouse / t).rglob("*.parquet"))


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
    # runs: one file per run, appended over the versions of newsflow: columns added later are
    # null in older rows, so its files are read by column name
    union = ", union_by_name = true" if table == "runs" else ""
    return (
        f"CREATE OR REPLACE VIEW {table} AS "
        f"SELECT * FROM read_parquet({_sql_str(glob)}, hive_partitioning = true{union})"
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
    import duckdb

    con = duckdb.connect(str(tmp))
    try:
        _no_downloads(con)
        current = current_version(warehouse)
        for name in names:
            con.execute(view_sql(name, parquet_glob(table_dir(warehouse, name, current), relative_to=base)))
        con.execute("CHECKPOINT")
    finally:
        con.close()
    os.replace(tmp, target)
    return target


def connect(warehouse: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with one view per warehouse table, over absolute paths of
    the version committed when it was opened: every query of it sees that one version."""
    import duckdb

    warehouse = Path(warehouse)
    con = duckdb.connect(":memory:")
    _no_downloads(con)
    current = current_version(warehouse)  # resolved once: every view of one version
    for name in table_names(warehouse):
        con.execute(view_sql(name, parquet_glob(table_dir(warehouse, name, current))))
    return con


def table_dir(warehouse: Path, table: str, current: Path | None = None) -> Path:
    """Where a table's parts are read: inside the committed version ``current`` (default: the one
    committed now; a reader holding the path keeps that version even if a run commits the next),
    else ``warehouse/<table>`` (``runs``, appended outside versions). Resolve ``current`` once
    for several tables, or they may come from two versions."""
    current = current_version(warehouse) if current is None else current
    if current is not None and (current / table).is_dir():
        return current / table
    return Path(warehouse) / table


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
