"""Spreadsheet exports of attendance. Cells that a spreadsheet would run as a formula are
written as text, so an imported name like "=HYPERLINK(...)" can never execute."""

import io
from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from openpyxl import Workbook

from tepat.accounts import access
from tepat.org.models import Employee, Opd
from tepat.presence.selectors import RECAP_CODES, attendance_recap
from tepat.spreadsheet_cells import FORMULA_STARTS, cell_text

__all__ = ["FORMULA_STARTS", "cell_text", "recap_employees", "recap_file", "recap_xlsx"]


def recap_employees(user: Any, first: date, opd: Opd | None) -> QuerySet[Employee]:
    """Whom the recap of ``first``'s month lists for ``user``: everyone they may see, or of
    those only ``opd``'s (an OPD the caller already checked is visible to them)."""
    employees = access.employees_visible_to(user, first)
    if opd is not None:
        employees = employees.filter(
            id__in=access.current_assignments(first).filter(opd=opd).values("employee_id")
        )
    return employees


def recap_title(user: Any, opd: Opd | None) -> str:
    return opd.name if opd else (user.opd.name if user.opd else _("All visible"))


def recap_file(user: Any, first: date, opd: Opd | None) -> bytes:
    """The recap XLSX exactly as the page lists it, every row of every page, in its order."""
    rows = attendance_recap(recap_employees(user, first, opd), first)
    return recap_xlsx(rows, first, recap_title(user, opd))


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
