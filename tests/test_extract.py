"""Date and quantity extractors: the seed page's real mentions, then one sentence per case."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest

from tasks.extract import DateMention, Quantity, find_dates, find_in_sentences, find_quantities
from tasks.layout import parse_page
from tasks.tables import split_sentences

REPO = Path(__file__).resolve().parents[1]
SEED_RAW = REPO / "raw" / "000_c9cd572a92cace71.txt"
ISSUE = dt.date(2019, 12, 10)  # 杨浦时报 of 2019-12-10: the page reports 12月7日至8日 and 12月4日
D = dt.date


def dates(text: str, issue: dt.date | None = ISSUE) -> list[tuple]:
    return [(m.text, m.date_start, m.date_end, m.granularity, m.resolved)
            for m in find_dates(text, issue)]


def qty(text: str, tokens=None) -> list[tuple]:
    return [(q.text, q.value, q.value_max, q.unit, q.kind) for q in find_quantities(text, tokens)]


def check_offsets(text: str, rows) -> None:
    for r in rows:
        assert text[r.start:r.end] == r.text and r.start < r.end


# --------------------------------------------------------------------------------------------
# the seed page


@pytest.fixture(scope="module")
def seed_sentences() -> list[str]:
    page = parse_page(SEED_RAW.read_text(encoding="utf-8"))
    return [p.text[s:e] for a in page.articles for p in a.paragraphs
            for s, e in split_sentences(p.text)]


def test_seed_raw_line_with_pdf_spaces() -> None:
    line = SEED_RAW.read_text(encoding="utf-8").splitlines()[4]
    assert line.startswith("本报讯 12 月 7 日至 8 日")
    assert dates(line) == [("12 月 7 日至 8 日", D(2019, 12, 7), D(2019, 12, 8), "day", True)]
    assert [m.reason for m in find_dates(line, None)] == ["no_issue_date"]
    assert find_dates(line, None)[0].date_start is None


def test_seed_page_dates(seed_sentences: list[str]) -> None:
    found = [m for s in seed_sentences for m in find_dates(s, ISSUE)]
    for s in seed_sentences:
        check_offsets(s, find_dates(s, ISSUE))
    days = {(m.text, m.date_start, m.date_end) for m in found if m.granularity == "day"}
    assert days == {("12月7日至8日", D(2019, 12, 7), D(2019, 12, 8)),
                    ("12月4日", D(2019, 12, 4), D(2019, 12, 4))}
    years = sorted({(m.text, m.date_start.year, m.relative) for m in found if m.granularity == "year"})
    assert years == [("2019年", 2019, False), ("2020年", 2020, False), ("2022年", 2022, False),
                     ("今年", 2019, True), ("明年", 2020, True)]
    assert sum(m.text == "明年" for m in found) >= 8
    assert all(m.resolved == (m.text in ("明年", "今年", "12月7日至8日", "12月4日")) for m in found)


def test_seed_page_quantities(seed_sentences: list[str], segmenter) -> None:
    rows = {}
    for s in seed_sentences:
        got = find_quantities(s, segmenter.tag(s))
        check_offsets(s, got)
        rows.update({q.text: q for q in got})
    assert (rows["10800张"].value, rows["10800张"].unit, rows["10800张"].kind) == (10800, "张", "count")
    assert rows["10800张"].counted == "全区养老床位"
    assert (rows["60万平方米"].value, rows["60万平方米"].unit) == (600000, "平方米")
    assert rows["60万平方米"].kind == "measure"
    assert (rows["2.6万户"].value, rows["2.6万户"].unit) == (26000, "户")
    assert rows["三项"].value == 3 and rows["三项"].counted == "任务"
    assert rows["三分之一"].value == pytest.approx(1 / 3) and rows["三分之一"].kind == "fraction"
    assert (rows["三年"].value, rows["三年"].kind) == (3, "duration")
    assert (rows["15分钟"].value, rows["15分钟"].unit) == (15, "分钟")
    assert rows["6支"].counted == "队伍" and rows["3家"].counted == "区公安分局"
    assert rows["365天"].value == 365
    # years, the 十九届 of 十九届四中全会, 第 1 版, 2.0版, 228 街坊, 12·4 are not quantities
    assert not {"2019年", "2020年", "2022年", "十九届", "1版", "2.0版", "228", "12", "4"} & set(rows)
    assert all(q.unit is not None or q.kind == "fraction" for q in rows.values())


# --------------------------------------------------------------------------------------------
# dates


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12月7日至8日，区委召开会议", [("12月7日至8日", D(2019, 12, 7), D(2019, 12, 8), "day", True)]),
        ("谋划 2020 年工作", [("2020 年", D(2020, 1, 1), D(2020, 12, 31), "year", False)]),
        ("2019年12月，全区", [("2019年12月", D(2019, 12, 1), D(2019, 12, 31), "month", False)]),
        ("2019年12月7日上午", [("2019年12月7日", D(2019, 12, 7), D(2019, 12, 7), "day", False)]),
        ("二〇一九年十二月七日", [("二〇一九年十二月七日", D(2019, 12, 7), D(2019, 12, 7), "day", False)]),
        ("二○二○年", [("二○二○年", D(2020, 1, 1), D(2020, 12, 31), "year", False)]),
        ("十二月七日至八日", [("十二月七日至八日", D(2019, 12, 7), D(2019, 12, 8), "day", True)]),
        ("１２月７日", [("１２月７日", D(2019, 12, 7), D(2019, 12, 7), "day", True)]),
        ("12月7—8日举行", [("12月7—8日", D(2019, 12, 7), D(2019, 12, 8), "day", True)]),
        ("明年工作", [("明年", D(2020, 1, 1), D(2020, 12, 31), "year", True)]),
        ("今年以来", [("今年", D(2019, 1, 1), D(2019, 12, 31), "year", True)]),
        ("去年同期", [("去年", D(2018, 1, 1), D(2018, 12, 31), "year", True)]),
        ("自去年 9月 25 日举办", [("去年 9月 25 日", D(2018, 9, 25), D(2018, 9, 25), "day", True)]),
        ("12月上旬", [("12月上旬", D(2019, 12, 1), D(2019, 12, 10), "day", True)]),
        ("2020年2月下旬", [("2020年2月下旬", D(2020, 2, 21), D(2020, 2, 29), "day", False)]),
        ("2 月份纳税申报期", [("2 月份", D(2020, 2, 1), D(2020, 2, 29), "month", True)]),
        ("2019年度中华人民共和国", [("2019年度", D(2019, 1, 1), D(2019, 12, 31), "year", False)]),
        ("2019—2020年", [("2019—2020年", D(2019, 1, 1), D(2020, 12, 31), "year", False)]),
        ("2019年至2020年", [("2019年至2020年", D(2019, 1, 1), D(2020, 12, 31), "year", False)]),
        ("2019年12月至2020年1月", [("2019年12月至2020年1月", D(2019, 12, 1), D(2020, 1, 31), "month", False)]),
        ("新华社北京2月2日电", [("2月2日", D(2020, 2, 2), D(2020, 2, 2), "day", True)]),
        ("10 日，习近平总书记", [("10 日", D(2019, 12, 10), D(2019, 12, 10), "day", True)]),
        # from the dev pages: around a year, "came in a year"
        ("2005年左右，几只白腿小", [("2005年", D(2005, 1, 1), D(2005, 12, 31), "year", False)]),
        ("2017年来固安工作", [("2017年", D(2017, 1, 1), D(2017, 12, 31), "year", False)]),
        ("国宝今年64岁", [("今年", D(2019, 1, 1), D(2019, 12, 31), "year", True)]),
        ("2016年8月23日上午", [("2016年8月23日", D(2016, 8, 23), D(2016, 8, 23), "day", False)]),
    ],
)
def test_dates(text: str, expected: list[tuple]) -> None:
    assert dates(text) == expected
    check_offsets(text, find_dates(text, ISSUE))


def test_year_rollover_across_months() -> None:
    """The end of a range that falls before its start moves on a year (or a month)."""
    assert dates("12月30日至1月2日放假") == [
        ("12月30日至1月2日", D(2019, 12, 30), D(2020, 1, 2), "day", True)]
    assert dates("12月30日至1月2日", D(2020, 1, 3)) == [
        ("12月30日至1月2日", D(2019, 12, 30), D(2020, 1, 2), "day", True)]
    assert dates("2019年12月30日至1月2日", None) == [
        ("2019年12月30日至1月2日", D(2019, 12, 30), D(2020, 1, 2), "day", False)]
    assert dates("12月30日至2日") == [("12月30日至2日", D(2019, 12, 30), D(2020, 1, 2), "day", True)]


def test_nearest_year_without_year_in_text() -> None:
    assert dates("1月2日起实施", D(2019, 12, 30))[0][1] == D(2020, 1, 2)
    assert dates("12月30日", D(2020, 1, 3))[0][1] == D(2019, 12, 30)
    assert dates("2月29日", ISSUE)[0][1] == D(2020, 2, 29)  # 2019 and 2018 have none
    assert dates("31 日，家人担心他", D(2020, 2, 2))[0][1] == D(2020, 1, 31)


@pytest.mark.parametrize("text", ["12月7日", "十二月七日", "明年工作", "去年9月25日", "12月",
                                  "12月7日至8日", "12月上旬", "10 日，习近平"])
def test_no_issue_date_never_invents_a_year(text: str) -> None:
    got = find_dates(text, None)
    assert len(got) == 1
    m = got[0]
    assert (m.date_start, m.date_end, m.resolved, m.reason) == (None, None, False, "no_issue_date")
    assert m.relative == (text.startswith(("明年", "去年")))


def test_explicit_years_need_no_issue_date() -> None:
    assert dates("2019年12月7日", None) == [("2019年12月7日", D(2019, 12, 7), D(2019, 12, 7), "day", False)]
    assert dates("2020年", None)[0][1:3] == (D(2020, 1, 1), D(2020, 12, 31))


@pytest.mark.parametrize(("text", "issue"), [("2月30日", ISSUE), ("2月30日", None),
                                             ("2019年2月29日", None), ("4月31日", ISSUE)])
def test_invalid_dates_are_unresolved(text: str, issue: dt.date | None) -> None:
    (m,) = find_dates(text, issue)
    assert (m.text, m.date_start, m.date_end, m.reason) == (text, None, None, "invalid_date")


@pytest.mark.parametrize("text", ["13月", "12月32日", "0月5日", "2019年13月"])
def test_out_of_range_parts_are_not_dates(text: str) -> None:
    got = find_dates(text, ISSUE)
    assert all(m.granularity == "year" and m.text == "2019年" for m in got)
    assert len(got) == (1 if text.startswith("2019") else 0)


@pytest.mark.parametrize("text", ["当晚 8 时 20 分", "持续3日", "3日", "地铁3号线", "20 世纪 70 年代",
                                  "近1000年来", "5000多年文明", "12·4国家宪法日", "3个月", "第3日",
                                  "正月初一", "每月", "“十三五”规划", "如今年轻人", "辞去年薪20多万元的工作",
                                  "以后年均增长"])
def test_not_dates(text: str) -> None:
    assert find_dates(text, ISSUE) == []


# --------------------------------------------------------------------------------------------
# quantities


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("养老床位达到10800 张", [("10800 张", 10800, None, "张", "count")]),
        ("旧里 60 万平方米", [("60 万平方米", 600000, None, "平方米", "measure")]),
        ("涉及 2.6 万户", [("2.6 万户", 26000, None, "户", "count")]),
        ("三项新的重大任务", [("三项", 3, None, "项", "count")]),
        ("增长12.5%", [("12.5%", 12.5, None, "%", "percent")]),
        ("增长１２．５％", [("１２．５％", 12.5, None, "%", "percent")]),
        ("提高百分之三十", [("百分之三十", 30, None, "%", "percent")]),
        ("投资3.5亿元", [("3.5亿元", 350000000, None, "元", "money")]),
        ("款合计29.43亿元", [("29.43亿元", 2943000000, None, "元", "money")]),
        ("支付了 3600多万美元", [("3600多万美元", 36000000, None, "美元", "money")]),
        ("价值 1000 余万元人民币", [("1000 余万元人民币", 10000000, None, "元", "money")]),
        ("1.05万亿元", [("1.05万亿元", 1.05e12, None, "元", "money")]),
        ("3至5年", [("3至5年", 3, 5, "年", "duration")]),
        ("三到五年", [("三到五年", 3, 5, "年", "duration")]),
        ("20%—30%", [("20%—30%", 20, 30, "%", "percent")]),
        ("20—30%", [("20—30%", 20, 30, "%", "percent")]),
        ("3至5万元", [("3至5万元", 30000, 50000, "元", "money")]),
        ("3万至5万元", [("3万至5万元", 30000, 50000, "元", "money")]),
        ("三四个", [("三四个", 3, 4, "个", "count")]),
        ("共1,200人", [("1,200人", 1200, None, "人", "count")]),
        ("两千名医护人员", [("两千名", 2000, None, "名", "count")]),
        ("十余个部门", [("十余个", 10, None, "个", "count")]),
        ("14 亿中国人", [("14 亿", 1.4e9, None, None, "count")]),
        ("两个小时", [("两个小时", 2, None, "小时", "duration")]),
        ("近 20 年来", [("20 年", 20, None, "年", "duration")]),
        ("前11个月", [("11个月", 11, None, "月", "duration")]),
        ("增长1.2倍", [("1.2倍", 1.2, None, "倍", "multiple")]),
        ("约占三分之一", [("三分之一", 1 / 3, None, None, "fraction")]),
        ("“6 天+365 天”", [("6 天", 6, None, "天", "duration"), ("365 天", 365, None, "天", "duration")]),
        ("七公里长", [("七公里", 7, None, "公里", "measure")]),
        # from the dev pages
        ("护目镜6.9万副", [("6.9万副", 69000, None, "副", "count")]),
        ("9万余人份", [("9万余人份", 90000, None, "人份", "count")]),
        ("捐赠500万泰铢", [("500万泰铢", 5000000, None, "泰铢", "money")]),
        ("1500万元—1700万元的补贴", [("1500万元—1700万元", 15000000, 17000000, "元", "money")]),
        ("偏高1℃—2℃", [("1℃—2℃", 1, 2, "摄氏度", "measure")]),
        ("中华文明5000多年", [("5000多年", 5000, None, "年", "duration")]),
    ],
)
def test_quantities(text: str, expected: list[tuple]) -> None:
    got = find_quantities(text)
    check_offsets(text, got)
    assert [(t, pytest.approx(v), vm, u, k) for t, v, vm, u, k in qty(text)] == expected


def test_approximate_markers() -> None:
    assert [q.approx for q in find_quantities("十余个，近600名，20多名，3个")] == [True, True, True, False]


@pytest.mark.parametrize(
    "text",
    ["2019年", "2020 年工作", "12月7日至8日", "第三", "第三批", "（上接第 1 版）", "第 1 版",
     "热线电话12345", "电话 021-65431234", "推进 228 街坊项目", "“尚体乐活空间”2.0版",
     "党的十九届四中全会", "一项社会性工程", "一二三", "当晚 8 时 20 分", "N95口罩", "5G网络",
     "“4+4+4+3”格局", "12·4国家宪法日", "周三下午", "“十三五”", "千千万万", "五角场", "3,4,5"],
)
def test_not_quantities(text: str) -> None:
    assert find_quantities(text) == []


def test_counted_with_tokens(segmenter) -> None:
    def counted(text: str) -> list[str | None]:
        return [q.counted for q in find_quantities(text, segmenter.tag(text))]

    assert counted("建成 3 个社区食堂") == ["社区食堂"]
    assert counted("新增就业岗位 1200 个") == ["岗位"]
    assert counted("深入推进党中央交付的三项新的重大任务") == ["任务"]
    assert counted("区生态环境局6支队伍进入决赛") == ["队伍"]
    assert counted("涉及 2.6 万户，约占") == [None]
    # tokens that do not spell the text are not trusted: the character fallback is used
    assert [q.counted for q in find_quantities("建成3个社区食堂", [("别的", "n")])] == ["社区食堂"]


def test_counted_without_tokens() -> None:
    assert [q.counted for q in find_quantities("建成 3 个社区食堂并投入使用")] == ["社区食堂"]
    assert [q.counted for q in find_quantities("三项新的重大任务")] == ["重大任务"]
    assert [q.counted for q in find_quantities("经过三个环节的比拼")] == ["环节"]
    assert [q.counted for q in find_quantities("新增就业岗位 1200 个")] == [None]


def test_money_value_is_in_the_base_unit() -> None:
    (a,) = find_quantities("投资3.5亿元")
    (b,) = find_quantities("投资35000万元")
    assert (a.value, a.unit) == (b.value, b.unit) == (350000000, "元")


# --------------------------------------------------------------------------------------------
# malformed input and speed


MALFORMED = ["", " ", "0", "1234567890", "。。。！？；", "“引号未闭合 3 个", "”3个“", "😀🎉", "😀3个😀",
             "年月日", "月", "日日日", "万亿", "百分之", "分之一", "至至至", "3至", "至5年", "—%",
             "12月", "12月至", "2019年至", "\x00\ufeff", "1,", ",000", "1..2", "一点",
             "1" * 40 + "亿元"]


@pytest.mark.parametrize("text", MALFORMED)
def test_malformed_input_never_raises(text: str) -> None:
    for issue in (ISSUE, None):
        check_offsets(text, find_dates(text, issue))
    check_offsets(text, find_quantities(text))
    check_offsets(text, find_quantities(text, [("x", "n")]))


def test_emoji_keeps_offsets() -> None:
    text = "😀12月7日举行，😀建成3个社区食堂"
    (d,) = find_dates(text, ISSUE)
    (q,) = find_quantities(text)
    assert (d.text, d.date_start, q.text, q.value) == ("12月7日", D(2019, 12, 7), "3个", 3)


@pytest.mark.parametrize(
    "text",
    ["1" * 10_000, "一" * 10_000, "年" * 10_000, "1 " * 5_000, "12月" * 3_333, "百分之" * 3_333,
     "1," * 5_000, "三分之" * 3_333, "2019年至" * 1_600, "1至" * 5_000, "1" + " " * 9_998 + "个",
     "建成 3 个社区食堂，" * 1_000],
)
def test_long_sentences_are_fast(text: str) -> None:
    t0 = time.perf_counter()
    find_dates(text, ISSUE)
    find_dates(text, None)
    got = find_quantities(text)
    assert time.perf_counter() - t0 < 2.0
    check_offsets(text, got)
    if text.startswith("建成"):
        assert len(got) == 1000 and all(q.counted == "社区食堂" for q in got)


def test_results_are_typed_records() -> None:
    (d,) = find_dates("12月7日", ISSUE)
    (q,) = find_quantities("3个")
    assert isinstance(d, DateMention) and isinstance(q, Quantity)
    with pytest.raises(AttributeError):
        d.start = 1  # type: ignore[misc]


# --------------------------------------------------------------------------------------------
# many sentences at once


def _texts_of_cases(*tests) -> list[str]:
    """The texts of this module's parametrized cases (edge cases of both extractors)."""
    out = []
    for t in tests:
        for mark in getattr(t, "pytestmark", []):
            if mark.name == "parametrize":
                out += [v[0] if isinstance(v, tuple) else v for v in mark.args[1]]
    return out


def _one_by_one(texts, issues, tokens):
    rows_d, got_d, rows_q, got_q = [], [], [], []
    for i, (t, d, k) in enumerate(zip(texts, issues, tokens)):
        for m in find_dates(t, d):
            rows_d.append(i)
            got_d.append(m)
        for q in find_quantities(t, k):
            rows_q.append(i)
            got_q.append(q)
    return rows_d, got_d, rows_q, got_q


def test_find_in_sentences_is_find_dates_and_quantities_one_by_one(seed_sentences, segmenter) -> None:
    # the seed page, then every case text (numbers and dates at the starts and ends of the
    # sentences, which are joined by line breaks: no match may run into a neighbour), each
    # right after a number or a date, and sentences ending in a connector or a unit
    cases = _texts_of_cases(test_dates, test_not_dates, test_quantities, test_not_quantities,
                            test_malformed_input_never_raises, test_invalid_dates_are_unresolved)
    texts = list(seed_sentences) + cases + ["3", "个社区", "12月7日至", "8日，", "第", "3个",
                                           "12月", "7日电", "百分之", "三十", "", "２０１９年", "１２个"]
    texts += [t for c in cases for t in ("3", c, "12月7日")]
    issues = [ISSUE if i % 3 else None for i in range(len(texts))]
    tokens = [segmenter.tag(t) if i % 2 else None for i, t in enumerate(texts)]
    got = find_in_sentences(texts, issues, tokens)
    assert got == _one_by_one(texts, issues, tokens)
    assert len(got[1]) > 50 and len(got[3]) > 50
    assert find_in_sentences(texts, issues, tokens, dates=False) == ([], [], *got[2:])
    assert find_in_sentences(texts, issues, tokens, quantities=False) == (*got[:2], [], [])
    # a sentence holding a line break itself: read one by one, as the functions read it
    texts2 = ["2019年12月\n3个", "8日，建成3个", "\n12月7日"]
    assert find_in_sentences(texts2, [ISSUE] * 3, [None] * 3) == _one_by_one(texts2, [ISSUE] * 3, [None] * 3)
    assert find_in_sentences([], [], []) == ([], [], [], [])


def test_counted_skips_blank_tokens() -> None:
    # tokens that tile the text with blank ones among them, and the same without the blank
    # ones (found in the text one by one): the same objects, before and after the quantity
    text = "床位 达到 10800 张 新 的  病床 ，共 3 个  社区 食堂"
    toks = [("床位", "n"), (" ", "x"), ("达到", "v"), (" ", "x"), ("10800", "m"), (" ", "x"),
            ("张", "q"), (" ", "x"), ("新", "a"), (" ", "x"), ("的", "uj"), ("  ", "x"),
            ("病床", "n"), (" ", "x"), ("，", "x"), ("共", "d"), (" ", "x"), ("3", "m"),
            (" ", "x"), ("个", "q"), ("  ", "x"), ("社区", "n"), (" ", "x"), ("", "x"),
            ("食堂", "n")]
    assert "".join(w for w, _ in toks) == text
    tiled = find_quantities(text, toks)
    searched = find_quantities(text, [t for t in toks if t[0].strip()])
    assert [q.counted for q in tiled] == [q.counted for q in searched] == ["病床", "社区食堂"]
    # nothing after the count: the nouns before it, blank tokens and 共 skipped
    toks = [("病床", "n"), (" ", "x"), ("共", "d"), (" ", "x"), ("3", "m"), (" ", "x"), ("个", "q")]
    for given in (toks, [t for t in toks if t[0].strip()]):
        assert [q.counted for q in find_quantities("病床 共 3 个", given)] == ["病床"]
