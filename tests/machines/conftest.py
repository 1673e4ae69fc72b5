"""A registered machine at the school of the shared world, and emulated devices calling a
live Tepat over loopback (pytest-django's live_server: real HTTP, real sockets)."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from tepat.presence import machines
from tepat.presence.models import Machine
from tests.world import World
from zkemu import Device, DeviceClock

SERIAL = "CQZ7230000001"
WIB_MORNING = datetime(2026, 11, 16, 7, 5, 0)  # a Monday, device-local wall time


@pytest.fixture
def machine(world: World) -> Machine:
    """The school's machine, registered by the Dinas Pendidikan operator before it calls."""
    return machines.machine_register(
        actor=world.users["operator_opd"],
        serial=SERIAL,
        unit=world.school,
        site=world.school_site,
        name="Mesin SD 01",
    )


DeviceMaker = Callable[..., Device]


@pytest.fixture
def make_device(live_server: Any) -> DeviceMaker:
    def make(sn: str = SERIAL, **kwargs: Any) -> Device:
        kwargs.setdefault("time_scale", 0.0)
        kwargs.setdefault("timeout", 10.0)
        kwargs.setdefault("clock", DeviceClock(WIB_MORNING))
        kwargs.setdefault("sync_clock", False)
        return Device(sn, live_server.url, **kwargs)

    return make
