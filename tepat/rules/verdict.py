"""The daily attendance verdict: one working day, its punches and absences in, codes out.

`classify_day` is pure: the schedule versions, the calendar's answer for the day, the approved
absences, the lateness bands and the site's time zone are all passed in, and the verdict
carries an Indonesian explanation an officer can check by hand.

How a day is judged, in order:

1. The plan. A per-employee override or roster entry wins; otherwise a non-working calendar day
   is LIBUR; otherwise the schedule version in force on the day gives the hours (the period's
   hours during e.g. Ramadan). No hours means LIBUR.
2. A whole-day approved absence (cuti, izin, sakit, dinas luar, …) makes the day that absence.
3. Punches are converted to the site's zone; those outside the shift's presence window are
   ignored, each with a line saying so.
4. No punch left on a working day: TK.
5. Otherwise the first check-in and the last check-out count:

   * minutes late  = floor((first check-in - start) / 1 min), at least 0;
   * minutes early = floor((end - last check-out) / 1 min), at least 0.

   Only whole minutes count, in both directions: with start 07:30, 07:30:59 is on time and
   07:31:00 is 1 minute late; with end 16:00, 15:59:01 is on time and 15:59:00 is 1 minute
   early. A missing check-in or check-out gets the policy's code for it (TL4 / PSW4).
   A late or early minute count within the policy's grace gets no code.

   A partial-day absence (izin, dinas luar, tugas kedinasan with a time range) that covers the
   start moves the start to its end; one that covers the end moves the end to its start. One
   that covers the whole shift counts as a whole-day absence. It does not stand in for a punch:
   whoever comes in after a morning izin still checks in (else TL4), and a working day with an
   izin but no punch at all is still TK.

Band edges are inclusive whole minutes: a band (31, 60) holds 31 to 60 minutes, and the last
band has no upper edge, so every lateness of one minute or more has exactly one band.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from itertools import pairwise
from types import MappingProxyType
from typing import Literal, get_args

from tepat.rules.calendar import WEEKDAY_NAMES, DayInfo
from tepat.rules.formatting import format_day
from tepat.rules.schedule import (
    Schedule,
    ScheduleOverride,
    Shift,
    ShiftInstance,
    schedule_version_for,
)

RULES_VERSION = "verdict-1"
"""Bump when a change here can change a verdict; stored with every verdict and TPP month."""

EventKind = Literal["in", "out"]
_EVENT_KINDS = frozenset(get_args(EventKind))
AbsenceType = Literal[
    "cuti_tahunan",
    "cuti_besar",
    "cuti_sakit",
    "cuti_melahirkan",
    "cuti_alasan_penting",
    "cltn",
    "izin",
    "sakit",
    "dinas_luar",
    "tugas_belajar",
    "diklat",
    "tugas_kedinasan",
]
ABSENCE_TYPES: tuple[AbsenceType, ...] = get_args(AbsenceType)
"""Also the precedence when two approved whole-day absences cover the same day."""

ABSENCE_LABELS: Mapping[AbsenceType, str] = MappingProxyType(
    {
        "cuti_tahunan": "Cuti tahunan",
        "cuti_besar": "Cuti besar",
        "cuti_sakit": "Cuti sakit",
        "cuti_melahirkan": "Cuti melahirkan",
        "cuti_alasan_penting": "Cuti karena alasan penting",
        "cltn": "Cuti di luar tanggungan negara",
        "izin": "Izin",
        "sakit": "Sakit",
        "dinas_luar": "Dinas luar",
        "tugas_belajar": "Tugas belajar",
        "diklat": "Diklat",
        "tugas_kedinasan": "Tugas kedinasan",
    }
)

# Leave (cuti) is granted in whole working days (PP 11/2017); the types below are the ones an
# atasan grants for part of a day.
PARTIAL_ABSENCE_TYPES: frozenset[AbsenceType] = frozenset({"izin", "dinas_luar", "tugas_kedinasan"})

_MINUTE = timedelta(minutes=1)
_KIND_LABELS: Mapping[EventKind, str] = MappingProxyType({"in": "masuk", "out": "pulang"})


class VerdictError(ValueError):
    """Input the verdict cannot judge. `message` is Indonesian."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BandsError(ValueError):
    """Lateness bands that cannot be used. `message` is Indonesian, for the policy screen."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class AttendanceEvent:
    taken_at: datetime
    """Aware; any zone (stored in UTC), converted to the site's zone before the day is cut."""
    kind: EventKind
    source: str
    """Where it came from, e.g. "pwa", "zkteco:CQZ7232460123", "operator"."""

    def __post_init__(self) -> None:
        if self.taken_at.tzinfo is None or self.taken_at.utcoffset() is None:
            raise VerdictError("Waktu presensi harus memiliki zona waktu")
        if self.kind not in _EVENT_KINDS:
            raise VerdictError(f"Jenis presensi tidak dikenal: {self.kind!r}")


@dataclass(frozen=True)
class Absence:
    """An approved whole-day absence, first_day..last_day inclusive."""

    type: AbsenceType
    first_day: date
    last_day: date
    reference: str = ""
    """The letter or approval number, shown in the explanation."""

    def __post_init__(self) -> None:
        _check_absence_type(self.type)
        if self.last_day < self.first_day:
            raise VerdictError(f"{ABSENCE_LABELS[self.type]}: tanggal akhir sebelum tanggal mulai")

    def covers(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day


@dataclass(frozen=True)
class PartialAbsence:
    """An approved absence for part of a day, e.g. izin 07:30–09:00."""

    type: AbsenceType
    starts_at: datetime
    ends_at: datetime
    reference: str = ""

    def __post_init__(self) -> None:
        _check_absence_type(self.type)
        if self.type not in PARTIAL_ABSENCE_TYPES:
            raise VerdictError(f"{ABSENCE_LABELS[self.type]} tidak dapat diberikan per jam")
        for moment in (self.starts_at, self.ends_at):
            if moment.tzinfo is None or moment.utcoffset() is None:
                raise VerdictError("Waktu izin harus memiliki zona waktu")
        if self.ends_at <= self.starts_at:
            raise VerdictError(f"{ABSENCE_LABELS[self.type]}: jam selesai harus setelah jam mulai")


def _check_absence_type(value: str) -> None:
    if value not in ABSENCE_TYPES:
        raise VerdictError(f"Jenis ketidakhadiran tidak dikenal: {value!r}")


@dataclass(frozen=True)
class Band:
    code: str
    min_minutes: int
    max_minutes: int | None
    """Inclusive; None means no upper edge (the last band)."""

    def contains(self, minutes: int) -> bool:
        return self.min_minutes <= minutes and (
            self.max_minutes is None or minutes <= self.max_minutes
        )

    @property
    def label(self) -> str:
        if self.max_minutes is None:
            return f"≥{self.min_minutes} menit"
        return f"{self.min_minutes}–{self.max_minutes} menit"


@dataclass(frozen=True)
class LatenessBands:
    """TL (late arrival) and PSW (early leave) bands of one regulation version."""

    name: str
    valid_from: date
    legal_basis: str
    tl: tuple[Band, ...]
    psw: tuple[Band, ...]
    missing_check_in: str = "TL4"
    """The code for a working day with a check-out but no check-in."""
    missing_check_out: str = "PSW4"
    late_grace_minutes: int = 0
    """Lateness up to this many minutes gets no code (Sukoharjo Perbup 31/2018: 5)."""
    early_grace_minutes: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "tl", _checked_bands(self.tl, "TL"))
        object.__setattr__(self, "psw", _checked_bands(self.psw, "PSW"))
        if not self.missing_check_in.strip() or not self.missing_check_out.strip():
            raise BandsError("Kode untuk presensi masuk atau pulang yang tidak ada belum diisi")
        for grace in (self.late_grace_minutes, self.early_grace_minutes):
            if not isinstance(grace, int) or isinstance(grace, bool) or grace < 0:
                raise BandsError("Toleransi menit harus bilangan bulat 0 atau lebih")

    def tl_band(self, minutes: int) -> Band | None:
        return band_for(self.tl, minutes)

    def psw_band(self, minutes: int) -> Band | None:
        return band_for(self.psw, minutes)


def band_for(bands: Sequence[Band], minutes: int) -> Band | None:
    """The band holding `minutes`; None below 1 minute. Total for valid bands."""
    for band in bands:
        if band.contains(minutes):
            return band
    return None


def _checked_bands(bands: Iterable[Band], kind: str) -> tuple[Band, ...]:
    ordered = tuple(sorted(bands, key=lambda b: b.min_minutes))
    if not ordered:
        raise BandsError(f"Rentang {kind} belum diisi")
    codes = [b.code for b in ordered]
    for code in codes:
        if not code.strip() or codes.count(code) > 1:
            raise BandsError(f"Kode rentang {kind} kosong atau dipakai lebih dari sekali: {code!r}")
    for band in ordered:
        if band.max_minutes is not None and band.max_minutes < band.min_minutes:
            raise BandsError(
                f"Rentang {band.code}: batas atas {band.max_minutes} menit lebih kecil dari "
                f"batas bawah {band.min_minutes} menit"
            )
    if ordered[0].min_minutes != 1:
        raise BandsError(
            f"Rentang {kind} harus mulai dari 1 menit ({ordered[0].code} mulai dari "
            f"{ordered[0].min_minutes} menit)"
        )
    for earlier, later in pairwise(ordered):
        if earlier.max_minutes is None or later.min_minutes <= earlier.max_minutes:
            until = "tanpa batas atas" if earlier.max_minutes is None else earlier.max_minutes
            raise BandsError(
                f"Rentang {earlier.code} (sampai {until}) dan {later.code} (mulai "
                f"{later.min_minutes} menit) bertumpang tindih"
            )
        if later.min_minutes > earlier.max_minutes + 1:
            raise BandsError(
                f"Ada celah antara {earlier.code} (sampai {earlier.max_minutes} menit) dan "
                f"{later.code} (mulai {later.min_minutes} menit)"
            )
    if ordered[-1].max_minutes is not None:
        raise BandsError(
            f"Rentang terakhir {ordered[-1].code} harus tanpa batas atas agar semua menit tercakup"
        )
    return ordered


def kaur_2022_bands(*, valid_from: date = date(2022, 1, 1)) -> LatenessBands:
    """TL/PSW 1–30, 31–60, 61–90, ≥91 minutes; no check-in TL4, no check-out PSW4.

    Perbup Kaur 03/2022 tentang TPP, Pasal 9 ayat (3) (rules.md §3.1; the same bands as the
    Permentan 68/2012 tukin table). The Perbup's effective date is UNVERIFIED; pass the real one.
    """
    return LatenessBands(
        name="Perbup Kaur 03/2022",
        valid_from=valid_from,
        legal_basis="Perbup Kaur 03/2022 tentang TPP, Pasal 9 ayat (3)",
        tl=(
            Band("TL1", 1, 30),
            Band("TL2", 31, 60),
            Band("TL3", 61, 90),
            Band("TL4", 91, None),
        ),
        psw=(
            Band("PSW1", 1, 30),
            Band("PSW2", 31, 60),
            Band("PSW3", 61, 90),
            Band("PSW4", 91, None),
        ),
    )


@dataclass(frozen=True)
class DayVerdict:
    day: date
    day_code: str
    """"H" (hadir), "TK" (tanpa keterangan), "LIBUR", or the absence type (e.g. "cuti_tahunan")."""
    in_code: str | None
    """TL band, or the missing-check-in code; None when on time or not applicable."""
    out_code: str | None
    minutes_late: int | None
    """Whole minutes after the (possibly izin-moved) start; None without a check-in."""
    minutes_early: int | None
    first_in: datetime | None
    """In the site's zone."""
    last_out: datetime | None
    schedule_code: str
    schedule_name: str
    schedule_valid_from: date
    shift_code: str | None
    period: str | None
    explanation: tuple[str, ...]
    rules_version: str = RULES_VERSION

    @property
    def codes(self) -> tuple[str, ...]:
        """Every code the day collects, e.g. ("TL2", "PSW1"), ("TK",), ("LIBUR",)."""
        if self.day_code != "H":
            return (self.day_code,)
        return tuple(code for code in (self.in_code, self.out_code) if code is not None)


def classify_day(
    day: date,
    events: Iterable[AttendanceEvent],
    schedule: Schedule | Sequence[Schedule],
    calendar_info: DayInfo,
    absences: Iterable[Absence | PartialAbsence],
    bands: LatenessBands,
    tz: tzinfo,
    *,
    override: ScheduleOverride | None = None,
) -> DayVerdict:
    """Judge one day. `schedule` is one version or all versions (the one in force is used).

    `events` may include punches of neighbouring days: only those inside this day's presence
    window count. Where the windows of consecutive shifts overlap (a roster), pass the punches
    `assign_events` gave this day.
    """
    if calendar_info.day != day:
        raise VerdictError(
            f"Keterangan kalender untuk {_dmy(calendar_info.day)}, bukan {_dmy(day)}"
        )
    if override is not None and override.day != day:
        raise VerdictError(f"Jadwal khusus untuk {_dmy(override.day)}, bukan {_dmy(day)}")
    versions = (schedule,) if isinstance(schedule, Schedule) else tuple(schedule)
    version = schedule_version_for(versions, day)
    ordered = tuple(events)
    if len(ordered) > 1:
        ordered = tuple(sorted(ordered, key=_event_order))
    absences = tuple(absences)
    whole: list[Absence] = []
    partial: tuple[PartialAbsence, ...] = ()
    if absences:  # most days have none
        whole = sorted(
            (a for a in absences if isinstance(a, Absence) and a.covers(day)),
            key=lambda a: (ABSENCE_TYPES.index(a.type), a.first_day, a.reference),
        )
        partial = tuple(a for a in absences if isinstance(a, PartialAbsence))
    verdict = _Builder(day=day, schedule=version, period=calendar_info.period, tz=tz)

    # 1. The plan.
    if override is not None:
        if override.shift is None:
            return verdict.libur(f"Libur menurut jadwal khusus: {override.reason}", ordered, whole)
        shift = override.shift
        if not calendar_info.is_working_day:
            verdict.line(f"Hari libur ({calendar_info.reason}), tetapi dijadwalkan masuk")
        verdict.line(f"Jadwal khusus: {override.reason}")
    elif not calendar_info.is_working_day:
        return verdict.libur(calendar_info.reason or "Bukan hari kerja", ordered, whole)
    else:
        found = version.shift_on(day, calendar_info.period)
        if found is None:
            reason = (
                "Tidak ada shift terjadwal"
                if version.roster
                else f"Bukan hari kerja menurut jadwal {version.name}"
            )
            return verdict.libur(reason, ordered, whole)
        shift = found
        if calendar_info.reason is not None:
            verdict.line(calendar_info.reason)
    instance = shift.on(day, tz)
    verdict.shift_code = shift.code
    verdict.line(
        _plan_line(
            version.name,
            calendar_info.period_name,
            shift,
            version.roster or override is not None,
            instance,
        )
    )

    # 2. Whole-day absence.
    if whole:
        return verdict.absent(whole, ordered)

    # 3. Punches inside the window.
    ins: list[datetime] = []
    outs: list[datetime] = []
    window = ""
    for event in ordered:
        local = event.taken_at.astimezone(tz)
        if instance.opens <= local <= instance.closes:  # `window_contains`, inlined: hot
            (ins if event.kind == "in" else outs).append(local)
        else:  # before the window opens or after it closes (an early punch, a late one)
            window = window or _window_text(instance, verdict)
            verdict.line(
                f"Presensi {_KIND_LABELS[event.kind]} {verdict.moment(local)} diabaikan: di luar "
                f"rentang waktu presensi {window}"
            )

    # Partial absences move the start and the end.
    start, end, relevant, partial_lines = _partial_moves(instance, partial, tz, verdict)
    verdict.extend(partial_lines)
    if start >= end:
        return verdict.partial_whole_day(relevant[0], len(ins) + len(outs))

    # 4. Nothing at all.
    if not ins and not outs:
        verdict.day_code = "TK"
        verdict.line("Tidak ada presensi pada hari kerja → TK (tanpa keterangan)")
        return verdict.build()

    # 5. First check-in, last check-out.
    verdict.day_code = "H"

    if not ins:
        verdict.in_code = bands.missing_check_in
        verdict.line(f"Tidak ada presensi masuk → {bands.missing_check_in}")
    else:
        first_in = min(ins)
        verdict.first_in = first_in
        if len(ins) > 1:
            later = ", ".join(verdict.moment(t) for t in sorted(ins)[1:])
            verdict.line(
                f"Presensi masuk berikutnya ({later}) tidak dipakai; yang dihitung presensi "
                "masuk pertama"
            )
        late = max(0, _whole_minutes(start, first_in))
        verdict.minutes_late = late
        head = f"Masuk {verdict.moment(first_in)}"
        if first_in <= start:
            verdict.line(f"{head}, tepat waktu (jam masuk {verdict.clock(start)})")
        elif late == 0:
            verdict.line(
                f"{head}, kurang dari 1 menit setelah jam masuk {verdict.clock(start)}: "
                "belum dihitung terlambat"
            )
        elif late <= bands.late_grace_minutes:
            verdict.line(
                f"{head}, terlambat {late} menit dari jam masuk {verdict.clock(start)}, "
                f"masih dalam toleransi {bands.late_grace_minutes} menit"
            )
        else:
            band = _band(bands.tl_band(late), late)
            verdict.in_code = band.code
            verdict.line(
                f"{head}, terlambat {late} menit dari jam masuk {verdict.clock(start)} "
                f"→ {band.code} ({band.label})"
            )

    if not outs:
        verdict.out_code = bands.missing_check_out
        verdict.line(f"Tidak ada presensi pulang → {bands.missing_check_out}")
    else:
        last_out = max(outs)
        verdict.last_out = last_out
        if len(outs) > 1:
            earlier = ", ".join(verdict.moment(t) for t in sorted(outs)[:-1])
            verdict.line(
                f"Presensi pulang sebelumnya ({earlier}) tidak dipakai; yang dihitung presensi "
                "pulang terakhir"
            )
        early = max(0, _whole_minutes(last_out, end))
        verdict.minutes_early = early
        head = f"Pulang {verdict.moment(last_out)}"
        if last_out >= end:
            verdict.line(f"{head}, tidak pulang sebelum waktunya (jam pulang {verdict.clock(end)})")
        elif early == 0:
            verdict.line(
                f"{head}, kurang dari 1 menit sebelum jam pulang {verdict.clock(end)}: "
                "belum dihitung pulang sebelum waktunya"
            )
        elif early <= bands.early_grace_minutes:
            verdict.line(
                f"{head}, {early} menit sebelum jam pulang {verdict.clock(end)}, masih dalam "
                f"toleransi {bands.early_grace_minutes} menit"
            )
        else:
            band = _band(bands.psw_band(early), early)
            verdict.out_code = band.code
            verdict.line(
                f"{head}, {early} menit sebelum jam pulang {verdict.clock(end)} "
                f"→ {band.code} ({band.label})"
            )
    return verdict.build()


@dataclass(frozen=True)
class EventAssignment:
    by_day: Mapping[date, tuple[AttendanceEvent, ...]]
    """Punches per shift day, in time order; days without punches are absent."""
    unassigned: tuple[AttendanceEvent, ...]
    """Punches inside no shift's window."""


def assign_events(
    events: Iterable[AttendanceEvent], instances: Sequence[ShiftInstance]
) -> EventAssignment:
    """Give each punch to the shift whose presence window contains it.

    Where windows overlap (a night shift that takes punches until 14:00 and a morning shift
    the next day), a check-in goes to the shift whose start is nearest and a check-out to the
    shift whose end is nearest; a tie goes to the earlier shift. So after a night shift
    21:00–07:00, the 07:00 check-out closes the night and a 06:50 check-in opens the morning.
    """
    by_day: dict[date, list[AttendanceEvent]] = {}
    unassigned: list[AttendanceEvent] = []
    for event in sorted(events, key=_event_order):
        candidates = [i for i in instances if i.window_contains(event.taken_at)]
        if not candidates:
            unassigned.append(event)
            continue
        chosen = min(candidates, key=lambda i: (_distance(i, event), i.start))
        by_day.setdefault(chosen.day, []).append(event)
    return EventAssignment(
        by_day=MappingProxyType({day: tuple(found) for day, found in sorted(by_day.items())}),
        unassigned=tuple(unassigned),
    )


# --- internals ------------------------------------------------------------------------------


@dataclass
class _Builder:
    """Collects a verdict and its explanation lines while `classify_day` works."""

    day: date
    schedule: Schedule
    period: str | None
    tz: tzinfo
    day_code: str = "H"
    in_code: str | None = None
    out_code: str | None = None
    minutes_late: int | None = None
    minutes_early: int | None = None
    first_in: datetime | None = None
    last_out: datetime | None = None
    shift_code: str | None = None
    lines: list[str] = field(default_factory=list)

    def line(self, text: str) -> None:
        self.lines.append(text)

    def extend(self, texts: Iterable[str]) -> None:
        self.lines.extend(texts)

    def moment(self, at: datetime) -> str:
        """ "08:05:12 WIB"; "19-08-2026 07:00:00 WIB" when not on the verdict's day."""
        # (fields, not strftime: this runs for every punch; a punch is already in the zone)
        local = at if at.tzinfo is self.tz else at.astimezone(self.tz)
        on = local.date()  # `_date_prefix` and `_zone`, inlined: hot
        prefix = "" if on == self.day else f"{_dmy(on)} "
        return (
            f"{prefix}{local.hour:02d}:{local.minute:02d}:{local.second:02d} {local.tzname() or ''}"
        )

    def clock(self, at: datetime) -> str:
        """ "07:30"; "19-08-2026 07:00" when not on the verdict's day."""
        local = at if at.tzinfo is self.tz else at.astimezone(self.tz)
        return f"{self._date_prefix(local)}{local.hour:02d}:{local.minute:02d}"

    def _date_prefix(self, local: datetime) -> str:
        return "" if local.date() == self.day else f"{_dmy(local.date())} "

    def libur(
        self, reason: str, events: Sequence[AttendanceEvent], whole: Sequence[Absence]
    ) -> DayVerdict:
        self.day_code = "LIBUR"
        self.line(f"{reason} → LIBUR")
        for absence in whole:
            self.line(f"{ABSENCE_LABELS[absence.type]} tidak dihitung pada hari libur")
        if events:
            self.line(f"{len(events)} presensi pada hari libur tidak dinilai")
        return self.build()

    def absent(self, whole: Sequence[Absence], events: Sequence[AttendanceEvent]) -> DayVerdict:
        chosen = whole[0]
        self.day_code = chosen.type
        self.line(
            f"{ABSENCE_LABELS[chosen.type]}{_reference(chosen.reference)} "
            f"{_dmy(chosen.first_day)} s.d. {_dmy(chosen.last_day)}: tidak dinilai terlambat, "
            "pulang cepat, atau tanpa keterangan"
        )
        for other in whole[1:]:
            self.line(
                f"{ABSENCE_LABELS[other.type]}{_reference(other.reference)} pada hari yang sama "
                f"tidak dipakai; {ABSENCE_LABELS[chosen.type]} didahulukan"
            )
        if events:
            self.line(f"{len(events)} presensi pada hari ini tidak dinilai")
        return self.build()

    def partial_whole_day(self, absence: PartialAbsence, events: int) -> DayVerdict:
        """`events`: how many punches fell inside the shift's window."""
        self.day_code = absence.type
        self.line(
            f"{ABSENCE_LABELS[absence.type]} mencakup seluruh jam kerja: tidak dinilai "
            "terlambat, pulang cepat, atau tanpa keterangan"
        )
        if events:
            self.line(f"{events} presensi pada hari ini tidak dinilai")
        return self.build()

    def build(self) -> DayVerdict:
        return DayVerdict(
            day=self.day,
            day_code=self.day_code,
            in_code=self.in_code,
            out_code=self.out_code,
            minutes_late=self.minutes_late,
            minutes_early=self.minutes_early,
            first_in=self.first_in,
            last_out=self.last_out,
            schedule_code=self.schedule.code,
            schedule_name=self.schedule.name,
            schedule_valid_from=self.schedule.valid_from,
            shift_code=self.shift_code,
            period=self.period,
            explanation=tuple(self.lines),
        )


def _partial_moves(
    instance: ShiftInstance, partial: Sequence[PartialAbsence], tz: tzinfo, verdict: _Builder
) -> tuple[datetime, datetime, list[PartialAbsence], list[str]]:
    """The start and end after partial absences, the absences that touch the shift, and a
    line for each of them."""
    start, end = instance.start, instance.end
    if not partial:  # most days have none
        return start, end, [], []
    relevant = sorted(
        (a for a in partial if a.starts_at < instance.end and a.ends_at > instance.start),
        key=lambda a: (a.starts_at, a.ends_at, ABSENCE_TYPES.index(a.type), a.reference),
    )
    moved_start: list[PartialAbsence] = []
    for absence in relevant:  # in start order, so back-to-back izin keep moving the start
        if absence.starts_at <= start < absence.ends_at:
            start = absence.ends_at.astimezone(tz)
            moved_start.append(absence)
    moved_end: list[PartialAbsence] = []
    for absence in sorted(relevant, key=lambda a: a.ends_at, reverse=True):
        if absence.starts_at < end <= absence.ends_at:
            end = absence.starts_at.astimezone(tz)
            moved_end.append(absence)
    lines: list[str] = []
    for absence in relevant:
        span = (
            f"{ABSENCE_LABELS[absence.type]}{_reference(absence.reference)} "
            f"{verdict.clock(absence.starts_at)}–{verdict.clock(absence.ends_at)} "
            f"{_zone(absence.starts_at.astimezone(tz))}"
        )
        if start >= end:
            lines.append(span)
        elif absence in moved_start:
            lines.append(f"{span}: jam masuk dihitung mulai {verdict.clock(start)}")
        elif absence in moved_end:
            lines.append(f"{span}: jam pulang dihitung sampai {verdict.clock(end)}")
        else:
            lines.append(f"{span}: tidak mengubah jam masuk atau jam pulang")
    return start, end, relevant, lines


@lru_cache(maxsize=1024)
def _plan_line(
    schedule_name: str,
    period_name: str | None,
    shift: Shift,
    named_shift: bool,
    instance: ShiftInstance,
) -> str:
    """ "Jadwal Guru: Senin 07:30–14:00 WIB": a province shares a handful of these a day
    (`ShiftInstance`s are shared too: `Shift.on` places each shift once per day and zone)."""
    shift_text = f", {shift.name}" if named_shift else ""
    period_text = f" ({period_name})" if period_name else ""
    next_day_text = " (selesai hari berikutnya)" if shift.crosses_midnight else ""
    return (
        f"Jadwal {schedule_name}{period_text}{shift_text}: {WEEKDAY_NAMES[instance.day.weekday()]} "
        f"{shift.hours_label} {_zone(instance.start)}{next_day_text}"
    )


def _distance(instance: ShiftInstance, event: AttendanceEvent) -> timedelta:
    """From the punch to the shift's start (check-in) or end (check-out)."""
    anchor = instance.start if event.kind == "in" else instance.end
    return abs(event.taken_at.astimezone(UTC) - anchor.astimezone(UTC))


def _band(band: Band | None, minutes: int) -> Band:
    if band is None:  # Impossible for validated bands and minutes >= 1.
        raise BandsError(f"Tidak ada rentang untuk {minutes} menit")
    return band


def _whole_minutes(earlier: datetime, later: datetime) -> int:
    """Whole minutes from `earlier` to `later`, rounded down (negative if later < earlier).

    Subtracting in UTC: Python subtracts aware datetimes of one tzinfo by wall clock.
    """
    return (later.astimezone(UTC) - earlier.astimezone(UTC)) // _MINUTE


def _event_order(event: AttendanceEvent) -> tuple[datetime, str, str]:
    return (event.taken_at.astimezone(UTC), event.kind, event.source)


_WINDOWS: dict[tuple[int, int], tuple[ShiftInstance, tzinfo, str]] = {}


def _window_text(instance: ShiftInstance, verdict: _Builder) -> str:
    """ "05:00:00 WIB s.d. 23:59:59 WIB", once per placed shift: `Shift.on` hands out the same
    instance for a shift, day and zone, so it is known by its identity (kept alive here)."""
    key = (id(instance), id(verdict.tz))
    found = _WINDOWS.get(key)
    if found is not None and found[0] is instance and found[1] is verdict.tz:
        return found[2]
    text = f"{verdict.moment(instance.opens)} s.d. {verdict.moment(instance.closes)}"
    if len(_WINDOWS) > 4096:
        _WINDOWS.clear()
    _WINDOWS[key] = (instance, verdict.tz, text)
    return text


@lru_cache(maxsize=1024)
def _dmy(day: date) -> str:
    """`format_day`, once per date: a punch on another date than the verdict's prints it."""
    return format_day(day)


def _reference(reference: str) -> str:
    return f" ({reference})" if reference else ""


def _zone(moment: datetime) -> str:
    return moment.tzname() or ""
