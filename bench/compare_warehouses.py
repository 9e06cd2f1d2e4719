"""Compare two warehouses table by table, row by row (run-specific columns left out).

    python bench/compare_warehouses.py WAREHOUSE_A WAREHOUSE_B

Every table but ``runs`` is read whole from ``<warehouse>/<table>/*.parquet``, the columns that
name the run (``run_id``, ``ingested_at``) dropped, the rows sorted on every column, and the two
frames compared exactly (values, dtypes, column order, nulls). Exits 1 on any difference.
"""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl

RUN_COLUMNS = ("run_id", "ingested_at")


def load(warehouse: Path, table: str) -> pl.DataFrame:
    df = pl.read_parquet(str(warehouse / table / "*.parquet"))
    df = df.drop([c for c in RUN_COLUMNS if c in df.columns])
    sortable = [c for c, t in df.schema.items() if not isinstance(t, pl.List)]
    return df.sort(sortable, nulls_last=True, maintain_order=True)


def table_names(warehouse: Path) -> list[str]:
    """The tables of a warehouse (its directories, ``runs`` and hidden ones left out)."""
    return sorted(p.name for p in warehouse.iterdir()
                  if not p.name.startswith(".") and p.name != "runs" and (p / ".").is_dir())


def main(a: Path, b: Path) -> int:
    tables, other = table_names(a), table_names(b)
    bad = 0
    if tables != other:
        print(f"tables differ: {tables} vs {other}")
        bad += 1
    for t in tables:
        if t not in other:
            continue
        x, y = load(a, t), load(b, t)
        same = x.schema == y.schema and x.height == y.height and x.equals(y, null_equal=True)
        print(f"{t:12s} {x.height:>9} rows  {'same' if same else 'DIFFERENT'}")
        if not same:
            bad += 1
            if x.schema != y.schema:
                print(f"  schema {x.schema} vs {y.schema}")
            elif x.height == y.height:
                for c in x.columns:
                    if not x[c].equals(y[c], check_names=True, null_equal=True):
                        diff = (x[c] != y[c]).fill_null(True) if not isinstance(x.schema[c], pl.List) else None
                        print(f"  column {c} differs" + (f" in {int(diff.sum())} rows" if diff is not None else ""))
    print("IDENTICAL" if not bad else f"{bad} table(s) differ")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
