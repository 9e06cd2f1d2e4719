"""Article reconstruction on the real seed page and on variations of it written here."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tasks.layout import _compact, parse_page
from tasks.relayout import wrap

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "raw" / "000_c9cd572a92cace71.txt"
GOLD = json.loads((Path(__file__).parent / "fixtures" / "seed_gold.json").read_text(encoding="utf-8"))


def _nows(s: str | None) -> str | None:
    return None if s is None else re.sub(r"\s+", "", s)


@pytest.fixture(scope="module")
def seed_page():
    return parse_page(SEED.read_text(encoding="utf-8"))


def test_seed_has_the_gold_articles_in_order(seed_page):
    assert len(seed_page.articles) == len(GOLD["articles"]) == 3
    assert seed_page.section == GOLD["section"]


@pytest.mark.parametrize("k", range(3))
def test_seed_article_equals_gold(seed_page, k):
    gold, art = GOLD["articles"][k], seed_page.articles[k]
    heads = {_nows(x) for x in (art.title, art.kicker) if x}
    assert heads == {_nows(x) for x in (gold["title"], gold["kicker"]) if x}
    assert art.subtitle == gold["subtitle"]
    assert art.reporters == gold["reporters"]
    assert art.dateline == gold["dateline"]
    assert (art.continued_from_page, art.continues_to_page) == (
        gold["continued_from_page"], gold["continues_to_page"])
    assert [_nows(p.text) for p in art.paragraphs] == [_nows(p) for p in gold["paragraphs"]]
    assert art.subheadings == gold["subheadings"]


def test_seed_keeps_real_spaces_and_drops_layout_spaces(seed_page):
    first = seed_page.articles[0]
    assert first.title == "大格局谋发展 高质量抓落实"
    assert first.paragraphs[0].text.startswith("本报讯12月7日至8日，区委召开")
    assert "2020年工作" in first.paragraphs[0].text
    assert seed_page.articles[1].kicker == "本区举行机关工作人员宪法知识竞赛" or \
        seed_page.articles[1].title == "本区举行机关工作人员宪法知识竞赛"


def test_compact_spacing_rules():
    assert _compact("本报讯 12 月 7 日至 8 日，区委") == "本报讯12月7日至8日，区委"
    assert _compact("大格局谋发展 高质量抓落实") == "大格局谋发展 高质量抓落实"
    assert _compact("本 报 讯 10 月 14 日 ， 中 国 海 油 党 组 召 开") == "本报讯10月14日，中国海油党组召开"
    assert _compact("通过 QQ 感谢") == "通过QQ感谢"
    assert _compact("COVID 19 and SARS CoV") == "COVID 19 and SARS CoV"


# --- variations built from sentences of the seed page ------------------------------------------

BODY_A = (
    "本报讯 12 月 4 日，杨浦区国家宪法日主题活动暨国家机关工作人员宪法知识竞赛在沪东工人文化宫举行，"
    "旨在宣传普及宪法知识，弘扬宪法精神，营造浓厚的宪法宣传活动氛围。",
    "区民防办、区市场监管局、团区委、区城管执法局、区规划资源局、区生态环境局6支队伍进入决赛，"
    "经过必答题、抢答题、风险题三个环节的比拼，最终，区城管执法局获一等奖。",
)
BODY_B = (
    "五角场是杨浦商圈企业、双创企业、科技园区、商办楼宇等最为集中的区域。明年，五角场街道将以党建为引领，"
    "继续联动区投促分中心等部门，服务楼宇健康发展、服务商圈能级提升、服务双创生态营造。",
    "在服务商圈发展方面，街道将加强公共空间利用，联合商圈企业、相关职能部门、社会组织等开展商旅文活动，"
    "打造网红打卡新地标，在促销信息互通、活动资源共享等方面打造商圈新热点。",
)
HEAD_A = "本区举行机关工作人员宪法知识竞赛"
HEAD_B = "五角场街道打造商圈新热点"



def layout(blocks: list[str | list[str]], width: int, gap: bool) -> str:
    out: list[str] = []
    for b in blocks:
        if isinstance(b, str):
            out += ["", b, ""]
        else:
            for p in b:
                out += wrap(p, width) + ([""] if gap else [])
    return "\n".join(out)


def bodies(page) -> list[str]:
    return [_nows("".join(p.text for p in a.paragraphs)) for a in page.articles]


@pytest.mark.parametrize("width", [13, 16, 19])
@pytest.mark.parametrize("gap", [True, False])
@pytest.mark.parametrize("a_after", [True, False])
def test_headlines_before_or_after_their_bodies(width, gap, a_after):
    blocks: list = (["■记者 杨晓梅", list(BODY_A), HEAD_A] if a_after else [HEAD_A, "■记者 杨晓梅", list(BODY_A)])
    blocks += [HEAD_B, list(BODY_B)]
    page = parse_page(layout(blocks, width, gap))
    assert bodies(page) == [_nows("".join(BODY_A)), _nows("".join(BODY_B))]
    assert [a.title for a in page.articles] == [HEAD_A, HEAD_B]
    assert page.articles[0].reporters == ["杨晓梅"]
    assert page.articles[0].dateline == "本报讯"
    assert [len(a.paragraphs) for a in page.articles] == [2, 2]


def test_byline_glued_to_the_last_line_belongs_to_the_article_before():
    lines = wrap(BODY_B[0], 16) + wrap(BODY_B[1], 16)
    lines[-1] += " ■记者 毛信慧 成佳佳"
    page = parse_page("\n".join([HEAD_B, ""] + lines + ["", HEAD_A, "", "■记者 杨晓梅", ""] + wrap(BODY_A[0], 16)))
    assert [a.reporters for a in page.articles] == [["毛信慧", "成佳佳"], ["杨晓梅"]]
    assert not page.articles[0].paragraphs[-1].text.endswith("成佳佳")


def test_marker_glued_to_a_headline_and_chinese_numerals():
    """As on the seed page: A's headline, printed after A, glued to （上接…） and B's first line."""
    first = wrap(BODY_B[0], 16)
    text = "\n".join(
        ["■记者 杨晓梅", ""] + wrap(BODY_A[0], 16) + wrap(BODY_A[1], 16)
        + ["", HEAD_A + "（上接第 1 版）" + first[0]] + first[1:]
        + wrap(BODY_B[1], 16) + ["（下转第二版）"]
    )
    page = parse_page(text)
    assert len(page.articles) == 2
    a, cont = page.articles
    assert a.title == HEAD_A and a.reporters == ["杨晓梅"]
    assert (cont.continued_from_page, cont.continues_to_page) == (1, 2)
    assert cont.title is None and cont.kicker is None
    assert bodies(page) == [_nows("".join(BODY_A)), _nows("".join(BODY_B))]


def test_column_break_in_mid_sentence_is_mended():
    lines = wrap(BODY_B[0], 15)
    text = "\n".join([HEAD_B, ""] + lines[:3] + [""] + lines[3:])
    page = parse_page(text)
    assert len(page.articles) == 1
    assert [p.text for p in page.articles[0].paragraphs] == [BODY_B[0]]


def test_empty_and_junk_pages_do_not_crash():
    assert parse_page("").articles == []
    assert parse_page("\n\n   \n").articles == []
    page = parse_page("只有一行字")
    assert sum(len(a.paragraphs) for a in page.articles) == 1


def test_a_long_file_of_many_pages_keeps_every_article():
    """Twenty seed pages in one file: the search stays bounded and no article is lost or merged."""
    text = SEED.read_text(encoding="utf-8")
    page = parse_page("\n\n".join([text] * 20))
    assert len(page.articles) == 60
    gold_bodies = [_nows("".join(a["paragraphs"])) for a in GOLD["articles"]]
    got = [_nows("".join(p.text for p in a.paragraphs)) for a in page.articles]
    assert got == gold_bodies * 20
