"""Continuity mode: `tepat tpp compute` computes a month of TPP from spreadsheets alone.

No database, no network, no Django: this module imports only the pure rules core, openpyxl,
fpdf2 and PyYAML, so a BKPSDM laptop can pay TPP from exported (or hand-filled) files while the
server is down, blocked or compromised. The file format is in docs/continuity.md; an example
set is in tepat/tpp/continuity_example/.

Bad input. A problem that touches everyone (a missing file or column, a bad policy, a bad working
day) stops the run before anything is computed. A bad row that belongs to one employee (an
unknown code, a kelas out of range, a date outside the month) leaves that employee out of every
output, because paying a month computed without one of its rows could overpay; everyone else
is still computed. A row whose NIP is not in `pegawai` is reported too (it may be a typo that
hides someone's TK day). Every problem names the file, row and column, in Indonesian, on stderr
and in `kesalahan.txt`; the exit code is then 2 and the output must not be paid before the
problems are fixed and the run repeated.
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import os
import re
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from operator import itemgetter
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from tepat.rules.calendar import DayInfo
from tepat.rules.nip import PPPK_MARKER, EmployeeKind, normalise_nip
from tepat.rules.schedule import Schedule, ScheduleError, office_five_day_week
from tepat.rules.schedule_data import schedule_from_data
from tepat.rules.tpp import (
    DayRecord,
    EmployeeMonth,
    ProductivityInput,
    SanctionInput,
    TppInputError,
    tpp_month_compute,
)
from tepat.rules.tpp_policy import (
    DAY_OFF,
    DAY_PRESENT,
    DAY_TK,
    KELAS_JABATAN,
    BandTable,
    PolicyError,
    TppPolicy,
    band_code_for,
    policy_from_yaml,
    policy_load,
    policy_to_yaml,
    policy_validate,
)
from tepat.rules.verdict import (
    ABSENCE_TYPES,
    Absence,
    AttendanceEvent,
    Band,
    BandsError,
    LatenessBands,
    VerdictError,
    classify_day,
)
from tepat.tpp.continuity_files import (
    InputFileError,
    InputProblem,
    Table,
    table_find,
    table_read,
    table_write,
)
from tepat.tpp.nominatif import (
    NominatifRow,
    NominatifSheet,
    Signatory,
    bank_transfer_csv,
    nominatif_pdf,
    nominatif_row_from_result,
    nominatif_xlsx,
)

EXIT_OK = 0
EXIT_BAD_INPUT = 2
POLICY_FILE = "kebijakan.yaml"
SCHEDULE_FILE = "jadwal.yaml"
DEFAULT_SIGNATORIES = (Signatory("Kepala OPD"), Signatory("Bendahara Pengeluaran"))

# Columns of each file: (stem, every column, the required ones).
EMPLOYEES = (
    "pegawai",
    (
        "NIP", "Nama", "Golongan", "Jabatan", "Jenis", "OPD", "Kelas", "Bank", "Nomor Rekening",
        "Mulai", "Selesai", "Plt Kelas", "Tugas Belajar",
    ),
    ("NIP", "Nama", "OPD", "Kelas"),
)  # fmt: skip
KELAS_CHANGES = ("kelas", ("NIP", "Berlaku Mulai", "Kelas"), ("NIP", "Berlaku Mulai", "Kelas"))
WORKING_DAYS = ("hari_kerja", ("Tanggal", "Keterangan"), ("Tanggal",))
VERDICTS = (
    "presensi",
    ("NIP", "Tanggal", "Kode", "TL", "PSW", "TL Istirahat", "Tidak Apel"),
    ("NIP", "Tanggal"),
)
PUNCHES = (
    "presensi_mentah",
    ("NIP", "Tanggal", "Jam", "Jenis"),
    ("NIP", "Tanggal", "Jam", "Jenis"),
)
ABSENCES = (
    "ketidakhadiran",
    ("NIP", "Jenis", "Mulai", "Sampai", "Nomor Surat"),
    ("NIP", "Jenis", "Mulai", "Sampai"),
)
PRODUCTIVITY = ("kinerja", ("NIP", "Menit", "Predikat", "Realisasi"), ("NIP",))
SANCTIONS = (
    "hukuman_disiplin",
    ("NIP", "Kode", "TMT", "Nomor SK"),
    ("NIP", "Kode", "TMT"),
)
SIGNATORIES = ("penandatangan", ("OPD", "Jabatan", "Nama", "NIP"), ("OPD", "Jabatan"))

_YES = {"ya", "y", "yes", "1", "true", "benar", "x", "v"}
_NO = {"", "tidak", "t", "no", "0", "false", "-"}
_NO_RECORD = "TIDAK ADA"
"""In the TL or PSW column: no check-in (check-out) record, the table's missing-record code."""
_VERDICT_ALIASES = {"DINAS_LUAR": "DL"}
_ABSENCE_ALIASES = {"DL": "dinas_luar"}


# --- records -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContinuityEmployee:
    nip: str
    name: str
    opd: str
    golongan: str = ""
    jabatan: str = ""
    bank_name: str = ""
    bank_account: str = ""


@dataclass(frozen=True)
class ContinuityEntry:
    """One employee and their month, as the rules core takes it."""

    employee: ContinuityEmployee
    month: EmployeeMonth


@dataclass
class ContinuityInputs:
    policy: TppPolicy
    entries: list[ContinuityEntry]
    signatories: dict[str, tuple[Signatory, ...]]
    problems: list[InputProblem]
    assumed_present: dict[str, int] = field(default_factory=dict)
    """Per NIP: working days in post without a row in `presensi`, counted as "H"."""


@dataclass(frozen=True)
class _Facts:
    """What `pegawai` says about an employee's month besides the nominatif columns."""

    kelas: int
    kind: EmployeeKind
    start: date | None
    end: date | None
    plt: int | None
    tugas_belajar: bool


# --- parsing helpers ---------------------------------------------------------------------------


class _RowError(ValueError):
    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column
        self.message = message


_Owner = Callable[[Table, int, list[str]], str | None]
"""The known NIP of a row, or None after reporting why not."""
_Report = Callable[[Table, int | None, _RowError, str | None], None]

_DATE_CACHE: dict[str, date] = {}
_DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y")


def _date(text: str, column: str) -> date:
    cached = _DATE_CACHE.get(text)
    if cached is not None:
        return cached
    for fmt in _DATE_FORMATS:
        try:
            value = datetime.strptime(text[:10], fmt).date()
        except ValueError:
            continue
        _DATE_CACHE[text] = value
        return value
    if not text:
        raise _RowError(column, "wajib diisi")
    raise _RowError(column, f"{text!r} bukan tanggal (tulis 2026-11-05 atau 05-11-2026)")


def _opt_date(text: str, column: str) -> date | None:
    return _date(text, column) if text else None


def _int(text: str, column: str, *, low: int = 0, high: int | None = None) -> int:
    try:
        value = int(text)
    except ValueError:
        what = "wajib diisi" if not text else f"{text!r} bukan bilangan bulat"
        raise _RowError(column, what) from None
    if value < low or (high is not None and value > high):
        upper = "" if high is None else f" s.d. {high}"
        raise _RowError(column, f"{value} di luar rentang {low}{upper}")
    return value


def _kelas(text: str, column: str) -> int:
    return _int(text, column, low=KELAS_JABATAN.start, high=KELAS_JABATAN.stop - 1)


def _yes(text: str, column: str) -> bool:
    lowered = text.strip().lower()
    if lowered in _YES:
        return True
    if lowered in _NO:
        return False
    raise _RowError(column, f"{text!r}: isi 'ya' atau kosongkan")


def _nip(text: str) -> str:
    nip = normalise_nip(text)
    if not (len(nip) == 18 and nip.isdigit()):
        what = "wajib diisi" if not nip else f"{text!r} bukan NIP 18 digit"
        raise _RowError("NIP", what)
    return nip


def _read(folder: Path, spec: tuple[str, tuple[str, ...], tuple[str, ...]]) -> Table | None:
    stem, columns, required = spec
    path = table_find(folder, stem)
    return None if path is None else table_read(path, columns, required)


def _required(folder: Path, spec: tuple[str, tuple[str, ...], tuple[str, ...]]) -> Table:
    table = _read(folder, spec)
    if table is None:
        raise InputFileError(
            [InputProblem(f"{spec[0]}.xlsx/.csv", None, None, "berkas wajib tidak ditemukan")]
        )
    return table


# --- reading -----------------------------------------------------------------------------------


def policy_read(folder: Path, given: str | None) -> TppPolicy:
    """`given` (a shipped policy name or a YAML path), else the folder's kebijakan.yaml."""
    try:
        if given is not None and not given.endswith((".yaml", ".yml")):
            policy = policy_load(given)
            source = given
        else:
            path = Path(given) if given is not None else folder / POLICY_FILE
            source = path.name
            if not path.exists():
                raise PolicyError("berkas kebijakan tidak ditemukan (atau pakai --kebijakan)")
            policy = policy_from_yaml(path.read_text(encoding="utf-8"))
    except (PolicyError, OSError) as error:
        message = error.message if isinstance(error, PolicyError) else str(error)
        raise InputFileError([InputProblem(given or POLICY_FILE, None, None, message)]) from error
    errors = policy_validate(policy)
    if errors:
        raise InputFileError([InputProblem(source, None, None, e) for e in errors])
    return policy


def continuity_inputs_read(
    folder: Path, *, policy: TppPolicy, tz: tzinfo | None = None
) -> ContinuityInputs:
    """Every employee's month from the files in `folder`. InputFileError stops everything."""
    problems: list[InputProblem] = []
    bad: set[str] = set()

    def problem(table: Table, number: int | None, error: _RowError, nip: str | None) -> None:
        problems.append(InputProblem(table.name, number, error.column, error.message))
        if nip is not None:
            bad.add(nip)

    working = _working_days(_required(folder, WORKING_DAYS))
    first = working[0]
    month_last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    if not (policy.in_force_on(first) and policy.in_force_on(month_last)):
        raise InputFileError(
            [
                InputProblem(
                    POLICY_FILE,
                    None,
                    None,
                    f"kebijakan {policy.label} tidak berlaku untuk seluruh bulan {first:%m-%Y}",
                )
            ]
        )

    # Employees.
    employees_table = _required(folder, EMPLOYEES)
    problems.extend(employees_table.problems)
    people: dict[str, tuple[ContinuityEmployee, _Facts]] = {}
    for number, row in employees_table.rows:
        value = employees_table.value
        nip = None
        try:
            nip = _nip(value(row, "NIP"))
            if nip in people:
                raise _RowError("NIP", f"NIP {nip} tercatat dua kali")
            name = value(row, "Nama")
            if not name:
                raise _RowError("Nama", "wajib diisi")
            opd = value(row, "OPD")
            if not opd:
                raise _RowError("OPD", "wajib diisi")
            kind_text = value(row, "Jenis").upper()
            if kind_text not in ("", "PNS", "PPPK"):
                raise _RowError("Jenis", f"{kind_text!r}: isi PNS atau PPPK")
            kind: EmployeeKind = "PPPK" if nip[12:14] == PPPK_MARKER else "PNS"
            if kind_text == "PNS":
                kind = "PNS"
            elif kind_text == "PPPK":
                kind = "PPPK"
            plt_text = value(row, "Plt Kelas")
            details = _Facts(
                kelas=_kelas(value(row, "Kelas"), "Kelas"),
                kind=kind,
                start=_opt_date(value(row, "Mulai"), "Mulai"),
                end=_opt_date(value(row, "Selesai"), "Selesai"),
                plt=_kelas(plt_text, "Plt Kelas") if plt_text else None,
                tugas_belajar=_yes(value(row, "Tugas Belajar"), "Tugas Belajar"),
            )
        except _RowError as error:
            problem(employees_table, number, error, nip)
            continue
        people[nip] = (
            ContinuityEmployee(
                nip=nip,
                name=name,
                opd=opd,
                golongan=value(row, "Golongan"),
                jabatan=value(row, "Jabatan"),
                bank_name=value(row, "Bank"),
                bank_account=value(row, "Nomor Rekening"),
            ),
            details,
        )

    known_nips: dict[str, str] = {}
    """NIP cell text → the NIP of a known employee (most rows repeat one of them)."""

    def owner(table: Table, number: int, row: list[str]) -> str | None:
        text = table.value(row, "NIP")
        nip = known_nips.get(text)
        if nip is not None:
            return nip
        try:
            nip = _nip(text)
        except _RowError as error:
            problem(table, number, error, None)
            return None
        if nip not in people:
            if nip not in bad:
                problem(table, number, _RowError("NIP", f"NIP {nip} tidak ada di pegawai"), None)
            return None
        known_nips[text] = nip
        return nip

    # Kelas changes.
    changes: dict[str, list[tuple[date, int]]] = defaultdict(list)
    kelas_table = _read(folder, KELAS_CHANGES)
    if kelas_table is not None:
        problems.extend(kelas_table.problems)
        for number, row in kelas_table.rows:
            nip = owner(kelas_table, number, row)
            if nip is None:
                continue
            try:
                changes[nip].append(
                    (
                        _date(kelas_table.value(row, "Berlaku Mulai"), "Berlaku Mulai"),
                        _kelas(kelas_table.value(row, "Kelas"), "Kelas"),
                    )
                )
            except _RowError as error:
                problem(kelas_table, number, error, nip)

    # Days: verdicts or raw punches.
    plain_given = {d: DayRecord(d, 0) for d in working}
    """The common row (present, nothing else) as read, one object per day."""
    verdict_table = _read(folder, VERDICTS)
    punch_table = _read(folder, PUNCHES)
    if (verdict_table is None) == (punch_table is None):
        raise InputFileError(
            [
                InputProblem(
                    "presensi / presensi_mentah",
                    None,
                    None,
                    "isi tepat satu: presensi (kode harian) atau presensi_mentah (jam presensi)",
                )
            ]
        )
    given_days: dict[str, dict[date, DayRecord]] = defaultdict(dict)
    if verdict_table is not None:
        problems.extend(verdict_table.problems)
        day_of = _VerdictRows(verdict_table, policy, plain_given)
        nip_at = verdict_table.headers["NIP"]
        for number, row in verdict_table.rows:
            # `owner`, with its common case first: a NIP text already known.
            nip = known_nips.get(row[nip_at]) if nip_at < len(row) else None
            if nip is None:
                nip = owner(verdict_table, number, row)
                if nip is None:
                    continue
            try:
                record = day_of(row)
                days_of = given_days[nip]
                if record.date in days_of:
                    raise _RowError("Tanggal", f"{record.date:%d-%m-%Y} tercatat dua kali")
                days_of[record.date] = record
            except _RowError as error:
                problem(verdict_table, number, error, nip)
    else:
        assert punch_table is not None
        given_days = _days_from_punches(
            folder, punch_table, policy, working, people, owner, problem, problems, tz
        )

    # Productivity.
    productivity: dict[str, ProductivityInput] = {}
    productivity_table = _required(folder, PRODUCTIVITY)
    problems.extend(productivity_table.problems)
    needed = {"minutes": "Menit", "predicate": "Predikat", "realisation": "Realisasi"}[
        policy.productivity.method
    ]
    if needed not in productivity_table.headers:
        raise InputFileError(
            [
                InputProblem(
                    productivity_table.name,
                    1,
                    needed,
                    f"kolom wajib untuk metode produktivitas {policy.productivity.method}",
                )
            ]
        )
    for number, row in productivity_table.rows:
        nip = owner(productivity_table, number, row)
        if nip is None:
            continue
        value = productivity_table.value
        try:
            if nip in productivity:
                raise _RowError("NIP", f"NIP {nip} tercatat dua kali")
            minutes = value(row, "Menit")
            realisation = value(row, "Realisasi")
            given = ProductivityInput(
                minutes=_int(minutes, "Menit") if minutes else None,
                predicate=value(row, "Predikat") or None,
                realisation_percent=_percent(realisation) if realisation else None,
            )
            if needed == "Menit" and given.minutes is None:
                raise _RowError("Menit", "wajib diisi")
            if needed == "Realisasi" and given.realisation_percent is None:
                raise _RowError("Realisasi", "wajib diisi")
            if needed == "Predikat":
                if given.predicate is None:
                    raise _RowError("Predikat", "wajib diisi")
                if given.predicate not in policy.productivity.predicate_percents:
                    raise _RowError("Predikat", f"{given.predicate!r} tidak ada dalam kebijakan")
            productivity[nip] = given
        except _RowError as error:
            problem(productivity_table, number, error, nip)

    # Sanctions.
    sanctions: dict[str, list[SanctionInput]] = defaultdict(list)
    sanction_table = _read(folder, SANCTIONS)
    if sanction_table is not None:
        problems.extend(sanction_table.problems)
        for number, row in sanction_table.rows:
            nip = owner(sanction_table, number, row)
            if nip is None:
                continue
            code = sanction_table.value(row, "Kode").upper()
            try:
                if policy.sanction(code) is None:
                    known = ", ".join(t.code for t in policy.sanctions.types) or "tidak ada"
                    raise _RowError("Kode", f"{code!r} tidak ada dalam kebijakan ({known})")
                sanctions[nip].append(
                    SanctionInput(
                        code,
                        _date(sanction_table.value(row, "TMT"), "TMT"),
                        sanction_table.value(row, "Nomor SK"),
                    )
                )
            except _RowError as error:
                problem(sanction_table, number, error, nip)

    # Build the months.
    entries: list[ContinuityEntry] = []
    assumed: dict[str, int] = {}
    plain_days: dict[tuple[date, int], DayRecord] = {}
    for nip, (employee, d) in people.items():
        if nip in bad:
            continue
        if nip not in productivity and not d.tugas_belajar:
            problems.append(
                InputProblem(productivity_table.name, None, "NIP", f"NIP {nip} belum ada baris")
            )
            continue
        start, end = d.start, d.end
        in_post = _in_post(working, d)
        kelas_on = sorted(changes.get(nip, []))
        days = given_days.get(nip, {})
        outside = [x for x in days if x not in in_post]
        if outside:
            problems.append(
                InputProblem(
                    verdict_table.name if verdict_table else "presensi_mentah",
                    None,
                    "Tanggal",
                    f"NIP {nip}: {outside[0]:%d-%m-%Y} di luar masa jabatan pegawai",
                )
            )
            continue
        records = []
        missing = 0
        for x in in_post:
            kelas = d.kelas
            if kelas_on:
                for since, changed in kelas_on:
                    if since <= x:
                        kelas = changed
            listed = days.get(x)
            if listed is None:
                missing += 1
            plain_day = plain_given[x]
            if listed is None or listed is plain_day or listed == plain_day:
                # Plain present days are shared between employees (100,000 × 22 of them).
                plain = plain_days.get((x, kelas))
                if plain is None:
                    plain = plain_days[(x, kelas)] = DayRecord(x, kelas)
                records.append(plain)
            else:
                records.append(replace(listed, kelas_jabatan=kelas))
        plt = d.plt
        entries.append(
            ContinuityEntry(
                employee,
                EmployeeMonth(
                    year=first.year,
                    month=first.month,
                    working_days=tuple(working),
                    days=tuple(records),
                    productivity=productivity.get(nip, ProductivityInput()),
                    kind=d.kind,
                    golongan=employee.golongan or None,
                    start_date=start,
                    end_date=end,
                    sanctions=tuple(sanctions.get(nip, ())),
                    is_plt=plt is not None,
                    plt_kelas_jabatan=plt,
                    on_tugas_belajar=d.tugas_belajar,
                ),
            )
        )
        if missing and verdict_table is not None:
            assumed[nip] = missing

    signatories = _signatories(folder, problems)
    return ContinuityInputs(policy, entries, signatories, problems, assumed)


def _in_post(working: Sequence[date], facts: _Facts) -> list[date]:
    return [d for d in working if (facts.start or d) <= d <= (facts.end or d)]


def _percent(text: str) -> Decimal:
    try:
        value = Decimal(text.replace(",", ".").rstrip("%").strip())
    except InvalidOperation:
        raise _RowError("Realisasi", f"{text!r} bukan angka persen") from None
    if not value.is_finite() or value < 0:
        raise _RowError("Realisasi", f"{text!r} bukan angka persen")
    return value


def _working_days(table: Table) -> list[date]:
    problems = list(table.problems)
    days: list[date] = []
    for number, row in table.rows:
        try:
            day = _date(table.value(row, "Tanggal"), "Tanggal")
        except _RowError as error:
            problems.append(InputProblem(table.name, number, error.column, error.message))
            continue
        if day in days:
            problems.append(
                InputProblem(table.name, number, "Tanggal", f"{day:%d-%m-%Y} tercatat dua kali")
            )
        elif days and (day.year, day.month) != (days[0].year, days[0].month):
            problems.append(
                InputProblem(
                    table.name,
                    number,
                    "Tanggal",
                    f"{day:%d-%m-%Y} bukan bulan {days[0]:%m-%Y}; satu berkas untuk satu bulan",
                )
            )
        else:
            days.append(day)
    if not days and not problems:
        problems.append(InputProblem(table.name, None, "Tanggal", "belum ada hari kerja"))
    if problems:
        raise InputFileError(problems)
    return sorted(days)


class _VerdictRows:
    """`_verdict_row`, once per distinct row: a regency's presensi file has millions of rows
    but few distinct ones once the NIP is left out (a day, a code, a few minutes)."""

    def __init__(self, table: Table, policy: TppPolicy, plain: Mapping[date, DayRecord]) -> None:
        self.table, self.policy, self.plain = table, policy, plain
        read = [at for header, at in table.headers.items() if header != "NIP"]
        self.width = max(table.headers.values()) + 1
        self.key = itemgetter(*read) if len(read) > 1 else None
        self.made: dict[Any, DayRecord | _RowError] = {}

    def __call__(self, row: list[str]) -> DayRecord:
        if self.key is None or len(row) < self.width:
            return _verdict_row(self.table, row, self.policy, self.plain)
        key = self.key(row)
        made = self.made.get(key)
        if made is None:
            try:
                made = _verdict_row(self.table, row, self.policy, self.plain)
            except _RowError as error:
                made = error
            self.made[key] = made
        if isinstance(made, _RowError):
            raise _RowError(made.column, made.message)
        return made


def _verdict_row(
    table: Table, row: list[str], policy: TppPolicy, plain: Mapping[date, DayRecord]
) -> DayRecord:
    """The day of one presensi row; `plain` holds the common row (present, no marks) for each
    working day, returned as is."""
    value = table.value
    day = _date(value(row, "Tanggal"), "Tanggal")
    if day not in plain:
        raise _RowError("Tanggal", f"{day:%d-%m-%Y} tidak ada di hari_kerja")
    marks = [value(row, c) for c in ("TL", "PSW", "TL Istirahat", "Tidak Apel")]
    code = value(row, "Kode").upper() or DAY_PRESENT
    if code == DAY_PRESENT and not any(marks):
        return plain[day]  # the common row, without the checks below
    code = _VERDICT_ALIASES.get(code, code)
    if code not in (DAY_PRESENT, DAY_TK, DAY_OFF) and policy.absence(code) is None:
        known = ", ".join([DAY_PRESENT, DAY_TK, DAY_OFF, *(a.code for a in policy.absences)])
        raise _RowError("Kode", f"{code!r} tidak dikenal (pakai salah satu: {known})")
    tl_table = policy.discipline.tl
    psw_table = policy.discipline.psw
    tl = _band(value(row, "TL"), "TL", tl_table)
    psw = _band(value(row, "PSW"), "PSW", psw_table)
    break_tl = _band(value(row, "TL Istirahat"), "TL Istirahat", tl_table)
    if break_tl is not None and not tl_table.includes_break_return:
        raise _RowError("TL Istirahat", "kebijakan ini tidak menilai presensi setelah istirahat")
    missed_apel = _yes(value(row, "Tidak Apel"), "Tidak Apel")
    if missed_apel and policy.discipline.apel_percent is None:
        raise _RowError("Tidak Apel", "kebijakan ini tidak mengatur potongan apel")
    absence = policy.absence(code)
    at_work = code == DAY_PRESENT or (absence is not None and absence.treatment == "present")
    if not at_work and (tl or psw or break_tl or missed_apel):
        raise _RowError("Kode", f"hari {code} tidak boleh memuat TL, PSW atau apel")
    return DayRecord(day, 0, code, tl, psw, break_tl, missed_apel)


def _band(text: str, column: str, table: BandTable) -> str | None:
    text = text.strip().upper()
    if text in ("", "-", "0"):
        return None
    if text.isdigit():
        return band_code_for(table, int(text))
    if text == _NO_RECORD:
        return band_code_for(table, None)
    if table.percent_for(text) is None:
        raise _RowError(
            column,
            f"{text!r} bukan kode {table.label} (pakai {', '.join(table.codes)}, "
            "menit, atau 'tidak ada')",
        )
    return text


def _days_from_punches(
    folder: Path,
    punch_table: Table,
    policy: TppPolicy,
    working: Sequence[date],
    people: Mapping[str, tuple[ContinuityEmployee, _Facts]],
    find_owner: _Owner,
    report: _Report,
    problems: list[InputProblem],
    tz: tzinfo | None,
) -> dict[str, dict[date, DayRecord]]:
    """Classify each working day from raw punches with the verdict core."""
    zone = tz or ZoneInfo("Asia/Jakarta")
    schedules = _schedule_read(folder)
    bands = _bands_from_policy(policy)
    working_set = set(working)
    punches: dict[str, dict[date, list[AttendanceEvent]]] = defaultdict(lambda: defaultdict(list))
    problems.extend(punch_table.problems)
    for number, row in punch_table.rows:
        nip = find_owner(punch_table, number, row)
        if nip is None:
            continue
        try:
            day = _date(punch_table.value(row, "Tanggal"), "Tanggal")
            if day not in working_set:
                continue  # a punch on a day off moves no money
            moment = _clock(punch_table.value(row, "Jam"))
            kind_text = punch_table.value(row, "Jenis").lower()
            kind = {"masuk": "in", "in": "in", "pulang": "out", "out": "out"}.get(kind_text)
            if kind is None:
                raise _RowError("Jenis", f"{kind_text!r}: isi masuk atau pulang")
            punches[nip][day].append(
                AttendanceEvent(
                    datetime.combine(day, moment, zone),
                    "in" if kind == "in" else "out",
                    "berkas",
                )
            )
        except _RowError as error:
            report(punch_table, number, error, nip)
    absences: dict[str, list[Absence]] = defaultdict(list)
    absence_table = _read(folder, ABSENCES)
    if absence_table is not None:
        problems.extend(absence_table.problems)
        for number, row in absence_table.rows:
            nip = find_owner(absence_table, number, row)
            if nip is None:
                continue
            text = absence_table.value(row, "Jenis")
            kind_key = _ABSENCE_ALIASES.get(text.upper(), text.lower())
            try:
                if kind_key not in ABSENCE_TYPES:
                    raise _RowError(
                        "Jenis", f"{text!r} tidak dikenal (pakai {', '.join(ABSENCE_TYPES)})"
                    )
                absences[nip].append(
                    Absence(
                        kind_key,
                        _date(absence_table.value(row, "Mulai"), "Mulai"),
                        _date(absence_table.value(row, "Sampai"), "Sampai"),
                        absence_table.value(row, "Nomor Surat"),
                    )
                )
            except VerdictError as error:
                report(absence_table, number, _RowError("Sampai", error.message), nip)
            except _RowError as error:
                report(absence_table, number, error, nip)
    result: dict[str, dict[date, DayRecord]] = defaultdict(dict)
    for nip, (_employee, facts) in people.items():
        own_punches = punches.get(nip, {})
        own_absences = absences.get(nip, ())
        for day in _in_post(working, facts):
            verdict = classify_day(
                day,
                own_punches.get(day, ()),
                schedules,
                DayInfo(day, True, None, None),
                own_absences,
                bands,
                zone,
            )
            code = verdict.day_code
            if code not in (DAY_PRESENT, DAY_TK, DAY_OFF):
                code = _VERDICT_ALIASES.get(code.upper(), code.upper())
            result[nip][day] = DayRecord(
                day,
                0,
                code,
                verdict.in_code if code == DAY_PRESENT else None,
                verdict.out_code if code == DAY_PRESENT else None,
            )
    return result


def _clock(text: str) -> time:
    try:
        parts = [int(p) for p in text.replace(".", ":").split(":")]
        return time(parts[0], parts[1], parts[2] if len(parts) > 2 else 0)
    except (ValueError, TypeError, IndexError):
        raise _RowError("Jam", f"{text!r} bukan jam (tulis 07:45 atau 07:45:10)") from None


def _schedule_read(folder: Path) -> tuple[Schedule, ...]:
    path = folder / SCHEDULE_FILE
    if not path.exists():
        return (office_five_day_week(),)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        versions = data if isinstance(data, list) else [data]
        return tuple(schedule_from_data(v) for v in versions)
    except (ScheduleError, yaml.YAMLError, OSError, TypeError, KeyError) as error:
        message = getattr(error, "message", None) or str(error)
        raise InputFileError([InputProblem(SCHEDULE_FILE, None, None, message)]) from error


def _bands_from_policy(policy: TppPolicy) -> LatenessBands:
    """The verdict core's TL/PSW bands, taken from the TPP policy so both agree."""
    tl = policy.discipline.tl
    psw = policy.discipline.psw
    try:
        return LatenessBands(
            name=policy.label,
            valid_from=policy.valid_from,
            legal_basis=tl.legal_basis,
            tl=tuple(Band(b.code, b.min_minutes, b.max_minutes) for b in tl.bands),
            psw=tuple(Band(b.code, b.min_minutes, b.max_minutes) for b in psw.bands),
            missing_check_in=tl.missing_code,
            missing_check_out=psw.missing_code,
        )
    except BandsError as error:
        raise InputFileError([InputProblem(POLICY_FILE, None, None, error.message)]) from error


def _signatories(folder: Path, problems: list[InputProblem]) -> dict[str, tuple[Signatory, ...]]:
    table = _read(folder, SIGNATORIES)
    if table is None:
        return {}
    problems.extend(table.problems)
    found: dict[str, list[Signatory]] = defaultdict(list)
    for _number, row in table.rows:
        found[table.value(row, "OPD")].append(
            Signatory(
                table.value(row, "Jabatan"), table.value(row, "Nama"), table.value(row, "NIP")
            )
        )
    return {opd: tuple(people) for opd, people in found.items()}


# --- computing and writing -----------------------------------------------------------------------


@dataclass(frozen=True)
class OpdOutcome:
    """What a worker reports of one OPD once its files are written: the counts the summary
    shows and the OPD's rows of the regency's bank file (not the whole sheet: a regency's
    sheets would cost more to send back than to write)."""

    opd: str
    folder: str
    employees: int
    net: Decimal
    bank_rows: bytes
    """The OPD's `transfer_bank.csv` without its header line."""
    problems: tuple[InputProblem, ...]


_WORK: dict[str, object] = {}
"""What forked workers read (set before the pool starts, so it is shared copy-on-write)."""


def _opd_compute(job: tuple[str, str]) -> OpdOutcome:
    opd, folder_name = job
    inputs = _WORK["inputs"]
    out = _WORK["out"]
    regency = _WORK["regency"]
    groups = _WORK["groups"]
    assert isinstance(inputs, ContinuityInputs)
    assert isinstance(out, Path)
    assert isinstance(regency, str)
    assert isinstance(groups, dict)
    policy = inputs.policy
    rows: list[NominatifRow] = []
    text: list[str] = []
    problems: list[InputProblem] = []
    year = month = 0
    for entry in groups[opd]:
        employee = entry.employee
        year, month = entry.month.year, entry.month.month
        try:
            result = tpp_month_compute(entry.month, policy)
        except (TppInputError, PolicyError) as error:
            problems.append(InputProblem("pegawai", None, "NIP", f"{employee.nip}: {error}"))
            continue
        rows.append(
            nominatif_row_from_result(
                nip=employee.nip,
                name=employee.name,
                golongan=employee.golongan,
                jabatan=employee.jabatan,
                result=result,
                bank_name=employee.bank_name,
                bank_account=employee.bank_account,
            )
        )
        heading = f"NIP {employee.nip} — {employee.name}"
        if employee.golongan or employee.jabatan:
            heading += f" ({', '.join(p for p in (employee.golongan, employee.jabatan) if p)})"
        text.append(heading)
        text.extend(f"  {line}" for line in result.explanation)
        assumed = inputs.assumed_present.get(employee.nip)
        if assumed:
            text.append(
                f"  Catatan berkas: {assumed} hari kerja tanpa baris di presensi dihitung hadir "
                "tepat waktu (H)"
            )
        text.append("")
    sheet = NominatifSheet(
        regency=regency,
        opd=opd,
        year=year,
        month=month,
        policy_label=policy.label,
        rows=tuple(rows),
        signatories=inputs.signatories.get(opd, DEFAULT_SIGNATORIES),
    )
    target = out / folder_name
    target.mkdir(parents=True, exist_ok=True)
    (target / "rincian.txt").write_text("\n".join(text), encoding="utf-8")
    (target / "nominatif.xlsx").write_bytes(nominatif_xlsx(sheet))
    (target / "nominatif.pdf").write_bytes(nominatif_pdf(sheet))
    bank = bank_transfer_csv([sheet])
    (target / "transfer_bank.csv").write_bytes(bank)
    gc.collect(0)  # all this OPD made is still in the youngest generation
    return OpdOutcome(
        opd,
        folder_name,
        employees=len(sheet.rows),
        net=sheet.total("net"),
        bank_rows=bank.split(b"\r\n", 1)[1],
        problems=tuple(problems),
    )


def _folder_names(opds: Iterable[str]) -> dict[str, str]:
    names: dict[str, str] = {}
    used: set[str] = set()
    for opd in opds:
        base = re.sub(r"[^0-9A-Za-z]+", "_", opd).strip("_")[:60] or "OPD"
        name = base
        suffix = 2
        while name.lower() in used:
            name = f"{base}_{suffix}"
            suffix += 1
        used.add(name.lower())
        names[opd] = name
    return names


def continuity_compute(
    inputs: ContinuityInputs, out: Path, *, regency: str = "", processes: int = 1
) -> list[OpdOutcome]:
    """Compute every employee and write the outputs per OPD; the outcomes in OPD order."""
    groups: dict[str, list[ContinuityEntry]] = defaultdict(list)
    for entry in inputs.entries:
        groups[entry.employee.opd].append(entry)
    names = _folder_names(sorted(groups))
    jobs = sorted(names.items(), key=lambda job: -len(groups[job[0]]))
    out.mkdir(parents=True, exist_ok=True)
    _WORK.update(inputs=inputs, out=out, regency=regency, groups=dict(groups))
    # An OPD leaves a few cycles behind (the PDF and XLSX writers' objects): they are collected
    # once per OPD (`_opd_compute`) rather than by collections in the middle of its work.
    collecting = gc.isenabled()
    gc.disable()
    try:
        if processes > 1 and len(jobs) > 1 and "fork" in multiprocessing.get_all_start_methods():
            context = multiprocessing.get_context("fork")
            with context.Pool(min(processes, len(jobs))) as pool:
                outcomes = list(pool.imap_unordered(_opd_compute, jobs))
        else:
            outcomes = [_opd_compute(job) for job in jobs]
    finally:
        _WORK.clear()
        if collecting:
            gc.enable()
    outcomes.sort(key=lambda o: o.opd)
    header = bank_transfer_csv([])
    (out / "transfer_bank.csv").write_bytes(header + b"".join(o.bank_rows for o in outcomes))
    return outcomes


# --- writing the input files (for a database dump, and for tests) -------------------------------


def continuity_inputs_write(
    folder: Path,
    *,
    entries: Sequence[ContinuityEntry],
    policy: TppPolicy,
    signatories: Mapping[str, Sequence[Signatory]] | None = None,
    suffix: str = ".csv",
) -> None:
    """Write the input files for `entries` (every day explicit) so `tepat tpp compute` reads
    back the same months. All entries must share one month and one list of working days."""
    if not entries:
        raise ValueError("no employees to write")
    working = entries[0].month.working_days
    for entry in entries:
        if entry.month.working_days != working:
            raise ValueError(f"{entry.employee.nip}: working days differ from the first employee")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / POLICY_FILE).write_text(policy_to_yaml(policy), encoding="utf-8")
    table_write(folder / f"hari_kerja{suffix}", WORKING_DAYS[1], ([d, ""] for d in working))
    employees: list[list[object]] = []
    kelas_rows: list[list[object]] = []
    verdict_rows: list[list[object]] = []
    productivity_rows: list[list[object]] = []
    sanction_rows: list[list[object]] = []
    for entry in entries:
        e, m = entry.employee, entry.month
        first_kelas = m.days[0].kelas_jabatan if m.days else KELAS_JABATAN.start
        employees.append(
            [
                e.nip, e.name, e.golongan, e.jabatan, m.kind, e.opd, first_kelas, e.bank_name,
                e.bank_account, m.start_date or "", m.end_date or "",
                m.plt_kelas_jabatan if m.is_plt else "", "ya" if m.on_tugas_belajar else "",
            ]
        )  # fmt: skip
        kelas = first_kelas
        for day in m.days:
            if day.kelas_jabatan != kelas:
                kelas = day.kelas_jabatan
                kelas_rows.append([e.nip, day.date, kelas])
            verdict_rows.append(
                [
                    e.nip,
                    day.date,
                    day.code,
                    day.tl_code or "",
                    day.psw_code or "",
                    day.break_tl_code or "",
                    "ya" if day.missed_apel else "",
                ]
            )
        p = m.productivity
        productivity_rows.append(
            [
                e.nip,
                "" if p.minutes is None else p.minutes,
                p.predicate or "",
                "" if p.realisation_percent is None else f"{p.realisation_percent:f}",
            ]
        )
        sanction_rows.extend([e.nip, s.code, s.starts, s.decree] for s in m.sanctions)
    table_write(folder / f"pegawai{suffix}", EMPLOYEES[1], employees)
    table_write(folder / f"kelas{suffix}", KELAS_CHANGES[1], kelas_rows)
    table_write(folder / f"presensi{suffix}", VERDICTS[1], verdict_rows)
    table_write(folder / f"kinerja{suffix}", PRODUCTIVITY[1], productivity_rows)
    table_write(folder / f"hukuman_disiplin{suffix}", SANCTIONS[1], sanction_rows)
    if signatories:
        table_write(
            folder / f"penandatangan{suffix}",
            SIGNATORIES[1],
            ([opd, s.role, s.name, s.nip] for opd, people in signatories.items() for s in people),
        )


# --- the command line --------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tepat tpp compute",
        description=(
            "Hitung TPP satu bulan dari berkas (tanpa basis data dan tanpa jaringan). "
            "Format berkas: docs/continuity.md."
        ),
    )
    parser.add_argument("masukan", type=Path, help="folder berkas masukan")
    parser.add_argument(
        "--keluaran", type=Path, help="folder hasil (bawaan: <masukan>/hasil)", default=None
    )
    parser.add_argument(
        "--kebijakan",
        help="nama kebijakan bawaan (kaur_style, ttu_style) atau berkas YAML; "
        "bawaan: kebijakan.yaml di folder masukan",
    )
    parser.add_argument("--kabupaten", default="", help='mis. "Pemerintah Kabupaten Kaur"')
    parser.add_argument(
        "--zona", default="Asia/Jakarta", help="zona waktu presensi_mentah (bawaan Asia/Jakarta)"
    )
    parser.add_argument(
        "--proses", type=int, default=os.cpu_count() or 1, help="jumlah proses paralel"
    )
    return parser


def main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(list(argv))
    folder: Path = args.masukan
    out: Path = args.keluaran or folder / "hasil"
    if not folder.is_dir():
        print(f"Folder masukan {folder} tidak ditemukan", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        zone = ZoneInfo(args.zona)
    except (ZoneInfoNotFoundError, ValueError):
        print(f"Zona waktu {args.zona!r} tidak dikenal", file=sys.stderr)
        return EXIT_BAD_INPUT
    # Reading makes millions of objects that all live until the end: the garbage collector
    # would walk them again and again as they pile up (most of the reading time of a regency),
    # so it waits, and then leaves them out of its walks for good (in the forked workers too,
    # where walking them would also copy the pages that hold them).
    gc.disable()
    try:
        policy = policy_read(folder, args.kebijakan)
        inputs = continuity_inputs_read(folder, policy=policy, tz=zone)
    except InputFileError as error:
        _problems_report(out, error.problems, stopped=True)
        return EXIT_BAD_INPUT
    finally:
        gc.freeze()
        gc.enable()
    outcomes = continuity_compute(inputs, out, regency=args.kabupaten, processes=args.proses)
    problems = [*inputs.problems, *(p for o in outcomes for p in o.problems)]
    employees = sum(o.employees for o in outcomes)
    net = sum((o.net for o in outcomes), Decimal(0))
    print(
        f"TPP {policy.label}: {employees} pegawai di {len(outcomes)} OPD dihitung, "
        f"jumlah bersih {net:f} rupiah. Hasil di {out}"
    )
    if problems:
        _problems_report(out, problems, stopped=False)
        return EXIT_BAD_INPUT
    (out / "kesalahan.txt").unlink(missing_ok=True)
    return EXIT_OK


def _problems_report(out: Path, problems: Sequence[InputProblem], *, stopped: bool) -> None:
    head = (
        "Perhitungan dihentikan; tidak ada hasil yang ditulis:"
        if stopped
        else f"{len(problems)} masalah pada berkas masukan; pegawai yang bermasalah tidak "
        "dihitung. Perbaiki lalu jalankan ulang sebelum membayar:"
    )
    lines = [head, *(f"- {p.text()}" for p in problems)]
    print("\n".join(lines), file=sys.stderr)
    out.mkdir(parents=True, exist_ok=True)
    (out / "kesalahan.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
