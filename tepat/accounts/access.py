"""The one place that decides who may see and change which people and places.

Every view, API handler and export that reads employees, units or sites starts from a
queryset returned here, so a scoping bug has exactly one place to live. The role matrix
test walks every URL against these rules.
"""

from collections.abc import Callable, Iterable
from datetime import date
from functools import wraps
from typing import Any, Literal, ParamSpec, TypeVar

from django.core.exceptions import FieldError, PermissionDenied
from django.db import DatabaseError, transaction
from django.db.models import Exists, Model, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from tepat.accounts.models import OPD_SCOPED_ROLES, REGENCY_WIDE_ROLES, Role, User
from tepat.audit.attempts import scope_miss_note
from tepat.kinerja.models import DailyReport
from tepat.kinerja.policy import kinerja_policy_on
from tepat.org.models import Assignment, Employee, Opd, Unit, WorkSite
from tepat.presence.models import AbsenceRequest, AttendanceDay, Machine, ScheduleException
from tepat.rules.kinerja_policy import KinerjaPolicy
from tepat.tpp.models import TppResult, TppRun, TppSubmission

# Roles that may change organisation data; the auditor reads everything, changes nothing.
ORG_WRITER_ROLES = frozenset({Role.ADMIN_BKPSDM, Role.SUPERADMIN})
SITE_WRITER_ROLES = frozenset({Role.ADMIN_BKPSDM, Role.SUPERADMIN, Role.OPERATOR_OPD})

M = TypeVar("M", bound=Model)
P = ParamSpec("P")


class _ScopedQuerySet(QuerySet[Any]):
    """Mixed into every queryset this module returns: a ``get()`` that misses a record which
    exists, only outside the person's scope, notes the attempt for the audit trail
    (``tepat.audit.attempts``; written if the answer was the usual 404). Views keep their
    ``get_object_or_404`` and the ``*_for_user`` helpers; nothing else changes."""

    def get(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().get(*args, **kwargs)
        except self.model.DoesNotExist:
            _scope_miss(self.model, args, kwargs)
            raise


_scoped_classes: dict[type[QuerySet[Any]], type[QuerySet[Any]]] = {}


def scoped(queryset: QuerySet[M]) -> QuerySet[M]:
    """The queryset, with its ``get()`` noting an out-of-scope miss (for a selector that
    narrows a queryset of this module further)."""
    base = type(queryset)
    if issubclass(base, _ScopedQuerySet):
        return queryset
    cls = _scoped_classes.get(base)
    if cls is None:
        cls = type(f"Scoped{base.__name__}", (_ScopedQuerySet, base), {})
        _scoped_classes[base] = cls
    clone = queryset.all()
    clone.__class__ = cls
    return clone


def _scope_miss(model: type[Model], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    try:
        with transaction.atomic():  # a savepoint: a value the database refuses stays harmless
            unscoped = model._base_manager.filter(*args, **kwargs)
            found = list(unscoped.values_list("pk", flat=True)[:2])
    except (DatabaseError, FieldError, ValueError, TypeError, OverflowError):
        return  # a lookup only the narrowed queryset understands, or no valid id at all
    if len(found) == 1:
        scope_miss_note(model, found[0])


def _scoped_returns(fn: Callable[P, QuerySet[M]]) -> Callable[P, QuerySet[M]]:
    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> QuerySet[M]:
        return scoped(fn(*args, **kwargs))

    return wrapper


def _today() -> date:
    return timezone.localdate()


def current_assignments(on: date) -> QuerySet[Assignment]:
    return Assignment.objects.filter(
        Q(valid_to__isnull=True) | Q(valid_to__gt=on), valid_from__lte=on
    )


def subordinate_ids(employee_id: int, on: date) -> set[int]:
    """Direct and indirect subordinates on a day, walking the supervisor chain.

    One query per level of the hierarchy (a regency has 5–7), guarded against cycles that
    bad imported data could create.
    """
    found: set[int] = set()
    frontier = {employee_id}
    links = current_assignments(on)
    while frontier:
        level = set(links.filter(supervisor_id__in=frontier).values_list("employee_id", flat=True))
        level -= found | {employee_id}
        found |= level
        frontier = level
    return found


def is_atasan(user: Any, on: date | None = None) -> bool:
    if not user.is_authenticated or user.employee_id is None:
        return False
    return current_assignments(on or _today()).filter(supervisor_id=user.employee_id).exists()


@_scoped_returns
def employees_visible_to(user: Any, on: date | None = None) -> QuerySet[Employee]:
    """Employees the user may read, as of a day (default today)."""
    on = on or _today()
    if not user.is_authenticated or not user.is_active:
        return Employee.objects.none()
    if user.role in REGENCY_WIDE_ROLES:
        return Employee.objects.all()
    if user.role in OPD_SCOPED_ROLES:
        in_opd = current_assignments(on).filter(opd_id=user.opd_id).values("employee_id")
        return Employee.objects.filter(id__in=in_opd)
    if user.employee_id is None:
        return Employee.objects.none()
    ids = subordinate_ids(user.employee_id, on) | {user.employee_id}
    return Employee.objects.filter(id__in=ids)


@_scoped_returns
def opds_visible_to(user: Any) -> QuerySet[Opd]:
    if not user.is_authenticated or not user.is_active:
        return Opd.objects.none()
    if user.role in REGENCY_WIDE_ROLES:
        return Opd.objects.all()
    if user.role in OPD_SCOPED_ROLES:
        return Opd.objects.filter(id=user.opd_id)
    return Opd.objects.none()


@_scoped_returns
def units_visible_to(user: Any) -> QuerySet[Unit]:
    return Unit.objects.filter(opd__in=opds_visible_to(user))


@_scoped_returns
def sites_visible_to(user: Any) -> QuerySet[WorkSite]:
    return WorkSite.objects.filter(unit__in=units_visible_to(user))


def employee_for_user(user: Any, employee_id: int, on: date | None = None) -> Employee:
    """Fetch one employee the user may read; 404 (not 403) so ids of others do not leak."""
    try:
        return employees_visible_to(user, on).get(id=employee_id)
    except Employee.DoesNotExist:
        raise Http404(_("Employee not found.")) from None


def site_for_user(user: Any, site_id: int) -> WorkSite:
    try:
        return sites_visible_to(user).select_related("unit__opd").get(id=site_id)
    except WorkSite.DoesNotExist:
        raise Http404(_("Work site not found.")) from None


def require_site_writer(user: Any, site: WorkSite) -> None:
    if user.role not in SITE_WRITER_ROLES:
        raise PermissionDenied(_("Your role may not change work-site locations."))
    if user.role == Role.OPERATOR_OPD and site.unit.opd_id != user.opd_id:
        raise PermissionDenied(_("This work site belongs to another OPD."))


def require_role(user: Any, roles: frozenset[str]) -> None:
    if not user.is_authenticated or user.role not in roles:
        raise PermissionDenied(_("Your role may not open this page."))


def require_org_writer(user: User) -> None:
    require_role(user, ORG_WRITER_ROLES)


REVIEWER_ROLES = frozenset({Role.ADMIN_BKPSDM, Role.SUPERADMIN})
DEVICE_APPROVER_ROLES = frozenset({Role.OPERATOR_OPD, Role.ADMIN_BKPSDM, Role.SUPERADMIN})


@_scoped_returns
def employees_reviewable_by(user: Any, on: date | None = None) -> QuerySet[Employee]:
    """Whose flagged check-ins the user may accept or reject: BKPSDM everyone, a Kepala OPD
    their OPD, an atasan the people below them. Operators and auditors only look."""
    on = on or _today()
    if not user.is_authenticated or not user.is_active:
        return Employee.objects.none()
    if user.role in REVIEWER_ROLES:
        return Employee.objects.all()
    if user.role == Role.KEPALA_OPD:
        return employees_visible_to(user, on)
    if user.role == Role.ASN and user.employee_id is not None:
        return Employee.objects.filter(id__in=subordinate_ids(user.employee_id, on))
    return Employee.objects.none()


@_scoped_returns
def employees_device_approvable_by(user: Any, on: date | None = None) -> QuerySet[Employee]:
    """Whose second phone the user may approve: the OPD operator for their OPD, and BKPSDM."""
    if not user.is_authenticated or user.role not in DEVICE_APPROVER_ROLES:
        return Employee.objects.none()
    return employees_visible_to(user, on)


# The sanction actually decided (the SK) is recorded by BKPSDM, for anyone in the regency: it
# drives the TPP cut, so it is not left to the OPD that proposed it (issue #8).
SANCTION_RECORDER_ROLES = frozenset({Role.ADMIN_BKPSDM, Role.SUPERADMIN})


@_scoped_returns
def employees_sanctionable_by(user: Any, on: date | None = None) -> QuerySet[Employee]:
    """For whom the user may record or correct a decided disciplinary sanction."""
    if not user.is_authenticated or not user.is_active or user.role not in SANCTION_RECORDER_ROLES:
        return Employee.objects.none()
    return Employee.objects.all()


MACHINE_MANAGER_ROLES = frozenset({Role.OPERATOR_OPD, Role.ADMIN_BKPSDM, Role.SUPERADMIN})


@_scoped_returns
def machines_visible_to(user: Any) -> QuerySet[Machine]:
    """Attendance machines the user may see: regency-wide roles all of them (quarantined
    serials included), OPD operators and heads of OPD their OPD's, nobody else."""
    if not user.is_authenticated or not user.is_active:
        return Machine.objects.none()
    if user.role in REGENCY_WIDE_ROLES:
        return Machine.objects.all()
    if user.role in OPD_SCOPED_ROLES:
        return Machine.objects.filter(unit__opd_id=user.opd_id)
    return Machine.objects.none()


@_scoped_returns
def machines_manageable_by(user: Any) -> QuerySet[Machine]:
    """Machines whose commands, mappings, flags and imports the user may act on."""
    if not user.is_authenticated or user.role not in MACHINE_MANAGER_ROLES:
        return Machine.objects.none()
    return machines_visible_to(user)


# --- Absence requests (leave, permits, forgotten punches) -----------------------------------

ABSENCE_ENTRY_ROLES = frozenset({Role.OPERATOR_OPD, Role.ADMIN_BKPSDM, Role.SUPERADMIN})


@_scoped_returns
def absence_requests_visible_to(user: Any, on: date | None = None) -> QuerySet[AbsenceRequest]:
    return AbsenceRequest.objects.filter(employee__in=employees_visible_to(user, on))


def absence_request_for_user(user: Any, request_id: int) -> AbsenceRequest:
    try:
        return absence_requests_visible_to(user).select_related("employee").get(id=request_id)
    except AbsenceRequest.DoesNotExist:
        raise Http404(_("Request not found.")) from None


@_scoped_returns
def employees_absence_enterable_for(user: Any, on: date | None = None) -> QuerySet[Employee]:
    """For whom the user may file a request: themself, and (the paper-fallback case) the OPD
    operator for their OPD's staff and BKPSDM for everyone."""
    if not user.is_authenticated or not user.is_active:
        return Employee.objects.none()
    if user.role in ABSENCE_ENTRY_ROLES:
        return employees_visible_to(user, on)
    return (
        Employee.objects.filter(id=user.employee_id)
        if user.employee_id
        else Employee.objects.none()
    )


@_scoped_returns
def absence_requests_decidable_by(user: Any, on: date | None = None) -> QuerySet[AbsenceRequest]:
    """Pending requests waiting for this user's decision at the level they are at.

    Level 1 is the direct supervisor; when the direct supervisor is away on approved leave
    today, the next level up stands in (Plt). Level 2 is the supervisor's own supervisor.
    A Kepala OPD may decide any level for their OPD, BKPSDM for everyone. The service adds
    the four-eyes checks (never one's own request, never both levels).
    """
    on = on or _today()
    pending = AbsenceRequest.objects.filter(status=AbsenceRequest.Status.PENDING)
    if not user.is_authenticated or not user.is_active:
        return pending.none()
    if user.role in REVIEWER_ROLES:
        return pending
    if user.role == Role.KEPALA_OPD:
        return pending.filter(employee__in=employees_visible_to(user, on))
    if user.role != Role.ASN or user.employee_id is None:
        return pending.none()
    links = current_assignments(on)
    direct_reports = links.filter(supervisor_id=user.employee_id).values("employee_id")
    away = AbsenceRequest.objects.filter(
        status=AbsenceRequest.Status.APPROVED,
        first_day__lte=on,
        last_day__gte=on,
        starts_at__isnull=True,
    ).values("employee_id")
    second = links.filter(supervisor_id__in=direct_reports).values("employee_id")
    standing_in = links.filter(
        supervisor_id__in=direct_reports.filter(employee_id__in=away)
    ).values("employee_id")
    return pending.filter(
        Q(level_done=0, employee_id__in=direct_reports)
        | Q(level_done=0, employee_id__in=standing_in)
        | Q(level_done=1, levels_required=2, employee_id__in=second)
    )


# --- e-TPP ----------------------------------------------------------------------------------

TPP_ADMIN_ROLES = frozenset({Role.ADMIN_BKPSDM, Role.SUPERADMIN})
"""Who writes and approves TPP policies, starts monthly runs and accepts them."""


TPP_RUN_VIEWER_ROLES = REGENCY_WIDE_ROLES | OPD_SCOPED_ROLES


@_scoped_returns
def tpp_runs_visible_to(user: Any) -> QuerySet[TppRun]:
    """The monthly runs: regency-wide roles and OPD staff see the list (OPD staff then see
    only their OPD's results in it); an ASN sees only their own months."""
    if user.is_authenticated and user.is_active and user.role in TPP_RUN_VIEWER_ROLES:
        return TppRun.objects.all()
    return TppRun.objects.none()


@_scoped_returns
def tpp_results_visible_to(user: Any) -> QuerySet[TppResult]:
    """TPP results the user may read: everyone's for the regency, the OPD's for its operator
    and head (by the OPD the month was booked to), and one's own for every employee."""
    if not user.is_authenticated or not user.is_active:
        return TppResult.objects.none()
    if user.role in REGENCY_WIDE_ROLES:
        return TppResult.objects.all()
    own = Q(employee_id=user.employee_id) if user.employee_id else Q(pk__in=[])
    if user.role in OPD_SCOPED_ROLES:
        return TppResult.objects.filter(Q(opd_id=user.opd_id) | own)
    return TppResult.objects.filter(own)


def tpp_result_for_user(user: Any, result_id: int) -> TppResult:
    try:
        return (
            tpp_results_visible_to(user).select_related("employee", "opd", "run").get(id=result_id)
        )
    except TppResult.DoesNotExist:
        raise Http404(_("Result not found.")) from None


def tpp_run_for_user(user: Any, run_id: int) -> TppRun:
    try:
        return tpp_runs_visible_to(user).select_related("policy").get(id=run_id)
    except TppRun.DoesNotExist:
        raise Http404(_("Run not found.")) from None


# --- Per-employee schedule exceptions ---------------------------------------------------------

SCHEDULE_PLANNER_ROLES = frozenset({Role.OPERATOR_OPD, Role.ADMIN_BKPSDM, Role.SUPERADMIN})


@_scoped_returns
def employees_schedule_plannable_by(user: Any, on: date | None = None) -> QuerySet[Employee]:
    """For whom the user may enter schedule exceptions: the OPD operator for their OPD's
    staff, BKPSDM for everyone."""
    if not user.is_authenticated or not user.is_active or user.role not in SCHEDULE_PLANNER_ROLES:
        return Employee.objects.none()
    return employees_visible_to(user, on)


@_scoped_returns
def schedule_exceptions_visible_to(user: Any) -> QuerySet[ScheduleException]:
    """Planners see their scope's exceptions; the auditor reads all; nobody else any."""
    if user.is_authenticated and user.is_active and user.role == Role.AUDITOR:
        return ScheduleException.objects.all()
    return ScheduleException.objects.filter(employee__in=employees_schedule_plannable_by(user))


def schedule_exception_for_planner(user: Any, exception_id: int) -> ScheduleException:
    """One exception the user may change; 404 (not 403) so others' ids do not leak."""
    planned = ScheduleException.objects.filter(employee__in=employees_schedule_plannable_by(user))
    try:
        return planned.select_related("employee").get(id=exception_id)
    except ScheduleException.DoesNotExist:
        raise Http404(_("Schedule exception not found.")) from None


# --- e-Kinerja daily reports ---------------------------------------------------------------
# Who may decide a report follows the org chart: the report's employee's direct supervisor on
# the report's day, or, while that supervisor is away (leave in their attendance verdict
# today), the supervisor's own supervisor as Plt. Nobody decides on their own reports.

ReportDeciderRole = Literal["atasan", "plt"]


def supervisors_away(supervisor_ids: Iterable[int], today: date, policy: KinerjaPolicy) -> set[int]:
    """Of these supervisors, those on leave today (their attendance verdict says so)."""
    return set(
        AttendanceDay.objects.filter(
            employee_id__in=list(supervisor_ids),
            day=today,
            day_code__in=sorted(policy.review.plt_leave_day_codes),
        ).values_list("employee_id", flat=True)
    )


def _acting_for(user: Any, today: date) -> set[int]:
    """The user's direct subordinates who supervise others and are away today: the user may
    decide in their place (Plt)."""
    if user.employee_id is None:
        return set()
    direct = set(
        current_assignments(today)
        .filter(supervisor_id=user.employee_id)
        .values_list("employee_id", flat=True)
    )
    if not direct:
        return set()
    return supervisors_away(direct, today, kinerja_policy_on(today))


def report_decider_role(user: Any, report: DailyReport, today: date) -> ReportDeciderRole | None:
    """How the user may decide on the report: as its employee's atasan, as Plt, or not."""
    if not user.is_authenticated or user.employee_id is None:
        return None
    if report.employee_id == user.employee_id:
        return None
    supervisor_id = (
        current_assignments(report.day)
        .filter(employee_id=report.employee_id)
        .values_list("supervisor_id", flat=True)
        .first()
    )
    if supervisor_id is None:
        return None
    if supervisor_id == user.employee_id:
        return "atasan"
    if supervisor_id in _acting_for(user, today):
        return "plt"
    return None


def _supervised_by(supervisor_ids: Iterable[int]) -> Exists:
    """The report's employee had one of these supervisors on the report's day."""
    return Exists(
        Assignment.objects.filter(
            employee_id=OuterRef("employee_id"),
            supervisor_id__in=list(supervisor_ids),
            valid_from__lte=OuterRef("day"),
        ).filter(Q(valid_to__isnull=True) | Q(valid_to__gt=OuterRef("day")))
    )


@_scoped_returns
def reports_decidable_by(user: Any, today: date) -> QuerySet[DailyReport]:
    """Pending reports the user may decide (as atasan or Plt), oldest first."""
    if not user.is_authenticated or not user.is_active or user.employee_id is None:
        return DailyReport.objects.none()
    supervisors = {user.employee_id} | _acting_for(user, today)
    return (
        DailyReport.objects.filter(status=DailyReport.Status.PENDING)
        .filter(_supervised_by(supervisors))
        .exclude(employee_id=user.employee_id)
        .select_related("employee", "skp_result")
        .order_by("day", "employee__name", "start_time", "pk")
    )


# --- e-TPP payment requests (pengajuan) -------------------------------------------------------

TPP_SUBMISSION_PREPARER_ROLES = frozenset({Role.OPERATOR_OPD, Role.SUPERADMIN})
"""Who prepares and checks an OPD's payment request (the operator, for their own OPD)."""
TPP_SUBMISSION_APPROVER_ROLES = frozenset({Role.KEPALA_OPD, Role.SUPERADMIN})
"""Who approves it (the head of that OPD), which locks the OPD-month."""
TPP_SUBMISSION_VERIFIER_ROLES = TPP_ADMIN_ROLES
"""Who verifies it and exports it for BPKAD (BKPSDM)."""


@_scoped_returns
def tpp_submissions_visible_to(user: Any) -> QuerySet[TppSubmission]:
    """Payment requests: the regency's for regency-wide roles, the OPD's for its staff."""
    if not user.is_authenticated or not user.is_active:
        return TppSubmission.objects.none()
    if user.role in REGENCY_WIDE_ROLES:
        return TppSubmission.objects.all()
    if user.role in OPD_SCOPED_ROLES:
        return TppSubmission.objects.filter(opd_id=user.opd_id)
    return TppSubmission.objects.none()


def tpp_submission_for_user(user: Any, submission_id: int) -> TppSubmission:
    try:
        return (
            tpp_submissions_visible_to(user)
            .select_related("opd", "run", "run__policy")
            .get(id=submission_id)
        )
    except TppSubmission.DoesNotExist:
        raise Http404(_("Payment request not found.")) from None


def require_tpp_submission_role(user: Any, opd_id: int, roles: frozenset[str]) -> None:
    """The user holds one of `roles` and, for an OPD-scoped role, it is their own OPD."""
    require_role(user, roles)
    if user.role in OPD_SCOPED_ROLES and user.opd_id != opd_id:
        raise PermissionDenied(_("This payment request belongs to another OPD."))
