"""A verdict rebuild that failed is queued again, a few times at most, by `tepat tasks_retry`;
a task that must not run twice (a TPP run books money) is left failed for a person."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import OperationalError
from django.test import Client
from django_tasks_db.models import DBTaskResult

from tepat.accounts.models import Role
from tepat.presence.models import AttendanceDay
from tepat.presence.tasks import attendance_day_rebuild_task, attendance_period_rebuild_task
from tepat.tpp.tasks import tpp_run_task
from tests.world import World, login

# The worker closes its database connection between tasks, as a long-running process should:
# no test transaction can wrap it.
pytestmark = pytest.mark.usefixtures("transactional_db")
TASK = "tepat.presence.tasks.attendance_day_rebuild_task"


def _worker() -> None:
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)


def _retry() -> str:
    out = StringIO()
    call_command("tasks_retry", stdout=out, stderr=StringIO())
    return out.getvalue()


def _statuses(task_path: str = TASK) -> list[str]:
    return list(
        DBTaskResult.objects.filter(task_path=task_path)
        .order_by("enqueued_at")
        .values_list("status", flat=True)
    )


def test_a_failed_rebuild_runs_again_and_succeeds(
    world: World, schedules: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def database_gone(*args: object) -> None:
        raise OperationalError("server closed the connection unexpectedly")

    attendance_day_rebuild_task.enqueue(world.teacher.pk, "2026-11-23")
    with monkeypatch.context() as patched:
        patched.setattr("tepat.presence.tasks.attendance_day_rebuild", database_gone)
        _worker()
    assert _statuses() == ["FAILED"]
    # The database is back: the next timer run queues the rebuild again, once.
    assert "queued again" in _retry()
    assert _retry() == ""
    _worker()
    assert _statuses() == ["FAILED", "SUCCESSFUL"]
    assert AttendanceDay.objects.filter(employee=world.teacher, day="2026-11-23").exists()
    assert _retry() == ""  # succeeded since: nothing to do


def _database_gone(*args: object, **kwargs: object) -> None:
    raise OperationalError("server closed the connection unexpectedly")


def test_a_failed_period_rebuild_runs_again_and_stores_the_verdicts(
    world: World, schedules: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    attendance_period_rebuild_task.enqueue("2026-11-23", "2026-11-24")
    with monkeypatch.context() as patched:
        patched.setattr("tepat.presence.tasks.attendance_period_rebuild", _database_gone)
        _worker()
    period = "tepat.presence.tasks.attendance_period_rebuild_task"
    assert _statuses(period) == ["FAILED"]
    assert "queued again: attendance_period_rebuild_task" in _retry()
    _worker()
    assert _statuses(period) == ["FAILED", "SUCCESSFUL"]
    assert AttendanceDay.objects.filter(employee=world.teacher, day="2026-11-24").exists()


def test_a_failed_tpp_run_is_not_queued_again(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The same passing cause as the rebuilds above: a TPP run is not safe to repeat (it
    # books money), so BKPSDM restarts it from its page instead.
    tpp_run_task.enqueue(1)
    with monkeypatch.context() as patched:
        patched.setattr("tepat.tpp.tasks.tpp_run_compute", _database_gone)
        _worker()
    tpp = "tepat.tpp.tasks.tpp_run_task"
    assert _statuses(tpp) == ["FAILED"]
    assert _retry() == ""
    _worker()
    assert _statuses(tpp) == ["FAILED"]


def test_a_task_that_keeps_failing_is_given_up_after_three_runs(world: World) -> None:
    attendance_day_rebuild_task.enqueue(0, "2026-11-23")
    for _ in range(5):
        _worker()
        _retry()
    assert _statuses() == ["FAILED", "FAILED", "FAILED"]


def test_a_failed_task_and_its_traceback_are_shown_in_the_admin(world: World) -> None:
    attendance_day_rebuild_task.enqueue(0, "2026-11-23")  # no employee 0: it fails
    _worker()
    failed = DBTaskResult.objects.get(task_path=TASK)
    admin = login(Client(), world.users[Role.SUPERADMIN])
    listing = admin.get("/admin/django_tasks_database/dbtaskresult/?status__exact=FAILED")
    assert listing.status_code == 200
    assert "attendance_day_rebuild_task" in listing.content.decode()
    detail = admin.get(f"/admin/django_tasks_database/dbtaskresult/{failed.pk}/change/")
    assert "DoesNotExist" in detail.content.decode()
