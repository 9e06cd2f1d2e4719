"""Pandera model of the ``documents`` table."""

import pandera.polars as pa
import polars as pl

SHA256 = r"^[0-9a-f]{64}$"


class DocumentsModel(pa.DataFrameModel):
    """One row per raw file of a run: where it came from, how it decoded, and whether its
    articles made it into the warehouse (``status='ok'``) or not (``'quarantined'``, with the
    reason in ``error``)."""

    doc_id: str = pa.Field(
        unique=True, str_length={"min_value": 1}, description="Stable id of the raw file (primary key)."
    )
    source_path: str = pa.Field(
        str_length={"min_value": 1},
        description="Path of the raw file relative to the raw root, with forward slashes.",
    )
    sha256: str = pa.Field(str_matches=SHA256, description="SHA-256 of the raw bytes, lowercase hex.")
    bytes: pl.Int64 = pa.Field(ge=0, description="Size of the raw file in bytes.")
    encoding: str = pa.Field(
        nullable=True, description="Text encoding the file was decoded with; null if it could not be decoded."
    )
    publication: str = pa.Field(nullable=True, description="Newspaper title, when known.")
    issue_date: pl.Date = pa.Field(
        nullable=True, description="Date of the issue: from the path or sidecar, else the page header; null if unknown."
    )
    page_no: pl.Int32 = pa.Field(
        nullable=True, gt=0, description="Page number: from the path or sidecar, else the page header; null if unknown."
    )
    section: str = pa.Field(
        nullable=True, description="Page section/banner recovered by layout (e.g. 要闻·综合)."
    )
    imprint: pl.List(pl.Utf8) = pa.Field(
        description="Masthead and imprint lines of the page (值班副总编, 责任编辑, 出版物号…), not article text."
    )
    n_chars: pl.Int32 = pa.Field(
        nullable=True, ge=0, description="Characters of decoded text; null if the file was not decoded."
    )
    n_articles: pl.Int32 = pa.Field(
        ge=0,
        description="Articles layout found on the page (0 for quarantined files that never reached layout).",
    )
    status: str = pa.Field(
        isin=["ok", "quarantined"],
        description="'ok' if the document's rows are in the other tables, 'quarantined' if not.",
    )
    error: str = pa.Field(
        nullable=True, description="Why the document was quarantined (one line); null when status is 'ok'."
    )
    ingested_at: pl.Datetime("us", "UTC") = pa.Field(description="When the run ingested the file (UTC).")
    run_id: str = pa.Field(
        str_length={"min_value": 1}, description="Id of the pipeline run that wrote the row."
    )

    class Config:
        strict = True

    @pa.dataframe_check(
        name="error iff quarantined", description="quarantined rows have a non-empty error; ok rows have none"
    )
    def error_iff_quarantined(cls, data: pa.PolarsData) -> pl.LazyFrame:
        has_error = pl.col("error").is_not_null() & (pl.col("error").str.strip_chars().str.len_chars() > 0)
        ok = pl.when(pl.col("status") == "quarantined").then(has_error).otherwise(pl.col("error").is_null())
        return data.lazyframe.select(ok.fill_null(False))
