"""Render the data dictionary of the warehouse from the Pandera models."""

from typing import Any

import pandera.polars as pa

from schemas import DERIVED_TABLES, LOG_TABLES, TABLES

_OPS = {
    "greater_than": ">",
    "greater_than_or_equal_to": ">=",
    "less_than": "<",
    "less_than_or_equal_to": "<=",
    "equal_to": "==",
    "not_equal_to": "!=",
}
_MAX_LISTED = 8


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def describe_check(check: Any) -> str:
    """A short human reading of a built-in column check."""
    name, stats = check.name, dict(check.statistics or {})
    if name in _OPS:
        value = next(iter(stats.values()), "?")
        return f"{_OPS[name]} {value}"
    if name in ("isin", "notin"):
        values = sorted(stats.get("allowed_values") or stats.get("forbidden_values") or [])
        shown = ", ".join(map(str, values[:_MAX_LISTED]))
        more = f", … ({len(values)} values)" if len(values) > _MAX_LISTED else ""
        return f"{'in' if name == 'isin' else 'not in'} {{{shown}{more}}}"
    if name == "str_length":
        parts = []
        if stats.get("exact_value") is not None:
            parts.append(f"length == {stats['exact_value']}")
        if stats.get("min_value") is not None:
            parts.append(f"length >= {stats['min_value']}")
        if stats.get("max_value") is not None:
            parts.append(f"length <= {stats['max_value']}")
        return ", ".join(parts) or "str_length"
    if name == "str_matches":
        return f"matches `{stats.get('pattern')}`"
    return str(check.error or name)


def model_markdown(table: str, model: type[pa.DataFrameModel]) -> str:
    """The dictionary section of one table."""
    schema = model.to_schema()
    doc = " ".join((model.__doc__ or "").split()).replace("``", "`")
    lines = [f"## `{table}` ({model.__name__})", "", doc, ""]
    lines += ["| column | type | nullable | description | checks |", "|---|---|---|---|---|"]
    for name, col in schema.columns.items():
        checks = (["unique"] if col.unique else []) + [describe_check(c) for c in col.checks]
        lines.append(
            f"| `{name}` | {_cell(col.dtype)} | {'yes' if col.nullable else 'no'} | "
            f"{_cell(col.description or '')} | {_cell('; '.join(checks))} |"
        )
    table_checks = []
    if schema.unique:
        table_checks.append(f"- unique on ({', '.join(schema.unique)})")
    for check in schema.checks:
        desc = f": {check.description}" if check.description else ""
        table_checks.append(f"- `{check.name}`{desc}")
    if table_checks:
        lines += ["", "Row checks:", "", *table_checks]
    return "\n".join(lines) + "\n"


def render_markdown() -> str:
    """The data dictionary: one markdown table per warehouse table, in write order, then the
    run log."""
    head = [
        "# newsflow data dictionary",
        "",
        "Generated from the Pandera models in `schemas/` (do not edit by hand). Offsets are "
        "Python string indices (Unicode code points) into `articles.body`. Cross-table checks "
        "(references, offsets against the body, counts) live in `tasks/validate.py`.",
        "",
    ]
    return "\n".join(head) + "\n" + "\n".join(model_markdown(t, m) for t, m in {**TABLES, **DERIVED_TABLES, **LOG_TABLES}.items())


if __name__ == "__main__":
    print(render_markdown())
