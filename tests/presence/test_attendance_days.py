"""The daily verdict from the ledger: schedule versions from policy data, the calendar, the
bands in force; rebuilt when something arrives late, and never counting refused punches."""

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from tepat.accounts.models import Role
from tepat.audit.models import AuditEntry
from tepat.org.models import Assignment, ScheduleGroup
from tepat.presence.attendance import (
    attendance_day_rebuild,
    bands_version_save,
    schedule_version_save,
)
from tepat.presence.models import CalendarEntry, CheckinEvent, CheckinReview
from tepat.rules.schedule import Schedule, Shift, teacher_schedules
from tepat.rules.schedule_data import bands_to_data, schedule_to_data
from tepat.rules.verdict import kaur_2022_bands
from tests.world import World

WIB = ZoneInfo("Asia/Jakarta")
MONDAY = date(2026, 11, 16)


def _punch(
    world: World,
    kind: str,
    at: datetime,
    status: str = "accepted",
    key: str = "",
    employee: Any = None,
) -> CheckinEvent:
    """An event in the ledger, the teacher's unless another `employee` is given."""
    employee = employee or world.teacher
    return CheckinEvent.objects.create(
        idempotency_key=key or f"{employee.pk}-{kind}-{at.isoformat()}-{status}",
        employee=employee,
        kind=kind,
        taken_at=at,
        received_at=at,
        source="phone",
        status=status,
        site=world.school_site,
    )


def test_a_late_teacher_gets_tl1_and_leaving_at_14_is_on_time(
    world: World, schedules: None
) -> None:
    _punch(world, "in", datetime(2026, 11, 16, 7, 12, tzinfo=WIB))
    _punch(world, "out", datetime(2026, 11, 16, 14, 0, 30, tzinfo=WIB))
    day = attendance_day_rebuild(world.teacher, MONDAY)
    assert day is not None
    assert (day.day_code, day.in_code, day.out_code) == ("H", "TL1", "")
    assert day.minutes_late == 12
    assert day.schedule is not None
    assert day.schedule.valid_from == date(2026, 7, 13)  # the 14:00 version
    assert any("TL1" in line for line in day.explanation)


def test_the_same_punches_before_the_change_leave_early(world: World, schedules: None) -> None:
    before = date(2026, 6, 15)  # a Monday under the 16:00 version
    _punch(world, "in", datetime(2026, 6, 15, 7, 0, tzinfo=WIB))
    _punch(world, "out", datetime(2026, 6, 15, 14, 0, 30, tzinfo=WIB))
    day = attendance_day_rebuild(world.teacher, before)
    assert day is not None
    assert day.out_code == "PSW4"  # 119 minutes early: band ≥ 91
    assert day.minutes_early == 119


def test_nothing_on_a_working_day_is_tk_and_a_holiday_is_libur(
    world: World, schedules: None
) -> None:
    assert attendance_day_rebuild(world.teacher, MONDAY).day_code == "TK"  # type: ignore[union-attr]
    assert attendance_day_rebuild(world.teacher, date(2026, 8, 17)).day_code == "LIBUR"  # type: ignore[union-attr]


def test_a_regency_day_off_is_libur(world: World, schedules: None) -> None:
    CalendarEntry.objects.create(
        kind="day_off",
        first_day=MONDAY,
        last_day=MONDAY,
        name="HUT Kabupaten Mukomuko",
        legal_basis="SE Bupati",
    )
    day = attendance_day_rebuild(world.teacher, MONDAY)
    assert day is not None
    assert day.day_code == "LIBUR"


def test_a_refused_punch_never_counts_and_a_reviewed_one_does(
    world: World, schedules: None
) -> None:
    _punch(world, "in", datetime(2026, 11, 16, 6, 55, tzinfo=WIB), status="refused", key="r")
    flagged = _punch(
        world, "in", datetime(2026, 11, 16, 6, 58, tzinfo=WIB), status="review", key="f"
    )
    assert attendance_day_rebuild(world.teacher, MONDAY).day_code == "TK"  # type: ignore[union-attr]
    CheckinReview.objects.create(
        event=flagged, decision="accept", reviewer=world.users["atasan"], reason="ok"
    )
    day = attendance_day_rebuild(world.teacher, MONDAY)
    assert day is not None
    assert (day.day_code, day.in_code, day.out_code) == ("H", "", "PSW4")


def test_rebuilding_twice_gives_the_same_row(world: World, schedules: None) -> None:
    _punch(world, "in", datetime(2026, 11, 16, 7, 40, tzinfo=WIB))
    first = attendance_day_rebuild(world.teacher, MONDAY)
    second = attendance_day_rebuild(world.teacher, MONDAY)
    assert first is not None
    assert second is not None
    assert (first.pk, first.in_code, first.explanation) == (
        second.pk,
        second.in_code,
        second.explanation,
    )


def test_bands_are_policy_data(world: World, schedules: None) -> None:
    data = bands_to_data(kaur_2022_bands())
    data["valid_from"] = "2026-01-01"
    data["tl"] = [
        {"code": "TL1", "min": 1, "max": 15},
        {"code": "TL2", "min": 16, "max": 30},
        {"code": "TL3", "min": 31, "max": None},
    ]
    bands_version_save(actor=world.users["admin_bkpsdm"], definition=data)
    _punch(world, "in", datetime(2026, 11, 16, 7, 20, tzinfo=WIB))
    day = attendance_day_rebuild(world.teacher, MONDAY)
    assert day is not None
    assert day.in_code == "TL2"  # 20 minutes: TL2 under the other regency's 1–15/16–30 bands
    assert AuditEntry.objects.filter(action="bands.save").exists()


def test_an_overlapping_schedule_version_is_refused(world: World, schedules: None) -> None:
    data = schedule_to_data(teacher_schedules()[0])
    data["valid_from"], data["valid_until"] = "2026-01-01", None
    with pytest.raises(ValidationError):
        schedule_version_save(
            actor=world.users["admin_bkpsdm"],
            group=ScheduleGroup.objects.get(code="guru"),
            definition=data,
        )


def test_an_offline_check_in_for_a_past_day_queues_its_rebuild(
    world: World, schedules: None, django_capture_on_commit_callbacks: Any
) -> None:
    from django_tasks_db.models import DBTaskResult

    from tepat.presence.tasks import attendance_day_rebuild_task
    from tests.presence.phone import Phone

    phone = Phone()
    phone.login(world.teacher.nip)
    taken = datetime(2026, 11, 16, 7, 5, tzinfo=WIB)
    with django_capture_on_commit_callbacks(execute=True):
        response = phone.send(phone.checkin(-2.4233, 101.1667, taken_at=taken))
    assert response.status_code == 201
    queued = DBTaskResult.objects.get()
    assert queued.task_path.endswith("attendance_days_rebuild_task")
    # Its day, and the days either side whose shifts' windows may reach the punch.
    assert queued.args_kwargs["args"] == [
        [[world.teacher.pk, f"2026-11-{day}"] for day in (15, 16, 17)]
    ]
    # A week late: it waits for review, so the day stays TK for now.
    assert response.json()["status"] == "review"
    assert attendance_day_rebuild_task.call(world.teacher.pk, "2026-11-16") == "TK"
    # The principal accepts it: the day is queued again and now counts the punch.
    from tepat.presence.services import checkin_review

    with django_capture_on_commit_callbacks(execute=True):
        checkin_review(
            actor=world.users["atasan"],
            event=CheckinEvent.objects.get(),
            accept=True,
            reason="Sinyal tidak ada minggu lalu",
        )
    assert DBTaskResult.objects.count() == 2
    assert attendance_day_rebuild_task.call(world.teacher.pk, "2026-11-16") == "H TL1 PSW4"


def test_the_nightly_command_builds_everyone_in_a_group_with_hours(
    world: World, schedules: None
) -> None:
    from io import StringIO

    from django.core.management import call_command

    from tepat.presence.models import AttendanceDay

    out = StringIO()
    call_command("attendance_rebuild", day="2026-11-16", days=2, stdout=out)
    assert "2026-11-16 s.d. 2026-11-17: 12 hari-pegawai" in out.getvalue()
    codes = dict(AttendanceDay.objects.filter(day=MONDAY).values_list("employee__nip", "day_code"))
    assert codes[world.teacher.nip] == "TK"
    assert codes[world.nurse.nip] == "TK"  # kantor-5hk now has its hours too
    assert AttendanceDay.objects.count() == 12


def test_the_bulk_write_names_the_columns_in_the_order_the_rows_give_them() -> None:
    """PostgreSQL writes a day's verdicts by COPY: a column out of order would put values in
    the wrong place, so each statement lists them exactly as `ATTENDANCE_COLUMNS`."""
    import re

    from tepat.presence import attendance

    columns = list(attendance.ATTENDANCE_COLUMNS)
    for sql in (attendance._INCOMING_CREATE, attendance._INCOMING_COPY, attendance._DIRECT_COPY):
        assert [w for w in re.findall(r"\w+", sql) if w in columns] == columns
    named = [w for w in re.findall(r"\w+", attendance._INCOMING_UPSERT) if w in columns]
    assert named[:14] == columns
    assert named[14:28] == columns
    assert named[28:30] == ["employee_id", "day"]  # ON CONFLICT (employee_id, day)
    assert named[30:] == [c for c in columns[2:] for _ in (0, 1)]  # SET c = EXCLUDED.c


def test_a_punch_is_explained_on_its_own_day_not_on_the_neighbouring_days(
    world: World, schedules: None
) -> None:
    sunday, tuesday = date(2026, 11, 15), date(2026, 11, 17)
    _punch(world, "in", datetime(2026, 11, 15, 9, 0, tzinfo=WIB))  # came in on the Sunday
    _punch(world, "in", datetime(2026, 11, 16, 4, 50, tzinfo=WIB))  # before Monday's window
    _punch(world, "in", datetime(2026, 11, 16, 6, 55, tzinfo=WIB))
    _punch(world, "out", datetime(2026, 11, 16, 14, 5, tzinfo=WIB))
    _punch(world, "in", datetime(2026, 11, 17, 6, 50, tzinfo=WIB))
    _punch(world, "out", datetime(2026, 11, 17, 14, 10, tzinfo=WIB))
    rest = attendance_day_rebuild(world.teacher, sunday)
    monday = attendance_day_rebuild(world.teacher, MONDAY)
    after = attendance_day_rebuild(world.teacher, tuesday)
    assert rest is not None
    assert monday is not None
    assert after is not None
    # Sunday counts its own punch only, not Monday's three.
    assert rest.day_code == "LIBUR"
    assert rest.explanation[-1] == "1 presensi pada hari libur tidak dinilai"
    # Monday explains its own early punch, and neither Sunday's nor Tuesday's.
    assert (monday.day_code, monday.in_code, monday.out_code) == ("H", "", "")
    ignored = [line for line in monday.explanation if "diabaikan" in line]
    assert ignored == [
        "Presensi masuk 04:50:00 WIB diabaikan: di luar rentang waktu presensi "
        "05:00:00 WIB s.d. 23:59:59 WIB"
    ]
    assert not any("15-11-2026" in line or "17-11-2026" in line for line in monday.explanation)
    assert not any("diabaikan" in line for line in after.explanation)


def _night_guards(world: World) -> None:
    """The teacher moves to a group on night duty, 21:00-07:00 Monday to Friday."""
    night = Shift("MALAM", "Jaga malam", time(21, 0), time(7, 0), time(18, 0), time(14, 0))
    guards = ScheduleGroup.objects.create(code="jaga", name="Jaga malam")
    schedule_version_save(
        actor=world.users[Role.ADMIN_BKPSDM],
        group=guards,
        definition=schedule_to_data(
            Schedule(
                code="jaga",
                name="Jaga malam",
                valid_from=date(2026, 1, 1),
                valid_until=None,
                legal_basis="Uji",
                week=(night,) * 5 + (None, None),
            )
        ),
    )
    Assignment.objects.filter(employee=world.teacher).update(schedule_group=guards)


def test_a_night_shift_counts_the_next_mornings_check_out_which_that_day_explains(
    world: World, schedules: None
) -> None:
    _night_guards(world)
    _punch(world, "in", datetime(2026, 11, 16, 20, 55, tzinfo=WIB))
    _punch(world, "out", datetime(2026, 11, 17, 7, 5, tzinfo=WIB))
    monday = attendance_day_rebuild(world.teacher, MONDAY)
    tuesday = attendance_day_rebuild(world.teacher, date(2026, 11, 17))
    assert monday is not None
    assert tuesday is not None
    # The night of Monday closes with Tuesday's 07:05 check-out, no early leave.
    assert (monday.day_code, monday.in_code, monday.out_code) == ("H", "", "")
    assert monday.last_out == datetime(2026, 11, 17, 7, 5, tzinfo=WIB)
    # Tuesday's own night had no punch; the 07:05 of its date is explained there, outside it.
    assert tuesday.day_code == "TK"
    assert any(
        line.startswith("Presensi pulang 07:05:00 WIB diabaikan") for line in tuesday.explanation
    )


def test_a_night_shifts_check_out_sent_late_rebuilds_the_night_it_closes(
    world: World, schedules: None, django_capture_on_commit_callbacks: Any
) -> None:
    from django_tasks_db.models import DBTaskResult

    from tepat.presence.tasks import attendance_days_rebuild_task

    _night_guards(world)
    _punch(world, "in", datetime(2026, 11, 16, 20, 55, tzinfo=WIB))
    night = attendance_day_rebuild(world.teacher, MONDAY)
    assert night is not None
    assert night.out_code  # judged before the check-out came: it has none
    # Tuesday's 07:05 check-out waited in the machine and arrives after Tuesday was judged.
    with django_capture_on_commit_callbacks(execute=True):
        event = _punch(world, "out", datetime(2026, 11, 17, 7, 5, tzinfo=WIB))
        from tepat.presence.services import day_rebuild_later

        day_rebuild_later(event)
    for queued in DBTaskResult.objects.all():
        attendance_days_rebuild_task.call(*queued.args_kwargs["args"])
    night.refresh_from_db()
    assert (night.day_code, night.out_code) == ("H", "")
    assert night.last_out == datetime(2026, 11, 17, 7, 5, tzinfo=WIB)
