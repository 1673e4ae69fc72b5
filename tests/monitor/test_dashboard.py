"""Today's presence as BKPSDM and a Kepala OPD see it: who checked in, who is late, who has not
come, who is on leave; by OPD, by unit and by name, scoped, and in a fixed number of queries."""

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tepat.monitor import live
from tepat.org.models import Assignment, Employee
from tepat.presence.models import AppToken, AttendanceDay, CheckinReview, PhoneDevice
from tests.monitor.conftest import WIB
from tests.world import TODAY, World, login

pytestmark = pytest.mark.usefixtures("schedules", "clock")


def _cells(client: Client, query: str = "") -> dict[str, int]:
    response = client.get(f"/pantau/data/{query}")
    assert response.status_code == 200
    return response.json()["cells"]


def _morning(world: World, punch: Callable[..., Any]) -> None:
    """Teacher on time, teacher2 40 minutes late, the principal not in, the kadis on approved
    leave; at the puskesmas the nurse's check-in waits for review, the kadinkes is not in."""
    punch(world.teacher, 6, 50)
    punch(world.teacher2, 7, 40)
    punch(world.nurse, 7, 20, status="review")
    AttendanceDay.objects.create(
        employee=world.kadis,
        day=TODAY,
        day_code="cuti_tahunan",
        rules_version="verdict-1",
        computed_at=timezone.now(),
    )


def test_bkpsdm_sees_every_opd_by_status(world: World, punch: Callable[..., Any]) -> None:
    _morning(world, punch)
    client = login(Client(), world.users["admin_bkpsdm"])

    cells = _cells(client)

    dindik, dinkes = world.dindik.pk, world.dinkes.pk
    assert {s: cells[f"opd-{dindik}-{s}"] for s in live.STATUSES} == {
        "checked_in": 1, "late": 1, "review": 0, "not_yet": 1, "queued": 0, "excused": 1,
        "off": 0,
    }  # fmt: skip
    assert {s: cells[f"opd-{dinkes}-{s}"] for s in live.STATUSES} == {
        "checked_in": 0, "late": 0, "review": 1, "not_yet": 1, "queued": 0, "excused": 0,
        "off": 0,
    }  # fmt: skip
    assert (cells[f"opd-{dindik}-present"], cells[f"opd-{dindik}-expected"]) == (2, 3)
    assert cells["all-total-not_yet"] == 2
    page = client.get("/pantau/").content.decode()
    assert world.dindik.name in page
    assert world.dinkes.name in page


def test_the_late_teacher_is_named_with_her_band(world: World, punch: Callable[..., Any]) -> None:
    _morning(world, punch)
    client = login(Client(), world.users["kepala_opd"])

    page = client.get(f"/pantau/opd/{world.dindik.pk}/?status=late").content.decode()

    assert world.teacher2.name in page
    assert "TL2, 40" in page
    assert world.principal.name not in page


def test_an_operator_of_dinkes_never_sees_dindik_names(
    world: World, punch: Callable[..., Any]
) -> None:
    _morning(world, punch)
    client = login(Client(), world.users["operator_other"])

    cells = _cells(client)
    page = client.get("/pantau/").content.decode()
    detail = client.get(f"/pantau/opd/{world.dinkes.pk}/?status=all").content.decode()

    assert not any(key.startswith(f"opd-{world.dindik.pk}-") for key in cells)
    assert world.dindik.name not in page
    assert world.nurse.name in detail
    for name in (world.teacher.name, world.teacher2.name, world.principal.name, world.kadis.name):
        assert name not in detail
    assert client.get(f"/pantau/opd/{world.dindik.pk}/").status_code == 404
    assert client.get(f"/pantau/data/?opd={world.dindik.pk}").status_code == 404
    assert client.get("/pantau/data/?opd=abc").status_code == 404


def test_the_not_checked_in_list_tells_a_silent_phone_from_no_phone(
    world: World, punch: Callable[..., Any]
) -> None:
    _morning(world, punch)
    phone = PhoneDevice.objects.create(
        employee=world.principal, key_fingerprint="ab" * 32, public_key="x", status="active"
    )
    token = AppToken.objects.create(
        token_hash="cd" * 32, user=world.users["atasan"], device=phone,
        expires_at=timezone.now() + timedelta(days=30),
    )  # fmt: skip
    AppToken.objects.filter(pk=token.pk).update(
        created_at=datetime(2026, 11, 20, 16, 5, tzinfo=WIB)
    )
    # A refused check-in this morning still proves the phone reached the server at 07:02.
    punch(world.principal, 7, 2, status="refused", device=phone)
    client = login(Client(), world.users["kepala_opd"])

    page = client.get(f"/pantau/opd/{world.dindik.pk}/").content.decode()

    assert world.principal.name in page
    assert "23-11-2026 07:02" in page
    assert world.teacher.name not in page  # checked in: not in the default list
    not_yet = live.presence_today(Employee.objects.filter(pk=world.principal.pk), timezone.now())
    assert [r.status for r in not_yet] == ["not_yet"]
    other = login(Client(), world.users["operator_other"])
    detail = other.get(f"/pantau/opd/{world.dinkes.pk}/").content.decode()
    assert world.kadinkes.name in detail
    assert "belum ada ponsel terdaftar" in detail


def test_a_reviewed_check_in_counts_and_a_refused_one_never(
    world: World, punch: Callable[..., Any]
) -> None:
    flagged = punch(world.nurse, 7, 20, status="review")
    punch(world.kadinkes, 7, 10, status="refused")
    CheckinReview.objects.create(
        event=flagged, decision="accept", reviewer=world.users["admin_bkpsdm"], reason="ok"
    )
    rows = {r.employee_id: r for r in live.presence_today(Employee.objects.all(), timezone.now())}

    assert rows[world.nurse.pk].status == "checked_in"
    assert rows[world.kadinkes.pk].status == "not_yet"


def test_on_a_public_holiday_nobody_is_expected(world: World, punch: Callable[..., Any]) -> None:
    christmas = datetime(2026, 12, 25, 9, 0, tzinfo=WIB)
    with time_machine.travel(christmas, tick=False):
        rows = live.presence_today(Employee.objects.all(), timezone.now())

    assert {r.status for r in rows} == {"off"}
    assert all(r.note for r in rows)


def test_a_group_without_working_hours_is_not_scheduled(world: World) -> None:
    Assignment.objects.filter(employee=world.nurse).update(schedule_group=None)
    rows = {r.employee_id: r for r in live.presence_today(Employee.objects.all(), timezone.now())}

    assert rows[world.nurse.pk].status == "off"


def test_the_tally_costs_the_same_queries_for_six_or_sixty_people(
    world: World, punch: Callable[..., Any]
) -> None:
    _morning(world, punch)
    with CaptureQueriesContext(connection) as few:
        live.presence_today(Employee.objects.all(), timezone.now())
    template = Assignment.objects.get(employee=world.teacher)
    for n in range(54):
        e = Employee.objects.create(
            nip=f"19900101201501{n:04d}", name=f"Guru {n}", kind="PNS", gender="L",
            birth_date=date(1990, 1, 1),
        )  # fmt: skip
        template.pk = None
        template.employee = e
        template.save()
        if n % 2:
            punch(e, 7, n % 60)
    with CaptureQueriesContext(connection) as many:
        rows = live.presence_today(Employee.objects.all(), timezone.now())

    assert len(rows) == 60
    assert len(many) == len(few) <= 10


def test_the_not_checked_in_list_shows_whether_the_school_machine_is_calling(
    world: World, punch: Callable[..., Any]
) -> None:
    from tepat.presence.models import Machine

    _morning(world, punch)
    Machine.objects.create(
        serial="SCH0001", name="Mesin ruang guru", status="active", unit=world.school,
        last_contact_at=timezone.now() - timedelta(minutes=5),
    )  # fmt: skip
    Machine.objects.create(
        serial="SCH0002", name="Mesin gerbang", status="active", unit=world.school,
        last_contact_at=timezone.now() - timedelta(hours=3),
    )  # fmt: skip
    Machine.objects.create(serial="OLD0001", name="Mesin lama", status="retired", unit=world.school)
    client = login(Client(), world.users["kepala_opd"])

    page = client.get(f"/pantau/opd/{world.dindik.pk}/").content.decode()

    assert world.principal.name in page  # a school head, not checked in
    assert "Mesin ruang guru: online" in page
    assert 'Mesin gerbang: <span class="stale">offline</span>' in page
    assert "Mesin lama" not in page


def test_a_long_not_checked_in_list_comes_in_pages_of_a_hundred(world: World) -> None:
    template = Assignment.objects.get(employee=world.teacher2)
    for n in range(120):
        e = Employee.objects.create(
            nip=f"19900101201502{n:04d}", name=f"Guru Belum {n:03d}", kind="PNS", gender="L",
            birth_date=date(1990, 1, 1),
        )  # fmt: skip
        template.pk = None
        template.employee = e
        template.save()
    client = login(Client(), world.users["kepala_opd"])

    first = client.get(f"/pantau/opd/{world.dindik.pk}/").content.decode()
    second = client.get(f"/pantau/opd/{world.dindik.pk}/?status=not_yet&hal=2").content.decode()

    # 124 not checked in: the kadis, the principal, both teachers and the 120.
    assert "124 orang; ditampilkan 1–100." in first
    # By name: Budi Santoso, then the 120, then Hendra, Rina and Sri.
    assert "Guru Belum 098" in first
    assert "Guru Belum 099" not in first
    assert "124 orang; ditampilkan 101–124." in second
    assert "Guru Belum 099" in second
    assert world.kadis.name in second
    assert "Halaman 2 dari 2" in second
