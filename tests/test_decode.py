"""tasks/decode.py: bytes -> Document, path conventions, sidecars, discovery."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest

from tasks.decode import decode_bytes, discover, doc_id_for, read_document

SEED = Path(__file__).resolve().parents[1] / "raw" / "000_c9cd572a92cace71.txt"
TEXT = "要闻·综合\n\n本报讯 区委召开学习讨论会。\n与会人员围绕推动经济高质量发展。\n"


def write(root: Path, rel: str, data: bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def read(root: Path, rel: str, data: bytes):
    return read_document(write(root, rel, data), root)


# --- decoding -------------------------------------------------------------------------------


def test_utf8_document_fields(tmp_path: Path) -> None:
    data = TEXT.encode("utf-8")
    doc = read(tmp_path, "page.txt", data)
    assert doc.status == "ok" and doc.error is None
    assert doc.text == TEXT
    assert doc.encoding == "utf-8"
    assert doc.n_bytes == len(data)
    assert doc.sha256 == hashlib.sha256(data).hexdigest()
    assert doc.source_path == "page.txt"
    assert doc.doc_id == doc_id_for("page.txt")
    assert len(doc.doc_id) == 16 and int(doc.doc_id, 16) >= 0


def test_seed_page_decodes() -> None:
    doc = read_document(SEED, SEED.parent)
    assert doc.status == "ok"
    assert doc.text is not None and doc.text.startswith(" 要闻·综合")
    assert doc.n_bytes == SEED.stat().st_size
    assert (doc.publication, doc.issue_date, doc.page_no) == (None, None, None)


def test_bom_is_stripped_and_hash_is_of_the_raw_bytes(tmp_path: Path) -> None:
    data = b"\xef\xbb\xbf" + TEXT.encode("utf-8")
    doc = read(tmp_path, "bom.txt", data)
    assert doc.status == "ok"
    assert doc.text == TEXT
    assert not doc.text.startswith("\ufeff")
    assert doc.sha256 == hashlib.sha256(data).hexdigest()
    assert doc.n_bytes == len(data)


@pytest.mark.parametrize(
    "raw",
    [TEXT.replace("\n", "\r\n"), TEXT.replace("\n", "\r"), "要闻\r\n\r本报讯\n完。\r"],
    ids=["crlf", "cr", "mixed"],
)
def test_line_ends_are_normalised(tmp_path: Path, raw: str) -> None:
    doc = read(tmp_path, "lines.txt", raw.encode("utf-8"))
    assert doc.status == "ok"
    assert "\r" not in doc.text
    assert doc.text == raw.replace("\r\n", "\n").replace("\r", "\n")


def test_empty_file_is_quarantined(tmp_path: Path) -> None:
    doc = read(tmp_path, "empty.txt", b"")
    assert doc.status == "quarantined"
    assert doc.error == "empty file"
    assert doc.text is None
    assert doc.n_bytes == 0


@pytest.mark.parametrize("data", [b"   \n\r\n\t ", "\u3000\u3000\n".encode("utf-8"), b"\xef\xbb\xbf\n"])
def test_whitespace_only_file_is_quarantined(tmp_path: Path, data: bytes) -> None:
    doc = read(tmp_path, "blank.txt", data)
    assert doc.status == "quarantined"
    assert doc.error == "empty file"
    assert doc.text is None
    assert doc.n_bytes == len(data)


@pytest.mark.parametrize(
    "data",
    [
        bytes(range(256)) * 4,  # every byte value, NULs included
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64),  # a PNG header
        TEXT.encode("utf-8") + b"\x00\x00" + TEXT.encode("utf-8"),  # text with NULs in it
    ],
    ids=["all-bytes", "png", "nul-in-text"],
)
def test_binary_file_is_quarantined_not_raised(tmp_path: Path, data: bytes) -> None:
    doc = read(tmp_path, "binary.txt", data)
    assert doc.status == "quarantined"
    assert doc.error is not None and doc.error.startswith("cannot decode")
    assert doc.text is None
    assert doc.sha256 == hashlib.sha256(data).hexdigest()


def test_random_bytes_without_nul_are_quarantined(tmp_path: Path) -> None:
    # Deterministic "random" bytes with no NUL and no valid UTF-8 structure.
    data = bytes((i * 73 + 41) % 255 + 1 for i in range(512))
    doc = read(tmp_path, "noise.txt", data)
    assert doc.status == "quarantined"
    assert doc.error.startswith("cannot decode")


def test_gb18030_file_is_detected(tmp_path: Path) -> None:
    text = "本报讯 区委召开学习讨论会，深入贯彻落实党的十九届四中全会精神。\n" * 5
    doc = read(tmp_path, "gb.txt", text.encode("gb18030"))
    assert doc.status == "ok", doc.error
    assert doc.text == text
    assert doc.encoding and doc.encoding.lower().replace("_", "") in {"gb18030", "gbk", "gb2312"}


def test_utf16_with_bom_is_decoded(tmp_path: Path) -> None:
    doc = read(tmp_path, "u16.txt", TEXT.encode("utf-16"))
    assert doc.status == "ok", doc.error
    assert doc.text == TEXT


def test_unreadable_path_is_quarantined(tmp_path: Path) -> None:
    (tmp_path / "dir.txt").mkdir()  # a directory cannot be read as a file
    doc = read_document(tmp_path / "dir.txt", tmp_path)
    assert doc.status == "quarantined"
    assert doc.error.startswith("cannot read file")


def test_decode_bytes_contract() -> None:
    assert decode_bytes(TEXT.encode()) == (TEXT, "utf-8", None)
    text, encoding, error = decode_bytes(b"\x00\x01\x02")
    assert text is None and error and "NUL" in error


# --- where a page comes from ----------------------------------------------------------------


def test_path_convention(tmp_path: Path) -> None:
    doc = read(tmp_path, "renmin/2020-01-02/02.txt", TEXT.encode())
    assert doc.source_path == "renmin/2020-01-02/02.txt"
    assert doc.publication == "renmin"
    assert doc.issue_date == dt.date(2020, 1, 2)
    assert doc.page_no == 2
    assert doc.doc_id == doc_id_for("renmin/2020-01-02/02.txt")


def test_path_convention_deeper_below_raw_root(tmp_path: Path) -> None:
    doc = read(tmp_path, "archive/yangpu/2019-12-10/12.txt", TEXT.encode())
    assert doc.source_path == "archive/yangpu/2019-12-10/12.txt"
    assert (doc.publication, doc.issue_date, doc.page_no) == ("yangpu", dt.date(2019, 12, 10), 12)


@pytest.mark.parametrize(
    "rel, expected",
    [
        ("page.txt", (None, None, None)),
        ("renmin/02.txt", (None, None, None)),
        ("renmin/2020-13-40/02.txt", (None, None, None)),  # not a real date
        ("renmin/20200102/02.txt", (None, None, None)),
        ("renmin/2020-01-02/front.txt", ("renmin", dt.date(2020, 1, 2), None)),
    ],
)
def test_paths_off_the_convention(tmp_path: Path, rel: str, expected: tuple) -> None:
    doc = read(tmp_path, rel, TEXT.encode())
    assert doc.status == "ok"
    assert (doc.publication, doc.issue_date, doc.page_no) == expected


def test_doc_id_is_stable_and_depends_on_path_only(tmp_path: Path) -> None:
    a = read(tmp_path / "one", "x/2020-01-01/01.txt", b"first")
    b = read(tmp_path / "two", "x/2020-01-01/01.txt", b"second, different bytes")
    c = read(tmp_path / "one", "x/2020-01-01/02.txt", b"first")
    assert a.doc_id == b.doc_id == hashlib.sha256(b"x/2020-01-01/01.txt").hexdigest()[:16]
    assert a.doc_id != c.doc_id


def test_sidecar_overrides_path(tmp_path: Path) -> None:
    write(
        tmp_path,
        "renmin/2020-01-02/02.txt.meta.json",
        json.dumps({"publication": "杨浦时报", "issue_date": "2019-12-10", "page_no": 3}).encode(),
    )
    doc = read(tmp_path, "renmin/2020-01-02/02.txt", TEXT.encode())
    assert doc.status == "ok"
    assert (doc.publication, doc.issue_date, doc.page_no) == ("杨浦时报", dt.date(2019, 12, 10), 3)


def test_sidecar_overrides_only_its_keys(tmp_path: Path) -> None:
    write(tmp_path, "renmin/2020-01-02/02.txt.meta.json", b'{"page_no": 5}')
    doc = read(tmp_path, "renmin/2020-01-02/02.txt", TEXT.encode())
    assert (doc.publication, doc.issue_date, doc.page_no) == ("renmin", dt.date(2020, 1, 2), 5)


def test_sidecar_gives_metadata_off_the_convention(tmp_path: Path) -> None:
    write(tmp_path, "loose.txt.meta.json", b'{"publication": "yp", "issue_date": "2019-12-10"}')
    doc = read(tmp_path, "loose.txt", TEXT.encode())
    assert (doc.publication, doc.issue_date, doc.page_no) == ("yp", dt.date(2019, 12, 10), None)


@pytest.mark.parametrize(
    "content, reason",
    [
        (b"{not json", "invalid JSON"),
        (b"[1, 2]", "expected a JSON object"),
        (b'{"page": 2}', "unknown key"),
        (b'{"issue_date": "10/12/2019"}', "issue_date"),
        (b'{"issue_date": "2019-02-30"}', "not a real date"),
        (b'{"page_no": "two"}', "page_no"),
        (b'{"page_no": 0}', "page_no"),
        (b'{"page_no": true}', "page_no"),
        (b'{"publication": 7}', "publication"),
    ],
)
def test_malformed_sidecar_quarantines_with_reason(tmp_path: Path, content: bytes, reason: str) -> None:
    write(tmp_path, "p/2020-01-02/02.txt.meta.json", content)
    doc = read(tmp_path, "p/2020-01-02/02.txt", TEXT.encode())
    assert doc.status == "quarantined"
    assert doc.text is None
    assert doc.error.startswith("malformed sidecar 02.txt.meta.json")
    assert reason in doc.error


# --- discovery ------------------------------------------------------------------------------


def test_discover_finds_txt_recursively_sorted_skipping_hidden(tmp_path: Path) -> None:
    for rel in [
        "b/2020-01-02/02.txt",
        "a.txt",
        "b/2020-01-02/01.txt",
        "b/2020-01-02/01.txt.meta.json",
        "notes.md",
        ".git/x.txt",
        "b/.cache/y.txt",
        ".hidden.txt",
    ]:
        write(tmp_path, rel, b"x")
    (tmp_path / "dir.txt").mkdir()
    found = [p.relative_to(tmp_path).as_posix() for p in discover(tmp_path)]
    assert found == ["a.txt", "b/2020-01-02/01.txt", "b/2020-01-02/02.txt"]


def test_discover_empty_dir(tmp_path: Path) -> None:
    assert discover(tmp_path) == []


# --- the bad input of a long-running archive ------------------------------------------------

BIG5_TEXT = (
    "本報訊 十二月七日至八日，區委召開學習討論會，深入貫徹落實黨的十九屆四中全會精神。\n"
    "與會人員圍繞推動經濟高質量發展、提高城市治理現代化水平，談思路、提建議、謀劃明年工作。\n"
) * 4


def test_gbk_file_is_decoded_to_the_same_text(tmp_path: Path) -> None:
    text = SEED.read_text(encoding="utf-8")
    doc = read(tmp_path, "gbk.txt", text.encode("gbk"))
    assert doc.status == "ok", doc.error
    assert doc.text == text


def test_big5_file_is_decoded(tmp_path: Path) -> None:
    doc = read(tmp_path, "big5.txt", BIG5_TEXT.encode("big5"))
    assert doc.status == "ok", doc.error
    assert doc.text == BIG5_TEXT
    assert doc.encoding == "big5"


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_decoded(tmp_path: Path, encoding: str) -> None:
    text = SEED.read_text(encoding="utf-8")[:2000]
    doc = read(tmp_path, "u16.txt", text.encode(encoding))
    assert doc.status == "ok", doc.error
    assert doc.text == text and doc.encoding == "utf-16"


def test_invalid_utf8_in_the_middle_is_quarantined_with_where(tmp_path: Path) -> None:
    data = SEED.read_bytes()
    broken = data[:3000] + b"\xff\xfe" + data[3000:]
    doc = read(tmp_path, "broken.txt", broken)
    assert doc.status == "quarantined" and doc.text is None
    assert doc.error.startswith("cannot decode: invalid UTF-8 at byte 3000")
    assert doc.sha256 == hashlib.sha256(broken).hexdigest() and doc.n_bytes == len(broken)


def test_a_file_too_large_for_a_page_is_quarantined_unread(tmp_path: Path) -> None:
    path = write(tmp_path, "huge.txt", SEED.read_bytes() * 20)
    doc = read_document(path, tmp_path, max_bytes=50_000)
    assert doc.status == "quarantined" and doc.text is None
    assert doc.error.startswith("too large for a page:")
    assert doc.n_bytes == path.stat().st_size
    assert doc.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert read_document(path, tmp_path).status == "ok"  # under the default limit it is a page


def test_control_characters_are_unicodes_cc_less_the_allowed() -> None:
    """The control-character count of decoded text (binary detection) uses a character class:
    it must hold exactly Unicode's category Cc, less the allowed layout controls."""
    import unicodedata

    from tasks.decode import _ALLOWED_CONTROLS, _CONTROLS

    everything = "".join(map(chr, range(0x110000))).encode("utf-8", "surrogatepass").decode(
        "utf-8", "surrogatepass"
    )
    expected = [ch for ch in everything if unicodedata.category(ch) == "Cc" and ch not in _ALLOWED_CONTROLS]
    assert _CONTROLS.findall(everything) == expected
