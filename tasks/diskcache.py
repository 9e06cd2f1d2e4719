"""Tables built from files, kept on disk so that the next process loads them instead of
building them again.

Each worker process of a run builds the entity extractor's tables as it starts: the lexicon of
jieba's dictionary (some 340,000 words hashed into numpy tables) and the CRF's weights as lookup
tables, 0.6-0.7 s of CPU per worker, every run, on the way to the run's first file. Built once
and pickled, they load in a few milliseconds. A cached table is named by a SHA-256 of everything
it is built from: the bytes of its source files and of the code that builds it, the Python and
numpy versions and :data:`FORMAT`; any change to one of them names another file, which is built
anew (the older files of the same table are removed then). A file is loaded only from a
directory, and when it is a file, owned by this user and writable by no one else (a pickle runs
code as it loads); otherwise, or when it cannot be read or written, the table is built as before.
``NEWSFLOW_DISK_CACHE=0`` turns the cache off. Where: :func:`tasks.segment.cache_dir`.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

#: Bumped when what is pickled changes shape without a change to the code files named.
FORMAT = 1

_T = TypeVar("_T")


def enabled() -> bool:
    return os.environ.get("NEWSFLOW_DISK_CACHE", "1").strip().lower() not in ("0", "false", "no", "off")


def digest(name: str, files: Sequence[Path], extra: str = "") -> str:
    """SHA-256 (hex, first 32 digits) of ``name``, :data:`FORMAT`, the Python and numpy versions,
    ``extra`` and the bytes of ``files``."""
    import numpy as np

    h = hashlib.sha256(f"{name}\0{FORMAT}\0{sys.version}\0{np.__version__}\0{extra}".encode())
    for f in files:
        data = Path(f).read_bytes()
        h.update(f"\0{len(data)}\0".encode())
        h.update(data)
    return h.hexdigest()[:32]


def _private(path: Path) -> bool:
    """Owned by this user and writable by no one else."""
    try:
        st = path.stat()
    except OSError:
        return False
    return st.st_uid == os.getuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def cached(name: str, files: Sequence[Path], build: Callable[[], _T], *, extra: str = "",
           directory: Path | None = None) -> _T:
    """``build()``, or what it returned for the same ``name``, ``files`` and ``extra`` (say, the
    version of a library the build reads through) before (see the module docstring), loaded
    from ``directory`` (default :func:`tasks.segment.cache_dir`)."""
    if not enabled():
        return build()
    try:
        if directory is None:
            from tasks.segment import cache_dir

            directory = cache_dir()
        directory = Path(directory)
        path = directory / f"{name}-{digest(name, files, extra)}.pickle"
    except OSError:
        return build()
    if _private(directory) and _private(path):
        try:
            with path.open("rb") as fh:
                return pickle.load(fh)
        except Exception:  # noqa: BLE001 - a damaged or foreign file: built again below
            pass
    value = build()
    if _private(directory):
        _store(directory, name, path, value)
    return value


def _store(directory: Path, name: str, path: Path, value: object) -> None:
    """Write ``value`` to ``path`` whole (a temporary file moved into place: another process
    never reads half a file) and remove the other files of ``name``."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with tmp.open("wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except Exception:  # noqa: BLE001 - no cache then; the value is still returned
        tmp.unlink(missing_ok=True)
        return
    for old in directory.glob(f"{name}-*.pickle"):
        if old != path:
            try:
                old.unlink()
            except OSError:
                pass
