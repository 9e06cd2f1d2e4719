"""The same flow on a local Dask cluster of two processes, and on three worker processes of the
default runner (more than this machine's cores), gives the same warehouse."""

from __future__ import annotations

import json
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


def test_dask_workers_and_three_processes_give_the_same_tables_as_the_default_runner(
    tmp_path: Path, cli_env
) -> None:
    raw = tmp_path / "raw"
    seed_copies(raw, 6)
    runs = {}
    processes = {}
    for label, extra in (("default", []), ("dask", ["--workers", "2"]), ("three", ["--processes", "3"])):
        wh = tmp_path / f"wh-{label}"
        result = newsflow("run", "--raw", str(raw), "--warehouse", str(wh), "--batch-size", "1", "--json",
                          *extra, cwd=tmp_path, env=cli_env)
        assert result.returncode == 0, output(result)
        assert_clean(result)
        processes[label] = json.loads(result.stdout.strip().splitlines()[-1])["processes"]
        con = store.connect(wh)
        runs[label] = {name: con.execute(sql).fetchall() for name, sql in TABLES.items()}
        con.close()
    assert len(runs["default"]["articles"]) == 18
    for name in TABLES:
        assert runs["dask"][name] == runs["default"][name], name
        assert runs["three"][name] == runs["default"][name], name
    assert processes["three"] == 3 and processes["dask"] is None and processes["default"] >= 1
