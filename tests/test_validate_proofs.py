"""Cross-table checks: a table proven to pass as a whole gives what its row-by-row checks give.

Each check is run twice on the same tables, with its proofs and with them all failing (every
table then checked row by row), and the problems found must be the same rows in the same order;
on the pipeline's own tables (where the proofs hold) and on tables broken so that they do not.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
import pytest

import tasks.validate as V
from tasks.model import Article, Page, Paragraph
from tasks.tables import build_tables

PAGE = Page(
    section="要闻·综合",
    articles=[
        Article(
            title="本区举行机关工作人员宪法知识竞赛",
            reporters=["杨晓梅"],
            dateline="本报讯",
            paragraphs=[
                Paragraph("本报讯 12月4日，区绿化市容局在长阳创谷举办宪法宣传活动，300名干部参加。现场气氛热烈！"),
                Paragraph("五角场街道", kind="subheading"),
                Paragraph("“要学法、懂法、用法。”他说；大家纷纷表示赞同……2019年共有3家企业参加。"),
            ],
        ),
        Article(continued_from_page=1, reporters=["毛信慧", "成佳佳"], paragraphs=[Paragraph("下转第2版")]),
    ],
)

#: The proofs, and what each gives when it fails.
PROOFS: dict[str, Callable] = {
    "_tiles_parent": lambda *a, **k: pl.LazyFrame({"held": [False]}),
    "_within_parent": lambda *a, **k: pl.LazyFrame({"held": [False]}),
    "_anchors_hold": lambda *a, **k: set(),
}


@pytest.fixture()
def batch(make_doc, seed_page, segmenter, ingested_at):
    items = [(make_doc("d1"), seed_page), (make_doc("d2", page_no=2), PAGE), (make_doc("d3", page_no=3), seed_page)]
    return build_tables(items, segmenter, run_id="r1", ingested_at=ingested_at)


def _found(check: Callable, tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    frames = pl.collect_all([f.lazy() for f in check(tables)], engine="in-memory")
    return pl.concat([V._NO_PROBLEMS, *frames])


def _both(check: Callable, tables: dict[str, pl.DataFrame], monkeypatch) -> tuple[pl.DataFrame, pl.DataFrame]:
    fast = _found(check, tables)
    with monkeypatch.context() as m:
        for name, failed in PROOFS.items():
            m.setattr(V, name, failed)
        slow = _found(check, tables)
    return fast, slow


def _set(df: pl.DataFrame, i: int, col: str, value) -> pl.DataFrame:
    values = df[col].to_list()
    values[i] = value
    return df.with_columns(pl.Series(col, values, dtype=df.schema[col]))


def _rows(df: pl.DataFrame, order: list[int]) -> pl.DataFrame:
    return df[order]


def _swap(df: pl.DataFrame, i: int, col: str) -> pl.DataFrame:
    a, b = df[col][i], df[col][i + 1]
    return _set(_set(df, i, col, b), i + 1, col, a)


def _move_char(df: pl.DataFrame, i: int) -> pl.DataFrame:
    """Row ``i``'s last character given to row ``i + 1`` (spans and texts: still a valid tiling
    if both have the same sentence)."""
    a, b = df["token"][i], df["token"][i + 1]
    df = _set(_set(df, i, "char_end", df["char_end"][i] - 1), i + 1, "char_start", df["char_start"][i + 1] - 1)
    return _set(_set(df, i, "token", a[:-1]), i + 1, "token", a[-1] + b)


def _long_token(t: dict[str, pl.DataFrame]) -> int:
    k, tok = t["tokens"]["sentence_id"], t["tokens"]["token"]
    return next(i for i in range(len(k) - 1) if k[i] == k[i + 1] and len(tok[i]) > 1)


def _last_of_sentence(t: dict[str, pl.DataFrame]) -> int:
    k = t["tokens"]["sentence_id"]
    return next(i for i in range(len(k) - 1) if k[i] != k[i + 1])


BREAKS: dict[str, Callable[[dict[str, pl.DataFrame]], dict[str, pl.DataFrame]]] = {
    "token texts swapped": lambda t: {**t, "tokens": _swap(t["tokens"], 5, "token")},
    "token char moved with its text": lambda t: {**t, "tokens": _move_char(t["tokens"], _long_token(t))},
    "token text changed, same length": lambda t: {
        **t, "tokens": _set(t["tokens"], _long_token(t), "token", "改" + t["tokens"]["token"][_long_token(t)][1:])
    },
    "token rows swapped": lambda t: {**t, "tokens": _rows(t["tokens"], [1, 0, *range(2, t["tokens"].height)])},
    "tokens reversed": lambda t: {**t, "tokens": t["tokens"].reverse()},
    "token end moved": lambda t: {**t, "tokens": _set(t["tokens"], 3, "char_end", t["tokens"]["char_end"][3] + 1)},
    "token start moved": lambda t: {**t, "tokens": _set(t["tokens"], 3, "char_start", t["tokens"]["char_start"][3] - 1)},
    "token in the next sentence": lambda t: {
        **t, "tokens": _set(t["tokens"], _last_of_sentence(t), "sentence_id", t["tokens"]["sentence_id"][_last_of_sentence(t) + 1])
    },
    "token of another article": lambda t: {**t, "tokens": _set(t["tokens"], 4, "article_id", t["articles"]["article_id"][1])},
    "token of another paragraph": lambda t: {**t, "tokens": _set(t["tokens"], 4, "paragraph_id", "d1-001-p009")},
    "token of another document": lambda t: {**t, "tokens": _set(t["tokens"], 4, "doc_id", "d2")},
    "token doc_id null": lambda t: {**t, "tokens": _set(t["tokens"], 4, "doc_id", None)},
    "token without sentence": lambda t: {**t, "tokens": _set(t["tokens"], 4, "sentence_id", None)},
    "token end null": lambda t: {**t, "tokens": _set(t["tokens"], 4, "char_end", None)},
    "token text null": lambda t: {**t, "tokens": _set(t["tokens"], 4, "token", None)},
    "token duplicated": lambda t: {**t, "tokens": pl.concat([t["tokens"][:5], t["tokens"][4:]])},
    "tokens empty": lambda t: {**t, "tokens": t["tokens"].clear()},
    "sentence duplicated": lambda t: {**t, "sentences": pl.concat([t["sentences"], t["sentences"][2:3]])},
    "sentence missing": lambda t: {**t, "sentences": pl.concat([t["sentences"][:2], t["sentences"][3:]])},
    "sentence end moved": lambda t: {**t, "sentences": _set(t["sentences"], 2, "char_end", t["sentences"]["char_end"][2] - 1)},
    "sentence text changed": lambda t: {**t, "sentences": _set(t["sentences"], 2, "text", "改" + t["sentences"]["text"][2][1:])},
    "sentences swapped": lambda t: {**t, "sentences": _rows(t["sentences"], [1, 0, *range(2, t["sentences"].height)])},
    "paragraph duplicated": lambda t: {**t, "paragraphs": pl.concat([t["paragraphs"], t["paragraphs"][1:2]])},
    "paragraph start moved": lambda t: {**t, "paragraphs": _set(t["paragraphs"], 1, "char_start", 0)},
    "article duplicated": lambda t: {**t, "articles": pl.concat([t["articles"], t["articles"][0:1]])},
    "article id null": lambda t: {**t, "articles": _set(t["articles"], 0, "article_id", None)},
    "entity shifted": lambda t: {
        **t, "entities": _set(_set(t["entities"], 0, "char_start", t["entities"]["char_start"][0] + 1), 0, "char_end", t["entities"]["char_end"][0] + 1)
    },
    "entity in another sentence": lambda t: {**t, "entities": _set(t["entities"], 0, "sentence_id", t["sentences"]["sentence_id"][5])},
    "date ends before it starts": lambda t: {**t, "dates": _set(t["dates"], 0, "char_end", t["dates"]["char_start"][0] - 1)},
    "quantity starts before its sentence": lambda t: {**t, "quantities": _set(t["quantities"], 0, "char_start", -3)},
    "token ends before it starts": lambda t: {**t, "tokens": _set(t["tokens"], 3, "char_end", t["tokens"]["char_start"][3] - 2)},
    "date text changed": lambda t: {**t, "dates": _set(t["dates"], 0, "text", "x")},
    "quantity of another document": lambda t: {**t, "quantities": _set(t["quantities"], 0, "doc_id", "d3")},
}


@pytest.mark.parametrize("valid", ["as built", "token char moved with its text"])
@pytest.mark.parametrize(("check", "left"), [("_parent_refs", 0), ("_offsets", 2)])
def test_proofs_hold_on_the_pipelines_tables(batch, check, left, valid, monkeypatch):
    batch = batch if valid == "as built" else BREAKS[valid](batch)
    calls = []
    for name, proof in PROOFS.items():
        real = getattr(V, name)
        monkeypatch.setattr(V, name, lambda *a, _real=real, _name=name, **k: calls.append(_name) or _real(*a, **k))
    assert len(getattr(V, check)(batch)) == left  # every table proven (but paragraphs, sentences)
    assert calls
    fast, slow = _both(getattr(V, check), batch, monkeypatch)
    assert fast.height == 0 and slow.height == 0


@pytest.mark.parametrize("brk", list(BREAKS))
@pytest.mark.parametrize("check", ["_parent_refs", "_offsets"])
def test_broken_tables_give_what_row_by_row_checks_give(batch, check, brk, monkeypatch):
    tables = BREAKS[brk](batch)
    fast, slow = _both(getattr(V, check), tables, monkeypatch)
    assert fast.equals(slow), (fast, slow)


def test_the_comparison_sees_a_difference(batch, monkeypatch):
    """The broken tables above do fail some check: the comparison is not between empty frames."""
    flagged, misplaced = set(), set()
    for brk, make in BREAKS.items():
        if _both(V._parent_refs, make(batch), monkeypatch)[0].height:
            flagged.add(brk)
        if _both(V._offsets, make(batch), monkeypatch)[0].height:
            misplaced.add(brk)
    assert {
        "token in the next sentence", "token of another article", "token of another paragraph",
        "token end moved", "token duplicated", "sentence duplicated", "sentence end moved",
        "entity in another sentence", "quantity of another document", "paragraph start moved",
    } <= flagged
    assert {
        "token texts swapped", "token text changed, same length", "token end moved", "token text null",
        "sentence text changed", "date text changed", "entity shifted",
    } <= misplaced
    assert "token char moved with its text" not in flagged | misplaced  # a valid tiling


@pytest.mark.parametrize("brk", list(BREAKS))
def test_validation_the_same_with_and_without_proofs(batch, brk, monkeypatch):
    tables = BREAKS[brk](batch)

    def run():
        try:
            r = V.validate_tables(tables)
        except V.BatchValidationError as exc:
            return str(exc)
        return r.quarantined, {n: df.to_dicts() for n, df in r.tables.items()}

    fast = run()
    with monkeypatch.context() as m:
        for name, failed in PROOFS.items():
            m.setattr(V, name, failed)
        slow = run()
    assert fast == slow
