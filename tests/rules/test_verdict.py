import re
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from tepat.rules.calendar import (
    DayInfo,
    RegencyCancellation,
    SchoolHoliday,
    SpecialPeriod,
    WorkCalendar,
    national_days_from_holidays,
)
from tepat.rules.schedule import (
    Schedule,
    ScheduleError,
    ScheduleOverride,
    Shift,
    calendar_day,
    office_five_day_week,
    office_six_day_week,
    rsud_shift_roster,
    schedule_version_for,
    shift_instances,
    teacher_schedules,
    validate_schedule_versions,
    week_label,
)
from tepat.rules.verdict import (
    RULES_VERSION,
    Absence,
    AttendanceEvent,
    Band,
    BandsError,
    DayVerdict,
    LatenessBands,
    PartialAbsence,
    VerdictError,
    assign_events,
    band_for,
    classify_day,
    kaur_2022_bands,
)

WIB = ZoneInfo("Asia/Jakarta")
WITA = ZoneInfo("Asia/Makassar")
ZONES: dict[str, tzinfo] = {"WIB": WIB, "WITA": WITA, "WIT": ZoneInfo("Asia/Jayapura"), "UTC": UTC}
KAUR = kaur_2022_bands()
OFFICE = office_five_day_week()
TUESDAY = date(2026, 8, 18)
GOLDEN = Path(__file__).parent / "golden" / "verdict"

RAMADAN_1447 = SpecialPeriod(
    code="ramadan",
    name="Ramadan 1447 H",
    first_day=date(2026, 2, 19),
    last_day=date(2026, 3, 20),
    legal_basis="CONTOH: tanggal dari sidang isbat Kementerian Agama",
)
COMMON = {
    "years": frozenset({2025, 2026, 2027}),
    "national_days": national_days_from_holidays([2025, 2026, 2027]),
    "cancellations": (
        RegencyCancellation(
            day=date(2026, 3, 24),
            name="Pelayanan publik tetap buka",
            legal_basis="CONTOH SE Bupati (fiktif) 800/45/2026",
        ),
    ),
    "school_holidays": (
        SchoolHoliday(
            first_day=date(2026, 6, 29),
            last_day=date(2026, 7, 11),
            name="Libur kenaikan kelas",
            legal_basis="CONTOH Kalender Pendidikan Dinas Pendidikan 2025/2026",
        ),
    ),
    "periods": (RAMADAN_1447,),
}
CALENDARS = {
    "office": WorkCalendar(kind="office", **COMMON),  # type: ignore[arg-type]
    "school": WorkCalendar(kind="school", **COMMON),  # type: ignore[arg-type]
}
SCHEDULES: dict[str, tuple[Schedule, ...]] = {
    "kantor_5_hari": (OFFICE,),
    "kantor_6_hari": (office_six_day_week(),),
    "guru": teacher_schedules(),
    "rsud_shift": (rsud_shift_roster(),),
}


def classify(
    day: date,
    events: Sequence[AttendanceEvent],
    *,
    schedule: Sequence[Schedule] = (OFFICE,),
    calendar: str = "office",
    absences: Sequence[Absence | PartialAbsence] = (),
    bands: LatenessBands = KAUR,
    tz: tzinfo = WIB,
    override: ScheduleOverride | None = None,
) -> DayVerdict:
    version = schedule_version_for(schedule, day)
    info = calendar_day(CALENDARS[calendar], version, day)
    return classify_day(day, events, schedule, info, absences, bands, tz, override=override)


def at(day: date, hh: int, mm: int, ss: int = 0, tz: tzinfo = WIB) -> datetime:
    return datetime.combine(day, time(hh, mm, ss), tzinfo=tz)


def punch(moment: datetime, kind: str = "in") -> AttendanceEvent:
    return AttendanceEvent(taken_at=moment, kind=kind, source="test")  # type: ignore[arg-type]


# --- Golden cases ----------------------------------------------------------------------------

_AT = re.compile(
    r"(?:(?P<date>\d{4}-\d{2}-\d{2}) )?(?P<time>\d{2}:\d{2}:\d{2})(?: (?P<zone>WIB|WITA|WIT|UTC))?"
)
_SPAN = re.compile(r"(?P<start>\d{2}:\d{2})\s*[–-]\s*(?P<end>\d{2}:\d{2})")
_CASE_KEYS = {
    "title",
    "schedule",
    "calendar",
    "roster",
    "day",
    "zone",
    "bands",
    "events",
    "absences",
    "expected",
}
_EXPECTED_KEYS = {
    "day_code",
    "in_code",
    "out_code",
    "minutes_late",
    "minutes_early",
    "explanation",
}


def _golden_cases() -> Iterator[Any]:
    for path in sorted(GOLDEN.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in data["cases"]:
            yield pytest.param(case, id=f"{path.stem}: {case['title']}")


def _golden_moment(text: str, day: date, site: tzinfo) -> datetime:
    found = _AT.fullmatch(text)
    assert found, f"bad time {text!r}"
    when = date.fromisoformat(found["date"]) if found["date"] else day
    zone = ZONES[found["zone"]] if found["zone"] else site
    return datetime.combine(when, time.fromisoformat(found["time"]), tzinfo=zone)


def _golden_absence(data: dict[str, Any], day: date, site: tzinfo) -> Absence | PartialAbsence:
    if "at" in data:
        span = _SPAN.fullmatch(data["at"])
        assert span, f"bad span {data['at']!r}"
        return PartialAbsence(
            type=data["type"],
            starts_at=datetime.combine(day, time.fromisoformat(span["start"]), tzinfo=site),
            ends_at=datetime.combine(day, time.fromisoformat(span["end"]), tzinfo=site),
            reference=data.get("reference", ""),
        )
    return Absence(
        type=data["type"],
        first_day=data["from"],
        last_day=data["to"],
        reference=data.get("reference", ""),
    )


def _golden_bands(data: dict[str, Any] | None) -> LatenessBands:
    if data is None:
        return KAUR
    return LatenessBands(
        name=data["name"],
        valid_from=date(2020, 1, 1),
        legal_basis=data["legal_basis"],
        tl=tuple(Band(code, low, high) for code, low, high in data["tl"]),
        psw=tuple(Band(code, low, high) for code, low, high in data["psw"]),
        missing_check_in=data.get("missing_check_in", "TL4"),
        missing_check_out=data.get("missing_check_out", "PSW4"),
        late_grace_minutes=data.get("late_grace_minutes", 0),
        early_grace_minutes=data.get("early_grace_minutes", 0),
    )


def golden_verdict(case: dict[str, Any]) -> DayVerdict:
    assert set(case) <= _CASE_KEYS, f"unknown keys {set(case) - _CASE_KEYS}"
    day: date = case["day"]
    site = ZONES[case["zone"]]
    versions = SCHEDULES[case["schedule"]]
    override = None
    if "roster" in case:
        shift = schedule_version_for(versions, day).shift(case["roster"])
        override = ScheduleOverride(day=day, shift=shift, reason="Jadwal dinas RSUD Agustus 2026")
    events = [
        AttendanceEvent(_golden_moment(e["at"], day, site), e["kind"], "mesin")
        for e in case.get("events") or ()
    ]
    return classify(
        day,
        events,
        schedule=versions,
        calendar=case.get("calendar", "office"),
        absences=[_golden_absence(a, day, site) for a in case.get("absences") or ()],
        bands=_golden_bands(case.get("bands")),
        tz=site,
        override=override,
    )


@pytest.mark.parametrize("case", list(_golden_cases()))
def test_golden_case(case: dict[str, Any]) -> None:
    verdict = golden_verdict(case)
    expected = case["expected"]
    assert set(expected) <= _EXPECTED_KEYS
    actual = {key: getattr(verdict, key) for key in expected}
    if "explanation" in expected:
        actual["explanation"] = list(verdict.explanation)
    assert actual == expected


def test_golden_cases_cover_every_file() -> None:
    files = sorted(GOLDEN.glob("*.yaml"))
    assert len(files) >= 7
    for path in files:
        cases = yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]
        assert cases, path.name
        titles = [case["title"] for case in cases]
        assert len(set(titles)) == len(titles), path.name


# --- Schedules -------------------------------------------------------------------------------


def test_the_perpres_office_week_has_37_5_hours_and_ramadan_32_5() -> None:
    assert OFFICE.weekly_effective_minutes() == 37 * 60 + 30
    assert OFFICE.weekly_effective_minutes("ramadan") == 32 * 60 + 30
    assert OFFICE.workdays == frozenset({0, 1, 2, 3, 4})
    assert week_label(OFFICE.week) == "Senin–Kamis 07:30–16:00, Jumat 07:30–16:30"
    assert week_label(OFFICE.week_for("ramadan")) == "Senin–Kamis 08:00–15:00, Jumat 08:00–15:30"


def test_the_six_day_week_works_on_saturday() -> None:
    six = office_six_day_week()

    assert six.workdays == frozenset({0, 1, 2, 3, 4, 5})
    assert week_label(six.week) == ("Senin–Kamis 07:30–14:30, Jumat 07:30–11:00, Sabtu 07:30–13:30")
    assert six.weekly_effective_minutes() == 37 * 60 + 30


def test_it_uses_the_teacher_version_in_force_on_each_side_of_the_change() -> None:
    versions = teacher_schedules()

    before = schedule_version_for(versions, date(2026, 7, 12))
    after = schedule_version_for(versions, date(2026, 7, 13))

    assert before.name == "Guru (pulang 16:00)"
    assert after.name == "Guru (pulang 14:00)"
    assert schedule_version_for(tuple(reversed(versions)), date(2026, 7, 13)) == after


def _version(valid_from: date, valid_until: date | None, code: str = "guru") -> Schedule:
    return replace(
        teacher_schedules()[0],
        code=code,
        name=f"Guru {valid_from:%Y}",
        valid_from=valid_from,
        valid_until=valid_until,
    )


@pytest.mark.parametrize(
    ("versions", "message"),
    [
        ((), "Belum ada versi jadwal kerja"),
        (
            (_version(date(2025, 1, 1), date(2025, 12, 31)), _version(date(2025, 12, 1), None)),
            "Versi jadwal Guru 2025 (berlaku 01-01-2025 s.d. 31-12-2025) bertumpang tindih "
            "dengan versi Guru 2025 (berlaku mulai 01-12-2025)",
        ),
        (
            (_version(date(2025, 1, 1), None), _version(date(2026, 1, 1), None)),
            "Versi jadwal Guru 2025 (berlaku 01-01-2025 s.d. seterusnya) bertumpang tindih "
            "dengan versi Guru 2026 (berlaku mulai 01-01-2026)",
        ),
        (
            (_version(date(2025, 1, 1), date(2025, 6, 30)), _version(date(2025, 7, 14), None)),
            "Ada celah antara versi jadwal Guru 2025 (berlaku s.d. 30-06-2025) dan Guru 2025 "
            "(berlaku mulai 14-07-2025): tanggal 01-07-2025 s.d. 13-07-2025 tidak berjadwal",
        ),
        (
            (
                _version(date(2025, 1, 1), date(2025, 12, 31)),
                _version(date(2026, 1, 1), None, code="kantor"),
            ),
            "Versi jadwal harus dari jadwal yang sama (ditemukan: guru, kantor)",
        ),
    ],
)
def test_it_rejects_overlapping_gapped_or_mixed_versions(
    versions: tuple[Schedule, ...], message: str
) -> None:
    with pytest.raises(ScheduleError) as caught:
        validate_schedule_versions(versions)

    assert caught.value.message == message


def test_it_refuses_a_day_no_version_covers() -> None:
    with pytest.raises(ScheduleError) as caught:
        schedule_version_for(teacher_schedules(), date(2025, 7, 13))

    assert (
        caught.value.message == "Tidak ada jadwal Guru (pulang 16:00) yang berlaku pada 13-07-2025"
    )


def test_a_version_cannot_end_before_it_starts() -> None:
    with pytest.raises(ScheduleError) as caught:
        _version(date(2026, 1, 1), date(2025, 12, 31))

    assert caught.value.message == (
        "Guru 2026: berlaku sampai 31-12-2025 sebelum berlaku mulai 01-01-2026"
    )


def test_a_night_shift_window_spans_two_days() -> None:
    night = rsud_shift_roster().shift("MALAM").on(TUESDAY, WIB)

    assert night.start == at(TUESDAY, 21, 0)
    assert night.end == at(date(2026, 8, 19), 7, 0)
    assert night.opens == at(TUESDAY, 18, 0)
    assert night.closes == at(date(2026, 8, 19), 14, 0)
    assert night.window_contains(at(date(2026, 8, 19), 14, 0))
    assert not night.window_contains(at(date(2026, 8, 19), 14, 0, 1))
    assert not night.window_contains(at(TUESDAY, 7, 0))


def test_a_window_opening_after_the_start_clock_opens_the_day_before() -> None:
    late_opening = Shift(
        code="X",
        name="Shift dini hari",
        start=time(1, 0),
        end=time(8, 0),
        check_in_from=time(22, 0),
        check_out_until=time(12, 0),
    )

    instance = late_opening.on(TUESDAY, WIB)

    assert instance.opens == at(date(2026, 8, 17), 22, 0)
    assert instance.closes == at(TUESDAY, 12, 0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"end": time(7, 30)}, "Jam kantor: jam mulai dan jam selesai sama (07:30)"),
        ({"break_minutes": 600}, "Jam kantor: lama istirahat tidak valid (600)"),
        (
            {"start": time(7, 30, tzinfo=WIB)},
            "Jam pada Jam kantor harus jam lokal tanpa zona waktu",
        ),
    ],
)
def test_it_rejects_an_impossible_shift(kwargs: dict[str, Any], message: str) -> None:
    base = OFFICE.week[0]
    assert base is not None

    with pytest.raises(ScheduleError) as caught:
        replace(base, **kwargs)

    assert caught.value.message == message


def test_a_roster_has_shifts_and_no_weekly_pattern() -> None:
    roster = rsud_shift_roster()

    assert roster.workdays == frozenset(range(7))
    assert roster.shift_on(TUESDAY, None) is None
    with pytest.raises(ScheduleError, match="tidak memakai pola mingguan"):
        replace(roster, week=OFFICE.week)
    with pytest.raises(ScheduleError, match="belum memiliki daftar shift"):
        replace(roster, shifts=())
    with pytest.raises(ScheduleError, match="shift SORE tidak dikenal"):
        roster.shift("SORE")


# --- Bands -----------------------------------------------------------------------------------


def _bands(tl: Sequence[tuple[str, int, int | None]]) -> LatenessBands:
    return replace(KAUR, tl=tuple(Band(*band) for band in tl))


@pytest.mark.parametrize(
    ("tl", "message"),
    [
        ((), "Rentang TL belum diisi"),
        (
            (("TL1", 2, 30), ("TL2", 31, None)),
            "Rentang TL harus mulai dari 1 menit (TL1 mulai dari 2 menit)",
        ),
        (
            (("TL1", 1, 30), ("TL2", 32, None)),
            "Ada celah antara TL1 (sampai 30 menit) dan TL2 (mulai 32 menit)",
        ),
        (
            (("TL1", 1, 30), ("TL2", 30, None)),
            "Rentang TL1 (sampai 30) dan TL2 (mulai 30 menit) bertumpang tindih",
        ),
        (
            (("TL1", 1, None), ("TL2", 31, None)),
            "Rentang TL1 (sampai tanpa batas atas) dan TL2 (mulai 31 menit) bertumpang tindih",
        ),
        (
            (("TL1", 1, 30), ("TL2", 31, 60)),
            "Rentang terakhir TL2 harus tanpa batas atas agar semua menit tercakup",
        ),
        (
            (("TL1", 1, 30), ("TL1", 31, None)),
            "Kode rentang TL kosong atau dipakai lebih dari sekali: 'TL1'",
        ),
        (
            (("TL1", 1, 30), ("TL2", 61, 31), ("TL3", 62, None)),
            "Rentang TL2: batas atas 31 menit lebih kecil dari batas bawah 61 menit",
        ),
    ],
)
def test_it_rejects_bands_with_a_gap_an_overlap_or_a_hole_at_the_edges(
    tl: Sequence[tuple[str, int, int | None]], message: str
) -> None:
    with pytest.raises(BandsError) as caught:
        _bands(tl)

    assert caught.value.message == message


def test_it_accepts_bands_in_any_order_and_sorts_them() -> None:
    bands = _bands([("TL2", 31, None), ("TL1", 1, 30)])

    assert [band.code for band in bands.tl] == ["TL1", "TL2"]


def test_it_rejects_a_negative_grace() -> None:
    with pytest.raises(BandsError, match="Toleransi menit"):
        replace(KAUR, late_grace_minutes=-1)


def test_no_band_below_one_minute() -> None:
    assert band_for(KAUR.tl, 0) is None
    assert band_for(KAUR.tl, -5) is None
    assert KAUR.tl[-1].label == "≥91 menit"


# --- Verdict edges ---------------------------------------------------------------------------


def test_a_punch_needs_a_time_zone() -> None:
    with pytest.raises(VerdictError, match="zona waktu"):
        AttendanceEvent(datetime(2026, 8, 18, 7, 30), "in", "test")


def test_leave_cannot_be_granted_by_the_hour() -> None:
    with pytest.raises(VerdictError) as caught:
        PartialAbsence("cuti_tahunan", at(TUESDAY, 8, 0), at(TUESDAY, 10, 0))

    assert caught.value.message == "Cuti tahunan tidak dapat diberikan per jam"


def test_it_refuses_calendar_information_for_another_day() -> None:
    info = DayInfo(day=date(2026, 8, 19), is_working_day=True, reason=None, period=None)

    with pytest.raises(VerdictError):
        classify_day(TUESDAY, [], OFFICE, info, [], KAUR, WIB)


def test_the_verdict_records_the_rules_and_schedule_versions() -> None:
    verdict = classify(TUESDAY, [punch(at(TUESDAY, 7, 0)), punch(at(TUESDAY, 16, 0), "out")])

    assert verdict.rules_version == RULES_VERSION
    assert (verdict.schedule_code, verdict.schedule_valid_from) == (
        "kantor_5_hari",
        date(2023, 4, 12),
    )
    assert verdict.shift_code == "SEN_KAM"
    assert verdict.first_in == at(TUESDAY, 7, 0)
    assert verdict.codes == ()


def test_punches_are_reported_in_the_site_zone() -> None:
    verdict = classify(
        TUESDAY,
        [punch(datetime(2026, 8, 17, 23, 20, tzinfo=UTC))],
        tz=WITA,
    )

    assert verdict.first_in is not None
    assert verdict.first_in.tzinfo == WITA
    assert verdict.first_in.hour == 7


def test_an_override_day_off_is_libur() -> None:
    override = ScheduleOverride(day=TUESDAY, shift=None, reason="Libur pengganti piket")

    verdict = classify(TUESDAY, [], override=override)

    assert verdict.day_code == "LIBUR"
    assert verdict.explanation == ("Libur menurut jadwal khusus: Libur pengganti piket → LIBUR",)


def test_an_override_makes_a_holiday_a_working_day() -> None:
    independence_day = date(2026, 8, 17)
    shift = OFFICE.week[0]
    override = ScheduleOverride(day=independence_day, shift=shift, reason="Piket upacara")

    verdict = classify(independence_day, [], override=override)

    assert verdict.day_code == "TK"
    assert verdict.explanation[:2] == (
        "Hari libur (Libur nasional: Hari Kemerdekaan Republik Indonesia), tetapi dijadwalkan "
        "masuk",
        "Jadwal khusus: Piket upacara",
    )


def test_a_roster_day_without_an_entry_is_libur() -> None:
    verdict = classify(TUESDAY, [punch(at(TUESDAY, 7, 0))], schedule=(rsud_shift_roster(),))

    assert verdict.day_code == "LIBUR"
    assert verdict.explanation == (
        "Tidak ada shift terjadwal → LIBUR",
        "1 presensi pada hari libur tidak dinilai",
    )


def test_a_whole_day_absence_wins_over_punches() -> None:
    verdict = classify(
        TUESDAY,
        [punch(at(TUESDAY, 9, 0))],
        absences=[
            Absence("dinas_luar", TUESDAY, TUESDAY, "ST 1"),
            Absence("sakit", TUESDAY, TUESDAY),
        ],
    )

    assert verdict.day_code == "sakit"
    assert verdict.in_code is None
    assert verdict.explanation[1:] == (
        "Sakit 18-08-2026 s.d. 18-08-2026: tidak dinilai terlambat, pulang cepat, atau tanpa "
        "keterangan",
        "Dinas luar (ST 1) pada hari yang sama tidak dipakai; Sakit didahulukan",
        "1 presensi pada hari ini tidak dinilai",
    )


def test_back_to_back_izin_keep_moving_the_start() -> None:
    verdict = classify(
        TUESDAY,
        [punch(at(TUESDAY, 10, 5)), punch(at(TUESDAY, 16, 0), "out")],
        absences=[
            PartialAbsence("dinas_luar", at(TUESDAY, 8, 30), at(TUESDAY, 10, 0)),
            PartialAbsence("izin", at(TUESDAY, 7, 30), at(TUESDAY, 8, 30)),
        ],
    )

    assert (verdict.in_code, verdict.minutes_late) == ("TL1", 5)
    assert verdict.explanation[1:3] == (
        "Izin 07:30–08:30 WIB: jam masuk dihitung mulai 10:00",
        "Dinas luar 08:30–10:00 WIB: jam masuk dihitung mulai 10:00",
    )


def test_a_partial_absence_outside_the_shift_changes_nothing() -> None:
    verdict = classify(
        TUESDAY,
        [punch(at(TUESDAY, 7, 31)), punch(at(TUESDAY, 16, 0), "out")],
        absences=[PartialAbsence("izin", at(TUESDAY, 17, 0), at(TUESDAY, 18, 0))],
    )

    assert verdict.codes == ("TL1",)
    assert len(verdict.explanation) == 3


def test_assign_events_closes_the_night_and_opens_the_morning() -> None:
    roster = rsud_shift_roster()
    wednesday = date(2026, 8, 19)
    entries = [
        ScheduleOverride(TUESDAY, roster.shift("MALAM"), "Jadwal dinas"),
        ScheduleOverride(wednesday, roster.shift("PAGI"), "Jadwal dinas"),
    ]
    closing = punch(at(wednesday, 7, 0), "out")
    opening = punch(at(wednesday, 6, 50), "in")
    stray = punch(at(TUESDAY, 16, 0), "in")

    assigned = assign_events(
        [opening, closing, punch(at(TUESDAY, 20, 58)), stray], shift_instances(entries, WIB)
    )

    assert assigned.by_day[TUESDAY] == (punch(at(TUESDAY, 20, 58)), closing)
    assert assigned.by_day[wednesday] == (opening,)
    assert assigned.unassigned == (stray,)


# --- Properties ------------------------------------------------------------------------------

_DAY_START = at(TUESDAY, 3, 0)
_seconds = st.integers(min_value=0, max_value=23 * 3600)  # 03:00 today to 02:00 tomorrow
_kind = st.sampled_from(["in", "out"])
_events = st.lists(
    st.builds(lambda s, k: punch(_DAY_START + timedelta(seconds=s), k), _seconds, _kind),
    max_size=8,
)


@given(events=_events, data=st.data())
@settings(max_examples=200, deadline=None)
def test_the_verdict_does_not_depend_on_the_order_of_the_punches(
    events: list[AttendanceEvent], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(events))

    assert classify(TUESDAY, shuffled) == classify(TUESDAY, events)


@given(events=_events)
@settings(max_examples=100, deadline=None)
def test_classifying_twice_gives_the_same_verdict(events: list[AttendanceEvent]) -> None:
    assert classify(TUESDAY, events) == classify(TUESDAY, events)


@given(events=_events, later=st.integers(min_value=0, max_value=12 * 3600))
@settings(max_examples=200, deadline=None)
def test_a_later_check_out_never_adds_minutes_early(
    events: list[AttendanceEvent], later: int
) -> None:
    before = classify(TUESDAY, events)
    outs = [e.taken_at for e in events if e.kind == "out"]
    latest = max(outs, default=at(TUESDAY, 12, 0))
    after = classify(TUESDAY, [*events, punch(latest + timedelta(seconds=later), "out")])

    if before.minutes_early is not None:
        assert after.minutes_early is not None
        assert after.minutes_early <= before.minutes_early


@given(first=_seconds, delay=st.integers(min_value=0, max_value=4 * 3600))
@settings(max_examples=200, deadline=None)
def test_a_later_check_in_is_never_less_late(first: int, delay: int) -> None:
    early = classify(TUESDAY, [punch(_DAY_START + timedelta(seconds=first))])
    late = classify(TUESDAY, [punch(_DAY_START + timedelta(seconds=first + delay))])

    if early.minutes_late is not None and late.minutes_late is not None:
        assert late.minutes_late >= early.minutes_late


_valid_tl = st.lists(st.integers(min_value=2, max_value=600), max_size=6, unique=True).map(
    lambda edges: tuple(
        Band(f"TL{i + 1}", low, None if high is None else high - 1)
        for i, (low, high) in enumerate(
            zip([1, *sorted(edges)], [*sorted(edges), None], strict=True)
        )
    )
)


@given(tl=_valid_tl, minutes=st.integers(min_value=1, max_value=100_000))
def test_band_lookup_is_total_for_every_minute_from_one(tl: tuple[Band, ...], minutes: int) -> None:
    bands = replace(KAUR, tl=tl)

    holding = [band for band in bands.tl if band.contains(minutes)]

    assert len(holding) == 1
    assert bands.tl_band(minutes) == holding[0]
    assert KAUR.tl_band(minutes) is not None
    assert KAUR.psw_band(minutes) is not None
