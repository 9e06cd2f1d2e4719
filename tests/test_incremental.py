"""Incremental runs: only new and changed files are processed, removed files leave every table,
a run with nothing to do writes nothing; ``--full`` rebuilds the same warehouse. And the lock.

Runs the ``newsflow`` command as a subprocess, as tests/test_cli.py does (same Prefect home).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
import time
from pathlib import Path

import pytest

from tasks import store
from tasks.decode import doc_id_for
from test_cli import BROKEN, SEED, assert_clean, newsflow, output, summary_row

MARKER = "变更标记"


def snapshot(wh: Path) -> dict[str, tuple[str, int]]:
    """Every Parquet file of the warehouse tables: sha256 and mtime."""
    return {
        p.relative_to(wh).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in store.parquet_files(wh)
        if p.relative_to(wh).parts[0] != "runs"
    }


def check_integrity(wh: Path, raw: Path) -> dict[str, list]:
    """One documents row per raw file, no orphans, no duplicate ids; returns the ids per table."""
    con = store.connect(wh)
    q = lambda sql: con.execute(sql).fetchall()  # noqa: E731
    present = sorted(p.relative_to(raw).as_posix() for p in raw.rglob("*.txt"))
    assert [r[0] for r in q("SELECT source_path FROM documents ORDER BY 1")] == present
    for table, key in (("documents", "doc_id"), ("articles", "article_id"), ("paragraphs", "paragraph_id"),
                       ("sentences", "sentence_id"), ("tokens", "sentence_id, seq"),
                       ("entities", "entity_id"), ("dates", "date_id"), ("quantities", "quantity_id"),
                       ("keywords", "article_id, method, rank")):
        assert q(f"SELECT count(*) FROM (SELECT {key} FROM {table} GROUP BY ALL HAVING count(*) > 1)") == [(0,)]
    orphans = {
        "articles": "SELECT count(*) FROM articles a ANTI JOIN documents d USING (doc_id)",
        "paragraphs": "SELECT count(*) FROM paragraphs p ANTI JOIN articles a USING (article_id)",
        "sentences/a": "SELECT count(*) FROM sentences s ANTI JOIN articles a USING (article_id)",
        "sentences/p": "SELECT count(*) FROM sentences s ANTI JOIN paragraphs p USING (paragraph_id)",
        "tokens/a": "SELECT count(*) FROM tokens t ANTI JOIN articles a USING (article_id)",
        "tokens/s": "SELECT count(*) FROM tokens t ANTI JOIN sentences s USING (sentence_id)",
        "entities/a": "SELECT count(*) FROM entities e ANTI JOIN articles a USING (article_id)",
        "entities/s": "SELECT count(*) FROM entities e ANTI JOIN sentences s USING (sentence_id) "
                      "WHERE e.sentence_id IS NOT NULL",
        "dates/s": "SELECT count(*) FROM dates d ANTI JOIN sentences s USING (sentence_id)",
        "quantities/s": "SELECT count(*) FROM quantities q ANTI JOIN sentences s USING (sentence_id)",
        "keywords/a": "SELECT count(*) FROM keywords k ANTI JOIN articles a USING (article_id)",
        "articles without keywords": "SELECT count(*) FROM articles a ANTI JOIN keywords k USING (article_id) "
                                     "WHERE a.n_tokens > 20",
    }
    for name, sql in orphans.items():
        assert q(sql) == [(0,)], name
    return {
        "documents": q("SELECT doc_id, sha256, status FROM documents ORDER BY 1"),
        "articles": q("SELECT article_id, body FROM articles ORDER BY 1"),
        "paragraphs": q("SELECT paragraph_id FROM paragraphs ORDER BY 1"),
        "sentences": q("SELECT sentence_id FROM sentences ORDER BY 1"),
        "tokens": q("SELECT sentence_id, seq, token FROM tokens ORDER BY 1, 2"),
        "entities": q("SELECT entity_id, text, label FROM entities ORDER BY 1"),
        "dates": q("SELECT date_id, date_start, date_end FROM dates ORDER BY 1"),
        "quantities": q("SELECT quantity_id, value, unit FROM quantities ORDER BY 1"),
        # the IDF is the whole warehouse's: an incremental run must give a rebuild's keywords
        "keywords": q("SELECT article_id, method, rank, keyword, round(weight, 6) FROM keywords ORDER BY 1, 2, 3"),
    }


def run_ok(project: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    result = newsflow("run", *args, cwd=project, env=env)
    assert result.returncode == 0, output(result)
    assert_clean(result)
    return result


def test_incremental_sequence_matches_a_full_rebuild(tmp_path: Path, cli_env) -> None:
    project, raw, wh = tmp_path, tmp_path / "raw", tmp_path / "warehouse"
    raw.mkdir()
    seed = SEED.read_text(encoding="utf-8")
    assert "谋划明年工作" in seed
    (raw / "a.txt").write_text(seed, encoding="utf-8")
    (raw / "b.txt").write_text(seed, encoding="utf-8")
    (raw / "broken.txt").write_bytes(BROKEN)

    def broken_run_id() -> str:
        con = store.connect(wh)
        return con.execute("SELECT run_id FROM documents WHERE source_path = 'broken.txt' AND status = 'quarantined'").fetchone()[0]

    # 1. two new files and a broken one
    first = summary_row(run_ok(project, cli_env).stdout)
    assert (first["files"], first["new"], first["processed"], first["quarantined"]) == (3, 3, 3, 1)
    check_integrity(wh, raw)
    quarantined_by = broken_run_id()

    # 2. one added, one changed, one removed
    (raw / "c.txt").write_text(seed, encoding="utf-8")
    (raw / "a.txt").write_text(seed.replace("谋划明年工作", f"谋划明年工作{MARKER}", 1), encoding="utf-8")
    (raw / "b.txt").unlink()
    second = summary_row(run_ok(project, cli_env).stdout)
    assert (second["files"], second["new"], second["changed"], second["unchanged"], second["removed"],
            second["processed"], second["quarantined"]) == (3, 1, 1, 1, 1, 2, 1)
    assert broken_run_id() == quarantined_by  # an unchanged quarantined file is not retried
    ids = check_integrity(wh, raw)
    a_id, b_id, c_id = doc_id_for("a.txt"), doc_id_for("b.txt"), doc_id_for("c.txt")
    assert [d for d, *_ in ids["documents"]] == sorted([a_id, c_id, doc_id_for("broken.txt")])
    sha = dict((d, s) for d, s, _ in ids["documents"])
    assert sha[a_id] == hashlib.sha256((raw / "a.txt").read_bytes()).hexdigest()
    bodies_a = [body for aid, body in ids["articles"] if aid.startswith(a_id)]
    bodies_c = [body for aid, body in ids["articles"] if aid.startswith(c_id)]
    assert any(MARKER in b for b in bodies_a) and not any(MARKER in b for b in bodies_c)
    assert not [aid for aid, _ in ids["articles"] if aid.startswith(b_id)]
    assert not [t for t in ids["tokens"] if t[0].startswith(b_id)]

    # a run while another holds the warehouse's lock gives up (exit 3), touching nothing
    before = snapshot(wh)
    fd = os.open(wh / store.LOCK_NAME, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        locked = newsflow("run", "--lock-timeout", "0.3", cwd=project, env=cli_env, timeout=120)
        assert locked.returncode == 3, output(locked)
        assert_clean(locked)
        assert "warehouse is locked" in output(locked) and "--lock-timeout" in output(locked)
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    assert snapshot(wh) == before

    # 3. nothing changed (and the lock is free again): nothing is processed, no Parquet file is touched
    third = summary_row(run_ok(project, cli_env).stdout)
    assert (third["files"], third["unchanged"], third["processed"], third["new"], third["changed"],
            third["removed"], third["quarantined"]) == (3, 3, 0, 0, 0, 0, 1)
    assert snapshot(wh) == before
    assert check_integrity(wh, raw) == ids

    # 4. --full rebuilds the same rows and ids
    full = summary_row(run_ok(project, cli_env, "--full").stdout)
    assert (full["processed"], full["quarantined"]) == (3, 1)
    assert broken_run_id() != quarantined_by  # --full retries it
    rebuilt = check_integrity(wh, raw)
    assert {k: v for k, v in rebuilt.items() if k != "documents"} == {k: v for k, v in ids.items() if k != "documents"}
    assert [r[:2] for r in rebuilt["documents"]] == [r[:2] for r in ids["documents"]]

    # every run (not the locked one) left one row in runs, in order, matching its summary
    con = store.connect(wh)
    runs = con.execute(
        "SELECT mode, files_seen, files_new, files_changed, files_unchanged, files_removed, "
        "rows_documents, rows_articles, rows_tokens, status, seconds >= 0, finished_at >= started_at "
        "FROM runs ORDER BY started_at"
    ).fetchall()
    n_articles, n_tokens = len(rebuilt["articles"]), len(rebuilt["tokens"])
    assert [r[:6] for r in runs] == [
        ("full", 3, 3, 0, 0, 0),  # the first run, on an empty warehouse, builds it whole
        ("incremental", 3, 1, 1, 1, 1),
        ("incremental", 3, 0, 0, 3, 0),
        ("full", 3, 0, 0, 3, 0),
    ]
    assert all(r[9:] == ("ok", True, True) for r in runs)
    assert [r[6:9] for r in runs[1:]] == [(3, n_articles, n_tokens)] * 3
    assert (full["articles"], full["tokens"]) == (n_articles, n_tokens)
    assert len(list((wh / "runs").glob("*.parquet"))) == 4


def test_lock_is_exclusive_and_waits_up_to_the_timeout(tmp_path: Path) -> None:
    with store.warehouse_lock(tmp_path, timeout=0):
        start = time.monotonic()
        with pytest.raises(store.LockTimeout):
            # a second open file description in this process conflicts like another process
            with store.warehouse_lock(tmp_path, timeout=0.3):
                pass
        assert time.monotonic() - start >= 0.25
    with store.warehouse_lock(tmp_path, timeout=0):
        pass


def test_run_row_is_validated_and_summarised(tmp_path: Path) -> None:
    import datetime as dt

    import pandera.errors

    from flows import pipeline

    summary = pipeline.RunSummary(
        run_id="r1", files=3, articles=0, tokens=0, quarantined=1, seconds=0.5, batches=1,
        warehouse=str(tmp_path), quarantine={"x.txt": "empty file"}, mode="incremental",
        files_new=1, files_changed=1, files_unchanged=1, files_removed=2,
    )
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    row = pipeline.run_row(tmp_path, summary, t0, t0 + dt.timedelta(seconds=1))
    assert row.row(0, named=True)["files_removed"] == 2 and row["rows_tokens"][0] == 0
    md = pipeline.summary_markdown(summary)
    assert "| new | changed | unchanged | removed |" in md and "`x.txt`: empty file" in md
    bad = pipeline.dataclasses.replace(summary, files=4)  # files do not add up
    with pytest.raises(pandera.errors.SchemaError):
        pipeline.run_row(tmp_path, bad, t0)
