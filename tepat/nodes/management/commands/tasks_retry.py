"""`tepat tasks_retry`: queue again the background tasks that failed, for those safe to repeat.

django-tasks runs a task once and records a failure (status, exception, traceback: the admin's
"Task results" list). A verdict rebuild or the alerts run that failed for a passing cause (the
database restarted under the worker, a deadlock, a node killed mid-task) must not stay failed
until someone notices: a systemd timer (deploy/tepat-tasks-retry.timer) runs this command
every 15 minutes. It queues a task again with the same arguments when

- the task is in ``RETRYABLE`` (it rebuilds a result from the ledger, the verdicts of a day,
  of a backlog's days or of a period, or a requested export's file, so running it twice gives
  the same rows: never one that sends mail or books money);
- it failed within ``--hours`` and fewer than ``--attempts`` times with these arguments;
- no run of it with these arguments is queued, running or has succeeded since.

A task that keeps failing is left in the list with its traceback for an administrator.
"""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks_db.models import DBTaskResult

# DBTaskResult is generic over the task's parameters and result; these rows are of any task.
TaskRow = DBTaskResult[Any, Any]

RETRYABLE = frozenset(
    {
        "tepat.presence.tasks.attendance_day_rebuild_task",
        "tepat.presence.tasks.attendance_days_rebuild_task",
        # A period's (a month's) rebuild rewrites its verdicts, and in a locked month its open
        # changes (one per employee and day, replaced): run again, it stores the same rows.
        "tepat.presence.tasks.attendance_period_rebuild_task",
        "tepat.monitor.tasks.discipline_alerts_task",
        # A requested export (tepat.exports) only rebuilds a file; it refuses to run again once
        # built, or when it failed because its requester lost the role.
        "tepat.exports.tasks.export_build_task",
    }
)


@dataclass
class History:
    failures: int = 0
    last_failure: datetime | None = None
    newest: TaskRow | None = None  # the latest enqueued run with these arguments


def _key(row: TaskRow) -> tuple[str, str, str]:
    return row.task_path, row.queue_name, json.dumps(row.args_kwargs, sort_keys=True)


def tasks_retry(*, hours: int, attempts: int) -> tuple[list[TaskRow], int]:
    """Queue the retries; return the failed runs queued again and how many were given up."""
    since = timezone.now() - timedelta(hours=hours)
    rows = DBTaskResult.objects.filter(task_path__in=RETRYABLE, enqueued_at__gte=since).order_by(
        "enqueued_at"
    )
    histories: dict[tuple[str, str, str], History] = {}
    for row in rows:
        history = histories.setdefault(_key(row), History())
        history.newest = row
        if row.status == "FAILED":
            history.failures += 1
    retried: list[TaskRow] = []
    given_up = 0
    for history in histories.values():
        failed = history.newest
        if failed is None or failed.status != "FAILED":
            continue  # succeeded, queued or running again since: nothing to do
        if history.failures >= attempts:
            given_up += 1
            continue
        task: Any = import_string(failed.task_path)
        task.using(queue_name=failed.queue_name, priority=failed.priority).enqueue(
            *failed.args_kwargs.get("args", []), **failed.args_kwargs.get("kwargs", {})
        )
        retried.append(failed)
    return retried, given_up


class Command(BaseCommand):
    help = "Queue again the verdict-rebuild, alert and export tasks that failed recently."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--hours", type=int, default=72, help="look back this far")
        parser.add_argument("--attempts", type=int, default=3, help="stop after this many failures")

    def handle(self, *args: Any, **options: Any) -> None:
        retried, given_up = tasks_retry(hours=options["hours"], attempts=options["attempts"])
        for failed in retried:
            self.stdout.write(f"queued again: {failed.task_name} {failed.args_kwargs}")
        if given_up:
            self.stderr.write(
                f"{given_up} task(s) failed {options['attempts']} times: see the admin's "
                "task results"
            )
