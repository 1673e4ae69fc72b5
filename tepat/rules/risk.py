"""Risk signals on a phone check-in: the server-side answer to fake GPS and proxy check-ins.

A PWA cannot see Android's mock-location flag, so Tepat scores what it can observe: accuracy,
repeated coordinates, impossible travel, stale fixes, late offline sync, clock skew, and which
device sent it. A flag never drops a check-in: it sends it to the supervisor's review queue.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from tepat.rules.geofence import Point, distance_m

RULES_VERSION = "risk-2026.11.1"

LOW_ACCURACY = "low_accuracy"
LATE_SYNC = "late_sync"
CLOCK_SKEW = "clock_skew"
IMPOSSIBLE_SPEED = "impossible_speed"
REPEATED_POSITION = "repeated_position"
STALE_POSITION = "stale_position"
DEVICE_NOT_APPROVED = "device_not_approved"
SHARED_DEVICE = "shared_device"
SEQUENCE_REUSED = "sequence_reused"

FLAG_DESCRIPTIONS = {
    LOW_ACCURACY: "Akurasi GPS di bawah batas kebijakan",
    LATE_SYNC: "Dikirim terlambat dari antrean luring",
    CLOCK_SKEW: "Jam ponsel berbeda jauh dari jam server",
    IMPOSSIBLE_SPEED: "Perpindahan terlalu cepat dari absen sebelumnya",
    REPEATED_POSITION: "Koordinat persis sama dengan absen sebelumnya",
    STALE_POSITION: "Posisi GPS diambil jauh sebelum absen",
    DEVICE_NOT_APPROVED: "Perangkat belum disetujui operator",
    SHARED_DEVICE: "Perangkat juga dipakai pegawai lain",
    SEQUENCE_REUSED: "Nomor urut perangkat dipakai ulang",
}


@dataclass(frozen=True)
class RiskPolicy:
    """Thresholds; every one is policy data with a legal or administrative basis."""

    max_accuracy_m: float
    offline_max_age: timedelta
    clock_skew_max: timedelta
    max_speed_kmh: float
    position_max_age: timedelta
    repeated_position_decimals: int = 5  # 1e-5° is about 1.1 m at the equator


@dataclass(frozen=True)
class Fix:
    """What a check-in says about where and when."""

    taken_at: datetime
    position: Point
    accuracy_m: float
    position_at: datetime | None = None


@dataclass(frozen=True)
class DeviceFacts:
    approved: bool
    other_employees: int  # other employees who logged in with the same device key
    # Another event from this device already carries this sequence number. Order is not
    # checked: an offline queue may legitimately be flushed out of order after a retry.
    seq_reused: bool


def clock_offset(server_time: datetime, device_time: datetime) -> timedelta:
    """How far the device clock is behind the server (positive: device is slow)."""
    return server_time - device_time


class ClockImplausible(ValueError):
    """The device's clock anchor moves the check-in outside any representable date."""


def trusted_time(device_taken_at: datetime, offset: timedelta | None) -> datetime:
    """The check-in moment on the server's clock, when the device gave an anchor.

    A phone whose clock is centuries off can send an anchor that moves the moment past year 1
    or 9999: that is refused as implausible rather than overflowing."""
    if offset is None:
        return device_taken_at
    try:
        return device_taken_at + offset
    except OverflowError:
        raise ClockImplausible(str(device_taken_at)) from None


def _same_place(a: Point, b: Point, decimals: int) -> bool:
    return round(a.lat, decimals) == round(b.lat, decimals) and round(a.lng, decimals) == round(
        b.lng, decimals
    )


def checkin_risk_flags(
    fix: Fix,
    *,
    received_at: datetime,
    previous: Fix | None,
    recent: Sequence[Point],
    offset: timedelta | None,
    device: DeviceFacts | None,
    policy: RiskPolicy,
) -> tuple[str, ...]:
    """Every risk signal this check-in raises, in a stable order."""
    flags: list[str] = []
    if fix.accuracy_m > policy.max_accuracy_m:
        flags.append(LOW_ACCURACY)
    if received_at - fix.taken_at > policy.offline_max_age:
        flags.append(LATE_SYNC)
    if offset is not None and abs(offset) > policy.clock_skew_max:
        flags.append(CLOCK_SKEW)
    if previous is not None:
        hours = abs((fix.taken_at - previous.taken_at).total_seconds()) / 3600
        km = distance_m(previous.position, fix.position) / 1000
        # Two fixes a few seconds apart with GPS noise are not travel: allow both accuracies.
        slack_km = (fix.accuracy_m + previous.accuracy_m) / 1000
        if km > slack_km and (hours == 0 or (km - slack_km) / hours > policy.max_speed_kmh):
            flags.append(IMPOSSIBLE_SPEED)
    if any(_same_place(fix.position, p, policy.repeated_position_decimals) for p in recent):
        flags.append(REPEATED_POSITION)
    if fix.position_at is not None and fix.taken_at - fix.position_at > policy.position_max_age:
        flags.append(STALE_POSITION)
    if device is not None:
        if not device.approved:
            flags.append(DEVICE_NOT_APPROVED)
        if device.other_employees > 0:
            flags.append(SHARED_DEVICE)
        if device.seq_reused:
            flags.append(SEQUENCE_REUSED)
    return tuple(flags)


def flags_describe(flags: Sequence[str]) -> str:
    return "; ".join(FLAG_DESCRIPTIONS.get(flag, flag) for flag in flags)
