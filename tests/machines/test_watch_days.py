"""A silent machine is a signal only on a day its site works: the work calendar of the
machine's unit and the schedules of the people there decide, not Monday to Friday. A six-day
school's machine is watched on Saturday, a five-day office's is not; nobody's machine is
watched on a national holiday."""

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tepat.org.models import Assignment, ScheduleGroup
from tepat.presence import machines
from tepat.presence.attendance import schedule_version_save
from tepat.presence.models import Machine
from tepat.rules.schedule import office_six_day_week
from tepat.rules.schedule_data import schedule_to_data
from tests.world import World, world_schedules_save

pytestmark = pytest.mark.django_db

WIB = ZoneInfo("Asia/Jakarta")
MONDAY = datetime(2026, 11, 16, 10, 0, tzinfo=WIB)
SATURDAY = datetime(2026, 11, 21, 10, 0, tzinfo=WIB)
CHRISTMAS = datetime(2026, 12, 25, 10, 0, tzinfo=WIB)  # a Friday, libur nasional
SUNDAY = datetime(2026, 11, 22, 10, 0, tzinfo=WIB)


def _silent_since(machine: Machine, now: datetime) -> None:
    Machine.objects.filter(pk=machine.pk).update(last_contact_at=now - timedelta(hours=5))


@pytest.fixture
def six_day_school(world: World) -> Any:
    """The school's teachers on a six-day week (Saturday a school day)."""
    world_schedules_save(world)
    group = ScheduleGroup.objects.create(code="sekolah-6hk", name="Sekolah 6 hari")
    schedule_version_save(
        actor=world.users["admin_bkpsdm"],
        group=group,
        definition=schedule_to_data(office_six_day_week()),
    )
    Assignment.objects.filter(unit=world.school).update(schedule_group=group)


def test_a_six_day_schools_machine_is_watched_on_saturday(
    world: World, machine: Machine, six_day_school: Any
) -> None:
    _silent_since(machine, SATURDAY)
    assert machines.machines_silent(SATURDAY) == [machine]
    assert machines.machines_check(SATURDAY)["silent"] == 1
    assert machines.machines_silent(SUNDAY) == []


def test_a_five_day_schools_machine_is_not_watched_on_saturday(
    world: World, machine: Machine
) -> None:
    world_schedules_save(world)  # the teachers' week is Monday to Friday
    assert Assignment.objects.filter(unit=world.school, schedule_group__code="guru").exists()
    _silent_since(machine, SATURDAY)
    assert machines.machines_silent(SATURDAY) == []
    assert machines.machines_check(SATURDAY)["silent"] == 0


def test_nobody_is_watched_on_a_national_holiday(
    world: World, machine: Machine, six_day_school: Any
) -> None:
    _silent_since(machine, CHRISTMAS)
    assert machines.machines_silent(CHRISTMAS) == []


def test_a_normal_monday_is_watched(world: World, machine: Machine, six_day_school: Any) -> None:
    _silent_since(machine, MONDAY)
    assert machines.machines_silent(MONDAY) == [machine]
