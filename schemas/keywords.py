"""Pandera model of the ``keywords`` table."""

import pandera.polars as pa
import polars as pl

KEYWORD_METHODS = ("tfidf", "textrank")


class KeywordsModel(pa.DataFrameModel):
    """The top keywords of each article by two methods: TF-IDF, whose IDF is learned from all the
    warehouse's articles (jieba's IDF for a word too rare in them), and TextRank over the article's
    own word graph. Stop words, single characters, numbers and punctuation are never keywords.
    Rebuilt over the whole warehouse by every run that changes it (the IDF depends on every
    article)."""

    article_id: str = pa.Field(description="Article (articles.article_id).")
    doc_id: str = pa.Field(description="Document of the article (documents.doc_id).")
    keyword: str = pa.Field(str_length={"min_value": 2}, description="The keyword (a token of the article).")
    weight: pl.Float64 = pa.Field(ge=0, description="Its score by the method (tf-idf, or TextRank scaled to max 1).")
    rank: pl.Int32 = pa.Field(ge=1, description="1 = the article's best keyword by this method; no gaps.")
    method: str = pa.Field(isin=list(KEYWORD_METHODS), description="tfidf or textrank.")

    class Config:
        strict = True
        unique = ["article_id", "method", "rank"]
