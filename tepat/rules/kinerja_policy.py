"""The e-Kinerja policy: one dated version of the performance rules, as data with a legal basis.

A `KinerjaPolicy` holds what PermenPANRB 6/2022 and a regency's Perbup decide about daily work
reports (laporan harian) and the monthly evaluation: the report deadline and what happens to a
late report, the most minutes one day can hold, the attendance day codes on which no work can
be claimed, the monthly minutes target, the predicate matrix (hasil kerja × perilaku kerja),
the productivity method the TPP computation reads, the groups exempt from the productivity
deduction, and when a pending report needs a reminder. Each block carries its legal basis
(OpenFisca style); where no regulation backs a value, the legal basis says so ("CONTOH",
"PLACEHOLDER", "belum diverifikasi").

Policies are shipped as YAML under `policies/kinerja_*.yaml` and may be stored by BKPSDM in the
same YAML shape. `kinerja_policy_from_yaml` checks the shape, `kinerja_policy_validate` the
values (Indonesian sentences); `tepat.rules.kinerja` refuses a policy with errors.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Literal, get_args

import yaml

from tepat.rules.policy_node import PolicyNode

Rating = Literal["di_atas", "sesuai", "di_bawah"]
"""A supervisor's rating of hasil kerja or perilaku kerja against the expectation."""
Predicate = Literal["sangat_baik", "baik", "butuh_perbaikan", "kurang", "sangat_kurang"]
ProductivityMethod = Literal["minutes", "predicate", "realisation"]

RATINGS: tuple[Rating, ...] = get_args(Rating)
PREDICATES: tuple[Predicate, ...] = get_args(Predicate)
RATING_LABELS: Mapping[Rating, str] = MappingProxyType(
    {
        "di_atas": "Di atas ekspektasi",
        "sesuai": "Sesuai ekspektasi",
        "di_bawah": "Di bawah ekspektasi",
    }
)
PREDICATE_LABELS: Mapping[Predicate, str] = MappingProxyType(
    {
        "sangat_baik": "Sangat Baik",
        "baik": "Baik",
        "butuh_perbaikan": "Butuh Perbaikan",
        "kurang": "Kurang",
        "sangat_kurang": "Sangat Kurang",
    }
)

POLICY_DIR = Path(__file__).resolve().parent / "policies"
_HUNDRED = Decimal(100)
_DAY_MINUTES = 24 * 60


class KinerjaPolicyError(ValueError):
    """A policy that cannot be read, or has errors. `message` is Indonesian."""

    def __init__(self, message: str, *, errors: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.errors = tuple(errors)


@dataclass(frozen=True)
class ReportRules:
    """Daily work reports (laporan harian)."""

    deadline_days: int
    """0: by `deadline_time` on the day itself; N: by `deadline_time` N days later."""
    deadline_time: time
    """Local time (the work site's zone) on the last day."""
    late_accepted_days: int | None
    """Days after the deadline a late report is still accepted, marked late; None: always."""
    max_minutes_per_day: int
    """The most minutes all of one day's reports may claim together."""
    blocked_day_codes: frozenset[str]
    """Attendance day codes (TK, leave types) on which no work time may be claimed."""
    legal_basis: str


@dataclass(frozen=True)
class TargetRules:
    minutes_per_month: int
    """Prorated by working days in post for a partial month."""
    legal_basis: str


@dataclass(frozen=True)
class ProductivityRules:
    """How the monthly productivity percentage (what TPP reads) is found.

    * minutes: approved effective minutes / prorated target × 100.
    * predicate: the predicate's percentage from `predicate_percents`.
    * realisation: the mean realisation of the month's targets (each capped at 100%).
    """

    method: ProductivityMethod
    cap_percent: Decimal
    predicate_percents: Mapping[str, Decimal]
    legal_basis: str


@dataclass(frozen=True)
class Exemption:
    """A group exempt from the productivity deduction (productivity counts as 100%).

    An employee belongs to it when their unit kind is in `unit_kinds`, or their position's
    name contains one of `jabatan_keywords` (case-insensitive).
    """

    code: str
    label: str
    unit_kinds: frozenset[str]
    jabatan_keywords: tuple[str, ...]
    legal_basis: str


@dataclass(frozen=True)
class ReviewRules:
    reminder_after_days: int
    """A report pending this many days or more is reminded to its reviewer."""
    plt_leave_day_codes: frozenset[str]
    """A supervisor whose attendance day carries one of these codes is away: the next level
    up may decide in their place (Plt)."""
    legal_basis: str


@dataclass(frozen=True)
class KinerjaPolicy:
    name: str
    version: str
    regulation: str
    articles: tuple[str, ...]
    valid_from: date
    valid_to: date | None
    sources: tuple[str, ...]
    notes: str
    report: ReportRules
    target: TargetRules
    matrix: Mapping[tuple[Rating, Rating], Predicate]
    """(hasil kerja, perilaku kerja) → predicate; all nine cells."""
    matrix_legal_basis: str
    productivity: ProductivityRules
    exemptions: tuple[Exemption, ...]
    review: ReviewRules

    @property
    def label(self) -> str:
        return f"{self.name} versi {self.version}"

    def in_force_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


# --- choosing and loading ----------------------------------------------------------------------


def kinerja_policy_in_force(policies: Iterable[KinerjaPolicy], day: date) -> KinerjaPolicy:
    """The policy in force on `day`: the latest `valid_from` among those covering the day.

    A newer version supersedes an open-ended older one from its `valid_from`, as a Perbup
    amendment does; KinerjaPolicyError when none covers the day.
    """
    matching = [p for p in policies if p.in_force_on(day)]
    if not matching:
        raise KinerjaPolicyError(f"Tidak ada kebijakan e-Kinerja yang berlaku pada {day:%d-%m-%Y}")
    return max(matching, key=lambda p: (p.valid_from, p.version))


def kinerja_policy_load(name: str) -> KinerjaPolicy:
    """A policy shipped in `tepat/rules/policies/<name>.yaml`."""
    if not name.replace("_", "").isalnum():
        raise KinerjaPolicyError(f"Nama kebijakan tidak valid: {name!r}")
    return kinerja_policy_from_yaml((POLICY_DIR / f"{name}.yaml").read_text(encoding="utf-8"))


# --- validation --------------------------------------------------------------------------------


def kinerja_policy_validate(policy: KinerjaPolicy) -> list[str]:
    """Every problem with the policy, as Indonesian sentences; empty when it can be used."""
    errors: list[str] = []
    if policy.valid_to is not None and policy.valid_to < policy.valid_from:
        errors.append("Tanggal akhir berlaku lebih awal dari tanggal mulai berlaku")
    report = policy.report
    if report.deadline_days < 0:
        errors.append("Batas waktu laporan harian tidak boleh negatif")
    if report.late_accepted_days is not None and report.late_accepted_days < 0:
        errors.append("Masa penerimaan laporan terlambat tidak boleh negatif")
    if not 1 <= report.max_minutes_per_day <= _DAY_MINUTES:
        errors.append(
            f"Menit kerja paling banyak per hari ({report.max_minutes_per_day}) harus antara 1 "
            f"dan {_DAY_MINUTES}"
        )
    if policy.target.minutes_per_month < 1:
        errors.append("Target menit kerja per bulan harus lebih dari 0")
    missing = [
        f"{RATING_LABELS[h]} × {RATING_LABELS[p]}"
        for h in RATINGS
        for p in RATINGS
        if (h, p) not in policy.matrix
    ]
    if missing:
        errors.append(f"Matriks predikat belum lengkap: {', '.join(missing)}")
    for cell, predicate in policy.matrix.items():
        if predicate not in PREDICATES:
            errors.append(f"Predikat {predicate!r} pada matriks tidak dikenal")
        if cell[0] not in RATINGS or cell[1] not in RATINGS:
            errors.append(f"Sel matriks {cell!r} tidak dikenal")
    productivity = policy.productivity
    if productivity.method not in get_args(ProductivityMethod):
        errors.append(f"Metode produktivitas {productivity.method!r} tidak dikenal")
    _check_percent(errors, "Batas capaian produktivitas", productivity.cap_percent)
    for name, percent in productivity.predicate_percents.items():
        if name not in PREDICATES:
            errors.append(f"Predikat {name!r} pada tabel persentase tidak dikenal")
        _check_percent(errors, f"Persentase predikat {name}", percent)
    if productivity.method == "predicate":
        absent = [
            PREDICATE_LABELS[p] for p in PREDICATES if p not in productivity.predicate_percents
        ]
        if absent:
            errors.append(f"Persentase predikat belum diisi: {', '.join(absent)}")
    codes: set[str] = set()
    for exemption in policy.exemptions:
        if exemption.code in codes:
            errors.append(f"Kode pengecualian {exemption.code} dipakai lebih dari sekali")
        codes.add(exemption.code)
        if not exemption.unit_kinds and not exemption.jabatan_keywords:
            errors.append(f"Pengecualian {exemption.label} tidak menyebut siapa yang dikecualikan")
    if policy.review.reminder_after_days < 0:
        errors.append("Batas hari pengingat tinjauan tidak boleh negatif")
    return errors


def _check_percent(errors: list[str], what: str, value: Decimal) -> None:
    if not 0 <= value <= _HUNDRED:
        errors.append(f"{what} ({value}%) harus antara 0 dan 100%")


def _error(text: str) -> KinerjaPolicyError:
    return KinerjaPolicyError(f"Kebijakan e-Kinerja tidak valid: {text}")


# --- YAML --------------------------------------------------------------------------------------


def kinerja_policy_from_yaml(text: str) -> KinerjaPolicy:
    """Read a policy from YAML; KinerjaPolicyError (Indonesian, with the key path) if malformed.

    Only the shape is checked here; `kinerja_policy_validate` checks the values.
    """
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise KinerjaPolicyError(f"Berkas kebijakan bukan YAML yang sah: {exc}") from None
    return _policy_from_data(PolicyNode(data, "kebijakan", _error))


def _policy_from_data(root: PolicyNode) -> KinerjaPolicy:
    report = root["report"]
    target = root["target"]
    matrix_node = root["predicate_matrix"]
    productivity = root["productivity"]
    review = root["review"]

    matrix: dict[tuple[Rating, Rating], Predicate] = {}
    for hasil_key, row in matrix_node["cells"].items():
        hasil = str(hasil_key)
        if hasil not in RATINGS:
            raise row.fail(f"hasil kerja harus salah satu dari {', '.join(RATINGS)}")
        for perilaku_key, cell in row.items():
            perilaku = str(perilaku_key)
            if perilaku not in RATINGS:
                raise cell.fail(f"perilaku kerja harus salah satu dari {', '.join(RATINGS)}")
            predicate = cell.as_choice(PREDICATES)
            matrix[(hasil, perilaku)] = predicate  # type: ignore[assignment]

    percents: dict[str, Decimal] = {}
    if not productivity.is_null("predicate_percents"):
        for predicate_key, percent in productivity["predicate_percents"].items():
            predicate = str(predicate_key)
            percents[predicate] = percent.as_decimal()

    late = report["late_accepted_days"]
    valid_to = root["valid_to"]
    return KinerjaPolicy(
        name=root["name"].as_str(),
        version=root["version"].as_str(),
        regulation=root["regulation"].as_str(),
        articles=root["articles"].as_strs(),
        valid_from=root["valid_from"].as_date(),
        valid_to=None if valid_to.value is None else valid_to.as_date(),
        sources=root["sources"].as_strs(),
        notes="" if root.is_null("notes") else root["notes"].as_str(),
        report=ReportRules(
            deadline_days=report["deadline_days"].as_int(),
            deadline_time=report["deadline_time"].as_time(),
            late_accepted_days=None if late.value is None else late.as_int(),
            max_minutes_per_day=report["max_minutes_per_day"].as_int(),
            blocked_day_codes=frozenset(report["blocked_day_codes"].as_strs()),
            legal_basis=report["legal_basis"].as_str(),
        ),
        target=TargetRules(
            minutes_per_month=target["minutes_per_month"].as_int(),
            legal_basis=target["legal_basis"].as_str(),
        ),
        matrix=MappingProxyType(matrix),
        matrix_legal_basis=matrix_node["legal_basis"].as_str(),
        productivity=ProductivityRules(
            method=productivity["method"].as_choice(get_args(ProductivityMethod)),  # type: ignore[arg-type]
            cap_percent=productivity["cap_percent"].as_decimal(),
            predicate_percents=MappingProxyType(percents),
            legal_basis=productivity["legal_basis"].as_str(),
        ),
        exemptions=tuple(
            Exemption(
                code=item["code"].as_str(),
                label=item["label"].as_str(),
                unit_kinds=frozenset(item["unit_kinds"].as_strs()),
                jabatan_keywords=item["jabatan_keywords"].as_strs(),
                legal_basis=item["legal_basis"].as_str(),
            )
            for item in root["exemptions"].as_list()
        ),
        review=ReviewRules(
            reminder_after_days=review["reminder_after_days"].as_int(),
            plt_leave_day_codes=frozenset(review["plt_leave_day_codes"].as_strs()),
            legal_basis=review["legal_basis"].as_str(),
        ),
    )
