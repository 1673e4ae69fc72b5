"""Reads of the organisation, always starting from a queryset the access layer scoped."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from tepat.accounts.access import current_assignments
from tepat.org.models import Assignment, Employee, Opd, Unit, WorkSite


def employees_with_position(qs: QuerySet[Employee], on: date) -> QuerySet[Employee]:
    """Attach ``current`` (a one-item list) holding the assignment in force on ``on``."""
    return qs.prefetch_related(
        Prefetch(
            "assignments",
            queryset=current_assignments(on).select_related("unit", "opd", "supervisor"),
            to_attr="current",
        )
    )


def employees_search(
    qs: QuerySet[Employee], *, on: date, text: str = "", opd_id: int | None = None
) -> QuerySet[Employee]:
    text = text.strip()
    if text:
        qs = qs.filter(Q(nip__startswith=text.replace(" ", "")) | Q(name__icontains=text))
    if opd_id:
        qs = qs.filter(id__in=current_assignments(on).filter(opd_id=opd_id).values("employee_id"))
    return employees_with_position(qs, on).order_by("name", "nip")


def employee_history(employee: Employee) -> QuerySet[Assignment]:
    return employee.assignments.select_related(
        "unit", "opd", "supervisor", "schedule_group"
    ).order_by("-valid_from")


def employee_sites(employee: Employee, on: date) -> list[WorkSite]:
    """Where the employee may check in: their unit's sites and the unit's alternative sites."""
    unit_id = (
        current_assignments(on)
        .filter(employee=employee)
        .order_by("-valid_from", "-id")
        .values_list("unit_id", flat=True)
        .first()
    )
    return [] if unit_id is None else unit_sites(unit_id)


def unit_sites(unit_id: int) -> list[WorkSite]:
    """The active sites of a unit and its alternative sites, sorted by name.

    A unit without a site of its own (a bidang inside the head office) uses the nearest
    ancestor unit that has one.
    """
    unit: Unit | None = Unit.objects.filter(pk=unit_id).first()
    if unit is None:
        return []
    alternatives = list(unit.alternative_sites.filter(active=True))
    own: list[WorkSite] = []
    for _depth in range(10):  # guards against a cycle in bad data
        if unit is None:
            break
        own = list(unit.sites.filter(active=True))
        if own:
            break
        unit = unit.parent
    return sorted({*own, *alternatives}, key=lambda site: (site.name, site.pk))


def sites_by_unit() -> dict[int, list[WorkSite]]:
    """``unit_sites`` of every unit at once, in three queries (what the check-in path keeps)."""
    parent: dict[int, int | None] = dict(Unit.objects.order_by().values_list("id", "parent_id"))
    active = {site.pk: site for site in WorkSite.objects.filter(active=True).order_by()}
    own: dict[int, list[WorkSite]] = defaultdict(list)
    for site in active.values():
        own[site.unit_id].append(site)
    alternatives: dict[int, list[WorkSite]] = defaultdict(list)
    links = Unit.alternative_sites.through.objects.order_by().values_list("unit_id", "worksite_id")
    for unit_id, site_id in links:
        if site_id in active:
            alternatives[unit_id].append(active[site_id])
    out: dict[int, list[WorkSite]] = {}
    for unit_id in parent:
        found: list[WorkSite] = []
        at: int | None = unit_id
        for _depth in range(10):  # as in unit_sites: guards against a cycle in bad data
            if at is None:
                break
            found = own.get(at, [])
            if found:
                break
            at = parent.get(at)
        out[unit_id] = sorted(
            {*found, *alternatives.get(unit_id, [])}, key=lambda site: (site.name, site.pk)
        )
    return out


def sites_flagged(qs: QuerySet[WorkSite]) -> QuerySet[WorkSite]:
    return qs.filter(Q(quality__in=WorkSite.FLAGGED) | Q(location_approximate=True))


@dataclass(frozen=True)
class OrgCounts:
    opds: int
    units: int
    schools: int
    sites: int
    sites_flagged: int
    employees: int
    pns: int
    pppk: int


def org_counts(
    opds: QuerySet[Opd],
    units: QuerySet[Unit],
    sites: QuerySet[WorkSite],
    employees: QuerySet[Employee],
) -> OrgCounts:
    by_kind: dict[str, Any] = employees.filter(active=True).aggregate(
        total=Count("id"),
        pns=Count("id", filter=Q(kind=Employee.Kind.PNS)),
        pppk=Count("id", filter=Q(kind=Employee.Kind.PPPK)),
    )
    return OrgCounts(
        opds=opds.count(),
        units=units.count(),
        schools=units.filter(kind=Unit.Kind.SEKOLAH).count(),
        sites=sites.count(),
        sites_flagged=sites_flagged(sites).count(),
        employees=by_kind["total"],
        pns=by_kind["pns"],
        pppk=by_kind["pppk"],
    )
