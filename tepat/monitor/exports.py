"""The monthly discipline recap per OPD as a spreadsheet and as a printable PDF: a summary per
OPD (the list for the regent's meeting) and the list by name. Spreadsheet text cells go through
``cell_text`` so an imported name can never run as a formula; the PDF ends with a signature
block for the head who signs it."""

import io
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.utils import formats, translation
from django.utils.translation import gettext as _
from fpdf import FPDF
from fpdf.fonts import FontFace
from openpyxl import Workbook

from tepat.accounts import access
from tepat.monitor.selectors import DisciplineRow, discipline_rows
from tepat.org.models import Opd
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


SUMMARY_HEADERS = [
    "OPD", "Pegawai dengan TK", "Hari TK bulan ini", "Ringan", "Sedang", "Berat",
    "10 hari kerja berturut-turut",
]  # fmt: skip


def _summary_cells(o: OpdRecap) -> list[Any]:
    return [o.name, o.people, o.tk_month, *(o.by_level[lv] for lv in LEVELS), o.ten_in_a_row]


def discipline_xlsx(lines: list[dict[str, Any]], first: date, title: str) -> bytes:
    book = Workbook(write_only=True)
    summary = book.create_sheet("Ringkasan OPD")
    summary.append([cell_text(f"Rekap disiplin PP 94/2021 {first:%m/%Y} — {title}")])
    summary.append(SUMMARY_HEADERS)
    for o in opd_recaps(lines):
        cells = _summary_cells(o)
        summary.append([cell_text(cells[0]), *cells[1:]])
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


# --- PDF ---------------------------------------------------------------------------------------


def _id_date(day: date) -> str:
    """``30 November 2026``, with the Indonesian month name whatever the request's language."""
    with translation.override("id"):
        return formats.date_format(day, "j F Y")


def _pdf_text(value: object) -> str:
    """The built-in PDF fonts cover Latin-1 only: the few characters outside it that reach a
    report (dashes, quotes, ≥) are spelt out, anything else becomes "?" rather than failing."""
    text = str(value)
    for char, plain in (("—", "-"), ("–", "-"), ("≥", ">="), ("’", "'"), ("‘", "'"),
                        ("“", '"'), ("”", '"'), ("…", "...")):  # fmt: skip
        text = text.replace(char, plain)
    return text.encode("latin-1", "replace").decode("latin-1")


@dataclass(frozen=True)
class Signature:
    """Who signs the printed report, and where: the name and NIP are written by hand."""

    office: str
    """e.g. "Kepala Dinas Kesehatan" or "Kepala BKPSDM"."""
    place: str
    day: date


class _ReportPdf(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", size=7)
        self.cell(0, 5, _pdf_text(f"{self.footer_text} - halaman {self.page_no()}/{{nb}}"),
                  align="R")  # fmt: skip


def discipline_pdf(
    lines: list[dict[str, Any]],
    first: date,
    until: date,
    title: str,
    *,
    government: str,
    signature: Signature,
) -> bytes:
    """The month's recap on A4 landscape, in Indonesian: the per-OPD summary, the list by name
    with the level reached and its article, and a signature block."""
    month = _id_date(first).split(" ", 1)[1]
    pdf = _ReportPdf(orientation="L", format="A4")
    pdf.footer_text = f"Rekap disiplin {month} - {title}"
    pdf.set_title(_pdf_text(f"Rekap disiplin pegawai {month} - {title}"))
    pdf.set_creator("Tepat")
    pdf.set_auto_page_break(auto=True, margin=16)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 13)
    if government:
        pdf.cell(0, 7, _pdf_text(government.upper()), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 7, _pdf_text(f"REKAP DISIPLIN PEGAWAI BULAN {month.upper()}"), align="C",
             new_x="LMARGIN", new_y="NEXT")  # fmt: skip
    pdf.set_font("Helvetica", size=10)
    pdf.cell(0, 6, _pdf_text(title), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 6, _pdf_text(
        f"Hari kerja tanpa keterangan (TK) menurut PP 94/2021, dihitung sampai {_id_date(until)}"
    ), align="C", new_x="LMARGIN", new_y="NEXT")  # fmt: skip
    pdf.ln(3)
    heading = FontFace(emphasis="BOLD", fill_color=(230, 230, 230))

    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(0, 7, "A. Ringkasan per OPD", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=8)
    recaps = opd_recaps(lines)
    with pdf.table(col_widths=(80, 30, 30, 22, 22, 22, 40), headings_style=heading,
                   text_align=("LEFT", *["RIGHT"] * 6), line_height=5) as table:  # fmt: skip
        table.row([_pdf_text(h) for h in SUMMARY_HEADERS])
        for o in recaps:
            table.row([_pdf_text(c) for c in _summary_cells(o)])
        if not recaps:
            table.row(["Tidak ada pegawai dengan hari tanpa keterangan tahun ini.", *[""] * 6])
    pdf.ln(4)

    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(0, 7, "B. Rincian per pegawai", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=7.5)
    with pdf.table(
        col_widths=(8, 36, 46, 50, 14, 14, 22, 87), headings_style=heading, line_height=4,
        text_align=("RIGHT", "LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "LEFT"),
    ) as table:  # fmt: skip
        table.row(["No", "NIP", "Nama", "OPD / Unit", "TK bulan ini", "TK tahun ini",
                   "Berturut-turut terpanjang", "Tingkat dan hukuman (dasar hukum)"])  # fmt: skip
        for n, line in enumerate(lines, start=1):
            r: DisciplineRow = line["row"]
            level = (
                f"{r.status.level}: {r.status.sanction} ({r.status.article})"
                if r.status.level
                else "-"
            )
            table.row([_pdf_text(c) for c in (
                n, r.nip, f"{r.name} ({r.kind})", f"{r.opd_name} / {r.unit_name}",
                line["tk_month"], r.status.cumulative_tk_year, r.status.longest_consecutive_tk,
                level,
            )])  # fmt: skip
        if not lines:
            table.row(["", "", "Nihil", *[""] * 5])

    # The signature block stays on one page with its heading.
    if pdf.get_y() > pdf.h - 60:
        pdf.add_page()
    pdf.ln(8)
    pdf.set_font("Helvetica", size=10)
    x = pdf.w - pdf.r_margin - 90
    for text in (f"{signature.place}, {_id_date(signature.day)}" if signature.place
                 else _id_date(signature.day), signature.office):  # fmt: skip
        pdf.set_x(x)
        pdf.cell(90, 6, _pdf_text(text), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(22)
    for text in ("(" + "." * 40 + ")", "NIP. " + "." * 32):
        pdf.set_x(x)
        pdf.cell(90, 6, text, align="C", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


@dataclass
class ReportMonth:
    """The monthly report as the page, the XLSX and the PDF show it: counts up to the month's
    last day (or ``today``, for the running month), for the people ``user`` may see, or of
    those only ``opd``'s (an OPD the caller already checked is visible to them)."""

    first: date
    until: date
    lines: list[dict[str, Any]]
    own: Opd | None  # the OPD the report is of, if one

    @property
    def title(self) -> str:
        return self.own.name if self.own else _("All OPD")


def report_month(user: Any, first: date, opd: Opd | None, today: date) -> ReportMonth:
    after = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    until = min(after - timedelta(days=1), today)
    employees = access.employees_visible_to(user, until)
    if opd is not None:
        employees = employees.filter(
            id__in=access.current_assignments(until).filter(opd=opd).values("employee_id")
        )
    rows = discipline_rows(employees, until) if first <= today else []
    return ReportMonth(first, until, report_rows(rows, first, after), opd or user.opd)


def report_xlsx(report: ReportMonth) -> bytes:
    return discipline_xlsx(report.lines, report.first, report.title)


def report_pdf(report: ReportMonth, today: date) -> bytes:
    """Signed by the head of the report's OPD, or of BKPSDM for the regency."""
    government = settings.TEPAT_REGENCY_NAME
    signature = Signature(
        office=f"Kepala {report.own.name}" if report.own else "Kepala BKPSDM",
        place=government.removeprefix("Kabupaten ").removeprefix("Kota "),
        day=today,
    )
    return discipline_pdf(
        report.lines, report.first, report.until, report.title,
        government=government, signature=signature,
    )  # fmt: skip
