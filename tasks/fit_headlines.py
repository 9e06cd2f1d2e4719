"""Fit the headline-vs-subheading weights of ``tasks.layout`` on gold pages.

    python -m tasks.fit_headlines CORPUS [CORPUS ...] [--l2 1.0]

Every standalone line layout finds on a page is labelled *headline* when its text (white space
removed) is a title, kicker or subtitle of the page's gold, else *subheading*; a logistic
regression over :func:`tasks.layout.headline_features` gives the weights, printed as Python to
paste into ``tasks/layout.py``. Several corpora pool their lines: the shipped weights are fitted
on the dev pages and on three random layouts of them (``tasks.relayout`` seeds 1-3), so that
what tells a headline is learnt over more than one way of setting a page::

    for s in 1 2 3; do python -m tasks.relayout ../shared/corpus/dev /tmp/relayout$s --seed $s; done
    python -m tasks.fit_headlines ../shared/corpus/dev /tmp/relayout1 /tmp/relayout2 /tmp/relayout3

Full-batch gradient descent on the L2-penalised log loss, in numpy (some 8,000 rows, thirty
features: about a second).
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import numpy as np

from tasks import layout


def samples(corpus: Path) -> list[tuple[dict[str, float], int]]:
    rows = []
    for gold_file in sorted((corpus / "gold").glob("*.json")):
        gold = json.loads(gold_file.read_text(encoding="utf-8"))
        text = (corpus / gold["file"]).read_text(encoding="utf-8")
        heads = {re.sub(r"\s", "", a[k]) for a in gold["articles"] for k in ("title", "kicker", "subtitle") if a[k]}
        _, items, _ = layout.items_of(text)
        paras = [it for it in items if it.kind == "P"]
        gaps_common = sum(it.blank_before for it in paras) > 0.5 * len(paras) if paras else False
        for k, it in enumerate(items):
            if it.kind == "S":
                label = int(re.sub(r"\s", "", it.text) in heads)
                rows.append((layout.headline_features(items, k, gaps_common), label))
    return rows


def fit(rows: list[tuple[dict[str, float], int]], l2: float = 1.0, steps: int = 3000,
        lr: float = 0.5) -> tuple[float, dict[str, float]]:
    """Bias and weights minimising the mean log loss plus ``l2 / 2m`` times the squared weights."""
    names = sorted(rows[0][0])
    x = np.array([[feats[n] for n in names] for feats, _ in rows], dtype=np.float64)
    y = np.array([label for _, label in rows], dtype=np.float64)
    m = len(rows)
    w = np.zeros(len(names))
    b = 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(b + x @ w, -30.0, 30.0)))
        err = (p - y) / m
        w -= lr * (l2 * w / m + x.T @ err)
        b -= lr * float(err.sum())
    return b, dict(zip(names, w.tolist(), strict=True))


def accuracy(rows: list[tuple[dict[str, float], int]], b: float, w: dict[str, float]) -> float:
    ok = sum((b + sum(w[n] * f[n] for n in w) > 0) == bool(y) for f, y in rows)
    return ok / len(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", type=Path, nargs="+",
                    help="corpus directories, each with gold/*.json and the raw files they name")
    ap.add_argument("--l2", type=float, default=1.0)
    args = ap.parse_args()
    rows = [row for corpus in args.corpus for row in samples(corpus)]
    b, w = fit(rows, l2=args.l2)
    print(f"# {len(rows)} standalone lines, {sum(y for _, y in rows)} headlines; "
          f"training accuracy {accuracy(rows, b, w):.3f}")
    print(f"HEADLINE_BIAS = {b:.3f}")
    print("HEADLINE_WEIGHTS: dict[str, float] = {")
    for n in sorted(w):
        print(f'    "{n}": {w[n]:.3f},')
    print("}")


if __name__ == "__main__":
    main()
