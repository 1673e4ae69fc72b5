from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from tepat.rules.kinerja import (
    RULES_VERSION,
    KinerjaInputError,
    KinerjaMonth,
    RealisationItem,
    ReportDraft,
    ReportLine,
    ReportSpan,
    exemption_for,
    kinerja_month_evaluate,
    predicate_for,
    report_check,
    report_deadline,
)
from tepat.rules.kinerja_policy import (
    PREDICATES,
    RATINGS,
    KinerjaPolicyError,
    kinerja_policy_from_yaml,
    kinerja_policy_in_force,
    kinerja_policy_load,
    kinerja_policy_validate,
)
from tepat.rules.tpp import ProductivityInput, tpp_month_compute
from tepat.rules.tpp_policy import policy_load
from tests.rules.test_tpp import month

GOLDEN_DIR = Path(__file__).parent / "golden" / "kinerja"
POLICY_NAMES = ("kinerja_default", "kinerja_ttu_style", "kinerja_predicate_example")
POLICIES = {name: kinerja_policy_load(name) for name in POLICY_NAMES}
DEFAULT = POLICIES["kinerja_default"]
WIB = ZoneInfo("Asia/Jakarta")
WIT = ZoneInfo("Asia/Jayapura")
DAY = date(2026, 11, 23)  # a Monday


def at(day: date, hh: int, mm: int = 0, zone: ZoneInfo = WIB) -> datetime:
    return datetime.combine(day, time(hh, mm), zone)


# --- the predicate matrix (PermenPANRB 6/2022) -------------------------------------------------

MATRIX = [
    ("di_atas", "di_atas", "sangat_baik"),
    ("di_atas", "sesuai", "baik"),
    ("di_atas", "di_bawah", "kurang"),
    ("sesuai", "di_atas", "baik"),
    ("sesuai", "sesuai", "baik"),
    ("sesuai", "di_bawah", "kurang"),
    ("di_bawah", "di_atas", "butuh_perbaikan"),
    ("di_bawah", "sesuai", "butuh_perbaikan"),
    ("di_bawah", "di_bawah", "sangat_kurang"),
]


@pytest.mark.parametrize("name", POLICY_NAMES)
@pytest.mark.parametrize(("hasil", "perilaku", "predicate"), MATRIX)
def test_every_cell_of_the_matrix_gives_the_permenpanrb_predicate(
    name: str, hasil: Any, perilaku: Any, predicate: str
) -> None:
    assert predicate_for(hasil, perilaku, POLICIES[name]) == predicate


def test_the_matrix_uses_all_five_predicates_and_nine_cells() -> None:
    assert len(DEFAULT.matrix) == 9
    assert set(DEFAULT.matrix.values()) == set(PREDICATES)


def test_an_unknown_rating_is_refused_in_indonesian() -> None:
    with pytest.raises(KinerjaInputError, match="tidak dikenal"):
        predicate_for("luar_biasa", "sesuai", DEFAULT)  # type: ignore[arg-type]


# --- policies ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", POLICY_NAMES)
def test_shipped_policies_are_valid_and_cite_permenpanrb_6_2022(name: str) -> None:
    policy = POLICIES[name]
    assert kinerja_policy_validate(policy) == []
    assert "6 Tahun 2022" in policy.regulation
    assert policy.target.minutes_per_month == 6750


def _default_yaml() -> dict[str, Any]:
    return yaml.safe_load(
        (Path(__file__).parents[2] / "tepat/rules/policies/kinerja_default.yaml").read_text()
    )


def test_a_matrix_with_a_missing_cell_is_reported() -> None:
    data = _default_yaml()
    del data["predicate_matrix"]["cells"]["sesuai"]["di_bawah"]
    policy = kinerja_policy_from_yaml(yaml.safe_dump(data))
    assert kinerja_policy_validate(policy) == [
        "Matriks predikat belum lengkap: Sesuai ekspektasi × Di bawah ekspektasi"
    ]


def test_a_predicate_method_needs_a_percentage_for_every_predicate() -> None:
    data = _default_yaml()
    data["productivity"]["method"] = "predicate"
    data["productivity"]["predicate_percents"] = {"baik": 100, "sangat_baik": 120}
    errors = kinerja_policy_validate(kinerja_policy_from_yaml(yaml.safe_dump(data)))
    assert "Persentase predikat sangat_baik (120%) harus antara 0 dan 100%" in errors
    assert "Persentase predikat belum diisi: Butuh Perbaikan, Kurang, Sangat Kurang" in errors


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("report", "deadline_time"), "25:00", "report.deadline_time: harus berupa jam"),
        (("productivity", "method"), "points", "harus salah satu dari minutes"),
        (("predicate_matrix", "cells", "sesuai", "sesuai"), "istimewa", "harus salah satu"),
        (("target", "minutes_per_month"), "banyak", "harus berupa bilangan bulat"),
    ],
)
def test_a_malformed_policy_names_the_key(path: tuple[str, ...], value: Any, message: str) -> None:
    data = _default_yaml()
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(KinerjaPolicyError, match=message):
        kinerja_policy_from_yaml(yaml.safe_dump(data))


def test_a_broken_policy_is_refused_by_the_evaluation() -> None:
    broken = replace(DEFAULT, target=replace(DEFAULT.target, minutes_per_month=0))
    with pytest.raises(KinerjaPolicyError, match="Target menit kerja"):
        kinerja_month_evaluate(KinerjaMonth(2026, 11, 21, 21), broken)


def test_the_newest_version_in_force_wins() -> None:
    newer = replace(DEFAULT, version="2", valid_from=date(2027, 1, 1))
    assert kinerja_policy_in_force([DEFAULT, newer], date(2026, 12, 31)) is DEFAULT
    assert kinerja_policy_in_force([DEFAULT, newer], date(2027, 1, 1)) is newer
    with pytest.raises(KinerjaPolicyError, match="Tidak ada kebijakan"):
        kinerja_policy_in_force([newer], date(2026, 1, 1))


# --- a daily report ----------------------------------------------------------------------------


def check(draft: ReportDraft, others: tuple[ReportSpan, ...] = (), **kwargs: Any) -> Any:
    submitted = kwargs.pop("submitted_at", at(DAY, 16))
    policy = kwargs.pop("policy", DEFAULT)
    return report_check(
        draft,
        others,
        policy,
        submitted_at=submitted,
        now=kwargs.pop("now", submitted),
        zone=kwargs.pop("zone", WIB),
    )


def test_a_report_with_start_and_end_claims_the_minutes_between() -> None:
    result = check(ReportDraft(DAY, time(8, 0), time(10, 30), None))
    assert (result.ok, result.minutes, result.late) == (True, 150, False)


def test_a_duration_only_report_claims_its_minutes() -> None:
    result = check(ReportDraft(DAY, None, None, 90))
    assert (result.ok, result.minutes) == (True, 90)


@pytest.mark.parametrize(
    ("draft", "message"),
    [
        (ReportDraft(DAY, time(10), time(9), None), "Jam selesai (09:00) harus setelah"),
        (ReportDraft(DAY, time(10), None, 30), "Isi jam mulai dan jam selesai"),
        (ReportDraft(DAY, None, None, 0), "paling sedikit 1 menit"),
        (ReportDraft(DAY, None, None, None), "paling sedikit 1 menit"),
        (ReportDraft(DAY, None, None, 1441), "lebih dari 1.440 menit dalam sehari"),
        (ReportDraft(DAY + timedelta(days=1), None, None, 60), "belum tiba"),
    ],
)
def test_bad_reports_get_a_clear_indonesian_message(draft: ReportDraft, message: str) -> None:
    result = check(draft)
    assert not result.ok
    assert any(message in error for error in result.errors), result.errors


def test_a_day_holds_no_more_minutes_than_it_has() -> None:
    others = (ReportSpan(900), ReportSpan(400))
    result = check(ReportDraft(DAY, None, None, 141), others)
    assert result.errors == (
        "Jumlah menit pada 23-11-2026 menjadi 1.441 menit, lebih dari 1.440 menit sehari "
        "(sudah tercatat 1.300 menit)",
    )
    assert check(ReportDraft(DAY, None, None, 140), others).ok


def test_overlapping_times_on_one_day_are_refused() -> None:
    others = (ReportSpan(120, time(8), time(10)),)
    overlap = check(ReportDraft(DAY, time(9, 30), time(11), None), others)
    assert overlap.errors == (
        "Waktu 09:30–11:00 bertumpang tindih dengan laporan lain pada hari yang sama (08:00–10:00)",
    )
    assert check(ReportDraft(DAY, time(10), time(11), None), others).ok  # touching is fine


@pytest.mark.parametrize(
    ("code", "ok"),
    [("H", True), ("dinas_luar", True), ("TK", False), ("cuti_sakit", False), ("izin", False)],
)
def test_no_time_on_a_day_of_absence_or_leave(code: str, ok: bool) -> None:
    result = check(ReportDraft(DAY, None, None, 60, day_code=code))
    assert result.ok == ok
    if not ok:
        assert "tidak dapat mengisi waktu kerja pada hari itu" in result.errors[0]


def test_same_day_deadline_and_the_late_window() -> None:
    draft = ReportDraft(DAY, None, None, 60)
    assert report_deadline(DAY, DEFAULT, WIB) == at(DAY, 23, 59)
    assert check(draft, submitted_at=at(DAY, 23, 59)).late is False
    late = check(draft, submitted_at=at(DAY + timedelta(days=1), 0, 0))
    assert (late.ok, late.late) == (True, True)
    last = check(draft, submitted_at=at(DAY + timedelta(days=5), 23, 59))
    assert (last.ok, last.late) == (True, True)
    closed = check(draft, submitted_at=at(DAY + timedelta(days=6), 0, 0))
    assert closed.errors == (
        "Batas pengisian laporan 23-11-2026 sudah lewat (23-11-2026 23:59, susulan sampai "
        "28-11-2026 23:59)",
    )


def test_the_deadline_is_cut_in_the_work_sites_zone() -> None:
    draft = ReportDraft(DAY, None, None, 60)
    # 23:30 in Jayapura (WIT) is 21:30 in Jakarta: on time in both zones' own terms.
    assert check(draft, submitted_at=at(DAY, 23, 30, WIT), zone=WIT).late is False
    # 00:30 WIT the next day is still 22:30 WIB on the day: late in Papua, on time in Java.
    moment = at(DAY + timedelta(days=1), 0, 30, WIT)
    assert check(draft, submitted_at=moment, zone=WIT).late is True
    assert check(draft, submitted_at=moment, zone=WIB).late is False


def test_a_policy_without_a_late_window_refuses_after_the_deadline() -> None:
    policy = POLICIES["kinerja_predicate_example"]  # H+2, no late window
    draft = ReportDraft(DAY, None, None, 60)
    assert check(draft, policy=policy, submitted_at=at(DAY + timedelta(days=2), 23, 59)).ok
    refused = check(draft, policy=policy, submitted_at=at(DAY + timedelta(days=3), 0, 0))
    assert refused.errors == ("Batas pengisian laporan 23-11-2026 sudah lewat (25-11-2026 23:59)",)


def test_naive_times_are_refused() -> None:
    with pytest.raises(KinerjaInputError):
        report_check(
            ReportDraft(DAY, None, None, 60),
            (),
            DEFAULT,
            submitted_at=datetime(2026, 11, 23, 10),
            now=datetime.now(UTC),
            zone=WIB,
        )


@given(
    st.lists(st.integers(min_value=1, max_value=600), max_size=6),
    st.integers(min_value=1, max_value=1440),
)
def test_accepted_reports_never_sum_past_the_day(existing: list[int], minutes: int) -> None:
    others = tuple(ReportSpan(m) for m in existing)
    result = check(ReportDraft(DAY, None, None, minutes), others)
    assert result.ok == (sum(existing) + minutes <= DEFAULT.report.max_minutes_per_day)


# --- the month ---------------------------------------------------------------------------------


def test_no_days_in_post_means_no_target_and_no_percentage() -> None:
    result = kinerja_month_evaluate(KinerjaMonth(2026, 11, 21, 0), DEFAULT)
    assert (result.capaian_percent, result.productivity_percent) == (None, None)
    assert result.target_minutes == 0


@pytest.mark.parametrize(
    ("month", "message"),
    [
        (KinerjaMonth(2026, 13, 21, 21), "Bulan 13 tidak valid"),
        (KinerjaMonth(2026, 11, 21, 22), "harus antara 0 dan jumlah hari kerja"),
        (
            KinerjaMonth(2026, 11, 21, 21, (ReportLine(date(2026, 10, 30), 60, "approved"),)),
            "bukan laporan November 2026",
        ),
        (KinerjaMonth(2021, 11, 21, 21), "tidak berlaku pada November 2021"),
    ],
)
def test_impossible_months_are_refused(month: KinerjaMonth, message: str) -> None:
    with pytest.raises(KinerjaInputError, match=message):
        kinerja_month_evaluate(month, DEFAULT)


def test_realisation_without_targets_is_not_yet_computable() -> None:
    result = kinerja_month_evaluate(
        KinerjaMonth(
            2026, 11, 21, 21, realisation=(RealisationItem("Kosong", Decimal(0), Decimal(3)),)
        ),
        POLICIES["kinerja_ttu_style"],
    )
    assert (result.realisation_percent, result.productivity_percent) == (None, None)
    assert "Target Kosong: target tahunan kosong, tidak dihitung" in result.explanation


@pytest.mark.parametrize(
    ("jabatan", "unit_kind", "code"),
    [
        ("Guru Kelas", "kantor", "guru"),
        ("Kepala Sekolah", "sekolah", "guru"),
        ("Pengadministrasi", "sekolah", "guru"),  # the unit kind alone suffices
        ("DOKTER SPESIALIS Anak", "upt", "dokter_spesialis"),
        ("Dokter Umum", "puskesmas", None),
        ("Direktur RSUD", "kantor", "direktur_rsud"),
    ],
)
def test_exempt_groups_follow_the_policy(jabatan: str, unit_kind: str, code: str | None) -> None:
    found = exemption_for(jabatan, unit_kind, POLICIES["kinerja_ttu_style"])
    assert (found.code if found else None) == code
    assert exemption_for(jabatan, unit_kind, DEFAULT) is None


@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=1440),
            st.sampled_from(["pending", "approved", "rejected"]),
            st.one_of(st.none(), st.integers(min_value=0, max_value=1440)),
        ),
        max_size=40,
    ),
    st.integers(min_value=1, max_value=23),
)
def test_minutes_are_conserved_and_productivity_is_capped(
    lines: list[tuple[int, Any, int | None]], days_in_post: int
) -> None:
    reports = tuple(
        ReportLine(date(2026, 11, 2), m, status, adj if status == "approved" else None)
        for m, status, adj in lines
    )
    result = kinerja_month_evaluate(KinerjaMonth(2026, 11, 23, days_in_post, reports), DEFAULT)
    approved = sum(
        (r.approved_minutes if r.approved_minutes is not None else r.minutes)
        for r in reports
        if r.status == "approved"
    )
    assert result.approved_minutes == approved
    assert result.pending_minutes == sum(r.minutes for r in reports if r.status == "pending")
    assert result.productivity_percent is not None
    assert 0 <= result.productivity_percent <= 100
    assert result.rules_version == RULES_VERSION


# --- feeding the TPP computation ---------------------------------------------------------------


def test_the_month_feeds_the_tpp_productivity_input() -> None:
    reports = tuple(ReportLine(date(2026, 11, 2), 5000, "approved") for _ in range(1))
    result = kinerja_month_evaluate(
        KinerjaMonth(2026, 11, 21, 21, reports, hasil_kerja="sesuai", perilaku="sesuai"), DEFAULT
    )
    given_input = result.tpp_input()
    assert given_input == ProductivityInput(
        minutes=5000, predicate="baik", realisation_percent=Decimal("74.07")
    )
    # The Kaur-style TPP policy counts minutes: the same 74,07% as e-Kinerja shows.
    tpp = tpp_month_compute(month(productivity=given_input), policy_load("kaur_style"))
    assert tpp.productivity_percent == result.productivity_percent


# --- golden cases ------------------------------------------------------------------------------

WEEKDAYS = range(5)


def _reports(spec: list[dict[str, Any]]) -> tuple[ReportLine, ...]:
    lines: list[ReportLine] = []
    for item in spec:
        fields = {
            "minutes": item["minutes"],
            "status": item["status"],
            "approved_minutes": item.get("approved_minutes"),
            "day_code": item.get("day_code"),
        }
        if "repeat" in item:
            first, last = item["repeat"]["from"], item["repeat"]["to"]
            days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
            lines += [ReportLine(day=d, **fields) for d in days if d.weekday() in WEEKDAYS]
        else:
            lines.append(ReportLine(day=item["day"], **fields))
    return tuple(lines)


def _golden_month(spec: dict[str, Any]) -> KinerjaMonth:
    return KinerjaMonth(
        year=spec["year"],
        month=spec["month"],
        working_days=spec["working_days"],
        days_in_post=spec["days_in_post"],
        reports=_reports(spec.get("reports", [])),
        hasil_kerja=spec.get("hasil_kerja"),
        perilaku=spec.get("perilaku"),
        realisation=tuple(
            RealisationItem(
                r["label"], Decimal(str(r["yearly_target"])), Decimal(str(r["realised"]))
            )
            for r in spec.get("realisation", [])
        ),
        jabatan=spec.get("jabatan", ""),
        unit_kind=spec.get("unit_kind", ""),
    )


def _golden_cases() -> list[Any]:
    cases = []
    for path in sorted(GOLDEN_DIR.glob("*.yaml")):
        case = yaml.safe_load(path.read_text(encoding="utf-8"))
        for expected in case["expected"]:
            cases.append(pytest.param(case, expected, id=f"{path.stem}-{expected['policy']}"))
    return cases


INT_FIELDS = ("approved_minutes", "excluded_minutes", "pending_minutes", "rejected_minutes")
DECIMAL_FIELDS = (
    "target_minutes",
    "capaian_percent",
    "realisation_percent",
    "productivity_percent",
)


@pytest.mark.parametrize(("case", "expected"), _golden_cases())
def test_golden_case(case: dict[str, Any], expected: dict[str, Any]) -> None:
    result = kinerja_month_evaluate(_golden_month(case["input"]), POLICIES[expected["policy"]])
    for name in INT_FIELDS:
        if name in expected:
            assert getattr(result, name) == expected[name], name
    for name in DECIMAL_FIELDS:
        if name in expected:
            want = expected[name]
            assert getattr(result, name) == (None if want is None else Decimal(str(want))), name
    for name in ("predicate", "exemption"):
        if name in expected:
            assert getattr(result, name) == expected[name], name
    # Each expected line is a whole explanation line, or its start (before the legal basis).
    for line in expected.get("explanation_includes", []):
        assert any(text.startswith(line) for text in result.explanation), (
            line,
            result.explanation,
        )


def test_every_golden_file_is_checked_against_a_shipped_policy() -> None:
    files = sorted(GOLDEN_DIR.glob("*.yaml"))
    assert len(files) >= 8
    for path in files:
        case = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert case["title"]
        assert case["calculation"]
        assert {e["policy"] for e in case["expected"]} <= set(POLICIES)


def test_ratings_are_the_three_permenpanrb_levels() -> None:
    assert RATINGS == ("di_atas", "sesuai", "di_bawah")
