"""The dashboard's stored copy of today's presence says what the ledger says: after check-ins,
review decisions, approved absences, refused check-ins and schedule exceptions saved or removed
arriving in any order, its counts
equal judging every employee from the ledger; a check-in committed after one with a higher id
is not lost; a rebuild picks up what no check-in reveals."""

import random
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tepat.monitor import live, summary
from tepat.monitor.models import PresenceSync, PresenceToday
from tepat.org.models import Assignment, Employee, Opd
from tepat.presence.models import AttendanceDay, CheckinEvent, CheckinReview, ScheduleException
from tepat.presence.schedule_exceptions import (
    DAY_OFF,
    schedule_exception_remove,
    schedule_exception_save,
)
from tepat.rules.schedule import office_five_day_week, teacher_schedules
from tests.world import TODAY, World, login

pytestmark = pytest.mark.usefixtures("schedules", "clock")

OFFICE_HOURS = f"kantor-5hk:{office_five_day_week().week[0].code}"  # type: ignore[union-attr]
SCHOOL_DAY = f"guru:{teacher_schedules()[1].week[0].code}"  # type: ignore[union-attr]


def _from_ledger() -> dict[int, dict[str, int]]:
    """Per OPD and status, judging everyone from the ledger now (no phone is queued here)."""
    found: dict[int, dict[str, int]] = {}
    for row in live.presence_today(Employee.objects.all(), timezone.now()):
        found.setdefault(row.opd_id, {})
        found[row.opd_id][row.status] = found[row.opd_id].get(row.status, 0) + 1
    return found


def _stored() -> dict[int, dict[str, int]]:
    summary.presence_refresh(timezone.now())
    return summary.counts(Opd.objects.all(), timezone.localdate(), "opd_id")


def test_the_stored_counts_follow_the_ledger_through_a_morning(
    world: World, punch: Callable[..., Any], clock: Any
) -> None:
    staff = [world.kadis, world.principal, world.teacher, world.teacher2, world.kadinkes]
    staff.append(world.nurse)
    for n in range(24):
        staff.append(
            Employee.objects.create(
                nip=f"1990010120150110{n:02d}", name=f"Pegawai {n}", kind="PNS", gender="L",
                birth_date=TODAY.replace(year=1990),
            )
        )  # fmt: skip
        template = Assignment.objects.get(employee=world.teacher if n % 2 else world.nurse)
        template.pk = None
        template.employee = staff[-1]
        template.save()
    rng = random.Random(8)
    plans = random.Random(3)  # its own draws: the walk of punches stays the one it was
    bkpsdm = world.users["admin_bkpsdm"]
    assert _stored() == _from_ledger()  # the first request of the day builds it
    for step in range(40):
        clock.shift(timedelta(seconds=20))
        who = rng.choice(staff)
        draw = rng.random()
        if draw < 0.45:
            punch(who, 6 + rng.randint(0, 2), rng.randint(0, 59))
        elif draw < 0.6:
            punch(who, 7, rng.randint(0, 59), status="review")
        elif draw < 0.7:
            punch(who, 7, rng.randint(0, 59), status="refused")
        elif draw < 0.8:
            punch(who, 8, rng.randint(0, 59), kind="out")
        elif draw < 0.9:
            flagged = CheckinEvent.objects.filter(status="review", reviews__isnull=True).first()
            if flagged is not None:
                decision = rng.choice(["accept", "reject"])
                CheckinReview.objects.create(
                    event=flagged, decision=decision, reviewer=bkpsdm, reason="diperiksa"
                )
        else:
            AttendanceDay.objects.update_or_create(
                employee=who, day=TODAY,
                defaults={"day_code": rng.choice(["cuti_tahunan", "dinas_luar", "TK"]),
                          "rules_version": "verdict-1", "computed_at": timezone.now()},
            )  # fmt: skip
        if plans.random() < 0.2:  # a schedule exception saved, changed or removed today
            _exception_walk(plans, rng.choice(staff), bkpsdm)
        assert _stored() == _from_ledger(), f"step {step}"
    statuses = {s for counts in _from_ledger().values() for s in counts}
    assert {"checked_in", "late", "not_yet", "excused"} <= statuses  # the walk covered them
    assert ScheduleException.objects.exists()


def _exception_walk(plans: random.Random, who: Employee, actor: Any) -> None:
    existing = ScheduleException.objects.filter(employee=who, day=TODAY).first()
    if existing is not None and plans.random() < 0.4:
        schedule_exception_remove(actor=actor, exception_id=existing.pk)
        return
    shift = plans.choice([OFFICE_HOURS, DAY_OFF, SCHOOL_DAY])
    schedule_exception_save(
        actor=actor, employee=who, day=TODAY, shift=shift, reason=f"Surat tugas {shift}"
    )


def test_a_check_in_committed_after_a_higher_id_is_still_read(
    world: World, punch: Callable[..., Any], clock: Any
) -> None:
    assert _stored() == _from_ledger()
    # A phone's batch took an id, then a single check-in with the next id committed and was
    # read by a refresh before the batch committed.
    late_commit = punch(world.principal, 6, 58)
    clock.shift(timedelta(seconds=5))
    PresenceSync.objects.filter(day=TODAY).update(event_id=late_commit.pk + 1)

    summary.presence_refresh(timezone.now())

    row = PresenceToday.objects.get(day=TODAY, employee=world.principal)
    assert row.status == "checked_in"


def test_a_poll_reads_the_table_between_refreshes_and_the_rebuild_sees_new_staff(
    world: World, punch: Callable[..., Any], clock: Any, settings: Any
) -> None:
    settings.TEPAT_MONITOR_REFRESH_S = 10
    client = login(Client(), world.users["admin_bkpsdm"])
    client.get("/pantau/data/")
    punch(world.teacher, 6, 50)
    cells = client.get("/pantau/data/").json()["cells"]
    assert cells["all-total-checked_in"] == 0  # within ten seconds of the last refresh
    clock.shift(timedelta(seconds=10))
    cells = client.get("/pantau/data/").json()["cells"]
    assert cells["all-total-checked_in"] == 1

    newcomer = Employee.objects.create(
        nip="199001012015011099", name="Pegawai Baru", kind="PNS", gender="L",
        birth_date=TODAY.replace(year=1990),
    )  # fmt: skip
    template = Assignment.objects.get(employee=world.teacher2)
    template.pk = None
    template.employee = newcomer
    template.save()
    clock.shift(timedelta(minutes=29))
    assert client.get("/pantau/data/").json()["cells"]["all-total-not_yet"] == 5
    clock.shift(timedelta(minutes=1))  # the last whole rebuild is 30 minutes old
    assert client.get("/pantau/data/").json()["cells"]["all-total-not_yet"] == 6


def test_the_first_request_of_a_new_day_starts_afresh(
    world: World, punch: Callable[..., Any], clock: Any
) -> None:
    punch(world.teacher, 6, 50)
    assert _stored() == _from_ledger()
    clock.shift(timedelta(days=1))  # Tuesday: nobody has checked in yet

    assert _stored() == _from_ledger()
    assert PresenceToday.objects.filter(day=TODAY).count() == 0
    assert PresenceSync.objects.count() == 1


def test_a_refresh_judges_again_only_what_it_has_not_read(
    world: World, punch: Callable[..., Any], clock: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    assert _stored() == _from_ledger()
    punch(world.teacher, 6, 50)
    clock.shift(timedelta(seconds=1))
    assert _stored() == _from_ledger()  # judged the teacher
    clock.shift(timedelta(seconds=1))

    with CaptureQueriesContext(connection) as queries:
        summary.presence_refresh(timezone.now())

    # Her check-in is read again (it sits above the earlier mark) but not judged again.
    assert not [q for q in queries if "INSERT" in q["sql"]]
    assert _stored() == _from_ledger()
