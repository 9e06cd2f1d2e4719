"""The segmenters: token parity between engines, the user dictionary, tags, round trips."""

from __future__ import annotations

import difflib
import json
import logging
import os
import re
import tempfile
from pathlib import Path

import jieba
import pytest

from tasks.segment import (
    DEFAULT_USERDICT,
    JIEBA_TAGS,
    JiebaSegmenter,
    RjiebaSegmenter,
    Segmenter,
    cache_dir,
    get_segmenter,
    read_userdict,
)

REPO = Path(__file__).resolve().parents[1]
DEV_GOLD = Path(os.environ.get("NEWSFLOW_DEV_CORPUS", REPO.parent / "shared" / "corpus" / "dev" / "gold"))
DEV_SAMPLE = 400
HAN = re.compile(r"[\u4e00-\u9fff]")
ENGINES = ["rjieba", "jieba"]


@pytest.fixture(scope="module")
def reference() -> jieba.Tokenizer:
    """Plain jieba with the same user dictionary, built independently of tasks.segment."""
    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    tok.tmp_dir = str(cache_dir())
    tok.cache_file = f"jieba-{jieba.__version__}.cache"  # the prefix dict only: shareable
    tok.load_userdict(str(DEFAULT_USERDICT))
    return tok


def _parity(paragraphs: list[str], reference: jieba.Tokenizer) -> tuple[int, list[tuple[int, list]]]:
    """How many paragraphs rjieba cuts exactly like jieba, and the differing spans of the rest."""
    seg = get_segmenter("rjieba")
    same, diffs = 0, []
    for i, p in enumerate(paragraphs):
        ours = [t for t, _ in seg.tag(p)]
        ref = reference.lcut(p, HMM=True)
        if ours == ref:
            same += 1
            continue
        sm = difflib.SequenceMatcher(a=ours, b=ref, autojunk=False)
        diffs.append(
            (i, [(ours[a1:a2], ref[b1:b2]) for op, a1, a2, b1, b2 in sm.get_opcodes() if op != "equal"])
        )
    return same, diffs


def test_parity_on_seed(seed_paragraphs: list[str], reference: jieba.Tokenizer) -> None:
    same, diffs = _parity(seed_paragraphs, reference)
    print(f"\nrjieba/jieba token parity, seed: {same}/{len(seed_paragraphs)} paragraphs identical")
    assert diffs == []


def test_parity_on_dev_corpus(reference: jieba.Tokenizer) -> None:
    if not DEV_GOLD.is_dir():
        pytest.skip(f"dev corpus not found at {DEV_GOLD} (set NEWSFLOW_DEV_CORPUS)")
    paragraphs = [
        p
        for f in sorted(DEV_GOLD.glob("*.json"))
        for a in json.loads(f.read_text(encoding="utf-8"))["articles"]
        for p in a["paragraphs"]
    ]
    step = max(1, len(paragraphs) // DEV_SAMPLE)
    sample = paragraphs[::step][:DEV_SAMPLE]
    same, diffs = _parity(sample, reference)
    print(
        f"\nrjieba/jieba token parity, dev sample: {same}/{len(sample)} paragraphs identical; diffs: {diffs}"
    )
    assert same / len(sample) >= 0.98
    # Known engine difference: jieba splits latin/digit runs at '-' and '.', jieba-rs keeps
    # e.g. 'people.cn' or '400-800-2211' whole. Any other difference is a regression.
    for _, spans in diffs:
        for ours, ref in spans:
            assert "".join(ours) == "".join(ref)
            assert not HAN.search("".join(ours)), (ours, ref)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    "sentence, words",
    [
        (
            "现场，为区公安分局等3家获2019年杨浦区以案释法优秀案例的单位，区绿化市容局等9家获法治宣传教育活动优秀案例的单位，"
            "区检察院“法治护成长、杨杨伴你行”活动等首批杨浦区社会主义法治文化品牌活动颁奖。",
            ["区绿化市容局", "区公安分局", "区检察院", "杨浦区"],
        ),
        ("注重持续推进“四大品牌”建设，抓住长阳创谷人工智能应用试点园区等发展机遇", ["长阳创谷"]),
        (
            "明年，五角场街道将以党建为引领，继续联动区投促分中心等部门，服务楼宇健康发展、服务商圈能级提升、"
            "服务双创生态营造，积极探索优化营商环境的新路子、新举措。",
            ["五角场街道", "区投促分中心"],
        ),
    ],
)
def test_user_dict_words_are_single_tokens(
    engine: str, sentence: str, words: list[str], seed_paragraphs: list[str]
) -> None:
    assert any(sentence in p for p in seed_paragraphs), "the sentence must come from the seed"
    tagged = dict(get_segmenter(engine).tag(sentence))
    user_tags = {w.word: w.tag for w in read_userdict(DEFAULT_USERDICT)}
    for w in words:
        assert w in tagged, f"{engine} split {w}: {list(tagged)}"
        assert tagged[w] == user_tags[w]


@pytest.mark.parametrize("engine", ENGINES)
def test_tags_come_from_jieba_tag_set(engine: str, seed_paragraphs: list[str]) -> None:
    seg = get_segmenter(engine)
    tags = {tag for p in seed_paragraphs for _, tag in seg.tag(p)}
    assert tags <= JIEBA_TAGS
    assert {"n", "v", "x", "m"} <= tags
    tagged = seg.tag("2020年，iPhone12发布 了。")
    assert (
        ("2020", "m") in tagged and ("，", "x") in tagged and ("。", "x") in tagged and (" ", "x") in tagged
    )
    assert ("iPhone12", "eng") in tagged


MESSY = [
    "",
    " ",
    "\u3000\u3000本报讯",
    "  杨浦区 abc 123  ",
    "iPhone12发布\t了\n新品",
    "增长3.5%，达到1,234.5亿元",
    "１２３ＡＢＣ全角",
    "a-b_c.d www.people.cn 400-800-2211",
    "emoji😀和𠮷字、e\u0301",
    "——“十三五”！？……",
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("text", MESSY)
def test_tokens_concatenate_to_input(engine: str, text: str) -> None:
    tagged = get_segmenter(engine).tag(text)
    assert "".join(t for t, _ in tagged) == text
    assert all(t for t, _ in tagged), "no empty tokens"
    assert all(p in JIEBA_TAGS for _, p in tagged)


def test_get_segmenter_is_cached_per_process() -> None:
    assert get_segmenter() is get_segmenter("rjieba", DEFAULT_USERDICT)
    assert isinstance(get_segmenter("rjieba"), RjiebaSegmenter)
    assert isinstance(get_segmenter("rjieba"), Segmenter) and isinstance(get_segmenter("jieba"), Segmenter)
    assert isinstance(get_segmenter("jieba"), JiebaSegmenter)
    assert get_segmenter("jieba") is get_segmenter("jieba")
    with pytest.raises(ValueError, match="unknown segmenter engine"):
        get_segmenter("thulac")


def test_jieba_dictionary_cache_is_stable() -> None:
    seg = get_segmenter("jieba")
    assert isinstance(seg, JiebaSegmenter)
    assert seg.cache_path.parent == cache_dir() and seg.cache_path.is_file()
    assert not str(seg.cache_path).startswith(tempfile.gettempdir()) or "NEWSFLOW_CACHE_DIR" in os.environ


def test_user_dict_entries_all_have_freq_and_tag(tmp_path: Path) -> None:
    words = read_userdict(DEFAULT_USERDICT)
    assert len(words) >= 20 and all(w.freq > 0 and w.tag in JIEBA_TAGS for w in words)
    assert len({w.word for w in words}) == len(words)
    bad = tmp_path / "bad.txt"
    bad.write_text("杨浦 ns\n", encoding="utf-8")
    with pytest.raises(ValueError, match="word freq tag"):
        read_userdict(bad)


def test_rjieba_segmenter_builds_no_second_dictionary() -> None:
    """The segmenter loads rjieba's compiled module without the package's ``__init__``, which
    would build a default ``Jieba()`` (a second copy of the dictionary, ~25 MB) nothing uses;
    the entity model's dictionary tables do not import jieba either. A later ``import rjieba``
    still works and gives the same class. Run in a fresh interpreter (this one imported both)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from tasks.segment import get_segmenter\n"
        "from tasks.ner import get_extractor\n"
        "seg = get_segmenter()\n"
        "text = '区委书记谢坚钢在五角场街道调研。'\n"
        "ents = get_extractor().extract([text], [seg.tag(text)])[0]\n"
        "loaded = sorted(m for m in ('rjieba', 'jieba') if m in sys.modules)\n"
        "import rjieba\n"
        "print(loaded, type(seg._jieba) is rjieba.Jieba, seg.cut('五角场街道'),\n"
        "      [e.text for e in ents], rjieba.cut('我们中出了一个叛徒'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1]).stdout.strip()
    assert out == ("[] True ['五角场街道'] ['区委', '谢坚钢', '五角场街道'] "
                   "['我们', '中出', '了', '一个', '叛徒']")
