"""Pandera model of the ``runs`` table: one row per ``newsflow run``, appended."""

import pandera.polars as pa
import polars as pl


class RunsModel(pa.DataFrameModel):
    """One row per pipeline run (`warehouse/runs/`, one Parquet file per run, appended, never
    rewritten): what the run found, what it did with it, and how big the warehouse was after it.
    Files are compared with the warehouse's `documents` by path and content hash (`sha256`)."""

    run_id: str = pa.Field(unique=True, str_length={"min_value": 1}, description="Id of the run (documents.run_id of the rows it wrote).")
    started_at: pl.Datetime("us", "UTC") = pa.Field(description="When the run started (UTC).")
    finished_at: pl.Datetime("us", "UTC") = pa.Field(description="When the run finished (UTC).")
    seconds: pl.Float64 = pa.Field(ge=0, description="Wall-clock seconds of the run (the flow, without Prefect's start-up).")
    mode: str = pa.Field(
        isin=["incremental", "full"],
        description="'incremental' (only new and changed files processed) or 'full' (every file processed, every table rebuilt).",
    )
    files_seen: pl.Int64 = pa.Field(ge=0, description="Raw files found below the raw directory.")
    files_new: pl.Int64 = pa.Field(ge=0, description="Files with no documents row before the run.")
    files_changed: pl.Int64 = pa.Field(ge=0, description="Files whose content hash differed from their documents row.")
    files_unchanged: pl.Int64 = pa.Field(ge=0, description="Files whose content hash was the one in documents (not processed by an incremental run).")
    files_removed: pl.Int64 = pa.Field(ge=0, description="Files in documents before the run that are no longer there (their rows removed).")
    files_quarantined: pl.Int64 = pa.Field(ge=0, description="Documents with status 'quarantined' in the warehouse after the run.")
    rows_documents: pl.Int64 = pa.Field(ge=0, description="Rows of documents after the run.")
    rows_articles: pl.Int64 = pa.Field(ge=0, description="Rows of articles after the run.")
    rows_paragraphs: pl.Int64 = pa.Field(ge=0, description="Rows of paragraphs after the run.")
    rows_sentences: pl.Int64 = pa.Field(ge=0, description="Rows of sentences after the run.")
    rows_tokens: pl.Int64 = pa.Field(ge=0, description="Rows of tokens after the run.")
    rows_entities: pl.Int64 = pa.Field(ge=0, description="Rows of entities after the run.")
    rows_dates: pl.Int64 = pa.Field(ge=0, description="Rows of dates after the run.")
    rows_quantities: pl.Int64 = pa.Field(ge=0, description="Rows of quantities after the run.")
    rows_keywords: pl.Int64 = pa.Field(ge=0, description="Rows of keywords after the run.")
    status: str = pa.Field(isin=["ok"], description="'ok': the run finished and its tables are in place.")

    class Config:
        strict = True

    @pa.dataframe_check(name="files add up", description="files_seen = files_new + files_changed + files_unchanged")
    def files_add_up(cls, data: pa.PolarsData) -> pl.LazyFrame:
        total = pl.col("files_new") + pl.col("files_changed") + pl.col("files_unchanged")
        return data.lazyframe.select(pl.col("files_seen") == total)

    @pa.dataframe_check(name="finished after started", description="finished_at >= started_at")
    def finished_after_started(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("finished_at") >= pl.col("started_at"))
