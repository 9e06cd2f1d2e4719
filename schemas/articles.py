"""Pandera model of the ``articles`` table."""

import pandera.polars as pa
import polars as pl

from schemas._checks import id_is_parent_and_seq


class ArticlesModel(pa.DataFrameModel):
    """One row per article reconstructed from a page; ``body`` is the text every offset in
    paragraphs, sentences and tokens points into."""

    article_id: str = pa.Field(unique=True, description="Article id: f'{doc_id}-{seq:03d}' (primary key).")
    doc_id: str = pa.Field(description="Document the article was laid out from (documents.doc_id).")
    seq: pl.Int32 = pa.Field(ge=1, description="Order of the article on the page, from 1.")
    publication: str = pa.Field(nullable=True, description="Newspaper title (copied from the document).")
    issue_date: pl.Date = pa.Field(nullable=True, description="Issue date (copied from the document).")
    page_no: pl.Int32 = pa.Field(nullable=True, gt=0, description="Page number (copied from the document).")
    section: str = pa.Field(nullable=True, description="Page section (copied from the document).")
    title: str = pa.Field(nullable=True, description="Headline; null for a continuation without one.")
    kicker: str = pa.Field(nullable=True, description="Line above the headline (引题).")
    subtitle: str = pa.Field(
        nullable=True, description="Line below the headline (副题), e.g. starting with ——."
    )
    reporters: pl.List(pl.Utf8) = pa.Field(description="Reporter (记者) names in byline order; empty if none.")
    contributors: pl.List(pl.Utf8) = pa.Field(
        description="Correspondents (通讯员), special and intern reporters named in the lead; empty if none."
    )
    dateline: str = pa.Field(
        nullable=True, description="Dateline/source tag such as 本报讯 or 新华社北京1月31日电."
    )
    continued_from_page: pl.Int32 = pa.Field(
        nullable=True,
        gt=0,
        description="Page this article is continued from (上接第N版), if it is a continuation.",
    )
    continues_to_page: pl.Int32 = pa.Field(
        nullable=True, gt=0, description="Page the article continues on (下转第N版), if it jumps."
    )
    subheadings: pl.List(pl.Utf8) = pa.Field(description="Texts of the subheading paragraphs, in order.")
    captions: pl.List(pl.Utf8) = pa.Field(
        description="Photo captions with their credit (…摄), kept out of the body; empty if none."
    )
    body: str = pa.Field(description="Paragraph texts joined by '\\n'.")
    n_paragraphs: pl.Int32 = pa.Field(ge=0, description="Number of paragraphs (rows in paragraphs).")
    n_sentences: pl.Int32 = pa.Field(ge=0, description="Number of sentences (rows in sentences).")
    n_tokens: pl.Int32 = pa.Field(ge=0, description="Number of tokens (rows in tokens).")
    n_chars: pl.Int32 = pa.Field(ge=0, description="Length of body in characters.")

    class Config:
        strict = True
        unique = ["doc_id", "seq"]

    @pa.dataframe_check(name="n_chars == len(body)", description="n_chars is the body's length in characters")
    def n_chars_is_body_length(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select((pl.col("n_chars") == pl.col("body").str.len_chars()).fill_null(False))

    @pa.dataframe_check(name="article_id == doc_id-seq", description="article_id is f'{doc_id}-{seq:03d}'")
    def article_id_format(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return id_is_parent_and_seq(data, "article_id", "doc_id", "-")
