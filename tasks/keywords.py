"""Tokens -> keywords per article: TF-IDF (IDF learned from the warehouse) and TextRank, in bulk.

Pure and bulk: every step works on all articles at once (no per-article Python loop), polars
expressions on the tokens, then numpy and polars on integer codes of the candidates' articles and
words (:class:`_Codes`), whose strings only the best keywords read; the only Python loop is
TextRank's rank iteration, each step of which updates every node of every article's graph
together.

The ``keywords`` table (:data:`KEYWORDS_SCHEMA`) has one row per (article, method, keyword) for
the ``top_k`` best keywords of each article by each method (``"tfidf"``, ``"textrank"``),
``rank`` 1 = best, sorted by ``(article_id, method, rank)``; ties in weight go to the
lexicographically smaller keyword.

Candidates (:func:`candidate_mask`)
    A token is a keyword candidate when, stripped of surrounding whitespace, it is at least two
    characters long, contains a Han character or a Latin letter (so no number, date digit run or
    punctuation, whatever its tag), is not a stop word (:data:`STOPWORDS_PATH`, compared in lower
    case), and its tag is not in :data:`EXCLUDED_POS` (punctuation ``x``/``w``, numerals ``m``/
    ``mq``, and the function-word tags: pronouns, adverbs, prepositions, conjunctions,
    particles, interjections, onomatopoeia). TextRank further keeps only the tags of
    :data:`TEXTRANK_POS` (``ns n vn v``, jieba's default).

TF-IDF (:func:`tfidf_keywords`)
    ``weight = tf * idf`` with ``tf = count of the word in the article / count of all candidate
    words in the article`` (jieba's ``extract_tags`` normalisation, so weights are on jieba's
    scale) and ``idf`` from :func:`learn_idf` (by default learned from the same tokens).

IDF rule (:func:`learn_idf`)
    ``N`` = number of articles, ``df(w)`` = number of articles containing ``w``. jieba's IDF
    (its shipped ``idf.txt``, natural log: ``idf_j(w) = ln(1 / p_j(w))`` with ``p_j(w)`` the
    fraction of jieba's reference documents holding ``w``) is used as a *prior* worth
    ``m = prior_strength`` pseudo-articles::

        idf(w) = ln( (N + m) / (df(w) + m * p_j(w)) ),   p_j(w) = exp(-idf_j(w))

    (words jieba does not know take jieba's median IDF, as jieba itself does): the document
    frequency is smoothed by ``m`` pseudo-articles holding ``w`` at jieba's rate. It is one
    continuous rule for every corpus size, never negative, never dividing by zero:

    * ``N >> m``: the corpus's own ``ln(N / df)``; jieba's prior only separates words of equal
      ``df`` (e.g. the many words seen in one article).
    * ``N << m`` (a handful of articles): words common in jieba's corpus (``p_j >= 1/m``, i.e.
      ``idf_j <= ln m ~ 4.6``, like 我们 3.4 or 发展 3.6) keep about jieba's IDF, while rarer
      ones are capped near ``ln((N + m) / df)``: a few articles cannot tell a rare word from a
      very rare one, so among those ``tf`` decides. At ``N = 1`` the order is jieba's, the
      scale compressed.
    * in between it blends the two; a word found in every article quickly loses weight (over
      19 articles that all say 疫情, its IDF is 1.8 against jieba's 8.1).

    The default ``m`` is :data:`PRIOR_STRENGTH` (100 articles, about a tenth of the dev
    corpus, whose 1,045 articles then weigh ~91 %).

Unseen words (:func:`lookup_idf`)
    When the IDF is learned from the very tokens being scored, every candidate has ``df >= 1``;
    "unseen" happens when an IDF table learned on one corpus (e.g. the whole warehouse) is
    applied to other tokens (e.g. a new batch). Such a word takes jieba's IDF ``idf_j(w)``, and
    a word jieba does not know either takes jieba's median IDF.

TextRank (:func:`textrank_keywords`)
    jieba's ``TextRank`` on our tokens: an undirected graph per article whose nodes are
    candidate words; each pair of candidates at most ``span - 1`` = 4 tokens apart in the
    article's token sequence (punctuation and filtered words count as positions, as in jieba)
    adds 1 to the weight of their edge, both ways. PageRank with damping ``d = 0.85``::

        ws(n) <- (1 - d) + d * sum over edges (n, m, w) of w / out(m) * ws(m)

    starting from ``1 / nodes``, iterated synchronously (Jacobi) on all articles at once for a
    fixed :data:`ITERATIONS` steps (the error shrinks by 0.85 a step: under 1e-3 of the fixed
    point after 50). A fixed count, not "until every node settles", keeps an article's weights
    independent of the other articles it is computed with, so the pipeline can compute them
    part by part. jieba runs 10 in-place (Gauss-Seidel) sweeps instead, which approach the same
    fixed point. Weights are
    normalised per article as jieba does: ``(ws - min/10) / (max - min/10)``, so the best is 1.

Token order: when the input has ``char_start`` (the warehouse's ``tokens`` table) tokens are
ordered by it within an article; otherwise their row order is their order in the article.

Weights are rounded to :data:`WEIGHT_DECIMALS` (9) decimals before ranking, so that
floating-point noise far below any meaningful difference cannot reorder ties (TextRank's weights
are good to ~1e-7 at the default tolerance). Every step is deterministic -- the rank iteration's
sums are sequential cumulative sums, not thread-dependent reductions -- so the same tokens always
give the same table.
"""

from __future__ import annotations

import functools
import importlib.util
import math
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

import numpy as np
import polars as pl

KEYWORDS_SCHEMA = pl.Schema(
    {
        "article_id": pl.Utf8,
        "keyword": pl.Utf8,
        "weight": pl.Float64,
        "rank": pl.Int32,
        "method": pl.Utf8,
    }
)

IDF_SCHEMA = pl.Schema({"token": pl.Utf8, "idf": pl.Float64})

METHODS: tuple[str, ...] = ("textrank", "tfidf")

STOPWORDS_PATH: Path = Path(__file__).resolve().parent / "dicts" / "stopwords.txt"

#: Tags never taken as keywords: punctuation/other (x, w), numerals (m, mq), and function words:
#: pronouns (r*), adverbs (d*), prepositions (p), conjunctions (c), particles (u*), interjections
#: (e), modal particles (y), onomatopoeia (o), quantifiers (q).
EXCLUDED_POS: frozenset[str] = frozenset(
    "x w m mq mg q qe qg r rg rr rz d df dg ad p c u ud ug uj ul uv uz e y yg o".split()
)

#: The tags TextRank keeps (jieba.analyse.textrank's default allowPOS).
TEXTRANK_POS: frozenset[str] = frozenset(("ns", "n", "vn", "v"))

SPAN: int = 5  # jieba's TextRank window: a word and the next 4 tokens
DAMPING: float = 0.85
ITERATIONS: int = 50
PRIOR_STRENGTH: float = 100.0
WEIGHT_DECIMALS: int = 9

# Han ideographs (the \p{Han} script) or a Latin letter, half or full width.
_WORDLIKE = r"[\p{Han}A-Za-zＡ-Ｚａ-ｚ]"
# A character that lowering changes (Unicode's Changes_When_Lowercased): a word without one is
# its own lower case.
_CASED = r"\p{Changes_When_Lowercased}"


# ---------------------------------------------------------------------------------------------
# Resources


@functools.cache
def stopwords(path: Path = STOPWORDS_PATH) -> frozenset[str]:
    """The stop words of ``path`` (one per line, ``#`` comment lines), in lower case."""
    words = set()
    for raw in Path(path).read_text(encoding="utf-8-sig").splitlines():
        w = raw.strip()
        if w and not w.startswith("#"):
            words.add(w.lower())
    return frozenset(words)


def jieba_idf_path() -> Path:
    """The ``idf.txt`` shipped inside the installed jieba package (``jieba/analyse/idf.txt``,
    jieba's ``DEFAULT_IDF``). Found from the package's location without importing
    ``jieba.analyse``, whose import loads that file into a dict of its own."""
    spec = importlib.util.find_spec("jieba")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("jieba is not installed")
    path = Path(spec.origin).resolve().parent / "analyse" / "idf.txt"
    if not path.is_file():
        raise FileNotFoundError(f"jieba's IDF file is missing: {path}")
    return path


@functools.cache
def jieba_idf() -> pl.DataFrame:
    """jieba's IDF table as ``(token, idf)``, one row per word (read once per process).

    The file's lines are ``word idf``, one space between: polars reads it as such (a test holds
    the result to jieba's own line rule, ``line.strip().split(" ")`` with two parts, on the
    installed file), without a Python string per word: 0.29 -> 0.02 s, and some 90 MB less
    memory in the process that learns the IDF."""
    table = pl.read_csv(
        jieba_idf_path(), separator=" ", has_header=False, quote_char=None,
        new_columns=list(IDF_SCHEMA.names()), schema=IDF_SCHEMA,
    )
    return table.unique("token", keep="first", maintain_order=True)


@functools.cache
def jieba_median_idf() -> float:
    """jieba's fallback IDF for unknown words: its ``sorted(values)[len // 2]``."""
    values = jieba_idf()["idf"].sort()
    return float(values[len(values) // 2])


# ---------------------------------------------------------------------------------------------
# Inputs


def _prepare(tokens: pl.DataFrame | pl.LazyFrame, keep: list[str] | None = None) -> pl.DataFrame:
    """One row per token: ``i`` (a global position that follows each article's token order,
    articles contiguous and sorted by id), ``article_id``, ``keyword`` (the token stripped of
    surrounding whitespace), ``pos`` and ``cand`` (:func:`candidate_mask`); then those of the
    columns ``keep`` that ``tokens`` has, as they are."""
    rows, order, cand, _ = _grouped(tokens, keep)
    return rows[order].with_columns(pl.Series("cand", cand[order])).with_row_index("i").with_columns(
        pl.col("i").cast(pl.Int64)
    ).select("i", "article_id", "keyword", "pos", "cand", *rows.columns[3:])


def _grouped(
    tokens: pl.DataFrame | pl.LazyFrame, keep: list[str] | None
) -> tuple[pl.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """The rows of :func:`_prepare` but ``i`` and ``cand`` (``article_id, keyword, pos`` and
    the kept columns), each article's rows together and in order, the articles in any order;
    the positions that put them in :func:`_prepare`'s order (articles sorted by id); and the
    candidate mask and its word half (:func:`_candidates`) of the rows as they are."""
    lf = tokens.lazy()
    names = lf.collect_schema().names()
    kept = [c for c in keep or [] if c in names and c not in ("article_id", "token", "pos", "char_start")]
    missing = {"article_id", "token", "pos"} - set(names)
    if missing:
        raise ValueError(f"tokens lack column(s) {sorted(missing)}")
    by = ["article_id", "char_start"] if "char_start" in names else ["article_id"]
    rows = (
        lf.select(
            pl.col("article_id").cast(pl.Utf8),
            pl.col("token").cast(pl.Utf8),
            pl.col("pos").cast(pl.Utf8),
            *([pl.col("char_start")] if "char_start" in names else []),
            *kept,
        )
        .filter(pl.col("article_id").is_not_null() & pl.col("token").is_not_null())
        .collect(engine="in-memory")
    )
    order = _article_order(rows, by)
    if order is None:  # not grouped by article, each in order: sorted here
        rows = rows.sort(by, maintain_order=True)
        order = np.arange(rows.height, dtype=np.int64)
    rows = rows.select("article_id", pl.col("token").str.strip_chars().alias("keyword"), "pos", *kept)
    return rows, order, *_candidates(rows)


def _article_order(rows: pl.DataFrame, by: list[str]) -> np.ndarray | None:
    """The positions of ``rows.sort(by, maintain_order=True)`` in ``rows`` when ``rows`` hold
    each article together and in order (as the pipeline writes tokens): then only the articles
    are sorted, not the rows. None when they do not."""
    if rows.height == 0:
        return None
    a = pl.col("article_id")
    starts = rows.select((a != a.shift(1)).fill_null(True).arg_true())["article_id"].to_numpy().astype(np.int64)
    heads = rows["article_id"].gather(starts)
    # each article one run: the runs' articles are distinct (a few hundred ids, not every row's)
    if heads.n_unique() != len(starts):
        return None
    if len(by) > 1:  # and in order within its run
        within = rows[by[1]]
        if within.null_count():
            return None
        c = within.to_numpy()
        new_run = np.zeros(len(c), dtype=bool)
        new_run[starts] = True
        if np.any(~new_run[1:] & (c[1:] < c[:-1])):
            return None
    lengths = np.diff(np.append(starts, rows.height))
    runs = pl.DataFrame({"article_id": heads, "start": starts, "n": lengths})
    runs = runs.sort("article_id")  # one run per article: no ties
    start, n = runs["start"].to_numpy(), runs["n"].to_numpy()
    # positions start, start+1, ... start+n-1 of each run, runs in article order
    offsets = np.arange(int(n.sum()), dtype=np.int64) - np.repeat(np.cumsum(n) - n, n)
    return np.repeat(start, n) + offsets


def _candidates(rows: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """:func:`candidate_mask` of prepared ``rows`` (``keyword`` already stripped, ``pos``), and
    its word half: the rows whose word could be a candidate under some tag (long enough,
    word-like, not a stop word). The length on every row, the rest only where it holds."""
    word = pl.col("keyword")
    long = rows.select((word.str.len_chars() >= 2).arg_true()).to_series()
    some = rows.select("keyword", "pos")[long]
    stop = sorted(stopwords())
    got = some.select(
        word.str.contains(_WORDLIKE).alias("wordlike"),
        word.is_in(stop).alias("stop"),
        word.str.contains(_CASED).alias("cased"),
        pl.col("pos").fill_null("x").is_in(sorted(EXCLUDED_POS)).alias("excluded"),
    )
    # Stop words compare in lower case, but lowering every word cost half of this function:
    # only the words lowering changes (a few Latin words among the Chinese) are lowered.
    is_stop = got["stop"].to_numpy().copy()
    cased = got["cased"].arg_true()
    is_stop[cased.to_numpy()] = some["keyword"].gather(cased).str.to_lowercase().is_in(stop).to_numpy()
    ok = got["wordlike"].to_numpy() & ~is_stop
    at = long.to_numpy()
    cand = np.zeros(rows.height, dtype=bool)
    cand[at] = ok & ~got["excluded"].to_numpy()
    words = np.zeros(rows.height, dtype=bool)
    words[at] = ok
    return cand, words


def candidate_mask(stop: Iterable[str] | None = None) -> pl.Expr:
    """True for rows whose ``token``/``pos`` make a keyword candidate (see the module doc)."""
    stop_list = sorted(stopwords() if stop is None else {w.lower() for w in stop})
    word = pl.col("token").str.strip_chars()
    return (
        (word.str.len_chars() >= 2)
        & word.str.contains(_WORDLIKE)
        & ~word.str.to_lowercase().is_in(stop_list)
        & ~pl.col("pos").fill_null("x").is_in(sorted(EXCLUDED_POS))
    )


def _empty(articles: pl.Schema | None = None) -> pl.DataFrame:
    """No keywords: :data:`KEYWORDS_SCHEMA`, with the columns of ``articles`` but
    ``article_id`` after it."""
    schema = {"article_id": pl.Utf8}
    schema.update((c, t) for c, t in (articles or {}).items() if c != "article_id")
    schema.update((c, t) for c, t in KEYWORDS_SCHEMA.items() if c != "article_id")
    return pl.DataFrame(schema=schema)


class _Top(NamedTuple):
    """The best keywords of one method (:func:`_ranked`), sorted by ``(a, rank)``."""

    a: np.ndarray  #: article codes (int64)
    k: np.ndarray  #: keyword codes (int64)
    weight: np.ndarray  #: rounded weights (float64)
    rank: np.ndarray  #: 1..top_k within the article (int32)


def _ranked(a: np.ndarray, k: np.ndarray, weight: np.ndarray, top_k: int) -> _Top:
    """Scored keywords of :func:`_coded` candidates (article code ``a``, keyword code ``k``, one
    ``weight`` each, one row per ``(a, k)``) -> the top ``top_k`` of each article, ranks 1..k
    (more weight first, ties to the smaller keyword: the smaller ``k``), sorted by ``(a, rank)``.

    The weights rounded (polars' ``round``), the rows are ordered by one integer each: ``a``,
    then the rounded weight's count of 1e-9 (descending), then ``k``, in its bits; the order is
    checked to be that of ``(a, weight descending, k)`` (each ``(a, k)`` once, the weights not
    increasing within an article), else (a weight negative, not finite, too large for its
    bits, or two weights one count apart that the count does not separate) the rows are sorted
    by :func:`_ranked_sorting`, as they were. An argsort of 64-bit integers, no polars query:
    a third of the CPU of that sort (its six queries)."""
    w = pl.Series("weight", weight, dtype=pl.Float64).round(WEIGHT_DECIMALS).to_numpy()
    n = len(w)
    if n == 0:
        return _Top(*(np.zeros(0, dtype=t) for t in (np.int64, np.int64, np.float64, np.int32)))
    a = a.astype(np.int64, copy=False)
    k = k.astype(np.int64, copy=False)
    if int(a.min()) >= 0 and int(k.min()) >= 0:
        a_bits, k_bits = int(a.max()).bit_length(), int(k.max()).bit_length()
        m_bits = 62 - a_bits - k_bits
        with np.errstate(invalid="ignore", over="ignore"):
            m = np.rint(w * 10.0**WEIGHT_DECIMALS)
            fits = m_bits > 0 and bool(np.all((m >= 0) & (m < 2.0**m_bits) & ~np.signbit(w)))
        if fits:
            count = m.astype(np.int64)
            key = (a << (m_bits + k_bits)) | ((((1 << m_bits) - 1) - count) << k_bits) | k
            order = np.argsort(key)  # the keys distinct when each (a, k) is once (checked)
            sorted_key, a_s, w_s = key[order], a[order], w[order]
            same = a_s[1:] == a_s[:-1]
            if not (np.any(sorted_key[1:] == sorted_key[:-1]) or np.any(same & (w_s[1:] > w_s[:-1]))):
                start = np.flatnonzero(np.concatenate([[True], ~same]))
                rank = np.arange(1, n + 1, dtype=np.int64) - np.repeat(start, np.diff(np.append(start, n)))
                top = np.flatnonzero(rank <= top_k)
                keep = order[top]
                return _Top(a[keep], k[keep], w[keep], rank[top].astype(np.int32))
    got = _ranked_sorting(a, k, weight, top_k)
    return _Top(*(got[c].to_numpy() for c in ("a", "k", "weight", "rank")))


def _ranked_sorting(a: np.ndarray, k: np.ndarray, weight: np.ndarray, top_k: int) -> pl.DataFrame:
    """:func:`_ranked` as a polars frame ``a, k, weight, rank``, by polars' sort."""
    w = pl.col("weight")
    # A row can rank within the top_k of its article only when its weight is at least the
    # article's top_k-th largest (fewer than top_k rows weigh more), and every row ranked before
    # it (more weight, or as much and a smaller keyword) then passes that test too: so sorting
    # only those rows gives the same ranks 1..top_k as sorting them all, with several times
    # fewer rows to sort. Null and NaN weights, which sort first, are kept whatever.
    least = w.top_k(top_k).min().over("a")
    return (
        pl.DataFrame({"a": a, "k": k, "weight": weight}, schema={"a": pl.Int64, "k": pl.Int64, "weight": pl.Float64})
        .with_columns(w.round(WEIGHT_DECIMALS))
        .filter(w.is_null() | w.is_nan() | (w >= least))
        .sort(["a", "weight", "k"], descending=[False, True, False])
        .with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int32).over("a").alias("rank"))
        .filter(pl.col("rank") <= top_k)
    )


class _Codes(NamedTuple):
    """Keyword candidates (the candidate rows of :func:`_prepare`, in its order) as integers:
    every method counts and sorts these, and reads the strings of its best keywords only."""

    i: np.ndarray  #: positions in the article's tokens (int64)
    a: np.ndarray  #: the article's place among the candidates' articles (sorted by id)
    k: np.ndarray  #: the keyword's place among the candidates' distinct keywords, sorted
    textrank: np.ndarray  #: whether TextRank keeps the tag (:data:`TEXTRANK_POS`)
    #: ``article_id`` and the candidates' other columns of one value per article (``doc_id``),
    #: by ``a``
    articles: pl.DataFrame
    words: pl.Series  #: the distinct keywords, sorted, by ``k``


def _coded(candidates: pl.DataFrame) -> _Codes:
    """:class:`_Codes` of candidate rows (``i, article_id, keyword, pos``; each article's rows
    together, the articles sorted by id, as :func:`_prepare` and :func:`prepared_input` give
    them). A keyword's code is its place among the distinct keywords, sorted (a dense rank):
    sorting the distinct words and looking each row's up costs about half of ranking every row.
    An article's code counts the changes of article before it."""
    words = candidates.select(pl.col("keyword").unique().sort())
    new_article = (pl.col("article_id") != pl.col("article_id").shift(1)).fill_null(True)
    pos = pl.col("pos")
    codes = candidates.join(words.with_row_index("k"), on="keyword", how="left", maintain_order="left").select(
        pl.col("i").cast(pl.Int64),
        (new_article.cum_sum() - 1).cast(pl.Int64).alias("a"),
        pl.col("k").cast(pl.Int64),
        # pos.is_in(TEXTRANK_POS): four comparisons of short strings cost a third of hashing them
        pl.any_horizontal(*(pos == tag for tag in sorted(TEXTRANK_POS))).fill_null(False).alias("textrank"),
    )
    a = codes["a"].to_numpy()
    # each article's first row: where ``a`` changes (a gather of those rows, not a filter of all)
    first = pl.Series(np.flatnonzero(_heads(a)))
    return _Codes(
        codes["i"].to_numpy(), a, codes["k"].to_numpy(), codes["textrank"].to_numpy(),
        articles=candidates.drop("i", "keyword", "pos")[first],
        words=words["keyword"],
    )


def _runs(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of ``keys`` (integers >= 0), sorted, and how often each occurs:
    np.unique(keys, return_counts=True) without its extra passes."""
    # numpy's default sort (its SIMD sort for integers on this hardware): a third of the CPU of
    # polars' sort in one thread on these some 100,000 integers a part (equal integers are
    # indistinguishable, so an unstable sort gives the same array)
    keys = np.sort(keys)
    head = np.flatnonzero(_heads(keys))
    return keys[head], np.diff(head, append=len(keys))


def _heads(values: np.ndarray) -> np.ndarray:
    """Whether each of ``values`` differs from the one before it (the first: True): where the
    runs of equal values begin. One comparison, no difference computed nor array prepended."""
    head = np.empty(len(values), dtype=bool)
    if len(values):
        head[0] = True
        np.not_equal(values[1:], values[:-1], out=head[1:])
    return head


def _table(codes: _Codes, ranked: dict[str, _Top | None]) -> pl.DataFrame:
    """The keywords table (:data:`KEYWORDS_SCHEMA`, sorted) of :func:`_ranked` keywords by
    method, with the other columns of ``codes.articles`` after ``article_id``."""
    parts = [(METHODS.index(method), top) for method, top in ranked.items() if top is not None]
    if not parts:
        return _empty(codes.articles.schema)
    a = np.concatenate([top.a for _, top in parts])
    k = np.concatenate([top.k for _, top in parts])
    weight = np.concatenate([top.weight for _, top in parts])
    rank = np.concatenate([top.rank for _, top in parts]).astype(np.int64)
    m = np.concatenate([np.full(len(top.a), place, dtype=np.int64) for place, top in parts])
    # sorted by (a, m, rank): METHODS are sorted, so their places sort as their names do; each
    # (a, m, rank) is once, so one integer per row (its three parts in its bits) sorts them
    if len(a):
        r_bits, m_bits = int(rank.max()).bit_length(), len(METHODS).bit_length()
        order = np.argsort((a << (r_bits + m_bits)) | (m << r_bits) | rank)
        a, k, weight, rank, m = a[order], k[order], weight[order], rank[order], m[order]
    return codes.articles[pl.Series(a)].with_columns(pl.col("article_id").cast(pl.Utf8)).hstack(
        [
            codes.words.gather(k).alias("keyword"),
            pl.Series("weight", weight, dtype=pl.Float64),
            pl.Series("rank", rank, dtype=pl.Int32),
            pl.Series("method", METHODS, dtype=pl.Utf8).gather(m),
        ]
    )


# ---------------------------------------------------------------------------------------------
# IDF


def learn_idf(
    tokens: pl.DataFrame | pl.LazyFrame, *, prior_strength: float = PRIOR_STRENGTH
) -> pl.DataFrame:
    """IDF of every distinct token of ``tokens`` (columns ``article_id, token``), learned from its
    articles with jieba's IDF as a prior worth ``prior_strength`` articles (rule in the module
    doc). Returns ``(token, idf)`` sorted by token; empty input gives an empty frame."""
    df, n_articles = document_frequencies(tokens)
    return idf_from_frequencies(df, n_articles, prior_strength=prior_strength)


def document_frequencies(tokens: pl.DataFrame | pl.LazyFrame) -> tuple[pl.DataFrame, int]:
    """``(token, df)``: in how many articles of ``tokens`` (columns ``article_id, token``) each
    token occurs, and the number of articles. Frequencies of disjoint sets of articles add up,
    so a warehouse's IDF can be learned part by part (:func:`idf_from_frequencies`)."""
    lf = tokens.lazy().select(pl.col("article_id").cast(pl.Utf8), pl.col("token").cast(pl.Utf8))
    lf = lf.filter(pl.col("article_id").is_not_null() & pl.col("token").is_not_null())
    pairs = lf.unique().collect(engine="in-memory")
    df = pairs.group_by("token").agg(pl.len().cast(pl.Float64).alias("df"))
    return df, pairs["article_id"].n_unique()


def idf_from_frequencies(
    df: pl.DataFrame, n_articles: int, *, prior_strength: float = PRIOR_STRENGTH
) -> pl.DataFrame:
    """The IDF table of :func:`learn_idf` from document frequencies ``(token, df)`` over
    ``n_articles`` articles (summed over parts when they come from several)."""
    if prior_strength <= 0:
        raise ValueError(f"prior_strength must be > 0, got {prior_strength}")
    if df.height == 0:
        return pl.DataFrame(schema=IDF_SCHEMA)
    m = float(prior_strength)
    return (
        df.group_by("token")
        .agg(pl.col("df").sum())
        .join(jieba_idf().rename({"idf": "idf_j"}), on="token", how="left")
        .with_columns(pl.col("idf_j").fill_null(jieba_median_idf()))
        .select(
            "token",
            (
                math.log(n_articles + m) - (pl.col("df") + m * (-pl.col("idf_j")).exp()).log()
            ).alias("idf"),
        )
        .sort("token")
    )


def prepared_frequencies(tokens: pl.DataFrame | pl.LazyFrame) -> tuple[pl.DataFrame, int]:
    """:func:`document_frequencies` of tokens in the form keywords are scored in (stripped of
    surrounding white space), as :func:`keywords_table` learns them, of the words that can be
    candidates only (long enough, word-like, not stop words: whatever their tag), over all the
    articles: the IDF of no other word is ever looked up, and it is the same for these words
    (each word's IDF depends on its own frequency and the number of articles only)."""
    return prepared_input(tokens)[0]


def prepared_input(tokens: pl.DataFrame | pl.LazyFrame) -> tuple[tuple[pl.DataFrame, int], pl.DataFrame]:
    """:func:`prepared_frequencies` of ``tokens`` and their keyword candidates: the rows of
    :func:`_prepare` that are candidates (``i, article_id, keyword, pos``, positions kept), plus
    ``doc_id`` when ``tokens`` has it. :func:`keywords_from_candidates` scores them as
    :func:`keywords_table` scores the tokens, without preparing them again."""
    rows, order, cand, words = _grouped(tokens, ["doc_id"])
    # Only the candidates (some half of the rows) are put in order, with the positions ``i``
    # the rows of _prepare give them: their places in the sorted rows. The frequencies need
    # each article's rows together only, as they are already.
    keep = cand[order]
    candidates = rows[order[keep]].select(
        pl.Series("i", np.flatnonzero(keep), dtype=pl.Int64), "article_id", "keyword", "pos",
        *rows.columns[3:],
    )
    return _grouped_frequencies(rows, words), candidates


def _grouped_frequencies(prepared: pl.DataFrame, words: np.ndarray) -> tuple[pl.DataFrame, int]:
    """:func:`document_frequencies` of those of :func:`_grouped`'s rows (``keyword`` as the
    token) that ``words`` marks, and the number of articles of all the rows.

    Those rows (or :func:`_grouped`'s) hold each article together (no null), so the articles can be
    numbered by counting where the article changes: a word's articles are then counted as
    distinct integers per word, instead of making every (article id, word) pair of strings
    unique first (a batch of 25 pages: some 4 ms instead of 7)."""
    a = pl.col("article_id")
    numbered = prepared.select(
        (a != a.shift(1)).fill_null(True).cum_sum().alias("_article"), pl.col("keyword").alias("token")
    )
    n_articles = int(numbered["_article"].max() or 0)  # numbered from 1
    df = (
        numbered.filter(pl.Series(words))
        .group_by("token")
        .agg(pl.col("_article").n_unique().cast(pl.Float64).alias("df"))
    )
    return df, n_articles


def keywords_from_candidates(
    candidates: pl.DataFrame, *, top_k: int = 10, idf: pl.DataFrame
) -> pl.DataFrame:
    """:func:`keywords_table` of the tokens whose candidates :func:`prepared_input` gave (the
    same rows: every method looks at candidates only, at their positions ``i``). The columns
    of ``candidates`` besides ``i, article_id, keyword, pos`` (``doc_id``: one value per
    article) are kept, after ``article_id``."""
    return _scored(candidates, idf, top_k)


def _learned(prepared: pl.DataFrame) -> pl.DataFrame:
    """:func:`learn_idf` of prepared tokens (their stripped form, as the keywords are)."""
    return learn_idf(prepared.select("article_id", pl.col("keyword").alias("token")))


def lookup_idf(words: pl.Series | Iterable[str], idf: pl.DataFrame | None = None) -> pl.DataFrame:
    """``(token, idf, source)`` for each of ``words`` (in order): the IDF from ``idf`` (a table of
    :func:`learn_idf`; ``source`` "corpus"), else jieba's IDF ("jieba"), else jieba's median IDF
    ("jieba_median")."""
    s = words if isinstance(words, pl.Series) else pl.Series(list(words), dtype=pl.Utf8)
    frame = pl.DataFrame({"token": s.cast(pl.Utf8)})
    table = pl.DataFrame(schema=IDF_SCHEMA) if idf is None else idf.select("token", "idf")
    table = table.rename({"idf": "idf_c"})
    # Each word takes the first row of the table that has it. A table of learn_idf has one row
    # per word: joined as it is, every word then finds at most one row, and the join keeps as
    # many rows as there are words -- the same rows as joining the table made unique first.
    found = frame.join(table, on="token", how="left", maintain_order="left")
    if found.height != frame.height:  # some word is in the table twice or more
        # only the table's rows of these words are made unique (the first of each kept, as when
        # the whole table is): the table can be the warehouse's whole IDF, a few times more words
        table = table.filter(pl.col("token").is_in(frame["token"].implode()))
        found = frame.join(
            table.unique("token", keep="first"), on="token", how="left", maintain_order="left"
        )
    # jieba's table (some 270,000 words) is joined with the words the corpus IDF lacks only:
    # none, when the IDF was learned from the tokens being scored
    # (a process that never meets such a word never loads jieba's table: ~90 MB less)
    if not found["idf_c"].null_count():  # every word from the corpus IDF
        return found.select("token", pl.col("idf_c").alias("idf"), pl.lit("corpus").alias("source"))
    unseen = found.filter(pl.col("idf_c").is_null()).select("token").unique()
    jieba = unseen.join(jieba_idf().rename({"idf": "idf_j"}), on="token", how="inner")
    median = jieba_median_idf()
    return (
        found.join(jieba, on="token", how="left", maintain_order="left")  # the words' order
        .select(
            "token",
            pl.coalesce("idf_c", "idf_j", pl.lit(median)).alias("idf"),
            pl.when(pl.col("idf_c").is_not_null())
            .then(pl.lit("corpus"))
            .when(pl.col("idf_j").is_not_null())
            .then(pl.lit("jieba"))
            .otherwise(pl.lit("jieba_median"))
            .alias("source"),
        )
    )


# ---------------------------------------------------------------------------------------------
# TF-IDF


def _tfidf(codes: _Codes, idf: pl.DataFrame, top_k: int) -> _Top | None:
    bits = len(codes.words).bit_length()  # k < 2 ** bits
    key, count = _runs((codes.a << bits) | codes.k)  # one per (article, keyword), in that order
    a, k = key >> bits, key & ((1 << bits) - 1)
    n = count.astype(np.float64)
    idfs = _word_idfs(codes.words, idf)
    # counts are whole numbers: their sums the same in any order
    return _ranked(a, k, n / np.bincount(a, weights=n)[a] * idfs[k], top_k)


def _word_idfs(words: pl.Series, idf: pl.DataFrame) -> np.ndarray:
    """``lookup_idf(words, idf)["idf"]`` of :class:`_Codes` words (distinct, sorted), as numpy.

    The rows of ``idf`` that hold one of the words, in the table's order, are the words
    themselves, in order, when the table holds each once and is sorted by token (as
    :func:`learn_idf` and :func:`idf_from_frequencies` give it): then their IDFs are the
    words', as the join would find them, for some two thirds of the join's CPU; else the
    words are looked up."""
    rows = idf.filter(pl.col("token").is_in(words.implode()))
    if rows.height == len(words) and rows["token"].equals(words, check_names=False):
        return rows["idf"].to_numpy()
    # every distinct word once: the order is the codes'
    return lookup_idf(words, idf)["idf"].to_numpy()


def tfidf_keywords(
    tokens: pl.DataFrame | pl.LazyFrame, *, top_k: int = 10, idf: pl.DataFrame | None = None
) -> pl.DataFrame:
    """The ``top_k`` TF-IDF keywords of each article (``method`` "tfidf"). ``idf`` defaults to
    :func:`learn_idf` of ``tokens`` itself; words missing from it fall back to jieba's IDF."""
    prepared = _prepare(tokens)
    return _scored(_candidate_rows(prepared), _learned(prepared) if idf is None else idf, top_k, ("tfidf",))


# ---------------------------------------------------------------------------------------------
# TextRank


def _graph(codes: _Codes, span: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The TextRank graphs of all articles as one graph with integer node ids.

    Returns ``nodes`` (``node, a, k``: article and keyword codes; ids ``0..n-1`` in (article,
    keyword) order; a candidate with no neighbour is left out, as jieba leaves it out of its
    graph) and ``edges`` (``s, t, w``: both directions of every co-occurrence, weights summed,
    sorted by ``(s, t)``): the arrays of :func:`_graph_arrays` as frames."""
    a, k, s, t, w = _graph_arrays(codes, span)
    nodes = pl.DataFrame(
        {"node": np.arange(len(a), dtype=np.int64), "a": a, "k": k},
        schema={"node": pl.Int64, "a": pl.Int64, "k": pl.Int64},
    )
    edges = pl.DataFrame({"s": s, "t": t, "w": w}, schema={"s": pl.Int64, "t": pl.Int64, "w": pl.Float64})
    return nodes, edges


def _graph_arrays(
    codes: _Codes, span: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_graph` as numpy arrays: the nodes' article and keyword codes ``a, k`` (the node
    ids their places) and the edges' ``s, t, w``."""
    # (positions, then takes: numpy's boolean indexing costs some 2.5 times as much a column)
    keep = np.flatnonzero(codes.textrank)
    a, k, i = codes.a[keep], codes.k[keep], codes.i[keep]
    if len(a) == 0:
        none = np.zeros(0, dtype=np.int64)
        return none, none, none, none, np.zeros(0, dtype=np.float64)
    # in (article, keyword) order: the keyword code in the low bits, below the article's
    word_key = (a << len(codes.words).bit_length()) | k
    first, node = _first_and_inverse(word_key)
    n = len(first)
    # Candidates are in article order, so those within the window of one are among the next
    # span - 1 candidates: shifted copies of the columns find every pair without a join. Two
    # candidates are near when of one article and less than span positions apart: with the
    # articles' positions set further apart than that (``at``, in article order, never less
    # than the one before across articles), one difference of ``at`` tells both.
    lo, hi = int(i.min()), int(i.max())
    gap = hi - lo + span + 1
    if int(a[-1]) < (2**62 - hi) // gap:  # (``a`` does not decrease: a[-1] is its greatest)
        at = i + a * gap
        nears = [np.flatnonzero(at[d:] - at[:-d] < span) for d in range(1, span)]
    else:  # (positions too large to set apart in 64 bits)
        nears = [np.flatnonzero((a[d:] == a[:-d]) & (i[d:] - i[:-d] < span)) for d in range(1, span)]
    # both directions, by (s, t) (the node ids in 32 bits each): the first of each run of
    # equal pairs and the run's length
    bits = n.bit_length()
    pairs = []
    for d, near in enumerate(nears, 1):  # the candidate at ``near`` and the one d after it
        one_s, one_t = node[near], node[near + d]
        pairs += [(one_s << bits) | one_t, (one_t << bits) | one_s]
    pair, count = _runs(np.concatenate(pairs))
    s, t = pair >> bits, pair & ((1 << bits) - 1)
    # Renumber the nodes that have an edge to 0..n-1, keeping their order (s is sorted: its
    # distinct values are the first of each run; every t is some edge's s).
    used = s[np.flatnonzero(_heads(s))]
    new = np.empty(n, dtype=np.int64)
    new[used] = np.arange(len(used), dtype=np.int64)
    at_used = first[used]
    return a[at_used], k[at_used], new[s], new[t], count.astype(np.float64)


def _first_and_inverse(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(keys, return_index=True, return_inverse=True)[1:] of integers ``keys`` >= 0:
    the place of the first occurrence of each distinct value (values sorted) and each key's
    value's number. Each key and its place made one integer (the place in the low bits), all
    distinct, an unstable sort (numpy's SIMD sort) gives the order np.unique finds with a
    stable argsort, at a fraction of its CPU."""
    m = len(keys)
    if m == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    bits = m.bit_length()  # places < 2 ** bits
    if int(keys.max()) >= 1 << (62 - bits):  # would not fit in 63 bits
        return np.unique(keys, return_index=True, return_inverse=True)[1:]
    both = np.sort((keys.astype(np.int64) << bits) | np.arange(m, dtype=np.int64))
    head = _heads(both >> bits)
    place = both & ((1 << bits) - 1)
    inverse = np.empty(m, dtype=np.int64)
    inverse[place] = np.cumsum(head) - 1
    return place[np.flatnonzero(head)], inverse


#: Widths of the blocks of :func:`_edge_blocks`: a node goes to the block of the least width at
#: least its number of edges. Widths 1 to 4 (half the nodes of dev's parts have at most 4 edges),
#: then 1.5x apart, pad the edges by about a tenth with some fourteen blocks: powers of two pad
#: a quarter (5-10 % more CPU for the steps); widths 1.25x apart pad less, but each block costs
#: a numpy call per step (no less).
_BLOCK_WIDTHS = np.unique(np.concatenate([[1, 2, 3], np.round(4 * 1.5 ** np.arange(95))]).astype(np.int64))


def _edge_blocks(
    s_idx: np.ndarray, t_idx: np.ndarray, coef: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[tuple[int, int, int]]]:
    """The edges of :func:`_pagerank` (sorted by ``s``) laid out for its sums.

    Returns the nodes in order of their number of edges (stably); ``t`` and ``c``, one after
    another the blocks of consecutive nodes of that order, each of (width, nodes of the block)
    holding at ``[k, j]`` the place (in that order) of the ``t`` of the ``k``-th edge of the
    block's ``j``-th node and that edge's ``coef``, or ``0`` and ``0.0`` past the node's last
    edge; and the blocks' ``(lo, width, columns)``, ``lo`` the place of a block's first node in
    that order. Each block's terms (a gather and a product over all blocks at once) summed
    over their first axis,
    numpy adds the rows one after another into the columns' sums: each node's terms in the
    order of its edges. A sum over one column alone is a reduction that numpy adds pairwise
    (another order): a block of one node gets a second column of padding, whose sum lands one
    place past the block's, where the next block's first sum (or a spare place) overwrites it."""
    deg = np.bincount(s_idx, minlength=n)
    first = np.cumsum(deg) - deg  # where each node's edges begin
    # np.argsort(deg, kind="stable"): each node's number of edges and its id made one integer,
    # all distinct, numpy's (SIMD, unstable) sort puts them in that order for a fifth of the CPU
    order = np.sort(deg * n + np.arange(n, dtype=np.int64)) % n if n else np.zeros(0, dtype=np.int64)
    place = np.empty(n, dtype=np.int64)
    place[order] = np.arange(n, dtype=np.int64)
    sorted_deg = deg[order]
    width = _BLOCK_WIDTHS[np.searchsorted(_BLOCK_WIDTHS, sorted_deg)]
    bounds = np.concatenate([[0], np.flatnonzero(np.diff(width)) + 1, [n]]).astype(np.int64)
    lo, nodes = bounds[:-1], np.diff(bounds)
    columns = np.maximum(nodes, 2)  # a block of one node: a second column of padding
    rows = sorted_deg[bounds[1:] - 1]  # the block's greatest number of edges
    size = rows * columns
    at = np.cumsum(size) - size  # where each block begins
    # The k-th edge of the node at place p of block b goes to at[b] + k * columns[b] + p - lo[b]
    # (every edge at once; the rest, padding, stays 0 and 0.0). Edge e of node v is its
    # (e - first[v])-th: e * columns + (at + p - lo - first[v] * columns), the two node terms
    # worked out per node (by place, then by node) and gathered once per edge each.
    step = np.repeat(columns, nodes)  # by place
    base = np.repeat(at - lo, nodes) + np.arange(n, dtype=np.int64)
    step, base = step[place], base[place] - first * step[place]  # by node
    dest = np.arange(len(s_idx), dtype=np.int64) * step[s_idx] + base[s_idx]
    t = np.zeros(int(size.sum()), dtype=np.int64)
    c = np.zeros(len(t))
    t[dest] = place[t_idx]
    c[dest] = coef
    blocks = list(zip(lo.tolist(), rows.tolist(), columns.tolist(), strict=True))
    return order, t, c, blocks


def _pagerank(
    nodes: pl.DataFrame, edges: pl.DataFrame, damping: float, iterations: int
) -> np.ndarray:
    """The TextRank score of each node of :func:`_graph` (``nodes`` need only ``a``, each
    article's nodes together), normalised per article as jieba does.

    All articles' graphs iterate together: they share no edge, so one step of the joint
    iteration is one step of each article's own."""
    return _pagerank_arrays(
        nodes["a"].to_numpy(), edges["s"].to_numpy(), edges["t"].to_numpy(),
        edges["w"].to_numpy().astype(np.float64), damping, iterations,
    )


def _pagerank_arrays(
    article: np.ndarray, s_idx: np.ndarray, t_idx: np.ndarray, w: np.ndarray,
    damping: float, iterations: int,
) -> np.ndarray:
    """:func:`_pagerank` of the nodes' articles and the edges' ``s, t, w`` as numpy arrays."""
    n = len(article)
    out = np.bincount(s_idx, weights=w, minlength=n)  # every node has an edge: out > 0
    coef = w / out[t_idx]  # w(n, m) / out(m), for each edge (n, m)
    # A node's sum must add its edges' terms in the order of its edges, (s, t) order, from 0.0,
    # as np.bincount over the edges did: the same numbers whatever other articles are computed
    # alongside, and the same as before. Laid out by _edge_blocks (the nodes by number of edges,
    # each block's edges place-major, padded with zero terms, which change no sum), each block's
    # sums are one gather, one product and one sum over the places: a quarter less CPU than
    # np.bincount's scattered additions (and its bounds scan) each step.
    order, t, c, blocks = _edge_blocks(s_idx, t_idx, coef, n)
    term = np.empty(len(t))
    sums = np.empty(n + 1)  # a spare place for a block of one node (see _edge_blocks)
    views, at = [], 0  # each block's terms and sums
    for lo, width, columns in blocks:
        views.append((term[at : at + width * columns].reshape(width, columns), sums[lo : lo + columns]))
        at += width * columns
    start = np.flatnonzero(np.diff(article, prepend=article[0] - 1))  # each article's first node
    group = np.repeat(np.arange(len(start)), np.diff(np.append(start, n)))
    # jieba's start: 1 / (nodes of the article); in the nodes' order of the blocks
    ws = (1.0 / np.diff(np.append(start, n)).astype(np.float64))[group][order]
    for _ in range(iterations):
        np.take(ws, t, out=term, mode="clip")  # "clip": no copy of out for errors; none can be
        np.multiply(term, c, out=term)
        for block, block_sums in views:
            np.add.reduce(block, axis=0, out=block_sums)
        # (1 - d) + d * sums, in place (the same sum: addition commutes)
        np.multiply(sums[:n], damping, out=ws)
        np.add(ws, 1.0 - damping, out=ws)
    back = np.empty(n)
    back[order] = ws
    lo = np.minimum.reduceat(back, start)[group] / 10.0
    return (back - lo) / (np.maximum.reduceat(back, start)[group] - lo)


def _textrank(codes: _Codes, top_k: int, span: int = SPAN) -> _Top | None:
    a, k, s, t, w = _graph_arrays(codes, span)
    if len(s) == 0:
        return None
    return _ranked(a, k, _pagerank_arrays(a, s, t, w, DAMPING, ITERATIONS), top_k)


def textrank_keywords(tokens: pl.DataFrame | pl.LazyFrame, *, top_k: int = 10) -> pl.DataFrame:
    """The ``top_k`` TextRank keywords of each article (``method`` "textrank")."""
    return _scored(_candidate_rows(_prepare(tokens)), None, top_k, ("textrank",))


# ---------------------------------------------------------------------------------------------
# The table


def keywords_table(
    tokens: pl.DataFrame | pl.LazyFrame, *, top_k: int = 10, idf: pl.DataFrame | None = None
) -> pl.DataFrame:
    """The ``keywords`` table of ``tokens`` (at least ``article_id, token, pos``; the warehouse's
    ``tokens`` table as it is): the ``top_k`` keywords of every article by TF-IDF and by
    TextRank, with :data:`KEYWORDS_SCHEMA`, sorted by ``(article_id, method, rank)``.

    ``idf`` (a :func:`learn_idf` table) defaults to the IDF learned from ``tokens`` itself."""
    prepared = _prepare(tokens)
    if idf is None and prepared.height:  # (no token: no keyword, nor an IDF to learn)
        idf = _learned(prepared)
    return _scored(_candidate_rows(prepared), idf, top_k)


def _candidate_rows(prepared: pl.DataFrame) -> pl.DataFrame:
    """The candidates among :func:`_prepare`'s rows, as :func:`prepared_input` gives them."""
    return prepared.filter("cand").select("i", "article_id", "keyword", "pos")


def _scored(
    candidates: pl.DataFrame, idf: pl.DataFrame | None, top_k: int, methods: tuple[str, ...] = METHODS
) -> pl.DataFrame:
    """The keywords by ``methods`` (TF-IDF with ``idf``) of the candidate rows of
    :func:`_prepare` (``i, article_id, keyword, pos``), with :data:`KEYWORDS_SCHEMA`, sorted;
    the other columns of ``candidates`` (one value per article) after ``article_id``."""
    if top_k < 1:
        raise ValueError(f"top_k must be >= 1, got {top_k}")
    if candidates.height == 0:
        return _empty(candidates.drop("i", "keyword", "pos").schema)
    codes = _coded(candidates)
    ranked: dict[str, _Top | None] = {}
    if "textrank" in methods:
        ranked["textrank"] = _textrank(codes, top_k)
    if "tfidf" in methods:
        if idf is None:
            raise ValueError("TF-IDF needs an IDF table")
        ranked["tfidf"] = _tfidf(codes, idf, top_k)
    return _table(codes, ranked)
