"""Word and character clusters from unlabelled pages, for the entity CRF (:mod:`tasks.ner`).

    python -m tasks.build_clusters RAW_DIR [--out tasks/models/clusters.tsv]

Reads every ``*.txt`` under ``RAW_DIR`` (newspaper pages: lines broken anywhere, paragraphs
separated by blank lines), joins each paragraph's lines, segments the text with the project's
segmenter and clusters the frequent tokens (and, separately, the frequent characters) by the
distribution of their left and right neighbours: counts of the most frequent neighbours, positive
pointwise mutual information, a truncated SVD, then k-means on the unit vectors (numpy, fixed
seed). No label of any kind is read. The output has one ``KIND<TAB>ITEM<TAB>CLUSTER`` line per
item, KIND ``w`` (token) or ``c`` (character), or ``W`` / ``C`` for a coarser clustering; an item not in the file has no cluster.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

DEFAULT_OUT: Path = Path(__file__).resolve().parent / "models" / "clusters.tsv"


def paragraphs(raw_dir: Path) -> list[str]:
    """The paragraphs of all pages under ``raw_dir``, lines joined (spaces removed)."""
    out: list[str] = []
    for path in sorted(Path(raw_dir).rglob("*.txt")):
        text = path.read_text(encoding="utf-8", errors="replace")
        for para in re.split(r"\n\s*\n", text):
            p = re.sub(r"[ \t\u3000]*\n[ \t\u3000]*", "", para).strip()
            p = re.sub(r"(?<=[\u4e00-\u9fff0-9]) (?=[\u4e00-\u9fff0-9])", "", p)
            if p:
                out.append(p)
    return out


def _embed(seqs: Sequence[Sequence[str]], min_count: int, n_context: int, dim: int,
           seed: int) -> tuple[list[str], np.ndarray]:
    """Items seen ``min_count`` times or more and a unit vector each (PPMI of the left and right
    neighbours among the ``n_context`` most frequent items, SVD to ``dim``)."""
    counts = Counter(x for s in seqs for x in s)
    vocab = [w for w, c in counts.most_common() if c >= min_count]
    vid = {w: i for i, w in enumerate(vocab)}
    ctx = {w: i for i, w in enumerate(vocab[:n_context])}
    bos, eos = n_context, n_context + 1  # sentence edges as contexts
    width = n_context + 2
    rows: list[int] = []
    cols: list[int] = []
    for s in seqs:
        ids = [vid.get(x, -1) for x in s]
        cid = [ctx.get(x, -1) for x in s]
        for k, i in enumerate(ids):
            if i < 0:
                continue
            left = cid[k - 1] if k else bos
            right = cid[k + 1] if k + 1 < len(s) else eos
            if left >= 0:
                rows.append(i)
                cols.append(left)
            if right >= 0:
                rows.append(i)
                cols.append(width + right)
    m = np.zeros((len(vocab), 2 * width), dtype=np.float64)
    np.add.at(m, (np.array(rows), np.array(cols)), 1.0)
    total = m.sum()
    pr = m.sum(axis=1, keepdims=True) / total
    pc = m.sum(axis=0, keepdims=True) / total
    with np.errstate(divide="ignore", invalid="ignore"):
        pmi = np.log((m / total) / (pr * pc))
    ppmi = np.where(np.isfinite(pmi) & (pmi > 0), pmi, 0.0).astype(np.float32)
    rng = np.random.default_rng(seed)
    # randomized SVD: a few power iterations on a random projection
    q = rng.standard_normal((ppmi.shape[1], dim + 20)).astype(np.float32)
    y = ppmi @ q
    for _ in range(3):
        y, _ = np.linalg.qr(y)
        y = ppmi @ (ppmi.T @ y)
    y, _ = np.linalg.qr(y)
    u, sv, _ = np.linalg.svd(y.T @ ppmi, full_matrices=False)
    vec = (y @ u[:, :dim]) * np.sqrt(sv[:dim])
    vec /= np.linalg.norm(vec, axis=1, keepdims=True) + 1e-9
    return vocab, vec


def kmeans(x: np.ndarray, k: int, seed: int, iters: int = 25) -> np.ndarray:
    """Cluster of each row of ``x`` (unit vectors; cosine k-means, k-means++ start)."""
    rng = np.random.default_rng(seed)
    n = len(x)
    k = min(k, n)
    centers = [x[rng.integers(n)]]
    d = np.full(n, np.inf)
    for _ in range(1, k):
        d = np.minimum(d, 1.0 - x @ centers[-1])
        p = np.clip(d, 0, None)
        centers.append(x[rng.choice(n, p=p / p.sum())] if p.sum() > 0 else x[rng.integers(n)])
    c = np.stack(centers)
    assign = np.zeros(n, dtype=np.int64)
    for _ in range(iters):
        assign = np.argmax(x @ c.T, axis=1)
        for j in range(k):
            members = x[assign == j]
            if len(members):
                v = members.sum(axis=0)
                c[j] = v / (np.linalg.norm(v) + 1e-9)
    return assign


def build(raw_dir: Path, out: Path = DEFAULT_OUT, word_k: int = 256, char_k: int = 128,
          seed: int = 0) -> Path:
    """Write the clusters of the tokens and characters of the pages under ``raw_dir``."""
    from tasks.segment import get_segmenter

    seg = get_segmenter()
    paras = paragraphs(raw_dir)
    token_seqs = [[w for w, _ in seg.tag(p)] for p in paras]
    lines: list[str] = []
    for kind, seqs, k, min_count in (("w", token_seqs, word_k, 5),
                                     ("c", [list(p) for p in paras], char_k, 5)):
        vocab, vec = _embed(seqs, min_count=min_count, n_context=2000, dim=64, seed=seed)
        # a fine and a coarse clustering (kinds w/c and W/C)
        for kk, kd in ((k, kind), (max(2, k // 8), kind.upper())):
            assign = kmeans(vec, kk, seed)
            lines += [f"{kd}\t{w}\t{int(a) + 1}" for w, a in zip(vocab, assign, strict=True)
                      if "\t" not in w and w.strip()]
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tasks.build_clusters", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("raw", type=Path, help="folder of unlabelled pages (*.txt, searched recursively)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--word-k", type=int, default=256)
    ap.add_argument("--char-k", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    out = build(a.raw, a.out, a.word_k, a.char_k, a.seed)
    print(f"clusters: {out} ({sum(1 for _ in out.open(encoding='utf-8'))} items)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
