"""TPP for one employee and one month, explained line by line in Indonesian.

Fetch-then-calculate: the caller gathers the month into an `EmployeeMonth` (working days, one
`DayRecord` per working day in post, the approved productivity figure, sanctions, Plt) and
hands it with the `TppPolicy` in force to `tpp_month_compute`, which returns a `TppResult` with
every rupiah and the lines a BKPSDM officer can check by hand. Nothing here reads a clock or a
database. Store the result with its inputs, `policy.label` and `RULES_VERSION`.

The formula (N = the month's working days, D = the working days in post, less the days of an
"unpaid" absence type such as CLTN)::

    basic           B  = Σ over d in D of amount(kelas on d) / N
    paid factor     f  = tugas-belajar %  ×  each long-leave % that applies (else 100%)
    TPP awal        A  = B × f
    shares          Sd = A × discipline %,   Sp = A × productivity %
    discipline      Pd = min(Σ day deductions %, cap);     paid_d = rp(Sd × (100 − Pd) / 100)
    productivity    C  = min(capaian %, cap);              paid_p = rp(Sp × C / 100)
    sanctions       Ps = min(Σ active sanction %, cap);    cut    = rp(A × Ps / 100)
                                          (at most paid_d + paid_p: TPP never below zero)
    Plt             plt = rp(amount(Plt kelas) × |D| / N × Plt % / 100)
    gross           G  = paid_d + paid_p − cut + plt
    withholdings    each = rp(min(G, ceiling) × rate / 100), never more than what is left
    net             = G − tax − Σ withholdings

* Prorating: a day's basic is its kelas amount divided by the month's working days, so a
  mid-month transfer pays each kelas for the working days held at it, and a new employee is
  paid for the working days from the start date. A LIBUR day inside the working-day list (a
  day off decided for this employee) is prorated like any day in post, without deductions.
* Minutes target: target × |D| / N, i.e. prorated only for days out of post, not for
  approved absences.
* Rounding: `rp` (`_rupiah`) rounds to whole rupiah, ROUND_HALF_UP, and is called exactly
  once per paid component: paid_d, paid_p, cut, plt and each withholding line. Everything
  before it is exact rational arithmetic (`fractions.Fraction`), so no intermediate rounding
  leaks into the money. Intermediate amounts in the result and the explanation (basic, shares,
  deduction lines) are shown to the sen for reading only. Gross and net are sums of rounded
  components.
* One policy version per month: it must be in force on every day of the month. A Perbup that
  changes mid-month is refused (TppInputError) rather than half-applied.
* Each withholding line is rounded on its own, as payroll offices do; with two or more lines
  the net can therefore move one rupiah against the gross per extra line (both lines can round
  up on the same rupiah). With one line, a lower gross never gives a higher net.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from types import MappingProxyType
from typing import Literal

from tepat.rules.formatting import format_number
from tepat.rules.nip import EmployeeKind
from tepat.rules.tpp_policy import (
    DAY_OFF,
    DAY_PRESENT,
    DAY_TK,
    BandTable,
    PolicyError,
    TppPolicy,
    policy_validate,
)

RULES_VERSION = "tpp-1"
"""Version of the formula above. Bump it whenever a change can alter any result, and store it
with each result so a past month is recomputed and explained with the rules that made it."""

MONTH_NAMES = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)

Component = Literal["disiplin", "produktivitas", "hukuman_disiplin", "tpp_kotor", "potongan"]

_HUNDRED = Fraction(100)
_SEN = Decimal("0.01")


class TppInputError(ValueError):
    """A month that cannot be computed as given. `message` is Indonesian, for the operator."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- input -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayRecord:
    """One working day in post, as the attendance verdict left it.

    `code` is "H" (present), "TK", "LIBUR", or an absence type of the policy. `tl_code` and
    `psw_code` are codes of the policy's TL/PSW tables (`tpp_policy.band_code_for` turns
    minutes into one); `break_tl_code` is the late return from the midday break, for policies
    that band it.
    """

    date: date
    kelas_jabatan: int
    code: str = DAY_PRESENT
    tl_code: str | None = None
    psw_code: str | None = None
    break_tl_code: str | None = None
    missed_apel: bool = False


@dataclass(frozen=True)
class ProductivityInput:
    """The approved productivity figure; the policy's method says which one is read."""

    minutes: int | None = None
    predicate: str | None = None
    realisation_percent: Decimal | None = None


@dataclass(frozen=True)
class SanctionInput:
    """A disciplinary sanction whose cut starts in the month of `starts` (the TMT of the SK)
    and lasts as many months as the policy sets for its `code`."""

    code: str
    starts: date
    decree: str = ""


@dataclass(frozen=True)
class EmployeeMonth:
    year: int
    month: int
    working_days: tuple[date, ...]
    """The employee's working days in the month (schedule and calendar already applied)."""
    days: tuple[DayRecord, ...]
    """Exactly one record per working day in post."""
    productivity: ProductivityInput
    kind: EmployeeKind = "PNS"
    golongan: str | None = None
    """Golongan, e.g. "III/b" or PPPK "IX"; needed only when the policy withholds tax by it."""
    start_date: date | None = None
    """First day in post, when it falls in this month (a new employee)."""
    end_date: date | None = None
    """Last day in post, when it falls in this month."""
    sanctions: tuple[SanctionInput, ...] = ()
    """All sanctions that may touch the month; the policy decides which are active."""
    is_plt: bool = False
    plt_kelas_jabatan: int | None = None
    on_tugas_belajar: bool = False

    def __post_init__(self) -> None:
        for name in ("working_days", "days", "sanctions"):
            object.__setattr__(self, name, tuple(getattr(self, name)))


# --- result ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BasicSegment:
    """Working days held at one kelas jabatan."""

    kelas_jabatan: int
    amount: Decimal
    days: int
    first_day: date
    last_day: date
    rupiah: Decimal
    """amount × days / N, to the sen (shown, not paid)."""


@dataclass(frozen=True)
class DeductionLine:
    component: Component
    date: date | None
    code: str
    percent: Decimal
    rupiah: Decimal
    """percent × the component's base, to the sen (shown, not paid: the total is rounded)."""
    article: str


@dataclass(frozen=True)
class CapApplied:
    component: Component
    uncapped: Decimal
    capped: Decimal
    unit: Literal["%", "Rp"]
    article: str


@dataclass(frozen=True)
class WithholdingLine:
    code: str
    label: str
    percent: Decimal
    base: Decimal
    rupiah: Decimal
    article: str


@dataclass(frozen=True)
class TppResult:
    year: int
    month: int
    policy_name: str
    policy_version: str
    rules_version: str
    eligible: bool
    working_days: int
    days_in_post: int
    """Working days in post that are paid: days of an "unpaid" absence (CLTN) are not."""
    basic: Decimal
    """Prorated basic TPP, to the sen."""
    basic_segments: tuple[BasicSegment, ...]
    paid_percent: Decimal
    """The tugas-belajar and long-leave factor (100 when none applies)."""
    tpp_awal: Decimal
    discipline_share: Decimal
    productivity_share: Decimal
    discipline_deduction_percent: Decimal
    """After the cap."""
    productivity_percent: Decimal
    """Capaian after the cap, to 0,01%."""
    sanction_percent: Decimal
    deductions: tuple[DeductionLine, ...]
    caps: tuple[CapApplied, ...]
    discipline_paid: Decimal
    productivity_paid: Decimal
    sanction_cut: Decimal
    plt_paid: Decimal
    gross: Decimal
    withholdings: tuple[WithholdingLine, ...]
    net: Decimal
    explanation: tuple[str, ...] = field(repr=False)


# --- formatting --------------------------------------------------------------------------------


def format_rupiah(amount: Decimal | Fraction | int) -> str:
    """Rupiah the Indonesian way: "Rp 1.234.567", with sen only if any: "Rp 18.380,60".

    The value is rounded to the sen first (half-up, exactly), then printed from the whole
    number of sen, so no float is involved.
    """
    sen = _sen_count(amount)
    sign = "−" if sen < 0 else ""
    return f"{sign}Rp {_sen_text(abs(sen), 0 if sen % 100 == 0 else 2)}"


def format_percent(value: Decimal | Fraction) -> str:
    """A percentage the Indonesian way: "1,25%", "3%", "74,07%" (to 0,01% at most)."""
    sen = _sen_count(value)
    places = 0 if sen % 100 == 0 else 1 if sen % 10 == 0 else 2
    sign = "-" if sen < 0 else ""
    return f"{sign}{_sen_text(abs(sen), places)}%"


def _sen_text(sen: int, places: int) -> str:
    """A non-negative number of hundredths as Indonesian digits with 0, 1 or 2 decimals (the
    dropped digits are zeros): 123456789 → "1.234.567,89", places 0 → "1.234.567"."""
    whole, hundredths = divmod(sen, 100)
    text = f"{whole:,}".replace(",", ".")
    if places == 2:
        return f"{text},{hundredths:02d}"
    if places == 1:
        return f"{text},{hundredths // 10}"
    return text


def _sen_count(value: Decimal | Fraction | int) -> int:
    """The value in whole sen (hundredths), rounded half-up exactly."""
    if isinstance(value, int):
        return value * 100
    if isinstance(value, Decimal):
        numerator, denominator = value.as_integer_ratio()
    else:
        numerator, denominator = value.numerator, value.denominator
    numerator *= 100
    whole, remainder = divmod(abs(numerator), denominator)
    if 2 * remainder >= denominator:
        whole += 1
    return whole if numerator >= 0 else -whole


def _sen(value: Fraction) -> Decimal:
    """To the sen (two decimals), half-up: for display only, never for money."""
    return Decimal(_sen_count(value)).scaleb(-2)


def _half_up(value: Fraction) -> int:
    """Nearest integer, halves away from zero (ROUND_HALF_UP), computed exactly."""
    whole, remainder = divmod(abs(value.numerator), value.denominator)
    if 2 * remainder >= value.denominator:
        whole += 1
    return whole if value >= 0 else -whole


def _rupiah(value: Fraction) -> Decimal:
    """THE money rounding: whole rupiah, ROUND_HALF_UP. Called once per paid component."""
    return Decimal(_half_up(value))


@lru_cache(maxsize=4096)
def _fraction(value: Decimal) -> Fraction:
    """A Decimal of the policy or the input as an exact Fraction (the few distinct percents
    and amounts of a run are converted once)."""
    return Fraction(value)


@lru_cache(maxsize=1024)
def _day(d: date) -> str:
    return f"{d:%d-%m-%Y}"


def _rounded_text(exact: Fraction, paid: Decimal) -> str:
    if exact.denominator == 1 and exact.numerator == int(paid):
        return format_rupiah(paid)
    return f"{format_rupiah(exact)}, dibulatkan {format_rupiah(paid)}"


def _basis(article: str) -> str:
    return f" — {article}" if article else ""


# --- the computation ---------------------------------------------------------------------------


def tpp_month_compute(month_input: EmployeeMonth, policy: TppPolicy) -> TppResult:
    """The month's TPP under `policy`. Raises TppInputError or PolicyError, never guesses."""
    errors = _policy_errors(policy)
    if errors:
        raise PolicyError(
            f"Kebijakan {policy.label} tidak dapat dipakai: {'; '.join(errors)}", errors=errors
        )
    m = month_input
    if not 1 <= m.month <= 12:
        raise TppInputError(f"Bulan {m.month} tidak valid")
    first = date(m.year, m.month, 1)
    next_first = date(m.year + 1, 1, 1) if m.month == 12 else date(m.year, m.month + 1, 1)
    month_last = date.fromordinal(next_first.toordinal() - 1)
    month_name = f"{MONTH_NAMES[m.month - 1]} {m.year}"
    if not (policy.in_force_on(first) and policy.in_force_on(month_last)):
        raise TppInputError(
            f"Kebijakan {policy.label} tidak berlaku untuk seluruh bulan {month_name}"
        )

    working = sorted(set(m.working_days))
    if len(working) != len(m.working_days):
        raise TppInputError("Daftar hari kerja memuat tanggal ganda")
    if not working:
        raise TppInputError(f"Tidak ada hari kerja pada {month_name}")
    for d in working:
        if not first <= d <= month_last:
            raise TppInputError(f"Hari kerja {_day(d)} bukan tanggal {month_name}")
    start = m.start_date or first
    end = m.end_date or month_last
    in_post = [d for d in working if start <= d <= end]
    n_month = len(working)
    records = _records_check(m, policy, working, in_post, start, end)

    lines: list[str] = []
    lines.append(
        f"Kebijakan {policy.label}: {policy.regulation}, berlaku sejak "
        f"{_day(policy.valid_from)}; aturan hitung {RULES_VERSION}"
    )
    post_note = ""
    if m.start_date or m.end_date:
        post_note = f" ({_day(max(start, first))} s.d. {_day(min(end, month_last))})"
    lines.append(
        f"Hari kerja {month_name}: {n_month} hari; dalam jabatan: {len(in_post)} hari{post_note}"
    )

    records = _unpaid_days_out(records, policy, n_month, lines)
    days_paid = len(records)

    eligible = policy.pppk_eligible or m.kind != "PPPK"
    if not eligible:
        lines.append(
            f"PPPK tidak menerima TPP menurut kebijakan ini{_basis(policy.pppk_legal_basis)}"
        )
    if not eligible or not records:
        if eligible and in_post:
            lines.append("Tidak ada hari kerja yang dibayar pada bulan ini; TPP Rp 0")
        elif eligible:
            lines.append("Tidak ada hari kerja dalam jabatan pada bulan ini; TPP Rp 0")
        return _zero_result(m, policy, eligible, n_month, days_paid, lines)

    # Basic, prorated by working days at each kelas.
    segments: list[BasicSegment] = []
    basic = Fraction(0)
    for kelas, days in _segments(records):
        amount = policy.basic_amounts[kelas]
        exact = _fraction(amount) * len(days) / n_month
        basic += exact
        segments.append(
            BasicSegment(
                kelas_jabatan=kelas,
                amount=amount,
                days=len(days),
                first_day=days[0],
                last_day=days[-1],
                rupiah=_sen(exact),
            )
        )
        span = "" if len(days) == n_month else f" ({_day(days[0])} s.d. {_day(days[-1])})"
        lines.append(
            f"TPP dasar kelas {kelas}{span}: {format_rupiah(amount)} × {len(days)}/{n_month} "
            f"hari kerja = {format_rupiah(exact)}{_basis(policy.basic_legal_basis)}"
        )
    if len(segments) > 1:
        parts = " + ".join(format_rupiah(s.rupiah) for s in segments)
        lines.append(f"Jumlah TPP dasar: {parts} = {format_rupiah(basic)}")

    # Paid factor: tugas belajar and long leave.
    factor = Fraction(1)
    tb = policy.tugas_belajar
    if m.on_tugas_belajar:
        if tb is None:
            lines.append("Tugas belajar: kebijakan ini tidak mengatur pembayaran khusus")
        else:
            factor *= _fraction(tb.paid_percent) / _HUNDRED
            lines.append(
                f"Tugas belajar: TPP dibayar {format_percent(tb.paid_percent)}"
                f"{_basis(tb.legal_basis)}"
            )
    for rule in policy.long_leave:
        count = sum(1 for r in records if r.code in rule.absence_codes)
        if count >= rule.min_days:
            factor *= _fraction(rule.paid_percent) / _HUNDRED
            lines.append(
                f"{rule.label}: {count} hari kerja (batas {rule.min_days} hari), TPP dibayar "
                f"{format_percent(rule.paid_percent)}{_basis(rule.legal_basis)}"
            )
    awal = basic * factor
    if factor != 1:
        lines.append(
            f"TPP awal: {format_percent(factor * 100)} × {format_rupiah(basic)} = "
            f"{format_rupiah(awal)}"
        )

    split = policy.split
    share_d = awal * _fraction(split.discipline_percent) / _HUNDRED
    share_p = awal * _fraction(split.productivity_percent) / _HUNDRED
    lines.append(
        f"Porsi disiplin: {format_percent(split.discipline_percent)} × {format_rupiah(awal)} = "
        f"{format_rupiah(share_d)}{_basis(split.legal_basis)}"
    )
    lines.append(
        f"Porsi produktivitas: {format_percent(split.productivity_percent)} × "
        f"{format_rupiah(awal)} = {format_rupiah(share_p)}{_basis(split.legal_basis)}"
    )

    deductions: list[DeductionLine] = []
    caps: list[CapApplied] = []

    # Discipline share.
    rules = policy.discipline
    total_d = Fraction(0)
    # A month repeats a handful of percentages (TL1, PSW2, TK…): each one's rupiah and text
    # is worked out once per employee, not once per day.
    share_text = format_rupiah(share_d)
    by_percent: dict[Decimal, tuple[Decimal, str]] = {}
    for code, day, percent, article, label in _discipline_events(records, policy):
        exact_percent = _fraction(percent)
        total_d += exact_percent
        found = by_percent.get(percent)
        if found is None:
            rupiah = share_d * exact_percent / _HUNDRED
            found = by_percent[percent] = (
                _sen(rupiah),
                f"{format_percent(percent)} × {share_text} (porsi disiplin) = "
                f"{format_rupiah(rupiah)}",
            )
        deductions.append(
            DeductionLine(
                component="disiplin",
                date=day,
                code=code,
                percent=percent,
                rupiah=found[0],
                article=article,
            )
        )
        lines.append(f"{_day(day)} {label}: {found[1]}{_basis(article)}")
    cap_d = _fraction(rules.cap_percent)
    if total_d > cap_d:
        caps.append(
            CapApplied("disiplin", _dec(total_d), rules.cap_percent, "%", rules.cap_legal_basis)
        )
        lines.append(
            f"Jumlah potongan disiplin {format_percent(total_d)} melebihi batas; dipakai "
            f"{format_percent(cap_d)}{_basis(rules.cap_legal_basis)}"
        )
        total_d = cap_d
    elif deductions:
        lines.append(
            f"Jumlah potongan disiplin: {format_percent(total_d)} dari porsi disiplin "
            f"(batas {format_percent(cap_d)})"
        )
    else:
        lines.append("Tidak ada potongan disiplin")
    exact_d = share_d * (_HUNDRED - total_d) / _HUNDRED
    paid_d = _rupiah(exact_d)
    lines.append(
        f"TPP disiplin diterima: {format_rupiah(share_d)} × (100% − {format_percent(total_d)}) "
        f"= {_rounded_text(exact_d, paid_d)}"
    )

    # Productivity share.
    capaian = _capaian(m, policy, days_paid, n_month, lines)
    cap_p = _fraction(policy.productivity.cap_percent)
    if capaian > cap_p:
        caps.append(
            CapApplied(
                "produktivitas",
                _sen(capaian),
                policy.productivity.cap_percent,
                "%",
                policy.productivity.legal_basis,
            )
        )
        lines.append(f"Capaian {format_percent(capaian)} dibatasi {format_percent(cap_p)}")
        capaian = cap_p
    if capaian < _HUNDRED:
        shortfall = _HUNDRED - capaian
        deductions.append(
            DeductionLine(
                component="produktivitas",
                date=None,
                code="CAPAIAN",
                percent=_sen(shortfall),
                rupiah=_sen(share_p * shortfall / _HUNDRED),
                article=policy.productivity.legal_basis,
            )
        )
    exact_p = share_p * capaian / _HUNDRED
    paid_p = _rupiah(exact_p)
    lines.append(
        f"TPP produktivitas diterima: {format_rupiah(share_p)} × {format_percent(capaian)} = "
        f"{_rounded_text(exact_p, paid_p)}"
    )

    # Disciplinary sanctions, as a percentage of the TPP awal.
    month_index = m.year * 12 + m.month - 1
    total_s = Fraction(0)
    for sanction in m.sanctions:
        sanction_rule = policy.sanction(sanction.code)
        if sanction_rule is None:
            raise TppInputError(f"Jenis hukuman disiplin {sanction.code} tidak dikenal")
        first_index = sanction.starts.year * 12 + sanction.starts.month - 1
        last_index = first_index + sanction_rule.months - 1
        decree = f", {sanction.decree}" if sanction.decree else ""
        if not first_index <= month_index <= last_index:
            lines.append(
                f"Hukuman disiplin {sanction_rule.label}{decree} tidak berlaku pada {month_name} "
                f"(berlaku {_month_text(first_index)} s.d. {_month_text(last_index)})"
            )
            continue
        total_s += _fraction(sanction_rule.percent)
        rupiah = awal * _fraction(sanction_rule.percent) / _HUNDRED
        deductions.append(
            DeductionLine(
                component="hukuman_disiplin",
                date=None,
                code=sanction_rule.code,
                percent=sanction_rule.percent,
                rupiah=_sen(rupiah),
                article=sanction_rule.legal_basis,
            )
        )
        lines.append(
            f"Hukuman disiplin {sanction_rule.label}{decree} "
            f"(bulan ke-{month_index - first_index + 1} dari {sanction_rule.months}): "
            f"{format_percent(sanction_rule.percent)} × {format_rupiah(awal)} (TPP awal) = "
            f"{format_rupiah(rupiah)}{_basis(sanction_rule.legal_basis)}"
        )
    cap_s = _fraction(policy.sanctions.cap_percent)
    if total_s > cap_s:
        caps.append(
            CapApplied(
                "hukuman_disiplin",
                _dec(total_s),
                policy.sanctions.cap_percent,
                "%",
                policy.sanctions.legal_basis,
            )
        )
        lines.append(
            f"Jumlah potongan hukuman disiplin {format_percent(total_s)} melebihi batas; dipakai "
            f"{format_percent(cap_s)}{_basis(policy.sanctions.legal_basis)}"
        )
        total_s = cap_s
    sanction_cut = Decimal(0)
    if total_s:
        exact_s = awal * total_s / _HUNDRED
        sanction_cut = _rupiah(exact_s)
        lines.append(f"Potongan hukuman disiplin: {_rounded_text(exact_s, sanction_cut)}")
        if sanction_cut > paid_d + paid_p:
            caps.append(
                CapApplied(
                    "tpp_kotor",
                    sanction_cut,
                    paid_d + paid_p,
                    "Rp",
                    policy.sanctions.legal_basis,
                )
            )
            sanction_cut = paid_d + paid_p
            lines.append(
                f"Potongan hukuman disiplin dibatasi {format_rupiah(sanction_cut)} agar TPP "
                "tidak kurang dari nol"
            )

    # Plt top-up.
    plt_paid = Decimal(0)
    if m.is_plt:
        plt_paid = _plt(m, policy, days_paid, n_month, lines)

    gross = paid_d + paid_p - sanction_cut + plt_paid
    terms = f"{format_rupiah(paid_d)} + {format_rupiah(paid_p)}"
    if sanction_cut:
        terms += f" − {format_rupiah(sanction_cut)}"
    if m.is_plt and policy.plt is not None:
        terms += f" + {format_rupiah(plt_paid)}"
    lines.append(f"TPP kotor: {terms} = {format_rupiah(gross)}")

    withholdings = _withholdings(m, policy, gross, caps, lines)
    net = gross - sum((w.rupiah for w in withholdings), Decimal(0))
    if withholdings:
        minus = " − ".join(format_rupiah(w.rupiah) for w in withholdings)
        lines.append(f"TPP bersih: {format_rupiah(gross)} − {minus} = {format_rupiah(net)}")
    else:
        lines.append(f"TPP bersih: {format_rupiah(net)}")
    lines.append(
        "Angka sen di atas hanya tampilan; perhitungan memakai nilai tepat, dan setiap komponen "
        "yang dibayar dibulatkan satu kali ke rupiah penuh (setengah ke atas)"
    )

    return TppResult(
        year=m.year,
        month=m.month,
        policy_name=policy.name,
        policy_version=policy.version,
        rules_version=RULES_VERSION,
        eligible=True,
        working_days=n_month,
        days_in_post=days_paid,
        basic=_sen(basic),
        basic_segments=tuple(segments),
        paid_percent=_sen(factor * 100),
        tpp_awal=_sen(awal),
        discipline_share=_sen(share_d),
        productivity_share=_sen(share_p),
        discipline_deduction_percent=_dec(total_d),
        productivity_percent=_sen(capaian),
        sanction_percent=_dec(total_s),
        deductions=tuple(deductions),
        caps=tuple(caps),
        discipline_paid=paid_d,
        productivity_paid=paid_p,
        sanction_cut=sanction_cut,
        plt_paid=plt_paid,
        gross=gross,
        withholdings=withholdings,
        net=net,
        explanation=tuple(lines),
    )


_VALID_POLICIES: dict[int, TppPolicy] = {}
"""Policies already validated without error, by identity (a run computes thousands of months
under one policy). Only policies whose mappings are read-only views, as `policy_from_yaml`
builds them, are remembered; the entry holds the policy, so its id is never reused."""


def _policy_errors(policy: TppPolicy) -> list[str]:
    if _VALID_POLICIES.get(id(policy)) is policy:
        return []
    errors = policy_validate(policy)
    read_only = isinstance(policy.basic_amounts, MappingProxyType) and isinstance(
        policy.productivity.predicate_percents, MappingProxyType
    )
    if not errors and read_only:
        if len(_VALID_POLICIES) >= 16:
            _VALID_POLICIES.clear()
        _VALID_POLICIES[id(policy)] = policy
    return errors


def _dec(value: Fraction) -> Decimal:
    """A percentage sum of Decimal percents (always a terminating decimal) as Decimal."""
    return Decimal(value.numerator) / Decimal(value.denominator)


def _month_text(index: int) -> str:
    return f"{MONTH_NAMES[index % 12]} {index // 12}"


def _records_check(
    m: EmployeeMonth,
    policy: TppPolicy,
    working: Sequence[date],
    in_post: Sequence[date],
    start: date,
    end: date,
) -> list[DayRecord]:
    working_set = set(working)
    in_post_set = set(in_post)
    by_date: dict[date, DayRecord] = {}
    tl = policy.discipline.tl
    psw = policy.discipline.psw
    for record in m.days:
        d = record.date
        if d in by_date:
            raise TppInputError(f"Data hari {_day(d)} tercatat dua kali")
        if d not in working_set:
            raise TppInputError(f"{_day(d)} bukan hari kerja pegawai pada bulan ini")
        if d not in in_post_set:
            raise TppInputError(f"{_day(d)} di luar masa jabatan ({_day(start)} s.d. {_day(end)})")
        by_date[d] = record
        if record.kelas_jabatan not in policy.basic_amounts:
            raise TppInputError(
                f"{_day(d)}: kelas jabatan {record.kelas_jabatan} tidak ada dalam kebijakan"
            )
        absence = policy.absence(record.code)
        if record.code not in (DAY_PRESENT, DAY_TK, DAY_OFF) and absence is None:
            raise TppInputError(f"{_day(d)}: kode hari {record.code} tidak dikenal")
        at_work = record.code == DAY_PRESENT or (
            absence is not None and absence.treatment == "present"
        )
        marks = (record.tl_code, record.psw_code, record.break_tl_code)
        if not at_work and (any(marks) or record.missed_apel):
            raise TppInputError(
                f"{_day(d)}: hari {record.code} tidak boleh memuat TL, PSW atau apel"
            )
        if record.tl_code is not None and tl.percent_for(record.tl_code) is None:
            raise TppInputError(f"{_day(d)}: kode {record.tl_code} bukan kode {tl.label}")
        if record.break_tl_code is not None:
            if not tl.includes_break_return:
                raise TppInputError(
                    f"{_day(d)}: kebijakan ini tidak menilai presensi kembali dari istirahat"
                )
            if tl.percent_for(record.break_tl_code) is None:
                raise TppInputError(f"{_day(d)}: kode {record.break_tl_code} bukan kode {tl.label}")
        if record.psw_code is not None and psw.percent_for(record.psw_code) is None:
            raise TppInputError(f"{_day(d)}: kode {record.psw_code} bukan kode {psw.label}")
        if record.missed_apel and policy.discipline.apel_percent is None:
            raise TppInputError(f"{_day(d)}: kebijakan ini tidak mengatur potongan apel")
    for d in in_post:
        if d not in by_date:
            raise TppInputError(f"Data hari {_day(d)} belum ada")
    return [by_date[d] for d in in_post]


def _unpaid_days_out(
    records: list[DayRecord], policy: TppPolicy, n_month: int, lines: list[str]
) -> list[DayRecord]:
    """The days the employee is paid for: days whose absence type is "unpaid" (CLTN) are
    prorated out like days out of post, with one explanation line per absence type."""
    unpaid: dict[str, int] = {}
    paid: list[DayRecord] = []
    for record in records:
        absence = policy.absence(record.code)
        if absence is not None and absence.treatment == "unpaid":
            unpaid[absence.code] = unpaid.get(absence.code, 0) + 1
        else:
            paid.append(record)
    for code, count in unpaid.items():
        absence = policy.absence(code)
        assert absence is not None
        lines.append(
            f"{code} ({absence.label}) {count} hari kerja: tidak dibayar; TPP dihitung untuk "
            f"{len(paid)} dari {n_month} hari kerja{_basis(absence.legal_basis)}"
        )
    return paid


def _segments(records: Sequence[DayRecord]) -> list[tuple[int, list[date]]]:
    """Working days grouped by kelas jabatan, in order of first appearance."""
    groups: dict[int, list[date]] = {}
    for record in records:
        groups.setdefault(record.kelas_jabatan, []).append(record.date)
    return list(groups.items())


def _discipline_events(
    records: Sequence[DayRecord], policy: TppPolicy
) -> list[tuple[str, date, Decimal, str, str]]:
    """(code, date, percent, article, label for the explanation), chronologically."""
    rules = policy.discipline
    events: list[tuple[str, date, Decimal, str, str]] = []
    for record in records:
        d = record.date
        absence = policy.absence(record.code)
        if record.code == DAY_TK or (absence is not None and absence.treatment == "tk"):
            label = DAY_TK if absence is None else f"{DAY_TK} ({absence.label})"
            events.append((DAY_TK, d, rules.tk_percent_per_day, rules.tk_legal_basis, label))
        elif absence is not None and absence.treatment == "cut" and absence.percent is not None:
            label = f"{absence.code} ({absence.label})"
            events.append((absence.code, d, absence.percent, absence.legal_basis, label))
        marks: tuple[tuple[str | None, BandTable, str | None], ...] = (
            (record.tl_code, rules.tl, None),
            (record.break_tl_code, rules.tl, "masuk setelah istirahat"),
            (record.psw_code, rules.psw, None),
        )
        for code, table, note in marks:
            if code is None:
                continue
            percent = table.percent_for(code)
            assert percent is not None  # checked in _records_check
            text = code if note is None else f"{code} ({note})"
            events.append((code, d, percent, table.legal_basis, text))
        if record.missed_apel and rules.apel_percent is not None:
            events.append(
                ("APEL", d, rules.apel_percent, rules.apel_legal_basis, "tidak mengikuti apel")
            )
    return events


def _capaian(
    m: EmployeeMonth, policy: TppPolicy, days_in_post: int, n_month: int, lines: list[str]
) -> Fraction:
    """The productivity percentage before the cap."""
    rules = policy.productivity
    tb = policy.tugas_belajar
    if m.on_tugas_belajar and tb is not None and tb.productivity_exempt:
        lines.append(
            "Tugas belajar: tidak dikenai potongan produktivitas, capaian 100%"
            f"{_basis(tb.legal_basis)}"
        )
        return _HUNDRED
    given = m.productivity
    if rules.method == "minutes":
        if given.minutes is None or given.minutes < 0:
            raise TppInputError("Menit kerja yang disetujui belum diisi")
        assert rules.target_minutes is not None  # policy_validate
        target = Fraction(rules.target_minutes * days_in_post, n_month)
        capaian = Fraction(given.minutes) / target * _HUNDRED
        prorate = (
            ""
            if days_in_post == n_month
            else f" ({format_number(rules.target_minutes)} × {days_in_post}/{n_month} hari kerja)"
        )
        lines.append(
            f"Menit kerja disetujui: {format_number(given.minutes)} dari target "
            f"{format_number(float(target), 0 if target.denominator == 1 else 2)} menit{prorate}: "
            f"capaian {format_percent(capaian)}{_basis(rules.legal_basis)}"
        )
        return capaian
    if rules.method == "predicate":
        if given.predicate is None:
            raise TppInputError("Predikat kinerja bulan ini belum diisi")
        percent = rules.predicate_percents.get(given.predicate)
        if percent is None:
            raise TppInputError(f"Predikat kinerja {given.predicate} tidak ada dalam kebijakan")
        lines.append(
            f"Predikat kinerja {given.predicate}: capaian {format_percent(percent)}"
            f"{_basis(rules.legal_basis)}"
        )
        return _fraction(percent)
    if given.realisation_percent is None or given.realisation_percent < 0:
        raise TppInputError("Persentase realisasi target kinerja belum diisi")
    lines.append(
        f"Realisasi target kinerja bulanan: {format_percent(given.realisation_percent)}"
        f"{_basis(rules.legal_basis)}"
    )
    return Fraction(given.realisation_percent)


def _plt(
    m: EmployeeMonth, policy: TppPolicy, days_in_post: int, n_month: int, lines: list[str]
) -> Decimal:
    rule = policy.plt
    if rule is None:
        lines.append("Plt: kebijakan ini tidak memberi tambahan TPP Plt")
        return Decimal(0)
    kelas = m.plt_kelas_jabatan
    if kelas is None or kelas not in policy.basic_amounts:
        raise TppInputError("Kelas jabatan yang dijabat sebagai Plt belum diisi atau tidak dikenal")
    amount = policy.basic_amounts[kelas]
    exact = _fraction(amount) * days_in_post / n_month * _fraction(rule.percent) / _HUNDRED
    paid = _rupiah(exact)
    lines.append(
        f"Tambahan Plt kelas {kelas}: {format_percent(rule.percent)} × {format_rupiah(amount)} × "
        f"{days_in_post}/{n_month} hari kerja = {_rounded_text(exact, paid)}"
        f"{_basis(rule.legal_basis)}"
    )
    return paid


def _withholdings(
    m: EmployeeMonth,
    policy: TppPolicy,
    gross: Decimal,
    caps: list[CapApplied],
    lines: list[str],
) -> tuple[WithholdingLine, ...]:
    rows: list[tuple[str, str, Decimal, Decimal, str]] = []
    if policy.tax is not None:
        if not m.golongan:
            raise TppInputError(f"Golongan pegawai diperlukan untuk menghitung {policy.tax.label}")
        percent = policy.tax.percent_for(m.kind, m.golongan)
        label = f"{policy.tax.label} golongan {m.golongan}"
        rows.append(("PPH21", label, percent, gross, policy.tax.legal_basis))
    for rule in policy.withholdings:
        base = gross if rule.base_ceiling is None else min(gross, rule.base_ceiling)
        rows.append((rule.code, rule.label, rule.percent, base, rule.legal_basis))

    result: list[WithholdingLine] = []
    left = gross
    for code, label, percent, base, article in rows:
        exact = Fraction(base) * _fraction(percent) / _HUNDRED
        rupiah = _rupiah(exact)
        text = (
            f"{label}: {format_percent(percent)} × {format_rupiah(base)} = "
            f"{_rounded_text(exact, rupiah)}{_basis(article)}"
        )
        if rupiah > left:
            caps.append(CapApplied("potongan", rupiah, left, "Rp", article))
            rupiah = left
            text += f"; dibatasi {format_rupiah(rupiah)} agar TPP tidak kurang dari nol"
        left -= rupiah
        lines.append(text)
        result.append(WithholdingLine(code, label, percent, base, rupiah, article))
    return tuple(result)


def _zero_result(
    m: EmployeeMonth,
    policy: TppPolicy,
    eligible: bool,
    n_month: int,
    days_in_post: int,
    lines: list[str],
) -> TppResult:
    zero = Decimal(0)
    lines.append("TPP bersih: Rp 0")
    return TppResult(
        year=m.year,
        month=m.month,
        policy_name=policy.name,
        policy_version=policy.version,
        rules_version=RULES_VERSION,
        eligible=eligible,
        working_days=n_month,
        days_in_post=days_in_post,
        basic=zero,
        basic_segments=(),
        paid_percent=Decimal(100),
        tpp_awal=zero,
        discipline_share=zero,
        productivity_share=zero,
        discipline_deduction_percent=zero,
        productivity_percent=zero,
        sanction_percent=zero,
        deductions=(),
        caps=(),
        discipline_paid=zero,
        productivity_paid=zero,
        sanction_cut=zero,
        plt_paid=zero,
        gross=zero,
        withholdings=(),
        net=zero,
        explanation=tuple(lines),
    )
