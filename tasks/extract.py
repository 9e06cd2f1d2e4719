"""Dates and quantities in one sentence of an article body: pure functions over text.

:func:`find_dates` and :func:`find_quantities` take the text of one sentence (as the pipeline
cuts it from a reconstructed body) and return mentions with ``start``/``end`` offsets into that
text (``text[start:end] == mention.text``). Both accept any string: malformed input gives rows or
nothing, never an exception, and every pattern is linear (possessive quantifiers, lookbehinds
that stop a number from being retried from inside a run of digits), so a 10,000-character
sentence costs about as much as 10,000 characters of ordinary text.

Spaces that PDF extraction leaves between a number and its unit (``12 月 7 日``, ``60 万平方米``)
are allowed wherever they may occur. Full-width digits and ``％`` are read as their ASCII forms
(a one-to-one character mapping, so offsets are unchanged). Chinese numerals are converted by
``cn2an`` (normal mode: ``两千``, ``二〇一九``).

Dates (:class:`DateMention`)
----------------------------
* ``2019年12月7日``, ``二〇一九年十二月七日``: day; ``2019年12月``/``2019年12月份``: month;
  ``2019年``/``2019年度``: year (2019-01-01..2019-12-31). These carry their own year:
  ``resolved`` is False and the dates are set.
* ``12月7日``, ``十二月七日``, ``12月``: no year in the text. With an issue date the year is the
  one (issue year -1, 0 or +1) that puts the date nearest the issue date (``1月2日`` in an issue of
  2019-12-30 is 2020-01-02; ``12月30日`` in an issue of 2020-01-03 is 2019-12-30); ``resolved`` is
  True. Without an issue date the mention is kept with no dates, ``reason="no_issue_date"``:
  a year is never invented.
* ``今年``/``去年``/``明年``/``前年``: the issue year + 0/-1/+1/-2, ``relative`` True,
  ``resolved`` True; without an issue date ``reason="no_issue_date"``. They combine with a month
  and day: ``去年9月25日``.
* ``上旬``/``中旬``/``下旬`` after a month: days 1-10, 11-20, 21-end, granularity ``day``.
* Ranges ``12月7日至8日``, ``12月7—8日``, ``12月30日至1月2日``, ``2019年12月至2020年1月``,
  ``2019年至2020年``, ``2019—2020年``: one mention from the start's first day to the end's last.
  The end takes the parts it omits from the start (``8日`` takes 2019-12); when it then falls
  before the start it is moved on by one month (it omitted the month) or one year (it omitted the
  year): ``12月30日至1月2日`` → 12-30 .. 01-02 of the next year. Connectors: 至 到 — -- ~ ～.
* A day alone (``8日``) is a date only as the end of a range, or at the start of a clause
  followed by ``，``/``电``/``上午``/``下午``/``晚``/``凌晨``... (``10 日，习近平...``); it is then
  put in the month (issue month -1, 0, +1) nearest the issue date. ``持续3日``, ``8时``, ``3号线``
  are not dates.
* A month outside 1-12 or a day outside 1-31 is not read as a date at all (``13月``); a day the
  month does not have (``2月30日``) gives a mention with no dates, ``reason="invalid_date"``.
  Years are read only from four digits in 1000-2999 not preceded by 近/约/逾 and not followed by
  代/多 (``20世纪70年代``, ``近1000年来``, ``5000多年`` are not years; ``2005年左右``,
  ``2017年来`` are); ``如今年轻``, ``辞去年薪`` are not relative years, and ``后年`` is not read
  (``以后年均``, ``此后年``: mostly not "the year after next"); lunar dates (``正月初一``) and
  ``12·4``-style day names are not handled.

Quantities (:class:`Quantity`)
------------------------------
A number is a quantity only with a unit or measure word after it (``10800 张``, ``三项``,
``2.6 万户``), a scale (``14 亿``), a percent sign or ``百分之``, or as a fraction (``三分之一``).
``value`` is scaled to the unit: ``60 万平方米`` → 600000 平方米; money is scaled to its base
currency unit, so ``3.5亿元`` → value 350000000, unit ``元`` (``3600多万美元`` → 36000000 美元):
one unit per currency keeps values comparable across rows. ``kind`` is ``count``, ``percent``,
``money``, ``measure``, ``duration``, ``age``, ``multiple`` or ``fraction``; a range
(``3至5年``, ``20%—30%``, ``三四个``) has the same kind and sets ``value_max``; a range whose first
number lacks a scale takes the second's (``3至5万元`` → 30000..50000 元). ``approx`` is set by
多/余/来/左右/近/约/逾 (``十余个`` → 10, approx).

Not quantities: dates and years (whatever :func:`find_dates` finds), ordinals (``第三``,
``第 1 版``), weekdays (``周三``), a bare ``一`` before a measure word (``一项工作`` is the indefinite
article, not a count), digit strings without place values (``一二三``), numbers glued to Latin
letters (``N95``, ``5G``), and numbers with no unit (phone numbers, ``228 街坊``, ``2.0版``,
``8时``). ``届``/``期``/``号``/``版`` are not measure words (``十九届四中全会`` is an ordinal).

``counted`` is the object counted: with tokens, the nouns after the measure word (adjectives and
``的`` skipped: ``三项新的重大任务`` → ``任务``), else the nouns just before the number
(``床位达到10800张`` → ``床位``; only for counts and measures). Without tokens a short run of
Chinese characters after a measure word stands in for the nouns (``建成3个社区食堂`` →
``社区食堂``); it is best effort.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from itertools import accumulate
from typing import Any, NamedTuple

import cn2an

__all__ = ["DateMention", "Quantity", "find_dates", "find_in_sentences", "find_quantities",
           "sentence_by_sentence"]


@dataclass(frozen=True, slots=True)
class DateMention:
    """A date, month, year or range of them in a sentence.

    ``date_start``/``date_end`` are the first and last day covered (both None when the mention
    cannot be placed: see ``reason``). ``resolved`` is True when the year (or the whole date)
    came from the issue date; ``relative`` when the text is relative (``明年``, ``去年9月``)."""

    start: int
    end: int
    text: str
    date_start: dt.date | None
    date_end: dt.date | None
    granularity: str  # "day" | "month" | "year"
    resolved: bool
    relative: bool = False
    reason: str | None = None  # None, "no_issue_date" or "invalid_date"


@dataclass(frozen=True, slots=True)
class Quantity:
    """A number with its unit in a sentence; ``value`` is scaled (万, 亿, 百分之...)."""

    start: int
    end: int
    text: str
    value: float
    value_max: float | None
    unit: str | None
    kind: str
    counted: str | None
    approx: bool = False


# ---------------------------------------------------------------------------------------------
# shared text handling

_FULLWIDTH = str.maketrans("０１２３４５６７８９％．○\u3000", "0123456789%.〇 ")
_S = r"[ \t\u3000]*+"  # optional spaces between a number and its unit, never backtracked into
_CONN = rf"{_S}(?:至|到|——?|--?|－|–|~|～){_S}"
_CN_DIGITS = "〇零一二两三四五六七八九"


#: runs of the characters :data:`_FULLWIDTH` maps (few sentences hold one: 11 of dev's 29,928)
_TO_NORMALISE = re.compile("[%s]+" % re.escape("".join(map(chr, _FULLWIDTH))))


def _normalise(text: str) -> str:
    """Full-width digits, ``％``, ``．``, ``○`` and ideographic spaces as ASCII: same length.
    ``str.translate`` looks every character of a Chinese text up in the table (some 3 us a
    sentence, 10 ms for a batch's sentences joined): only the runs of the table's characters
    are translated (a text with none is returned as it is)."""
    return _TO_NORMALISE.sub(_translate_run, text)


def _translate_run(m: re.Match[str]) -> str:
    return m.group().translate(_FULLWIDTH)


@functools.lru_cache(maxsize=4096)
def _cn_number(s: str) -> Decimal | None:
    """A Chinese numeral (``两千``, ``十二``, ``二〇一九``, ``三点五``) through cn2an, or None."""
    try:
        value = cn2an.cn2an(s, "normal")
    except Exception:  # cn2an signals every unreadable numeral by raising; none is fatal here
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _int_of(arabic: str | None, chinese: str | None) -> int | None:
    if arabic is not None:
        return int(arabic)
    if chinese is not None:
        v = _cn_number(chinese)
        return int(v) if v is not None and v == int(v) else None
    return None


# ---------------------------------------------------------------------------------------------
# dates

_CN_MONTH = "十[一二]?|[一二三四五六七八九]"
_CN_DAY = "三十一?|二十[一二三四五六七八九]?|十[一二三四五六七八九]?|[一二三四五六七八九]"
_CN_YEAR_DIGITS = "〇零一二三四五六七八九"
_YEAR_TAIL = r"年(?!代|多)(?:度)?"


def _year(tag: str) -> str:
    return (rf"(?:(?<![\d.近约逾])(?P<y{tag}>[12]\d{{3}})(?!\d)"
            rf"|(?<![{_CN_YEAR_DIGITS}])(?P<yc{tag}>[{_CN_YEAR_DIGITS}]{{4}})){_S}{_YEAR_TAIL}")


def _month(tag: str) -> str:
    return (rf"(?:(?<![\d.])(?P<m{tag}>\d{{1,2}})|(?<![{_CN_DIGITS}十百千万第])(?P<mc{tag}>{_CN_MONTH}))"
            rf"{_S}月")


def _day(tag: str, allow_open: bool = False) -> str:
    # allow_open: ``7`` in ``12月7—8日`` (a day without 日 when another day with 日 follows)
    close = rf"(?:[日号]|(?={_CONN}(?:\d{{1,2}}|{_CN_DAY}){_S}[日号]))" if allow_open else "[日号]"
    return rf"(?:(?P<d{tag}>\d{{1,2}})(?!\d)|(?P<dc{tag}>{_CN_DAY})){_S}{close}"


_REL_YEARS = {"今年": 0, "去年": -1, "明年": 1, "前年": -2}
# 如今年轻 (nowadays young), 辞去年薪 (quit an annual salary), 提前年 (ahead of ... year): not years
_REL = r"(?:(?<!如)今年(?![轻龄])|(?<![辞除减失])去年(?![薪级龄])|明年|(?<![提之以此])前年)"
_XUN = {"上旬": (1, 10), "中旬": (11, 20), "下旬": (21, 31)}

_DATE = re.compile(
    # every alternative starts with a digit, a Chinese digit or 十, or 今去明前: a search
    # rejects any other position at once instead of trying each alternative there
    rf"(?=[\d{_CN_YEAR_DIGITS}十今去明前])"
    rf"(?:"
    # 1. [year | relative year] month [day | 旬]
    rf"(?:(?P<ypart>{_year('')}){_S}|(?P<rel>{_REL}){_S})?"
    rf"{_month('')}(?:{_S}(?:{_day('', allow_open=True)}|(?P<xun>[上中下]旬))|(?P<fen>份))?"
    # 2. a year range written once: 2019—2020年
    rf"|(?<![\d.])(?P<yr1>[12]\d{{3}}){_CONN}(?P<yr2>[12]\d{{3}}){_S}{_YEAR_TAIL}"
    # 3. a year
    rf"|{_year('y')}"
    # 4. a relative year
    rf"|(?P<relonly>{_REL})"
    # 5. a day alone at the start of a clause, followed by a time of day, 电 or a comma
    rf"|(?:^|(?<=[，。；：、（(“”\s]))(?P<bd>\d{{1,2}}){_S}日"
    rf"(?=电|上午|下午|晚|凌晨|中午|早|夜|白天|，|,|{_CONN}\d{{1,2}}{_S}日)"
    r")"
)
# the end of a range, anchored after a connector; every part optional, checked by the caller
_DATE_END = re.compile(
    rf"(?:(?P<ypart>{_year('')}){_S})?(?:{_month('')}{_S})?(?:{_day('')})?"
)
_CONN_RE = re.compile(_CONN)
_DATE_HINT = re.compile(r"[年月日号]")


@dataclass(slots=True)
class _Parts:
    """What a date expression says: each part None when the text omits it."""

    year: int | None = None
    month: int | None = None
    day: int | None = None
    xun: str | None = None
    rel: int | None = None  # offset of a relative year
    bad: bool = False  # a part out of range (13月, 32日)


def _parts(m: re.Match[str], tag: str = "") -> _Parts:
    g = m.groupdict()
    p = _Parts(
        year=_int_of(g.get(f"y{tag}"), g.get(f"yc{tag}")),
        month=_int_of(g.get(f"m{tag}"), g.get(f"mc{tag}")),
        day=_int_of(g.get(f"d{tag}"), g.get(f"dc{tag}")),
    )
    if p.year is not None and not 1000 <= p.year <= 2999:
        p.bad = True
    if p.month is not None and not 1 <= p.month <= 12:
        p.bad = True
    if p.day is not None and not 1 <= p.day <= 31:
        p.bad = True
    return p


@functools.lru_cache(maxsize=None)  # at most 2,000 years of 12 months: each date asks 1-3 times
def _last_day(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def _span(year: int, p: _Parts) -> tuple[dt.date, dt.date] | None:
    """First and last day of ``p`` in ``year`` (None for a day the month lacks)."""
    if p.month is None:
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    last = _last_day(year, p.month)
    if p.day is not None:
        if p.day > last:
            return None
        d = dt.date(year, p.month, p.day)
        return d, d
    if p.xun is not None:
        lo, hi = _XUN[p.xun]
        return dt.date(year, p.month, lo), dt.date(year, p.month, min(hi, last))
    return dt.date(year, p.month, 1), dt.date(year, p.month, last)


def _distance(span: tuple[dt.date, dt.date], issue: dt.date) -> int:
    lo, hi = span
    return 0 if lo <= issue <= hi else min(abs((lo - issue).days), abs((hi - issue).days))


def _nearest_year(p: _Parts, issue: dt.date) -> int | None:
    """The year (issue year -1, 0, +1) putting ``p`` nearest the issue date; ties: issue year."""
    best: tuple[int, int] | None = None
    for off in (0, -1, 1):
        span = _span(issue.year + off, p)
        if span is not None and (best is None or _distance(span, issue) < best[0]):
            best = (_distance(span, issue), issue.year + off)
    return None if best is None else best[1]


def _nearest_month(day: int, issue: dt.date) -> tuple[int, int] | None:
    """(year, month) among the issue month and its neighbours putting ``day`` nearest the issue."""
    best: tuple[int, int, int] | None = None
    for off in (0, -1, 1):
        idx = issue.year * 12 + issue.month - 1 + off
        y, mo = divmod(idx, 12)
        if day <= _last_day(y, mo + 1):
            dist = abs((dt.date(y, mo + 1, day) - issue).days)
            if best is None or dist < best[0]:
                best = (dist, y, mo + 1)
    return None if best is None else (best[1], best[2])


def _granularity(p: _Parts) -> str:
    return "day" if p.day is not None or p.xun is not None else "month" if p.month else "year"


def _mention(text: str, s: int, e: int, span: tuple[dt.date, dt.date] | None, gran: str,
             resolved: bool, relative: bool, reason: str | None) -> DateMention:
    lo, hi = span if span is not None else (None, None)
    return DateMention(s, e, text[s:e], lo, hi, gran, resolved if span else False, relative,
                       reason if span is None else None)


def _range_end(norm: str, pos: int, start: _Parts) -> tuple[_Parts, int] | None:
    """The end of a range after a connector at ``pos``: its parts as written (None where it
    omits them) and where it ends; None when no end consistent with ``start`` follows."""
    c = _CONN_RE.match(norm, pos)
    if c is None:
        return None
    m = _DATE_END.match(norm, c.end())
    if m is None or m.end() == c.end():
        return None
    end = _parts(m)
    if end.bad:
        return None
    if start.day is not None:  # a day range: the end names a day
        ok = end.day is not None
    elif start.month is not None:  # a month range: the end names a month, no day
        ok = end.month is not None and end.day is None
    else:  # a year range: the end names a year only
        ok = end.year is not None and end.month is None and end.day is None
    # the end may name its year only where the start names one (2019年12月至2020年1月)
    if not ok or (end.year is not None and start.year is None):
        return None
    return end, m.end()


def _scan_dates(norm: str, pos: int = 0, endpos: int | None = None
                ) -> Iterator[tuple[int, int, _Parts, _Parts | None]]:
    """Spans of date expressions in normalised text (from ``pos`` to ``endpos``): (start, end,
    parts, end parts of a range)."""
    endpos = len(norm) if endpos is None else endpos
    while (m := _DATE.search(norm, pos, endpos)) is not None:
        pos = m.end()
        g = m.groupdict()
        if g["yr1"] is not None:
            a, b = int(g["yr1"]), int(g["yr2"])
            if a < b:
                yield m.start(), m.end(), _Parts(year=a), _Parts(year=b)
            continue
        if g["yy"] is not None or g["ycy"] is not None:
            p = _parts(m, "y")
        elif g["relonly"] is not None:
            p = _Parts(rel=_REL_YEARS[g["relonly"]])
        elif g["bd"] is not None:
            p = _Parts(day=int(g["bd"]))
            if not 1 <= p.day <= 31:
                continue
        else:
            p = _parts(m)
            if g["rel"] is not None:
                p.rel = _REL_YEARS[g["rel"]]
            if g["xun"] is not None:
                p.xun = g["xun"]
            if p.bad:  # 13月: not a date; a year before it still is one
                if g["ypart"] is not None and p.year is not None and 1000 <= p.year <= 2999:
                    yield m.start("ypart"), m.end("ypart"), _Parts(year=p.year), None
                continue
        if p.bad:
            continue
        end = _range_end(norm, m.end(), p) if p.xun is None else None
        if end is None:
            yield m.start(), m.end(), p, None
        else:
            pos = end[1]
            yield m.start(), end[1], p, end[0]


@functools.lru_cache(maxsize=64)
def _date_scan(norm: str) -> tuple[tuple[int, int, _Parts, _Parts | None], ...]:
    """:func:`_scan_dates` of a normalised text, kept for the last texts seen: both
    :func:`find_dates` and :func:`find_quantities` (which skips numbers in dates) scan a
    sentence's dates, and the pipeline calls them one after the other on each sentence. The
    parts are shared between the callers: read only."""
    return tuple(_scan_dates(norm))


def _place(p: _Parts, issue: dt.date | None) -> tuple[int | None, int | None, str | None]:
    """(year, month-for-a-bare-day, reason): where ``p`` lies; reason when it cannot be placed."""
    if p.month is not None and p.day is not None and p.day > _last_day(2000, p.month):
        return None, None, "invalid_date"  # 2月30日, 4月31日: in no year (2000 is a leap year)
    if p.year is not None:
        return p.year, None, None
    if issue is None:
        return None, None, "no_issue_date"
    if p.rel is not None:
        return issue.year + p.rel, None, None
    if p.month is None and p.day is not None:  # a bare day
        ym = _nearest_month(p.day, issue)
        return (None, None, "invalid_date") if ym is None else (ym[0], ym[1], None)
    y = _nearest_year(p, issue)
    return (None, None, "invalid_date") if y is None else (y, None, None)


def find_dates(text: str, issue_date: dt.date | None) -> list[DateMention]:
    """Dates, months, years and their ranges in ``text`` (see the module docstring).

    ``issue_date`` places dates without a year and relative years; without it those are returned
    with no dates and ``reason="no_issue_date"``. Never raises for any ``str``."""
    if not text or _DATE_HINT.search(text) is None:
        return []
    norm = _normalise(text)
    return [_date_mention(text, s, e, p, end, issue_date) for s, e, p, end in _date_scan(norm)]


def _date_mention(text: str, s: int, e: int, p: _Parts, end: _Parts | None,
                  issue_date: dt.date | None) -> DateMention:
    """The mention of the date expression ``text[s:e]`` that says ``p`` (and ``end``, the end
    of a range), placed with ``issue_date``."""
    relative = p.rel is not None
    year, bare_month, reason = _place(p, issue_date)
    resolved = p.year is None
    gran = _granularity(p)
    if year is None:
        return _mention(text, s, e, None, gran, False, relative, reason)
    first = _Parts(year, bare_month or p.month, p.day, p.xun, p.rel)
    span = _span(year, first)
    if span is None:
        return _mention(text, s, e, None, gran, False, relative, "invalid_date")
    if end is not None:
        end_year = end.year if end.year is not None else year
        end_p = _Parts(end_year, end.month if end.month is not None else first.month, end.day)
        end_span = _span(end_year, end_p)
        if end_span is not None and end_span[1] < span[0]:
            if end.month is None and end_p.month is not None:  # 30日至2日: the next month
                idx = end_year * 12 + end_p.month  # month index of the following month
                end_p = _Parts(idx // 12, idx % 12 + 1, end.day)
                end_span = _span(end_p.year, end_p)
            elif end.year is None:  # 12月30日至1月2日: the next year
                end_span = _span(end_year + 1, end_p)
            else:
                end_span = None
        if end_span is None or end_span[1] < span[0]:
            return _mention(text, s, e, None, gran, False, relative, "invalid_date")
        span = (span[0], end_span[1])
    return _mention(text, s, e, span, gran, resolved, relative, None)


# ---------------------------------------------------------------------------------------------
# quantities

_COUNT_UNITS = (
    "个百分点 百分点 个月 个小时 个工作日 人次 架次 车次 批次 余人 "
    "个 项 名 人 户 家 所 座 条 张 件 台 辆 架 艘 只 头 匹 次 场 批 支 位 例 起 篇 部 本 套 间 栋 幢 "
    "层 处 份 种 类 块 片 棵 株 枚 颗 根 把 组 对 双 箱 袋 包 瓶 盒 剂 款 门 轮 趟 笔 宗 "
    "家次 人份 辆次 艘次 副 册 尾 罐 卷"
).split()
_MEASURE_UNITS = (
    "平方公里 平方千米 平方米 立方米 千米 公里 厘米 毫米 米 千克 公斤 克 吨 斤 亩 公顷 毫升 升 "
    "千瓦时 千瓦 兆瓦 度电 摄氏度 ℃ 标准箱"
).split()
_DURATION_UNITS = "年 天 小时 分钟 秒钟 秒 周 个星期 星期".split()
_CURRENCIES = ("美元 欧元 日元 英镑 港元 港币 卢布 韩元 澳元 加元 新加坡元 新台币 泰铢 卢比 瑞士法郎 "
               "元人民币 人民币 元").split()

_UNIT_KIND: dict[str, tuple[str, str]] = {}  # written unit -> (canonical unit, kind)
for _u in _COUNT_UNITS:
    _UNIT_KIND[_u] = (_u, "count")
_UNIT_KIND.update({"个百分点": ("个百分点", "percent"), "百分点": ("个百分点", "percent"),
                   "个月": ("月", "duration"), "个小时": ("小时", "duration"),
                   "个工作日": ("工作日", "duration"), "余人": ("人", "count")})
for _u in _MEASURE_UNITS:
    _UNIT_KIND[_u] = (_u, "measure")
_UNIT_KIND["℃"] = ("摄氏度", "measure")
for _u in _DURATION_UNITS:
    _UNIT_KIND[_u] = (_u, "duration")
_UNIT_KIND.update({"秒钟": ("秒", "duration"), "个星期": ("周", "duration"),
                   "星期": ("周", "duration")})
for _u in _CURRENCIES:
    _UNIT_KIND[_u] = ("元" if _u in ("元人民币", "人民币") else
                      "港元" if _u == "港币" else _u, "money")
_UNIT_KIND.update({"%": ("%", "percent"), "‰": ("‰", "percent"), "岁": ("岁", "age"),
                   "周岁": ("岁", "age"), "倍": ("倍", "multiple")})

# words that start with a unit but are not one after a number (14亿人民, 3家庭, 5元素)
_NOT_UNIT = "人民(?!币)|人员|人口|人才|人士|家庭|家长|家属|家乡|名单|名义|名称|名字|年代|元素|" \
            "天然|天津|周边|周年|周期|次要|次日|位于|批准|起来|起步|本身|场所|部门|部分|部署|条件|" \
            "条例|项目|户籍|台湾|处理|支持|支付|支援|层面|种植|类似|门口|份额|米饭"
_UNIT_ALT = "|".join(re.escape(u) for u in sorted(
    _UNIT_KIND, key=len, reverse=True))
_SCALE = {"万亿": Decimal(10) ** 12, "亿": Decimal(10) ** 8, "万": Decimal(10) ** 4,
          "千": Decimal(1000), "百": Decimal(100)}

_CN_NUM_CHARS = "〇零一二两三四五六七八九十百千万亿"
_NUMBER = re.compile(
    # every alternative starts with a digit or a Chinese numeral (see _DATE)
    rf"(?=[\d{_CN_NUM_CHARS}])(?:"
    # 百分之三十 / 千分之五 / 百分之12.5
    rf"(?P<pct>[百千])分之(?P<pctnum>\d++(?:\.\d++)?|[{_CN_NUM_CHARS}]++(?:点[{_CN_DIGITS}]{{1,6}})?)"
    # 三分之一
    rf"|(?<![{_CN_NUM_CHARS}])(?P<den>[{_CN_NUM_CHARS}]++)分之(?P<num>[{_CN_NUM_CHARS}]++)"
    # 1,200 / 12.5 / 10800
    rf"|(?<![\d.,A-Za-z])(?P<ar>\d{{1,3}}(?:,\d{{3}})++(?![\d,])|\d++)(?P<dec>\.\d++)?(?![A-Za-z.]|,\d)"
    # 两千 / 十余 / 三点五; not a lone 〇, 零 or 一 (no number alone: _cn_value; 一 is a third
    # of the numerals of a text, each a search and a loop turn less)
    rf"|(?<![{_CN_NUM_CHARS}])(?![〇零一](?![{_CN_NUM_CHARS}]|点[{_CN_DIGITS}]))"
    rf"(?P<cn>[〇零一二两三四五六七八九十][{_CN_NUM_CHARS}]*+)"
    rf"(?P<cndec>点[{_CN_DIGITS}]{{1,6}})?"
    r")"
)
_TAIL = re.compile(
    rf"{_S}(?P<ap1>多|余|来)?{_S}"
    rf"(?P<scale>万亿|亿|万|千(?![米克瓦])|百(?!分))?{_S}(?P<ap2>多|余)?{_S}"
    rf"(?:(?={_NOT_UNIT})|(?P<unit>{_UNIT_ALT}))?"
    rf"(?P<after>{_S}左右)?"
)
_QTY_HINT = re.compile(rf"[\d{_CN_NUM_CHARS}]")
_ORDINAL_BEFORE = ("第", "周", "星期", "礼拜", "初", "编号", "号码", "电话", "热线")
_APPROX_BEFORE = ("近", "约", "逾", "超", "超过", "大约")


@dataclass(slots=True)
class _Num:
    """One number as read: its span, value (scaled), unit and what was needed to read it."""

    start: int
    end: int
    value: Decimal
    value_max: Decimal | None
    unit: str | None
    kind: str | None
    scale: Decimal | None  # the 万/亿... that followed it (None when none)
    approx: bool


#: Chinese numerals that are no number alone (``一`` is the indefinite article: ``一项工作``)
_NOT_NUMBERS_ALONE = frozenset("〇零一")


def _cn_value(s: str) -> tuple[Decimal, Decimal | None] | None:
    """Value of a Chinese numeral; ``三四``/``两三`` (two neighbouring digits) read as a range.

    None for digit strings (``一二三``), a bare ``一`` (an article: ``一项工作``) or ``〇``/``零``."""
    if not any(ch in "十百千万亿点" for ch in s):
        if len(s) == 2:
            a, b = _cn_number(s[0]), _cn_number(s[1])
            if a is not None and b is not None and b == a + 1:
                return a, b
        if len(s) != 1 or s in _NOT_NUMBERS_ALONE:
            return None
    v = _cn_number(s)
    return None if v is None else (v, None)


def _read_number(norm: str, m: re.Match[str]) -> _Num | None:
    """The number of a ``_NUMBER`` match with the scale and unit after it; None if unreadable."""
    g = m.groupdict()
    if g["pct"] is not None:  # 百分之三十, 千分之五
        raw = g["pctnum"]
        v = Decimal(raw) if raw[0].isdigit() else Decimal(100) if raw == "百" else _cn_number(raw)
        if v is None:
            return None
        return _Num(m.start(), m.end(), v, None, "%" if g["pct"] == "百" else "‰", "percent",
                    None, False)
    if g["den"] is not None:  # 三分之一
        den, num = _cn_number(g["den"]), _cn_number(g["num"])
        if den is None or num is None or den == 0:
            return None
        return _Num(m.start(), m.end(), num / den, None, None, "fraction", None, False)
    if g["ar"] is not None:
        v: Decimal = Decimal(g["ar"].replace(",", "") + (g["dec"] or ""))
        vmax: Decimal | None = None
    else:
        got = _cn_value(g["cn"] + (g["cndec"] or ""))
        if got is None:
            return None
        v, vmax = got
    t = _TAIL.match(norm, m.end())
    if t is None:  # cannot happen: every part of _TAIL is optional
        return None
    scale = _SCALE[t["scale"]] if t["scale"] else None
    if scale is not None:
        v *= scale
        vmax = None if vmax is None else vmax * scale
    unit, kind = _UNIT_KIND.get(t["unit"] or "", (None, None))
    if unit is not None:
        end = t.end("after") if t["after"] else t.end("unit")
    elif scale is not None:
        end = t.end("ap2") if t["ap2"] else t.end("scale")
    else:
        end = m.end()
    approx = bool(t["ap1"] or t["ap2"] or t["after"]) and end > m.end()
    return _Num(m.start(), end, v, vmax, unit, kind, scale, approx)


def _range(norm: str, n: _Num) -> _Num | None:
    """``n`` extended to a range when a connector and a second number with a unit follow it
    (``3至5年``, ``20%—30%``); the first number takes the second's scale if it has none."""
    if n.kind == "fraction" or n.value_max is not None:
        return None
    c = _CONN_RE.match(norm, n.end)
    if c is None:
        return None
    m2 = _NUMBER.match(norm, c.end())
    if m2 is None or (m2["ar"] is None and m2["cn"] is None):
        return None
    n2 = _read_number(norm, m2)
    if n2 is None or n2.unit is None or n2.value_max is not None:
        return None
    if n.unit is not None and n.unit != n2.unit:
        return None
    # 3至5万元: a bare first number takes the second's scale; 3元至5万元, 3万至5万元: its own
    lo = n.value * n2.scale if n.unit is None and n.scale is None and n2.scale else n.value
    if not lo < n2.value:
        return None
    return _Num(n.start, n2.end, lo, n2.value, n2.unit, n2.kind, n2.scale, n.approx or n2.approx)


def _preceded_by(norm: str, pos: int, words: tuple[str, ...]) -> bool:
    """Whether one of ``words`` ends just before ``pos`` (spaces between allowed)."""
    i = pos
    while i > 0 and norm[i - 1] in " \t":
        i -= 1
    return norm.endswith(words, 0, i)


# words after a measure word that end the counted object when there are no tokens
_STOP_CHARS = set("的地得和与及或、，。；：！？,.;:!?（）()“”‘’\"'《》 \t在将为是了也都并从向对把被就到至于以及等进获达有"
                  "已又还再共约近逾超个名项次")
_NOUN_TAGS = frozenset("n nr nrfg nrt ns nt nz ng vn an j nl".split())
_SKIP_AFTER_TAGS = frozenset("a ad b uj ul z".split())
_SKIP_BEFORE_TAGS = frozenset("v vd d p u ud uj ug".split())


class _Aligned(NamedTuple):
    """Tokens with their offsets in a text: ``starts[k]``, ``ends[k]``, ``words[k]``,
    ``tags[k]`` of token ``k`` (both offsets increasing). Blank tokens (empty or white space)
    may be among them: they are no part of any counted object, and are skipped."""

    starts: list[int]
    ends: list[int]
    words: list[str]
    tags: list[str]


def _blank(word: str) -> bool:
    return not word or word.isspace()


def _align(text: str, tokens: Sequence[tuple[str, str]]) -> _Aligned | None:
    """The tokens' offsets in ``text``, each found in order; None when the tokens do not spell
    the text (other than white space), so that they cannot be trusted."""
    words = [tok for tok, _ in tokens]
    if "".join(words) == text:
        # the tokens tile the text (as the pipeline's always do): each is found where the
        # ones before it end. The search below could find a token earlier only inside the
        # blank tokens before it, and a token matching there would repeat a blank prefix all
        # along, i.e. be blank itself; so these are its results, without a search per token
        # (the blank tokens are kept: the offsets are sums, no tuple per token is made).
        ends = list(accumulate(map(len, words)))
        return _Aligned([e - len(w) for w, e in zip(words, ends)], ends, words,
                        [tag for _, tag in tokens])
    out = _Aligned([], [], [], [])
    pos = 0
    for tok, tag in tokens:
        if _blank(tok):
            continue
        i = text.find(tok, pos)
        if i < 0 or (i > pos and not text[pos:i].isspace()):
            return None
        out.starts.append(i)
        out.ends.append(i + len(tok))
        out.words.append(tok)
        out.tags.append(tag)
        pos = i + len(tok)
    return out


def _counted_tokens(aligned: _Aligned, q_start: int, q_end: int, backward: bool) -> str | None:
    """Nouns after the quantity (adjectives, 的 skipped); else, if allowed, the nouns before it."""
    _, _, words, tags = aligned
    n = len(words)
    # the tokens' starts and ends increase: the first token at or after the quantity's end
    k = bisect_left(aligned.starts, q_end)
    skipped = 0
    while k < n and (_blank(words[k]) or (tags[k] in _SKIP_AFTER_TAGS and skipped < 4)):
        skipped += not _blank(words[k])
        k += 1
    run: list[str] = []
    while k < n and (_blank(words[k]) or (tags[k] in _NOUN_TAGS and len(run) < 4)):
        if not _blank(words[k]):
            run.append(words[k])
        k += 1
    if run:
        return "".join(run)
    if not backward:
        return None
    k = bisect_right(aligned.ends, q_start) - 1  # the last one ending before it
    skipped = 0
    while k >= 0 and (_blank(words[k]) or (tags[k] in _SKIP_BEFORE_TAGS and skipped < 2)):
        skipped += not _blank(words[k])
        k -= 1
    run = []
    while k >= 0 and (_blank(words[k]) or (tags[k] in _NOUN_TAGS and len(run) < 4)):
        if not _blank(words[k]):
            run.append(words[k])
        k -= 1
    return "".join(reversed(run)) or None


def _counted_chars(text: str, q_end: int) -> str | None:
    """Without tokens: the Chinese characters after a measure word, up to a function word, at
    most 4 (one ``X的`` in front is skipped: ``三项新的重大任务`` → ``重大任务``)."""
    i = q_end
    while i < len(text) and text[i] in " \t":
        i += 1
    j = i
    while j < len(text) and j - i < 4 and "\u4e00" <= text[j] <= "\u9fff" and text[j] not in _STOP_CHARS:
        j += 1
    if j < len(text) and text[j] == "的" and j - i == 1:
        return _counted_chars(text, j + 1)
    return text[i:j] or None


def _numbers(norm: str, dates: Sequence[tuple[int, int]]) -> Iterator[tuple[_Num, str, bool]]:
    """The quantities of normalised text (no pattern reads past a line break, so ``norm`` may
    hold several sentences joined by ``\\n``), given the spans of its dates (disjoint, in
    order, as :func:`_date_scan` gives them): each number with its kind and whether it is
    approximate."""
    date_starts = [s for s, _ in dates]
    date_ends = [e for _, e in dates]
    pos = 0
    while (m := _NUMBER.search(norm, pos)) is not None:
        pos = m.end()
        # the dates overlapping the number: a run of the (disjoint, ordered) date spans
        hi = bisect_left(date_starts, m.end())
        if hi and date_ends[hi - 1] > m.start():  # a number inside a date: go on after the date
            pos = max(pos, date_ends[hi - 1])
            continue
        if _preceded_by(norm, m.start(), _ORDINAL_BEFORE):
            continue
        n = _read_number(norm, m)
        if n is None:
            continue
        n = _range(norm, n) or n
        if n.kind is None and n.scale is None:  # no unit, no scale: not a quantity
            continue
        hi = bisect_left(date_starts, n.end)
        if hi and date_ends[hi - 1] > n.start:
            continue
        kind = n.kind or "count"  # 14亿 (中国人): a scaled number counts what follows
        yield n, kind, n.approx or _preceded_by(norm, n.start, _APPROX_BEFORE)
        pos = max(pos, n.end)


class _Counted:
    """The counted objects of the quantities of one sentence (its tokens aligned with its text
    once, when first needed)."""

    __slots__ = ("text", "tokens", "aligned", "done")

    def __init__(self, text: str, tokens: Sequence[tuple[str, str]] | None) -> None:
        self.text, self.tokens = text, tokens
        self.aligned: _Aligned | None = None
        self.done = False

    def __call__(self, start: int, end: int, kind: str) -> str | None:
        """What the quantity ``text[start:end]`` of ``kind`` counts (see the module docstring)."""
        if kind not in ("count", "measure", "percent", "money"):
            return None
        if not self.done:
            self.aligned, self.done = (_align(self.text, self.tokens) if self.tokens else None), True
        if self.aligned is not None:
            return _counted_tokens(self.aligned, start, end, kind in ("count", "measure"))
        return _counted_chars(self.text, end) if kind == "count" else None


def find_quantities(text: str, tokens: Sequence[tuple[str, str]] | None = None) -> list[Quantity]:
    """Numbers with units (counts, money, percents, measures, durations...) in ``text``.

    ``tokens`` -- the sentence's ``(token, jieba tag)`` pairs, in order -- name the counted
    object when given (see the module docstring). Dates are never quantities. Never raises for
    any ``str``."""
    if not text or _QTY_HINT.search(text) is None:
        return []
    norm = _normalise(text)
    dates = [(s, e) for s, e, _, _ in _date_scan(norm)] if _DATE_HINT.search(norm) else []
    counted = _Counted(text, tokens)
    return [_quantity(n, kind, approx, text, counted) for n, kind, approx in _numbers(norm, dates)]


def _quantity(n: _Num, kind: str, approx: bool, source: str, counted: _Counted, offset: int = 0) -> Quantity:
    """The quantity of number ``n`` (of ``kind``, ``approx``) found in ``source``: a sentence,
    or sentences joined, this one starting at ``offset``; its offsets are the sentence's."""
    start, end = n.start - offset, n.end - offset
    return Quantity(start, end, source[n.start:n.end], float(n.value),
                    None if n.value_max is None else float(n.value_max),
                    n.unit, kind, counted(start, end, kind), approx)


#: joins the sentences of :func:`find_in_sentences`: no pattern here reads one (``\s`` only in a
#: lookbehind that ``^`` stands beside), and no lookaround reads it otherwise than the start or
#: the end of a text
_JOIN = "\n"


def sentence_by_sentence(
    texts: Sequence[str], issue_dates: Sequence[dt.date | None],
    tokens: Sequence[Sequence[tuple[str, str]] | None],
    dates: Callable[[str, dt.date | None], Sequence[Any]] | None,
    quantities: Callable[[str, Sequence[tuple[str, str]] | None], Sequence[Any]] | None,
) -> tuple[list[int], list[Any], list[int], list[Any]]:
    """What :func:`find_in_sentences` gives, made by calling ``dates`` and ``quantities``
    (functions of one sentence, as :func:`find_dates` and :func:`find_quantities` are; None:
    not called) on each sentence in turn."""
    date_rows: list[int] = []
    date_out: list[Any] = []
    qty_rows: list[int] = []
    qty_out: list[Any] = []
    for i, text in enumerate(texts):
        if dates is not None:
            got_d = dates(text, issue_dates[i])
            date_rows += [i] * len(got_d)
            date_out += got_d
        if quantities is not None:
            got_q = quantities(text, tokens[i])
            qty_rows += [i] * len(got_q)
            qty_out += got_q
    return date_rows, date_out, qty_rows, qty_out


def find_in_sentences(
    texts: Sequence[str], issue_dates: Sequence[dt.date | None],
    tokens: Sequence[Sequence[tuple[str, str]] | None], *, dates: bool = True,
    quantities: bool = True,
) -> tuple[list[int], list[DateMention], list[int], list[Quantity]]:
    """:func:`find_dates` and :func:`find_quantities` of many sentences: the sentence index of
    each date and the date, in order, then the same of the quantities -- what the functions
    give sentence by sentence (``issue_dates[i]`` and ``tokens[i]`` are sentence ``i``'s).

    The patterns run once over the sentences joined by line breaks, not once per sentence (a
    call and its look-ups for each of a batch's 30,000 sentences); a sentence holding a line
    break itself is read alone."""
    joined = _JOIN.join(texts)
    if joined.count(_JOIN) != max(len(texts) - 1, 0):  # a line break in a sentence: one by one
        return sentence_by_sentence(texts, issue_dates, tokens, find_dates if dates else None,
                                    find_quantities if quantities else None)
    date_rows: list[int] = []
    date_out: list[DateMention] = []
    qty_rows: list[int] = []
    qty_out: list[Quantity] = []
    norm = _normalise(joined)
    starts = list(accumulate((len(t) + 1 for t in texts[:-1]), initial=0))
    # the dates of the sentences holding a date's character alone (a quarter of the text): the
    # pattern stops at every digit and numeral, most of which are in no date
    found: list[tuple[int, int, _Parts, _Parts | None]] = []
    pos = 0
    while (hint := _DATE_HINT.search(norm, pos)) is not None:
        i = bisect_right(starts, hint.start()) - 1
        pos = starts[i] + len(texts[i])  # the sentence's end (its line break, or the end)
        found += _scan_dates(norm, starts[i], pos)
    if dates:
        for s, e, p, end in found:
            i = bisect_right(starts, s) - 1
            o = starts[i]
            date_rows.append(i)
            date_out.append(_date_mention(texts[i], s - o, e - o, p, end, issue_dates[i]))
    if quantities:
        counted: _Counted | None = None
        last = -1
        for n, kind, approx in _numbers(norm, [(s, e) for s, e, _, _ in found]):
            i = bisect_right(starts, n.start) - 1
            if i != last:
                counted, last = _Counted(texts[i], tokens[i]), i
            assert counted is not None
            qty_rows.append(i)
            qty_out.append(_quantity(n, kind, approx, joined, counted, starts[i]))
    return date_rows, date_out, qty_rows, qty_out
