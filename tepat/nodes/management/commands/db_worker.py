"""`tepat db_worker`: django-tasks' database worker, which first fails the runs a previous
life of the same worker id left "running" (`tepat.nodes.worker_restart`)."""

from typing import Any

from django_tasks_db.management.commands.db_worker import Command as DatabaseWorkerCommand

from tepat.nodes.worker_restart import runs_of_stopped_worker_fail


class Command(DatabaseWorkerCommand):
    def handle(self, *args: Any, worker_id: str, **options: Any) -> None:
        failed = runs_of_stopped_worker_fail(worker_id)
        if failed:
            self.stderr.write(
                f"worker {worker_id}: {failed} task run(s) left running by its previous life "
                "marked failed"
            )
        super().handle(*args, worker_id=worker_id, **options)
