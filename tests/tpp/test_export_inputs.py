"""`tepat tpp_export_inputs`: a month's continuity files written from the database, which
`tepat tpp compute` turns into the same nets as the monthly run."""

import csv
import io
from datetime import date
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tepat.monitor.services import SanctionDecision, sanction_record
from tepat.org.models import Assignment, Employee
from tepat.tpp.continuity import main as tpp_compute
from tepat.tpp.models import PltAppointment, TppResult
from tests.tpp.months import WEEKDAYS, world_month_store
from tests.tpp.test_submissions import accepted_run
from tests.world import World

ABSENT = {"minutes_late": None, "minutes_early": None}


def _busy_month(world: World) -> None:
    """November with something in every file: bands, TK, leave, a sanction, a Plt, a kelas
    change mid-month, and one employee whose last day is missing."""
    world_month_store(
        world,
        teacher={"days": {
            date(2026, 11, 3): {"day_code": "TK", **ABSENT},
            date(2026, 11, 4): {"minutes_late": 45},
            date(2026, 11, 5): {"in_code": "TL4", "minutes_late": None},
            date(2026, 11, 10): {"day_code": "cuti_tahunan", **ABSENT},
            date(2026, 11, 11): {"day_code": "dinas_luar", **ABSENT},
            date(2026, 11, 12): {"minutes_early": 20},
        }, "minutes": 5000},
        kadinkes={"last": WEEKDAYS[-2]},
    )  # fmt: skip
    sanction_record(
        actor=world.users["admin_bkpsdm"],
        employee=world.teacher2,
        decision=SanctionDecision(
            kind="PEMOTONGAN_25_6_BULAN", decree_number="800/2",
            decided_on=date(2026, 10, 20), effective_from=date(2026, 11, 1),
        ),
    )  # fmt: skip
    PltAppointment.objects.create(
        employee=world.nurse, kelas_jabatan=12, jabatan="Plt Kepala Puskesmas",
        first_day=date(2026, 10, 1), decree="SK Bupati 800/123/2026",
    )  # fmt: skip
    old = Assignment.objects.get(employee=world.principal)
    old.valid_to = date(2026, 11, 16)
    old.save()
    old.pk, old.valid_from, old.valid_to, old.kelas_jabatan = None, date(2026, 11, 16), None, 11
    old.save()


def test_the_files_compute_to_the_same_nets_as_the_run(world: World, tmp_path: Path) -> None:
    _busy_month(world)
    run = accepted_run(world)
    accounts = {
        world.teacher.nip: ("Bank Bengkulu", "0020101234567"),
        world.nurse.nip: ("BRI", "012301000456507"),
    }
    for nip, (bank_name, account) in accounts.items():
        Employee.objects.filter(nip=nip).update(bank_name=bank_name, bank_account=account)
    err = StringIO()
    call_command(
        "tpp_export_inputs", "--month", "2026-11", "--out", str(tmp_path / "in"), stderr=err,
        stdout=StringIO(),
    )  # fmt: skip
    assert world.kadinkes.nip in err.getvalue()  # left out, as the run lists it with an error
    assert "30-11-2026 belum ada" in err.getvalue()
    out = tmp_path / "out"
    assert tpp_compute([str(tmp_path / "in"), "--keluaran", str(out), "--proses", "1"]) == 0
    bank = list(csv.reader(io.StringIO((out / "transfer_bank.csv").read_text(encoding="utf-8"))))
    from_files = {row[0]: Decimal(row[5]) for row in bank[1:]}
    from_run = {
        nip: net
        for nip, net in TppResult.objects.filter(run=run, error="").values_list(
            "employee__nip", "net"
        )
    }
    assert from_files == from_run
    assert len(from_run) == 5
    paid_into = {row[0]: (row[3], row[4]) for row in bank[1:]}
    assert {nip: paid_into.pop(nip) for nip in accounts} == accounts
    assert set(paid_into.values()) == {("", "")}
    pegawai = list(csv.DictReader(io.StringIO((tmp_path / "in" / "pegawai.csv").read_text(
        encoding="utf-8"))))  # fmt: skip
    listed = {r["NIP"]: (r["Bank"], r["Nomor Rekening"]) for r in pegawai}
    assert listed[world.teacher.nip] == accounts[world.teacher.nip]
    kelas = (tmp_path / "in" / "kelas.csv").read_text(encoding="utf-8")
    assert world.principal.nip in kelas  # the mid-month change is in the files
    assert "PEMOTONGAN_25_6_BULAN" in (tmp_path / "in" / "hukuman_disiplin.csv").read_text(
        encoding="utf-8"
    )


def test_a_bad_month_or_a_month_without_a_policy_is_refused(world: World, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="TTTT-BB"):
        call_command("tpp_export_inputs", "--month", "2026-13", "--out", str(tmp_path))
    with pytest.raises(CommandError, match="01-01-2020"):
        call_command("tpp_export_inputs", "--month", "2020-01", "--out", str(tmp_path))
