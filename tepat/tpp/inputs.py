"""Gathering a month's TPP inputs for many employees at once (fetch, before the pure calculate).

`employee_months_gather` builds one `tepat.rules.tpp.EmployeeMonth` per employee from what the
other apps stored: the org assignments per day (kelas jabatan, golongan, schedule group), the
daily verdicts (`presence.AttendanceDay`, approved absences included), the working days from
the schedule versions and the calendar, e-Kinerja's stored `MonthlyEvaluation`, the Plt
appointments and the disciplinary sanctions BKPSDM recorded (`monitor.Sanction`).

It is set-based: a fixed handful of queries per call whatever the number of employees (the
caller passes chunks of a few thousand ids), so the whole regency is read in a few dozen
queries, never one per employee.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Q

from tepat.kinerja.models import MonthlyEvaluation
from tepat.monitor.selectors import sanctions_in_force
from tepat.org.models import Assignment, Employee, Unit
from tepat.presence.attendance import work_calendar
from tepat.presence.models import AttendanceDay, ScheduleVersion
from tepat.rules.calendar import CalendarKind, WorkCalendar
from tepat.rules.nip import EmployeeKind
from tepat.rules.schedule import Schedule, calendar_day, schedule_version_for
from tepat.rules.schedule_data import schedule_from_data
from tepat.rules.tpp import DayRecord, EmployeeMonth, ProductivityInput, SanctionInput
from tepat.rules.tpp_policy import DAY_OFF, DAY_PRESENT, DAY_TK, TppPolicy, band_code_for
from tepat.tpp.models import PltAppointment

# The verdict's absence types (`tepat.rules.verdict.ABSENCE_TYPES`) as the TPP policies name
# them; a type the policy does not list is refused by the rules core with the day named.
ABSENCE_CODES: Mapping[str, str] = {
    "dinas_luar": "DL",
    "tugas_kedinasan": "TUGAS_KEDINASAN",
    "izin": "IZIN",
    "sakit": "SAKIT",
    "cuti_tahunan": "CUTI_TAHUNAN",
    "cuti_besar": "CUTI_BESAR",
    "cuti_sakit": "CUTI_SAKIT",
    "cuti_melahirkan": "CUTI_MELAHIRKAN",
    "cuti_alasan_penting": "CUTI_ALASAN_PENTING",
    "cltn": "CLTN",
    "tugas_belajar": "TUGAS_BELAJAR",
    "diklat": "DIKLAT",
}


@dataclass(frozen=True)
class GatheredMonth:
    """One employee's month as read: the rules input, notes on what it leaves out, and where
    the employee stood at the end of the month (for the per-OPD lists)."""

    employee_id: int
    opd_id: int
    unit_id: int
    kelas_jabatan: int
    golongan: str
    month: EmployeeMonth
    notes: tuple[str, ...] = field(default=())


def month_bounds(year: int, month: int) -> tuple[date, date]:
    first = date(year, month, 1)
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return first, last


def employee_ids_in_month(year: int, month: int) -> list[int]:
    """Everyone with an assignment on at least one day of the month, by id."""
    first, last = month_bounds(year, month)
    return sorted(
        set(
            Assignment.objects.filter(valid_from__lte=last)
            .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=first))
            .values_list("employee_id", flat=True)
        )
    )


def sanctions_for(
    employee_ids: Sequence[int], year: int, month: int, policy: TppPolicy
) -> dict[int, list[SanctionInput]]:
    """The decided sanctions (BKPSDM's register in `monitor`) that touch the month, per
    employee, limited to the kinds the policy's sanction table knows: a reprimand cuts no TPP,
    and the rules core refuses a code it has no row for."""
    wanted = set(employee_ids)
    found = sanctions_in_force(year, month, codes={t.code for t in policy.sanctions.types})
    return {employee_id: rows for employee_id, rows in found.items() if employee_id in wanted}


class WorkingDays:
    """Working days per (schedule group, calendar kind) for one month, computed once per group:
    the schedule versions of every group in one query, the calendars once per kind."""

    def __init__(self, first: date, last: date) -> None:
        self.first = first
        self.days = [first + timedelta(n) for n in range((last - first).days + 1)]
        self._schedules: dict[int | None, list[Schedule]] | None = None
        self._calendars: dict[CalendarKind, WorkCalendar] = {}
        self._working: dict[tuple[int | None, CalendarKind], frozenset[date]] = {}
        self._ordered: dict[tuple[int | None, CalendarKind], tuple[date, ...]] = {}

    def _versions(self, group_id: int | None) -> list[Schedule]:
        if self._schedules is None:
            found: dict[int | None, list[Schedule]] = defaultdict(list)
            for group, definition in ScheduleVersion.objects.values_list("group_id", "definition"):
                found[group].append(schedule_from_data(definition))
            self._schedules = dict(found)
        return self._schedules.get(group_id, [])

    def of(self, group_id: int | None, kind: CalendarKind) -> frozenset[date]:
        key = (group_id, kind)
        if key not in self._working:
            self._working[key] = self._compute(group_id, kind)
        return self._working[key]

    def ordered(self, group_id: int | None, kind: CalendarKind) -> tuple[date, ...]:
        """The same days in date order."""
        key = (group_id, kind)
        if key not in self._ordered:
            self._ordered[key] = tuple(sorted(self.of(group_id, kind)))
        return self._ordered[key]

    def _compute(self, group_id: int | None, kind: CalendarKind) -> frozenset[date]:
        schedules = self._versions(group_id)
        if not schedules:  # no hours set for the group yet: Monday to Friday
            return frozenset(d for d in self.days if d.weekday() < 5)
        if kind not in self._calendars:
            self._calendars[kind] = work_calendar(kind, self.first)
        calendar = self._calendars[kind]
        found = set()
        for d in self.days:
            try:
                schedule = schedule_version_for(schedules, d)
            except ValueError:
                continue  # no version covers the day: not a working day
            if calendar_day(calendar, schedule, d).is_working_day:
                found.add(d)
        return frozenset(found)


def _marks(row: tuple[Any, ...], code: str, policy: TppPolicy) -> tuple[str | None, str | None]:
    """TL and PSW codes by the TPP policy's own bands, from the verdict's minutes (a missing
    check-in or check-out is the policy's missing-record code)."""
    _day, _code, in_code, out_code, minutes_late, minutes_early = row
    absence = policy.absence(code)
    at_work = code == DAY_PRESENT or (absence is not None and absence.treatment == "present")
    if not at_work:
        return None, None
    rules = policy.discipline
    tl = psw = None
    if minutes_late is not None:
        tl = band_code_for(rules.tl, minutes_late)
    elif in_code:
        tl = band_code_for(rules.tl, None)
    if minutes_early is not None:
        psw = band_code_for(rules.psw, minutes_early)
    elif out_code:
        psw = band_code_for(rules.psw, None)
    return tl, psw


class _DayRecords:
    """The `DayRecord` of a stored verdict at a kelas, built once per distinct (verdict, kelas)
    in a gather: most days of most employees are alike (present, on time), and a record is
    immutable, so the same one serves them all."""

    def __init__(self, policy: TppPolicy) -> None:
        self.policy = policy
        self._made: dict[tuple[Any, ...], DayRecord] = {}

    def of(self, verdict: tuple[Any, ...], kelas: int) -> DayRecord:
        key = (*verdict, kelas)
        record = self._made.get(key)
        if record is None:
            code = _day_code(verdict[1])
            tl, psw = _marks(verdict, code, self.policy)
            record = DayRecord(
                date=verdict[0], kelas_jabatan=kelas, code=code, tl_code=tl, psw_code=psw
            )
            self._made[key] = record
        return record


def _day_code(verdict_code: str) -> str:
    if verdict_code in (DAY_PRESENT, DAY_TK, DAY_OFF):
        return verdict_code
    return ABSENCE_CODES.get(verdict_code, verdict_code.upper())


def _of_employees(ids: Sequence[int], field: str = "employee_id") -> Q:
    """Rows of these employees. Sorted, dense ids (a run's chunks) are asked for as a range,
    filtered in Python by the caller: a long IN list costs more to send and parse than the few
    rows of others in the range."""
    if ids and max(ids) - min(ids) < 2 * len(ids):
        return Q(**{f"{field}__gte": min(ids), f"{field}__lte": max(ids)})
    return Q(**{f"{field}__in": ids})


def employee_months_gather(
    year: int, month: int, employee_ids: Sequence[int], policy: TppPolicy
) -> list[GatheredMonth]:
    """The month of each employee in `employee_ids`, in that order (ids without any
    assignment in the month are left out). At most eight queries (five for the
    people, the schedule versions, a calendar per kind) whatever the length of the list."""
    first, last = month_bounds(year, month)
    ids = list(employee_ids)
    working = WorkingDays(first, last)
    assignments: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for a in (
        Assignment.objects.filter(_of_employees(ids), valid_from__lte=last)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=first))
        .order_by("employee_id", "valid_from")
        .values(
            "employee_id",
            "valid_from",
            "valid_to",
            "opd_id",
            "unit_id",
            "unit__kind",
            "kelas_jabatan",
            "golongan",
            "schedule_group_id",
        )
    ):
        assignments[a["employee_id"]].append(dict(a))
    kinds = dict(Employee.objects.filter(_of_employees(ids, "id")).values_list("id", "kind"))
    verdicts: dict[int, dict[date, tuple[Any, ...]]] = defaultdict(dict)
    for employee_id, *row in AttendanceDay.objects.filter(
        _of_employees(ids), day__gte=first, day__lte=last
    ).values_list(
        "employee_id", "day", "day_code", "in_code", "out_code", "minutes_late", "minutes_early"
    ):
        verdicts[employee_id][row[0]] = tuple(row)  # type: ignore[index]
    productivity = {
        employee_id: ProductivityInput(
            minutes=minutes, predicate=predicate or None, realisation_percent=percent
        )
        for employee_id, minutes, predicate, percent in MonthlyEvaluation.objects.filter(
            _of_employees(ids), year=year, month=month
        ).values_list("employee_id", "approved_minutes", "predicate", "productivity_percent")
    }
    plt: dict[int, list[tuple[date, date | None, int]]] = defaultdict(list)
    for employee_id, start, end, kelas in (
        PltAppointment.objects.filter(_of_employees(ids), first_day__lte=last)
        .filter(Q(last_day__isnull=True) | Q(last_day__gte=first))
        .values_list("employee_id", "first_day", "last_day", "kelas_jabatan")
    ):
        plt[employee_id].append((start, end, kelas))
    sanctions = sanctions_for(ids, year, month, policy)

    records = _DayRecords(policy)
    gathered = []
    for employee_id in ids:
        rows = assignments.get(employee_id)
        if not rows:
            continue
        gathered.append(
            _employee_month(
                year,
                month,
                employee_id,
                rows,
                kinds.get(employee_id, "PNS"),
                working,
                verdicts.get(employee_id, {}),
                productivity.get(employee_id),
                plt.get(employee_id, []),
                sanctions.get(employee_id, []),
                records,
            )
        )
    return gathered


def _assignment_on(rows: list[dict[str, Any]], day: date) -> dict[str, Any] | None:
    for a in rows:
        if a["valid_from"] <= day and (a["valid_to"] is None or day < a["valid_to"]):
            return a
    return None


def _employee_month(
    year: int,
    month: int,
    employee_id: int,
    rows: list[dict[str, Any]],
    kind: str,
    working: WorkingDays,
    verdicts: dict[date, tuple[Any, ...]],
    productivity: ProductivityInput | None,
    plt: list[tuple[date, date | None, int]],
    sanctions: Iterable[SanctionInput],
    records: _DayRecords,
) -> GatheredMonth:
    first_row, last_row = rows[0], rows[-1]
    held: dict[date, dict[str, Any]] = {}
    working_days: list[date] = []
    # In one post the whole month (most people): its working days, all held at it.
    whole_month = (
        len(rows) == 1
        and first_row["valid_from"] <= working.days[0]
        and (first_row["valid_to"] is None or first_row["valid_to"] > working.days[-1])
    )
    if whole_month:
        kind_of: CalendarKind = (
            "school" if first_row["unit__kind"] == Unit.Kind.SEKOLAH else "office"
        )
        working_days = list(working.ordered(first_row["schedule_group_id"], kind_of))
    for d in () if whole_month else working.days:
        a = _assignment_on(rows, d)
        # Out of post (before the start, after the end): the nearest post decides which days
        # of the month count, so a new employee's month has the same working days as others'.
        schedule_of = a or (first_row if d < first_row["valid_from"] else last_row)
        kind_of = "school" if schedule_of["unit__kind"] == Unit.Kind.SEKOLAH else "office"
        if d in working.of(schedule_of["schedule_group_id"], kind_of):
            working_days.append(d)
            if a is not None:
                held[d] = a
    first, last = working.days[0], working.days[-1]
    start = first_row["valid_from"] if first_row["valid_from"] > first else None
    end_exclusive = last_row["valid_to"]
    end = end_exclusive - timedelta(days=1) if end_exclusive and end_exclusive <= last else None
    notes: list[str] = []
    days: list[DayRecord] = []
    previous: dict[str, Any] | None = None
    for d in working_days:
        if (start and d < start) or (end and d > end):
            continue
        # A gap between two posts: the earlier post's kelas.
        a = first_row if whole_month else held.get(d) or previous
        if a is None:
            continue
        previous = a
        verdict = verdicts.get(d)
        if verdict is None:
            continue  # the rules core names the day: "Data hari … belum ada"
        days.append(records.of(verdict, a["kelas_jabatan"]))
    in_post = [d for d in working_days if not (start and d < start) and not (end and d > end)]
    plt_kelas = None
    for plt_start, plt_end, kelas in plt:
        if in_post and all(plt_start <= d and (plt_end is None or d <= plt_end) for d in in_post):
            plt_kelas = kelas
        else:
            notes.append(
                f"Penunjukan Plt kelas {kelas} tidak meliputi seluruh hari kerja bulan ini; "
                "tambahan Plt dibayar untuk bulan penuh saja"
            )
    employee_kind: EmployeeKind = "PPPK" if kind == Employee.Kind.PPPK else "PNS"
    month_input = EmployeeMonth(
        year=year,
        month=month,
        working_days=tuple(working_days),
        days=tuple(days),
        productivity=productivity or ProductivityInput(),
        kind=employee_kind,
        golongan=last_row["golongan"] or None,
        start_date=start,
        end_date=end,
        sanctions=tuple(sanctions),
        is_plt=plt_kelas is not None,
        plt_kelas_jabatan=plt_kelas,
    )
    return GatheredMonth(
        employee_id=employee_id,
        opd_id=last_row["opd_id"],
        unit_id=last_row["unit_id"],
        kelas_jabatan=last_row["kelas_jabatan"],
        golongan=last_row["golongan"],
        month=month_input,
        notes=tuple(notes),
    )


def month_snapshot(gathered: GatheredMonth) -> dict[str, Any]:
    """The inputs as JSON, stored with the result so the month can be explained and recomputed."""
    m = gathered.month
    return {
        "working_days": [d.isoformat() for d in m.working_days],
        "days": [
            [r.date.isoformat(), r.kelas_jabatan, r.code, r.tl_code, r.psw_code] for r in m.days
        ],
        "productivity": {
            "minutes": m.productivity.minutes,
            "predicate": m.productivity.predicate,
            "realisation_percent": _text(m.productivity.realisation_percent),
        },
        "kind": m.kind,
        "golongan": m.golongan,
        "start_date": m.start_date.isoformat() if m.start_date else None,
        "end_date": m.end_date.isoformat() if m.end_date else None,
        "sanctions": [[s.code, s.starts.isoformat(), s.decree] for s in m.sanctions],
        "plt_kelas_jabatan": m.plt_kelas_jabatan,
        "notes": list(gathered.notes),
    }


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
