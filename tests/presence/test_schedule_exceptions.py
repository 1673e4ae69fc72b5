"""Per-employee schedule exceptions: entered by the OPD operator for their own staff, audited,
and followed by the day's verdict (other hours, a day off, a roster's night shift)."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.test import Client

from tepat.accounts.models import Role
from tepat.audit.models import AuditEntry
from tepat.org.models import ScheduleGroup
from tepat.presence.attendance import attendance_day_rebuild, schedule_version_save
from tepat.presence.models import CheckinEvent, ScheduleException
from tepat.presence.schedule_exceptions import (
    DAY_OFF,
    schedule_exception_remove,
    schedule_exception_save,
    shift_choices,
)
from tepat.rules.schedule import office_five_day_week, rsud_shift_roster
from tepat.rules.schedule_data import schedule_to_data
from tests.world import World, login

WIB = ZoneInfo("Asia/Jakarta")
MONDAY = date(2026, 11, 16)
SATURDAY = date(2026, 11, 21)
OFFICE_MONDAY = f"kantor-5hk:{office_five_day_week().week[0].code}"  # type: ignore[union-attr]


def _punch(world: World, employee: object, kind: str, at: datetime) -> None:
    CheckinEvent.objects.create(
        idempotency_key=f"{employee.pk}-{kind}-{at.isoformat()}",  # type: ignore[attr-defined]
        employee=employee,
        kind=kind,
        taken_at=at,
        received_at=at,
        source="phone",
        status="accepted",
        site=world.school_site,
    )


def _plan(world: World, employee: object, day: date, shift: str, role: str = Role.OPERATOR_OPD):
    return schedule_exception_save(
        actor=world.users[role], employee=employee, day=day, shift=shift, reason="Surat tugas 12"
    )


@pytest.fixture
def roster(world: World, schedules: None) -> None:
    schedule_version_save(
        actor=world.users[Role.ADMIN_BKPSDM],
        group=ScheduleGroup.objects.create(code="shift", name="Shift RSUD"),
        definition=schedule_to_data(rsud_shift_roster()),
    )


def test_a_teacher_on_office_hours_is_judged_by_them(world: World, schedules: None) -> None:
    # 07:10 is late for the school day (07:00) but on time for the office (07:30).
    _punch(world, world.teacher, "in", datetime(2026, 11, 16, 7, 10, tzinfo=WIB))
    _punch(world, world.teacher, "out", datetime(2026, 11, 16, 16, 1, tzinfo=WIB))
    before = attendance_day_rebuild(world.teacher, MONDAY)
    assert before is not None
    assert before.in_code == "TL1"

    _plan(world, world.teacher, MONDAY, OFFICE_MONDAY)
    after = attendance_day_rebuild(world.teacher, MONDAY)
    assert after is not None
    assert (after.day_code, after.in_code, after.out_code) == ("H", "", "")
    assert any("Jadwal khusus: Surat tugas 12" in line for line in after.explanation)


def test_a_swapped_day_off_is_libur_and_the_saturday_counts(world: World, schedules: None) -> None:
    _plan(world, world.teacher, MONDAY, DAY_OFF)
    _plan(world, world.teacher, SATURDAY, OFFICE_MONDAY)
    monday = attendance_day_rebuild(world.teacher, MONDAY)
    saturday = attendance_day_rebuild(world.teacher, SATURDAY)
    assert monday is not None
    assert monday.day_code == "LIBUR"
    assert saturday is not None
    assert saturday.day_code == "TK"


def test_the_morning_punch_closes_the_night_shift_not_the_next_morning(
    world: World, roster: None
) -> None:
    tuesday = date(2026, 11, 17)
    _plan(world, world.teacher, MONDAY, "shift:MALAM")
    _plan(world, world.teacher, tuesday, "shift:PAGI")
    _punch(world, world.teacher, "in", datetime(2026, 11, 16, 20, 50, tzinfo=WIB))
    _punch(world, world.teacher, "out", datetime(2026, 11, 17, 7, 5, tzinfo=WIB))
    _punch(world, world.teacher, "in", datetime(2026, 11, 17, 7, 20, tzinfo=WIB))
    night = attendance_day_rebuild(world.teacher, MONDAY)
    morning = attendance_day_rebuild(world.teacher, tuesday)
    assert night is not None
    assert (night.in_code, night.out_code) == ("", "")
    assert night.last_out == datetime(2026, 11, 17, 7, 5, tzinfo=WIB)
    assert morning is not None
    # The 07:05 check-out belongs to the night: the morning has no check-out of its own.
    assert (morning.in_code, morning.out_code, morning.minutes_late) == ("TL1", "PSW4", 20)


def test_saving_twice_replaces_and_every_change_is_audited(world: World, schedules: None) -> None:
    _plan(world, world.teacher, MONDAY, DAY_OFF)
    saved = _plan(world, world.teacher, MONDAY, OFFICE_MONDAY)
    assert ScheduleException.objects.filter(employee=world.teacher).count() == 1
    schedule_exception_remove(actor=world.users[Role.OPERATOR_OPD], exception_id=saved.pk)
    assert not ScheduleException.objects.exists()
    actions = list(
        AuditEntry.objects.filter(action__startswith="schedule_exception")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == [
        "schedule_exception.save",
        "schedule_exception.save",
        "schedule_exception.remove",
    ]


def test_an_operator_plans_only_their_own_opds_staff(world: World, schedules: None) -> None:
    with pytest.raises(PermissionDenied):
        _plan(world, world.teacher, MONDAY, DAY_OFF, role="operator_other")
    with pytest.raises(PermissionDenied):
        _plan(world, world.teacher, MONDAY, DAY_OFF, role=Role.KEPALA_OPD)
    saved = _plan(world, world.teacher, MONDAY, DAY_OFF)
    with pytest.raises(Http404):
        schedule_exception_remove(actor=world.users["operator_other"], exception_id=saved.pk)
    _plan(world, world.nurse, MONDAY, DAY_OFF, role=Role.ADMIN_BKPSDM)  # BKPSDM: everyone


@pytest.mark.parametrize(
    ("shift", "reason", "field"),
    [
        ("kantor-5hk:NOPE", "Surat tugas", "shift"),
        ("tidak-ada:PAGI", "Surat tugas", "shift"),
        (DAY_OFF, "   ", "reason"),
    ],
)
def test_a_bad_plan_is_refused_with_a_reason(
    world: World, schedules: None, shift: str, reason: str, field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        schedule_exception_save(
            actor=world.users[Role.OPERATOR_OPD],
            employee=world.teacher,
            day=MONDAY,
            shift=shift,
            reason=reason,
        )
    assert field in refused.value.message_dict
    assert not ScheduleException.objects.exists()


def test_the_shift_list_offers_every_schedule_in_force(world: World, roster: None) -> None:
    values = {c.value for c in shift_choices(MONDAY)}
    assert {DAY_OFF, OFFICE_MONDAY, "shift:MALAM", "shift:PAGI"} <= values


def test_the_page_saves_a_plan_and_refuses_another_opds_employee(
    world: World, schedules: None
) -> None:
    client = login(Client(), world.users[Role.OPERATOR_OPD])
    form = {"day": MONDAY.isoformat(), "shift": DAY_OFF, "reason": "Tukar hari libur"}
    response = client.post("/presensi/jadwal-khusus/", {**form, "employee": world.teacher.pk})
    assert response.status_code == 302
    page = client.get("/presensi/jadwal-khusus/")
    assert "Tukar hari libur" in page.content.decode()
    refused = client.post("/presensi/jadwal-khusus/", {**form, "employee": world.nurse.pk})
    assert refused.status_code == 400
    assert ScheduleException.objects.count() == 1
