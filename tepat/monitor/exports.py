"""The monthly discipline recap per OPD as a spreadsheet: one summary sheet (the list for the
regent's meeting) and one sheet by name. Text cells go through ``cell_text`` so an imported
name can never run as a formula."""

import io
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from openpyxl import Workbook

from tepat.monitor.selectors import DisciplineRow
from tepat.presence.exports import cell_text

LEVELS = ("ringan", "sedang", "berat")


@dataclass
class OpdRecap:
    name: str
    people: int = 0
    tk_month: int = 0
    by_level: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LEVELS, 0))
    ten_in_a_row: int = 0


def report_rows(rows: list[DisciplineRow], first: date, after: date) -> list[dict[str, Any]]:
    """Each person with TK this year, with the month's days beside the year's counts."""
    return [{"row": r, "tk_month": sum(1 for d in r.tk_days if first <= d < after)} for r in rows]


def opd_recaps(lines: list[dict[str, Any]]) -> list[OpdRecap]:
    found: dict[str, OpdRecap] = {}
    for line in lines:
        r: DisciplineRow = line["row"]
        recap = found.setdefault(r.opd_name or "—", OpdRecap(r.opd_name or "—"))
        recap.people += 1
        recap.tk_month += line["tk_month"]
        if r.status.level in recap.by_level:
            recap.by_level[r.status.level] += 1
        if any(c.threshold.code == "TK_BERTURUT_10" for c in r.status.thresholds_crossed):
            recap.ten_in_a_row += 1
    return sorted(found.values(), key=lambda o: (-o.by_level["berat"], -o.people, o.name))


def discipline_xlsx(lines: list[dict[str, Any]], first: date, title: str) -> bytes:
    book = Workbook(write_only=True)
    summary = book.create_sheet("Ringkasan OPD")
    summary.append([cell_text(f"Rekap disiplin PP 94/2021 {first:%m/%Y} — {title}")])
    summary.append(
        ["OPD", "Pegawai dengan TK", "Hari TK bulan ini", "Ringan", "Sedang", "Berat",
         "10 hari kerja berturut-turut"]
    )  # fmt: skip
    for o in opd_recaps(lines):
        summary.append(
            [cell_text(o.name), o.people, o.tk_month, *(o.by_level[lv] for lv in LEVELS),
             o.ten_in_a_row]
        )  # fmt: skip
    detail = book.create_sheet("Rincian")
    detail.append(
        ["NIP", "Nama", "Jenis", "OPD", "Unit", "TK bulan ini", "TK tahun ini (kumulatif)",
         "TK berturut-turut terpanjang", "TK berturut-turut saat ini", "Tingkat", "Hukuman",
         "Dasar hukum"]
    )  # fmt: skip
    for line in lines:
        r: DisciplineRow = line["row"]
        detail.append(
            [
                r.nip,  # text, so Excel keeps all 18 digits
                cell_text(r.name),
                r.kind,
                cell_text(r.opd_name),
                cell_text(r.unit_name),
                line["tk_month"],
                r.status.cumulative_tk_year,
                r.status.longest_consecutive_tk,
                r.status.consecutive_tk,
                r.status.level or "",
                cell_text(r.status.sanction or ""),
                cell_text(r.status.article or ""),
            ]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
