"""Spreadsheet exports of attendance. Cells that a spreadsheet would run as a formula are
written as text, so an imported name like "=HYPERLINK(...)" can never execute."""

import io
from datetime import date
from typing import Any

from openpyxl import Workbook

from tepat.presence.selectors import RECAP_CODES
from tepat.spreadsheet_cells import FORMULA_STARTS, cell_text

__all__ = ["FORMULA_STARTS", "cell_text", "recap_xlsx"]


def recap_xlsx(rows: list[dict[str, Any]], first: date, title: str) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(f"Rekap {first:%m-%Y}")
    sheet.append([cell_text(f"Rekap kehadiran {first:%m/%Y} — {title}")])
    absence_types = sorted({t for r in rows for t in r["absences"]})
    sheet.append(
        ["NIP", "Nama", "Hadir", *RECAP_CODES, "TK", "Menit terlambat", *absence_types, "Libur"]
    )
    for r in rows:
        e = r["employee"]
        sheet.append(
            [
                e.nip,  # text, so Excel keeps all 18 digits
                cell_text(e.full_name),
                r["hadir"],
                *(r[code.lower()] for code in RECAP_CODES),
                r["tk"],
                r["minutes_late"],
                *(r["absences"].get(t, 0) for t in absence_types),
                r["libur"],
            ]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
