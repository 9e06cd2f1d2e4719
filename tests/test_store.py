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
        for p in sorted(warehouse.rglob("*.parquet"))
    }


def count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_layout_one_part_per_table_per_batch(tmp_path: Path) -> None:
    wh = tmp_path / "warehouse"
    tables = store.write_warehouse(wh, [batch(3), batch(2, start=3)], run_id="r1")
    assert sorted(tables) == ["articles", "documents", "tokens"]
    assert sorted(snapshot(wh)) == [
        f"{t}/part-{i:05d}.parquet" for t in ("articles", "documents", "tokens") for i in (0, 1)
    ]
    assert (wh / store.CATALOG_NAME).is_file()
    # nothing left over from staging or swapping
    assert [p.name for p in wh.iterdir() if p.name.startswith(".")] == []
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
    meta = pq.ParquetFile(wh / "articles" / "part-00000.parquet").metadata
    assert meta.row_group(0).column(0).compression == "ZSTD"


def test_writing_twice_gives_identical_warehouse(tmp_path: Path) -> None:
    wh = tmp_path / "warehouse"
    store.write_warehouse(wh, [batch(3), batch(2, start=3)], run_id="first")
    first = snapshot(wh)
    store.write_warehouse(wh, [batch(3), batch(2, start=3)], run_id="second")
    assert snapshot(wh) == first
    con = store.connect(wh)
    assert count(con, "documents") == 5
    assert count(con, "articles") == 5
    assert con.execute("SELECT count(DISTINCT doc_id) FROM documents").fetchone()[0] == 5
    assert [p.name for p in wh.iterdir() if p.name.startswith(".")] == []


def test_rebuild_replaces_and_drops_parts_of_a_bigger_earlier_run(tmp_path: Path) -> None:
    wh = tmp_path / "warehouse"
    store.write_warehouse(wh, [batch(2), batch(2, start=2), batch(2, start=4)], run_id="big")
    store.write_warehouse(wh, [batch(1)], run_id="small")
    assert sorted(snapshot(wh)) == [f"{t}/part-00000.parquet" for t in ("articles", "documents", "tokens")]
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
    assert not list(project.glob("warehouse/*.tmp*")) and not list(project.glob("warehouse/.*"))


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
        assert (wh / table / "part-00000.parquet").is_file()
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
    first = pl.read_parquet(wh / tables[0] / "part-00001.parquet")
    drop = {first["doc_id"][0]}
    inode = {t: (wh / t / "part-00000.parquet").stat().st_ino for t in tables}
    with store.WarehouseWriter(wh, "r2", part_prefix="r2") as writer:
        writer.keep_existing(tables, drop)
        writer.write_batch(0, batch(1, start=10))
        writer.commit()
    for t in tables:
        assert (wh / t / "part-00000.parquet").stat().st_ino == inode[t]  # kept as it was
        ids = pl.read_parquet(wh / t / "*.parquet")["doc_id"].to_list()
        if t == "tokens":  # empty in every batch: one empty part is kept, the new one added
            assert ids == [] and len(list((wh / t).glob("*.parquet"))) == 2
            continue
        assert sorted(p.name for p in (wh / t).glob("*.parquet")) == [
            "part-00000.parquet", "part-00001.parquet", "part-r2-00000.parquet"
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


def _two_versions(wh: Path) -> None:
    """Version 1 of two tables, then version 2 staged as a commit would leave it."""
    store.write_warehouse(wh, [{"articles": pl.DataFrame({"article_id": ["v1"]}),
                                "documents": pl.DataFrame({"doc_id": ["v1"]})}], run_id="r1")


def test_recover_rolls_back_a_commit_killed_half_way(tmp_path: Path) -> None:
    """Killed mid-commit: documents already swapped to v2, articles moved aside, v2 not yet in."""
    from tasks.store import recover

    wh = tmp_path / "wh"
    _two_versions(wh)
    (wh / "documents").rename(wh / ".old-5f2c-91ab-documents")
    (wh / "documents").mkdir()
    store.write_parquet(pl.DataFrame({"doc_id": ["v2"]}), wh / "documents" / "part-00000.parquet")
    (wh / "articles").rename(wh / ".old-5f2c-91ab-articles")  # the kill came here
    (wh / ".staging-5f2c-91ab" / "articles").mkdir(parents=True)
    steps = recover(wh)
    assert sorted(p.name for p in wh.iterdir() if p.is_dir()) == ["articles", "documents"]
    assert any("restored articles" in s for s in steps)
    con = store.connect(wh)
    assert con.execute("SELECT doc_id FROM documents").fetchall() == [("v1",)]  # all of version 1
    assert con.execute("SELECT article_id FROM articles").fetchall() == [("v1",)]
    assert recover(wh) == []  # nothing left to do


def test_recover_rolls_forward_a_commit_killed_after_every_swap(tmp_path: Path) -> None:
    from tasks.store import recover

    wh = tmp_path / "wh"
    _two_versions(wh)
    store.write_warehouse(wh, [{"articles": pl.DataFrame({"article_id": ["v2"]}),
                                "documents": pl.DataFrame({"doc_id": ["v2"]})}], run_id="r2")
    (wh / ".old-r2-articles").mkdir()  # killed while removing the old versions
    (wh / ".committed-r2").touch()
    recover(wh)
    assert not [p for p in wh.iterdir() if p.name.startswith(".")]
    con = store.connect(wh)
    assert con.execute("SELECT doc_id FROM documents").fetchall() == [("v2",)]
    assert con.execute("SELECT article_id FROM articles").fetchall() == [("v2",)]
