"""Decode: one raw file -> :class:`~tasks.model.Document`. Pure: reads files, writes nothing.

* ``read_document`` never raises for a bad file: a file that cannot be read or decoded, an empty
  or whitespace-only file, or a malformed sidecar gives a Document with ``status="quarantined"``
  and ``error`` saying why (``text`` is then ``None``).
* Text is decoded as UTF-8 (a BOM is stripped); failing that, UTF-16 with a BOM; failing that, the
  encoding charset-normalizer finds most plausible. Line ends are normalised to ``\\n``.
* Where a page comes from: a path ``<publication>/<YYYY-MM-DD>/<page>.txt`` below the raw root
  gives publication, issue_date and page_no; a sidecar ``<file>.meta.json`` (``02.txt.meta.json``)
  with any of the keys ``publication``, ``issue_date``, ``page_no`` overrides them.
"""

from __future__ import annotations

import codecs
import datetime as dt
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

from tasks.model import Document

SIDECAR_SUFFIX = ".meta.json"
SIDECAR_KEYS = ("publication", "issue_date", "page_no")

_DATE_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PAGE_STEM = re.compile(r"^\d{1,4}$")
# Characters that never occur in newspaper text; many of them mean we decoded binary as text.
_ALLOWED_CONTROLS = {"\n", "\r", "\t", "\f"}
_MAX_CONTROL_RATIO = 0.01
#: Unicode's control characters (category Cc: U+0000-U+001F and U+007F-U+009F, a set the
#: standard keeps fixed) less the allowed ones, as one character class: counted by the regex
#: engine rather than character by character in Python.
_CONTROLS = re.compile(
    "["
    + "".join(re.escape(chr(c)) for c in [*range(0x20), *range(0x7F, 0xA0)] if chr(c) not in _ALLOWED_CONTROLS)
    + "]"
)
# a page of a newspaper is tens of kilobytes; a file past this is quarantined unread
MAX_PAGE_BYTES = int(float(os.environ.get("NEWSFLOW_MAX_PAGE_MB", "8")) * 1e6)


def doc_id_for(source_path: str) -> str:
    """The stable id of a document: the first 16 hex digits of sha256 of its source path."""
    return hashlib.sha256(source_path.encode("utf-8")).hexdigest()[:16]


def discover(raw_root: Path) -> list[Path]:
    """Every ``*.txt`` file below ``raw_root``, sorted by relative path; hidden dirs/files skipped."""
    raw_root = Path(raw_root)
    found = []
    for path in raw_root.rglob("*.txt"):
        rel = path.relative_to(raw_root)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if path.is_file():
            found.append(path)
    return sorted(found, key=lambda p: p.relative_to(raw_root).as_posix())


def read_document(path: Path, raw_root: Path, max_bytes: int = MAX_PAGE_BYTES) -> Document:
    """Read and decode one raw file. Never raises for a bad file: it is quarantined instead.

    A file larger than ``max_bytes`` is no page of a newspaper (a page is tens of kilobytes):
    it is quarantined unread rather than holding a worker for minutes.
    """
    path, raw_root = Path(path), Path(raw_root)
    source_path = _source_path(path, raw_root)
    doc_id = doc_id_for(source_path)

    def document(data: bytes, encoding: str | None, text: str | None = None, error: str | None = None,
                 **meta: Any) -> Document:
        """The document of these bytes: ``ok`` with its text, or quarantined with ``error``."""
        return Document(
            doc_id=doc_id,
            source_path=source_path,
            sha256=hashlib.sha256(data).hexdigest(),
            n_bytes=len(data),
            encoding=encoding,
            text=None if error else text,
            status="quarantined" if error else "ok",
            error=error,
            **meta,
        )

    def quarantined(data: bytes, error: str, encoding: str | None = None, **meta: Any) -> Document:
        return document(data, encoding, error=error, **meta)

    try:
        size = path.stat().st_size
        if size > max_bytes:
            return _too_large(path, size, max_bytes, quarantined)
        data = path.read_bytes()
    except OSError as exc:
        return quarantined(b"", f"cannot read file: {exc.strerror or exc}")

    meta = path_metadata(source_path)
    try:
        meta.update(read_sidecar(path))
    except SidecarError as exc:
        return quarantined(data, str(exc), **meta)

    text, encoding, error = decode_bytes(data)
    if error is not None:
        return quarantined(data, error, encoding, **meta)
    assert text is not None
    text = normalise_newlines(text)
    if not text.strip():
        return quarantined(data, "empty file", encoding, **meta)

    return document(data, encoding, text, **meta)


def _too_large(path: Path, size: int, max_bytes: int, quarantined: Any) -> Document:
    """Quarantine an oversized file, hashing it in chunks (its hash still identifies it)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    doc = quarantined(b"", f"too large for a page: {size / 1e6:.1f} MB > {max_bytes / 1e6:.1f} MB "
                           f"(set NEWSFLOW_MAX_PAGE_MB to raise the limit)")
    doc.sha256, doc.n_bytes = digest.hexdigest(), size
    return doc


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 text without a BOM: NUL bytes on every other position, plausible text once decoded."""
    if len(data) < 4 or len(data) % 2:
        return None
    for encoding in ("utf-16-le", "utf-16-be"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        printable = sum(1 for ch in text if ch.isprintable() or ch in "\n\r\t")
        han = sum(1 for ch in text if "\u3400" <= ch <= "\u9fff")
        if printable > 0.98 * len(text) and han + sum(ch.isascii() for ch in text) > 0.9 * len(text):
            return text
    return None


def decode_bytes(data: bytes) -> tuple[str | None, str | None, str | None]:
    """Decode file bytes. Returns ``(text, encoding, error)``; exactly one of text/error is set."""
    if not data:
        return None, None, "empty file"
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8) :].decode("utf-8"), "utf-8-sig", None
        except UnicodeDecodeError as exc:
            return None, None, f"cannot decode: UTF-8 BOM but invalid UTF-8 at byte {exc.start}"
    try:
        return _checked(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return _checked(data.decode("utf-16"), "utf-16")
        except UnicodeDecodeError as exc:
            return None, None, f"cannot decode: UTF-16 BOM but invalid UTF-16 at byte {exc.start}"
    if b"\x00" in data:
        text16 = _utf16_without_bom(data)
        if text16 is not None:
            return _checked(text16, "utf-16")
        return None, None, "cannot decode: binary file (contains NUL bytes)"

    from charset_normalizer import from_bytes  # imported here: only needed for non-UTF-8 files

    best = from_bytes(data).best()
    if best is None:
        return None, None, _not_utf8_reason(data)
    return _checked(str(best), best.encoding)


def _not_utf8_reason(data: bytes) -> str:
    """Say where UTF-8 broke when the file is mostly UTF-8 (a damaged file, not another encoding)."""
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    if bad and bad <= 0.01 * len(text):
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            return (f"cannot decode: invalid UTF-8 at byte {exc.start} ({bad} bad sequence(s) in "
                    f"{len(data)} bytes); not decoded, to lose nothing silently")
    return "cannot decode: not UTF-8 and no plausible text encoding found"


def _checked(text: str, encoding: str) -> tuple[str | None, str | None, str | None]:
    """Reject text that is mostly what binary data decodes to: NULs and control characters."""
    if "\x00" in text:
        return None, encoding, f"cannot decode: binary file (NUL characters in {encoding} text)"
    controls = len(_CONTROLS.findall(text))
    if text and controls / len(text) > _MAX_CONTROL_RATIO:
        return (
            None,
            encoding,
            f"cannot decode: looks binary ({controls} control characters in {encoding} text)",
        )
    return text, encoding, None


def normalise_newlines(text: str) -> str:
    """CRLF and lone CR -> LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def path_metadata(source_path: str) -> dict[str, Any]:
    """publication, issue_date, page_no from ``<publication>/<YYYY-MM-DD>/<page>.txt`` (else None)."""
    meta: dict[str, Any] = {"publication": None, "issue_date": None, "page_no": None}
    parts = source_path.split("/")
    if len(parts) < 3:
        return meta
    publication, date_dir, filename = parts[-3], parts[-2], parts[-1]
    if not _DATE_DIR.match(date_dir):
        return meta
    try:
        issue_date = dt.date.fromisoformat(date_dir)
    except ValueError:
        return meta
    meta["publication"] = publication
    meta["issue_date"] = issue_date
    stem = filename[: -len(".txt")] if filename.endswith(".txt") else filename
    if _PAGE_STEM.match(stem):
        meta["page_no"] = int(stem)
    return meta


class SidecarError(ValueError):
    """A ``.meta.json`` sidecar exists but cannot be used."""


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.name + SIDECAR_SUFFIX)


def read_sidecar(path: Path) -> dict[str, Any]:
    """The overrides in ``<file>.meta.json`` ({} when there is no sidecar).

    Raises :class:`SidecarError` with a clear reason when the sidecar is malformed.
    """
    side = sidecar_path(path)
    if not side.is_file():
        return {}
    where = f"malformed sidecar {side.name}"
    try:
        raw = side.read_bytes()
    except OSError as exc:
        raise SidecarError(f"{where}: cannot read: {exc.strerror or exc}") from None
    try:
        obj = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise SidecarError(f"{where}: not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise SidecarError(f"{where}: invalid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(obj, dict):
        raise SidecarError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    unknown = sorted(set(obj) - set(SIDECAR_KEYS))
    if unknown:
        raise SidecarError(
            f"{where}: unknown key(s) {', '.join(unknown)} (allowed: {', '.join(SIDECAR_KEYS)})"
        )

    out: dict[str, Any] = {}
    if "publication" in obj:
        pub = obj["publication"]
        if pub is not None and (not isinstance(pub, str) or not pub.strip()):
            raise SidecarError(f"{where}: publication must be a non-empty string or null")
        out["publication"] = pub.strip() if isinstance(pub, str) else None
    if "issue_date" in obj:
        value = obj["issue_date"]
        if value is None:
            out["issue_date"] = None
        elif isinstance(value, str) and _DATE_DIR.match(value):
            try:
                out["issue_date"] = dt.date.fromisoformat(value)
            except ValueError:
                raise SidecarError(f"{where}: issue_date {value!r} is not a real date") from None
        else:
            raise SidecarError(f"{where}: issue_date must be 'YYYY-MM-DD' or null, got {value!r}")
    if "page_no" in obj:
        value = obj["page_no"]
        if isinstance(value, str) and _PAGE_STEM.match(value):
            value = int(value)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise SidecarError(f"{where}: page_no must be a positive integer or null, got {obj['page_no']!r}")
        out["page_no"] = value
    return out


def _source_path(path: Path, raw_root: Path) -> str:
    try:
        return path.relative_to(raw_root).as_posix()
    except ValueError:
        try:
            return path.resolve().relative_to(raw_root.resolve()).as_posix()
        except ValueError:
            return path.as_posix()
