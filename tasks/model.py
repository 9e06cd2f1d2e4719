"""The typed records that flow one way through newsflow.

file bytes -> :class:`Document` (decode) -> :class:`Page` of :class:`Article` (layout)
-> column batches (tables) -> Parquet (store).

These are plain dataclasses: every step in ``tasks/`` takes and returns them, so tests can
build them by hand and no step needs Prefect, Pandera or a warehouse to run.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

ParagraphKind = Literal["body", "subheading", "byline"]
DocStatus = Literal["ok", "quarantined"]


@dataclass(frozen=True)
class Paragraph:
    """One paragraph of an article body, already cleaned (no layout line breaks)."""

    text: str
    kind: ParagraphKind = "body"


@dataclass
class Article:
    """One reconstructed article of a page."""

    title: str | None = None
    kicker: str | None = None
    subtitle: str | None = None
    reporters: list[str] = field(default_factory=list)
    contributors: list[str] = field(default_factory=list)  # 通讯员, 特约记者, 实习生 of the lead
    dateline: str | None = None
    continued_from_page: int | None = None
    continues_to_page: int | None = None
    paragraphs: list[Paragraph] = field(default_factory=list)
    captions: list[str] = field(default_factory=list)  # photo captions and credits, not body text

    @property
    def body(self) -> str:
        """Paragraph texts joined by ``\\n``: the text every offset in the warehouse points into."""
        return "\n".join(p.text for p in self.paragraphs)

    @property
    def subheadings(self) -> list[str]:
        return [p.text for p in self.paragraphs if p.kind == "subheading"]


@dataclass
class Page:
    """What layout recovers from one page of text."""

    section: str | None = None
    articles: list[Article] = field(default_factory=list)
    issue_date: dt.date | None = None  # from a page header line, when the page states it
    page_no: int | None = None
    imprint: list[str] = field(default_factory=list)  # masthead/imprint lines, not article text


@dataclass
class Document:
    """One raw file, decoded (or quarantined, with ``error`` saying why)."""

    doc_id: str
    source_path: str  # relative to the raw root, with forward slashes
    sha256: str
    n_bytes: int
    encoding: str | None
    text: str | None
    publication: str | None = None
    issue_date: dt.date | None = None
    page_no: int | None = None
    status: DocStatus = "ok"
    error: str | None = None
