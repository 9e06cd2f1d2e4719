"""Lay gold articles out again, another way: pages the layout rules were not tuned on.

    python -m tasks.relayout ../shared/corpus/dev OUT_DIR [--seed 1]
    newsflow run --raw OUT_DIR/raw --warehouse W && newsflow eval OUT_DIR/gold --warehouse W

Every gold page of a corpus is written again as PDF text would give it, with its layout drawn at
random (seeded): the column width (12 to 20 characters), blank lines between paragraphs or none,
column breaks in mid-sentence, each article's headline before or after its body, its byline in
one of the usual forms (``■记者 X``, ``本报记者 X``, ``□ X``) under the headline, after the body,
or glued to the body's last line, and continuation markers on their own line or glued to text.
The gold is the same articles, so ``newsflow eval`` scores reconstruction on layouts other than
the corpus's own.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Any

from tasks.evaluate import load_gold


def wrap(paragraph: str, width: int) -> list[str]:
    """Lay a paragraph out as a PDF column does: the first line two characters short (its indent
    lost), Latin letters and digits half as wide as Chinese characters."""
    lines, cur, used, limit = [], "", 0.0, width - 2
    for ch in paragraph:
        cur += ch
        used += 0.5 if ch.isascii() else 1.0
        if used >= limit:
            lines.append(cur)
            cur, used, limit = "", 0.0, width
    if cur:
        lines.append(cur)
    return lines


def _cn(n: int) -> str:
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 20:
        return "十" + (digits[n % 10] if n % 10 else "")
    return digits[n // 10] + "十" + (digits[n % 10] if n % 10 else "")


def _marker(kind: str, page: int, rng: random.Random) -> str:
    num = str(page) if rng.random() < 0.6 else _cn(page)
    return f"（{kind}第 {num} 版）" if num.isdigit() else f"（{kind}第{num}版）"


def layout_article(art: dict[str, Any], width: int, gap: bool, rng: random.Random) -> list[str]:
    """One gold article as lines of page text."""
    heads = [h for h in (art.get("kicker"), art.get("title"), art.get("subtitle")) if h]
    reporters = art.get("reporters") or []
    byline = ""
    if reporters:
        byline = rng.choice(["■记者 ", "本报记者 ", "□ "]) + " ".join(reporters)
    where = rng.choice(["under", "after", "glued"]) if byline else ""
    body: list[str] = []
    paras = list(art.get("paragraphs") or [])
    for i, p in enumerate(paras):
        lines = wrap(p, width)
        if len(lines) > 3 and rng.random() < 0.15:  # a column break in mid-paragraph
            cut = rng.randrange(1, len(lines) - 1)
            lines = lines[:cut] + [""] + lines[cut:]
        body += lines
        if gap and i < len(paras) - 1:
            body.append("")
    if art.get("continued_from_page"):
        marker = _marker("上接", art["continued_from_page"], rng)
        body = [marker, ""] + body if not body or rng.random() < 0.5 else [marker + body[0]] + body[1:]
    if art.get("continues_to_page"):
        marker = _marker("下转", art["continues_to_page"], rng)
        body = body + [marker] if not body or rng.random() < 0.5 else body[:-1] + [body[-1] + marker]
    if where == "glued" and body:
        body[-1] = body[-1] + " " + byline
    elif where == "after":  # on the line under the body's last line
        body += [byline]
    head_lines: list[str] = []
    for h in heads:
        head_lines += [h, ""]
    if where == "under":
        head_lines += [byline, ""]
    if heads and rng.random() < 0.3:  # the headline printed after its body
        return body + [""] + head_lines
    return head_lines + body


def layout_page(page: dict[str, Any], rng: random.Random) -> str:
    width = rng.randint(12, 20)
    gap = rng.random() < 0.5
    out: list[str] = []
    if page.get("section"):
        out += [" " + page["section"], ""]
    for art in page["articles"]:
        out += layout_article(art, width, gap, rng) + [""]
    return "\n".join(out) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", type=Path, help="a corpus directory with gold/*.json")
    ap.add_argument("out", type=Path, help="where raw/ and gold/ are written")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    n = 0
    for gold_file, page in load_gold(args.corpus / "gold"):
        rel = Path(gold_file)
        raw = args.out / rel
        raw.parent.mkdir(parents=True, exist_ok=True)
        raw.write_text(layout_page(page, rng), encoding="utf-8")
        gold_out = args.out / "gold" / (rel.parent.name + "-" + rel.stem + ".json")
        gold_out.parent.mkdir(parents=True, exist_ok=True)
        gold_out.write_text(json.dumps(page, ensure_ascii=False), encoding="utf-8")
        n += 1
    print(f"{n} pages laid out again under {args.out}")


if __name__ == "__main__":
    main()
