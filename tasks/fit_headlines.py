"""Fit the headline-vs-subheading weights of ``tasks.layout`` on gold pages.

    python -m tasks.fit_headlines ../shared/corpus/dev [--l2 1.0]

Every standalone line layout finds on a page is labelled *headline* when its text (white space
removed) is a title, kicker or subtitle of the page's gold, else *subheading*; a logistic
regression over :func:`tasks.layout.headline_features` gives the weights, printed as Python to
paste into ``tasks/layout.py``. Plain Python: a few thousand rows and twenty features.
"""

from __future__ import annotations

import argparse
import json
import math
import re
from pathlib import Path

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


def fit(rows: list[tuple[dict[str, float], int]], l2: float = 1.0, steps: int = 3000, lr: float = 0.5):
    names = sorted(rows[0][0])
    w = {n: 0.0 for n in names}
    b = 0.0
    m = len(rows)
    for _ in range(steps):
        gw = {n: l2 * w[n] / m for n in names}
        gb = 0.0
        for feats, y in rows:
            z = b + sum(w[n] * feats[n] for n in names)
            p = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
            err = (p - y) / m
            gb += err
            for n in names:
                if feats[n]:
                    gw[n] += err * feats[n]
        b -= lr * gb
        for n in names:
            w[n] -= lr * gw[n]
    return b, w


def accuracy(rows, b, w) -> float:
    ok = sum((b + sum(w[n] * f[n] for n in w) > 0) == bool(y) for f, y in rows)
    return ok / len(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", type=Path, help="a corpus directory with gold/*.json and the raw files they name")
    ap.add_argument("--l2", type=float, default=1.0)
    args = ap.parse_args()
    rows = samples(args.corpus)
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
