"""The real worker (`tepat db_worker`) builds a requested export, and `tepat tasks_retry`
queues one that failed for a passing cause again."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import OperationalError
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tepat.exports.models import ExportRequest
from tests.exports.flow import TASK, file_bytes
from tests.world import World, login

# The worker closes its database connection between tasks: no test transaction can wrap it.
pytestmark = pytest.mark.usefixtures("transactional_db")


def _worker() -> None:
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)


def _statuses() -> list[str]:
    rows = DBTaskResult.objects.filter(task_path=TASK).order_by("enqueued_at")
    return list(rows.values_list("status", flat=True))


def test_a_failed_export_is_queued_again_by_tasks_retry_and_then_built(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = login(Client(), world.users["admin_bkpsdm"])
    assert client.post("/unduhan/minta/rekap-kehadiran/", {"bulan": "2026-11"}).status_code == 302

    def database_gone(*args: object) -> bytes:
        raise OperationalError("server closed the connection unexpectedly")

    with monkeypatch.context() as patched:
        patched.setattr("tepat.exports.kinds.recap_file", database_gone)
        _worker()
    export = ExportRequest.objects.get()
    assert (export.status, export.retryable, _statuses()) == ("failed", True, ["FAILED"])

    out = StringIO()
    call_command("tasks_retry", stdout=out, stderr=StringIO())
    assert "queued again: " in out.getvalue()
    _worker()

    export.refresh_from_db()
    assert (export.status, export.attempts, _statuses()) == ("done", 2, ["FAILED", "SUCCESSFUL"])
    assert file_bytes(client.get(f"/unduhan/{export.pk}/berkas/")).startswith(b"PK")


def test_a_job_refused_for_a_lost_role_is_not_retried(world: World) -> None:
    user = world.users["operator_opd"]
    client = login(Client(), user)
    client.post("/unduhan/minta/rekap-disiplin-xlsx/")
    user.is_active = False
    user.save()

    _worker()
    out = StringIO()
    call_command("tasks_retry", stdout=out, stderr=StringIO())

    export = ExportRequest.objects.get()
    assert (export.status, export.retryable) == ("failed", False)
    assert export.error == "Akun Anda tidak aktif lagi."
    assert _statuses() == ["SUCCESSFUL"]  # the task ran; the export is what failed
    assert out.getvalue() == ""


def test_a_build_its_worker_stopped_is_offered_again_at_once_and_rebuilt_by_tasks_retry(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = login(Client(), world.users["admin_bkpsdm"])
    client.post("/unduhan/minta/rekap-kehadiran/", {"bulan": "2026-11"})

    def stopped_by_force(*args: object) -> bytes:
        raise SystemExit(1)  # a second SIGTERM: the worker exits from inside the build

    with monkeypatch.context() as patched:
        patched.setattr("tepat.exports.kinds.recap_file", stopped_by_force)
        _worker()
    export = ExportRequest.objects.get()
    # The task failed, but the build never got to record it: the row still says "running".
    assert (export.status, _statuses()) == ("running", ["FAILED"])
    assert "Coba lagi" in client.get("/unduhan/").content.decode()  # no hour to wait

    out = StringIO()
    call_command("tasks_retry", stdout=out, stderr=StringIO())
    assert "queued again: " in out.getvalue()
    _worker()
    export.refresh_from_db()
    assert (export.status, export.attempts, _statuses()) == ("done", 2, ["FAILED", "SUCCESSFUL"])
    assert file_bytes(client.get(f"/unduhan/{export.pk}/berkas/")).startswith(b"PK")


def test_a_build_whose_worker_was_killed_is_offered_again_when_the_worker_restarts(
    world: World,
) -> None:
    client = login(Client(), world.users["admin_bkpsdm"])
    client.post("/unduhan/minta/rekap-kehadiran/", {"bulan": "2026-11"})
    # Worker node1-1 claimed the build and was killed (SIGKILL, out of memory) mid-build: it
    # recorded nothing, so its run and the export both still say "running".
    run = DBTaskResult.objects.get(task_path=TASK)
    run.claim("node1-1")
    other = DBTaskResult.objects.create(
        task_path=TASK, args_kwargs={"args": [0], "kwargs": {}}, backend_name="default",
        run_after=run.run_after, queue_name=run.queue_name,
    )  # fmt: skip
    other.claim("node1-2")  # another worker's, still running
    export = ExportRequest.objects.get()
    export.status, export.started_at = ExportRequest.Status.RUNNING, timezone.now()
    export.save()
    assert "Coba lagi" not in client.get("/unduhan/").content.decode()

    err = StringIO()
    call_command(
        "db_worker", "--batch", "--no-startup-delay", "--worker-id", "node1-1",
        verbosity=0, stderr=err,
    )  # fmt: skip

    run.refresh_from_db()
    other.refresh_from_db()
    assert (run.status, run.exception_class_path.rsplit(".", 1)[-1]) == ("FAILED", "WorkerStopped")
    assert other.status == "RUNNING"
    assert "1 task run(s) left running" in err.getvalue()
    assert "Coba lagi" in client.get("/unduhan/").content.decode()  # at once, not in an hour
    call_command("tasks_retry", stdout=StringIO(), stderr=StringIO())
    _worker()
    export.refresh_from_db()
    assert export.status == "done"
    assert file_bytes(client.get(f"/unduhan/{export.pk}/berkas/")).startswith(b"PK")
