"""Word segmentation and POS tagging behind one small interface.

Two engines give the same tokens (jieba's default dictionary + HMM, plus our user dictionary):

* :class:`RjiebaSegmenter` -- the Rust port (``rjieba``), fast; the default.
* :class:`JiebaSegmenter` -- the reference pure-python ``jieba``.

Tags are from jieba's tag set (:data:`JIEBA_TAGS`). :func:`get_segmenter` builds an engine once per
process, so a worker loads its dictionaries once.

The user dictionary (``tasks/dicts/userdict.txt``) is in jieba's format, ``word freq tag`` per line,
UTF-8, no comments (jieba would read a comment as a word). Every entry carries an explicit
frequency so both engines weigh it the same.
"""

from __future__ import annotations

import functools
import importlib.machinery
import importlib.util
import logging
import operator
import os
import re
import sys
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

DEFAULT_USERDICT: Path = Path(__file__).resolve().parent / "dicts" / "userdict.txt"

#: jieba's POS tags: those of its dictionary, of posseg's HMM states, and ``eng`` for latin words.
JIEBA_TAGS: frozenset[str] = frozenset(
    "a ad ag an b bg c d df dg e en eng f g h i in j jn k l ln m mg mq n ng nr nrfg nrt ns nt nz "
    "o p q qe qg r rg rr rz s t tg u ud ug uj ul uv uz v vd vg vi vn vq w x y yg z zg".split()
)

ENGINES: tuple[str, ...] = ("rjieba", "jieba")

# jieba's own user-dictionary line grammar (jieba.re_userdict).
_USERDICT_LINE = re.compile(r"^(.+?)( [0-9]+)?( [a-z]+)?$")
_NUMBER = re.compile(r"^[0-9０-９.．,，%％]*[0-9０-９][0-9０-９.．,，%％]*$")
_LATIN = re.compile(r"[A-Za-zＡ-Ｚａ-ｚ]")
_first, _second = operator.itemgetter(0), operator.itemgetter(1)


@runtime_checkable
class Segmenter(Protocol):
    """Splits text into ``(token, pos)`` pairs whose tokens concatenate back to the text."""

    name: str

    def tag(self, text: str) -> list[tuple[str, str]]:
        """Tokens of ``text`` with a tag from :data:`JIEBA_TAGS` each."""
        ...


@dataclass(frozen=True)
class UserWord:
    """One user dictionary entry."""

    word: str
    freq: int
    tag: str


def read_userdict(path: Path) -> list[UserWord]:
    """Parse a jieba-format user dictionary; every line must give a word, a freq and a tag."""
    words: list[UserWord] = []
    for lineno, raw in enumerate(Path(path).read_text(encoding="utf-8-sig").splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        m = _USERDICT_LINE.match(line)
        if m is None or m.group(2) is None or m.group(3) is None:
            raise ValueError(f"{path}:{lineno}: expected 'word freq tag', got {line!r}")
        words.append(UserWord(m.group(1), int(m.group(2)), m.group(3).strip()))
    return words


def cache_dir() -> Path:
    """A writable, stable directory for dictionary caches (``$NEWSFLOW_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/newsflow``, else ``~/.cache/newsflow``; the temp dir as a last resort)."""
    env = os.environ.get("NEWSFLOW_CACHE_DIR")
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    candidates = [Path(env)] if env else []
    candidates += [Path(base) / "newsflow", Path(tempfile.gettempdir()) / "newsflow"]
    for d in candidates:
        try:
            d.mkdir(parents=True, exist_ok=True)
            if os.access(d, os.W_OK):
                return d
        except OSError:
            continue
    return Path(tempfile.gettempdir())


def char_class_tag(token: str) -> str | None:
    """The tag of a token without Han characters: 'm' numbers, 'eng' latin, 'x' the rest.

    ``None`` when the token contains a Han character (it needs a dictionary)."""
    if any(unicodedata.name(c, "").startswith("CJK UNIFIED") for c in token):
        return None
    if _NUMBER.match(token):
        return "m"
    if _LATIN.search(token):
        return "eng"
    return "x"


def rjieba_class() -> Any:
    """rjieba's ``Jieba`` class, from its compiled module alone.

    ``import rjieba`` builds a module-level ``Jieba()`` for its ``rjieba.cut`` and the like:
    a whole copy of jieba's dictionary in Rust (about 25 MB and 0.2 s per process), which
    nothing here uses, since :class:`RjiebaSegmenter` builds its own instance (with the user
    dictionary). So the compiled module ``rjieba.rjieba`` is loaded without the package's
    ``__init__``; it is registered under its own name, so a later ``import rjieba`` reuses it
    (and builds its default instance then). When rjieba is imported already, or its compiled
    module cannot be found this way, the class comes from the package as usual."""
    package = sys.modules.get("rjieba")
    if package is not None:
        return package.Jieba
    module = sys.modules.get("rjieba.rjieba")
    if module is None:
        spec = importlib.util.find_spec("rjieba")
        where = list(spec.submodule_search_locations or []) if spec is not None else []
        found = [Path(d) / f"rjieba{suffix}" for d in where
                 for suffix in importlib.machinery.EXTENSION_SUFFIXES]
        found = [p for p in found if p.is_file()]
        ext = importlib.util.spec_from_file_location("rjieba.rjieba", found[0]) if found else None
        if ext is None or ext.loader is None:
            import rjieba

            return rjieba.Jieba
        module = importlib.util.module_from_spec(ext)
        sys.modules["rjieba.rjieba"] = module
        try:
            ext.loader.exec_module(module)
        except BaseException:
            del sys.modules["rjieba.rjieba"]
            raise
    return module.Jieba


class RjiebaSegmenter:
    """Segmenter on ``rjieba`` (jieba-rs): tokens are exactly ``cut(text, hmm=True)``."""

    name = "rjieba"

    def __init__(self, userdict: Path | None = DEFAULT_USERDICT) -> None:
        self._jieba: Any = rjieba_class()()
        self._user_tags: dict[str, str] = {}
        if userdict is not None:
            for w in read_userdict(userdict):
                self._jieba.add_word(w.word, w.freq, w.tag)
                self._user_tags[w.word] = w.tag

    def cut(self, text: str) -> list[str]:
        """The tokens of ``text``."""
        return list(self._jieba.cut(text, hmm=True))

    def tag(self, text: str) -> list[tuple[str, str]]:
        """Cut's tokens with rjieba's tags: jieba-rs's ``tag`` is its ``cut`` followed by a
        dictionary lookup per word, so one call gives both (the tokens are exactly ``cut``'s;
        the parity tests hold them to jieba's). User dictionary tags win: rjieba keeps its own
        tag for a word it already knows; a tag outside jieba's set is looked up."""
        if not text:
            return []
        user, known, lookup = self._user_tags, JIEBA_TAGS, self._lookup
        pairs = self._jieba.tag(text, hmm=True)
        # Most sentences have no user word and only known tags: then the pairs are the answer
        # as they come (both tests run in C, not per token in Python)
        if user.keys().isdisjoint(map(_first, pairs)) and known.issuperset(map(_second, pairs)):
            return pairs
        return [(w, user.get(w) or (p if p in known else lookup(w))) for w, p in pairs]

    @functools.lru_cache(maxsize=65536)  # noqa: B019 -- segmenters live for the process
    def _lookup(self, token: str) -> str:
        """The tag of one token on its own: user dict, then rjieba's dictionary, then char class."""
        if token in self._user_tags:
            return self._user_tags[token]
        cls = char_class_tag(token)
        if cls is not None:
            return cls
        alone = self._jieba.tag(token, hmm=True)
        if len(alone) == 1 and alone[0][1] in JIEBA_TAGS:
            return str(alone[0][1])
        return "x"


class JiebaSegmenter:
    """Segmenter on pure-python ``jieba``: tokens are ``Tokenizer.cut(text, HMM=True)``.

    Tags: non-Han tokens by character class ('x', 'm', 'eng'), else posseg's word->tag table
    (with the user dictionary's tags), else posseg run on just that token (cached)."""

    name = "jieba"

    def __init__(self, userdict: Path | None = DEFAULT_USERDICT) -> None:
        import jieba
        import jieba.posseg

        jieba.setLogLevel(logging.WARNING)
        self._tok: Any = jieba.Tokenizer()
        # The default dictionary's prefix cache: built once per machine (and jieba version),
        # not in /tmp per run. jieba writes it atomically, so concurrent workers are safe.
        self._tok.tmp_dir = str(cache_dir())
        self._tok.cache_file = f"jieba-{jieba.__version__}.cache"
        self.cache_path: Path = Path(self._tok.tmp_dir) / self._tok.cache_file
        self._tok.initialize()
        if userdict is not None:
            read_userdict(userdict)  # same strictness as the rjieba engine
            self._tok.load_userdict(str(userdict))
        self._pos: Any = jieba.posseg.POSTokenizer(self._tok)
        self._pos.makesure_userdict_loaded()
        self._word_tag: dict[str, str] = self._pos.word_tag_tab

    def cut(self, text: str) -> list[str]:
        """The tokens of ``text``."""
        return list(self._tok.cut(text, HMM=True))

    def tag(self, text: str) -> list[tuple[str, str]]:
        """Tokens of ``text`` with their tags."""
        if not text:
            return []
        return [(t, self._tag_of(t)) for t in self._tok.cut(text, HMM=True)]

    @functools.lru_cache(maxsize=65536)  # noqa: B019 -- segmenters live for the process
    def _tag_of(self, token: str) -> str:
        cls = char_class_tag(token)
        if cls is not None:
            return cls
        tag = self._word_tag.get(token)
        if tag in JIEBA_TAGS:
            return str(tag)
        pairs = self._pos.lcut(token, HMM=True)
        # posseg may split an unknown word; take the last piece's tag (Chinese heads are final).
        flag = pairs[-1].flag if pairs else "x"
        return flag if flag in JIEBA_TAGS else "x"


@functools.cache
def _build(engine: str, userdict: Path | None) -> Segmenter:
    if engine == "rjieba":
        return RjiebaSegmenter(userdict)
    if engine == "jieba":
        return JiebaSegmenter(userdict)
    raise ValueError(f"unknown segmenter engine {engine!r}; expected one of {ENGINES}")


def get_segmenter(engine: str = "rjieba", userdict: Path | None = DEFAULT_USERDICT) -> Segmenter:
    """The process-wide segmenter for ``engine`` ('rjieba' or 'jieba') with ``userdict``."""
    return _build(engine, Path(userdict).resolve() if userdict is not None else None)
