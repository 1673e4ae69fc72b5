"""The e-Kinerja tests run on 23 November 2026, 10:00 WIB (the shared world's TODAY)."""

from collections.abc import Iterator
from datetime import datetime, time
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.world import TODAY

WIB = ZoneInfo("Asia/Jakarta")
NOW = datetime.combine(TODAY, time(10), WIB)


@pytest.fixture(autouse=True)
def clock() -> Iterator[Any]:
    with time_machine.travel(NOW, tick=False) as clock:
        yield clock


@pytest.fixture(autouse=True)
def _private_storage(settings: Any, tmp_path: Any) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private"), "base_url": None},
        },
    }


def report_input(**fields: Any) -> Any:
    from tepat.kinerja.services import ReportInput

    fields.setdefault("client_id", uuid4())
    fields.setdefault("day", TODAY)
    fields.setdefault("activity", "Menyusun laporan kegiatan")
    if "start_time" not in fields and "minutes" not in fields:
        fields["start_time"], fields["end_time"] = time(8), time(10)
    return ReportInput(**fields)
