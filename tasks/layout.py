"""Layout: page text -> lines -> items -> articles.

A page of text extracted from a newspaper PDF is a stream of hard-wrapped column lines. Three
passes turn it back into articles:

1. **lines -> items** (:func:`items_of`): join wrapped lines into paragraphs (a line ends a
   paragraph when it ends a sentence and is short, or when the next line is two characters short
   of the column width: its first-line indent was lost), mend column breaks (blank lines in the
   middle of a sentence), drop the spaces PDF extraction put around numbers, and pick out the
   lines that stand alone (headlines, kickers, subtitles, subheadings), bylines and continuation
   markers, including those glued onto a neighbouring line.
2. **items -> articles** (:func:`_segment`): a dynamic programme chooses where articles start and
   end. Every article has one headline group, printed before *or after* its body, or else starts
   with a ``（上接第 N 版）`` marker; a standalone line inside an article is a subheading. Which
   neighbour a headline belongs to is decided by content: how much of the headline's wording the
   body repeats. (The programme scores nearly every pair of cuts; :class:`_Scorer` keeps what
   parts of spans contribute and skips spans whose upper bound cannot win, and gives the same
   scores, to the last bit, as scoring each span item by item.) Articles start and end next to
   a headline, byline, marker or dateline, where two paragraphs share (almost) no wording, or at
   a blank line between two paragraphs on a page that sets none there otherwise. A briefs
   column (新闻速递) then takes in the briefs that follow it.
3. **articles -> fields**: title/kicker/subtitle from the headline group, reporters from bylines
   outside the body (a byline inside it is a roundup section's, kept as text), the ``本报讯``
   dateline, continuation pages, photo captions.

Everything here is pure and deterministic: the same text always gives the same articles.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import operator
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import cn2an
import numpy as np

from tasks.model import Article, Page, Paragraph

# ---------------------------------------------------------------------------------------------
# character classes and patterns

_CJK = r"\u3400-\u9fff"
TERMINAL = "。！？!?…；;"
CLOSERS = "”’」』）)》】"
BULLETS = "●◆■▲★◎□◇"

_NUM = r"[0-9０-９]+|[零〇一二三四五六七八九十百]+"
MARKER_RE = re.compile(
    rf"[（(]\s*(?P<kind>上接|下转|接|转)\s*第?\s*(?P<page>{_NUM})\s*版\s*[）)]"
)
# a name, not a credit: 王云娜整理, 刘梦涛摄 are not reporters of a byline
_NAME = rf"(?![{_CJK}·]*(?:整理|摄|报道|供图)(?:\s|$))[{_CJK}·]{{2,5}}"
# a two-character name set to the width of three: 付  文, 杨 岑 (one character, a gap, one)
_PADDED_NAME = rf"[{_CJK}][ \u3000]{{1,2}}[{_CJK}](?![{_CJK}·])"
_NAMES = rf"(?:{_PADDED_NAME}|{_NAME})(?:[ \u3000、]+(?:{_PADDED_NAME}|{_NAME}))*"
# a whole line that is a byline: ■记者 杨晓梅 / 本报记者 杨明 刘济民 / □ 何承天 / 记者 X
BYLINE_RE = re.compile(
    rf"^\s*(?:[■□◆●]\s*)?(?:本报|新华社)?(?:特约)?记者[ \u3000：:]*(?P<names>{_NAMES})\s*$"
    rf"|^\s*[■□]\s*(?P<names2>{_NAMES})\s*$"
)
# a byline glued to the end of a body line: "...参加。 ■记者 毛信慧 成佳佳"
GLUED_BYLINE_RE = re.compile(
    rf"^(?P<body>.*\S)\s+(?P<byline>[■□]\s*(?:本报)?(?:特约)?(?:记者)?\s*{_NAMES})\s*$"
    rf"|^(?P<body2>.*(?:[{TERMINAL}{CLOSERS}日摄文图]|摄影报道))\s*(?P<byline2>本报(?:特约)?记者\s+{_NAMES})\s*$"
)
DATELINE_RE = re.compile(
    rf"^(?:本报讯|本报[{_CJK}]{{0,8}}\d{{1,2}}月\d{{1,2}}日电|本报电|据?新华社[{_CJK}]{{0,8}}\d{{1,2}}月\d{{1,2}}日电)"
)
# box labels that open an article, right under its headline
OPENING_LABELS = frozenset({"核心阅读", "阅读提示", "内容提要", "编者按", "编者的话", "开栏的话"})
# labels of boxes inside an article, printed on a line of their own: text, not headlines
BOX_LABELS = OPENING_LABELS | frozenset({"引子", "本报评论员", "延伸阅读", "相关链接", "新闻链接", "背景链接",
                                         "记者手记", "背景资料", "专家解读", "小贴士", "新闻背景", "记者观察"})
# a box label behind a bullet (■延伸阅读) looks like a byline: label words are never names
_LABEL_WORDS = frozenset(label for label in BOX_LABELS if len(label) <= 5)
# a chapter or section heading of a document (第一章 总则), and a clause that opens a paragraph
NUMBERED_HEADING_RE = re.compile(r"^第[一二三四五六七八九十百零〇0-9]+[章节编部分篇]|^[一二三四五六七八九十]+、|^[（(][一二三四五六七八九十]+[）)]")
CLAUSE_RE = re.compile(r"^第[一二三四五六七八九十百零〇0-9]+条")
# a line wholly in parentheses: a note or signature (（执笔：王公龙）, （摘编自…）), never a headline
_PARENTHESISED = re.compile(r"^[（(][^（）()]*[）)]$")


def _is_signature(text: str) -> bool:
    """A closing note of an article: （作者…）, （本报记者…）, （执笔：…）, （谷业凯）. (Both patterns
    open with a bracket: text that does not is not matched.)"""
    return text.startswith(("（", "(")) and bool(SIGNATURE_RE.match(text) or _PARENTHESISED.match(text))


# the start of a wire lead, even when the column cut it short: 据新华社电（…, 本报北京2月5
WIRE_START_RE = re.compile(r"^(?:据)?(?:新华社|本报|中新社)(?:[\u4e00-\u9fff]{0,8}(?:\d|电)|电)")
# a year in a dated note under a document's title: （2019年12月28日…通过）
_YEAR = re.compile(r"\d{4}年")
# a wire or paper source opening a lead: 据新华社电, 新华社北京2月3日电, 本报北京电
WIRE_RE = re.compile(r"^(?:据)?(?:新华社|本报|中新社)[\u4e00-\u9fff0-9]{0,12}电")
PAGE_DATE_RE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
# a labelled field (电子信箱：…, 咨询电话：…, 时间：…, 数据来源：…): text, never a headline
_FIELD_LINE_RE = re.compile(r"^(?:电子信箱|电子邮箱|邮箱|咨询电话|联系电话|服务热线|电话|网址|地址|时间|地点|"
                            r"数据来源|资料来源|来源)[：:]")
# a line that is only a date (the date under a signed statement): text, never a headline
_DATE_ONLY = re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日$")
PAGE_NO_RE = re.compile(rf"第({_NUM})版")
# masthead and imprint lines: 本期值班副总编 / 姜啸啸 责任编辑 / …, 国内统一连续出版物号…
IMPRINT_RE = re.compile(
    r"^(?:本期)?(?:值班副?总编|值班编委|责任编辑|版式设计|美术编辑|图片编辑|责任校对|国内统一连续出版物号|"
    r"国内统一刊号|邮发代号|广告经营许可证|广告许可证)\s*[/／：:\s]"
)
# the characters an imprint line can open with: other lines are not matched (the test reads them
# from the pattern)
_IMPRINT_OPENERS = frozenset("本值责版美图国邮广")
# the design credit printed under a feature (版式设计：蔡华伟, 版式设计  郭 祥 汪哲平): the last line
# of that article, as the paper prints it; a masthead's list of roles (版式设计 / 王瑾 …) is imprint
DESIGN_CREDIT_RE = re.compile(r"^版式设计\s*[：:\s]\s*(?!.*(?:编辑|总编|编委|校对))[\u4e00-\u9fff·][\u4e00-\u9fff·\s]*$")
# a photo credit closing a caption: 本报记者 刘梦涛 摄 / 李晓红摄（人民视觉） / 摄影报道
PHOTO_CREDIT_RE = re.compile(r"(?:(?<!拍)摄|摄影报道|供图)(?:[（(][^）)]{1,10}[）)])?$"  # not 完成拍摄
                             r"|^[（(]?(?:新华社|中新社)发[）)]?$"  # an agency's photo: 新华社发
                             r"|供图\s*(?:本报)?记者\s*[\u4e00-\u9fff ]{2,8}$")  # …供图 本报记者 林芮文
CAPTION_START_RE = re.compile(r"^(?:图为|上图|下图|左图|右图|图[①-⑩0-9一二三四五六]|图片说明)")
# reporters inside the lead: 本报讯 （记者徐昕联 通讯员 田明 宋宗泽 姜山） 10月14日，…
LEAD_BYLINE_RE = re.compile(
    rf"^本报讯\s*[（(](?P<inner>(?:记者|通讯员|特约记者|实习生|见习记者)[{_CJK}·、，, \u3000]+)[）)](?P<rest>.*)$",
    re.S,
)
# photo, design and editing credits: lines of the page, never headlines
CREDIT_RE = re.compile(r"(?<!拍)摄$|摄影报道$|摄[（(][^）)]*[）)]$|^(?:版式设计|制图|图片来源|责任编辑|本版编辑)[：:]|^版式设计\s|整理$"
                       r"|记者\s*[\u4e00-\u9fff ]{2,8}文$")
_CREDIT_LEADS = ("版式设计", "制图", "图片来源", "责任编辑", "本版编辑")


def _credit_form(text: str) -> bool:
    """Does :data:`CREDIT_RE` find a credit in ``text``? Its end-anchored forms make it try
    every position of the text; every form holds 摄, 整理 or 记者 or opens with one of
    :data:`_CREDIT_LEADS`, so text with none of them (nearly every paragraph) is not searched."""
    return (("摄" in text or "整理" in text or "记者" in text or text.startswith(_CREDIT_LEADS))
            and CREDIT_RE.search(text) is not None)


# a paragraph that closes an article: the author's note, the reporters, the wire dateline
SIGNATURE_RE = re.compile(
    r"^[（(](?:(?:作者|本报|新华社|记者|据新华社|人民日报)[^（）()]*|[\u4e00-\u9fff][\u4e00-\u9fff \u3000、]{1,12})[）)]$"
)
_SPACE_RE = re.compile(r"[ \u3000\t]+")
# two short headlines on one line, set apart by a wide gap (after a kicker's —— or ：, two spaces)
_HEADLINE_PAIR_RE = re.compile(
    r"^(\S.{0,24}?\S)(?:(?:(?<=——)|(?<=：)|(?<=:))[ \u3000]{2,}|[ ]{4,}|\t+|\u3000{2,})(\S.{0,24}\S)$")


def _is_han(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff"


def _compact(text: str) -> str:
    """Drop the spaces PDF extraction put into a line, keep the real ones.

    ``12 月 7 日`` -> ``12月7日``; a letter-spaced line (``本 报 讯 10 月``) loses every space;
    a space between two Chinese phrases (``大格局谋发展 高质量抓落实``) or two Latin words or
    numbers (``COVID 19``) stays.
    """
    t = text.strip()
    if " " not in t and "\u3000" not in t and "\t" not in t:
        return t
    parts = _SPACE_RE.split(t)
    spaced = len(parts) >= 4 and sum(len(p) <= 2 for p in parts) >= 0.7 * len(parts)
    out = parts[0]
    for part in parts[1:]:
        a, b = out[-1], part[0]
        latin = a.isascii() and a.isalnum() and b.isascii() and b.isalnum()
        if latin or (not spaced and _is_han(a) and _is_han(b)):
            out += " "
        out += part
    return out


_HANGING = "，。、；：？！,.;:?!”’）」』"
_CLOSING_MARKS = _HANGING + CLOSERS


def _codes(chars: str) -> np.ndarray:
    """The code points of ``chars``."""
    return np.frombuffer(chars.encode("utf-32-le"), dtype=np.uint32)


# the classes of characters the tests of a line's first or last character ask about, one bit
# each in a table over the Basic Multilingual Plane (every such character is in it); a page's
# characters are looked up at once (faster than ``np.isin`` on a page's few hundred lines)
_TERMINAL_CH, _CLOSER_CH, _HANGING_CH, _CLOSING_CH, _DATELINE_CH, _CAPTION_CH, _PAREN_CH, _PHOTO_CH = (
    1 << b for b in range(8))
# the characters a line matching DATELINE_RE, CAPTION_START_RE or _PARENTHESISED can open with:
# other lines are not matched (tests/test_layout_facts.py reads them from the patterns themselves)
_DATELINE_OPENERS = "本据新"
_CAPTION_OPENERS = "图上下左右"
_PAREN_OPENERS = "（("
# a line that ends in a photo credit holds 摄, 供图 or 社发 (:func:`_ends_in_photo_credit`), and so
# does the head of a credit the column wrapped: other lines are not searched
_PHOTO_MARKS = "摄供社"


def _char_class_table() -> np.ndarray:
    table = np.zeros(0x10000, dtype=np.uint8)
    for bit, chars in ((_TERMINAL_CH, TERMINAL), (_CLOSER_CH, CLOSERS), (_HANGING_CH, _HANGING),
                       (_CLOSING_CH, _CLOSING_MARKS), (_DATELINE_CH, _DATELINE_OPENERS),
                       (_CAPTION_CH, _CAPTION_OPENERS), (_PAREN_CH, _PAREN_OPENERS), (_PHOTO_CH, _PHOTO_MARKS)):
        table[_codes(chars)] |= bit
    return table


_CHAR_CLASSES = _char_class_table()


def _char_classes(codes: np.ndarray) -> np.ndarray:
    """The class bits of each code point (none above the Basic Multilingual Plane)."""
    return _CHAR_CLASSES[np.minimum(codes, 0xFFFF)]


def _code_points(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The code points of ``texts`` one after the other (uint32; a lone surrogate is a code
    point like any other: surrogatepass), and each text's length."""
    lengths = np.fromiter(map(len, texts), dtype=np.intp, count=len(texts))
    return np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32), lengths


def _widths(chars: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Each line's width in columns, from the lines' :func:`_code_points`: Latin letters and
    digits (any ASCII character but the space) are half-width, spaces take none, any other
    character is full-width, and a punctuation mark hanging past the column edge is not counted
    (nor, on an empty line, is a column more). A page's lines are measured at once: half-columns
    summed per line, and the width rounded toward zero, as ``int()`` rounds."""
    n = len(lengths)  # (a lone surrogate: full-width)
    if not len(chars):
        return np.full(n, -1, dtype=np.int64)  # empty lines only: nothing but the hanging column
    halves = np.concatenate(([0], np.cumsum(np.where(chars >= 0x80, 2, chars != 0x20))))
    ends = np.cumsum(lengths)
    hanging = ((_char_classes(chars[np.maximum(ends - 1, 0)]) & _HANGING_CH) != 0) | (lengths == 0)
    return ((halves[ends] - halves[ends - lengths] - 2 * hanging) / 2).astype(np.int64)


def _ends_sentence(text: str) -> bool:
    t = text.rstrip().rstrip(CLOSERS)
    return bool(t) and t[-1] in TERMINAL


@dataclass(slots=True)
class _LineFacts:
    """What each line's text says, read once for a whole page: whether it ends a sentence
    (:func:`_ends_sentence`), opens with a dateline (:data:`DATELINE_RE`), is wholly in
    parentheses (:data:`_PARENTHESISED`), opens a photo caption (:data:`CAPTION_START_RE`),
    ends in a hanging punctuation mark, holds closing marks only, ends in a photo credit
    (:func:`_ends_in_photo_credit`), holds a character of one (:data:`_PHOTO_MARKS`).

    Most lines are plain text: the first and last characters of a page's lines, and which hold
    a character of a photo credit, read at once (numpy), say which lines a pattern could match
    at all, and only those are matched."""

    ends: list[bool]
    dateline: list[bool]
    paren: list[bool]
    caption: list[bool]
    hanging: list[bool]
    marks_only: list[bool]
    credit: list[bool]
    photo_marked: list[bool]

    @classmethod
    def of(cls, texts: list[str], chars: np.ndarray, lengths: np.ndarray) -> _LineFacts:
        """The facts of ``texts`` (stripped lines), from their :func:`_code_points`."""
        n = len(texts)
        ends_at = np.cumsum(lengths)
        empty = lengths == 0
        # the classes of each line's first and last characters (none on an empty line)
        padded = np.concatenate((chars, [0]))
        first = np.where(empty, 0, _char_classes(padded[ends_at - lengths]))
        last = np.where(empty, 0, _char_classes(padded[np.maximum(ends_at - 1, 0)]))
        photo_marked = np.zeros(n, dtype=bool)
        photo_marked[np.searchsorted(ends_at, np.flatnonzero(_char_classes(chars) & _PHOTO_CH), side="right")] = True

        def where(candidates: np.ndarray, test: object) -> list[bool]:
            out = [False] * n
            for k in np.flatnonzero(candidates).tolist():
                out[k] = bool(test(texts[k]))  # type: ignore[operator]
            return out

        # a line ending in a terminal mark ends a sentence; one ending in a closer may
        ends = ((last & _TERMINAL_CH) != 0).tolist()
        for k in np.flatnonzero(last & _CLOSER_CH).tolist():
            ends[k] = _ends_sentence(texts[k])
        return cls(
            ends=ends,
            dateline=where(first & _DATELINE_CH, DATELINE_RE.match),
            paren=where(first & _PAREN_CH, _PARENTHESISED.match),
            caption=where(first & _CAPTION_CH, CAPTION_START_RE.match),
            hanging=(((last & _HANGING_CH) != 0) | empty).tolist(),
            marks_only=where((first & _CLOSING_CH) | empty, lambda t: not t.strip(_CLOSING_MARKS)),
            credit=where(photo_marked, _ends_in_photo_credit),
            photo_marked=photo_marked.tolist(),
        )

    def __getitem__(self, part: slice) -> _LineFacts:
        """The facts of a run of the lines (copies: a run's may be amended)."""
        return _LineFacts(self.ends[part], self.dateline[part], self.paren[part], self.caption[part],
                          self.hanging[part], self.marks_only[part], self.credit[part], self.photo_marked[part])


def _page_number(raw: str) -> int | None:
    raw = raw.strip().translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    if raw.isdigit():
        return int(raw)
    try:
        return int(cn2an.cn2an(raw, "smart"))
    except (ValueError, KeyError):
        return None


def _marker(m: re.Match[str]) -> tuple[str, int | None]:
    """A continuation marker read: ``("from", 1)`` for （上接第 1 版）, ``("to", 2)`` for （下转第二版）."""
    return ("from" if m.group("kind") in ("上接", "接") else "to"), _page_number(m.group("page"))


_PADDED_NAME_RE = re.compile(rf"(?<![{_CJK}·])({_PADDED_NAME})")


# what leads a byline's names: ■记者, □, 本报记者, 本报特约记者
_BYLINE_LEAD_RE = re.compile(r"^[■□]\s*(?:本报)?(?:特约)?(?:记者)?\s*|^本报(?:特约)?记者\s*")


def _byline_names(m: re.Match[str]) -> str:
    """The names a :data:`BYLINE_RE` match found."""
    return m.group("names") or m.group("names2")


def _byline_piece(text: str, names: str | None = None, glued: bool = False) -> tuple[list[str], str, bool]:
    """What a byline piece carries: its names (``names``, else ``text`` less its lead), its text
    with runs of space made one, and whether it was cut from the end of a line of text."""
    if names is None:
        names = _BYLINE_LEAD_RE.sub("", text)
    return _split_names(names), _SPACE_RE.sub(" ", text.strip()), glued


def _split_names(names: str) -> list[str]:
    """The names of a byline: ``付  文 李昌禹`` -> ``["付文", "李昌禹"]``."""
    names = _PADDED_NAME_RE.sub(lambda m: re.sub(r"[ \u3000]", "", m.group(1)), names.strip())
    return [n for n in re.split(r"[ \u3000、，,]+", names) if n]


# ---------------------------------------------------------------------------------------------
# pass 1: lines -> items


@dataclass(slots=True)
class Item:
    """One unit of a page: a paragraph ``P``, a standalone line ``S``, a byline ``B`` or a
    continuation marker ``M``."""

    kind: str
    text: str = ""
    names: list[str] = field(default_factory=list)
    marker: str | None = None  # "from" / "to" for M items
    page: int | None = None
    glued: bool = False  # a byline glued onto a body line, or a marker glued to text
    blank_before: bool = False
    blank_after: bool = False
    long: bool = False  # an S line wider than the column: never a wrapped line
    paired: bool = False  # an S line that shared its line with another headline


@dataclass(slots=True)
class _Line:
    text: str  # compacted
    n: int
    blank_before: bool
    bullet: bool
    force_break_after: str | None = None  # "from"/"to": text glued before a marker
    force_break_before: bool = False
    paired: bool = False  # the second of two headlines that shared one line


def _estimate_width(lengths: np.ndarray) -> int:
    """The column width: the most common length of the longer lines (``lengths``: integers)."""
    longer = lengths[lengths >= 8]
    if not len(longer):
        return int(lengths.max()) if len(lengths) else 16
    # the most common length (ties: the wider); too few lines to tell: a usual column
    counts = np.bincount(longer)
    count = int(counts.max())
    width = len(counts) - 1 - int(np.argmax(counts[::-1] == count))
    return width if count >= 3 else 16


@dataclass
class _PageFacts:
    """What the page says about itself rather than its articles."""

    section: str | None = None
    issue_date: dt.date | None = None
    page_no: int | None = None
    imprint: list[str] = field(default_factory=list)


_HEADER_MARKER_RE = re.compile(r"[（(](?:上接|下转|接|转)")
_WEEKDAY_RE = re.compile(r"星期[一二三四五六日天]")
_HEADER_NOT_RE = re.compile(r"[，、《》（）()“”；]")  # marks of a sentence, never of a page header


def _page_header(line: str) -> tuple[dt.date | None, int | None] | None:
    """Issue date and page number of a page-header line (``2019年12月10日 星期二 第2版``)."""
    if "版" not in line and "期" not in line:  # neither 第N版 nor 星期: no header (quick test)
        return None
    flat = line.replace(" ", "").replace("\u3000", "")
    if len(flat) > 40 or MARKER_RE.search(line) or _HEADER_MARKER_RE.search(flat):
        return None
    dm = PAGE_DATE_RE.search(flat)
    pm = PAGE_NO_RE.search(flat)
    if not pm and not (dm and "星期" in flat):
        return None
    date = None
    if dm:
        try:
            date = dt.date(int(dm.group(1)), int(dm.group(2)), int(dm.group(3)))
        except ValueError:
            date = None
    rest = PAGE_NO_RE.sub("", PAGE_DATE_RE.sub("", flat))
    rest = _WEEKDAY_RE.sub("", rest)
    if len(rest) > 16 or _ends_sentence(rest) or _HEADER_NOT_RE.search(rest):
        return None  # a sentence that mentions a date or an edition (（第五版）已由…出版), not a header
    return date, _page_number(pm.group(1)) if pm else None


def _explode(raw_lines: list[str]) -> tuple[_PageFacts, list[tuple[str, object, bool]]]:
    """Split raw lines into ``(kind, payload, blank_before)`` pieces: text, byline, marker.

    Markers and bylines glued to text are cut out here, so later passes see them on their own;
    the page header, the section banner and masthead/imprint lines go to the page's facts.
    """
    facts = _PageFacts()
    pieces: list[tuple[str, object, bool]] = []
    blank = False
    seen_text = False
    for raw in raw_lines:
        line = raw.strip()
        if not line:
            blank = True
            continue
        # (a header holds 第N版 or 星期: other lines are not read as one)
        header = _page_header(line) if "版" in line or "期" in line else None
        if header is not None:
            facts.issue_date = facts.issue_date or header[0]
            facts.page_no = facts.page_no or header[1]
            continue
        if line[0] in _IMPRINT_OPENERS and IMPRINT_RE.match(line):
            gm = GLUED_BYLINE_RE.match(line)  # 版式设计：蔡华伟 □ 吴基传: the byline is no imprint
            body = gm.group("body") if gm and gm.group("byline") else line
            if DESIGN_CREDIT_RE.match(body):
                # the design credit under a feature (版式设计：蔡华伟) closes that article: its text
                pieces.append(("T", (body, False), blank))
                blank = False
            else:
                facts.imprint.append(_compact(body))
            if body is not line:
                pieces.append(("B", _byline_piece(gm.group("byline")), False))  # type: ignore[union-attr]
            continue
        if not seen_text:
            seen_text = True
            # the section banner: an indented short first line (" 要闻·综合")
            if raw[:1].isspace() and len(line) <= 12 and not _ends_sentence(raw):
                facts.section = _compact(raw)
                blank = False
                continue
        # every byline pattern needs 记者, ■ or □; every marker needs 版 (quick tests)
        bylined = "记者" in line or "■" in line or "□" in line
        bm = BYLINE_RE.match(line) if bylined else None
        if bm and _LABEL_WORDS.intersection(_split_names(_byline_names(bm))):
            bm = None  # ■延伸阅读: a box label, text of the article
        if bm and not line.rstrip().endswith("摄"):
            pieces.append(("B", _byline_piece(line, _byline_names(bm)), blank))
            blank = False
            continue
        pos = 0
        first = True
        for m in MARKER_RE.finditer(line) if "版" in line else ():
            before = line[pos : m.start()].strip()
            if before:
                pieces.append(("T", (before, True), blank if first else False))
                first = False
            pieces.append(("M", (*_marker(m), bool(before)), blank if first else False))
            first = False
            pos = m.end()
        rest = line[pos:].strip() if pos else line  # (line is stripped)
        bm = BYLINE_RE.match(rest) if pos else None
        if bm and not rest.endswith("摄"):  # a byline after a marker: （下转第 14 版）本报记者 X
            pieces.append(("B", _byline_piece(rest, _byline_names(bm)), False))
        elif rest:
            gm = GLUED_BYLINE_RE.match(rest) if bylined else None
            if gm and gm.group("body2") and gm.group("body2").endswith(("摄", "供图")):
                gm = None  # 郭 鹏摄 本报记者 姚雪青文: photo by, text by; a credit, no byline
            if gm and not (gm.group("byline") or gm.group("byline2")).endswith("摄"):
                body = gm.group("body") or gm.group("body2")
                pieces.append(("T", (body, False), blank if first else False))
                pieces.append(("B", _byline_piece(gm.group("byline") or gm.group("byline2"), glued=True), False))
            else:
                pair = (_HEADLINE_PAIR_RE.match(rest)
                        if pos == 0 and ("  " in rest or "\t" in rest or "\u3000\u3000" in rest) else None)
                if pair and not _ends_sentence(pair.group(1)) and not _ends_sentence(pair.group(2)):
                    # two headlines PDF extraction put on one line: two lines, the second apart
                    pieces.append(("T", (pair.group(1), False), blank))
                    pieces.append(("T", (pair.group(2), False, True), True))
                else:
                    pieces.append(("T", (rest, False), blank if first else False))
        blank = False
    return facts, pieces


def items_of(text: str) -> tuple[_PageFacts, list[Item], int]:
    """Pass 1: what the page says of itself, its items, and the column width used."""
    facts, pieces = _explode(text.split("\n"))
    # each text piece compacted and measured once (the widths of other pieces are never read)
    is_text = [p[0] == "T" for p in pieces]
    compacted = [_compact(p[1][0]) if t else "" for p, t in zip(pieces, is_text)]  # type: ignore[index]
    chars, lengths = _code_points(compacted)
    widths_array = _widths(chars, lengths)
    widths = widths_array.tolist()
    line_facts = _LineFacts.of(compacted, chars, lengths)
    width = _estimate_width(widths_array[np.array(is_text, dtype=bool)])

    items: list[Item] = []
    buf: list[_Line] = []

    def flush_text(end: int) -> None:
        """Turn a run of text lines (no byline/marker between them), the pieces before piece
        ``end``, into P and S items."""
        if not buf:
            return
        groups = _group_lines(buf, width, line_facts[end - len(buf) : end])
        for kind, lines in groups:
            text = _join([ln.text for ln in lines])
            blank = lines[0].blank_before
            if kind == "P" and "版" in text and MARKER_RE.search(text):
                # a marker the column wrapped over two lines: （下转第 5 / 版）
                pos = 0
                for m in MARKER_RE.finditer(text):
                    before = text[pos : m.start()].strip()
                    if before:
                        items.append(Item(kind="P", text=before, blank_before=blank))
                        blank = False
                    mk, page = _marker(m)
                    items.append(Item(kind="M", marker=mk, page=page, glued=bool(before), blank_before=blank))
                    blank = False
                    pos = m.end()
                text = text[pos:].strip()
                if not text:
                    continue
            it = Item(kind=kind, text=text, blank_before=blank)
            if kind == "S":
                it.long = any(ln.n > width + 2 for ln in lines)
                it.paired = lines[0].paired
            items.append(it)
        buf.clear()

    for i, (kind, payload, blank) in enumerate(pieces):
        if kind == "T":
            # (text, glued before a marker), or (text, glued before a marker, True) if paired
            glued_before_marker, paired = payload[1], len(payload) == 3  # type: ignore[arg-type]
            ctext = compacted[i]
            ln = _Line(ctext, widths[i], blank, ctext[:1] in BULLETS)
            if paired:  # (set apart: a keyword argument slows every line's construction)
                ln.paired = True
            # text glued before a marker ends there (a headline glued to （上接…）, or a body
            # line ending in （下转…）); text right after a marker starts afresh
            if i > 0 and pieces[i - 1][0] == "M" and pieces[i - 1][1][2]:  # type: ignore[index]
                ln.force_break_before = True
            if glued_before_marker:
                ln.force_break_after = pieces[i + 1][1][0]  # type: ignore[index]
            if ctext.startswith("版式设计") and DESIGN_CREDIT_RE.match(ctext):
                ln.force_break_before = True  # the credit starts a line of its own
            buf.append(ln)
            continue
        flush_text(i)
        if kind == "B":
            names, line, glued = payload  # type: ignore[misc]
            # glued: cut from the end of a line of text, or right under a paragraph
            items.append(Item(kind="B", names=list(names), text=line, blank_before=blank,
                              glued=glued or (bool(items) and items[-1].kind == "P" and not blank)))
        else:
            mk, page, glued = payload  # type: ignore[misc]
            items.append(Item(kind="M", marker=mk, page=page, glued=glued, blank_before=blank))
    flush_text(len(pieces))
    for a, b in zip(items, items[1:], strict=False):  # a gap after an item is a gap before the next
        a.blank_after = b.blank_before
    return facts, items, width


_LATIN_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def _join(parts: list[str]) -> str:
    """Join the lines of a paragraph: a space only between two Latin letters (a wrapped word
    gap), nothing between anything else. (Lines hold no newline.)"""
    out: list[str] = []
    last = ""  # the last character joined so far
    for p in parts:
        if last in _LATIN_LETTERS and p[:1] in _LATIN_LETTERS:
            out.append(" ")
        out.append(p)
        last = p[-1:] or last
    return "".join(out)


# what never stands alone, whatever its neighbours: a labelled field, a clause, a wire lead, a
# closing note, a date; the five patterns in one, tried once on a line
_NEVER_STANDALONE_RE = re.compile("|".join(f"(?:{p.pattern})" for p in (
    _FIELD_LINE_RE, CLAUSE_RE, WIRE_START_RE, SIGNATURE_RE, _DATE_ONLY)))
# two or more short bullet points on one line, none a sentence: the deck under a headline
_DECK_RE = re.compile(rf"^(?:[{BULLETS}][^{BULLETS}。；！？!?;]{{2,16}}){{2,4}}$")


def _group_lines(lines: list[_Line], width: int, facts: _LineFacts) -> list[tuple[str, list[_Line]]]:
    """Join one run of text lines into paragraphs (``P``) and standalone lines (``S``), given
    the lines' :class:`_LineFacts`."""
    n = len(lines)
    # what each line's text says, read once (the tests below ask about a line up to three times:
    # as the line, as the next line, as the line after)
    texts = [ln.text for ln in lines]
    ends, dateline, paren, caption = facts.ends, facts.dateline, facts.paren, facts.caption
    hanging, marks_only = facts.hanging, facts.marks_only
    credit, photo_marked = facts.credit, facts.photo_marked
    # a credit the column wrapped: 张梓望 李秀婷 黄锦辉摄影报 / 道（影像中国）
    credit_head = [photo_marked[k] and k + 1 < n and not credit[k] and not lines[k + 1].blank_before
                   and len(texts[k + 1]) <= 12 and ("摄" in t or "供" in t)
                   and PHOTO_CREDIT_RE.search(t + texts[k + 1]) is not None
                   for k, t in enumerate(texts)]
    # a line of closing marks only (”, ）, ”。): what the column wrapped of the line above, and
    # it ends a sentence when the two together do (…送到家中。 / ”)
    for k in range(1, n):
        if marks_only[k]:
            ends[k] = _ends_sentence(texts[k - 1] + texts[k])
    standalone_memo: list[bool | None] = [None] * n

    def indent_like(k: int) -> bool:
        return width - 3 <= lines[k].n <= width - 2

    def full(k: int, first: bool = False) -> bool:
        # the first line of a paragraph is full two characters early: its indent was lost
        # and a line ending in punctuation may stop one short of the edge or hang past it
        slack = 1 if hanging[k] else 0
        return lines[k].n >= (width - 3 if first else width - 1) - slack

    def starts_para(k: int) -> bool:
        """Does line ``k`` look like the first line of a paragraph (or is there none)?"""
        if k >= n:
            return True
        ln = lines[k]
        return (
            ln.force_break_before
            or (indent_like(k) and not ends[k])  # else: a paragraph's last line
            or ln.bullet
            or dateline[k]
            or (ln.blank_before and not full(k))
        )

    def standalone(k: int) -> bool:
        """Line ``k`` stands alone: a headline, kicker, subtitle or subheading."""
        got = standalone_memo[k]
        if got is None:
            got = standalone_memo[k] = _standalone(k)
        return got

    def _standalone(k: int) -> bool:
        ln = lines[k]
        text = ln.text
        nxt = lines[k + 1] if k + 1 < n else None
        if ln.bullet and _DECK_RE.match(text) and (ln.blank_before or k == 0) and (nxt is None or nxt.blank_before):
            return True  # a deck of bullet points under a headline: ●及早惠及重点企业 ●全力支持复工复产
        if (ln.bullet or text[-1:] in "，、；," or marks_only[k] or dateline[k] or credit_head[k] or text in BOX_LABELS
                or _NEVER_STANDALONE_RE.match(text)
                or (paren[k] and not _YEAR.search(text))
                or (text.startswith(("（", "(")) and not text.endswith(("）", ")")))
                or _credit_form(text) or credit[k]):
            return False
        starts = ln.blank_before or ln.force_break_before or k == 0
        isolated = starts and (nxt is None or nxt.blank_before or nxt.force_break_before)
        after = lines[k + 2] if k + 2 < n else None
        if (isolated and indent_like(k) and nxt is not None and width - 1 <= nxt.n <= width + 1
                and not nxt.force_break_before and not dateline[k + 1]
                and not _COLUMN_TAG.search(text) and after is not None and not after.blank_before):
            # a paragraph's first line, a column break, then the full lines of that paragraph
            isolated = False
        if isolated and ln.n > width + 2 and not paren[k]:
            return True  # wider than the column, between gaps: set across columns, a heading
        if ends[k]:
            # only an exclamation or question standing between gaps: “我们一定会胜利!”
            t = text.rstrip(CLOSERS)
            return isolated and t[-1:] in "！？!?" and ln.n < width - 1
        return (
            isolated
            or ln.force_break_after == "from"
            or ln.n > width + 2
            or (ln.n <= width - 2 and starts_para(k + 1) and (nxt is None or not full(k + 1)))
            or (ln.n <= width - 4 and ln.blank_before)
        )

    def heading_tail(k: int) -> bool:
        """Line ``k`` is the second line of a heading wrapped over two lines."""
        ln = lines[k]
        if ln.text in BOX_LABELS or WIRE_RE.match(ln.text) or "（记者" in ln.text or paren[k]:
            return False
        return (not ln.blank_before and not ln.force_break_before and ln.n < width - 1
                and not ends[k] and ln.text[-1:] not in "，、：:；,"
                and not ln.text.startswith("——") and not ln.bullet)

    groups: list[tuple[str, list[_Line]]] = []
    cur: list[_Line] = []
    i = 0
    while i < n:
        ln = lines[i]
        if not cur and standalone(i):
            head = [ln]
            j = i + 1
            # a heading wrapped over two short lines ("扎实推进党的建设全域 / 提升、全面提质")
            while (j < n and ln.n <= width + 2 and not ln.text.startswith("——")
                   and not head[-1].force_break_after and heading_tail(j)
                   and starts_para(j + 1)):
                head.append(lines[j])
                j += 1
            groups.append(("S", head))
            i = j
            continue
        cur.append(ln)
        nxt = lines[i + 1] if i + 1 < n else None
        first = len(cur) == 1
        if nxt is None or ln.force_break_after or nxt.force_break_before or nxt.bullet:
            end = True
        elif marks_only[i + 1] and not nxt.blank_before:
            end = False  # the line's closing marks, wrapped onto the next line
        elif paren[i + 1] or (paren[i] and first):
            end = True  # a note in parentheses stands as its own paragraph: （执笔：王公龙）
        elif (caption[i + 1] or (credit[i] and (not full(i, first) or nxt.blank_before or starts_para(i + 1)))
              or (credit[i + 1] and nxt.n < width - 2)):
            end = True  # a photo caption or its credit stands apart from the text
        elif cur[0].bullet and not ends[i] and not full(i, first):
            end = True  # a bullet point ends at its short last line
        elif ends[i]:
            end = not full(i, first) or starts_para(i + 1) or standalone(i + 1)
        elif dateline[i + 1] and nxt.blank_before:
            end = True  # a gap, then a dateline (本报电 …): a brief's title run in above its lead
        elif ln.text.endswith(("）", ")")) and cur[0].text.startswith(("（", "(")):
            end = True  # a parenthesised note closes its paragraph: （作者单位：…）
        else:
            # an unfinished short line, a gap, then something that starts afresh; or, with no
            # gap, a line well short of the edge and then a line that lost its indent (a lead
            # that ends without punctuation: "…着力提高政法工作现代 / 化水平 / 不久前，…")
            end = not full(i, first) and (
                (nxt.blank_before and (starts_para(i + 1) or standalone(i + 1)))
                or dateline[i + 1]
                or (ln.n <= width - 4 and indent_like(i + 1) and not ends[i + 1]
                    and not nxt.blank_before and ln.text.count("（") <= ln.text.count("）")))
        if end:
            groups.append(("P", cur))
            cur = []
        i += 1
    if cur:
        groups.append(("P", cur))
    return groups


# ---------------------------------------------------------------------------------------------
# pass 2: items -> articles


_MAX_CELLS = 1 << 22  # booleans of one block of rows when the bit masks are built: a page's rows
# and shared bigrams at once, up to 4 MB; a larger page (hundreds of kilobytes) goes by blocks


class _Bigrams:
    """The character bigrams of a page's paragraphs and standalone lines (bylines and markers
    hold none).

    A text's bigrams are the pairs of neighbours among its Chinese characters (U+3400-U+9FFF),
    Latin letters and digits once everything else (punctuation, spaces) is dropped; a text with
    one such character has that character.

    Only the sizes of unions and intersections of items' bigrams matter, and most bigrams of a
    page are held by one item only: they can be counted, never shared. So each bigram two items
    or more hold is a bit, item ``k``'s bits are the integer ``masks[k]``, and ``lone[k]``
    counts the bigrams it alone holds: unions are ORs of masks (their sizes add the lone counts,
    :meth:`union`), intersections ANDs. ``paras[b]`` is how many paragraphs hold bit ``b``'s
    bigram, ``in_head[b]`` whether a standalone line does. The whole page is read in one pass
    over its code points (numpy)."""

    def __init__(self, items: list[Item]) -> None:
        texts = [it.text if it.kind in ("P", "S") else "" for it in items]
        n = len(texts)
        chars, lengths = _code_points(texts)  # (a lone surrogate: no gram)
        owner = np.repeat(np.arange(n), lengths)
        folded = chars | 32  # A-Z -> a-z; nothing else lands in a-z
        keep = (((chars >= 0x3400) & (chars <= 0x9FFF)) | ((chars >= 0x30) & (chars <= 0x39))
                | ((folded >= 0x61) & (folded <= 0x7A)))
        chars, owner = chars[keep], owner[keep]
        # every kept code point fits in 16 bits: a pair is one 32-bit key, first character low;
        # a lone character is its code point, below any pair's key (a pair's second is >= 0x30)
        pair = owner[:-1] == owner[1:]
        keys = (chars[:-1] | (chars[1:] << np.uint32(16)))[pair]
        rows = owner[:-1][pair]
        single = np.flatnonzero(np.bincount(owner, minlength=n) == 1)
        if len(single):
            keys = np.concatenate([keys, chars[np.searchsorted(owner, single)]])
            rows = np.concatenate([rows, single])
        # the keys sorted by their two 16-bit halves (numpy sorts those by radix, some three times
        # faster than a comparison sort); the sort is stable and every key's entries come in item
        # order, so an item's repeats of a bigram end up side by side
        order = np.lexsort(((keys & 0xFFFF).astype(np.uint16), (keys >> 16).astype(np.uint16)))
        keys, rows = keys[order], rows[order]
        new_key = np.ones(len(keys), dtype=bool)
        new_key[1:] = keys[1:] != keys[:-1]
        first = new_key.copy()  # each (item, bigram) once
        first[1:] |= rows[1:] != rows[:-1]
        gram, rows = (np.cumsum(new_key) - 1)[first], rows[first]
        holders = np.bincount(gram)  # items holding each bigram
        held = holders >= 2
        shared = held[gram]
        self.lone: list[int] = np.bincount(rows[~shared], minlength=n).tolist()
        bit = (np.cumsum(held) - 1)[gram[shared]]
        rows, n_bits = rows[shared], int(held.sum())
        kinds = np.frombuffer("".join([it.kind for it in items]).encode("ascii"), dtype=np.uint8)  # one letter each
        paras, heads = kinds == ord("P"), kinds == ord("S")
        self.paras = np.bincount(bit[paras[rows]], minlength=n_bits)
        self.in_head = np.bincount(bit[heads[rows]], minlength=n_bits) > 0
        self.masks: list[int] = []
        step = max(1, _MAX_CELLS // max(1, n_bits))
        for lo in range(0, n, step):
            hi = min(n, lo + step)
            part = slice(None) if hi - lo == n else (rows >= lo) & (rows < hi)
            block = np.zeros((hi - lo, n_bits), dtype=bool)
            block[rows[part] - lo, bit[part]] = True
            self.masks += _row_masks(block)

    def union(self, ks: Iterable[int]) -> tuple[int, int]:
        """The bigrams of items ``ks`` together: their bits, and how many bigrams they are."""
        mask = lone = 0
        for k in ks:
            mask |= self.masks[k]
            lone += self.lone[k]
        return mask, mask.bit_count() + lone


def _row_masks(matrix: np.ndarray) -> list[int]:
    """Each row of a boolean matrix as an integer bit mask (column c is bit c)."""
    return [int.from_bytes(row, "little") for row in np.packbits(matrix, axis=1, bitorder="little")]


def _overlap(head: tuple[int, int], body: int) -> float:
    """Share of a headline's bigrams (its bits and how many bigrams it has) the body's bits
    repeat."""
    bits, size = head
    if not size:
        return 0.0
    return (bits & body).bit_count() / size


PHOTO_STORY_CHARS = 400  # text shorter than this beside a photo credit is the photo's story
W_LINE = 1.5          # cost of each headline line: it must earn its place by echo or looks
COMMON_SHARE = 0.15  # a bigram in this share of a page's paragraphs is common wording
# an article spans at most MAX_ITEMS items (paragraphs, headings, bylines), and at most MAX_CUTS
# of the places where an article may start or end: a regulation given in full runs to 170
# paragraphs with few such places, a page of loose lines has one at every line
MAX_ITEMS = 400
MAX_CUTS = 100
W_ARTICLE = 1.5      # cost of one more article
W_CONTENT = 3.0      # reward for headline wording repeated in the body
W_NOHEAD = 6.0       # an article with neither headline nor （上接…） marker
W_BOTHHEADS = 6.0    # headline lines both before and after one body
W_BYLINE_MID = 4.0   # a byline inside a body
W_GLUED_AWAY = 8.0    # a byline glued to the last line of a body, parted from that body
W_BYLINE_ABOVE = 2.0   # a byline above (a line of) its article's headline
W_BYLINE_SECTION = 1.0  # a byline inside a body right under a heading: a roundup's section
W_MARKER_MID = 4.0   # a marker inside a body
W_DATELINE_MID = 5.0  # 本报讯 not opening its article
W_WIRE_MID = 3.0      # another dateline (本报北京2月10日电, 新华社…电) not opening its article
W_HEADLIKE = 1.0      # per unit of log-odds that the headline lines are headlines
W_HEADLIKE_SUB = 0.5  # per unit of log-odds that a subheading is a headline
W_TOPIC = 40.0       # per unit of missing shared wording across a subheading
TOPIC_SHARED = 0.15  # share of character bigrams two parts of one article usually have in common
W_SIGNATURE_MID = 3.0  # a closing note (（作者…）, （本报记者…）) inside a body
W_BYLINE_TWICE = 4.0  # bylines both before and after one body: one of them is a neighbour's
W_ANNOUNCES_END = 10.0  # a body whose last paragraph announces what follows (全文如下。)
W_GAP_MID = 3.0      # a blank line between two paragraphs of a body, on a page that sets none there
W_OPEN_END = 4.0     # a body whose last paragraph stops mid-phrase (武汉大学人民医院重症医学科副主任余追)
_OPEN_END_RE = re.compile(rf"[{_CJK}A-Za-z0-9]$")
# the signature closing an editor's note over a roundup: ——编 者
EDITOR_NOTE_RE = re.compile(r"^——\s*编\s*者\s*$")
# a paragraph announcing what follows: 全文如下。 / 要求如下： (three characters at the end: it is
# searched in the last four, a final newline included, not tried at every position of the text)
_ANNOUNCES_RE = re.compile(r"(?:如下|全文|摘要)[。：:]$")


def _ends_in_photo_credit(text: str) -> bool:
    """Does ``text`` end in a photo credit (…摄, …供图, 新华社发)? Every form of
    :data:`PHOTO_CREDIT_RE` holds 摄, 供图 or 社发: text with none of them is not searched."""
    return ("摄" in text or "供图" in text or "社发" in text) and PHOTO_CREDIT_RE.search(text) is not None


@functools.lru_cache(maxsize=4096)
def _photo_credit(text: str) -> bool:
    """:func:`_ends_in_photo_credit` of a paragraph, asked of it many times (its features, its
    cuts, its captions): the answer is kept for the last few thousand texts (a page has a few
    hundred items)."""
    return _ends_in_photo_credit(text)


@functools.lru_cache(maxsize=4096)
def _is_credit(text: str) -> bool:
    """A credit: of a photo (…摄, …供图), the design (版式设计：…), an editor (…整理)."""
    return _credit_form(text) or _photo_credit(text)


@functools.lru_cache(maxsize=4096)
def _open_end(text: str) -> bool:
    """A paragraph that stops mid-phrase, unlike the last paragraph of nearly every article: no
    closing punctuation, and no credit (摄, 供图) or note in brackets either. (The end-anchored
    pattern of one character is searched in the last two characters only: it cannot match
    earlier, and a search of the whole text tries every position.) Asked of a paragraph by the
    cuts and again by the scores: the answer is kept for the last few thousand texts."""
    return (_OPEN_END_RE.search(text.rstrip(CLOSERS)[-2:]) is not None
            and not text.startswith(("（", "(")) and not _is_signature(text) and not _is_credit(text))

_COLUMN_TAG = re.compile(r"[（(][^（）()]{1,12}[）)]$")


def headline_features(items: list[Item], k: int, gaps_common: bool,
                      bigrams: _Bigrams | None = None) -> dict[str, float]:
    """What tells a headline line from a subheading: the features of standalone line ``k``.

    ``bigrams`` (:class:`_Bigrams` of ``items``) saves computing them again for each line.
    """
    if bigrams is None:
        # the topic windows stop at a byline or marker: the run of text around k is enough
        lo = next((x + 1 for x in range(k - 1, -1, -1) if items[x].kind not in ("P", "S")), 0)
        hi = next((x for x in range(k + 1, len(items)) if items[x].kind not in ("P", "S")), len(items))
        topic = _topic_features(items[lo:hi], k - lo, _Bigrams(items[lo:hi]))
    else:
        topic = _topic_features(items, k, bigrams)
    it = items[k]
    n = len(it.text.replace(" ", ""))
    prev = items[k - 1] if k > 0 else None
    nxt = items[k + 1] if k + 1 < len(items) else None
    both = it.blank_before and it.blank_after
    return {
        "long_line": float(it.long),
        "len_ge_16": float(n >= 16),
        "len_12_15": float(12 <= n < 16),
        "len_le_7": float(n <= 7),
        "column_tag": float(bool(_COLUMN_TAG.search(it.text))),
        "subtitle_dash": float(it.text.startswith("——")),
        "label_end": float(it.text.endswith(("——", "：", ":"))),
        "inner_space": float(" " in it.text.strip()),
        "gaps_both_sparse_page": float(both and not gaps_common),
        "gaps_both_spaced_page": float(both and gaps_common),
        "no_gap_before": float(not it.blank_before),
        "page_start": float(prev is None),
        "page_end": float(nxt is None),
        "prev_standalone": float(prev is not None and prev.kind == "S"),
        "next_standalone": float(nxt is not None and nxt.kind == "S"),
        "prev_byline": float(prev is not None and prev.kind == "B"),
        # headline / byline / this line: a first section's heading or a deck, seldom a headline
        "prev_byline_under_standalone": float(prev is not None and prev.kind == "B" and k >= 2
                                              and items[k - 2].kind == "S"),
        "next_byline": float(nxt is not None and nxt.kind == "B"),
        "next_section_byline": float(_section_byline(items, k + 1)),
        "prev_marker": float(prev is not None and prev.kind == "M"),
        "prev_signature": float(prev is not None and prev.kind == "P" and bool(_is_signature(prev.text))),
        "prev_credit": float(prev is not None and prev.kind == "P" and _is_credit(prev.text)),
        "prev_unfinished": float(prev is not None and prev.kind == "P" and not _ends_sentence(prev.text)),
        "next_dateline": float(nxt is not None and nxt.kind == "P" and bool(DATELINE_RE.match(nxt.text))),
        "next_box_label": float(nxt is not None and nxt.text in BOX_LABELS),
        "numbered_heading": float(bool(NUMBERED_HEADING_RE.match(it.text))),
        "photo_after": float(_photo_after(items, k)),
        **topic,
    }


def _section_byline(items: list[Item], k: int) -> bool:
    """Is item ``k`` a byline the way a roundup's section is signed: on a line of its own, without
    ■ or □ (本报记者 靳 博), over text that opens with no dateline or wire lead? An article's own
    byline is as often ■记者 X or □ X, and a report's lead as often 本报北京2月5日电."""
    if k + 1 >= len(items):
        return False
    it, after = items[k], items[k + 1]
    return (it.kind == "B" and not it.glued and it.text[:1] not in "■□" and after.kind == "P"
            and not DATELINE_RE.match(after.text) and not WIRE_START_RE.match(after.text))


def _photo_after(items: list[Item], k: int) -> bool:
    """Does a photo credit close the text under standalone line ``k`` within three paragraphs
    (a photo story's headline), before any other standalone line?"""
    for j in range(k + 1, min(len(items), k + 4)):
        it = items[j]
        if it.kind != "P":
            return False
        if _photo_credit(it.text):
            return True
    return False


def _window(items: list[Item], k: int, step: int, bigrams: _Bigrams, size: int = 3) -> tuple[int, int]:
    """Character bigrams of up to ``size`` paragraphs before (step -1) or after (step 1) item k,
    stopping at a byline or marker (they bound an article): :meth:`_Bigrams.union`."""
    picked = []
    j = k + step
    while 0 <= j < len(items) and len(picked) < size and items[j].kind in ("P", "S"):
        if items[j].kind == "P":
            picked.append(j)
        j += step
    return bigrams.union(picked)


def _topic_features(items: list[Item], k: int, bigrams: _Bigrams) -> dict[str, float]:
    """Does the text around standalone line ``k`` change topic, and which side does it echo?"""
    (before, n_before), (after, n_after) = _window(items, k, -1, bigrams), _window(items, k, 1, bigrams)
    head = bigrams.union((k,))
    shared = (before & after).bit_count() / min(n_before, n_after) if n_before and n_after else 0.0
    return {
        "topic_continues": shared,
        "topic_shift": float(bool(n_before and n_after) and shared < 0.1),
        "echo_after": _overlap(head, after),
        "echo_before": _overlap(head, before),
    }


# Log-odds weights of "headline rather than subheading" for the features above: a logistic
# regression on the standalone lines of the dev pages and of three random layouts of them
# (`python -m tasks.fit_headlines ../shared/corpus/dev /tmp/relayout1 /tmp/relayout2
# /tmp/relayout3`, the layouts written by `python -m tasks.relayout … --seed 1|2|3`)
HEADLINE_BIAS = -2.257
HEADLINE_WEIGHTS: dict[str, float] = {
    "column_tag": 3.512,
    "echo_after": 0.303,
    "echo_before": 1.487,
    "gaps_both_spaced_page": -0.270,
    "gaps_both_sparse_page": 3.578,
    "inner_space": -0.327,
    "label_end": 0.024,
    "len_12_15": 0.481,
    "len_ge_16": 1.067,
    "len_le_7": -0.522,
    "long_line": 3.232,
    "next_box_label": 0.613,
    "next_byline": 3.229,
    "next_dateline": 3.573,
    "next_section_byline": -3.596,
    "next_standalone": 2.250,
    "no_gap_before": -3.993,
    "numbered_heading": -1.528,
    "page_end": 2.618,
    "page_start": 2.484,
    "photo_after": 1.812,
    "prev_byline": 3.181,
    "prev_byline_under_standalone": -1.080,
    "prev_credit": 1.758,
    "prev_marker": 0.693,
    "prev_signature": 1.811,
    "prev_standalone": 1.352,
    "prev_unfinished": -0.472,
    "subtitle_dash": 0.549,
    "topic_continues": -3.674,
    "topic_shift": -0.164,
}


def _headlike(items: list[Item], k: int, gaps_common: bool = False,
              bigrams: _Bigrams | None = None) -> float:
    """Log-odds that standalone line ``k`` is a headline line rather than a subheading."""
    feats = headline_features(items, k, gaps_common, bigrams)
    return HEADLINE_BIAS + sum(HEADLINE_WEIGHTS.get(name, 0.0) * v for name, v in feats.items())


class _PageGrams:
    """Character bigrams of the page's paragraphs as bit masks (:class:`_Bigrams`), so the
    unions and intersections the segmentation asks for thousands of times are integer ORs and
    ANDs, and unions over a range of items are computed once.

    The segmentation only asks about ranges that start and end at its cuts, so paragraphs are
    taken a block at a time: the items between two consecutive cuts.

    Most bigrams of a page occur in one paragraph only and in no standalone line: they can never
    be shared by two parts of the page, only counted. The blocks' masks leave them out; each
    block keeps their number instead (:meth:`span_size` adds it back)."""

    def __init__(self, items: list[Item], bigrams: _Bigrams, cuts: list[int]) -> None:
        # wording most of the page shares (疫情, 防控 on a page about the epidemic) says nothing
        # about which article a line belongs to: leave it out (bigrams of one item are never common)
        common = bigrams.paras >= max(3, COMMON_SHARE * sum(it.kind == "P" for it in items))
        # bigrams that can be shared: of two paragraphs or more, or of a standalone line (and of
        # another item: a standalone line's own bigrams are only counted)
        shareable = ((bigrams.paras > 1) | bigrams.in_head) & ~common
        common_mask, shareable_mask = _row_masks(np.stack([common, shareable]))

        self.cut_no = {c: b for b, c in enumerate(cuts)}  # cut -> its block
        self.block: list[int] = []
        self.lone_before = [0]  # lone bigrams of the blocks before each block
        for lo, hi in zip(cuts, cuts[1:]):
            grams, size = bigrams.union(k for k in range(lo, hi) if items[k].kind == "P")
            shared = grams & shareable_mask
            self.block.append(shared)
            n_lone = size - (grams & common_mask).bit_count() - shared.bit_count()
            self.lone_before.append(self.lone_before[-1] + n_lone)
        # a standalone line's wording but the common: its bits, and how many bigrams
        self.head = [bigrams.masks[k] & ~common_mask if it.kind == "S" else 0 for k, it in enumerate(items)]
        self.head_size = [h.bit_count() + bigrams.lone[k] if it.kind == "S" else 0
                          for k, (it, h) in enumerate(zip(items, self.head, strict=True))]
        self._ranges: dict[tuple[int, int], int] = {}

    def span_size(self, lo: int, hi: int) -> tuple[int, int]:
        """:meth:`span` of the paragraphs ``lo..hi``, and how many bigrams they have."""
        if hi < lo:
            return 0, 0
        m = self.span(lo, hi)
        return m, m.bit_count() + self.lone_before[self.cut_no[hi + 1]] - self.lone_before[self.cut_no[lo]]

    def span(self, lo: int, hi: int) -> int:
        """Bigrams of the paragraphs ``lo..hi`` (inclusive; ``lo`` and ``hi + 1`` are cuts);
        0 when the range is empty."""
        if hi < lo:
            return 0
        lo, hi = self.cut_no[lo], self.cut_no[hi + 1] - 1  # now blocks
        m = self._ranges.get((lo, hi))
        if m is not None:
            return m
        x, m = hi - 1, 0  # extend the longest range from lo already known
        while x >= lo:
            known = self._ranges.get((lo, x))
            if known is not None:
                m = known
                break
            x -= 1
        for y in range(x + 1, hi + 1):
            m |= self.block[y]
            self._ranges[(lo, y)] = m
        return m


@dataclass
class _Span:
    head: list[int]
    body: list[int]
    tail: list[int]


def _split_span(items: list[Item], i: int, j: int) -> _Span | None:
    """Cut ``items[i:j]`` into head zone, body zone and tail zone; None if it has no paragraph."""
    ps = [k for k in range(i, j) if items[k].kind == "P"]
    if not ps:
        return None
    first, last = ps[0], ps[-1]
    return _Span(list(range(i, first)), list(range(first, last + 1)), list(range(last + 1, j)))


_NEG_INF = float("-inf")
_first = operator.itemgetter(0)
_ROUNDING = 1e-6  # far more than the rounding of any score, far less than any weight


class _Scorer:
    """The score of every candidate article ``items[i:j]`` of one page.

    A span cuts into a head zone ``[i, first)``, a body ``[first, last]`` from its first to its
    last paragraph, and a tail zone ``(last, j)``. The dynamic programme asks for nearly every
    pair of cuts, but the head zone depends only on ``i``, the tail zone only on ``j`` and the
    body only on ``(first, last)``, and these repeat: what each contributes is worked out once
    and kept. Contributions are kept as the sequence of amounts the score goes down by, applied
    in the order of the items, so every score is the same floating-point sum, term by term, as
    walking the items one by one.
    """

    def __init__(self, items: list[Item], grams: _PageGrams, headlike: list[float],
                 gap_start: list[bool] | None = None, cohesion: list[float] | None = None) -> None:
        n = len(items)
        self.gap_start = gap_start or [False] * n
        self.cohesion = cohesion or [0.0] * n
        self.grams = grams
        self.kind = [it.kind for it in items]
        self.is_from = [it.kind == "M" and it.marker == "from" for it in items]
        self.is_to = [it.kind == "M" and it.marker == "to" for it in items]
        self.glued_byline = [it.kind == "B" and it.glued for it in items]
        self.kicker_end = [it.text.endswith(("——", "：", ":")) for it in items]
        self.subtitle = [it.text.startswith("——") for it in items]
        self.head_gain = [W_HEADLIKE * h for h in headlike]
        self.sub_cost = [W_HEADLIKE_SUB * h for h in headlike]
        self.head_bits = grams.head_size
        # a paragraph's own penalty inside a body: a dateline (unless it opens the body; 本报讯
        # costs more than a wire dateline), or a closing note (unless it closes the body); the
        # two never meet (a note is in brackets)
        self.dateline = [(W_DATELINE_MID if it.text.startswith("本报讯") else W_WIRE_MID)
                         if it.kind == "P" and DATELINE_RE.match(it.text) else 0.0 for it in items]
        self.signature = [it.kind == "P" and _is_signature(it.text) for it in items]
        # a paragraph that stops mid-phrase, unlike the last paragraph of nearly every article:
        # no closing punctuation, and no credit (摄, 供图) or closing note either
        self.open_end = [it.kind == "P" and _open_end(it.text) for it in items]
        # an editor's note's signature (——编 者): the headings under it head a roundup's sections
        self.editor_note = [it.kind == "S" and EDITOR_NOTE_RE.match(it.text) is not None for it in items]
        # a paragraph announcing what follows (《规则》全文如下。) ends no article
        self.announces = [it.kind == "P" and _ANNOUNCES_RE.search(it.text[-4:]) is not None for it in items]
        # a byline inside a body: under a heading, and over text that is no wire lead, it opens
        # a section of a roundup (本报记者 X; a byline behind ■ or □ is an article's own)
        self.byline_cost = [
            W_BYLINE_SECTION if 0 < k and self.kind[k - 1] == "S" and _section_byline(items, k)
            else W_BYLINE_MID for k in range(n)]
        # body items that may carry a penalty: all but plain paragraphs
        self.special = [k for k in range(n)
                        if self.kind[k] != "P" or self.dateline[k] or self.signature[k] or self.gap_start[k]]
        # nearest paragraph at or after k (n if none), at or before k (-1 if none)
        self.next_p = [n] * (n + 1)
        for k in range(n - 1, -1, -1):
            self.next_p[k] = k if self.kind[k] == "P" else self.next_p[k + 1]
        self.prev_p = [-1] * n
        last = -1
        for k in range(n):
            if self.kind[k] == "P":
                last = k
            self.prev_p[k] = last
        # what a body [first, last] costs at least: bylines and markers, and each subheading's
        # looks (a bonus when it looks unlike a headline); summed from the page start
        self.bylines_before = [0]  # bylines among the items before k
        for k in range(n):
            self.bylines_before.append(self.bylines_before[-1] + (self.kind[k] == "B"))
        self.body_floor = [0.0]
        for k in range(n):
            kd = self.kind[k]
            cost = (self.byline_cost[k] if kd == "B" else W_MARKER_MID if kd == "M" and not self.is_from[k]
                    else self.sub_cost[k] if kd == "S" else 0.0)
            self.body_floor.append(self.body_floor[-1] + cost)
        self._leads: dict[int, tuple[tuple[int, ...], bool, tuple[float, ...]]] = {}
        self._tails: dict[int, tuple[tuple[int, ...], tuple[float, ...]]] = {}
        self._bodies: dict[tuple[int, int], tuple[int, tuple[float, ...]]] = {}
        self._groups: dict[tuple[int, ...], tuple[float, ...]] = {}
        self._heads_bound: dict[tuple[int, ...], float] = {}
        # what best_start reads of a start i, the first time it is asked (best[i] is settled by
        # then): the total before i plus i's part of the bound, which end part goes with it, the
        # total before i, i's first paragraph; None when nothing scores before i
        self._start_parts: dict[int, tuple[float, int, float, int] | None] = {}
        self._zone_cost: dict[tuple[float, ...], float] = {}  # the sum of a zone's costs

    def _lead(self, i: int) -> tuple[tuple[int, ...], bool, tuple[float, ...]]:
        """Head zone of a span from ``i``: its standalone lines, whether it opens with a
        （上接…） marker, and its penalties."""
        got = self._leads.get(i)
        if got is None:
            first = self.next_p[i]
            zone = range(i, first)
            head_s = tuple(k for k in zone if self.kind[k] == "S")
            starts_with_from = any(self.is_from[k] for k in zone) or (
                first < len(self.kind) and self.is_from[first])
            # a （下转…） marker ends the body before it; a byline glued to a body's last line
            # closes that body, and names that body's reporters, not this article's
            costs = tuple(W_MARKER_MID if self.is_to[k] else W_GLUED_AWAY
                          for k in zone if self.is_to[k] or self.glued_byline[k])
            if self.cohesion[i]:
                costs = (self.cohesion[i],) + costs
            # a byline above the headline is more often the last line of the article before
            if head_s:
                costs += tuple(W_BYLINE_ABOVE for k in zone
                               if self.kind[k] == "B" and not self.glued_byline[k] and k < head_s[-1])
            got = self._leads[i] = (head_s, starts_with_from, costs)
            self._zone_cost[costs] = sum(costs)
        return got

    def _tail(self, j: int) -> tuple[tuple[int, ...], tuple[float, ...]]:
        """Tail zone of a span ending at ``j``: its standalone lines and its penalties."""
        got = self._tails.get(j)
        if got is None:
            last = self.prev_p[j - 1]
            zone = range(last + 1, j)
            tail_s = tuple(k for k in zone if self.kind[k] == "S")
            costs = tuple(W_MARKER_MID for k in zone if self.is_from[k])
            # a byline between two headline lines after the body: the first is this article's
            # headline and the byline its own, the second the next article's headline
            if tail_s:
                costs += tuple(W_BYLINE_ABOVE for k in zone
                               if self.kind[k] == "B" and tail_s[0] < k < tail_s[-1])
            if last >= 0 and self.open_end[last]:
                costs += (W_OPEN_END,)
            elif last >= 0 and self.announces[last]:
                costs += (W_ANNOUNCES_END,)
            got = self._tails[j] = (tail_s, costs)
            self._zone_cost[costs] = sum(costs)
        return got

    def _group(self, heads: tuple[int, ...]) -> tuple[float, ...]:
        """Penalties of a headline group's shape."""
        got = self._groups.get(heads)
        if got is None:
            costs = []
            # a kicker that leads into its title ("国家卫健委发布会——", "张宏飞：") is never last
            if self.kicker_end[heads[-1]]:
                costs.append(W_BOTHHEADS)
            # a subtitle (——…) closes its headline group
            if any(self.subtitle[k] for k in heads[:-1]):
                costs.append(W_BOTHHEADS)
            # at most a kicker and a title, and a subtitle
            n_main = sum(not self.subtitle[k] for k in heads)
            if n_main > 2:
                costs.append(W_BOTHHEADS * (n_main - 2))
            got = self._groups[heads] = tuple(costs)
        return got

    def _body(self, first: int, last: int) -> tuple[int, tuple[float, ...]]:
        """Bigrams of the body ``[first, last]`` and its penalties, in item order."""
        got = self._bodies.get((first, last))
        if got is not None:
            return got
        kind, grams, special = self.kind, self.grams, self.special
        costs: list[float] = []
        roundup = False  # under an editor's note (——编 者): sections on one theme follow
        x = bisect.bisect_left(special, first)
        while x < len(special) and special[x] <= last:
            k = special[x]
            x += 1
            kd = kind[k]
            if kd == "B":
                costs.append(self.byline_cost[k])
            elif kd == "M":
                if not (self.is_from[k] and k == first):
                    costs.append(W_MARKER_MID)
            elif kd == "S":
                costs.append(self.sub_cost[k])  # a headline-looking line used as subheading
                if self.editor_note[k]:
                    roundup = True
                    continue
                # a subheading continues its article's topic; a change of topic marks a new article
                # (asked once for a heading of several lines: its lines stand at one boundary)
                # (not under a paragraph announcing it: 《规则》全文如下。 / 纪检监察机关处理检举控告工作规则)
                if kind[k - 1] != "S" and not self.announces[k - 1] and not roundup:
                    before, n_before = grams.span_size(first, k - 1)
                    after, n_after = grams.span_size(k + 1, last)
                    if n_before and n_after:
                        shared = (before & after).bit_count() / min(n_before, n_after)
                        costs.append(W_TOPIC * max(0.0, TOPIC_SHARED - shared))
            elif kd == "P" and k != first and self.dateline[k]:
                costs.append(self.dateline[k])
            elif kd == "P" and k != last and self.signature[k]:
                costs.append(W_SIGNATURE_MID)
            if kd == "P" and k != first and self.gap_start[k]:
                costs.append(W_GAP_MID)
        got = self._bodies[(first, last)] = (grams.span(first, last), tuple(costs))
        return got

    # An upper bound of score(i, j) (up to rounding): every headline line fully echoed, no topic
    # change, no dateline, closing note or blank line out of place, and each body item at its least cost.
    # It is a sum of a part of i, a part of j, and a part of j chosen by i's kind of head zone.

    def _head_bound(self, heads: tuple[int, ...]) -> float:
        """What a headline group can add at most: every line fully echoed."""
        got = self._heads_bound.get(heads)
        if got is None:
            got = self._heads_bound[heads] = (sum(W_CONTENT + self.head_gain[k] - W_LINE for k in heads)
                                              - sum(self._group(heads)))
        return got

    def _lead_bound(self, i: int) -> tuple[float, int]:
        """The start's part of the bound, and which of the end's parts goes with it: 0 with a
        headline in the head zone, 1 without but opening with （上接…）, 2 with neither. (Asked
        once per start: :meth:`best_start` keeps what it reads of a start, ``_start_parts``.)"""
        head_s, starts_with_from, costs = self._lead(i)
        part = self.body_floor[self.next_p[i]] - self._zone_cost[costs]
        if head_s:
            part += self._head_bound(head_s) - (W_BOTHHEADS if starts_with_from else 0.0)
        return part, 0 if head_s else 1 if starts_with_from else 2

    def _tail_bound(self, j: int) -> tuple[float, tuple[float, float, float]]:
        """The end's part of the bound, and its parts for each kind of start."""
        tail_s, costs = self._tail(j)
        part = -W_ARTICLE - self._zone_cost[costs] - self.body_floor[self.prev_p[j - 1] + 1]
        if tail_s:
            heads = self._head_bound(tail_s)
            return part, (-W_BOTHHEADS, heads, heads)
        return part, (0.0, 0.0, -W_NOHEAD)

    def _start_part(self, i: int, best: dict[int, tuple[float, int]]) -> tuple[float, int, float, int] | None:
        """What :meth:`best_start` reads of start ``i`` (``_start_parts``)."""
        prior = best.get(i)
        if prior is None or prior[0] == _NEG_INF:
            return None
        start_part, kind = self._lead_bound(i)
        return prior[0] + start_part, kind, prior[0], self.next_p[i]

    def best_start(self, j: int, starts: list[int], best: dict[int, tuple[float, int]]) -> tuple[float, int]:
        """The best way to end an article at ``j``: the highest ``best[i] + score(i, j)`` over
        the ``starts`` ``i`` (ties: the earliest ``i``), as ``(total, i)``; ``(-inf, -1)`` if
        none scores.

        Starts are tried from the highest upper bound down: once a start's bound cannot beat the
        best total found so far, no later start's can, and none of them is scored. (A start not
        scored cannot win or tie, so the order changes nothing but the work: the best total,
        ties broken toward the earliest start, is the same whatever order the starts are tried in.)
        ``best[i]`` of a start is read once, the first time it is asked about: it must be final by then."""
        end_part, cross = self._tail_bound(j)
        bounds: list[tuple[float, int, float]] = []  # (bound, start, total before the start)
        parts = self._start_parts
        for i in starts:
            got = parts[i] if i in parts else parts.setdefault(i, self._start_part(i, best))
            if got is None or got[3] >= j:
                continue  # nothing before i, or no paragraph in [i, j): no article
            bounds.append((got[0] + end_part + cross[got[1]], i, got[2]))
        bounds.sort(key=_first, reverse=True)
        cand = (_NEG_INF, -1)
        for bound, i, before in bounds:
            if bound + _ROUNDING < cand[0]:
                break  # cannot win, not even tie: nor can any start after it
            s = before + self.score(i, j)
            if s > cand[0] or (s == cand[0] and s != _NEG_INF and i < cand[1]):
                cand = (s, i)
        return cand

    def score(self, i: int, j: int) -> float:
        """The score of the article ``items[i:j]``; -inf when it has no paragraph."""
        first = self.next_p[i]
        if first >= j:  # no paragraph: no article
            return _NEG_INF
        head_s, starts_with_from, lead_costs = self._lead(i)
        tail_s, tail_costs = self._tail(j)
        body_grams, body_costs = self._body(first, self.prev_p[j - 1])
        score = -W_ARTICLE
        bb = self.bylines_before
        if bb[first] > bb[i] and bb[j] > bb[self.prev_p[j - 1] + 1]:
            score -= W_BYLINE_TWICE
        if head_s and tail_s:
            score -= W_BOTHHEADS
        heads = head_s or tail_s
        if starts_with_from and (head_s or tail_s):
            score -= W_BOTHHEADS  # a continued article carries no headline of its own
        if heads:
            # each headline line goes where its wording is echoed and it looks most like a headline
            head, bits, gain = self.grams.head, self.head_bits, self.head_gain
            score += sum(W_CONTENT * ((head[k] & body_grams).bit_count() / bits[k] if bits[k] else 0.0)
                         + gain[k] - W_LINE for k in heads)
            for cost in self._group(heads):
                score -= cost
        elif not starts_with_from:
            score -= W_NOHEAD
        for cost in body_costs:
            score -= cost
        for cost in lead_costs:
            score -= cost
        for cost in tail_costs:
            score -= cost
        return score


TOPIC_BREAK_WINDOW = 1  # paragraphs on each side
TOPIC_BREAK = 0.02  # at most this share of wording shared across a paragraph boundary: a new subject

# a cut between two paragraphs costs W_COHESION per unit of wording the COHESION_WINDOW paragraphs
# on each side share: of two places an article may start that nothing else tells apart, the one
# where the subject changes most
W_COHESION = 1.0
COHESION_WINDOW = 2


_BARE_NAME_NOTE = re.compile(r"^[（(](?!本报|据|作者)[\u4e00-\u9fff·]{2,4}(?<!电)[)）]$")


def _closes(text: str) -> bool:
    """A paragraph that closes an article: a closing note (（作者…）, （本报华沙电）) or a credit. A
    bare name in brackets (（许志峰）) is left out: it closes each brief of a briefs column too."""
    return (_is_signature(text) and not _BARE_NAME_NOTE.match(text)) or _is_credit(text)


def _paragraph_run(items: list[Item], ks: range) -> list[int]:
    """The items ``ks`` up to the first that is no paragraph."""
    run = []
    for k in ks:
        if items[k].kind != "P":
            break
        run.append(k)
    return run


def _shared_across(items: list[Item], k: int, bigrams: _Bigrams, window: int) -> float | None:
    """Share of wording the ``window`` paragraphs before item ``k`` and those from it have in
    common (of the smaller side); None when either side has no paragraph (or no bigram)."""
    before = _paragraph_run(items, range(k - 1, max(-1, k - 1 - window), -1))
    after = _paragraph_run(items, range(k, min(len(items), k + window)))
    (before_bits, n_before), (after_bits, n_after) = bigrams.union(before), bigrams.union(after)
    if not n_before or not n_after:
        return None
    return (before_bits & after_bits).bit_count() / min(n_before, n_after)


def _topic_break(items: list[Item], k: int, bigrams: _Bigrams) -> bool:
    """Do the paragraphs just before item ``k`` and those from it (TOPIC_BREAK_WINDOW each) share
    (almost) no wording?"""
    text = items[k].text
    if _is_signature(text) or _is_credit(text) or _open_end(text):
        return False  # a closing note or credit closes an article; a heading-like line heads a section
    shared = _shared_across(items, k, bigrams, TOPIC_BREAK_WINDOW)
    return shared is not None and shared <= TOPIC_BREAK


PHOTO_STORY_PARAS = 2  # paragraphs of a photo story's text above its credit, at most


def _segment(items: list[Item]) -> list[tuple[int, int]]:
    """Choose article spans ``[i, j)`` over the items maximising the summed article score."""
    n = len(items)
    if n == 0:
        return []
    # articles may only start or end next to a standalone line, a byline, a marker or a dateline
    cuts = {0, n}
    for k, it in enumerate(items):
        if it.kind in ("S", "B", "M"):
            cuts.update((k, k + 1))
        elif it.kind == "P" and DATELINE_RE.match(it.text):
            cuts.add(k)
    bigrams = _Bigrams(items)
    # on pages whose paragraphs are separated by blank lines, a gap says little about a line;
    # on the others, a blank line between two whole paragraphs (a column break in mid-sentence
    # is mended already) sets blocks apart: an article may start there, and a body across one
    # costs (W_GAP_MID)
    paras = [it for it in items if it.kind == "P"]
    gaps_common = sum(it.blank_before for it in paras) > 0.5 * len(paras)
    gap_start = [not gaps_common and it.kind == "P" and it.blank_before and k > 0 and items[k - 1].kind == "P"
                 for k, it in enumerate(items)]
    cuts.update(k for k in range(n) if gap_start[k])
    # or between two paragraphs, since an article printed with its headline after its body may
    # start with neither headline, byline nor dateline: where the subject changes, after a
    # closing note or a photo credit, or before a wire lead without a date (据新华社电) or an
    # opening box label (核心阅读); each of these closes or opens an article whatever its
    # neighbours say
    for k in range(1, n):
        if items[k].kind == "P" and items[k - 1].kind == "P" and (
                _topic_break(items, k, bigrams) or _closes(items[k - 1].text)
                or WIRE_START_RE.match(items[k].text) or items[k].text in OPENING_LABELS):
            cuts.add(k)
    # or where a photo story may start: up to PHOTO_STORY_PARAS paragraphs above a photo credit
    for k, it in enumerate(items):
        if it.kind == "P" and _is_credit(it.text):
            for m in range(k - 1, max(0, k - 1 - PHOTO_STORY_PARAS), -1):
                if items[m].kind != "P" or items[m - 1].kind != "P":
                    break
                cuts.add(m)
    order = sorted(cuts)
    grams = _PageGrams(items, bigrams, order)
    headlike = [(_headlike(items, k, gaps_common, bigrams) if items[k].kind == "S" else 0.0)
                for k in range(n)]
    cohesion = [0.0] * n
    if W_COHESION:
        for k in order:
            if 0 < k < n and items[k].kind == "P" and items[k - 1].kind == "P":
                cohesion[k] = W_COHESION * (_shared_across(items, k, bigrams, COHESION_WINDOW) or 0.0)
    scorer = _Scorer(items, grams, headlike, gap_start, cohesion)
    best = {0: (0.0, -1)}
    for bi, b in enumerate(order[1:], start=1):
        # an article spans at most MAX_ITEMS items and MAX_CUTS cuts: keeps the work linear in
        # the number of cuts, not quadratic
        lo = max(bisect.bisect_left(order, b - MAX_ITEMS, 0, bi), bi - MAX_CUTS)
        best[b] = scorer.best_start(b, order[lo:bi], best)
    spans = []
    b = n
    while b > 0:
        a = best[b][1]
        if a < 0:  # nothing scored: one article of everything
            return [(0, n)] if n <= MAX_ITEMS else [(k, min(n, k + MAX_ITEMS)) for k in range(0, n, MAX_ITEMS)]
        spans.append((a, b))
        b = a
    return spans[::-1]


# ---------------------------------------------------------------------------------------------
# pass 3: fields


HEAD_LINES_MAX = 2  # a headline group: a kicker and a title (and a subtitle)


def _headline_fields(lines: list[str]) -> tuple[str | None, str | None, str | None]:
    subtitle = next((t for t in lines if t.startswith("——")), None)
    rest = [t for t in lines if t is not subtitle]
    if not rest:
        return None, None, subtitle
    if len(rest) == 1:
        return rest[0], None, subtitle
    # kicker above the title; more lines than two are kept in the title
    return " ".join(rest[1:]), rest[0], subtitle


def _build_article(items: list[Item], i: int, j: int) -> Article:
    span = _split_span(items, i, j)
    if span is None:
        return _build_short_lines(items, i, j)
    art = Article()
    head_s = [items[k].text for k in span.head if items[k].kind == "S"]
    tail_s = [items[k].text for k in span.tail if items[k].kind == "S"]
    run_on: list[str] = []  # standalone lines after the body that are its text, not its headline
    mains = [t for t in tail_s if not t.startswith("——")]
    # a continued article (（上接第 7 版）) carries no headline of its own: short lines above its
    # body are its first lines, short lines after it (相信武汉，相信国家！) its last
    lead_in: list[str] = []
    if any(items[k].kind == "M" and items[k].marker == "from" for k in span.head):
        lead_in, head_s = head_s, []
        run_on, tail_s = tail_s, []
    elif not head_s and len(mains) > HEAD_LINES_MAX and j == len(items):
        # at the page's end, more short lines after the body than a headline group holds (a
        # kicker and a title): the first are the body's last lines, set apart as a poster sets them
        run_on = mains[:-HEAD_LINES_MAX]
        tail_s = [t for t in tail_s if t not in run_on]
    art.title, art.kicker, art.subtitle = _headline_fields(head_s or tail_s)
    # a byline inside the body is a section's
    _take_bylines_and_markers(art, items, i, j, body=range(span.body[0], span.body[-1] + 1))
    art.paragraphs.extend(Paragraph(t, "body") for t in lead_in)
    for k in span.body:
        it = items[k]
        if it.kind == "P":
            art.paragraphs.append(Paragraph(it.text, "body"))
        elif it.kind == "S":
            art.paragraphs.append(Paragraph(it.text, "subheading"))
        elif it.kind == "B" and it.text:
            # the byline of one section of a roundup (本报记者 付 文 under the section's heading)
            art.paragraphs.append(Paragraph(it.text, "byline"))
    art.paragraphs.extend(Paragraph(t, "body") for t in run_on)
    # a headline group left over on the other side (both before and after) is kept as text
    if head_s and tail_s:
        art.paragraphs.extend(Paragraph(t, "subheading") for t in tail_s)
    _take_captions(art)
    if art.paragraphs and art.paragraphs[0].text.startswith("本报讯"):
        art.dateline = "本报讯"
        _take_lead_byline(art)
    return art


def _take_bylines_and_markers(art: Article, items: list[Item], i: int, j: int, body: range = range(0)) -> None:
    """Reporters from the bylines of ``items[i:j]`` outside ``body``, continuation pages from its
    markers (the first （上接…）, the last （下转…）)."""
    for k in range(i, j):
        it = items[k]
        if it.kind == "B" and k not in body:
            art.reporters.extend(n for n in it.names if n not in art.reporters)
        elif it.kind == "M" and it.page is not None:
            if it.marker == "from" and art.continued_from_page is None:
                art.continued_from_page = it.page
            elif it.marker == "to":
                art.continues_to_page = it.page


def _build_short_lines(items: list[Item], i: int, j: int) -> Article:
    """An article of short lines only, no paragraph (a poster or a slogan page: 中国民生银行 /
    武汉加油  中国加油 / ■记者 X / 为民而生  与民共生 / 众志成城  共克时艰). Its bylines give the
    reporters and its markers the continuation pages, as for any article. The lines are its body,
    but for a headline group: the lines after a byline glued to a line (which closes the body),
    else the first two of three or more; a continued article has none."""
    art = Article()
    _take_bylines_and_markers(art, items, i, j)
    lines: list[str] = []
    body_end: int | None = None  # lines up to here are the body's
    continued = False
    for k in range(i, j):
        it = items[k]
        if it.kind == "B" and it.glued and body_end is None:
            body_end = len(lines)
        elif it.kind == "M":
            continued = continued or it.marker == "from"
        elif it.kind in ("P", "S") and it.text:
            lines.append(it.text)
    head: list[str] = []
    if not continued:
        if body_end is not None and 0 < body_end < len(lines):
            lines, head = lines[:body_end], lines[body_end:]
        elif body_end is None and len(lines) > HEAD_LINES_MAX:
            head, lines = lines[:HEAD_LINES_MAX], lines[HEAD_LINES_MAX:]
    art.title, art.kicker, art.subtitle = _headline_fields(head)
    art.paragraphs = [Paragraph(t, "body") for t in lines]
    return art


_CAPTIONS_LABEL_RE = re.compile(r"^图片说明[：:]?$")


def _take_captions(art: Article) -> None:
    """Move photo captions out of the body: a credit line (``本报记者 刘梦涛 摄``) and the
    caption it closes (``图为…``) become one entry of ``art.captions``. A photo story, whose
    text is little more than its caption, keeps that text as its body too."""
    kept: list[Paragraph] = []
    if not any(_photo_credit(p.text) for p in art.paragraphs):
        return
    for para in art.paragraphs:
        if _photo_credit(para.text):
            caption = para.text
            if kept and CAPTION_START_RE.match(kept[-1].text):
                caption = kept.pop().text + " " + caption
            if kept and _CAPTIONS_LABEL_RE.match(kept[-1].text):
                caption = kept.pop().text + " " + caption  # 图片说明： over the first caption
            art.captions.append(caption)
        else:
            kept.append(para)
    # a photo story (图片新闻) is its caption: its text stays the body, the caption is listed too
    if sum(len(p.text) for p in kept if p.kind == "body") >= PHOTO_STORY_CHARS:
        art.paragraphs = kept


def _take_lead_byline(art: Article) -> None:
    """``本报讯 （记者徐昕联 通讯员 田明 宋宗泽） 10月14日，…``: reporters and contributors
    come out of the lead, and the parenthesis leaves the body."""
    lead = art.paragraphs[0]
    m = LEAD_BYLINE_RE.match(lead.text)
    if not m:
        return
    role = "记者"
    for part in re.split(r"(记者|通讯员|特约记者|实习生|见习记者)", m.group("inner")):
        if part in ("记者", "通讯员", "特约记者", "实习生", "见习记者"):
            role = part
            continue
        names = [n for n in re.split(r"[ \u3000、，,]+", part.strip()) if n]
        target = art.reporters if role in ("记者", "见习记者") else art.contributors
        target.extend(n for n in names if n not in target)
    art.paragraphs[0] = Paragraph("本报讯" + m.group("rest").lstrip(), lead.kind)


# the label of a briefs column: 新闻速递, 资讯速递, 财经短波, 微阅读
BRIEFS_LABEL_RE = re.compile(r"(?:速递|短波|快讯|简讯|速览|阅读|资讯)$")
BRIEFS_LABEL_MAX = 6  # a briefs column's title is a label: 新闻速递, 财经短波, 微阅读
BRIEF_TITLE_MAX = 30  # the title of one brief, run into the column's first paragraph
BRIEF_HEADS = 1
BRIEF_ITEMS_MAX = 12  # paragraphs of one brief (a title the column did not set apart among them)


def _label_over_title(items: list[Item], i: int, j: int) -> bool:
    """Is ``items[i:j]`` the start of a briefs column whose label (资讯速递, 微阅读) stands over
    the first brief's title, on a line of its own: the label, the title, and a brief's text?"""
    span = _split_span(items, i, j)
    if span is None:
        return False
    heads = [items[k].text for k in span.head if items[k].kind == "S"]
    if not (len(heads) == 2 and len(heads[0]) <= BRIEFS_LABEL_MAX and BRIEFS_LABEL_RE.search(heads[0])
            and len(heads[1]) <= BRIEF_TITLE_MAX):
        return False
    body = [items[k] for k in span.body]
    return (all(it.kind == "P" for it in body) and len(body) <= BRIEF_ITEMS_MAX
            and bool(WIRE_RE.match(body[0].text) or DATELINE_RE.match(body[0].text) or _is_signature(body[-1].text)))


def _column_start(items: list[Item], i: int, j: int) -> bool:
    """Is ``items[i:j]`` the start of a briefs column (新闻速递 / 本报讯 我国海上发射火箭模型入驻
    中国科技馆 / 本报电 …)? Its headline is a short label, and its first paragraph is no
    sentence but the first brief's title."""
    span = _split_span(items, i, j)
    if span is None:
        return False
    if _label_over_title(items, i, j):
        return True
    heads = [items[k].text for k in span.head if items[k].kind == "S"]
    if len(heads) != 1 or len(heads[0]) > BRIEFS_LABEL_MAX or _HEADER_NOT_RE.search(heads[0]):
        return False
    return _brief_title(items[span.body[0]].text)


def _brief(items: list[Item], i: int, j: int, last: bool = False) -> bool:
    """Is ``items[i:j]`` one more brief of a column: a headline above a short report that opens
    with a wire dateline or closes with its source in brackets, and no byline or headline of
    its own elsewhere? With ``last``, a byline under it may close it: the column's own, when
    the column has none yet."""
    span = _split_span(items, i, j)
    if span is None or sum(items[k].kind == "S" for k in span.head) != BRIEF_HEADS:
        return False  # one title: a kicker and a title head an article of its own
    closing = ("S", "M") if last else ("S", "B", "M")
    if any(items[k].kind in closing for k in span.tail) or any(items[k].kind in ("B", "M") for k in span.head):
        return False
    body = [items[k] for k in span.body]
    if any(it.kind != "P" for it in body) or len(body) > BRIEF_ITEMS_MAX:
        return False
    return bool(WIRE_RE.match(body[0].text) or DATELINE_RE.match(body[0].text) or _is_signature(body[-1].text))


def _merge_briefs(items: list[Item], spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """A briefs column is one article: the briefs after its start join it, up to a byline under
    one of them (the column's)."""
    out: list[tuple[int, int]] = []
    column = False
    for i, j in spans:
        # a column without a byline so far may have it under its last brief
        if column and _brief(items, i, j, last=not any(items[k].kind == "B" for k in range(*out[-1]))):
            out[-1] = (out[-1][0], j)
            # a byline under a brief closes the column
            column = not any(items[k].kind == "B" for k in range(i, j))
            continue
        out.append((i, j))
        column = _column_start(items, i, j)
    return out


def _is_label(text: str) -> bool:
    """A briefs column's label: 新闻速递, 财经短波, 微阅读."""
    return len(text) <= BRIEFS_LABEL_MAX and bool(BRIEFS_LABEL_RE.search(text)) and not _HEADER_NOT_RE.search(text)


# the wire a brief came by, closing it: （据新华社东京电）, （新华社莫斯科电 记者吴刚）
_WIRE_NOTE_RE = re.compile(r"^[（(]据?(?:新华社|中新社)[\u4e00-\u9fff]{0,8}电[^（）()]{0,30}[）)]$")


def _brief_title(text: str) -> bool:
    """Is this paragraph, 本报讯 aside, a brief's title: short, and no sentence?"""
    title = text.removeprefix("本报讯").strip()
    return 0 < len(title) <= BRIEF_TITLE_MAX and _open_end(title)


def _run_in_title(text: str) -> bool:
    """本报讯 我国海上发射火箭模型入驻中国科技馆: a brief's title run into 本报讯."""
    return text.startswith("本报讯") and _brief_title(text)


def _signed_brief(items: list[Item], i: int, j: int) -> bool:
    """Is ``items[i:j]`` a brief whatever side its title was read on: text only, a bare name in
    brackets closing it (（许志峰）), at most one standalone line above and one below, no byline
    or marker?"""
    span = _split_span(items, i, j)
    if span is None or any(items[k].kind in ("B", "M") for k in range(i, j)):
        return False
    body = [items[k] for k in span.body]
    # one lead: a dateline opens at most one paragraph, besides a title run into 本报讯
    leads = sum(DATELINE_RE.match(it.text) is not None for it in body) - _run_in_title(body[0].text)
    return (all(it.kind == "P" for it in body) and len(body) <= BRIEF_ITEMS_MAX and leads <= 1
            and (_BARE_NAME_NOTE.match(_SPACE_RE.sub("", body[-1].text)) is not None
                 or _WIRE_NOTE_RE.match(body[-1].text) is not None)
            and len(span.head) <= 1 and len(span.tail) <= 1)


def _merge_labelled_after(items: list[Item], spans: list[tuple[int, int]]) -> tuple[list[tuple[int, int]], set[int]]:
    """A briefs column whose label is printed after its briefs (… （金大明） / 财经短波): the
    span that ends with the label and the signed briefs before it are one article. Returns the
    spans and the starts of the columns so joined."""
    out: list[tuple[int, int]] = []
    columns: set[int] = set()

    def join_briefs_before(end: int, least: int) -> bool:
        """Join the signed briefs at the end of ``out`` (at least ``least``) into one column
        ending at ``end``."""
        start = len(out)
        while start > 0 and _signed_brief(items, *out[start - 1]):
            start -= 1
        if len(out) - start < least:
            return False
        if start > 0:
            # the first brief, its title run into 本报讯 (no line of its own to cut at), may
            # have been read as the end of the article before
            a, b = out[start - 1]
            for m in range(b - 1, a, -1):
                if (items[m].kind == "P" and _run_in_title(items[m].text) and items[m - 1].kind == "P"
                        and _signed_brief(items, m, b)):
                    out[start - 1 : start] = [(a, m), (m, b)]  # (m, b) now opens the column
                    break
        first = out[start][0]
        del out[start:]
        out.append((first, end))
        columns.add(first)
        return True

    for i, j in spans:
        span = _split_span(items, i, j)
        if span is None:
            out.append((i, j))
            continue
        # the label read as the last line of the last brief
        if (span.tail and items[j - 1].kind == "S" and _is_label(items[j - 1].text)
                and _signed_brief(items, i, j - 1 if len(span.tail) > 1 else j)):
            if join_briefs_before(j, 1):
                continue
        # or as a kicker over the next article's headline, after two briefs or more
        heads = [k for k in span.head if items[k].kind == "S"]
        if (len(heads) >= 2 and heads[0] == i and _is_label(items[i].text)
                and not _signed_brief(items, i + 1, j) and join_briefs_before(i + 1, 2)):
            out.append((i + 1, j))
            continue
        out.append((i, j))
    return out, columns


# a contribution of a signed roundup opens with its author's country and name, （意大利）罗伯托·巴蒂斯通,
# and closes with who wrote it down: （作者为意大利航天局前局长，本报记者陈尚文采访整理）
# (its heading may have been run into that line: 中国的发展速度超出想象（埃塞俄比亚）海尔马里亚姆)
_AUTHOR_OPENING_RE = re.compile(r"^[^，。；！？（()]{0,30}[（(][\u4e00-\u9fff]{2,8}[）)][\u4e00-\u9fff·—]{2}")
_AUTHOR_NOTE_RE = re.compile(r"[（(]作者为[^（）()]{2,80}[）)]$")  # (the note may end a paragraph)


def _contribution(items: list[Item], i: int, j: int) -> bool:
    """Is ``items[i:j]`` one contribution of a signed roundup (国际人士谈…): text that opens with
    the author's country and name and closes with the note of who wrote it down?"""
    span = _split_span(items, i, j)
    if span is None:
        return False
    last = span.body[-1]
    if _FIELD_LINE_RE.match(items[last].text) and len(span.body) > 1:
        last = span.body[-2]  # the note, then the page's 电子信箱：…
    # the heading may also stand as a paragraph of its own above the author's line
    return (any(_AUTHOR_OPENING_RE.match(items[k].text) is not None for k in span.body[:2])
            and _AUTHOR_NOTE_RE.search(items[last].text) is not None)


def _merge_contributions(items: list[Item], spans: list[tuple[int, int]]) -> tuple[list[tuple[int, int]], set[int]]:
    """Two contributions or more in a row (each its own heading, author and note) are one
    article, the roundup the page prints them as. Returns the spans and the starts of the
    roundups (joined here, or read as one article already: two notes or more in it)."""
    out: list[tuple[int, int]] = []
    roundups: set[int] = set()
    run = 0  # contributions at the end of out
    for i, j in spans:
        if _contribution(items, i, j):
            run += 1
            if run >= 2:
                a = out.pop()[0]
                out.append((a, j))
                roundups.add(a)
                continue
            if sum(items[k].kind == "P" and _AUTHOR_NOTE_RE.search(items[k].text) is not None
                   for k in range(i, j)) >= 2:
                roundups.add(i)
        else:
            run = 0
        out.append((i, j))
    return out, roundups


def _defer_paired(items: list[Item]) -> list[Item]:
    """Two articles' headlines side by side on one line (区委召开学习讨论会    本区举行宪法知识竞赛)
    head two bodies that follow one another: the second headline moves down to where the second
    body starts, the first dateline or byline after the first body. (A kicker and its title on
    one line, 市场监管总局：  疫情防控期间…, stay together.)"""
    out = list(items)
    for k in range(1, len(items)):
        it = items[k]
        if not (it.kind == "S" and it.paired and items[k - 1].kind == "S"
                and not items[k - 1].text.endswith(("——", "：", ":"))):
            continue
        at = next(x for x, o in enumerate(out) if o is it)  # by identity: items may be equal
        m = at + 1
        while m < len(out) and out[m].kind == "B":
            m += 1
        if m >= len(out) or out[m].kind != "P":
            continue
        m += 1
        while m < len(out) and out[m].kind == "P" and not DATELINE_RE.match(out[m].text):
            m += 1
        if m < len(out) and (out[m].kind == "B" or (out[m].kind == "P" and DATELINE_RE.match(out[m].text))):
            moved = out.pop(at)
            out.insert(m - 1, moved)
            moved.blank_before = moved.blank_after = True
            out[m - 2].blank_after = out[m].blank_before = True
    return out


def parse_page(text: str) -> Page:
    """Reconstruct the articles of one page of extracted newspaper text."""
    facts, items, _ = items_of(text)
    if any(it.paired for it in items):
        items = _defer_paired(items)
    spans = _segment(items)
    labelled = {i for i, j in spans if _label_over_title(items, i, j)}
    spans, labelled_after = _merge_labelled_after(items, spans)
    spans, roundups = _merge_contributions(items, spans)
    articles = []
    for i, j in _merge_briefs(items, spans):
        art = _build_article(items, i, j)
        if (i in labelled or i in roundups) and art.kicker:
            # the column's label, or the roundup's headline, is the headline; the line under it
            # (the first brief's title, the first contribution's heading) heads that part
            art.paragraphs.insert(0, Paragraph(art.title, "subheading"))  # type: ignore[arg-type]
            art.title, art.kicker = art.kicker, None
        elif i in labelled_after:
            # the label printed after the briefs is the column's headline; the first brief's
            # title, if it was read as the headline, heads that brief
            label = items[j - 1].text
            if art.paragraphs and art.paragraphs[-1].text == label:
                art.paragraphs.pop()
            for head in (art.subtitle, art.title, art.kicker):
                if head and head != label:
                    art.paragraphs.insert(0, Paragraph(head, "subheading"))
            art.title, art.kicker, art.subtitle = label, None, None
        articles.append(art)
    return Page(section=facts.section, articles=[a for a in articles if a.paragraphs or a.captions],
                issue_date=facts.issue_date, page_no=facts.page_no, imprint=facts.imprint)
