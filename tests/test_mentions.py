"""The entities, dates and quantities tables of the seed page, built as the pipeline builds them
(raw file -> layout -> build_tables -> validate), and what bad input does to them."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from tasks.decode import read_document
from tasks.layout import parse_page
from tasks.model import Article, Page, Paragraph
from tasks.tables import Extractors, build_tables
from tasks.validate import validate_tables

REPO = Path(__file__).resolve().parents[1]
SEED_RAW = REPO / "raw" / "000_c9cd572a92cace71.txt"
ISSUE = dt.date(2019, 12, 10)
DEPARTMENTS = ["区委", "区发改委", "区商务委", "区人社局", "区民政局", "区建管委", "区绿化市容局",
               "区房管局", "区教育局党委", "区卫健委", "区城管执法局", "区市场监管局", "团区委",
               "区检察院", "区公安分局"]
PEOPLE = ["杨晓梅", "毛信慧", "成佳佳", "李跃旗", "谢坚钢"]


def _seed_tables(segmenter, ingested_at, issue_date: dt.date | None = ISSUE) -> dict[str, pl.DataFrame]:
    doc = dataclasses.replace(read_document(SEED_RAW, SEED_RAW.parent), issue_date=issue_date)
    tables = build_tables([(doc, parse_page(doc.text))], segmenter, run_id="r", ingested_at=ingested_at)
    result = validate_tables(tables)
    assert result.quarantined == {}
    return result.tables


@pytest.fixture(scope="module")
def seed(segmenter) -> dict[str, pl.DataFrame]:
    return _seed_tables(segmenter, dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc))


def test_every_mention_points_into_its_body(seed) -> None:
    bodies = dict(seed["articles"].select("article_id", "body").iter_rows())
    sentences = {r[0]: r[1:] for r in seed["sentences"].select("sentence_id", "char_start", "char_end").iter_rows()}
    for table in ("entities", "dates", "quantities"):
        rows = seed[table].filter(pl.col("char_start").is_not_null())
        assert rows.height > 0, table
        for article_id, sentence_id, start, end, text in rows.select(
            "article_id", "sentence_id", "char_start", "char_end", "text"
        ).iter_rows():
            assert bodies[article_id][start:end] == text, (table, text)
            s_start, s_end = sentences[sentence_id]
            assert s_start <= start < end <= s_end, (table, text)


def test_departments_are_organisations(seed) -> None:
    orgs = set(seed["entities"].filter(pl.col("label") == "ORG")["text"].to_list())
    body = "\n".join(seed["articles"]["body"].to_list())
    present = [d for d in DEPARTMENTS if d in body]
    assert len(present) >= 10, present  # the page names most of them
    missing = [d for d in present if d not in orgs]
    assert not missing, f"departments not found as ORG: {missing}"


def test_reporters_and_people_are_persons(seed) -> None:
    ents = seed["entities"]
    persons = set(ents.filter(pl.col("label") == "PERSON")["text"].to_list())
    assert set(PEOPLE) <= persons, set(PEOPLE) - persons
    byline = ents.filter(pl.col("source") == "byline")
    assert set(byline["text"]) == {"杨晓梅", "毛信慧", "成佳佳"}
    assert set(byline["role"]) == {"reporter"} and byline["sentence_id"].null_count() == byline.height
    # the byline rows are the articles' reporters, article by article
    reporters = seed["articles"].select("article_id", "reporters").explode("reporters").drop_nulls()
    assert sorted(byline.select("article_id", "text").rows()) == sorted(reporters.rows())
    # 李跃旗 and 谢坚钢 are in the text itself, with spans
    in_text = ents.filter(pl.col("text").is_in(["李跃旗", "谢坚钢"]) & pl.col("char_start").is_not_null())
    assert set(in_text["text"]) == {"李跃旗", "谢坚钢"}


def test_sub_districts_are_gpe(segmenter, ingested_at) -> None:
    page = Page(articles=[Article(title="街道动态", paragraphs=[
        Paragraph("五角场街道和殷行街道的志愿者昨天走进社区。"),
        Paragraph("江浦路街道与长白新村街道、新江湾城街道联合举办活动。"),
    ])])
    from conftest import _make_doc

    tables = build_tables([(_make_doc("d1"), page)], segmenter, run_id="r", ingested_at=ingested_at)
    gpe = set(tables["entities"].filter(pl.col("label") == "GPE")["text"].to_list())
    assert {"五角场街道", "殷行街道", "江浦路街道"} <= gpe


def test_dates_resolved_against_the_issue_date(seed) -> None:
    dates = seed["dates"]
    row = dates.filter(pl.col("text") == "12月7日至8日").row(0, named=True)
    assert (row["date_start"], row["date_end"]) == (dt.date(2019, 12, 7), dt.date(2019, 12, 8))
    assert row["granularity"] == "day" and row["resolved"] is True
    year = dates.filter(pl.col("text") == "2020年").row(0, named=True)
    assert (year["date_start"], year["date_end"], year["granularity"]) == (
        dt.date(2020, 1, 1), dt.date(2020, 12, 31), "year")
    assert year["resolved"] is False  # the text gave the year
    nxt = dates.filter(pl.col("text") == "明年")
    assert nxt.height >= 1 and set(nxt["date_start"]) == {dt.date(2020, 1, 1)} and all(nxt["resolved"])


def test_no_issue_date_no_invented_year(segmenter) -> None:
    tables = _seed_tables(segmenter, dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc), issue_date=None)
    # the seed page prints no date of its own: the page header gives none either
    assert tables["documents"]["issue_date"][0] is None
    dates = tables["dates"]
    row = dates.filter(pl.col("text") == "12月7日至8日").row(0, named=True)
    assert row["date_start"] is None and row["date_end"] is None and row["resolved"] is False
    nxt = dates.filter(pl.col("text") == "明年")
    assert nxt.height >= 1 and nxt["date_start"].null_count() == nxt.height
    # an explicit year needs no issue date
    assert dates.filter(pl.col("text") == "2020年")["date_start"][0] == dt.date(2020, 1, 1)


def test_quantities_of_the_seed_page(seed) -> None:
    q = {r["text"]: r for r in seed["quantities"].iter_rows(named=True)}
    assert (q["10800张"]["value"], q["10800张"]["unit"]) == (10800.0, "张")
    assert (q["60万平方米"]["value"], q["60万平方米"]["unit"]) == (600000.0, "平方米")
    assert (q["2.6万户"]["value"], q["2.6万户"]["unit"]) == (26000.0, "户")
    assert (q["三项"]["value"], q["三项"]["unit"]) == (3.0, "项")
    assert not seed["quantities"].filter(pl.col("text").str.contains("年$") & (pl.col("kind") == "count")).height


MALFORMED = [
    "12345678901234567890",
    "“他说，这是一个没有结束的引号",
    "他说”这是一个没有开始的引号。",
    "！！！？？？。。。",
    "😀😀😀",
    "区委" * 5000,  # 10,000 characters in one sentence
    "共计" + "1" * 3000 + "万元" + "至" * 2000 + "个",
]


def test_malformed_text_gives_rows_or_nothing(segmenter, ingested_at) -> None:
    from conftest import _make_doc

    page = Page(articles=[Article(title="异常", paragraphs=[Paragraph(t) for t in MALFORMED])])
    tables = build_tables([(_make_doc("d1"), page)], segmenter, run_id="r", ingested_at=ingested_at)
    result = validate_tables(tables)
    assert result.quarantined == {}
    assert result.tables["sentences"].height >= len(MALFORMED)


def test_extractors_can_be_switched_off(segmenter, ingested_at, seed_page, make_doc) -> None:
    tables = build_tables([(make_doc("d1"), seed_page)], segmenter, run_id="r", ingested_at=ingested_at,
                          extractors=Extractors.off())
    assert tables["dates"].height == tables["quantities"].height == 0
    # byline names need no extractor
    assert set(tables["entities"]["source"]) == {"byline"}


def test_a_bad_mention_quarantines_its_document_only(segmenter, ingested_at, seed_page, make_doc) -> None:
    tables = build_tables([(make_doc("d1"), seed_page), (make_doc("d2"), seed_page)], segmenter,
                          run_id="r", ingested_at=ingested_at)
    first_d1 = pl.col("date_id") == tables["dates"].filter(pl.col("doc_id") == "d1")["date_id"][0]
    tables["dates"] = tables["dates"].with_columns(
        pl.when(first_d1).then(pl.col("char_start") + 1).otherwise(pl.col("char_start")).alias("char_start"),
        pl.when(first_d1).then(pl.col("char_end") + 1).otherwise(pl.col("char_end")).alias("char_end"),
    )
    result = validate_tables(tables)
    assert list(result.quarantined) == ["d1"]
    assert "dates.char_start/char_end" in result.quarantined["d1"]
    assert set(result.tables["dates"]["doc_id"]) == {"d2"}
    assert set(result.tables["entities"]["doc_id"]) == {"d2"}


def test_a_mention_of_no_sentence_or_outside_it_quarantines_its_document(
    segmenter, ingested_at, seed_page, make_doc
) -> None:
    tables = build_tables([(make_doc("d1"), seed_page), (make_doc("d2"), seed_page)], segmenter,
                          run_id="r", ingested_at=ingested_at)
    q = tables["quantities"]
    first_d1 = pl.col("quantity_id") == q.filter(pl.col("doc_id") == "d1")["quantity_id"][0]
    tables["quantities"] = q.with_columns(
        pl.when(first_d1).then(pl.lit("d1-999-p001-s001")).otherwise(pl.col("sentence_id")).alias("sentence_id"))
    e = tables["entities"]
    in_text = e.filter((pl.col("doc_id") == "d2") & pl.col("sentence_id").is_not_null())
    moved = pl.col("entity_id") == in_text["entity_id"][0]
    other = tables["sentences"].filter(
        (pl.col("article_id") == in_text["article_id"][0]) & (pl.col("sentence_id") != in_text["sentence_id"][0])
    )["sentence_id"][0]
    tables["entities"] = e.with_columns(
        pl.when(moved).then(pl.lit(other)).otherwise(pl.col("sentence_id")).alias("sentence_id"))
    result = validate_tables(tables)
    assert sorted(result.quarantined) == ["d1", "d2"]
    assert "quantities.sentence_id: check 'references sentences'" in result.quarantined["d1"]
    assert "entities.char_start: check 'inside its sentences span'" in result.quarantined["d2"]
