"""Pandera model of the ``quantities`` table."""

import pandera.polars as pa
import polars as pl

from schemas._checks import id_is_parent_and_seq
from schemas._mentions import optional_span_matches


class QuantitiesModel(pa.DataFrameModel):
    """One row per number with its unit in a sentence (``10800 张``, ``60 万平方米``, ``三项``,
    ``12.5%``, ``3.5亿元``, ``3至5年``), its value after scaling (万, 亿...) and, where the sentence
    says it, what is counted. Dates, years, ordinals and page numbers are not quantities."""

    quantity_id: str = pa.Field(
        unique=True, description="Quantity id: f'{sentence_id}-q{seq:03d}' (primary key)."
    )
    article_id: str = pa.Field(description="Article of the mention (articles.article_id).")
    sentence_id: str = pa.Field(description="Sentence of the mention (sentences.sentence_id).")
    doc_id: str = pa.Field(description="Document of the article (documents.doc_id).")
    seq: pl.Int32 = pa.Field(ge=1, description="Order of the quantity in its sentence, from 1.")
    text: str = pa.Field(str_length={"min_value": 1}, description="The quantity as written in the body.")
    char_start: pl.Int32 = pa.Field(ge=0, description="Start offset in articles.body (inclusive).")
    char_end: pl.Int32 = pa.Field(
        ge=0, description="End offset in articles.body (exclusive): body[char_start:char_end] == text."
    )
    value: pl.Float64 = pa.Field(description="The number after scaling: 60 万 -> 600000; a range's low end.")
    value_max: pl.Float64 = pa.Field(nullable=True, description="A range's high end (3至5年 -> 5); else null.")
    unit: str = pa.Field(nullable=True, description="The unit or measure word as written (张, 平方米, 户, %, 元...); null for a bare number.")
    kind: str = pa.Field(description="What sort of quantity: count, measure, percent, money, range...")
    counted: str = pa.Field(nullable=True, description="What is counted, where the sentence says it (建成 3 个社区食堂 -> 社区食堂).")

    class Config:
        strict = True
        unique = ["sentence_id", "seq"]

    @pa.dataframe_check(
        name="char_end - char_start == len(text)", description="the span is as long as the text"
    )
    def span_matches_text(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return optional_span_matches(data)

    @pa.dataframe_check(name="value <= value_max", description="a range is never reversed")
    def range_ordered(cls, data: pa.PolarsData) -> pl.LazyFrame:
        ok = pl.col("value_max").is_null() | (pl.col("value") <= pl.col("value_max"))
        return data.lazyframe.select(ok.fill_null(False).alias("ok"))

    @pa.dataframe_check(
        name="quantity_id == sentence_id-qseq", description="quantity_id is f'{sentence_id}-q{seq:03d}'"
    )
    def quantity_id_format(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return id_is_parent_and_seq(data, "quantity_id", "sentence_id", "-q")
