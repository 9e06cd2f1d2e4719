"""Shared fixtures: the seed gold as hand-built records, and the default segmenter."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tasks.model import Article, Document, Page, Paragraph  # noqa: E402

SEED_GOLD = REPO / "tests" / "fixtures" / "seed_gold.json"


def _articles_from_gold(entries: list[dict]) -> list[Article]:
    """Articles built by hand from gold entries (a paragraph listed in subheadings is one)."""
    out = []
    for e in entries:
        subs = set(e.get("subheadings") or [])
        out.append(
            Article(
                title=e["title"],
                kicker=e["kicker"],
                subtitle=e["subtitle"],
                reporters=list(e["reporters"]),
                dateline=e["dateline"],
                continued_from_page=e["continued_from_page"],
                continues_to_page=e["continues_to_page"],
                paragraphs=[Paragraph(p, "subheading" if p in subs else "body") for p in e["paragraphs"]],
            )
        )
    return out


def _make_doc(doc_id: str, **kw) -> Document:
    """An ok Document with plausible metadata; override any field with keywords."""
    fields = dict(
        doc_id=doc_id,
        source_path=f"yangpu/{doc_id}.txt",
        sha256=(doc_id.encode().hex() * 64)[:64],
        n_bytes=1000,
        encoding="utf-8",
        text="x" * 500,
        publication="杨浦时报",
        issue_date=dt.date(2019, 12, 10),
        page_no=1,
    )
    fields.update(kw)
    return Document(**fields)


@pytest.fixture(scope="session")
def seed_gold() -> dict:
    return json.loads(SEED_GOLD.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def seed_paragraphs(seed_gold: dict) -> list[str]:
    return [p for a in seed_gold["articles"] for p in a["paragraphs"]]


@pytest.fixture()
def seed_page(seed_gold: dict) -> Page:
    return Page(section=seed_gold["section"], articles=_articles_from_gold(seed_gold["articles"]))


@pytest.fixture(scope="session")
def segmenter():
    from tasks.segment import get_segmenter

    return get_segmenter()


@pytest.fixture()
def ingested_at() -> dt.datetime:
    return dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="session")
def make_doc():
    """Factory: ``make_doc(doc_id, **overrides) -> Document``."""
    return _make_doc


@pytest.fixture(scope="session")
def articles_from_gold():
    """Factory: ``articles_from_gold(gold_entries) -> list[Article]``."""
    return _articles_from_gold


@pytest.fixture(scope="session")
def prefect_home(tmp_path_factory) -> Path:
    """One Prefect home for the session: its SQLite database is migrated once, not per run."""
    return tmp_path_factory.mktemp("prefect-home")


@pytest.fixture(scope="session")
def cli_env(prefect_home: Path) -> dict[str, str]:
    """The environment of a ``newsflow`` subprocess: this repository's code, the session's
    Prefect home, plain wide output."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PREFECT_") or k in ("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS",)
    }
    env.update(
        PREFECT_HOME=str(prefect_home),
        COLUMNS="200",  # rich wraps tables at 80 columns when not on a terminal
        NO_COLOR="1",
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
    )
    return env
