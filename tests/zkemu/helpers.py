"""Shared helpers of the emulator tests."""

import itertools
from collections.abc import Callable
from datetime import datetime

from zkemu import Device

BASE = datetime(2025, 8, 5, 7, 0, 0)
_serials = itertools.count(1)

DeviceFactory = Callable[..., Device]


def fresh_sn() -> str:
    """A serial number not used before in this process, so tests never share stub state."""
    return f"CQZ7230{next(_serials):06d}"
