"""What the layout reads of a page's lines at once (tasks.layout._LineFacts) against the plain
test of each line, and the characters its prefilters let through against the patterns."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from re import _constants as C  # noqa: N812 (the parser's opcodes)
from re import _parser

from tasks import layout as L
from tasks.relayout import wrap

SEED = Path(__file__).resolve().parents[1] / "raw" / "000_c9cd572a92cace71.txt"

# lines that open or end with each class of character the facts ask about, and none
EDGE = ["", "。", "”", "）。", "”。", "”）", "，”", "本", "本报讯", "本报讯10月14日，", "据新华社电",
        "新华社北京2月3日电", "本报北京2月5日电（记者", "本报记者 刘梦涛摄", "图", "图为", "图①",
        "图片说明", "上图：", "左图", "下图为", "右", "（执笔：王公龙）", "(注)", "（未完", "（作者）。",
        "𠀀", "𠀀。", "。𠀀", "文字”", "文字”）", "文字）。", "a", "ab!", "…", "；", "x\ud800",
        "\ud800。", "\uffff", "新", "据", "说。”", "他说：“好！”", "摄", "李秀婷摄", "新华社发", "（新华社发）",
        "王云娜供图", "供图 本报记者 林芮文", "完成拍摄", "黄锦辉摄影报", "社发", "供"]


def _plain(texts: list[str]) -> dict[str, list[bool]]:
    return {
        "ends": [L._ends_sentence(t) for t in texts],
        "dateline": [L.DATELINE_RE.match(t) is not None for t in texts],
        "paren": [L._PARENTHESISED.match(t) is not None for t in texts],
        "caption": [L.CAPTION_START_RE.match(t) is not None for t in texts],
        "hanging": [t[-1:] in L._HANGING for t in texts],
        "marks_only": [not t.strip(L._CLOSING_MARKS) for t in texts],
        "credit": [L._ends_in_photo_credit(t) for t in texts],
        "photo_marked": [any(ch in t for ch in "摄供社") for t in texts],
    }


def _lines() -> list[str]:
    """The seed page's lines, the same wrapped again at other widths, and the edge cases."""
    lines = SEED.read_text(encoding="utf-8").split("\n")
    rewrapped = [part for width in (7, 11, 17) for line in lines for part in wrap(line.strip(), width)]
    return [L._compact(line) for line in lines + rewrapped] + EDGE


def test_line_facts_are_the_plain_tests_of_each_line():
    texts = _lines()
    facts = L._LineFacts.of(texts, *L._code_points(texts))
    plain = _plain(texts)
    for name, expected in plain.items():
        assert getattr(facts, name) == expected, name
    assert any(plain["dateline"]) and any(plain["paren"]) and any(plain["caption"]) and any(plain["credit"])
    assert any(plain["marks_only"][k] and texts[k] for k in range(len(texts)))


def test_a_run_of_the_facts_is_a_copy():
    texts = ["本报讯", "。", "图为"]
    facts = L._LineFacts.of(texts, *L._code_points(texts))
    run = facts[1:3]
    assert (run.ends, run.dateline, run.caption) == ([True, False], [False, False], [False, True])
    run.ends[0] = False
    assert facts.ends[1] is True


def _openers(parsed: _parser.SubPattern) -> set[str] | None:
    """The characters a match of ``parsed`` can open with; None if it may open with any (or
    match nothing at all)."""
    for op, av in parsed:
        if op is C.AT:
            continue  # ^
        if op is C.LITERAL:
            return {chr(av)}
        if op is C.IN:
            chars: set[str] = set()
            for in_op, in_av in av:
                if in_op is C.LITERAL:
                    chars.add(chr(in_av))
                elif in_op is C.RANGE:
                    chars.update(map(chr, range(in_av[0], in_av[1] + 1)))
                else:
                    return None  # a negated set or a category
            return chars
        if op is C.BRANCH:
            alternatives = [_openers(alt) for alt in av[1]]
            return None if None in alternatives else set().union(*alternatives)  # type: ignore[arg-type]
        if op is C.SUBPATTERN:
            return _openers(av[-1])
        if op in (C.MAX_REPEAT, C.MIN_REPEAT) and av[0] == 0:
            inner = _openers(av[2])
            rest = _openers(_parser.SubPattern(parsed.state, parsed.data[parsed.data.index((op, av)) + 1 :]))
            return None if inner is None or rest is None else inner | rest
        if op in (C.MAX_REPEAT, C.MIN_REPEAT):
            return _openers(av[2])
        return None
    return None


@pytest.mark.parametrize("pattern, openers", [
    (L.DATELINE_RE, L._DATELINE_OPENERS),
    (L.CAPTION_START_RE, L._CAPTION_OPENERS),
    (L._PARENTHESISED, L._PAREN_OPENERS),
    (L.IMPRINT_RE, L._IMPRINT_OPENERS),
])
def test_the_prefilters_let_through_every_line_a_pattern_can_match(pattern: re.Pattern[str],
                                                                   openers: str | frozenset[str]):
    found = _openers(_parser.parse(pattern.pattern, pattern.flags))
    assert found is not None and found <= set(openers)


def test_the_openers_reader_sees_optional_and_alternative_openings():
    assert _openers(_parser.parse(r"^(?:据)?新华社|^本报")) == {"据", "新", "本"}
    assert _openers(_parser.parse(r"^[^x]")) is None
    assert _openers(_parser.parse(r"^a?")) is None


def test_the_never_standalone_pattern_is_its_five_patterns():
    parts = (L._FIELD_LINE_RE, L.CLAUSE_RE, L.WIRE_START_RE, L.SIGNATURE_RE, L._DATE_ONLY)
    texts = _lines() + ["电话：010-1234", "第三条 本规则", "据新华社电", "（作者为区发改委主任）", "2019年12月28日",
                        "来源：本报", "新华社北京", "（记者 王）"]
    found = [L._NEVER_STANDALONE_RE.match(t) is not None for t in texts]
    assert found == [any(p.match(t) for p in parts) for t in texts]
    assert all(found[-8:-2]) and not found[-2]
