from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tepat.rules.discipline import (
    DisciplineDay,
    DisciplineError,
    DisciplinePolicy,
    DisciplineStatus,
    discipline_outlook,
    discipline_policy_from_yaml,
    discipline_policy_load,
    discipline_policy_validate,
    discipline_status,
    escalation_due_on,
    thresholds_newly_crossed,
)

PP94 = discipline_policy_load()


def working_days(start: date, count: int) -> list[date]:
    """`count` weekdays from `start` (holidays left out for these tests)."""
    days: list[date] = []
    d = start
    while len(days) < count:
        if d.weekday() < 5:
            days.append(d)
        d += timedelta(days=1)
    return days


YEAR_2026 = working_days(date(2026, 1, 1), 261)


def year_days(codes: str, start: int = 0) -> list[DisciplineDay]:
    """Working days of 2026 from index `start`, one per letter: T = TK, H = hadir, C = cuti,
    L = libur."""
    names = {"T": "TK", "H": "H", "C": "CUTI_TAHUNAN", "L": "LIBUR"}
    return [DisciplineDay(d, names[c]) for d, c in zip(YEAR_2026[start:], codes, strict=False)]


def status(days: list[DisciplineDay], **kwargs: object) -> DisciplineStatus:
    return discipline_status(days, PP94, year=2026, **kwargs)  # type: ignore[arg-type]


def scattered_tk(count: int) -> list[DisciplineDay]:
    """`count` TK days, each followed by a day present, so no streak passes 1."""
    return year_days("TH" * count)


def test_a_friday_to_monday_absence_is_a_streak_of_two_working_days() -> None:
    friday, monday = date(2026, 1, 9), date(2026, 1, 12)
    result = status([DisciplineDay(friday, "TK"), DisciplineDay(monday, "TK")])

    assert (result.consecutive_tk, result.cumulative_tk_year) == (2, 2)


def test_an_approved_absence_breaks_the_streak_but_a_day_off_does_not() -> None:
    assert status(year_days("TTCTT")).consecutive_tk == 2
    assert status(year_days("TTLTT")).consecutive_tk == 4
    assert status(year_days("TTLTT")).cumulative_tk_year == 4


def test_no_tk_at_all() -> None:
    result = status(year_days("HHHCC"))

    assert result.level is None
    assert result.thresholds_crossed == ()
    assert result.message_id == "Tidak ada hari kerja tanpa keterangan pada tahun 2026"


@pytest.mark.parametrize(
    ("count", "level", "sanction", "article"),
    [
        (2, None, None, None),
        (3, "ringan", "teguran lisan", "PP 94/2021 Pasal 9"),
        (6, "ringan", "teguran tertulis", "PP 94/2021 Pasal 9"),
        (7, "ringan", "pernyataan tidak puas secara tertulis", "PP 94/2021 Pasal 9"),
        (11, "sedang", "pemotongan tunjangan kinerja 25% selama 6 bulan", "PP 94/2021 Pasal 10"),
        (16, "sedang", "pemotongan tunjangan kinerja 25% selama 9 bulan", "PP 94/2021 Pasal 10"),
        (17, "sedang", "pemotongan tunjangan kinerja 25% selama 12 bulan", "PP 94/2021 Pasal 10"),
        (
            21,
            "berat",
            "penurunan jabatan setingkat lebih rendah selama 12 bulan",
            "PP 94/2021 Pasal 11 ayat (2) huruf d angka 1",
        ),
        (
            27,
            "berat",
            "pembebasan dari jabatan menjadi jabatan pelaksana selama 12 bulan",
            "PP 94/2021 Pasal 11 ayat (2) huruf d angka 2",
        ),
        (
            28,
            "berat",
            "pemberhentian dengan hormat tidak atas permintaan sendiri sebagai PNS",
            "PP 94/2021 Pasal 11 ayat (2) huruf d angka 3",
        ),
    ],
)
def test_cumulative_tk_reaches_the_pp94_levels(
    count: int, level: str | None, sanction: str | None, article: str | None
) -> None:
    result = status(scattered_tk(count))

    assert result.cumulative_tk_year == count
    assert (result.level, result.sanction, result.article) == (level, sanction, article)


def test_ten_consecutive_working_days_mean_dismissal_even_below_28() -> None:
    result = status(year_days("TTTTTTTTTT"))

    assert result.cumulative_tk_year == 10
    assert result.level == "berat"
    assert result.article == "PP 94/2021 Pasal 11 ayat (2) huruf d angka 4 dan Pasal 15 ayat (2)"
    assert result.message_id == (
        "10 hari kerja tidak masuk tanpa alasan yang sah pada tahun 2026 (kumulatif); "
        "berturut-turut terpanjang 10 hari kerja, saat ini 10 hari kerja berturut-turut. "
        "Batas tertinggi yang tercapai: 10 hari kerja berturut-turut, hukuman disiplin berat "
        "untuk PNS: pemberhentian dengan hormat tidak atas permintaan sendiri sebagai PNS; gaji "
        "dihentikan mulai bulan berikutnya (PP 94/2021 Pasal 11 ayat (2) huruf d angka 4 dan "
        "Pasal 15 ayat (2))"
    )


def test_nine_consecutive_days_then_a_present_day_stay_below_dismissal() -> None:
    result = status(year_days("TTTTTTTTTH"))

    assert (result.consecutive_tk, result.longest_consecutive_tk) == (0, 9)
    assert result.level == "ringan"


def test_three_consecutive_days_give_an_early_warning_before_the_cumulative_reprimand() -> None:
    result = status(year_days("TTT"))

    assert [c.threshold.code for c in result.thresholds_crossed] == [
        "TK_BERTURUT_3",
        "TK_KUMULATIF_3",
    ]
    assert result.level == "ringan"
    assert status(year_days("TTTH", start=10), kind="PPPK").sanction == "teguran lisan"


def test_pppk_take_the_contract_termination_path() -> None:
    result = status(scattered_tk(21), kind="PPPK")

    assert result.level == "berat"
    assert result.sanction == (
        "pemutusan hubungan perjanjian kerja dengan hormat tidak atas permintaan sendiri"
    )
    assert result.article == "PP 49/2018; PP 94/2021 Pasal 11 secara analogi"
    assert "untuk PPPK: pemutusan hubungan perjanjian kerja" in result.message_id


def test_more_tk_codes_can_count() -> None:
    days = [DisciplineDay(d, "IZIN_DITOLAK") for d in YEAR_2026[:3]]

    assert status(days).cumulative_tk_year == 0
    assert status(days, tk_codes={"TK", "IZIN_DITOLAK"}).cumulative_tk_year == 3


def test_a_streak_across_new_year_counts_but_only_this_years_days_are_cumulative() -> None:
    december = [DisciplineDay(d, "TK") for d in working_days(date(2025, 12, 22), 8)]
    january = [DisciplineDay(d, "TK") for d in YEAR_2026[:2]]
    result = status(december + january)

    assert result.consecutive_tk == 10
    assert result.cumulative_tk_year == 2
    assert result.level == "berat"
    assert [c.on for c in result.thresholds_crossed if c.threshold.code == "TK_BERTURUT_10"] == [
        YEAR_2026[1]
    ]


def test_a_streak_that_crossed_last_year_is_not_this_years_crossing() -> None:
    december = [DisciplineDay(d, "TK") for d in working_days(date(2025, 12, 1), 5)]
    result = status([*december, *year_days("H")])

    assert result.thresholds_crossed == ()


def test_alerts_are_raised_once_per_crossing() -> None:
    first = status(year_days("TTH"))
    second = status(year_days("TTHT"))
    third = status(year_days("TTHTHH"))

    assert thresholds_newly_crossed(None, first) == ()
    assert [c.threshold.code for c in thresholds_newly_crossed(first, second)] == ["TK_KUMULATIF_3"]
    assert thresholds_newly_crossed(second, third) == ()
    assert thresholds_newly_crossed(third, third) == ()


def test_each_new_streak_is_a_new_warning() -> None:
    before = status(year_days("TTTHH"))
    after = status(year_days("TTTHHTTT"))

    new = thresholds_newly_crossed(before, after)

    assert [(c.threshold.code, c.occurrence, c.on) for c in new] == [
        ("TK_KUMULATIF_4", 1, YEAR_2026[5]),
        ("TK_BERTURUT_3", 2, YEAR_2026[7]),
    ]


def test_a_late_correction_lowers_the_counts_and_raises_no_alert() -> None:
    days = year_days("TTTTH")
    before = status(days)
    corrected = [*days[:1], DisciplineDay(days[1].date, "SAKIT"), *days[2:]]
    after = status(corrected)

    assert (before.cumulative_tk_year, before.longest_consecutive_tk) == (4, 4)
    assert (after.cumulative_tk_year, after.longest_consecutive_tk) == (3, 2)
    assert after.level == "ringan"
    assert after.sanction == "teguran lisan"
    assert thresholds_newly_crossed(before, after) == ()


def test_early_warnings_come_at_3_5_and_8_consecutive_days_before_dismissal_at_10() -> None:
    result = status(year_days("TTTTTTTTTT"))

    warnings = [
        (c.threshold.code, c.on)
        for c in result.thresholds_crossed
        if c.threshold.basis == "consecutive"
    ]
    assert warnings == [
        ("TK_BERTURUT_3", YEAR_2026[2]),
        ("TK_BERTURUT_5", YEAR_2026[4]),
        ("TK_BERTURUT_8", YEAR_2026[7]),
        ("TK_BERTURUT_10", YEAR_2026[9]),
    ]


def test_eight_days_in_a_row_warn_that_two_more_mean_dismissal() -> None:
    result = status(year_days("TTTTTTTT"))
    outlook = discipline_outlook(result, PP94)

    assert result.level == "ringan"  # the cumulative 7: pernyataan tidak puas
    assert [(u.threshold.code, u.days_to_go) for u in outlook] == [
        ("TK_BERTURUT_10", 2),
        ("TK_KUMULATIF_11", 3),
    ]
    assert outlook[0].article == (
        "PP 94/2021 Pasal 11 ayat (2) huruf d angka 4 dan Pasal 15 ayat (2)"
    )


def test_the_outlook_of_a_pppk_names_contract_termination() -> None:
    result = status(year_days("TTTTTTTTT"), kind="PPPK")
    nearest = discipline_outlook(result, PP94)[0]

    assert (nearest.threshold.code, nearest.days_to_go) == ("TK_BERTURUT_10", 1)
    assert nearest.sanction.startswith("pemutusan hubungan perjanjian kerja")


def test_without_a_running_streak_only_the_next_cumulative_threshold_is_ahead() -> None:
    outlook = discipline_outlook(status(year_days("TTH")), PP94)

    assert [(u.threshold.code, u.days_to_go, u.sanction) for u in outlook] == [
        ("TK_KUMULATIF_3", 1, "teguran lisan")
    ]
    beyond = discipline_outlook(status(scattered_tk(28)), PP94)
    assert beyond == ()


def test_an_alert_goes_to_bkpsdm_after_the_atasans_response_window() -> None:
    assert escalation_due_on(date(2026, 11, 23), PP94) == date(2026, 12, 3)
    assert escalation_due_on(date(2026, 11, 23), replace(PP94, atasan_response_days=None)) is None
    assert discipline_policy_validate(replace(PP94, atasan_response_days=0)) == [
        "Batas waktu tindak lanjut atasan harus paling sedikit 1 hari"
    ]


def test_it_refuses_days_out_of_order_or_after_the_year() -> None:
    days = year_days("TT")

    with pytest.raises(DisciplineError, match="urut dan tidak ganda"):
        status([days[1], days[0]])
    with pytest.raises(DisciplineError, match="urut dan tidak ganda"):
        status([days[0], days[0]])
    with pytest.raises(DisciplineError, match="sesudah tahun 2026"):
        status([DisciplineDay(date(2027, 1, 4), "TK")])


def test_it_refuses_a_year_before_the_policy() -> None:
    with pytest.raises(DisciplineError, match="tidak berlaku pada tahun 2020"):
        discipline_status([], PP94, year=2020)


def test_the_shipped_thresholds_are_pp94s() -> None:
    assert discipline_policy_validate(PP94) == []
    assert PP94.valid_from == date(2021, 8, 31)
    cumulative = [(t.min_days, t.level) for t in PP94.thresholds if t.basis == "cumulative"]
    assert cumulative == [
        (3, "ringan"),
        (4, "ringan"),
        (7, "ringan"),
        (11, "sedang"),
        (14, "sedang"),
        (17, "sedang"),
        (21, "berat"),
        (25, "berat"),
        (28, "berat"),
    ]
    consecutive = [(t.min_days, t.level) for t in PP94.thresholds if t.basis == "consecutive"]
    assert consecutive == [(3, "peringatan"), (5, "peringatan"), (8, "peringatan"), (10, "berat")]
    assert PP94.atasan_response_days == 10
    assert "Pasal 28" in PP94.escalation_article


def test_thresholds_out_of_order_are_reported() -> None:
    by_code = {t.code: t for t in PP94.thresholds}
    shuffled = replace(PP94, thresholds=(by_code["TK_KUMULATIF_4"], by_code["TK_KUMULATIF_3"]))

    assert discipline_policy_validate(shuffled) == [
        "TK_KUMULATIF_3: batas 3 hari harus lebih besar dari batas sebelumnya (4 hari); "
        "urutkan dari yang teringan"
    ]
    with pytest.raises(DisciplineError, match="tidak dapat dipakai"):
        discipline_status([], shuffled, year=2026)


def test_malformed_policy_yaml_is_refused() -> None:
    with pytest.raises(DisciplineError, match=r"thresholds\[0\]\.level"):
        discipline_policy_from_yaml(
            "name: x\nversion: 1\nregulation: x\nvalid_from: 2021-08-31\nthresholds:\n"
            "  - {code: A, basis: cumulative, min_days: 3, level: keras, sanction_pns: a,"
            " sanction_pppk: a, article: a, article_pppk: a}\n"
        )


# --- properties --------------------------------------------------------------------------------

codes = st.sampled_from(["TK", "TK", "TK", "H", "CUTI_TAHUNAN", "LIBUR"])
year_lists = st.lists(codes, max_size=120).map(
    lambda picked: [DisciplineDay(d, c) for d, c in zip(YEAR_2026, picked, strict=False)]
)
policies = st.just(PP94)


def counts(result: DisciplineStatus) -> tuple[int, int, int, int]:
    return (
        result.consecutive_tk,
        result.longest_consecutive_tk,
        result.cumulative_tk_year,
        len(result.thresholds_crossed),
    )


@settings(max_examples=200, deadline=None)
@given(year_lists, st.sampled_from(["PNS", "PPPK"]))
def test_a_streak_never_exceeds_the_years_total(days: list[DisciplineDay], kind: str) -> None:
    result = status(days, kind=kind)

    assert result.consecutive_tk <= result.longest_consecutive_tk <= result.cumulative_tk_year
    assert len({c.key for c in result.thresholds_crossed}) == len(result.thresholds_crossed)
    assert thresholds_newly_crossed(result, result) == ()


@settings(max_examples=200, deadline=None)
@given(year_lists, st.data())
def test_removing_or_excusing_a_tk_day_never_increases_any_count(
    days: list[DisciplineDay], data: st.DataObject
) -> None:
    tk_positions = [i for i, day in enumerate(days) if day.code == "TK"]
    if not tk_positions:
        return
    i = data.draw(st.sampled_from(tk_positions))
    before = status(days)
    removed = status(days[:i] + days[i + 1 :])
    excused = status([*days[:i], DisciplineDay(days[i].date, "SAKIT"), *days[i + 1 :]])

    assert all(a <= b for a, b in zip(counts(removed), counts(before), strict=True))
    assert thresholds_newly_crossed(before, removed) == ()
    # Excusing a day in the middle of a streak may split it in two, each of which can earn its
    # own early warning; the counts themselves never rise.
    assert all(a <= b for a, b in zip(counts(excused)[:3], counts(before)[:3], strict=True))


@settings(max_examples=100, deadline=None)
@given(year_lists, policies)
def test_the_level_follows_the_heaviest_threshold_crossed(
    days: list[DisciplineDay], policy: DisciplinePolicy
) -> None:
    result = discipline_status(days, policy, year=2026)
    crossed = {c.threshold.code for c in result.thresholds_crossed}
    heaviest = [t for t in policy.thresholds if t.code in crossed]

    assert result.level == (heaviest[-1].level if heaviest else None)
