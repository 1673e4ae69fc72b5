"""The files of a payment request — daftar nominatif as XLSX and PDF, the bank-transfer CSV —
downloaded from its page and read back cell by cell against the stored results."""

import csv
import io
from decimal import Decimal

from django.test import Client
from openpyxl import load_workbook
from pypdf import PdfReader

from tepat.accounts.models import Role
from tepat.org.models import Employee
from tepat.tpp.models import TppResult, TppRun, TppSubmission
from tepat.tpp.nominatif import ADJUSTMENT_HEADER, BANK_CSV_COLUMNS, XLSX_HEADER_ROW
from tepat.tpp.submissions import tpp_submission_approve, tpp_submission_open, tpp_submission_ready
from tests.tpp.months import world_month_store
from tests.tpp.test_submissions import (
    _teacher2_late,
    accepted_run,
    approved,
    december_store,
)
from tests.world import World, login

BPJS = "Iuran BPJS Kesehatan 1% (peserta)"
ACCOUNT = "0020101234567"  # a leading zero a number cell would lose


def _teacher2_account(world: World) -> None:
    Employee.objects.filter(pk=world.teacher2.pk).update(
        bank_name="Bank Bengkulu", bank_account=ACCOUNT
    )


def _download(world: World, submission: TppSubmission, kind: str) -> bytes:
    client = login(Client(), world.users[Role.OPERATOR_OPD])
    response = client.get(f"/tpp/pengajuan/{submission.pk}/unduh/{kind}/")
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="{"transfer-bank-tpp" if kind == "csv" else "nominatif-tpp"}'
        f'-dindik-2026-{submission.month:02d}.{kind}"'
    )
    return response.content


def _sheet_rows(content: bytes) -> tuple[list[str], list[list[object]]]:
    ws = load_workbook(io.BytesIO(content)).active
    assert ws is not None
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    return [str(c) for c in rows[XLSX_HEADER_ROW - 1]], rows


def test_the_nominatif_xlsx_holds_every_paid_amount_the_total_and_the_signatures(
    world: World,
) -> None:
    world_month_store(world)
    run = accepted_run(world)
    submission = approved(world)
    _teacher2_account(world)
    header, rows = _sheet_rows(_download(world, submission, "xlsx"))
    assert rows[0][0] == "Daftar Nominatif TPP November 2026"
    assert header[:6] == ["No", "NIP", "Nama", "Golongan", "Kelas", "Jabatan"]
    net = header.index("TPP bersih")
    stored = {
        r.employee.nip: r
        for r in TppResult.objects.filter(run=run, opd=world.dindik).select_related("employee")
    }
    people = rows[XLSX_HEADER_ROW : XLSX_HEADER_ROW + len(stored)]
    assert {row[1] for row in people} == set(stored)
    for row in people:
        result = stored[str(row[1])]
        assert row[2] == result.employee.full_name
        assert row[3] == result.golongan
        assert row[4] == str(result.kelas_jabatan)
        assert Decimal(str(row[header.index("TPP kotor")])) == result.gross
        assert Decimal(str(row[header.index(BPJS)])) == result.withholdings
        assert Decimal(str(row[net])) == result.net
    teacher2 = next(row for row in people if row[1] == world.teacher2.nip)
    assert teacher2[5] == "Guru"
    assert Decimal(str(teacher2[net])) == Decimal("4549198")
    bank, account = header.index("Bank"), header.index("Nomor rekening")
    assert (teacher2[bank], teacher2[account]) == ("Bank Bengkulu", ACCOUNT)
    assert all(not row[account] for row in people if row[1] != world.teacher2.nip)
    total = rows[XLSX_HEADER_ROW + len(stored)]
    assert total[2] == "Jumlah 4 pegawai"
    assert Decimal(str(total[net])) == sum(r.net for r in stored.values())
    texts = {str(c) for row in rows[XLSX_HEADER_ROW + len(stored) + 1 :] for c in row if c}
    assert "Pembuat Daftar (Operator OPD)" in texts
    assert "operator.dindik" in texts
    assert "Kepala Dinas Pendidikan dan Kebudayaan" in texts
    assert world.kadis.full_name in texts
    assert f"NIP {world.kadis.nip}" in texts


def test_the_pdf_and_the_bank_csv_carry_the_same_people_and_total(world: World) -> None:
    world_month_store(world)
    run = accepted_run(world)
    submission = approved(world)
    _teacher2_account(world)
    stored = TppResult.objects.filter(run=run, opd=world.dindik).select_related("employee")
    text = "".join(
        page.extract_text()
        for page in PdfReader(io.BytesIO(_download(world, submission, "pdf"))).pages
    )
    assert "Daftar Nominatif TPP November 2026" in text
    assert world.teacher2.nip in text
    assert "Jumlah 4 pegawai" in text
    total = sum(r.net for r in stored)
    assert f"{total:,.0f}".replace(",", ".") in text
    assert world.kadis.full_name in text
    rows = list(csv.reader(io.StringIO(_download(world, submission, "csv").decode())))
    assert tuple(rows[0]) == BANK_CSV_COLUMNS
    assert {(r[0], Decimal(r[5])) for r in rows[1:]} == {(r.employee.nip, r.net) for r in stored}
    assert all(r[2] == "Dinas Pendidikan dan Kebudayaan" for r in rows[1:])
    accounts = {r[0]: (r[3], r[4]) for r in rows[1:]}
    assert accounts.pop(world.teacher2.nip) == ("Bank Bengkulu", ACCOUNT)
    assert set(accounts.values()) == {("", "")}
    assert ACCOUNT in text.replace("\n", "")


def test_a_correction_of_a_locked_month_is_a_column_of_the_next_months_list(
    world: World,
) -> None:
    u = world.users
    world_month_store(world)
    accepted_run(world)
    approved(world)
    _teacher2_late(world)
    accepted_run(world)
    for employee in Employee.objects.all():
        december_store(employee)
    december_run: TppRun = accepted_run(world, 2026, 12)
    december = tpp_submission_open(actor=u[Role.OPERATOR_OPD], opd=world.dindik, year=2026,
                                   month=12)  # fmt: skip
    tpp_submission_ready(actor=u[Role.OPERATOR_OPD], submission=december, note="")
    tpp_submission_approve(actor=u[Role.KEPALA_OPD], submission=december, note="")
    header, rows = _sheet_rows(_download(world, december, "xlsx"))
    column = header.index(ADJUSTMENT_HEADER)
    net = header.index("TPP bersih")
    stored = TppResult.objects.get(run=december_run, employee=world.teacher2)
    teacher2 = next(row for row in rows if row[1] == world.teacher2.nip)
    assert Decimal(str(teacher2[column])) == Decimal("-18197")
    assert Decimal(str(teacher2[net])) == stored.net
    gross, bpjs = header.index("TPP kotor"), header.index(BPJS)
    assert Decimal(str(teacher2[gross])) - Decimal(str(teacher2[bpjs])) - 18197 == stored.net
    total = next(row for row in rows if row[2] == "Jumlah 4 pegawai")
    assert Decimal(str(total[column])) == Decimal("-18197")


def test_an_unknown_file_is_not_found(world: World) -> None:
    world_month_store(world)
    accepted_run(world)
    submission = approved(world)
    client = login(Client(), world.users[Role.OPERATOR_OPD])
    assert client.get(f"/tpp/pengajuan/{submission.pk}/unduh/docx/").status_code == 404
