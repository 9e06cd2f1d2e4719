"""Pandera model of the ``dates`` table."""

import pandera.polars as pa
import polars as pl

from schemas._checks import id_is_parent_and_seq
from schemas._mentions import optional_span_matches

GRANULARITIES = ("day", "month", "year")


class DatesModel(pa.DataFrameModel):
    """One row per date expression of a sentence (``12月7日至8日``, ``2020年``, ``明年``...), with the
    dates it stands for. Nothing is guessed: a date whose year the text does not give is resolved
    against the page's issue date when there is one, and left unresolved (null dates) otherwise."""

    date_id: str = pa.Field(unique=True, description="Date id: f'{sentence_id}-d{seq:03d}' (primary key).")
    article_id: str = pa.Field(description="Article of the mention (articles.article_id).")
    sentence_id: str = pa.Field(description="Sentence of the mention (sentences.sentence_id).")
    doc_id: str = pa.Field(description="Document of the article (documents.doc_id).")
    seq: pl.Int32 = pa.Field(ge=1, description="Order of the date in its sentence, from 1.")
    text: str = pa.Field(str_length={"min_value": 1}, description="The date expression as written in the body.")
    char_start: pl.Int32 = pa.Field(ge=0, description="Start offset in articles.body (inclusive).")
    char_end: pl.Int32 = pa.Field(
        ge=0, description="End offset in articles.body (exclusive): body[char_start:char_end] == text."
    )
    date_start: pl.Date = pa.Field(
        nullable=True, description="First day the expression covers (ISO date); null when unresolved."
    )
    date_end: pl.Date = pa.Field(
        nullable=True, description="Last day it covers (ISO date, inclusive); null when unresolved."
    )
    granularity: str = pa.Field(isin=list(GRANULARITIES), description="day, month or year.")
    resolved: bool = pa.Field(
        description="True when the year (or the whole date: 今年, 明年) came from the page's issue date."
    )

    class Config:
        strict = True
        unique = ["sentence_id", "seq"]

    @pa.dataframe_check(
        name="char_end - char_start == len(text)", description="the span is as long as the text"
    )
    def span_matches_text(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return optional_span_matches(data)

    @pa.dataframe_check(
        name="date_start <= date_end, both or neither",
        description="an interval, never reversed; both dates given or both null",
    )
    def interval(cls, data: pa.PolarsData) -> pl.LazyFrame:
        s, e = pl.col("date_start"), pl.col("date_end")
        ok = (s.is_null() & e.is_null()) | (s <= e)
        return data.lazyframe.select(ok.fill_null(False).alias("ok"))

    @pa.dataframe_check(name="date_id == sentence_id-dseq", description="date_id is f'{sentence_id}-d{seq:03d}'")
    def date_id_format(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return id_is_parent_and_seq(data, "date_id", "sentence_id", "-d")
