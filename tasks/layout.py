"""Layout: page text -> blocks -> articles. (Being written; see parse_page.)"""

from __future__ import annotations

from tasks.model import Page


def parse_page(text: str) -> Page:
    """Reconstruct the articles of one page of extracted newspaper text."""
    raise NotImplementedError
