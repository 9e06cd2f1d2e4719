"""Articles -> column batches: one polars DataFrame per warehouse table.

Pure and bulk: columns are built as Python lists and turned into one DataFrame per table with
an explicit schema (:data:`TABLE_SCHEMAS`), so an empty batch still has every column and dtype.

Offsets (``char_start``/``char_end``) are Python ``str`` indices (code points) into the
article's ``body`` (= :attr:`tasks.model.Article.body`): ``body[char_start:char_end] == text``
for every paragraph, sentence and token. Ids are derived only from the input::

    article_id   = f"{doc_id}-{seq:03d}"
    paragraph_id = f"{article_id}-p{seq:03d}"
    sentence_id  = f"{paragraph_id}-s{seq:03d}"
    tokens are keyed by (sentence_id, seq)
"""

from __future__ import annotations

import datetime as dt
import gc
import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain
from operator import itemgetter
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from tasks.model import Document, Page
from tasks.segment import Segmenter

if TYPE_CHECKING:
    from tasks.ner import EntityExtractor

DOCUMENTS_SCHEMA = pl.Schema(
    {
        "doc_id": pl.Utf8,
        "source_path": pl.Utf8,
        "sha256": pl.Utf8,
        "bytes": pl.Int64,
        "encoding": pl.Utf8,
        "publication": pl.Utf8,
        "issue_date": pl.Date,
        "page_no": pl.Int32,
        "section": pl.Utf8,
        "imprint": pl.List(pl.Utf8),
        "n_chars": pl.Int32,
        "n_articles": pl.Int32,
        "status": pl.Utf8,
        "error": pl.Utf8,
        "ingested_at": pl.Datetime("us", "UTC"),
        "run_id": pl.Utf8,
    }
)

ARTICLES_SCHEMA = pl.Schema(
    {
        "article_id": pl.Utf8,
        "doc_id": pl.Utf8,
        "seq": pl.Int32,
        "publication": pl.Utf8,
        "issue_date": pl.Date,
        "page_no": pl.Int32,
        "section": pl.Utf8,
        "title": pl.Utf8,
        "kicker": pl.Utf8,
        "subtitle": pl.Utf8,
        "reporters": pl.List(pl.Utf8),
        "contributors": pl.List(pl.Utf8),
        "dateline": pl.Utf8,
        "continued_from_page": pl.Int32,
        "continues_to_page": pl.Int32,
        "subheadings": pl.List(pl.Utf8),
        "captions": pl.List(pl.Utf8),
        "body": pl.Utf8,
        "n_paragraphs": pl.Int32,
        "n_sentences": pl.Int32,
        "n_tokens": pl.Int32,
        "n_chars": pl.Int32,
    }
)

PARAGRAPHS_SCHEMA = pl.Schema(
    {
        "paragraph_id": pl.Utf8,
        "article_id": pl.Utf8,
        "doc_id": pl.Utf8,
        "seq": pl.Int32,
        "kind": pl.Utf8,
        "text": pl.Utf8,
        "char_start": pl.Int32,
        "char_end": pl.Int32,
        "n_sentences": pl.Int32,
    }
)

SENTENCES_SCHEMA = pl.Schema(
    {
        "sentence_id": pl.Utf8,
        "paragraph_id": pl.Utf8,
        "article_id": pl.Utf8,
        "doc_id": pl.Utf8,
        "seq": pl.Int32,
        "text": pl.Utf8,
        "char_start": pl.Int32,
        "char_end": pl.Int32,
        "n_tokens": pl.Int32,
    }
)

TOKENS_SCHEMA = pl.Schema(
    {
        "article_id": pl.Utf8,
        "paragraph_id": pl.Utf8,
        "sentence_id": pl.Utf8,
        "doc_id": pl.Utf8,
        "seq": pl.Int32,
        "token": pl.Utf8,
        "pos": pl.Utf8,
        "char_start": pl.Int32,
        "char_end": pl.Int32,
    }
)

ENTITIES_SCHEMA = pl.Schema(
    {
        "entity_id": pl.Utf8,
        "article_id": pl.Utf8,
        "sentence_id": pl.Utf8,
        "doc_id": pl.Utf8,
        "seq": pl.Int32,
        "text": pl.Utf8,
        "label": pl.Utf8,
        "char_start": pl.Int32,
        "char_end": pl.Int32,
        "source": pl.Utf8,
        "role": pl.Utf8,
    }
)

def _sentence_mention_schema(key: str, columns: dict[str, pl.DataType]) -> pl.Schema:
    """A table of mentions of one sentence each: its id, where it is, its text and span, then
    its own ``columns``."""
    return pl.Schema(
        {
            key: pl.Utf8,
            "article_id": pl.Utf8,
            "sentence_id": pl.Utf8,
            "doc_id": pl.Utf8,
            "seq": pl.Int32,
            "text": pl.Utf8,
            "char_start": pl.Int32,
            "char_end": pl.Int32,
            **columns,
        }
    )


DATES_SCHEMA = _sentence_mention_schema(
    "date_id",
    {"date_start": pl.Date, "date_end": pl.Date, "granularity": pl.Utf8, "resolved": pl.Boolean},
)

QUANTITIES_SCHEMA = _sentence_mention_schema(
    "quantity_id",
    {"value": pl.Float64, "value_max": pl.Float64, "unit": pl.Utf8, "kind": pl.Utf8, "counted": pl.Utf8},
)

#: Every table's polars schema, in write order (parents before children).
TABLE_SCHEMAS: dict[str, pl.Schema] = {
    "documents": DOCUMENTS_SCHEMA,
    "articles": ARTICLES_SCHEMA,
    "paragraphs": PARAGRAPHS_SCHEMA,
    "sentences": SENTENCES_SCHEMA,
    "tokens": TOKENS_SCHEMA,
    "entities": ENTITIES_SCHEMA,
    "dates": DATES_SCHEMA,
    "quantities": QUANTITIES_SCHEMA,
}


@dataclass(frozen=True)
class Extractors:
    """What finds entities, dates and quantities in sentences (each may be None: that table
    stays empty). :meth:`default` gives the project's own, built once per process."""

    entities: EntityExtractor | None = None
    dates: Callable[[str, dt.date | None], list] | None = None
    quantities: Callable[..., list] | None = None

    @classmethod
    def default(cls) -> Extractors:
        """Entities (with the CRF model unless ``NEWSFLOW_NER_MODEL=0``), dates, quantities."""
        import os

        from tasks.extract import find_dates, find_quantities
        from tasks.ner import get_extractor

        use_model = os.environ.get("NEWSFLOW_NER_MODEL", "1").strip().lower() not in ("0", "false", "no", "off")
        entities = get_extractor() if use_model else get_extractor(model=None)
        return cls(entities=entities, dates=find_dates, quantities=find_quantities)

    @classmethod
    def off(cls) -> Extractors:
        return cls()


@dataclass
class _Sentence:
    """A sentence as the extractors see it, with where it lies."""

    article_id: str
    sentence_id: str
    doc_id: str
    offset: int  # of the sentence in the article's body
    text: str
    tagged: list[tuple[str, str]]
    issue_date: dt.date | None

SENTENCE_END = "。！？!?；…"
CLOSERS = "”’）」』"
_SENTENCE = re.compile(f"[^{SENTENCE_END}]*(?:[{SENTENCE_END}]+[{CLOSERS}]*)?")


def empty_tables() -> dict[str, pl.DataFrame]:
    """Zero-row frames with every table's full schema."""
    return {name: pl.DataFrame(schema=schema) for name, schema in TABLE_SCHEMAS.items()}


def split_sentences(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` spans of the sentences of a paragraph.

    A sentence ends after a run of ``。！？!?；…`` plus any closing quotes/brackets
    (``”’）」』``) that follow it; the spans tile ``text`` exactly and none is empty."""
    spans, start = [], 0
    for sentence in sentence_texts(text):
        spans.append((start, start + len(sentence)))
        start += len(sentence)
    return spans


def sentence_texts(text: str) -> list[str]:
    """The sentences of a paragraph (those of :func:`split_sentences`), as strings.

    The pattern matches something at any place of ``text`` but its end (a run of
    ``[^。！？!?；…]`` or, failing that, of ``[。！？!?；…]``), so its successive matches tile the
    text: the strings are enough, without a match object each (half the time)."""
    return [sentence for sentence in _SENTENCE.findall(text) if sentence]


def _utc(ts: dt.datetime) -> dt.datetime:
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise ValueError("ingested_at must be timezone-aware (UTC)")
    return ts.astimezone(dt.timezone.utc)


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for a while (back on after, if it was on).

    :func:`build_tables` keeps every token of the batch alive until it returns (its tagged
    pairs, for the extractors): some 80,000 tuples and 3,500 lists per 25 pages, and the
    extractors make some hundreds of thousands of small objects more (matches, entities). Every
    700 allocations start a collection, and every so often one that walks every object of the
    batch, never finding garbage in them. What the build drops is freed by reference counting
    as before; the few objects in cycles (a few hundred at a worker's first batch, none after)
    wait for the collector's next run, after the build's own objects are gone."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


@_cyclic_gc_paused()
def build_tables(
    items: Sequence[tuple[Document, Page | None]],
    segmenter: Segmenter,
    *,
    run_id: str,
    ingested_at: dt.datetime,
    extractors: Extractors | None = None,
    timings: dict[str, float] | None = None,
) -> dict[str, pl.DataFrame]:
    """Turn decoded documents and their laid-out pages into the warehouse tables.

    A quarantined document (or an ok one without a page, which is quarantined here) yields
    only its ``documents`` row. Entities, dates and quantities come from ``extractors``
    (default: :meth:`Extractors.default`), run over every sentence of the batch at once.
    Returns ``{table name: DataFrame}`` in :data:`TABLE_SCHEMAS` order, each with exactly that
    schema. ``timings``, when given, gets the seconds spent in ``segment`` (the segmenter),
    ``extract`` (the extractors) and ``tables`` (the rest: rows and frames) added to it."""
    started = time.perf_counter()
    ts = _utc(ingested_at)
    extractors = Extractors.default() if extractors is None else extractors
    bylines: list[tuple[str, str, list[str], list[str]]] = []  # article_id, doc_id, reporters, contributors
    d: dict[str, list] = {c: [] for c in DOCUMENTS_SCHEMA}
    a: dict[str, list] = {c: [] for c in ARTICLES_SCHEMA}
    p: dict[str, list] = {c: [] for c in PARAGRAPHS_SCHEMA}
    p_dates: list[dt.date | None] = []  # each paragraph's issue date (for its sentences)
    texts: list[str] = []  # every sentence of the batch, paragraph after paragraph

    for doc, page in items:
        status, error = doc.status, doc.error
        if status == "ok" and page is None:
            status, error = "quarantined", "no page: layout produced nothing for this document"
        keep = status == "ok" and page is not None
        d["doc_id"].append(doc.doc_id)
        d["source_path"].append(doc.source_path)
        d["sha256"].append(doc.sha256)
        d["bytes"].append(doc.n_bytes)
        d["encoding"].append(doc.encoding)
        d["publication"].append(doc.publication)
        # the path or sidecar wins; else what the page header states
        issue_date = doc.issue_date or (page.issue_date if keep and page is not None else None)
        page_no = doc.page_no or (page.page_no if keep and page is not None else None)
        d["issue_date"].append(issue_date)
        d["page_no"].append(page_no)
        d["section"].append(page.section if keep and page is not None else None)
        d["imprint"].append(list(page.imprint) if keep and page is not None else [])
        d["n_chars"].append(len(doc.text) if doc.text is not None else None)
        d["n_articles"].append(len(page.articles) if keep and page is not None else 0)
        d["status"].append(status)
        d["error"].append(error)
        d["ingested_at"].append(ts)
        d["run_id"].append(run_id)
        if not keep or page is None:
            continue

        doc_id = doc.doc_id
        for a_seq, art in enumerate(page.articles, 1):
            article_id = f"{doc_id}-{a_seq:03d}"
            body = art.body
            n_sent_art = 0
            offset = 0
            for p_seq, para in enumerate(art.paragraphs, 1):
                in_para = sentence_texts(para.text)
                p["paragraph_id"].append(f"{article_id}-p{p_seq:03d}")
                p["article_id"].append(article_id)
                p["doc_id"].append(doc_id)
                p["seq"].append(p_seq)
                p["kind"].append(para.kind)
                p["text"].append(para.text)
                p["char_start"].append(offset)
                p["char_end"].append(offset + len(para.text))
                p["n_sentences"].append(len(in_para))
                p_dates.append(issue_date)
                texts += in_para
                n_sent_art += len(in_para)
                offset += len(para.text) + 1  # the "\n" that joins paragraphs in Article.body

            a["article_id"].append(article_id)
            a["doc_id"].append(doc_id)
            a["seq"].append(a_seq)
            a["publication"].append(doc.publication)
            a["issue_date"].append(issue_date)
            a["page_no"].append(page_no)
            a["section"].append(page.section)
            a["title"].append(art.title)
            a["kicker"].append(art.kicker)
            a["subtitle"].append(art.subtitle)
            a["reporters"].append(list(art.reporters))
            a["contributors"].append(list(art.contributors))
            a["dateline"].append(art.dateline)
            a["continued_from_page"].append(art.continued_from_page)
            a["continues_to_page"].append(art.continues_to_page)
            a["subheadings"].append(art.subheadings)
            a["captions"].append(list(art.captions))
            a["body"].append(body)
            a["n_paragraphs"].append(len(art.paragraphs))
            a["n_sentences"].append(n_sent_art)
            a["n_tokens"].append(0)  # counted below, once the sentences are tagged
            a["n_chars"].append(len(body))
            bylines.append((article_id, doc_id, list(art.reporters), list(art.contributors)))

    t0 = time.perf_counter()
    tagged = list(map(segmenter.tag, texts))
    tag_seconds = time.perf_counter() - t0
    # every token of the batch, sentence after sentence: words and tags in two columns
    pairs = list(chain.from_iterable(tagged))
    tok_words = pl.Series(list(map(itemgetter(0), pairs)), dtype=pl.Utf8)
    tok_pos = list(map(itemgetter(1), pairs))
    del pairs
    lengths = tok_words.str.len_chars().to_numpy().astype(np.int64)
    n_tokens = np.fromiter(map(len, tagged), np.int64, len(tagged))
    _check_lossless(segmenter.name, texts, tagged, n_tokens, tok_words, lengths)
    frames = {
        "documents": pl.DataFrame(d, schema=DOCUMENTS_SCHEMA),
        "paragraphs": pl.DataFrame(p, schema=PARAGRAPHS_SCHEMA),
    }
    a["n_tokens"] = _sums(n_tokens, a["n_sentences"]).tolist()  # (sentences come article after article)
    frames["articles"] = pl.DataFrame(a, schema=ARTICLES_SCHEMA)
    frames["sentences"], sentences = _sentence_rows(p, p_dates, texts, tagged, n_tokens)
    t0 = time.perf_counter()
    found = find_mentions(sentences, extractors)
    extract_seconds = time.perf_counter() - t0
    frames.update(mention_frames(frames["sentences"], found, bylines))
    frames["tokens"] = token_frame(frames["sentences"], tok_words, lengths, tok_pos)
    frames = {name: frames[name] for name in TABLE_SCHEMAS}  # in table order
    if timings is not None:
        total = time.perf_counter() - started
        for stage, seconds in (("segment", tag_seconds), ("extract", extract_seconds),
                               ("tables", total - tag_seconds - extract_seconds)):
            timings[stage] = timings.get(stage, 0.0) + seconds
    return frames


def _sums(values: np.ndarray, counts: Sequence[int]) -> np.ndarray:
    """Sums of consecutive runs of ``values``: the first ``counts[0]`` of them, the next
    ``counts[1]``, and so on."""
    total = np.concatenate(([0], np.cumsum(values)))
    bounds = np.concatenate(([0], np.cumsum(np.asarray(counts, dtype=np.int64))))
    return total[bounds[1:]] - total[bounds[:-1]]


def _sentence_rows(
    p: dict[str, list],
    issue_dates: list[dt.date | None],
    texts: list[str],
    tagged: list[list[tuple[str, str]]],
    n_tokens: np.ndarray,
) -> tuple[pl.DataFrame, list[_Sentence]]:
    """The ``sentences`` table and the sentences as the extractors see them, from the columns of
    the ``paragraphs`` table (``p``), each paragraph's issue date, and its sentences (``texts``,
    ``p["n_sentences"]`` of them each, paragraph after paragraph) with their tokens.

    In columns, for the whole batch at once: a sentence's ids repeat its paragraph's, ``seq``
    counts within the paragraph, and its span starts where the sentences before it in the
    paragraph end (they tile it). Python works per sentence only to make its id and the
    extractors' record of it."""
    per_para = np.asarray(p["n_sentences"], dtype=np.int64)
    rows = np.repeat(np.arange(len(per_para)), per_para)  # its paragraph's row
    first = np.repeat(np.cumsum(per_para) - per_para, per_para)  # its paragraph's first sentence
    lengths = np.fromiter(map(len, texts), np.int64, len(texts))
    before = np.cumsum(lengths) - lengths  # characters of the batch's sentences before it
    start = np.asarray(p["char_start"], dtype=np.int64)[rows] + before - before[first]
    seq = (np.arange(len(texts)) - first + 1).tolist()

    def repeated(values: list) -> list:
        return np.array(values, dtype=object)[rows].tolist()

    paragraph_id, article_id, doc_id = (repeated(p[c]) for c in ("paragraph_id", "article_id", "doc_id"))
    sentence_id = list(map("{}-s{:03d}".format, paragraph_id, seq))
    offsets = start.tolist()
    frame = pl.DataFrame(
        {
            "sentence_id": sentence_id,
            "paragraph_id": paragraph_id,
            "article_id": article_id,
            "doc_id": doc_id,
            "seq": seq,
            "text": texts,
            "char_start": offsets,
            "char_end": (start + lengths).tolist(),
            "n_tokens": n_tokens.tolist(),
        },
        schema=SENTENCES_SCHEMA,
    )
    extracted = list(
        map(_Sentence, article_id, sentence_id, doc_id, offsets, texts, tagged, repeated(issue_dates))
    )
    return frame, extracted


def _check_lossless(
    name: str, texts: list[str], tagged: list[list[tuple[str, str]]], n: np.ndarray, words: pl.Series,
    lengths: np.ndarray,
) -> None:
    """Raise ValueError, naming the first such sentence, when the tokens ``tagged`` of a
    sentence of ``texts`` do not concatenate back to it. ``n``: each sentence's number of
    tokens; ``words`` and ``lengths``: every token and its length, sentence after sentence.

    Checked for the whole batch at once: the tokens concatenate to the sentences' concatenation
    and each sentence's tokens are as long as it, so each sentence's tokens start where it
    starts and concatenate to it. Only when that fails are the sentences looked at one by one."""
    if n.all() and not words.null_count():  # (a sentence is never empty: no token loses it)
        ends = np.cumsum(lengths)[np.cumsum(n) - 1]  # where each sentence's tokens end
        sentence_ends = np.cumsum(np.fromiter(map(len, texts), np.int64, len(texts)))
        if np.array_equal(ends, sentence_ends) and words.str.join("").item() == "".join(texts):
            return
    for sent, tokens in zip(texts, tagged):
        if "".join(w for w, _ in tokens) != sent:
            raise ValueError(
                f"segmenter {name!r} lost text: tokens of {sent!r} do not concatenate back to it"
            )


def token_frame(sentences: pl.DataFrame, tokens: pl.Series, lengths: np.ndarray, pos: list[str]) -> pl.DataFrame:
    """The ``tokens`` table from the ``sentences`` table and the tokens of all its sentences in
    order (``sentences.n_tokens`` of them each), with their lengths in characters, built in
    columns: each token's ids repeat its sentence's, ``seq`` counts within the sentence, and
    offsets are the sentence's start plus the lengths of the tokens before it."""
    # the integer columns in numpy and the ids in one gather (each polars call costs some
    # 0.1 ms of its own: a few dozen of them here before)
    n = sentences["n_tokens"].to_numpy().astype(np.int64)
    which = np.repeat(np.arange(sentences.height, dtype=np.int64), n)  # its sentence's row
    first = np.repeat(np.cumsum(n) - n, n)  # index of its sentence's first token
    before = np.cumsum(lengths) - lengths  # characters of the batch's tokens before this one
    start = sentences["char_start"].to_numpy().astype(np.int64)[which] + before - before[first]
    ids = pl.col("article_id", "paragraph_id", "sentence_id", "doc_id")
    out = sentences.select(ids.gather(which)).with_columns(
        pl.Series("seq", np.arange(len(tokens), dtype=np.int64) - first + 1),
        tokens.alias("token"),
        pl.Series("pos", pos, dtype=pl.Utf8),
        pl.Series("char_start", start),
        pl.Series("char_end", start + lengths),
    )
    return out.cast(dict(TOKENS_SCHEMA))  # Int64 -> Int32, as strict as before


ENTITY_CHUNK = 2000  # sentences per call of the entity extractor


@dataclass
class _Found:
    """What the extractors found in a batch's sentences: per mention the row of its sentence
    (in the ``sentences`` table), its order in the sentence, its text and span in the sentence,
    then the table's own columns."""

    sentence: list[int]
    seq: list[int]
    text: list[str]
    start: list[int]
    end: list[int]
    own: dict[str, list]


def _found(*own: str) -> _Found:
    return _Found([], [], [], [], [], {c: [] for c in own})


def find_mentions(sentences: Sequence[_Sentence], extractors: Extractors) -> dict[str, _Found]:
    """Entities, dates and quantities of a batch's sentences (the extractors' work only; the
    rows are made by :func:`mention_frames`)."""
    found = {
        "entities": _found("label", "source"),
        "dates": _found("date_start", "date_end", "granularity", "resolved"),
        "quantities": _found("value", "value_max", "unit", "kind", "counted"),
    }

    def add_all(f: _Found, rows: list[int], mentions: list) -> None:
        """The mentions (of sentence rows ``rows``, in order) in ``f``'s shared columns: a
        pass per column, not a call per sentence."""
        f.sentence += rows
        prev, k = -1, 0
        for r in rows:  # the order of each mention in its sentence
            k = k + 1 if r == prev else 1
            prev = r
            f.seq.append(k)
        f.text += [m.text for m in mentions]
        f.start += [m.start for m in mentions]
        f.end += [m.end for m in mentions]

    if extractors.entities is not None:
        f = found["entities"]
        # in chunks: the extractor's per-character arrays stay small whatever the batch size
        for i in range(0, len(sentences), ENTITY_CHUNK):
            chunk = sentences[i : i + ENTITY_CHUNK]
            got = extractors.entities.extract([x.text for x in chunk], [x.tagged for x in chunk])
            ents = list(chain.from_iterable(got))
            add_all(f, [row for row, e in enumerate(got, i) for _ in e], ents)
            f.own["label"] += [e.label for e in ents]
            f.own["source"] += [e.source for e in ents]
    fd, fq = found["dates"], found["quantities"]
    ds, de, gran, res = (fd.own[c] for c in ("date_start", "date_end", "granularity", "resolved"))
    val, vmax, unit, kind, counted = (fq.own[c] for c in ("value", "value_max", "unit", "kind", "counted"))
    dates, quantities = extractors.dates, extractors.quantities
    if dates is None and quantities is None:
        return found
    from tasks.extract import find_dates, find_in_sentences, find_quantities, sentence_by_sentence

    texts = [x.text for x in sentences]
    issue_dates = [x.issue_date for x in sentences]
    tagged = [x.tagged for x in sentences]
    if dates in (None, find_dates) and quantities in (None, find_quantities):
        # the project's own: over all the sentences at once (see find_in_sentences)
        date_rows, got_d, qty_rows, got_q = find_in_sentences(
            texts, issue_dates, tagged, dates=dates is not None, quantities=quantities is not None)
    else:  # others' functions, sentence by sentence
        date_rows, got_d, qty_rows, got_q = sentence_by_sentence(texts, issue_dates, tagged, dates, quantities)

    add_all(fd, date_rows, got_d)
    ds += [m.date_start for m in got_d]
    de += [m.date_end for m in got_d]
    gran += [m.granularity for m in got_d]
    res += [bool(m.resolved) for m in got_d]
    add_all(fq, qty_rows, got_q)
    val += [float(m.value) for m in got_q]
    vmax += [None if m.value_max is None else float(m.value_max) for m in got_q]
    unit += [m.unit for m in got_q]
    kind += [m.kind for m in got_q]
    counted += [m.counted for m in got_q]
    return found


#: Per mention table: its key column and the letter of its ids (``{sentence_id}-e001``).
_MENTION_KEYS = {"entities": ("entity_id", "e"), "dates": ("date_id", "d"), "quantities": ("quantity_id", "q")}


def mention_frames(
    sentences: pl.DataFrame,
    found: dict[str, _Found],
    bylines: Sequence[tuple[str, str, list[str], list[str]]],
) -> dict[str, pl.DataFrame]:
    """The ``entities``, ``dates`` and ``quantities`` tables of a batch, built in columns from
    the ``sentences`` table and what :func:`find_mentions` found: a mention's ids repeat its
    sentence's, its key is ``f"{sentence_id}-{letter}{seq:03d}"`` and its offsets are the
    sentence's start plus the extractor's offsets in the sentence. Byline names become PERSON
    rows (role reporter/contributor, no sentence, no span) after an article's sentence entities."""
    out: dict[str, pl.DataFrame] = {}
    for name, f in found.items():
        schema = TABLE_SCHEMAS[name]
        key, letter = _MENTION_KEYS[name]
        which = pl.Series(f.sentence, dtype=pl.Int64)
        sent = sentences.select("sentence_id", "article_id", "doc_id", "char_start")[which]
        seq = pl.Series(f.seq, dtype=pl.Int64)
        base = sent["char_start"].cast(pl.Int64)
        frame = pl.DataFrame({
            key: sent.select(pl.concat_str(
                [pl.col("sentence_id"), pl.lit(f"-{letter}"), seq.cast(pl.Utf8).str.zfill(3)]
            )).to_series(),
            "article_id": sent["article_id"],
            "sentence_id": sent["sentence_id"],
            "doc_id": sent["doc_id"],
            "seq": seq,
            "text": pl.Series(f.text, dtype=pl.Utf8),
            "char_start": base + pl.Series(f.start, dtype=pl.Int64),
            "char_end": base + pl.Series(f.end, dtype=pl.Int64),
            **{c: pl.Series(v, dtype=schema[c]) for c, v in f.own.items()},
        })
        if name == "entities":
            frame = frame.with_columns(pl.lit(None, dtype=pl.Utf8).alias("role"))
        out[name] = frame.select(schema.names()).cast(dict(schema))
    e: dict[str, list] = {c: [] for c in ENTITIES_SCHEMA}
    for article_id, doc_id, reporters, contributors in bylines:
        names = [(n, "reporter") for n in reporters] + [(n, "contributor") for n in contributors]
        for seq, (name, role) in enumerate(names, 1):
            e["entity_id"].append(f"{article_id}-b{seq:03d}")
            e["article_id"].append(article_id)
            e["sentence_id"].append(None)
            e["doc_id"].append(doc_id)
            e["seq"].append(seq)
            e["text"].append(name)
            e["label"].append("PERSON")
            e["char_start"].append(None)
            e["char_end"].append(None)
            e["source"].append("byline")
            e["role"].append(role)
    if e["entity_id"]:
        out["entities"] = pl.concat([out["entities"], pl.DataFrame(e, schema=ENTITIES_SCHEMA)])
    return out
