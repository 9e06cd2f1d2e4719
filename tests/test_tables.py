"""build_tables on hand-built pages of real text: offsets, sentences, ids, empty/quarantined."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from tasks.model import Article, Page, Paragraph
from tasks.tables import TABLE_SCHEMAS, Extractors, build_tables, empty_tables, split_sentences

RUN = "run-test"


def _build(items, segmenter, ingested_at):
    return build_tables(items, segmenter, run_id=RUN, ingested_at=ingested_at)


@pytest.fixture()
def tables(seed_page, make_doc, segmenter, ingested_at):
    return _build([(make_doc("d1"), seed_page)], segmenter, ingested_at)


def test_every_table_has_its_schema(tables):
    assert list(tables) == ["documents", "articles", "paragraphs", "sentences", "tokens",
                           "entities", "dates", "quantities"]
    for name, df in tables.items():
        assert df.schema == TABLE_SCHEMAS[name], name
    assert tables["documents"].height == 1
    assert tables["articles"].height == 3
    assert tables["paragraphs"].height == 29
    assert tables["tokens"].height > 1000


def test_offsets_point_into_the_body(tables, seed_page):
    bodies = dict(tables["articles"].select("article_id", "body").iter_rows())
    assert list(bodies.values()) == [a.body for a in seed_page.articles]
    for name, col in (("paragraphs", "text"), ("sentences", "text"), ("tokens", "token")):
        df = tables[name]
        for article_id, start, end, text in df.select(
            "article_id", "char_start", "char_end", col
        ).iter_rows():
            assert bodies[article_id][start:end] == text, (name, article_id, start, end)
    # and every character of every body is covered by exactly one token
    for article_id, body in bodies.items():
        toks = tables["tokens"].filter(pl.col("article_id") == article_id).sort("char_start")
        covered = "\n".join(
            "".join(g["token"]) for _, g in toks.group_by("paragraph_id", maintain_order=True)
        )
        assert covered == body


def test_sentences_rebuild_paragraphs(tables):
    rebuilt = (
        tables["sentences"]
        .sort("paragraph_id", "seq")
        .group_by("paragraph_id", maintain_order=True)
        .agg(pl.col("text").str.join("").alias("joined"), pl.len().alias("n"))
    )
    paras = tables["paragraphs"].join(rebuilt, on="paragraph_id", how="left")
    assert (paras["text"] == paras["joined"]).all()
    assert (paras["n_sentences"] == paras["n"]).all()
    assert tables["sentences"]["text"].str.len_chars().min() > 0


def test_sentence_split_rules():
    text = "他说：“好。”然后呢？！……对；最后一句（注：完）。没有结尾"
    spans = split_sentences(text)
    parts = [text[a:b] for a, b in spans]
    assert parts == ["他说：“好。”", "然后呢？！……", "对；", "最后一句（注：完）。", "没有结尾"]
    assert split_sentences("") == []
    for t, expected in [
        ("。。", ["。。"]),
        ("“问？”答！", ["“问？”", "答！"]),
        ("a! b? c", ["a!", " b?", " c"]),
    ]:
        assert [t[a:b] for a, b in split_sentences(t)] == expected


def test_ids_are_stable_unique_and_sortable(seed_page, make_doc, segmenter, ingested_at):
    a = _build([(make_doc("d1"), seed_page)], segmenter, ingested_at)
    b = _build([(make_doc("d1"), seed_page)], segmenter, ingested_at)
    for name in TABLE_SCHEMAS:
        assert a[name].equals(b[name]), name
    assert a["articles"]["article_id"].to_list() == ["d1-001", "d1-002", "d1-003"]
    assert a["paragraphs"]["paragraph_id"][0] == "d1-001-p001"
    assert a["sentences"]["sentence_id"][0] == "d1-001-p001-s001"
    for name, key in (
        ("articles", "article_id"),
        ("paragraphs", "paragraph_id"),
        ("sentences", "sentence_id"),
    ):
        ids = a[name][key]
        assert ids.is_unique().all(), name
        assert ids.to_list() == sorted(ids.to_list()), f"{name} ids sort in document order"
    assert a["tokens"].select("sentence_id", "seq").is_unique().all()


def test_article_and_document_columns(tables, seed_gold, make_doc):
    doc = tables["documents"].row(0, named=True)
    assert doc["status"] == "ok" and doc["error"] is None and doc["run_id"] == RUN
    assert doc["n_articles"] == 3 and doc["section"] == seed_gold["section"]
    assert doc["ingested_at"] == dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    assert doc["bytes"] == make_doc("d1").n_bytes and doc["issue_date"] == dt.date(2019, 12, 10)
    arts = tables["articles"]
    first = arts.row(0, named=True)
    gold = seed_gold["articles"][0]
    assert first["title"] == gold["title"] and first["subtitle"] == gold["subtitle"]
    assert first["reporters"] == gold["reporters"] and first["subheadings"] == gold["subheadings"]
    assert first["page_no"] == 1 and first["publication"] == "杨浦时报"
    assert arts["continued_from_page"].to_list() == [None, None, 1]
    assert (arts["n_chars"] == arts["body"].str.len_chars()).all()
    kinds = tables["paragraphs"].filter(pl.col("article_id") == "d1-001")["kind"].to_list()
    assert kinds.count("subheading") == 3
    assert tables["tokens"]["token"].str.len_chars().min() > 0


def test_quarantined_document_gives_only_its_documents_row(seed_page, make_doc, segmenter, ingested_at):
    bad = make_doc("bad", encoding=None, text=None, status="quarantined", error="undecodable bytes")
    out = _build([(bad, None), (make_doc("ok"), seed_page)], segmenter, ingested_at)
    docs = out["documents"]
    assert docs["doc_id"].to_list() == ["bad", "ok"]
    assert docs.row(0, named=True) | {"ingested_at": None} == {
        "doc_id": "bad",
        "source_path": "yangpu/bad.txt",
        "sha256": bad.sha256,
        "bytes": 1000,
        "encoding": None,
        "publication": "杨浦时报",
        "issue_date": dt.date(2019, 12, 10),
        "page_no": 1,
        "section": None,
        "imprint": [],
        "n_chars": None,
        "n_articles": 0,
        "status": "quarantined",
        "error": "undecodable bytes",
        "ingested_at": None,
        "run_id": RUN,
    }
    for name in ("articles", "paragraphs", "sentences", "tokens"):
        assert set(out[name]["doc_id"].to_list()) == {"ok"}, name
    only_bad = _build([(bad, None)], segmenter, ingested_at)
    assert only_bad["documents"].height == 1
    assert all(only_bad[n].is_empty() for n in ("articles", "paragraphs", "sentences", "tokens"))


def test_ok_document_without_page_is_quarantined(make_doc, segmenter, ingested_at):
    out = _build([(make_doc("d1"), None)], segmenter, ingested_at)
    row = out["documents"].row(0, named=True)
    assert row["status"] == "quarantined" and "no page" in row["error"]
    assert out["articles"].is_empty()


@pytest.mark.parametrize(
    "page", [Page(), Page(section="要闻", articles=[])], ids=["no-section", "no-articles"]
)
def test_empty_page_gives_empty_frames_with_schema(page, make_doc, segmenter, ingested_at, tmp_path: Path):
    out = _build([(make_doc("d1"), page)], segmenter, ingested_at)
    assert out["documents"].height == 1 and out["documents"]["n_articles"][0] == 0
    for name in ("articles", "paragraphs", "sentences", "tokens"):
        assert out[name].is_empty() and out[name].schema == TABLE_SCHEMAS[name]
        path = tmp_path / f"{name}.parquet"
        out[name].write_parquet(path)
        assert pl.read_parquet(path).schema == TABLE_SCHEMAS[name]


def test_no_items_and_empty_tables(segmenter, ingested_at):
    out = _build([], segmenter, ingested_at)
    ref = empty_tables()
    for name, schema in TABLE_SCHEMAS.items():
        assert out[name].is_empty() and out[name].schema == schema == ref[name].schema


def test_messy_article_text(make_doc, segmenter, ingested_at):
    art = Article(
        title="标题",
        paragraphs=[
            Paragraph("第一段 有空格 and latin 3.5%。第二句！"),
            Paragraph(""),
            Paragraph("小标题", kind="subheading"),
            Paragraph("emoji😀和𠮷字。“引号。”结尾"),
        ],
    )
    out = _build([(make_doc("m"), Page(articles=[art]))], segmenter, ingested_at)
    body = art.body
    for name, col in (("paragraphs", "text"), ("sentences", "text"), ("tokens", "token")):
        for s, e, text in out[name].select("char_start", "char_end", col).iter_rows():
            assert body[s:e] == text
    assert out["paragraphs"].filter(pl.col("seq") == 2)["n_sentences"][0] == 0
    assert out["sentences"]["text"].to_list()[-2:] == ["“引号。”", "结尾"]


def test_naive_ingested_at_is_refused(seed_page, make_doc, segmenter):
    with pytest.raises(ValueError, match="timezone-aware"):
        build_tables(
            [(make_doc("d1"), seed_page)], segmenter, run_id=RUN, ingested_at=dt.datetime(2024, 1, 1)
        )


def test_page_facts_fill_documents_and_captions_stay_out_of_the_body(make_doc, segmenter, ingested_at):
    from tasks.model import Article, Page, Paragraph

    art = Article(title="标题", reporters=["徐昕联"], contributors=["田明"],
                  paragraphs=[Paragraph("本报讯区委召开会议。")], captions=["图为会议现场。 本报记者 刘梦涛 摄"])
    page = Page(section="要闻", articles=[art], issue_date=dt.date(2019, 12, 10), page_no=2,
                imprint=["责任编辑 / 王瑾"])
    unknown = make_doc("u", issue_date=None, page_no=None)
    known = make_doc("k")  # the path said 2019-12-10, page 1: the path wins over the page header
    out = _build([(unknown, page), (known, page)], segmenter, ingested_at)
    docs = out["documents"].rows_by_key("doc_id", named=True, unique=True)
    assert (docs["u"]["issue_date"], docs["u"]["page_no"]) == (dt.date(2019, 12, 10), 2)
    assert docs["k"]["page_no"] == 1
    assert docs["u"]["imprint"] == ["责任编辑 / 王瑾"]
    row = out["articles"].filter(pl.col("doc_id") == "u").row(0, named=True)
    assert row["contributors"] == ["田明"] and row["captions"] == ["图为会议现场。 本报记者 刘梦涛 摄"]
    assert "摄" not in row["body"] and row["page_no"] == 2


def _plain_rows(items, segmenter) -> tuple[list[tuple], list[tuple], list[int]]:
    """Sentence and token rows, and each article's number of tokens, made one sentence at a time
    (as build_tables made them before it built them in columns for the whole batch)."""
    sentences, tokens, per_article = [], [], []
    for doc, page in items:
        for a_seq, art in enumerate(page.articles, 1):
            article_id, offset, n_art = f"{doc.doc_id}-{a_seq:03d}", 0, 0
            for p_seq, para in enumerate(art.paragraphs, 1):
                paragraph_id = f"{article_id}-p{p_seq:03d}"
                for s_seq, (s, e) in enumerate(split_sentences(para.text), 1):
                    sentence_id = f"{paragraph_id}-s{s_seq:03d}"
                    tagged = segmenter.tag(para.text[s:e])
                    sentences.append((sentence_id, paragraph_id, article_id, doc.doc_id, s_seq,
                                      para.text[s:e], offset + s, offset + e, len(tagged)))
                    start = offset + s
                    for t_seq, (word, pos) in enumerate(tagged, 1):
                        tokens.append((article_id, paragraph_id, sentence_id, doc.doc_id, t_seq, word, pos,
                                       start, start + len(word)))
                        start += len(word)
                    n_art += len(tagged)
                offset += len(para.text) + 1
            per_article.append(n_art)
    return sentences, tokens, per_article


def test_rows_in_columns_match_rows_made_one_sentence_at_a_time(seed_page, make_doc, segmenter, ingested_at):
    """The sentences and tokens tables and the articles' token counts, built in columns for the
    whole batch, are the rows a sentence-by-sentence loop makes: over several documents (one
    quarantined between them), an empty paragraph, an article without paragraphs, text beyond
    the Basic Multilingual Plane."""
    messy = Page(articles=[
        Article(paragraphs=[Paragraph("第一段。第二句！"), Paragraph(""), Paragraph("emoji😀和𠮷字。“引号。”结尾")]),
        Article(title="只有标题"),
        Article(paragraphs=[Paragraph("最后一篇，一句话")]),
    ])
    bad = make_doc("q", encoding=None, text=None, status="quarantined", error="undecodable")
    items = [(make_doc("d1"), seed_page), (bad, None), (make_doc("d2"), messy)]
    out = _build(items, segmenter, ingested_at)
    sentences, tokens, per_article = _plain_rows([items[0], items[2]], segmenter)
    assert out["sentences"].rows() == sentences
    assert out["tokens"].rows() == tokens
    assert out["articles"]["n_tokens"].to_list() == per_article


class _Moving:
    """Moves the first character of a sentence's text to the end of the sentence before it:
    the batch's tokens still concatenate to its sentences, but not sentence by sentence."""

    name = "moving"

    def __init__(self, real, victim: str):
        self.real, self.victim, self.before = real, victim, None

    def tag(self, text: str) -> list[tuple[str, str]]:
        if text == self.victim:
            return self.real.tag(text[1:])
        tagged = self.real.tag(text)
        nxt = self.victim[0]
        return tagged + [(nxt, "x")] if text == self.before else tagged


@pytest.mark.parametrize("how", ["moved", "dropped", "nothing"])
def test_a_segmenter_that_loses_text_is_refused(seed_page, make_doc, segmenter, ingested_at, how):
    """Tokens must concatenate to their own sentence, not only over the batch: a character
    moved to the sentence before, one dropped, or no tokens at all for a sentence fail, naming
    the first sentence whose tokens are wrong."""
    sents = _build([(make_doc("d1"), seed_page)], segmenter, ingested_at)["sentences"]["text"].to_list()
    victim = sents[5]
    if how == "moved":
        seg = _Moving(segmenter, victim)
        seg.before = sents[4]
        first = sents[4]  # the sentence before now has a character too many
    else:
        class seg:  # noqa: N801 - a stand-in segmenter
            name = "lossy"

            @staticmethod
            def tag(text: str) -> list[tuple[str, str]]:
                if text != victim:
                    return segmenter.tag(text)
                return segmenter.tag(text)[1:] if how == "dropped" else []
        first = victim
    with pytest.raises(ValueError, match="lost text") as info:
        _build([(make_doc("d1"), seed_page)], seg, ingested_at)
    assert f"tokens of {first!r} do not" in str(info.value)


def test_other_date_and_quantity_functions_run_sentence_by_sentence(seed_page, make_doc, segmenter, ingested_at):
    """Functions other than the project's own find_dates/find_quantities are called on each
    sentence in turn (find_mentions cannot run them over joined sentences): wrapping the
    project's own that way gives the same dates and quantities tables as the batch pass, and
    only dates (or only quantities) leaves the other table empty."""
    from tasks.extract import find_dates, find_quantities

    calls: list[str] = []

    def dates(text, issue):
        calls.append(text)
        return find_dates(text, issue)

    def quantities(text, tokens=None):
        return find_quantities(text, tokens)

    items = [(make_doc("d1"), seed_page)]
    own = build_tables(items, segmenter, run_id=RUN, ingested_at=ingested_at,
                       extractors=Extractors(dates=find_dates, quantities=find_quantities))
    other = build_tables(items, segmenter, run_id=RUN, ingested_at=ingested_at,
                         extractors=Extractors(dates=dates, quantities=quantities))
    assert calls == own["sentences"]["text"].to_list()  # each sentence, in order
    assert own["dates"].height > 0 and own["quantities"].height > 0
    for table in ("dates", "quantities"):
        assert other[table].equals(own[table]), table
    only = build_tables(items, segmenter, run_id=RUN, ingested_at=ingested_at,
                        extractors=Extractors(dates=dates))
    assert only["dates"].equals(own["dates"]) and only["quantities"].height == 0
