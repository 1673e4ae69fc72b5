"""The month's performance as a spreadsheet; text cells that a spreadsheet would run as a
formula are written as text (`presence.exports.cell_text`)."""

import io
from collections.abc import Sequence
from datetime import date
from typing import Any

from openpyxl import Workbook

from tepat.kinerja.models import MonthlyEvaluation, Predicate, Rating
from tepat.kinerja.selectors import month_bounds, team_month
from tepat.presence.exports import cell_text


def month_xlsx(rows: Sequence[MonthlyEvaluation], first: date) -> bytes:
    ratings = dict(Rating.choices)
    predicates = dict(Predicate.choices)
    book = Workbook(write_only=True)
    sheet = book.create_sheet(f"Kinerja {first:%m-%Y}")
    sheet.append([f"Kinerja pegawai {first:%m/%Y}"])
    sheet.append(
        [
            "NIP", "Nama", "Menit disetujui", "Menit menunggu", "Menit ditolak", "Target menit",
            "Capaian menit (%)", "Hasil kerja", "Perilaku kerja", "Predikat",
            "Realisasi target (%)", "Dikecualikan", "Produktivitas TPP (%)", "Kebijakan",
            "Aturan hitung",
        ]
    )  # fmt: skip
    for row in rows:
        sheet.append(
            [
                row.employee.nip,  # text, so the 18 digits survive
                cell_text(row.employee.full_name),
                row.approved_minutes,
                row.pending_minutes,
                row.rejected_minutes,
                row.target_minutes,
                row.capaian_percent,
                str(ratings.get(row.hasil_kerja, "")),
                str(ratings.get(row.perilaku, "")),
                str(predicates.get(row.predicate, "")),
                row.realisation_percent,
                cell_text(row.exemption),
                row.productivity_percent,
                cell_text(f"{row.policy_name} v{row.policy_version}"),
                row.rules_version,
            ]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def team_month_file(user: Any, year: int, month: int) -> bytes:
    """The team page's month as XLSX, every row of the people ``user`` may see (the page
    shows 2,000)."""
    first, _last = month_bounds(year, month)
    return month_xlsx(list(team_month(user, year, month)), first)
