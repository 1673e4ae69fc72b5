"""An employee's bank account: imported with the staff file, edited by BKPSDM in the back
office, and kept out of the audit trail except for its last four digits."""

import logging
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import translation

from tepat.audit.models import AuditEntry
from tepat.org.demo import demo_bank_account
from tepat.org.models import Employee, bank_account_masked
from tests.org.test_importing import (
    EMPLOYEE_HEADER,
    NEW_TEACHER,
    csv_bytes,
    employee_row,
    messages,
    run,
    xlsx_bytes,
)
from tests.world import World, login

HEADER = [*EMPLOYEE_HEADER, "Nama Bank", "Nomor Rekening"]


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _nurse_row(world: World, bank: str, account: Any) -> list[Any]:
    nurse = world.nurse
    return [
        *employee_row(
            nurse.nip, nama=nurse.name, gelar_belakang="", golongan="III/a", jabatan="Staf",
            kelas_jabatan=7, kode_unit="PKM-LP", nip_atasan=world.kadinkes.nip,
            kelompok_jadwal="kantor-5hk", tmt="01-01-2024",
        ),
        bank,
        account,
    ]  # fmt: skip


def test_the_import_stores_the_bank_account_and_audits_it_masked(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    data = csv_bytes([
        HEADER,
        [*employee_row(NEW_TEACHER), "Bank Bengkulu", "0020 1012-3456.7"],
        _nurse_row(world, "BRI", "012301000456507"),
    ])  # fmt: skip

    with caplog.at_level(logging.DEBUG):
        result = run("employee", data)

    assert result.ok, messages(result)
    new = Employee.objects.get(nip=NEW_TEACHER)
    assert (new.bank_name, new.bank_account) == ("Bank Bengkulu", "0020101234567")
    world.nurse.refresh_from_db()
    assert (world.nurse.bank_name, world.nurse.bank_account) == ("BRI", "012301000456507")
    entry = AuditEntry.objects.get(action="employee.update", object_id=str(world.nurse.pk))
    assert entry.before == {"bank_name": "", "bank_account": ""}
    assert entry.after == {"bank_name": "BRI", "bank_account": "****6507"}
    created = AuditEntry.objects.get(action="employee.create", object_id=str(new.pk))
    everything = [str(e.before) + str(e.after) + e.summary for e in AuditEntry.objects.all()]
    assert not any("0020101234567" in t or "012301000456507" in t for t in everything)
    assert created.after is not None
    assert "0020101234567" not in caplog.text
    assert "012301000456507" not in caplog.text


@pytest.mark.parametrize(
    ("bank", "account", "column", "message"),
    [
        ("BRI", "0123-ABC-456", "nomor_rekening", "nomor_rekening hanya boleh berisi angka"),
        ("BRI", "1234567", "nomor_rekening", "terdiri atas 7 digit; nomor rekening 8 sampai 20"),
        ("BRI", "1" * 21, "nomor_rekening", "terdiri atas 21 digit; nomor rekening 8 sampai 20"),
        ("", "012301000456507", "nama_bank", "nama_bank wajib diisi bila nomor_rekening diisi"),
    ],
)
def test_a_bad_account_number_is_a_row_error_and_nothing_is_written(
    world: World, bank: str, account: str, column: str, message: str
) -> None:
    data = csv_bytes([
        HEADER,
        [*employee_row(NEW_TEACHER), "Bank Bengkulu", "0020101234567"],
        _nurse_row(world, bank, account),
    ])  # fmt: skip

    result = run("employee", data)

    assert [(e.row, e.column) for e in result.errors] == [(3, column)]
    assert message in result.errors[0].message
    assert not Employee.objects.filter(nip=NEW_TEACHER).exists()
    world.nurse.refresh_from_db()
    assert world.nurse.bank_account == ""


def test_an_account_number_excel_turned_into_a_number_is_reported_not_guessed(
    world: World,
) -> None:
    rows = [HEADER, _nurse_row(world, "BRI", 20101234567)]

    result = run("employee", xlsx_bytes(rows), filename="pegawai.xlsx")

    assert [(e.row, e.column) for e in result.errors] == [(2, "nomor_rekening")]
    assert "Format kolom nomor_rekening sebagai Teks" in result.errors[0].message


def test_a_file_without_the_bank_columns_keeps_the_stored_account(world: World) -> None:
    Employee.objects.filter(pk=world.nurse.pk).update(
        bank_name="BRI", bank_account="012301000456507"
    )
    row = _nurse_row(world, "", "")[: len(EMPLOYEE_HEADER)]

    result = run("employee", csv_bytes([EMPLOYEE_HEADER, row]))

    assert result.ok, messages(result)
    world.nurse.refresh_from_db()
    assert world.nurse.bank_account == "012301000456507"


def _change_form(employee: Employee, **values: str) -> dict[str, str]:
    data = {
        "name": employee.name,
        "title_prefix": employee.title_prefix,
        "title_suffix": employee.title_suffix,
        "active": "on",
        "bank_name": employee.bank_name,
        "bank_account": employee.bank_account,
        "assignments-TOTAL_FORMS": "0",
        "assignments-INITIAL_FORMS": "0",
        "assignments-MIN_NUM_FORMS": "0",
        "assignments-MAX_NUM_FORMS": "0",
    }
    data.update(values)
    return data


def test_bkpsdm_edits_the_account_in_the_back_office_and_the_audit_shows_4_digits(
    world: World,
) -> None:
    client = login(Client(), world.users["admin_bkpsdm"])
    url = f"/admin/org/employee/{world.nurse.pk}/change/"

    bad = client.post(url, _change_form(world.nurse, bank_name="BRI", bank_account="0123 4567"))
    assert bad.status_code == 200
    assert "Nomor rekening terdiri atas 8 sampai 20 angka saja" in bad.content.decode()
    missing = client.post(url, _change_form(world.nurse, bank_account="012301000456507"))
    assert "Isi juga nama bank nomor rekening ini." in missing.content.decode()
    assert not AuditEntry.objects.filter(action="employee.update").exists()

    good = client.post(
        url, _change_form(world.nurse, bank_name="BRI", bank_account="012301000456507")
    )

    assert good.status_code == 302, good.content.decode()[:2000]
    world.nurse.refresh_from_db()
    assert world.nurse.bank_account == "012301000456507"
    entry = AuditEntry.objects.get(action="employee.update")
    assert entry.before == {"bank_name": "", "bank_account": ""}
    assert entry.after == {"bank_name": "BRI", "bank_account": "****6507"}
    assert entry.actor == world.users["admin_bkpsdm"]


def test_the_model_refuses_letters_and_explains_in_indonesian() -> None:
    employee = Employee(bank_name="BRI", bank_account="12AB5678")
    with translation.override("id"), pytest.raises(ValidationError) as exc:
        employee.clean_fields(exclude=["nip", "name", "kind", "gender", "birth_date"])
    assert exc.value.message_dict["bank_account"] == [
        "Nomor rekening terdiri atas 8 sampai 20 angka saja, tanpa spasi atau tanda hubung."
    ]
    assert bank_account_masked("012301000456507") == "****6507"
    assert bank_account_masked("") == ""


def test_the_demo_gives_most_people_a_valid_synthetic_account() -> None:
    accounts = [demo_bank_account(f"19800101200501{i:04d}") for i in range(500)]
    assert accounts == [demo_bank_account(f"19800101200501{i:04d}") for i in range(500)]
    filled = [a for a in accounts if a[1]]
    assert 0.8 < len(filled) / len(accounts) < 0.97
    for bank, number in filled:
        assert bank
        assert number.isdigit()
        assert 10 <= len(number) <= 15
        assert number.startswith("9")
        Employee(bank_name=bank, bank_account=number).clean_fields(
            exclude=["nip", "name", "kind", "gender", "birth_date"]
        )
