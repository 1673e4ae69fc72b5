"""A new employee or a transfer (mutasi) updates the user lists of the machines it concerns:
the unit joined gets DATA UPDATE USERINFO, the unit left DATA DELETE USERINFO, both held until
the first day of the move."""

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from tepat.org.services import Position, employee_create, employee_transfer
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
