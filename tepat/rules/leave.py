"""Leave and absence requests: what an employee may ask for, and the cuti tahunan balance.

`leave_request_problems(facts, policy)` lists, in Indonesian, every reason a request cannot be
filed (wrong employee kind, too long, evidence missing, not enough balance...). An empty tuple
means it may go to the supervisor. `annual_leave_balance(...)` applies the PP 11/2017 carry-over
(6 days from last year, 24 days after two whole years unused) and explains itself line by line.

All numbers are policy data (`policies/leave_pp11_2017.yaml`), never constants here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal, get_args

import yaml

from tepat.rules.formatting import format_day
from tepat.rules.nip import EmployeeKind
from tepat.rules.policy_node import PolicyNode
from tepat.rules.verdict import ABSENCE_LABELS, ABSENCE_TYPES, PARTIAL_ABSENCE_TYPES

POLICY_DIR = Path(__file__).resolve().parent / "policies"
DEFAULT_POLICY = "leave_pp11_2017"

CORRECTION = "lupa_absen"
"""A forgotten punch: approved, it becomes an operator event in the ledger, not an absence."""
REQUEST_TYPES: tuple[str, ...] = (*ABSENCE_TYPES, CORRECTION)
REQUEST_LABELS: Mapping[str, str] = {
    **dict(ABSENCE_LABELS.items()),
    CORRECTION: "Lupa absen (koreksi presensi)",
}

CountedIn = Literal["working_days", "calendar_days"]
EMPLOYEE_KINDS: tuple[EmployeeKind, ...] = get_args(EmployeeKind)


class LeaveError(ValueError):
    """Policy data that cannot be used. `message` is Indonesian."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class RequestTypeRule:
    type: str
    employees: frozenset[EmployeeKind]
    counted_in: CountedIn
    max_days: int | None
    """None: no own limit (cuti tahunan is limited by the balance)."""
    approval_levels: int
    article: str
    max_days_pppk: int | None = None
    min_service_years: int = 0
    evidence_from_days: int | None = None
    """Evidence is required once the request spans this many days; None: never required."""
    second_level_from_days: int | None = None
    partial_day: bool = False
    blocks_annual_leave: bool = False
    max_per_month: int | None = None

    @property
    def label(self) -> str:
        return REQUEST_LABELS[self.type]

    def limit_for(self, kind: EmployeeKind) -> int | None:
        if kind == "PPPK" and self.max_days_pppk is not None:
            return self.max_days_pppk
        return self.max_days

    def levels_for(self, days: int) -> int:
        if self.second_level_from_days is not None and days >= self.second_level_from_days:
            return max(self.approval_levels, 2)
        return self.approval_levels


@dataclass(frozen=True)
class AnnualLeaveRule:
    entitlement_days: int
    min_service_years: int
    carry_max_days: int
    two_years_unused_max_days: int
    article: str


@dataclass(frozen=True)
class LeavePolicy:
    name: str
    version: str
    regulation: str
    valid_from: date
    pending_expiry_days: int
    evidence_max_bytes: int
    annual: Mapping[EmployeeKind, AnnualLeaveRule]
    types: Mapping[str, RequestTypeRule]

    def rule(self, request_type: str) -> RequestTypeRule:
        try:
            return self.types[request_type]
        except KeyError:
            raise LeaveError(f"Jenis pengajuan tidak dikenal: {request_type!r}") from None

    def expires_on(self, submitted: date) -> date:
        """The first day on which a still-pending request has expired."""
        return submitted + timedelta(days=self.pending_expiry_days)


@dataclass(frozen=True)
class AnnualLeaveBalance:
    year: int
    entitlement: int
    carried: int
    available: int
    taken: int
    lines: tuple[str, ...] = field(default=())

    @property
    def remaining(self) -> int:
        return max(0, self.available - self.taken)


def service_years_on(appointed: date, day: date) -> int:
    """Whole years of service from TMT to `day`."""
    years = day.year - appointed.year
    if (day.month, day.day) < (appointed.month, appointed.day):
        years -= 1
    return max(0, years)


def annual_leave_balance(
    *,
    year: int,
    kind: EmployeeKind,
    appointed: date,
    taken_by_year: Mapping[int, int],
    cuti_besar_years: frozenset[int] = frozenset(),
    policy: LeavePolicy,
) -> AnnualLeaveBalance:
    """The cuti tahunan a PNS/PPPK may take in `year` (working days).

    The right exists in a year once the minimum service is reached by its last day. Unused days
    of last year carry over up to `carry_max_days`; after two whole years without any cuti
    tahunan the year holds up to `two_years_unused_max_days`. A cuti besar in the year takes
    the right away (PP 11/2017 Pasal 316).
    """
    rule = policy.annual[kind]
    taken = taken_by_year.get(year, 0)

    def entitled(y: int) -> bool:
        return service_years_on(appointed, date(y, 12, 31)) >= rule.min_service_years

    if not entitled(year):
        line = f"Belum {rule.min_service_years} tahun masa kerja: belum berhak cuti tahunan"
        return AnnualLeaveBalance(year, 0, 0, 0, taken, (f"{line} ({rule.article})",))
    if year in cuti_besar_years:
        line = f"Cuti besar pada tahun {year}: hak cuti tahunan tahun ini tidak ada"
        return AnnualLeaveBalance(year, 0, 0, 0, taken, (f"{line} ({rule.article})",))
    lines = [f"Hak cuti tahunan {year}: {rule.entitlement_days} hari kerja ({rule.article})"]
    unused_two_years = all(
        entitled(y) and taken_by_year.get(y, 0) == 0 and y not in cuti_besar_years
        for y in (year - 1, year - 2)
    )
    if unused_two_years:
        carried = rule.two_years_unused_max_days - rule.entitlement_days
        lines.append(
            f"Tidak mengambil cuti tahunan pada {year - 2} dan {year - 1}: "
            f"paling banyak {rule.two_years_unused_max_days} hari"
        )
    elif entitled(year - 1) and year - 1 not in cuti_besar_years:
        unused = max(0, rule.entitlement_days - taken_by_year.get(year - 1, 0))
        carried = min(rule.carry_max_days, unused)
        lines.append(
            f"Sisa cuti {year - 1}: {unused} hari, dibawa {carried} hari "
            f"(paling banyak {rule.carry_max_days})"
        )
    else:
        carried = 0
    available = rule.entitlement_days + carried
    lines.append(f"Diambil {year}: {taken} hari; sisa {max(0, available - taken)} hari")
    return AnnualLeaveBalance(year, rule.entitlement_days, carried, available, taken, tuple(lines))


def days_counted(
    first_day: date, last_day: date, counted_in: CountedIn, is_working_day: Callable[[date], bool]
) -> int:
    """Days a request uses: working days for cuti tahunan and izin, calendar days otherwise."""
    span = [first_day + timedelta(n) for n in range((last_day - first_day).days + 1)]
    if counted_in == "calendar_days":
        return len(span)
    return sum(1 for d in span if is_working_day(d))


@dataclass(frozen=True)
class RequestFacts:
    """What is known about a request when it is filed (all plain values)."""

    type: str
    kind: EmployeeKind
    first_day: date
    last_day: date
    days: int
    """As `days_counted` gives them for the type's unit."""
    appointed: date
    has_evidence: bool
    partial_day: bool = False
    annual_remaining: int | None = None
    """Cuti tahunan only: what is left in the year of `first_day`."""
    same_month_count: int = 0
    """Requests of this type already filed (not rejected) in the month of `first_day`."""
    overlapping: tuple[str, ...] = ()
    """Labels of this employee's pending or approved requests covering any of these days."""


def leave_request_problems(facts: RequestFacts, policy: LeavePolicy) -> tuple[str, ...]:
    """Every reason this request cannot be filed, in Indonesian; empty when it can."""
    if facts.type not in policy.types:
        return (f"Jenis pengajuan tidak dikenal: {facts.type!r}",)
    rule = policy.types[facts.type]
    problems: list[str] = []
    if facts.last_day < facts.first_day:
        problems.append("Tanggal akhir sebelum tanggal mulai")
    if facts.kind not in rule.employees:
        problems.append(f"{rule.label} tidak berlaku untuk {facts.kind} ({rule.article})")
    if facts.partial_day and not rule.partial_day:
        problems.append(f"{rule.label} tidak dapat diajukan per jam")
    if facts.days < 1 and facts.last_day >= facts.first_day:
        problems.append("Tidak ada hari kerja pada tanggal yang dipilih")
    limit = rule.limit_for(facts.kind)
    if limit is not None and facts.days > limit:
        unit = "hari kerja" if rule.counted_in == "working_days" else "hari"
        problems.append(f"{rule.label} paling lama {limit} {unit} ({rule.article})")
    if rule.min_service_years and (
        service_years_on(facts.appointed, facts.first_day) < rule.min_service_years
    ):
        problems.append(
            f"{rule.label} memerlukan masa kerja {rule.min_service_years} tahun ({rule.article})"
        )
    if (
        rule.evidence_from_days is not None
        and facts.days >= rule.evidence_from_days
        and not facts.has_evidence
    ):
        problems.append(f"{rule.label} {facts.days} hari memerlukan bukti (surat/dokumen)")
    remaining = facts.annual_remaining
    if facts.type == "cuti_tahunan" and remaining is not None and facts.days > remaining:
        problems.append(f"Sisa cuti tahunan {remaining} hari, diajukan {facts.days} hari")
    if rule.max_per_month is not None and facts.same_month_count >= rule.max_per_month:
        problems.append(
            f"{rule.label} paling banyak {rule.max_per_month} kali sebulan ({rule.article})"
        )
    if facts.overlapping:
        problems.append(
            "Sudah ada pengajuan pada tanggal yang sama: " + ", ".join(facts.overlapping)
        )
    return tuple(problems)


def request_window_label(first_day: date, last_day: date) -> str:
    return (
        format_day(first_day)
        if first_day == last_day
        else f"{format_day(first_day)} s.d. {format_day(last_day)}"
    )


# --- Policy data ---------------------------------------------------------------------------


def leave_policy_from_data(data: Any) -> LeavePolicy:
    """Build and validate a policy from its YAML/JSON form; LeaveError says what is wrong."""
    root = PolicyNode(data, "kebijakan", LeaveError)
    annual: dict[EmployeeKind, AnnualLeaveRule] = {}
    for kind in EMPLOYEE_KINDS:
        a = root["annual_leave"][kind]
        annual[kind] = AnnualLeaveRule(
            entitlement_days=a["entitlement_days"].as_count(),
            min_service_years=a["min_service_years"].as_count(),
            carry_max_days=a["carry_max_days"].as_count(),
            two_years_unused_max_days=a["two_years_unused_max_days"].as_count(),
            article=a["article"].as_text(),
        )
    types: dict[str, RequestTypeRule] = {}
    for key, t in root["types"].items():
        name = str(key)
        if name not in REQUEST_TYPES:
            raise t.fail("jenis tidak dikenal")
        employees = t["employees"].value if t.has("employees") else None
        if (
            not isinstance(employees, list)
            or not employees
            or any(e not in EMPLOYEE_KINDS for e in employees)
        ):
            raise t["employees"].fail(f"harus daftar dari {', '.join(EMPLOYEE_KINDS)}")
        counted_in: CountedIn
        if t.has("counted_in") and t["counted_in"].value == "working_days":
            counted_in = "working_days"
        elif t.has("counted_in") and t["counted_in"].value == "calendar_days":
            counted_in = "calendar_days"
        else:
            raise t["counted_in"].fail("harus working_days atau calendar_days")
        levels = t["approval_levels"].as_count()
        if levels not in (1, 2):
            raise t["approval_levels"].fail("harus 1 atau 2")
        partial = t.has("partial_day") and bool(t["partial_day"].value)
        if partial and name not in PARTIAL_ABSENCE_TYPES:
            raise t["partial_day"].fail(f"{REQUEST_LABELS[name]} tidak dapat per jam")
        types[name] = RequestTypeRule(
            type=name,
            employees=frozenset(employees),
            counted_in=counted_in,
            max_days=_optional_count(t, "max_days"),
            max_days_pppk=_optional_count(t, "max_days_pppk"),
            approval_levels=levels,
            article=t["article"].as_text(),
            min_service_years=_optional_count(t, "min_service_years") or 0,
            evidence_from_days=_optional_count(t, "evidence_from_days"),
            second_level_from_days=_optional_count(t, "second_level_from_days"),
            partial_day=partial,
            blocks_annual_leave=t.has("blocks_annual_leave")
            and bool(t["blocks_annual_leave"].value),
            max_per_month=_optional_count(t, "max_per_month"),
        )
    expiry = root["pending_expiry_days"].as_count()
    if expiry < 1:
        raise root["pending_expiry_days"].fail("paling sedikit 1 hari")
    return LeavePolicy(
        name=root["name"].as_text(),
        version=str(root["version"].value) if root.has("version") else "1",
        regulation=root["regulation"].as_text(),
        valid_from=_valid_from(root),
        pending_expiry_days=expiry,
        evidence_max_bytes=root["evidence_max_bytes"].as_count(),
        annual=annual,
        types=types,
    )


def _valid_from(root: PolicyNode) -> date:
    """A date from YAML, or its ISO text from JSON (a version saved in the database)."""
    node = root["valid_from"]
    if isinstance(node.value, str):
        try:
            return date.fromisoformat(node.value)
        except ValueError:
            pass
    if not isinstance(node.value, date):
        raise node.fail("harus tanggal (YYYY-MM-DD)")
    return node.value


def _optional_count(node: PolicyNode, key: str) -> int | None:
    return node[key].as_count() if node.has(key) else None


def leave_policy_load(name: str = DEFAULT_POLICY) -> LeavePolicy:
    """A policy shipped in `tepat/rules/policies/<name>.yaml`."""
    return leave_policy_from_data(leave_policy_data(name))


def leave_policy_data(name: str = DEFAULT_POLICY) -> Any:
    return yaml.safe_load((POLICY_DIR / f"{name}.yaml").read_text(encoding="utf-8"))
