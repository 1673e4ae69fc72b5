"""The live dashboard judges a person with a schedule exception as the nightly verdict does:
a teacher on office hours today (start 07:30, not 07:00) who checked in at 07:20 is on time
there and in the recap; the stored table picks the exception up at the next refresh, and a
day off planned for someone shows them as not expected."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tepat.accounts.models import Role
from tepat.monitor import live, summary
from tepat.monitor.models import PresenceToday
from tepat.org.models import Employee
from tepat.presence.attendance import attendance_day_rebuild
from tepat.presence.schedule_exceptions import DAY_OFF, schedule_exception_save
from tepat.rules.schedule import office_five_day_week
from tests.world import TODAY, World, login

pytestmark = pytest.mark.usefixtures("schedules", "clock")

OFFICE_HOURS = f"kantor-5hk:{office_five_day_week().week[0].code}"  # type: ignore[union-attr]


def _plan(world: World, employee: Employee, shift: str) -> None:
    schedule_exception_save(
        actor=world.users[Role.OPERATOR_OPD], employee=employee, day=TODAY, shift=shift,
        reason="Diklat di kantor dinas",
    )  # fmt: skip


def _live(employee: Employee) -> live.PresenceRow:
    [row] = live.presence_today(Employee.objects.filter(pk=employee.pk), timezone.now())
    return row


def test_a_later_start_planned_for_today_is_not_late_on_the_dashboard(
    world: World, punch: Callable[..., Any], clock: Any
) -> None:
    punch(world.teacher, 7, 20)
    assert _live(world.teacher).status == "late"  # the school day starts at 07:00
    summary.presence_refresh(timezone.now())
    assert PresenceToday.objects.get(employee=world.teacher).status == "late"

    _plan(world, world.teacher, OFFICE_HOURS)
    clock.shift(timedelta(seconds=1))

    row = _live(world.teacher)
    assert (row.status, row.minutes_late) == ("checked_in", 0)
    assert summary.presence_refresh(timezone.now()) == "refreshed"  # not a rebuild
    assert PresenceToday.objects.get(employee=world.teacher).status == "checked_in"
    page = login(Client(), world.users["admin_bkpsdm"]).get("/pantau/data/").json()["cells"]
    assert page["all-total-late"] == 0
    # The recap says the same: on time by the office hours.
    nightly = attendance_day_rebuild(world.teacher, TODAY)
    assert nightly is not None
    assert not (nightly.in_code or "").startswith("TL")


def test_a_planned_day_off_shows_as_not_expected_and_its_removal_as_expected(
    world: World, clock: Any
) -> None:
    summary.presence_refresh(timezone.now())
    assert PresenceToday.objects.get(employee=world.teacher2).status == "not_yet"

    _plan(world, world.teacher2, DAY_OFF)
    clock.shift(timedelta(seconds=1))
    summary.presence_refresh(timezone.now())
    row = PresenceToday.objects.get(employee=world.teacher2)
    assert row.status == "off"
    assert "Diklat di kantor dinas" in row.note

    from tepat.presence.models import ScheduleException
    from tepat.presence.schedule_exceptions import schedule_exception_remove

    exception = ScheduleException.objects.get(employee=world.teacher2, day=TODAY)
    schedule_exception_remove(actor=world.users["admin_bkpsdm"], exception_id=exception.pk)
    clock.shift(timedelta(seconds=1))
    summary.presence_refresh(timezone.now())
    assert PresenceToday.objects.get(employee=world.teacher2).status == "not_yet"


def test_exceptions_cost_one_query_whatever_their_number(
    world: World, punch: Callable[..., Any]
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    everyone = Employee.objects.all()
    with CaptureQueriesContext(connection) as none_planned:
        live.presence_today(everyone, timezone.now())
    for employee in (world.teacher, world.teacher2, world.principal):
        punch(employee, 7, 20)
        _plan(world, employee, OFFICE_HOURS)
    with CaptureQueriesContext(connection) as three_planned:
        rows = live.presence_today(everyone, timezone.now())
    assert len(three_planned) == len(none_planned)
    assert {r.status for r in rows if r.employee_id == world.teacher.pk} == {"checked_in"}


@pytest.fixture
def roster(world: World) -> None:
    from tepat.org.models import ScheduleGroup
    from tepat.presence.attendance import schedule_version_save
    from tepat.rules.schedule import rsud_shift_roster
    from tepat.rules.schedule_data import schedule_to_data

    schedule_version_save(
        actor=world.users[Role.ADMIN_BKPSDM],
        group=ScheduleGroup.objects.create(code="shift", name="Shift RSUD"),
        definition=schedule_to_data(rsud_shift_roster()),
    )


def test_a_night_shifts_morning_punch_closes_the_night_on_the_dashboard_and_in_the_recap(
    world: World, roster: None, punch: Callable[..., Any]
) -> None:
    # Sunday night 21:00–07:00, then Monday's morning shift 07:00–14:00: the 07:05 check-out
    # lies in both shifts' windows and closes the night; the 07:20 check-in opens the morning.
    yesterday = TODAY - timedelta(days=1)
    for day, shift in ((yesterday, "shift:MALAM"), (TODAY, "shift:PAGI")):
        schedule_exception_save(
            actor=world.users[Role.OPERATOR_OPD], employee=world.teacher, day=day, shift=shift,
            reason="Jadwal dinas IGD",
        )  # fmt: skip
    punch(world.teacher, 20, 50, day=yesterday)
    punch(world.teacher, 7, 5, kind="out")
    punch(world.teacher, 7, 20)

    row = _live(world.teacher)
    assert (row.status, row.in_code, row.minutes_late) == ("late", "TL1", 20)
    night = attendance_day_rebuild(world.teacher, yesterday)
    assert night is not None
    assert night.last_out is not None
    assert timezone.localtime(night.last_out).strftime("%d %H:%M") == "23 07:05"
    morning = attendance_day_rebuild(world.teacher, TODAY)
    assert morning is not None
    assert (morning.in_code, morning.minutes_late) == (row.in_code, row.minutes_late)
    assert morning.last_out is None  # the 07:05 check-out is the night's, not the morning's
