"""The emulator as a separate process, as in CI: `python -m zkemu` against a live Tepat over
loopback. Exit status 0 means every punch was acknowledged and no protocol rule was broken."""

import json
import subprocess
import sys
from typing import Any

from tepat.presence.models import CheckinEvent, Machine
from tests.machines.conftest import SERIAL
from tests.world import World


def test_the_emulator_process_delivers_an_offline_burst_with_every_quirk(
    world: World, machine: Machine, live_server: Any
) -> None:
    pins = f"{world.teacher.nip},{world.teacher2.nip},77"
    args = [
        sys.executable, "-m", "zkemu", "--url", live_server.url, "--sn", SERIAL,
        "--punches", "300", "--pins", pins, "--offline-burst", "--aspx",
        "--expect-continue", "--fields", "10", "--table-stamps", "--reorder",
        "--duplicates", "--batch-size", "50", "--time-scale", "0", "--json",
    ]  # fmt: skip
    result = subprocess.run(
        args,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    summary = json.loads(result.stdout)
    assert result.returncode == 0, summary["violations"] or summary["last_error"]
    assert summary["pending"] == 0
    assert CheckinEvent.objects.count() == 200  # PIN 77 maps to nobody: kept, not counted
    assert machine.punches.filter(pin="77").count() == 100
