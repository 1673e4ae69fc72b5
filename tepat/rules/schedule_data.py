"""Schedules and lateness bands as plain data (JSON/YAML), so BKPSDM edits them without a
deploy: a new version from a date is a new record, never a code change.

A schedule's shifts are listed once by code; the week names a shift code (or null for a day
off) for each day, Monday first:

    code: guru
    name: Guru SD/SMP
    valid_from: 2026-07-13
    legal_basis: SE Bupati ... (jam pulang guru 14:00)
    shifts:
      sekolah: {code: SEKOLAH, name: Jam sekolah, start: "07:15", end: "14:00",
                check_in_from: "05:00", check_out_until: "23:59", break_minutes: 0}
    week: [sekolah, sekolah, sekolah, sekolah, sekolah, sekolah, null]
    period_weeks: [{period: ramadan, legal_basis: ..., week: [...]}]
"""

from collections.abc import Mapping, Sequence
from datetime import date, time
from typing import Any

from tepat.rules.schedule import (
    DAYS_IN_WEEK,
    PeriodWeek,
    Schedule,
    ScheduleError,
    Shift,
    Week,
)
from tepat.rules.verdict import Band, BandsError, LatenessBands


def _hm(t: time) -> str:
    return t.strftime("%H:%M:%S" if t.second else "%H:%M")


def _time(value: Any, where: str) -> time:
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise ScheduleError(f"{where}: jam '{value}' tidak valid (format JJ:MM)") from None


def _date(value: Any, where: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ScheduleError(f"{where}: tanggal '{value}' tidak valid (format TTTT-BB-HH)") from None


def _shift_to_data(shift: Shift) -> dict[str, Any]:
    return {
        "code": shift.code,
        "name": shift.name,
        "start": _hm(shift.start),
        "end": _hm(shift.end),
        "check_in_from": _hm(shift.check_in_from),
        "check_out_until": _hm(shift.check_out_until),
        "break_minutes": shift.break_minutes,
    }


def _shift_from_data(key: str, data: Mapping[str, Any]) -> Shift:
    where = f"Shift {key}"
    try:
        return Shift(
            code=str(data.get("code", key)),
            name=str(data["name"]),
            start=_time(data["start"], where),
            end=_time(data["end"], where),
            check_in_from=_time(data["check_in_from"], where),
            check_out_until=_time(data["check_out_until"], where),
            break_minutes=int(data.get("break_minutes", 0)),
        )
    except KeyError as exc:
        raise ScheduleError(f"{where}: isian '{exc.args[0]}' belum ada") from None


def shift_to_data(shift: Shift) -> dict[str, Any]:
    """One shift as stored with a per-employee exception."""
    return _shift_to_data(shift)


def shift_from_data(data: Mapping[str, Any]) -> Shift:
    """A shift stored with a per-employee exception; `ScheduleError` when it is incomplete."""
    return _shift_from_data(str(data.get("code", "")), data)


def _week_to_data(week: Week, keys: Mapping[Shift, str]) -> list[str | None]:
    return [None if shift is None else keys[shift] for shift in week]


def _shift_keys(schedule: Schedule) -> dict[Shift, str]:
    """A unique key per distinct shift: Ramadan hours may reuse the regular shift's code."""
    keys: dict[Shift, str] = {}
    weeks = [schedule.week, *(p.week for p in schedule.period_weeks)]
    for shift in [*schedule.shifts, *(s for week in weeks for s in week if s is not None)]:
        if shift in keys:
            continue
        key, n = shift.code, 2
        while key in keys.values():
            key, n = f"{shift.code}_{n}", n + 1
        keys[shift] = key
    return keys


def _week_from_data(codes: Any, shifts: Mapping[str, Shift], where: str) -> Week:
    if not isinstance(codes, Sequence) or isinstance(codes, str) or len(codes) != DAYS_IN_WEEK:
        raise ScheduleError(f"{where}: pola minggu harus berisi 7 hari (Senin sampai Minggu)")
    week: list[Shift | None] = []
    for code in codes:
        if code is None:
            week.append(None)
        elif code in shifts:
            week.append(shifts[code])
        else:
            raise ScheduleError(f"{where}: shift '{code}' tidak ada di daftar shift")
    return tuple(week)


def schedule_to_data(schedule: Schedule) -> dict[str, Any]:
    keys = _shift_keys(schedule)
    return {
        "code": schedule.code,
        "name": schedule.name,
        "valid_from": schedule.valid_from.isoformat(),
        "valid_until": None if schedule.valid_until is None else schedule.valid_until.isoformat(),
        "legal_basis": schedule.legal_basis,
        "roster": schedule.roster,
        "observes_holidays": schedule.observes_holidays,
        "shifts": {key: _shift_to_data(shift) for shift, key in keys.items()},
        "roster_shifts": [keys[s] for s in schedule.shifts],
        "week": _week_to_data(schedule.week, keys),
        "period_weeks": [
            {"period": p.period, "legal_basis": p.legal_basis, "week": _week_to_data(p.week, keys)}
            for p in schedule.period_weeks
        ],
    }


def schedule_from_data(data: Mapping[str, Any]) -> Schedule:
    """Build and validate a schedule version; ScheduleError (Indonesian) on any problem."""
    name = str(data.get("name") or data.get("code") or "Jadwal")
    raw_shifts = data.get("shifts") or {}
    if not isinstance(raw_shifts, Mapping):
        raise ScheduleError(f"{name}: daftar shift harus berupa pasangan kode dan jam")
    shifts = {str(code): _shift_from_data(str(code), spec) for code, spec in raw_shifts.items()}
    roster = bool(data.get("roster", False))
    week = (None,) * DAYS_IN_WEEK if roster else _week_from_data(data.get("week"), shifts, name)
    period_weeks = tuple(
        PeriodWeek(
            period=str(p["period"]),
            week=_week_from_data(p.get("week"), shifts, f"{name} ({p['period']})"),
            legal_basis=str(p.get("legal_basis", "")),
        )
        for p in data.get("period_weeks") or ()
    )
    roster_codes = data.get("roster_shifts") or (list(shifts) if roster else [])
    until = data.get("valid_until")
    return Schedule(
        code=str(data.get("code", "")),
        name=name,
        valid_from=_date(data.get("valid_from"), name),
        valid_until=None if until in (None, "") else _date(until, name),
        legal_basis=str(data.get("legal_basis", "")),
        week=week,
        period_weeks=period_weeks,
        roster=roster,
        observes_holidays=bool(data.get("observes_holidays", True)),
        shifts=tuple(shifts[c] for c in roster_codes if c in shifts),
    )


def _bands_to_data(bands: Sequence[Band]) -> list[dict[str, Any]]:
    return [{"code": b.code, "min": b.min_minutes, "max": b.max_minutes} for b in bands]


def _bands_from_data(rows: Any) -> tuple[Band, ...]:
    try:
        return tuple(
            Band(
                code=str(r["code"]),
                min_minutes=int(r["min"]),
                max_minutes=None if r.get("max") is None else int(r["max"]),
            )
            for r in rows
        )
    except (KeyError, TypeError, ValueError):
        raise BandsError(
            "Rentang harus berisi kode, menit awal (min) dan menit akhir (max)"
        ) from None


def bands_to_data(bands: LatenessBands) -> dict[str, Any]:
    return {
        "name": bands.name,
        "valid_from": bands.valid_from.isoformat(),
        "legal_basis": bands.legal_basis,
        "tl": _bands_to_data(bands.tl),
        "psw": _bands_to_data(bands.psw),
        "missing_check_in": bands.missing_check_in,
        "missing_check_out": bands.missing_check_out,
        "late_grace_minutes": bands.late_grace_minutes,
        "early_grace_minutes": bands.early_grace_minutes,
    }


def bands_from_data(data: Mapping[str, Any]) -> LatenessBands:
    """Build and validate TL/PSW bands; BandsError (Indonesian) on a gap, overlap or typo."""
    try:
        valid_from = date.fromisoformat(str(data["valid_from"]))
    except (KeyError, ValueError):
        raise BandsError("Tanggal mulai berlaku rentang tidak valid") from None
    return LatenessBands(
        name=str(data.get("name", "")),
        valid_from=valid_from,
        legal_basis=str(data.get("legal_basis", "")),
        tl=_bands_from_data(data.get("tl") or ()),
        psw=_bands_from_data(data.get("psw") or ()),
        missing_check_in=str(data.get("missing_check_in", "TL4")),
        missing_check_out=str(data.get("missing_check_out", "PSW4")),
        late_grace_minutes=int(data.get("late_grace_minutes", 0)),
        early_grace_minutes=int(data.get("early_grace_minutes", 0)),
    )
