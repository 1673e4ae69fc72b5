"""zkemu: an emulated ZKTeco attendance terminal speaking the PUSH ("ADMS" / iclock) protocol
over real HTTP, written from the domain note devices.md only, so that it can check Tepat's server
independently. Standard library only.

    from zkemu import Device, Quirks
    device = Device("CQZ7230000001", "http://127.0.0.1:8000", quirks=Quirks(aspx=True))
    device.boot()
    device.punch("1452")
    assert device.sync() and not device.violations
"""

from zkemu.device import Device, Quirks, Stats, with_quirks
from zkemu.protocol import AttRecord, Command, CommandResult, OpRecord, ServerOptions, User
from zkemu.state import DeviceClock, Journal
from zkemu.transport import HttpTransport, Reply, TransportError

__all__ = [
    "AttRecord",
    "Command",
    "CommandResult",
    "Device",
    "DeviceClock",
    "HttpTransport",
    "Journal",
    "OpRecord",
    "Quirks",
    "Reply",
    "ServerOptions",
    "Stats",
    "TransportError",
    "User",
    "with_quirks",
]
