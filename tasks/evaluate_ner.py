"""Exact-span scoring of the entity extractor against a BIO file.

The BIO format (People's Daily NER): one ``CHAR TAG`` per line, TAG ``O`` or ``B-X``/``I-X`` with X
in PER, LOC, ORG; a blank line between sentences. :func:`evaluate_bio` joins each sentence's
characters into one text, runs the extractor on all sentences, maps our labels to the file's
(PERSON -> PER, GPE and LOC -> LOC, ORG -> ORG) and compares exact ``(start, end, type)`` spans.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tasks.ner import EntityExtractor

BIO_TYPES: tuple[str, ...] = ("PER", "LOC", "ORG")
TO_BIO: dict[str, str] = {"PERSON": "PER", "GPE": "LOC", "LOC": "LOC", "ORG": "ORG"}


@dataclass(frozen=True)
class BioSentence:
    """One sentence of a BIO file: its characters and their tags."""

    chars: tuple[str, ...]
    tags: tuple[str, ...]

    @property
    def text(self) -> str:
        return "".join(self.chars)


def read_bio(path: Path | str) -> list[BioSentence]:
    """Sentences of a BIO file (``CHAR TAG`` per line, blank line between sentences).

    A line whose character is a space keeps it (``"  O"``); a line without a tag is an error."""
    out: list[BioSentence] = []
    chars: list[str] = []
    tags: list[str] = []
    for lineno, raw in enumerate(Path(path).read_text(encoding="utf-8-sig").splitlines(), 1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            if chars:
                out.append(BioSentence(tuple(chars), tuple(tags)))
                chars, tags = [], []
            continue
        ch, sep, tag = line.rpartition(" ")
        if not sep or not tag:
            raise ValueError(f"{path}:{lineno}: expected 'CHAR TAG', got {line!r}")
        ch = ch if len(ch) == 1 else (ch.strip() or " ")
        if len(ch) != 1:
            raise ValueError(f"{path}:{lineno}: expected one character, got {ch!r}")
        chars.append(ch)
        tags.append(tag)
    if chars:
        out.append(BioSentence(tuple(chars), tuple(tags)))
    return out


def bio_spans(tags: Sequence[str]) -> set[tuple[int, int, str]]:
    """``(start, end, type)`` of the entities of a tag sequence (conlleval's reading: an ``I-X``
    that does not continue an ``X`` starts one)."""
    spans: set[tuple[int, int, str]] = set()
    start, typ = -1, ""
    for i, tag in enumerate([*tags, "O"]):
        pre, _, t = tag.partition("-")
        if typ and not (pre == "I" and t == typ):
            spans.add((start, i, typ))
            typ = ""
        if pre == "B" or (pre == "I" and not typ):
            start, typ = i, t
    return spans


def score(gold: Iterable[set[tuple[int, int, str]]], pred: Iterable[set[tuple[int, int, str]]],
          types: Sequence[str] = BIO_TYPES) -> dict[str, dict[str, float]]:
    """Per-type precision, recall and F1 of exact spans, sentence by sentence."""
    tp = dict.fromkeys(types, 0)
    ng = dict.fromkeys(types, 0)
    np_ = dict.fromkeys(types, 0)
    for g, p in zip(gold, pred, strict=True):
        for s in g:
            if s[2] in ng:
                ng[s[2]] += 1
        for s in p:
            if s[2] in np_:
                np_[s[2]] += 1
                tp[s[2]] += s in g
    out: dict[str, dict[str, float]] = {}
    for t in types:
        p = tp[t] / np_[t] if np_[t] else 0.0
        r = tp[t] / ng[t] if ng[t] else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        out[t] = {"precision": p, "recall": r, "f1": f, "gold": ng[t], "predicted": np_[t]}
    return out


def evaluate_sentences(sentences: Sequence[BioSentence],
                       extractor: EntityExtractor | None = None) -> dict[str, dict[str, float]]:
    """Score ``extractor`` (default: :func:`tasks.ner.get_extractor`) on BIO sentences."""
    from tasks.ner import get_extractor

    ex = extractor if extractor is not None else get_extractor()
    found = ex.extract([s.text for s in sentences])
    pred = [{(e.start, e.end, TO_BIO[e.label]) for e in ents} for ents in found]
    gold = [bio_spans(s.tags) for s in sentences]
    return score(gold, pred)


def evaluate_bio(path: Path | str,
                 extractor: EntityExtractor | None = None) -> dict[str, dict[str, float]]:
    """``{"PER"|"LOC"|"ORG": {"precision", "recall", "f1", "gold", "predicted"}}`` of the
    extractor on a BIO file (exact spans; GPE counts as LOC, PERSON as PER)."""
    return evaluate_sentences(read_bio(path), extractor)


def format_scores(scores: dict[str, dict[str, float]], as_json: bool = False) -> str:
    """The scores as a small table, or as JSON."""
    if as_json:
        return json.dumps(scores, indent=2, sort_keys=True)
    lines = [f"{'type':<5} {'P':>6} {'R':>6} {'F1':>6} {'gold':>6} {'pred':>6}"]
    for t, s in scores.items():
        lines.append(f"{t:<5} {s['precision']:6.3f} {s['recall']:6.3f} {s['f1']:6.3f} "
                     f"{int(s.get('gold', 0)):6d} {int(s.get('predicted', 0)):6d}")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover - python -m tasks.evaluate_ner FILE.bio [--json]
    import sys

    args = [a for a in sys.argv[1:] if a != "--json"]
    print(format_scores(evaluate_bio(args[0]), as_json="--json" in sys.argv))
