"""e-Kinerja: checking a daily work report, and one employee's monthly evaluation, explained in
Indonesian.

Fetch-then-calculate, as in `tepat.rules.tpp`: the caller gathers the month's reports, the
supervisor's ratings, the targets and the employee's position into a `KinerjaMonth` and hands it
with the `KinerjaPolicy` in force on the month's first day to `kinerja_month_evaluate`, which
returns a `KinerjaResult` an officer can check by hand. Store it with `policy.label` and
`RULES_VERSION`. The reports come either one line each (`ReportLine`) or already summed
(`ReportTotals`, e.g. by the database for a whole province at once): `report_totals` is the one
definition of that sum, so both give the same result. `kinerja_months_evaluate` evaluates many
months under one policy, checking the policy once. Nothing here reads a clock or a database:
"now" and the site's zone are passed in.

The month (N = the month's working days, D = the working days in post)::

    approved       M  = Σ approved minutes of approved reports, except on a blocked day
                        (TK or whole-day leave in the attendance verdict: no work can be claimed)
    target         T  = policy target × |D| / N                (prorated for a partial month)
    capaian        C  = M / T × 100
    predicate      P  = matrix[hasil kerja, perilaku kerja]    (PermenPANRB 6/2022), if rated
    realisation    R  = mean over the targets of min(realised / (yearly target / 12), 1) × 100
    productivity   = min(cap, C | percent[P] | R)  by the policy's method;
                     100 for an exempt group (e.g. teachers, where the Perbup says so)

Percentages are exact (`fractions.Fraction`) until they are stored or shown, to 0,01%,
half up, once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Literal

from tepat.rules.formatting import format_number
from tepat.rules.kinerja_policy import (
    PREDICATE_LABELS,
    RATING_LABELS,
    Exemption,
    KinerjaPolicy,
    KinerjaPolicyError,
    Predicate,
    Rating,
    kinerja_policy_validate,
)
from tepat.rules.tpp import MONTH_NAMES, ProductivityInput, format_percent
from tepat.rules.verdict import ABSENCE_LABELS

RULES_VERSION = "kinerja-1"
"""Bump whenever a change here can alter a check or an evaluation; stored with each result."""

ReportStatus = Literal["pending", "approved", "rejected"]

_HUNDRED = Fraction(100)
_MONTHS_PER_YEAR = 12


class KinerjaInputError(ValueError):
    """Input that cannot be evaluated as given. `message` is Indonesian, for the operator."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- the predicate -----------------------------------------------------------------------------


def predicate_for(hasil_kerja: Rating, perilaku: Rating, policy: KinerjaPolicy) -> Predicate:
    """The PermenPANRB 6/2022 predicate for a pair of ratings, from the policy's matrix."""
    try:
        return policy.matrix[(hasil_kerja, perilaku)]
    except KeyError:
        raise KinerjaInputError(
            f"Penilaian hasil kerja {hasil_kerja!r} / perilaku {perilaku!r} tidak dikenal"
        ) from None


# --- one daily report --------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportSpan:
    """Another report of the same day that still counts (pending or approved)."""

    minutes: int
    start: time | None = None
    end: time | None = None


@dataclass(frozen=True)
class ReportDraft:
    day: date
    start: time | None
    end: time | None
    minutes: int | None
    """Only when no start/end is given: a duration."""
    day_code: str | None = None
    """The attendance verdict's code for the day, when one exists (e.g. "H", "TK", "cuti_sakit")."""


@dataclass(frozen=True)
class ReportCheck:
    minutes: int
    """The minutes the report claims (from start/end when given)."""
    late: bool
    deadline: datetime
    errors: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.errors


def report_deadline(day: date, policy: KinerjaPolicy, zone: tzinfo) -> datetime:
    """The last moment a report for `day` is on time, in the work site's zone."""
    rules = policy.report
    return datetime.combine(day + timedelta(days=rules.deadline_days), rules.deadline_time, zone)


def report_check(
    draft: ReportDraft,
    others: Sequence[ReportSpan],
    policy: KinerjaPolicy,
    *,
    submitted_at: datetime,
    now: datetime,
    zone: tzinfo,
) -> ReportCheck:
    """Whether a daily report can be filed, and whether it is late; every problem at once.

    `submitted_at` is when it was first filed (an offline phone's report counts from the moment
    the employee wrote it, which the server has trusted or not before calling this); `now` is
    the server's clock, for refusing days that have not come yet.
    """
    if submitted_at.tzinfo is None or now.tzinfo is None:
        raise KinerjaInputError("Waktu harus memiliki zona waktu")
    rules = policy.report
    errors: list[str] = []
    today = now.astimezone(zone).date()
    if draft.day > today:
        errors.append(f"Tanggal {_dmy(draft.day)} belum tiba; laporan hanya untuk hari yang sudah")

    minutes = draft.minutes or 0
    if (draft.start is None) != (draft.end is None):
        errors.append("Isi jam mulai dan jam selesai, atau kosongkan keduanya dan isi durasi")
    elif draft.start is not None and draft.end is not None:
        start_minute = draft.start.hour * 60 + draft.start.minute
        end_minute = draft.end.hour * 60 + draft.end.minute
        if end_minute <= start_minute:
            errors.append(
                f"Jam selesai ({draft.end:%H:%M}) harus setelah jam mulai ({draft.start:%H:%M})"
            )
        minutes = max(0, end_minute - start_minute)
        overlapping = [
            o
            for o in others
            if o.start is not None
            and o.end is not None
            and _minute_of(o.start) < end_minute
            and start_minute < _minute_of(o.end)
        ]
        for other in overlapping:
            assert other.start is not None
            assert other.end is not None
            errors.append(
                f"Waktu {draft.start:%H:%M}–{draft.end:%H:%M} bertumpang tindih dengan laporan "
                f"lain pada hari yang sama ({other.start:%H:%M}–{other.end:%H:%M})"
            )
    elif draft.minutes is None or draft.minutes < 1:
        errors.append("Durasi kegiatan harus paling sedikit 1 menit")

    limit = rules.max_minutes_per_day
    if minutes > limit:
        errors.append(f"Satu kegiatan tidak boleh lebih dari {_minutes(limit)} dalam sehari")
    else:
        already = sum(o.minutes for o in others)
        if minutes and already + minutes > limit:
            errors.append(
                f"Jumlah menit pada {_dmy(draft.day)} menjadi {_minutes(already + minutes)}, "
                f"lebih dari {_minutes(limit)} sehari (sudah tercatat {_minutes(already)})"
            )

    if draft.day_code is not None and draft.day_code in rules.blocked_day_codes:
        errors.append(
            f"Pada {_dmy(draft.day)} tercatat {_day_code_label(draft.day_code)}; tidak dapat "
            "mengisi waktu kerja pada hari itu"
        )

    deadline = report_deadline(draft.day, policy, zone)
    late = submitted_at > deadline
    if late and rules.late_accepted_days is not None:
        closes = deadline + timedelta(days=rules.late_accepted_days)
        if submitted_at > closes:
            errors.append(
                f"Batas pengisian laporan {_dmy(draft.day)} sudah lewat "
                f"({deadline.astimezone(zone):%d-%m-%Y %H:%M}"
                + (
                    f", susulan sampai {closes.astimezone(zone):%d-%m-%Y %H:%M}"
                    if rules.late_accepted_days
                    else ""
                )
                + ")"
            )
    return ReportCheck(minutes=minutes, late=late, deadline=deadline, errors=tuple(errors))


# --- the month ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportLine:
    day: date
    minutes: int
    """As claimed by the employee."""
    status: ReportStatus
    approved_minutes: int | None = None
    """As approved (the supervisor may adjust); None unless approved."""
    day_code: str | None = None
    """The attendance verdict's code for the day, when one exists."""


@dataclass(frozen=True)
class ReportTotals:
    """A month's reports as the evaluation reads them: counts and minutes per status, with the
    approved minutes on blocked days (TK, whole-day leave) apart."""

    pending: int = 0
    approved: int = 0
    rejected: int = 0
    """How many reports."""
    pending_minutes: int = 0
    rejected_minutes: int = 0
    """As claimed."""
    approved_minutes: int = 0
    """As approved (perhaps adjusted), on days where work could be claimed."""
    excluded_minutes: int = 0
    """As approved, on blocked days: not counted."""
    excluded_days: tuple[tuple[date, str], ...] = ()
    """The blocked days with approved minutes, and each one's day code."""


def report_totals(lines: Sequence[ReportLine], policy: KinerjaPolicy) -> ReportTotals:
    """Sum report lines as the month's evaluation counts them."""
    blocked = policy.report.blocked_day_codes
    approved = excluded = pending = rejected = 0
    counts = {"pending": 0, "approved": 0, "rejected": 0}
    excluded_days: dict[date, str] = {}
    for line in lines:
        counts[line.status] += 1
        if line.status == "pending":
            pending += line.minutes
        elif line.status == "rejected":
            rejected += line.minutes
        else:
            minutes = line.minutes if line.approved_minutes is None else line.approved_minutes
            if line.day_code is not None and line.day_code in blocked:
                excluded += minutes
                excluded_days[line.day] = line.day_code
            else:
                approved += minutes
    return ReportTotals(
        pending=counts["pending"],
        approved=counts["approved"],
        rejected=counts["rejected"],
        pending_minutes=pending,
        rejected_minutes=rejected,
        approved_minutes=approved,
        excluded_minutes=excluded,
        excluded_days=tuple(sorted(excluded_days.items())),
    )


@dataclass(frozen=True)
class RealisationItem:
    """One SKP indicator: its yearly target and what approved reports realised this month."""

    label: str
    yearly_target: Decimal
    realised: Decimal


@dataclass(frozen=True)
class KinerjaMonth:
    year: int
    month: int
    working_days: int
    """The month's working days (N)."""
    days_in_post: int
    """The working days the employee held a position in the month (|D|)."""
    reports: tuple[ReportLine, ...] = ()
    hasil_kerja: Rating | None = None
    perilaku: Rating | None = None
    realisation: tuple[RealisationItem, ...] = ()
    jabatan: str = ""
    unit_kind: str = ""
    totals: ReportTotals | None = None
    """The reports already summed, instead of `reports` (never both)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "reports", tuple(self.reports))
        object.__setattr__(self, "realisation", tuple(self.realisation))


@dataclass(frozen=True)
class KinerjaResult:
    year: int
    month: int
    policy_name: str
    policy_version: str
    rules_version: str
    method: str
    approved_minutes: int
    """Effective: approved minutes on days where work could be claimed."""
    excluded_minutes: int
    """Approved, but on a blocked day (TK, leave): not counted."""
    pending_minutes: int
    rejected_minutes: int
    report_counts: dict[str, int]
    target_minutes: Decimal
    capaian_percent: Decimal | None
    """Approved minutes against the target, uncapped, to 0,01%; None without days in post."""
    hasil_kerja: Rating | None
    perilaku: Rating | None
    predicate: Predicate | None
    realisation_percent: Decimal | None
    exemption: str
    """The exempt group's code, or ""."""
    productivity_percent: Decimal | None
    """What the TPP computation reads, after the cap; None while its input is missing."""
    explanation: tuple[str, ...] = field(repr=False)

    def tpp_input(self) -> ProductivityInput:
        """The month as `tepat.rules.tpp` reads it. `realisation_percent` carries this month's
        productivity percentage by the e-Kinerja method (exemptions applied), so a TPP policy
        with method "realisation" pays exactly what e-Kinerja shows."""
        return ProductivityInput(
            minutes=self.approved_minutes,
            predicate=self.predicate,
            realisation_percent=self.productivity_percent,
        )


def exemption_for(jabatan: str, unit_kind: str, policy: KinerjaPolicy) -> Exemption | None:
    """The first exempt group the position belongs to, if any."""
    name = jabatan.casefold()
    for exemption in policy.exemptions:
        if unit_kind in exemption.unit_kinds:
            return exemption
        if any(keyword.casefold() in name for keyword in exemption.jabatan_keywords):
            return exemption
    return None


def kinerja_month_evaluate(m: KinerjaMonth, policy: KinerjaPolicy) -> KinerjaResult:
    """The month's evaluation under `policy`. Raises KinerjaInputError or KinerjaPolicyError."""
    (result,) = kinerja_months_evaluate([m], policy)
    return result


def kinerja_months_evaluate(
    months: Sequence[KinerjaMonth], policy: KinerjaPolicy
) -> list[KinerjaResult]:
    """Each month's evaluation under `policy`, in order; the policy is checked once."""
    errors = kinerja_policy_validate(policy)
    if errors:
        raise KinerjaPolicyError(
            f"Kebijakan {policy.label} tidak dapat dipakai: {'; '.join(errors)}", errors=errors
        )
    return [_month_evaluate(m, policy) for m in months]


def _month_evaluate(m: KinerjaMonth, policy: KinerjaPolicy) -> KinerjaResult:
    if not 1 <= m.month <= 12:
        raise KinerjaInputError(f"Bulan {m.month} tidak valid")
    first = date(m.year, m.month, 1)
    month_name = f"{MONTH_NAMES[m.month - 1]} {m.year}"
    if not policy.in_force_on(first):
        raise KinerjaInputError(f"Kebijakan {policy.label} tidak berlaku pada {month_name}")
    if m.working_days < 0 or not 0 <= m.days_in_post <= m.working_days:
        raise KinerjaInputError(
            f"Hari kerja dalam jabatan ({m.days_in_post}) harus antara 0 dan jumlah hari kerja "
            f"bulan ini ({m.working_days})"
        )
    for line in m.reports:
        if (line.day.year, line.day.month) != (m.year, m.month):
            raise KinerjaInputError(f"Laporan {_dmy(line.day)} bukan laporan {month_name}")
        if line.minutes < 0 or (line.approved_minutes is not None and line.approved_minutes < 0):
            raise KinerjaInputError(f"Menit laporan {_dmy(line.day)} tidak boleh negatif")
    if m.totals is not None and m.reports:
        raise KinerjaInputError("Laporan diberikan dua kali: per baris dan sebagai jumlah")
    totals = m.totals or report_totals(m.reports, policy)
    if min(
        totals.pending, totals.approved, totals.rejected, totals.pending_minutes,
        totals.rejected_minutes, totals.approved_minutes, totals.excluded_minutes,
    ) < 0:  # fmt: skip
        raise KinerjaInputError(f"Jumlah laporan {month_name} tidak boleh negatif")
    for day, _code in totals.excluded_days:
        if (day.year, day.month) != (m.year, m.month):
            raise KinerjaInputError(f"Laporan {_dmy(day)} bukan laporan {month_name}")

    lines = [
        f"Kebijakan {policy.label}: {policy.regulation.strip()}, berlaku sejak "
        f"{_dmy(policy.valid_from)}; aturan hitung {RULES_VERSION}"
    ]

    approved, excluded = totals.approved_minutes, totals.excluded_minutes
    pending, rejected = totals.pending_minutes, totals.rejected_minutes
    counts = {"pending": totals.pending, "approved": totals.approved, "rejected": totals.rejected}
    lines.append(
        f"Laporan harian {month_name}: {counts['approved']} disetujui "
        f"({_minutes(approved + excluded)}), {counts['pending']} menunggu ({_minutes(pending)}), "
        f"{counts['rejected']} ditolak ({_minutes(rejected)})"
    )
    for day, code in totals.excluded_days:
        lines.append(
            f"{_dmy(day)}: tercatat {_day_code_label(code)}; menit yang disetujui pada hari itu "
            f"tidak dihitung{_basis(policy.report.legal_basis)}"
        )

    target_rules = policy.target
    capaian: Fraction | None = None
    target = Fraction(0)
    if m.days_in_post and m.working_days:
        target = Fraction(target_rules.minutes_per_month * m.days_in_post, m.working_days)
        capaian = Fraction(approved) / target * _HUNDRED
        prorate = (
            ""
            if m.days_in_post == m.working_days
            else (
                f" ({format_number(target_rules.minutes_per_month)} × "
                f"{m.days_in_post}/{m.working_days} hari kerja dalam jabatan)"
            )
        )
        lines.append(
            f"Menit kerja efektif disetujui: {format_number(approved)} dari target "
            f"{_number(target)} menit{prorate}: capaian {_percent(capaian)}"
            f"{_basis(target_rules.legal_basis)}"
        )
    else:
        lines.append(f"Tidak ada hari kerja dalam jabatan pada {month_name}; tidak ada target")

    predicate: Predicate | None = None
    if m.hasil_kerja is not None and m.perilaku is not None:
        predicate = predicate_for(m.hasil_kerja, m.perilaku, policy)
        lines.append(
            f"Hasil kerja {RATING_LABELS[m.hasil_kerja].lower()}, perilaku kerja "
            f"{RATING_LABELS[m.perilaku].lower()}: predikat {PREDICATE_LABELS[predicate]}"
            f"{_basis(policy.matrix_legal_basis)}"
        )
    else:
        lines.append("Hasil kerja dan perilaku kerja belum dinilai atasan: predikat belum ada")

    realisation = _realisation(m.realisation, lines)

    rules = policy.productivity
    exemption = exemption_for(m.jabatan, m.unit_kind, policy)
    productivity: Fraction | None
    if exemption is not None:
        productivity = _HUNDRED
        lines.append(
            f"{exemption.label}: tidak dikenai potongan produktivitas, capaian 100%"
            f"{_basis(exemption.legal_basis)}"
        )
    elif rules.method == "minutes":
        productivity = capaian
    elif rules.method == "predicate":
        productivity = None
        if predicate is not None:
            percent = rules.predicate_percents.get(predicate)
            if percent is None:
                raise KinerjaInputError(
                    f"Predikat {PREDICATE_LABELS[predicate]} tidak ada dalam tabel kebijakan"
                )
            productivity = Fraction(percent)
            lines.append(
                f"Predikat {PREDICATE_LABELS[predicate]}: {_percent(productivity)}"
                f"{_basis(rules.legal_basis)}"
            )
    else:
        productivity = realisation

    if productivity is not None:
        cap = Fraction(rules.cap_percent)
        if productivity > cap:
            lines.append(
                f"Capaian {_percent(productivity)} dibatasi {_percent(cap)}"
                f"{_basis(rules.legal_basis)}"
            )
            productivity = cap
        lines.append(
            f"Persentase produktivitas untuk TPP ({_METHOD_LABELS[rules.method]}): "
            f"{_percent(productivity)}"
        )
    else:
        lines.append(
            f"Persentase produktivitas untuk TPP ({_METHOD_LABELS[rules.method]}) belum dapat "
            "dihitung"
        )

    return KinerjaResult(
        year=m.year,
        month=m.month,
        policy_name=policy.name,
        policy_version=policy.version,
        rules_version=RULES_VERSION,
        method=rules.method,
        approved_minutes=approved,
        excluded_minutes=excluded,
        pending_minutes=pending,
        rejected_minutes=rejected,
        report_counts=counts,
        target_minutes=_hundredths(target),
        capaian_percent=None if capaian is None else _hundredths(capaian),
        hasil_kerja=m.hasil_kerja,
        perilaku=m.perilaku,
        predicate=predicate,
        realisation_percent=None if realisation is None else _hundredths(realisation),
        exemption="" if exemption is None else exemption.code,
        productivity_percent=None if productivity is None else _hundredths(productivity),
        explanation=tuple(lines),
    )


_METHOD_LABELS = {
    "minutes": "menit kerja",
    "predicate": "predikat",
    "realisation": "realisasi target",
}


# A province's months repeat the same few targets, quantities and percentages, so the exact
# arithmetic and its wording are cached. Equal values (Decimal 2 and 2.00, equal Fractions)
# give the same text, so the cache never changes a result.
_percent = lru_cache(maxsize=65_536)(format_percent)


@lru_cache(maxsize=65_536)
def _target_share(yearly_target: Decimal, realised: Decimal) -> tuple[Fraction, str]:
    """One indicator's share of its monthly target (capped at 100%), and the words for it."""
    monthly = Fraction(yearly_target) / _MONTHS_PER_YEAR
    share = min(Fraction(realised) / monthly, Fraction(1)) * _HUNDRED
    return share, (
        f"realisasi {_number(Fraction(realised))} dari {_number(monthly)} per bulan "
        f"({_number(Fraction(yearly_target))} setahun ÷ {_MONTHS_PER_YEAR}): {_percent(share)}"
    )


def _realisation(items: Sequence[RealisationItem], lines: list[str]) -> Fraction | None:
    shares: list[Fraction] = []
    for item in items:
        if item.yearly_target <= 0:
            lines.append(f"Target {item.label}: target tahunan kosong, tidak dihitung")
            continue
        share, words = _target_share(item.yearly_target, item.realised)
        shares.append(share)
        lines.append(f"Target {item.label}: {words}")
    if not shares:
        return None
    mean = sum(shares, Fraction(0)) / len(shares)
    lines.append(f"Rata-rata realisasi target bulan ini: {_percent(mean)}")
    return mean


@lru_cache(maxsize=65_536)
def _hundredths(value: Fraction) -> Decimal:
    """To 0,01, half up: the one rounding of a stored percentage or target."""
    scaled = value * 100
    whole, remainder = divmod(abs(scaled.numerator), scaled.denominator)
    if 2 * remainder >= scaled.denominator:
        whole += 1
    return Decimal(whole if scaled >= 0 else -whole).scaleb(-2)


def _number(value: Fraction) -> str:
    if value.denominator == 1:
        return format_number(value.numerator)
    return format_number(float(_hundredths(value)), 2)


def _minute_of(moment: time) -> int:
    return moment.hour * 60 + moment.minute


def _minutes(value: int) -> str:
    return f"{format_number(value)} menit"


def _dmy(day: date) -> str:
    return f"{day:%d-%m-%Y}"


def _basis(article: str) -> str:
    return f" — {article.strip()}" if article.strip() else ""


_DAY_CODE_LABELS: dict[str, str] = {
    "TK": "tidak masuk kerja tanpa keterangan (TK)",
    "LIBUR": "hari libur",
    **{code: label.lower() for code, label in ABSENCE_LABELS.items()},
}


def _day_code_label(code: str) -> str:
    return _DAY_CODE_LABELS.get(code, code)
