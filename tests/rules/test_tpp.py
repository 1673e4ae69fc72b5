from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tepat.rules.nip import EmployeeKind
from tepat.rules.tpp import (
    RULES_VERSION,
    DayRecord,
    EmployeeMonth,
    ProductivityInput,
    SanctionInput,
    TppInputError,
    format_percent,
    format_rupiah,
    tpp_month_compute,
)
from tepat.rules.tpp_policy import (
    AbsenceRule,
    Band,
    PltRule,
    PolicyError,
    ProductivityRules,
    TppPolicy,
    TugasBelajarRule,
    WithholdingRule,
    band_code_for,
    policy_day_is_tk,
    policy_from_yaml,
    policy_in_force,
    policy_load,
    policy_to_yaml,
    policy_validate,
)

GOLDEN_DIR = Path(__file__).parent / "golden" / "tpp"
KAUR = policy_load("kaur_style")
TTU = policy_load("ttu_style")
POLICIES = {"kaur_style": KAUR, "ttu_style": TTU}
WEEKDAYS = {"Senin": 0, "Selasa": 1, "Rabu": 2, "Kamis": 3, "Jumat": 4, "Sabtu": 5, "Minggu": 6}

NOV_2026 = tuple(
    date(2026, 11, 1) + timedelta(days=i)
    for i in range(30)
    if (date(2026, 11, 1) + timedelta(days=i)).weekday() < 5
)
FULL_PRODUCTIVITY = ProductivityInput(minutes=6750, realisation_percent=Decimal(100))


def month(
    *,
    kelas: int = 8,
    overrides: dict[date, dict[str, Any]] | None = None,
    productivity: ProductivityInput = FULL_PRODUCTIVITY,
    **fields: Any,
) -> EmployeeMonth:
    """November 2026, every working day present at `kelas` except `overrides`."""
    overrides = overrides or {}
    days = tuple(DayRecord(d, kelas, **overrides.get(d, {})) for d in NOV_2026)
    fields.setdefault("golongan", "III/b")
    return EmployeeMonth(2026, 11, NOV_2026, days, productivity, **fields)


# --- golden cases ------------------------------------------------------------------------------


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value))


def _golden_month(spec: dict[str, Any], policy: TppPolicy) -> EmployeeMonth:
    wd = spec["working_days"]
    weekdays = {WEEKDAYS[name] for name in wd["weekdays"]}
    holidays = set(wd.get("except", []))
    working = tuple(
        wd["from"] + timedelta(days=i)
        for i in range((wd["to"] - wd["from"]).days + 1)
        if (wd["from"] + timedelta(days=i)).weekday() in weekdays
        and wd["from"] + timedelta(days=i) not in holidays
    )
    start = spec.get("start_date") or working[0]
    end = spec.get("end_date") or working[-1]
    transfers = sorted(spec.get("transfers", []), key=lambda t: t["from"])
    records = []
    for d in working:
        if not start <= d <= end:
            continue
        kelas = spec["kelas_jabatan"]
        for transfer in transfers:
            if transfer["from"] <= d:
                kelas = transfer["kelas_jabatan"]
        day = spec.get("days", {}).get(d, {})
        fields: dict[str, Any] = {"code": day.get("code", "H")}
        for key, table in (
            ("tl_minutes", policy.discipline.tl),
            ("psw_minutes", policy.discipline.psw),
        ):
            if key in day:
                minutes = None if day[key] == "tidak ada" else int(day[key])
                fields[key.replace("minutes", "code")] = band_code_for(table, minutes)
        fields["missed_apel"] = bool(day.get("missed_apel", False))
        records.append(DayRecord(d, kelas, **fields))
    given_productivity = spec.get("productivity", {})
    realisation = given_productivity.get("realisation_percent")
    return EmployeeMonth(
        year=spec["year"],
        month=spec["month"],
        working_days=working,
        days=tuple(records),
        productivity=ProductivityInput(
            minutes=given_productivity.get("minutes"),
            predicate=given_productivity.get("predicate"),
            realisation_percent=None if realisation is None else _decimal(realisation),
        ),
        kind=spec.get("kind", "PNS"),
        golongan=spec.get("golongan"),
        start_date=spec.get("start_date"),
        end_date=spec.get("end_date"),
        sanctions=tuple(
            SanctionInput(s["code"], s["starts"], s.get("decree", ""))
            for s in spec.get("sanctions", [])
        ),
        is_plt=spec.get("is_plt", False),
        plt_kelas_jabatan=spec.get("plt_kelas_jabatan"),
        on_tugas_belajar=spec.get("on_tugas_belajar", False),
    )


def _golden_cases() -> list[Any]:
    cases = []
    for path in sorted(GOLDEN_DIR.glob("*.yaml")):
        case = yaml.safe_load(path.read_text(encoding="utf-8"))
        for expected in case["expected"]:
            cases.append(pytest.param(case, expected, id=f"{path.stem}-{expected['policy']}"))
    return cases


SCALAR_FIELDS = (
    "days_in_post",
    "basic",
    "paid_percent",
    "tpp_awal",
    "discipline_share",
    "productivity_share",
    "discipline_deduction_percent",
    "productivity_percent",
    "discipline_paid",
    "productivity_paid",
    "sanction_cut",
    "plt_paid",
    "gross",
    "net",
)


@pytest.mark.parametrize(("case", "expected"), _golden_cases())
def test_golden_case(case: dict[str, Any], expected: dict[str, Any]) -> None:
    policy = POLICIES[expected["policy"]]
    result = tpp_month_compute(_golden_month(case["input"], policy), policy)

    for name in SCALAR_FIELDS:
        if name in expected:
            assert getattr(result, name) == _decimal(expected[name]), name
    if "deductions" in expected:
        assert [
            (line.date, line.code, line.percent, line.rupiah) for line in result.deductions
        ] == [(d, code, _decimal(p), _decimal(rp)) for d, code, p, rp in expected["deductions"]]
    assert [(c.component, c.uncapped, c.capped) for c in result.caps] == [
        (component, _decimal(uncapped), _decimal(capped))
        for component, uncapped, capped in expected.get("caps", [])
    ]
    if "basic_segments" in expected:
        assert [(s.kelas_jabatan, s.days, s.rupiah) for s in result.basic_segments] == [
            (kelas, days, _decimal(rp)) for kelas, days, rp in expected["basic_segments"]
        ]
    assert {w.code: w.rupiah for w in result.withholdings} == {
        code: _decimal(rp) for code, rp in expected.get("withholdings", {}).items()
    }
    # Each expected line is a whole explanation line, or its start (before the legal basis).
    for line in expected.get("explanation_includes", []):
        assert any(text.startswith(line) for text in result.explanation), line
    assert result.explanation[-2].endswith(format_rupiah(result.net))


def test_every_golden_file_is_checked_against_a_shipped_policy() -> None:
    files = sorted(GOLDEN_DIR.glob("*.yaml"))
    assert len(files) >= 12
    for path in files:
        case = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert case["title"]
        assert case["calculation"]
        assert {e["policy"] for e in case["expected"]} <= set(POLICIES)


def test_the_same_month_pays_differently_under_the_two_shipped_policies() -> None:
    case = yaml.safe_load((GOLDEN_DIR / "kaur_vs_ttu_same_month.yaml").read_text(encoding="utf-8"))
    nets = {
        name: tpp_month_compute(_golden_month(case["input"], policy), policy).net
        for name, policy in POLICIES.items()
    }

    assert nets == {"kaur_style": Decimal(4167065), "ttu_style": Decimal(3817536)}


# --- the shipped policies ----------------------------------------------------------------------


@pytest.mark.parametrize("policy", [KAUR, TTU], ids=["kaur", "ttu"])
def test_shipped_policies_are_valid_and_round_trip(policy: TppPolicy) -> None:
    assert policy_validate(policy) == []
    assert policy_from_yaml(policy_to_yaml(policy)) == policy


def test_kaur_style_has_the_perbup_numbers() -> None:
    rules = KAUR.discipline
    assert (KAUR.split.discipline_percent, KAUR.split.productivity_percent) == (
        Decimal(40),
        Decimal(60),
    )
    assert rules.tk_percent_per_day == Decimal(3)
    assert [(b.code, b.min_minutes, b.max_minutes, b.percent) for b in rules.tl.bands] == [
        ("TL1", 1, 30, Decimal("0.5")),
        ("TL2", 31, 60, Decimal(1)),
        ("TL3", 61, 90, Decimal("1.25")),
        ("TL4", 91, None, Decimal("1.5")),
    ]
    assert [b.percent for b in rules.psw.bands] == [b.percent for b in rules.tl.bands]
    assert (rules.tl.missing_code, rules.psw.missing_code) == ("TL4", "PSW4")
    assert KAUR.productivity.method == "minutes"
    assert KAUR.productivity.target_minutes == 6750
    assert KAUR.basic_amounts[1] == Decimal(2531250)
    assert KAUR.basic_amounts[17] == Decimal(33240000)
    assert "PLACEHOLDER" in KAUR.basic_legal_basis
    assert "Pasal 9 ayat (3)" in rules.tl.legal_basis


def test_ttu_style_has_the_numbers_of_the_ttu_code() -> None:
    rules = TTU.discipline
    assert (TTU.split.discipline_percent, TTU.split.productivity_percent) == (
        Decimal(30),
        Decimal(70),
    )
    assert rules.tk_percent_per_day == Decimal(12)
    assert [(b.min_minutes, b.max_minutes, b.percent) for b in rules.tl.bands] == [
        (1, 15, Decimal(1)),
        (16, 30, Decimal(2)),
        (31, None, Decimal("2.5")),
    ]
    assert (rules.tl.missing_code, rules.tl.missing_percent) == ("TL-TP", Decimal(4))
    assert (rules.psw.missing_code, rules.psw.missing_percent) == ("PSW-TP", Decimal(4))
    assert rules.apel_percent == Decimal(4)
    assert TTU.plt is not None
    assert TTU.plt.percent == Decimal(20)
    assert TTU.tax is not None
    assert TTU.tax.percent_for("PNS", "IV/a") == Decimal(15)
    assert TTU.tax.percent_for("PPPK", "IX") == Decimal(5)
    assert TTU.tax.percent_for("PPPK", "IV") == Decimal(0)
    assert all("presensi-ttukab" in s for s in TTU.sources)


# --- policy validation and YAML ----------------------------------------------------------------


def with_tl_bands(policy: TppPolicy, *bands: tuple[str, int, int | None, str]) -> TppPolicy:
    table = replace(
        policy.discipline.tl,
        bands=tuple(Band(code, lo, hi, Decimal(p)) for code, lo, hi, p in bands),
    )
    return replace(policy, discipline=replace(policy.discipline, tl=table))


def test_it_reports_overlapping_bands() -> None:
    policy = with_tl_bands(
        KAUR,
        ("TL1", 1, 30, "0.5"),
        ("TL2", 31, 60, "1"),
        ("TL3", 55, 90, "1.25"),
        ("TL4", 91, None, "1.5"),
    )

    assert policy_validate(policy) == ["Rentang TL2 (31–60) tumpang tindih dengan TL3 (55–90)"]


def test_it_reports_a_gap_between_bands() -> None:
    policy = with_tl_bands(
        KAUR,
        ("TL1", 1, 30, "0.5"),
        ("TL2", 31, 60, "1"),
        ("TL3", 65, 90, "1.25"),
        ("TL4", 91, None, "1.5"),
    )

    assert policy_validate(policy) == [
        "Ada celah antara TL2 (31–60) dan TL3 (65–90): menit 61–64 tidak tercakup"
    ]


def test_it_reports_a_reversed_band() -> None:
    policy = with_tl_bands(
        KAUR, ("TL1", 1, 30, "0.5"), ("TL2", 60, 31, "1"), ("TL4", 61, 120, "1.5")
    )

    assert policy_validate(policy) == ["Rentang TL2 (60–31) terbalik"]


def test_it_reports_a_last_band_with_an_upper_edge() -> None:
    policy = with_tl_bands(KAUR, ("TL1", 1, 30, "0.5"), ("TL4", 31, 120, "1.5"))

    assert policy_validate(policy) == ["Rentang terakhir TL4 (31–120) harus tanpa batas atas (≥31)"]


def test_a_grace_period_before_the_first_band_is_allowed() -> None:
    policy = with_tl_bands(KAUR, ("TL1", 6, 30, "0.5"), ("TL4", 31, None, "1.5"))

    assert policy_validate(policy) == []
    assert band_code_for(policy.discipline.tl, 5) is None
    assert band_code_for(policy.discipline.tl, 6) == "TL1"


def test_it_reports_percentages_split_kelas_and_amounts() -> None:
    amounts = dict(KAUR.basic_amounts)
    del amounts[5]
    amounts[3] = Decimal(-1)
    policy = replace(
        KAUR,
        basic_amounts=MappingProxyType(amounts),
        split=replace(KAUR.split, productivity_percent=Decimal(50)),
        discipline=replace(KAUR.discipline, tk_percent_per_day=Decimal(150)),
    )

    assert policy_validate(policy) == [
        "Besaran TPP kelas jabatan 5 belum diisi",
        "Besaran TPP kelas jabatan 3 tidak boleh negatif (-1)",
        "Porsi disiplin (40%) dan produktivitas (50%) harus berjumlah 100% (sekarang 90%)",
        "Potongan TK per hari (150%) harus antara 0 dan 100%",
    ]


def test_it_reports_a_missing_record_code_without_a_percentage() -> None:
    table = replace(KAUR.discipline.tl, missing_code="TL-TP", missing_percent=None)
    policy = replace(KAUR, discipline=replace(KAUR.discipline, tl=table))

    assert policy_validate(policy) == [
        "Tanpa presensi dihitung sebagai TL-TP, tetapi persennya kosong"
    ]


def test_it_reports_unknown_long_leave_types_and_a_missing_predicate_table() -> None:
    policy = replace(
        TTU,
        long_leave=(replace(TTU.long_leave[0], absence_codes=("CUTI_HAJI",)),),
        productivity=replace(TTU.productivity, method="predicate"),
    )

    assert policy_validate(policy) == [
        "Cuti sakit 12 hari atau lebih: jenis ketidakhadiran CUTI_HAJI tidak dikenal",
        "Tabel predikat kinerja belum diisi",
    ]


def test_malformed_yaml_names_the_key() -> None:
    text = policy_to_yaml(KAUR).replace("percent_per_day: '3'", "percent_per_day: tiga")

    with pytest.raises(PolicyError, match=r"discipline\.tk\.percent_per_day: 'tiga' bukan angka"):
        policy_from_yaml(text)


def test_a_missing_key_is_named() -> None:
    data = yaml.safe_load(policy_to_yaml(KAUR))
    del data["split"]["legal_basis"]

    with pytest.raises(PolicyError, match=r"split\.legal_basis: wajib diisi"):
        policy_from_yaml(yaml.safe_dump(data))


def test_float_percentages_in_yaml_are_read_exactly() -> None:
    text = policy_to_yaml(KAUR).replace("percent: '1.25'", "percent: 1.25")

    assert policy_from_yaml(text).discipline.tl.bands[2].percent == Decimal("1.25")


def test_the_policy_in_force_is_picked_by_date() -> None:
    old = replace(KAUR, version="0", valid_from=date(2020, 1, 1), valid_to=date(2021, 12, 31))

    assert policy_in_force([old, KAUR], date(2021, 6, 1)) is old
    assert policy_in_force([old, KAUR], date(2026, 11, 2)) is KAUR
    with pytest.raises(PolicyError, match="tidak ada"):
        policy_in_force([old, KAUR], date(2019, 1, 1))


def test_band_codes_from_minutes() -> None:
    tl = KAUR.discipline.tl

    assert [band_code_for(tl, m) for m in (0, 1, 30, 31, 60, 61, 90, 91, 500)] == [
        None,
        "TL1",
        "TL1",
        "TL2",
        "TL2",
        "TL3",
        "TL3",
        "TL4",
        "TL4",
    ]
    assert band_code_for(tl, None) == "TL4"
    assert band_code_for(TTU.discipline.tl, None) == "TL-TP"


def test_which_day_codes_count_as_tk() -> None:
    policy = replace(
        KAUR, absences=(*KAUR.absences, AbsenceRule("IZIN_DITOLAK", "Izin ditolak", "tk", None, ""))
    )

    assert policy_day_is_tk(policy, "TK")
    assert policy_day_is_tk(policy, "IZIN_DITOLAK")
    assert not policy_day_is_tk(policy, "CUTI_SAKIT")


# --- the computation ---------------------------------------------------------------------------


def test_a_clean_month_pays_the_whole_basic() -> None:
    result = tpp_month_compute(month(), KAUR)

    assert result.gross == Decimal(4595150)
    assert result.deductions == ()
    assert result.rules_version == RULES_VERSION
    assert (result.policy_name, result.policy_version) == ("kaur_style", "2")
    assert "Tidak ada potongan disiplin" in result.explanation


@pytest.mark.parametrize("policy", [KAUR, TTU], ids=["kaur_style", "ttu_style"])
def test_a_cltn_day_pays_like_a_day_out_of_post_and_a_whole_cltn_month_pays_nothing(
    policy: TppPolicy,
) -> None:
    cltn = tpp_month_compute(month(overrides={NOV_2026[-1]: {"code": "CLTN"}}), policy)
    left = month(end_date=NOV_2026[-2])
    out_of_post = tpp_month_compute(replace(left, days=left.days[:-1]), policy)

    assert cltn.net == out_of_post.net < tpp_month_compute(month(), policy).net
    assert cltn.days_in_post == out_of_post.days_in_post == len(NOV_2026) - 1
    every_day = tpp_month_compute(month(overrides={d: {"code": "CLTN"} for d in NOV_2026}), policy)
    assert (every_day.basic, every_day.net) == (0, 0)
    assert "Tidak ada hari kerja yang dibayar pada bulan ini; TPP Rp 0" in every_day.explanation
    with pytest.raises(TppInputError, match="tidak boleh memuat TL"):
        tpp_month_compute(month(overrides={NOV_2026[0]: {"code": "CLTN", "tl_code": "TL1"}}), KAUR)


def test_an_excused_absence_costs_nothing_and_a_present_type_still_carries_tl() -> None:
    result = tpp_month_compute(
        month(
            overrides={
                NOV_2026[0]: {"code": "CUTI_TAHUNAN"},
                NOV_2026[1]: {"code": "DL", "tl_code": "TL1"},
                NOV_2026[2]: {"code": "LIBUR"},
            }
        ),
        KAUR,
    )

    assert [(line.code, line.date) for line in result.deductions] == [("TL1", NOV_2026[1])]
    assert result.basic == Decimal(4595150)


def test_an_absence_type_can_cut_its_own_percentage_or_count_as_tk() -> None:
    policy = replace(
        KAUR,
        absences=(
            *KAUR.absences,
            AbsenceRule(
                "IZIN_TERLAMBAT", "Izin diajukan terlambat", "cut", Decimal("1.5"), "contoh"
            ),
            AbsenceRule("IZIN_DITOLAK", "Izin ditolak", "tk", None, "contoh"),
        ),
    )
    result = tpp_month_compute(
        month(
            overrides={
                NOV_2026[0]: {"code": "IZIN_TERLAMBAT"},
                NOV_2026[1]: {"code": "IZIN_DITOLAK"},
            }
        ),
        policy,
    )

    assert [(line.code, line.percent) for line in result.deductions] == [
        ("IZIN_TERLAMBAT", Decimal("1.5")),
        ("TK", Decimal(3)),
    ]
    assert (
        "03-11-2026 TK (Izin ditolak): 3% × Rp 1.838.060 (porsi disiplin) = Rp 55.141,80 — "
        "Perbup Kaur 03/2022 Pasal 9 ayat (2)"
    ) in result.explanation


def test_ttu_bands_the_late_return_from_the_break_as_a_second_tl() -> None:
    result = tpp_month_compute(
        month(overrides={NOV_2026[0]: {"tl_code": "TL1", "break_tl_code": "TL2"}}), TTU
    )

    assert [(line.code, line.percent) for line in result.deductions] == [
        ("TL1", Decimal(1)),
        ("TL2", Decimal(2)),
    ]
    assert any("TL2 (masuk setelah istirahat)" in line for line in result.explanation)


def test_kaur_does_not_band_the_return_from_the_break() -> None:
    with pytest.raises(TppInputError, match="tidak menilai presensi kembali dari istirahat"):
        tpp_month_compute(month(overrides={NOV_2026[0]: {"break_tl_code": "TL1"}}), KAUR)


def test_eleven_days_of_sick_leave_do_not_reach_the_long_leave_rule() -> None:
    sick = {d: {"code": "CUTI_SAKIT"} for d in NOV_2026[:11]}
    result = tpp_month_compute(month(overrides=sick), TTU)

    assert result.paid_percent == Decimal(100)
    assert result.gross == Decimal(4595150)


def test_tugas_belajar_is_paid_at_its_rate_without_the_productivity_cut() -> None:
    tb = TugasBelajarRule(Decimal(70), True, "kode TTU L2557-2590 (Jan–Jun 2022)")
    policy = replace(TTU, tugas_belajar=tb)
    all_tb = {d: {"code": "TUGAS_BELAJAR"} for d in NOV_2026}
    result = tpp_month_compute(
        month(
            overrides=all_tb,
            productivity=ProductivityInput(realisation_percent=Decimal(0)),
            on_tugas_belajar=True,
        ),
        policy,
    )

    # 70% × 4.595.150 = 3.216.605; 30% of it 964.981,5 → 964.982; 70% 2.251.623,5 → 2.251.624.
    assert result.tpp_awal == Decimal("3216605.00")
    assert (result.discipline_paid, result.productivity_paid) == (Decimal(964982), Decimal(2251624))
    assert result.productivity_percent == Decimal(100)


def test_a_policy_without_tugas_belajar_says_so() -> None:
    result = tpp_month_compute(month(on_tugas_belajar=True), KAUR)

    assert "Tugas belajar: kebijakan ini tidak mengatur pembayaran khusus" in result.explanation
    assert result.gross == Decimal(4595150)


def test_predicate_productivity() -> None:
    productivity = ProductivityRules(
        method="predicate",
        target_minutes=None,
        predicate_percents=MappingProxyType(
            {"Sangat Baik": Decimal(100), "Baik": Decimal(90), "Butuh Perbaikan": Decimal(75)}
        ),
        cap_percent=Decimal(100),
        legal_basis="contoh",
    )
    policy = replace(KAUR, productivity=productivity)
    result = tpp_month_compute(month(productivity=ProductivityInput(predicate="Baik")), policy)

    assert result.productivity_paid == Decimal(2481381)  # 2.757.090 × 90%
    assert "Predikat kinerja Baik: capaian 90% — contoh" in result.explanation
    with pytest.raises(TppInputError, match="Predikat kinerja Cukup tidak ada"):
        tpp_month_compute(month(productivity=ProductivityInput(predicate="Cukup")), policy)


def test_a_pppk_is_paid_nothing_where_the_policy_excludes_pppk() -> None:
    policy = replace(KAUR, pppk_eligible=False, pppk_legal_basis="Perbup contoh Pasal 2")
    result = tpp_month_compute(month(kind="PPPK", golongan="IX"), policy)

    assert not result.eligible
    assert result.net == Decimal(0)
    assert (
        "PPPK tidak menerima TPP menurut kebijakan ini — Perbup contoh Pasal 2"
        in result.explanation
    )
    assert tpp_month_compute(month(kind="PPPK", golongan="IX"), KAUR).net > 0


def test_sanctions_are_capped_and_never_push_the_tpp_below_zero() -> None:
    heavy = replace(KAUR.sanctions.types[0], code="BERAT", label="Berat", percent=Decimal(80))
    policy = replace(KAUR, sanctions=replace(KAUR.sanctions, types=(*KAUR.sanctions.types, heavy)))
    sanctions = (
        SanctionInput("BERAT", date(2026, 11, 1)),
        SanctionInput("PEMOTONGAN_25_6_BULAN", date(2026, 10, 1)),
    )
    tk_all = {d: {"code": "TK"} for d in NOV_2026}
    result = tpp_month_compute(
        month(overrides=tk_all, productivity=ProductivityInput(minutes=0), sanctions=sanctions),
        policy,
    )

    assert result.sanction_percent == Decimal(100)
    assert [(c.component, c.unit) for c in result.caps] == [
        ("hukuman_disiplin", "%"),
        ("tpp_kotor", "Rp"),
    ]
    assert result.gross == result.net == Decimal(0)


def test_a_withholding_ceiling_limits_its_base() -> None:
    bpjs = WithholdingRule("BPJS", "BPJS 1%", Decimal(1), Decimal(4000000), "contoh")
    result = tpp_month_compute(month(), replace(KAUR, withholdings=(bpjs,)))

    assert result.withholdings[0].base == Decimal(4000000)
    assert result.withholdings[0].rupiah == Decimal(40000)


def test_a_plt_under_a_policy_without_plt_gets_no_top_up() -> None:
    result = tpp_month_compute(month(is_plt=True, plt_kelas_jabatan=12), KAUR)

    assert result.plt_paid == Decimal(0)
    assert "Plt: kebijakan ini tidak memberi tambahan TPP Plt" in result.explanation


def test_an_employee_who_left_before_the_first_working_day_gets_nothing() -> None:
    result = tpp_month_compute(
        EmployeeMonth(2026, 11, NOV_2026, (), FULL_PRODUCTIVITY, end_date=date(2026, 11, 1)), KAUR
    )

    assert (result.days_in_post, result.net) == (0, Decimal(0))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"days": ()}, "Data hari 02-11-2026 belum ada"),
        ({"month": 13}, "Bulan 13 tidak valid"),
        ({"golongan": None}, "Golongan pegawai diperlukan untuk menghitung PPh 21 final"),
        (
            {"productivity": ProductivityInput(minutes=6750)},
            "Persentase realisasi target kinerja belum diisi",
        ),
        ({"is_plt": True}, "Kelas jabatan yang dijabat sebagai Plt belum diisi"),
        (
            {"sanctions": (SanctionInput("DIPECAT", date(2026, 11, 1)),)},
            "Jenis hukuman disiplin DIPECAT tidak dikenal",
        ),
        ({"start_date": date(2026, 11, 16)}, "02-11-2026 di luar masa jabatan"),
        ({"year": 2022}, "tidak berlaku untuk seluruh bulan November 2022"),
    ],
)
def test_it_refuses_a_month_it_cannot_compute(change: dict[str, Any], message: str) -> None:
    with pytest.raises(TppInputError, match=message):
        tpp_month_compute(replace(month(), **change), TTU)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"code": "MANGKIR"}, "kode hari MANGKIR tidak dikenal"),
        ({"code": "TK", "tl_code": "TL1"}, "hari TK tidak boleh memuat TL, PSW atau apel"),
        ({"code": "CUTI_SAKIT", "missed_apel": True}, "hari CUTI_SAKIT tidak boleh memuat"),
        ({"tl_code": "PSW1"}, "kode PSW1 bukan kode terlambat masuk"),
        ({"kelas_jabatan": 18}, "kelas jabatan 18 tidak ada dalam kebijakan"),
    ],
)
def test_it_refuses_a_day_it_cannot_judge(override: dict[str, Any], message: str) -> None:
    m = month()
    days = (replace(m.days[0], **override), *m.days[1:])

    with pytest.raises(TppInputError, match=message):
        tpp_month_compute(replace(m, days=days), KAUR)


def test_it_refuses_an_invalid_policy() -> None:
    policy = replace(KAUR, split=replace(KAUR.split, discipline_percent=Decimal(30)))

    with pytest.raises(PolicyError, match="harus berjumlah 100%") as excinfo:
        tpp_month_compute(month(), policy)
    assert len(excinfo.value.errors) == 1


def test_rupiah_and_percent_formatting() -> None:
    assert format_rupiah(Decimal(1234567)) == "Rp 1.234.567"
    assert format_rupiah(Decimal("18380.6")) == "Rp 18.380,60"
    assert format_rupiah(Fraction(111722700, 21)) == "Rp 5.320.128,57"
    assert format_rupiah(0) == "Rp 0"
    assert format_percent(Decimal("1.25")) == "1,25%"
    assert format_percent(Decimal("3.0")) == "3%"
    assert format_percent(Fraction(2000, 27)) == "74,07%"


# --- properties --------------------------------------------------------------------------------


@st.composite
def employee_months(draw: st.DrawFn) -> tuple[EmployeeMonth, TppPolicy]:
    policy = draw(st.sampled_from([KAUR, TTU]))
    start_index = draw(st.integers(min_value=0, max_value=len(NOV_2026) - 1))
    transfer_index = draw(st.integers(min_value=start_index, max_value=len(NOV_2026)))
    kelas_before, kelas_after = draw(st.integers(1, 17)), draw(st.integers(1, 17))
    tl = policy.discipline.tl
    psw = policy.discipline.psw
    records = []
    for i, d in enumerate(NOV_2026[start_index:], start=start_index):
        code = draw(st.sampled_from(["H", "H", "H", "TK", "LIBUR", "IZIN", "DL", "CUTI_SAKIT"]))
        at_work = code in ("H", "DL")
        minutes = st.none() | st.integers(min_value=0, max_value=200)
        records.append(
            DayRecord(
                d,
                kelas_before if i < transfer_index else kelas_after,
                code,
                tl_code=band_code_for(tl, draw(minutes))
                if at_work and draw(st.booleans())
                else None,
                psw_code=band_code_for(psw, draw(minutes))
                if at_work and draw(st.booleans())
                else None,
                missed_apel=at_work and draw(st.booleans()),
            )
        )
    sanctions = draw(
        st.lists(
            st.builds(
                SanctionInput,
                st.sampled_from([s.code for s in policy.sanctions.types]),
                st.dates(min_value=date(2025, 6, 1), max_value=date(2026, 12, 31)),
            ),
            max_size=3,
        )
    )
    kind: EmployeeKind = "PNS" if draw(st.booleans()) else "PPPK"
    m = EmployeeMonth(
        year=2026,
        month=11,
        working_days=NOV_2026,
        days=tuple(records),
        productivity=ProductivityInput(
            minutes=draw(st.integers(min_value=0, max_value=10_000)),
            realisation_percent=Decimal(draw(st.integers(min_value=0, max_value=15_000))) / 100,
        ),
        kind=kind,
        golongan=draw(
            st.sampled_from(["II/a", "III/b", "IV/c"] if kind == "PNS" else ["V", "IX", "X"])
        ),
        start_date=NOV_2026[start_index],
        sanctions=tuple(sanctions),
        is_plt=draw(st.booleans()),
        plt_kelas_jabatan=draw(st.integers(1, 17)),
    )
    return m, policy


def add_one_deduction(data: st.DataObject, m: EmployeeMonth, policy: TppPolicy) -> EmployeeMonth:
    clean = [
        i
        for i, r in enumerate(m.days)
        if r.code == "H" and not (r.tl_code or r.psw_code or r.missed_apel)
    ]
    kinds = ["sanction"] + (["tk", "tl", "psw", "apel"] if clean else [])
    kind = data.draw(st.sampled_from(kinds))
    if kind == "sanction":
        code = data.draw(st.sampled_from([s.code for s in policy.sanctions.types]))
        return replace(m, sanctions=(*m.sanctions, SanctionInput(code, date(2026, 11, 1))))
    i = data.draw(st.sampled_from(clean))
    change: dict[str, Any]
    if kind == "tk":
        change = {"code": "TK"}
    elif kind == "tl":
        change = {"tl_code": data.draw(st.sampled_from(policy.discipline.tl.codes))}
    elif kind == "psw":
        change = {"psw_code": data.draw(st.sampled_from(policy.discipline.psw.codes))}
    else:
        change = {"missed_apel": True}
    days = list(m.days)
    days[i] = replace(days[i], **change)
    return replace(m, days=tuple(days))


PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(st.data())
def test_adding_any_deduction_never_increases_the_net(data: st.DataObject) -> None:
    m, policy = data.draw(employee_months())
    before = tpp_month_compute(m, policy)
    after = tpp_month_compute(add_one_deduction(data, m, policy), policy)

    # Both shipped policies withhold a single line (see the tpp module docstring).
    assert after.gross <= before.gross
    assert after.net <= before.net


def _half_up(value: Fraction) -> Decimal:
    whole, remainder = divmod(value.numerator, value.denominator)
    return Decimal(whole + (1 if 2 * remainder >= value.denominator else 0))


def _is_whole_rupiah(value: Decimal) -> bool:
    return value == value.to_integral_value() and value.as_tuple().exponent == 0


@PROPERTY_SETTINGS
@given(employee_months())
def test_money_is_never_negative_caps_hold_and_each_component_is_rounded_once(
    case: tuple[EmployeeMonth, TppPolicy],
) -> None:
    m, policy = case
    result = tpp_month_compute(m, policy)
    paid = [result.discipline_paid, result.productivity_paid, result.sanction_cut, result.plt_paid]
    paid += [w.rupiah for w in result.withholdings]

    assert all(
        _is_whole_rupiah(value) and value >= 0 for value in (*paid, result.gross, result.net)
    )
    assert result.discipline_deduction_percent <= policy.discipline.cap_percent
    assert result.productivity_percent <= policy.productivity.cap_percent
    assert result.sanction_percent <= policy.sanctions.cap_percent
    assert result.net == result.gross - sum(w.rupiah for w in result.withholdings)
    if not result.eligible:
        assert result.net == 0
        return

    # An independent exact reference: rounding anywhere but the last step would show up here.
    n = len(m.working_days)
    basic = sum((Fraction(policy.basic_amounts[r.kelas_jabatan]) / n for r in m.days), Fraction(0))
    factor = Fraction(1)
    for rule in policy.long_leave:
        if sum(1 for r in m.days if r.code in rule.absence_codes) >= rule.min_days:
            factor *= Fraction(rule.paid_percent) / 100
    awal = basic * factor
    share_d = awal * Fraction(policy.split.discipline_percent) / 100
    share_p = awal * Fraction(policy.split.productivity_percent) / 100
    day_total = sum(
        (Fraction(line.percent) for line in result.deductions if line.component == "disiplin"),
        Fraction(0),
    )
    day_percent = min(day_total, Fraction(policy.discipline.cap_percent))
    assert result.discipline_paid == _half_up(share_d * (100 - day_percent) / 100)
    if policy.productivity.method == "minutes":
        target = Fraction(6750 * len(m.days), n)
        capaian = min(Fraction(m.productivity.minutes or 0) / target * 100, Fraction(100))
    else:
        capaian = min(Fraction(m.productivity.realisation_percent or 0), Fraction(100))
    assert result.productivity_paid == _half_up(share_p * capaian / 100)
    sanction = _half_up(awal * Fraction(result.sanction_percent) / 100)
    assert result.sanction_cut == min(sanction, result.discipline_paid + result.productivity_paid)
    if m.is_plt and policy.plt is not None:
        assert m.plt_kelas_jabatan is not None
        plt = Fraction(policy.basic_amounts[m.plt_kelas_jabatan]) * len(m.days) / n
        assert result.plt_paid == _half_up(plt * Fraction(policy.plt.percent) / 100)
    for line in result.withholdings:
        assert line.rupiah == _half_up(Fraction(line.base) * Fraction(line.percent) / 100)


percents = st.decimals(min_value=0, max_value=100, places=2)


@settings(max_examples=80, deadline=None)
@given(
    base=st.sampled_from([KAUR, TTU]),
    tk=percents,
    split=percents,
    edges=st.lists(st.integers(min_value=1, max_value=300), min_size=1, max_size=5, unique=True),
    band_percents=st.lists(percents, min_size=5, max_size=5),
    amounts=st.lists(st.decimals(min_value=0, max_value=10**9, places=2), min_size=17, max_size=17),
    plt=st.none() | percents,
    target=st.integers(min_value=1, max_value=20_000),
)
def test_any_policy_round_trips_through_yaml(
    base: TppPolicy,
    tk: Decimal,
    split: Decimal,
    edges: list[int],
    band_percents: list[Decimal],
    amounts: list[Decimal],
    plt: Decimal | None,
    target: int,
) -> None:
    edges = sorted(edges)
    bands = [
        (
            f"TL{i + 1}",
            lo,
            (edges[i + 1] - 1) if i + 1 < len(edges) else None,
            str(band_percents[i]),
        )
        for i, lo in enumerate(edges)
    ]
    policy = replace(
        with_tl_bands(base, *bands),
        basic_amounts=MappingProxyType(dict(zip(range(1, 18), amounts, strict=True))),
        split=replace(base.split, discipline_percent=split, productivity_percent=100 - split),
        discipline=replace(base.discipline, tk_percent_per_day=tk),
        productivity=replace(base.productivity, target_minutes=target),
        plt=None if plt is None else PltRule(plt, "uji"),
    )
    table = policy.discipline.tl
    if table.missing_code not in table.codes[:-1] and table.missing_percent is None:
        policy = replace(
            policy, discipline=replace(policy.discipline, tl=replace(table, missing_code="TL1"))
        )
    assume(policy_validate(policy) == [])

    assert policy_from_yaml(policy_to_yaml(policy)) == policy
