"""Writes for the payment request (pengajuan) of an OPD's month, and the lock it puts on it.

The steps: the OPD operator opens the request over the month's accepted run and checks it
(marks it ready, with a note) → the Kepala OPD approves it, which locks the OPD-month → BKPSDM
verifies it → BKPSDM exports it for BPKAD. Any step may instead return it to the OPD with a
reason. Each step is one transaction with its audit row and an appended `TppSubmissionStep`.

Four eyes: whoever prepared a request (opened it or marked it ready) never approves, verifies or
exports it, and whoever approved it never prepares or verifies it — compared by user and by
the employee behind the account, so one person with two roles cannot do both.

The lock: after approval the request's run is the one paid for that OPD-month. An accepted
recompute of the month leaves those results as they are and records, per person whose net
differs, a `TppAdjustment` that the next open month's run adds to the net with its own
explanation line (`adjustments_for` is read by the run, `locked_corrections_record` is called
by `tpp_run_accept`).
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from tepat.accounts.access import (
    TPP_SUBMISSION_APPROVER_ROLES,
    TPP_SUBMISSION_PREPARER_ROLES,
    TPP_SUBMISSION_VERIFIER_ROLES,
    require_tpp_submission_role,
)
from tepat.audit.services import audit_record
from tepat.org.models import Opd
from tepat.rules.tpp import MONTH_NAMES, format_rupiah
from tepat.tpp.models import (
    TppAdjustment,
    TppResult,
    TppRun,
    TppSubmission,
    TppSubmissionStep,
)

Status = TppSubmission.Status
Action = TppSubmissionStep.Action

# Which part of the four eyes each step belongs to; a person acts in one part only.
_PART: dict[str, str] = {
    Action.OPEN: "prepare",
    Action.READY: "prepare",
    Action.APPROVE: "approve",
    Action.VERIFY: "verify",
    Action.EXPORT: "verify",
}
_LOCKED_STATUSES = (Status.APPROVED, Status.VERIFIED, Status.EXPORTED)


def month_label(year: int, month: int) -> str:
    return f"{MONTH_NAMES[month - 1]} {year}"


def _next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def _four_eyes(actor: Any, submission: TppSubmission, action: str) -> None:
    part = _PART[action]
    for step in submission.steps.exclude(action__in=[Action.RETURN, Action.RUN_REPLACED]):
        if _PART[step.action] == part:
            continue
        same_user = step.actor_id is not None and step.actor_id == actor.pk
        same_person = (
            step.actor_employee_id is not None and step.actor_employee_id == actor.employee_id
        )
        if same_user or same_person:
            raise PermissionDenied(
                _(
                    "Four eyes: you already took part in this payment request as %(part)s; "
                    "another person must do this step."
                )
                % {"part": _PART_LABELS()[_PART[step.action]]}
            )


def _PART_LABELS() -> dict[str, str]:
    return {"prepare": _("preparer"), "approve": _("approver"), "verify": _("verifier")}


def _step(
    submission: TppSubmission, *, actor: Any, action: str, to: str, note: str = ""
) -> TppSubmissionStep:
    step = TppSubmissionStep.objects.create(
        submission=submission,
        action=action,
        from_status=submission.status,
        to_status=to,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_employee_id=getattr(actor, "employee_id", None),
        at=timezone.now(),
        note=note,
    )
    before = submission.status
    submission.status = to
    submission.save(update_fields=["status", "run", "locked_at", "exported_by", "exported_at"])
    audit_record(
        actor=actor,
        action=f"tpp.submission_{action}",
        obj=submission,
        summary=f"{submission.opd.code} {submission.year}-{submission.month:02d}",
        before={"status": before},
        after={"status": to, "run": submission.run_id},
        reason=note,
    )
    return step


def _locked(submission_id: int) -> TppSubmission:
    return TppSubmission.objects.select_for_update().select_related("opd").get(pk=submission_id)


def _expect(submission: TppSubmission, *statuses: str) -> None:
    if submission.status not in statuses:
        raise ValidationError(
            _("This step is not possible while the payment request is “%(status)s”.")
            % {"status": submission.get_status_display()}
        )


# --- the steps -----------------------------------------------------------------------------------


@transaction.atomic
def tpp_submission_open(*, actor: Any, opd: Opd, year: int, month: int) -> TppSubmission:
    """The OPD operator opens the month's payment request over the accepted run."""
    require_tpp_submission_role(actor, opd.pk, TPP_SUBMISSION_PREPARER_ROLES)
    run = TppRun.objects.filter(year=year, month=month, status=TppRun.Status.ACCEPTED).first()
    if run is None:
        raise ValidationError(
            _("%(month)s has no accepted TPP run yet: BKPSDM computes and accepts it first.")
            % {"month": month_label(year, month)}
        )
    if not run.results.filter(opd=opd).exists():
        raise ValidationError(_("The accepted run has nobody in this OPD."))
    if TppSubmission.objects.filter(opd=opd, year=year, month=month).exists():
        raise ValidationError(_("This OPD already has a payment request for the month."))
    submission = TppSubmission.objects.create(opd=opd, year=year, month=month, run=run)
    _step(submission, actor=actor, action=Action.OPEN, to=Status.DRAFT)
    return submission


def missing_adjustments(submission: TppSubmission) -> list[TppAdjustment]:
    """Corrections of earlier locked months due in this month for the OPD's people that the
    request's run does not include yet (it was computed before they were recorded)."""
    results = TppResult.objects.filter(run=submission.run, opd=submission.opd)
    included = {
        line["id"] for lines in results.values_list("lines", flat=True) for line in
        (lines or {}).get("adjustments", [])
    }  # fmt: skip
    due = TppAdjustment.objects.filter(
        target_year=submission.year,
        target_month=submission.month,
        employee_id__in=results.values("employee_id"),
    )
    return [a for a in due if a.pk not in included]


@transaction.atomic
def tpp_submission_ready(*, actor: Any, submission: TppSubmission, note: str) -> TppSubmission:
    """The operator has checked the list and marks it ready for the Kepala OPD."""
    submission = _locked(submission.pk)
    require_tpp_submission_role(actor, submission.opd_id, TPP_SUBMISSION_PREPARER_ROLES)
    _expect(submission, Status.DRAFT, Status.RETURNED)
    _four_eyes(actor, submission, Action.READY)
    errors = TppResult.objects.filter(run=submission.run, opd=submission.opd).exclude(error="")
    if errors.exists():
        raise ValidationError(
            _(
                "%(count)d employees of this OPD could not be computed; the month must be "
                "corrected and recomputed before it is paid."
            )
            % {"count": errors.count()}
        )
    if missing_adjustments(submission):
        raise ValidationError(
            _(
                "Corrections of an earlier locked month are due this month but are not in the "
                "run yet: BKPSDM must recompute the month first."
            )
        )
    _step(submission, actor=actor, action=Action.READY, to=Status.READY, note=note.strip())
    return submission


@transaction.atomic
def tpp_submission_approve(*, actor: Any, submission: TppSubmission, note: str) -> TppSubmission:
    """The Kepala OPD approves: the OPD-month is locked on the request's run from now on."""
    submission = _locked(submission.pk)
    require_tpp_submission_role(actor, submission.opd_id, TPP_SUBMISSION_APPROVER_ROLES)
    _expect(submission, Status.READY)
    _four_eyes(actor, submission, Action.APPROVE)
    if submission.locked_at is None:
        submission.locked_at = timezone.now()
    _step(submission, actor=actor, action=Action.APPROVE, to=Status.APPROVED, note=note.strip())
    return submission


@transaction.atomic
def tpp_submission_verify(*, actor: Any, submission: TppSubmission, note: str) -> TppSubmission:
    submission = _locked(submission.pk)
    require_tpp_submission_role(actor, submission.opd_id, TPP_SUBMISSION_VERIFIER_ROLES)
    _expect(submission, Status.APPROVED)
    _four_eyes(actor, submission, Action.VERIFY)
    _step(submission, actor=actor, action=Action.VERIFY, to=Status.VERIFIED, note=note.strip())
    return submission


@transaction.atomic
def tpp_submission_export(*, actor: Any, submission: TppSubmission, note: str) -> TppSubmission:
    """BKPSDM hands the verified request to BPKAD (the files are on the request's page)."""
    submission = _locked(submission.pk)
    require_tpp_submission_role(actor, submission.opd_id, TPP_SUBMISSION_VERIFIER_ROLES)
    _expect(submission, Status.VERIFIED)
    _four_eyes(actor, submission, Action.EXPORT)
    submission.exported_by = actor
    submission.exported_at = timezone.now()
    _step(submission, actor=actor, action=Action.EXPORT, to=Status.EXPORTED, note=note.strip())
    return submission


@transaction.atomic
def tpp_submission_return(*, actor: Any, submission: TppSubmission, reason: str) -> TppSubmission:
    """Send the request back to the OPD with a reason: the Kepala OPD while it waits for them,
    BKPSDM while it waits for verification or export. A locked month stays locked: the OPD
    fixes what can be fixed (signatures, bank accounts) and corrections of amounts go to the
    next month."""
    submission = _locked(submission.pk)
    if submission.status == Status.READY:
        roles = TPP_SUBMISSION_APPROVER_ROLES
    elif submission.status in (Status.APPROVED, Status.VERIFIED):
        roles = TPP_SUBMISSION_VERIFIER_ROLES
    else:
        _expect(submission, Status.READY, Status.APPROVED, Status.VERIFIED)
        raise AssertionError("unreachable")
    require_tpp_submission_role(actor, submission.opd_id, roles)
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("Say why the payment request is returned."))
    _four_eyes(actor, submission, Action.APPROVE if roles is TPP_SUBMISSION_APPROVER_ROLES else
               Action.VERIFY)  # fmt: skip
    _step(submission, actor=actor, action=Action.RETURN, to=Status.RETURNED, note=reason)
    return submission


# --- the lock, seen from the monthly run ------------------------------------------------------


def locked_submissions(year: int, month: int) -> list[TppSubmission]:
    return list(
        TppSubmission.objects.filter(year=year, month=month, locked_at__isnull=False)
        .select_related("opd")
        .order_by("opd__name")
    )


def is_locked(opd_id: int, year: int, month: int) -> bool:
    return TppSubmission.objects.filter(
        opd_id=opd_id, year=year, month=month, locked_at__isnull=False
    ).exists()


@dataclass(frozen=True)
class LockedOutcome:
    """What accepting a recompute did to the locked OPDs of its month."""

    opds: tuple[str, ...]
    adjustments: int
    total: Decimal


def locked_corrections_record(*, actor: Any, run: TppRun) -> LockedOutcome:
    """Called inside `tpp_run_accept` for the newly accepted `run`: every locked OPD keeps the
    results it was paid on, and each person there whose net the recompute changes (beyond the
    corrections already recorded for the month) gets a correction in the next month that is not
    locked for that OPD. Requests not yet locked move onto the new run; a request that was
    marked ready goes back to the OPD to be checked again."""
    now = timezone.now()
    locked = locked_submissions(run.year, run.month)
    created: list[TppAdjustment] = []
    for submission in locked:
        paid = {
            r.employee_id: r
            for r in TppResult.objects.filter(run=submission.run, opd=submission.opd)
        }
        new = {r.employee_id: r for r in run.results.filter(employee_id__in=list(paid))}
        earlier: dict[int, Decimal] = defaultdict(Decimal)
        for employee_id, amount in (
            TppAdjustment.objects.filter(
                source_year=run.year, source_month=run.month, opd=submission.opd
            )
            .values("employee_id")
            .annotate(total=Sum("amount"))
            .values_list("employee_id", "total")
        ):
            earlier[employee_id] = amount
        target = _open_month_after(submission.opd_id, run.year, run.month)
        for employee_id, paid_row in paid.items():
            row = new.get(employee_id)
            if row is None or row.error:
                continue  # no usable recomputed amount: nothing to correct automatically
            difference = row.net - paid_row.net - earlier[employee_id]
            if difference:
                created.append(
                    TppAdjustment(
                        employee_id=employee_id, opd_id=submission.opd_id,
                        source_year=run.year, source_month=run.month,
                        target_year=target[0], target_month=target[1], amount=difference,
                        paid_result=paid_row, corrected_result=row,
                        recorded_by=actor if getattr(actor, "pk", None) else None,
                        recorded_at=now,
                    )
                )  # fmt: skip
    TppAdjustment.objects.bulk_create(created)
    locked_ids = {s.pk for s in locked}
    for submission in TppSubmission.objects.select_for_update().filter(
        year=run.year, month=run.month
    ):
        if submission.pk in locked_ids or submission.run_id == run.pk:
            continue
        to = Status.DRAFT if submission.status == Status.READY else submission.status
        submission.run = run
        _step(
            submission,
            actor=actor,
            action=Action.RUN_REPLACED,
            to=to,
            note=_("Recompute #%(run)d accepted: check the list again.") % {"run": run.pk},
        )
    return LockedOutcome(
        opds=tuple(s.opd.name for s in locked),
        adjustments=len(created),
        total=sum((a.amount for a in created), Decimal(0)),
    )


def _open_month_after(opd_id: int, year: int, month: int) -> tuple[int, int]:
    """The first month after (year, month) not locked for the OPD."""
    year, month = _next_month(year, month)
    while is_locked(opd_id, year, month):
        year, month = _next_month(year, month)
    return year, month


def adjustments_for(
    year: int, month: int, employee_ids: Sequence[int]
) -> dict[int, list[TppAdjustment]]:
    """The corrections of earlier locked months to add to each employee's net this month."""
    found: dict[int, list[TppAdjustment]] = defaultdict(list)
    for adjustment in (
        TppAdjustment.objects.filter(
            target_year=year, target_month=month, employee_id__in=list(employee_ids)
        )
        .select_related("corrected_result")
        .order_by("source_year", "source_month", "pk")
    ):
        found[adjustment.employee_id].append(adjustment)
    return found


def adjustment_lines(adjustments: Iterable[TppAdjustment]) -> list[dict[str, Any]]:
    """The corrections as stored in a result's `lines["adjustments"]`."""
    return [
        {
            "id": a.pk,
            "month": f"{a.source_year}-{a.source_month:02d}",
            "rupiah": str(a.amount),
            "text": _adjustment_text(a),
        }
        for a in adjustments
    ]


def _adjustment_text(a: TppAdjustment) -> str:
    sign = "+" if a.amount > 0 else ""
    return (
        f"Koreksi TPP {month_label(a.source_year, a.source_month)} (periode terkunci, "
        f"hitung ulang #{a.corrected_result.run_id}): {sign}{format_rupiah(a.amount)}"
    )
