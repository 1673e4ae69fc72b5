"""Requested exports: queue one, build it in the worker, retry it, note its download, and
delete the files that expired. The rows stay for the audit trail."""

import logging
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tepat.accounts import access
from tepat.audit.services import audit_record
from tepat.exports.kinds import KINDS, ExportKind, ExportRefused, kind_allows, params_load
from tepat.exports.models import ExportRequest
from tepat.nodes.router import replica_reads

logger = logging.getLogger(__name__)

Status = ExportRequest.Status
# How many of one person's exports may wait or run at once: a province's recap is minutes of
# a worker's core, so one person cannot fill the queue.
PENDING_MAX = 3
PREFIX = "exports/"
# A build still "running" this long after it started was lost with its worker (a node killed
# mid-task and never back, which leaves its task "running" too; a worker that starts again
# fails its old runs at once, tepat.nodes.worker_restart): the requester may queue it again. The
# largest export takes well under a minute. A build whose task the worker no longer runs (it
# failed outside the build's own error handling: a worker stopped by force, the database gone
# before the failure was saved) need not wait: see `_build_task_active`.
STALE_AFTER = timedelta(hours=1)
BUILD_TASK = "tepat.exports.tasks.export_build_task"


def _keep() -> timedelta:
    return timedelta(hours=settings.TEPAT_EXPORT_KEEP_HOURS)


def export_kind(export: ExportRequest) -> ExportKind:
    return KINDS[export.kind]


def export_request(
    *, actor: Any, kind: ExportKind, params: dict[str, Any], ip_address: str | None = None
) -> tuple[ExportRequest, bool]:
    """Queue ``kind`` for ``actor`` (parameters already read and checked); the same export
    still waiting or running is returned instead of a second one (False)."""
    with transaction.atomic():
        pending = ExportRequest.objects.select_for_update().filter(
            requester=actor, status__in=[Status.QUEUED, Status.RUNNING]
        )
        for same in pending:
            if same.kind == kind.code and same.params == params:
                return same, False
        if len(pending) >= PENDING_MAX:
            raise ExportRefused(
                _("You already have %(n)d exports waiting; wait until one is ready.")
                % {"n": PENDING_MAX},
                status=429,
            )
        export = ExportRequest.objects.create(
            requester=actor, kind=kind.code, params=params, scope_role=actor.role,
            scope_opd_id=actor.opd_id, scope_employee_id=actor.employee_id,
            created_at=timezone.now(),
        )  # fmt: skip
        audit_record(
            actor=actor, action="export.request", obj=export, ip_address=ip_address,
            summary=f"{kind.code} {params['bulan']} opd={params.get('opd') or 'semua'}",
            after={"kind": kind.code, "params": params, "role": actor.role},
        )  # fmt: skip
        _enqueue(export)
    return export, True


def _enqueue(export: ExportRequest) -> None:
    from tepat.exports.tasks import export_build_task

    transaction.on_commit(lambda: export_build_task.enqueue(export.pk))


def export_scope_refusal(export: ExportRequest) -> str | None:
    """Why the requester may no longer have this file (None: they may): they are not the same
    role, OPD and employee record as when they asked, lost the export's role, or no longer
    see the OPD it is of."""
    user = export.requester
    if not user.is_active:
        return _("Your account is no longer active.")
    same = (user.role, user.opd_id, user.employee_id) == (
        export.scope_role, export.scope_opd_id, export.scope_employee_id,
    )  # fmt: skip
    if not same or not kind_allows(export_kind(export), user):
        return _(
            "Your role or OPD changed after you asked for this export, so it was not built "
            "for you. Ask for it again if you still may."
        )
    opd_id = export.params.get("opd")
    if opd_id and not access.opds_visible_to(user).filter(pk=opd_id).exists():
        return _("You may no longer see this OPD.")
    return None


def _fail(export: ExportRequest, error: str, *, retryable: bool) -> None:
    export.status = Status.FAILED
    export.error = error
    export.retryable = retryable
    export.finished_at = timezone.now()
    export.save(update_fields=["status", "error", "retryable", "finished_at"])


def _build_task_active(export_id: int, *, besides: str | None = None) -> bool:
    """Whether a worker has a build of this export queued or running (the task results of
    the database backend), other than the run `besides`."""
    from django_tasks_db.models import DBTaskResult

    runs = DBTaskResult.objects.filter(
        task_path=BUILD_TASK, status__in=["READY", "RUNNING"], args_kwargs__args=[export_id]
    )
    if besides is not None:
        runs = runs.exclude(pk=besides)
    return runs.exists()


def export_build(export_id: int, *, task_id: str | None = None) -> ExportRequest:
    """The worker's part: build the file with the page's own builder, for the requester's
    current scope (which must still be the one they asked with), and store it under
    ``exports/``. A request already built, running or expired is left alone, so a repeated
    task does nothing twice; one "running" whose task no other run holds (``task_id``: this
    run's) was left by a worker that stopped, and is built again. An unexpected error fails
    the row (retryable) and is raised, so the task result holds the traceback and
    `tepat tasks_retry` may queue it again."""
    with transaction.atomic():
        export = (
            ExportRequest.objects.select_for_update().select_related("requester").get(pk=export_id)
        )
        if export.status == Status.FAILED and not export.retryable:
            return export
        lost = export.status == Status.RUNNING and not _build_task_active(
            export.pk, besides=task_id
        )
        if export.status not in {Status.QUEUED, Status.FAILED} and not lost:
            return export
        export.status = Status.RUNNING
        export.started_at = timezone.now()
        export.attempts += 1
        export.progress = 10
        export.error = ""
        export.save(update_fields=["status", "started_at", "attempts", "progress", "error"])
    with translation.override(settings.LANGUAGE_CODE):
        refusal = export_scope_refusal(export)
        if refusal is not None:
            _fail(export, refusal, retryable=False)
            return export
        kind = export_kind(export)
        try:
            params = params_load(export.params)
            with replica_reads():
                content = kind.build(export.requester, params, timezone.localdate())
            export.progress = 90
            export.save(update_fields=["progress"])
            name = f"{PREFIX}{export.requester_id}/{export.pk}-{secrets.token_hex(8)}"
            path = default_storage.save(f"{name}.{kind.extension}", ContentFile(content))
        except Exception:
            logger.exception("export %s failed", export.pk)
            _fail(
                export,
                _("The file could not be built because of an error on the server. Try again "
                  "later; if it fails again, tell the administrator."),
                retryable=True,
            )  # fmt: skip
            raise
    now = timezone.now()
    export.status = Status.DONE
    export.progress = 100
    export.file_path = path
    export.filename = kind.filename(params)
    export.size = len(content)
    export.finished_at = now
    export.expires_at = now + _keep()
    export.retryable = False
    export.save()
    return export


def export_retryable(export: ExportRequest, now: datetime) -> bool:
    """Failed, or lost with its worker: no worker has its build queued or running any more,
    or it has been "running" for longer than any build takes (`STALE_AFTER`)."""
    if export.status == Status.FAILED:
        return True
    if export.status != Status.RUNNING:
        return False
    started = export.started_at
    if started is not None and now - started > STALE_AFTER:
        return True
    return not _build_task_active(export.pk)


def export_retry(*, actor: Any, export: ExportRequest) -> None:
    """Queue a failed (or lost) export again (its requester, from the downloads page)."""
    with transaction.atomic():
        export = ExportRequest.objects.select_for_update().get(pk=export.pk)
        if not export_retryable(export, timezone.now()):
            raise ExportRefused(_("Only a failed export can be tried again."), status=409)
        export.status = Status.QUEUED
        export.progress = 0
        export.error = ""
        export.retryable = True
        export.save(update_fields=["status", "progress", "error", "retryable"])
        audit_record(actor=actor, action="export.retry", obj=export, summary=export.kind)
        _enqueue(export)


def export_download_note(*, actor: Any, export: ExportRequest, ip_address: str | None) -> None:
    audit_record(
        actor=actor, action="export.download", obj=export, ip_address=ip_address,
        summary=f"{export.kind} {export.params.get('bulan')} {export.size or 0} B",
    )  # fmt: skip


def exports_expire(*, now: datetime | None = None) -> int:
    """Delete the stored files of the exports past their expiry; the rows stay (status
    expired) for the audit trail. Returns how many files were deleted."""
    now = now or timezone.now()
    expired = 0
    due = ExportRequest.objects.filter(status=Status.DONE, expires_at__lte=now)
    for export in due.iterator():
        if export.file_path and default_storage.exists(export.file_path):
            default_storage.delete(export.file_path)
        export.status = Status.EXPIRED
        export.save(update_fields=["status"])
        expired += 1
    return expired
