"""A run killed with SIGKILL in the middle of writing leaves the previous warehouse readable and
consistent, and the next run completes the work."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from tasks import store
from test_cli import SEED, assert_clean, newsflow, newsflow_cmd, output

ORPHANS = {
    "articles without document": "SELECT count(*) FROM articles a ANTI JOIN documents d USING (doc_id)",
    "paragraphs without article": "SELECT count(*) FROM paragraphs p ANTI JOIN articles a USING (article_id)",
    "sentences without paragraph": "SELECT count(*) FROM sentences s ANTI JOIN paragraphs p USING (paragraph_id)",
    "tokens without sentence": "SELECT count(*) FROM tokens t ANTI JOIN sentences s USING (sentence_id)",
}


def page(k: int) -> str:
    """A copy of the seed page made unique, so content hashing sees a new file."""
    return SEED.read_text(encoding="utf-8").replace("区委\n召开学习讨论会", f"区委第{k}次\n召开学习讨论会", 1)


def state(warehouse: Path) -> dict:
    con = store.connect(warehouse)
    try:
        for what, sql in ORPHANS.items():
            assert con.execute(sql).fetchone()[0] == 0, what
        return {
            "docs": sorted(r[0] for r in con.execute("SELECT source_path FROM documents").fetchall()),
            "articles": con.execute("SELECT count(*) FROM articles").fetchone()[0],
            "tokens": con.execute("SELECT count(*) FROM tokens").fetchone()[0],
        }
    finally:
        con.close()


def test_kill_9_mid_write_then_run_again(tmp_path: Path, cli_env) -> None:
    raw, wh = tmp_path / "raw", tmp_path / "warehouse"
    raw.mkdir()
    for k in range(3):
        (raw / f"p{k:03d}.txt").write_text(page(k), encoding="utf-8")
    first = newsflow("run", "--raw", str(raw), "--warehouse", str(wh), cwd=tmp_path, env=cli_env)
    assert first.returncode == 0, output(first)
    before = state(wh)
    assert len(before["docs"]) == 3 and before["articles"] == 9

    for k in range(3, 40):
        (raw / f"p{k:03d}.txt").write_text(page(k), encoding="utf-8")
    proc = subprocess.Popen(
        [*newsflow_cmd(), "run", "--raw", str(raw), "--warehouse", str(wh), "--batch-size", "1"],
        cwd=tmp_path, env=cli_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    killed = False
    deadline = time.monotonic() + 300
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            staged = [p for p in wh.glob(".staging-*/*/*.parquet")]
            if len(staged) >= 10:  # a good part of the new batches is written: kill it now
                os.killpg(proc.pid, signal.SIGKILL)
                killed = True
                break
            time.sleep(0.02)
    finally:
        if proc.poll() is None and not killed:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    assert killed, "the run finished before it could be killed mid-write"

    # readers still see the previous warehouse, whole and consistent
    assert state(wh) == before
    assert list(wh.glob(".staging-*")), "the killed run's staging is left behind (and never read)"

    again = newsflow("run", "--raw", str(raw), "--warehouse", str(wh), cwd=tmp_path, env=cli_env)
    assert again.returncode == 0, output(again)
    assert_clean(again)
    after = state(wh)
    assert len(after["docs"]) == 40 and after["articles"] == 120
    assert not list(wh.glob(".staging-*")) and not list(wh.glob(".old-*"))
    shutil.rmtree(tmp_path / "raw")
