"""Pandera models of the warehouse tables (one per table) and ``TABLES`` in write order."""

import pandera.polars as pa

from schemas.articles import ArticlesModel
from schemas.documents import DocumentsModel
from schemas.paragraphs import ParagraphsModel
from schemas.runs import RunsModel
from schemas.sentences import SentencesModel
from schemas.tokens import TokensModel

#: Table name -> model, parents before children (the order tables are written in).
TABLES: dict[str, type[pa.DataFrameModel]] = {
    "documents": DocumentsModel,
    "articles": ArticlesModel,
    "paragraphs": ParagraphsModel,
    "sentences": SentencesModel,
    "tokens": TokensModel,
}

#: Tables the pipeline keeps about itself (not built from raw files): the run log.
LOG_TABLES: dict[str, type[pa.DataFrameModel]] = {"runs": RunsModel}

__all__ = [
    "LOG_TABLES",
    "TABLES",
    "ArticlesModel",
    "DocumentsModel",
    "ParagraphsModel",
    "RunsModel",
    "SentencesModel",
    "TokensModel",
]
