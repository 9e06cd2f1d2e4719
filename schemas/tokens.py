"""Pandera model of the ``tokens`` table."""

import pandera.polars as pa
import polars as pl

from schemas._checks import span_length_matches, span_ordered
from tasks.segment import JIEBA_TAGS


class TokensModel(pa.DataFrameModel):
    """One row per word token of a sentence (jieba segmentation, jieba POS tag set), with its
    character span in articles.body; keyed by (sentence_id, seq)."""

    article_id: str = pa.Field(description="Article of the token (articles.article_id).")
    paragraph_id: str = pa.Field(description="Paragraph of the token (paragraphs.paragraph_id).")
    sentence_id: str = pa.Field(description="Sentence of the token (sentences.sentence_id); key with seq.")
    doc_id: str = pa.Field(description="Document of the article (documents.doc_id).")
    seq: pl.Int32 = pa.Field(
        ge=1, description="Order of the token in the sentence, from 1; key with sentence_id."
    )
    token: str = pa.Field(
        str_length={"min_value": 1},
        description="Token text exactly as in the body (whitespace and punctuation included).",
    )
    pos: str = pa.Field(
        isin=sorted(JIEBA_TAGS),
        description=(
            "Part-of-speech tag from jieba's tag set (x = punctuation/whitespace, m = number, eng = latin)."
        ),
    )
    char_start: pl.Int32 = pa.Field(
        ge=0, description="Start offset in articles.body (Python str index, inclusive)."
    )
    char_end: pl.Int32 = pa.Field(
        ge=0, description="End offset in articles.body (exclusive): body[char_start:char_end] == token."
    )

    class Config:
        strict = True
        unique = ["sentence_id", "seq"]

    @pa.dataframe_check(name="char_end >= char_start", description="spans are not reversed")
    def char_end_ge_char_start(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return span_ordered(data)

    @pa.dataframe_check(
        name="char_end - char_start == len(token)", description="the span is as long as the token"
    )
    def span_matches_token(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return span_length_matches(data, "token")
