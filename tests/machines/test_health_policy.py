"""A machine's health thresholds (how long it may stay silent, the hours it is watched, the
clock error it may have) are presence-policy data BKPSDM edits in the back office: a new
version changes what the flags, the machine list and the live dashboard say, no deploy."""

import datetime as dt
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from tepat.audit.models import AuditEntry
from tepat.monitor.selectors import site_machine_status
from tepat.presence import default_policy, machines
from tepat.presence.models import Machine, PresencePolicy
from tests.machines.conftest import SERIAL
from tests.world import World, login

WIB = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 11, 16, 10, 0, tzinfo=WIB)  # a Monday morning


@pytest.fixture(autouse=True)
def _clock() -> Any:
    with time_machine.travel(NOW, tick=False):
        yield


def _regency_policy(**changes: Any) -> PresencePolicy:
    """BKPSDM's own version, in force since the start of the month."""
    values = {**default_policy.DEFAULT, "valid_from": dt.date(2026, 11, 1), "name": "Perbup"}
    return PresencePolicy.objects.create(**(values | changes))


def _last_call(machine: Machine, minutes_ago: int) -> None:
    Machine.objects.filter(pk=machine.pk).update(
        last_contact_at=NOW - timedelta(minutes=minutes_ago)
    )


def test_the_silence_limit_comes_from_the_policy_in_force(world: World, machine: Machine) -> None:
    _last_call(machine, 45)
    # Tepat's default: two hours of silence before a machine counts as offline.
    assert machines.machines_silent(NOW) == []
    assert site_machine_status([world.school.pk], NOW)[world.school.pk][0].online
    _regency_policy(machine_silent_after_min=30)
    assert machines.machines_silent(NOW) == [machine]
    assert not site_machine_status([world.school.pk], NOW)[world.school.pk][0].online
    assert machines.machines_check(NOW)["silent"] == 1
    page = login(Client(), world.users["operator_opd"]).get("/presensi/mesin/tanda/")
    assert SERIAL in page.content.decode()


def test_the_watch_hours_come_from_the_policy(machine: Machine) -> None:
    _last_call(machine, 600)
    early = datetime(2026, 11, 16, 6, 30, tzinfo=WIB)
    assert machines.machines_silent(early) == []  # the default watch starts at 07:00
    _regency_policy(machine_watch_from=dt.time(6), machine_watch_until=dt.time(14))
    assert machines.machines_silent(early) == [machine]
    assert machines.machines_silent(datetime(2026, 11, 16, 15, 0, tzinfo=WIB)) == []


def test_a_policy_from_next_month_does_not_apply_yet(machine: Machine) -> None:
    _last_call(machine, 45)
    _regency_policy(valid_from=dt.date(2026, 12, 1), machine_silent_after_min=30)
    assert machines.machines_silent(NOW) == []


def test_the_allowed_clock_error_comes_from_the_policy(machine: Machine) -> None:
    ahead = datetime(2026, 11, 16, 10, 20)  # the machine's clock is 20 minutes fast
    machines.clock_observe(machine, ahead, NOW)
    assert machine.flags.filter(kind="clock_drift").count() == 1  # default: 5 minutes
    machine.flags.all().delete()
    _regency_policy(machine_clock_drift_max_s=30 * 60)
    machines.clock_observe(machine, ahead, NOW)
    assert machine.clock_offset_s == -20 * 60
    assert not machine.flags.filter(kind="clock_drift").exists()


def _admin_post(client: Client, **changes: Any) -> Any:
    form = {
        **{k: str(v) for k, v in default_policy.DEFAULT.items()},
        "valid_from": "2026-12-01",
        "name": "Perbup 12/2026",
        "machine_silent_after_min": "60",
        "machine_watch_from": "06:30",
        "machine_watch_until": "15:30",
        "machine_clock_drift_max_s": "120",
    }
    return client.post("/admin/presence/presencepolicy/add/", form | changes)


def test_bkpsdm_edits_the_thresholds_in_the_back_office_and_bad_values_are_refused(
    world: World,
) -> None:
    client = login(Client(), world.users["admin_bkpsdm"])
    add = client.get("/admin/presence/presencepolicy/add/").content.decode()
    assert "Mesin dianggap offline setelah (menit)" in add
    backwards = _admin_post(client, machine_watch_from="16:00", machine_watch_until="07:00")
    assert backwards.status_code == 200
    assert "Jam pantau mesin harus berakhir setelah dimulai." in backwards.content.decode()
    too_short = _admin_post(client, machine_silent_after_min="2")
    assert too_short.status_code == 200
    assert "lebih besar dari atau sama dengan 10" in too_short.content.decode()
    assert not PresencePolicy.objects.filter(valid_from=dt.date(2026, 12, 1)).exists()

    assert _admin_post(client).status_code == 302
    saved = PresencePolicy.objects.get(valid_from=dt.date(2026, 12, 1))
    assert (saved.machine_silent_after_min, saved.machine_watch_from) == (60, dt.time(6, 30))
    assert AuditEntry.objects.filter(action="presence_policy.create").exists()
    limits = machines.health_limits(datetime(2026, 12, 2, 9, 0, tzinfo=WIB))
    assert limits == machines.HealthLimits(
        timedelta(minutes=60), dt.time(6, 30), dt.time(15, 30), timedelta(seconds=120)
    )
