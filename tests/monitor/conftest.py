"""The monitor's world: the shared world, its schedules as policy data, and a clock stopped on
Monday 23 November 2026 at 09:00 WIB (teachers start at 07:00, the offices at 07:30)."""

from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.world import TODAY, World

WIB = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=WIB)


@pytest.fixture(autouse=True)
def refresh_on_every_request(settings: Any) -> None:
    """The clock stands still in these tests: let every dashboard request read the ledger's
    news (in production a refresh runs at most every ten seconds)."""
    settings.TEPAT_MONITOR_REFRESH_S = 0


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def punch(world: World) -> Callable[..., Any]:
    from tepat.presence.models import CheckinEvent

    counter = iter(range(1, 10_000))

    def make(
        employee: Any,
        hour: int,
        minute: int,
        *,
        kind: str = "in",
        status: str = "accepted",
        day: date = TODAY,
        device: Any = None,
    ) -> Any:
        at = datetime(day.year, day.month, day.day, hour, minute, tzinfo=WIB)
        return CheckinEvent.objects.create(
            idempotency_key=f"monitor-{next(counter)}",
            employee=employee,
            kind=kind,
            taken_at=at,
            received_at=at,
            source="phone",
            status=status,
            device=device,
        )

    return make
