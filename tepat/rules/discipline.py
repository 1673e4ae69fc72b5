"""Absence without a valid reason (TK) against the PP 94/2021 discipline thresholds.

`discipline_status(days, policy, year=...)` reads one employee's working days in chronological
order and returns the current consecutive TK streak, the cumulative TK count of the calendar
year, every threshold crossed (with the day it was crossed) and the heaviest level reached, with
its sanction and article for PNS or for PPPK. The thresholds are dated policy data
(`policies/pp94_2021_discipline.yaml`), listed from the lightest to the heaviest.

Counting rules:

* Only working days are given, so weekends and holidays are skipped by construction: TK on
  Friday and Monday is a streak of 2. A day coded "LIBUR" (a working day turned into a day off)
  is skipped the same way; it neither counts nor breaks a streak.
* A day counts as TK when its code is in `tk_codes` (default: "TK"; pass the policy-mapped
  absence types too, see `tpp_policy.policy_day_is_tk`). Any other code, including an approved
  absence (izin, sakit, cuti, dinas luar), breaks the streak: PP 94/2021 counts absence "secara
  terus menerus", and a day with a valid reason interrupts it.
* Cumulative counts are per calendar year (`year`). Days of the year before may be given so a
  streak across New Year is seen (10 working days from 22 December to 6 January is one streak);
  they never count toward the cumulative total. A streak belongs to the year in which it reaches
  a threshold. So, across New Year only, the current streak can exceed the year's count.
* Late corrections are handled by recomputing from the corrected list: a TK day that became an
  approved absence (or was removed) lowers the counts; nothing is remembered between calls.

Alerts: each `ThresholdCrossing` has a `key` (year, threshold, occurrence). A cumulative threshold
is crossed at most once a year; a consecutive one once per streak that reaches it (the first,
second... streak of the year). `thresholds_newly_crossed(before, after)` returns the crossings
of `after` whose key `before` lacks, so re-running on the same data alerts nobody twice.

Outlook and escalation: `discipline_outlook` names the thresholds the employee is heading for
and how many more TK days reach each (the "heading for a sanction" list); `escalation_due_on`
gives the day an alert the atasan has not acted on goes to BKPSDM (policy `escalation`,
PP 94/2021 Pasal 26 ayat (1) and Pasal 28).

Sanctions decided: `policy.sanction_kinds` lists what an SK may impose (PP 94/2021 Pasal 8, and the
PPPK path), with the duration the regulation fixes; the tunjangan kinerja cuts carry the same codes
as the TPP policies' sanction tables. `sanction_months_touched` gives the months one covers.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, get_args

import yaml

from tepat.rules.nip import EmployeeKind

DisciplineLevel = Literal["peringatan", "ringan", "sedang", "berat"]
ThresholdBasis = Literal["cumulative", "consecutive"]

DAY_TK = "TK"
DAY_OFF = "LIBUR"
POLICY_DIR = Path(__file__).resolve().parent / "policies"
DEFAULT_POLICY = "pp94_2021_discipline"


class DisciplineError(ValueError):
    """Input or policy data that cannot be judged. `message` is Indonesian."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class DisciplineThreshold:
    code: str
    basis: ThresholdBasis
    min_days: int
    level: DisciplineLevel
    sanction_pns: str
    sanction_pppk: str
    article: str
    article_pppk: str


@dataclass(frozen=True)
class SanctionKind:
    """A sanction a decision (SK) may impose. `code` is shared with the TPP policies' sanction
    tables, so a recorded tunjangan kinerja cut needs no mapping to reach the TPP."""

    code: str
    label: str
    level: DisciplineLevel
    months: int | None
    """The duration the regulation fixes; None when it has none (a reprimand, a dismissal)."""
    applies_to: tuple[EmployeeKind, ...]
    article: str


def sanction_months_touched(starts: date, months: int | None) -> tuple[date, date]:
    """The first days of the first and the last month a sanction taking effect on `starts`
    covers: `months` whole months from the month of `starts`, or that month alone when the
    sanction has no duration."""
    first = starts.replace(day=1)
    index = first.year * 12 + first.month - 1 + max((months or 1) - 1, 0)
    return first, date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class DisciplinePolicy:
    name: str
    version: str
    regulation: str
    valid_from: date
    valid_to: date | None
    thresholds: tuple[DisciplineThreshold, ...]
    """From the lightest to the heaviest."""
    atasan_response_days: int | None = None
    """Calendar days the atasan has to act on an alert before BKPSDM is told (None: never)."""
    escalation_article: str = ""
    sanction_kinds: tuple[SanctionKind, ...] = ()
    """The sanctions a decision may impose, from the lightest to the heaviest."""

    @property
    def label(self) -> str:
        return f"{self.name} versi {self.version}"

    def sanction_kind(self, code: str) -> SanctionKind | None:
        return next((k for k in self.sanction_kinds if k.code == code), None)

    def sanction_kinds_for(self, kind: EmployeeKind) -> tuple[SanctionKind, ...]:
        return tuple(k for k in self.sanction_kinds if kind in k.applies_to)

    def in_force_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    @cached_property
    def problems(self) -> tuple[str, ...]:
        """``discipline_policy_validate``, worked out once per policy (the value is frozen):
        a province's discipline list judges tens of thousands of people with one policy."""
        return tuple(discipline_policy_validate(self))


@dataclass(frozen=True)
class DisciplineDay:
    """One working day and its final day code ("TK", "H", an absence type, "LIBUR")."""

    date: date
    code: str


@dataclass(frozen=True)
class ThresholdCrossing:
    year: int
    threshold: DisciplineThreshold
    occurrence: int
    """1 for a cumulative threshold; the n-th streak of the year for a consecutive one."""
    on: date
    """The working day on which the count reached the threshold."""

    @property
    def key(self) -> tuple[int, str, int]:
        return (self.year, self.threshold.code, self.occurrence)


@dataclass(frozen=True)
class DisciplineStatus:
    year: int
    kind: EmployeeKind
    policy_name: str
    policy_version: str
    consecutive_tk: int
    """The streak of TK working days ending at the last day given (0 if that day is not TK)."""
    longest_consecutive_tk: int
    """The longest streak reaching into `year`."""
    cumulative_tk_year: int
    level: DisciplineLevel | None
    sanction: str | None
    article: str | None
    message_id: str
    """The status in Indonesian, for the employee, the atasan and BKPSDM."""
    thresholds_crossed: tuple[ThresholdCrossing, ...]
    """In the order they were crossed."""


def discipline_status(
    days: Iterable[DisciplineDay],
    policy: DisciplinePolicy,
    *,
    year: int,
    kind: EmployeeKind = "PNS",
    tk_codes: Collection[str] = frozenset({DAY_TK}),
) -> DisciplineStatus:
    """The discipline status for `year` from working days in chronological order."""
    problems = policy.problems
    if problems:
        raise DisciplineError(
            f"Kebijakan {policy.label} tidak dapat dipakai: {'; '.join(problems)}"
        )
    if kind not in get_args(EmployeeKind):
        raise DisciplineError(f"Jenis pegawai {kind!r} tidak dikenal")
    if not (policy.in_force_on(date(year, 12, 31)) or policy.in_force_on(date(year, 1, 1))):
        raise DisciplineError(f"Kebijakan {policy.label} tidak berlaku pada tahun {year}")

    consecutive = [t for t in policy.thresholds if t.basis == "consecutive"]
    cumulative = [t for t in policy.thresholds if t.basis == "cumulative"]
    occurrences = {t.code: 0 for t in consecutive}
    crossed: list[ThresholdCrossing] = []
    streak = longest = total = 0
    previous: date | None = None
    for day in days:
        if previous is not None and day.date <= previous:
            raise DisciplineError(
                f"Hari kerja harus urut dan tidak ganda ({day.date:%d-%m-%Y} sesudah "
                f"{previous:%d-%m-%Y})"
            )
        if day.date.year > year:
            raise DisciplineError(f"{day.date:%d-%m-%Y} sesudah tahun {year}")
        previous = day.date
        if day.code == DAY_OFF:
            continue
        if day.code not in tk_codes:
            streak = 0
            continue
        streak += 1
        if day.date.year != year:
            continue
        total += 1
        longest = max(longest, streak)
        for threshold in consecutive:
            if streak == threshold.min_days:
                occurrences[threshold.code] += 1
                crossed.append(
                    ThresholdCrossing(year, threshold, occurrences[threshold.code], day.date)
                )
        for threshold in cumulative:
            if total == threshold.min_days:
                crossed.append(ThresholdCrossing(year, threshold, 1, day.date))

    reached = _heaviest(policy, crossed)
    sanction = article = None
    level: DisciplineLevel | None = None
    if reached is not None:
        level = reached.level
        sanction = reached.sanction_pns if kind == "PNS" else reached.sanction_pppk
        article = reached.article if kind == "PNS" else reached.article_pppk
    return DisciplineStatus(
        year=year,
        kind=kind,
        policy_name=policy.name,
        policy_version=policy.version,
        consecutive_tk=streak,
        longest_consecutive_tk=longest,
        cumulative_tk_year=total,
        level=level,
        sanction=sanction,
        article=article,
        message_id=_message(year, kind, streak, longest, total, reached, sanction, article),
        thresholds_crossed=tuple(crossed),
    )


def thresholds_newly_crossed(
    before: DisciplineStatus | None, after: DisciplineStatus
) -> tuple[ThresholdCrossing, ...]:
    """Crossings in `after` that `before` did not have: one alert per crossing, never two."""
    seen = set() if before is None else {c.key for c in before.thresholds_crossed}
    return tuple(c for c in after.thresholds_crossed if c.key not in seen)


@dataclass(frozen=True)
class UpcomingThreshold:
    """A threshold not reached yet, and how many more TK working days reach it."""

    threshold: DisciplineThreshold
    days_to_go: int
    sanction: str
    article: str


def discipline_outlook(
    status: DisciplineStatus, policy: DisciplinePolicy
) -> tuple[UpcomingThreshold, ...]:
    """Where the employee is heading, nearest first: the next cumulative threshold of the year
    and, while a streak is running, every consecutive threshold it has not reached yet.

    A streak only goes on with the next working day, so consecutive thresholds are counted from
    the current streak and left out when there is none (a new streak starts from 1 again)."""

    def upcoming(threshold: DisciplineThreshold, count: int) -> UpcomingThreshold:
        pns = status.kind == "PNS"
        return UpcomingThreshold(
            threshold=threshold,
            days_to_go=threshold.min_days - count,
            sanction=threshold.sanction_pns if pns else threshold.sanction_pppk,
            article=threshold.article if pns else threshold.article_pppk,
        )

    found = [
        upcoming(t, status.consecutive_tk)
        for t in policy.thresholds
        if t.basis == "consecutive" and 0 < status.consecutive_tk < t.min_days
    ]
    next_cumulative = next(
        (
            t
            for t in policy.thresholds
            if t.basis == "cumulative" and status.cumulative_tk_year < t.min_days
        ),
        None,
    )
    if next_cumulative is not None:
        found.append(upcoming(next_cumulative, status.cumulative_tk_year))
    return tuple(sorted(found, key=lambda u: u.days_to_go))


def escalation_due_on(raised_on: date, policy: DisciplinePolicy) -> date | None:
    """The day on which an alert the atasan has not acted on goes to BKPSDM (None: never).

    Counted in calendar days from the day the alert was raised: the atasan's duty to summon
    (PP 94/2021 Pasal 26 ayat (1)) does not wait for working days."""
    if policy.atasan_response_days is None:
        return None
    return raised_on + timedelta(days=policy.atasan_response_days)


def _heaviest(
    policy: DisciplinePolicy, crossed: list[ThresholdCrossing]
) -> DisciplineThreshold | None:
    codes = {c.threshold.code for c in crossed}
    reached = [t for t in policy.thresholds if t.code in codes]
    return reached[-1] if reached else None


def _message(
    year: int,
    kind: EmployeeKind,
    streak: int,
    longest: int,
    total: int,
    reached: DisciplineThreshold | None,
    sanction: str | None,
    article: str | None,
) -> str:
    if total == 0:
        return f"Tidak ada hari kerja tanpa keterangan pada tahun {year}"
    text = (
        f"{total} hari kerja tidak masuk tanpa alasan yang sah pada tahun {year} (kumulatif); "
        f"berturut-turut terpanjang {longest} hari kerja"
    )
    if streak:
        text += f", saat ini {streak} hari kerja berturut-turut"
    if reached is None:
        return f"{text}. Belum mencapai batas hukuman disiplin"
    what = (
        f"{reached.min_days} hari kerja berturut-turut"
        if reached.basis == "consecutive"
        else f"{reached.min_days} hari kerja kumulatif"
    )
    if reached.level == "peringatan":
        return f"{text}. Batas {what} tercapai, tahap peringatan: {sanction} ({article})"
    return (
        f"{text}. Batas tertinggi yang tercapai: {what}, hukuman disiplin {reached.level} "
        f"untuk {kind}: {sanction} ({article})"
    )


# --- policy data -------------------------------------------------------------------------------


def discipline_policy_validate(policy: DisciplinePolicy) -> list[str]:
    """Every problem with the thresholds, as Indonesian sentences."""
    errors: list[str] = []
    if policy.valid_to is not None and policy.valid_to < policy.valid_from:
        errors.append("Tanggal akhir berlaku sebelum tanggal mulai")
    if not policy.thresholds:
        errors.append("Belum ada batas hari tanpa keterangan")
    if policy.atasan_response_days is not None and policy.atasan_response_days < 1:
        errors.append("Batas waktu tindak lanjut atasan harus paling sedikit 1 hari")
    codes: set[str] = set()
    last_by_basis: dict[str, int] = {}
    for t in policy.thresholds:
        if t.code in codes:
            errors.append(f"Kode batas {t.code} dipakai lebih dari sekali")
        codes.add(t.code)
        if t.basis not in get_args(ThresholdBasis):
            errors.append(f"{t.code}: dasar hitung {t.basis!r} tidak dikenal")
        if t.level not in get_args(DisciplineLevel):
            errors.append(f"{t.code}: tingkat {t.level!r} tidak dikenal")
        if t.min_days < 1:
            errors.append(f"{t.code}: jumlah hari harus paling sedikit 1")
        previous = last_by_basis.get(t.basis)
        if previous is not None and t.min_days <= previous:
            errors.append(
                f"{t.code}: batas {t.min_days} hari harus lebih besar dari batas sebelumnya "
                f"({previous} hari); urutkan dari yang teringan"
            )
        last_by_basis[t.basis] = t.min_days
    sanction_codes: set[str] = set()
    for k in policy.sanction_kinds:
        if k.code in sanction_codes:
            errors.append(f"Kode hukuman {k.code} dipakai lebih dari sekali")
        sanction_codes.add(k.code)
        if k.months is not None and k.months < 1:
            errors.append(f"{k.code}: lama hukuman harus paling sedikit 1 bulan")
        if not k.applies_to:
            errors.append(f"{k.code}: belum disebut berlaku untuk PNS atau PPPK")
    return errors


def _sanction_kinds_from(raw_kinds: Any) -> tuple[SanctionKind, ...]:
    if raw_kinds is None:
        return ()
    if not isinstance(raw_kinds, list):
        raise DisciplineError("Kebijakan disiplin tidak valid: sanction_kinds harus berupa daftar")
    kinds = []
    for i, raw in enumerate(raw_kinds):
        path = f"sanction_kinds[{i}]"
        item = _mapping(raw, path)
        level = _text(item, "level", path)
        if level not in get_args(DisciplineLevel):
            raise DisciplineError(f"{path}.level: {level!r} tidak dikenal")
        months = item.get("months")
        if months is not None and (isinstance(months, bool) or not isinstance(months, int)):
            raise DisciplineError(f"{path}.months: harus bilangan bulat atau null")
        applies_to = item.get("applies_to")
        if not isinstance(applies_to, list) or not all(
            a in get_args(EmployeeKind) for a in applies_to
        ):
            raise DisciplineError(f"{path}.applies_to: harus daftar berisi PNS dan/atau PPPK")
        kinds.append(
            SanctionKind(
                code=_text(item, "code", path),
                label=_text(item, "label", path),
                level=level,  # type: ignore[arg-type]  # checked above
                months=months,
                applies_to=tuple(applies_to),
                article=_text(item, "article", path),
            )
        )
    return tuple(kinds)


def discipline_policy_from_yaml(text: str) -> DisciplinePolicy:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise DisciplineError(f"Berkas kebijakan disiplin bukan YAML yang sah: {exc}") from None
    root = _mapping(data, "kebijakan")
    thresholds = []
    raw_thresholds = root.get("thresholds")
    if not isinstance(raw_thresholds, list):
        raise DisciplineError("Kebijakan disiplin tidak valid: thresholds harus berupa daftar")
    for i, raw in enumerate(raw_thresholds):
        item = _mapping(raw, f"thresholds[{i}]")
        basis = _text(item, "basis", f"thresholds[{i}]")
        level = _text(item, "level", f"thresholds[{i}]")
        if basis not in get_args(ThresholdBasis):
            raise DisciplineError(f"thresholds[{i}].basis: harus cumulative atau consecutive")
        if level not in get_args(DisciplineLevel):
            raise DisciplineError(f"thresholds[{i}].level: {level!r} tidak dikenal")
        min_days = item.get("min_days")
        if isinstance(min_days, bool) or not isinstance(min_days, int):
            raise DisciplineError(f"thresholds[{i}].min_days: harus bilangan bulat")
        thresholds.append(
            DisciplineThreshold(
                code=_text(item, "code", f"thresholds[{i}]"),
                basis=basis,  # type: ignore[arg-type]  # checked above
                min_days=min_days,
                level=level,  # type: ignore[arg-type]  # checked above
                sanction_pns=_text(item, "sanction_pns", f"thresholds[{i}]"),
                sanction_pppk=_text(item, "sanction_pppk", f"thresholds[{i}]"),
                article=_text(item, "article", f"thresholds[{i}]"),
                article_pppk=_text(item, "article_pppk", f"thresholds[{i}]"),
            )
        )
    response_days: int | None = None
    escalation_article = ""
    if root.get("escalation") is not None:
        escalation = _mapping(root["escalation"], "escalation")
        raw_days = escalation.get("atasan_response_days")
        if isinstance(raw_days, bool) or not isinstance(raw_days, int):
            raise DisciplineError("escalation.atasan_response_days: harus bilangan bulat")
        response_days = raw_days
        escalation_article = _text(escalation, "article", "escalation")
    valid_from = root.get("valid_from")
    valid_to = root.get("valid_to")
    if not isinstance(valid_from, date) or not (valid_to is None or isinstance(valid_to, date)):
        raise DisciplineError("Kebijakan disiplin tidak valid: valid_from/valid_to harus tanggal")
    return DisciplinePolicy(
        name=_text(root, "name", "kebijakan"),
        version=_text(root, "version", "kebijakan"),
        regulation=_text(root, "regulation", "kebijakan"),
        valid_from=valid_from,
        valid_to=valid_to,
        thresholds=tuple(thresholds),
        atasan_response_days=response_days,
        escalation_article=escalation_article,
        sanction_kinds=_sanction_kinds_from(root.get("sanction_kinds")),
    )


def discipline_policy_load(name: str = DEFAULT_POLICY) -> DisciplinePolicy:
    """A policy shipped in `tepat/rules/policies/<name>.yaml`."""
    if not name.replace("_", "").isalnum():
        raise DisciplineError(f"Nama kebijakan tidak valid: {name!r}")
    return discipline_policy_from_yaml((POLICY_DIR / f"{name}.yaml").read_text(encoding="utf-8"))


def _mapping(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise DisciplineError(f"Kebijakan disiplin tidak valid: {path} harus berupa pemetaan")
    return value


def _text(mapping: dict[str, Any], key: str, path: str) -> str:
    value = mapping.get(key)
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise DisciplineError(f"Kebijakan disiplin tidak valid: {path}.{key} harus berupa teks")
    return str(value)
