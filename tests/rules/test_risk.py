"""Risk signals on phone check-ins: each one raised exactly when its threshold is crossed."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from tepat.rules import risk
from tepat.rules.geofence import Point

POLICY = risk.RiskPolicy(
    max_accuracy_m=100,
    offline_max_age=timedelta(hours=72),
    clock_skew_max=timedelta(minutes=5),
    max_speed_kmh=120,
    position_max_age=timedelta(minutes=2),
)
T0 = datetime(2026, 11, 23, 0, 30, tzinfo=UTC)  # 07:30 WIB
SCHOOL = Point(-2.4233, 101.1667)


def flags(fix: risk.Fix, **kw: object) -> tuple[str, ...]:
    args: dict[str, object] = {
        "received_at": fix.taken_at,
        "previous": None,
        "recent": (),
        "offset": None,
        "device": None,
        "policy": POLICY,
    }
    args.update(kw)
    return risk.checkin_risk_flags(fix, **args)  # type: ignore[arg-type]


def test_a_clean_check_in_raises_nothing() -> None:
    assert flags(risk.Fix(T0, SCHOOL, 12, T0)) == ()


def test_accuracy_at_the_limit_is_fine_and_beyond_is_flagged() -> None:
    assert flags(risk.Fix(T0, SCHOOL, 100)) == ()
    assert flags(risk.Fix(T0, SCHOOL, 100.1)) == (risk.LOW_ACCURACY,)


def test_offline_sync_later_than_the_policy_is_flagged() -> None:
    fix = risk.Fix(T0, SCHOOL, 10)
    assert flags(fix, received_at=T0 + timedelta(hours=72)) == ()
    assert flags(fix, received_at=T0 + timedelta(hours=72, seconds=1)) == (risk.LATE_SYNC,)


def test_clock_skew_either_way() -> None:
    fix = risk.Fix(T0, SCHOOL, 10)
    assert flags(fix, offset=timedelta(minutes=5)) == ()
    assert flags(fix, offset=timedelta(minutes=-6)) == (risk.CLOCK_SKEW,)
    offset = risk.clock_offset(T0, T0 - timedelta(minutes=20))
    assert risk.trusted_time(T0 - timedelta(minutes=20), offset) == T0


def test_impossible_travel_but_not_gps_noise() -> None:
    office = Point(-2.535230, 101.111113)  # about 14 km from the school
    before = risk.Fix(T0 - timedelta(minutes=5), office, 10)
    assert flags(risk.Fix(T0, SCHOOL, 10), previous=before) == (risk.IMPOSSIBLE_SPEED,)
    an_hour_before = risk.Fix(T0 - timedelta(hours=1), office, 10)
    assert flags(risk.Fix(T0, SCHOOL, 10), previous=an_hour_before) == ()
    jitter = risk.Fix(T0, Point(SCHOOL.lat + 0.0002, SCHOOL.lng), 30)  # 22 m in 0 s
    assert flags(jitter, previous=risk.Fix(T0, SCHOOL, 30)) == ()


def test_coordinates_repeated_to_the_metre() -> None:
    fix = risk.Fix(T0, SCHOOL, 10)
    assert flags(fix, recent=[Point(SCHOOL.lat, SCHOOL.lng)]) == (risk.REPEATED_POSITION,)
    assert flags(fix, recent=[Point(SCHOOL.lat + 0.00003, SCHOOL.lng)]) == ()


def test_a_stale_gps_fix() -> None:
    assert flags(risk.Fix(T0, SCHOOL, 10, T0 - timedelta(minutes=3))) == (risk.STALE_POSITION,)


def test_device_signals() -> None:
    fix = risk.Fix(T0, SCHOOL, 10)
    device = risk.DeviceFacts(approved=False, other_employees=1, seq_reused=True)
    assert flags(fix, device=device) == (
        risk.DEVICE_NOT_APPROVED,
        risk.SHARED_DEVICE,
        risk.SEQUENCE_REUSED,
    )
    assert "Perangkat belum disetujui operator" in risk.flags_describe(flags(fix, device=device))


@given(st.floats(min_value=0, max_value=100), st.integers(min_value=0, max_value=72 * 3600))
def test_within_every_threshold_nothing_is_flagged(accuracy: float, delay_s: int) -> None:
    fix = risk.Fix(T0, SCHOOL, accuracy, T0)
    assert flags(fix, received_at=T0 + timedelta(seconds=delay_s)) == ()
