"""What real pages also contain: each case on a page written here, laid out as PDF text is."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tasks.layout import _build_article, _headlike, items_of, parse_page
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
    assert page.imprint == []
    assert art.paragraphs[-1].text == "版式设计：蔡华伟"  # the design credit closes the feature


def test_a_design_credit_closes_its_article_a_masthead_of_roles_is_imprint():
    """版式设计：X under a feature is printed as that article's last line; the masthead's list of
    roles (版式设计 / X …) is the page's."""
    lines = ([HEAD, ""] + wrap(LEAD, 16) + wrap(SECOND, 16) + ["版式设计：郭 祥 汪哲平", ""]
             + ["区发改委打造创新创业样板间", ""] + wrap(MORE[1], 16)
             + ["", "版式设计 / 蔡华伟 责任编辑 / 王 瑾"])
    page = parse_page("\n".join(lines))
    assert [a.title for a in page.articles] == [HEAD, "区发改委打造创新创业样板间"]
    first, second = page.articles
    assert nows(first.paragraphs[-1].text) == "版式设计：郭祥汪哲平"
    assert "版式设计" not in second.body
    assert [nows(x) for x in page.imprint] == ["版式设计/蔡华伟责任编辑/王瑾"]


def test_byline_after_a_date_line():
    lines = [HEAD, ""] + wrap(LEAD, 16) + wrap(SECOND, 16) + ["2020 年 2 月 12 日 本报记者 陈绍瑜"]
    art = parse_page("\n".join(lines)).articles[0]
    assert art.reporters == ["陈绍瑜"]


def test_a_two_character_name_set_to_three_is_one_name():
    """本报记者  付  文: PD pads a two-character name to the width of three."""
    for line, names in [("本报记者  付  文", ["付文"]), ("本报记者 张 帆 叶传增", ["张帆", "叶传增"]),
                        ("本报记者  靳  博  龚相娟", ["靳博", "龚相娟"])]:
        art = parse_page("\n".join([HEAD, "", line, ""] + wrap(LEAD, 16) + wrap(SECOND, 16))).articles[0]
        assert art.reporters == names, line
        assert nows(art.body) == nows(LEAD + SECOND)


# a roundup: one headline, an introduction, then sections, each with its own heading and byline
INTRO = ("疫情防控，社区是第一道防线。春节期间，本报记者走进多个社区，记录下社区干部、志愿者和居民坚守岗位、"
         "守望相助的故事：登记、测温、送口罩，防控工作一项不落。")
SECTIONS = [
    ("杨浦区殷行街道市光一村——", "“小小口罩送到家门口”", "本报记者  付  文",
     ["正月初二一早，居委会干部就把登记好的口罩一户一户送到老人家门口，还叮嘱他们少出门、勤洗手。",
      "市光一村是老小区，六十岁以上的居民占了一半。疫情防控开始后，居委会把全村分成十二个网格，每个网格由一名社区干部和两名志愿者负责。",
      "“我们这里老人多，能多跑一步就多跑一步。”社区书记说，居委会的电话二十四小时有人接，居民需要买菜、配药，志愿者都会帮忙。",
      "几天下来，社区干部和志愿者走遍了全村的每一户居民，登记、测温、送口罩，防控工作一项不落。",
      "独居的王阿姨腿脚不便，志愿者每天上门两次，帮她测体温、倒垃圾。“有他们在，我心里踏实。”王阿姨说。",
      "夜里十点，居委会办公室的灯还亮着。社区干部核对完当天的登记表，又在居民群里发布了第二天的防控提示。"]),
    ("五角场街道国定一居委——", "志愿者排起长队", "本报记者  田豆豆",
     ["小区门口的测温点前，穿红马甲的志愿者分成三班轮流值守，从早上七点一直站到晚上十点。",
      "国定一居委有居民两千多户，疫情防控开始后，居委会在微信群里发出招募志愿者的通知，不到半天就有六十多名居民报名。",
      "退休教师老陈每天最早到岗，他说守好小区大门，就是给抗击疫情出一份力。社区干部给志愿者准备了口罩和热水。",
      "“居民自己来守护自己的社区，大家都放心。”居委会主任说，防控工作离不开每一位志愿者。",
      "志愿者里有刚放寒假的大学生，也有开了二十多年出租车的老司机。大家在登记表上签下名字，领了口罩就上岗。",
      "到了饭点，居民们送来热腾腾的饺子。测温点前的队伍越排越短，志愿者的笑容却越来越多。"]),
]


def roundup_page(width: int, gap: bool) -> tuple[str, str]:
    """A page of a report, a roundup and another report; returns (page text, roundup body)."""
    quiz = GOLD["articles"][1]
    lines = [quiz["title"], ""] + [line for p in quiz["paragraphs"] for line in wrap(p, width)]
    lines += ["", "社区防控，我们在行动（战疫一线）", ""] + wrap(INTRO, width) + [""]
    body = [INTRO]
    for kicker, title, byline, paras in SECTIONS:
        lines += [kicker, "", title, "", byline, ""]
        body += [kicker, title, byline] + paras
        for p in paras:
            lines += wrap(p, width) + ([""] if gap else [])
    lines += ["", HEAD, "", "■记者 杨晓梅", ""] + wrap(LEAD, width) + wrap(SECOND, width)
    return "\n".join(lines), "".join(body)


def test_a_byline_inside_a_body_is_a_section_byline_not_the_articles_reporters():
    """Built as one article, a roundup keeps each section's byline as text (kind ``byline``);
    the reporters are those of bylines outside the body (above the headline's body or after it)."""
    for width, gap in [(14, True), (17, False)]:
        text, body = roundup_page(width, gap)
        _, items, _ = items_of(text)
        start = next(k for k, it in enumerate(items) if it.text.startswith("社区防控"))
        end = next(k for k, it in enumerate(items) if it.text == HEAD)
        roundup = _build_article(items, start, end)
        assert roundup.title == "社区防控，我们在行动（战疫一线）"
        assert nows(roundup.body) == nows(body)
        assert [p.text for p in roundup.paragraphs if p.kind == "byline"] == ["本报记者 付 文", "本报记者 田豆豆"]
        assert roundup.reporters == []
        report = _build_article(items, end, len(items))
        assert report.reporters == ["杨晓梅"]


def test_a_credit_closes_its_article():
    """制图：… ends an article: the short report under the next heading is an article of its own."""
    short = "为声援一线工作人员，区文化馆组织艺术家创作了一批抗疫作品，在网上展出。"
    lines = ([HEAD, ""] + wrap(LEAD, 16) + wrap(SECOND, 16) + [line for p in MORE for line in wrap(p, 16)]
             + ["制图：蔡华伟", "", "凝聚起抗击疫情的力量", ""] + wrap(short, 16) + ["（任姗姗）"])
    page = parse_page("\n".join(lines))
    assert [a.title for a in page.articles] == [HEAD, "凝聚起抗击疫情的力量"]
    assert nows(page.articles[1].body) == nows(short + "（任姗姗）")


def test_a_paragraph_ending_without_punctuation_before_a_line_that_lost_its_indent():
    """A lead that ends with no full stop ("…提高政法工作现代化水平"), then, with no blank line,
    the next paragraph's first line, two characters short: two paragraphs, not one."""
    lead = "本报讯 政法机关要善于观大势、谋大局、抓大事，发扬斗争精神，着力提高政法工作现代化水平"
    nxt = "不久前，习近平总书记就政法工作作出重要指示，强调要把维护国家政治安全放在第一位。"
    for width in (13, 14, 17, 20):
        assert len(wrap(lead, width)[-1]) <= width - 4  # the lead's last line is short
        lines = [HEAD, ""] + [line for p in [lead, nxt] + MORE for line in wrap(p, width)]
        art = parse_page("\n".join(lines)).articles[0]
        assert [nows(p.text) for p in art.paragraphs] == [nows(p) for p in [lead, nxt] + MORE], width
    # an open bracket at the end of the short line: the lead goes on (本报北京2月13日电（记者 / 姜洁）…)
    lines = [HEAD, "", "本报北京 2 月 13 日电  （记者", "姜洁）日前，中共中央决定：", ""] + wrap(SECOND, 15)
    art = parse_page("\n".join(lines)).articles[0]
    assert art.paragraphs[0].text == "本报北京2月13日电（记者姜洁）日前，中共中央决定："


def photo_story_page(credit_line: str):
    """A photo story whose last line is ``credit_line``, then a report."""
    story = "2月11日，一对奋战在抗击疫情一线的医生夫妻在医院短暂相聚，相聚后他们将继续投入各自战场。"
    lines = (["短暂的相聚", ""] + wrap(story, 15) + ["", credit_line, ""]
             + [HEAD, ""] + wrap(LEAD, 15) + wrap(SECOND, 15))
    page = parse_page("\n".join(lines))
    assert [a.title for a in page.articles] == ["短暂的相聚", HEAD]
    return page


def test_a_byline_glued_after_a_photo_credit():
    page = photo_story_page("郭 鹏摄 本报记者 姚雪青文 本报记者 崔剑平 张谦")
    photo, report = page.articles
    assert photo.reporters == ["崔剑平", "张谦"] and report.reporters == []
    assert "姚雪青" not in photo.reporters


def test_a_byline_glued_after_a_credit_ending_in_sheying_baodao():
    """蒋云龙 郭 旭摄影报道 with 本报记者 袁鹰 glued after it: the byline names the story's
    reporter, and the credit stays the story's last line (a photo story keeps its caption as
    text). After 供图 the same words are the credit's own (…总领事馆供图 本报记者 林芮文, as the
    dev gold has it): no byline, and no headline line of the next report either."""
    page = photo_story_page("蒋云龙 郭 旭摄影报道 本报记者 袁鹰")
    photo, report = page.articles
    assert photo.reporters == ["袁鹰"] and photo.kicker is None and report.reporters == []
    assert nows(photo.paragraphs[-1].text) == "蒋云龙郭旭摄影报道"
    photo, report = photo_story_page("区融媒体中心供图 本报记者 袁鹰").articles
    assert photo.reporters == [] and report.reporters == [] and report.kicker is None
    assert any(nows(c).endswith("区融媒体中心供图本报记者袁鹰") for c in photo.captions)


OTHER_HEAD = "区发改委打造创新创业样板间"
OTHER = ["五角场是杨浦商圈企业、双创企业、科技园区最集中的区域，区发改委将围绕创新创业，打造样板间。",
         "区发改委负责人表示，明年将推出一批扶持双创企业的新举措，让更多初创团队在五角场落地生根。"]


def test_a_byline_above_a_headline_closes_the_article_before():
    """Body, byline, then the next headline: the byline ends the article above it."""
    for width in (14, 17):
        lines = ([HEAD, ""] + wrap(LEAD, width) + wrap(SECOND, width) + ["", "■记者 杨晓梅", "", OTHER_HEAD, ""]
                 + [line for p in OTHER for line in wrap(p, width)])
        page = parse_page("\n".join(lines))
        assert [(a.title, a.reporters) for a in page.articles] == [(HEAD, ["杨晓梅"]), (OTHER_HEAD, [])], width


def test_a_wire_dateline_inside_a_page_of_headlines_after_bodies_starts_an_article():
    """Headlines printed after their bodies: the second report's wire dateline (本报北京…电) is
    where it starts, although no headline or byline stands between the two."""
    lead2 = "本报北京 2 月 10 日电  " + OTHER[0]
    lines = (wrap(LEAD, 15) + wrap(SECOND, 15) + [""] + [line for p in [lead2, OTHER[1]] for line in wrap(p, 15)]
             + ["", OTHER_HEAD, ""])
    page = parse_page("\n".join([HEAD, ""] + lines))
    assert [a.title for a in page.articles] == [HEAD, OTHER_HEAD]
    assert page.articles[1].paragraphs[0].text.startswith("本报北京2月10日电")


def test_a_change_of_subject_can_start_an_article_with_its_headline_after_it():
    """Headline before the first body, after the second: where the subject changes, with no
    headline, byline or dateline between them, the second article starts."""
    run_head = "迎新年长跑在黄兴公园开跑"
    run = ["元旦上午，三千多名市民穿上红色运动衫，在黄兴公园参加迎新年长跑，最小的选手只有六岁。",
           "长跑分为五公里和十公里两个组别，沿途设有补给站和医疗点，志愿者为跑友们加油鼓劲。"]
    first = [LEAD] + MORE
    lines = ([HEAD, ""] + [line for p in first for line in wrap(p, 16)]
             + [line for p in run for line in wrap(p, 16)] + ["（本报记者 王瑾）", "", run_head])
    page = parse_page("\n".join(lines))
    assert [a.title for a in page.articles] == [HEAD, run_head]
    assert [nows(p.text) for p in page.articles[1].paragraphs][:2] == [nows(p) for p in run]


def test_a_photo_credit_line_is_no_headline():
    """春秋航空供图（新华社发） under a photo story stays with it, not over the next article."""
    story = "2月1日凌晨，在从日本东京羽田机场飞往武汉天河机场的航班上，旅客与机组乘务员一起为武汉加油。"
    lines = (["中国政府包机接回滞留日本的湖北同胞", ""] + wrap("本报讯 " + story, 15) + ["", "春秋航空供图（新华社发）", ""]
             + [HEAD, ""] + wrap(LEAD, 15) + wrap(SECOND, 15))
    page = parse_page("\n".join(lines))
    assert [(a.title, a.kicker) for a in page.articles] == [("中国政府包机接回滞留日本的湖北同胞", None), (HEAD, None)]
    assert page.articles[0].captions == ["春秋航空供图（新华社发）"]


def test_a_box_label_behind_a_bullet_is_text_not_a_byline():
    box = "2月6日，商务部、国家卫生健康委联合印发餐饮企业经营服务防控指南，要求各地商务主管部门加强指导。"
    lines = ([HEAD, "", "■记者 杨晓梅", ""] + wrap(LEAD, 15) + wrap(SECOND, 15)
             + ["", "■延伸阅读", "", "餐饮企业经营服务防控指南印发", ""] + wrap(box, 15))
    page = parse_page("\n".join(lines))
    assert [(a.title, a.reporters) for a in page.articles] == [(HEAD, ["杨晓梅"])]
    assert "■延伸阅读" in [p.text for p in page.articles[0].paragraphs]
    assert nows(page.articles[0].body).endswith(nows(box))


def test_a_line_wider_than_the_column_between_gaps_is_a_headline_line_even_with_an_ellipsis():
    kicker = "好演出搬到网上、艺术家各展其长、“云合唱”加油鼓劲……"
    lines = [kicker, "", HEAD, ""] + wrap(LEAD, 15) + wrap(SECOND, 15)
    art = parse_page("\n".join(lines)).articles[0]
    assert (art.kicker, art.title) == (kicker, HEAD)
    assert nows(art.body) == nows(LEAD + SECOND)


def test_a_sentence_ending_in_paishe_at_a_line_end_is_no_photo_credit():
    """…全部拍摄 / 录音工作完成。: 拍摄 is filming, not a credit; the paragraph goes on."""
    para = ("二十多位文艺界人士共同完成了一次互不见面的大合唱。艺术家们各自在家中完成拍摄，"
            "只用了一天，全部拍摄录音工作完成。二月一日，作品已开始在各平台播出。")
    for width in range(14, 19):
        art = parse_page("\n".join([HEAD, ""] + wrap(LEAD, width) + wrap(para, width) + wrap(SECOND, width))).articles[0]
        assert [nows(p.text) for p in art.paragraphs] == [nows(LEAD), nows(para), nows(SECOND)], width
        assert art.captions == []


def test_a_line_naming_an_edition_is_text_not_a_page_header():
    review = "该书系统梳理了产业经济学的前沿进展，学》（第五版）已由东北财经大学出版社出版，受到读者好评。"
    lines = [HEAD, "", "——《产业经济学》（第五版）简评", ""] + wrap(LEAD, 15) + wrap(review, 15)
    for text in ["\n".join(lines), "\n".join(lines[:-2] + ["学》（第五版）已由东北财经大学出版"] + lines[-1:])]:
        page = parse_page(text)
        art = page.articles[0]
        assert page.page_no is None
        assert art.subtitle == "——《产业经济学》（第五版）简评"
        assert "第五版" in art.body


def test_a_full_line_ending_in_she_inside_a_paragraph_is_no_credit():
    """…举办中国主题的画展与摄 / 影展…: a word wrapped at 摄 is no photo credit."""
    para = ("他们组织关于中国的讲座、编辑出版刊物，举办中国主题的画展与摄影展，要求两国关系早日正常化。"
            "犹记得，当年的出土文物展在全美巡展，接待观众一百八十万人次，盛况空前。")
    hits = 0
    for width in range(13, 21):
        lines = wrap(para, width)
        hits += any(line.endswith("摄") for line in lines[:-1])
        art = parse_page("\n".join([HEAD, ""] + wrap(LEAD, width) + lines + wrap(SECOND, width))).articles[0]
        assert [nows(p.text) for p in art.paragraphs] == [nows(LEAD), nows(para), nows(SECOND)], width
        assert art.captions == []
    assert hits  # some width breaks the line right after 摄


BRIEFS = [
    ("我国海上发射火箭模型入驻科技馆", ["本报电 日前，航天基金会向科技馆捐赠了海上发射火箭模型，模型以一比十的比例还原了发射场景。", "（刘诗瑶）"]),
    ("经开区为创新提供一站式服务", ["本报电 经开区近年来大力推动创新平台建设，为创新创业者提供从注册到融资的全方位支持。", "（邓 妍）"]),
    ("智慧城市科学发展大会举行", ["本报电 智慧城市科学发展大会日前举办，会上评选出二十个优秀案例，专家建议各地因地制宜。", "（谷业凯）"]),
]


@pytest.mark.parametrize("byline_at", ["under the label", "after the last brief"])
def test_a_briefs_column_is_one_article(byline_at):
    """新闻速递: a label for a headline, the first brief's title run into 本报讯, then briefs,
    each with its own title and source: one article, the titles its subheadings. The column's
    byline stands under the label or after the last brief."""
    for width in (14, 17):
        lines = [HEAD, ""] + wrap(LEAD, width) + wrap(SECOND, width) + ["", "新闻速递", ""]
        if byline_at == "under the label":
            lines += ["■记者 郑海霞", ""]
        body = []
        for n, (title, paras) in enumerate(BRIEFS):
            lines += (wrap("本报讯 " + title, width) if n == 0 else ["", title, ""])
            body += (["本报讯 " + title] if n == 0 else [title]) + paras
            for p in paras:
                lines += wrap(p, width)
        if byline_at == "after the last brief":
            lines += ["本报记者 郑海霞"]
        lines += ["", OTHER_HEAD, "", "■记者 杨晓梅", ""] + [line for p in OTHER for line in wrap(p, width)]
        page = parse_page("\n".join(lines))
        assert [a.title for a in page.articles] == [HEAD, "新闻速递", OTHER_HEAD], width
        column = page.articles[1]
        assert nows(column.body) == nows("".join(body))
        assert [p.text for p in column.paragraphs if p.kind == "subheading"] == [t for t, _ in BRIEFS[1:]]
        assert column.reporters == ["郑海霞"] and page.articles[2].reporters == ["杨晓梅"]


def test_a_briefs_column_whose_label_stands_over_the_first_title():
    """资讯速递 over the first brief's title, each title on a line of its own: one article
    headed by the label, the first title a subheading like the others, not the label a kicker
    over the first brief alone."""
    for width in (14, 17, 20):
        for label in ("资讯速递", "微阅读"):
            lines = [HEAD, ""] + wrap(LEAD, width) + wrap(SECOND, width) + ["", label, ""]
            body = []
            for title, paras in BRIEFS:
                lines += [title, ""] + [line for p in paras for line in wrap(p, width)] + [""]
                body += [title] + paras
            lines += [OTHER_HEAD, "", "■记者 杨晓梅", ""] + [line for p in OTHER for line in wrap(p, width)]
            page = parse_page("\n".join(lines))
            assert [(a.kicker, a.title) for a in page.articles] == [
                (None, HEAD), (None, label), (None, OTHER_HEAD)], (width, label)
            column = page.articles[1]
            assert nows(column.body) == nows("".join(body)), (width, label)
            assert [p.text for p in column.paragraphs if p.kind == "subheading"] == [t for t, _ in BRIEFS]


def _spaced(paras: list[str], width: int) -> list[str]:
    """Paragraphs wrapped at ``width``, a blank line after each (a page that sets them apart)."""
    return [line for p in paras for line in wrap(p, width) + [""]]


WIRE_NOTES = ["（据新华社东京电）", "（新华社莫斯科电 记者吴刚）", "（据新华社华盛顿电）"]


@pytest.mark.parametrize("notes", ["names", "wires"])
def test_a_briefs_label_printed_after_its_briefs_heads_them(notes):
    """财经短波 after the last brief (a column laid out with its headline below): the briefs
    before it, each titled and closed by its source in brackets (a name, or the wire it came
    by), are one article headed by the label; the article before them and the one after stay
    apart."""
    briefs = BRIEFS if notes == "names" else [
        (title, paras[:-1] + [note]) for (title, paras), note in zip(BRIEFS, WIRE_NOTES, strict=True)]
    for width in (14, 17, 20):
        for first_title_run_in in (False, True):
            lines = [HEAD, ""] + _spaced([LEAD, SECOND] + MORE, width)
            body = []
            for n, (title, paras) in enumerate(briefs):
                if n == 0 and first_title_run_in:  # 本报讯 + the title, a gap, then its lead
                    lines += _spaced(["本报讯 " + title] + paras, width)
                    body += ["本报讯 " + title] + paras
                else:
                    lines += [title, ""] + _spaced(paras, width)
                    body += [title] + paras
            lines += ["财经短波", "", OTHER_HEAD, "", "■记者 杨晓梅", ""] + _spaced(OTHER, width)
            page = parse_page("\n".join(lines))
            assert [a.title for a in page.articles] == [HEAD, "财经短波", OTHER_HEAD], (width, first_title_run_in)
            column = page.articles[1]
            assert [nows(p.text) for p in column.paragraphs] == [nows(b) for b in body], (width, first_title_run_in)


def test_an_article_with_two_headline_lines_after_a_briefs_column_is_its_own():
    """新闻速递 / 本报讯 <title> / 本报电 …: the title run into 本报讯 stands on its own line above
    the lead, and the column ends where an article with a kicker and a title begins."""
    for width in (15, 18):
        lines = ([HEAD, ""] + _spaced([LEAD, SECOND], width) + ["新闻速递", ""]
                 + _spaced(["本报讯 " + BRIEFS[0][0]] + BRIEFS[0][1], width))
        for title, paras in BRIEFS[1:]:
            lines += [title, ""] + _spaced(paras, width)
        lines += ["区发改委：", "", OTHER_HEAD, ""] + _spaced(["本报讯 " + OTHER[0]] + OTHER[1:], width)
        page = parse_page("\n".join(lines))
        assert [a.title for a in page.articles] == [HEAD, "新闻速递", OTHER_HEAD], width
        column = page.articles[1]
        assert column.paragraphs[0].text == "本报讯 " + BRIEFS[0][0] or nows(column.paragraphs[0].text) == nows(
            "本报讯" + BRIEFS[0][0])
        assert page.articles[2].kicker == "区发改委："


def test_two_headlines_on_one_line():
    """PDF extraction put two short headlines on one line. A kicker and its title stay one
    article's; two articles' headlines side by side go each to its own body."""
    lines = ["市场监管总局：  疫情防控期间抓好七项工作", ""] + wrap(LEAD, 15) + wrap(SECOND, 15)
    art = parse_page("\n".join(lines)).articles[0]
    assert (art.kicker, art.title) == ("市场监管总局：", "疫情防控期间抓好七项工作")
    lead2 = "本报讯 " + OTHER[0]
    for width, gap in [(15, True), (18, False)]:
        lines = [HEAD + "    " + OTHER_HEAD, ""]
        for p in [LEAD, SECOND, lead2, OTHER[1]]:
            lines += wrap(p, width) + ([""] if gap else [])
        page = parse_page("\n".join(lines))
        assert [a.title for a in page.articles] == [HEAD, OTHER_HEAD], (width, gap)
        assert [nows(a.body) for a in page.articles] == [nows(LEAD + SECOND), nows(lead2 + OTHER[1])]


def test_a_photo_credit_wrapped_over_two_lines_is_one_credit():
    story = "近日，区中心医院隔离病区住进一个特殊的家庭，护士们轮流照顾年幼的孩子，当起了临时妈妈。"
    lines = ([HEAD, ""] + [line for p in [LEAD] + MORE for line in wrap(p, 14) + [""]]
             + ["“临时妈妈”", ""] + wrap(story, 14) + ["", "张梓望 李秀婷 黄锦辉摄影报", "道（影像中国）", ""])
    page = parse_page("\n".join(lines))
    assert [a.title for a in page.articles] == [HEAD, "“临时妈妈”"]
    art = page.articles[1]
    assert art.captions == ["张梓望 李秀婷 黄锦辉摄影报道（影像中国）"]


def test_a_photo_story_between_reports_keeps_its_headline():
    """On a page with blank lines between paragraphs, a short line over a few lines of text and
    a photo credit heads a photo story: its own article, not a subheading of the report above."""
    story = "近日，区中心医院隔离病区住进一个特殊的家庭，护士们轮流照顾年幼的孩子，当起了临时妈妈。"
    for width in (14, 17):
        lines = [HEAD, ""] + _spaced([LEAD] + MORE, width)
        lines += ["临时妈妈", ""] + wrap(story, width) + ["", "新华社记者 李 颖摄", ""]
        lines += [OTHER_HEAD, "", "■记者 杨晓梅", ""]
        lines += _spaced(["本报讯 " + OTHER[0], OTHER[1]], width)
        page = parse_page("\n".join(lines))
        assert [a.title for a in page.articles] == [HEAD, "临时妈妈", OTHER_HEAD], width
        assert page.articles[1].captions == ["新华社记者 李 颖摄"]


def test_labelled_fields_are_text_not_headlines():
    for field in ["电子信箱：rmrbgj@people.cn", "咨询电话：400-800-2211", "时间：1月27日14时"]:
        lines = [HEAD, ""] + wrap(LEAD, 15) + wrap(SECOND, 15) + ["", field, ""]
        page = parse_page("\n".join(lines))
        assert [(a.title, a.kicker) for a in page.articles] == [(HEAD, None)], field
        assert nows(page.articles[0].paragraphs[-1].text) == nows(field)


def test_photo_by_and_text_by_is_a_credit_not_a_byline():
    """郭 鹏摄 本报记者 姚雪青文 (photo by 郭鹏, text by 姚雪青): a credit line, no reporters."""
    photo = photo_story_page("郭 鹏摄 本报记者 姚雪青文").articles[0]
    assert photo.reporters == []
    assert "郭鹏摄本报记者姚雪青文" in nows(photo.body + "".join(photo.captions))  # kept, as text


def test_a_bullet_byline_under_a_heading_starts_an_article():
    """Headlines printed after their bodies: ■记者 X under the first report's headline opens the
    next piece (a report's own byline), where 本报记者 X there could be a roundup section's."""
    story = "2月9日，区实验小学举行线上开学典礼，校长和老师们通过网络直播为同学们送上新学期的祝福。"
    for width in (14, 17):
        lines = [line for p in ["本报讯 " + OTHER[0], OTHER[1]] for line in wrap(p, width)]
        lines += ["", OTHER_HEAD, "", "■记者 杨晓梅", ""] + wrap(story, width) + ["新华社记者 李 颖摄", ""]
        lines += ["特殊的“开学”典礼", ""]
        page = parse_page("\n".join(lines))
        assert [(a.title, a.reporters) for a in page.articles] == [
            (OTHER_HEAD, []), ("特殊的“开学”典礼", ["杨晓梅"])], width


def test_a_closing_note_ends_its_article_when_the_next_has_its_headline_after():
    """A commentary signed （作者为…） then, with nothing between, a report on the same subject
    whose headline follows it: the note is where the report starts, whatever wording the two
    share. The same for a wire report's own source line （本报华沙电）."""
    essay_head = "让创新创业在五角场扎根"
    essay = ["五角场集聚了大批双创企业和科技园区，区发改委正围绕创新创业打造样板间，让初创团队在五角场落地生根。",
             "打造样板间，既要做好空间载体，也要做好服务配套，让创新创业者在五角场少跑腿、快成长。"]
    report = ["五角场的双创企业和科技园区近日迎来一批新举措，区发改委推出扶持初创团队的十项措施，涵盖场地和融资。",
              "区发改委负责人表示，这些措施将让更多创新创业者在五角场落地生根，打造样板间。"]
    for note in ("（作者为区发改委主任）", "（本报华沙电）"):
        for width in (14, 18):
            lines = ([essay_head, ""] + [line for p in essay for line in wrap(p, width)] + [note]
                     + [line for p in report for line in wrap(p, width)] + ["", OTHER_HEAD, ""])
            page = parse_page("\n".join(lines))
            assert [a.title for a in page.articles] == [essay_head, OTHER_HEAD], (note, width)
            assert nows(page.articles[1].body) == nows("".join(report)), (note, width)


def test_a_wire_lead_without_a_date_starts_an_article():
    """据新华社电（记者…）opens a report even without a date, and with its headline after it."""
    wire = "据新华社电（记者陈弘毅）" + OTHER[0]
    first = ["五角场集聚了大批双创企业和科技园区，区发改委正围绕创新创业打造样板间，让初创团队落地生根。",
             "打造样板间，既要做好空间载体，也要做好服务配套，让双创企业在五角场少跑腿、快成长。"]
    for width in (17, 20):
        lines = (["让创新创业在五角场扎根", ""] + [line for p in first + [wire, OTHER[1]] for line in wrap(p, width)]
                 + ["", OTHER_HEAD, ""])
        page = parse_page("\n".join(lines))
        assert [a.title for a in page.articles] == ["让创新创业在五角场扎根", OTHER_HEAD], width
        assert page.articles[1].paragraphs[0].text.startswith("据新华社电")


def test_a_writers_name_in_brackets_does_not_close_an_article():
    """A closing note or a credit closes its article, so an article may start after it; a bare
    name in brackets （刘诗瑶） closes each brief of a briefs column as well, so it does not."""
    from tasks.layout import _closes

    assert _closes("（作者为区发改委主任）") and _closes("（本报华沙电）") and _closes("（据新华社电）")
    assert _closes("本报记者 刘梦涛摄")
    assert not _closes("（刘诗瑶）") and not _closes("（邓 妍）".replace(" ", ""))
    assert not _closes("会议强调，要坚持稳中求进工作总基调。")


def test_a_byline_under_a_headline_printed_after_its_body_stays_with_it():
    """Headlines after their bodies, each byline under its headline: the byline between the
    first headline and the second body is the first article's, since the second body carries a
    byline of its own (on its last line or under it)."""
    lead2 = "本报福州 2 月 4 日电  " + OTHER[0]
    for width in (15, 18):
        for own in ("line", "glued"):
            second = [line for p in [lead2, OTHER[1]] for line in wrap(p, width)]
            if own == "glued":
                second[-1] += " ■记者 郑海霞"
            else:
                second += ["■记者 郑海霞"]
            lines = (wrap(LEAD, width) + wrap(SECOND, width) + ["", HEAD, "", "□ 杨晓梅", "", ""]
                     + second + ["", OTHER_HEAD, ""])
            page = parse_page("\n".join(lines))
            got = [(a.title, a.reporters) for a in page.articles]
            assert got == [(HEAD, ["杨晓梅"]), (OTHER_HEAD, ["郑海霞"])], (width, own)


def test_a_document_given_in_full_stays_with_the_report_that_announces_it():
    """新华社…电 … 《办法》全文如下。 then the document's own title and articles, the headline
    printed after it all: the announcement does not end an article, the document is its text."""
    head = "区政府印发社区微更新管理办法"
    intro = ["新华社上海 2 月 3 日电  近日，区政府印发了《社区微更新管理办法》，并发出通知，要求各街道认真遵照执行。",
             "《办法》全文如下。"]
    doc_title = ["社区微更新", "管理办法"]
    rules = ["第一条 为了规范社区微更新项目的立项、实施和验收，提升社区公共空间品质，制定本办法。",
             "第二条 本办法所称社区微更新，是指对社区内小尺度公共空间进行的改造和提升。",
             "第三条 街道办事处负责本辖区社区微更新项目的组织实施，区建管委负责技术指导。"]
    for width in (14, 17):
        lines = ([line for p in intro for line in wrap(p, width)] + [""] + [t for x in doc_title for t in (x, "")]
                 + [line for p in rules for line in wrap(p, width)] + ["", head, ""])
        page = parse_page("\n".join(lines))
        assert [a.title for a in page.articles] == [head], width
        assert nows(page.articles[0].body) == nows("".join(intro + doc_title + rules)), width


def test_a_photo_story_printed_with_its_headline_after_it():
    """A report, then with nothing between a photo story's text, its caption and credit, its
    byline and its headline; then the next report: the photo story starts at its own text."""
    story = "会议召开之后，中国海油的员工在海上平台坚守岗位，统筹推进安全生产，确保全年目标任务圆满完成。"
    for width in (14, 17):
        lines = ([HEAD, "", "■记者 杨晓梅", ""] + [line for p in [LEAD] + MORE for line in wrap(p, width)]
                 + wrap(story, width) + ["图为坚守在平台上的员工。", "王泰恒摄", "", "本报记者 刘梦涛", "",
                                         "海上平台的坚守", "", OTHER_HEAD, ""]
                 + [line for p in ["本报讯 " + OTHER[0], OTHER[1]] for line in wrap(p, width)])
        page = parse_page("\n".join(lines))
        got = [(a.title, a.reporters) for a in page.articles]
        assert got == [(HEAD, ["杨晓梅"]), ("海上平台的坚守", ["刘梦涛"]), (OTHER_HEAD, [])], width
        assert nows(page.articles[1].body).startswith(nows(story)), width


def test_a_box_label_that_opens_an_article_can_start_one():
    """核心阅读 opens an article under its headline; with the headline printed after the body,
    the label is where the article starts, even right under another article's last paragraph."""
    core = "五角场的双创企业和科技园区近日迎来一批新举措，区发改委推出扶持初创团队的十项措施。"
    first = ["五角场集聚了大批双创企业和科技园区，区发改委正围绕创新创业打造样板间，让初创团队落地生根。",
             "打造样板间，既要做好空间载体，也要做好服务配套，让双创企业在五角场少跑腿、快成长。"]
    for width in (15, 18):
        lines = (["让创新创业在五角场扎根", ""] + [line for p in first for line in wrap(p, width)]
                 + ["核心阅读"] + wrap(core, width) + [line for p in OTHER for line in wrap(p, width)]
                 + ["", OTHER_HEAD, ""])
        page = parse_page("\n".join(lines))
        assert [a.title for a in page.articles] == ["让创新创业在五角场扎根", OTHER_HEAD], width
        assert page.articles[1].paragraphs[0].text == "核心阅读", width


FARM_NOTE = "立春时节，各地春耕备耕有序开展。农民用上了哪些新设备？农资准备是否充足？记者走访了几个地方。"
FARM_SECTIONS = [
    ("汇民农机合作社——", "检修农机 就等下地", "本报记者 张 帆",
     ["春节期间，合作社的袁师傅没得闲，拖拉机跑了一年，得保养；四年前买的设备，今年该换离合了。",
      "他带着两名徒弟，把十二台拖拉机逐一拆开检修，换下磨损的零件，加满机油，只等天气转暖下地。"]),
    ("同丰种业公司——", "备齐良种 送货到家", "本报记者 韩俊杰",
     ["年前，公司就与两家物流企业签订协议，将五百多袋玉米和小麦良种提前运到各个村的仓库。",
      "为了减少村民出行，公司的业务员把订单送到农户家门口，记账、收款都在手机上完成。"]),
]


def test_sections_under_an_editors_note_are_one_roundup():
    """An editor's note signed ——编 者 over sections, each with its own heading and byline and a
    subject of its own: the sections are one roundup, not articles."""
    title = "扎实抓好春季农业生产"
    for width in (14, 17):
        lines = [title, "", "■记者 韩岳廷", ""] + wrap(FARM_NOTE, width) + ["", "——编 者", ""]
        body = [FARM_NOTE, "——编 者"]
        for kicker, head, byline, paras in FARM_SECTIONS:
            lines += [kicker, "", head, "", byline, ""]
            body += [kicker, head, byline] + paras
            for p in paras:
                lines += wrap(p, width)
        lines += ["", HEAD, "", "■记者 杨晓梅", ""] + wrap(LEAD, width) + wrap(SECOND, width)
        page = parse_page("\n".join(lines))
        assert [(a.title, a.reporters) for a in page.articles] == [(title, ["韩岳廷"]), (HEAD, ["杨晓梅"])], width
        assert nows(page.articles[0].body) == nows("".join(body)), width


def test_a_document_of_more_than_160_paragraphs_is_one_article():
    """A regulation given in full (170 numbered articles under chapter headings), its headline
    printed after it: one article however long, not cut where the old window of 160 items ended."""
    import cn2an

    head = "社区微更新管理办法"
    intro = ["新华社上海 2 月 3 日电  近日，区政府印发了《社区微更新管理办法》，并发出通知，要求各街道认真遵照执行。",
             "《办法》全文如下。"]
    subjects = ["街道办事处", "区建管委", "居民委员会", "物业服务企业", "设计单位"]
    lines = [line for p in intro for line in wrap(p, 16)]
    paras = list(intro)
    for n in range(1, 171):
        if n % 20 == 1:
            lines += ["", f"第{cn2an.an2cn(n // 20 + 1)}章  第{n // 20 + 1}部分", ""]
        text = (f"第{cn2an.an2cn(n)}条 {subjects[n % 5]}应当按照本办法第{cn2an.an2cn(max(1, n - 1))}条的规定，"
                f"做好社区微更新项目第{n}阶段的组织实施和验收工作。")
        lines += wrap(text, 16)
        paras.append(text)
    lines += ["", "■记者 杨晓梅", "", head, ""]
    page = parse_page("\n".join(lines))
    assert [a.title for a in page.articles] == [head]
    art = page.articles[0]
    assert art.reporters == ["杨晓梅"]
    chapter = re.compile(r"第[一二三四五六七八九十]+章")
    assert [nows(p.text) for p in art.paragraphs if not chapter.match(p.text)] == [nows(p) for p in paras]


def test_a_blank_line_between_paragraphs_on_a_page_without_them_starts_an_article():
    """Paragraphs set without blank lines between them, and a blank line between two reports on
    one subject, the second with its headline after its body: it starts after the blank line,
    though nothing else marks the place (no byline, dateline, closing note or change of words)."""
    first = ["五角场集聚了大批双创企业和科技园区，区发改委正围绕创新创业打造样板间，让初创团队落地生根。",
             "打造样板间，既要做好空间载体，也要做好服务配套，让双创企业在五角场少跑腿、快成长。",
             "区发改委表示，五角场的科技园区将为双创企业提供更多场地，让创新创业者安心创业。"]
    for width in (14, 17, 20):
        lines = (["让创新创业在五角场扎根", ""] + [line for p in first for line in wrap(p, width)] + [""]
                 + [line for p in OTHER for line in wrap(p, width)] + ["", OTHER_HEAD, ""])
        page = parse_page("\n".join(lines))
        assert [a.title for a in page.articles] == ["让创新创业在五角场扎根", OTHER_HEAD], width
        assert nows(page.articles[1].body) == nows("".join(OTHER)), width


def test_a_closing_quote_wrapped_onto_a_line_of_its_own_stays_with_its_paragraph():
    """A quotation that fills its last line to the edge: its closing ” (or ”。, ）) goes to the
    next line, alone. That line is the end of the paragraph, not a heading of its own."""
    for width in (14, 16, 19):
        for marks in ("”", "）", "”。"):
            said = "“我们一定要把防疫物资送到每一户居民家中"
            body = "区发改委负责人表示：" + said
            # fill the paragraph's last line to the edge, so the closing marks wrap alone
            lines = wrap(body, width)
            pad = width - len(lines[-1]) if len(lines) > 1 else width - 2 - len(lines[0])
            lines[-1] += "防" * (pad - 1) + "。"
            lines += [marks] + wrap(SECOND, width)
            page = parse_page("\n".join([HEAD, ""] + lines))
            assert len(page.articles) == 1, (width, marks)
            paras = page.articles[0].paragraphs
            assert [p.kind for p in paras] == ["body", "body"], (width, marks)
            assert paras[0].text.endswith("。" + marks) and nows(paras[1].text) == nows(SECOND), (width, marks)


def test_of_two_places_a_report_may_start_the_one_where_the_subject_changes_wins():
    """A report under its headline, then one with its headline after it; between them two
    places where the wording of one paragraph and the next share nothing: before the first
    report's last paragraph (which takes up the words of its first one) and before the second
    report. Neither headline's wording tells them apart; the second report starts where the
    two paragraphs on each side share the least."""
    first = ["五角场集聚了大批双创企业和科技园区，区发改委正围绕创新创业打造样板间，让初创团队在这里落地生根、少跑腿。",
             "明年还将举办三场路演活动，邀请投资机构参与，并为优秀项目提供资金支持和法律咨询服务。",
             "样板间建成后，双创企业和科技园区将在五角场连成一片，初创团队落地生根会更加便利。"]
    second = ["小区门口的体温检测点前，志愿者正在为居民测量体温，登记进出人员和车辆的信息。",
              "志愿者们说，守好小区门口，就是守护居民的健康，再冷的天也要坚持到底。"]
    for width in (14, 17, 20):
        lines = (["杨浦打造样板间", ""] + _spaced(first + second, width)
                 + ["守好门口的人", ""])
        page = parse_page("\n".join(lines))
        assert [a.title for a in page.articles] == ["杨浦打造样板间", "守好门口的人"], width
        assert nows(page.articles[1].body) == nows("".join(second)), width


def test_a_byline_between_two_headlines_after_a_body_parts_them():
    """A report with its headline after it and its byline under that headline, then the next
    report with its headline above it, then a third with its headline after it: the two
    headlines around the byline are not one group (kicker and title), each has its report."""
    first = ["五角场集聚了大批双创企业和科技园区，区发改委正围绕创新创业打造样板间，让初创团队在这里落地生根。",
             "明年还将举办三场路演活动，邀请投资机构参与，并为优秀项目提供资金支持和法律咨询服务。"]
    third = ["小区门口的体温检测点前，志愿者正在为居民测量体温，登记进出人员和车辆的信息。",
             "志愿者们说，守好小区门口，就是守护居民的健康，再冷的天也要坚持到底。"]
    for width in (14, 17, 20):
        lines = (_spaced(first, width)
                 + ["让梦想在这里起飞（今日谈）", "", "□ 杨晓梅", "", "让能源饭碗端得更稳（新闻观察）", ""]
                 + _spaced([LEAD] + MORE + third, width)
                 + ["守好小区门口（一线）", ""])
        page = parse_page("\n".join(lines))
        got = [(a.title, a.reporters) for a in page.articles]
        assert got == [("让梦想在这里起飞（今日谈）", ["杨晓梅"]), ("让能源饭碗端得更稳（新闻观察）", []),
                       ("守好小区门口（一线）", [])], width



ROUNDUP_SECTIONS = [
    ("江湾：社区食堂 老人吃得放心", "本报记者  周  立",
     ["江湾社区食堂开张一个月，每天为三百多位老人供应午餐，菜价比市场低两成。",
      "食堂由街道出场地、企业来经营，老人凭卡就餐，行动不便的老人由志愿者送餐上门。"]),
    ("五角场：老旧小区 加装电梯", "本报记者  陈晓红",
     ["五角场街道今年为二十个老旧小区加装电梯，住在高层的老人下楼不再发愁。",
      "街道请来设计院免费出方案，志愿者挨家挨户征求意见，一个楼道平均四个月开工。"]),
    ("长白：家门口的 养老驿站", "本报记者  王  宁",
     ["长白新村的养老驿站提供日间照料，老人白天来这里吃饭、理疗、下棋。",
      "驿站的护理员都持证上岗，志愿者每周上门陪独居老人聊天，家属在手机上就能看到服务记录。"]),
]


def _page_with_a_roundup(width: int, byline: str = "本报记者  {}", lead: str = "") -> str:
    """Two reports of the seed page, then a roundup whose sections each have a heading and a
    byline; paragraphs set apart by blank lines."""
    out: list[str] = []
    for a in GOLD["articles"][:2]:
        out += [a["title"], "", "■记者 " + a["reporters"][0], ""]
        for p in a["paragraphs"]:
            out += wrap(p, width) + [""]
    out += ["为老服务，社区在行动", "", "■记者 李  明", ""]
    for heading, name, paras in ROUNDUP_SECTIONS:
        out += [heading, "", byline.format(name.removeprefix("本报记者").strip()), ""]
        for p in ([lead + paras[0]] + paras[1:]) if lead else paras:
            out += wrap(p, width) + [""]
    return "\n".join(out)


@pytest.mark.parametrize("width", [14, 16, 18])
def test_a_roundup_whose_sections_are_signed_is_one_article(width):
    """Sections under a heading and a 本报记者 line of their own, over text that opens with no
    dateline, are one roundup: the later sections' headings and bylines are its text. (The
    first section's heading, right under the roundup's byline, is still read as a second
    headline line, and its byline as the roundup's.)"""
    page = parse_page(_page_with_a_roundup(width))
    assert len(page.articles) == 3
    roundup = page.articles[2]
    assert "李明" in roundup.reporters
    body = nows(roundup.body)
    for heading, byline, paras in ROUNDUP_SECTIONS:
        assert all(nows(p) in body for p in paras)
    for heading, byline, _ in ROUNDUP_SECTIONS[1:]:
        assert nows(heading) in body and nows(byline) in body


def test_a_heading_signed_like_a_section_looks_less_like_a_headline():
    """The headline model's odds for the same heading: under it 本报记者 X and plain text (a
    roundup's section), ■记者 X (an article's byline), or 本报记者 X over a dateline lead."""
    def odds(text: str) -> float:
        _, items, _ = items_of(text)
        k = next(k for k, it in enumerate(items) if it.text.startswith("五角场："))
        paras = [it for it in items if it.kind == "P"]
        return _headlike(items, k, sum(it.blank_before for it in paras) > 0.5 * len(paras))

    section = odds(_page_with_a_roundup(16))
    assert section < odds(_page_with_a_roundup(16, byline="■记者 {}"))
    assert section < odds(_page_with_a_roundup(16, lead="本报上海2月5日电  "))


def test_a_line_under_a_headline_and_its_byline_looks_less_like_a_headline():
    """headline / byline / a line: the line is more often a first section's heading or a deck
    than a headline; the same line under a byline that closes a body is more often a headline."""
    def odds(lines: list[str]) -> float:
        _, items, _ = items_of("\n".join(lines))
        k = next(k for k, it in enumerate(items) if it.text == OTHER_HEAD)
        return _headlike(items, k)

    body = [line for p in (LEAD, SECOND) for line in wrap(p, 16)]
    under_headline = odds([HEAD, "", "■记者 杨晓梅", "", OTHER_HEAD, ""] + wrap(OTHER[0], 16))
    under_body = odds(body + ["", "■记者 杨晓梅", "", OTHER_HEAD, ""] + wrap(OTHER[0], 16))
    assert under_headline < under_body


CONTRIBUTIONS = [
    ("合作让两国人民受益", "（意大利）马可·罗西",
     ["我第一次来中国是二十年前，那时从机场到市区要走两个小时，如今坐地铁只要半小时。",
      "两国在航天、医疗和文化领域的合作越来越多，普通人也从中得到了实实在在的好处。"],
     "（作者为意大利某大学教授，本报记者王明采访整理）"),
    ("创新的速度令人惊叹", "（挪威）拉尔斯·汉森",
     ["我们的实验室和中国同行合作多年，他们把一项新材料从实验室带到工厂只用了三年。",
      "这样的速度离不开大量年轻科研人员的投入，也离不开企业愿意尝试新技术的勇气。"],
     "（作者为挪威科学院院士，本报记者李华采访整理）"),
    ("乡村的变化看得见", "（埃及）艾哈迈德·萨利赫",
     ["去年我去了西部的一个小村庄，村里通了公路和网络，农民在手机上就能卖出自己的苹果。",
      "村里的年轻人告诉我，他们愿意留在家乡创业，因为这里的生活一年比一年好。"],
     "（作者为埃及某研究中心主任，本报记者张丽采访整理）"),
]


@pytest.mark.parametrize("width", range(13, 21))
def test_signed_contributions_in_a_row_are_one_roundup(width):
    """国际人士谈…: contributions, each with its heading, its author's country and name and a
    note of who wrote it down, are one article under the page's headline; an opinion piece
    signed （作者为…） after them, opening with no author's line, stays its own."""
    lines = ["讲述亲历故事 见证发展成就（国际人士谈）", "", "本报记者 赵 刚", ""]
    body = []
    for heading, author, paras, note in CONTRIBUTIONS:
        lines += [heading, ""] + _spaced([author] + paras + [note], width)
        body += [heading, author] + paras + [note]
    lines += [OTHER_HEAD, "", "■记者 杨晓梅", ""] + _spaced(["本报讯 " + OTHER[0]] + OTHER[1:] + ["（作者为区发改委主任）"], width)
    page = parse_page("\n".join(lines))
    assert [a.title for a in page.articles] == ["讲述亲历故事 见证发展成就（国际人士谈）", OTHER_HEAD], width
    roundup = page.articles[0]
    assert nows(roundup.body) == nows("".join(body)), width
    assert roundup.paragraphs[0].text == CONTRIBUTIONS[0][0]  # the first heading: text, not a kicker
    assert roundup.reporters == ["赵刚"]


@pytest.mark.parametrize("width", [14, 17, 20])
def test_a_deck_of_bullet_points_under_a_headline_after_the_body(width):
    """A report with its headline printed after it, and under the headline a deck of two
    bullet points on one line (●及早惠及重点企业 ●全力支持复工复产): the deck is part of the
    headline group, not a last paragraph, and the report before it keeps its own headline."""
    first = [LEAD] + MORE
    second = ["区财政局昨天召开会议，部署今年的财政工作，安排专项资金支持中小企业渡过难关。",
              "会议要求，资金要直达企业，简化手续，尽快拨付到位，并接受审计部门监督。"]
    lines = ([HEAD, ""] + _spaced(first, width)
             + _spaced(second, width)
             + ["区财政安排专项资金支持中小企业", "", "●资金直达企业 ●简化拨付手续"])
    page = parse_page("\n".join(lines))
    assert [a.title for a in page.articles][0] == HEAD, width
    art = page.articles[-1]
    assert {nows(art.title), nows(art.kicker)} == {"区财政安排专项资金支持中小企业", "●资金直达企业●简化拨付手续"}, width
    assert nows(art.body) == nows("".join(second)), width


def test_bullet_points_of_a_body_stay_its_paragraphs():
    """One bullet point a line, or a bullet point that is a sentence, is body text."""
    lines = [HEAD, "", *wrap(LEAD, 16), "", "●资金直达企业", "", "●简化拨付手续，尽快拨付到位。●接受审计。",
             "", *wrap(SECOND, 16)]
    art = parse_page("\n".join(lines)).articles[0]
    assert art.title == HEAD and art.kicker is None
    assert "●资金直达企业" in [p.text for p in art.paragraphs]
    assert "●简化拨付手续，尽快拨付到位。●接受审计。" in [p.text for p in art.paragraphs]


def test_a_poster_at_the_page_end_keeps_its_short_lines_as_text():
    """A poster (an advertisement or a slogan page) sets its text as short lines between gaps,
    its headline last: of more short lines after the body than a headline group holds (a
    kicker and a title), the first are the body's, the last two its headline."""
    lines = [" 要闻·综合", "", "□ 沈洪嘉", "", "本报讯 疫情是魔鬼", "", "我们不能让魔鬼藏匿", "",
             "中国加油", "", "粉笔", "", "坚定信心  决战决胜"]
    page = parse_page("\n".join(lines))
    assert len(page.articles) == 1
    art = page.articles[0]
    assert nows(art.body) == "本报讯疫情是魔鬼我们不能让魔鬼藏匿中国加油"
    assert {nows(art.title), nows(art.kicker)} == {"粉笔", "坚定信心决战决胜"}
    assert art.reporters == ["沈洪嘉"] and art.dateline == "本报讯"


def test_a_continued_article_has_no_headline_of_its_own():
    """（上接第 7 版） then short lines standing apart: they are the continued text's first lines
    (every continued article of the dev gold has no headline), and at the page's end an
    exclamation standing apart after the body is its last line."""
    lines = [" 评论", "", "本报记者 胡亚美", "", "（上接第 7 版）", "", "此刻，相信是一种力量", "",
             *wrap(SECOND, 15), "", "相信武汉，相信国家！"]
    page = parse_page("\n".join(lines))
    assert len(page.articles) == 1
    art = page.articles[0]
    assert art.title is None and art.kicker is None
    assert art.continued_from_page == 7 and art.reporters == ["胡亚美"]
    assert [nows(p.text) for p in art.paragraphs] == ["此刻，相信是一种力量", nows(SECOND), "相信武汉，相信国家！"]


@pytest.mark.parametrize(("lines", "head", "body"), [
    # headline, byline, text
    (["中国民生银行", "武汉加油  中国加油", "■记者 朱梦魁", "为民而生  与民共生", "众志成城  共克时艰"],
     {"中国民生银行", "武汉加油中国加油"}, ["为民而生与民共生", "众志成城共克时艰"]),
    # text, its byline glued to its last line, then the headline
    (["为民而生  与民共生", "众志成城  共克时艰 □ 朱梦魁", "中国民生银行", "武汉加油  中国加油"],
     {"中国民生银行", "武汉加油中国加油"}, ["为民而生与民共生", "众志成城共克时艰"]),
])
def test_a_page_of_short_lines_only(lines, head, body):
    """A poster page: short lines between gaps and no paragraph at all. The byline gives the
    reporter; a headline group (two lines) is told from the text, and no line is lost."""
    page = parse_page("\n".join([" 经济", ""] + [x for line in lines for x in (line, "")]))
    assert len(page.articles) == 1
    art = page.articles[0]
    assert {nows(t) for t in (art.title, art.kicker) if t} == head
    assert [nows(p.text) for p in art.paragraphs] == body
    assert art.reporters == ["朱梦魁"]


def test_a_continued_page_of_short_lines_has_no_headline():
    lines = [" 评论", "", "（上接第七版）", "", "此刻，相信是一种力量", "", "相信武汉，相信国家！", "■记者 胡亚美"]
    art = parse_page("\n".join(lines)).articles[0]
    assert art.title is None and art.continued_from_page == 7 and art.reporters == ["胡亚美"]
    assert [nows(p.text) for p in art.paragraphs] == ["此刻，相信是一种力量", "相信武汉，相信国家！"]


@pytest.mark.parametrize("width", [13, 15, 17])
def test_a_byline_glued_to_a_last_line_stays_with_that_text(width):
    """A report signed twice, under its headline and with a byline glued to its last line (…供应充足。
    □ 孙康林 任彦申), then a report with its headline after it: the glued byline closes the text
    it is glued to and names that report's reporters, never the next one's."""
    first = ["区里的蔬菜基地这几天格外忙碌，工人们戴着口罩分拣、装筐，一车车新鲜蔬菜运往各大超市。",
             "基地负责人说，今年基地扩大了种植面积，每天供应超过两百吨，确保市民的菜篮子供应充足。"]
    body = _spaced(first, width)
    body[-2] += " □ 孙康林 任彦申"
    lines = (["放心菜篮子供全区", "", "本报记者 许会", ""] + body
             + _spaced([LEAD] + MORE, width) + ["中国海油党组召开学习会（新闻观察）"])
    page = parse_page("\n".join(lines))
    assert [(a.title, a.reporters) for a in page.articles] == [
        ("放心菜篮子供全区", ["许会", "孙康林", "任彦申"]), ("中国海油党组召开学习会（新闻观察）", [])], width


@pytest.mark.parametrize("width", [14, 16, 18])
def test_an_agency_photo_credit_is_a_credit_not_a_headline(width):
    """新华社发 standing alone under a caption is the photo's credit (an agency's photo, no
    photographer named), like 李 贺摄（新华社发）: it heads no article and leaves the body."""
    lines = ([HEAD, "", "■记者 杨晓梅", ""] + _spaced([LEAD] + MORE, width)
             + ["图片说明：", ""] + wrap("图①：社区工作人员电话通知居民领取生活物资。", width) + ["", "李 贺摄（新华社发）", ""]
             + wrap("图②：支援医疗队与机组人员在飞机上合影。", width) + ["", "新华社发", "", "版式设计：张丹峰"])
    page = parse_page("\n".join(lines))
    assert len(page.articles) == 1, width
    art = page.articles[0]
    assert art.title == HEAD and art.reporters == ["杨晓梅"], width
    assert "新华社发" not in nows(art.body), width
    assert any(c.endswith("新华社发") and "飞机上合影" in c for c in art.captions), width


CONTINUED = ["区里的蔬菜基地这几天格外忙碌，工人们戴着口罩分拣、装筐，一车车新鲜蔬菜运往各大超市。",
             "基地负责人说，今年基地扩大了种植面积，每天供应超过两百吨，确保市民的菜篮子供应充足。"]
SPRING = ["春耕时节，各地农村一手抓疫情防控，一手抓春耕备耕，积极开展农业生产。",
          "村里的合作社组织农机手错时下田，翻耕、施肥、播种有序推进，田间地头一片繁忙。",
          "合作社负责人说，今年的种子和化肥已经备足，春耕生产不会耽误，全年产量有望稳中有升。"]


@pytest.mark.parametrize("width", [13, 14, 16, 17, 18])
def test_a_continued_article_does_not_take_the_next_reports_headline(width):
    """（上接第 3 版）, the continued text, then a report with its headline printed after it and
    no dateline: the headline is the report's, and the continued text ends before the report
    (a continued article carries no headline, so it is no reason to read the two as one)."""
    lines = (["（上接第 3 版）", ""] + _spaced(CONTINUED, width)
             + _spaced(SPRING, width) + ["一手抓防疫，一手抓春耕"])
    page = parse_page("\n".join(lines))
    assert len(page.articles) == 2, width
    cont, report = page.articles
    assert cont.title is None and cont.continued_from_page == 3, width
    assert report.title == "一手抓防疫，一手抓春耕" and report.continued_from_page is None, width
    assert nows(report.body).endswith(nows(SPRING[-1])), width
    assert nows(cont.body + report.body) == nows("".join(CONTINUED + SPRING)), width


def test_a_captions_label_goes_with_the_captions():
    """图片说明： over a feature's captions is caption text too: it leaves the body with them."""
    lines = ([HEAD, "", "■记者 杨晓梅", ""] + _spaced([LEAD] + MORE, 16)
             + ["图片说明：", ""] + wrap("图①：社区工作人员电话通知居民领取生活物资。", 16) + ["", "李 贺摄（新华社发）", ""]
             + wrap("图②：支援医疗队与机组人员在飞机上合影。", 16) + ["", "陆波岸摄（新华社发）"])
    art = parse_page("\n".join(lines)).articles[0]
    assert "图片说明" not in art.body and nows(art.body) == nows("".join([LEAD] + MORE))
    assert [nows(c)[:6] for c in art.captions] == ["图片说明：图", "图②：支援医"]
