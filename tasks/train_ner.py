"""Train the entity CRF of :mod:`tasks.ner` on a BIO file, and measure it held out.

    python -m tasks.train_ner BIO_FILE --out tasks/models/ner.crfsuite   # train on the whole file
    python -m tasks.train_ner BIO_FILE --cv 5                            # 5-fold cross-validation

Cross-validation splits the file by sentence (shuffled with ``--seed``), trains a model on four
folds, runs the whole extractor (CRF + rules + dictionaries) on the fifth, and scores all held-out
predictions together (exact spans, as :func:`tasks.evaluate_ner.evaluate_bio`).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tasks.evaluate_ner import BioSentence, bio_spans, format_scores, read_bio, score, TO_BIO

#: L-BFGS with elastic-net regularisation; L1 keeps the model small.
DEFAULT_PARAMS: dict[str, Any] = {
    "c1": 0.05,
    "c2": 0.01,
    "max_iterations": 200,
    "feature.possible_transitions": True,
}


def to_bioes(tags: Sequence[str]) -> list[str]:
    """BIO tags as BIOES (single-character entities ``S-``, last characters ``E-``)."""
    out = list(tags)
    for i, tag in enumerate(tags):
        if tag == "O":
            continue
        nxt = tags[i + 1] if i + 1 < len(tags) else "O"
        ends = nxt != "I-" + tag[2:]
        if tag.startswith("B-") and ends:
            out[i] = "S-" + tag[2:]
        elif tag.startswith("I-") and ends:
            out[i] = "E-" + tag[2:]
    return out


def train(sentences: Sequence[BioSentence], out: Path, params: dict[str, Any] | None = None,
          verbose: bool = False, bioes: bool = False) -> Path:
    """Train a CRF on ``sentences`` (labels as BIOES when ``bioes``; BIO by default, which
    scored as well held out and decodes faster) and write it
    to ``out``."""
    import pycrfsuite

    from tasks.ner import featurize, feature_strings

    feats = feature_strings(featurize([s.text for s in sentences]))
    trainer = pycrfsuite.Trainer(verbose=verbose)
    for xs, s in zip(feats, sentences, strict=True):
        if xs:
            trainer.append(xs, to_bioes(s.tags) if bioes else list(s.tags))
    trainer.set_params({**DEFAULT_PARAMS, **(params or {})})
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    trainer.train(str(out))
    return out


def folds(n: int, k: int, seed: int) -> list[list[int]]:
    """``k`` disjoint lists of sentence indices covering ``range(n)``, shuffled with ``seed``."""
    idx = list(range(n))
    random.Random(seed).shuffle(idx)
    return [sorted(idx[i::k]) for i in range(k)]


def cross_validate(sentences: Sequence[BioSentence], k: int = 5, seed: int = 0,
                   params: dict[str, Any] | None = None, rules: bool = True,
                   log: Any = None) -> dict[str, dict[str, float]]:
    """Held-out scores of the extractor over ``k`` folds (all folds' predictions pooled)."""
    from tasks.ner import EntityExtractor

    gold: list[set[tuple[int, int, str]]] = []
    pred: list[set[tuple[int, int, str]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, test in enumerate(folds(len(sentences), k, seed)):
            tset = set(test)
            train_s = [s for j, s in enumerate(sentences) if j not in tset]
            test_s = [sentences[j] for j in test]
            model = train(train_s, Path(tmp) / f"fold{i}.crfsuite", params)
            ex = EntityExtractor(model=model, rules=rules)
            found = ex.extract([s.text for s in test_s])
            gold += [bio_spans(s.tags) for s in test_s]
            pred += [{(e.start, e.end, TO_BIO[e.label]) for e in ents} for ents in found]
            if log is not None:
                log(f"fold {i}: {len(train_s)} train / {len(test_s)} test sentences")
    return score(gold, pred)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tasks.train_ner", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("bio", type=Path, help="training data: CHAR TAG per line, blank between sentences")
    ap.add_argument("--out", type=Path, help="write a model trained on the whole file here")
    ap.add_argument("--cv", type=int, default=0, help="k-fold cross-validation first (k >= 2)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--c1", type=float, default=DEFAULT_PARAMS["c1"])
    ap.add_argument("--c2", type=float, default=DEFAULT_PARAMS["c2"])
    ap.add_argument("--max-iterations", type=int, default=DEFAULT_PARAMS["max_iterations"])
    ap.add_argument("--no-rules", action="store_true", help="cross-validate the CRF alone")
    a = ap.parse_args(argv)
    params = {"c1": a.c1, "c2": a.c2, "max_iterations": a.max_iterations}
    sents = read_bio(a.bio)
    if a.cv >= 2:
        t = time.perf_counter()
        res = cross_validate(sents, a.cv, a.seed, params, rules=not a.no_rules,
                             log=lambda m: print(m, file=sys.stderr))
        print(f"{a.cv}-fold cross-validation (seed {a.seed}), {time.perf_counter() - t:.0f} s:")
        print(format_scores(res))
    if a.out is not None:
        train(sents, a.out, params)
        print(f"model: {a.out} ({a.out.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
