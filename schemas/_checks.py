"""Row-wise polars expressions shared by the table models (null-safe: a null never passes)."""

import polars as pl
from pandera.api.polars.types import PolarsData


def _rows(data: PolarsData, expr: pl.Expr) -> pl.LazyFrame:
    return data.lazyframe.select(expr.fill_null(False).alias("ok"))


def span_ordered(data: PolarsData) -> pl.LazyFrame:
    """``char_end >= char_start``."""
    return _rows(data, pl.col("char_end") >= pl.col("char_start"))


def span_length_matches(data: PolarsData, text_col: str) -> pl.LazyFrame:
    """``char_end - char_start == len(text)`` (in characters, as Python counts them)."""
    return _rows(data, (pl.col("char_end") - pl.col("char_start")) == pl.col(text_col).str.len_chars())


def id_is_parent_and_seq(data: PolarsData, id_col: str, parent_col: str, sep: str) -> pl.LazyFrame:
    """``id == f"{parent}{sep}{seq:03d}"``: ids are derived from the parent id and the order."""
    expected = pl.concat_str([pl.col(parent_col), pl.lit(sep), pl.col("seq").cast(pl.Utf8).str.zfill(3)])
    return _rows(data, pl.col(id_col) == expected)
