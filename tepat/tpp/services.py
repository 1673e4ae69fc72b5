"""Writes for e-TPP: policy drafts and their four-eyes approval, and the monthly run (start,
compute, accept). Each user-facing write is one transaction with its audit row; the rules core
computes, these only gather, store and record. Refusals are `ValidationError` (shown to the
user) or `PermissionDenied`."""

from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from tepat.accounts.access import TPP_ADMIN_ROLES, require_role
from tepat.audit.services import audit_record
from tepat.rules import tpp as rules
from tepat.rules.tpp_policy import PolicyError, TppPolicy, policy_from_yaml, policy_validate
from tepat.tpp import inputs, results, submissions
from tepat.tpp.models import (
    PltAppointment,
    TppPolicyVersion,
    TppResult,
    TppRun,
)

CHUNK = 2000
"""Employees gathered, computed and written together: a few queries and one bulk insert each."""


# --- policy ------------------------------------------------------------------------------------


def tpp_policy_parse(definition: str) -> TppPolicy:
    """The policy in a YAML text, or ValidationError with every problem in Indonesian (a band
    gap or overlap, a percentage out of range, a split not summing to 100, …)."""
    try:
        policy = policy_from_yaml(definition)
    except PolicyError as exc:
        raise ValidationError(exc.message) from None
    errors = policy_validate(policy)
    if errors:
        raise ValidationError(errors)
    return policy


@transaction.atomic
def tpp_policy_draft_save(
    *, actor: Any, definition: str, version: TppPolicyVersion | None = None
) -> TppPolicyVersion:
    """Store a new draft, or change a draft; an approved version never changes."""
    require_role(actor, TPP_ADMIN_ROLES)
    policy = tpp_policy_parse(definition)
    fields = {
        "name": policy.name,
        "version": policy.version,
        "regulation": policy.regulation,
        "valid_from": policy.valid_from,
        "valid_to": policy.valid_to,
        "definition": definition,
        "edited_by": actor,
    }
    clash = TppPolicyVersion.objects.filter(name=policy.name, version=policy.version)
    before = None
    if version is None:
        if clash.exists():
            raise ValidationError(
                _("Policy %(label)s already exists: give the new one another version.")
                % {"label": policy.label}
            )
        version = TppPolicyVersion.objects.create(created_by=actor, **fields)
        action = "tpp.policy_create"
    else:
        version = TppPolicyVersion.objects.select_for_update().get(pk=version.pk)
        if version.status != TppPolicyVersion.Status.DRAFT:
            raise ValidationError(
                _("An approved policy cannot be changed; save the change as a new version.")
            )
        if clash.exclude(pk=version.pk).exists():
            raise ValidationError(
                _("Policy %(label)s already exists: give the new one another version.")
                % {"label": policy.label}
            )
        before = {"definition": version.definition}
        for name, value in fields.items():
            setattr(version, name, value)
        version.save()
        action = "tpp.policy_change"
    audit_record(
        actor=actor,
        action=action,
        obj=version,
        summary=policy.label,
        before=before,
        after={"definition": definition},
    )
    return version


@transaction.atomic
def tpp_policy_approve(*, actor: Any, version: TppPolicyVersion) -> TppPolicyVersion:
    """Four eyes: a second BKPSDM user, neither its author nor its last editor, approves."""
    require_role(actor, TPP_ADMIN_ROLES)
    version = TppPolicyVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != TppPolicyVersion.Status.DRAFT:
        raise ValidationError(_("This policy version is already approved."))
    if actor.pk in {version.created_by_id, version.edited_by_id}:
        raise PermissionDenied(
            _("A policy version is approved by another BKPSDM user than the one who wrote it.")
        )
    policy = tpp_policy_parse(version.definition)
    if TppPolicyVersion.objects.filter(
        status=TppPolicyVersion.Status.APPROVED, valid_from=version.valid_from
    ).exists():
        raise ValidationError(
            _("Another approved policy already starts on %(day)s.")
            % {"day": f"{version.valid_from:%d-%m-%Y}"}
        )
    version.status = TppPolicyVersion.Status.APPROVED
    version.approved_by = actor
    version.approved_at = timezone.now()
    version.save(update_fields=["status", "approved_by", "approved_at"])
    audit_record(
        actor=actor,
        action="tpp.policy_approve",
        obj=version,
        summary=policy.label,
        after={"status": version.status},
    )
    return version


def tpp_policy_in_force(year: int, month: int) -> tuple[TppPolicyVersion, TppPolicy]:
    """The approved version that starts last on or before the month's first day. The rules
    core refuses it if it does not cover the whole month."""
    first, _last = inputs.month_bounds(year, month)
    version = (
        TppPolicyVersion.objects.filter(
            status=TppPolicyVersion.Status.APPROVED, valid_from__lte=first
        )
        .order_by("-valid_from")
        .first()
    )
    if version is None:
        raise ValidationError(
            _("No approved TPP policy is in force on %(day)s.") % {"day": f"{first:%d-%m-%Y}"}
        )
    return version, policy_from_yaml(version.definition)


# --- the monthly run ---------------------------------------------------------------------------


def _checked_month(year: int, month: int) -> None:
    if not (1 <= month <= 12 and 2000 <= year <= 2100):
        raise ValidationError(_("Month must be given as YYYY-MM."))


@transaction.atomic
def tpp_run_start(*, actor: Any, year: int, month: int, enqueue: bool = True) -> TppRun:
    """Queue a run of the month for the whole regency (a recompute when the month already has
    an accepted run). The background task computes it; `enqueue=False` leaves that to the
    caller (the management command computes at once)."""
    if actor is not None:
        require_role(actor, TPP_ADMIN_ROLES)
    _checked_month(year, month)
    version, _policy = tpp_policy_in_force(year, month)
    busy = TppRun.objects.select_for_update().filter(
        year=year, month=month, status__in=[TppRun.Status.QUEUED, TppRun.Status.RUNNING]
    )
    if busy.exists():
        raise ValidationError(_("A run for this month is still being computed."))
    previous = TppRun.objects.filter(year=year, month=month, status=TppRun.Status.ACCEPTED).first()
    run = TppRun.objects.create(
        year=year,
        month=month,
        policy=version,
        rules_version=rules.RULES_VERSION,
        previous=previous,
        started_by=actor,
    )
    audit_record(
        actor=actor,
        action="tpp.run_start",
        obj=run,
        summary=f"{year}-{month:02d} {version}",
        after={"recompute_of": previous.pk if previous else None},
    )
    if enqueue:
        from tepat.tpp.tasks import tpp_run_task

        transaction.on_commit(lambda: tpp_run_task.enqueue(run.pk))
    return run


def tpp_run_compute(run_id: int, *, chunk: int = CHUNK, processes: int | None = None) -> TppRun:
    """Compute a queued run: gather, compute and write the regency in chunks of `chunk`
    employees, each chunk in its own transaction, spread over worker processes where the
    database allows it (`results.workers_for`; `processes` overrides). The progress is written
    after each chunk, so the page can show how far it is. A failure leaves no results and
    marks the run failed with the reason."""
    run = TppRun.objects.select_related("policy").get(pk=run_id)
    if run.status != TppRun.Status.QUEUED:
        return run
    policy_from_yaml(run.policy.definition)  # a policy that no longer reads fails here
    ids = inputs.employee_ids_in_month(run.year, run.month)
    run.status = TppRun.Status.RUNNING
    run.started_at = timezone.now()
    run.progress_total = len(ids)
    run.save(update_fields=["status", "started_at", "progress_total"])
    job = results.RunJob(
        run_id=run.pk, year=run.year, month=run.month, definition=run.policy.definition
    )
    chunks = [ids[start : start + chunk] for start in range(0, len(ids), chunk)]
    workers = results.workers_for(len(chunks)) if processes is None else processes
    done = errors = 0
    try:
        for count, chunk_errors in results.chunks_store(job, chunks, workers):
            done += count
            errors += chunk_errors
            TppRun.objects.filter(pk=run.pk).update(progress_done=done, error_count=errors)
    except Exception as exc:
        TppResult.objects.filter(run=run).delete()
        TppRun.objects.filter(pk=run.pk).update(
            status=TppRun.Status.FAILED,
            failure=f"{type(exc).__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
        )
        raise
    TppRun.objects.filter(pk=run.pk).update(
        status=TppRun.Status.COMPUTED, finished_at=timezone.now(), error_count=errors
    )
    run.refresh_from_db()
    return run


def _money(value: Decimal) -> str:
    return str(value)


@transaction.atomic
def tpp_run_accept(*, actor: Any, run: TppRun) -> TppRun:
    """BKPSDM accepts a computed run: it becomes the month's result, and the run it replaces
    (if any) is kept, superseded. Results are never changed, only which run counts.

    A recompute stops short of the OPDs whose payment request is approved (locked): they keep
    the results they were paid on, and each difference becomes a correction in the next open
    month (`submissions.locked_corrections_record`). Requests not yet locked move onto the new
    run."""
    require_role(actor, TPP_ADMIN_ROLES)
    runs = list(
        TppRun.objects.select_for_update().filter(year=run.year, month=run.month).order_by("pk")
    )
    run = next(r for r in runs if r.pk == run.pk)
    if run.status != TppRun.Status.COMPUTED:
        raise ValidationError(_("Only a computed run waiting for acceptance can be accepted."))
    current = next((r for r in runs if r.status == TppRun.Status.ACCEPTED), None)
    if (current.pk if current else None) != run.previous_id:
        raise ValidationError(
            _("Another run of this month was accepted meanwhile; start a new run to compare.")
        )
    now = timezone.now()
    if current is not None:
        current.status = TppRun.Status.SUPERSEDED
        current.save(update_fields=["status"])
    for other in runs:
        if other.pk != run.pk and other.status == TppRun.Status.COMPUTED:
            other.status = TppRun.Status.DISCARDED
            other.save(update_fields=["status"])
    run.status = TppRun.Status.ACCEPTED
    run.accepted_by = actor
    run.accepted_at = now
    run.save(update_fields=["status", "accepted_by", "accepted_at"])
    locked = submissions.locked_corrections_record(actor=actor, run=run)
    total = run.results.aggregate(net=Sum("net"))["net"] or Decimal(0)
    audit_record(
        actor=actor,
        action="tpp.run_accept",
        obj=run,
        summary=f"{run.year}-{run.month:02d}",
        before={"accepted_run": current.pk if current else None},
        after={
            "accepted_run": run.pk,
            "net_total": _money(total),
            "locked_opds": list(locked.opds),
            "corrections": locked.adjustments,
            "corrections_total": _money(locked.total),
        },
    )
    return run


# --- Plt ---------------------------------------------------------------------------------------


@transaction.atomic
def plt_appointment_save(*, actor: Any, appointment: PltAppointment) -> PltAppointment:
    """Record or change an acting (Plt) appointment by decree, audited."""
    require_role(actor, TPP_ADMIN_ROLES)
    before = None
    if appointment.pk:
        old = PltAppointment.objects.get(pk=appointment.pk)
        before = {
            "kelas": old.kelas_jabatan,
            "first": str(old.first_day),
            "last": str(old.last_day),
        }
    appointment.save()
    audit_record(
        actor=actor,
        action="tpp.plt_save",
        obj=appointment,
        summary=f"{appointment.jabatan} {appointment.decree}",
        before=before,
        after={
            "kelas": appointment.kelas_jabatan,
            "first": str(appointment.first_day),
            "last": str(appointment.last_day),
        },
    )
    return appointment
