"""Pandera models of the warehouse tables (one per table) and ``TABLES`` in write order."""

import pandera.polars as pa

from schemas.articles import ArticlesModel
from schemas.dates import DatesModel
from schemas.documents import DocumentsModel
from schemas.entities import EntitiesModel
from schemas.keywords import KeywordsModel
from schemas.paragraphs import ParagraphsModel
from schemas.quantities import QuantitiesModel
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
    "entities": EntitiesModel,
    "dates": DatesModel,
    "quantities": QuantitiesModel,
}

#: Tables computed over the whole warehouse after each change (not per batch of files).
DERIVED_TABLES: dict[str, type[pa.DataFrameModel]] = {"keywords": KeywordsModel}

#: Tables the pipeline keeps about itself (not built from raw files): the run log.
LOG_TABLES: dict[str, type[pa.DataFrameModel]] = {"runs": RunsModel}

__all__ = [
    "DERIVED_TABLES",
    "LOG_TABLES",
    "TABLES",
    "ArticlesModel",
    "DatesModel",
    "DocumentsModel",
    "EntitiesModel",
    "KeywordsModel",
    "ParagraphsModel",
    "QuantitiesModel",
    "RunsModel",
    "SentencesModel",
    "TokensModel",
]
