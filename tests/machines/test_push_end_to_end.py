"""An emulated ZKTeco terminal (zkemu, written from the protocol description, not from
Tepat) talks to a live Tepat over real HTTP: what the machine sees, and what lands in the
ledger."""

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tepat.presence.models import CheckinEvent, Machine, MachinePunch, MachineUpload
from tests.machines.conftest import SERIAL, DeviceMaker
from tests.world import World
from zkemu import Quirks

WIB = ZoneInfo("Asia/Jakarta")


@pytest.fixture(autouse=True)
def _server_clock() -> Iterator[None]:
    """The server's clock a few seconds after the device's punches (Realtime=1)."""
    with time_machine.travel(datetime(2026, 11, 16, 7, 5, 30, tzinfo=WIB), tick=True):
        yield


def test_a_punch_reaches_the_ledger_in_the_machines_zone(
    world: World, machine: Machine, make_device: DeviceMaker
) -> None:
    device = make_device()
    assert device.boot()
    device.punch(world.teacher.nip, status=0, verify=1)
    assert device.sync()
    assert device.pending_count() == 0
    assert device.violations == []
    event = CheckinEvent.objects.get()
    assert event.employee == world.teacher
    assert event.source == CheckinEvent.Source.MACHINE
    assert event.kind == CheckinEvent.Kind.IN
    assert event.status == CheckinEvent.Status.ACCEPTED
    assert event.taken_at == datetime(2026, 11, 16, 7, 5, tzinfo=WIB)
    assert event.site == world.school_site
    assert MachineUpload.objects.filter(table="ATTLOG").count() == 1


def test_an_unknown_serial_gets_harmless_answers_and_no_events(
    world: World, make_device: DeviceMaker
) -> None:
    device = make_device("UNKNOWN000001")
    device.boot()
    device.punch(world.teacher.nip)
    device.flush(max_failures=1)
    assert CheckinEvent.objects.count() == 0
    assert MachinePunch.objects.count() == 0
    quarantined = Machine.objects.get(serial="UNKNOWN000001")
    assert quarantined.status == Machine.Status.QUARANTINED
    # It was never told its punches were taken: they wait on the machine.
    assert device.acked_keys() == set()
    assert len(device.recorded_keys()) == 1
