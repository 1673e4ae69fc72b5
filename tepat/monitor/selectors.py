"""Reads for the monitor pages other than today's tally (see ``live``): the phone's last
contact and the site's machine, so "no signal" can be told from "not at work"; and each
employee's PP 94/2021 discipline counts, from the stored daily verdicts; the sanctions decided,
and which of them a month's TPP must cut; and what waits for a decision in the review queues."""

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db.models import Count, Max, Min, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import ExtractMonth

from tepat.accounts.access import current_assignments
from tepat.kinerja.models import DailyReport
from tepat.monitor.models import Sanction
from tepat.org.models import Employee
from tepat.presence.machines import silent_after
from tepat.presence.models import (
    AbsenceRequest,
    AttendanceDay,
    CheckinEvent,
    Machine,
    MachineFlag,
    PhoneDevice,
)
from tepat.rules import discipline
from tepat.rules.nip import EmployeeKind
from tepat.rules.tpp import SanctionInput


@dataclass(frozen=True)
class PhoneContact:
    """What the server last heard from an employee's phone."""

    status: str
    """The phone's binding: active, or waiting for the operator's approval."""
    label: str
    last_login: datetime | None
    """The last app token issued (a login from the phone)."""
    last_checkin_received: datetime | None
    """When the server last received a check-in from this phone, refused ones included: a
    refused check-in still proves the phone reached the server."""
    heartbeat_at: datetime | None = None
    """The phone's last report of itself (``PhoneHeartbeat``)."""
    queued: int = 0
    """Check-ins the phone said, at ``heartbeat_at``, it still holds unsent."""
    queued_since: datetime | None = None

    @property
    def last_contact(self) -> datetime | None:
        moments = [
            m
            for m in (self.last_login, self.last_checkin_received, self.heartbeat_at)
            if m is not None
        ]
        return max(moments) if moments else None


def phone_contacts(employee_ids: Iterable[int]) -> dict[int, PhoneContact]:
    """Each employee's current phone (active, else the newest pending) in one query.

    The server knows a phone exists when it talks: a login, a check-in (queued offline ones
    arrive when the phone is back online) or the app's heartbeat, which also says how many
    check-ins wait on the phone."""
    latest = (
        CheckinEvent.objects.filter(device=OuterRef("pk"))
        .order_by("-received_at")
        .values("received_at")[:1]
    )
    rows = (
        PhoneDevice.objects.filter(
            employee_id__in=list(employee_ids),
            status__in=[PhoneDevice.Status.ACTIVE, PhoneDevice.Status.PENDING],
        )
        .annotate(last_login=Max("tokens__created_at"), last_checkin=Subquery(latest))
        .values_list(
            "employee_id", "status", "label", "last_login", "last_checkin",
            "heartbeat__contact_at", "heartbeat__queued", "heartbeat__queued_since",
        )
        .order_by("employee_id", "created_at")
    )  # fmt: skip
    found: dict[int, PhoneContact] = {}
    for employee_id, status, label, last_login, last_checkin, beat, queued, since in rows:
        known = found.get(employee_id)
        if known is not None and known.status == PhoneDevice.Status.ACTIVE:
            continue  # the active phone is the one that matters
        found[employee_id] = PhoneContact(
            status, label, last_login, last_checkin, beat, queued or 0, since
        )
    return found


@dataclass(frozen=True)
class MachineStatus:
    """A fingerprint machine at a site, as its registry reports it."""

    name: str
    online: bool
    last_contact: datetime | None


def site_machine_status(unit_ids: Iterable[int], now: datetime) -> dict[int, list[MachineStatus]]:
    """The active attendance machines serving each unit, by unit id, in one query. A machine
    is online when it called within the registry's silence limit, so "not checked in" at a
    school whose machine is offline reads as a machine problem, not a missing person."""
    found: dict[int, list[MachineStatus]] = {}
    limit = silent_after(now)
    rows = (
        Machine.objects.filter(status=Machine.Status.ACTIVE, unit_id__in=list(unit_ids))
        .order_by("serial")
        .values_list("unit_id", "name", "serial", "last_contact_at")
    )
    for unit_id, name, serial, last_contact in rows:
        online = last_contact is not None and now - last_contact < limit
        found.setdefault(unit_id, []).append(MachineStatus(name or serial, online, last_contact))
    return found


# --- discipline ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DisciplineRow:
    employee_id: int
    nip: str
    name: str
    kind: str
    opd_id: int | None
    opd_name: str
    unit_name: str
    supervisor_id: int | None
    status: discipline.DisciplineStatus
    outlook: tuple[discipline.UpcomingThreshold, ...]
    tk_days: tuple[date, ...]
    """This year's TK days, oldest first."""


LEVEL_RANK = {"peringatan": 1, "ringan": 2, "sedang": 3, "berat": 4}


def severity(status: discipline.DisciplineStatus) -> tuple[int, int, int]:
    """How serious a standing is, to order lists by: the level, then the streak, then the
    year's TK days."""
    return (LEVEL_RANK.get(status.level or "", 0), status.consecutive_tk, status.cumulative_tk_year)


# A streak reaching into January started in December: read back far enough for the longest
# alarm (10 working days) across the Christmas and New Year days off.
STREAK_LOOKBACK = timedelta(days=31)


def employee_kind(employee: Employee) -> EmployeeKind:
    """PNS or PPPK, as the discipline rules name them."""
    return "PPPK" if employee.kind == Employee.Kind.PPPK else "PNS"


def discipline_policy() -> discipline.DisciplinePolicy:
    return discipline.discipline_policy_load()


def _tk_days_with_breaks(
    employees: QuerySet[Employee], start: date, on: date, tk_codes: frozenset[str]
) -> dict[int, list[discipline.DisciplineDay]]:
    """Each employee's TK working days from ``start`` to ``on``, with a stand-in "H" day
    wherever a working day that is not TK lies between two of them (or after the last).

    A year of verdicts for 3,400 people is 800,000 rows; the counts only need the TK days and
    whether a streak was broken. So only the TK rows come back, each with the code of the
    working day before and after it (LIBUR rows left out, as the rules skip them), looked up
    through the (employee, day) unique index. The stand-in day sits one calendar day inside
    the gap, which the rules read exactly as the real day that broke the streak."""
    working = AttendanceDay.objects.filter(employee_id=OuterRef("employee_id")).exclude(
        day_code=discipline.DAY_OFF
    )
    rows = (
        AttendanceDay.objects.filter(
            employee__in=employees, day__gte=start, day__lte=on, day_code__in=tk_codes
        )
        .annotate(
            prev_code=Subquery(
                working.filter(day__lt=OuterRef("day"), day__gte=start)
                .order_by("-day")
                .values("day_code")[:1]
            ),
            next_code=Subquery(
                working.filter(day__gt=OuterRef("day"), day__lte=on)
                .order_by("day")
                .values("day_code")[:1]
            ),
        )
        .order_by("employee_id", "day")
        .values_list("employee_id", "day", "day_code", "prev_code", "next_code")
    )
    found: dict[int, list[discipline.DisciplineDay]] = {}
    last_next: dict[int, str | None] = {}
    one_day = timedelta(days=1)
    for employee_id, day, code, prev_code, next_code in rows:
        days = found.setdefault(employee_id, [])
        if prev_code is not None and prev_code not in tk_codes:
            days.append(discipline.DisciplineDay(day - one_day, "H"))
        days.append(discipline.DisciplineDay(day, code))
        last_next[employee_id] = next_code
    for employee_id, days in found.items():
        next_code = last_next[employee_id]
        if next_code is not None and next_code not in tk_codes:
            days.append(discipline.DisciplineDay(days[-1].date + one_day, "H"))
    first = date(on.year, 1, 1)
    # Someone whose only TK days were last December has nothing to count this year.
    return {
        k: v for k, v in found.items() if any(d.date >= first and d.code in tk_codes for d in v)
    }


@dataclass(frozen=True)
class DisciplineRanked:
    """One person of the discipline list before their post is read: what orders the list."""

    employee: Employee
    """Only the fields the list shows (``only``): names, NIP, kind."""
    status: discipline.DisciplineStatus
    days: tuple[discipline.DisciplineDay, ...]
    """The days the rules core read: TK days and the stand-ins for what broke a streak."""

    @property
    def sort_key(self) -> tuple[int, int, int, str, int]:
        """The most serious first, then by name; the id keeps the order the same on every
        page."""
        level, consecutive, cumulative = severity(self.status)
        return (-level, -consecutive, -cumulative, self.employee.full_name, self.employee.pk)


def discipline_ranked(
    employees: QuerySet[Employee],
    on: date,
    *,
    policy: discipline.DisciplinePolicy | None = None,
    tk_codes: frozenset[str] = frozenset({discipline.DAY_TK}),
) -> list[DisciplineRanked]:
    """Everyone of ``employees`` with at least one TK working day this year up to ``on``,
    counted by the rules core, the most serious first (then by name). Two queries.

    The database narrows first: only the TK days of the period the rules read (this year,
    and ``STREAK_LOOKBACK`` before it) come back, with what broke each streak, so the rules
    core counts only people with a TK day, never everyone's year. A page of the list reads
    its people's posts with ``discipline_rows_of``."""
    policy = policy or discipline_policy()
    first = date(on.year, 1, 1)
    by_employee = _tk_days_with_breaks(employees, first - STREAK_LOOKBACK, on, tk_codes)
    if not by_employee:
        return []
    # The same people as ``by_employee`` (a TK day this year), asked as a subquery: a list of
    # tens of thousands of ids costs more to send and parse than the index scan again.
    with_tk = AttendanceDay.objects.filter(day__gte=first, day__lte=on, day_code__in=tk_codes)
    people = (
        employees.filter(pk__in=with_tk.values("employee_id"))
        .only("id", "nip", "name", "title_prefix", "title_suffix", "kind")
        .order_by()
    )
    ranked = [
        DisciplineRanked(
            employee=e,
            status=discipline.discipline_status(
                by_employee[e.pk], policy, year=on.year, kind=employee_kind(e), tk_codes=tk_codes
            ),
            days=tuple(by_employee[e.pk]),
        )
        for e in people
        if e.pk in by_employee
    ]
    return sorted(ranked, key=lambda r: r.sort_key)


def discipline_rows_of(
    ranked: Iterable[DisciplineRanked],
    on: date,
    *,
    policy: discipline.DisciplinePolicy | None = None,
    tk_codes: frozenset[str] = frozenset({discipline.DAY_TK}),
) -> list[DisciplineRow]:
    """The rows of ``ranked`` (all of it, or one page), in its order, each with the person's
    post on ``on`` (none for someone who left or retired) and where they are heading. One
    query."""
    policy = policy or discipline_policy()
    ranked = list(ranked)
    posts: dict[int, tuple[int | None, str, str, int | None]] = {
        employee_id: (opd_id, opd_name, unit_name, supervisor_id)
        for employee_id, opd_id, opd_name, unit_name, supervisor_id in current_assignments(on)
        .filter(employee_id__in=[r.employee.pk for r in ranked])
        .values_list("employee_id", "opd_id", "opd__name", "unit__name", "supervisor_id")
    }
    first = date(on.year, 1, 1)
    rows = []
    for r in ranked:
        e = r.employee
        opd_id, opd_name, unit_name, supervisor_id = posts.get(e.pk, (None, "", "", None))
        rows.append(
            DisciplineRow(
                employee_id=e.pk,
                nip=e.nip,
                name=e.full_name,
                kind=e.kind,
                opd_id=opd_id,
                opd_name=opd_name,
                unit_name=unit_name,
                supervisor_id=supervisor_id,
                status=r.status,
                outlook=discipline.discipline_outlook(r.status, policy),
                tk_days=tuple(d.date for d in r.days if d.code in tk_codes and d.date >= first),
            )
        )
    return rows


def discipline_rows(
    employees: QuerySet[Employee],
    on: date,
    *,
    policy: discipline.DisciplinePolicy | None = None,
    tk_codes: frozenset[str] = frozenset({discipline.DAY_TK}),
) -> list[DisciplineRow]:
    """Everyone of ``employees`` with at least one TK working day this year up to ``on``, with
    their PP 94/2021 counts and level, the most serious first. Three queries.

    Counted from the stored daily verdicts only: an absence approved late rebuilds its days,
    and the next read no longer counts them."""
    policy = policy or discipline_policy()
    ranked = discipline_ranked(employees, on, policy=policy, tk_codes=tk_codes)
    return discipline_rows_of(ranked, on, policy=policy, tk_codes=tk_codes)


# --- sanctions decided -----------------------------------------------------------------------


def sanctions_current() -> QuerySet[Sanction]:
    """The rows in force: the newest of each correction chain, not annulled."""
    return Sanction.objects.filter(corrected_by__isnull=True, annulled=False)


def sanctions_in_force(
    year: int, month: int, *, codes: Collection[str] | None = None
) -> dict[int, list[SanctionInput]]:
    """Every decided sanction that covers some of the month, by employee id, for the TPP run.

    A sanction covers whole months from the month of its TMT for the months the SK sets (its
    own month alone when it has none, as a reprimand). ``codes``: only these kinds, e.g. the
    codes of the TPP policy's sanction table (a reprimand cuts nothing there, and the TPP core
    refuses a code it does not know)."""
    first = date(year, month, 1)
    after = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    rows = sanctions_current().filter(effective_from__lt=after)
    if codes is not None:
        rows = rows.filter(kind__in=list(codes))
    found: dict[int, list[SanctionInput]] = {}
    for s in rows.order_by("employee_id", "effective_from", "pk"):
        _start, last = discipline.sanction_months_touched(s.effective_from, s.months)
        if last < first:
            continue
        found.setdefault(s.employee_id, []).append(
            SanctionInput(
                code=s.kind,
                starts=s.effective_from,
                decree=s.decree_text,
            )
        )
    return found


def sanctions_of(employee_id: int) -> list[Sanction]:
    """An employee's sanction records, corrections included, the newest first; each row knows
    whether a later row replaced it (``corrected_by``)."""
    return list(
        Sanction.objects.filter(employee_id=employee_id)
        .select_related("author", "alert", "corrected_by")
        .order_by("-recorded_at", "-pk")
    )


# --- what waits for a decision ---------------------------------------------------------------


@dataclass
class QueueCount:
    count: int = 0
    oldest: datetime | None = None
    """When the item waiting longest arrived."""

    def add(self, count: int, oldest: datetime | None) -> None:
        self.count += count
        if oldest is not None and (self.oldest is None or oldest < self.oldest):
            self.oldest = oldest


QUEUES = ("checkins", "absences", "reports", "machine_flags")


@dataclass
class OpdBacklog:
    opd_id: int | None
    name: str
    queues: dict[str, QueueCount]

    @property
    def total(self) -> int:
        return sum(q.count for q in self.queues.values())


def _per_opd(
    rows: QuerySet[Any], employee_field: str, arrived_field: str, on: date
) -> list[tuple[int | None, int, datetime | None]]:
    """(OPD id, count, oldest arrival) of ``rows``, each counted in its employee's OPD on
    ``on``: one grouped query."""
    opd_of = current_assignments(on).filter(employee_id=OuterRef(employee_field)).values("opd_id")
    return list(
        rows.order_by()
        .annotate(opd_key=Subquery(opd_of[:1]))
        .values("opd_key")
        .annotate(n=Count("pk"), oldest=Min(arrived_field))
        .values_list("opd_key", "n", "oldest")
    )


def review_backlog(
    *,
    employees: QuerySet[Employee],
    machines: QuerySet[Machine],
    opds: dict[int, str],
    on: date,
) -> list[OpdBacklog]:
    """What waits for a decision, per OPD: flagged check-ins, absence requests, daily work
    reports and open machine signals, each with its count and the oldest arrival. Only the
    people of ``employees`` and the machines of ``machines`` count; OPDs outside ``opds``
    (someone between posts) are summed under no OPD. The longest wait first."""
    found: dict[int | None, OpdBacklog] = {}

    def backlog(opd_id: int | None) -> OpdBacklog:
        key = opd_id if opd_id in opds else None
        if key not in found:
            found[key] = OpdBacklog(
                key, opds.get(key, "—") if key else "—", {q: QueueCount() for q in QUEUES}
            )
        return found[key]

    sources: dict[str, list[tuple[int | None, int, datetime | None]]] = {
        "checkins": _per_opd(
            CheckinEvent.objects.filter(
                status=CheckinEvent.Status.REVIEW, employee__in=employees, reviews__isnull=True
            ),
            "employee_id", "received_at", on,
        ),
        "absences": _per_opd(
            AbsenceRequest.objects.filter(
                status=AbsenceRequest.Status.PENDING, employee__in=employees
            ),
            "employee_id", "submitted_at", on,
        ),
        "reports": _per_opd(
            DailyReport.objects.filter(status=DailyReport.Status.PENDING, employee__in=employees),
            "employee_id", "received_at", on,
        ),
        "machine_flags": list(
            MachineFlag.objects.filter(machine__in=machines, resolved_at__isnull=True)
            .order_by()
            .values("machine__unit__opd_id")
            .annotate(n=Count("pk"), oldest=Min("raised_at"))
            .values_list("machine__unit__opd_id", "n", "oldest")
        ),
    }  # fmt: skip
    for queue, rows in sources.items():
        for opd_id, n, oldest in rows:
            backlog(opd_id).queues[queue].add(n, oldest)
    far_future = datetime.max.replace(tzinfo=UTC)
    return sorted(
        (b for b in found.values() if b.total),
        key=lambda b: (min(q.oldest or far_future for q in b.queues.values()), b.name),
    )


def backlog_totals(backlog: Iterable[OpdBacklog]) -> dict[str, QueueCount]:
    """Each queue over all the OPDs shown."""
    totals = {q: QueueCount() for q in QUEUES}
    for row in backlog:
        for q, count in row.queues.items():
            totals[q].add(count.count, count.oldest)
    return totals


# --- trends ----------------------------------------------------------------------------------

TREND_MEASURES = ("tk", "tl", "psw")


@dataclass
class MonthCounts:
    """Working days in a month: absent without a valid reason (TK), arrived late (TL), left
    early (PSW, a missing check-out included), and all the working days judged."""

    tk: int = 0
    tl: int = 0
    psw: int = 0
    days: int = 0

    def add(self, other: "MonthCounts") -> None:
        self.tk += other.tk
        self.tl += other.tl
        self.psw += other.psw
        self.days += other.days


@dataclass
class OpdTrend:
    opd_id: int | None
    name: str
    months: dict[int, MonthCounts]
    """By month number, 1 to 12; only months with judged days."""

    def totals(self) -> MonthCounts:
        total = MonthCounts()
        for m in self.months.values():
            total.add(m)
        return total


def months_summed(trends: Iterable[OpdTrend]) -> dict[int, MonthCounts]:
    """Several OPDs' months added up, by month number."""
    summed: dict[int, MonthCounts] = {}
    for trend in trends:
        for month, counts in trend.months.items():
            summed.setdefault(month, MonthCounts()).add(counts)
    return summed


def monthly_trend(
    employees: QuerySet[Employee], year: int, on: date, opds: dict[int, str]
) -> list[OpdTrend]:
    """TK, TL and PSW working days per OPD and month of ``year`` up to ``on``, from the stored
    daily verdicts. Each person counts in the OPD they belong to on ``on`` (the trend follows
    today's organisation). Grouped per person and month in the database (at most twelve rows a
    person), then summed per OPD here."""
    rows = (
        AttendanceDay.objects.filter(
            employee__in=employees, day__gte=date(year, 1, 1), day__lte=min(on, date(year, 12, 31))
        )
        .exclude(day_code=discipline.DAY_OFF)
        .annotate(month=ExtractMonth("day"))
        .values("employee_id", "month")
        .annotate(
            tk=Count("pk", filter=Q(day_code=discipline.DAY_TK)),
            tl=Count("pk", filter=Q(in_code__startswith="TL")),
            psw=Count("pk", filter=Q(out_code__startswith="PSW")),
            days=Count("pk"),
        )
        .order_by()
        .values_list("employee_id", "month", "tk", "tl", "psw", "days")
    )
    opd_of = dict(
        current_assignments(on).filter(employee__in=employees).values_list("employee_id", "opd_id")
    )
    found: dict[int | None, OpdTrend] = {}
    for employee_id, month, tk, tl, psw, days in rows:
        opd_id = opd_of.get(employee_id)
        key = opd_id if opd_id in opds else None
        trend = found.get(key)
        if trend is None:
            trend = found[key] = OpdTrend(key, opds.get(key, "—") if key else "—", {})
        trend.months.setdefault(month, MonthCounts()).add(MonthCounts(tk, tl, psw, days))
    return sorted(found.values(), key=lambda t: t.name)
