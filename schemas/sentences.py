"""Pandera model of the ``sentences`` table."""

import pandera.polars as pa
import polars as pl

from schemas._checks import id_is_parent_and_seq, span_length_matches, span_ordered


class SentencesModel(pa.DataFrameModel):
    """One row per sentence of a paragraph (split after 。！？!?；… and any closing quotes),
    with its character span in articles.body; a paragraph's sentences concatenate to it."""

    sentence_id: str = pa.Field(
        unique=True, description="Sentence id: f'{paragraph_id}-s{seq:03d}' (primary key)."
    )
    paragraph_id: str = pa.Field(description="Paragraph the sentence belongs to (paragraphs.paragraph_id).")
    article_id: str = pa.Field(description="Article of the paragraph (articles.article_id).")
    doc_id: str = pa.Field(description="Document of the article (documents.doc_id).")
    seq: pl.Int32 = pa.Field(ge=1, description="Order of the sentence in the paragraph, from 1.")
    text: str = pa.Field(str_length={"min_value": 1}, description="Sentence text, never empty.")
    char_start: pl.Int32 = pa.Field(
        ge=0, description="Start offset in articles.body (Python str index, inclusive)."
    )
    char_end: pl.Int32 = pa.Field(
        ge=0, description="End offset in articles.body (exclusive): body[char_start:char_end] == text."
    )
    n_tokens: pl.Int32 = pa.Field(ge=1, description="Number of tokens (rows in tokens).")

    class Config:
        strict = True
        unique = ["paragraph_id", "seq"]

    @pa.dataframe_check(name="char_end >= char_start", description="spans are not reversed")
    def char_end_ge_char_start(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return span_ordered(data)

    @pa.dataframe_check(
        name="char_end - char_start == len(text)", description="the span is as long as the text"
    )
    def span_matches_text(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return span_length_matches(data, "text")

    @pa.dataframe_check(
        name="sentence_id == paragraph_id-sseq", description="sentence_id is f'{paragraph_id}-s{seq:03d}'"
    )
    def sentence_id_format(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return id_is_parent_and_seq(data, "sentence_id", "paragraph_id", "-s")
