"""What waits for a decision, per OPD: BKPSDM sees every OPD's backlog with the oldest wait and
links to the queues; a Kepala OPD or OPD operator only their own."""

import re
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tepat.kinerja.models import DailyReport
from tepat.presence.models import AbsenceRequest, Machine, MachineFlag
from tests.monitor.conftest import WIB
from tests.world import TODAY, World, login

pytestmark = pytest.mark.usefixtures("clock")


def _absence(world: World, employee: Any, submitted: datetime) -> None:
    AbsenceRequest.objects.create(
        employee=employee, type="dinas_luar", first_day=TODAY, last_day=TODAY, days=1,
        reason="Rapat di provinsi", levels_required=1, submitted_by=world.users["admin_bkpsdm"],
        submitted_at=submitted, expires_on=TODAY, policy="test",
    )  # fmt: skip


def _report(employee: Any, received: datetime, status: str = "pending") -> None:
    DailyReport.objects.create(
        client_id=uuid.uuid4(), employee=employee, day=received.date(), minutes=60,
        activity="Menyusun laporan", source="web", received_at=received, status=status,
    )  # fmt: skip


@pytest.fixture
def backlog(world: World, punch: Callable[..., Any]) -> None:
    punch(world.teacher, 7, 5, status="review")
    punch(world.teacher2, 6, 50, status="review", day=date(2026, 11, 20))
    _absence(world, world.nurse, datetime(2026, 11, 16, 10, 0, tzinfo=WIB))
    _absence(world, world.teacher, datetime(2026, 11, 22, 10, 0, tzinfo=WIB))
    _report(world.teacher, datetime(2026, 11, 19, 15, 0, tzinfo=WIB))
    _report(world.teacher, datetime(2026, 11, 18, 15, 0, tzinfo=WIB), status="approved")
    machine = Machine.objects.create(serial="PKM0001", status="active", unit=world.puskesmas)
    MachineFlag.objects.create(machine=machine, kind="time_set", raised_at=timezone.now())
    MachineFlag.objects.create(
        machine=machine, kind="bad_key", raised_at=timezone.now() - timedelta(days=1),
        resolved_at=timezone.now(),
    )  # fmt: skip


def _cells(page: str, opd_id: object) -> dict[str, str]:
    row = re.search(rf'<tr id="backlog-{opd_id}">(.*?)</tr>', page, re.S)
    assert row, f"no row for {opd_id}"
    return {
        key: re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", cell)).strip()
        for key, cell in re.findall(r'data-queue="(\w+)">(.*?)</td>', row.group(1), re.S)
    }


@pytest.mark.usefixtures("backlog")
def test_bkpsdm_sees_each_opds_backlog_and_the_oldest_wait(world: World) -> None:
    page = login(Client(), world.users["admin_bkpsdm"]).get("/pantau/antrean/").content.decode()

    dindik = _cells(page, world.dindik.pk)
    dinkes = _cells(page, world.dinkes.pk)
    assert dindik["checkins"].startswith("2 ")
    assert dindik["absences"].startswith("1 ")
    assert dindik["reports"].startswith("1 ")  # the approved one is not waiting
    assert dindik["machine_flags"] == "0"
    assert dinkes["absences"].startswith("1 ")
    assert "16-11-2026 10:00" in dinkes["absences"]
    assert "20-11-2026 06:50" in dindik["checkins"]
    assert dinkes["machine_flags"].startswith("1 ")  # the resolved signal is not
    # Dinas Kesehatan's request has waited a week: it comes first.
    assert page.index(f'id="backlog-{world.dinkes.pk}"') < page.index(
        f'id="backlog-{world.dindik.pk}"'
    )
    for queue in ("/presensi/tinjauan/", "/presensi/ajuan/persetujuan/", "/kinerja/tinjauan/",
                  "/presensi/mesin/tanda/"):  # fmt: skip
        assert f'href="{queue}"' in page


@pytest.mark.usefixtures("backlog")
def test_an_opd_operator_sees_only_their_opds_backlog(world: World) -> None:
    page = login(Client(), world.users["operator_other"]).get("/pantau/antrean/").content.decode()

    assert _cells(page, world.dinkes.pk)["absences"].startswith("1 ")
    assert f'id="backlog-{world.dindik.pk}"' not in page


def test_nothing_waiting_says_so(world: World) -> None:
    response = login(Client(), world.users["kepala_opd"]).get("/pantau/antrean/")

    assert response.status_code == 200
    assert 'id="backlog-' not in response.content.decode()
