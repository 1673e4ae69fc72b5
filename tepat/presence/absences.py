"""Leave, permits, official trips and forgotten punches: filing, deciding, expiring.

The pure checks live in ``tepat.rules.leave``; this module gathers their inputs (the policy in
force, working days from the schedule and calendar, the cuti tahunan already taken), writes in
one transaction with an audit row, and after commit asks for the affected past days to be
rebuilt. An approved "lupa absen" becomes a new ledger event authored by the approver.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tepat.accounts.access import (
    absence_requests_decidable_by,
    current_assignments,
    employees_absence_enterable_for,
)
from tepat.audit.services import audit_record
from tepat.org.models import Employee, Unit
from tepat.presence.attendance import work_calendar
from tepat.presence.evidence import EvidenceRejected, evidence_store
from tepat.presence.models import (
    AbsenceDecision,
    AbsenceRequest,
    CheckinEvent,
    LeavePolicyVersion,
    PeriodLock,
    ScheduleVersion,
)
from tepat.presence.tasks import days_rebuild_later
from tepat.rules import leave
from tepat.rules.calendar import CalendarKind
from tepat.rules.nip import EmployeeKind, NipError, parse_nip
from tepat.rules.schedule import calendar_day, schedule_version_for
from tepat.rules.schedule_data import schedule_from_data

Status = AbsenceRequest.Status
LIVE = (Status.PENDING, Status.APPROVED)


# --- Policy -------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _shipped_leave_policy() -> leave.LeavePolicy:
    # A file inside the package: it does not change while the process runs.
    return leave.leave_policy_load()


def leave_policy_in_force(day: date) -> leave.LeavePolicy:
    version = LeavePolicyVersion.objects.filter(valid_from__lte=day).first()
    if version is None:
        return _shipped_leave_policy()
    return leave.leave_policy_from_data(version.definition)


@transaction.atomic
def leave_policy_version_save(*, actor: Any, definition: dict[str, Any]) -> LeavePolicyVersion:
    try:
        policy = leave.leave_policy_from_data(definition)
    except leave.LeaveError as exc:
        raise ValidationError(exc.message) from None
    version, _created = LeavePolicyVersion.objects.update_or_create(
        valid_from=policy.valid_from,
        defaults={"name": policy.name, "legal_basis": policy.regulation, "definition": definition},
    )
    audit_record(actor=actor, action="leave_policy.save", obj=version, after=definition)
    return version


@transaction.atomic
def period_lock(*, actor: Any, month: date, note: str = "") -> PeriodLock:
    """Fix a month once its TPP is computed: later changes to its days are kept aside as
    ``AttendanceDayChange`` rows for the next period instead of rewriting what was paid."""
    lock, created = PeriodLock.objects.get_or_create(
        month=month.replace(day=1),
        defaults={"locked_by": actor, "locked_at": timezone.now(), "note": note},
    )
    if created:
        audit_record(actor=actor, action="period.lock", obj=lock, summary=f"{lock.month:%m-%Y}")
    return lock


# --- Inputs for the pure checks -----------------------------------------------------------


def working_days_between(employee: Employee, first_day: date, last_day: date) -> set[date]:
    """The employee's working days in the range, by their schedule and calendar (a teacher's
    school holidays and an office's Saturdays are not working days)."""
    span = [first_day + timedelta(n) for n in range((last_day - first_day).days + 1)]
    assignment = (
        current_assignments(first_day)
        .filter(employee=employee)
        .select_related("unit")
        .only("schedule_group_id", "unit__kind")
        .first()
    )
    group_id = assignment.schedule_group_id if assignment else None
    schedules = [
        schedule_from_data(v.definition) for v in ScheduleVersion.objects.filter(group_id=group_id)
    ]
    if not schedules:
        return {d for d in span if d.weekday() < 5}  # no hours set yet: Monday to Friday
    kind: CalendarKind = (
        "school" if assignment and assignment.unit.kind == Unit.Kind.SEKOLAH else "office"
    )
    calendars = {year: work_calendar(kind, date(year, 7, 1)) for year in {d.year for d in span}}
    found = set()
    for d in span:
        try:
            schedule = schedule_version_for(schedules, d)
        except ValueError:
            continue  # no version covers the day: nothing to count
        if calendar_day(calendars[d.year], schedule, d).is_working_day:
            found.add(d)
    return found


def _kind(employee: Employee) -> EmployeeKind:
    return "PPPK" if employee.kind == Employee.Kind.PPPK else "PNS"


def appointed_on(employee: Employee) -> date:
    """TMT from the NIP (PNS: TMT CPNS month; PPPK: the appointment year)."""
    try:
        return parse_nip(employee.nip, today=timezone.localdate(), kind=_kind(employee)).appointed
    except NipError:
        return date(1900, 1, 1)  # an imported NIP that does not parse: do not block leave


def annual_leave_balance_for(
    employee: Employee, year: int, *, include_pending: bool = False
) -> leave.AnnualLeaveBalance:
    """The cuti tahunan balance from approved requests (and pending ones, when checking a new
    request, so two pending requests cannot spend the same days)."""
    statuses = LIVE if include_pending else (Status.APPROVED,)
    rows = AbsenceRequest.objects.filter(
        employee=employee, status__in=statuses, first_day__year__gte=year - 2
    )
    taken: dict[int, int] = {}
    for first_day, days in rows.filter(type="cuti_tahunan").values_list("first_day", "days"):
        taken[first_day.year] = taken.get(first_day.year, 0) + days
    besar = frozenset(
        rows.filter(type="cuti_besar").values_list("first_day__year", flat=True).distinct()
    )
    return leave.annual_leave_balance(
        year=year,
        kind=_kind(employee),
        appointed=appointed_on(employee),
        taken_by_year=taken,
        cuti_besar_years=besar,
        policy=leave_policy_in_force(date(year, 12, 31)),
    )


# --- Filing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AbsenceInput:
    """What the form or API parsed; the service decides whether it may be filed."""

    type: str
    first_day: date
    last_day: date
    reason: str
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    checkin_kind: str = ""
    checkin_at: datetime | None = None


@transaction.atomic
def absence_request_submit(
    *,
    actor: Any,
    employee: Employee,
    data: AbsenceInput,
    evidence: UploadedFile[bytes] | None = None,
    now: datetime | None = None,
) -> AbsenceRequest:
    """File a request for the employee. An operator filing for someone else is recorded as
    such (``on_behalf``) and shown that way to the approver."""
    now = now or timezone.now()
    if not employees_absence_enterable_for(actor).filter(pk=employee.pk).exists():
        raise PermissionDenied(_("You may not file requests for this employee."))
    # One employee's requests are filed one at a time, so two requests cannot both spend the
    # last days of the balance.
    Employee.objects.select_for_update().filter(pk=employee.pk).first()
    policy = leave_policy_in_force(data.first_day)
    first_day, last_day = _checked_window(data, now)
    if data.type not in policy.types:
        raise ValidationError(_("Unknown request type."))
    rule = policy.rule(data.type)
    if rule.counted_in == "calendar_days":
        days = (last_day - first_day).days + 1
    else:
        days = len(working_days_between(employee, first_day, last_day))
    remaining = None
    if data.type == "cuti_tahunan":
        balance = annual_leave_balance_for(employee, first_day.year, include_pending=True)
        remaining = balance.remaining
    problems = leave.leave_request_problems(
        leave.RequestFacts(
            type=data.type,
            kind=_kind(employee),
            first_day=first_day,
            last_day=last_day,
            days=days,
            appointed=appointed_on(employee),
            has_evidence=evidence is not None,
            partial_day=data.starts_at is not None,
            annual_remaining=remaining,
            same_month_count=_same_month_count(employee, data.type, first_day),
            overlapping=_overlapping(employee, data.type, first_day, last_day),
        ),
        policy,
    )
    if problems:
        raise ValidationError(list(problems))
    request = AbsenceRequest(
        employee=employee,
        type=data.type,
        first_day=first_day,
        last_day=last_day,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        checkin_kind=data.checkin_kind,
        checkin_at=data.checkin_at,
        days=days,
        reason=data.reason.strip(),
        levels_required=rule.levels_for(days),
        submitted_by=actor,
        on_behalf=actor.employee_id != employee.pk,
        submitted_at=now,
        expires_on=policy.expires_on(timezone.localdate(now)),
        policy=f"{policy.name} v{policy.version}",
    )
    if evidence is not None:
        try:
            stored = evidence_store(
                evidence, max_bytes=policy.evidence_max_bytes, owner_key=str(employee.pk)
            )
        except EvidenceRejected as exc:
            raise ValidationError({"evidence": exc.message}) from None
        request.evidence = stored.path
        request.evidence_type = stored.content_type
        request.evidence_sha256 = stored.sha256
    request.save()
    audit_record(
        actor=actor,
        action="absence.submit",
        obj=request,
        summary=f"{request.type} {leave.request_window_label(first_day, last_day)}",
        after={"on_behalf": request.on_behalf, "days": days, "evidence": request.evidence_sha256},
        reason=request.reason,
    )
    return request


def _checked_window(data: AbsenceInput, now: datetime) -> tuple[date, date]:
    if not data.reason.strip():
        raise ValidationError({"reason": _("A reason is required.")})
    if data.type == leave.CORRECTION:
        if data.checkin_kind not in CheckinEvent.Kind.values or data.checkin_at is None:
            raise ValidationError(_("Say which punch was forgotten (in or out) and its time."))
        if data.checkin_at > now:
            raise ValidationError(_("A forgotten punch cannot be in the future."))
        day = timezone.localdate(data.checkin_at)
        return day, day
    if data.checkin_kind or data.checkin_at:
        raise ValidationError(_("A punch time belongs only to a forgotten-punch request."))
    if (data.starts_at is None) != (data.ends_at is None):
        raise ValidationError(_("Give both the start and the end time, or neither."))
    if data.starts_at is not None and data.ends_at is not None:
        if data.first_day != data.last_day:
            raise ValidationError(_("A request by the hour covers a single day."))
        if data.ends_at <= data.starts_at:
            raise ValidationError(_("The end time must be after the start time."))
    if data.last_day < data.first_day:
        raise ValidationError(_("The last day is before the first day."))
    return data.first_day, data.last_day


def _same_month_count(employee: Employee, type_: str, day: date) -> int:
    return AbsenceRequest.objects.filter(
        employee=employee,
        type=type_,
        status__in=LIVE,
        first_day__year=day.year,
        first_day__month=day.month,
    ).count()


def _overlapping(
    employee: Employee, type_: str, first_day: date, last_day: date
) -> tuple[str, ...]:
    """Live requests on the same days. A forgotten punch only clashes with another forgotten
    punch; whole-day requests clash with each other."""
    rows = AbsenceRequest.objects.filter(
        employee=employee, status__in=LIVE, first_day__lte=last_day, last_day__gte=first_day
    )
    if type_ == leave.CORRECTION:
        rows = rows.filter(type=leave.CORRECTION)
    else:
        rows = rows.exclude(type=leave.CORRECTION)
    return tuple(
        f"{leave.REQUEST_LABELS.get(r.type, r.type)} "
        f"{leave.request_window_label(r.first_day, r.last_day)}"
        for r in rows.only("type", "first_day", "last_day")
    )


# --- Deciding -----------------------------------------------------------------------------


@transaction.atomic
def absence_request_decide(
    *, actor: Any, request_id: int, approve: bool, note: str, now: datetime | None = None
) -> AbsenceRequest:
    now = now or timezone.now()
    request = AbsenceRequest.objects.select_for_update().get(pk=request_id)
    if request.status != Status.PENDING:
        raise ValidationError(_("This request has already been decided."))
    if not absence_requests_decidable_by(actor).filter(pk=request.pk).exists():
        raise PermissionDenied(_("This request is not waiting for your decision."))
    if actor.employee_id == request.employee_id or actor.pk == request.submitted_by_id:
        raise ValidationError(_("You cannot decide a request you filed or that is about you."))
    level = request.level_done + 1
    if request.decisions.filter(actor=actor, decision=AbsenceDecision.Decision.APPROVE).exists():
        raise ValidationError(_("The second level must be decided by someone else."))
    if not approve and not note.strip():
        raise ValidationError({"note": _("Say why the request is rejected.")})
    AbsenceDecision.objects.create(
        request=request,
        level=level,
        decision=AbsenceDecision.Decision.APPROVE if approve else AbsenceDecision.Decision.REJECT,
        actor=actor,
        note=note.strip(),
        at=now,
    )
    if approve:
        request.level_done = level
        if level >= request.levels_required:
            request.status = Status.APPROVED
            request.decided_at = now
            if request.type == leave.CORRECTION:
                request.correction_event = _correction_event(request, actor, now)
    else:
        request.status = Status.REJECTED
        request.decided_at = now
    request.save(update_fields=["level_done", "status", "decided_at", "correction_event"])
    audit_record(
        actor=actor,
        action="absence.approve" if approve else "absence.reject",
        obj=request,
        summary=f"level {level}: {request.status}",
        reason=note.strip(),
    )
    if request.status == Status.APPROVED:
        _rebuild_after_commit(request)
    return request


def absence_requests_bulk_decide(
    *, actor: Any, request_ids: Iterable[int], approve: bool, note: str
) -> tuple[int, list[str]]:
    """Decide many requests; each is its own transaction, so one refusal does not undo the
    others. Returns how many were decided and the Indonesian reason for each that was not."""
    done, problems = 0, []
    for request_id in request_ids:
        try:
            absence_request_decide(actor=actor, request_id=request_id, approve=approve, note=note)
        except (ValidationError, PermissionDenied, AbsenceRequest.DoesNotExist) as exc:
            message = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            problems.append(f"#{request_id}: {message or _('not found')}")
        else:
            done += 1
    return done, problems


@transaction.atomic
def absence_request_withdraw(*, actor: Any, request_id: int) -> AbsenceRequest:
    request = AbsenceRequest.objects.select_for_update().get(pk=request_id)
    if actor.pk != request.submitted_by_id and actor.employee_id != request.employee_id:
        raise PermissionDenied(_("Only the employee or who filed it may withdraw a request."))
    if request.status != Status.PENDING:
        raise ValidationError(_("Only a request still waiting for approval can be withdrawn."))
    _close(request, AbsenceDecision.Decision.WITHDRAW, Status.WITHDRAWN, actor, timezone.now())
    return request


def absence_requests_expire(*, today: date | None = None) -> int:
    """Expire requests nobody decided in time (policy ``pending_expiry_days``). Idempotent."""
    today = today or timezone.localdate()
    now = timezone.now()
    count = 0
    for request_id in AbsenceRequest.objects.filter(
        status=Status.PENDING, expires_on__lte=today
    ).values_list("pk", flat=True):
        with transaction.atomic():
            request = AbsenceRequest.objects.select_for_update().get(pk=request_id)
            if request.status == Status.PENDING:
                _close(request, AbsenceDecision.Decision.EXPIRE, Status.EXPIRED, None, now)
                count += 1
    return count


def _close(request: AbsenceRequest, decision: str, status: str, actor: Any, now: datetime) -> None:
    AbsenceDecision.objects.create(
        request=request, level=request.level_done + 1, decision=decision, actor=actor, at=now
    )
    request.status = status
    request.decided_at = now
    request.save(update_fields=["status", "decided_at"])
    audit_record(actor=actor, action=f"absence.{decision}", obj=request, summary=status)


def _correction_event(request: AbsenceRequest, actor: Any, now: datetime) -> CheckinEvent:
    """The forgotten punch, as a new ledger event authored by the approver."""
    assert request.checkin_at is not None
    return CheckinEvent.objects.create(
        idempotency_key=f"correction:{request.pk}",
        employee_id=request.employee_id,
        kind=request.checkin_kind,
        taken_at=request.checkin_at,
        received_at=now,
        source=CheckinEvent.Source.CORRECTION,
        status=CheckinEvent.Status.ACCEPTED,
        author=actor,
        reason=request.reason,
        message=_("Forgotten punch approved (request #%(id)s)") % {"id": request.pk},
        payload={"absence_request": request.pk, "submitted_by": request.submitted_by_id},
    )


def _rebuild_after_commit(request: AbsenceRequest) -> None:
    """Past and present days change now; future days get their verdict when they come."""
    today = timezone.localdate()
    last = min(request.last_day, today)
    span = range((last - request.first_day).days + 1)
    days_rebuild_later((request.employee_id, request.first_day + timedelta(n)) for n in span)
