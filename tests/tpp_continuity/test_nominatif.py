"""The daftar nominatif files, opened and read back cell by cell."""

import csv
import io
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from fpdf import FPDF
from openpyxl import load_workbook
from pypdf import PdfReader

from tepat.rules.tpp import tpp_month_compute
from tepat.tpp.nominatif import (
    BANK_CSV_COLUMNS,
    XLSX_HEADER_ROW,
    NominatifRow,
    NominatifSheet,
    Signatory,
    _account_layout,
    _NominatifPdf,
    bank_transfer_csv,
    nominatif_pdf,
    nominatif_row_from_result,
    nominatif_xlsx,
)
from tests.rules.test_tpp import KAUR, TTU, month

NIP_A = "198503122010011002"
NIP_B = "199001052015032001"


def _kaur_rows() -> tuple[NominatifRow, NominatifRow]:
    """Two November 2026 Kaur results: one present every day, one with a TL2 and a sanction."""
    from datetime import date

    from tepat.rules.tpp import SanctionInput

    clean = tpp_month_compute(month(kelas=8), KAUR)
    late = tpp_month_compute(
        month(
            kelas=10,
            overrides={date(2026, 11, 12): {"tl_code": "TL2"}},
            sanctions=(SanctionInput("PEMOTONGAN_25_6_BULAN", date(2026, 10, 1)),),
        ),
        KAUR,
    )
    return (
        nominatif_row_from_result(
            nip=NIP_A,
            name="Rina Marlina",
            golongan="III/b",
            jabatan="Analis Kebijakan",
            result=clean,
            bank_name="Bank Bengkulu",
            bank_account="0020101234567",
        ),
        nominatif_row_from_result(
            nip=NIP_B,
            name='=HYPERLINK("http://x.example/","klik")',
            golongan="III/b",
            jabatan="+Pengelola Keuangan",
            result=late,
        ),
    )


def _sheet(rows: tuple[NominatifRow, ...] | None = None) -> NominatifSheet:
    return NominatifSheet(
        regency="Pemerintah Kabupaten Kaur",
        opd="Dinas Pendidikan",
        year=2026,
        month=11,
        policy_label=KAUR.label,
        rows=rows if rows is not None else _kaur_rows(),
        signatories=(
            Signatory("Kepala Dinas Pendidikan", "Drs. H. Suryadi", "196805121994031005"),
            Signatory("Bendahara Pengeluaran"),
        ),
    )


def test_a_row_carries_the_rules_core_amounts_without_rounding_again() -> None:
    result = tpp_month_compute(month(kelas=8, overrides={}), KAUR)
    row = nominatif_row_from_result(
        nip=NIP_A, name="Rina", golongan="III/b", jabatan="Analis", result=result
    )
    assert row.kelas == "8"
    assert row.basic == result.basic
    assert row.gross == result.gross == row.discipline_paid + row.productivity_paid
    assert row.withholdings == (("Iuran BPJS Kesehatan 1% (peserta)", Decimal(45952)),)
    assert row.tax == 0
    assert row.net == result.net == row.gross - 45952


def test_pph21_goes_to_the_tax_column_and_a_transfer_shows_both_kelas() -> None:
    from datetime import date

    nine = month(kelas=9, golongan="IV/a")
    days = tuple(
        replace(d, kelas_jabatan=10) if d.date >= date(2026, 11, 23) else d for d in nine.days
    )
    result = tpp_month_compute(replace(nine, days=days), TTU)
    row = nominatif_row_from_result(nip=NIP_A, name="A", golongan="IV/a", jabatan="", result=result)
    assert row.kelas == "9/10"
    assert row.tax == result.withholdings[0].rupiah > 0
    assert row.withholdings == ()
    assert row.net == row.gross - row.tax


def test_xlsx_has_header_rows_totals_signatures_and_text_cells_that_never_run() -> None:
    sheet = _sheet()
    a, b = sheet.rows
    book = load_workbook(io.BytesIO(nominatif_xlsx(sheet)))
    ws = book.active
    assert ws["A1"].value == "Daftar Nominatif TPP November 2026"
    assert ws["A2"].value == "Dinas Pendidikan — Pemerintah Kabupaten Kaur"
    assert ws["A3"].value == f"Kebijakan: {KAUR.label}"
    header = [c.value for c in ws[XLSX_HEADER_ROW]]
    assert header == [
        "No", "NIP", "Nama", "Golongan", "Kelas", "Jabatan", "TPP dasar",
        "Potongan disiplin (%)", "Kekurangan produktivitas (%)", "TPP disiplin",
        "TPP produktivitas",
        "Potongan hukuman disiplin", "Tambahan Plt", "TPP kotor", "PPh 21",
        "Iuran BPJS Kesehatan 1% (peserta)", "TPP bersih", "Bank", "Nomor rekening",
    ]  # fmt: skip
    first = [c.value for c in ws[XLSX_HEADER_ROW + 1]]
    assert first[:6] == [1, NIP_A, "Rina Marlina", "III/b", "8", "Analis Kebijakan"]
    money = [Decimal(str(v)) for v in first[6:17]]
    assert money == [
        a.basic, 0, 0, a.discipline_paid,
        a.productivity_paid, a.sanction_cut, a.plt, a.gross, a.tax, a.withholdings[0][1], a.net,
    ]  # fmt: skip
    assert first[17:] == ["Bank Bengkulu", "0020101234567"]
    second = [c.value for c in ws[XLSX_HEADER_ROW + 2]]
    # A name or position that a spreadsheet would run as a formula is stored as text.
    assert second[2] == "'" + b.name
    assert second[5] == "'+Pengelola Keuangan"
    assert ws.cell(XLSX_HEADER_ROW + 2, 3).data_type == "s"
    assert Decimal(str(second[7])) == b.discipline_deduction_percent == 1  # TL2
    assert Decimal(str(second[11])) == b.sanction_cut > 0
    total = [c.value for c in ws[XLSX_HEADER_ROW + 3]]
    assert total[2] == "Jumlah 2 pegawai"
    assert total[7] is None  # percentages are not summed
    assert Decimal(str(total[13])) == a.gross + b.gross
    assert Decimal(str(total[16])) == a.net + b.net
    assert Decimal(str(total[15])) == a.withholdings[0][1] + b.withholdings[0][1]
    assert not any(
        isinstance(c.value, str) and c.value.startswith("=") for r in ws.iter_rows() for c in r
    )
    texts = [c.value for r in ws.iter_rows(min_row=XLSX_HEADER_ROW + 4) for c in r if c.value]
    assert texts == [
        "Kepala Dinas Pendidikan",
        "Bendahara Pengeluaran",
        "Drs. H. Suryadi",
        "(.................................)",
        "NIP 196805121994031005",
        "NIP ..............................",
    ]


def test_pdf_lists_every_employee_with_totals_and_repeats_the_header_on_each_page() -> None:
    a, b = _kaur_rows()
    rows = tuple(replace(a, nip=f"1985031220100110{i:02d}", name=f"Pegawai {i}") for i in range(60))
    sheet = _sheet((*rows, b))
    reader = PdfReader(io.BytesIO(nominatif_pdf(sheet)))
    pages = [page.extract_text() for page in reader.pages]
    assert len(pages) >= 2
    assert reader.pages[0].mediabox.width > reader.pages[0].mediabox.height  # landscape
    for number, text in enumerate(pages, start=1):
        assert "Daftar Nominatif TPP November 2026" in text
        assert "TPP bersih" in text
        assert f"Halaman {number}/{len(pages)}" in text
    everything = "\n".join(pages)
    for i in range(60):
        assert f"Pegawai {i} " in everything
    assert '=HYPERLINK("http://x.example/","klik")' in everything
    net_total = sum((r.net for r in sheet.rows), Decimal(0))
    total_line = next(line for line in everything.splitlines() if "Jumlah 61 pegawai" in line)
    assert f"{int(net_total):,}".replace(",", ".") in total_line
    assert "Kepala Dinas Pendidikan" in pages[-1]
    assert "NIP 196805121994031005" in pages[-1]


def test_bank_csv_has_the_documented_columns_skips_zero_and_guards_formulas() -> None:
    a, b = _kaur_rows()
    zero = replace(a, nip="198001012006041001", net=Decimal(0))
    other = replace(_sheet(), opd="Dinas Kesehatan", rows=(zero,))
    data = bank_transfer_csv([_sheet((a, b)), other])
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    assert tuple(rows[0]) == BANK_CSV_COLUMNS
    assert rows[1] == [NIP_A, "Rina Marlina", "Dinas Pendidikan", "Bank Bengkulu",
                       "0020101234567", f"{a.net:f}"]  # fmt: skip
    assert rows[2][1] == "'" + b.name
    assert rows[2][3:] == ["", "", f"{b.net:f}"]
    assert len(rows) == 3  # the zero row is not a transfer


@pytest.mark.parametrize("name", ["Siti Ṣāliḥah", "Nguyễn Văn A — staf"])
def test_pdf_survives_names_outside_latin1(name: str) -> None:
    a, _b = _kaur_rows()
    reader = PdfReader(io.BytesIO(nominatif_pdf(_sheet((replace(a, name=name),)))))
    assert "Jumlah 1 pegawai" in reader.pages[0].extract_text()


def _account_texts(sheet: NominatifSheet) -> tuple[list[tuple[float, float, str]], float, float]:
    """The texts drawn in the account column of the first page (x in mm, font size, text),
    with the column's left and right edges in mm."""
    layout = _NominatifPdf(sheet)
    left = layout.l_margin + sum(layout.widths[:-1])
    right = left + layout.widths[-1]
    mm = 72 / 25.4
    found: list[tuple[float, float, str]] = []

    def visit(text: str, cm: Any, tm: Any, font: Any, size: float) -> None:
        x = tm[4] / mm
        if (text.strip() and left <= x < right and size == 6.0) or size < 6.0:
            found.append((x, size, text.strip()))

    PdfReader(io.BytesIO(nominatif_pdf(sheet))).pages[0].extract_text(visitor_text=visit)
    return [t for t in found if t[2] != "Rekening"], left, right


def _width_mm(text: str, size: float) -> float:
    measure = FPDF(unit="mm")
    measure.add_page()
    measure.set_font("Helvetica", "", size)
    return measure.get_string_width(text)


@pytest.mark.parametrize(
    "account",
    ["12345678901234567", "12345678901234567890", "1234 5678 9012 3456 7890 1234 5678"],
    ids=["17-digits", "20-digits", "34-characters"],
)
def test_a_long_account_number_is_written_whole_inside_its_cell(account: str) -> None:
    a, b = _kaur_rows()
    bank = "Bank Pembangunan Daerah Bengkulu"
    texts, left, right = _account_texts(
        _sheet((replace(a, bank_name=bank, bank_account=account), b))
    )
    [number] = [t for t in texts if t[2] == account]  # whole, on a line of its own
    [name] = [t for t in texts if t[2] != account]
    assert name[2].startswith("Bank Pembangunan")
    assert name[2].endswith("...")
    for x, size, text in texts:
        assert left < x, text
        assert x + _width_mm(text, size) <= right, (text, size)
    assert number[1] == 6.0 or len(account) > 21  # only a very long number is written smaller
    assert number[1] >= 3.0


def test_a_short_account_keeps_one_line_with_its_bank() -> None:
    pdf = _NominatifPdf(_sheet())
    pdf.add_page()
    pdf.set_font("Helvetica", "", 6)
    assert _account_layout(pdf, "BRI", "012301000456501", pdf.widths[-1]) == (
        ("BRI 012301000456501", 6.0),
    )
    assert _account_layout(pdf, "", "", pdf.widths[-1]) == (("", 6.0),)
    lines = _account_layout(pdf, "", "9" * 30, pdf.widths[-1])
    [(number, size)] = lines
    assert number == "9" * 30
    assert size < 6.0
    assert _width_mm(number, size) <= pdf.widths[-1] - 1
