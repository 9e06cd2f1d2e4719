"""Pandera model of the ``paragraphs`` table."""

import pandera.polars as pa
import polars as pl

from schemas._checks import id_is_parent_and_seq, span_length_matches, span_ordered


class ParagraphsModel(pa.DataFrameModel):
    """One row per paragraph of an article body (body text or a subheading), with its
    character span in articles.body."""

    paragraph_id: str = pa.Field(
        unique=True, description="Paragraph id: f'{article_id}-p{seq:03d}' (primary key)."
    )
    article_id: str = pa.Field(description="Article the paragraph belongs to (articles.article_id).")
    doc_id: str = pa.Field(description="Document of the article (documents.doc_id).")
    seq: pl.Int32 = pa.Field(ge=1, description="Order of the paragraph in the article, from 1.")
    kind: str = pa.Field(
        isin=["body", "subheading", "byline"],
        description="'body' for running text, 'subheading' for an in-article heading, 'byline' for "
        "the byline of one section of a roundup article (本报记者 付 文 under the section's heading).",
    )
    text: str = pa.Field(description="Paragraph text, cleaned of layout line breaks.")
    char_start: pl.Int32 = pa.Field(
        ge=0, description="Start offset in articles.body (Python str index, inclusive)."
    )
    char_end: pl.Int32 = pa.Field(
        ge=0, description="End offset in articles.body (exclusive): body[char_start:char_end] == text."
    )
    n_sentences: pl.Int32 = pa.Field(ge=0, description="Number of sentences (rows in sentences).")

    class Config:
        strict = True
        unique = ["article_id", "seq"]

    @pa.dataframe_check(name="char_end >= char_start", description="spans are not reversed")
    def char_end_ge_char_start(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return span_ordered(data)

    @pa.dataframe_check(
        name="char_end - char_start == len(text)", description="the span is as long as the text"
    )
    def span_matches_text(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return span_length_matches(data, "text")

    @pa.dataframe_check(
        name="paragraph_id == article_id-pseq", description="paragraph_id is f'{article_id}-p{seq:03d}'"
    )
    def paragraph_id_format(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return id_is_parent_and_seq(data, "paragraph_id", "article_id", "-p")
