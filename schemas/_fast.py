"""A fast pass over a Pandera model: every check the model holds, evaluated in one go.

Pandera's polars backend runs each check of each column as a query of its own (a few hundred
small ``collect`` calls per batch of tables), which costs far more than the checks themselves.
:func:`passes` evaluates the same checks -- taken from the model's own schema: columns present
(and no other with ``strict``), dtypes, nullability, column uniqueness, every column check and
every dataframe check with its own function and ``ignore_na``, the ``unique`` column sets -- as
one query of one row (:func:`query`; several tables' queries can be collected together), and
answers only "all pass". Each check function is called once per model to record its expression
(:class:`_Recorder`), and a table's row of checks is built once per schema (:func:`_row_checks`):
building them anew for each frame cost more than running them on a small table.
:func:`validate` returns the frame when they
all pass and otherwise lets Pandera validate it, so failures are reported (and lazily collected)
exactly as Pandera reports them. The models stay the data contract: nothing here names a check.

A model using a feature this pass does not reproduce (coercion, defaults, regex columns,
parsers, element-wise or grouped checks, ``ordered``, ``strict="filter"``,
``drop_invalid_rows``, a check that does more than one select on the frame) is always left to
Pandera.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import pandera.backends.polars.builtin_checks  # noqa: F401 - the built-in checks' polars functions
import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData
from pandera.config import CONFIG

_OK = "__ok"


class _Select(NamedTuple):
    """What a check function returned when called on a :class:`_Recorder`: the select it made."""

    exprs: tuple[Any, ...]
    named: dict[str, Any]


class _Recorder:
    """Stands in for the frame when a check function is called to learn its query. The models'
    checks (Pandera's built-in ones and ours) all return ``data.lazyframe.select(expr)``: recorded
    once per model, ``expr`` is reused for every frame, whose query is the same as the check
    function would have built on it (a check function is a function of its arguments only). A
    check that does anything else with the frame fails here (AttributeError), and its model is
    left to Pandera."""

    def select(self, *exprs: Any, **named: Any) -> _Select:
        return _Select(exprs, named)


class _Output(NamedTuple):
    """A check's expression (one output) and its ``ignore_na``, reduced by :func:`_aggregate`."""

    expr: pl.Expr
    ignore_na: bool


def _reduced(out: Any, ignore_na: bool) -> _Output | bool:
    """A check's output, recorded by :class:`_Recorder`, as :func:`_aggregate` reduces it. A
    bool is kept as it is. Raises TypeError for an output this pass does not read: not one
    select of one expression with one output."""
    if isinstance(out, bool):
        return out
    if not isinstance(out, _Select) or out.named or len(out.exprs) != 1:
        raise TypeError(out)
    col = out.exprs[0]
    if not isinstance(col, pl.Expr) or col.meta.has_multiple_outputs() or col.meta.is_regex_projection():
        raise TypeError(out)
    return _Output(col, ignore_na)


def _aggregate(out: _Output, empty: pl.LazyFrame) -> pl.Expr:
    """A check's output as Pandera's backend reads it: one aggregate expression, true when all
    passed (with ``ignore_na`` a null passes, otherwise it fails). ``empty``: a frame of the
    schema checked. With ``ignore_na``, a boolean output's ``col | col.is_null()`` (Pandera's
    reading) is ``col.fill_null(True)``, which plans faster (no common subexpression to find:
    a batch's eight queries 5.2-6.3 -> 3.8-4.4 ms for 1 file); other outputs keep it."""
    col = out.expr
    # select(expr).select(f(pl.col(name))) is select(f(expr)) for this f, so the checks of a
    # table can share one select
    if not out.ignore_na:
        col = col.fill_null(False)
    elif _is_boolean(col, empty):
        col = col.fill_null(True)
    else:
        col = col | col.is_null()
    return col.all(ignore_nulls=False)


def _is_boolean(expr: pl.Expr, empty: pl.LazyFrame) -> bool:
    try:
        return empty.select(expr).collect_schema().dtypes() == [pl.Boolean]
    except Exception:  # noqa: BLE001 - the query fails when collected, as before
        return False


@functools.cache
def _plan(model: type[pa.DataFrameModel]) -> Any:
    """The model's schema and its checks as ``[check output (:class:`_Output`) or bool]``
    when this pass can reproduce all of them, else None."""
    schema = model.to_schema()
    if (
        schema.coerce
        or schema.ordered
        or schema.strict not in (True, False)
        or getattr(schema, "drop_invalid_rows", False)
        or getattr(schema, "add_missing_columns", False)
        or getattr(schema, "parsers", None)
    ):
        return None
    if schema.unique is not None and not all(isinstance(x, str) for x in schema.unique):
        return None
    for check in schema.checks:
        if check.element_wise or check.groupby is not None or check._check_fn is None:
            return None
    for col in schema.columns.values():
        if (
            col.regex
            or col.coerce
            or not col.required
            or col.default is not None
            or getattr(col, "drop_invalid_rows", False)
            or getattr(col, "parsers", None)
            or col.dtype is None
        ):
            return None
        for check in col.checks:
            if check.element_wise or check.groupby is not None or check._check_fn is None:
                return None
    checks: list[_Output | bool] = []
    try:
        for name, col in schema.columns.items():
            for check in col.checks:
                out = check._check_fn(PolarsData(_Recorder(), name), **check._check_kwargs)
                checks.append(_reduced(out, check.ignore_na))
        for check in schema.checks:
            out = check._check_fn(PolarsData(_Recorder(), "*"), **check._check_kwargs)
            checks.append(_reduced(out, check.ignore_na))
    except (AttributeError, TypeError):
        return None
    return schema, checks


@functools.lru_cache(maxsize=256)
def _row_checks(
    model: type[pa.DataFrameModel], dtypes: tuple[tuple[str, pl.DataType], ...]
) -> list[pl.Expr] | None:
    """The aggregate expressions, one row of booleans, all true when a frame of these column
    names and dtypes passes every check of ``model`` but the ``unique`` column sets; None when
    such a frame fails whatever its rows (a column missing, unexpected or twice, a dtype, a
    check that returned False) or the model is left to Pandera. Depends on the frame's schema
    only, so it is built once per schema: Pandera's polars dtypes check the dtype alone (their
    data container is for coercion)."""
    plan = _plan(model)
    if plan is None:
        return None
    schema, checks = plan
    names = [n for n, _ in dtypes]
    if len(set(names)) != len(names):
        return None
    expected = set(schema.columns)
    if not expected <= set(names) or (schema.strict is True and set(names) != expected):
        return None
    of = dict(dtypes)
    empty = pl.DataFrame(schema=of).lazy()
    # the nullability and uniqueness of every column, then every check, in one select
    own: list[pl.Expr] = []
    for name, col in schema.columns.items():
        dtype = of[name]
        if not col.dtype.check(dtype, PolarsData(empty.select(name), name)):
            return None
        if not col.nullable:
            ok = pl.col(name).is_not_null()
            if dtype.is_float():
                ok = ok & pl.col(name).is_not_nan()
            own.append(ok.all(ignore_nulls=False))
        if col.unique:
            own.append(pl.col(name).is_duplicated().any().not_())
    if not all(c for c in checks if isinstance(c, bool)):
        return None
    exprs = own + [_aggregate(c, empty) for c in checks if not isinstance(c, bool)]
    return [e.alias(f"{_OK}{k}") for k, e in enumerate(exprs)] or [pl.lit(True).alias(_OK)]


def query(model: type[pa.DataFrameModel], df: pl.DataFrame) -> pl.LazyFrame | None:
    """A query of one row of booleans, all true when ``df`` passes every check of ``model``
    (see :func:`passes`); None when ``df`` surely fails, or the model is left to Pandera.
    Several frames' queries can be collected together."""
    if not isinstance(df, pl.DataFrame) or getattr(CONFIG, "use_narwhals_backend", False):
        return None
    exprs = _row_checks(model, tuple(df.schema.items()))
    if exprs is None:
        return None
    schema = _plan(model)[0]
    if schema.unique:
        subset = [c for c in schema.unique if c in df.columns]
        if not _grouped_distinct(df, subset):
            dtypes = df.schema
            if subset and all(_ordered_exactly(dtypes[c]) for c in subset):
                # hashed within the query, not by a query of its own
                exprs = [*exprs, _distinct(tuple(subset))]
            elif df.select(subset).is_duplicated().any():
                return None
    return df.lazy().select(exprs)


@functools.cache
def _distinct(subset: tuple[str, ...]) -> pl.Expr:
    """True when no two rows are equal on ``subset`` (nulls equal), as
    ``df.select(subset).is_duplicated().any()`` answers it for columns of
    :func:`_ordered_exactly` dtypes."""
    rows = pl.col(subset[0]) if len(subset) == 1 else pl.struct(list(subset))
    return rows.is_duplicated().any().not_().alias(f"{_OK}unique")


def all_true(result: pl.DataFrame) -> bool:
    """The answer of a :func:`query`: every check passed."""
    return all(bool(v) for v in result.row(0))


def passes(model: type[pa.DataFrameModel], df: pl.DataFrame) -> bool:
    """True when ``df`` passes every check of ``model`` (False: some check fails, or the model
    uses something this pass leaves to Pandera)."""
    q = query(model, df)
    return q is not None and all_true(q.collect(engine="in-memory"))


def _ordered_exactly(dtype: pl.DataType) -> bool:
    """Values of ``dtype`` are equal exactly when neither is less than the other."""
    return dtype.is_integer() or dtype.is_temporal() or dtype in (pl.Utf8, pl.Boolean)


#: Below this many rows hashing every row costs less than :func:`_grouped_distinct`'s test
#: (0.1-0.2 against 0.2 ms up to a few thousand rows; 4.1 against 1.8 ms for 78,000).
_GROUPED_MIN_ROWS = 10_000


def _grouped_distinct(df: pl.DataFrame, subset: list[str]) -> bool:
    """True when the rows of ``df`` are surely distinct on ``subset`` because they are grouped
    (:func:`runs_in_order` of the leading columns and the last), as a table keyed by (parent
    id, seq) comes: two rows equal on ``subset`` would be in the same run, where no two values
    of the last column are equal. False (so the rows are compared by hashing them all)
    otherwise, for a small frame (:data:`_GROUPED_MIN_ROWS`), or with a column whose values do
    not compare exactly (floats: NaN, -0.0; nested types). A batch's tokens: 1.8 ms instead of
    4.1."""
    dtypes = df.schema
    if len(subset) < 2 or df.height < _GROUPED_MIN_ROWS:
        return False
    if not all(_ordered_exactly(dtypes[c]) for c in subset):
        return False
    return runs_in_order(df, subset[:-1], subset[-1])


def runs_in_order(df: pl.DataFrame, lead: list[str], last: str) -> bool:
    """Each value of the ``lead`` columns forms one run of rows of ``df`` (as many runs as
    distinct values), in which ``last`` strictly increases, and none of them is null: how the
    pipeline builds a child table, each parent's children together in increasing seq."""
    cols, end = [pl.col(c) for c in lead], pl.col(last)
    same_lead = pl.all_horizontal([c == c.shift(1) for c in cols]).fill_null(False)
    # as many runs as distinct values exactly when no two runs start with the same value: only
    # the runs' first rows are hashed (a sentence's, not each of its tokens': half the time)
    starts = (cols[0] if len(cols) == 1 else pl.struct(cols)).filter(~same_lead)
    got = df.select(
        pl.any_horizontal([pl.col(c).is_null().any() for c in [*lead, last]]).alias("nulls"),
        starts.is_duplicated().any().alias("repeated"),
        (same_lead & (end <= end.shift(1))).any().alias("unordered"),
    ).row(0, named=True)
    return not got["nulls"] and not got["repeated"] and not got["unordered"]


def validate(model: type[pa.DataFrameModel], df: pl.DataFrame, *, lazy: bool = False) -> pl.DataFrame:
    """``model.validate(df, lazy=lazy)``, by the fast pass when every check passes."""
    if passes(model, df):
        return df
    return model.validate(df, lazy=lazy)
