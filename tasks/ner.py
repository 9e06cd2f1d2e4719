"""Named entities (PERSON, ORG, GPE, LOC) of Chinese news sentences.

Three sources are combined (:class:`EntityExtractor`):

* ``crf`` -- a character CRF (trained by ``python -m tasks.train_ner``; the model is the file
  ``tasks/models/ner.crfsuite``) with BIO labels PER/LOC/ORG. Its features are character uni- and
  bigrams, character classes, and the segmenter's word boundaries, POS tags (jieba tag set) and
  words (see :func:`featurize`). Training uses python-crfsuite; decoding does not call the
  crfsuite tagger: the model's weights are read once into numpy tables and all sentences of a
  call are scored and Viterbi-decoded together, in bulk (the crfsuite tagger plus per-character
  feature strings would cost more than the segmentation itself). Each feature value finds its
  weight row through a dense table or a hash table probed in bulk (:class:`_KeyIndex`), word
  weights are summed per token, and :meth:`CrfModel.viterbi` runs one batch of all sentences,
  longest first, each step on the prefix of sentences still going.
* ``rule`` -- patterns for government and party bodies (``区发改委``, ``市公安局``, ``团区委``,
  ``区教育局党委`` ...: an administrative prefix, a short stem, a body suffix) and for
  sub-districts and towns (``五角场街道``, ``XX镇``).
* ``dict`` -- the maintained dictionary ``tasks/dicts/ner_orgs.txt`` (format in that file), plus
  the ``nt``/``ns`` entries of the segmenter's user dictionary.

Overlaps are resolved greedily: a CRF span that contains a rule/dictionary span of the same kind
first, then rule and dictionary spans, then the other CRF spans; longer before shorter.

GPE versus LOC (the CRF's LOC is split by :func:`place_label`): a place is LOC when its name ends
in a physical-feature or facility suffix (rivers, lakes, seas, mountains, islands, continents,
roads and streets, bridges, parks, squares, buildings, stations...: :data:`LOC_SUFFIXES`), and
GPE otherwise -- countries, provinces, cities, districts, counties, towns, sub-districts
(``XX街道``) and villages, which is what most bare place names in news are.
"""

from __future__ import annotations

import functools
import importlib.util
from bisect import bisect_right
import re
from itertools import chain, compress, repeat
from operator import itemgetter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tasks.segment import DEFAULT_USERDICT, JIEBA_TAGS, read_userdict

HERE = Path(__file__).resolve().parent
DEFAULT_MODEL: Path = HERE / "models" / "ner.crfsuite"
DEFAULT_ORG_DICT: Path = HERE / "dicts" / "ner_orgs.txt"

LABELS: tuple[str, ...] = ("PERSON", "ORG", "GPE", "LOC")
#: CRF entity type -> our label (LOC is split further by :func:`place_label`).
_CRF_TYPES: dict[str, str] = {"PER": "PERSON", "ORG": "ORG", "LOC": "LOC"}

#: Name endings that make a place LOC rather than GPE (checked longest first).
LOC_SUFFIXES: tuple[str, ...] = tuple(sorted(
    "江 河 湖 海 洋 溪 泉 渠 湾 港 峡 岛 屿 山 岭 峰 谷 原 漠 滩 洲 半岛 平原 高原 盆地 沙漠 "
    "路 街 巷 弄 道 大道 公路 高速 铁路 桥 大桥 隧道 站 车站 机场 码头 口岸 "
    "园 公园 花园 广场 馆 博物馆 体育馆 宫 寺 庙 塔 楼 大楼 大厦 中心 剧院 影院 "
    "景区 园区 商圈 创谷 滨江 村落".split(), key=len, reverse=True))
#: ... except these administrative endings, which keep a place GPE (``控江路街道``, ``新区``).
GPE_SUFFIXES: tuple[str, ...] = (
    "街道", "新区", "自治区", "自治州", "自治县", "特别行政区", "国", "省", "市", "区", "县", "州",
    "镇", "乡", "村", "旗", "盟",
)


@dataclass(frozen=True, slots=True)
class Entity:
    """One entity of a sentence: ``text == sentence[start:end]``."""

    start: int
    end: int
    text: str
    label: str  # "PERSON" | "ORG" | "GPE" | "LOC"
    source: str  # "crf" | "rule" | "dict"


#: Administrative places whose names end like physical features (上海 is a city, not a sea).
KNOWN_GPE: frozenset[str] = frozenset(
    "上海 珠海 青海 威海 北海 香港 台湾 临港 连云港 防城港 佛山 中山 鞍山 唐山 乐山 舟山 昆山 "
    "萧山 马鞍山 保山 黄山 眉山 巴中 镇江 九江 内江 湛江 浙江 黑龙江 牡丹江 吴江 合江 "
    "河北 河南 湖北 湖南 江苏 江西 海南 山东 山西".split()
)


def read_word_list(path: Path) -> frozenset[str]:
    """The words of a list of ``tasks/dicts`` (whitespace-separated, ``#`` starts a comment
    line)."""
    out: set[str] = set()
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            out.update(line.split())
    return frozenset(out)


@functools.cache
def world_places() -> frozenset[str]:
    """The names of :data:`WORLD_PLACES` (countries, capitals, large cities, regions)."""
    return read_word_list(WORLD_PLACES)


def place_label(name: str) -> str:
    """``"GPE"`` or ``"LOC"`` for a place name (the rule of the module docstring)."""
    if name in KNOWN_GPE or name.endswith(GPE_SUFFIXES):
        return "GPE"
    if name.endswith(LOC_SUFFIXES):
        return "LOC"
    return "GPE"


# ---------------------------------------------------------------------------------------------
# Features (shared by training and decoding)
# ---------------------------------------------------------------------------------------------

_PAD = "\x00\x00"  # between sentences: no feature window (offsets -2..2) crosses a sentence
_POS_ID: dict[str, int] = {t: i for i, t in enumerate(sorted(JIEBA_TAGS), 1)}  # 0 = unknown
_B, _M, _E, _S = 0, 1, 2, 3
#: the BMES tag of a character from (first of its token) * 2 + (last of it)
_BMES_OF = np.array([_M, _E, _B, _S], dtype=np.int64)

#: integer-valued feature templates (name -> value array per character), in a fixed order.
INT_TEMPLATES: tuple[str, ...] = (
    "u-2", "u-1", "u0", "u1", "u2", "b-1", "b0", "s0", "cc", "ub", "pb", "pp", "pn", "lb",
    "sn", "tr", "cx", "os", "tt", "kw0", "kw-1", "kw1", "kc-1", "kc0", "kc1", "kb-1", "kb0",
    "kC", "kB", "kW",
    "lxP", "lxT", "lxL", "lxO", "lxW", "lxG",
)
#: Words after which a person's name typically follows (titles, roles), and before which one
#: typically stands (verbs of saying); tokens ending in a role character count as titles.
TITLE_WORDS = frozenset(
    "书记 副书记 主席 副主席 总统 副总统 总理 副总理 首相 国王 女王 教授 副教授 记者 司令员 "
    "副司令员 参谋长 部长 副部长 局长 厅长 市长 副市长 县长 区长 省长 主任 副主任 院长 校长 "
    "董事长 总经理 经理 委员 常委 代表 大使 同志 先生 女士 小姐 老师 院士 博士 选手 队员 "
    "将军 中将 少将 上将 大校 作家 诗人 画家 导演 演员 村民 农民 工人 老人 师傅 总书记 "
    "秘书长 理事长 会长 团长 队长 外长 议长 主教 研究员 工程师 专家 负责人 发言人 警官".split()
)
SPEECH_WORDS = frozenset(
    "说 表示 指出 强调 认为 介绍 告诉 称 说道 谈到 回忆 坦言 透露 希望 要求 宣布 会见 "
    "会见了 主持 出席 率领 率 获得 当选 笑 问 答 写道".split()
)
_ROLE_END = tuple("长员师家者手官士")
#: word -> 1 for a title, 2 for a verb of saying (one look-up per token)
_WORD_FLAGS: dict[str, int] = {**dict.fromkeys(SPEECH_WORDS, 2), **dict.fromkeys(TITLE_WORDS, 1)}
#: Common Chinese surnames (single characters, and the first characters of compound ones).
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左"
    "柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶"
    "解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬"
    "边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原"
    "栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支卿国狄平计"
    "索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况那宿鲜印逯隆茹诸战慕"
    "危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由司上诸东皇令"
)
#: Characters typical of transliterated foreign names (persons and places).
TRANSLIT = (
    "阿埃艾爱安奥巴拜班邦鲍贝本比彼宾波伯布查达戴丹德迪蒂丁杜多厄恩法菲费芬弗福盖甘戈格贡古哈"
    "海汉豪赫亨胡霍基吉加贾杰金卡凯坎康柯科克肯库奎拉莱赖兰朗劳勒雷蕾里利莉林琳卢鲁伦罗洛马玛迈"
    "麦曼梅蒙米姆莫默穆纳娜奈内尼妮涅努诺帕佩彭皮普奇齐乔切萨塞桑瑟森沙尚舍什施舒斯索塔泰坦汤特"
    "提图托瓦万威韦维沃乌西希谢辛休雅亚扬耶伊因英尤扎泽詹兹卓佐尔夫茨娃奇·"
)
#: Last characters of the names of bodies (委, 局, 院, 队, 公司 ...): feature ``os`` is how far
#: ahead the next token ending in one ends.
ORG_SUFFIX_CHARS = "部委局院会厅署办处司行社所校队团组台馆盟联党军厂站报科室协"
#: word-valued templates: the word holding the character, the word before it and after it.
WORD_TEMPLATES: tuple[str, ...] = ("w0", "w-1", "w1")
#: the value of a word template past a sentence's edge
_EDGE = {"w-2": "<s>", "w-1": "<s>", "w0": "", "w1": "</s>", "w2": "</s>"}


def word_links(f: "Features") -> dict[str, np.ndarray]:
    """Per word template, the index of the token it reads for every token (-1 past an edge)."""
    ar = np.arange(len(f.words), dtype=np.int64)
    prev2 = np.where(f.prev_word >= 0, np.append(f.prev_word, -1)[f.prev_word], -1)
    next2 = np.where(f.next_word >= 0, np.append(f.next_word, -1)[f.next_word], -1)
    links = {"w0": ar, "w-1": f.prev_word, "w1": f.next_word, "w-2": prev2, "w2": next2}
    return {t: links[t] for t in WORD_TEMPLATES}


def _char_class_table() -> np.ndarray:
    """Class of every BMP code point: 0 pad, 1 Han, 2 digit, 3 latin, 4 Chinese numeral,
    5 punctuation, 6 space, 7 other."""
    t = np.full(0x10000, 7, dtype=np.int64)
    t[0] = 0
    t[0x4E00:0xA000] = 1
    t[0x3400:0x4DC0] = 1
    t[0xF900:0xFB00] = 1
    for lo, hi in ((0x30, 0x3A), (0xFF10, 0xFF1A)):
        t[lo:hi] = 2
    for lo, hi in ((0x41, 0x5B), (0x61, 0x7B), (0xFF21, 0xFF3B), (0xFF41, 0xFF5B), (0xC0, 0x250)):
        t[lo:hi] = 3
    for ch in "零〇一二三四五六七八九十百千万亿两":
        t[ord(ch)] = 4
    for lo, hi in ((0x21, 0x30), (0x3A, 0x41), (0x5B, 0x61), (0x7B, 0x7F), (0x2010, 0x2070),
                   (0x3000, 0x3040), (0xFF01, 0xFF10), (0xFF1A, 0xFF21), (0xFF3B, 0xFF41),
                   (0xFF5B, 0xFF66), (0xFE30, 0xFE70)):
        t[lo:hi] = 5
    for cp in (0x20, 0x09, 0x0A, 0x0D, 0xA0, 0x3000):
        t[cp] = 6
    return t


_CLASS = _char_class_table()


def _flag_table(chars: str) -> np.ndarray:
    t = np.zeros(0x10000, dtype=np.int64)
    for ch in chars:
        t[ord(ch)] = 1
    return t


_FLAGS = _flag_table(SURNAMES) | (_flag_table(TRANSLIT) << 1) | (_flag_table(ORG_SUFFIX_CHARS) << 2)


_ROLE = _flag_table("".join(_ROLE_END))


def _code_points(text: str) -> np.ndarray:
    """The code points of ``text`` (int64; a lone surrogate as itself)."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.int64)


#: Lexicon classes of the dictionary words a character lies in (feature ``lx<class>``):
#: jieba's tag of the word -> class; any other tag is class ``W``.
LEXICON_CLASSES: tuple[str, ...] = ("P", "T", "L", "O", "W", "G")
#: The world's countries, capitals and large cities (class ``G``: jieba's dictionary tags many
#: of them as persons, ``伊拉克 nrt``, ``莫斯科 nr``).
WORLD_PLACES: Path = HERE / "dicts" / "world_places.txt"
_LEX_TAG_CLASS: dict[str, int] = {"nr": 0, "nrfg": 0, "nrt": 1, "ns": 2, "nt": 3}
_LEX_MIN_LEN, _LEX_MAX_LEN = 2, 8
_HASH_MULT = np.uint64(1000003)
_KEY_MASK = np.uint64((1 << 63) - 1)  # hashes as non-negative int64 keys of a _KeyIndex


def _hash_table(words: dict[str, int]) -> dict[int, tuple[_KeyIndex, np.ndarray]]:
    """Per word length, a :class:`_KeyIndex` of the words' hashes (low 63 bits) and the value of
    each key (the values of words whose hashes meet are or-ed)."""
    return _hash_table_of(list(words), np.fromiter(words.values(), dtype=np.int64, count=len(words)))


def _hash_table_of(words: Sequence[str], values: np.ndarray) -> dict[int, tuple[_KeyIndex, np.ndarray]]:
    """:func:`_hash_table` of ``words`` (which may repeat: the values of a word are or-ed, as
    those of words whose hashes meet) and their ``values``, in bulk per length."""
    lens = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
    values = np.asarray(values, dtype=np.int64)
    out: dict[int, tuple[_KeyIndex, np.ndarray]] = {}
    # lengths in the order of their first word (the order of a dict's keys)
    lengths, first_at = np.unique(lens, return_index=True)
    for n in lengths[np.argsort(first_at)].tolist():
        sel = np.flatnonzero(lens == n)
        joined = "".join([words[i] for i in sel.tolist()])
        cp = _code_points(joined).reshape(len(sel), n)
        h = np.zeros(len(sel), dtype=np.uint64)
        for k in range(n):
            h = h * _HASH_MULT + cp[:, k].astype(np.uint64)
        keys = (h & _KEY_MASK).astype(np.int64)
        vals = values[sel]
        order = np.argsort(keys, kind="stable")
        keys, vals = keys[order], vals[order]
        uniq, first = np.unique(keys, return_index=True)
        # the values are small bit masks: one byte each when they fit (a lexicon's 340,000 words)
        vals = np.bitwise_or.reduceat(vals, first)
        if len(vals) and 0 <= vals.min() and vals.max() < 256:
            vals = vals.astype(np.uint8)
        out[n] = (_KeyIndex(uniq), vals)
    return out


def _word_hits(cp: np.ndarray, table: dict[int, tuple[_KeyIndex, np.ndarray]]
               ) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """``(length, starts, values)`` of the words of ``table`` found anywhere in ``cp``."""
    n = len(cp)
    if not table:
        return []
    u = np.concatenate((cp, np.zeros(max(table), dtype=np.int64))).astype(np.uint64)
    # polynomial hash (mod 2**64) of the ``length`` code points at each offset (zeros past the
    # end), for the lengths in increasing order: the hash of length L + 1 is that of length L
    # times the multiplier plus the next code point, one step per length instead of L
    h = np.zeros(n, dtype=np.uint64)
    done = 0  # the length ``h`` is of
    out = []
    for length, (index, vals) in sorted(table.items()):
        for k in range(done, length):
            h = h * _HASH_MULT + u[k:k + n]
        done = length
        hit, rows = index.hits((h & _KEY_MASK).view(np.int64))  # (non-negative: the same ints)
        if len(hit):
            out.append((length, hit, vals[rows]))
    return out


def jieba_dict_path() -> Path:
    """jieba's main dictionary, ``dict.txt`` inside the installed ``jieba`` package (it ships
    with jieba): ``word freq tag`` per line. Found from the package's location without
    importing ``jieba``, whose import loads its HMM's probability tables (some 7 MB of Python
    objects that nothing here uses when rjieba segments)."""
    spec = importlib.util.find_spec("jieba")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("jieba is not installed")
    return Path(spec.origin).parent / "dict.txt"


@functools.cache
def lexicon(dict_txt: Path | None = None, min_freq: int = 1) -> dict[int, tuple[_KeyIndex, np.ndarray]]:
    """Words of jieba's dictionary (which ships with ``jieba``), ``min_freq`` or more frequent,
    ``_LEX_MIN_LEN``..``_LEX_MAX_LEN`` characters, as a hash table (:func:`_hash_table`) of
    their class bit masks (:data:`LEXICON_CLASSES`)."""
    if dict_txt is None:
        return _jieba_dict_tables(min_freq)[0]
    return _lexicon_of_text(Path(dict_txt).read_text(encoding="utf-8"), min_freq)


@functools.cache
def _jieba_dict_tables(min_freq: int = 1) -> tuple[dict[int, tuple[_KeyIndex, np.ndarray]], dict[str, int]]:
    """:func:`lexicon` and :func:`given_name_counts` of jieba's dictionary, from one reading of
    the file (some 0.06 s each time); kept on disk (:mod:`tasks.diskcache`: 0.5-0.6 s of CPU
    to build, a few milliseconds to load), named by the dictionary, the world places and this
    module's code."""
    from tasks import diskcache

    path = jieba_dict_path()

    def build() -> tuple[dict[int, tuple[_KeyIndex, np.ndarray]], dict[str, int]]:
        text = path.read_text(encoding="utf-8")
        return _lexicon_of_text(text, min_freq), _given_name_counts_of_text(text)

    return diskcache.cached(f"ner-lexicon-{min_freq}", [path, WORLD_PLACES, Path(__file__)], build)


#: Whitespace other than the space and the newline (``\s`` is what ``str.split`` splits at; the
#: other characters ``str.splitlines`` breaks at are whitespace too).
_OTHER_SPACE = re.compile(r"[^\S \n]")


def _plain_fields(text: str) -> tuple[list[str], list[str], list[str]] | None:
    """The three fields of every line of ``text``, as ``line.split()`` gives them, when every
    line is ``field field field`` with single spaces (so ``text.split()`` holds the lines'
    fields, three by three); else None."""
    if not text or text[0] in " \n" or text[-1] == " " or _OTHER_SPACE.search(text) is not None:
        return None
    if "  " in text or " \n" in text or "\n " in text or "\n\n" in text:
        return None
    raw = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    nl = np.flatnonzero(raw == 10)
    ends = nl if text[-1] == "\n" else np.append(nl, len(raw))
    starts = np.concatenate(([0], ends[:-1] + 1))
    spaces = np.concatenate(([0], np.cumsum(raw == 32)))  # spaces before each offset
    if not (spaces[ends] - spaces[starts] == 2).all():
        return None
    parts = text.split()
    return parts[0::3], parts[1::3], parts[2::3]


def _lexicon_of_text(text: str, min_freq: int) -> dict[int, tuple[_KeyIndex, np.ndarray]]:
    """:func:`lexicon` of the text of a dictionary file: the words and class bits of a loop over
    every line (``line.split()``, three parts, length, ``int(freq) >= min_freq``), taken in bulk
    when every line is plain (:func:`_plain_fields`, as jieba's are) and its frequencies ASCII
    digits: 0.2 s instead of 0.35 s for jieba's 349,000 lines. No polars here: what polars
    allocates stays with its allocator, some 80 MB more in each worker once warmed."""
    fields = _plain_fields(text)
    if fields is not None:
        ws, freqs, tags = fields
        joined = "".join(freqs)
        if not (joined.isascii() and joined.isdigit() and max(map(len, freqs), default=0) <= 18):
            fields = None
    if fields is not None:
        n = len(ws)
        lens = np.fromiter(map(len, ws), dtype=np.int64, count=n)
        freq = np.fromiter(map(int, freqs), dtype=np.int64, count=n)
        bit_of = {tag: 1 << c for tag, c in _LEX_TAG_CLASS.items()}
        bits_all = np.fromiter(map(bit_of.get, tags, repeat(1 << 4, n)), dtype=np.int64, count=n)
        keep = (lens >= _LEX_MIN_LEN) & (lens <= _LEX_MAX_LEN) & (freq >= min_freq)
        words: list[str] = list(compress(ws, keep.tolist()))
        bits: list[int] = bits_all[keep].tolist()
    else:
        words, bits = [], []
        for line in text.splitlines():
            parts = line.split()
            if len(parts) != 3 or not _LEX_MIN_LEN <= len(parts[0]) <= _LEX_MAX_LEN:
                continue
            w, freq_s, tag = parts
            if int(freq_s) < min_freq:
                continue
            words.append(w)
            bits.append(1 << _LEX_TAG_CLASS.get(tag, 4))
    for w in sorted(world_places()):
        if _LEX_MIN_LEN <= len(w) <= _LEX_MAX_LEN:
            words.append(w)
            bits.append(1 << 5)
    return _hash_table_of(words, np.array(bits, dtype=np.int64))


def _lexicon_marks(cp: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per character of ``cp``, the class bits (as the lexicon's values hold them: one per
    class, six in a byte; uint8) of the dictionary words that start there, go on through it
    and end there."""
    n = len(cp)
    table = lexicon()
    # the offsets a word of one length is found at are distinct, so each |= is exact
    pad = max(table, default=1)  # past the end: no word runs there (the text ends in pads)
    begin = np.zeros(n + pad, dtype=np.uint8)
    inner = np.zeros(n + pad, dtype=np.uint8)
    end = np.zeros(n + pad, dtype=np.uint8)
    for length, hit, m in _word_hits(cp, table):
        m = m.astype(np.uint8, copy=False)
        begin[hit] |= m
        end[hit + length - 1] |= m
        for k in range(1, length - 1):
            inner[hit + k] |= m
    return begin[:n], inner[:n], end[:n]


def _lexicon_columns(begin: np.ndarray, inner: np.ndarray, end: np.ndarray) -> np.ndarray:
    """``(n, 8)`` uint8 from the marks of :func:`_lexicon_marks` (of the characters wanted):
    column ``c`` is 4 when a word of class ``c`` starts there, 2 when one goes on through it,
    1 when one ends there (unpacked bits, not a pass per class)."""
    def per_class(bits: np.ndarray) -> np.ndarray:  # (n, 8): bit c of each byte in column c
        return np.unpackbits(bits[:, None], axis=1, bitorder="little")

    return (per_class(begin) << 2) | (per_class(inner) << 1) | per_class(end)


def lexicon_bits(cp: np.ndarray, at: np.ndarray | None = None) -> np.ndarray:
    """``(len(cp), n_classes)`` bits per character: 4 when a dictionary word of the class starts
    there, 2 when it goes on through it, 1 when it ends there (several may hold). With ``at``,
    the rows of the characters at those offsets only (the words are found in all of ``cp``)."""
    marks = _lexicon_marks(cp)
    if at is not None:  # only the characters wanted are unpacked
        marks = tuple(m[at] for m in marks)
    return _lexicon_columns(*marks)[:, :len(LEXICON_CLASSES)].astype(np.int64)


#: Words that follow a person's name or surname in the text itself, whatever the segmenter
#: makes of them (``吴先生``, ``托项|市长``): titles, honorifics, 某 and 老.
HONORIFICS = frozenset("先生 小姐 女士 太太 夫人 老 某 总 师傅 阿姨 大夫 医生 教练 同志 主席 "
                       "总理 局长 厅长 处长 科长 所长 部长 市长 县长 省长 乡长 镇长 村长 "
                       "老师 教授 委员 书记 主任 经理 董事长 总统 副".split())


@functools.cache
def _title_table() -> dict[int, tuple[_KeyIndex, np.ndarray]]:
    words = {**dict.fromkeys(TITLE_WORDS | HONORIFICS, 1), **dict.fromkeys(SPEECH_WORDS, 2)}
    return _hash_table(words)


def title_bits(cp: np.ndarray) -> np.ndarray:
    """Per character: 4 when a title ends just before it, 2 when one starts just after it,
    1 when a verb of saying starts just after it (matched in the text, not the tokens)."""
    n = len(cp)
    out = np.zeros(n + 2, dtype=np.int64)
    for length, hit, v in _word_hits(cp, _title_table()):
        t, sp = hit[v == 1], hit[v == 2]
        out[t + length + 1] |= 4  # shifted by one: out[k + 1] is char k
        out[t] |= 2  # char t - 1
        out[sp] |= 1
    return out[1:n + 1]


#: Word and character clusters from unlabelled pages (``python -m tasks.build_clusters``).
CLUSTERS: Path = HERE / "models" / "clusters.tsv"


@functools.cache
def clusters(path: Path = CLUSTERS) -> tuple[dict[str, int], np.ndarray, np.ndarray,
                                             dict[str, int]]:
    """Cluster of each token (a dict; 0 = none), of each BMP character (an array), the
    coarse cluster of each BMP character and of each token."""
    words: dict[str, int] = {}
    wcoarse: dict[str, int] = {}
    chars = np.zeros(0x10000, dtype=np.int64)
    coarse = np.zeros(0x10000, dtype=np.int64)
    if Path(path).exists():
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            kind, item, k = line.split("\t")
            if kind == "w":
                words[item] = int(k)
            elif kind == "W":
                wcoarse[item] = int(k)
            elif kind in "cC" and len(item) == 1 and ord(item) < 0x10000:
                (chars if kind == "c" else coarse)[ord(item)] = int(k)
    return words, chars, coarse, wcoarse


@functools.cache
def _word_values() -> tuple[dict[str, int], np.ndarray]:
    """The per-word values of the CRF's features in one table: a row number per word of
    :data:`_WORD_FLAGS` or of the clusters (row 0: any other word), and the values
    ``_WORD_FLAGS``, coarse cluster, cluster of each row (0 where the word has none, as the
    ``.get`` of each dict with default 0 gives), held value-major: ``table[:, r]`` are row
    ``r``'s three values (so the tokens' values are three gathers of single int64s, which
    numpy does several times faster than one gather of rows of three). One dict look-up per
    token instead of three: the look-ups in the large cluster dicts cost some 60 ns a token
    (cache misses), the table reads a nanosecond."""
    wcl, _, _, wco = clusters()
    row = {w: r for r, w in enumerate(dict.fromkeys(chain(_WORD_FLAGS, wco, wcl)), 1)}
    table = np.zeros((3, len(row) + 1), dtype=np.int64)
    for col, d in enumerate((_WORD_FLAGS, wco, wcl)):
        if d:
            table[col, [row[w] for w in d]] = list(d.values())
    return row, table


@dataclass
class Features:
    """Feature values of every character of a batch of sentences, in reading order."""

    lengths: np.ndarray  # (n_sentences,) characters per sentence
    ints: dict[str, np.ndarray]  # template -> (n_chars,) int64 value
    words: list[str]  # every token of the batch, in order
    word_of_char: np.ndarray  # (n_chars,) index into ``words`` of the token holding the char
    prev_word: np.ndarray  # (n_tokens,) index of the previous token, -1 at a sentence start
    next_word: np.ndarray  # (n_tokens,) index of the next token, -1 at a sentence end
    text: str  # the sentences joined by :data:`_PAD` with a pad on each side
    starts: np.ndarray  # (n_sentences,) offset of each sentence in ``text``
    boundary: np.ndarray  # (len(text) + 1,) True where a token starts or ends
    token_start: np.ndarray  # (len(text),) start offset in ``text`` of the token holding a char
    token_end: np.ndarray  # (len(text),) end offset in ``text`` of that token
    token_pos: np.ndarray  # (len(text),) POS id of that token (0 on pads)
    #: with the CRF's features: each token's row in :func:`_word_values` (0: none)
    word_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


def _tokens_for(text: str, toks: Sequence[tuple[str, str]] | None) -> Sequence[tuple[str, str]]:
    """The segmenter's tokens of ``text`` (re-tagged when ``toks`` does not tile ``text``)."""
    if toks is not None and "".join(w for w, _ in toks) == text:
        return toks
    if not text:
        return []
    from tasks.segment import get_segmenter

    try:
        out = get_segmenter().tag(text)
    except (UnicodeError, ValueError):  # e.g. a lone surrogate the Rust engine cannot encode
        out = []
    if "".join(w for w, _ in out) != text:  # a segmenter that loses text: one char per token
        out = [(c, "x") for c in text]
    return out


def _flat_tokens(texts: Sequence[str], tagged: Sequence[Sequence[tuple[str, str]]] | None,
                 ) -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    """All tokens and tags of the batch in order, the number of tokens per sentence and the
    length of every token; a sentence whose given tagging does not tile it (or has none) is
    tagged here."""
    n = len(texts)
    given: list[Sequence[tuple[str, str]]] = list(tagged[:n]) if tagged is not None else []
    given += [()] * (n - len(given))
    if given:
        words, tags = _unzip(given)
        counts = np.fromiter(map(len, given), dtype=np.int64, count=n)
        tlen = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
        ends = np.cumsum(counts)
        csum = np.concatenate(([0], np.cumsum(tlen)))
        per_sent = csum[ends] - csum[ends - counts]
        lengths = np.fromiter(map(len, texts), dtype=np.int64, count=n)
        ok = per_sent == lengths
        if ok.all() and (tlen > 0).all() and "".join(words) == "".join(texts):
            return words, tags, counts, tlen
        # check sentence by sentence (rare: a batch with some stale or missing taggings)
        fixed = [_tokens_for(t, g) for t, g in zip(texts, given, strict=True)]
        fixed = [[(w, p) for w, p in toks if w] for toks in fixed]
        words, tags = _unzip(fixed)
        return (words, tags, np.fromiter(map(len, fixed), dtype=np.int64, count=n),
                np.fromiter(map(len, words), dtype=np.int64, count=len(words)))
    return [], [], np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)


def _unzip(toks_all: Sequence[Sequence[tuple[str, str]]]) -> tuple[list[str], list[str]]:
    flat = list(chain.from_iterable(toks_all))
    return list(map(itemgetter(0), flat)), list(map(itemgetter(1), flat))


def featurize(
    sentences: Sequence[str], tagged: Sequence[Sequence[tuple[str, str]]] | None = None,
    crf: bool = True,
) -> Features:
    """Feature values of all characters of ``sentences`` at once (numpy, no per-char Python).

    ``tagged[i]`` is the segmenter's ``(token, pos)`` list of ``sentences[i]``; missing or not
    tiling the sentence, the sentence is tagged here. With ``crf`` False only the tokens and
    their geometry are worked out (what the rules and jieba's tags need), not the CRF's
    feature values (``ints`` is empty). Every feature value is a non-negative integer (code
    points, classes, codes and bits; a sentence's edges have values of their own, never -1):
    :meth:`CrfModel.emissions` relies on it."""
    texts = [s.replace("\x00", " ") if "\x00" in s else s for s in sentences]
    words, tags, tok_counts, tlen = _flat_tokens(texts, tagged)
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    big = _PAD + _PAD.join(texts) + _PAD
    cp = _code_points(big)
    nbig = len(cp)
    starts = np.zeros(len(texts), dtype=np.int64)
    if len(texts):
        starts[:] = len(_PAD) + np.concatenate(([0], np.cumsum(lengths[:-1] + len(_PAD))))
    # sentence characters: +1 at a start, -1 at an end, cumulative sum
    marks = np.zeros(nbig + 1, dtype=np.int64)
    np.add.at(marks, starts, 1)
    np.add.at(marks, starts + lengths, -1)
    real = np.cumsum(marks[:-1]) > 0
    idx = np.flatnonzero(real)

    ntok = len(words)
    tpos = np.fromiter(map(_POS_ID.get, tags, repeat(0, ntok)), dtype=np.int64, count=ntok)
    first = np.zeros(ntok, dtype=bool)
    last = np.zeros(ntok, dtype=bool)
    if ntok:
        ends = np.cumsum(tok_counts)
        nz = tok_counts > 0
        first[(ends - tok_counts)[nz]] = True
        last[(ends - 1)[nz]] = True
    ar = np.arange(ntok, dtype=np.int64)
    prev_word = np.where(first, -1, ar - 1)
    next_word = np.where(last, -1, ar + 1)
    tok_first_c = np.concatenate(([0], np.cumsum(tlen)[:-1])) if ntok else tlen
    word_of_char = np.repeat(ar, tlen)
    tstart_c = np.repeat(tok_first_c, tlen)
    within = np.arange(len(word_of_char), dtype=np.int64) - tstart_c
    tl = tlen[word_of_char]
    word_rows = np.zeros(0, dtype=np.int64)
    ints: dict[str, np.ndarray] = {}
    if crf:
        word_row = _word_values()[0]
        word_rows = np.fromiter(map(word_row.get, words, repeat(0, ntok)), dtype=np.int64, count=ntok)
        ints = _crf_ints(cp, idx, real, word_rows, tpos, tlen, first, last, tok_first_c,
                         word_of_char, within, tl)
    # token geometry on the joined text (for the rules)
    token_start = np.zeros(nbig, dtype=np.int64)
    token_end = np.zeros(nbig, dtype=np.int64)
    token_pos = np.zeros(nbig, dtype=np.int64)
    char_tok_start = idx - within  # start in big text of each char's token
    token_start[idx] = char_tok_start
    token_end[idx] = char_tok_start + tl
    token_pos[idx] = tpos[word_of_char]
    boundary = np.ones(nbig + 1, dtype=bool)
    boundary[idx] = within == 0
    return Features(lengths, ints, words, word_of_char, prev_word, next_word, big, starts,
                    boundary, token_start, token_end, token_pos, word_rows)


def _crf_ints(cp: np.ndarray, idx: np.ndarray, real: np.ndarray, word_rows: np.ndarray,
              tpos: np.ndarray, tlen: np.ndarray, first: np.ndarray, last: np.ndarray,
              tok_first_c: np.ndarray, word_of_char: np.ndarray, within: np.ndarray,
              tl: np.ndarray) -> dict[str, np.ndarray]:
    """The CRF's feature values of every character (see :func:`featurize`).

    A value made of characters' values at several offsets (``cc``: the classes at -1, 0 and 1)
    is made over the whole joined text first, from slices (no copies), and read at the
    characters' offsets once: one gather instead of one per offset (the gathers cost more
    than the shifts and ors). The joined text has two pads on each side of every sentence, so
    the offsets read (-2..2 around a character) are all inside it."""
    ntok, nbig = len(word_rows), len(cp)
    prev_pos = np.where(first, 63, np.roll(tpos, 1) if ntok else tpos)
    next_pos = np.where(last, 63, np.roll(tpos, -1) if ntok else tpos)

    tok_last_cp = cp[idx[tok_first_c + tlen - 1]] if ntok else tlen
    flags, kW, kw = np.take(_word_values()[1], word_rows, axis=1)  # flags, coarse, cluster
    title = (flags & 1) | ((tlen > 1) & (_ROLE[np.minimum(tok_last_cp, 0xFFFF)] > 0))
    speech = flags >> 1
    prev_title = np.where(first, 0, np.roll(title, 1) if ntok else title)
    next_speech = np.where(last, 0, np.roll(speech, -1) if ntok else speech)
    # B, M, E, S from (first char of its token, last char of it): a token of one char is both
    bmes = _BMES_OF[((within == 0).view(np.int8) << 1) | (within == tl - 1).view(np.int8)]

    # per-character tables over the joined text (pads included), then read at offsets
    bmp = np.minimum(cp, 0xFFFF)
    in_bmp = cp < 0x10000
    cls = np.where(in_bmp, _CLASS[bmp], np.where((cp >= 0x20000) & (cp < 0x32000), 1, 7))
    flg = _FLAGS[bmp] * in_bmp  # bit 0 surname, bit 1 transliteration
    sur, tr = flg & 1, (flg >> 1) & 1
    # distance (in chars, capped) to the end of the next token of the sentence that ends in a
    # body suffix: 0 for the suffix itself; 15 when there is none
    tok_end_c = idx[tok_first_c + tlen - 1] if ntok else idx[:0]  # last char of each token
    stop = np.zeros(nbig, dtype=bool)
    stop[tok_end_c[(flg[tok_end_c] & 4) > 0]] = True
    event = stop | ~real  # a suffix, or a pad (the sentence's end)
    at = np.where(event, np.arange(nbig), nbig)
    nxt = np.minimum.accumulate(at[::-1])[::-1][idx]  # next event at or after each char
    dist = np.where(stop[np.minimum(nxt, nbig - 1)] & (nxt < nbig), nxt - idx, 15)
    os_b = np.minimum(dist, 15)
    os_b = np.where(os_b > 6, np.where(os_b == 15, 9, 7 + (os_b > 10)), os_b)
    cm2, cm1, c0, cp1, cp2 = (cp[idx + k] for k in (-2, -1, 0, 1, 2))
    k_m1 = idx - 1  # a value made over the text from offset -1 on, read for each char
    lx = lexicon_bits(cp, idx)
    _, ccl, cco, _ = clusters()
    kW_prev = np.where(first, 63, np.roll(kW, 1) if ntok else kW)
    kW_next = np.where(last, 63, np.roll(kW, -1) if ntok else kW)
    kC = cco[bmp] * in_bmp
    kc = ccl[bmp] * in_bmp
    kc0 = kc[idx]
    kb = (kc[:-1] << 10) | kc[1:]  # kb[j]: the clusters at j and j + 1
    kw_prev = np.where(first, 1023, np.roll(kw, 1) if ntok else kw)
    kw_next = np.where(last, 1023, np.roll(kw, -1) if ntok else kw)
    ints = {
        **{f"lx{c}": np.ascontiguousarray(lx[:, k]) for k, c in enumerate(LEXICON_CLASSES)},
        "tt": ((sur << 3) | title_bits(cp))[idx],
        "kw0": (kw[word_of_char] << 3) | bmes,
        "kw-1": kw_prev[word_of_char],
        "kw1": kw_next[word_of_char],
        "kc-1": kc[k_m1], "kc0": (kc0 << 3) | bmes, "kc1": kc[idx + 1],
        "kb-1": kb[k_m1], "kb0": kb[idx],
        "kC": ((kC[:-2] << 12) | (kC[1:-1] << 6) | kC[2:])[k_m1],
        "kB": (kC[idx] << 3) | bmes,
        "kW": (((kW_prev << 12) | (kW << 6) | kW_next) << 3)[word_of_char] | bmes,
        "os": (os_b << 2) | (bmes & 3),
        "cx": (prev_title[word_of_char] << 3) | (next_speech[word_of_char] << 2) | bmes,
        "sn": ((sur[:-2] << 4) | (sur[1:-1] << 3) | (sur[2:] << 2))[idx - 2] | bmes,
        "tr": ((tr[:-2] << 4) | (tr[1:-1] << 3) | (tr[2:] << 2) | (cls[1:-1] == 1))[k_m1],
        "u-2": cm2, "u-1": cm1, "u0": c0, "u1": cp1, "u2": cp2,
        "b-1": (cm1 << 21) | c0, "b0": (c0 << 21) | cp1, "s0": (cm1 << 21) | cp1,
        "cc": ((cls[:-2] << 6) | (cls[1:-1] << 3) | cls[2:])[k_m1],
        "ub": (c0 << 3) | bmes,
        "pb": (tpos[word_of_char] << 3) | bmes,
        "pp": (prev_pos[word_of_char] << 3) | bmes,
        "pn": (next_pos[word_of_char] << 3) | bmes,
        "lb": (np.minimum(tl, 6) << 3) | bmes,
    }
    return ints


def feature_strings(f: Features) -> list[list[list[str]]]:
    """The features as crfsuite attribute strings, one list per character, one list per
    sentence (training only: decoding uses the numeric arrays)."""
    cols: list[list[str]] = [[f"{n}={v}" for v in f.ints[n].tolist()] for n in INT_TEMPLATES]
    w = f.words
    woc = f.word_of_char.tolist()
    for t, links in word_links(f).items():
        edge = _EDGE[t]
        per_tok = [f"{t}={w[k]}" if k >= 0 else f"{t}={edge}" for k in links.tolist()]
        cols.append([per_tok[k] for k in woc])
    rows = [list(r) for r in zip(*cols, strict=True)] if cols and cols[0] else []
    out: list[list[list[str]]] = []
    pos = 0
    for n in f.lengths.tolist():
        out.append(rows[pos:pos + n])
        pos += n
    return out


# ---------------------------------------------------------------------------------------------
# The CRF, decoded with numpy
# ---------------------------------------------------------------------------------------------


class _KeyIndex:
    """Row of each int64 key of a sorted key array, for many queries at once: a dense table when
    the keys are small, else an open-addressing hash table probed in bulk (both exact; a
    query that is no key gets ``len(keys)``). Rows are held as int32 (half the memory of int64:
    the tables of the entity lexicon and the CRF's weights are loaded in every worker)."""

    _DENSE_MAX = 1 << 20
    _MULT = np.uint64(0x9E3779B97F4A7C15)

    def __init__(self, keys: np.ndarray) -> None:
        self.n = n = len(keys)
        self.dense: np.ndarray | None = None
        self.low: np.ndarray | None = None
        if n == 0:
            self.dense = np.zeros(1, dtype=np.int32)
            return
        if int(keys[0]) >= 0 and int(keys[-1]) < self._DENSE_MAX:
            self.dense = np.full(int(keys[-1]) + 2, n, dtype=np.int32)  # last slot: too large
            self.dense[keys] = np.arange(n)
            return
        bits = max(4, int(np.ceil(np.log2(n * 3))))  # load factor <= 1/3
        self.shift = np.uint64(64 - bits)
        self.mask = (1 << bits) - 1
        self.slot_key = np.full(1 << bits, -1, dtype=np.int64)
        self.slot_row = np.full(1 << bits, n, dtype=np.int32)
        if int(keys[0]) < 0:  # -1 marks an empty slot: keys are non-negative
            raise ValueError("negative feature key")
        home = self._hash(keys)
        pending = np.arange(n)
        step = 0
        while len(pending):
            slots = (home[pending] + step) & self.mask
            free = self.slot_key[slots] < 0
            cand, cslots = pending[free], slots[free]
            _, first = np.unique(cslots, return_index=True)  # one key per free slot per round
            self.slot_key[cslots[first]] = keys[cand[first]]
            self.slot_row[cslots[first]] = cand[first]
            placed = np.zeros(n, dtype=bool)
            placed[cand[first]] = True
            pending = pending[~placed[pending]]
            step += 1
        self.max_probe = step
        # the low bits of the keys, at most one in eight of them set: a query none of whose
        # keys has its low bits is no key, and is not probed (most queries: bigrams of
        # characters, windows of text that are no word); one bit each past 65,536. Up to
        # 65,536 (8,192 keys or fewer), 16 bits of the keys' multiplicative hash instead: the
        # low bits of a structured key (a bigram ``a << 21 | b``) are those of one part, which
        # many queries share (a third of the CRF's bigram queries passed, a thirtieth now)
        self.low_bits = max(16, int(np.ceil(np.log2(n))) + 3)
        low = (keys & ((1 << self.low_bits) - 1))
        if self.low_bits == 16:
            self.low = np.zeros(1 << 16, dtype=bool)
            self.low[self._hash16(keys)] = True
        else:
            self.low = np.zeros(1 << (self.low_bits - 3), dtype=np.uint8)
            np.bitwise_or.at(self.low, low >> 3, (1 << (low & 7)).astype(np.uint8))

    def _hash16(self, q: np.ndarray) -> np.ndarray:
        return ((q.astype(np.uint64) * self._MULT) >> np.uint64(48)).astype(np.int64)

    def _hash(self, q: np.ndarray) -> np.ndarray:
        return ((q.astype(np.uint64) * self._MULT) >> self.shift).astype(np.int64)

    def rows(self, q: np.ndarray) -> np.ndarray:
        if self.dense is not None:
            # the last slot (not a key) takes the queries out of range, negative ones too
            return np.take(self.dense, q.clip(-1, len(self.dense) - 1))
        if self.low is not None:
            maybe = self._maybe(q)
            out = np.full(len(q), self.n, dtype=np.int64)
            out[maybe] = self._probe(q[maybe])
            return out
        return self._probe(q)

    def hits(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The offsets of the queries that are keys, and their rows: what ``rows(q)`` gives
        where it is below ``n``, made from the screened queries alone (no array the size of
        ``q`` to fill and scan again: most queries of a text's windows are no word)."""
        if self.low is None:
            r = self.rows(q)
            at = np.flatnonzero(r < self.n)
            return at, r[at]
        maybe = self._maybe(q)
        r = self._probe(q[maybe])
        found = r < self.n
        return maybe[found], r[found]

    def _maybe(self, q: np.ndarray) -> np.ndarray:
        """The offsets of the queries the screen of low bits lets through (every key among
        them)."""
        assert self.low is not None
        if self.low_bits == 16:
            return np.flatnonzero(np.take(self.low, self._hash16(q)))
        m = q & ((1 << self.low_bits) - 1)
        return np.flatnonzero((np.take(self.low, m >> 3) >> (m & 7).astype(np.uint8)) & 1)

    def _probe(self, q: np.ndarray) -> np.ndarray:
        out = np.full(len(q), self.n, dtype=np.int64)
        slots = self._hash(q)
        todo = np.arange(len(q))
        for _ in range(self.max_probe):
            k = np.take(self.slot_key, slots)
            hit = k == q
            if hit.any():
                out[todo[hit]] = np.take(self.slot_row, slots[hit])
            go = ~hit & (k >= 0)  # an empty slot ends the probe: not a key
            if not go.any():
                break
            todo, q, slots = todo[go], q[go], (slots[go] + 1) & self.mask
        return out


def _row_width(n: int) -> int:
    """Columns of the weight tables of a model of ``n`` labels: ``n`` padded with zeros to 8
    when fewer (7 for BIO over PER/LOC/ORG). ``np.take`` copies rows of 1, 2, 4, 8, 16 or 32
    bytes with a fast path of its own and other sizes by ``memmove`` each: rows of 8 float32
    are gathered some 2.5 times faster than rows of 7, and the emissions are some 40 gathers of
    a row per character. The pad columns hold zeros and are cut off the emissions: the labels'
    sums are the same float32 additions in the same order."""
    return 8 if n < 8 else n


class _Literals:
    """Finds the words of a list in a text as ``re.finditer`` does with the alternation of the
    words, longest first (``"|".join(map(re.escape, sorted(words, key=len, reverse=True)))``):
    left to right, at the first position where a word starts the longest word there, then on
    from its end. The regex tries every word at every position that begins one (some 5 ms
    over a chunk's 80,000 characters for the 321 words of the entity dictionary); here the
    positions whose first two characters begin a word are found in bulk (a :class:`_KeyIndex`
    of the words' first bigrams; first characters when a word has one character), and only at
    those, a few hundred, are the words looked up (1.4 ms)."""

    def __init__(self, words: Sequence[str]) -> None:
        self.words = frozenset(words)
        if "" in self.words:
            raise ValueError("an empty word")
        lengths = sorted({len(w) for w in self.words}, reverse=True)
        self.span = 2 if lengths and lengths[-1] >= 2 else 1  # chars of the prefix
        key_of = {w: int(self._key(_code_points(w[:self.span]))[0])
                  for w in self.words}
        keys = np.unique(np.fromiter(key_of.values(), dtype=np.int64, count=len(key_of)))
        self.prefixes = _KeyIndex(keys)
        # per prefix (the row of its key), the lengths of the words it begins, longest first
        row = {k: i for i, k in enumerate(keys.tolist())}
        by_row: list[set[int]] = [set() for _ in row]
        for w, k in key_of.items():
            by_row[row[k]].add(len(w))
        self.lengths = [sorted(ls, reverse=True) for ls in by_row]

    def _key(self, cp: np.ndarray) -> np.ndarray:
        """The prefix key at each offset of code points ``cp`` (code points are < 2**21)."""
        return (cp[:-1] << 21) | cp[1:] if self.span == 2 else cp

    def finditer(self, text: str) -> list[tuple[int, int]]:
        """``(start, end)`` of each word found (as ``m.span()`` of the regex's matches)."""
        if not self.words or len(text) < self.span:
            return []
        cp = _code_points(text)
        rows = self.prefixes.rows(self._key(cp))
        out: list[tuple[int, int]] = []
        pos, end = 0, len(text)
        at = np.flatnonzero(rows < self.prefixes.n)
        for i, r in zip(at.tolist(), rows[at].tolist(), strict=True):
            if i < pos:  # inside the word found before
                continue
            for n in self.lengths[r]:  # of the words with this prefix
                if i + n <= end and text[i:i + n] in self.words:  # not cut by the end
                    out.append((i, i + n))
                    pos = i + n
                    break
        return out


class CrfModel:
    """A python-crfsuite model's weights as lookup tables, scored and decoded in bulk."""

    def __init__(self, path: Path) -> None:
        """The tables of the model file ``path``, kept on disk (:mod:`tasks.diskcache`: 0.09 s
        of CPU to read the model's weights through crfsuite, a millisecond to load), named by
        the model file, this module's code and python-crfsuite's version."""
        from importlib.metadata import version

        from tasks import diskcache

        def build() -> dict[str, Any]:
            model = object.__new__(CrfModel)
            model._read(Path(path))
            return model.__dict__

        self.__dict__.update(diskcache.cached("ner-crf", [Path(path), Path(__file__)], build,
                                              extra=version("python-crfsuite")))
        # the model's id of the word of each row of _word_values (unknown: len(word_id)); -1 for
        # row 0, the words _word_values does not hold, which are looked up one by one
        unk = len(self.word_id)
        self._id_of_row = np.array([-1] + [self.word_id.get(w, unk) for w in _word_values()[0]],
                                   dtype=np.int64)
        # the weight row of every value of a template with a small dense index (most: classes,
        # clusters, POS, BMES...), so that a value finds its weights in one gather, not two
        self._direct: dict[str, np.ndarray] = {
            t: np.take(w, ix.dense, axis=0) for t, (_, w) in self.int_tables.items()
            if (ix := self._index[t]).dense is not None and len(ix.dense) <= self._DIRECT_MAX}

    _DIRECT_MAX = 1 << 14  # values of a template's dense index with a direct table (<= 512 KB)

    def _read(self, path: Path) -> None:
        import pycrfsuite

        tagger = pycrfsuite.Tagger()
        tagger.open(str(path))
        info = tagger.info()
        labels: list[str] = [lab for lab, _ in sorted(info.labels.items(), key=lambda kv: kv[1])]
        self.labels = labels
        lid = {lab: i for i, lab in enumerate(labels)}
        n = len(labels)
        self.trans = np.zeros((n, n), dtype=np.float64)
        for (a, b), wt in info.transitions.items():
            self.trans[lid[a], lid[b]] = wt
        ints: dict[str, dict[int, np.ndarray]] = {t: {} for t in INT_TEMPLATES}
        strs: dict[str, dict[str, np.ndarray]] = {t: {} for t in WORD_TEMPLATES}
        for (attr, lab), wt in info.state_features.items():
            name, _, val = attr.partition("=")
            if name in ints:
                row = ints[name].get(int(val))
                if row is None:
                    row = ints[name][int(val)] = np.zeros(n)
            elif name in strs:
                row = strs[name].get(val)
                if row is None:
                    row = strs[name][val] = np.zeros(n)
            else:
                continue
            row[lid[lab]] = wt
        # per int template: a key -> row index (dense table or hash) and weight rows (+ a zero
        # row for unseen values); rows of _row_width(n) columns, the labels' scores first
        width = _row_width(n)
        self.int_tables: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._index: dict[str, _KeyIndex] = {}
        for t, d in ints.items():
            keys = np.array(sorted(d), dtype=np.int64)
            w = np.zeros((len(keys) + 1, width), dtype=np.float32)
            for i, k in enumerate(keys.tolist()):
                w[i, :n] = d[k]
            self.int_tables[t] = (keys, w)
            self._index[t] = _KeyIndex(keys)
        # words: one vocabulary for the three word templates
        vocab = sorted(set().union(*(d.keys() for d in strs.values())))
        self.word_id: dict[str, int] = {w: i for i, w in enumerate(vocab)}
        self.word_w: dict[str, np.ndarray] = {}
        for t, d in strs.items():
            w = np.zeros((len(vocab) + 1, width), dtype=np.float32)
            for word, row in d.items():
                w[self.word_id[word], :n] = row
            self.word_w[t] = w
        b = [lab[2:] if lab[:2] in ("B-", "I-", "E-", "S-") else None for lab in labels]
        self.is_begin = np.array([lab[:2] in ("B-", "S-") for lab in labels])
        self.is_inside = np.array([lab[:2] in ("I-", "E-") for lab in labels])
        self.is_last = np.array([lab[:2] in ("E-", "S-") for lab in labels])
        types = sorted({t for t in b if t})
        self.types = types
        self.type_of = np.array([types.index(t) if t else -1 for t in b])

    def emissions(self, f: Features) -> np.ndarray:
        """``(n_chars, n_labels)`` state scores of every character."""
        n = len(self.labels)
        # summed in rows of the tables' width (the pad columns are zeros), then cut to n labels
        e = np.zeros((len(f.word_of_char), _row_width(n)), dtype=np.float32)
        # each template's rows are gathered into one reused buffer, then added: np.take with
        # ``out`` and its default mode='raise' gathers into a temporary and copies that (in
        # case the indices are bad); mode='clip' writes ``out`` directly, and changes nothing
        # here, where every index is a row of the table (clipped, or given by _KeyIndex.rows)
        rows = np.empty_like(e)
        for t, (keys, w) in self.int_tables.items():
            if not len(keys):
                continue
            direct = self._direct.get(t)
            if direct is not None:  # as _KeyIndex.rows reads its dense table, then the weights:
                # every feature value is >= 0 (see featurize), so mode='clip' alone sends a value
                # past the table to its last row, the zero weights of "no such key", as clipping
                # the values to [-1, len - 1] first did, without that copy of the values
                np.take(direct, f.ints[t], axis=0, out=rows, mode="clip")
            else:
                np.take(w, self._index[t].rows(f.ints[t]), axis=0, out=rows, mode="clip")
            e += rows
        unk = len(self.word_id)
        nw = len(f.words)
        if len(f.word_rows) == nw:
            # through the tokens' rows of _word_values (one look-up per token was made for
            # them): 9 tokens in 10 have one; the others are looked up here
            wid = self._id_of_row[f.word_rows]
            rest = np.flatnonzero(wid < 0).tolist()
            words = f.words
            wid[rest] = [self.word_id.get(words[i], unk) for i in rest]
        else:
            wid = np.fromiter(map(self.word_id.get, f.words, repeat(unk, nw)), dtype=np.int64,
                              count=nw)
        wid_ext = np.append(wid, unk)  # index -1 -> unknown (sentence edge)
        # per token first (tokens are fewer than chars), then spread to the chars
        tok = np.zeros((nw, e.shape[1]), dtype=np.float32)
        tok_rows = np.empty_like(tok)
        for t, links in word_links(f).items():
            wid_ext[-1] = self.word_id.get(_EDGE[t], unk)  # index -1: past the sentence's edge
            # (links of -1 read wid_ext's last entry: that take keeps numpy's default mode)
            np.take(self.word_w[t], np.take(wid_ext, links), axis=0, out=tok_rows, mode="clip")
            tok += tok_rows
        np.take(tok, f.word_of_char, axis=0, out=rows, mode="clip")
        e += rows
        return np.ascontiguousarray(e[:, :n]) if e.shape[1] != n else e

    _FEW = 128  # sentences under which a Viterbi step is one (n, n, k) array

    def viterbi(self, e: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Best label id of every character (exact Viterbi), all sentences at once.

        Sentences are sorted by length, longest first, so at step ``t`` the sentences still
        going are a prefix of that order: each step is a few numpy calls on that prefix, with no
        padding and no masks (the number of steps is the longest sentence's length).

        The scores are laid out label-major, ``(n_labels, sentences)``, and the emissions step
        after step (the characters of step ``t`` of the sentences going, one block): each
        numpy call of a step then runs over a contiguous row of sentences rather than over rows
        of ``n_labels`` values (numpy loops innermost over the last axis, here 7 long), which
        made the steps several times slower. The sums and comparisons are the same float32
        operations as in a ``(sentences, n_labels)`` layout."""
        out = np.zeros(len(e), dtype=np.int64)
        lengths = np.asarray(lengths, dtype=np.int64)
        if not len(e) or not len(lengths):
            return out
        offs = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        order = np.argsort(-lengths, kind="stable")
        lens = lengths[order]
        lens = lens[lens > 0]
        if not len(lens):
            return out
        starts = offs[order[:len(lens)]]
        tmax = int(lens[0])
        # active[t]: how many sentences have a character at t
        active = len(lens) - np.searchsorted(lens[::-1], np.arange(tmax), side="right")
        # the characters in step order: step t's block holds char t of sentences 0..active[t]-1
        block = np.concatenate(([0], np.cumsum(active)))
        t_of = np.repeat(np.arange(tmax), active)
        at = np.take(starts, np.arange(len(t_of)) - np.repeat(block[:-1], active)) + t_of
        em = np.ascontiguousarray(np.take(e, at, axis=0).T)  # (n, chars), step after step
        trans = self.trans.astype(np.float32)
        trans_col = trans[:, :, None]  # trans_col[a] is (n, 1): from a to each label
        n = e.shape[1]
        delta = em[:, :len(lens)].copy()
        bps: list[np.ndarray] = [np.empty((n, 0), dtype=np.int8)]
        for t in range(1, tmax):
            k = int(active[t])
            # best previous label for each label: a loop over the few labels is faster than
            # numpy's argmax over an axis of n, but for the steps of fewer than _FEW sentences
            # (the long sentences' tails), where the calls cost more than the sums: then one
            # (n, n, k) array. Both take the first label of the highest score (argmax; a
            # strictly greater score)
            d = delta[:, :k]
            if k < self._FEW:
                sc = d[:, None, :] + trans_col  # sc[a, b, i]: from a to b in sentence i
                arg = sc.argmax(axis=0).astype(np.int8)
                best = sc.max(axis=0)
            else:
                # the best label is the last one to beat the running best (so the first of
                # the highest score): the largest a whose score beat it, a maximum of
                # a * (beat it) -- cheaper than copying a where it beat it
                best = d[0] + trans_col[0]
                arg = np.zeros((n, k), dtype=np.int8)
                for a in range(1, n):
                    c = d[a] + trans_col[a]
                    beat = (c > best).view(np.int8)
                    beat *= np.int8(a)
                    np.maximum(arg, beat, out=arg)
                    np.maximum(best, c, out=best)
            bps.append(arg)
            np.add(best, em[:, block[t]:block[t] + k], out=d)
        # backtrack: a sentence ending at t starts from its best final label
        cur = np.zeros(len(lens), dtype=np.int64)
        fin = delta.argmax(axis=0)
        ar = np.arange(len(lens))
        got = np.empty(len(at), dtype=np.int64)  # labels in step order
        for t in range(tmax - 1, -1, -1):
            k = int(active[t])
            k_next = int(active[t + 1]) if t + 1 < tmax else 0
            if k > k_next:  # sentences whose last character is t
                cur[k_next:k] = fin[k_next:k]
            got[block[t]:block[t] + k] = cur[:k]
            if t:
                cur[:k] = bps[t][cur[:k], ar[:k]]
        out[at] = got
        return out

    def viterbi_plain(self, e: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Viterbi over whole sentences (no fixed characters): the reference for tests."""
        out = np.zeros(len(e), dtype=np.int64)
        if not len(e):
            return out
        offs = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        order = np.argsort(lengths, kind="stable")
        order = order[lengths[order] > 0]
        i = 0
        while i < len(order):
            lo = lengths[order[i]]
            j = i
            cap = max(lo + 8, int(lo * 1.3))
            while j < len(order) and lengths[order[j]] <= cap:
                j += 1
            grp = order[i:j]
            i = j
            self._decode_group(e, offs[grp], lengths[grp], self.trans, out)
        return out

    @staticmethod
    def _decode_group(e: np.ndarray, offs: np.ndarray, lens: np.ndarray, trans: np.ndarray,
                      out: np.ndarray) -> None:
        bsz, tmax, n = len(offs), int(lens.max()), e.shape[1]
        pos = offs[:, None] + np.minimum(np.arange(tmax)[None, :], lens[:, None] - 1)
        eg = e[pos]  # (B, T, n); positions past the end repeat the last char, and are ignored
        bp = np.zeros((bsz, tmax, n), dtype=np.int8)
        delta = eg[:, 0, :].copy()
        rows = np.arange(bsz)
        for t in range(1, tmax):
            s = delta[:, :, None] + trans[None, :, :]
            arg = s.argmax(axis=1)
            bp[:, t, :] = arg
            new = np.take_along_axis(s, arg[:, None, :], axis=1)[:, 0, :] + eg[:, t, :]
            active = t < lens
            delta = np.where(active[:, None], new, delta)
        cur = delta.argmax(axis=1)
        labels = np.zeros((bsz, tmax), dtype=np.int64)
        for t in range(tmax - 1, -1, -1):
            active = t < lens
            labels[:, t] = cur
            if t:
                prev = bp[rows, t, cur]
                cur = np.where(active, prev, cur)
        mask = np.arange(tmax)[None, :] < lens[:, None]
        out[pos[mask]] = labels[mask]

    def spans(self, labels: np.ndarray, lengths: np.ndarray) -> list[list[tuple[int, int, str]]]:
        """``(start, end, type)`` per sentence from the decoded BIO or BIOES labels (an ``I-``
        or ``E-`` without its ``B-`` starts an entity, as conlleval reads it)."""
        res: list[list[tuple[int, int, str]]] = [[] for _ in range(len(lengths))]
        if not len(labels):
            return res
        typ = self.type_of[labels]
        inside = self.is_inside[labels]
        lastl = self.is_last[labels]
        sent_start = np.zeros(len(labels), dtype=bool)
        offs = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        sent_start[offs[lengths > 0]] = True
        prev_typ = np.concatenate(([-1], typ[:-1]))
        prev_last = np.concatenate(([True], lastl[:-1]))
        begin = (typ >= 0) & (~inside | sent_start | (prev_typ != typ) | prev_last)
        # an entity continues while the next char is I- of the same type in the same sentence
        cont = np.zeros(len(labels), dtype=bool)
        cont[:-1] = inside[1:] & (typ[1:] == typ[:-1]) & ~sent_start[1:] & ~lastl[:-1]
        end_mark = (typ >= 0) & ~cont
        bs = np.flatnonzero(begin)
        es = np.flatnonzero(end_mark) + 1
        # each begin pairs with the first end after it
        k = np.searchsorted(es, bs, side="right")
        sent = np.searchsorted(offs, bs, side="right") - 1
        offs_l, types = offs.tolist(), self.types  # Python ints: no numpy scalar per entity
        for b, e_, s_, ty in zip(bs.tolist(), es[k].tolist(), sent.tolist(), typ[bs].tolist(),
                                 strict=True):
            o = offs_l[s_]
            res[s_].append((b - o, e_ - o, types[ty]))
        return res


# ---------------------------------------------------------------------------------------------
# Rules and dictionaries
# ---------------------------------------------------------------------------------------------

_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# characters that do not occur inside the name of a body (function words, verbs of reporting)
_STOP = "的和与及等在将是为对把被了着过也都又并而或向从由以于之其该本各全每这那有无不没曾已"
_STEM = rf"(?:(?![{_STOP}])[{_HAN}])"
_ADMIN = "区市县省镇乡州"
_BIG_SUFFIX = (
    "人大常委会|常委会|委员会|办公室|检察院|法院|人民政府|政府|政协|人大|党校|工委|纪委|监委|"
    "分局|总局|支队|大队|办事处"
)
_SMALL_SUFFIX = "委|局|办|厅|署|(?<![干全内外局本东西南北中头腹大])部|院"
_TAIL = "党委|党组|党工委|纪委|工委|党校|办公室|分局|支队|组织部|宣传部|统战部|政法委"
#: Government and party bodies: [团] + administrative prefix + [stem] + body suffix + [tail].
ORG_RULE = re.compile(
    rf"(?:团)?[{_ADMIN}](?:(?:{_BIG_SUFFIX}|委)|{_STEM}{{1,6}}?(?:{_BIG_SUFFIX}|{_SMALL_SUFFIX}))"
    rf"(?:{_TAIL})?"
)
#: Job titles a token may go on with after a body's name (``区委书记`` holds ``区委``).
_TITLES = (
    "书记", "副书记", "常委", "主任", "副主任", "局长", "副局长", "院长", "副院长", "委员", "部长",
    "副部长", "厅长", "区长", "副区长", "市长", "副市长", "检察长", "主席", "副主席",
)
#: Bylines: the names after 记者/通讯员/... (separated by spaces or 、) are persons.
BYLINE_RULE = re.compile(
    rf"(?:特约记者|见习记者|记者|通讯员|实习生|摄影)[ \u3000:：]*"
    rf"((?:[{_HAN}]{{2,4}}(?:[ \u3000、，,]+|(?![{_HAN}])))+)"
)
_NAME_IN_BYLINE = re.compile(rf"[{_HAN}]{{2,4}}")
#: Sub-districts and towns: a name followed by 街道 or 镇.
GPE_RULE = re.compile("街道|镇")
# words before 街道/镇 that are not names
_NOT_NAMES = frozenset(
    "试点 相关 有关 部分 所在 其他 其它 周边 沿线 各个 全区 全市 各 该 本 多个 城乡 乡 村 城 小 "
    "一个 两个 几个 这个 那个 所有 每个 辖区 社区 基层 重点 示范 特色 老 新 大 中心".split()
)
_NAME_POS = frozenset({_POS_ID[t] for t in ("ns", "nr", "nrt", "nrfg", "nz", "n", "nt", "j", "x",
                                            "l", "i", "ng", "s", "b")} | {0})


@dataclass(frozen=True)
class DictEntry:
    """One line of an entity dictionary."""

    text: str
    label: str


def read_entity_dict(path: Path) -> list[DictEntry]:
    """Parse ``tasks/dicts/ner_orgs.txt``: ``TEXT<whitespace>LABEL`` per line (LABEL one of
    :data:`LABELS`, ``ORG`` when left out), ``#`` starts a comment line, blank lines skipped."""
    out: list[DictEntry] = []
    for lineno, raw in enumerate(Path(path).read_text(encoding="utf-8-sig").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        label = parts[1] if len(parts) > 1 else "ORG"
        if len(parts) > 2 or label not in LABELS:
            raise ValueError(f"{path}:{lineno}: expected 'TEXT [LABEL]', got {line!r}")
        out.append(DictEntry(parts[0], label))
    return out


def _dict_entries(org_dict: Path | None, userdict: Path | None) -> list[DictEntry]:
    entries: dict[str, str] = {}
    if userdict is not None and Path(userdict).exists():
        for w in read_userdict(userdict):
            if w.tag == "nt":
                entries[w.word] = "ORG"
            elif w.tag == "ns":
                entries[w.word] = place_label(w.word)
    if org_dict is not None:
        for e in read_entity_dict(org_dict):
            entries[e.text] = e.label
    return [DictEntry(t, lab) for t, lab in entries.items()]


# ---------------------------------------------------------------------------------------------
# The extractor
# ---------------------------------------------------------------------------------------------

_TIER_CRF_CONTAINS, _TIER_RULE, _TIER_CRF = 0, 1, 2
_VERB_POS = _POS_ID["v"]
#: jieba's name tags, used when there is no model.
_JIEBA_LABELS = {"nr": "PERSON", "nrfg": "PERSON", "nrt": "PERSON", "ns": "LOC", "nt": "ORG"}
_PUNCT_IN_NAME = re.compile(r"[\x00\s，。、；：！？“”‘’（）()《》【】\[\]「」『』,.;:!?\"'／/]")


#: Honorifics and titles after a bare surname (``王小姐``, ``毛主席``, ``胡老``, ``郑某``): the
#: person is the surname alone, as the corpus annotates it.
SURNAME_HONORIFICS: tuple[str, ...] = tuple(sorted(
    "先生 小姐 女士 太太 夫人 老 某 总 师傅 阿姨 大夫 主席 总理 局长 市长 县长 省长 元帅 同志 "
    "老师 教授 大娘 大妈 大爷 大伯 大婶 大嫂 大姐 大哥 奶奶 爷爷 婆婆 伯伯 叔叔 老汉".split(),
    key=len, reverse=True))
#: Compound surnames (a span of two characters before an honorific is one of these).
COMPOUND_SURNAMES = frozenset("欧阳 司马 诸葛 上官 东方 皇甫 尉迟 公孙 慕容 令狐 夏侯 长孙 宇文 "
                              "司徒 端木 独孤 南宫 西门 轩辕 呼延 澹台 万俟 闻人 申屠".split())


#: Last characters of administrative places: a "person" of three or more characters ending in
#: one is a place.
_ADMIN_UNITS = frozenset("省市县乡村区镇")


#: One-character place endings: a "person" of two or more characters right before one is
#: the name of that place (``马拉若|岛``, ``克里姆林|宫``), unless a title starts there (``市长``).
_PLACE_AFTER = frozenset("岛港湾河江山湖宫城镇村省市县州区")
_TITLE_STARTS: tuple[str, ...] = tuple(TITLE_WORDS | HONORIFICS | set(SURNAME_HONORIFICS))
_TITLE_STARTS_SET = frozenset(_TITLE_STARTS)
#: Bodies named after a person or brand: a "person" of two or more characters right before one
#: is the body (``休斯公司``, ``乔治·梅森大学``; not 政府: ``克林顿政府`` names a person; not a bare
#: 报, which also begins verbs: 报名, 报以).
_BODY_AFTER = re.compile("公司|集团|药业|大学|学院|基金会|总领事馆|领事馆|大使馆|银行|日报|晚报|时报|周报")


def person_span(text: str, b: int, e: int) -> tuple[int, str]:
    """The end and CRF type of a CRF person span ``text[b:e]``: a bare surname plus an
    honorific (``王小姐``, ``欧阳先生``) ends after the surname; a span of three or more characters
    ending in an administrative unit (``丘布特省``, ``梁沟村``) is a place (``LOC``), and so is
    one of two or more followed by a place ending (``马拉若岛``: :data:`_PLACE_AFTER`); one
    followed by a company's or institution's word is that body (``休斯公司``: ``ORG``)."""
    name = text[b:e]
    # (most names end in no honorific: one endswith over them all first)
    for h in SURNAME_HONORIFICS if name.endswith(SURNAME_HONORIFICS) else ():
        if name.endswith(h) and len(name) > len(h):
            rest = name[:-len(h)]
            if (len(rest) == 1 and rest in SURNAMES) or rest in COMPOUND_SURNAMES:
                return b + len(rest), "PER"
            break
    if e - b >= 3 and text[e - 1] in _ADMIN_UNITS:
        return e, "LOC"
    if e - b >= 2 and text[e:e + 1] in _PLACE_AFTER and not text.startswith(_TITLE_STARTS, e):
        return e + 1, "LOC"
    m = _BODY_AFTER.match(text, e)
    if m and e - b >= 2:
        return m.end(), "ORG"
    return e, "PER"


#: POS of the segmenter's function words (adverbs, conjunctions, prepositions, numerals, time
#: and locality words): such a token at the end of a person's name (``王晨|都``, ``瓦利|六日``,
#: ``李四光|函中``) is no part of it. Not pronouns: a given name may end in one (``沈求我``), and
#: cutting them changed nothing held out.
_FUNC_POS = frozenset({_POS_ID[t] for t in ("d", "c", "p", "m", "t", "f")})
#: ... time and locality words also when the token goes on past the span (``函中``).
_FUNC_POS_OPEN = frozenset({_POS_ID[t] for t in ("t", "f")})
#: Titles and honorifics of two or more characters: one at the end of a name of two or more
#: characters is no part of it (``贺龙元帅``, ``王汝大夫``).
_NAME_TITLES: tuple[str, ...] = tuple(sorted(
    {w for w in TITLE_WORDS | HONORIFICS | set(SURNAME_HONORIFICS) | {"大夫", "元帅"}
     if len(w) >= 2}, key=len, reverse=True))
#: a name of two or more characters (the shortest) and a title after it
_NAME_TITLE_END = re.compile("(.{2,}?)(?:%s)" % "|".join(_NAME_TITLES), re.S)
_TRANSLIT_SET = frozenset(TRANSLIT)


#: Characters that begin no person's name but often stand right before one, where the model
#: takes them in (``令|欣嘉``, ``致|牟小东``, ``向|学昭``): prepositions, conjunctions and verbs of
#: addressing. Not 和, 于, 祝, 时, which are also common surnames (和万春); 向 is one too, but far
#: more often the preposition.
NAME_LEAD_CHARS = frozenset("令致但由被把对给让与跟在从为是据经请叫使称向")
#: Characters that end no person's name but often follow one, where the model takes them in
#: (``郑咏|是``, ``罗朗·雷斯|及``): particles, conjunctions, adverbs and verbs of saying.
NAME_TRAIL_CHARS = frozenset("是的了在和及与各都也又就便曾将对向说等为被把")
#: ... and these, which end some Chinese given names (王均, 李时), only after a foreign name
#: (``阿·德米特里延科|均``).
FOREIGN_NAME_TRAIL_CHARS = frozenset("均时")
#: What joins the parts of a foreign name (``拉·甘地``, ``约翰—格伦``).
_NAME_JOINERS = "·—"


def _is_han(ch: str) -> bool:
    return bool(ch) and _CLASS[min(ord(ch[0]), 0xFFFF)] == 1


def _foreign_name(name: str) -> bool:
    """A transliterated name: parts joined by ``·``/``—``, or every character typical of
    transliterations."""
    return any(j in name for j in _NAME_JOINERS) or all(c in _TRANSLIT_SET for c in name)


def _name_edges(f: Features, b: int, e: int) -> tuple[int, int]:
    """The edges of a person's name the model found at ``f.text[b:e]`` (two or more characters):

    * a foreign name whose parts are joined by ``·`` or ``—`` takes in the whole part it starts
      or ends next to a joiner (``约翰—|格伦``), and spans whole tokens (``拉·甘|地`` ->
      ``拉·甘地``);
    * characters that end no name (:data:`NAME_TRAIL_CHARS`; :data:`FOREIGN_NAME_TRAIL_CHARS`
      after a foreign name) are cut off its end, and one that begins no name
      (:data:`NAME_LEAD_CHARS`) off its start, while two characters or more are left;
    * a title at its start is cut off (``国务卿|奥尔布赖特``), and so is the end of a role's
      word it starts inside (``长|官|久间章生``)."""
    text = f.text
    if text[b - 1] in _NAME_JOINERS and _is_han(text[b - 2]):
        b = int(f.token_start[b - 2])
    if text[e:e + 1] and text[e] in _NAME_JOINERS and _is_han(text[e + 1:e + 2]):
        e = int(f.token_end[e + 1])
    if any(j in text[b:e] for j in _NAME_JOINERS):
        if not f.boundary[e]:
            e = int(f.token_end[e - 1])
        if not f.boundary[b]:
            b = int(f.token_start[b])
    while e - b >= 3 and (text[e - 1] in NAME_TRAIL_CHARS or (
            text[e - 1] in FOREIGN_NAME_TRAIL_CHARS and _foreign_name(text[b:e - 1]))):
        e -= 1
    if e - b >= 3 and text[b] in NAME_LEAD_CHARS:
        b += 1
    ts, te = int(f.token_start[b]), int(f.token_end[b])
    if e - te >= 2 and f.boundary[te] and (
            text[ts:te] in TITLES_BEFORE_NAMES or (ts < b and text[te - 1] in _ROLE_END)):
        b = te
    return b, e


#: A character is a given-name character when it is one of the given name of this many of the
#: Chinese names of jieba's dictionary (:func:`given_name_counts`).
GIVEN_NAME_MIN = 10


_NR_ENTRY = re.compile(r"^([\u4e00-\u9fff]{2,3}) (\d+) nr\r?$", re.M)


@functools.cache
def given_name_counts() -> dict[str, int]:
    """How many of the Chinese person names of jieba's dictionary (which ships with jieba) hold
    each character in their given name: its ``nr`` entries of 2-3 Han characters, a common
    surname first, frequency 10 or more (the names :func:`tasks.train_ner.jieba_names` reads).
    Counted when the :func:`lexicon` is read (one reading of the file for both)."""
    return _jieba_dict_tables(1)[1]


def _given_name_counts_of_text(text: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for w, freq in _NR_ENTRY.findall(text):
        if w[0] in SURNAMES and int(freq) >= 10:
            for ch in w[1:]:
                counts[ch] = counts.get(ch, 0) + 1
    return counts


def _given_name_end(f: Features, b: int, e: int) -> int:
    """End of a one-character CRF person ``f.text[b:e]``: a surname followed by a token of two
    given-name characters that is no title or honorific (``吴|方军|分管``, ``郑|全军|又``) ends
    after that token; otherwise ``e``."""
    if f.text[b] not in SURNAMES or not f.boundary[e] or f.text[b - 1] in "老小":
        return e
    te = int(f.token_end[e])
    tok = f.text[e:te]
    if te - e != 2 or tok in _TITLE_STARTS_SET or f.text.startswith(_TITLE_STARTS, e):
        return e
    counts = given_name_counts()
    if all(counts.get(ch, 0) >= GIVEN_NAME_MIN for ch in tok):
        return te
    return e


def person_parts(f: Features, b: int, e: int) -> list[tuple[int, int]]:
    """The person(s) of a CRF person span ``f.text[b:e]`` (offsets in ``f.text``):

    * a title or honorific at the end of a name of two or more characters is cut off;
    * a trailing token of a function-word POS (:data:`_FUNC_POS`) that starts two or more
      characters into the span is cut off, unless the name is a transliteration (``·`` or all
      characters typical of transliterations);
    * its edges are mended (:func:`_name_edges`: joined foreign names, characters that begin or
      end no name);
    * ``X对Y`` (a match: ``赵汝权对陶汉明``) is two persons;
    * a lone surname takes in a two-character token of given-name characters after it
      (``吴|方军``: :func:`_given_name_end`);
    * none right after a numeral: that is a unit or a currency (``3．91卢比``, ``11亿马克``)."""
    if _CLASS[min(ord(f.text[b - 1]), 0xFFFF)] in (2, 4):
        return []
    name = f.text[b:e]
    if e - b == 1:
        return [(b, _given_name_end(f, b, e))]
    m = _NAME_TITLE_END.fullmatch(name)
    if m:
        name = m.group(1)
        e = b + len(name)
    last = e - 1
    ts = int(f.token_start[last])
    if (ts - b >= 2 and "·" not in name and not all(c in _TRANSLIT_SET for c in name)):
        pos = int(f.token_pos[last])
        if pos in _FUNC_POS and (f.token_end[last] == e or pos in _FUNC_POS_OPEN):
            e = ts
    b, e = _name_edges(f, b, e)
    name = f.text[b:e]
    k = name.find("对", 2)
    if 2 <= k <= len(name) - 3:
        return [(b, b + k), (b + k + 1, e)]
    return [(b, e)]


#: Titles and roles that stand right before a person's name in world news, besides
#: :data:`TITLE_WORDS` (which the model's features know): after one, what the model took for a
#: place is the person (``国务卿|奥尔布赖特``, ``候选人|帕斯特拉纳``).
TITLES_BEFORE_NAMES = frozenset(
    "国务卿 候选人 领袖 外长 首相 总督 亲王 王子 公主 国王 女王 大臣 议员 参议员 众议员 球员 外援 "
    "教练 主教练 主帅 门将 前锋 后卫 中锋 歌手 歌星 影星 明星 球星 棋手 名将 新秀 发行人 院士 "
    "干事 特使 总裁 董事长 总经理 领导人 首脑 元首 副总统 副总理 部长 大使".split()) | TITLE_WORDS
#: Words that only follow a person: what the model took for a place right before one is the
#: person (``伯奇费尔|院士``).
_ONLY_AFTER_PERSONS: tuple[str, ...] = ("先生", "女士", "小姐", "院士", "教授", "博士", "夫人", "同志")


#: Words that stand right before or after a place's name, never a person's (``城市|哈斯科沃``,
#: ``埃舍德|小镇``): after them, or before them, what the model took for a person is a place.
_PLACE_WORDS_BEFORE = frozenset(("城市", "小镇", "首都", "地区"))
_PLACE_WORDS_AFTER: tuple[str, ...] = ("小镇", "地区", "一带", "等地", "附近", "城")
#: One-character names of countries in pairs and sides (``印巴``, ``中美``, ``韩方``).
COUNTRY_ABBREVIATIONS = frozenset("中美日韩朝俄英法德意印巴越泰菲澳以埃")


def _context_type(f: Features, b: int, e: int, typ: str) -> str:
    """The CRF type of a model span ``f.text[b:e]`` mended by its context: a "person" that is
    a country or a world city (:func:`world_places`), or stands next to a word that only goes
    with places (``城市|哈斯科沃``, ``埃舍德|小镇``), is a place; a "place" of two or more
    characters that is none of those, right after a title (:data:`TITLES_BEFORE_NAMES`) or right
    before a word that only follows persons, is a person."""
    if typ == "PER":
        if (f.text[b:e] in world_places() or f.text[b - 2:b] in _PLACE_WORDS_BEFORE
                or f.text.startswith(_PLACE_WORDS_AFTER, e)):
            return "LOC"
        return typ
    if typ != "LOC" or e - b < 2 or f.text[b:e] in world_places():
        return typ
    if f.boundary[b] and f.text[int(f.token_start[b - 1]):b] in TITLES_BEFORE_NAMES:
        return "PER"
    return "PER" if f.text.startswith(_ONLY_AFTER_PERSONS, e) else typ


JAPANESE_SURNAMES: Path = HERE / "dicts" / "japanese_surnames.txt"
#: Last characters of Japanese given names of three characters (龙太郎, 幸之助); other given
#: names are taken as two characters (英机, 武史).
_JP_GIVEN_END = frozenset("郎助雄夫男子彦树一二三四美江代枝惠之")
#: ... and what ends no given name but a body after the surname (``桥本内阁``, ``丰田汽车公司``).
_NOT_GIVEN_END = frozenset(ORG_SUFFIX_CHARS + "阁府车业")


@functools.cache
def _japanese_surnames() -> _Literals:
    """The surnames of two or more characters (the list's words are plain names: found as
    literals, longest first, where the alternation regex of them found them)."""
    return _Literals([w for w in read_word_list(JAPANESE_SURNAMES) if len(w) >= 2])


def _japanese_name_candidates(f: Features, cands: list[list[tuple[int, int, int, str, str]]]
                              ) -> None:
    """Japanese persons (rule tier): a surname of :data:`JAPANESE_SURNAMES` that starts a token,
    followed by a given name of two Han characters ending a token (``东条|英机``), or of three
    ending in a typical last character (``桥本|龙太郎``); not when a title follows the surname
    (``桥本首相``: the model and the surname rules see those)."""
    text, bnd = f.text, f.boundary
    starts_l = f.starts.tolist()
    for b, g in _japanese_surnames().finditer(text):
        if not bnd[b] or not (_is_han(text[g:g + 1]) and _is_han(text[g + 1:g + 2])):
            continue
        if text[g + 2:g + 3] in _JP_GIVEN_END and _is_han(text[g + 2:g + 3]) and bnd[g + 3]:
            e = g + 3
        elif bnd[g + 2]:
            e = g + 2
        else:
            continue
        if text.startswith(_TITLE_STARTS, g) or text[e - 1] in _NOT_GIVEN_END:
            continue
        si = bisect_right(starts_l, b) - 1
        if si >= 0:
            o = starts_l[si]
            cands[si].append((_TIER_RULE, b - o, e - o, "PERSON", "rule"))


#: Titles and honorifics after which a surname is a person (``副`` only before a title:
#: ``常副局长``; not ``老``, which also ends words: ``古老``, ``元老``).
_SURNAME_TITLE_WORDS: tuple[str, ...] = tuple(sorted(
    (set(SURNAME_HONORIFICS) | HONORIFICS | {"副" + w for w in HONORIFICS if len(w) >= 2})
    - {"副", "老"}, key=len, reverse=True))
#: 1 for the first characters of :data:`_SURNAME_TITLE_WORDS`
_SURNAME_TITLE_FIRST = _flag_table("".join(w[0] for w in _SURNAME_TITLE_WORDS))
#: POS of tokens that are no surname though their character may be one (和, 向, 由, 上, 任).
_NOT_SURNAME_POS = frozenset({_POS_ID[t] for t in ("c", "p", "f", "r", "u", "m", "q", "t")})


class EntityExtractor:
    """Finds entities in sentences; build it once (:func:`get_extractor`) and call
    :meth:`extract` on many sentences at a time."""

    def __init__(self, model: Path | None = DEFAULT_MODEL, org_dict: Path | None = DEFAULT_ORG_DICT,
                 userdict: Path | None = DEFAULT_USERDICT, rules: bool = True) -> None:
        self.crf: CrfModel | None = CrfModel(model) if model is not None else None
        self.rules = rules
        entries = _dict_entries(org_dict, userdict) if rules else []
        self._dict_label = {e.text: e.label for e in entries}
        self._dict_words: _Literals | None = _Literals(list(self._dict_label)) if entries else None

    # -- public --------------------------------------------------------------------------------

    def extract(
        self, sentences: Sequence[str], tagged: Sequence[Sequence[tuple[str, str]]] | None = None
    ) -> list[list[Entity]]:
        """Entities of each sentence, in order of start; spans never overlap.

        ``tagged[i]`` is the segmenter's output for ``sentences[i]`` (reused for the features);
        when None (or not matching a sentence) the sentence is tagged with
        :func:`tasks.segment.get_segmenter`."""
        sentences = list(sentences)
        if not sentences:
            return []
        f = featurize(sentences, tagged, crf=self.crf is not None)
        cands: list[list[tuple[int, int, int, str, str]]] = [[] for _ in sentences]
        if self.crf is not None:
            e = self.crf.emissions(f)
            labels = self.crf.viterbi(e, f.lengths)
            starts = f.starts.tolist()
            for si, spans in enumerate(self.crf.spans(labels, f.lengths)):
                o = starts[si]
                for s, t, typ in spans:
                    if not self._plausible(f, o + s, o + t, typ):
                        continue
                    typ = _context_type(f, o + s, o + t, typ)
                    if typ == "PER" and t - s == 2 and f.text[o + s] in COUNTRY_ABBREVIATIONS and (
                            f.text[o + s + 1] in COUNTRY_ABBREVIATIONS or f.text[o + s + 1] == "方"):
                        # 印巴, 韩中: two countries; 韩方: the Korean side (the country alone)
                        cands[si].append((_TIER_CRF, s, s + 1, "GPE", "crf"))
                        if f.text[o + s + 1] != "方":
                            cands[si].append((_TIER_CRF, s + 1, t, "GPE", "crf"))
                        continue
                    if typ == "PER":
                        t, typ = person_span(f.text, o + s, o + t)
                        t -= o
                        if typ == "PER":
                            for pb, pe in person_parts(f, o + s, o + t):
                                cands[si].append((_TIER_CRF, pb - o, pe - o, "PERSON", "crf"))
                            continue
                    elif typ == "ORG":
                        # a body's name does not end in a verb (省农业厅|组织 专家调研)
                        last = o + t - 1
                        ts = int(f.token_start[last])
                        if (f.token_pos[last] == _VERB_POS and f.token_end[last] == o + t
                                and ts - (o + s) >= 2):
                            t = ts - o
                    cands[si].append((_TIER_CRF, s, t, _CRF_TYPES[typ], "crf"))
        else:
            self._jieba_candidates(f, cands)
        if self.rules:
            self._rule_candidates(f, cands)
            self._surname_title_candidates(f, cands)
            _japanese_name_candidates(f, cands)
        return [self._resolve(sent, c) if c else [] for sent, c in zip(sentences, cands, strict=True)]

    @staticmethod
    def _jieba_candidates(f: Features, cands: list[list[tuple[int, int, int, str, str]]]) -> None:
        """Without a model: the segmenter's name tags (nr, nrfg, nrt -> PERSON; ns -> a place;
        nt -> ORG) as the lowest tier, so rules and the dictionary still come first."""
        labels = {_POS_ID[t]: lab for t, lab in _JIEBA_LABELS.items() if t in _POS_ID}
        n = len(f.token_start)
        at = np.flatnonzero(np.isin(f.token_pos, list(labels)) & (f.token_start == np.arange(n)))
        starts_l = f.starts.tolist()  # Python ints: bisect, not a numpy call per token
        for b, e, pos in zip(at.tolist(), f.token_end[at].tolist(), f.token_pos[at].tolist(),
                             strict=True):
            si = bisect_right(starts_l, b) - 1
            if si < 0 or e - b < 2:
                continue
            o = starts_l[si]
            label = labels[pos]
            if label == "LOC":
                label = place_label(f.text[b:e])
            cands[si].append((_TIER_CRF, b - o, e - o, label, "jieba"))

    @staticmethod
    def _plausible(f: Features, b: int, e: int, typ: str) -> bool:
        """False for a CRF span that holds punctuation or a pad (``杨浦“三区``), or begins or
        ends in the middle dot of a foreign name (``葛兰素·``)."""
        if _PUNCT_IN_NAME.search(f.text, b, e):
            return False
        return f.text[b] != "·" and f.text[e - 1] != "·"

    # -- rules ---------------------------------------------------------------------------------

    @staticmethod
    def _surname_title_candidates(f: Features, cands: list[list[tuple[int, int, int, str, str]]]
                                  ) -> None:
        """A surname that starts a token and is followed by a title or honorific (``毛主席``,
        ``常副局长``, ``程先生``) is a person on its own, where the CRF found nothing (the lowest
        tier): unless the token is a function word (``和|总统``, ``向|主任``)."""
        starts_l = f.starts.tolist()
        # a surname followed by a character that begins a title, found in bulk; only there is
        # the text compared with the titles (a regex would try them at every surname). The
        # tables cover the BMP: code points past it read U+FFFF's flags, which are 0
        bmp = np.minimum(_code_points(f.text), 0xFFFF)
        at = (_FLAGS[bmp[:-1]] & 1) & _SURNAME_TITLE_FIRST[bmp[1:]]
        for b in np.flatnonzero(at).tolist():
            if not f.text.startswith(_SURNAME_TITLE_WORDS, b + 1):
                continue
            if not f.boundary[b] or int(f.token_pos[b]) in _NOT_SURNAME_POS:
                continue
            si = bisect_right(starts_l, b) - 1
            if si >= 0:
                o = starts_l[si]
                cands[si].append((_TIER_CRF, b - o, b - o + 1, "PERSON", "rule"))

    def _rule_candidates(self, f: Features, cands: list[list[tuple[int, int, int, str, str]]]) -> None:
        text, starts = f.text, f.starts
        bnd, tstart, tend, tpos = f.boundary, f.token_start, f.token_end, f.token_pos
        ns_ids = {_POS_ID["ns"]}
        verb_ids = {_POS_ID[t] for t in ("v", "vn", "vd", "vi", "vg")}

        starts_l, lengths_l = starts.tolist(), f.lengths.tolist()

        def add(b: int, e: int, label: str, source: str) -> None:
            si = bisect_right(starts_l, b) - 1
            if si < 0:
                return
            o = starts_l[si]
            if e > o + lengths_l[si]:
                return
            cands[si].append((_TIER_RULE, b - o, e - o, label, source))

        def org_start(b: int) -> int | None:
            """Start of a body's name at ``b``: a token start, or the admin char that ends a
            place token (``杨浦区|人社局``); a place token just before is taken in."""
            if not bnd[b]:
                if text[b] in _ADMIN and tend[b] == b + 1 and tpos[b] in ns_ids:
                    return int(tstart[b])
                return None
            if b > 0 and tpos[b - 1] in ns_ids and text[b] in _ADMIN + "团":
                return int(tstart[b - 1])
            return b

        def org_end(e: int) -> bool:
            if bnd[e]:
                return True
            return text[e:int(tend[e - 1])] in _TITLES

        for m in ORG_RULE.finditer(text):
            b = org_start(m.start())
            last = m.end() - 1
            if tpos[last] in verb_ids and tstart[last] < last:
                continue  # the suffix ends a verb (河北省怀来县举办, 主办, 开办): no body
            if b is not None and org_end(m.end()):
                add(b, m.end(), "ORG", "rule")
        if self._dict_words is not None:
            for b, e in self._dict_words.finditer(text):
                label = self._dict_label[text[b:e]]
                if not (bnd[b] or label == "ORG") or not (bnd[e] or org_end(e)):
                    continue
                if label == "ORG":
                    # 市妇联 -> 市 + 妇联
                    if b > 0 and text[b - 1] in _ADMIN and bnd[b - 1]:
                        b -= 1
                    nb = org_start(b) if bnd[b] else None
                    b = nb if nb is not None else b
                    # a country's body: 印度|外交部, 斯里兰卡|议会
                    if b > 0 and bnd[b] and (tpos[b - 1] in ns_ids
                                             or text[int(tstart[b - 1]):b] in world_places()):
                        b = int(tstart[b - 1])
                add(b, e, label, "dict")
        for m in BYLINE_RULE.finditer(text):
            base = m.start(1)
            for nm in _NAME_IN_BYLINE.finditer(m.group(1)):
                name = nm.group()
                cut = len(name) - 2 if name.endswith(("报道", "摄影")) else len(name)
                if cut >= 2 and name[0] in SURNAMES:
                    add(base + nm.start(), base + nm.start() + cut, "PERSON", "rule")
        for m in GPE_RULE.finditer(text):
            b, e = m.start(), m.end()
            if not bnd[e] and tend[e - 1] != e:
                if text[e:int(tend[e - 1])] not in _TITLES:
                    continue
            if not bnd[b]:  # the suffix ends a token: 江湾镇 -- the whole token if it is a place
                s = int(tstart[b])
                if tpos[b] in ns_ids and e - s >= 3 and text[s:b] not in _NOT_NAMES:
                    add(s, e, "GPE", "rule")
                continue
            # the name: one or two tokens before, 2..5 characters, name-like POS
            s = b
            for _ in range(2):
                if s == 0 or not text[s - 1].strip() or text[s - 1] == "\x00":
                    break
                ps = int(tstart[s - 1])
                word = text[ps:s]
                if word in _NOT_NAMES or tpos[s - 1] not in _NAME_POS or not re.fullmatch(
                        f"[{_HAN}]+", word):
                    break
                s = ps
                if b - s >= 2:
                    break
            if 2 <= b - s <= 5:
                add(s, e, "GPE", "rule")

    # -- merging -------------------------------------------------------------------------------

    @staticmethod
    def _resolve(sent: str, cands: list[tuple[int, int, int, str, str]]) -> list[Entity]:
        if not cands:
            return []
        # spans of the model (or of jieba's tags) alone, within the sentence and disjoint (the
        # usual case): the ranking below would take each of them (none overlaps one taken
        # before it), blank ones aside, and order them by start; so in order of start, without
        # ranking. Checked while they are made: at the first span of a rule, outside the
        # sentence or overlapping the one before, the ranking decides
        out: list[Entity] = []
        end = 0  # of the span before
        for tier, s, e, lab, src in sorted(cands, key=itemgetter(1)) if len(cands) > 1 else cands:
            if tier != _TIER_CRF or not end <= s < e <= len(sent):
                break
            end = e
            text = sent[s:e]
            if text.strip():
                out.append(Entity(s, e, text, place_label(text) if lab == "LOC" else lab, src))
        else:
            return out
        if all(c[0] == _TIER_CRF for c in cands):  # the model's spans alone never overlap
            ranked = sorted((_TIER_CRF, -(e - s), s, e, lab, src) for _, s, e, lab, src in cands)
        else:
            rules = [(s, e, lab) for tier, s, e, lab, _ in cands if tier == _TIER_RULE]
            kinds = {"PERSON": "P", "ORG": "O", "GPE": "L", "LOC": "L"}
            ranked = []
            for tier, s, e, lab, src in cands:
                if tier == _TIER_CRF and any(
                    s <= rs and re_ <= e and (e - s) > (re_ - rs) and kinds[lab] == kinds[rl]
                    for rs, re_, rl in rules
                ):
                    tier = _TIER_CRF_CONTAINS
                ranked.append((tier, -(e - s), s, e, lab, src))
            ranked.sort()
        taken = bytearray(len(sent) + 1)
        out = []
        for _, _, s, e, lab, src in ranked:
            if e <= s or s < 0 or e > len(sent) or any(taken[s:e]):
                continue
            text = sent[s:e]
            if lab == "LOC":
                lab = place_label(text)
            if not text.strip():
                continue
            taken[s:e] = b"\x01" * (e - s)
            out.append(Entity(s, e, text, lab, src))
        out.sort(key=lambda x: x.start)
        return out


@functools.cache
def _build(model: Path | None, org_dict: Path | None, userdict: Path | None, rules: bool) -> EntityExtractor:
    return EntityExtractor(model, org_dict, userdict, rules)


def get_extractor(model: Path | None = DEFAULT_MODEL, org_dict: Path | None = DEFAULT_ORG_DICT,
                  userdict: Path | None = DEFAULT_USERDICT, rules: bool = True) -> EntityExtractor:
    """The process-wide extractor for these files (the model is read once per process)."""
    def res(p: Path | None) -> Path | None:
        return Path(p).resolve() if p is not None else None

    return _build(res(model), res(org_dict), res(userdict), rules)


def crf_info(model: Path = DEFAULT_MODEL) -> dict[str, Any]:
    """Size facts of a model file (for reports)."""
    m = CrfModel(model)
    return {"labels": m.labels, "bytes": Path(model).stat().st_size,
            "int_features": {t: len(k) for t, (k, _) in m.int_tables.items()},
            "words": len(m.word_id)}

