"""The ``newsflow`` command, run as a subprocess of the installed entry point.

The end-to-end tests run the real pipeline (decode -> layout -> tables -> validate -> store under
Prefect's temporary server) on a temporary copy of the repository's raw/ seed page.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest

from tasks import store

REPO = Path(__file__).resolve().parents[1]
SEED = REPO / "raw" / "000_c9cd572a92cace71.txt"
BROKEN = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))


def newsflow_cmd() -> list[str]:
    """The installed ``newsflow`` script beside this interpreter, else ``python -m flows.cli``."""
    script = Path(sys.executable).with_name("newsflow")
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "flows.cli"]


def newsflow(*args: str, cwd: Path, env: dict[str, str], stdin: str | None = None, timeout: int = 600):
    return subprocess.run(
        [*newsflow_cmd(), *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def seed_copies(raw: Path, n: int) -> None:
    """``n`` copies of the seed page in ``raw`` (made), each made unique by a number in its
    text, so that content hashing keeps them all."""
    raw.mkdir()
    text = SEED.read_text(encoding="utf-8")
    for k in range(n):
        (raw / f"p{k:02d}.txt").write_text(text.replace("区委\n召开", f"区委{k}\n召开", 1), encoding="utf-8")


def output(result: subprocess.CompletedProcess) -> str:
    return result.stdout + result.stderr


def assert_clean(result: subprocess.CompletedProcess) -> None:
    text = output(result)
    assert "Traceback" not in text, text
    assert "database is locked" not in text, text


def summary_row(stdout: str) -> dict[str, float]:
    """The numbers of the summary table: files, articles, tokens, quarantined, seconds."""

    def cells(line: str) -> list[str]:
        return [c.strip() for c in re.split("[┃│]", line) if c.strip()]

    lines = stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if "files" in line and "quarantined" in line)
    row = next(line for line in lines[header + 1 :] if re.search(r"\d", line))
    return {name: float(value) for name, value in zip(cells(lines[header]), cells(row))}


# --- newsflow sql on a warehouse built by hand (does not need the pipeline) -----------------


@pytest.fixture(scope="module")
def small_warehouse(tmp_path_factory) -> Path:
    wh = tmp_path_factory.mktemp("sql") / "warehouse"
    long_title = "很长的标题" * 40
    store.write_warehouse(
        wh,
        [
            {
                "articles": pl.DataFrame(
                    {"article_id": ["a-000", "a-001"], "title": ["大格局谋发展", long_title]}
                ),
                "documents": pl.DataFrame(
                    {"doc_id": ["a"], "issue_date": [dt.date(2019, 12, 10)]}
                ),
            }
        ],
        run_id="hand",
    )
    return wh


def test_sql_prints_a_table(small_warehouse: Path, cli_env, tmp_path: Path) -> None:
    result = newsflow(
        "sql", "SELECT article_id, title FROM articles ORDER BY 1", "--warehouse", str(small_warehouse),
        cwd=tmp_path, env=cli_env,
    )
    assert result.returncode == 0, output(result)
    assert_clean(result)
    assert "article_id" in result.stdout and "大格局谋发展" in result.stdout
    assert "2 row(s)" in result.stdout
    # the long title is cut short, not printed whole
    assert "很长的标题" * 40 not in result.stdout
    assert "…" in result.stdout


def test_sql_error_prints_duckdb_message_and_exits_1(small_warehouse: Path, cli_env, tmp_path: Path) -> None:
    result = newsflow(
        "sql", "SELECT nope FROM articles", "--warehouse", str(small_warehouse), cwd=tmp_path, env=cli_env
    )
    assert result.returncode == 1
    assert_clean(result)
    assert "Binder Error" in output(result)
    assert "nope" in output(result)

    result = newsflow("sql", "SELEC 1", "--warehouse", str(small_warehouse), cwd=tmp_path, env=cli_env)
    assert result.returncode == 1
    assert_clean(result)
    assert "Parser Error" in output(result)


def test_sql_interactive_reads_statements_until_quit(small_warehouse: Path, cli_env, tmp_path: Path) -> None:
    stdin = "SELECT count(*) AS n\nFROM articles;\nSELECT bad_column FROM documents;\n.quit\nSELECT 42;\n"
    result = newsflow("sql", "--warehouse", str(small_warehouse), cwd=tmp_path, env=cli_env, stdin=stdin)
    assert result.returncode == 0, output(result)
    assert_clean(result)
    assert re.search(r"[┃│]\s+n\s+[┃│]", result.stdout) and re.search(r"│\s+2\s+│", result.stdout)
    assert "Binder Error" in output(result)  # an error in the prompt is printed, the prompt goes on
    assert "42" not in result.stdout  # nothing after .quit runs


def test_sql_interactive_runs_last_statement_at_eof(small_warehouse: Path, cli_env, tmp_path: Path) -> None:
    result = newsflow(
        "sql", "--warehouse", str(small_warehouse), cwd=tmp_path, env=cli_env,
        stdin="SELECT 'end' || 'of' || 'input' AS x",
    )
    assert result.returncode == 0, output(result)
    assert "endofinput" in result.stdout


def test_sql_without_warehouse_says_so(cli_env, tmp_path: Path) -> None:
    result = newsflow("sql", "SELECT 1", "--warehouse", str(tmp_path / "none"), cwd=tmp_path, env=cli_env)
    assert result.returncode == 1
    assert_clean(result)
    assert "newsflow run" in output(result)


def test_run_without_raw_dir_fails_cleanly(cli_env, tmp_path: Path) -> None:
    result = newsflow("run", "--raw", str(tmp_path / "missing"), cwd=tmp_path, env=cli_env, timeout=120)
    assert result.returncode != 0
    assert_clean(result)
    assert "raw directory not found" in output(result)
    assert not (tmp_path / "warehouse").exists()


def test_run_refuses_a_bad_process_count_before_it_starts(cli_env, tmp_path: Path) -> None:
    """A NEWSFLOW_PROCESSES that is no count, and --processes beside --workers, stop the command
    with a message (exit 2) before any server or warehouse."""
    raw = tmp_path / "raw"
    seed_copies(raw, 1)
    bad = newsflow("run", "--raw", str(raw), cwd=tmp_path, env={**cli_env, "NEWSFLOW_PROCESSES": "two"},
                   timeout=120)
    both = newsflow("run", "--raw", str(raw), "--processes", "2", "--workers", "2", cwd=tmp_path, env=cli_env,
                    timeout=120)
    for result, message in ((bad, "NEWSFLOW_PROCESSES must be a whole number"), (both, "--processes sets")):
        assert result.returncode == 2, output(result)
        assert_clean(result)
        assert message in " ".join(output(result).split())
    assert not (tmp_path / "warehouse").exists()


def test_run_skips_the_last_collections_at_exit_but_not_the_exit_handlers(tmp_path: Path) -> None:
    """``newsflow run`` freezes the heap as the interpreter ends, once, after every exit handler
    registered later (Prefect's): a cycle of objects left at exit is then not collected, where
    a plain interpreter collects it; a handler registered after still runs."""
    script = """
import atexit, sys
from pathlib import Path
out = Path(sys.argv[1])
if sys.argv[2] == "freeze":
    from flows import cli
    cli._skip_collection_at_exit(); cli._skip_collection_at_exit()
class Cycle:
    def __del__(self):
        with out.open("a") as f: f.write("collected\\n")
a, b = Cycle(), Cycle(); a.b, b.a = b, a
del a, b
atexit.register(lambda: out.open("a").write("handler\\n"))
"""
    lines = {}
    for mode in ("freeze", "plain"):
        out = tmp_path / mode
        subprocess.run([sys.executable, "-c", script, str(out), mode], check=True, cwd=REPO, timeout=120)
        lines[mode] = out.read_text().split()
    assert lines["plain"] == ["handler", "collected", "collected"]
    assert lines["freeze"] == ["handler"]


# --- end to end: the real pipeline on the seed page -----------------------------------------


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A project directory with raw/ = the seed page plus a broken file next to it."""
    root = tmp_path_factory.mktemp("project")
    (root / "raw").mkdir()
    shutil.copy(SEED, root / "raw" / SEED.name)
    (root / "raw" / "broken.txt").write_bytes(BROKEN)
    return root


@pytest.fixture(scope="module")
def first_run(project: Path, cli_env) -> subprocess.CompletedProcess:
    # No --raw/--warehouse: the defaults are raw/ and warehouse/ below the current directory.
    return newsflow("run", cwd=project, env=cli_env)


def seed_doc_id() -> str:
    from tasks.decode import doc_id_for

    return doc_id_for(SEED.name)


def test_run_exits_0_with_a_summary_and_no_traceback(first_run) -> None:
    assert first_run.returncode == 0, output(first_run)
    assert_clean(first_run)
    summary = summary_row(first_run.stdout)
    assert summary["files"] == 2
    assert summary["quarantined"] == 1
    assert summary["articles"] >= 1
    assert summary["tokens"] > 1000
    assert summary["seconds"] > 0
    assert "broken.txt" in first_run.stdout


def test_run_builds_every_table(first_run, project: Path) -> None:
    assert first_run.returncode == 0, output(first_run)
    wh = project / "warehouse"
    assert store.table_names(wh) == ["articles", "dates", "documents", "entities", "keywords", "paragraphs",
                                     "quantities", "runs", "sentences", "tokens"]
    for table in store.table_names(wh):
        assert list((wh / table).glob("run-*.parquet" if table == "runs" else "part-*.parquet")), table
    assert (wh / "newsflow.duckdb").is_file()
    # no staging dir or temporary file left behind; the lock file (empty) stays
    assert not [p for p in wh.iterdir() if p.name.startswith(".") and p.name not in store.KEPT_HIDDEN]


def test_good_file_lands_and_broken_one_is_quarantined(first_run, project: Path) -> None:
    assert first_run.returncode == 0, output(first_run)
    con = store.connect(project / "warehouse")
    docs = dict(con.execute("SELECT source_path, status FROM documents").fetchall())
    assert docs == {SEED.name: "ok", "broken.txt": "quarantined"}
    error = con.execute("SELECT error FROM documents WHERE source_path = 'broken.txt'").fetchone()[0]
    assert error.startswith("cannot decode")
    article_docs = {r[0] for r in con.execute("SELECT DISTINCT doc_id FROM articles").fetchall()}
    assert article_docs == {seed_doc_id()}
    titles = {r[0] for r in con.execute("SELECT title FROM articles").fetchall()}
    assert "大格局谋发展 高质量抓落实" in titles
    n_tokens = con.execute("SELECT count(*) FROM tokens").fetchone()[0]
    assert n_tokens == summary_row(first_run.stdout)["tokens"]


def test_catalog_opens_from_the_project_root(first_run, project: Path, monkeypatch) -> None:
    assert first_run.returncode == 0, output(first_run)
    monkeypatch.chdir(project)
    con = duckdb.connect("warehouse/newsflow.duckdb", read_only=True)
    try:
        n = con.execute("SELECT count(*) FROM articles").fetchone()[0]
    finally:
        con.close()
    assert n == summary_row(first_run.stdout)["articles"]


def test_tables_are_readable_through_newsflow_sql(first_run, project: Path, cli_env, tmp_path: Path) -> None:
    assert first_run.returncode == 0, output(first_run)
    result = newsflow(
        "sql",
        "SELECT count(*) AS n_articles FROM articles",
        "--warehouse",
        str(project / "warehouse"),
        cwd=tmp_path,  # any directory
        env=cli_env,
    )
    assert result.returncode == 0, output(result)
    assert_clean(result)
    n = int(summary_row(first_run.stdout)["articles"])
    assert f" {n} " in result.stdout

    bad = newsflow("sql", "SELECT * FROM no_such_table", cwd=project, env=cli_env)
    assert bad.returncode == 1
    assert_clean(bad)
    assert "Catalog Error" in output(bad) and "no_such_table" in output(bad)


def test_second_run_gives_the_same_warehouse(first_run, project: Path, cli_env) -> None:
    assert first_run.returncode == 0, output(first_run)
    wh = project / "warehouse"

    def counts() -> dict[str, int]:
        con = store.connect(wh)
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in store.table_names(wh)
                if t != "runs"}  # the run log grows by a row per run

    def files() -> list[str]:
        return sorted(p.relative_to(wh).as_posix() for p in store.parquet_files(wh) if p.parent.name != "runs")

    def ids() -> dict[str, list]:
        con = store.connect(wh)
        return {
            "documents": con.execute("SELECT doc_id FROM documents ORDER BY 1").fetchall(),
            "articles": con.execute("SELECT article_id, title FROM articles ORDER BY 1").fetchall(),
            "paragraphs": con.execute("SELECT paragraph_id, char_start FROM paragraphs ORDER BY 1").fetchall(),
            "sentences": con.execute("SELECT sentence_id, char_start FROM sentences ORDER BY 1").fetchall(),
            "tokens": con.execute("SELECT sentence_id, seq, token FROM tokens ORDER BY 1, 2").fetchall(),
        }

    before_counts, before_files, before_ids = counts(), files(), ids()
    second = newsflow("run", cwd=project, env=cli_env)
    assert second.returncode == 0, output(second)
    assert_clean(second)
    assert counts() == before_counts  # rebuilt, not appended to
    n_runs = store.connect(wh).execute("SELECT count(*) FROM runs").fetchone()[0]
    assert n_runs == len(list((wh / "runs").glob("*.parquet"))) >= 2
    assert files() == before_files
    con = store.connect(wh)
    dupes = con.execute(
        "SELECT count(*) FROM (SELECT article_id FROM articles GROUP BY 1 HAVING count(*) > 1)"
    ).fetchone()[0]
    assert dupes == 0
    run_ids = {r[0] for r in con.execute("SELECT DISTINCT run_id FROM documents").fetchall()}
    assert len(run_ids) == 1
    assert ids() == before_ids  # the same input gives the same ids on every run


def test_offsets_hold_over_the_whole_warehouse(first_run, project: Path) -> None:
    """body[char_start:char_end] == text for every paragraph, sentence and token written."""
    assert first_run.returncode == 0, output(first_run)
    con = store.connect(project / "warehouse")
    bodies = dict(con.execute("SELECT article_id, body FROM articles").fetchall())
    checked = 0
    for table, text_col in (("paragraphs", "text"), ("sentences", "text"), ("tokens", "token")):
        rows = con.execute(f"SELECT article_id, char_start, char_end, {text_col} FROM {table}").fetchall()
        assert rows, table
        bad = [r for r in rows if bodies[r[0]][r[1] : r[2]] != r[3]]
        assert not bad, (table, bad[:3])
        checked += len(rows)
    assert checked > 3000
    # and DuckDB's own substring agrees, so analysts can use the offsets in SQL
    mismatched = con.execute(
        "SELECT count(*) FROM tokens t JOIN articles a USING (article_id) "
        "WHERE substr(a.body, t.char_start + 1, t.char_end - t.char_start) <> t.token"
    ).fetchone()[0]
    assert mismatched == 0


def readme_sql() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```sql\n(.*?)```", text, flags=re.S)


def test_readme_has_example_queries() -> None:
    assert len(readme_sql()) >= 3


@pytest.mark.parametrize("k", range(7))
def test_readme_queries_work_on_the_sample(first_run, project: Path, k: int) -> None:
    assert first_run.returncode == 0, output(first_run)
    queries = readme_sql()
    if k >= len(queries):
        pytest.skip("fewer queries in the README")
    rows = store.connect(project / "warehouse").execute(queries[k]).fetchall()
    assert rows, queries[k]


# --- the batch task's wiring, in process (no Prefect run) -----------------------------------


def test_layout_exception_quarantines_only_that_file(tmp_path: Path, monkeypatch) -> None:
    from flows import pipeline
    from tasks import layout

    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(SEED, raw / "a.txt")
    shutil.copy(SEED, raw / "b.txt")
    real_parse_page = layout.parse_page

    def parse_page(text: str):
        if parse_page.calls == 1:
            parse_page.calls += 1
            raise RuntimeError("column boundaries not found")
        parse_page.calls += 1
        return real_parse_page(text)

    parse_page.calls = 0
    monkeypatch.setattr(layout, "parse_page", parse_page)
    result = pipeline.process_batch(
        3,
        pipeline.discover(raw),
        raw,
        run_id="test",
        ingested_at=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
    )
    assert result.index == 3 and result.n_files == 2
    assert result.quarantined == {"b.txt": "layout failed: RuntimeError: column boundaries not found"}
    docs = dict(zip(result.tables["documents"]["source_path"], result.tables["documents"]["status"]))
    assert docs == {"a.txt": "ok", "b.txt": "quarantined"}
    assert result.tables["articles"].height >= 1
    assert set(result.tables["articles"]["doc_id"]) == {result.tables["documents"]["doc_id"][0]}


def test_a_page_whose_rows_fail_is_quarantined_and_the_batch_goes_on(tmp_path: Path, monkeypatch) -> None:
    """A page that breaks building or validating the rows (here: a segmenter that loses a
    character of one page's text) is quarantined with the reason; the other pages of the batch
    land as they would alone."""
    from flows import batch, pipeline
    from tasks.segment import get_segmenter

    raw = tmp_path / "raw"
    raw.mkdir()
    seed = SEED.read_text(encoding="utf-8")
    (raw / "a.txt").write_text(seed, encoding="utf-8")
    (raw / "b.txt").write_text(seed.replace("杨浦", "杨浦※", 1), encoding="utf-8")
    real = get_segmenter()

    class Lossy:
        name = "lossy"

        def tag(self, text: str) -> list[tuple[str, str]]:
            return [(w, p) for w, p in real.tag(text) if w != "※"]

    monkeypatch.setattr(batch, "get_segmenter", lambda engine: Lossy())
    when = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    result = pipeline.process_batch(0, pipeline.discover(raw), raw, run_id="test", ingested_at=when)
    assert list(result.quarantined) == ["b.txt"]
    assert result.quarantined["b.txt"].startswith("tables failed: ValueError: segmenter 'lossy' lost text")
    docs = result.tables["documents"]
    assert dict(zip(docs["source_path"], docs["status"])) == {"a.txt": "ok", "b.txt": "quarantined"}
    alone = pipeline.process_batch(0, [raw / "a.txt"], raw, run_id="test", ingested_at=when)
    for name, df in alone.tables.items():
        if name != "documents":
            assert result.tables[name].equals(df), name


def test_batches_are_grouped_into_few_tasks_when_there_are_many() -> None:
    from flows.pipeline import MAX_BATCHES_PER_TASK, MIN_TASKS_PER_WORKER, group_batches

    for n in (0, 1, 2, 7, 8, 9, 16, 17, 31, 32, 33, 117, 500):
        for workers in (None, 1, 2, 3):
            groups = group_batches(n, workers)
            # every batch once, in order, in runs of consecutive batches
            assert [i for g in groups for i in g] == list(range(n)), (n, workers)
            sizes = {len(g) for g in groups[:-1]}
            assert len(sizes) <= 1 and all(0 < len(g) <= MAX_BATCHES_PER_TASK for g in groups)
            if not workers:
                assert all(len(g) == 1 for g in groups)  # a Dask cluster: one batch per task
            elif n >= MIN_TASKS_PER_WORKER * workers:
                assert len(groups) >= MIN_TASKS_PER_WORKER * workers or len(groups[0]) == MAX_BATCHES_PER_TASK
            else:
                assert all(len(g) == 1 for g in groups)
    assert [len(g) for g in group_batches(117, 2)] == [4] * 29 + [1]
    assert [len(g) for g in group_batches(20, 2)] == [2] * 10


def test_a_run_of_grouped_batches_gives_the_warehouse_of_one_batch(tmp_path: Path, cli_env) -> None:
    """16 files in batches of one: 16 parts of every table, run by 8 Prefect tasks of two
    batches each (two worker processes, whatever the cores of the machine running the test); the
    same tables as the 16 files in one batch (one task)."""
    raw = tmp_path / "raw"
    seed_copies(raw, 16)
    tables = {}
    for size in ("1", "16"):
        wh = tmp_path / f"wh-{size}"
        result = newsflow("run", "--raw", str(raw), "--warehouse", str(wh), "--batch-size", size,
                          "--processes", "2", "--verbose", cwd=tmp_path, env=cli_env)
        assert result.returncode == 0, output(result)
        tasks = set(re.findall(r"Task run '(batches-\d{5})'", output(result)))
        assert len(tasks) == (8 if size == "1" else 1), sorted(tasks)
        assert len(list((wh / "tokens").glob("*.parquet"))) == int(16 / int(size))
        con = store.connect(wh)
        tables[size] = {
            name: con.execute(f"SELECT * EXCLUDE (run_id, ingested_at) FROM {name} ORDER BY ALL").fetchall()
            if name == "documents" else con.execute(f"SELECT * FROM {name} ORDER BY ALL").fetchall()
            for name in ("documents", "articles", "paragraphs", "sentences", "tokens", "entities",
                         "dates", "quantities", "keywords")
        }
        con.close()
    assert len(tables["1"]["articles"]) == 48
    for name, rows in tables["16"].items():
        assert tables["1"][name] == rows, name


def test_no_files_still_gives_one_batch_of_empty_tables(tmp_path: Path) -> None:
    from flows import pipeline

    assert pipeline.make_batches([], 50) == [[]]
    assert pipeline.make_batches([Path(f"{i}.txt") for i in range(5)], 2) == [
        [Path("0.txt"), Path("1.txt")],
        [Path("2.txt"), Path("3.txt")],
        [Path("4.txt")],
    ]
    result = pipeline.process_batch(
        0, [], tmp_path, run_id="empty", ingested_at=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    )
    from schemas import TABLES

    assert sorted(result.tables) == sorted(TABLES) and "entities" in TABLES
    assert all(df.height == 0 and df.width > 0 for df in result.tables.values())


def test_prefect_defaults_respect_what_the_user_set() -> None:
    from flows import configure_prefect_env

    env = {"PREFECT_SERVER_ANALYTICS_ENABLED": "true", "PREFECT_API_URL": "http://127.0.0.1:4200/api"}
    applied = configure_prefect_env(env)
    assert env["PREFECT_SERVER_ANALYTICS_ENABLED"] == "true"  # the user's value stays
    assert "PREFECT_HOME" not in env  # a user pointing Prefect at a server keeps their home
    assert applied["PREFECT_SERVER_EPHEMERAL_ENABLED"] == "true"
    env = {}
    configure_prefect_env(env)
    assert env["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"
    assert env["PREFECT_HOME"].endswith(".prefect")


def test_eval_scores_the_seed_page_perfectly(first_run, project: Path, cli_env) -> None:
    assert first_run.returncode == 0, output(first_run)
    import json

    gold = REPO / "tests" / "fixtures" / "seed_gold.json"
    result = newsflow("eval", str(gold), "--warehouse", str(project / "warehouse"), "--json",
                      cwd=project, env=cli_env)
    assert result.returncode == 0, output(result)
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["gold_articles"] == figures["found_articles"] == 3
    for name, value in figures.items():
        if name.endswith(("_f1", "_accuracy", "_precision", "_recall")):
            assert value == 1.0, name
    table = newsflow("eval", str(gold), "--warehouse", str(project / "warehouse"), cwd=project, env=cli_env)
    assert "article_f1" in table.stdout and "1.0000" in table.stdout


def test_quarantine_lists_what_was_set_aside_and_why(first_run, project: Path, cli_env) -> None:
    assert first_run.returncode == 0, output(first_run)
    import json

    result = newsflow("quarantine", "--json", cwd=project, env=cli_env)
    assert result.returncode == 0, output(result)
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert [r["source_path"] for r in rows] == ["broken.txt"]
    assert rows[0]["error"].startswith("cannot decode") and rows[0]["bytes"] == len(BROKEN)
    table = newsflow("quarantine", cwd=project, env=cli_env)
    assert "broken.txt" in table.stdout and "1 quarantined file" in table.stdout


def test_a_run_over_every_kind_of_bad_input_lands_the_rest(tmp_path: Path, cli_env) -> None:
    """Encodings are decoded, broken files quarantined with a reason; nothing crashes, nothing is lost."""
    seed = SEED.read_text(encoding="utf-8")
    big5 = ("本報訊 十二月七日，區委召開學習討論會，深入貫徹落實全會精神。\n" * 6).encode("big5")
    files = {
        "gbk.txt": seed.encode("gbk"),
        "big5.txt": big5,
        "bom.txt": b"\xef\xbb\xbf" + seed.encode("utf-8"),
        "utf16.txt": seed.encode("utf-16"),
        "crlf.txt": seed.replace("\n", "\r\n").encode("utf-8"),
        "cr.txt": seed.replace("\n", "\r").encode("utf-8"),
        "binary.txt": BROKEN,
        "empty.txt": b"",
        "blank.txt": b" \n\t\n  ",
        "torn.txt": SEED.read_bytes()[:2000] + b"\xff" + SEED.read_bytes()[2000:],
    }
    raw = tmp_path / "raw"
    raw.mkdir()
    for name, data in files.items():
        (raw / name).write_bytes(data)
    result = newsflow("run", "--raw", str(raw), "--warehouse", str(tmp_path / "wh"), cwd=tmp_path, env=cli_env)
    assert result.returncode == 0, output(result)
    assert_clean(result)
    con = store.connect(tmp_path / "wh")
    docs = {r[0]: r[1:] for r in con.execute("SELECT source_path, status, error, n_articles FROM documents").fetchall()}
    assert set(docs) == set(files)  # every file has its row: nothing silently lost
    for name in ("gbk.txt", "bom.txt", "utf16.txt", "crlf.txt", "cr.txt"):
        assert docs[name][0] == "ok" and docs[name][2] == 3, (name, docs[name])
    assert docs["big5.txt"][0] == "ok"
    for name, reason in (("binary.txt", "cannot decode"), ("empty.txt", "empty file"),
                         ("blank.txt", "empty file"), ("torn.txt", "cannot decode: invalid UTF-8 at byte 2000")):
        assert docs[name][0] == "quarantined" and docs[name][1].startswith(reason), (name, docs[name])
    # the five copies of the seed page in other encodings give the same articles
    bodies = con.execute(
        "SELECT count(DISTINCT body) FROM articles JOIN documents USING (doc_id) "
        "WHERE source_path IN ('gbk.txt', 'bom.txt', 'utf16.txt', 'crlf.txt', 'cr.txt')"
    ).fetchone()[0]
    assert bodies == 3


def test_the_command_runs_batches_of_the_flows_default_size() -> None:
    import inspect

    from flows.cli import run
    from flows.pipeline import DEFAULT_BATCH_SIZE

    assert inspect.signature(run).parameters["batch_size"].default == DEFAULT_BATCH_SIZE
