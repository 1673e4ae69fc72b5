"""Schedules and bands survive the trip to JSON and back unchanged, and bad data is refused
with a message a BKPSDM officer can act on."""

import json

import pytest

from tepat.rules.schedule import (
    ScheduleError,
    office_five_day_week,
    office_six_day_week,
    rsud_shift_roster,
    teacher_schedules,
)
from tepat.rules.schedule_data import (
    bands_from_data,
    bands_to_data,
    schedule_from_data,
    schedule_to_data,
)
from tepat.rules.verdict import BandsError, kaur_2022_bands

SCHEDULES = [
    office_five_day_week(),
    office_six_day_week(),
    rsud_shift_roster(),
    *teacher_schedules(),
]


@pytest.mark.parametrize("schedule", SCHEDULES, ids=lambda s: f"{s.code}-{s.valid_from}")
def test_every_shipped_schedule_round_trips_through_json(schedule: object) -> None:
    data = json.loads(json.dumps(schedule_to_data(schedule)))  # type: ignore[arg-type]
    assert schedule_from_data(data) == schedule


def test_the_teachers_new_check_out_is_data_only() -> None:
    before, _after = teacher_schedules()
    data = schedule_to_data(before)
    data["valid_from"], data["valid_until"] = "2026-07-13", None
    for spec in data["shifts"].values():
        spec["end"] = "14:00"
    changed = schedule_from_data(data)
    assert {s.end.strftime("%H:%M") for s in changed.week if s} == {"14:00"}
    assert changed.workdays == before.workdays


def test_bands_round_trip_and_an_overlap_is_refused() -> None:
    bands = kaur_2022_bands()
    data = json.loads(json.dumps(bands_to_data(bands)))
    assert bands_from_data(data) == bands
    data["tl"][1]["min"] = 25  # TL2 now starts inside TL1
    with pytest.raises(BandsError) as err:
        bands_from_data(data)
    assert "TL" in err.value.message


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"week": ["pagi"] * 6}, "7 hari"),
        ({"week": ["siang"] + [None] * 6}, "tidak ada di daftar shift"),
        ({"valid_from": "13-07-2026"}, "tanggal"),
    ],
)
def test_bad_schedule_data_is_refused_in_indonesian(change: dict, fragment: str) -> None:
    data = {**schedule_to_data(office_five_day_week()), **change}
    with pytest.raises(ScheduleError) as err:
        schedule_from_data(data)
    assert fragment in err.value.message


def test_a_shift_with_a_bad_time_is_refused() -> None:
    data = schedule_to_data(office_five_day_week())
    first = next(iter(data["shifts"]))
    data["shifts"][first]["start"] = "7.30"
    with pytest.raises(ScheduleError) as err:
        schedule_from_data(data)
    assert "JJ:MM" in err.value.message
