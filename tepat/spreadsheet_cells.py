"""Text cells that a spreadsheet would run as a formula, written as text instead.

Pure (no Django), so the continuity-mode command line can use it without a database: a name
imported as "=HYPERLINK(...)" or "+62..." is prefixed with an apostrophe, which Excel and
LibreOffice show as plain text, in XLSX cells and in CSV fields alike.
"""

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell_text(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
