"""Score reconstructed articles against gold pages (the metric of ``newsflow eval``).

A gold article counts as *found* when one predicted article of the same source file has a body
whose difflib ratio to the gold body is at least 0.98, both compared with all white space, a
leading ``本报讯`` and continuation markers removed; each predicted article matches at most one
gold article (greedy, best ratio first). Over found articles: headline accuracy (the set of
non-empty title/kicker/subtitle strings, white space removed, equals gold's), reporters accuracy
(same set of names), dateline accuracy, continuation accuracy (both page numbers right) and
paragraph-boundary F1 (boundaries as character offsets into the white-space-free gold body; a
predicted boundary is carried there through the character alignment of the two bodies, so a
small difference of text does not shift every later boundary).

Pure functions over plain dicts, so the scorer can be tested on hand-made cases and fed from
either the layout step directly or the warehouse.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MATCH_THRESHOLD = 0.98

_WS = re.compile(r"\s+")
_MARKER = re.compile(r"[（(]\s*(?:上接|下转|转|接)(?:第)?\s*[0-9一二三四五六七八九十]+\s*版\s*[）)]")
_DATELINE_LEAD = re.compile(r"^本报讯")


def normalise_body(paragraphs: Sequence[str]) -> str:
    """The comparison form of a body: no white space, no leading 本报讯, no continuation markers."""
    text = _WS.sub("", "".join(paragraphs))
    text = _MARKER.sub("", text)
    return _DATELINE_LEAD.sub("", text)


def _boundaries(paragraphs: Sequence[str]) -> set[int]:
    """Paragraph boundaries as offsets into the normalised body (the end of each paragraph but the last)."""
    out: set[int] = set()
    pos = 0
    for i, p in enumerate(paragraphs):
        norm = _MARKER.sub("", _WS.sub("", p))
        if i == 0:
            norm = _DATELINE_LEAD.sub("", norm)
        pos += len(norm)
        if i < len(paragraphs) - 1 and norm:
            out.add(pos)
    return out


def _map_boundaries(bounds: set[int], pred_body: str, gold_body: str) -> set[int]:
    """Carry predicted boundary offsets into the gold body's coordinates.

    A found body may differ from gold by a few characters (a caption kept, a word lost); an
    offset alone would then shift every later boundary. The character alignment of the two
    bodies maps each predicted boundary to the gold position it stands at; a boundary inside
    text gold does not have is kept as a position no gold boundary can match (-1 - offset).
    """
    if pred_body == gold_body or not bounds:
        return set(bounds)
    sm = difflib.SequenceMatcher(None, gold_body, pred_body, autojunk=False)
    out: set[int] = set()
    blocks = sm.get_matching_blocks()
    for b in bounds:
        mapped = -1 - b
        for gs, ps, size in blocks:
            if ps <= b <= ps + size and size:
                mapped = gs + (b - ps)
                break
        out.add(mapped)
    return out


def _headline_set(article: Mapping[str, Any]) -> frozenset[str]:
    vals = (article.get(k) for k in ("title", "kicker", "subtitle"))
    return frozenset(_WS.sub("", v) for v in vals if v and _WS.sub("", v))


def _ratio(a: str, b: str) -> float:
    if not a and not b:
        return 1.0
    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    # cheap upper bounds first: most pairs of different articles are far apart
    if sm.real_quick_ratio() < MATCH_THRESHOLD or sm.quick_ratio() < MATCH_THRESHOLD:
        return 0.0
    return sm.ratio()


@dataclass
class Score:
    """Counts summed over pages; ``as_dict`` turns them into the published figures."""

    gold: int = 0
    predicted: int = 0
    found: int = 0
    headline_ok: int = 0
    reporters_ok: int = 0
    dateline_ok: int = 0
    continuation_ok: int = 0
    para_tp: int = 0
    para_fp: int = 0
    para_fn: int = 0
    misses: list[dict[str, Any]] = field(default_factory=list)

    def add(self, other: Score) -> None:
        for name in ("gold", "predicted", "found", "headline_ok", "reporters_ok", "dateline_ok",
                     "continuation_ok", "para_tp", "para_fp", "para_fn"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.misses.extend(other.misses)

    def as_dict(self) -> dict[str, float | int]:
        def div(a: int, b: int) -> float:
            return a / b if b else 1.0

        p, r = div(self.found, self.predicted), div(self.found, self.gold)
        pp = div(self.para_tp, self.para_tp + self.para_fp)
        pr = div(self.para_tp, self.para_tp + self.para_fn)
        return {
            "gold_articles": self.gold,
            "predicted_articles": self.predicted,
            "found_articles": self.found,
            "article_precision": p,
            "article_recall": r,
            "article_f1": 2 * p * r / (p + r) if p + r else 0.0,
            "headline_accuracy": div(self.headline_ok, self.found),
            "reporters_accuracy": div(self.reporters_ok, self.found),
            "dateline_accuracy": div(self.dateline_ok, self.found),
            "continuation_accuracy": div(self.continuation_ok, self.found),
            "paragraph_f1": 2 * pp * pr / (pp + pr) if pp + pr else 0.0,
        }


def score_page(predicted: Sequence[Mapping[str, Any]], gold: Sequence[Mapping[str, Any]],
               *, page: str = "") -> Score:
    """Score the predicted articles of one page against its gold articles.

    Each article is a mapping with ``paragraphs`` (list of str), ``title``, ``kicker``,
    ``subtitle``, ``reporters``, ``dateline``, ``continued_from_page``, ``continues_to_page``.
    """
    s = Score(gold=len(gold), predicted=len(predicted))
    gbodies = [normalise_body(g["paragraphs"]) for g in gold]
    pbodies = [normalise_body(p["paragraphs"]) for p in predicted]
    pairs = []
    for gi, gb in enumerate(gbodies):
        for pi, pb in enumerate(pbodies):
            r = _ratio(gb, pb)
            if r >= MATCH_THRESHOLD:
                pairs.append((r, gi, pi))
    pairs.sort(key=lambda t: (-t[0], t[1], t[2]))
    used_g: set[int] = set()
    used_p: set[int] = set()
    for _, gi, pi in pairs:
        if gi in used_g or pi in used_p:
            continue
        used_g.add(gi)
        used_p.add(pi)
        g, p = gold[gi], predicted[pi]
        s.found += 1
        checks = {
            "headline": _headline_set(g) == _headline_set(p),
            "reporters": set(g.get("reporters") or []) == set(p.get("reporters") or []),
            "dateline": (g.get("dateline") or None) == (p.get("dateline") or None),
            "continuation": (g.get("continued_from_page"), g.get("continues_to_page"))
            == (p.get("continued_from_page"), p.get("continues_to_page")),
        }
        s.headline_ok += checks["headline"]
        s.reporters_ok += checks["reporters"]
        s.dateline_ok += checks["dateline"]
        s.continuation_ok += checks["continuation"]
        gb = _boundaries(g["paragraphs"])
        pb = _map_boundaries(_boundaries(p["paragraphs"]), pbodies[pi], gbodies[gi])
        s.para_tp += len(gb & pb)
        s.para_fp += len(pb - gb)
        s.para_fn += len(gb - pb)
        bad = [k for k, ok in checks.items() if not ok]
        if gb != pb:
            bad.append("paragraphs")
        if bad:
            s.misses.append({"page": page, "gold": gi, "predicted": pi, "wrong": bad})
    for gi in range(len(gold)):
        if gi not in used_g:
            s.misses.append({"page": page, "gold": gi, "predicted": None, "wrong": ["not found"]})
    return s


def score_pages(pages: Iterable[tuple[str, Sequence[Mapping[str, Any]], Sequence[Mapping[str, Any]]]]) -> Score:
    """Sum :func:`score_page` over ``(page, predicted, gold)`` triples."""
    total = Score()
    for page, pred, gold in pages:
        total.add(score_page(pred, gold, page=page))
    return total


# ---------------------------------------------------------------------------------------------
# gold files and the warehouse


def load_gold(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """Gold pages from one JSON file or a directory of them: ``[(file, page), ...]``.

    ``file`` is the gold's ``file`` field (the raw file's path), else the JSON's own name.
    """
    import json

    path = Path(path)
    files = sorted(path.glob("*.json")) if path.is_dir() else [path]
    out = []
    for f in files:
        page = json.loads(f.read_text(encoding="utf-8"))
        if "articles" not in page:
            raise ValueError(f"{f}: not a gold page (no 'articles')")
        out.append((str(page.get("file") or f.name), page))
    return out


def _match_source(gold_file: str, sources: Sequence[str]) -> str | None:
    """The warehouse source_path that names the same raw file as the gold's ``file``.

    Gold files name the raw file relative to their corpus (``raw/人民日报/2020-02-01/02.txt``),
    the warehouse relative to the raw root (``人民日报/2020-02-01/02.txt``): the longest common
    path suffix decides, and it must at least include the file name.
    """
    gparts = gold_file.replace("\\", "/").split("/")
    best, best_len = None, 0
    for src in sources:
        sparts = src.split("/")
        n = 0
        while n < min(len(gparts), len(sparts)) and gparts[-1 - n] == sparts[-1 - n]:
            n += 1
        if n > best_len:
            best, best_len = src, n
    return best


def predicted_articles(warehouse: Path) -> dict[str, list[dict[str, Any]]]:
    """The articles of a warehouse by source_path, as the mappings :func:`score_page` takes."""
    import polars as pl

    wh = Path(warehouse)

    def read(table: str, columns: list[str]) -> pl.DataFrame:
        return pl.read_parquet(wh / table / "**" / "*.parquet", columns=columns)

    docs = read("documents", ["doc_id", "source_path"])
    arts = read("articles", ["article_id", "doc_id", "seq", "title", "kicker", "subtitle", "reporters",
                             "dateline", "continued_from_page", "continues_to_page"])
    paras = read("paragraphs", ["article_id", "seq", "text"]).sort("article_id", "seq")
    texts = paras.group_by("article_id", maintain_order=True).agg(pl.col("text").alias("paragraphs"))
    arts = arts.join(texts, on="article_id", how="left").join(docs, on="doc_id").sort("doc_id", "seq")
    out: dict[str, list[dict[str, Any]]] = {}
    for row in arts.iter_rows(named=True):
        row["paragraphs"] = row["paragraphs"] or []
        out.setdefault(row["source_path"], []).append(row)
    for src in docs["source_path"]:
        out.setdefault(src, [])
    return out


def evaluate_warehouse(gold: Path, warehouse: Path) -> Score:
    """Score every gold page against the articles the warehouse holds for the same raw file.

    A gold page whose raw file is not in the warehouse counts as all of its articles missed.
    """
    pred = predicted_articles(warehouse)
    sources = list(pred)
    triples = []
    for gold_file, page in load_gold(gold):
        src = _match_source(gold_file, sources)
        triples.append((gold_file, pred.get(src, []) if src else [], page["articles"]))
    return score_pages(triples)
