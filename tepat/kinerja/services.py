"""Writes for e-Kinerja. Each is one transaction with its audit row(s); the rules core decides,
these only gather, store and record. Refusals are `django.core.exceptions.ValidationError`
(shown to the user, 422 in the API) or `PermissionDenied` (403)."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from tepat.accounts import access
from tepat.accounts.models import User
from tepat.audit.services import audit_record
from tepat.kinerja import attachments, selectors
from tepat.kinerja.models import (
    DailyReport,
    KinerjaPolicyVersion,
    MonthlyEvaluation,
    ReportDecision,
    Skp,
    SkpIndicator,
    SkpResult,
)
from tepat.kinerja.policy import kinerja_policy_on
from tepat.org.models import Employee
from tepat.rules import kinerja as rules
from tepat.rules.kinerja_policy import (
    KinerjaPolicyError,
    Rating,
    kinerja_policy_from_yaml,
    kinerja_policy_validate,
)
from tepat.uploads import CleanFile


class IdempotencyConflict(Exception):
    """A client id already used for a different report."""


def _require_own(actor: Any, employee_id: int) -> None:
    if getattr(actor, "employee_id", None) != employee_id:
        raise PermissionDenied(_("Only the employee may change their own reports and plan."))


# --- policy ------------------------------------------------------------------------------------


@transaction.atomic
def kinerja_policy_save(*, actor: Any, definition: str) -> KinerjaPolicyVersion:
    """Store a policy version; refused unless it reads and validates."""
    try:
        policy = kinerja_policy_from_yaml(definition)
    except KinerjaPolicyError as exc:
        raise ValidationError(exc.message) from None
    errors = kinerja_policy_validate(policy)
    if errors:
        raise ValidationError(errors)
    version, _created = KinerjaPolicyVersion.objects.update_or_create(
        valid_from=policy.valid_from,
        defaults={
            "name": policy.name,
            "version": policy.version,
            "regulation": policy.regulation,
            "definition": definition,
        },
    )
    audit_record(
        actor=actor,
        action="kinerja.policy_save",
        obj=version,
        summary=policy.label,
        after={"definition": definition},
    )
    return version


# --- SKP ---------------------------------------------------------------------------------------


@transaction.atomic
def skp_create(*, actor: Any, employee: Employee, year: int, copy_previous: bool = True) -> Skp:
    """Start the year's plan; with `copy_previous`, from last year's results and indicators.
    The cascade links are not copied: they pointed at the supervisor's plan of last year."""
    _require_own(actor, employee.pk)
    if Skp.objects.filter(employee=employee, year=year).exists():
        raise ValidationError(_("A plan for %(year)s already exists.") % {"year": year})
    previous = (
        Skp.objects.filter(employee=employee, year=year - 1).first() if copy_previous else None
    )
    skp = Skp.objects.create(employee=employee, year=year, copied_from=previous)
    if previous is not None:
        for result in previous.results.prefetch_related("indicators"):
            copy = SkpResult.objects.create(skp=skp, order=result.order, text=result.text)
            SkpIndicator.objects.bulk_create(
                SkpIndicator(result=copy, text=i.text, target=i.target, unit=i.unit)
                for i in result.indicators.all()
            )
    audit_record(
        actor=actor,
        action="kinerja.skp_create",
        obj=skp,
        after={"year": year, "copied_from": previous.pk if previous else None},
    )
    return skp


@dataclass(frozen=True)
class IndicatorInput:
    text: str
    target: Decimal
    unit: str


@transaction.atomic
def skp_result_add(
    *,
    actor: Any,
    skp: Skp,
    text: str,
    indicators: Sequence[IndicatorInput],
    intervensi: SkpResult | None = None,
) -> SkpResult:
    _require_own(actor, skp.employee_id)
    if not skp.editable:
        raise ValidationError(_("The plan can no longer be changed."))
    if not text.strip():
        raise ValidationError(_("Describe the planned result."))
    if not indicators:
        raise ValidationError(_("A planned result needs at least one indicator with a target."))
    for indicator in indicators:
        if not indicator.text.strip() or not indicator.unit.strip() or indicator.target <= 0:
            raise ValidationError(
                _("Each indicator needs a description, a target above 0 and a unit.")
            )
    if (
        intervensi is not None
        and not selectors.supervisor_results(skp.employee, skp.year)
        .filter(pk=intervensi.pk)
        .exists()
    ):
        raise ValidationError(
            _("The linked result is not one of your supervisor's results for this year.")
        )
    result = SkpResult.objects.create(
        skp=skp, order=skp.results.count() + 1, text=text.strip(), intervensi=intervensi
    )
    SkpIndicator.objects.bulk_create(
        SkpIndicator(result=result, text=i.text.strip(), target=i.target, unit=i.unit.strip())
        for i in indicators
    )
    audit_record(
        actor=actor,
        action="kinerja.skp_result_add",
        obj=result,
        after={
            "text": result.text,
            "intervensi": intervensi.pk if intervensi else None,
            "indicators": [[i.text, str(i.target), i.unit] for i in indicators],
        },
    )
    return result


@transaction.atomic
def skp_result_delete(*, actor: Any, result: SkpResult) -> None:
    _require_own(actor, result.skp.employee_id)
    if not result.skp.editable:
        raise ValidationError(_("The plan can no longer be changed."))
    if result.reports.exists():
        raise ValidationError(_("Reports already serve this result; it cannot be removed."))
    audit_record(
        actor=actor, action="kinerja.skp_result_delete", obj=result, before={"text": result.text}
    )
    result.delete()


@transaction.atomic
def skp_submit(*, actor: Any, skp: Skp) -> Skp:
    _require_own(actor, skp.employee_id)
    if not skp.editable:
        raise ValidationError(_("The plan was already submitted."))
    if not skp.results.exists():
        raise ValidationError(_("Add at least one planned result before submitting."))
    found = selectors.assignment_on(skp.employee_id, timezone.localdate())
    if found is None or found.supervisor_id is None:
        raise ValidationError(_("You have no direct supervisor to agree the plan."))
    skp.status = Skp.Status.SUBMITTED
    skp.supervisor_id = found.supervisor_id
    skp.submitted_at = timezone.now()
    skp.save(update_fields=["status", "supervisor", "submitted_at"])
    audit_record(
        actor=actor, action="kinerja.skp_submit", obj=skp, after={"supervisor": found.supervisor_id}
    )
    return skp


@transaction.atomic
def skp_decide(*, actor: Any, skp: Skp, agree: bool, reason: str = "") -> Skp:
    """The supervisor agrees the plan, or returns it with a reason."""
    if skp.status != Skp.Status.SUBMITTED or skp.supervisor_id is None:
        raise ValidationError(_("This plan is not waiting for a decision."))
    if actor.employee_id != skp.supervisor_id or actor.employee_id == skp.employee_id:
        raise PermissionDenied(_("Only the direct supervisor may agree this plan."))
    if not agree and not reason.strip():
        raise ValidationError(_("A reason is required."))
    skp.status = Skp.Status.AGREED if agree else Skp.Status.RETURNED
    skp.decided_at = timezone.now()
    skp.decided_by = actor
    skp.return_reason = "" if agree else reason.strip()
    skp.save(update_fields=["status", "decided_at", "decided_by", "return_reason"])
    audit_record(
        actor=actor,
        action="kinerja.skp_agree" if agree else "kinerja.skp_return",
        obj=skp,
        after={"status": skp.status},
        reason=reason,
    )
    return skp


# --- daily reports -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportInput:
    client_id: UUID
    day: date
    activity: str
    start_time: time | None = None
    end_time: time | None = None
    minutes: int | None = None
    skp_result_id: int | None = None
    output: str = ""
    quantity: Decimal = Decimal(1)
    unit: str = ""
    attachment: bytes | None = None
    written_at: datetime | None = None


@dataclass(frozen=True)
class ReportOutcome:
    report: DailyReport
    created: bool


def _same_report(report: DailyReport, data: ReportInput) -> bool:
    return (
        report.day == data.day
        and report.activity == data.activity.strip()
        and report.start_time == data.start_time
        and report.end_time == data.end_time
        and (data.start_time is not None or report.minutes == data.minutes)
        and report.skp_result_id == data.skp_result_id
    )


def _validate(
    employee: Employee,
    data: ReportInput,
    exclude_id: int | None,
    *,
    submitted_at: datetime,
    now: datetime,
) -> rules.ReportCheck:
    if not data.activity.strip():
        raise ValidationError(_("Describe the activity."))
    if data.quantity < 0:
        raise ValidationError(_("The quantity cannot be negative."))
    if (
        data.skp_result_id is not None
        and not selectors.results_for_reports(employee, data.day)
        .filter(pk=data.skp_result_id)
        .exists()
    ):
        raise ValidationError(_("The SKP result is not in your plan for that year."))
    policy = kinerja_policy_on(data.day)
    others = DailyReport.objects.filter(employee=employee, day=data.day).exclude(
        status=DailyReport.Status.REJECTED
    )
    if exclude_id is not None:
        others = others.exclude(pk=exclude_id)
    rows = others.values_list("minutes", "approved_minutes", "status", "start_time", "end_time")
    spans = [
        rules.ReportSpan(
            approved if status == DailyReport.Status.APPROVED and approved is not None else minutes,
            start,
            end,
        )
        for minutes, approved, status, start, end in rows
    ]
    check = rules.report_check(
        rules.ReportDraft(
            day=data.day,
            start=data.start_time,
            end=data.end_time,
            minutes=data.minutes,
            day_code=selectors.day_code(employee.pk, data.day),
        ),
        spans,
        policy,
        submitted_at=submitted_at,
        now=now,
        zone=selectors.employee_zone(employee.pk, data.day),
    )
    if check.errors:
        raise ValidationError(list(check.errors))
    return check


def _attachment(raw: bytes | None) -> CleanFile | None:
    if not raw:
        return None
    try:
        return attachments.attachment_clean(raw)
    except attachments.AttachmentRejected as exc:
        raise ValidationError(exc.message) from None


def _snapshot(report: DailyReport) -> dict[str, Any]:
    return {
        "day": report.day.isoformat(),
        "start": report.start_time.isoformat() if report.start_time else None,
        "end": report.end_time.isoformat() if report.end_time else None,
        "minutes": report.minutes,
        "skp_result": report.skp_result_id,
        "activity": report.activity,
        "output": report.output,
        "quantity": str(report.quantity),
        "unit": report.unit,
        "attachment": bool(report.attachment),
        "late": report.late,
        "status": report.status,
    }


def report_create(
    *, actor: Any, employee: Employee, data: ReportInput, source: str, now: datetime | None = None
) -> ReportOutcome:
    """File a report. The same `client_id` again (an offline phone resending) answers with the
    stored report; a different report under a used id is an IdempotencyConflict."""
    _require_own(actor, employee.pk)
    now = now or timezone.now()
    existing = DailyReport.objects.filter(client_id=data.client_id).first()
    if existing is not None:
        if existing.employee_id != employee.pk or not _same_report(existing, data):
            raise IdempotencyConflict
        return ReportOutcome(existing, created=False)
    clean = _attachment(data.attachment)
    try:
        with transaction.atomic():
            check = _validate(employee, data, None, submitted_at=now, now=now)
            report = DailyReport(
                client_id=data.client_id,
                employee=employee,
                day=data.day,
                start_time=data.start_time,
                end_time=data.end_time,
                minutes=check.minutes,
                skp_result_id=data.skp_result_id,
                activity=data.activity.strip(),
                output=data.output.strip(),
                quantity=data.quantity,
                unit=data.unit.strip(),
                late=check.late,
                source=source,
                received_at=now,
                written_at=data.written_at,
            )
            if clean is not None:
                report.attachment = attachments.attachment_store(
                    employee.pk, str(data.client_id), clean
                )
                report.attachment_type = clean.content_type
            report.save()
            audit_record(
                actor=actor, action="kinerja.report_create", obj=report, after=_snapshot(report)
            )
    except IntegrityError:
        # Two copies of one offline item raced each other; the first one stored wins.
        existing = DailyReport.objects.filter(client_id=data.client_id).first()
        if existing is None or existing.employee_id != employee.pk:
            raise
        return ReportOutcome(existing, created=False)
    return ReportOutcome(report, created=True)


@transaction.atomic
def report_update(
    *, actor: Any, report: DailyReport, data: ReportInput, now: datetime | None = None
) -> DailyReport:
    """Change a report while it waits for review; lateness stays as first filed."""
    _require_own(actor, report.employee_id)
    report = DailyReport.objects.select_for_update().get(pk=report.pk)
    if report.status != DailyReport.Status.PENDING:
        raise ValidationError(_("Only a report waiting for review can be changed."))
    now = now or timezone.now()
    before = _snapshot(report)
    check = _validate(report.employee, data, report.pk, submitted_at=report.received_at, now=now)
    report.day = data.day
    report.start_time = data.start_time
    report.end_time = data.end_time
    report.minutes = check.minutes
    report.late = report.late or check.late
    report.skp_result_id = data.skp_result_id
    report.activity = data.activity.strip()
    report.output = data.output.strip()
    report.quantity = data.quantity
    report.unit = data.unit.strip()
    clean = _attachment(data.attachment)
    if clean is not None:
        report.attachment = attachments.attachment_store(
            report.employee_id, str(report.client_id), clean
        )
        report.attachment_type = clean.content_type
    report.save()
    audit_record(
        actor=actor,
        action="kinerja.report_update",
        obj=report,
        before=before,
        after=_snapshot(report),
    )
    return report


@transaction.atomic
def report_delete(*, actor: Any, report: DailyReport) -> None:
    _require_own(actor, report.employee_id)
    report = DailyReport.objects.select_for_update().get(pk=report.pk)
    if report.status != DailyReport.Status.PENDING:
        raise ValidationError(_("Only a report waiting for review can be withdrawn."))
    audit_record(actor=actor, action="kinerja.report_delete", obj=report, before=_snapshot(report))
    report.delete()


def _decide_one(
    *, actor: Any, report: DailyReport, decision: str, reason: str, minutes: int | None, today: date
) -> DailyReport:
    role = access.report_decider_role(actor, report, today)
    if role is None:
        raise PermissionDenied(
            _("Only the employee's direct supervisor (or the acting one) may decide.")
        )
    report = DailyReport.objects.select_for_update().get(pk=report.pk)
    if report.status != DailyReport.Status.PENDING:
        raise ValidationError(_("This report was already decided."))
    reason = reason.strip()
    approved: int | None = None
    if decision == ReportDecision.Decision.REJECT:
        if not reason:
            raise ValidationError(_("A reason is required to reject a report."))
        report.status = DailyReport.Status.REJECTED
    elif decision == ReportDecision.Decision.ADJUST:
        if minutes is None or not 0 <= minutes < report.minutes:
            raise ValidationError(
                _("Adjusted minutes must be fewer than the %(n)s minutes claimed.")
                % {"n": report.minutes}
            )
        if not reason:
            raise ValidationError(_("A reason is required to adjust the minutes."))
        report.status = DailyReport.Status.APPROVED
        approved = minutes
    elif decision == ReportDecision.Decision.APPROVE:
        report.status = DailyReport.Status.APPROVED
    else:
        raise ValidationError(_("Unknown decision."))
    report.approved_minutes = approved
    report.decided_by = actor
    report.decided_at = timezone.now()
    report.decision_reason = reason
    report.decided_as_plt = role == "plt"
    report.save(
        update_fields=[
            "status", "approved_minutes", "decided_by", "decided_at", "decision_reason",
            "decided_as_plt", "updated_at",
        ]
    )  # fmt: skip
    ReportDecision.objects.create(
        report=report,
        decision=decision,
        minutes_claimed=report.minutes,
        minutes_approved=report.effective_minutes
        if report.status == DailyReport.Status.APPROVED
        else None,
        reason=reason,
        reviewer=actor,
        as_plt=role == "plt",
    )
    audit_record(
        actor=actor,
        action=f"kinerja.report_{decision}",
        obj=report,
        summary=_("as acting supervisor (Plt)") if role == "plt" else "",
        after={
            "status": report.status,
            "approved_minutes": report.effective_minutes,
            "plt": role == "plt",
        },
        reason=reason,
    )
    return report


@transaction.atomic
def report_decide(
    *, actor: Any, report: DailyReport, decision: str, reason: str = "", minutes: int | None = None
) -> DailyReport:
    """Approve, approve with fewer minutes (adjust) or reject one report; then the month is
    evaluated again."""
    today = timezone.localdate()
    decided = _decide_one(
        actor=actor, report=report, decision=decision, reason=reason, minutes=minutes, today=today
    )
    month_evaluation_store(
        employee=decided.employee, year=decided.day.year, month=decided.day.month
    )
    return decided


@transaction.atomic
def reports_bulk_approve(*, actor: Any, reports: Iterable[DailyReport]) -> int:
    """Approve many pending reports (a day's or a person's) at once; each one is checked and
    audited on its own. Returns how many were approved."""
    today = timezone.localdate()
    months: set[tuple[int, int, int]] = set()
    count = 0
    for report in reports:
        _decide_one(
            actor=actor,
            report=report,
            decision=ReportDecision.Decision.APPROVE,
            reason="",
            minutes=None,
            today=today,
        )
        months.add((report.employee_id, report.day.year, report.day.month))
        count += 1
    for employee_id, year, month in sorted(months):
        month_evaluation_store(
            employee=Employee.objects.get(pk=employee_id), year=year, month=month
        )
    return count


# --- the month ---------------------------------------------------------------------------------


def _evaluation_values(result: rules.KinerjaResult) -> dict[str, Any]:
    """What a stored evaluation keeps of the rules' result (the ratings are kept as rated)."""
    return {
        "approved_minutes": result.approved_minutes,
        "excluded_minutes": result.excluded_minutes,
        "pending_minutes": result.pending_minutes,
        "rejected_minutes": result.rejected_minutes,
        "target_minutes": result.target_minutes,
        "capaian_percent": result.capaian_percent,
        "realisation_percent": result.realisation_percent,
        "predicate": result.predicate or "",
        "exemption": result.exemption,
        "method": result.method,
        "productivity_percent": result.productivity_percent,
        "policy_name": result.policy_name,
        "policy_version": result.policy_version,
        "rules_version": result.rules_version,
        "explanation": list(result.explanation),
    }


def month_evaluation_store(*, employee: Employee, year: int, month: int) -> MonthlyEvaluation:
    """Evaluate the month with the policy in force and store it with the versions used.
    Derived data, rebuilt at will: not audited (the decisions that feed it are)."""
    result = selectors.month_facts(employee, year, month).result
    evaluation, _created = MonthlyEvaluation.objects.update_or_create(
        employee=employee,
        year=year,
        month=month,
        defaults={**_evaluation_values(result), "computed_at": timezone.now()},
    )
    return evaluation


def _large_run_settings() -> None:
    """PostgreSQL, for the current transaction only: memory enough to sum a province's month in
    one hash table instead of spilling to disk, and no JIT (seconds of compiling for queries
    that run once a month)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '128MB'")
            cursor.execute("SET LOCAL jit = off")


@transaction.atomic
def months_evaluation_store(*, year: int, month: int, batch_size: int = 2000) -> int:
    """Evaluate and store the month for everyone in post in it (the monthly run before TPP):
    gathered by `selectors.months_gather` in a fixed number of queries, evaluated by the same
    rules as `month_evaluation_store`, written as bulk upserts in one transaction (the
    supervisors' ratings on existing rows are kept). Returns how many were stored."""
    _large_run_settings()
    policy, months = selectors.months_gather(year, month)
    results = rules.kinerja_months_evaluate(list(months.values()), policy)
    now = timezone.now()
    values = [_evaluation_values(result) for result in results]
    if not values:
        return 0
    rows = [
        MonthlyEvaluation(employee_id=employee_id, year=year, month=month, computed_at=now, **v)
        for employee_id, v in zip(months, values, strict=True)
    ]
    MonthlyEvaluation.objects.bulk_create(
        rows,
        batch_size=batch_size,
        update_conflicts=True,
        unique_fields=["employee", "year", "month"],
        update_fields=[*values[0], "computed_at"],
    )
    return len(rows)


@transaction.atomic
def month_rate(
    *, actor: Any, employee: Employee, year: int, month: int, hasil_kerja: Rating, perilaku: Rating
) -> MonthlyEvaluation:
    """The direct supervisor rates the month's hasil kerja and perilaku kerja."""
    first, _last = selectors.month_bounds(year, month)
    found = selectors.assignment_on(employee.pk, first) or selectors.assignment_on(
        employee.pk, timezone.localdate()
    )
    if found is None or found.supervisor_id is None or found.supervisor_id != actor.employee_id:
        raise PermissionDenied(_("Only the direct supervisor may rate this month."))
    evaluation, _created = MonthlyEvaluation.objects.get_or_create(
        employee=employee,
        year=year,
        month=month,
        defaults={"method": "", "computed_at": timezone.now()},
    )
    before = {"hasil_kerja": evaluation.hasil_kerja, "perilaku": evaluation.perilaku}
    evaluation.hasil_kerja = hasil_kerja
    evaluation.perilaku = perilaku
    evaluation.rated_by = actor
    evaluation.rated_at = timezone.now()
    evaluation.save(update_fields=["hasil_kerja", "perilaku", "rated_by", "rated_at"])
    evaluation = month_evaluation_store(employee=employee, year=year, month=month)
    audit_record(
        actor=actor,
        action="kinerja.month_rate",
        obj=evaluation,
        before=before,
        after={"hasil_kerja": hasil_kerja, "perilaku": perilaku, "predicate": evaluation.predicate},
    )
    return evaluation


# --- reminders ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reminder:
    supervisor_id: int
    pending: int
    oldest: date
    emailed: bool


def review_reminders_send(*, now: datetime | None = None) -> list[Reminder]:
    """Remind each supervisor of the reports waiting on them for longer than the policy allows:
    by email when their account has an address (the review queue marks the same reports as
    waiting too long in the app). Emails go out after the run's reads, one per supervisor."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    policy = kinerja_policy_on(today)
    waiting: dict[int, list[DailyReport]] = {}
    for report in selectors.overdue_pending(now, policy).select_related("employee"):
        found = selectors.assignment_on(report.employee_id, report.day)
        if found is not None and found.supervisor_id is not None:
            waiting.setdefault(found.supervisor_id, []).append(report)
    away = access.supervisors_away(waiting, today, policy)
    if away:
        # A supervisor on leave: the reminder goes to whoever stands in (the next level up).
        for supervisor_id in sorted(away):
            found = selectors.assignment_on(supervisor_id, today)
            if found is not None and found.supervisor_id is not None:
                waiting.setdefault(found.supervisor_id, []).extend(waiting.pop(supervisor_id))
    users = {
        u.employee_id: u for u in User.objects.filter(employee_id__in=list(waiting), is_active=True)
    }
    reminders: list[Reminder] = []
    for supervisor_id, reports in sorted(waiting.items()):
        user = users.get(supervisor_id)
        oldest = min(r.day for r in reports)
        emailed = False
        if user is not None and user.email:
            try:
                send_mail(
                    subject=_("Tepat: %(n)s work reports wait for your review")
                    % {"n": len(reports)},
                    message=_(
                        "%(n)s daily work reports of your team have waited %(days)s days or more "
                        "for your decision (the oldest is for %(oldest)s). Open Tepat, "
                        "Work reports to review: %(path)s"
                    )
                    % {
                        "n": len(reports),
                        "days": policy.review.reminder_after_days,
                        "oldest": f"{oldest:%d-%m-%Y}",
                        "path": reverse("kinerja:review_queue"),
                    },
                    from_email=None,
                    recipient_list=[user.email],
                )
            except OSError:  # SMTP down: the in-app queue still shows them
                emailed = False
            else:
                emailed = True
        reminders.append(Reminder(supervisor_id, len(reports), oldest, emailed))
    return reminders
