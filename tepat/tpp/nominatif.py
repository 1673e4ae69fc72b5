"""The daftar nominatif TPP: one OPD's month, one row per employee, as XLSX, PDF and bank CSV.

Pure writers (no database): the caller turns each `TppResult` into a `NominatifRow` with
`nominatif_row_from_result` and hands one `NominatifSheet` per OPD to the writers. Money is the
rules core's `Decimal`, already rounded where the rules say (`tepat.rules.tpp`); nothing here
rounds again. Totals are plain Decimal sums written as values (no spreadsheet formulas), so the
file reads the same in any spreadsheet and needs no recalculation.

The discipline deduction and the productivity shortfall are percentages, exactly as the rules
core states them (of the discipline share and of the productivity share; the rupiah of each
line is in the employee's explanation). Rupiah differences such as "share − paid" are not shown:
the shares are only known to the sen, so such a column would mix the rounding of the paid
component into the deduction (even showing −0,50 when a component rounds up). The paid columns
add up exactly:
TPP kotor = TPP disiplin + TPP produktivitas − hukuman disiplin + Plt, and
TPP bersih = TPP kotor − PPh 21 − each withholding (+ the correction of an earlier locked
month, a column shown only when a row has one: `NominatifRow.adjustment`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any

import xlsxwriter
from fpdf import FPDF, FPDFException
from fpdf.enums import TextMode
from fpdf.fonts import CoreFont

from tepat.rules.tpp import MONTH_NAMES, TppResult
from tepat.spreadsheet_cells import cell_text

TAX_CODE = "PPH21"
"""The withholding line the rules core writes for PPh 21 (`tepat.rules.tpp._withholdings`)."""

BANK_CSV_COLUMNS = ("NIP", "Nama", "OPD", "Bank", "Nomor Rekening", "Jumlah")
"""The bank transfer file: UTF-8, comma-separated, one header row, then one row per employee
with a net TPP above zero; Jumlah is whole rupiah without separators ("3411898")."""

_ZERO = Decimal(0)


@dataclass(frozen=True)
class NominatifRow:
    nip: str
    name: str
    golongan: str
    kelas: str
    """The kelas jabatan; "8/10" after a mid-month transfer."""
    jabatan: str
    basic: Decimal
    """Prorated basic TPP (to the sen, as the rules core shows it)."""
    discipline_deduction_percent: Decimal
    """Of the discipline share, after the cap."""
    productivity_shortfall_percent: Decimal
    """100 − capaian (after the cap)."""
    discipline_paid: Decimal
    productivity_paid: Decimal
    sanction_cut: Decimal
    plt: Decimal
    gross: Decimal
    tax: Decimal
    withholdings: tuple[tuple[str, Decimal], ...]
    """(label, rupiah) for each withholding other than PPh 21, e.g. ("BPJS Kesehatan", 34464)."""
    net: Decimal
    bank_name: str = ""
    bank_account: str = ""
    adjustment: Decimal = _ZERO
    """Corrections of earlier locked months added to this month's net (the database run only)."""


@dataclass(frozen=True)
class Signatory:
    role: str
    """E.g. "Kepala Dinas Pendidikan" or "Bendahara Pengeluaran"."""
    name: str = ""
    nip: str = ""


@dataclass(frozen=True)
class NominatifSheet:
    regency: str
    opd: str
    year: int
    month: int
    policy_label: str
    rows: tuple[NominatifRow, ...]
    signatories: tuple[Signatory, ...] = ()

    @property
    def title(self) -> str:
        return f"Daftar Nominatif TPP {MONTH_NAMES[self.month - 1]} {self.year}"

    @cached_property
    def withholding_labels(self) -> tuple[str, ...]:
        """Every withholding column, in the order first met."""
        labels: dict[str, None] = {}
        for row in self.rows:
            for label, _amount in row.withholdings:
                labels.setdefault(label)
        return tuple(labels)

    @cached_property
    def has_adjustments(self) -> bool:
        return any(row.adjustment for row in self.rows)

    def total(self, column: str) -> Decimal:
        return sum((getattr(row, column) for row in self.rows), _ZERO)

    def withholding_total(self, label: str) -> Decimal:
        return sum((dict(row.withholdings).get(label, _ZERO) for row in self.rows), _ZERO)


def nominatif_row_from_result(
    *,
    nip: str,
    name: str,
    golongan: str,
    jabatan: str,
    result: TppResult,
    bank_name: str = "",
    bank_account: str = "",
) -> NominatifRow:
    kelas = "/".join(dict.fromkeys(str(s.kelas_jabatan) for s in result.basic_segments))
    tax = sum((w.rupiah for w in result.withholdings if w.code == TAX_CODE), _ZERO)
    return NominatifRow(
        nip=nip,
        name=name,
        golongan=golongan,
        kelas=kelas or "-",
        jabatan=jabatan,
        basic=result.basic,
        discipline_deduction_percent=result.discipline_deduction_percent,
        productivity_shortfall_percent=(
            100 - result.productivity_percent if result.eligible and result.days_in_post else _ZERO
        ),
        discipline_paid=result.discipline_paid,
        productivity_paid=result.productivity_paid,
        sanction_cut=result.sanction_cut,
        plt=result.plt_paid,
        gross=result.gross,
        tax=tax,
        withholdings=tuple((w.label, w.rupiah) for w in result.withholdings if w.code != TAX_CODE),
        net=result.net,
        bank_name=bank_name,
        bank_account=bank_account,
    )


# --- columns, shared by the XLSX and the PDF ----------------------------------------------------

_MONEY_COLUMNS = (
    ("basic", "TPP dasar"),
    ("discipline_deduction_percent", "Potongan disiplin (%)"),
    ("productivity_shortfall_percent", "Kekurangan produktivitas (%)"),
    ("discipline_paid", "TPP disiplin"),
    ("productivity_paid", "TPP produktivitas"),
    ("sanction_cut", "Potongan hukuman disiplin"),
    ("plt", "Tambahan Plt"),
    ("gross", "TPP kotor"),
    ("tax", "PPh 21"),
)


ADJUSTMENT_HEADER = "Koreksi periode terkunci"


def _money_headers(sheet: NominatifSheet) -> list[str]:
    adjustment = [ADJUSTMENT_HEADER] if sheet.has_adjustments else []
    return [label for _key, label in _MONEY_COLUMNS] + list(sheet.withholding_labels) + adjustment


def _money_values(sheet: NominatifSheet, row: NominatifRow) -> list[Decimal]:
    given = dict(row.withholdings)
    adjustment = [row.adjustment] if sheet.has_adjustments else []
    return (
        [getattr(row, key) for key, _label in _MONEY_COLUMNS]
        + [given.get(label, _ZERO) for label in sheet.withholding_labels]
        + adjustment
    )


_PERCENT_KEYS = ("discipline_deduction_percent", "productivity_shortfall_percent")


def _money_totals(sheet: NominatifSheet) -> list[Decimal | None]:
    """The total of each amount column; None under a percentage (a sum means nothing there)."""
    adjustment: list[Decimal | None] = [sheet.total("adjustment")] if sheet.has_adjustments else []
    return (
        [None if key in _PERCENT_KEYS else sheet.total(key) for key, _label in _MONEY_COLUMNS]
        + [sheet.withholding_total(label) for label in sheet.withholding_labels]
        + adjustment
    )


def _subtitle(sheet: NominatifSheet) -> str:
    return f"{sheet.opd} — {sheet.regency}" if sheet.regency else sheet.opd


# --- XLSX --------------------------------------------------------------------------------------

XLSX_HEADER_ROW = 5
"""The column header row; employees start on the next row."""


def nominatif_xlsx(sheet: NominatifSheet) -> bytes:
    """One worksheet: title, header, one row per employee, the OPD total, signature blocks.

    Written with XlsxWriter, each cell by its type (text is always written as text, never
    turned into a formula or a link); a large OPD has thousands of rows."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    ws = book.add_worksheet(f"Nominatif {sheet.month:02d}-{sheet.year}")
    for column, width in enumerate((5, 21, 28, 9, 7, 28)):
        ws.set_column(column, column, width)
    bold = book.add_format({"bold": True})
    header_format = book.add_format({"bold": True, "text_wrap": True, "valign": "top"})
    formats = {
        (number_format, is_bold): book.add_format({"num_format": number_format, "bold": is_bold})
        for number_format in ("0.00", "#,##0.00")
        for is_bold in (False, True)
    }

    def text(row: int, column: int, value: str | None, cell_format: Any = None) -> None:
        if value is not None:
            ws.write_string(row, column, cell_text(value), cell_format)

    text(0, 0, sheet.title)
    text(1, 0, _subtitle(sheet))
    text(2, 0, f"Kebijakan: {sheet.policy_label}")
    headers = ["No", "NIP", "Nama", "Golongan", "Kelas", "Jabatan", *_money_headers(sheet)]
    headers += ["TPP bersih", "Bank", "Nomor rekening"]
    header_row = XLSX_HEADER_ROW - 1
    for column, label in enumerate(headers):
        text(header_row, column, label, header_format)
    keys = [key for key, _label in _MONEY_COLUMNS]
    percent_indexes = {keys.index(key) for key in _PERCENT_KEYS}
    money_formats = [
        "0.00" if index in percent_indexes else "#,##0.00"
        for index in range(len(_money_headers(sheet)) + 1)  # and TPP bersih
    ]
    plain_formats = [formats[(f, False)] for f in money_formats]
    bold_formats = [formats[(f, True)] for f in money_formats]
    bank_column = 6 + len(money_formats)

    def money(row: int, values: Sequence[Decimal | None], cell_formats: list[Any]) -> None:
        for column, (value, cell_format) in enumerate(zip(values, cell_formats, strict=True), 6):
            if value is None:
                ws.write_blank(row, column, None, cell_format)
            else:
                ws.write_number(row, column, value, cell_format)

    row_index = header_row
    for number, row in enumerate(sheet.rows, start=1):
        row_index += 1
        ws.write_number(row_index, 0, number)
        for column, value in enumerate(
            (row.nip, row.name, row.golongan, row.kelas, row.jabatan), start=1
        ):
            text(row_index, column, value)
        money(row_index, [*_money_values(sheet, row), row.net], plain_formats)
        text(row_index, bank_column, row.bank_name)
        text(row_index, bank_column + 1, row.bank_account)
    row_index += 1
    for column, label in enumerate(("", "", f"Jumlah {len(sheet.rows)} pegawai", "", "", "")):
        text(row_index, column, label, bold)
    money(row_index, [*_money_totals(sheet), sheet.total("net")], bold_formats)
    row_index += 1
    for line in _xlsx_signature_rows(sheet):
        row_index += 1
        for column, signature in enumerate(line):
            text(row_index, column, signature)
    book.close()
    return out.getvalue()


def _xlsx_signature_rows(sheet: NominatifSheet) -> list[list[str | None]]:
    """The signature blocks side by side, one every four columns from column C."""
    rows: list[list[str | None]] = [[] for _ in range(6)]
    for index, person in enumerate(sheet.signatories):
        column = 3 + index * 4
        lines = [person.role, "", "", "", person.name or "(.................................)"]
        lines.append(f"NIP {person.nip}" if person.nip else "NIP ..............................")
        for row, text in zip(rows, lines, strict=True):
            row.extend([None] * (column - 1 - len(row)))
            row.append(cell_text(text))
    return rows if sheet.signatories else []


# --- PDF ---------------------------------------------------------------------------------------

_PDF_SHORT_HEADERS = {
    "Potongan disiplin (%)": "Pot. disiplin (%)",
    "Kekurangan produktivitas (%)": "Kurang produk-tivitas (%)",
    "TPP produktivitas": "TPP produk-tivitas",
    "Potongan hukuman disiplin": "Pot. hukuman disiplin",
}
_PDF_REPLACEMENTS = str.maketrans({"—": "-", "–": "-", "−": "-", "’": "'", "‘": "'", "“": '"'})


def _pdf_text(value: str) -> str:
    """The core Helvetica font holds Latin-1 (all of Indonesian); anything else becomes "?"."""
    return value.translate(_PDF_REPLACEMENTS).encode("latin-1", "replace").decode("latin-1")


_TO_INDONESIAN = str.maketrans({",": ".", ".": ","})


def _money_text(amount: Decimal | None) -> str:
    """ "1.234.567" or "18.380,60": the rules core's figure as it is (at most two decimals, so
    the format below never rounds)."""
    if amount is None:
        return ""
    places = 0 if amount == amount.to_integral_value() else 2
    return f"{amount:,.{places}f}".translate(_TO_INDONESIAN)


class _NominatifPdf(FPDF):
    def __init__(self, sheet: NominatifSheet) -> None:
        super().__init__(orientation="L", unit="mm", format="A4")
        self.sheet = sheet
        self.set_margins(10, 10, 10)
        self.set_auto_page_break(auto=False)
        money_headers = [_PDF_SHORT_HEADERS.get(text, text) for text in _money_headers(sheet)]
        self.headers = ["No", "NIP", "Nama", "Gol.", "Kelas", *money_headers]
        self.headers += ["TPP bersih", "Rekening"]
        fixed = [7.0, 29.0, 38.0, 10.0, 9.0]
        account = 26.0
        money_count = len(self.headers) - len(fixed) - 1
        money = (self.epw - sum(fixed) - account) / money_count
        self.widths = [*fixed, *([money] * money_count), account]
        self._amounts: dict[tuple[str, float], dict[str, tuple[float, str]]] = {}
        self._header_content: dict[float, bytes] = {}
        """The column header's page content, by the height it starts at."""

    def header(self) -> None:
        self.set_font("Helvetica", "B", 11)
        self.cell(0, 6, _pdf_text(self.sheet.title), new_x="LMARGIN", new_y="NEXT")
        self.set_font("Helvetica", "", 8)
        self.cell(0, 4, _pdf_text(_subtitle(self.sheet)), new_x="LMARGIN", new_y="NEXT")
        self.cell(
            0, 4, _pdf_text(f"Kebijakan: {self.sheet.policy_label}"), new_x="LMARGIN", new_y="NEXT"
        )
        self.ln(2)
        self.table_header()

    def footer(self) -> None:
        self.set_y(-9)
        self.set_font("Helvetica", "", 7)
        self.cell(0, 4, f"Halaman {self.page_no()}/{{nb}}", align="R")

    def table_header(self) -> None:
        """The column header, drawn on the first page and repeated as the same page content on
        the next (wrapping 16 header texts is most of the work of a page)."""
        self.set_font("Helvetica", "B", 6)
        self.set_fill_color(230, 230, 230)
        y = self.get_y()
        font = self.current_font
        drawn = self._header_content.get(y)
        if drawn is not None and font is not None and not self.current_font_is_set_on_page:
            self._set_font_for_page(font, self.font_size_pt)  # the font drawing would set
            self._out(drawn)
        else:
            page = self.pages[self.page].contents
            start = len(page) if isinstance(page, bytearray) else None
            font_was_set = self.current_font_is_set_on_page
            x = self.l_margin
            for width, text in zip(self.widths, self.headers, strict=True):
                self.set_xy(x, y)
                self.multi_cell(width, 3, _pdf_text(text), border=0, align="C", fill=True)
                x += width
            self.set_xy(self.l_margin, y)
            for width in self.widths:
                self.cell(width, 9, "", border=1)
            if start is not None and not font_was_set:
                assert isinstance(page, bytearray)
                self._header_content[y] = bytes(page[start:-1])  # `_out` adds the newline
        self.set_xy(self.l_margin, y + 9)

    def row(
        self,
        cells: Sequence[str],
        *,
        bold: bool = False,
        last: Sequence[tuple[str, float]] | None = None,
    ) -> None:
        """One table row: its texts (money right-aligned) and cell borders. ``last``, when
        given, is the last cell's lines with their font sizes (``_account_layout``): one or two
        lines, each written whole, in place of ``cells[-1]``.

        A regency has 100,000 rows, so the row is written as one piece of page content: the
        same operators fpdf2's `text` and `line` write (a `text` and a `line` per value cost
        more than everything else in the file, a `cell` per value ten times that)."""
        height = 5.0
        if self.get_y() + height > self.h - 12:
            self.add_page()
        self.set_font("Helvetica", "B" if bold else "", 6)
        font = self.current_font
        if not (
            isinstance(font, CoreFont)
            and self.text_mode == TextMode.FILL
            and not (self.underline or self.strikethrough or self._record_text_quad_points)
        ):
            raise FPDFException("the nominatif rows need a core font without decoration")
        k, page_height = self.k, self.h
        top = self.get_y()
        text_y = f"{(page_height - (top + 3.4)) * k:.2f}"
        line_top = f"{(page_height - top) * k:.2f}"
        line_bottom = f"{(page_height - (top + height)) * k:.2f}"
        before, after = "", ""
        if self.fill_color != self.text_color:
            assert self.text_color is not None
            before, after = f"q {self.text_color.serialize().lower()} ", " Q"
        operators = []
        x = self.l_margin
        last_money = len(self.widths) - 1
        # Amounts repeat from row to row (0, the same basic of a kelas): each is measured and
        # encoded once per font.
        amounts = self._amounts.setdefault((font.fontkey, self.font_size_pt), {})
        for index, (width, text) in enumerate(zip(self.widths, cells, strict=True)):
            if index == last_money and last is not None:
                if not self.current_font_is_set_on_page:
                    operators.append(self._set_font_for_page(font, self.font_size_pt))
                operators.extend(self._lines_in_cell(font, x, top, height, last))
            elif text:
                if not self.current_font_is_set_on_page:  # as `text` does, before the first
                    operators.append(self._set_font_for_page(font, self.font_size_pt))
                if 5 <= index < last_money:
                    known = amounts.get(text)
                    if known is None:
                        normal = self.normalize_text(text)
                        known = amounts[text] = (
                            _string_width(self, normal),
                            font.encode_text(normal),
                        )
                    text_width, encoded = known
                    text_x = x + width - 1 - text_width
                else:
                    text_x = x + 1
                    encoded = font.encode_text(self.normalize_text(text))
                operators.append(f"{before}BT {text_x * k:.2f} {text_y} Td {encoded} ET{after}")
            x_text = f"{x * k:.2f}"
            operators.append(f"{x_text} {line_top} m {x_text} {line_bottom} l S")
            x += width
        x_text = f"{x * k:.2f}"
        operators.append(f"{x_text} {line_top} m {x_text} {line_bottom} l S")
        operators.append(f"{self.l_margin * k:.2f} {line_bottom} m {x_text} {line_bottom} l S")
        self._out("\n".join(operators))
        self.set_y(top + height)

    def _lines_in_cell(
        self,
        font: CoreFont,
        x: float,
        top: float,
        height: float,
        lines: Sequence[tuple[str, float]],
    ) -> list[str]:
        """The operators of one to two left-aligned lines in a cell, each in its own size
        (the size is set inside the line's own graphics state, so the row's font stays)."""
        k, page_height = self.k, self.h
        baselines = (3.4,) if len(lines) == 1 else (2.2, 4.4)
        color = ""
        if self.fill_color != self.text_color:
            assert self.text_color is not None
            color = f"{self.text_color.serialize().lower()} "
        operators = []
        for (text, size), baseline in zip(lines, baselines, strict=False):
            if not text:
                continue
            encoded = font.encode_text(self.normalize_text(text))
            y = f"{(page_height - (top + min(baseline, height - 0.6))) * k:.2f}"
            operators.append(
                f"q {color}BT /F{font.i} {size:.2f} Tf {(x + 1) * k:.2f} {y} Td {encoded} ET Q"
            )
        return operators


def nominatif_pdf(sheet: NominatifSheet) -> bytes:
    """A4 landscape; the title and the column header repeat on every page."""
    pdf = _NominatifPdf(sheet)
    pdf.alias_nb_pages()
    pdf.add_page()
    pdf.set_font("Helvetica", "", ROW_FONT_PT)  # the rows' font: texts are measured in it
    for number, row in enumerate(sheet.rows, start=1):
        account = _account_layout(pdf, row.bank_name, row.bank_account, pdf.widths[-1])
        pdf.row(
            [
                str(number),
                _pdf_text(row.nip),
                _pdf_text(_fit(pdf, row.name, pdf.widths[2])),
                _pdf_text(row.golongan),
                _pdf_text(row.kelas),
                *(_money_text(value) for value in _money_values(sheet, row)),
                _money_text(row.net),
                "",
            ],
            last=account,
        )
    totals = [*_money_totals(sheet), sheet.total("net")]
    pdf.row(
        ["", "", f"Jumlah {len(sheet.rows)} pegawai", "", "", *map(_money_text, totals), ""],
        bold=True,
    )
    _pdf_signatures(pdf, sheet)
    return bytes(pdf.output())


def _fit(pdf: FPDF, text: str, width: float) -> str:
    """Cut a text that would overflow its cell, marking the cut with "..."."""
    if _string_width(pdf, _pdf_text(text)) <= width - 1:
        return text
    while text and _string_width(pdf, _pdf_text(text) + "...") > width - 1:
        text = text[:-1]
    return text + "..."


ROW_FONT_PT = 6.0
ACCOUNT_SMALLEST_PT = 3.0  # below this a printed digit is not readable; wider cells then


def _account_layout(
    pdf: FPDF, bank_name: str, account: str, width: float
) -> tuple[tuple[str, float], ...]:
    """Bank and account number in the last cell, as lines with their font sizes: on one line
    when both fit; else the bank name (cut with "...") above the whole account number; an
    account number wider than the cell is written smaller, never cut (20 digits and more).
    Measured in the row font, which must be the current one."""
    room = width - 1
    bank, number = _pdf_text(bank_name), _pdf_text(account)
    full = " ".join(part for part in (bank, number) if part)
    if _string_width(pdf, full) <= room:
        return ((full, ROW_FONT_PT),)
    lines: list[tuple[str, float]] = []
    if bank:
        lines.append((_pdf_text(_fit(pdf, bank_name, width)), ROW_FONT_PT))
    if number:
        measured = _string_width(pdf, number)
        size = ROW_FONT_PT
        if measured > room:  # widths scale with the size: the largest size that fits
            size = max(ACCOUNT_SMALLEST_PT, int(ROW_FONT_PT * room / measured * 20) / 20)
        lines.append((number, size))
    return tuple(lines)


def _string_width(pdf: FPDF, text: str) -> float:
    """`pdf.get_string_width(text)` for a Latin-1 text in a core font (Helvetica) without
    character spacing or stretching, computed the same way from the font's character widths
    but without fpdf2's per-call text fragments (a regency has 100,000 rows)."""
    font = pdf.current_font
    if (
        isinstance(font, CoreFont)
        and pdf.char_spacing == 0
        and pdf.font_stretching == 100
        and not pdf.text_shaping
    ):
        widths = font.cw
        return sum(map(widths.__getitem__, text)) * pdf.font_size_pt * 0.001 / pdf.k
    return pdf.get_string_width(text)


def _pdf_signatures(pdf: _NominatifPdf, sheet: NominatifSheet) -> None:
    if not sheet.signatories:
        return
    block_height = 32
    if pdf.get_y() + 6 + block_height > pdf.h - 12:
        pdf.add_page()
    pdf.ln(6)
    top = pdf.get_y()
    width = pdf.epw / len(sheet.signatories)
    pdf.set_font("Helvetica", "", 8)
    for index, person in enumerate(sheet.signatories):
        x = pdf.l_margin + index * width
        pdf.set_xy(x, top)
        pdf.cell(width, 4, _pdf_text(person.role), align="C")
        pdf.set_xy(x, top + 22)
        pdf.set_font("Helvetica", "BU", 8)
        pdf.cell(width, 4, _pdf_text(person.name or "(" + "." * 40 + ")"), align="C")
        pdf.set_font("Helvetica", "", 8)
        pdf.set_xy(x, top + 26)
        pdf.cell(width, 4, _pdf_text(f"NIP {person.nip or '.' * 30}"), align="C")


# --- bank transfer CSV ---------------------------------------------------------------------------


def bank_transfer_csv(sheets: Sequence[NominatifSheet]) -> bytes:
    """`BANK_CSV_COLUMNS`, one row per employee whose net TPP is above zero, OPD by OPD."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(BANK_CSV_COLUMNS)
    for sheet in sheets:
        for row in sheet.rows:
            if row.net <= 0:
                continue
            writer.writerow(
                [
                    cell_text(row.nip),
                    cell_text(row.name),
                    cell_text(sheet.opd),
                    cell_text(row.bank_name),
                    cell_text(row.bank_account),
                    f"{row.net:f}",
                ]
            )
    return out.getvalue().encode("utf-8")
