"""NIP (Nomor Induk Pegawai) validation, parsing and generation.

Both kinds of ASN number are 18 digits::

    PNS   YYYYMMDD YYYYMM G NNN   birth date, TMT CPNS year+month, gender, serial
    PPPK  YYYYMMDD YYYY21 G NNN   birth date, appointment year, literal "21", gender, serial

The "21" sits where a PNS NIP has its month, so it can never be a PNS month; that is how a
PPPK number (Nomor Induk PPPK) is told apart. Gender is 1 (laki-laki) or 2 (perempuan); the
serial runs 001-999.

The plausibility bounds below (birth year, earliest appointment year, age at appointment) are
sanity checks on the number's shape, not personnel policy, so they are constants here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal, get_args

EmployeeKind = Literal["PNS", "PPPK"]
Gender = Literal["L", "P"]
NipErrorReason = Literal[
    "format",
    "birth_date",
    "birth_year",
    "birth_future",
    "kind_mismatch",
    "appointment_month",
    "appointment_year",
    "appointment_future",
    "age_too_young",
    "age_too_old",
    "gender",
    "serial",
]

NIP_LENGTH = 18
PPPK_MARKER = "21"
MIN_BIRTH_YEAR = 1940
MIN_PNS_APPOINTMENT_YEAR = 1960
# PPPK exist since PP 49/2018; the first were appointed in 2019, so no earlier year is real.
MIN_PPPK_APPOINTMENT_YEAR = 2019
MIN_AGE_AT_APPOINTMENT_MONTHS = 18 * 12
MAX_AGE_AT_APPOINTMENT_MONTHS = 60 * 12

_NIP_DIGITS = re.compile(r"[0-9]{18}")
_GENDER_BY_DIGIT: dict[str, Gender] = {"1": "L", "2": "P"}
_DIGIT_BY_GENDER: dict[Gender, str] = {"L": "1", "P": "2"}


class NipError(ValueError):
    """A NIP that cannot be right. `message` is shown to the user; `reason` is for code."""

    def __init__(self, message: str, *, reason: NipErrorReason) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason


@dataclass(frozen=True)
class ParsedNip:
    nip: str
    """The normalised 18 digits."""
    kind: EmployeeKind
    birth_date: date
    appointed: date
    """TMT CPNS (first of its month) for PNS; 1 January of the appointment year for PPPK."""
    gender: Gender
    serial: int

    @property
    def spaced(self) -> str:
        """The NIP grouped the way it is printed on SK and ID cards: "19860926 201505 1 001"."""
        n = self.nip
        return f"{n[0:8]} {n[8:14]} {n[14]} {n[15:18]}"


def normalise_nip(raw: str) -> str:
    """Remove all whitespace (NIPs are often typed or pasted with spaces)."""
    return "".join(raw.split())


def parse_nip(raw: str, *, today: date, kind: EmployeeKind | None = None) -> ParsedNip:
    """Validate and split a NIP; raise NipError with an Indonesian message if it cannot be real.

    `today` bounds the appointment date (no appointment in the future). If `kind` is given,
    a NIP of the other kind is rejected.
    """
    if not isinstance(raw, str):
        raise NipError("NIP harus 18 digit angka", reason="format")
    return _parse(normalise_nip(raw), today=today, kind=kind)


def is_valid_nip(raw: str, *, today: date, kind: EmployeeKind | None = None) -> bool:
    try:
        parse_nip(raw, today=today, kind=kind)
    except NipError:
        return False
    return True


def make_nip(
    kind: EmployeeKind, birth_date: date, appointed: date, gender: Gender, serial: int
) -> str:
    """Build a NIP (for demo data). `parse_nip` on the result gives the same fields back.

    `appointed` must be the first of a month for PNS and 1 January for PPPK, because the NIP
    holds nothing finer. Argument shape errors raise ValueError; a combination that breaks a
    NIP rule (e.g. appointed at 17) raises NipError. The future-appointment check is left to
    `parse_nip`, which knows today's date.
    """
    _check_kind(kind)
    if gender not in _DIGIT_BY_GENDER:
        raise ValueError(f"gender must be 'L' or 'P', not {gender!r}")
    if not 0 <= serial <= 999:
        raise ValueError(f"serial must be between 1 and 999, not {serial}")
    if appointed.day != 1 or (kind == "PPPK" and appointed.month != 1):
        raise ValueError(
            "appointed must be the first of a month (PNS) or 1 January (PPPK), "
            f"not {appointed.isoformat()}"
        )
    slot = PPPK_MARKER if kind == "PPPK" else f"{appointed.month:02d}"
    nip = (
        f"{birth_date.year:04d}{birth_date.month:02d}{birth_date.day:02d}"
        f"{appointed.year:04d}{slot}{_DIGIT_BY_GENDER[gender]}{serial:03d}"
    )
    _parse(nip, today=None, kind=kind)
    return nip


def _check_kind(kind: EmployeeKind | None) -> None:
    if kind is not None and kind not in get_args(EmployeeKind):
        raise ValueError(f"kind must be 'PNS', 'PPPK' or None, not {kind!r}")


def _parse(nip: str, *, today: date | None, kind: EmployeeKind | None) -> ParsedNip:
    _check_kind(kind)
    if not _NIP_DIGITS.fullmatch(nip):
        raise NipError("NIP harus 18 digit angka", reason="format")

    birth_date = _birth_date(nip)
    if birth_date.year < MIN_BIRTH_YEAR:
        raise NipError(
            f"Tahun lahir pada NIP tidak mungkin ({birth_date.year}; paling awal {MIN_BIRTH_YEAR})",
            reason="birth_year",
        )
    if today is not None and birth_date > today:
        raise NipError(
            f"Tanggal lahir pada NIP belum terjadi ({birth_date:%d-%m-%Y})",
            reason="birth_future",
        )

    detected: EmployeeKind = "PPPK" if nip[12:14] == PPPK_MARKER else "PNS"
    if kind is not None and kind != detected:
        raise NipError(_kind_mismatch_message(nip, expected=kind), reason="kind_mismatch")

    year = int(nip[8:12])
    if detected == "PNS":
        appointed = _pns_appointed(nip, year, today)
        # Age by year and month: the TMT is always the 1st of a month, so days add nothing.
        age_if_january = age_if_december = _months(appointed) - _months(birth_date)
        appointment_text = f"TMT {appointed:%m-%Y}"
    else:
        appointed = _pppk_appointed(year, today)
        # A PPPK number holds only the year, so the appointment may fall in any month of it:
        # reject only ages that no month of that year can make plausible.
        age_if_january = _months(appointed) - _months(birth_date)
        age_if_december = age_if_january + 11
        appointment_text = f"diangkat {year}"
    if age_if_december < MIN_AGE_AT_APPOINTMENT_MONTHS:
        raise NipError(
            "Usia saat pengangkatan pada NIP kurang dari 18 tahun "
            f"(lahir {birth_date:%m-%Y}, {appointment_text})",
            reason="age_too_young",
        )
    if age_if_january > MAX_AGE_AT_APPOINTMENT_MONTHS:
        raise NipError(
            "Usia saat pengangkatan pada NIP lebih dari 60 tahun "
            f"(lahir {birth_date:%m-%Y}, {appointment_text})",
            reason="age_too_old",
        )

    gender_digit = nip[14]
    gender = _GENDER_BY_DIGIT.get(gender_digit)
    if gender is None:
        raise NipError(
            "Kode jenis kelamin pada NIP (digit ke-15) harus 1 (laki-laki) atau 2 (perempuan), "
            f"tertulis {gender_digit}",
            reason="gender",
        )
    serial = int(nip[15:18])
    if serial == 0:
        raise NipError("Nomor urut pada NIP tidak boleh 000", reason="serial")

    return ParsedNip(
        nip=nip,
        kind=detected,
        birth_date=birth_date,
        appointed=appointed,
        gender=gender,
        serial=serial,
    )


def _birth_date(nip: str) -> date:
    try:
        return date(int(nip[0:4]), int(nip[4:6]), int(nip[6:8]))
    except ValueError:
        raise NipError(
            f"Tanggal lahir pada NIP tidak valid ({nip[6:8]}-{nip[4:6]}-{nip[0:4]})",
            reason="birth_date",
        ) from None


def _kind_mismatch_message(nip: str, *, expected: EmployeeKind) -> str:
    if expected == "PNS":
        return "NIP ini berformat PPPK, bukan PNS"
    if 1 <= int(nip[12:14]) <= 12:
        return "NIP ini berformat PNS, bukan PPPK"
    return "NIP PPPK harus memuat kode 21 pada digit ke-13 dan ke-14"


def _pns_appointed(nip: str, year: int, today: date | None) -> date:
    month = int(nip[12:14])
    if not 1 <= month <= 12:
        raise NipError(
            f"Bulan TMT CPNS pada NIP tidak valid ({nip[12:14]})", reason="appointment_month"
        )
    if year < MIN_PNS_APPOINTMENT_YEAR:
        raise NipError(
            f"Tahun TMT CPNS pada NIP tidak mungkin ({year}; paling awal "
            f"{MIN_PNS_APPOINTMENT_YEAR})",
            reason="appointment_year",
        )
    appointed = date(year, month, 1)
    if today is not None and appointed > today:
        raise NipError(
            f"TMT CPNS pada NIP belum terjadi ({appointed:%m-%Y})", reason="appointment_future"
        )
    return appointed


def _pppk_appointed(year: int, today: date | None) -> date:
    if year < MIN_PPPK_APPOINTMENT_YEAR:
        raise NipError(
            f"Tahun pengangkatan PPPK pada NIP tidak mungkin ({year}; PPPK pertama diangkat "
            f"tahun {MIN_PPPK_APPOINTMENT_YEAR})",
            reason="appointment_year",
        )
    if today is not None and year > today.year:
        raise NipError(
            f"Tahun pengangkatan PPPK pada NIP belum terjadi ({year})",
            reason="appointment_future",
        )
    return date(year, 1, 1)


def _months(d: date) -> int:
    return d.year * 12 + d.month - 1
