"""The headline model's fitting: labels from gold, a logistic fit, several corpora pooled."""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path

from tasks import fit_headlines
from tasks.layout import HEADLINE_WEIGHTS, items_of
from tasks.relayout import layout_page
from tests.test_layout import GOLD, SEED


def _corpus(root: Path, text: str) -> Path:
    (root / "gold").mkdir(parents=True)
    (root / "page.txt").write_text(text, encoding="utf-8")
    (root / "gold" / "page.json").write_text(json.dumps({**GOLD, "file": "page.txt"}, ensure_ascii=False),
                                             encoding="utf-8")
    return root


def test_fit_learns_the_feature_that_tells_and_ignores_noise():
    rng = random.Random(0)
    rows = []
    for _ in range(400):
        tells, noise = rng.random() < 0.5, rng.random() < 0.5
        rows.append(({"tells": float(tells), "noise": float(noise)}, int(tells)))
    b, w = fit_headlines.fit(rows)
    assert w["tells"] > 2.0 and abs(w["noise"]) < 0.5 and b < 0
    assert fit_headlines.accuracy(rows, b, w) == 1.0


def test_samples_label_the_gold_headlines_of_a_page(tmp_path):
    rows = fit_headlines.samples(_corpus(tmp_path / "seed", SEED.read_text(encoding="utf-8")))
    _, items, _ = items_of(SEED.read_text(encoding="utf-8"))
    heads = {re.sub(r"\s", "", a[k]) for a in GOLD["articles"] for k in ("title", "kicker", "subtitle") if a[k]}
    standalone = [re.sub(r"\s", "", it.text) for it in items if it.kind == "S"]
    assert len(rows) == len(standalone)
    assert sum(label for _, label in rows) == sum(s in heads for s in standalone) > 0
    assert set(rows[0][0]) == set(HEADLINE_WEIGHTS)


def test_main_pools_several_corpora(tmp_path, monkeypatch, capsys):
    one = _corpus(tmp_path / "one", SEED.read_text(encoding="utf-8"))
    two = _corpus(tmp_path / "two", layout_page(GOLD, random.Random(3)))
    n_one, n_two = len(fit_headlines.samples(one)), len(fit_headlines.samples(two))
    monkeypatch.setattr(sys, "argv", ["fit_headlines", str(one), str(two)])
    fit_headlines.main()
    out = capsys.readouterr().out
    assert out.startswith(f"# {n_one + n_two} standalone lines")
    weights = dict(re.findall(r'"(\w+)": (-?\d+\.\d+)', out))
    assert set(weights) == set(HEADLINE_WEIGHTS)
