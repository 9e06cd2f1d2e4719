"""The re-layout tool: gold articles laid out again keep every word, and score like any page."""

from __future__ import annotations

import json
import random
import re
import sys

from tasks.evaluate import score_page
from tasks.layout import parse_page
from tasks.relayout import layout_page, main, wrap
from tests.test_layout import GOLD


def flat(s: str) -> str:
    return re.sub(r"\s", "", s)


def test_wrap_keeps_the_text_and_drops_the_first_indent():
    text = "为阻断疫情向校园蔓延，确保师生生命安全和身体健康，近期全国多地、多校开展网络教学，确保停课不停学。"
    for width in range(12, 21):
        lines = wrap(text, width)
        assert "".join(lines) == text
        assert len(lines[0]) == width - 2 and all(len(line) == width for line in lines[1:-1])


def test_a_page_laid_out_again_keeps_every_article():
    for seed in range(6):
        text = layout_page(GOLD, random.Random(seed))
        body = flat(text)
        for art in GOLD["articles"]:
            assert all(flat(p) in body for p in art["paragraphs"]), seed
            assert all(name in body for name in art["reporters"]), seed
            assert all(flat(h) in body for h in (art["title"], art["kicker"], art["subtitle"]) if h), seed
        arts = [{"paragraphs": [q.text for q in a.paragraphs], "title": a.title, "kicker": a.kicker,
                 "subtitle": a.subtitle, "reporters": a.reporters, "dateline": a.dateline,
                 "continued_from_page": a.continued_from_page, "continues_to_page": a.continues_to_page}
                for a in parse_page(text).articles]
        score = score_page(arts, GOLD["articles"])
        assert score.gold == len(GOLD["articles"]) and score.predicted == len(arts) >= 1


def test_the_command_writes_raw_pages_and_their_gold(tmp_path, capsys, monkeypatch):
    corpus = tmp_path / "corpus"
    (corpus / "gold").mkdir(parents=True)
    page = dict(GOLD, file="raw/杨浦时报/2019-12-10/01.txt")
    (corpus / "gold" / "p.json").write_text(json.dumps(page, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setattr(sys, "argv", ["relayout", str(corpus), str(tmp_path / "out"), "--seed", "3"])
    main()
    raw = tmp_path / "out" / "raw" / "杨浦时报" / "2019-12-10" / "01.txt"
    gold = tmp_path / "out" / "gold" / "2019-12-10-01.json"
    assert raw.exists() and json.loads(gold.read_text(encoding="utf-8"))["articles"] == page["articles"]
    assert "1 pages laid out again" in capsys.readouterr().out
