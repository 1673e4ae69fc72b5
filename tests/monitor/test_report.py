"""The monthly discipline recap per OPD, on screen and as XLSX and PDF (requested exports):
the list for the regent's meeting, scoped like every other monitor page, with formula-safe
cells."""

import io
from datetime import date
from typing import Any

import pytest
from django.test import Client
from openpyxl import load_workbook
from pypdf import PdfReader

from tepat.org.models import Employee
from tests.exports.flow import export_download, file_bytes
from tests.monitor.days import verdicts, working_days_until
from tests.world import TODAY, World, login

pytestmark = pytest.mark.usefixtures("clock")


@pytest.fixture
def absences(world: World) -> None:
    verdicts(world.teacher2, working_days_until(TODAY, 10))  # 10-23 November
    verdicts(world.nurse, [date(2026, 10, 5), date(2026, 10, 6), date(2026, 11, 2)])


def _xlsx(client: Client) -> bytes:
    return file_bytes(export_download(client, "rekap-disiplin-xlsx", {"bulan": "2026-11"}))


def _pdf(client: Client) -> bytes:
    return file_bytes(export_download(client, "rekap-disiplin-pdf", {"bulan": "2026-11"}))


def _sheets(content: bytes) -> dict[str, list[tuple[object, ...]]]:
    book = load_workbook(io.BytesIO(content))
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in book.worksheets}


@pytest.mark.usefixtures("absences")
def test_bkpsdm_downloads_the_months_recap_by_opd_and_by_name(world: World) -> None:
    client = login(Client(), world.users["admin_bkpsdm"])

    response = export_download(client, "rekap-disiplin-xlsx", {"bulan": "2026-11"})

    assert "rekap-disiplin-2026-11.xlsx" in response["Content-Disposition"]
    sheets = _sheets(file_bytes(response))
    summary = sheets["Ringkasan OPD"]
    assert summary[2] == (world.dindik.name, 1, 10, 0, 0, 1, 1)
    assert summary[3] == (world.dinkes.name, 1, 1, 1, 0, 0, 0)
    detail = {row[0]: row for row in sheets["Rincian"][1:]}
    teacher2 = detail[world.teacher2.nip]
    assert teacher2[5:10] == (10, 10, 10, 10, "berat")
    assert teacher2[11] == "PP 94/2021 Pasal 11 ayat (2) huruf d angka 4 dan Pasal 15 ayat (2)"
    assert detail[world.nurse.nip][5:7] == (1, 3)


@pytest.mark.usefixtures("absences")
def test_a_kepala_opd_gets_only_their_opd(world: World) -> None:
    client = login(Client(), world.users["kepala_opd"])

    sheets = _sheets(_xlsx(client))
    page = client.get("/pantau/laporan/?bulan=2026-10").content.decode()

    assert [row[0] for row in sheets["Rincian"][1:]] == [world.teacher2.nip]
    assert world.nurse.name not in page


@pytest.mark.usefixtures("absences")
def test_a_name_that_looks_like_a_formula_stays_text(world: World) -> None:
    Employee.objects.filter(pk=world.teacher2.pk).update(name='=HYPERLINK("http://x","klik")')
    client = login(Client(), world.users["admin_bkpsdm"])

    sheets = _sheets(_xlsx(client))

    names = [row[1] for row in sheets["Rincian"][1:]]
    assert '\'=HYPERLINK("http://x","klik")' in names


def test_a_bad_month_falls_back_to_this_month(world: World) -> None:
    client = login(Client(), world.users["admin_bkpsdm"])

    response = client.get("/pantau/laporan/?bulan=2026-13")

    assert response.status_code == 200
    assert 'name="bulan" value="2026-11"' in response.content.decode()


def _pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.mark.usefixtures("absences")
def test_the_recap_prints_as_an_a4_pdf_in_indonesian_with_a_signature_block(
    world: World, settings: Any
) -> None:
    settings.TEPAT_REGENCY_NAME = "Kabupaten Mukomuko"
    client = login(Client(), world.users["admin_bkpsdm"])

    response = export_download(client, "rekap-disiplin-pdf", {"bulan": "2026-11"})

    assert response["Content-Type"] == "application/pdf"
    assert "rekap-disiplin-2026-11.pdf" in response["Content-Disposition"]
    content = file_bytes(response)
    page = PdfReader(io.BytesIO(content)).pages[0]
    assert sorted((round(float(page.mediabox.width)), round(float(page.mediabox.height)))) == [
        595, 842,
    ]  # fmt: skip
    text = _pdf_text(content)
    assert "KABUPATEN MUKOMUKO" in text
    assert "REKAP DISIPLIN PEGAWAI BULAN NOVEMBER 2026" in text
    assert "dihitung sampai 23 November 2026" in text
    assert world.teacher2.nip in text
    assert world.nurse.nip in text
    assert "PP 94/2021 Pasal 11 ayat (2) huruf d angka 4" in text
    assert "Mukomuko, 23 November 2026" in text
    assert "Kepala BKPSDM" in text
    assert "NIP. ....." in text


@pytest.mark.usefixtures("absences")
def test_a_kepala_opds_pdf_holds_only_their_opd_and_is_signed_by_them(world: World) -> None:
    client = login(Client(), world.users["kepala_opd"])

    text = _pdf_text(_pdf(client))

    assert world.teacher2.nip in text
    assert world.nurse.nip not in text
    assert f"Kepala {world.dindik.name}" in text


def test_a_month_without_absences_prints_nihil(world: World) -> None:
    client = login(Client(), world.users["admin_bkpsdm"])

    text = _pdf_text(_pdf(client))

    assert "Nihil" in text
