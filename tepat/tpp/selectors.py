"""Reads for the e-TPP pages: totals per OPD, the difference a recompute makes per person,
and an employee's accepted months. Scoping comes from `tepat.accounts.access`."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum

from tepat.tpp.models import TppResult, TppRun, TppSubmission


def opd_totals(results: QuerySet[TppResult]) -> list[dict[str, Any]]:
    """Per OPD: employees, errors, gross, withholdings and net."""
    return [
        dict(row)
        for row in results.values("opd_id", "opd__code", "opd__name")
        .annotate(
            employees=Count("id"),
            errors=Count("id", filter=~Q(error="")),
            gross=Sum("gross"),
            withholdings=Sum("withholdings"),
            net=Sum("net"),
        )
        .order_by("opd__name")
    ]


@dataclass(frozen=True)
class ResultChange:
    """One person whose month differs between the accepted run and the recompute."""

    employee_id: int
    name: str
    nip: str
    opd_id: int
    old_net: Decimal | None
    new_net: Decimal | None
    removed: tuple[str, ...]
    """Explanation lines only in the accepted result."""
    added: tuple[str, ...]
    """Explanation lines only in the recompute."""

    @property
    def difference(self) -> Decimal:
        return (self.new_net or Decimal(0)) - (self.old_net or Decimal(0))


def run_changes(run: TppRun, visible: QuerySet[TppResult]) -> list[ResultChange]:
    """The people whose net or explanation a recompute changes, against the accepted run it
    would replace; `visible` is the user's scope from `access` (two queries in all)."""
    if run.previous_id is None:
        return []
    fields = ("employee_id", "employee__name", "employee__nip", "opd_id", "net", "explanation")
    new = {r["employee_id"]: r for r in visible.filter(run=run).values(*fields)}
    old = {r["employee_id"]: r for r in visible.filter(run_id=run.previous_id).values(*fields)}
    changes = []
    for employee_id in sorted(set(new) | set(old)):
        a, b = old.get(employee_id), new.get(employee_id)
        if a and b and a["net"] == b["net"] and a["explanation"] == b["explanation"]:
            continue
        either = b or a
        assert either is not None
        old_lines = list(a["explanation"]) if a else []
        new_lines = list(b["explanation"]) if b else []
        changes.append(
            ResultChange(
                employee_id=employee_id,
                name=either["employee__name"],
                nip=either["employee__nip"],
                opd_id=either["opd_id"],
                old_net=a["net"] if a else None,
                new_net=b["net"] if b else None,
                removed=tuple(line for line in old_lines if line not in new_lines),
                added=tuple(line for line in new_lines if line not in old_lines),
            )
        )
    return changes


def accepted_results_of(employee_id: int) -> list[TppResult]:
    """An employee's months that count, newest first: the accepted run of each month, except
    where the OPD's payment request locked the month on an earlier run (what was paid)."""
    paid_runs = TppSubmission.objects.filter(locked_at__isnull=False).values_list(
        "run_id", "opd_id"
    )
    locked = set(paid_runs)
    rows = (
        TppResult.objects.filter(employee_id=employee_id)
        .filter(Q(run__status=TppRun.Status.ACCEPTED) | Q(run_id__in={r for r, _o in locked}))
        .select_related("run", "run__policy", "opd")
        .order_by("-run__year", "-run__month", "-run_id")
    )
    by_month: dict[tuple[int, int], TppResult] = {}
    for row in rows:
        key = (row.run.year, row.run.month)
        if (row.run_id, row.opd_id) in locked:
            by_month[key] = row
        elif row.run.status == TppRun.Status.ACCEPTED:
            by_month.setdefault(key, row)
    return [by_month[key] for key in sorted(by_month, reverse=True)]


def submission_results(submission: TppSubmission) -> QuerySet[TppResult]:
    """The results a payment request pays: its run's, for its OPD, by name."""
    return (
        TppResult.objects.filter(run_id=submission.run_id, opd_id=submission.opd_id)
        .select_related("employee")
        .order_by("employee__name", "employee_id")
    )
