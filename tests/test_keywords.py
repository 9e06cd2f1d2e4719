"""Keywords (tasks/keywords.py) on real pages: the seed page and the dev pages of 人民日报 2020-02-01,
decoded, laid out and segmented by the pipeline's own steps into a warehouse ``tokens`` table."""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from tasks import keywords as kw
from tasks.decode import discover, read_document
from tasks.layout import parse_page
from tasks.segment import get_segmenter
from tasks.tables import TOKENS_SCHEMA, build_tables

REPO = Path(__file__).resolve().parents[1]
SEED_RAW = REPO / "raw"
DEV_GOLD = Path(os.environ.get("NEWSFLOW_DEV_CORPUS", REPO.parent / "shared" / "corpus" / "dev" / "gold"))
DEV_RAW = DEV_GOLD.parent / "raw"
DAY = DEV_RAW / "人民日报" / "2020-02-01"
WORDLIKE = re.compile(r"[\u4e00-\u9fffA-Za-zＡ-Ｚａ-ｚ]")


def _tables(paths: list[Path], root: Path) -> dict[str, pl.DataFrame]:
    items = []
    for p in paths:
        doc = read_document(p, root)
        items.append((doc, parse_page(doc.text) if doc.status == "ok" and doc.text else None))
    return build_tables(
        items, get_segmenter(), run_id="test", ingested_at=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    )


@pytest.fixture(scope="module")
def seed() -> dict[str, pl.DataFrame]:
    return _tables([SEED_RAW / "000_c9cd572a92cace71.txt"], SEED_RAW)


@pytest.fixture(scope="module")
def day() -> dict[str, pl.DataFrame]:
    if not DAY.is_dir():
        pytest.skip(f"dev corpus not found at {DEV_RAW} (set NEWSFLOW_DEV_CORPUS to its gold/)")
    return _tables(sorted(DAY.glob("*.txt")), DEV_RAW)


@pytest.fixture(scope="module")
def day_keywords(day: dict[str, pl.DataFrame]) -> pl.DataFrame:
    return kw.keywords_table(day["tokens"])


def _epidemic(day: dict[str, pl.DataFrame]) -> list[str]:
    """Articles of the day that say 疫情 at least 5 times."""
    arts = day["articles"].filter(pl.col("body").str.count_matches("疫情") >= 5)
    return arts["article_id"].to_list()


# --- shape --------------------------------------------------------------------------------------


def test_schema_order_and_ranks(day: dict[str, pl.DataFrame], day_keywords: pl.DataFrame) -> None:
    out = day_keywords
    assert out.schema == kw.KEYWORDS_SCHEMA
    assert out.equals(out.sort("article_id", "method", "rank"))
    assert set(out["method"].unique()) == {"tfidf", "textrank"}
    # every article with words has keywords by both methods
    assert out.filter(method="tfidf")["article_id"].n_unique() == day["articles"].height
    assert out.filter(method="textrank")["article_id"].n_unique() == day["articles"].height
    groups = out.group_by("article_id", "method").agg("rank", "weight", "keyword")
    for ranks, weights, words in zip(groups["rank"], groups["weight"], groups["keyword"], strict=True):
        assert ranks.to_list() == list(range(1, len(ranks) + 1))  # 1..k, no gap
        assert 1 <= len(ranks) <= 10
        pairs = list(zip(weights.to_list(), words.to_list(), strict=True))
        assert pairs == sorted(pairs, key=lambda p: (-p[0], p[1]))  # by weight, ties by keyword
        assert len(set(words)) == len(words)
    tr = out.filter(method="textrank")
    assert tr.filter(rank=1)["weight"].to_list() == [1.0] * tr["article_id"].n_unique()  # jieba's max = 1
    assert (tr["weight"] > 0).all() and (out.filter(method="tfidf")["weight"] > 0).all()


def test_top_k_is_k_or_every_candidate(seed: dict[str, pl.DataFrame]) -> None:
    tokens = seed["tokens"]
    n_words = (
        tokens.filter(kw.candidate_mask())
        .group_by("article_id")
        .agg(pl.col("token").str.strip_chars().n_unique().alias("n"))
    )
    for k in (1, 3, 25, 10_000):
        got = kw.tfidf_keywords(tokens, top_k=k).group_by("article_id").agg(pl.len().alias("got"))
        j = n_words.join(got, on="article_id")
        assert j.height == n_words.height
        assert (j["got"] == j["n"].clip(upper_bound=k)).all()
    with pytest.raises(ValueError):
        kw.keywords_table(tokens, top_k=0)


# --- filters ------------------------------------------------------------------------------------


def test_no_stop_word_single_character_number_or_function_word(
    day: dict[str, pl.DataFrame], day_keywords: pl.DataFrame, seed: dict[str, pl.DataFrame]
) -> None:
    stop = kw.stopwords()
    assert {"我们", "进行", "的", "因为"} <= stop  # the list is the one shipped, read as expected
    for tokens, out in ((day["tokens"], day_keywords), (seed["tokens"], kw.keywords_table(seed["tokens"]))):
        words = out["keyword"].to_list()
        assert words
        assert not [w for w in words if w.lower() in stop]
        assert not [w for w in words if len(w) < 2]
        assert not [w for w in words if not WORDLIKE.search(w)]  # no number or punctuation
        # each keyword is a token of its article with an allowed tag (TextRank: ns n vn v)
        tagged = tokens.select("article_id", pl.col("token").alias("keyword"), "pos").unique()
        for method, allowed in (("tfidf", None), ("textrank", kw.TEXTRANK_POS)):
            rows = out.filter(method=method).select("article_id", "keyword").unique()
            ok_pos = ~pl.col("pos").is_in(sorted(kw.EXCLUDED_POS))
            if allowed is not None:
                ok_pos = ok_pos & pl.col("pos").is_in(sorted(allowed))
            ok = rows.join(tagged.filter(ok_pos), on=["article_id", "keyword"], how="semi")
            assert ok.height == rows.height


def test_article_of_only_punctuation(seed: dict[str, pl.DataFrame]) -> None:
    junk = pl.DataFrame(
        {
            "article_id": ["zz-punct"] * 7,
            "token": ["，", "。", "——", "2019", "12", "“", "  "],
            "pos": ["x", "x", "x", "m", "m", "x", "x"],
        }
    )
    alone = kw.keywords_table(junk)
    assert alone.height == 0 and alone.schema == kw.KEYWORDS_SCHEMA
    tokens = seed["tokens"].select("article_id", "token", "pos")
    base = kw.keywords_table(tokens)
    mixed = kw.keywords_table(pl.concat([tokens, junk]))
    assert "zz-punct" not in mixed["article_id"].to_list()
    # TextRank is per article: the other articles are untouched
    assert mixed.filter(method="textrank").equals(base.filter(method="textrank"))
    assert set(mixed["article_id"]) == set(base["article_id"])


def test_empty_input() -> None:
    for empty in (pl.DataFrame(schema=TOKENS_SCHEMA), pl.DataFrame(schema=TOKENS_SCHEMA).lazy()):
        out = kw.keywords_table(empty)
        assert out.height == 0 and out.schema == kw.KEYWORDS_SCHEMA
    minimal = pl.DataFrame(schema={"article_id": pl.Utf8, "token": pl.Utf8, "pos": pl.Utf8})
    assert kw.keywords_table(minimal).schema == kw.KEYWORDS_SCHEMA
    assert kw.learn_idf(minimal).schema == kw.IDF_SCHEMA and kw.learn_idf(minimal).height == 0
    with pytest.raises(ValueError, match="pos"):
        kw.keywords_table(minimal.drop("pos"))


def test_deterministic(seed: dict[str, pl.DataFrame]) -> None:
    tokens = seed["tokens"]
    first = kw.keywords_table(tokens)
    assert first.equals(kw.keywords_table(tokens))
    assert first.equals(kw.keywords_table(tokens.lazy()))
    # row order does not matter when char_start gives the order in the article
    assert first.equals(kw.keywords_table(tokens.sample(fraction=1.0, shuffle=True, seed=7)))


# --- TF-IDF -------------------------------------------------------------------------------------


def test_idf_rule() -> None:
    """idf = ln((N + m) / (df + m * exp(-jieba_idf))), jieba's median for words it lacks."""
    j = dict(kw.jieba_idf().filter(pl.col("token").is_in(["疫情", "敦煌"])).iter_rows())
    tokens = pl.DataFrame(
        {
            "article_id": ["a", "a", "b", "c", "c", "c"],
            "token": ["疫情", "敦煌", "疫情", "疫情", "疫情", "㐀㐁㐂"],
        }
    )
    m = 100.0
    got = dict(kw.learn_idf(tokens, prior_strength=m).iter_rows())
    assert got["疫情"] == pytest.approx(math.log((3 + m) / (3 + m * math.exp(-j["疫情"]))))
    assert got["敦煌"] == pytest.approx(math.log((3 + m) / (1 + m * math.exp(-j["敦煌"]))))
    med = kw.jieba_median_idf()
    assert got["㐀㐁㐂"] == pytest.approx(math.log((3 + m) / (1 + m * math.exp(-med))))
    assert got["疫情"] < got["敦煌"]  # in every article vs in one
    # a weak prior: the corpus's own ln(N/df); a strong one: jieba's IDF
    weak = dict(kw.learn_idf(tokens, prior_strength=1e-9).iter_rows())
    assert weak["疫情"] == pytest.approx(0.0, abs=1e-6)
    assert weak["敦煌"] == pytest.approx(math.log(3), abs=1e-6)
    # one article: jieba's order (the scale compressed below ln(1 + m))
    words = ["我们", "发展", "工作", "疫情", "劳动防护"]
    one = kw.learn_idf(pl.DataFrame({"article_id": ["a"] * 5, "token": words}))
    jo = kw.jieba_idf().filter(pl.col("token").is_in(words))
    assert one.sort("idf")["token"].to_list() == jo.sort("idf")["token"].to_list()
    assert one["idf"].max() < math.log(1 + m)
    strong = dict(kw.learn_idf(tokens, prior_strength=1e9).iter_rows())
    assert strong["疫情"] == pytest.approx(j["疫情"], abs=1e-4)
    assert strong["敦煌"] == pytest.approx(j["敦煌"], abs=1e-4)


def test_jieba_idf_is_the_shipped_file() -> None:
    path = kw.jieba_idf_path()
    assert path.name == "idf.txt" and path.parent.name == "analyse" and path.is_file()
    table = kw.jieba_idf()
    assert table.height > 200_000 and table.schema == kw.IDF_SCHEMA
    import jieba.analyse

    ref = jieba.analyse.TFIDF()
    assert kw.jieba_median_idf() == ref.median_idf
    some = table.sample(50, seed=1)
    assert all(ref.idf_freq[w] == v for w, v in some.iter_rows())


def test_jieba_idf_reads_every_line_as_jieba_does() -> None:
    """The table polars reads is the file's lines as jieba's rule reads them, one by one:
    ``line.strip().split(" ")`` with two parts, the first row of a word kept."""
    tokens, idfs = [], []
    for line in kw.jieba_idf_path().read_text(encoding="utf-8").splitlines():
        parts = line.strip().split(" ")
        if len(parts) == 2:
            tokens.append(parts[0])
            idfs.append(float(parts[1]))
    ref = pl.DataFrame({"token": tokens, "idf": idfs}, schema=kw.IDF_SCHEMA).unique(
        "token", keep="first", maintain_order=True
    )
    assert kw.jieba_idf().equals(ref)



def test_known_words_do_not_load_jiebas_table(seed: dict[str, pl.DataFrame]) -> None:
    """Scoring with an IDF that knows every word (as the pipeline's second pass does) never
    reads jieba's table (some 90 MB in each worker that would)."""
    learned = kw.learn_idf(seed["tokens"])
    kw.jieba_idf.cache_clear()
    kw.jieba_median_idf.cache_clear()
    got = kw.lookup_idf(learned["token"].head(50), learned)
    assert got["source"].unique().to_list() == ["corpus"]
    assert got["idf"].to_list() == learned["idf"].head(50).to_list()
    assert kw.jieba_idf.cache_info().currsize == 0

def test_lookup_idf_takes_a_words_first_row() -> None:
    """A table with a word twice: every word takes its first row, in the words' order (a word
    asked twice twice), as with the table made unique first; a table of one row per word is
    joined as it is (the pipeline's case), to the same rows."""
    table = pl.DataFrame({"token": ["乙乙", "甲甲", "乙乙", "丙丙"], "idf": [2.0, 1.0, 3.0, 4.0]})
    got = kw.lookup_idf(["乙乙", "甲甲", "乙乙", "丙丙"], table)
    assert got.rows() == [("乙乙", 2.0, "corpus"), ("甲甲", 1.0, "corpus"),
                          ("乙乙", 2.0, "corpus"), ("丙丙", 4.0, "corpus")]
    unique = table.unique("token", keep="first", maintain_order=True)
    assert kw.lookup_idf(["乙乙", "甲甲", "乙乙", "丙丙"], unique).equals(got)
    assert kw.lookup_idf(["丙丙", "甲甲"], table).rows() == [("丙丙", 4.0, "corpus"), ("甲甲", 1.0, "corpus")]
    assert kw.lookup_idf([], table).schema == got.schema


def test_unseen_word_falls_back_to_jieba(
    seed: dict[str, pl.DataFrame], day: dict[str, pl.DataFrame]
) -> None:
    learned = kw.learn_idf(seed["tokens"])  # a Shanghai district paper of December 2019
    assert "疫情" not in learned["token"].to_list()
    j = dict(kw.jieba_idf().filter(pl.col("token") == "疫情").iter_rows())["疫情"]
    got = kw.lookup_idf(["疫情", "宪法", "㐀㐁㐂"], learned)
    assert got["token"].to_list() == ["疫情", "宪法", "㐀㐁㐂"]
    assert got["source"].to_list() == ["jieba", "corpus", "jieba_median"]
    assert got["idf"].to_list()[0] == j
    assert got["idf"].to_list()[2] == kw.jieba_median_idf()
    # end to end: scoring the day's tokens with the seed's IDF gives 疫情 tf * jieba's IDF
    aid = _epidemic(day)[0]
    toks = day["tokens"].filter(article_id=aid)
    cand = toks.filter(kw.candidate_mask())["token"].str.strip_chars()
    tf = (cand == "疫情").sum() / cand.len()
    out = kw.tfidf_keywords(toks, top_k=10_000, idf=learned)
    assert out.filter(keyword="疫情")["weight"].item() == pytest.approx(tf * j, abs=1e-9)


def test_word_in_every_article_weighs_less_than_one_of_one_article(day: dict[str, pl.DataFrame]) -> None:
    """Over the day's epidemic articles (all say 疫情), every word repeated in one article only
    weighs more per occurrence than 疫情 in that article, so more in all when at least as
    frequent. The learned IDF decides: jieba's rates 疫情 rarer than many of those words."""
    ids = _epidemic(day)
    assert len(ids) >= 10
    tokens = day["tokens"].filter(pl.col("article_id").is_in(ids))
    learned = dict(kw.learn_idf(tokens).iter_rows())
    j_epi = dict(kw.jieba_idf().filter(pl.col("token") == "疫情").iter_rows())["疫情"]
    assert learned["疫情"] < j_epi
    counts = (
        tokens.filter(kw.candidate_mask())
        .group_by("article_id", pl.col("token").str.strip_chars().alias("keyword"))
        .agg(pl.len().alias("n"))
    )
    only_one = counts.filter(pl.len().over("keyword") == 1, pl.col("n") >= 2)  # one article, repeated
    w = kw.tfidf_keywords(tokens, top_k=10_000).select("article_id", "keyword", "weight")
    epi = (
        counts.filter(keyword="疫情")
        .join(w, on=["article_id", "keyword"])
        .select("article_id", pl.col("n").alias("n_epi"), pl.col("weight").alias("w_epi"))
    )
    assert epi.height == len(ids)
    pairs = only_one.join(w, on=["article_id", "keyword"]).join(epi, on="article_id")
    assert pairs.height >= 50
    assert (pairs["weight"] / pairs["n"] > pairs["w_epi"] / pairs["n_epi"]).all()
    at_least_as_frequent = pairs.filter(pl.col("n") >= pl.col("n_epi"))
    assert at_least_as_frequent.height >= 1
    assert (at_least_as_frequent["weight"] > at_least_as_frequent["w_epi"]).all()
    # with jieba's IDF alone, some of these words would count as less specific than 疫情
    j = pairs.join(kw.jieba_idf().rename({"token": "keyword", "idf": "j"}), on="keyword", how="left")
    assert j.filter(pl.col("j").fill_null(kw.jieba_median_idf()) < j_epi).height >= 10


# --- TextRank -----------------------------------------------------------------------------------


def test_epidemic_words_lead_textrank(day: dict[str, pl.DataFrame], day_keywords: pl.DataFrame) -> None:
    ids = _epidemic(day)
    tr = day_keywords.filter(pl.col("method") == "textrank", pl.col("article_id").is_in(ids))
    best = (
        tr.filter(pl.col("keyword").is_in(["疫情", "防控"]))
        .group_by("article_id")
        .agg(pl.col("rank").min())
    )
    assert best.height == len(ids)  # in the top 10 of every one
    assert (best["rank"] <= 5).all()
    assert (best["rank"] <= 2).sum() >= 0.7 * len(ids)
    # the day's front page article: 疫情 and 防控 are its two best words
    front = day["articles"].filter(pl.col("title").str.contains("打赢疫情防控阻击战"))["article_id"][0]
    top2 = tr.filter(pl.col("article_id") == front, pl.col("rank") <= 2)["keyword"]
    assert set(top2) == {"疫情", "防控"}


def test_textrank_agrees_with_jieba(day: dict[str, pl.DataFrame], day_keywords: pl.DataFrame) -> None:
    """Top 5 of ours against jieba.analyse.textrank on the article's body text, for every article
    of pages 1 and 2 with at least 300 characters. They differ by the tokens (jieba's default
    dictionary without our user dictionary), the stop words (jieba's list has only English
    words), and the rank iteration (jieba stops after 10 in-place sweeps; we converge)."""
    import jieba
    import jieba.analyse

    jieba.setLogLevel(logging.WARNING)
    arts = day["articles"].filter(pl.col("page_no") <= 2, pl.col("n_chars") >= 300)
    assert arts.height >= 10
    overlaps = []
    for aid, body in arts.select("article_id", "body").iter_rows():
        ref = set(jieba.analyse.textrank(body, topK=5))
        ours = set(day_keywords.filter(article_id=aid, method="textrank").filter(pl.col("rank") <= 5)["keyword"])
        overlaps.append(len(ref & ours))
    assert min(overlaps) >= 3
    assert sum(overlaps) / len(overlaps) >= 4.0


def test_textrank_matches_a_hand_computed_graph() -> None:
    """A small article whose graph is worked out by hand: a path 甲甲-乙乙-丙丙 (window 5 over
    positions, so the punctuation between them counts), PageRank's fixed point by algebra."""
    toks = ["甲甲", "，", "，", "，", "乙乙", "，", "，", "，", "丙丙", "，", "，", "，", "，", "丁丁"]
    frame = pl.DataFrame({"article_id": ["a"] * len(toks), "token": toks, "pos": ["n" if len(t) == 2 else "x" for t in toks]})
    out = kw.textrank_keywords(frame)
    # 丁丁 is 5 positions from 丙丙: no edge, left out as jieba leaves it out
    assert out["keyword"].to_list() == ["乙乙", "丙丙", "甲甲"]
    # ends e, middle c: e = 0.15 + 0.85 * c / 2, c = 0.15 + 0.85 * 2 * e
    d = 0.85
    e = (1 - d) * (1 + d / 2) / (1 - d * d)
    c = (1 - d) + 2 * d * e
    lo = e / 10
    w = dict(zip(out["keyword"], out["weight"], strict=True))
    assert w["乙乙"] == 1.0
    # 50 fixed steps (kw.ITERATIONS) come within 0.85 ** 50 (3e-4) of the fixed point
    assert w["甲甲"] == pytest.approx((e - lo) / (c - lo), abs=1e-4)
    assert w["丙丙"] == w["甲甲"]  # a tie: broken by keyword, 丙 (U+4E19) before 甲 (U+7532)



def test_pagerank_sums_each_nodes_edges_in_their_order() -> None:
    """_pagerank lays the edges out in blocks of nodes of about as many edges, place-major
    (kw._edge_blocks), not by node: each node's sum must still add its terms in edge order, as
    np.bincount over the (s, t)-sorted edges does -- bit for bit. Random weights make the order
    of additions show; the hub of 700 neighbours is a block of its own (one node: a sum that
    numpy would add pairwise but for the block's padding column)."""
    rng = np.random.default_rng(3)
    frames = []
    for article, (n, extra) in enumerate([(701, 0), (40, 300), (2, 0)]):
        # a star (node 0 with every other), then random extra edges, both directions, no loop
        s = np.concatenate([np.zeros(n - 1, dtype=np.int64), rng.integers(0, n, extra)])
        t = np.concatenate([np.arange(1, n), rng.integers(0, n, extra)])
        keep = s != t
        frames.append(pl.DataFrame({"a": article, "s": np.concatenate([s[keep], t[keep]]),
                                    "t": np.concatenate([t[keep], s[keep]])}))
    pairs = pl.concat(frames).unique(["a", "s", "t"])
    offset = {0: 0, 1: 701, 2: 741}
    pairs = pairs.with_columns(pl.col("s") + pl.col("a").replace_strict(offset),
                               pl.col("t") + pl.col("a").replace_strict(offset)).sort("s", "t")
    edges = pl.DataFrame({"s": pairs["s"], "t": pairs["t"],
                          "w": rng.integers(1, 9, pairs.height).astype(np.float64) / 7})
    nodes = pl.DataFrame({"node": np.arange(743), "a": np.repeat([0, 1, 2], [701, 40, 2])})
    got = kw._pagerank(nodes, edges, 0.85, 7)
    # the plain form: the edges as they are, sorted by (s, t)
    s_idx, t_idx, w = (edges[c].to_numpy() for c in ("s", "t", "w"))
    coef = w / np.bincount(s_idx, weights=w, minlength=743)[t_idx]
    ws = np.repeat([1 / 701, 1 / 40, 1 / 2], [701, 40, 2])
    for _ in range(7):
        ws = (1.0 - 0.85) + 0.85 * np.bincount(s_idx, weights=coef * ws[t_idx], minlength=743)
    lo = pl.Series(ws).to_frame("ws").with_columns(nodes["a"])
    want = lo.select(((pl.col("ws") - pl.col("ws").min().over("a") / 10.0)
                      / (pl.col("ws").max().over("a") - pl.col("ws").min().over("a") / 10.0)))
    assert np.array_equal(got, want.to_series().to_numpy())


def test_pagerank_of_one_node() -> None:
    """A graph of one node (a word next to itself only): a block of one node, one edge."""
    nodes = pl.DataFrame({"node": [0], "a": [0]})
    edges = pl.DataFrame({"s": [0], "t": [0], "w": [2.0]})
    assert kw._pagerank(nodes, edges, 0.85, 7).tolist() == [1.0]


def test_textrank_graph_spans_articles_apart_and_may_be_empty() -> None:
    """Two articles with the same words get a graph each (no edge across them, nodes numbered
    in (article, keyword) order); an article without TextRank candidates gives no rows."""
    toks = ["乙乙", "甲甲", "乙乙", "甲甲", "丙丙"]
    frame = pl.DataFrame({"article_id": ["b"] * 5 + ["a"] * 5, "token": toks * 2, "pos": ["n"] * 10})
    codes = kw._coded(kw._prepare(frame).filter("cand"))
    nodes, edges = kw._graph(codes, kw.SPAN)
    named = nodes.select("node", codes.articles["article_id"].gather(nodes["a"]), codes.words.gather(nodes["k"]))
    assert named.rows() == [(0, "a", "丙丙"), (1, "a", "乙乙"), (2, "a", "甲甲"),
                            (3, "b", "丙丙"), (4, "b", "乙乙"), (5, "b", "甲甲")]
    assert edges["s"].to_list() == sorted(edges["s"].to_list())
    assert not edges.filter((pl.col("s") < 3) != (pl.col("t") < 3)).height  # none across
    # 乙乙-甲甲 pairs: positions (0,1), (0,3), (1,2), (2,3): 4 co-occurrences each way
    assert edges.filter(s=1, t=2)["w"].to_list() == [4.0] and edges.filter(s=2, t=1)["w"].to_list() == [4.0]
    none = pl.DataFrame({"article_id": ["a", "a"], "token": ["我们", "，"], "pos": ["r", "x"]})
    assert kw.textrank_keywords(none).is_empty()
    assert kw.keywords_table(none).schema == kw.KEYWORDS_SCHEMA


def test_row_order_of_the_tokens_does_not_matter(seed: dict[str, pl.DataFrame]) -> None:
    """Tokens as the pipeline writes them (grouped by article, in order: only the articles are
    sorted) and the same rows shuffled (sorted row by row) give the same prepared rows."""
    tokens = seed["tokens"].select("article_id", "token", "pos", "char_start")
    shuffled = tokens.sample(fraction=1.0, shuffle=True, seed=11)
    assert kw._prepare(shuffled).equals(kw._prepare(tokens))
    backwards = pl.concat([g for _, g in tokens.group_by("article_id", maintain_order=True)][::-1])
    assert kw._prepare(backwards).equals(kw._prepare(tokens))
    assert kw._prepare(backwards.drop("char_start")).equals(kw._prepare(tokens.drop("char_start")))
    prepared = kw._prepare(tokens)
    expected = tokens.sort("article_id", "char_start").with_columns(kw.candidate_mask().alias("cand"))
    assert prepared["article_id"].equals(expected["article_id"])
    assert prepared["cand"].equals(expected["cand"])


def test_candidates_lower_only_the_words_lowering_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    """_candidates lowers only the words with a letter that lowering changes (Unicode's
    Changes_When_Lowercased) to compare them with the stop words: the same mask as lowering
    every word (candidate_mask), Latin, full-width and Greek capitals included."""
    stop = kw.stopwords() | {"gdp", "ａｂｃ", "σας", "ⅻ号"}
    monkeypatch.setattr(kw, "stopwords", lambda: stop)
    words = ["GDP", "gdp", "Gdp", "GDP中国", "ＡＢＣ", "ａｂｃ", "Ａbc", "ΣΑΣ", "σας", "Ⅻ号", "ⅻ号",
             "İx", "中国", "经济", "我们"]
    frame = pl.DataFrame({"article_id": "a", "token": words, "pos": "n"})
    got = kw._prepare(frame)["cand"].to_list()
    assert got == frame.select(kw.candidate_mask(stop)).to_series().to_list()
    assert got[:4] == [False, False, False, True] and got[12:] == [True, True, False]


def test_prepared_frequencies_count_the_words_that_can_be_candidates(day: dict[str, pl.DataFrame]) -> None:
    """The pipeline's document frequencies (prepared_frequencies) hold the words that could be
    candidates under some tag only, each with its frequency over all its rows (whatever their
    tags), and the number of all the articles: the IDF of every candidate is that of
    document_frequencies."""
    tokens = day["tokens"].select("article_id", "token", "pos", "char_start")
    got, n = kw.prepared_frequencies(tokens)
    stripped = tokens.select("article_id", pl.col("token").str.strip_chars())
    every, n_every = kw.document_frequencies(stripped)
    can = stripped.with_columns(pl.lit("n").alias("pos")).filter(kw.candidate_mask())["token"].unique()
    assert n == n_every == tokens["article_id"].n_unique()
    assert 0 < got.height < every.height
    assert got.sort("token").equals(every.filter(pl.col("token").is_in(can.implode())).sort("token"))
    # a candidate word under a tag that is never a candidate counts there too (经济/d in b)
    frame = pl.DataFrame({"article_id": ["a", "a", "b", "b", "c"], "token": ["经济", "发展", " 经济", "我们", "，"],
                          "pos": ["n", "v", "d", "r", "x"]})
    got, n = kw.prepared_frequencies(frame)
    assert n == 3 and sorted(got.rows()) == [("发展", 1.0), ("经济", 2.0)]


def test_candidates_score_as_the_tokens(seed: dict[str, pl.DataFrame], day: dict[str, pl.DataFrame]) -> None:
    """The pipeline's second pass scores the candidates a batch kept (prepared_input) instead of
    preparing the tokens again: same keywords, same frequencies, for any IDF."""
    tokens = seed["tokens"].select("article_id", "doc_id", "token", "pos", "char_start")
    frequencies, candidates = kw.prepared_input(tokens)
    assert frequencies[0].sort("token").equals(kw.prepared_frequencies(tokens)[0].sort("token"))
    assert candidates.columns == ["i", "article_id", "keyword", "pos", "doc_id"]
    # only the candidates are put in order (their positions those of all the rows in order):
    # the rows of _prepare that are candidates, whether the tokens come grouped by article or not
    prepared = kw._prepare(tokens, keep=["doc_id"])
    assert candidates.equals(prepared.filter("cand").drop("cand"))
    assert candidates["i"].to_list() != list(range(candidates.height))  # some rows are not candidates
    for other in (tokens.sample(fraction=1.0, shuffle=True, seed=5), tokens.reverse()):
        assert kw.prepared_input(other)[1].equals(candidates)
        assert kw.prepared_input(other)[0][1] == frequencies[1]
    for idf in (kw.learn_idf(tokens), kw.learn_idf(day["tokens"])):
        expected = kw.keywords_table(tokens.drop("doc_id"), idf=idf)
        assert expected.height > 0
        assert kw.keywords_from_candidates(candidates.drop("doc_id"), idf=idf).equals(expected)
        # doc_id (one per article) kept after article_id, as the warehouse's keywords have it
        docs = tokens.select("article_id", "doc_id").unique()
        with_docs = expected.join(docs, on="article_id", how="left").select(
            "article_id", "doc_id", *expected.columns[1:]).sort("article_id", "method", "rank")
        assert kw.keywords_from_candidates(candidates, idf=idf).equals(with_docs)
    none = tokens.filter(pl.col("pos") == "x")
    assert kw.keywords_from_candidates(kw.prepared_input(none)[1].drop("doc_id"), idf=kw.learn_idf(tokens)).equals(
        kw.keywords_table(none, idf=kw.learn_idf(tokens))
    )
    assert kw.keywords_from_candidates(kw.prepared_input(none)[1], idf=kw.learn_idf(tokens)).columns == [
        "article_id", "doc_id", "keyword", "weight", "rank", "method"]

# --- all dev pages -----------------------------------------------------------------------------


def test_every_dev_article_with_words_gets_keywords() -> None:
    """Over all 218 dev pages at once (speed is measured by bench/run.py, not here)."""
    if not DEV_RAW.is_dir():
        pytest.skip(f"dev corpus not found at {DEV_RAW}")
    tokens = _tables(discover(DEV_RAW), DEV_RAW)["tokens"]
    out = kw.keywords_table(tokens)
    assert out["article_id"].n_unique() >= 0.9 * tokens["article_id"].n_unique()
    per = out.group_by("article_id", "method").agg(pl.col("rank").max().alias("k"), pl.len().alias("n"))
    assert (per["k"] == per["n"]).all() and per["k"].max() == 10


def test_keywords_part_by_part_equal_keywords_of_the_whole() -> None:
    """The pipeline learns the IDF from per-part document frequencies and scores each part with
    it; that must give the keywords of the whole tokens table at once."""
    if not DEV_RAW.is_dir():
        pytest.skip(f"dev corpus not found at {DEV_RAW}")
    tokens = _tables(discover(DEV_RAW)[:30], DEV_RAW)["tokens"]
    docs = tokens["doc_id"].unique().sort().to_list()
    parts = [tokens.filter(pl.col("doc_id").is_in(docs[i::3])) for i in range(3)]
    freqs = [kw.prepared_frequencies(part) for part in parts]
    idf = kw.idf_from_frequencies(pl.concat([f for f, _ in freqs]), sum(n for _, n in freqs))
    by_parts = pl.concat([kw.keywords_table(part, idf=idf) for part in parts]).sort("article_id", "method", "rank")
    whole = kw.keywords_table(tokens)
    assert by_parts.height == whole.height > 0
    assert by_parts.drop("weight").equals(whole.drop("weight"))
    assert (by_parts["weight"] - whole["weight"]).abs().max() < 1e-8


def test_seed_page_keywords_say_what_each_article_is_about(seed: dict[str, pl.DataFrame]) -> None:
    """The seed page's constitution-day article is about 宪法 and 法治 by both methods; the
    other two articles are not."""
    out = kw.keywords_table(seed["tokens"])
    bodies = dict(seed["articles"].select("article_id", "body").iter_rows())
    law = max(bodies, key=lambda a: bodies[a].count("宪法"))
    for method in ("tfidf", "textrank"):
        top = out.filter((pl.col("method") == method) & (pl.col("rank") <= 3))
        assert {"宪法", "法治"} <= set(top.filter(pl.col("article_id") == law)["keyword"]), method
        others = top.filter(pl.col("article_id") != law)
        assert others["article_id"].n_unique() == 2 and not {"宪法", "法治"} & set(others["keyword"])


def _keywords_with_docs(tokens: pl.DataFrame, idf: pl.DataFrame) -> pl.DataFrame:
    """keywords_table of the tokens without doc_id, doc_id joined afterwards: the rows the
    pipeline's keywords table must hold."""
    docs = tokens.select("article_id", "doc_id").unique()
    return (
        kw.keywords_table(tokens.drop("doc_id"), idf=idf)
        .join(docs, on="article_id", how="left")
        .select("article_id", "doc_id", "keyword", "weight", "rank", "method")
        .sort("article_id", "method", "rank")
    )


def test_batch_keywords_of_candidates_equal_keywords_of_part(seed: dict[str, pl.DataFrame]) -> None:
    """The pipeline's second pass on a batch's candidates (doc_id carried through the scoring),
    and on a tokens part, gives the keywords of the tokens with their doc_id joined afterwards;
    and with no token."""
    from flows.batch import KEYWORD_INPUT, keywords_of_candidates, keywords_of_part

    tokens = seed["tokens"].select(*KEYWORD_INPUT)
    idf = kw.learn_idf(tokens)
    want = _keywords_with_docs(tokens, idf)
    got = keywords_of_candidates(kw.prepared_input(tokens)[1], idf)
    assert got.height > 0 and got.equals(want) and keywords_of_part(tokens, idf).equals(want)
    # tokens not grouped by article: the part is put in order first
    assert keywords_of_part(tokens.reverse(), idf).equals(want)
    none = tokens.clear()
    want_none = _keywords_with_docs(none, idf)
    assert keywords_of_candidates(kw.prepared_input(none)[1], idf).equals(want_none)
    assert keywords_of_part(none, idf).equals(want_none)


# ---------------------------------------------------------------------------------------------
# The numpy paths and the fallbacks beside them: each fast path is checked against the code it
# replaced, on dev text, and each fallback is forced with inputs the fast path cannot take.


def _codes(tokens: pl.DataFrame) -> kw._Codes:
    return kw._coded(kw._candidate_rows(kw._prepare(tokens)))


def _tfidf_weights(codes: kw._Codes, idf: pl.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One row per (article, keyword) of ``codes`` and its TF-IDF weight, as _tfidf scores them."""
    bits = len(codes.words).bit_length()
    key, count = kw._runs((codes.a << bits) | codes.k)
    a, k = key >> bits, key & ((1 << bits) - 1)
    n = count.astype(np.float64)
    return a, k, n / np.bincount(a, weights=n)[a] * kw.lookup_idf(codes.words, idf)["idf"].to_numpy()[k]


def _spy(monkeypatch: pytest.MonkeyPatch, name: str) -> list[int]:
    """Counts the calls of ``kw.<name>`` (still called through)."""
    calls: list[int] = []
    real = getattr(kw, name)

    def spy(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(kw, name, spy)
    return calls


def _top_frame(top: kw._Top) -> pl.DataFrame:
    return pl.DataFrame({"a": top.a, "k": top.k, "weight": top.weight, "rank": top.rank},
                        schema={"a": pl.Int64, "k": pl.Int64, "weight": pl.Float64, "rank": pl.Int32})


def _reference_ranks(a: np.ndarray, k: np.ndarray, w: np.ndarray, top_k: int) -> list[tuple]:
    """The ranking rule in plain Python: per article, weight rounded to 9 decimals descending,
    then the smaller keyword code; the first top_k."""
    rows = sorted(zip(a.tolist(), k.tolist(), [round(x, kw.WEIGHT_DECIMALS) for x in w.tolist()]),
                  key=lambda r: (r[0], -r[2], r[1]))
    out, rank, prev = [], 0, None
    for ai, ki, wi in rows:
        rank = rank + 1 if ai == prev else 1
        prev = ai
        if rank <= top_k:
            out.append((ai, ki, rank))
    return out


def test_ranking_by_packed_integers_equals_the_polars_sort(
    day: dict[str, pl.DataFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    """_ranked orders the TF-IDF and TextRank weights of a dev day by one packed integer per
    row (the polars sort is not called) and gives exactly what the polars sort gives; so do
    weights with many ties (ties go to the smaller keyword code)."""
    codes = _codes(day["tokens"])
    a, k, w = _tfidf_weights(codes, kw.learn_idf(day["tokens"]))
    ga, gk, gs, gt, gw = kw._graph_arrays(codes, kw.SPAN)
    pr = kw._pagerank_arrays(ga, gs, gt, gw, kw.DAMPING, kw.ITERATIONS)
    rng = np.random.default_rng(5)
    tied = rng.integers(0, 4, len(a)) / 4.0  # four distinct weights in the whole day
    calls = _spy(monkeypatch, "_ranked_sorting")
    for aa, kk, ww in ((a, k, w), (ga, gk, pr), (a, k, tied)):
        for top_k in (1, 3, 10):
            got = kw._ranked(aa, kk, ww, top_k)
            assert not calls
            want = kw._ranked_sorting(aa, kk, ww, top_k)
            calls.clear()
            assert _top_frame(got).equals(want.select("a", "k", "weight", "rank"))
            assert list(zip(got.a.tolist(), got.k.tolist(), got.rank.tolist())) == _reference_ranks(aa, kk, ww, top_k)


@pytest.mark.parametrize("bad", ["negative", "huge", "a row twice"])
def test_ranking_falls_back_to_the_polars_sort_for_weights_it_cannot_pack(
    seed: dict[str, pl.DataFrame], monkeypatch: pytest.MonkeyPatch, bad: str
) -> None:
    """Rows the packed integer cannot order (a negative weight, one of 1e30 beyond its bits, a
    row given twice: two equal integers) are ranked by the polars sort, and the ranks follow
    the rule all the same."""
    codes = _codes(seed["tokens"])
    a, k, w = _tfidf_weights(codes, kw.learn_idf(seed["tokens"]))
    w = w.copy()
    first = np.flatnonzero(a == a[0])  # the first article's rows
    if bad == "negative":
        w[first[1]] = -0.5
    elif bad == "huge":
        w[first[1]] = 1e30
    else:
        a, k, w = np.append(a, a[first[1]]), np.append(k, k[first[1]]), np.append(w, w[first[1]])
    calls = _spy(monkeypatch, "_ranked_sorting")
    got = kw._ranked(a, k, w, 10)
    assert calls
    assert list(zip(got.a.tolist(), got.k.tolist(), got.rank.tolist())) == _reference_ranks(a, k, w, 10)


def test_idf_read_by_filter_equals_the_join(day: dict[str, pl.DataFrame], monkeypatch: pytest.MonkeyPatch) -> None:
    """_word_idfs reads a sorted, one-row-per-word IDF table by a filter (no lookup_idf call) and
    gives lookup_idf's values; a table out of order, one holding a word twice (its first row
    counts) and one missing words (jieba's IDF fills in) go through lookup_idf, with the same
    values as it gives."""
    codes = _codes(day["tokens"])
    idf = kw.learn_idf(day["tokens"])
    calls = _spy(monkeypatch, "lookup_idf")
    plain = kw._word_idfs(codes.words, idf)
    assert not calls
    assert np.array_equal(plain, kw.lookup_idf(codes.words, idf)["idf"].to_numpy())
    some = idf.filter(pl.col("token").is_in(codes.words.implode())).head(50)
    twice = pl.concat([some.with_columns(pl.col("idf") + 1.0), idf])  # 50 keywords, first row changed
    missing = idf.filter(pl.int_range(pl.len()) % 7 != 0)
    for table in (idf.sample(fraction=1.0, shuffle=True, seed=3), twice, missing):
        calls.clear()
        got = kw._word_idfs(codes.words, table)
        assert calls
        assert np.array_equal(got, kw.lookup_idf(codes.words, table)["idf"].to_numpy())
    moved = kw._word_idfs(codes.words, twice)
    first_words = set(some["token"])
    changed = np.array([w in first_words for w in codes.words.to_list()])
    assert changed.any()
    assert np.array_equal(moved[changed], plain[changed] + 1.0) and np.array_equal(moved[~changed], plain[~changed])


@pytest.mark.parametrize("high", [1_000, 2**40, 2**62])
def test_first_and_inverse_equals_numpy_unique(high: int) -> None:
    """_first_and_inverse gives np.unique's first places and inverse, whether the keys fit
    beside their places in 63 bits (the packed sort) or not (np.unique itself)."""
    rng = np.random.default_rng(high % 97)
    keys = rng.integers(0, high, 5_000, dtype=np.int64)
    keys[::3] = keys[0]  # many repeats
    first, inverse = kw._first_and_inverse(keys)
    want_first, want_inverse = np.unique(keys, return_index=True, return_inverse=True)[1:]
    assert np.array_equal(first, want_first) and np.array_equal(inverse, want_inverse)


def test_graph_of_positions_too_far_apart_to_pack_is_the_same(day: dict[str, pl.DataFrame]) -> None:
    """Positions too far apart for the articles to be set apart in 64 bits (the last article's
    moved by 2**61; the others' as they are, each starting near 0, so that the candidates
    either side of an article's end are near in position) take the pairwise comparison, and the
    TextRank graph is the same as from the positions as they are (only candidates of one
    article are neighbours)."""
    codes = _codes(day["tokens"])
    far = codes._replace(i=np.where(codes.a == codes.a[-1], codes.i + 2**61, codes.i))
    assert int(far.a[-1]) >= (2**62 - int(far.i.max())) // (int(far.i.max()) - int(far.i.min()) + kw.SPAN + 1)
    for got, want in zip(kw._graph_arrays(far, kw.SPAN), kw._graph_arrays(codes, kw.SPAN), strict=True):
        assert np.array_equal(got, want)
    assert len(kw._graph_arrays(codes, kw.SPAN)[2]) > 1000
