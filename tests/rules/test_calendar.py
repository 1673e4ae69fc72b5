from datetime import date

import pytest

from tepat.rules.calendar import (
    CalendarError,
    DayInfo,
    NationalDay,
    RegencyCancellation,
    RegencyDayOff,
    SchoolHoliday,
    SpecialPeriod,
    WorkCalendar,
    national_days_from_holidays,
)

FIVE_DAYS = frozenset({0, 1, 2, 3, 4})
SIX_DAYS = frozenset({0, 1, 2, 3, 4, 5})
NATIONAL_2026 = national_days_from_holidays([2026])
HARI_JADI = RegencyDayOff(
    day=date(2026, 2, 25),
    name="Hari Jadi Kabupaten Mukomuko",
    legal_basis="CONTOH Keputusan Bupati (fiktif) 100/2026",
)
KEEP_OPEN = RegencyCancellation(
    day=date(2026, 3, 24),
    name="Pelayanan publik tetap buka",
    legal_basis="CONTOH SE Bupati (fiktif) 800/45/2026",
)
KENAIKAN_KELAS = SchoolHoliday(
    first_day=date(2026, 6, 29),
    last_day=date(2026, 7, 11),
    name="Libur kenaikan kelas",
    legal_basis="CONTOH Kalender Pendidikan 2025/2026",
)
RAMADAN = SpecialPeriod(
    code="ramadan",
    name="Ramadan 1447 H",
    first_day=date(2026, 2, 19),
    last_day=date(2026, 3, 20),
    legal_basis="CONTOH: tanggal dari sidang isbat Kementerian Agama",
)


def calendar(kind: str = "office", /, **extra: object) -> WorkCalendar:
    data: dict[str, object] = {
        "years": frozenset({2026}),
        "national_days": NATIONAL_2026,
        "regency_days_off": (HARI_JADI,),
        "school_holidays": (KENAIKAN_KELAS,),
        "periods": (RAMADAN,),
    }
    data.update(extra)
    return WorkCalendar(kind=kind, **data)  # type: ignore[arg-type]


def office_day(day: date, cal: WorkCalendar | None = None) -> DayInfo:
    return (cal or calendar()).day_kind(day, workdays=FIVE_DAYS)


def test_17_august_2026_is_independence_day() -> None:
    assert office_day(date(2026, 8, 17)) == DayInfo(
        day=date(2026, 8, 17),
        is_working_day=False,
        reason="Libur nasional: Hari Kemerdekaan Republik Indonesia",
        period=None,
    )


def test_idul_fitri_2026_and_its_cuti_bersama() -> None:
    # SKB 3 Menteri 2026, as the holidays package has it: Idul Fitri 1447 H on Saturday 21 and
    # Sunday 22 March; cuti bersama on Friday 20, Monday 23 and Tuesday 24 March.
    reasons = {day: office_day(date(2026, 3, day)).reason for day in (19, 20, 21, 22, 23, 24, 25)}

    assert reasons == {
        19: "Libur nasional: Hari Suci Nyepi",
        20: "Cuti bersama: Hari Raya Idul Fitri",
        21: "Libur nasional: Hari Raya Idul Fitri",
        22: "Libur nasional: Hari kedua dari Hari Raya Idul Fitri",
        23: "Cuti bersama: Hari Raya Idul Fitri",
        24: "Cuti bersama: Hari Raya Idul Fitri",
        25: None,
    }
    assert office_day(date(2026, 3, 25)).is_working_day


def test_the_package_files_cuti_bersama_under_the_government_category() -> None:
    cuti_bersama = [d for d in NATIONAL_2026 if d.category == "cuti_bersama"]

    assert [(d.day, d.name) for d in cuti_bersama] == [
        (date(2026, 2, 16), "Tahun Baru Imlek"),
        (date(2026, 3, 18), "Hari Suci Nyepi"),
        (date(2026, 3, 20), "Hari Raya Idul Fitri"),
        (date(2026, 3, 23), "Hari Raya Idul Fitri"),
        (date(2026, 3, 24), "Hari Raya Idul Fitri"),
        (date(2026, 5, 15), "Kenaikan Yesus Kristus"),
        (date(2026, 5, 28), "Hari Raya Idul Adha"),
        (date(2026, 12, 24), "Hari Raya Natal"),
    ]
    assert all("Keppres cuti bersama ASN tahun 2026" in d.legal_basis for d in cuti_bersama)
    assert not any(d.estimated for d in NATIONAL_2026)


def test_estimated_islamic_dates_are_flagged_and_named_without_the_mark() -> None:
    idul_fitri_2027 = [
        (d.day, d.category, d.estimated)
        for d in national_days_from_holidays([2027])
        if d.name == "Hari Raya Idul Fitri"
    ]

    # The cuti bersama are fixed by the SKB; the holiday itself is still the package's estimate.
    assert idul_fitri_2027 == [
        (date(2027, 3, 9), "cuti_bersama", False),
        (date(2027, 3, 10), "libur_nasional", True),
        (date(2027, 3, 12), "cuti_bersama", False),
        (date(2027, 3, 15), "cuti_bersama", False),
    ]


def test_a_regency_cancellation_turns_a_cuti_bersama_into_a_working_day() -> None:
    cal = calendar(cancellations=(KEEP_OPEN,))

    assert office_day(date(2026, 3, 24), cal) == DayInfo(
        day=date(2026, 3, 24),
        is_working_day=True,
        reason=(
            "Hari kerja: cuti bersama Hari Raya Idul Fitri dibatalkan oleh Pemkab (Pelayanan "
            "publik tetap buka; CONTOH SE Bupati (fiktif) 800/45/2026)"
        ),
        period=None,
    )
    assert not office_day(date(2026, 3, 23), cal).is_working_day


def test_a_cancellation_must_name_a_national_day() -> None:
    wrong = RegencyCancellation(day=date(2026, 3, 25), name="Salah tanggal", legal_basis="-")

    with pytest.raises(CalendarError) as caught:
        calendar(cancellations=(wrong,))

    assert caught.value.message == (
        "Pembatalan libur pada 25-03-2026 tidak berlaku: tanggal itu bukan libur nasional atau "
        "cuti bersama"
    )


def test_a_regency_day_off_is_libur_daerah() -> None:
    assert office_day(date(2026, 2, 25)).reason == "Libur daerah: Hari Jadi Kabupaten Mukomuko"


def test_a_school_holiday_applies_only_to_school_calendars() -> None:
    school = calendar("school").day_kind(date(2026, 7, 1), workdays=FIVE_DAYS)
    office = calendar("office").day_kind(date(2026, 7, 1), workdays=FIVE_DAYS)

    assert (school.is_working_day, school.reason) == (False, "Libur sekolah: Libur kenaikan kelas")
    assert (office.is_working_day, office.reason) == (True, None)
    assert calendar("school").day_kind(date(2026, 7, 13), workdays=FIVE_DAYS).is_working_day


def test_saturday_is_a_weekend_only_for_a_five_day_week() -> None:
    saturday = date(2026, 8, 22)

    assert office_day(saturday).reason == "Akhir pekan"
    assert calendar().day_kind(saturday, workdays=SIX_DAYS).is_working_day
    assert office_day(date(2026, 8, 23)).reason == "Akhir pekan"


def test_a_holiday_on_a_weekend_is_named_as_the_holiday() -> None:
    assert office_day(date(2026, 3, 21)).reason == "Libur nasional: Hari Raya Idul Fitri"


def test_a_roster_ignores_holidays_and_weekends() -> None:
    info = calendar().day_kind(date(2026, 8, 17), workdays=range(7), holidays_apply=False)

    assert info.is_working_day
    assert info.reason is None


def test_ramadan_is_a_period_on_working_days_and_holidays() -> None:
    assert office_day(date(2026, 3, 2)) == DayInfo(
        day=date(2026, 3, 2),
        is_working_day=True,
        reason=None,
        period="ramadan",
        period_name="Ramadan 1447 H",
    )
    assert office_day(date(2026, 3, 20)).period == "ramadan"
    assert office_day(date(2026, 3, 23)).period is None
    assert office_day(date(2026, 2, 18)).period is None


def test_a_year_that_was_not_loaded_is_an_error_not_a_working_day() -> None:
    with pytest.raises(CalendarError) as caught:
        office_day(date(2027, 1, 4))

    assert caught.value.message == "Kalender kerja tahun 2027 belum dimuat"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {"periods": (RAMADAN, RAMADAN)},
            "Periode Ramadan 1447 H dan Periode Ramadan 1447 H bertumpang tindih pada 19-02-2026",
        ),
        (
            {"regency_days_off": (HARI_JADI, HARI_JADI)},
            "Libur daerah pada 25-02-2026 tercatat lebih dari sekali",
        ),
        (
            {
                "school_holidays": (
                    SchoolHoliday(date(2026, 7, 11), date(2026, 6, 29), "Terbalik", "-"),
                )
            },
            "Libur sekolah Terbalik: tanggal akhir 29-06-2026 sebelum 11-07-2026",
        ),
        (
            {"regency_days_off": (RegencyDayOff(date(2025, 12, 31), "Di luar tahun", "-"),)},
            "Libur daerah 31-12-2025 di luar tahun kalender yang dimuat",
        ),
        (
            {
                "national_days": (
                    NationalDay(date(2027, 1, 1), "Tahun Baru Masehi", "libur_nasional", "-"),
                )
            },
            "Hari libur nasional 01-01-2027 di luar tahun kalender yang dimuat",
        ),
    ],
)
def test_it_rejects_inconsistent_calendar_data(extra: dict[str, object], message: str) -> None:
    with pytest.raises(CalendarError) as caught:
        calendar(**extra)

    assert caught.value.message == message


def test_a_calendar_of_plain_data_needs_no_package() -> None:
    cal = WorkCalendar(
        kind="office",
        years=frozenset({2026}),
        national_days=(
            NationalDay(
                date(2026, 8, 17), "Hari Kemerdekaan Republik Indonesia", "libur_nasional", "-"
            ),
        ),
    )

    assert not cal.day_kind(date(2026, 8, 17), workdays=FIVE_DAYS).is_working_day
    assert cal.day_kind(date(2026, 3, 20), workdays=FIVE_DAYS).is_working_day
