"""Train the entity CRF of :mod:`tasks.ner` on a BIO file, and measure it held out.

    python -m tasks.train_ner BIO_FILE --out tasks/models/ner.crfsuite   # train on the whole file
    python -m tasks.train_ner BIO_FILE --cv 5                            # 5-fold cross-validation
    python -m tasks.train_ner BIO_FILE --cv 5 --seed 0 1 2 3             # ... on four splits, and their mean

Training adds ``--augment N`` copies of the sentences that name a person, with other names in
their place (made up from the surnames and given-name characters of jieba's dictionary, which
ships with jieba; see :func:`augment`), in every fold of a cross-validation too.

Cross-validation splits the file by sentence (shuffled with ``--seed``), trains a model on four
folds, runs the whole extractor (CRF + rules + dictionaries) on the fifth, and scores all held-out
predictions together (exact spans, as :func:`tasks.evaluate_ner.evaluate_bio`).
"""

from __future__ import annotations

import argparse
import random
import re
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


#: augmented copies of the training data (:func:`augment`) added by default, and their settings
DEFAULT_AUGMENT_COPIES = 1
DEFAULT_AUGMENT: dict[str, Any] = {"made_up": 1.0, "orgs": 0.0, "foreign": False}


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


#: jieba's dictionary tags of the names that :func:`augment` puts in (Chinese, transliterated)
_JIEBA_NAME_TAGS = ("nr", "nrt")


def jieba_names(dict_txt: Path | None = None, min_freq: int = 10) -> dict[str, list[str]]:
    """Names of jieba's dictionary (which ships with the ``jieba`` package), its entries of
    frequency ``min_freq`` or more (the rarest are mostly noise: 丁上篮, 丁七世): ``chinese``
    person names (``nr``, 2-3 Han characters, a common surname first), ``foreign`` ones
    (``nrt``, 2-5 characters, all or all but one typical of transliterations) and ``orgs``
    (``nt``)."""
    from tasks.ner import SURNAMES, TRANSLIT, jieba_dict_path

    if dict_txt is None:
        dict_txt = jieba_dict_path()
    han = re.compile(r"^[\u4e00-\u9fff]+$")
    out: dict[str, list[str]] = {"chinese": [], "foreign": [], "orgs": []}
    for line in Path(dict_txt).read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) != 3 or not han.match(parts[0]):
            continue
        w, freq, t = parts
        if int(freq) < min_freq:
            continue
        if t == "nr" and 2 <= len(w) <= 3 and w[0] in SURNAMES:
            out["chinese"].append(w)
        elif t == "nrt" and 2 <= len(w) <= 5 and sum(c in TRANSLIT for c in w) >= len(w) - 1:
            out["foreign"].append(w)
        elif t == "nt" and len(w) >= 2:
            out["orgs"].append(w)
    return out


def augment(sentences: Sequence[BioSentence], copies: int = 1, seed: int = 0,
            names: dict[str, list[str]] | None = None, made_up: float = 0.5,
            orgs: float = 0.0, keep_others: bool = False,
            foreign: bool = True) -> list[BioSentence]:
    """Copies of the sentences that hold a person (or, with ``orgs`` > 0, an organisation),
    every person's name replaced by another: with probability ``made_up`` a made-up one (a
    surname and one or two given-name characters, drawn as often as they occur in jieba's
    names), else one of jieba's dictionary (:func:`jieba_names`; a transliterated one for a
    transliterated or long name). A lone surname (老王, 江主席) is kept, and so are
    transliterated and long names unless ``foreign`` (other transliterations in their place
    taught the model that any run of transliteration characters is a person: foreign places
    came out as persons). Each organisation is replaced by one of jieba's with probability
    ``orgs``; ``keep_others`` adds the sentences without a replaced name unchanged.

    The model then sees each context with several names, and learns more from the context and
    the shape of a name than from the few names of the training data."""
    pools = names if names is not None else jieba_names()
    chinese, foreign_pool, org_pool = pools["chinese"], pools["foreign"], pools["orgs"]
    rng = random.Random(seed)
    surnames = [w[0] for w in chinese]  # as often as they begin a name
    given = [c for w in chinese for c in w[1:]]
    kinds = ("PER", "ORG") if orgs > 0 else ("PER",)
    out: list[BioSentence] = []
    for _ in range(copies):
        for s in sentences:
            spans = sorted(x for x in bio_spans(s.tags) if x[2] in kinds)
            if not spans:
                if keep_others:
                    out.append(s)
                continue
            chars: list[str] = []
            tags: list[str] = []
            pos = 0
            for b, e, typ in spans:
                chars += s.chars[pos:b]
                tags += s.tags[pos:b]
                old = "".join(s.chars[b:e])
                if typ == "ORG":
                    name = rng.choice(org_pool) if rng.random() < orgs else old
                elif e - b == 1 or (not foreign and (len(old) >= 4 or "·" in old)):
                    name = old
                elif not (len(old) >= 4 or "·" in old) and rng.random() < made_up:
                    name = rng.choice(surnames) + "".join(
                        rng.choice(given) for _ in range(1 if rng.random() < 0.3 else 2))
                else:
                    name = rng.choice(foreign_pool if (len(old) >= 4 or "·" in old) else chinese)
                chars += list(name)
                tags += [f"B-{typ}"] + [f"I-{typ}"] * (len(name) - 1)
                pos = e
            chars += s.chars[pos:]
            tags += s.tags[pos:]
            out.append(BioSentence(tuple(chars), tuple(tags)))
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


def training_set(sentences: Sequence[BioSentence], augment_copies: int = 0,
                 seed: int = 0) -> list[BioSentence]:
    """The sentences, plus ``augment_copies`` augmented copies (:func:`augment`)."""
    out = list(sentences)
    if augment_copies > 0:
        out += augment(sentences, augment_copies, seed=seed, **DEFAULT_AUGMENT)
    return out


def cross_validate(sentences: Sequence[BioSentence], k: int = 5, seed: int = 0,
                   params: dict[str, Any] | None = None, rules: bool = True,
                   log: Any = None, augment_copies: int = 0) -> dict[str, dict[str, float]]:
    """Held-out scores of the extractor over ``k`` folds (all folds' predictions pooled)."""
    from tasks.ner import EntityExtractor

    gold: list[set[tuple[int, int, str]]] = []
    pred: list[set[tuple[int, int, str]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, test in enumerate(folds(len(sentences), k, seed)):
            tset = set(test)
            train_s = [s for j, s in enumerate(sentences) if j not in tset]
            test_s = [sentences[j] for j in test]
            model = train(training_set(train_s, augment_copies, seed + i),
                          Path(tmp) / f"fold{i}.crfsuite", params)
            ex = EntityExtractor(model=model, rules=rules)
            found = ex.extract([s.text for s in test_s])
            gold += [bio_spans(s.tags) for s in test_s]
            pred += [{(e.start, e.end, TO_BIO[e.label]) for e in ents} for ents in found]
            if log is not None:
                log(f"fold {i}: {len(train_s)} train / {len(test_s)} test sentences")
    return score(gold, pred)


def mean_f1(runs: Sequence[dict[str, dict[str, float]]], seeds: Sequence[int]) -> str:
    """One line per label: the F1 of each cross-validation run, their mean and lowest."""
    lines = [f"F1 over the splits of seeds {' '.join(map(str, seeds))}:"]
    for lab in runs[0]:
        f1 = [r[lab]["f1"] for r in runs]
        lines.append(f"{lab:<5} {' '.join(f'{x:.3f}' for x in f1)}  mean {sum(f1) / len(f1):.3f}"
                     f"  lowest {min(f1):.3f}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tasks.train_ner", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("bio", type=Path, help="training data: CHAR TAG per line, blank between sentences")
    ap.add_argument("--out", type=Path, help="write a model trained on the whole file here")
    ap.add_argument("--cv", type=int, default=0, help="k-fold cross-validation first (k >= 2)")
    ap.add_argument("--seed", type=int, nargs="+", default=[0],
                    help="shuffling seed(s) of the cross-validation's split (one run each, then "
                         "the mean F1); the first also seeds the augmentation of --out")
    ap.add_argument("--c1", type=float, default=DEFAULT_PARAMS["c1"])
    ap.add_argument("--c2", type=float, default=DEFAULT_PARAMS["c2"])
    ap.add_argument("--max-iterations", type=int, default=DEFAULT_PARAMS["max_iterations"])
    ap.add_argument("--no-rules", action="store_true", help="cross-validate the CRF alone")
    ap.add_argument("--augment", type=int, default=DEFAULT_AUGMENT_COPIES, metavar="N",
                    help="add N copies of the training sentences with other names (0: none)")
    a = ap.parse_args(argv)
    params = {"c1": a.c1, "c2": a.c2, "max_iterations": a.max_iterations}
    sents = read_bio(a.bio)
    if a.cv >= 2:
        runs = []
        for seed in a.seed:
            t = time.perf_counter()
            res = cross_validate(sents, a.cv, seed, params, rules=not a.no_rules,
                                 log=lambda m: print(m, file=sys.stderr), augment_copies=a.augment)
            print(f"{a.cv}-fold cross-validation (seed {seed}), {time.perf_counter() - t:.0f} s:")
            print(format_scores(res), flush=True)
            runs.append(res)
        if len(runs) > 1:
            print(mean_f1(runs, a.seed))
    if a.out is not None:
        train(training_set(sents, a.augment, a.seed[0]), a.out, params)
        print(f"model: {a.out} ({a.out.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
