"""Reads for the e-TPP pages: totals per OPD, the difference a recompute makes per person,
and an employee's accepted months. Scoping comes from `tepat.accounts.access`."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum

from tepat.org.models import Assignment, Regency
from tepat.tpp.inputs import month_bounds
from tepat.tpp.models import TppResult, TppRun, TppSubmission, TppSubmissionStep
from tepat.tpp.nominatif import TAX_CODE, NominatifRow, NominatifSheet, Signatory


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


# --- the daftar nominatif of a payment request ------------------------------------------------

_ZERO = Decimal(0)


def nominatif_row_from_stored(result: TppResult, *, jabatan: str = "") -> NominatifRow:
    """A stored result as a row of the daftar nominatif (as `nominatif_row_from_result` does
    for the rules core's result in continuity mode). The bank account is the employee's as
    registered now (a corrected account is fixed by returning the request, not by a recompute)."""
    lines = result.lines or {}
    kelas = "/".join(
        dict.fromkeys(str(s["kelas_jabatan"]) for s in lines.get("basic_segments", []))
    )
    withholdings = lines.get("withholdings", [])
    tax = sum((Decimal(w["rupiah"]) for w in withholdings if w["code"] == TAX_CODE), _ZERO)
    return NominatifRow(
        nip=result.employee.nip,
        name=result.employee.full_name,
        golongan=result.golongan,
        kelas=kelas or str(result.kelas_jabatan),
        jabatan=jabatan,
        basic=result.basic,
        discipline_deduction_percent=result.discipline_deduction_percent,
        productivity_shortfall_percent=(
            100 - result.productivity_percent if result.eligible and result.days_in_post else _ZERO
        ),
        discipline_paid=result.discipline_paid,
        productivity_paid=result.productivity_paid,
        sanction_cut=result.sanction_cut,
        plt=result.plt_paid,
        gross=result.gross,
        tax=tax,
        withholdings=tuple(
            (w["label"], Decimal(w["rupiah"])) for w in withholdings if w["code"] != TAX_CODE
        ),
        net=result.net,
        adjustment=result.adjustment,
        bank_name=result.employee.bank_name,
        bank_account=result.employee.bank_account,
    )


def jabatan_on(employee_ids: list[int], day: Any) -> dict[int, str]:
    """Each employee's post (jabatan) on a day, or the last one held before it."""
    found: dict[int, str] = {}
    for employee_id, jabatan in (
        Assignment.objects.filter(employee_id__in=employee_ids, valid_from__lte=day)
        .order_by("valid_from")
        .values_list("employee_id", "jabatan")
    ):
        found[employee_id] = jabatan
    return found


def _signatory(step: TppSubmissionStep | None, role: str) -> Signatory:
    if step is None or step.actor is None:
        return Signatory(role)
    employee = step.actor_employee
    if employee is not None:
        return Signatory(role, employee.full_name, employee.nip)
    return Signatory(role, step.actor.get_full_name() or step.actor.username)


def submission_sheet(submission: TppSubmission) -> NominatifSheet:
    """The daftar nominatif of a payment request: its OPD's paid results, signed by the
    operator who checked it and the Kepala OPD who approved it (blank until they have)."""
    results = list(submission_results(submission))
    _first, last = month_bounds(submission.year, submission.month)
    posts = jabatan_on([r.employee_id for r in results], last)
    steps = submission.steps.select_related("actor", "actor_employee").order_by("at", "pk")
    prepared = steps.filter(action=TppSubmissionStep.Action.READY).last()
    approved = steps.filter(action=TppSubmissionStep.Action.APPROVE).last()
    run = submission.run
    return NominatifSheet(
        regency=Regency.objects.values_list("name", flat=True).first() or "",
        opd=submission.opd.name,
        year=submission.year,
        month=submission.month,
        policy_label=str(run.policy),
        rows=tuple(
            nominatif_row_from_stored(r, jabatan=posts.get(r.employee_id, "")) for r in results
        ),
        signatories=(
            _signatory(prepared, "Pembuat Daftar (Operator OPD)"),
            _signatory(approved, f"Kepala {submission.opd.name}"),
        ),
    )
