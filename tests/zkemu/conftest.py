"""The emulator's own tests: the emulator against its reference stub over loopback. No Django
and no database, so they also run with `-p no:django`."""

from collections.abc import Iterator
from typing import Any

import pytest

from tests.zkemu.helpers import DeviceFactory, fresh_sn
from zkemu import Device
from zkemu.server_stub import StubServer


@pytest.fixture(autouse=True)
def _fast_password_hashing() -> None:
    """Overrides the root conftest's autouse fixture, which needs pytest-django's `settings`."""


@pytest.fixture
def stub() -> Iterator[StubServer]:
    with StubServer() as server:
        yield server


@pytest.fixture
def make_device(stub: StubServer) -> DeviceFactory:
    """A device on the stub with no real waiting (time_scale 0) and short timeouts."""

    def make(sn: str | None = None, **kwargs: Any) -> Device:
        kwargs.setdefault("time_scale", 0.0)
        kwargs.setdefault("timeout", 3.0)
        return Device(sn or fresh_sn(), stub.url, **kwargs)

    return make
