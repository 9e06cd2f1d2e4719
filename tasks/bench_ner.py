"""Throughput of the entity extractor against ``rjieba.tag`` on the same sentences.

    python -m tasks.bench_ner [RAW_DIR] [--pages 20]

Sentences are those of the pipeline (layout, then :func:`tasks.tables.split_sentences`) of the
first ``--pages`` pages under RAW_DIR. Both figures are single-process characters per second;
the extractor is given the segmenter's tags (as in the pipeline), so it does not tag again.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from tasks.layout import parse_page
from tasks.tables import split_sentences


def page_sentences(paths: list[Path]) -> list[str]:
    """The pipeline's sentences of these pages."""
    out: list[str] = []
    for p in paths:
        for art in parse_page(p.read_text(encoding="utf-8")).articles:
            for para in art.paragraphs:
                out += [para.text[s:e] for s, e in split_sentences(para.text)]
    return out


def bench(sentences: list[str], repeat: int = 3) -> dict[str, float]:
    """Best-of-``repeat`` chars/s of ``rjieba.tag``, of the project segmenter's ``tag`` and of
    :meth:`EntityExtractor.extract` (given those tags)."""
    import rjieba

    from tasks.ner import get_extractor
    from tasks.segment import get_segmenter

    n = sum(map(len, sentences))
    jb = rjieba.Jieba()
    seg = get_segmenter()
    ex = get_extractor()
    ex.extract(sentences[:10])  # load everything first

    def best(fn: object) -> float:
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            fn()  # type: ignore[operator]
            times.append(time.perf_counter() - t)
        return n / min(times)

    tagged = [seg.tag(s) for s in sentences]
    return {
        "chars": float(n),
        "rjieba_tag": best(lambda: [jb.tag(s, hmm=True) for s in sentences]),
        "segmenter_tag": best(lambda: [seg.tag(s) for s in sentences]),
        "extract": best(lambda: ex.extract(sentences, tagged)),
    }


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m tasks.bench_ner")
    ap.add_argument("raw", nargs="?", type=Path, default=Path("../shared/corpus/dev/raw"))
    ap.add_argument("--pages", type=int, default=20)
    a = ap.parse_args()
    paths = sorted(a.raw.rglob("*.txt"))[: a.pages]
    r = bench(page_sentences(paths))
    print(f"{len(paths)} pages, {int(r['chars'])} chars")
    for k in ("rjieba_tag", "segmenter_tag", "extract"):
        print(f"{k:<14} {r[k]:>12,.0f} chars/s")
    print(f"extract / rjieba.tag = {r['extract'] / r['rjieba_tag']:.2f}")


if __name__ == "__main__":
    main()
