"""Pandera models, cross-table validation with per-document quarantine, the data dictionary."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl
import pytest
from pandera.errors import SchemaErrors

from schemas import TABLES, ArticlesModel, DocumentsModel, ParagraphsModel, TokensModel
from schemas.dictionary import render_markdown
from tasks.model import Article, Page, Paragraph
from tasks.tables import TABLE_SCHEMAS, build_tables, empty_tables
from tasks.validate import BatchValidationError, validate_tables

HAND_PAGE = Page(
    section="要闻·综合",
    articles=[
        Article(
            title="本区举行机关工作人员宪法知识竞赛",
            kicker="普及宪法知识 弘扬宪法精神",
            reporters=["杨晓梅"],
            dateline="本报讯",
            paragraphs=[
                Paragraph("本报讯 12月4日，区绿化市容局在长阳创谷举办宪法宣传活动，300名干部参加。现场气氛热烈！"),
                Paragraph("五角场街道", kind="subheading"),
                Paragraph("“要学法、懂法、用法。”他说；大家纷纷表示赞同……"),
            ],
        ),
        Article(continued_from_page=1, reporters=["毛信慧", "成佳佳"], paragraphs=[Paragraph("下转第2版")]),
    ],
)


@pytest.fixture()
def batch(make_doc, segmenter, ingested_at):
    """Two ok documents with the same hand-made page, plus one quarantined on decode."""
    bad = make_doc("d3", encoding=None, text=None, status="quarantined", error="undecodable")
    items = [(make_doc("d1"), HAND_PAGE), (make_doc("d2", page_no=2), HAND_PAGE), (bad, None)]
    return build_tables(items, segmenter, run_id="r1", ingested_at=ingested_at)


def _errors(model, df) -> str:
    with pytest.raises(SchemaErrors) as info:
        model.validate(df, lazy=True)
    return str(info.value) + "\n" + str(info.value.failure_cases.to_dicts())


def _set(df: pl.DataFrame, where: pl.Expr, col: str, value) -> pl.DataFrame:
    return df.with_columns(
        pl.when(where).then(pl.lit(value, df.schema[col])).otherwise(pl.col(col)).alias(col)
    )


def test_models_match_the_table_schemas():
    assert list(TABLES) == list(TABLE_SCHEMAS)
    for name, model in TABLES.items():
        cols = model.to_schema().columns
        assert list(cols) == list(TABLE_SCHEMAS[name]), name
        for col, dtype in TABLE_SCHEMAS[name].items():
            assert cols[col].dtype.type == dtype, (name, col)
            assert cols[col].description, f"{name}.{col} needs a description"
        assert model.__doc__


@pytest.mark.parametrize("name", list(TABLES))
def test_models_accept_built_rows(name, batch):
    assert batch[name].height > 0
    out = TABLES[name].validate(batch[name], lazy=True)
    assert out.equals(batch[name])
    TABLES[name].validate(empty_tables()[name], lazy=True)


def test_token_with_reversed_span_is_rejected(batch):
    first = (pl.col("sentence_id") == "d1-001-p001-s001") & (pl.col("seq") == 2)
    tokens = _set(batch["tokens"], first, "char_end", 0)
    msg = _errors(TokensModel, tokens)
    assert "char_end >= char_start" in msg
    assert "char_end - char_start == len(token)" in msg


def test_duplicate_article_id_is_rejected(batch):
    arts = _set(batch["articles"], pl.col("article_id") == "d1-002", "article_id", "d1-001")
    msg = _errors(ArticlesModel, arts)
    assert "field_uniqueness" in msg and "article_id" in msg and "not unique" in msg


def test_unknown_status_and_error_rules_are_rejected(batch):
    docs = _set(batch["documents"], pl.col("doc_id") == "d1", "status", "done")
    assert "isin(['ok', 'quarantined'])" in _errors(DocumentsModel, docs)
    docs = _set(batch["documents"], pl.col("doc_id") == "d3", "error", None)
    assert "error iff quarantined" in _errors(DocumentsModel, docs)
    docs = _set(batch["documents"], pl.col("doc_id") == "d1", "error", "oops")
    assert "error iff quarantined" in _errors(DocumentsModel, docs)


def test_other_value_checks(batch):
    docs = _set(batch["documents"], pl.col("doc_id") == "d1", "page_no", 0)
    assert "greater_than(0)" in _errors(DocumentsModel, docs)
    docs = _set(batch["documents"], pl.col("doc_id") == "d1", "sha256", "not-a-hash")
    assert "str_matches" in _errors(DocumentsModel, docs)
    paras = _set(batch["paragraphs"], pl.col("paragraph_id") == "d1-001-p002", "kind", "caption")
    assert "isin(['body', 'subheading', 'byline'])" in _errors(ParagraphsModel, paras)
    paras = _set(batch["paragraphs"], pl.col("paragraph_id") == "d1-001-p002", "seq", 0)
    msg = _errors(ParagraphsModel, paras)
    assert "greater_than_or_equal_to(1)" in msg and "paragraph_id == article_id-pseq" in msg
    toks = _set(batch["tokens"], pl.col("seq") == 1, "pos", "NOUN")
    assert "pos" in _errors(TokensModel, toks)
    arts = _set(batch["articles"], pl.col("article_id") == "d1-001", "n_chars", 3)
    assert "n_chars == len(body)" in _errors(ArticlesModel, arts)


def test_polars_slices_by_code_point_like_python():
    s = "a𠮷b\u0301c😀d中文"
    df = pl.DataFrame({"s": [s] * len(s), "i": list(range(len(s)))})
    got = df.select(pl.col("s").str.slice(pl.col("i"), 2))["s"].to_list()
    assert got == [s[i : i + 2] for i in range(len(s))]
    assert df.select(pl.col("s").str.len_chars())["s"][0] == len(s)


def test_valid_batch_passes_unchanged(batch):
    result = validate_tables(batch)
    assert result.quarantined == {}
    for name in TABLES:
        assert result.tables[name].equals(batch[name])


def test_offset_mismatch_quarantines_only_that_document(batch):
    paras = _set(batch["paragraphs"], pl.col("paragraph_id") == "d2-001-p003", "char_start", 1)
    paras = _set(
        paras,
        pl.col("paragraph_id") == "d2-001-p003",
        "char_end",
        1 + len(HAND_PAGE.articles[0].paragraphs[2].text),
    )
    result = validate_tables(dict(batch, paragraphs=paras))
    assert list(result.quarantined) == ["d2"]
    msg = result.quarantined["d2"]
    assert "\n" not in msg
    assert "paragraphs.char_start/char_end" in msg and "body[char_start:char_end] == text" in msg
    assert "d2-001-p003" in msg
    docs = result.tables["documents"]
    assert docs.filter(pl.col("doc_id") == "d2").row(0, named=True)["status"] == "quarantined"
    assert docs.filter(pl.col("doc_id") == "d2")["error"][0] == msg
    assert docs.filter(pl.col("doc_id") == "d1")["status"][0] == "ok"
    assert docs.filter(pl.col("doc_id") == "d3")["error"][0] == "undecodable"
    for name in ("articles", "paragraphs", "sentences", "tokens"):
        assert set(result.tables[name]["doc_id"].to_list()) == {"d1"}, name
        assert result.tables[name].equals(batch[name].filter(pl.col("doc_id") == "d1")), name
    DocumentsModel.validate(docs)


def test_broken_token_quarantines_its_document(batch):
    where = (pl.col("sentence_id") == "d1-001-p001-s002") & (pl.col("seq") == 1)
    result = validate_tables(dict(batch, tokens=_set(batch["tokens"], where, "char_end", 0)))
    assert list(result.quarantined) == ["d1"]
    msg = result.quarantined["d1"]
    assert msg.startswith("validation failed: tokens.char_end: check 'char_end >= char_start'")
    assert "d1-001-p001-s002#1" in msg
    assert set(result.tables["tokens"]["doc_id"].to_list()) == {"d2"}


def test_duplicate_ids_and_bad_status_are_quarantined(batch):
    arts = _set(batch["articles"], pl.col("article_id") == "d2-002", "article_id", "d2-001")
    result = validate_tables(dict(batch, articles=arts))
    assert list(result.quarantined) == ["d2"]
    assert "articles.article_id: check 'unique' failed for 2 row(s)" in result.quarantined["d2"]

    docs = _set(batch["documents"], pl.col("doc_id") == "d1", "status", "done")
    result = validate_tables(dict(batch, documents=docs))
    assert list(result.quarantined) == ["d1"]
    assert (
        "documents.status: check 'isin" in result.quarantined["d1"]
        and "status=done" in result.quarantined["d1"]
    )
    assert result.tables["documents"]["status"].to_list() == ["quarantined", "ok", "quarantined"]


def test_quarantined_document_without_error_gets_one(batch):
    docs = _set(batch["documents"], pl.col("doc_id") == "d3", "error", None)
    result = validate_tables(dict(batch, documents=docs))
    assert list(result.quarantined) == ["d3"]
    assert "documents.error: check 'error iff quarantined'" in result.quarantined["d3"]
    assert result.tables["documents"]["status"].to_list() == ["ok", "ok", "quarantined"]
    assert result.tables["articles"].height == batch["articles"].height


def test_cross_table_references(batch):
    orphan = batch["sentences"].with_columns(
        pl.when(pl.col("sentence_id") == "d1-002-p001-s001")
        .then(pl.lit("d1-002-p009"))
        .otherwise(pl.col("paragraph_id"))
        .alias("paragraph_id")
    )
    result = validate_tables(dict(batch, sentences=orphan))
    assert list(result.quarantined) == ["d1"]
    assert "sentences.paragraph_id: check 'references paragraphs'" in result.quarantined["d1"]

    docs = batch["documents"].with_columns(
        pl.when(pl.col("doc_id") == "d2")
        .then(pl.lit(5, pl.Int32))
        .otherwise(pl.col("n_articles"))
        .alias("n_articles")
    )
    result = validate_tables(dict(batch, documents=docs))
    assert "documents.n_articles: check 'equals the number of articles rows'" in result.quarantined["d2"]


def test_unattributable_failures_raise(batch):
    with pytest.raises(BatchValidationError, match=r"tokens.seq: expected dtype\('Int32'\), got Int64"):
        validate_tables(dict(batch, tokens=batch["tokens"].with_columns(pl.col("seq").cast(pl.Int64))))
    with pytest.raises(BatchValidationError, match="missing column 'pos'"):
        validate_tables(dict(batch, tokens=batch["tokens"].drop("pos")))
    with pytest.raises(BatchValidationError, match="missing table 'tokens'"):
        validate_tables({k: v for k, v in batch.items() if k != "tokens"})
    dup = pl.concat([batch["documents"], batch["documents"].head(1)])
    with pytest.raises(BatchValidationError, match="still invalid"):
        validate_tables(dict(batch, documents=dup))


def test_empty_batch_validates():
    result = validate_tables(empty_tables())
    assert result.quarantined == {} and all(df.is_empty() for df in result.tables.values())


def test_data_dictionary_lists_every_column():
    md = render_markdown()
    for name, model in TABLES.items():
        assert f"## `{name}`" in md
        for col, spec in model.to_schema().columns.items():
            assert f"| `{col}` |" in md and spec.description in md
    assert "| `status` | String | no |" in md and "in {ok, quarantined}" in md
    assert "unique on (sentence_id, seq)" in md and "`char_end >= char_start`" in md


def _mutations(df: pl.DataFrame):
    """Frames that each break (or may break) one thing of ``df``: a value per column and kind,
    a dtype, a missing or an extra column."""
    for col, dtype in df.schema.items():
        yield f"{col}=null", _set(df, pl.int_range(pl.len()) == 0, col, None)
        if isinstance(dtype, pl.List):
            continue
        yield f"{col} duplicated", df.with_columns(
            pl.when(pl.int_range(pl.len()) == 0).then(pl.col(col).shift(-1)).otherwise(pl.col(col)).alias(col)
        )
        if dtype.is_integer():
            values = [-1, 0, 10**6]
        elif dtype.is_float():
            values = [-1.0, float("nan"), 1e12]
        elif dtype == pl.Utf8:
            values = ["", " ", "zzz", "d1-001"]
        elif dtype == pl.Boolean:
            values = [True, False]
        else:
            values = []
        for v in values:
            yield f"{col}={v!r}", _set(df, pl.int_range(pl.len()) == 0, col, v)
        yield f"{col} as another dtype", df.with_columns(
            pl.col(col).cast(pl.Int64 if dtype != pl.Int64 else pl.Int32, strict=False)
        )
        yield f"without {col}", df.drop(col)
    yield "extra column", df.with_columns(pl.lit(1).alias("extra"))


@pytest.mark.parametrize("name", list(TABLES))
def test_fast_pass_agrees_with_pandera(name, batch):
    """schemas._fast.passes runs every check of the model in one pass: it must never pass a
    frame Pandera rejects (nor reject one it passes, which would only cost time)."""
    from schemas._fast import passes

    model = TABLES[name]
    assert passes(model, batch[name]) and passes(model, empty_tables()[name])
    for what, df in _mutations(batch[name]):
        try:
            model.validate(df, lazy=True)
            expected = True
        except SchemaErrors:
            expected = False
        assert passes(model, df) == expected, what


def test_token_reads_the_body_when_its_sentence_is_broken(batch):
    """A token is checked against the body, not against its sentence's text, when that text is
    not the body's (the check reads a token from its sentence only where the sentence passed)."""
    sid = "d1-001-p001-s001"
    first = batch["tokens"].filter((pl.col("sentence_id") == sid) & (pl.col("seq") == 1)).row(0, named=True)
    fake = "某" * len(first["token"])
    sents = batch["sentences"].with_columns(
        pl.when(pl.col("sentence_id") == sid)
        .then(pl.lit(fake) + pl.col("text").str.slice(len(fake)))
        .otherwise(pl.col("text"))
        .alias("text")
    )
    where = (pl.col("sentence_id") == sid) & (pl.col("seq") == 1)
    tokens = _set(batch["tokens"], where, "token", fake)
    result = validate_tables(dict(batch, sentences=sents, tokens=tokens))
    msg = result.quarantined["d1"]
    assert "sentences.char_start/char_end: check 'body[char_start:char_end] == text'" in msg
    assert "tokens.char_start/char_end: check 'body[char_start:char_end] == token'" in msg
    assert f"{sid}#1 body[" in msg


@pytest.mark.parametrize("shuffled", [False, True])
def test_tokens_tile_their_sentence_in_any_row_order(batch, shuffled):
    """A gap between tokens is found whether the rows come grouped by sentence in order (as the
    pipeline builds them) or in any other order."""
    where = (pl.col("sentence_id") == "d2-001-p001-s001") & (pl.col("seq") == 2)
    tokens = batch["tokens"].with_columns(
        pl.when(where).then(pl.col("char_start") + 1).otherwise(pl.col("char_start")).alias("char_start"),
        pl.when(where).then(pl.col("char_end") + 1).otherwise(pl.col("char_end")).alias("char_end"),
    )
    if shuffled:
        tokens = tokens.sample(fraction=1.0, shuffle=True, seed=7)
    result = validate_tables(dict(batch, tokens=tokens))
    assert list(result.quarantined) == ["d2"]
    msg = result.quarantined["d2"]
    assert "tokens.char_start: check 'tokens tile their sentence'" in msg
    assert "d2-001-p001-s001#2 [" in msg


@pytest.mark.parametrize("order", ["built", "shuffled", "split"])
def test_counts_are_checked_in_any_row_order(batch, order):
    """The child rows of a parent are counted wherever they lie (tasks.validate._counts_by counts
    runs of equal keys, then sums each key's runs): grouped as built, shuffled, or one
    sentence's tokens split in two runs; a token too few is found, and none is counted twice."""
    sid = "d2-001-p001-s002"
    tokens = batch["tokens"].filter(~((pl.col("sentence_id") == sid) & (pl.col("seq") == 1)))
    if order == "shuffled":
        tokens = tokens.sample(fraction=1.0, shuffle=True, seed=3)
    elif order == "split":  # the sentence's last token moved to the end of the table
        last = (pl.col("sentence_id") == sid) & (pl.col("seq") == pl.col("seq").max().over("sentence_id"))
        tokens = pl.concat([tokens.filter(~last), tokens.filter(last)])
    msg = validate_tables(dict(batch, tokens=tokens)).quarantined["d2"]
    n = batch["sentences"].filter(pl.col("sentence_id") == sid)["n_tokens"].item()
    assert f"sentences.n_tokens: check 'equals the number of tokens rows' failed for 1 row(s), e.g. {sid} n_tokens={n} but tokens has {n - 1}" in msg
    assert "articles.n_tokens: check 'equals the number of tokens rows' failed for 1 row(s), e.g. d2-001 n_tokens=" in msg


def test_counts_by_key_count_every_row_of_a_key():
    """_counts_by agrees with a group-by count on keys in scattered runs, nulls among them."""
    from tasks.validate import _counts_by

    df = pl.DataFrame({"k": ["a", "a", None, "b", None, None, "a", "c", "b"]})
    got = _counts_by(df, "k").collect().sort("k", nulls_last=True)
    assert got.equals(df.group_by("k").agg(pl.len().alias("_n")).sort("k", nulls_last=True))
    assert got.to_dicts()[:1] == [{"k": "a", "_n": 3}]


@pytest.mark.parametrize(
    ("table", "key", "column", "shown"),
    [
        ("paragraphs", "paragraph_id", "text", "!= text=null"),
        ("sentences", "sentence_id", "char_start", "char_start=null"),
        ("tokens", "sentence_id", "token", "!= token=null"),
    ],
)
def test_null_in_a_checked_column_quarantines_its_document(batch, table, key, column, shown):
    """A null where a value is checked against the body is a failing row like any other: its
    document is quarantined with a message naming the row, and the batch goes on."""
    first = batch[table].filter(pl.col("doc_id") == "d2")[key][0]
    bad = _set(batch[table], pl.col(key) == first, column, None)
    result = validate_tables(dict(batch, **{table: bad}))
    assert list(result.quarantined) == ["d2"]
    msg = result.quarantined["d2"]
    assert msg.startswith("validation failed: ") and first in msg and shown in msg
    assert set(result.tables[table]["doc_id"].to_list()) == {"d1"}
    DocumentsModel.validate(result.tables["documents"])


class _Keyed(pa.DataFrameModel):
    """A table keyed by (parent id, seq), like tokens (sentence_id, seq)."""

    parent: str
    seq: int

    class Config:
        strict = True
        unique = ["parent", "seq"]


def _keyed(n: int) -> pl.DataFrame:
    return pl.DataFrame({"parent": [f"s{i // 10:05d}" for i in range(n)], "seq": [i % 10 for i in range(n)]})


def test_fast_pass_on_a_large_grouped_table_still_finds_duplicate_keys():
    """From 10,000 rows the fast pass proves a grouped table's keys distinct from its runs
    (schemas._fast._grouped_distinct); a duplicate key next to its twin, far from it, or a null
    must still fail, as Pandera fails it."""
    from schemas._fast import _grouped_distinct, passes

    ok = _keyed(12_000)
    assert _grouped_distinct(ok, ["parent", "seq"]) and passes(_Keyed, ok)
    near = pl.concat([ok[:501], ok[500:]])  # row 500 twice, side by side
    far = pl.concat([ok, ok[500:501]])  # row 500 again at the end: its parent in two runs
    unordered = pl.concat([ok[:500], ok[501:502], ok[500:501], ok[502:]])  # seq 1, 0 in a run
    for df in (near, far):
        assert not _grouped_distinct(df, ["parent", "seq"]) and not passes(_Keyed, df)
        with pytest.raises(SchemaErrors):
            _Keyed.validate(df, lazy=True)
    assert not _grouped_distinct(unordered, ["parent", "seq"]) and passes(_Keyed, unordered)


class _Positive(pa.DataFrameModel):
    """A check the fast pass records (one select) and reuses on every frame."""

    x: int = pa.Field(gt=0)

    @pa.dataframe_check(name="x < 10")
    def small(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("x") < 10)


class _Windowed(pa.DataFrameModel):
    """A check that does more than one select on the frame: the fast pass cannot record it."""

    x: int

    @pa.dataframe_check(name="x increases")
    def increasing(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.with_columns(pl.col("x").diff().alias("d")).select(pl.col("d").fill_null(1) > 0)


def test_fast_pass_reuses_recorded_checks_and_leaves_other_checks_to_pandera():
    """schemas._fast records each check's expression once per model (and the row checks once
    per schema) and applies them to each new frame: a later frame failing a check must still
    fail. A model whose check does anything but one select on the frame is left to Pandera."""
    from schemas._fast import _plan, passes

    assert passes(_Positive, pl.DataFrame({"x": [1, 9]}))
    for bad in ([1, 10], [0, 2], [1, None]):
        df = pl.DataFrame({"x": bad})
        assert not passes(_Positive, df)
        with pytest.raises(SchemaErrors):
            _Positive.validate(df, lazy=True)
    assert passes(_Positive, pl.DataFrame({"x": [3]}))
    assert _plan(_Windowed) is None
    assert not passes(_Windowed, pl.DataFrame({"x": [1, 2]}))
    _Windowed.validate(pl.DataFrame({"x": [1, 2]}))
    with pytest.raises(SchemaErrors):
        _Windowed.validate(pl.DataFrame({"x": [2, 1]}), lazy=True)
