"""The committed data dictionary is the one the Pandera models generate."""

from pathlib import Path

from schemas import TABLES
from schemas.dictionary import render_markdown

DOC = Path(__file__).resolve().parents[1] / "docs" / "DATA_DICTIONARY.md"


def test_data_dictionary_is_up_to_date():
    # regenerate with: .venv/bin/python -m schemas.dictionary > docs/DATA_DICTIONARY.md
    assert DOC.read_text(encoding="utf-8") == render_markdown() + "\n"


def test_data_dictionary_names_every_table_and_column():
    text = DOC.read_text(encoding="utf-8")
    for name, model in TABLES.items():
        assert f"## `{name}`" in text
        for column in model.to_schema().columns:
            assert f"| `{column}` |" in text
