"""Pandera model of the ``entities`` table."""

import pandera.polars as pa
import polars as pl

from schemas._mentions import optional_span_matches

ENTITY_LABELS = ("PERSON", "ORG", "GPE", "LOC")
ENTITY_SOURCES = ("byline", "crf", "dict", "rule", "jieba")
ENTITY_ROLES = ("reporter", "contributor")


class EntitiesModel(pa.DataFrameModel):
    """One row per named entity: a person, organisation, administrative place (GPE) or other
    place (LOC) mentioned in a sentence of an article, with its span in articles.body; plus one
    PERSON row per reporter and contributor of the article's byline (no sentence, no span: the
    byline is not part of the body)."""

    entity_id: str = pa.Field(
        unique=True,
        description="Entity id: f'{sentence_id}-e{seq:03d}', or f'{article_id}-b{seq:03d}' for a byline name (primary key).",
    )
    article_id: str = pa.Field(description="Article of the mention (articles.article_id).")
    sentence_id: str = pa.Field(
        nullable=True, description="Sentence of the mention (sentences.sentence_id); null for a byline name."
    )
    doc_id: str = pa.Field(description="Document of the article (documents.doc_id).")
    seq: pl.Int32 = pa.Field(ge=1, description="Order of the entity in its sentence (or in the byline), from 1.")
    text: str = pa.Field(str_length={"min_value": 1}, description="The entity as written in the body.")
    label: str = pa.Field(
        isin=list(ENTITY_LABELS),
        description="PERSON, ORG (government, party and other bodies, companies), GPE (administrative "
        "places: countries, provinces, cities, districts, 街道 and 镇) or LOC (other places).",
    )
    char_start: pl.Int32 = pa.Field(
        ge=0, nullable=True, description="Start offset in articles.body (inclusive); null for a byline name."
    )
    char_end: pl.Int32 = pa.Field(
        ge=0, nullable=True,
        description="End offset in articles.body (exclusive): body[char_start:char_end] == text; null for a byline name.",
    )
    source: str = pa.Field(
        isin=list(ENTITY_SOURCES),
        description="How it was found: byline (the article's byline), crf (the character CRF model), "
        "dict (the organisation/place dictionary), rule (a pattern), jieba (jieba's POS tag).",
    )
    role: str = pa.Field(
        nullable=True, isin=list(ENTITY_ROLES),
        description="For a byline name: reporter (记者) or contributor (通讯员 and the like); else null.",
    )

    class Config:
        strict = True

    @pa.dataframe_check(
        name="char_end - char_start == len(text)", description="a span, where given, is as long as the text"
    )
    def span_matches_text(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return optional_span_matches(data)

    @pa.dataframe_check(
        name="byline rows have no sentence", description="source == 'byline' exactly when sentence_id is null"
    )
    def byline_has_no_sentence(cls, data: pa.PolarsData) -> pl.LazyFrame:
        byline = pl.col("source") == "byline"
        ok = (byline & pl.col("sentence_id").is_null() & pl.col("role").is_not_null()) | (
            ~byline & pl.col("sentence_id").is_not_null() & pl.col("role").is_null()
        )
        return data.lazyframe.select(ok.fill_null(False).alias("ok"))

    @pa.dataframe_check(
        name="entity_id == sentence_id-eseq",
        description="entity_id is f'{sentence_id}-e{seq:03d}' (f'{article_id}-b{seq:03d}' for a byline name)",
    )
    def entity_id_format(cls, data: pa.PolarsData) -> pl.LazyFrame:
        parent = (
            pl.when(pl.col("sentence_id").is_null())
            .then(pl.concat_str([pl.col("article_id"), pl.lit("-b")]))
            .otherwise(pl.concat_str([pl.col("sentence_id"), pl.lit("-e")]))
        )
        expected = pl.concat_str([parent, pl.col("seq").cast(pl.Utf8).str.zfill(3)])
        return data.lazyframe.select((pl.col("entity_id") == expected).fill_null(False).alias("ok"))
