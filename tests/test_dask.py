"""The same flow on a local Dask cluster of two processes gives the same warehouse."""

from __future__ import annotations

from pathlib import Path

from tasks import store
from test_cli import assert_clean, newsflow, output, seed_copies

TABLES = {
    "documents": "SELECT doc_id, source_path, sha256, status, n_articles FROM documents ORDER BY 1",
    "articles": "SELECT article_id, title, kicker, reporters, body FROM articles ORDER BY 1",
    "paragraphs": "SELECT paragraph_id, kind, char_start, char_end, text FROM paragraphs ORDER BY 1",
    "sentences": "SELECT sentence_id, char_start, char_end FROM sentences ORDER BY 1",
    "tokens": "SELECT sentence_id, seq, token, pos, char_start FROM tokens ORDER BY 1, 2",
}


def test_two_dask_workers_give_the_same_tables_as_the_default_runner(tmp_path: Path, cli_env) -> None:
    raw = tmp_path / "raw"
    seed_copies(raw, 6)
    runs = {}
    for label, extra in (("default", []), ("dask", ["--workers", "2"])):
        wh = tmp_path / f"wh-{label}"
        result = newsflow("run", "--raw", str(raw), "--warehouse", str(wh), "--batch-size", "2", *extra,
                          cwd=tmp_path, env=cli_env)
        assert result.returncode == 0, output(result)
        assert_clean(result)
        con = store.connect(wh)
        runs[label] = {name: con.execute(sql).fetchall() for name, sql in TABLES.items()}
        con.close()
    assert len(runs["default"]["articles"]) == 18
    for name in TABLES:
        assert runs["dask"][name] == runs["default"][name], name
