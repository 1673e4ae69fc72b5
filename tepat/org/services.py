"""Writes to the organisation: each function is one transaction with one audit row."""

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from tepat.audit.services import audit_record
from tepat.org.models import (
    PNS_GOLONGAN,
    PPPK_GOLONGAN,
    Assignment,
    Employee,
    Regency,
    ScheduleGroup,
    Unit,
    WorkSite,
    WorkSiteLocationChange,
)
from tepat.presence import machines
from tepat.rules import sitecheck
from tepat.rules.nip import EmployeeKind, NipError, parse_nip


@dataclass(frozen=True)
class Position:
    """Everything an assignment row says about who an employee is from a date."""

    unit: Unit
    jabatan: str
    jabatan_kind: str
    kelas_jabatan: int
    golongan: str
    supervisor: Employee | None = None
    schedule_group: ScheduleGroup | None = None


def golongan_validate(kind: str, golongan: str) -> None:
    allowed = PNS_GOLONGAN if kind == Employee.Kind.PNS else PPPK_GOLONGAN
    if golongan not in allowed:
        raise ValidationError(
            _("Golongan %(golongan)s is not valid for %(kind)s (allowed: %(allowed)s).")
            % {"golongan": golongan, "kind": kind, "allowed": ", ".join(allowed)}
        )


def position_validate(kind: str, position: Position, employee: Employee | None) -> None:
    golongan_validate(kind, position.golongan)
    if not 1 <= position.kelas_jabatan <= 17:
        raise ValidationError(_("Job class must be between 1 and 17."))
    if (
        employee is not None
        and position.supervisor is not None
        and position.supervisor.pk == employee.pk
    ):
        raise ValidationError(_("An employee cannot be their own supervisor."))


def _assignment_open(employee: Employee, start: date, position: Position, note: str) -> Assignment:
    return Assignment.objects.create(
        employee=employee,
        valid_from=start,
        unit=position.unit,
        opd_id=position.unit.opd_id,
        supervisor=position.supervisor,
        jabatan=position.jabatan,
        jabatan_kind=position.jabatan_kind,
        kelas_jabatan=position.kelas_jabatan,
        golongan=position.golongan,
        schedule_group=position.schedule_group,
        note=note,
    )


def _assignment_snapshot(a: Assignment) -> dict[str, Any]:
    return {
        "valid_from": a.valid_from.isoformat(),
        "unit": a.unit.code,
        "supervisor": a.supervisor.nip if a.supervisor else None,
        "jabatan": a.jabatan,
        "kelas_jabatan": a.kelas_jabatan,
        "golongan": a.golongan,
        "schedule_group": a.schedule_group.code if a.schedule_group else None,
    }


@transaction.atomic
def employee_create(
    *,
    actor: Any,
    nip: str,
    name: str,
    kind: EmployeeKind,
    start: date,
    position: Position,
    today: date,
    title_prefix: str = "",
    title_suffix: str = "",
    bank_name: str = "",
    bank_account: str = "",
) -> Employee:
    """Register a new employee with their first assignment, validating the NIP. The bank
    account is personal data: it stays out of the audit entry."""
    try:
        parsed = parse_nip(nip, today=today, kind=kind)
    except NipError as exc:
        raise ValidationError(exc.message) from None
    position_validate(kind, position, None)
    if Employee.objects.filter(nip=parsed.nip).exists():
        raise ValidationError(_("NIP %(nip)s is already registered.") % {"nip": parsed.nip})
    employee = Employee.objects.create(
        nip=parsed.nip,
        name=name.strip(),
        title_prefix=title_prefix.strip(),
        title_suffix=title_suffix.strip(),
        kind=kind,
        gender=parsed.gender,
        birth_date=parsed.birth_date,
        bank_name=bank_name.strip(),
        bank_account=bank_account,
    )
    assignment = _assignment_open(employee, start, position, note="")
    machines.users_move_queue(
        actor=actor, employee=employee, left=None, joined=position.unit, start=start
    )
    audit_record(
        actor=actor,
        action="employee.create",
        obj=employee,
        summary=f"{employee.nip} {employee.full_name}",
        after=_assignment_snapshot(assignment),
    )
    return employee


@transaction.atomic
def employee_transfer(
    *, actor: Any, employee: Employee, start: date, position: Position, reason: str
) -> Assignment:
    """Mutasi, promotion or new supervisor from ``start``: close the open row, open a new one.

    The open row must have started before ``start``: rewriting history is done with a
    correction of the earlier transfer, never by silently moving a boundary.
    """
    if not reason.strip():
        raise ValidationError(_("A reason is required for a transfer."))
    position_validate(employee.kind, position, employee)
    current = (
        Assignment.objects.select_for_update(of=("self",))
        .select_related("unit", "supervisor", "schedule_group")
        .filter(employee=employee, valid_to__isnull=True)
        .first()
    )
    if current is None:
        raise ValidationError(_("This employee has no open assignment."))
    if start <= current.valid_from:
        raise ValidationError(
            _("The new assignment must start after %(date)s.")
            % {"date": current.valid_from.strftime("%d-%m-%Y")}
        )
    before = _assignment_snapshot(current)
    current.valid_to = start
    current.save(update_fields=["valid_to"])
    new = _assignment_open(employee, start, position, note=reason.strip()[:255])
    machines.users_move_queue(
        actor=actor, employee=employee, left=current.unit, joined=position.unit, start=start
    )
    audit_record(
        actor=actor,
        action="employee.transfer",
        obj=employee,
        summary=f"{employee.nip} → {position.unit.code} {start.isoformat()}",
        before=before,
        after=_assignment_snapshot(new),
        reason=reason,
    )
    return new


@transaction.atomic
def employee_transfer_cancel(*, actor: Any, employee: Employee, reason: str, today: date) -> None:
    """Cancel a transfer that has not taken effect yet (its first day is after ``today``):
    the employee's previous assignment runs on, and the machine commands held for the move's
    first day are cancelled (kept, with the reason). The cancelled row's contents go to the
    audit trail; a transfer already in force is corrected by another transfer."""
    if not reason.strip():
        raise ValidationError(_("A reason is required to cancel a transfer."))
    future = (
        Assignment.objects.select_for_update(of=("self",))
        .select_related("unit", "supervisor", "schedule_group")
        .filter(employee=employee, valid_to__isnull=True)
        .first()
    )
    if future is None or future.valid_from <= today:
        raise ValidationError(_("This employee has no transfer that is still to come."))
    previous = (
        Assignment.objects.select_for_update(of=("self",))
        .select_related("unit")
        .filter(employee=employee, valid_to=future.valid_from)
        .first()
    )
    if previous is None:
        raise ValidationError(_("This is the employee's first assignment, not a transfer."))
    cancelled = _assignment_snapshot(future)
    start, unit = future.valid_from, future.unit
    future.delete()
    previous.valid_to = None
    previous.save(update_fields=["valid_to"])
    commands = machines.user_commands_cancel(
        actor=actor, employee=employee, start=start, reason=reason
    )
    audit_record(
        actor=actor,
        action="employee.transfer_cancel",
        obj=employee,
        summary=f"{employee.nip} ↛ {unit.code} {start.isoformat()}",
        before=cancelled,
        after={"machine_commands_cancelled": commands},
        reason=reason,
    )


# --- Work sites -------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _boundaries_load(regency_id: int, boundary_json: str, kecamatan_json: str) -> Any:
    return sitecheck.load_boundaries(
        json.loads(boundary_json), json.loads(kecamatan_json), code_property="kode"
    )


def regency_boundaries() -> Any | None:
    regency = Regency.objects.first()
    if regency is None or not regency.boundary or not regency.kecamatan_boundaries:
        return None
    return _boundaries_load(
        regency.pk,
        json.dumps(regency.boundary, sort_keys=True),
        json.dumps(regency.kecamatan_boundaries, sort_keys=True),
    )


def worksite_quality_apply(site: WorkSite, boundaries: Any) -> None:
    """Set the site's location-check fields (not saved) from the boundary check."""
    if site.shape == WorkSite.Shape.POLYGON:
        site.quality = WorkSite.Quality.UNCHECKED
        site.quality_message = ""
        site.quality_distance_m = None
        return
    check = sitecheck.check_site(
        boundaries,
        sitecheck.SiteLocation(
            lat=float(site.latitude) if site.latitude is not None else None,
            lng=float(site.longitude) if site.longitude is not None else None,
            kecamatan_code=site.kecamatan_code or None,
        ),
    )
    site.quality = check.status
    site.quality_distance_m = round(check.distance_m) if check.distance_m else None
    site.quality_message = check.message[:255]


def worksites_quality_refresh(sites: Any = None) -> dict[str, int]:
    """Re-run the boundary check on sites (default: every circle site not verified on site)."""
    boundaries = regency_boundaries()
    if boundaries is None:
        return {}
    if sites is None:
        sites = WorkSite.objects.exclude(quality=WorkSite.Quality.VERIFIED)
    counts: dict[str, int] = {}
    changed = []
    for site in sites:
        worksite_quality_apply(site, boundaries)
        counts[site.quality] = counts.get(site.quality, 0) + 1
        changed.append(site)
    WorkSite.objects.bulk_update(
        changed, ["quality", "quality_distance_m", "quality_message"], batch_size=500
    )
    return counts


@transaction.atomic
def worksite_relocate(
    *,
    actor: Any,
    site: WorkSite,
    latitude: Decimal,
    longitude: Decimal,
    method: str,
    reason: str,
    accuracy_m: float | None = None,
    max_accuracy_m: float = 50.0,
    ip_address: str | None = None,
) -> WorkSiteLocationChange:
    """Move a site's centre, keeping the old position in an append-only history.

    A position taken with the phone standing at the site marks the site as verified, but
    only when the phone's accuracy is good enough to be worth more than the old data.
    """
    if not reason.strip():
        raise ValidationError(_("A reason is required to move a work site."))
    if not (Decimal(-90) <= latitude <= Decimal(90) and Decimal(-180) <= longitude <= Decimal(180)):
        raise ValidationError(_("The coordinates are not valid."))
    phone = method == WorkSiteLocationChange.Method.PHONE
    if phone and (accuracy_m is None or accuracy_m > max_accuracy_m):
        raise ValidationError(
            _(
                "The phone's position is too imprecise (%(acc)s m; at most %(max)s m). "
                "Wait outdoors until the accuracy improves."
            )
            % {
                "acc": "?" if accuracy_m is None else round(accuracy_m),
                "max": round(max_accuracy_m),
            }
        )
    site = WorkSite.objects.select_for_update().get(pk=site.pk)
    move = WorkSiteLocationChange.objects.create(
        site=site,
        author=actor,
        method=method,
        old_latitude=site.latitude,
        old_longitude=site.longitude,
        new_latitude=latitude.quantize(Decimal("0.000001")),
        new_longitude=longitude.quantize(Decimal("0.000001")),
        accuracy_m=accuracy_m,
        reason=reason.strip(),
    )
    before = {
        "latitude": str(site.latitude),
        "longitude": str(site.longitude),
        "quality": site.quality,
    }
    site.latitude = move.new_latitude
    site.longitude = move.new_longitude
    site.location_source = f"{method}:{actor.username}"
    boundaries = regency_boundaries()
    if boundaries is not None:
        worksite_quality_apply(site, boundaries)
    if phone and site.quality == WorkSite.Quality.OK:
        site.quality = WorkSite.Quality.VERIFIED
    site.save()
    audit_record(
        actor=actor,
        action="worksite.relocate",
        obj=site,
        summary=f"{site.name}: {site.latitude}, {site.longitude}",
        before=before,
        after={
            "latitude": str(site.latitude),
            "longitude": str(site.longitude),
            "quality": site.quality,
        },
        reason=reason,
        ip_address=ip_address,
    )
    return move
