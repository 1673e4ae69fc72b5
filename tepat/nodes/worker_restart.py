"""A task worker that starts again fails the runs its previous life left "running".

django-tasks' database backend marks a run RUNNING when a worker claims it and records the
outcome when the run ends. A worker killed outright (out of memory, SIGKILL at the end of
systemd's stop timeout during a deploy, a node rebooted) records nothing, so the run stays
RUNNING for ever: `tepat tasks_retry` does not repeat it and an export waiting on it is
offered again only after an hour (`tepat.exports.services.STALE_AFTER`).

A worker runs one task at a time, and systemd starts it again under the same id
(`deploy/systemd/tepat-worker@.service`: ``--worker-id %H-%i``). So when a worker starts, no
run it claimed can still be running: each is failed with `WorkerStopped`, which the task
results list shows, `tasks_retry` repeats (for the tasks safe to repeat) and the downloads
page offers to try again at once. A worker started without an id gets a random one, which
matches nothing.
"""

from django.utils import timezone
from django_tasks_db.models import DBTaskResult


class WorkerStopped(Exception):
    """The worker running the task stopped before the task ended."""


def runs_of_stopped_worker_fail(worker_id: str) -> int:
    """Fail the runs still marked RUNNING whose last claim is ``worker_id``'s; how many."""
    error = WorkerStopped(
        f"worker {worker_id} stopped while running this task; it started again at "
        f"{timezone.now().isoformat()}"
    )
    failed = 0
    # A few rows at most (one per worker): read in Python, as SQLite has no JSON containment.
    for run in DBTaskResult.objects.filter(status="RUNNING"):
        if run.worker_ids and run.worker_ids[-1] == worker_id:  # not claimed again since
            run.set_failed(error)  # as the worker records a task that raised
            failed += 1
    return failed
