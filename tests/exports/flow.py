"""Asking for an export the way a page's button does, running what the worker runs, and
downloading the file from "Unduhan saya"."""

from typing import Any

from django.test import Client, TestCase
from django_tasks_db.models import DBTaskResult

from tepat.exports.models import ExportRequest
from tepat.exports.services import export_build

TASK = "tepat.exports.tasks.export_build_task"


def export_queue(client: Client, kind: str, data: dict[str, Any] | None = None) -> Any:
    """POST the export button; the answer (a redirect to the list when queued)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(f"/unduhan/minta/{kind}/", data or {})


def export_run(export: ExportRequest) -> ExportRequest:
    """What the worker does with the queued task (its body, in this test's transaction)."""
    assert DBTaskResult.objects.filter(
        task_path=TASK, status="READY", args_kwargs__args=[export.pk]
    ).exists(), "no task queued for this export"
    return export_build(export.pk)


def file_bytes(response: Any) -> bytes:
    assert response.status_code == 200, response.status_code
    return b"".join(response.streaming_content)


def export_download(client: Client, kind: str, data: dict[str, Any] | None = None) -> Any:
    """Click the export button, let the worker build it, download it: the file's response."""
    response = export_queue(client, kind, data)
    assert response.status_code == 302, response.content[:300]
    assert response["Location"] == "/unduhan/"
    export = ExportRequest.objects.latest("pk")
    assert export.status == ExportRequest.Status.QUEUED
    assert export_run(export).status == ExportRequest.Status.DONE
    return client.get(f"/unduhan/{export.pk}/berkas/")
