"""`python -m zkemu`: a scenario against a live server, with a summary."""

import io
import json
import subprocess
import sys
from pathlib import Path

from tests.zkemu.helpers import fresh_sn
from zkemu.cli import main
from zkemu.server_stub import Fault, StubServer

REPO = Path(__file__).resolve().parents[2]


def run_cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    status = main(list(argv), out=out)
    return status, out.getvalue()


def test_realtime_punches_against_a_server(stub: StubServer) -> None:
    sn = fresh_sn()
    stub.queue(sn, "INFO")

    status, output = run_cli("--url", stub.url, "--sn", sn, "--punches", "30", "--pins", "1,2,3")

    assert status == 0
    assert "punches: 30 recorded, 0 rows pending" in output
    assert "violations: none" in output
    assert len(stub.accepted_keys(sn)) == 30
    assert stub.device(sn).results[0].cmd == "INFO"


def test_offline_burst_over_aspx_as_json(stub: StubServer) -> None:
    sn = fresh_sn()
    argv = ["--url", stub.url, "--sn", sn, "--punches", "1000", "--pins", "1,2,3", "--aspx"]

    status, output = run_cli(*argv, "--offline-burst", "--batch-size", "250", "--json")

    summary = json.loads(output)
    assert status == 0
    assert summary["pending"] == 0
    assert summary["stats"]["batches_acked"] == 4 + 1  # four ATTLOG batches and the OPLOG
    assert len(stub.accepted_keys(sn)) == 1000
    assert all(r.path.endswith(".aspx") for r in stub.requests)


def test_a_server_that_never_acknowledges_fails_the_run(stub: StubServer) -> None:
    sn = fresh_sn()
    argv = ["--url", stub.url, "--sn", sn, "--punches", "3", "--max-failures", "2"]

    stub.plan(sn, *[Fault.error()] * 20)
    status, output = run_cli(*argv, "--time-scale", "0")

    assert status == 1
    assert "punches: 3 recorded, 4 rows pending" in output


def test_no_server_is_exit_status_2() -> None:
    with StubServer() as stub:
        url = stub.url

    status, output = run_cli("--url", url, "--timeout", "1")

    assert status == 2
    assert "handshake failed" in output


def test_python_dash_m_with_its_own_stub() -> None:
    argv = [sys.executable, "-m", "zkemu", "--stub", "--punches", "20", "--offline-burst"]
    done = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=60, check=False)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "punches: 20 recorded, 0 rows pending" in done.stdout
