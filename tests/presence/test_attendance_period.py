"""A month's verdicts as one job (`attendance_period_rebuild`) store exactly what rebuilding
the days one by one stores: late and early punches, missing ones, refused and reviewed ones,
approved leave and a partial izin, a regency day off, a transfer and a change of bands during
the month, a swapped day off and a night shift planned by exception; and, once the month is
locked, the same open changes instead of new verdicts."""

import random
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from io import StringIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from tepat.accounts.models import Role
from tepat.org.models import Assignment, ScheduleGroup
from tepat.presence.attendance import (
    attendance_days_rebuild,
    attendance_month_rebuild,
    attendance_period_rebuild,
    bands_version_save,
    schedule_version_save,
)
from tepat.presence.models import (
    AbsenceRequest,
    AttendanceDay,
    AttendanceDayChange,
    CalendarEntry,
    CheckinReview,
    PeriodLock,
)
from tepat.presence.schedule_exceptions import DAY_OFF, schedule_exception_save
from tepat.presence.tasks import attendance_period_rebuild_task
from tepat.rules.schedule import office_five_day_week, rsud_shift_roster
from tepat.rules.schedule_data import bands_to_data, schedule_to_data
from tepat.rules.verdict import kaur_2022_bands
from tests.presence.test_attendance_days import _punch as punch
from tests.world import World, world_build, world_schedules_save

WIB = ZoneInfo("Asia/Jakarta")
FIRST, LAST = date(2026, 11, 1), date(2026, 11, 30)
NOVEMBER = [FIRST + timedelta(n) for n in range(30)]
OFFICE_MONDAY = f"kantor-5hk:{office_five_day_week().week[0].code}"  # type: ignore[union-attr]
# The processes are asked for: the rebuild would not fork from a test worker, which runs
# threads (pytest-xdist's); these tests' children touch nothing those threads hold.
FORKED = pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")


def _punch(world: World, employee: Any, kind: str, at: datetime, status: str = "accepted") -> Any:
    return punch(world, kind, at, status, employee=employee)


def _absence(
    world: World, employee: Any, type_: str, first: date, last: date, **extra: Any
) -> None:
    now = timezone.now()
    AbsenceRequest.objects.create(
        employee=employee, type=type_, first_day=first, last_day=last, days=1, reason="Uji",
        status=AbsenceRequest.Status.APPROVED, levels_required=1, level_done=1,
        submitted_by=world.users[Role.ADMIN_BKPSDM], submitted_at=now, expires_on=first,
        policy="uji", decided_at=now, **extra,
    )  # fmt: skip


def _varied_month(world: World) -> None:
    """A month of every case the verdict knows, for the world's six employees."""
    rng = random.Random(11)
    admin = world.users[Role.ADMIN_BKPSDM]
    schedule_version_save(
        actor=admin,
        group=ScheduleGroup.objects.create(code="shift", name="Shift RSUD"),
        definition=schedule_to_data(rsud_shift_roster()),
    )
    # Bands with five minutes' grace from the 18th: a change of policy inside the month.
    graced = replace(kaur_2022_bands(valid_from=date(2026, 11, 18)), late_grace_minutes=5)
    bands_version_save(actor=admin, definition=bands_to_data(graced))
    CalendarEntry.objects.create(
        kind=CalendarEntry.Kind.DAY_OFF, first_day=date(2026, 11, 25),
        last_day=date(2026, 11, 25), name="Hari jadi kabupaten", legal_basis="Perbup uji",
    )  # fmt: skip
    # The principal moves to the office (5-day week) on the 20th.
    Assignment.objects.filter(employee=world.principal).update(valid_to=date(2026, 11, 20))
    moved = Assignment.objects.get(employee=world.principal)
    moved.pk, moved.valid_from, moved.valid_to = None, date(2026, 11, 20), None
    moved.unit, moved.schedule_group = (
        world.dindik_office,
        ScheduleGroup.objects.get(code="kantor-5hk"),
    )
    moved.save()
    people = [world.kadis, world.principal, world.teacher, world.teacher2, world.nurse]
    for day in NOVEMBER:
        for person in people:
            draw = rng.random()
            start = datetime.combine(day, time(7, 30), WIB)
            if draw < 0.1:
                continue
            if draw > 0.15:
                _punch(world, person, "in", start + timedelta(minutes=rng.randint(-30, 100)))
            if draw < 0.85:
                _punch(world, person, "out", start + timedelta(hours=rng.randint(6, 9)))
            if draw > 0.95:
                _punch(world, person, "in", start + timedelta(minutes=rng.randint(0, 20)))
    _punch(world, world.nurse, "in", datetime(2026, 11, 10, 6, 55, tzinfo=WIB), "refused")
    flagged = _punch(world, world.nurse, "in", datetime(2026, 11, 12, 6, 58, tzinfo=WIB), "review")
    CheckinReview.objects.create(
        event=flagged, decision="accept", reviewer=world.users["atasan"], reason="ok"
    )
    _absence(world, world.teacher2, "cuti_tahunan", date(2026, 11, 9), date(2026, 11, 11))
    _absence(
        world, world.teacher2, "izin", date(2026, 11, 16), date(2026, 11, 16),
        starts_at=datetime(2026, 11, 16, 7, 30, tzinfo=WIB),
        ends_at=datetime(2026, 11, 16, 9, 0, tzinfo=WIB),
    )  # fmt: skip
    operator = world.users[Role.OPERATOR_OPD]

    def plan(employee: Any, day: date, shift: str) -> None:
        schedule_exception_save(
            actor=operator, employee=employee, day=day, shift=shift, reason="Surat tugas 12"
        )

    plan(world.teacher, date(2026, 11, 16), "shift:MALAM")  # the night and then the morning
    plan(world.teacher, date(2026, 11, 17), "shift:PAGI")
    _punch(world, world.teacher, "in", datetime(2026, 11, 16, 20, 50, tzinfo=WIB))
    _punch(world, world.teacher, "out", datetime(2026, 11, 17, 7, 5, tzinfo=WIB))
    plan(world.teacher2, date(2026, 11, 19), DAY_OFF)  # a swapped day off
    plan(world.teacher2, date(2026, 11, 21), OFFICE_MONDAY)  # and a Saturday worked
    _punch(world, world.teacher2, "in", datetime(2026, 11, 21, 7, 40, tzinfo=WIB))


def _stored() -> dict[tuple[int, date], tuple[Any, ...]]:
    return {
        (r.employee_id, r.day): (
            r.day_code,
            r.in_code,
            r.out_code,
            r.minutes_late,
            r.minutes_early,
            r.first_in,
            r.last_out,
            r.schedule_id,
            r.bands_id,
            r.explanation,
            r.rules_version,
        )
        for r in AttendanceDay.objects.all()
    }


def _changes() -> dict[tuple[int, date], tuple[Any, ...]]:
    return {
        (c.employee_id, c.day): (
            c.locked_code,
            c.new_code,
            c.new_in_code,
            c.new_out_code,
            c.explanation,
            c.settled_in,
        )
        for c in AttendanceDayChange.objects.all()
    }


def _day_by_day() -> int:
    return sum(attendance_days_rebuild(day) for day in NOVEMBER)


def _same_as_day_by_day(world: World, processes: int) -> dict[tuple[int, date], tuple[Any, ...]]:
    """Rebuild November day by day and as one job; both store the same."""
    _varied_month(world)
    written_by_day = _day_by_day()
    by_day = _stored()
    AttendanceDay.objects.all().delete()
    written = attendance_period_rebuild(FIRST, LAST, chunk=2, processes=processes)
    assert written == written_by_day == len(by_day)
    assert _stored() == by_day
    return by_day


def test_a_month_as_one_job_stores_what_the_days_one_by_one_store(
    world: World, schedules: None
) -> None:
    by_day = _same_as_day_by_day(world, processes=1)
    codes = {value[0] for value in by_day.values()} | {value[1] for value in by_day.values()}
    # The cases are there: not a month of identical days.
    assert {"H", "TK", "LIBUR", "cuti_tahunan", "TL1", "TL4"} <= codes
    principal = {day: v[7] for (e, day), v in by_day.items() if e == world.principal.pk}
    assert principal[date(2026, 11, 19)] != principal[date(2026, 11, 20)]  # the transfer
    night = by_day[world.teacher.pk, date(2026, 11, 16)]
    assert night[6] == datetime(2026, 11, 17, 7, 5, tzinfo=WIB)  # the night's check-out


def test_a_locked_month_keeps_its_verdicts_and_records_the_same_changes(
    world: World, schedules: None
) -> None:
    _varied_month(world)
    _day_by_day()
    PeriodLock.objects.create(
        month=FIRST, locked_by=world.users[Role.ADMIN_BKPSDM], locked_at=timezone.now()
    )
    paid = _stored()
    _absence(world, world.nurse, "sakit", date(2026, 11, 2), date(2026, 11, 6))
    found_by_day = _day_by_day()
    by_day = _changes()
    AttendanceDayChange.objects.all().delete()
    assert attendance_month_rebuild(2026, 11) == found_by_day == len(by_day) > 0
    assert _changes() == by_day
    assert _stored() == paid
    assert {v[1] for v in by_day.values()} == {"sakit"}


@FORKED
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_processes_store_what_one_process_stores() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("worker processes rebuild a period on PostgreSQL only")
    world = world_build()
    world_schedules_save(world)
    alone = _same_as_day_by_day(world, processes=1)
    AttendanceDay.objects.all().delete()
    assert attendance_period_rebuild(FIRST, LAST, chunk=2, processes=2) == len(alone)
    assert _stored() == alone


def test_the_command_and_the_task_rebuild_a_whole_month(world: World, schedules: None) -> None:
    out = StringIO()
    call_command("attendance_rebuild", month="2026-11", stdout=out)
    assert "2026-11-01 s.d. 2026-11-30: 180 hari-pegawai" in out.getvalue()  # 6 people × 30
    assert AttendanceDay.objects.filter(day__month=11).count() == 180
    assert (
        dict(
            AttendanceDay.objects.filter(day=date(2026, 11, 16)).values_list(
                "employee__nip", "day_code"
            )
        )[world.teacher.nip]
        == "TK"
    )
    result = attendance_period_rebuild_task.call("2026-11-01", "2026-11-07")
    assert result == "2026-11-01 s.d. 2026-11-07: 42 hari-pegawai"


def test_a_backwards_or_overlong_period_is_refused(world: World) -> None:
    with pytest.raises(ValidationError):
        attendance_period_rebuild(LAST, FIRST)
    with pytest.raises(ValidationError):
        attendance_period_rebuild(date(2025, 1, 1), date(2026, 6, 1))
