"""Validate a batch of tables: each table against its Pandera model, then cross-table checks.

Failures are mapped to the document(s) of the failing rows. Those documents are quarantined
(``status='quarantined'``, ``error`` = one line naming table, column, check and a few failing
rows) and their rows dropped from every other table; the rest of the batch passes. Failures
that no document can be blamed for (a missing column, a wrong dtype, a null ``doc_id``, a
documents row that stays invalid) raise :class:`BatchValidationError`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

import pandera.polars as pa
import polars as pl
from pandera.errors import SchemaError, SchemaErrors

from schemas import TABLES
from schemas._fast import all_true, passes, query, runs_in_order

#: How a row is named in messages.
ROW_KEYS: dict[str, pl.Expr] = {
    "documents": pl.col("doc_id"),
    "articles": pl.col("article_id"),
    "paragraphs": pl.col("paragraph_id"),
    "sentences": pl.col("sentence_id"),
    "tokens": pl.concat_str([pl.col("sentence_id"), pl.lit("#"), pl.col("seq").cast(pl.Utf8)]),
    "entities": pl.col("entity_id"),
    "dates": pl.col("date_id"),
    "quantities": pl.col("quantity_id"),
}

#: Tables of mentions: spans of one sentence each (entities from a byline have none).
MENTION_TABLES = ("entities", "dates", "quantities")

_PROBLEM_SCHEMA = pl.Schema(
    {"doc_id": pl.Utf8, "table": pl.Utf8, "column": pl.Utf8, "check": pl.Utf8, "case": pl.Utf8}
)
_MAX_CASES = 3
_MAX_ITEMS = 3
_MAX_VALUE = 40
_MAX_CASE = 100
_CHECK_NAMES = {"field_uniqueness": "unique", "not_nullable": "not null"}


class BatchValidationError(ValueError):
    """The batch is broken in a way that cannot be pinned on particular documents."""


@dataclass
class ValidationResult:
    """The valid part of a batch and the documents quarantined by validation."""

    tables: dict[str, pl.DataFrame]
    quarantined: dict[str, str] = field(default_factory=dict)


def _short(value: object) -> str:
    text = value if isinstance(value, str) else repr(value)
    text = text.replace("\r", "\\r").replace("\n", "\\n")
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 1] + "…"


Frame = pl.DataFrame | pl.LazyFrame


def _problems(df: Frame, table: str, column: str, check: str, case: pl.Expr) -> Frame:
    """Problem rows (doc_id, table, column, check, case) for the failing rows ``df`` (lazy when
    ``df`` is: the cross-table checks are planned lazily and collected together, so each join
    carries only the columns its checks read)."""
    return df.select(_problem_exprs(table, column, check, case))


def _problem_exprs(table: str, column: str, check: str, case: pl.Expr) -> list[pl.Expr]:
    return [
        pl.col("doc_id"),
        pl.lit(table).alias("table"),
        pl.lit(column).alias("column"),
        pl.lit(check).alias("check"),
        case.cast(pl.Utf8).alias("case"),
    ]


@functools.cache
def _cached(build, *args):
    """``build(*args)``, built once per process: the cross-table checks' expressions depend on
    names only, and building them anew for each batch cost more than running them on a small
    one. (Expressions are immutable: a query holds a copy of what it was built from.)"""
    return build(*args)


def _problems_of(df: Frame, table: str, column: str, check: str, case, *args) -> Frame:
    """:func:`_problems` with the case ``case(*args)`` (a function of names only), the select
    built once per process (:func:`_cached`)."""
    return df.select(_cached(_case_select, table, column, check, case, *args))


def _case_select(table, column, check, case, *args) -> list[pl.Expr]:
    return _problem_exprs(table, column, check, case(*args))


def _row_key(table: str) -> pl.Expr:
    return ROW_KEYS[table]


#: No problems (shared: a frame is never changed in place here).
_NO_PROBLEMS = pl.DataFrame(schema=_PROBLEM_SCHEMA)


# --------------------------------------------------------------------------- per-table models


def _schema_message(table: str, r: dict) -> str:
    """A schema-level (whole frame) failure, e.g. a missing column or a wrong dtype."""
    if r["check"] == "column_in_dataframe":
        return f"{table}: missing column {r['failure_case']!r}"
    if r["check"] == "column_in_schema":
        return f"{table}: unexpected column {r['failure_case']!r}"
    return f"{table}.{r['column']}: expected {r['check']}, got {_short(r['failure_case'])}"


_UNOPTIMISED = pl.QueryOptFlags.none()


def _passing(tables: dict[str, pl.DataFrame]) -> set[str]:
    """The tables that pass every check of their model, by the fast pass
    (:func:`schemas._fast.query`): one query per table, all collected together."""
    queries = {n: query(m, tables[n]) for n, m in TABLES.items()}
    ready = {n: q for n, q in queries.items() if q is not None}
    # unoptimised: each query is one select of aggregates on a frame in memory, which the
    # optimiser has nothing to gain on but costs planning (a batch's eight queries, same process:
    # 1 file 5.6-6.1 -> 4.6-4.8 ms, 25 files 10.8-11.1 -> 9.6-10.3 ms)
    results = pl.collect_all(list(ready.values()), engine="in-memory", optimizations=_UNOPTIMISED)
    return {n for n, r in zip(ready, results) if all_true(r)}


def _model_failures(
    name: str, model: type[pa.DataFrameModel], df: pl.DataFrame, passed: bool = False
) -> tuple[pl.DataFrame, list[str]]:
    """Validate one table lazily; return attributable problems and unattributable messages.
    A table that ``passed`` every check of its model in one pass (:func:`_passing`) is not
    validated again; any other goes through Pandera, which names what failed."""
    if passed:
        return _NO_PROBLEMS, []
    try:
        model.validate(df, lazy=True)
        return _NO_PROBLEMS, []
    except SchemaErrors as exc:
        fc = exc.failure_cases
    except SchemaError as exc:  # not collected lazily: nothing to attribute
        return _NO_PROBLEMS, [f"{name}: {exc}"]

    schema_level = fc.filter(pl.col("index").is_null())
    unattributable = [_schema_message(name, r) for r in schema_level.iter_rows(named=True)]
    if unattributable:
        return _NO_PROBLEMS, unattributable

    unique_cols = ", ".join(model.to_schema().unique or [])
    rows = df.with_row_index("index").with_columns(pl.col("index").cast(pl.Int64))
    cols = set(df.columns)
    hits = fc.with_columns(pl.col("index").cast(pl.Int64)).join(
        rows.select(
            "index",
            "doc_id",
            ROW_KEYS[name]
            .fill_null(pl.concat_str([pl.lit("row "), pl.col("index").cast(pl.Utf8)]))
            .alias("_key"),
        ),
        on="index",
        how="left",
    )
    if hits["doc_id"].null_count():
        bad = hits.filter(pl.col("doc_id").is_null()).head(_MAX_CASES)
        return _NO_PROBLEMS, [
            f"{name}.{r['column']}: {r['check']} failed on a row without doc_id (row {r['index']})"
            for r in bad.iter_rows(named=True)
        ]

    out = []
    for (column, check, context), group in hits.group_by(
        ["column", "check", "schema_context"], maintain_order=True
    ):
        if context == "Column":
            col, chk = str(column), _CHECK_NAMES.get(str(check), str(check))
            value = pl.col("failure_case").fill_null("null")
            case = (
                pl.when(pl.col("_key") == value)
                .then(pl.col("_key"))
                .otherwise(pl.concat_str([pl.col("_key"), pl.lit(f" {col}="), value]))
            )
        else:  # a dataframe-wide check: name the columns the check mentions, with their values
            chk = str(check)
            if chk == "multiple_fields_uniqueness":
                col, chk, mentioned = f"({unique_cols})", "unique", []
            else:
                mentioned = [w for w in dict.fromkeys(re.findall(r"[a-z_]+", chk)) if w in cols]
                col = mentioned[0] if mentioned else "*"
            case = pl.col("_key")
            if mentioned:
                vals = rows.join(group.select("index"), on="index", how="semi").select(
                    "index", *[pl.col(c).alias(f"_v_{c}") for c in mentioned]
                )
                group = group.join(vals, on="index", how="left")
                shown = [
                    pl.concat_str([pl.lit(f"{c}="), pl.col(f"_v_{c}").cast(pl.Utf8).fill_null("null")])
                    for c in mentioned
                    if c not in ("body", "text", "token")
                ]
                if shown:
                    case = pl.concat_str(
                        [pl.col("_key"), pl.lit(" ("), pl.concat_str(shown, separator=", "), pl.lit(")")]
                    )
        out.append(_problems(group, name, col, chk, case))
    return pl.concat(out) if out else _NO_PROBLEMS, []


# --------------------------------------------------------------------------- cross-table checks


def _orphans(tables: dict[str, pl.DataFrame]) -> list[Frame]:
    """Rows whose doc_id has no documents row."""
    known = tables["documents"].lazy().select("doc_id")
    return [
        _problems_of(
            tables[t].lazy().join(known, on="doc_id", how="anti"), t, "doc_id", "references documents",
            _row_key, t,
        )
        for t in ("articles", "paragraphs", "sentences", "tokens", *MENTION_TABLES)
    ]


class _Ref(NamedTuple):
    """A child table's reference to its parent: the key, the ids above it both must agree on,
    whether the child's span lies inside the parent's, and whether the children tile it."""

    child: str
    parent: str
    key: str
    same: tuple[str, ...]
    spans: bool = False
    tile: bool = False


#: Paragraphs, sentences and tokens tile their parent; a mention lies inside its sentence (an
#: entity from a byline has no sentence: it is checked against its article only).
REFS = (
    _Ref("paragraphs", "articles", "article_id", ("doc_id",)),
    _Ref("sentences", "paragraphs", "paragraph_id", ("article_id", "doc_id"), spans=True, tile=True),
    _Ref("tokens", "sentences", "sentence_id", ("paragraph_id", "article_id", "doc_id"), spans=True, tile=True),
    *(_Ref(m, "sentences", "sentence_id", ("article_id", "doc_id"), spans=True) for m in MENTION_TABLES),
)


def _parent_refs(tables: dict[str, pl.DataFrame]) -> list[Frame]:
    """Each child row's parent exists, agrees on the ids above it, and contains its span (rows
    without a key, which only a mention table allows, have no parent to check).

    A child table is first proven to pass as a whole when it can be, and then not checked row by
    row: by :func:`_tiles_parent` if it tiles its parent and is :func:`_presorted` (tokens,
    sentences: their runs, not each row, are joined to the parents), by :func:`_within_parent`
    if it does not tile it (one query instead of four); all proofs in one batch of queries. A
    child table whose proof fails, or that tiles its parent unsorted, is checked row by row."""
    refs = []
    for ref in REFS:
        c_eager = tables[ref.child]
        if c_eager[ref.key].null_count():
            c_eager = c_eager.filter(pl.col(ref.key).is_not_null())
        refs.append((ref, c_eager, ref.tile and _presorted(c_eager, ref.key)))
    proofs = {
        ref: _tiles_parent(c_eager, tables[ref.parent], ref.key, ref.same)
        if presorted
        else _within_parent(c_eager, tables[ref.parent], ref.key, ref.same, ref.spans)
        for ref, c_eager, presorted in refs
        if presorted or not ref.tile
    }
    got = pl.collect_all(list(proofs.values()), engine="in-memory") if proofs else []
    held = {ref for ref, r in zip(proofs, got) if r.item()}
    out: list[Frame] = []
    for (child, parent, key, same, spans, tile), c_eager, presorted in refs:
        if (child, parent, key, same, spans, tile) in held:
            continue  # the queries below would flag no row
        c, p = c_eager.lazy(), tables[parent].lazy()
        if presorted:  # the children's neighbours ride along the join below, which tiling reuses
            c = c.with_columns(_cached(_neighbours_in_place, key))
        out.append(
            _problems_of(
                c.join(p.select(key), on=key, how="anti"), child, key, f"references {parent}", _row_key, child
            )
        )
        j = c.join(p.select(_cached(_parent_cols, key, same, spans or presorted)), on=key, how="inner")
        for s in same:
            bad = j.filter(_cached(_differs, s))
            out.append(_problems_of(bad, child, s, f"equals its {parent} row's", _same_case, child, s, parent))
        if spans:
            bad = j.filter(_cached(_outside))
            out.append(_problems_of(bad, child, "char_start", f"inside its {parent} span", _outside_case, child, parent))
        if tile:
            out.append(_tiling(c_eager, p, child, parent, key, joined=j if presorted else None))
    return out


def _tiles_parent(c: pl.DataFrame, p: pl.DataFrame, key: str, same: tuple[str, ...]) -> pl.LazyFrame:
    """Whether children ``c`` that tile their parent and are :func:`_presorted` (each key one
    run, none null) pass every check :func:`_parent_refs` makes of them (one boolean): the
    parent ``p`` has one row per key; each run's key has a parent row, its first row has the
    parent's ``same`` values and starts at the parent's start, its last row ends at its end;
    each other row has the ``same`` values of the row before it and starts where it ended, and
    no row ends before it starts. Each child then has one parent, agrees with it, lies in its
    span and tiles it with its neighbours (:func:`_untiled` holds for none).

    The parents are joined to the runs (a few thousand strings hashed, not a row per token)."""
    x = c.lazy().select(key, *same, "char_start", "char_end").with_columns(_cached(_run_edges, key))
    per_run = _run_spans(x, key, same).join(
        p.lazy().select(*_cached(_parent_cols, key, same, True), _FOUND), on=key, how="left"
    )
    return pl.concat(
        [
            x.select(_cached(_children_chain, same)),
            per_run.select(_cached(_runs_fit, same)),
            p.lazy().select(pl.col(key).is_unique().all().alias("_unique")),
        ],
        how="horizontal",
    ).select(pl.all_horizontal("_chain", "_fit", "_unique").fill_null(False))


def _within_parent(c: pl.DataFrame, p: pl.DataFrame, key: str, same: tuple[str, ...], spans: bool) -> pl.LazyFrame:
    """Whether children ``c`` that do not tile their parent pass every check :func:`_parent_refs`
    makes of them (one boolean): the parent ``p`` has one row per key, and each child row finds
    it, has its ``same`` values and (``spans``) lies in its span."""
    j = c.lazy().join(p.lazy().select(*_cached(_parent_cols, key, same, spans), _FOUND), on=key, how="left")
    return pl.concat(
        [j.select(_cached(_rows_within, same, spans)), p.lazy().select(pl.col(key).is_unique().all().alias("_unique"))],
        how="horizontal",
    ).select(pl.all_horizontal("_within", "_unique").fill_null(False))


def _rows_within(same: tuple[str, ...], spans: bool) -> pl.Expr:
    """Each child row found its parent, has its ``same`` values and lies in its span (a null
    comparison fails here; it flags no row there, where filters keep only True)."""
    ok = [pl.col("_found"), *[pl.col(s) == pl.col(f"_p_{s}") for s in same]]
    if spans:
        ok.append(~_outside())
    return pl.all_horizontal(ok).fill_null(False).all().alias("_within")


def _run_spans(x: pl.LazyFrame, key: str, same: tuple[str, ...]) -> pl.LazyFrame:
    """One row per run of equal ``key`` of ``x`` (with :func:`_run_edges`): the key, the run's
    first row's ``same`` values and start, its last row's end."""
    return pl.concat(
        [x.filter("_first").select(key, *same, "char_start"), x.filter("_last").select("char_end")],
        how="horizontal",
    )


def _run_edges(key: str) -> list[pl.Expr]:
    """``_first``, ``_last``: whether a row is the first, the last of its run of equal ``key``
    (a null key: a run of its own)."""
    k = pl.col(key)
    return [(k != k.shift(1)).fill_null(True).alias("_first"), (k != k.shift(-1)).fill_null(True).alias("_last")]


_FOUND = pl.lit(True).alias("_found")


def _chained(same: tuple[str, ...]) -> pl.Expr:
    """Per row: a run's first, or one with the ``same`` values of the row before it that starts
    where that one ended."""
    start, end = pl.col("char_start"), pl.col("char_end")
    return pl.col("_first") | pl.all_horizontal([pl.col(s) == pl.col(s).shift(1) for s in same] + [start == end.shift(1)])


def _children_chain(same: tuple[str, ...]) -> pl.Expr:
    """Each row but a run's first has the ``same`` values of the row before it and starts where
    it ended; no row ends before it starts."""
    ok = pl.all_horizontal(_chained(same), pl.col("char_end") >= pl.col("char_start"))
    return ok.fill_null(False).all().alias("_chain")


def _runs_fit(same: tuple[str, ...]) -> pl.Expr:
    """Each run (its first row's values, its last row's end) found its parent, has its ``same``
    values, starts at its start and ends at its end."""
    ok = pl.all_horizontal(
        pl.col("_found"),
        *[pl.col(s) == pl.col(f"_p_{s}") for s in same],
        pl.col("char_start") == pl.col("_p_start"),
        pl.col("char_end") == pl.col("_p_end"),
    )
    return ok.fill_null(False).all().alias("_fit")


def _parent_cols(key: str, same: tuple[str, ...], span: bool) -> list:
    pcols = [key, *[pl.col(s).alias(f"_p_{s}") for s in same]]
    if span:
        pcols += [pl.col("char_start").alias("_p_start"), pl.col("char_end").alias("_p_end")]
    return pcols


def _differs(s: str) -> pl.Expr:
    return pl.col(s) != pl.col(f"_p_{s}")


def _same_case(child: str, s: str, parent: str) -> pl.Expr:
    return pl.concat_str(
        [ROW_KEYS[child], pl.lit(f" {s}="), pl.col(s), pl.lit(f" vs {parent} "), pl.col(f"_p_{s}")]
    )


def _outside() -> pl.Expr:
    return (pl.col("char_start") < pl.col("_p_start")) | (pl.col("char_end") > pl.col("_p_end"))


def _outside_case(child: str, parent: str) -> pl.Expr:
    return pl.concat_str(
        [
            ROW_KEYS[child],
            pl.lit(" ["),
            pl.col("char_start").cast(pl.Utf8),
            pl.lit(":"),
            pl.col("char_end").cast(pl.Utf8),
            pl.lit(f"] outside {parent} ["),
            pl.col("_p_start").cast(pl.Utf8),
            pl.lit(":"),
            pl.col("_p_end").cast(pl.Utf8),
            pl.lit("]"),
        ]
    )


def _mention_refs(tables: dict[str, pl.DataFrame]) -> list[Frame]:
    """Every mention (a byline entity too, which has no sentence) names an article of its own
    document; their sentences are checked with the other references (:data:`REFS`)."""
    arts = tables["articles"].lazy().select("article_id", pl.col("doc_id").alias("_a_doc_id"))
    out = []
    for t in MENTION_TABLES:
        ja = tables[t].lazy().join(arts, on="article_id", how="left")
        bad = ja.filter(_cached(_other_doc))
        out.append(_problems_of(bad, t, "article_id", "references articles of its document", _row_key, t))
    return out


def _other_doc() -> pl.Expr:
    return pl.col("_a_doc_id").is_null() | (pl.col("_a_doc_id") != pl.col("doc_id"))


def _presorted(c: pl.DataFrame, key: str) -> bool:
    """Each parent's children are already together, in increasing seq (as the pipeline builds
    them)."""
    return runs_in_order(c, [key], "seq")


def _neighbours_in_place(key: str) -> list[pl.Expr]:
    """``_prev_end`` and ``_from_end`` of :func:`_presorted` children: their neighbours by
    position are those by (key, seq), no sort needed."""
    k = pl.col(key)
    same_as_prev = (k == k.shift(1)).fill_null(False)
    return [
        pl.when(same_as_prev).then(pl.col("char_end").shift(1)).alias("_prev_end"),
        pl.when((k == k.shift(-1)).fill_null(False)).then(2).otherwise(1).alias("_from_end"),
    ]


def _tiling(
    c: pl.DataFrame, p: pl.LazyFrame, child: str, parent: str, key: str,
    joined: pl.LazyFrame | None = None,
) -> Frame:
    """Children of a parent follow each other without gap or overlap and cover it exactly.

    ``joined``: when :func:`_parent_refs` found the children ``c`` :func:`_presorted`, their
    rows with :func:`_neighbours_in_place`, inner-joined to their parent's span (``_p_start``,
    ``_p_end``), a join it makes for its own checks anyway; None when they are not, and are
    sorted here."""
    if joined is not None:
        ordered = joined
    else:
        span = p.select(key, pl.col("char_start").alias("_p_start"), pl.col("char_end").alias("_p_end"))
        ordered = c.lazy().sort(key, "seq").with_columns(
            pl.col("char_end").shift(1).over(key).alias("_prev_end"),
            pl.col("seq").rank("ordinal", descending=True).over(key).alias("_from_end"),
        ).join(span, on=key, how="inner")
    bad = ordered.filter(_cached(_untiled))
    if joined is not None:  # failing rows in the order of the sorted frame
        bad = bad.sort(key, "seq")
    return _problems_of(
        bad, child, "char_start", f"{child} tile their {parent.removesuffix('s')}", _tiling_case, child
    )


def _untiled() -> pl.Expr:
    start_ok = (
        pl.when(pl.col("_prev_end").is_null())
        .then(pl.col("char_start") == pl.col("_p_start"))
        .otherwise(pl.col("char_start") == pl.col("_prev_end"))
    )
    end_ok = (pl.col("_from_end") != 1) | (pl.col("char_end") == pl.col("_p_end"))
    return ~(start_ok & end_ok)


def _tiling_case(child: str) -> pl.Expr:
    return pl.concat_str(_span_label(child, " ["))


def _span_label(table: str, opening: str) -> list[pl.Expr]:
    """The parts of a failure case naming a row and its span: ``<row key><opening>start:end]``."""
    return [ROW_KEYS[table], pl.lit(opening), _shown(pl.col("char_start")), pl.lit(":"),
            _shown(pl.col("char_end")), pl.lit("]")]


def _shown(value: pl.Expr, quote: str = "") -> pl.Expr:
    """A value as a failure case shows it: quoted (``quote``), or ``null`` (a null would make
    the whole case null)."""
    text = value.cast(pl.Utf8)
    if quote:
        text = pl.concat_str([pl.lit(quote), text, pl.lit(quote)])
    return text.fill_null("null")


def _offsets(tables: dict[str, pl.DataFrame]) -> list[Frame]:
    """``articles.body[char_start:char_end] == text`` (polars slices by code point, like Python).

    Slicing a long body at a far offset walks it from its start, so a row of a table keyed by
    sentence (tokens, mentions) whose sentence passed this check, belongs to the same article and
    lies within the sentence's span is read from the sentence's text instead: that text is the
    body's slice, so the slice within it is the same string. Other rows read the body.

    Before that, a table keyed by sentence is proven to pass as a whole when it can be
    (:func:`_anchors_hold`), and then not checked row by row."""
    bodies = tables["articles"].select(
        "article_id", pl.col("body").alias("_body"), pl.col("body").str.len_chars().alias("_body_len")
    )
    out: list[Frame] = []
    anchors = None
    held: set[str] = set()
    pairs = [("paragraphs", "text"), ("sentences", "text"), ("tokens", "token")]
    for t, text in pairs + [(m, "text") for m in MENTION_TABLES]:
        if t == "tokens" and anchors is not None:
            held = _anchors_hold(tables, anchors)
        if t in held:
            continue  # every row is its sentence's slice: the query below would flag none
        # lazy but for the sentences, whose passing rows anchor the tables below them
        j = tables[t] if t == "sentences" else tables[t].lazy()
        j = j.filter(_cached(_has_span))
        j = j.join(bodies if t == "sentences" else bodies.lazy(), on="article_id", how="inner")
        if anchors is not None and t != "sentences":
            j = j.join(anchors.lazy(), on="sentence_id", how="left", maintain_order="left")
            usable, sliced = _cached(_anchored_slice)
            j = j.with_columns(usable).with_columns(sliced)
        else:
            j = j.with_columns(_cached(_body_slice))
        j = j.with_columns(_cached(_slice_ok, text))
        if t == "sentences" and tables[t]["sentence_id"].is_unique().all():
            anchors = j.filter("_ok").select(_cached(_anchor_cols))
            if not anchors["sentence_id"].is_unique().all():  # an article id twice: no anchors
                anchors = None
        bad = j.filter(_cached(_not_ok)).with_columns(_cached(_shortened, text))
        out.append(
            _problems_of(bad, t, "char_start/char_end", f"body[char_start:char_end] == {text}", _offsets_case, t, text)
        )
    return out


def _anchors_hold(tables: dict[str, pl.DataFrame], anchors: pl.DataFrame) -> set[str]:
    """The tables keyed by sentence (tokens, mentions) each row of which, if it has a span, is
    usable by its sentence's anchor (:func:`_anchored_slice`) and is the anchor text's slice
    (all proven in one batch of queries). Articles having one row per article_id, each such row
    then joins one body and passes :func:`_slice_ok` (its span lies within its sentence's,
    which passed within the same body): :func:`_offsets` would flag none of them. A table not
    returned may pass all the same: its rows are checked one by one."""
    if not tables["articles"]["article_id"].is_unique().all():  # (two nulls: not unique)
        return set()
    a = anchors.lazy()
    names = ["tokens", *MENTION_TABLES]
    queries = [_tiles_anchors(tables["tokens"].lazy(), a)]
    queries += [_within_anchors(tables[m].lazy(), a) for m in MENTION_TABLES]
    got = pl.collect_all(queries, engine="in-memory")
    return {n for n, r in zip(names, got) if r.item()}


def _within_anchors(df: pl.LazyFrame, anchors: pl.LazyFrame) -> pl.LazyFrame:
    """For mentions: each row with a span is :func:`_anchored_slice` usable and its anchor
    text's slice (one boolean)."""
    rows = df.filter(_cached(_has_span)).select("sentence_id", "article_id", "char_start", "char_end", "text")
    return rows.join(anchors, on="sentence_id", how="left").select(_cached(_anchored_ok, "text"))


def _anchored_ok(text: str) -> pl.Expr:
    """Each row is usable by its anchor, and its slice of the anchor's text is ``text`` (offsets
    clipped at 0 as there: a negative length raises)."""
    usable, _ = _anchored_slice()
    same = pl.col("_s_text").str.slice(
        (pl.col("char_start") - pl.col("_s_start")).clip(lower_bound=0),
        (pl.col("char_end") - pl.col("char_start")).clip(lower_bound=0),
    ) == pl.col(text)
    return (usable & same).fill_null(False).all()


def _tiles_anchors(df: pl.LazyFrame, anchors: pl.LazyFrame) -> pl.LazyFrame:
    """For tokens, the proof of :func:`_within_anchors` without slicing (slicing far into a
    sentence walks it from its start: 4 ms for a batch's tokens): each run of rows of one
    sentence_id has that sentence's anchor and its article_id, starts at its start, each row
    where the row before ended, ends at its end; each row spans as many characters as its token
    has, and all the tokens together are all the runs' sentence texts together. A run's tokens
    then add up to as many characters as its sentence's text (a passing sentence's text has
    char_end - char_start), so they are that text, each at its span: the slice compared there.
    The anchors are joined to the runs, not to each token (a few thousand strings hashed instead
    of one per token)."""
    rows = df.filter(_cached(_has_span)).select("sentence_id", "article_id", "char_start", "char_end", "token")
    x = rows.with_columns(_cached(_run_edges, "sentence_id"))
    per_run = _run_spans(x, "sentence_id", ("article_id",)).join(
        anchors, on="sentence_id", how="left", maintain_order="left"
    )
    return pl.concat(
        [
            x.select(_cached(_tokens_chain)),
            per_run.select(_cached(_runs_anchored)),
            rows.select(pl.col("token").str.join("").alias("_tokens")),
            per_run.select(pl.col("_s_text").str.join("").alias("_texts")),
        ],
        how="horizontal",
    ).select(pl.all_horizontal("_chain", "_anchored", pl.col("_tokens") == pl.col("_texts")).fill_null(False))


def _tokens_chain() -> pl.Expr:
    """Each row but a run's first has the article_id of the row before it and starts where that
    one ended; each spans as many characters as its token has."""
    spans = pl.col("token").str.len_chars() == pl.col("char_end") - pl.col("char_start")
    return (_chained(("article_id",)) & spans).fill_null(False).all().alias("_chain")


def _runs_anchored() -> pl.Expr:
    """Each run has an anchor of its article_id, and spans it exactly."""
    ok = (
        pl.col("_s_ok")
        & (pl.col("article_id") == pl.col("_s_article_id"))
        & (pl.col("char_start") == pl.col("_s_start"))
        & (pl.col("char_end") == pl.col("_s_end"))
    )
    return ok.fill_null(False).all().alias("_anchored")


def _has_span() -> pl.Expr:
    return pl.col("char_start").is_not_null() | pl.col("char_end").is_not_null()


def _clipped() -> tuple[pl.Expr, pl.Expr]:
    start = pl.col("char_start").clip(lower_bound=0)
    return start, (pl.col("char_end") - start).clip(lower_bound=0)


def _body_slice() -> pl.Expr:
    start, length = _clipped()
    return pl.col("_body").str.slice(start, length).alias("_slice")


def _anchored_slice() -> tuple[pl.Expr, pl.Expr]:
    start, length = _clipped()
    usable = (
        pl.col("_s_ok")
        & (pl.col("_s_article_id") == pl.col("article_id"))
        & (pl.col("_s_start") <= pl.col("char_start"))
        & (pl.col("char_start") <= pl.col("char_end"))
        & (pl.col("char_end") <= pl.col("_s_end"))
    ).fill_null(False)
    sliced = pl.coalesce(
        # offsets clipped as below: they are used only where _usable, where they
        # are >= 0 anyway, but are computed for every row
        pl.when("_usable").then(pl.col("_s_text")).str.slice(
            (pl.col("char_start") - pl.col("_s_start")).clip(lower_bound=0),
            (pl.col("char_end") - pl.col("char_start")).clip(lower_bound=0),
        ),
        pl.when(~pl.col("_usable")).then(pl.col("_body")).str.slice(start, length),
    ).alias("_slice")
    return usable.alias("_usable"), sliced


def _slice_ok(text: str) -> pl.Expr:
    ok = (
        (pl.col("char_start") >= 0)
        & (pl.col("char_end") >= pl.col("char_start"))
        & (pl.col("char_end") <= pl.col("_body_len"))
        & (pl.col("_slice") == pl.col(text))
    ).fill_null(False)
    return ok.alias("_ok")


def _anchor_cols() -> list[pl.Expr]:
    return [
        pl.col("sentence_id"),
        pl.lit(True).alias("_s_ok"),
        pl.col("article_id").alias("_s_article_id"),
        pl.col("char_start").alias("_s_start"),
        pl.col("char_end").alias("_s_end"),
        pl.col("text").alias("_s_text"),
    ]


def _not_ok() -> pl.Expr:
    return ~pl.col("_ok")


def _shortened(text: str) -> list[pl.Expr]:
    return [pl.col("_slice").str.slice(0, 12).alias("_slice"), pl.col(text).str.slice(0, 12).alias("_text")]


def _offsets_case(t: str, text: str) -> pl.Expr:
    return pl.concat_str(
        [
            *_span_label(t, " body["),
            pl.lit("='"),
            pl.col("_slice").fill_null(""),
            pl.lit(f"' != {text}="),
            _shown(pl.col("_text"), "'"),
        ]
    )


def _counts_by(child: pl.DataFrame, key: str) -> pl.LazyFrame:
    """``key`` and the number of rows of ``child`` with that value (``_n``; null is a value).

    Counted over runs of equal values, then the runs of each value summed: a child table
    comes with each parent's rows together, so only a run per parent is hashed, not each row
    (a batch's tokens by sentence: 0.7 ms instead of 2.5). Any order of rows counts the same."""
    return (
        child.lazy()
        .select(pl.col(key).rle())
        .unnest(key)
        .group_by(pl.col("value").alias(key))
        .agg(pl.col("len").sum().alias("_n"))
    )


def _counts(tables: dict[str, pl.DataFrame]) -> list[Frame]:
    """Denormalised counts agree with the child tables."""
    d, a, p, s, k = (tables[n] for n in ("documents", "articles", "paragraphs", "sentences", "tokens"))
    specs = [
        ("documents", d.filter(pl.col("status") == "ok"), "doc_id", "n_articles", "articles", a),
        ("articles", a, "article_id", "n_paragraphs", "paragraphs", p),
        ("articles", a, "article_id", "n_sentences", "sentences", s),
        ("articles", a, "article_id", "n_tokens", "tokens", k),
        ("paragraphs", p, "paragraph_id", "n_sentences", "sentences", s),
        ("sentences", s, "sentence_id", "n_tokens", "tokens", k),
    ]
    out = []
    for table, parent, key, col, child_name, child in specs:
        counts = _counts_by(child, key)
        j = parent.lazy().join(counts, on=key, how="left").with_columns(_cached(_n_filled))
        bad = j.filter(_cached(_differs_n, col))
        out.append(
            _problems_of(bad, table, col, f"equals the number of {child_name} rows", _count_case, table, col, child_name)
        )
    return out


def _n_filled() -> pl.Expr:
    return pl.col("_n").fill_null(0)


def _differs_n(col: str) -> pl.Expr:
    return pl.col(col) != pl.col("_n")


def _count_case(table: str, col: str, child_name: str) -> pl.Expr:
    return pl.concat_str(
        [
            ROW_KEYS[table],
            pl.lit(f" {col}="),
            pl.col(col).cast(pl.Utf8),
            pl.lit(f" but {child_name} has "),
            pl.col("_n").cast(pl.Utf8),
        ]
    )


# --------------------------------------------------------------------------- quarantine


def _messages(problems: pl.DataFrame) -> dict[str, str]:
    """One line per document: the first few failing (table, column, check) with a few cases."""
    order = {name: i for i, name in enumerate(TABLES)}
    groups = (
        problems.group_by(["doc_id", "table", "column", "check"], maintain_order=True)
        .agg(pl.len().alias("n"), pl.col("case").head(_MAX_CASES).alias("cases"))
        .with_columns(pl.col("table").replace_strict(order, default=len(order)).alias("_order"))
        .sort("doc_id", "_order", maintain_order=True)
    )
    items: dict[str, list[str]] = {}
    for r in groups.iter_rows(named=True):
        # (a case is null when its row's key is: the check failed all the same)
        shown = ("null" if c is None else c for c in r["cases"])
        cases = ", ".join(c if len(c) <= _MAX_CASE else c[: _MAX_CASE - 1] + "…" for c in shown)
        items.setdefault(r["doc_id"], []).append(
            f"{r['table']}.{r['column']}: check '{_short(r['check'])}' "
            f"failed for {r['n']} row(s), e.g. {cases}"
        )
    out = {}
    for doc_id, msgs in items.items():
        more = f"; and {len(msgs) - _MAX_ITEMS} more failing check(s)" if len(msgs) > _MAX_ITEMS else ""
        out[doc_id] = ("validation failed: " + "; ".join(msgs[:_MAX_ITEMS]) + more).replace("\n", " ")
    return out


def _nullable_columns(model: type[pa.DataFrameModel]) -> set[str]:
    return {n for n, c in model.to_schema().columns.items() if c.nullable}


def _raise(messages: Iterable[str]) -> None:
    msgs = list(messages)
    if msgs:
        raise BatchValidationError(
            "batch failed validation in a way no document can be quarantined for: " + "; ".join(msgs)
        )


def validate_tables(tables: dict[str, pl.DataFrame]) -> ValidationResult:
    """Validate a batch (``{table name: DataFrame}`` for every table in :data:`schemas.TABLES`).

    Returns the valid rows and ``{doc_id: message}`` for the documents quarantined here
    (documents already quarantined on input keep their own error and are not listed)."""
    missing = [n for n in TABLES if n not in tables]
    extra = [n for n in tables if n not in TABLES]
    _raise([f"missing table {n!r}" for n in missing] + [f"unknown table {n!r}" for n in extra])

    found, unattributable = [], []
    passing = _passing(tables)
    for name, model in TABLES.items():
        problems, errors = _model_failures(name, model, tables[name], name in passing)
        found.append(problems)
        unattributable += errors
    _raise(unattributable)

    cross = _orphans(tables) + _parent_refs(tables) + _mention_refs(tables) + _offsets(tables) + _counts(tables)
    # one batch of queries, in this order; in memory: the streaming engine costs more on frames
    # this small
    found += pl.collect_all([f.lazy() for f in cross], engine="in-memory")
    if not any(f.height for f in found):  # (concatenating some fifty empty frames costs ~1 ms)
        return ValidationResult(tables=dict(tables), quarantined={})
    problems = pl.concat(found)

    docs = tables["documents"]
    messages = _messages(problems)
    # Documents not (properly) quarantined yet: ok ones, and any with a bad status or no error.
    no_error = pl.col("error").is_null() | (pl.col("error").str.strip_chars() == "")
    open_docs = set(docs.filter(pl.col("status").ne_missing("quarantined") | no_error)["doc_id"].to_list())
    known = set(docs["doc_id"].to_list())
    newly = {d: m for d, m in messages.items() if d in open_docs}
    orphans = {d: m + " (no documents row)" for d, m in messages.items() if d not in known}

    # Quarantine: status, error, and null out nullable documents values that failed their check.
    msg_frame = pl.DataFrame(
        {"doc_id": list(newly), "_msg": list(newly.values())}, schema={"doc_id": pl.Utf8, "_msg": pl.Utf8}
    )
    bad_doc_cols = problems.filter((pl.col("table") == "documents") & pl.col("doc_id").is_in(list(newly)))
    nullable = _nullable_columns(TABLES["documents"]) - {"error"}
    fixes = []
    for col in sorted(set(bad_doc_cols["column"].to_list()) & nullable):
        ids = bad_doc_cols.filter(pl.col("column") == col)["doc_id"].unique().to_list()
        fixes.append(pl.when(pl.col("doc_id").is_in(ids)).then(None).otherwise(pl.col(col)).alias(col))
    docs = (
        docs.join(msg_frame, on="doc_id", how="left", maintain_order="left")
        .with_columns(
            pl.when(pl.col("_msg").is_not_null())
            .then(pl.lit("quarantined"))
            .otherwise(pl.col("status"))
            .alias("status"),
            pl.coalesce("_msg", "error").alias("error"),
            *fixes,
        )
        .select(docs.columns)
        .cast(dict(docs.schema))
    )
    still, errors = _model_failures("documents", TABLES["documents"], docs, passes(TABLES["documents"], docs))
    _raise(
        errors
        + [
            f"documents row {r['doc_id']} still invalid after quarantine: {r['column']} {r['check']}"
            for r in still.iter_rows(named=True)
        ]
    )

    drop = set(docs.filter(pl.col("status") == "quarantined")["doc_id"].to_list()) | set(orphans)
    out = {"documents": docs}
    for name in list(TABLES)[1:]:
        out[name] = tables[name].filter(~pl.col("doc_id").is_in(list(drop)))
    return ValidationResult(tables=out, quarantined={**newly, **orphans})
