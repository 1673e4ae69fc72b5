"""The TPP policy: one dated version of a Perbup's TPP rules, as data with a legal basis each.

A `TppPolicy` holds every number a Perbup TPP sets: the basic amount per kelas jabatan, the
discipline/productivity split, the TK, TL, PSW and apel deductions, the caps, how each absence
type counts, long-leave and tugas-belajar payment rates, the productivity method, the cuts for
disciplinary sanctions, the Plt top-up, PPPK eligibility and the withholding lines. Each value
carries the legal basis it came from (OpenFisca style); where no regulation backs a value the
legal basis says so ("CONTOH", "PLACEHOLDER", "belum diverifikasi").

Policies are shipped and stored as YAML: `policy_from_yaml` and `policy_to_yaml` round-trip
(`policy_from_yaml(policy_to_yaml(p)) == p`). `policy_validate` returns every problem as an
Indonesian sentence for the BKPSDM policy editor; `tepat.rules.tpp` refuses to compute with a
policy that has any.

Units: percentages are `Decimal` percent (``Decimal("1.25")`` is 1,25%); amounts are `Decimal`
rupiah; band edges are whole minutes, both ends inclusive.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cached_property
from itertools import pairwise
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, get_args

import yaml

from tepat.rules.nip import EmployeeKind
from tepat.rules.policy_node import PolicyNode

AbsenceTreatment = Literal["present", "excused", "tk", "cut", "unpaid"]
"""How a day with an absence type counts for the discipline share.

* present: as a day at work ("H"); TL, PSW and apel on that day still count (e.g. dinas luar).
* excused: an approved absence; no deduction, and the day cannot carry TL/PSW/apel.
* tk: as "TK" (tanpa keterangan): the TK percentage per day.
* cut: its own percentage per day (`AbsenceRule.percent`).
* unpaid: no TPP at all for the day (CLTN, cuti di luar tanggungan negara): it is prorated out
  as a day out of post is, so the basic, the minutes target and the Plt top-up count only the
  other working days; the day cannot carry TL/PSW/apel.
"""
ProductivityMethod = Literal["minutes", "predicate", "realisation"]

KELAS_JABATAN = range(1, 18)
"""Kelas jabatan 1 (lowest) to 17 (highest), as in the central tukin tables."""
DAY_PRESENT = "H"
DAY_TK = "TK"
DAY_OFF = "LIBUR"
RESERVED_DAY_CODES = (DAY_PRESENT, DAY_TK, DAY_OFF)

POLICY_DIR = Path(__file__).resolve().parent / "policies"
_HUNDRED = Decimal(100)


class PolicyError(ValueError):
    """A policy file that cannot be read, or a policy with errors. `message` is Indonesian."""

    def __init__(self, message: str, *, errors: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.errors = tuple(errors)


@dataclass(frozen=True)
class Band:
    """Minutes `min_minutes`..`max_minutes` (inclusive; None = no upper edge) cost `percent`."""

    code: str
    min_minutes: int
    max_minutes: int | None
    percent: Decimal


@dataclass(frozen=True)
class BandTable:
    """The TL (late) or PSW (leaving early) bands.

    A day without the check-in (TL) or check-out (PSW) record counts as `missing_code`. That is
    either one of the bands (Kaur: no check-in = TL4), in which case `missing_percent` is None,
    or a code of its own with its own percentage (TTU: no check-in = 4%).
    """

    label: str
    bands: tuple[Band, ...]
    missing_code: str
    missing_percent: Decimal | None
    legal_basis: str
    includes_break_return: bool = False
    """TL only: the check-in after the midday break is banded too (TTU), as a second TL."""

    def percent_for(self, code: str) -> Decimal | None:
        """The percentage of a code of this table, or None if the code is not in it."""
        if code == self.missing_code and self.missing_percent is not None:
            return self.missing_percent
        for band in self.bands:
            if band.code == code:
                return band.percent
        return None

    @property
    def codes(self) -> tuple[str, ...]:
        codes = tuple(band.code for band in self.bands)
        return codes if self.missing_code in codes else (*codes, self.missing_code)


@dataclass(frozen=True)
class Split:
    discipline_percent: Decimal
    productivity_percent: Decimal
    legal_basis: str


@dataclass(frozen=True)
class DisciplineRules:
    """Deductions from the discipline share, each a percentage of that share."""

    tk_percent_per_day: Decimal
    tk_legal_basis: str
    tl: BandTable
    psw: BandTable
    apel_percent: Decimal | None
    """Per missed apel or ceremony on a working day; None when the Perbup sets none."""
    apel_legal_basis: str
    cap_percent: Decimal
    cap_legal_basis: str


@dataclass(frozen=True)
class AbsenceRule:
    code: str
    label: str
    treatment: AbsenceTreatment
    percent: Decimal | None
    """Only for treatment "cut": the percentage of the discipline share per day."""
    legal_basis: str


@dataclass(frozen=True)
class LongLeaveRule:
    """`min_days` working days or more of these absence types in the month: TPP paid at
    `paid_percent` (TTU: cuti sakit / cuti alasan penting ≥ 12 days)."""

    label: str
    absence_codes: tuple[str, ...]
    min_days: int
    paid_percent: Decimal
    legal_basis: str


@dataclass(frozen=True)
class TugasBelajarRule:
    paid_percent: Decimal
    productivity_exempt: bool
    legal_basis: str


@dataclass(frozen=True)
class ProductivityRules:
    """How the productivity share is earned.

    * minutes: approved minutes / `target_minutes` (prorated for a partial month), capped.
    * predicate: the predicate's percentage from `predicate_percents`.
    * realisation: the realisation percentage of the monthly targets, capped (TTU).
    """

    method: ProductivityMethod
    target_minutes: int | None
    predicate_percents: Mapping[str, Decimal]
    cap_percent: Decimal
    legal_basis: str


@dataclass(frozen=True)
class SanctionRule:
    """A disciplinary sanction cuts `percent` of the TPP for `months` months."""

    code: str
    label: str
    percent: Decimal
    months: int
    legal_basis: str


@dataclass(frozen=True)
class SanctionRules:
    types: tuple[SanctionRule, ...]
    cap_percent: Decimal
    legal_basis: str


@dataclass(frozen=True)
class PltRule:
    """A Plt gets `percent` of the basic TPP of the post they act in."""

    percent: Decimal
    legal_basis: str


@dataclass(frozen=True)
class TaxRule:
    """PPh 21 as a final rate by golongan group ("III" for III/a–III/d; PPPK "IX")."""

    label: str
    pns_percent_by_golongan: Mapping[str, Decimal]
    pppk_percent_by_golongan: Mapping[str, Decimal]
    default_percent: Decimal
    legal_basis: str

    def percent_for(self, kind: EmployeeKind, golongan: str) -> Decimal:
        table = self.pns_percent_by_golongan if kind == "PNS" else self.pppk_percent_by_golongan
        group = golongan.split("/", 1)[0].strip().upper()
        return table.get(group, self.default_percent)


@dataclass(frozen=True)
class WithholdingRule:
    """A contribution withheld from the gross TPP, e.g. the 1% BPJS Kesehatan employee share."""

    code: str
    label: str
    percent: Decimal
    base_ceiling: Decimal | None
    legal_basis: str


@dataclass(frozen=True)
class TppPolicy:
    name: str
    version: str
    regulation: str
    articles: tuple[str, ...]
    valid_from: date
    valid_to: date | None
    basic_amounts: Mapping[int, Decimal]
    """Basic TPP per kelas jabatan, rupiah per month."""
    basic_legal_basis: str
    split: Split
    discipline: DisciplineRules
    productivity: ProductivityRules
    absences: tuple[AbsenceRule, ...] = ()
    long_leave: tuple[LongLeaveRule, ...] = ()
    tugas_belajar: TugasBelajarRule | None = None
    sanctions: SanctionRules = field(
        default_factory=lambda: SanctionRules(types=(), cap_percent=_HUNDRED, legal_basis="")
    )
    plt: PltRule | None = None
    pppk_eligible: bool = True
    pppk_legal_basis: str = ""
    tax: TaxRule | None = None
    withholdings: tuple[WithholdingRule, ...] = ()
    sources: tuple[str, ...] = ()
    notes: str = ""

    @property
    def label(self) -> str:
        return f"{self.name} versi {self.version}"

    def absence(self, code: str) -> AbsenceRule | None:
        return self._absences_by_code.get(code)

    @cached_property
    def _absences_by_code(self) -> Mapping[str, AbsenceRule]:
        # Looked up for every day of every employee: a dict, built once per policy (the first
        # rule of a code wins, as the list's order decided before).
        found: dict[str, AbsenceRule] = {}
        for rule in self.absences:
            found.setdefault(rule.code, rule)
        return found

    def sanction(self, code: str) -> SanctionRule | None:
        for rule in self.sanctions.types:
            if rule.code == code:
                return rule
        return None

    def in_force_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


def band_code_for(table: BandTable, minutes: int | None) -> str | None:
    """The code for `minutes` late (TL) or early (PSW); None = no record, so `missing_code`.

    0 minutes, or fewer than the first band starts at (a grace period), gives None.
    """
    if minutes is None:
        return table.missing_code
    for band in table.bands:
        if band.min_minutes <= minutes and (
            band.max_minutes is None or minutes <= band.max_minutes
        ):
            return band.code
    return None


def policy_day_is_tk(policy: TppPolicy, code: str) -> bool:
    """Whether a day code counts as TK under this policy ("TK", or an absence type set to tk)."""
    if code == DAY_TK:
        return True
    rule = policy.absence(code)
    return rule is not None and rule.treatment == "tk"


def policy_in_force(policies: Iterable[TppPolicy], day: date) -> TppPolicy:
    """The one policy version in force on `day`; PolicyError if none or several are."""
    matching = [p for p in policies if p.in_force_on(day)]
    if len(matching) != 1:
        names = ", ".join(p.label for p in matching) or "tidak ada"
        raise PolicyError(
            f"Harus tepat satu kebijakan TPP yang berlaku pada {day:%d-%m-%Y} (ditemukan: {names})"
        )
    return matching[0]


def policy_load(name: str) -> TppPolicy:
    """A policy shipped in `tepat/rules/policies/<name>.yaml`."""
    if not name.replace("_", "").isalnum():
        raise PolicyError(f"Nama kebijakan tidak valid: {name!r}")
    return policy_from_yaml((POLICY_DIR / f"{name}.yaml").read_text(encoding="utf-8"))


# --- validation --------------------------------------------------------------------------------


def policy_validate(policy: TppPolicy) -> list[str]:
    """Every problem with the policy, as Indonesian sentences; empty when it can be used."""
    errors: list[str] = []
    if policy.valid_to is not None and policy.valid_to < policy.valid_from:
        errors.append(
            f"Tanggal akhir berlaku ({policy.valid_to:%d-%m-%Y}) sebelum tanggal mulai "
            f"({policy.valid_from:%d-%m-%Y})"
        )
    for kelas in KELAS_JABATAN:
        if kelas not in policy.basic_amounts:
            errors.append(f"Besaran TPP kelas jabatan {kelas} belum diisi")
    for kelas, amount in sorted(policy.basic_amounts.items()):
        if kelas not in KELAS_JABATAN:
            errors.append(f"Kelas jabatan {kelas} tidak dikenal (harus 1–17)")
        if amount < 0:
            errors.append(f"Besaran TPP kelas jabatan {kelas} tidak boleh negatif ({amount})")

    split = policy.split
    _check_percent(errors, "Porsi disiplin", split.discipline_percent)
    _check_percent(errors, "Porsi produktivitas", split.productivity_percent)
    total = split.discipline_percent + split.productivity_percent
    if total != _HUNDRED:
        errors.append(
            f"Porsi disiplin ({_pct(split.discipline_percent)}) dan produktivitas "
            f"({_pct(split.productivity_percent)}) harus berjumlah 100% (sekarang {_pct(total)})"
        )

    rules = policy.discipline
    _check_percent(errors, "Potongan TK per hari", rules.tk_percent_per_day)
    _check_percent(errors, "Batas potongan disiplin", rules.cap_percent)
    if rules.apel_percent is not None:
        _check_percent(errors, "Potongan apel", rules.apel_percent)
    _check_band_table(errors, rules.tl)
    _check_band_table(errors, rules.psw)
    if rules.psw.includes_break_return:
        errors.append("Presensi kembali dari istirahat hanya dinilai untuk TL, bukan PSW")

    seen: set[str] = set()
    for code in (*rules.tl.codes, *rules.psw.codes):
        if code in seen:
            errors.append(f"Kode {code} dipakai lebih dari sekali")
        seen.add(code)
    for absence in policy.absences:
        if absence.code in RESERVED_DAY_CODES:
            errors.append(f"Kode ketidakhadiran {absence.code} sudah dipakai sistem")
        if absence.code in seen:
            errors.append(f"Kode {absence.code} dipakai lebih dari sekali")
        seen.add(absence.code)
        if absence.treatment not in get_args(AbsenceTreatment):
            errors.append(f"Perlakuan ketidakhadiran {absence.code} tidak dikenal")
        if absence.treatment == "cut":
            if absence.percent is None:
                errors.append(f"Ketidakhadiran {absence.code} memotong TPP tetapi persennya kosong")
            else:
                _check_percent(errors, f"Potongan {absence.code}", absence.percent)
        elif absence.percent is not None:
            errors.append(f"Ketidakhadiran {absence.code} tidak memotong TPP; hapus persennya")

    absence_codes = {a.code for a in policy.absences}
    for rule in policy.long_leave:
        _check_percent(errors, f"Pembayaran {rule.label}", rule.paid_percent)
        if rule.min_days < 1:
            errors.append(
                f"Batas hari {rule.label} harus paling sedikit 1 (sekarang {rule.min_days})"
            )
        for code in rule.absence_codes:
            if code not in absence_codes:
                errors.append(f"{rule.label}: jenis ketidakhadiran {code} tidak dikenal")
    if policy.tugas_belajar is not None:
        _check_percent(errors, "Pembayaran tugas belajar", policy.tugas_belajar.paid_percent)

    productivity = policy.productivity
    _check_percent(errors, "Batas capaian produktivitas", productivity.cap_percent)
    if productivity.method not in get_args(ProductivityMethod):
        errors.append(f"Metode produktivitas {productivity.method!r} tidak dikenal")
    if productivity.method == "minutes" and not (
        productivity.target_minutes is not None and productivity.target_minutes > 0
    ):
        errors.append("Target menit kerja per bulan harus lebih dari 0")
    if productivity.method == "predicate" and not productivity.predicate_percents:
        errors.append("Tabel predikat kinerja belum diisi")
    for predicate, percent in productivity.predicate_percents.items():
        _check_percent(errors, f"Predikat {predicate}", percent)

    _check_percent(errors, "Batas potongan hukuman disiplin", policy.sanctions.cap_percent)
    sanction_codes: set[str] = set()
    for sanction in policy.sanctions.types:
        if sanction.code in sanction_codes:
            errors.append(f"Kode hukuman disiplin {sanction.code} dipakai lebih dari sekali")
        sanction_codes.add(sanction.code)
        _check_percent(errors, f"Potongan {sanction.label}", sanction.percent)
        if sanction.months < 1:
            errors.append(f"Lama potongan {sanction.label} harus paling sedikit 1 bulan")

    if policy.plt is not None:
        _check_percent(errors, "Tambahan Plt", policy.plt.percent)

    withheld = Decimal(0)
    if policy.tax is not None:
        tax = policy.tax
        rates = [
            *tax.pns_percent_by_golongan.items(),
            *tax.pppk_percent_by_golongan.items(),
            ("lainnya", tax.default_percent),
        ]
        for group, percent in rates:
            _check_percent(errors, f"{tax.label} golongan {group}", percent)
        withheld += max(percent for _, percent in rates)
    for line in policy.withholdings:
        _check_percent(errors, line.label, line.percent)
        if line.base_ceiling is not None and line.base_ceiling < 0:
            errors.append(f"Batas dasar {line.label} tidak boleh negatif")
        withheld += line.percent
    if withheld > _HUNDRED:
        errors.append(f"Jumlah pajak dan iuran ({_pct(withheld)}) lebih dari 100%")
    return errors


def _check_percent(errors: list[str], what: str, value: Decimal) -> None:
    if not (0 <= value <= _HUNDRED):
        errors.append(f"{what} ({_pct(value)}) harus antara 0 dan 100%")


def _band_range(band: Band) -> str:
    if band.max_minutes is None:
        return f"≥{band.min_minutes}"
    return f"{band.min_minutes}–{band.max_minutes}"


def _check_band_table(errors: list[str], table: BandTable) -> None:
    if not table.bands:
        errors.append(f"Rentang {table.label} belum diisi")
        return
    codes = [band.code for band in table.bands]
    for band in table.bands:
        _check_percent(errors, f"Persentase {band.code}", band.percent)
        if band.min_minutes < 1:
            errors.append(
                f"Rentang {band.code} ({_band_range(band)}) harus mulai dari menit 1 atau lebih"
            )
        if band.max_minutes is not None and band.max_minutes < band.min_minutes:
            errors.append(f"Rentang {band.code} ({_band_range(band)}) terbalik")
    if any(b.max_minutes is not None and b.max_minutes < b.min_minutes for b in table.bands):
        return  # gaps and overlaps mean nothing until the reversed band is fixed
    ordered = sorted(table.bands, key=lambda band: band.min_minutes)
    for lower, upper in pairwise(ordered):
        if lower.max_minutes is None or upper.min_minutes <= lower.max_minutes:
            errors.append(
                f"Rentang {lower.code} ({_band_range(lower)}) tumpang tindih dengan "
                f"{upper.code} ({_band_range(upper)})"
            )
        elif upper.min_minutes > lower.max_minutes + 1:
            errors.append(
                f"Ada celah antara {lower.code} ({_band_range(lower)}) dan {upper.code} "
                f"({_band_range(upper)}): menit {lower.max_minutes + 1}–{upper.min_minutes - 1} "
                "tidak tercakup"
            )
    last = ordered[-1]
    if last.max_minutes is not None:
        errors.append(
            f"Rentang terakhir {last.code} ({_band_range(last)}) harus tanpa batas atas "
            f"(≥{last.min_minutes})"
        )
    if table.missing_code in codes:
        if table.missing_percent is not None:
            errors.append(
                f"Tanpa presensi dihitung sebagai {table.missing_code}; persennya diambil dari "
                "rentang itu, hapus persen tersendiri"
            )
    elif table.missing_percent is None:
        errors.append(
            f"Tanpa presensi dihitung sebagai {table.missing_code}, tetapi persennya kosong"
        )
    else:
        _check_percent(errors, f"Persentase {table.missing_code}", table.missing_percent)


def _pct(value: Decimal) -> str:
    text = format(value.normalize(), "f") if value == value.to_integral_value() else str(value)
    return text.replace(".", ",") + "%"


def _error(text: str) -> PolicyError:
    return PolicyError(f"Kebijakan TPP tidak valid: {text}")


# --- YAML --------------------------------------------------------------------------------------


def policy_from_yaml(text: str) -> TppPolicy:
    """Read a policy from YAML; PolicyError (Indonesian, with the key path) if it is malformed.

    Only the shape is checked here; `policy_validate` checks the values.
    """
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError(f"Berkas kebijakan bukan YAML yang sah: {exc}") from None
    return _policy_from_data(PolicyNode(data, "kebijakan", _error))


def policy_to_yaml(policy: TppPolicy) -> str:
    """Write a policy as YAML that `policy_from_yaml` reads back to an equal policy.

    Numbers are written as strings so no value passes through a float.
    """
    return yaml.safe_dump(_policy_to_data(policy), sort_keys=False, allow_unicode=True, width=100)


def _opt_decimal(node: PolicyNode, key: str) -> Decimal | None:
    child = node.get(key)
    return None if child is None else child.as_decimal()


def _opt_str(node: PolicyNode, key: str, default: str = "") -> str:
    child = node.get(key)
    return default if child is None else child.as_str()


def _band_table(node: PolicyNode) -> BandTable:
    bands = tuple(
        Band(
            code=band["code"].as_str(),
            min_minutes=band["from_minute"].as_int(),
            max_minutes=None if not band.has("to_minute") else band["to_minute"].as_int(),
            percent=band["percent"].as_decimal(),
        )
        for band in node["bands"].as_list()
    )
    missing = node["missing_record"]
    includes_break = node.get("includes_break_return")
    return BandTable(
        label=node["label"].as_str(),
        bands=bands,
        missing_code=missing["code"].as_str(),
        missing_percent=_opt_decimal(missing, "percent"),
        legal_basis=node["legal_basis"].as_str(),
        includes_break_return=False if includes_break is None else includes_break.as_bool(),
    )


def _decimal_map(node: PolicyNode | None) -> Mapping[str, Decimal]:
    if node is None:
        return MappingProxyType({})
    return MappingProxyType({str(k): v.as_decimal() for k, v in node.items()})


def _policy_from_data(root: PolicyNode) -> TppPolicy:
    basic = root["basic"]
    amounts: dict[int, Decimal] = {}
    for kelas, amount in basic["amounts"].items():
        if isinstance(kelas, bool) or not isinstance(kelas, int):
            raise amount.fail("kelas jabatan harus bilangan bulat")
        amounts[kelas] = amount.as_decimal()

    split = root["split"]
    discipline = root["discipline"]
    tk = discipline["tk"]
    apel = discipline.get("apel")
    productivity = root["productivity"]
    target = productivity.get("target_minutes")
    sanctions = root["sanctions"]
    tugas_belajar = root.get("tugas_belajar")
    plt = root.get("plt")
    pppk = root["pppk"]
    tax = root.get("tax")
    valid_to = root.get("valid_to")

    treatments = get_args(AbsenceTreatment)
    absences: list[AbsenceRule] = []
    for item in root["absences"].as_list():
        treatment = item["treatment"].as_str()
        if treatment not in treatments:
            raise item["treatment"].fail(f"harus salah satu dari {', '.join(treatments)}")
        absences.append(
            AbsenceRule(
                code=item["code"].as_str(),
                label=item["label"].as_str(),
                treatment=treatment,  # type: ignore[arg-type]  # checked just above
                percent=_opt_decimal(item, "percent"),
                legal_basis=item["legal_basis"].as_str(),
            )
        )
    method = productivity["method"].as_str()
    if method not in get_args(ProductivityMethod):
        raise productivity["method"].fail("harus minutes, predicate atau realisation")

    return TppPolicy(
        name=root["name"].as_str(),
        version=root["version"].as_str(),
        regulation=root["regulation"].as_str(),
        articles=tuple(a.as_str() for a in root["articles"].as_list()),
        valid_from=root["valid_from"].as_date(),
        valid_to=None if valid_to is None else valid_to.as_date(),
        sources=tuple(s.as_str() for s in root["sources"].as_list()) if root.has("sources") else (),
        notes=_opt_str(root, "notes"),
        basic_amounts=MappingProxyType(dict(sorted(amounts.items()))),
        basic_legal_basis=basic["legal_basis"].as_str(),
        split=Split(
            discipline_percent=split["discipline_percent"].as_decimal(),
            productivity_percent=split["productivity_percent"].as_decimal(),
            legal_basis=split["legal_basis"].as_str(),
        ),
        discipline=DisciplineRules(
            tk_percent_per_day=tk["percent_per_day"].as_decimal(),
            tk_legal_basis=tk["legal_basis"].as_str(),
            tl=_band_table(discipline["tl"]),
            psw=_band_table(discipline["psw"]),
            apel_percent=None if apel is None else apel["percent"].as_decimal(),
            apel_legal_basis="" if apel is None else apel["legal_basis"].as_str(),
            cap_percent=discipline["cap_percent"].as_decimal(),
            cap_legal_basis=discipline["cap_legal_basis"].as_str(),
        ),
        absences=tuple(absences),
        long_leave=tuple(
            LongLeaveRule(
                label=item["label"].as_str(),
                absence_codes=tuple(c.as_str() for c in item["absence_codes"].as_list()),
                min_days=item["min_days"].as_int(),
                paid_percent=item["paid_percent"].as_decimal(),
                legal_basis=item["legal_basis"].as_str(),
            )
            for item in root["long_leave"].as_list()
        ),
        tugas_belajar=None
        if tugas_belajar is None
        else TugasBelajarRule(
            paid_percent=tugas_belajar["paid_percent"].as_decimal(),
            productivity_exempt=tugas_belajar["productivity_exempt"].as_bool(),
            legal_basis=tugas_belajar["legal_basis"].as_str(),
        ),
        productivity=ProductivityRules(
            method=method,  # type: ignore[arg-type]  # checked just above
            target_minutes=None if target is None else target.as_int(),
            predicate_percents=_decimal_map(productivity.get("predicates")),
            cap_percent=productivity["cap_percent"].as_decimal(),
            legal_basis=productivity["legal_basis"].as_str(),
        ),
        sanctions=SanctionRules(
            types=tuple(
                SanctionRule(
                    code=item["code"].as_str(),
                    label=item["label"].as_str(),
                    percent=item["percent"].as_decimal(),
                    months=item["months"].as_int(),
                    legal_basis=item["legal_basis"].as_str(),
                )
                for item in sanctions["types"].as_list()
            ),
            cap_percent=sanctions["cap_percent"].as_decimal(),
            legal_basis=sanctions["legal_basis"].as_str(),
        ),
        plt=None
        if plt is None
        else PltRule(percent=plt["percent"].as_decimal(), legal_basis=plt["legal_basis"].as_str()),
        pppk_eligible=pppk["eligible"].as_bool(),
        pppk_legal_basis=pppk["legal_basis"].as_str(),
        tax=None
        if tax is None
        else TaxRule(
            label=tax["label"].as_str(),
            pns_percent_by_golongan=_decimal_map(tax.get("pns_by_golongan")),
            pppk_percent_by_golongan=_decimal_map(tax.get("pppk_by_golongan")),
            default_percent=tax["default_percent"].as_decimal(),
            legal_basis=tax["legal_basis"].as_str(),
        ),
        withholdings=tuple(
            WithholdingRule(
                code=item["code"].as_str(),
                label=item["label"].as_str(),
                percent=item["percent"].as_decimal(),
                base_ceiling=_opt_decimal(item, "base_ceiling"),
                legal_basis=item["legal_basis"].as_str(),
            )
            for item in root["withholdings"].as_list()
        ),
    )


def _num(value: Decimal) -> str:
    return str(value)


def _opt_num(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _band_table_data(table: BandTable) -> dict[str, Any]:
    missing: dict[str, Any] = {"code": table.missing_code}
    if table.missing_percent is not None:
        missing["percent"] = _num(table.missing_percent)
    return {
        "label": table.label,
        "legal_basis": table.legal_basis,
        "includes_break_return": table.includes_break_return,
        "bands": [
            {
                "code": band.code,
                "from_minute": band.min_minutes,
                "to_minute": band.max_minutes,
                "percent": _num(band.percent),
            }
            for band in table.bands
        ],
        "missing_record": missing,
    }


def _policy_to_data(policy: TppPolicy) -> dict[str, Any]:
    rules = policy.discipline
    productivity = policy.productivity
    tb = policy.tugas_belajar
    tax = policy.tax
    return {
        "name": policy.name,
        "version": policy.version,
        "regulation": policy.regulation,
        "articles": list(policy.articles),
        "valid_from": policy.valid_from,
        "valid_to": policy.valid_to,
        "sources": list(policy.sources),
        "notes": policy.notes,
        "basic": {
            "legal_basis": policy.basic_legal_basis,
            "amounts": {kelas: _num(amount) for kelas, amount in policy.basic_amounts.items()},
        },
        "split": {
            "discipline_percent": _num(policy.split.discipline_percent),
            "productivity_percent": _num(policy.split.productivity_percent),
            "legal_basis": policy.split.legal_basis,
        },
        "discipline": {
            "cap_percent": _num(rules.cap_percent),
            "cap_legal_basis": rules.cap_legal_basis,
            "tk": {
                "percent_per_day": _num(rules.tk_percent_per_day),
                "legal_basis": rules.tk_legal_basis,
            },
            "tl": _band_table_data(rules.tl),
            "psw": _band_table_data(rules.psw),
            "apel": None
            if rules.apel_percent is None
            else {"percent": _num(rules.apel_percent), "legal_basis": rules.apel_legal_basis},
        },
        "absences": [
            {
                "code": a.code,
                "label": a.label,
                "treatment": a.treatment,
                "percent": _opt_num(a.percent),
                "legal_basis": a.legal_basis,
            }
            for a in policy.absences
        ],
        "long_leave": [
            {
                "label": rule.label,
                "absence_codes": list(rule.absence_codes),
                "min_days": rule.min_days,
                "paid_percent": _num(rule.paid_percent),
                "legal_basis": rule.legal_basis,
            }
            for rule in policy.long_leave
        ],
        "tugas_belajar": None
        if tb is None
        else {
            "paid_percent": _num(tb.paid_percent),
            "productivity_exempt": tb.productivity_exempt,
            "legal_basis": tb.legal_basis,
        },
        "productivity": {
            "method": productivity.method,
            "target_minutes": productivity.target_minutes,
            "cap_percent": _num(productivity.cap_percent),
            "predicates": {k: _num(v) for k, v in productivity.predicate_percents.items()},
            "legal_basis": productivity.legal_basis,
        },
        "sanctions": {
            "cap_percent": _num(policy.sanctions.cap_percent),
            "legal_basis": policy.sanctions.legal_basis,
            "types": [
                {
                    "code": s.code,
                    "label": s.label,
                    "percent": _num(s.percent),
                    "months": s.months,
                    "legal_basis": s.legal_basis,
                }
                for s in policy.sanctions.types
            ],
        },
        "plt": None
        if policy.plt is None
        else {"percent": _num(policy.plt.percent), "legal_basis": policy.plt.legal_basis},
        "pppk": {"eligible": policy.pppk_eligible, "legal_basis": policy.pppk_legal_basis},
        "tax": None
        if tax is None
        else {
            "label": tax.label,
            "pns_by_golongan": {k: _num(v) for k, v in tax.pns_percent_by_golongan.items()},
            "pppk_by_golongan": {k: _num(v) for k, v in tax.pppk_percent_by_golongan.items()},
            "default_percent": _num(tax.default_percent),
            "legal_basis": tax.legal_basis,
        },
        "withholdings": [
            {
                "code": w.code,
                "label": w.label,
                "percent": _num(w.percent),
                "base_ceiling": _opt_num(w.base_ceiling),
                "legal_basis": w.legal_basis,
            }
            for w in policy.withholdings
        ],
    }
