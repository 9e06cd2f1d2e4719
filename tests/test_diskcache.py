"""Tables kept on disk between processes (tasks/diskcache.py): loaded only when everything they
were built from is the same, built again otherwise."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tasks import diskcache


def _counting_build(calls: list[int], value):
    def build():
        calls.append(1)
        return value
    return build


def test_built_once_then_loaded_and_built_again_when_a_source_changes(tmp_path: Path):
    src, cache = tmp_path / "words.txt", tmp_path / "cache"
    cache.mkdir()
    src.write_text("一 二", encoding="utf-8")
    calls: list[int] = []
    value = {"a": np.arange(5, dtype=np.int32)}
    first = diskcache.cached("t", [src], _counting_build(calls, value), directory=cache)
    again = diskcache.cached("t", [src], _counting_build(calls, value), directory=cache)
    assert len(calls) == 1 and first is value
    assert again["a"].dtype == np.int32 and np.array_equal(again["a"], value["a"])
    assert len(list(cache.glob("t-*.pickle"))) == 1
    src.write_text("一 三", encoding="utf-8")
    diskcache.cached("t", [src], _counting_build(calls, value), directory=cache)
    assert len(calls) == 2 and len(list(cache.glob("t-*.pickle"))) == 1  # the old one is gone
    diskcache.cached("t", [src], _counting_build(calls, value), extra="lib 2", directory=cache)
    assert len(calls) == 3


def test_no_cache_when_turned_off_or_the_directory_is_writable_by_others(tmp_path: Path, monkeypatch):
    src = tmp_path / "words.txt"
    src.write_text("一", encoding="utf-8")
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    calls: list[int] = []
    for _ in range(2):
        diskcache.cached("t", [src], _counting_build(calls, 1), directory=shared)
    assert len(calls) == 2 and not list(shared.iterdir())
    mine = tmp_path / "mine"
    mine.mkdir()
    monkeypatch.setenv("NEWSFLOW_DISK_CACHE", "0")
    for _ in range(2):
        diskcache.cached("t", [src], _counting_build(calls, 1), directory=mine)
    assert len(calls) == 4 and not list(mine.iterdir())


def test_a_damaged_file_is_built_again(tmp_path: Path):
    src = tmp_path / "words.txt"
    src.write_text("一", encoding="utf-8")
    calls: list[int] = []
    assert diskcache.cached("t", [src], _counting_build(calls, [1, 2]), directory=tmp_path) == [1, 2]
    (path,) = tmp_path.glob("t-*.pickle")
    path.write_bytes(b"not a pickle")
    assert diskcache.cached("t", [src], _counting_build(calls, [1, 2]), directory=tmp_path) == [1, 2]
    assert len(calls) == 2


@pytest.mark.parametrize("what", ["lexicon", "crf"])
def test_the_entity_tables_loaded_are_the_tables_built(tmp_path: Path, monkeypatch, what):
    from tasks import ner

    monkeypatch.setenv("NEWSFLOW_CACHE_DIR", str(tmp_path))

    def load():
        if what == "lexicon":
            return ner._jieba_dict_tables.__wrapped__(1)
        return ner.CrfModel(ner.DEFAULT_MODEL).__dict__

    built, loaded = load(), load()
    assert len(list(tmp_path.glob("ner-*.pickle"))) == 1

    def same(a, b):
        assert type(a) is type(b)
        if isinstance(a, np.ndarray):
            assert a.dtype == b.dtype and np.array_equal(a, b)
        elif isinstance(a, dict):
            assert list(a) == list(b)
            for k in a:
                same(a[k], b[k])
        elif isinstance(a, (list, tuple)):
            assert len(a) == len(b)
            for x, y in zip(a, b):
                same(x, y)
        elif isinstance(a, ner._KeyIndex):
            same(a.__dict__, b.__dict__)
        else:
            assert a == b

    same(built, loaded)
