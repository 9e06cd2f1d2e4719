"""Columns and checks shared by the mention tables (entities, dates, quantities): every row is a
span of one sentence of an article, with offsets into ``articles.body``."""

import polars as pl
from pandera.api.polars.types import PolarsData

from schemas._checks import _rows


def optional_span_matches(data: PolarsData, text_col: str = "text") -> pl.LazyFrame:
    """Where a row has a span: ``char_end - char_start == len(text)`` and ``char_end >= char_start``;
    a row without one (both offsets null) passes; half a span fails."""
    start, end = pl.col("char_start"), pl.col("char_end")
    both_null = start.is_null() & end.is_null()
    ok = (end - start == pl.col(text_col).str.len_chars()) & (end >= start)
    return _rows(data, both_null | ok)
