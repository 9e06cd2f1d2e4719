"""What real pages also contain: each case on a page written here, laid out as PDF text is."""

from __future__ import annotations

import datetime as dt
import re

from tasks.layout import parse_page
from tests.test_layout import GOLD, wrap


def nows(s: str) -> str:
    return re.sub(r"\s+", "", s)


LEAD = "本报讯 10 月 14 日，中国海油党组召开理论学习中心组学习会，传达学习重要讲话精神，研究部署贯彻落实工作。"
SECOND = "会议强调，要坚持稳中求进工作总基调，统筹推进安全生产和提质增效，确保全年目标任务圆满完成。"
HEAD = "中国海油党组召开理论学习中心组学习会"


def test_letter_spaced_lead_is_closed_up():
    spaced = " ".join("本报讯") + " 10 月 14 日 ， " + " ".join("中国海油党组召开")
    lines = [HEAD, "", spaced] + wrap(LEAD.split("召开", 1)[1], 16) + wrap(SECOND, 16)
    page = parse_page("\n".join(lines))
    assert len(page.articles) == 1
    art = page.articles[0]
    assert art.paragraphs[0].text.startswith("本报讯10月14日，中国海油党组召开理论学习中心组")
    assert art.dateline == "本报讯"
    assert [nows(p.text) for p in art.paragraphs] == [nows(LEAD), nows(SECOND)]


def test_byline_inside_the_lead_gives_reporters_and_contributors():
    lead = "本报讯 （记者徐昕联 通讯员 田明 宋宗泽 姜山） 10 月 14 日，" + LEAD.split("日，", 1)[1]
    page = parse_page("\n".join([HEAD, ""] + wrap(lead, 16) + wrap(SECOND, 16)))
    art = page.articles[0]
    assert art.reporters == ["徐昕联"]
    assert art.contributors == ["田明", "宋宗泽", "姜山"]
    assert art.paragraphs[0].text.startswith("本报讯10月14日，中国海油")
    assert "（" not in art.body and "通讯员" not in art.body
    assert art.dateline == "本报讯"


def test_two_reporters_in_the_lead():
    lead = "本报讯（记者张三、李四）" + LEAD.split("本报讯", 1)[1]
    art = parse_page("\n".join([HEAD, ""] + wrap(lead, 15))).articles[0]
    assert art.reporters == ["张三", "李四"] and art.contributors == []


MORE = [SECOND] + GOLD["articles"][0]["paragraphs"][3:5]  # a report of some length, real sentences


def test_captions_masthead_and_page_header_are_not_article_text():
    page_text = "\n".join(
        ["2019年12月10日 星期二 第 2 版", " 要闻·综合", "", HEAD, "", "■记者 杨晓梅", ""]
        + wrap(LEAD, 16) + [line for p in MORE for line in wrap(p, 16)]
        + ["图为学习会现场。", "本报记者 刘梦涛 摄", ""]
        + ["本期值班副总编 / 姜啸啸 责任编辑 / 王 瑾", "国内统一连续出版物号 CN31-0001"]
    )
    page = parse_page(page_text)
    assert page.section == "要闻·综合"
    assert (page.issue_date, page.page_no) == (dt.date(2019, 12, 10), 2)
    assert len(page.imprint) == 2 and page.imprint[0].startswith("本期值班副总编")
    assert len(page.articles) == 1
    art = page.articles[0]
    assert [nows(p.text) for p in art.paragraphs] == [nows(LEAD)] + [nows(p) for p in MORE]
    assert art.captions == ["图为学习会现场。 本报记者 刘梦涛 摄"]
    assert art.reporters == ["杨晓梅"]
    for junk in ("摄", "值班", "出版物号", "星期二"):
        assert junk not in art.body


def test_a_sentence_with_a_date_is_not_a_page_header():
    text = "\n".join([HEAD, ""] + wrap("2019年12月10日，区委召开会议，部署明年工作。", 16) + wrap(SECOND, 16))
    page = parse_page(text)
    assert page.issue_date is None
    assert page.articles[0].paragraphs[0].text.startswith("2019年12月10日")


def test_continuation_with_chinese_numeral_on_its_own_line():
    lines = [HEAD, ""] + wrap(LEAD, 16) + wrap(SECOND, 16) + ["（下转第二版）"]
    art = parse_page("\n".join(lines)).articles[0]
    assert art.continues_to_page == 2
    assert "下转" not in art.body


def test_marker_wrapped_over_two_lines():
    body = wrap(LEAD, 16) + wrap(SECOND, 16)
    body[-1] += "（下转第 1"
    lines = [HEAD, ""] + body + ["2 版）"]
    art = parse_page("\n".join(lines)).articles[0]
    assert art.continues_to_page == 12
    assert nows(art.body) == nows(LEAD + "\n" + SECOND)


def test_a_photo_story_keeps_its_caption_as_text():
    """图片新闻: the caption is the story. Its text stays the body and is listed as a caption."""
    story = "近日，区绿化市容局组织志愿者在五角场街道开展垃圾分类宣传，居民踊跃参与。"
    lines = ["垃圾分类进社区", ""] + wrap(story, 16) + ["本报记者 刘梦涛 摄"]
    art = parse_page("\n".join(lines)).articles[0]
    assert art.title == "垃圾分类进社区"
    assert nows(art.body) == nows(story + "本报记者刘梦涛摄")
    assert art.captions == ["本报记者 刘梦涛 摄"]


def test_notes_in_parentheses_and_box_labels_are_text_not_headlines():
    lines = ([HEAD, "", "核心阅读", ""] + wrap(LEAD, 16) + wrap(SECOND, 16)
             + ["（执笔：王公龙）", "", "区发改委打造创新创业样板间", ""] + wrap(MORE[1], 16))
    page = parse_page("\n".join(lines))
    assert [a.title for a in page.articles] == [HEAD, "区发改委打造创新创业样板间"]
    first = page.articles[0]
    assert first.paragraphs[0].text == "核心阅读"
    assert first.paragraphs[-1].text == "（执笔：王公龙）"


def test_credits_and_sentences_are_not_bylines():
    body = wrap(LEAD, 16) + ["记者看到，在办事大厅，", "还摆放着宣传资料。"] + wrap(SECOND, 16)
    lines = [HEAD, "", "本报记者 王云娜整理", ""] + body + ["", "版式设计：蔡华伟 □ 吴基传"]
    page = parse_page("\n".join(lines))
    art = page.articles[0]
    assert art.reporters == ["吴基传"]  # the byline glued to the design credit, nothing else
    assert "记者看到，在办事大厅，还摆放着宣传资料。" in art.body
    assert "本报记者 王云娜整理" in art.body or "本报记者王云娜整理" in art.body
    assert page.imprint == ["版式设计：蔡华伟"]


def test_byline_after_a_date_line():
    lines = [HEAD, ""] + wrap(LEAD, 16) + wrap(SECOND, 16) + ["2020 年 2 月 12 日 本报记者 陈绍瑜"]
    art = parse_page("\n".join(lines)).articles[0]
    assert art.reporters == ["陈绍瑜"]
