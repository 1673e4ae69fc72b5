"""Per-employee schedule exceptions: one employee's plan for one day, differing from their
group's schedule (a teacher on office hours for a training day, a nurse's roster entry, a day
off swapped for a Saturday). Entered by the OPD operator for their OPD's staff (BKPSDM for
everyone); read by the daily verdict (`attendance.schedule_exceptions_around`).
"""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from tepat.accounts import access
from tepat.audit.services import audit_record
from tepat.org.models import Employee, ScheduleGroup
from tepat.presence.models import ScheduleException, ScheduleVersion
from tepat.presence.tasks import days_rebuild_later
from tepat.rules.schedule import ScheduleError
from tepat.rules.schedule_data import schedule_from_data, shift_to_data

DAY_OFF = "libur"
PLAN_AHEAD_DAYS = 366  # how far ahead a plan may be entered: a year's roster at most


@dataclass(frozen=True)
class ShiftChoice:
    value: str
    """ "group code:shift code", or DAY_OFF."""
    label: str


def shift_choices(on: date) -> list[ShiftChoice]:
    """The day off, and every shift of every schedule version in force on `on`."""
    choices = [ShiftChoice(DAY_OFF, _("Day off"))]
    versions = (
        ScheduleVersion.objects.filter(valid_from__lte=on)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=on))
        .select_related("group")
        .order_by("group__name")
    )
    for version in versions:
        schedule = schedule_from_data(version.definition)
        shifts = {s.code: s for s in (*schedule.shifts, *(s for s in schedule.week if s))}
        for code, shift in shifts.items():
            choices.append(
                ShiftChoice(
                    f"{version.group.code}:{code}",
                    f"{version.group.name} · {shift.name} {shift.hours_label}",
                )
            )
    return choices


def _shift_data(choice: str, day: date) -> tuple[ScheduleGroup | None, dict[str, Any] | None]:
    """The group and the shift as stored, from the version in force on the day."""
    if choice == DAY_OFF:
        return None, None
    group_code, _sep, shift_code = choice.partition(":")
    version = (
        ScheduleVersion.objects.filter(group__code=group_code, valid_from__lte=day)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=day))
        .select_related("group")
        .first()
    )
    if version is None or not shift_code:
        raise ValidationError(
            {"shift": _("That schedule has no version in force on %(day)s.") % {"day": day}}
        )
    try:
        shift = schedule_from_data(version.definition).shift(shift_code)
    except ScheduleError as exc:
        raise ValidationError({"shift": exc.message}) from None
    return version.group, shift_to_data(shift)


def _rebuild_around(employee_id: int, day: date) -> None:
    """The day and its neighbours (a night shift closes the next morning) once committed;
    today and later are built by the nightly run."""
    days_rebuild_later(
        ((employee_id, day + timedelta(days=n)) for n in (-1, 0, 1)),
        before=timezone.localdate(),
    )


def _snapshot(exception: ScheduleException) -> dict[str, Any]:
    return {
        "employee": exception.employee_id,
        "day": exception.day.isoformat(),
        "group": exception.group.code if exception.group else None,
        "shift": exception.shift,
        "reason": exception.reason,
    }


@transaction.atomic
def schedule_exception_save(
    *, actor: Any, employee: Employee, day: date, shift: str, reason: str
) -> ScheduleException:
    """Set one employee's plan for one day (replacing an earlier one for that day)."""
    if not access.employees_schedule_plannable_by(actor, day).filter(pk=employee.pk).exists():
        raise PermissionDenied(_("You may not plan this employee's schedule."))
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason (e.g. the duty roster or letter).")})
    if day > timezone.localdate() + timedelta(days=PLAN_AHEAD_DAYS):
        raise ValidationError({"day": _("A plan may be entered at most a year ahead.")})
    group, shift_data = _shift_data(shift, day)
    existing = (
        ScheduleException.objects.select_for_update().filter(employee=employee, day=day).first()
    )
    before = _snapshot(existing) if existing else None
    exception = existing or ScheduleException(employee=employee, day=day)
    exception.group = group
    exception.shift = shift_data
    exception.reason = reason
    exception.created_by = actor
    exception.created_at = timezone.now()
    exception.save()
    audit_record(
        actor=actor,
        action="schedule_exception.save",
        obj=exception,
        summary=f"{employee.nip} {day.isoformat()} {(shift_data or {}).get('code', DAY_OFF)}",
        before=before,
        after=_snapshot(exception),
    )
    _rebuild_around(employee.pk, day)
    return exception


@transaction.atomic
def schedule_exception_remove(*, actor: Any, exception_id: int) -> None:
    """Drop an exception: the day goes back to the group's schedule."""
    exception = access.schedule_exception_for_planner(actor, exception_id)
    audit_record(
        actor=actor,
        action="schedule_exception.remove",
        obj=exception,
        summary=f"{exception.employee.nip} {exception.day.isoformat()}",
        before=_snapshot(exception),
    )
    employee_id, day = exception.employee_id, exception.day
    exception.delete()
    _rebuild_around(employee_id, day)
