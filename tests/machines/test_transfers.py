"""A new employee or a transfer (mutasi) updates the user lists of the machines it concerns:
the unit joined gets DATA UPDATE USERINFO, the unit left DATA DELETE USERINFO, both held until
the first day of the move."""

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client

from tepat.audit.models import AuditEntry
from tepat.org.services import (
    Position,
    employee_create,
    employee_transfer,
    employee_transfer_cancel,
)
from tepat.presence import machines
from tepat.presence.models import Machine, MachineCommand
from tests.machines.conftest import SERIAL
from tests.world import World, login

WIB = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 11, 18, 9, 0, tzinfo=WIB)
PUSKESMAS_SERIAL = "CQZ7230000002"


@pytest.fixture(autouse=True)
def _clock() -> Any:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def puskesmas_machine(world: World) -> Machine:
    return machines.machine_register(
        actor=world.users["admin_bkpsdm"],
        serial=PUSKESMAS_SERIAL,
        unit=world.puskesmas,
        site=world.puskesmas_site,
    )


def _poll(serial: str) -> bytes:
    return Client().get(f"/iclock/getrequest?SN={serial}").content


def _to_puskesmas(world: World, start: date) -> None:
    employee_transfer(
        actor=world.users["admin_bkpsdm"],
        employee=world.teacher,
        start=start,
        position=Position(
            unit=world.puskesmas, jabatan="Promotor Kesehatan", jabatan_kind="fungsional",
            kelas_jabatan=8, golongan="IX",
        ),
        reason="Mutasi SK Bupati 800/123/2026",
    )  # fmt: skip


def test_a_transfer_enrols_at_the_new_unit_and_removes_from_the_old_on_its_first_day(
    world: World, machine: Machine, puskesmas_machine: Machine
) -> None:
    machines.pin_map(
        actor=world.users["operator_opd"], machine=machine, pin="1452",
        employee=world.teacher, now=NOW,
    )  # fmt: skip
    _to_puskesmas(world, date(2026, 12, 1))

    joined = MachineCommand.objects.get(machine=puskesmas_machine)
    assert joined.text.startswith(f"DATA UPDATE USERINFO PIN={world.teacher.nip}\tName=Rina")
    left = MachineCommand.objects.get(machine=machine)
    assert left.text == "DATA DELETE USERINFO PIN=1452"  # the PIN it has on that machine
    assert left.author == world.users["admin_bkpsdm"]
    first_day = datetime(2026, 12, 1, tzinfo=WIB)
    assert joined.not_before == left.not_before == first_day
    page = login(Client(), world.users["operator_opd"]).get(f"/presensi/mesin/{machine.pk}/")
    assert "01-12-2026 00:00" in page.content.decode()  # the operator sees it is held
    # Until the move, the teacher still punches at the school: nothing goes out yet.
    assert _poll(SERIAL) == b"OK"
    assert _poll(PUSKESMAS_SERIAL) == b"OK"
    with time_machine.travel(first_day, tick=False):
        assert _poll(SERIAL) == f"C:{left.pk}:DATA DELETE USERINFO PIN=1452\n".encode()
        assert _poll(PUSKESMAS_SERIAL).startswith(f"C:{joined.pk}:DATA UPDATE USERINFO".encode())


def test_a_promotion_in_the_same_unit_sends_nothing(world: World, machine: Machine) -> None:
    employee_transfer(
        actor=world.users["admin_bkpsdm"],
        employee=world.teacher2,
        start=date(2026, 12, 1),
        position=Position(
            unit=world.school, jabatan="Guru Madya", jabatan_kind="fungsional",
            kelas_jabatan=9, golongan="III/c",
        ),
        reason="Kenaikan jabatan",
    )  # fmt: skip
    assert not MachineCommand.objects.exists()


def test_a_new_employee_is_sent_to_the_machines_of_their_unit(
    world: World, machine: Machine, puskesmas_machine: Machine
) -> None:
    employee = employee_create(
        actor=world.users["admin_bkpsdm"],
        nip="199001012020122001",
        name="Maya Sari",
        kind="PNS",
        start=date(2026, 11, 18),
        position=Position(
            unit=world.school, jabatan="Guru", jabatan_kind="fungsional",
            kelas_jabatan=8, golongan="III/a",
        ),
        today=date(2026, 11, 18),
    )  # fmt: skip
    command = MachineCommand.objects.get()
    assert command.machine == machine
    assert command.text.startswith(f"DATA UPDATE USERINFO PIN={employee.nip}\tName=Maya Sari\t")
    assert _poll(SERIAL).startswith(f"C:{command.pk}:DATA UPDATE USERINFO".encode())


def test_a_retired_machine_of_the_old_unit_gets_nothing(
    world: World, machine: Machine, puskesmas_machine: Machine
) -> None:
    machines.machine_retire(actor=world.users["admin_bkpsdm"], machine=machine, reason="Rusak")
    _to_puskesmas(world, date(2026, 11, 18))
    assert list(MachineCommand.objects.values_list("machine__serial", flat=True)) == [
        PUSKESMAS_SERIAL
    ]


def _back_to_school(world: World, start: date) -> None:
    employee_transfer(
        actor=world.users["admin_bkpsdm"],
        employee=world.teacher,
        start=start,
        position=Position(
            unit=world.school, jabatan="Guru", jabatan_kind="fungsional",
            kelas_jabatan=8, golongan="IX",
        ),
        reason="Mutasi dibatalkan, SK Bupati 800/130/2026",
    )  # fmt: skip


def test_a_cancelled_transfer_cancels_its_held_commands_and_records_why(
    world: World, machine: Machine, puskesmas_machine: Machine
) -> None:
    _to_puskesmas(world, date(2026, 12, 1))
    held = list(MachineCommand.objects.order_by("pk"))
    assert [c.employee for c in held] == [world.teacher, world.teacher]
    employee_transfer_cancel(
        actor=world.users["admin_bkpsdm"],
        employee=world.teacher,
        reason="SK mutasi dicabut",
        today=NOW.date(),
    )
    # The school assignment runs on; nothing is sent to either machine, on the day or after.
    assert world.teacher.assignments.get(valid_to__isnull=True).unit == world.school
    with time_machine.travel(datetime(2026, 12, 1, 8, 0, tzinfo=WIB), tick=False):
        assert _poll(SERIAL) == b"OK"
        assert _poll(PUSKESMAS_SERIAL) == b"OK"
    # Kept, not deleted: each command says it was cancelled, by whom and why.
    for command in MachineCommand.objects.order_by("pk"):
        assert command.state == MachineCommand.State.CANCELLED
        assert command.result["note"] == "move of 2026-12-01 cancelled: SK mutasi dicabut"
        assert command.result["cancelled_by"] == world.users["admin_bkpsdm"].pk
    assert AuditEntry.objects.filter(action="machine.command.cancel").count() == 2
    cancel = AuditEntry.objects.get(action="employee.transfer_cancel")
    assert cancel.after == {"machine_commands_cancelled": 2}
    assert cancel.before["unit"] == world.puskesmas.code
    page = login(Client(), world.users["operator_opd"]).get(f"/presensi/mesin/{machine.pk}/")
    assert "Dibatalkan sebelum dikirim" in page.content.decode()


def test_only_a_transfer_still_to_come_can_be_cancelled(
    world: World, machine: Machine, puskesmas_machine: Machine
) -> None:
    admin = world.users["admin_bkpsdm"]
    with pytest.raises(ValidationError, match="belum berlaku"):
        employee_transfer_cancel(actor=admin, employee=world.teacher, reason="x", today=NOW.date())
    _to_puskesmas(world, date(2026, 11, 18))  # in force today
    with pytest.raises(ValidationError, match="belum berlaku"):
        employee_transfer_cancel(actor=admin, employee=world.teacher, reason="x", today=NOW.date())
    with pytest.raises(ValidationError, match="Alasan"):
        employee_transfer_cancel(actor=admin, employee=world.teacher, reason=" ", today=NOW.date())
    assert world.teacher.assignments.get(valid_to__isnull=True).unit == world.puskesmas


def test_a_command_already_sent_is_not_called_back(
    world: World, machine: Machine, puskesmas_machine: Machine
) -> None:
    _to_puskesmas(world, date(2026, 12, 1))
    with time_machine.travel(datetime(2026, 12, 1, 0, 1, tzinfo=WIB), tick=False):
        assert _poll(SERIAL).startswith(b"C:")  # the school machine already has the removal
    employee_transfer_cancel(
        actor=world.users["admin_bkpsdm"],
        employee=world.teacher,
        reason="SK mutasi dicabut",
        today=NOW.date(),  # decided the evening before, entered late
    )
    states = dict(MachineCommand.objects.values_list("machine__serial", "state"))
    assert states == {SERIAL: "sent", PUSKESMAS_SERIAL: "cancelled"}


def test_a_transfer_reverted_by_another_keeps_the_fingerprints_at_the_old_unit(
    world: World, machine: Machine, puskesmas_machine: Machine
) -> None:
    """Back at the school the day after the move, decided before the move was sent: the
    school's held removal (which would erase the teacher's fingerprints there) is cancelled;
    the puskesmas gets the teacher for that one day and then the removal."""
    _to_puskesmas(world, date(2026, 12, 1))
    _back_to_school(world, date(2026, 12, 2))
    school = {c.text.split(" ")[1]: c for c in MachineCommand.objects.filter(machine=machine)}
    assert school["DELETE"].state == MachineCommand.State.CANCELLED
    assert school["DELETE"].result["note"].startswith("the employee is back on this machine")
    assert school["UPDATE"].state == MachineCommand.State.QUEUED
    puskesmas = MachineCommand.objects.filter(machine=puskesmas_machine).order_by("pk")
    assert [(c.kind, c.state) for c in puskesmas] == [
        ("user_update", "queued"),
        ("user_delete", "queued"),
    ]
    with time_machine.travel(datetime(2026, 12, 2, 8, 0, tzinfo=WIB), tick=False):
        sent = _poll(SERIAL).decode()
    assert "DATA DELETE USERINFO" not in sent
    assert "DATA UPDATE USERINFO" in sent


def test_bkpsdm_cancels_the_transfer_from_the_back_office_with_a_reason(
    world: World, machine: Machine, puskesmas_machine: Machine
) -> None:
    _to_puskesmas(world, date(2026, 12, 1))
    client = login(Client(), world.users["admin_bkpsdm"])
    chosen = {"action": "transfer_cancel_action", "_selected_action": [world.teacher.pk]}
    ask = client.post("/admin/org/employee/", chosen)
    assert "Alasan (mis. SK yang mencabut mutasi)" in ask.content.decode()
    empty = client.post("/admin/org/employee/", chosen | {"confirm": "1", "reason": " "})
    assert "Alasan wajib diisi untuk membatalkan mutasi." in empty.content.decode()
    assert not MachineCommand.objects.filter(state="cancelled").exists()
    done = client.post(
        "/admin/org/employee/", chosen | {"confirm": "1", "reason": "SK 800/131/2026"}, follow=True
    )
    assert "mutasi dibatalkan" in done.content.decode()
    assert world.teacher.assignments.get(valid_to__isnull=True).unit == world.school
    assert set(MachineCommand.objects.values_list("state", flat=True)) == {"cancelled"}
    again = client.post(
        "/admin/org/employee/", chosen | {"confirm": "1", "reason": "lagi"}, follow=True
    )
    assert "tidak memiliki mutasi yang belum berlaku" in again.content.decode()
