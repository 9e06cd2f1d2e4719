"""tasks/store.py: Parquet layout, idempotent rebuilds, the DuckDB catalog and connect()."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path

import duckdb
import polars as pl
import pytest

from tasks import store

DOCS = pl.Schema({"doc_id": pl.Utf8, "source_path": pl.Utf8, "issue_date": pl.Date, "status": pl.Utf8})
ARTS = pl.Schema(
    {"article_id": pl.Utf8, "doc_id": pl.Utf8, "title": pl.Utf8, "reporters": pl.List(pl.Utf8)}
)
TOKS = pl.Schema({"doc_id": pl.Utf8, "seq": pl.Int32, "token": pl.Utf8})


def batch(n: int, *, start: int = 0) -> dict[str, pl.DataFrame]:
    """A batch of ``n`` documents with one article each and no tokens."""
    ids = [f"d{start + i:04d}" for i in range(n)]
    return {
        "documents": pl.DataFrame(
            {
                "doc_id": ids,
                "source_path": [f"p/{i}.txt" for i in ids],
                "issue_date": [dt.date(2020, 1, 1 + i % 28) for i in range(n)],
                "status": ["ok"] * n,
            },
            schema=DOCS,
        ),
        "articles": pl.DataFrame(
            {
                "article_id": [f"{i}-000" for i in ids],
                "doc_id": ids,
                "title": [f"标题 {i}" for i in ids],
                "reporters": [["杨晓梅"] for _ in ids],
            },
            schema=ARTS,
        ),
        "tokens": pl.DataFrame(schema=TOKS),
    }


def snapshot(warehouse: Path) -> dict[str, str]:
    """Relative path -> sha256 of every Parquet file in the warehouse."""
    return {
        p.relative_to(warehouse).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in store.parquet_files(warehouse)
    }


def contents(warehouse: Path) -> dict[str, list[str]]:
    """Table -> the sha256 of each of its parts, in part order (names aside)."""
    shas: dict[str, list[str]] = {}
    for rel, sha in snapshot(warehouse).items():
        shas.setdefault(rel.split("/")[0], []).append(sha)
    return shas


def leftovers(warehouse: Path) -> list[str]:
    """Hidden entries of a warehouse other than its committed version and the lock."""
    return sorted(p.name for p in warehouse.iterdir() if p.name.startswith(".") and p.name not in store.KEPT_HIDDEN)


def count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_layout_one_part_per_table_per_batch(tmp_path: Path) -> None:
    wh = tmp_path / "warehouse"
    tables = store.write_warehouse(wh, [batch(3), batch(2, start=3)], run_id="r1")
    assert sorted(tables) == ["articles", "documents", "tokens"]
    assert sorted(snapshot(wh)) == [
        f"{t}/part-r1-{i:05d}.parquet" for t in ("articles", "documents", "tokens") for i in (0, 1)
    ]
    assert (wh / store.CATALOG_NAME).is_file()
    # nothing left over from staging or swapping
    assert leftovers(wh) == []
    # the documented read works for every table
    con = duckdb.connect()
    for table, rows in {"documents": 5, "articles": 5, "tokens": 0}.items():
        glob = (wh / table).as_posix() + "/**/*.parquet"
        got = con.execute(
            f"SELECT count(*) FROM read_parquet('{glob}', hive_partitioning=true)"
        ).fetchone()[0]
        assert got == rows, table


def test_parts_are_zstd(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    wh = tmp_path / "wh"
    store.write_warehouse(wh, [batch(2)], run_id="r")
    meta = pq.ParquetFile(wh / "articles" / "part-r-00000.parquet").metadata
    assert meta.row_group(0).column(0).compression == "ZSTD"


def test_writing_twice_gives_identical_warehouse(tmp_path: Path) -> None:
    wh = tmp_path / "warehouse"
    store.write_warehouse(wh, [batch(3), batch(2, start=3)], run_id="first")
    first = contents(wh)
    store.write_warehouse(wh, [batch(3), batch(2, start=3)], run_id="second")
    assert contents(wh) == first  # the same bytes, in parts named after the second run
    con = store.connect(wh)
    assert count(con, "documents") == 5
    assert count(con, "articles") == 5
    assert con.execute("SELECT count(DISTINCT doc_id) FROM documents").fetchone()[0] == 5
    assert leftovers(wh) == []


def test_rebuild_replaces_and_drops_parts_of_a_bigger_earlier_run(tmp_path: Path) -> None:
    wh = tmp_path / "warehouse"
    store.write_warehouse(wh, [batch(2), batch(2, start=2), batch(2, start=4)], run_id="big")
    store.write_warehouse(wh, [batch(1)], run_id="small")
    assert sorted(snapshot(wh)) == [f"{t}/part-small-00000.parquet" for t in ("articles", "documents", "tokens")]
    assert count(store.connect(wh), "documents") == 1


def test_failed_run_leaves_the_warehouse_as_it_was(tmp_path: Path) -> None:
    wh = tmp_path / "warehouse"
    store.write_warehouse(wh, [batch(2)], run_id="good")
    before = snapshot(wh)
    with pytest.raises(RuntimeError):
        with store.WarehouseWriter(wh, "bad") as writer:
            writer.write_batch(0, batch(5))
            raise RuntimeError("a batch failed")
    assert snapshot(wh) == before
    assert not (wh / ".staging-bad").exists()


def test_batches_must_have_the_same_tables(tmp_path: Path) -> None:
    with store.WarehouseWriter(tmp_path / "wh", "r") as writer:
        writer.write_batch(0, batch(1))
        with pytest.raises(ValueError, match="tables"):
            writer.write_batch(1, {"documents": batch(1)["documents"]})
        with pytest.raises(ValueError, match="already written"):
            writer.write_batch(0, batch(1))
        writer.abort()


def test_all_null_column_in_one_batch_is_unified(tmp_path: Path) -> None:
    """A column that is all-null in the first batch must not make later batches unreadable."""
    wh = tmp_path / "wh"
    first = {"t": pl.DataFrame({"a": [1], "s": [None]})}  # s has polars' Null dtype here
    second = {"t": pl.DataFrame({"a": [2], "s": ["文本"]})}
    store.write_warehouse(wh, [first, second], run_id="r")
    rows = store.connect(wh).execute("SELECT a, s FROM t ORDER BY a").fetchall()
    assert rows == [(1, None), (2, "文本")]


def test_catalog_views_use_paths_relative_to_cwd(tmp_path: Path, monkeypatch) -> None:
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)
    store.write_warehouse(Path("warehouse"), [batch(3)], run_id="r")

    con = duckdb.connect("warehouse/newsflow.duckdb", read_only=True)
    try:
        con.execute("SET autoinstall_known_extensions = false")
        con.execute("SET autoload_known_extensions = false")
        assert count(con, "articles") == 3
        assert con.execute("SELECT title FROM articles ORDER BY article_id LIMIT 1").fetchone() == (
            "标题 d0000",
        )
        views = dict(con.execute("SELECT view_name, sql FROM duckdb_views() WHERE NOT internal").fetchall())
    finally:
        con.close()
    assert sorted(views) == ["articles", "documents", "tokens"]
    for sql in views.values():
        assert "'warehouse/" in sql and str(tmp_path) not in sql
    assert not list(project.glob("warehouse/*.tmp*")) and leftovers(project / "warehouse") == []


def test_catalog_views_absolute_when_warehouse_is_not_below_cwd(tmp_path: Path, monkeypatch) -> None:
    wh = tmp_path / "elsewhere" / "warehouse"
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    store.write_warehouse(wh, [batch(2)], run_id="r")
    monkeypatch.chdir(tmp_path)  # readable from anywhere
    con = duckdb.connect(str(wh / "newsflow.duckdb"), read_only=True)
    try:
        assert count(con, "documents") == 2
    finally:
        con.close()


def test_connect_works_from_any_directory(tmp_path: Path, monkeypatch) -> None:
    wh = tmp_path / "project" / "warehouse"
    store.write_warehouse(wh, [batch(4)], run_id="r")
    elsewhere = tmp_path / "other"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    con = store.connect(wh)
    assert count(con, "articles") == 4
    assert con.execute("SELECT reporters FROM articles LIMIT 1").fetchone() == (["杨晓梅"],)
    assert con.execute("SELECT current_setting('autoinstall_known_extensions')").fetchone() == (False,)
    assert con.execute("SELECT current_setting('autoload_known_extensions')").fetchone() == (False,)


def test_empty_table_is_readable_with_its_schema(tmp_path: Path) -> None:
    wh = tmp_path / "wh"
    empty = {name: df.clear() for name, df in batch(1).items()}
    store.write_warehouse(wh, [empty], run_id="r")
    for table in ("documents", "articles", "tokens"):
        assert (wh / table / "part-r-00000.parquet").is_file()
    con = store.connect(wh)
    assert count(con, "tokens") == 0
    assert count(con, "documents") == 0
    described = {row[0]: row[1] for row in con.execute("DESCRIBE tokens").fetchall()}
    assert described == {"doc_id": "VARCHAR", "seq": "INTEGER", "token": "VARCHAR"}
    described = {row[0]: row[1] for row in con.execute("DESCRIBE articles").fetchall()}
    assert described["reporters"] == "VARCHAR[]"


def test_table_names_ignore_hidden_and_non_table_dirs(tmp_path: Path) -> None:
    wh = tmp_path / "wh"
    store.write_warehouse(wh, [batch(1)], run_id="r")
    (wh / ".staging-crashed" / "documents").mkdir(parents=True)
    (wh / ".staging-crashed" / "documents" / "part-00000.parquet").write_bytes(b"junk")
    (wh / "notes").mkdir()
    assert store.table_names(wh) == ["articles", "documents", "tokens"]
    assert store.table_names(tmp_path / "missing") == []


def test_parquet_glob_relative_or_absolute(tmp_path: Path) -> None:
    assert store.parquet_glob(tmp_path / "wh" / "t", relative_to=tmp_path) == "wh/t/**/*.parquet"
    other = tmp_path / "x"
    assert store.parquet_glob(tmp_path / "wh" / "t", relative_to=other) == (
        (tmp_path / "wh" / "t").as_posix() + "/**/*.parquet"
    )
    assert os.path.isabs(store.parquet_glob(tmp_path / "wh" / "t"))


def test_keep_existing_links_untouched_parts_and_filters_the_others(tmp_path: Path) -> None:
    wh = tmp_path / "warehouse"
    store.write_warehouse(wh, [batch(3), batch(2, start=3)], run_id="r1")
    tables = store.table_names(wh)
    first = pl.read_parquet(wh / tables[0] / "part-r1-00001.parquet")
    drop = {first["doc_id"][0]}
    inode = {t: (wh / t / "part-r1-00000.parquet").stat().st_ino for t in tables}
    with store.WarehouseWriter(wh, "r2") as writer:
        writer.keep_existing(tables, drop)
        writer.write_batch(0, batch(1, start=10))
        writer.commit()
    for t in tables:
        assert (wh / t / "part-r1-00000.parquet").stat().st_ino == inode[t]  # kept as it was
        ids = pl.read_parquet(wh / t / "*.parquet")["doc_id"].to_list()
        if t == "tokens":  # empty in every batch: one empty part is kept, the new one added
            assert ids == [] and len(list((wh / t).glob("*.parquet"))) == 2
            continue
        assert sorted(p.name for p in (wh / t).glob("*.parquet")) == [
            "part-r1-00000.parquet", "part-r2-00000.parquet", "part-r2-kept00001.parquet"
        ]
        assert sorted(ids) == sorted({f"d{i:04d}" for i in (0, 1, 2, 3, 4, 10)} - drop)
    # every document dropped: each table keeps one empty part with its schema
    every = set(pl.read_parquet(wh / "documents" / "*.parquet")["doc_id"].to_list())
    with store.WarehouseWriter(wh, "r3") as writer:
        writer.keep_existing(tables, every)
        writer.commit()
    for t in tables:
        parts = list((wh / t).glob("*.parquet"))
        assert len(parts) == 1 and pl.read_parquet(parts[0]).height == 0
        assert "doc_id" in pl.read_parquet(parts[0]).columns


def _version(tag: str) -> dict[str, pl.DataFrame]:
    """Two tables whose every row names the version they belong to."""
    return {"articles": pl.DataFrame({"article_id": [tag], "doc_id": [tag]}),
            "documents": pl.DataFrame({"doc_id": [tag]})}


def _rows(wh: Path) -> tuple[list, list]:
    con = store.connect(wh)
    return (con.execute("SELECT doc_id FROM documents").fetchall(),
            con.execute("SELECT article_id FROM articles").fetchall())


def test_commit_switches_every_table_with_one_symlink(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("NEWSFLOW_VERSION_GRACE_S", "0")
    wh = tmp_path / "wh"
    store.write_warehouse(wh, [_version("v1")], run_id="r1")
    store.write_warehouse(wh, [_version("v2")], run_id="r2")
    # each table is a fixed symlink through .current, the one thing a commit changes
    for table in ("articles", "documents"):
        assert (wh / table).is_symlink() and os.readlink(wh / table) == f".current/{table}"
    assert os.readlink(wh / ".current") == ".versions/v000002-r2"
    assert _rows(wh) == ([("v2",)], [("v2",)])
    # the version before stays readable for queries that listed its files before the switch
    assert [v.name for v in store.versions(wh)] == ["v000001-r1", "v000002-r2"]
    store.write_warehouse(wh, [_version("v3")], run_id="r3")
    assert [v.name for v in store.versions(wh)] == ["v000002-r2", "v000003-r3"]
    assert leftovers(wh) == []


def test_a_version_replaced_a_moment_ago_is_kept_for_its_readers(tmp_path: Path) -> None:
    wh = tmp_path / "wh"
    for k in range(1, 4):
        store.write_warehouse(wh, [_version(f"v{k}")], run_id=f"r{k}")
    assert len(store.versions(wh)) == 3  # v1 was replaced seconds ago: still kept
    assert store.prune_versions(wh, grace_seconds=0) == ["v000001-r1"]


def test_kill_before_the_switch_leaves_the_previous_version(tmp_path: Path) -> None:
    """Killed after the new version was moved into .versions but before .current changed."""
    wh = tmp_path / "wh"
    store.write_warehouse(wh, [_version("v1")], run_id="r1")
    writer = store.WarehouseWriter(wh, "r2")
    writer.write_batch(0, _version("v2"))
    (wh / ".versions").mkdir(exist_ok=True)
    writer.staging.rename(wh / ".versions" / "v000002-r2")  # ... and the kill came here
    assert _rows(wh) == ([("v1",)], [("v1",)])  # readers: all of version 1
    steps = store.recover(wh)
    assert steps == ["removed version v000002-r2"]
    assert [v.name for v in store.versions(wh)] == ["v000001-r1"]
    store.write_warehouse(wh, [_version("v3")], run_id="r3")
    assert _rows(wh) == ([("v3",)], [("v3",)])
    assert store.recover(wh) == []


def test_kill_after_the_switch_is_completed_by_recover(tmp_path: Path, monkeypatch) -> None:
    """Killed right after the switch, before a new table got its symlink and before pruning."""
    monkeypatch.setenv("NEWSFLOW_VERSION_GRACE_S", "0")
    wh = tmp_path / "wh"
    store.write_warehouse(wh, [_version("v1")], run_id="r1")
    store.write_warehouse(wh, [_version("v2")], run_id="r2")
    new = wh / ".versions" / "v000003-r3"
    (new / "documents").mkdir(parents=True)
    (new / "articles").mkdir()
    (new / "entities").mkdir()
    for table, frame in {**_version("v3"), "entities": pl.DataFrame({"doc_id": ["v3"]})}.items():
        store.write_parquet(frame, new / table / "part-00000.parquet")
    store._switch_current(wh, new)  # the kill came right after this
    (wh / ".staging-r4").mkdir()  # and a later run was killed while staging
    steps = store.recover(wh)
    assert "linked table entities" in steps and "removed version v000001-r1" in steps
    assert "removed .staging-r4 of an interrupted run" in steps
    assert _rows(wh) == ([("v3",)], [("v3",)])
    assert store.connect(wh).execute("SELECT doc_id FROM entities").fetchall() == [("v3",)]
    assert leftovers(wh) == []


def test_a_table_not_written_by_a_run_is_carried_over(tmp_path: Path) -> None:
    wh = tmp_path / "wh"
    store.write_warehouse(wh, [{**_version("v1"), "extra": pl.DataFrame({"doc_id": ["x"]})}], run_id="r1")
    store.write_warehouse(wh, [_version("v2")], run_id="r2")
    assert store.table_names(wh) == ["articles", "documents", "extra"]
    assert store.connect(wh).execute("SELECT doc_id FROM extra").fetchall() == [("x",)]


def test_warehouse_of_the_earlier_layout_is_moved_into_a_version(tmp_path: Path) -> None:
    """Table directories in place (the layout before versions) become the first version."""
    wh = tmp_path / "wh"
    for table, frame in _version("old").items():
        (wh / table).mkdir(parents=True)
        store.write_parquet(frame, wh / table / "part-00000.parquet")
    (wh / "runs").mkdir()
    store.write_parquet(pl.DataFrame({"run_id": ["r0"]}), wh / "runs" / "run-0.parquet")
    steps = store.recover(wh)
    assert steps and "into v000001-migrated" in steps[0]
    assert _rows(wh) == ([("old",)], [("old",)])
    assert (wh / "runs").is_dir() and not (wh / "runs").is_symlink()  # runs is appended, not versioned
    store.write_warehouse(wh, [_version("new")], run_id="r1")
    assert _rows(wh) == ([("new",)], [("new",)])


def test_readers_never_see_a_mix_of_versions(tmp_path: Path) -> None:
    """Readers polling while commits follow each other always find whole tables of one committed
    version: sessions opened anew on the catalog (as analysts do), a session kept open, and
    store.connect. Every part of version k holds rows tagged vk only."""
    import threading

    wh = tmp_path / "wh"

    def version(k: int) -> list[dict[str, pl.DataFrame]]:
        return [{"documents": pl.DataFrame({"doc_id": [f"v{k}"] * 3}),
                 "articles": pl.DataFrame({"doc_id": [f"v{k}"] * 2})} for _ in range(4)]

    store.write_warehouse(wh, version(0), run_id="r0")
    sql = ("SELECT (SELECT count(*) FROM documents), (SELECT count(DISTINCT doc_id) FROM documents),"
           " (SELECT count(*) FROM articles), (SELECT min(doc_id) = (SELECT min(doc_id) FROM articles)"
           " FROM documents)")
    seen: set[tuple] = set()
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader(kind: str) -> None:
        kept = duckdb.connect(str(wh / store.CATALOG_NAME), read_only=True) if kind == "kept" else None
        while not stop.is_set():
            con = kept or (store.connect(wh) if kind == "connect"
                           else duckdb.connect(str(wh / store.CATALOG_NAME), read_only=True))
            try:
                seen.add(con.execute(sql).fetchone())
            except Exception as exc:  # noqa: BLE001 - any failure to read is a failure
                errors.append(exc)
                return
            finally:
                if con is not kept:
                    con.close()

    threads = [threading.Thread(target=reader, args=(k,)) for k in ("fresh", "kept", "connect")]
    for thread in threads:
        thread.start()
    try:
        for k in range(1, 15):
            store.write_warehouse(wh, version(k), run_id=f"r{k}")
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert not errors, errors
    assert len(seen) >= 1 and all(row == (12, 1, 8, True) for row in seen), seen
