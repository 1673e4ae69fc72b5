"""deploy/ stays true to the code: the units run commands Tepat has, with options they
accept; every timer starts a service; nginx accepts the site configuration."""

import configparser
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import get_commands, load_command_class

from tests.scale.conftest import tool_required

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
UNITS = DEPLOY / "systemd"
TEPAT = "/opt/tepat/venv/bin/tepat"


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    text = re.sub(r"\\\n\s*", " ", path.read_text())  # continuation lines
    # ExecStart may repeat (a oneshot's steps): number them so configparser keeps each.
    counter = iter(range(1000))
    text = re.sub(r"^ExecStart=", lambda _: f"ExecStart{next(counter)}=", text, flags=re.M)
    parser.read_string(text)
    return parser


def _exec_lines() -> list[tuple[str, list[str]]]:
    found = []
    for path in sorted(UNITS.glob("*.service")):
        service = _unit(path)["Service"]
        for key, value in service.items():
            if key.startswith("ExecStart") and value.startswith(TEPAT + " "):
                found.append((path.name, shlex.split(value)[1:]))
    return found


def test_every_timer_starts_a_service_that_exists() -> None:
    timers = sorted(UNITS.glob("*.timer"))
    assert len(timers) >= 10
    for timer in timers:
        assert (UNITS / f"{timer.stem}.service").exists(), timer.name
        assert _unit(timer)["Timer"]["OnCalendar"]


@pytest.mark.parametrize(("unit", "argv"), _exec_lines(), ids=lambda v: str(v))
def test_every_scheduled_command_exists_and_accepts_its_options(unit: str, argv: list[str]) -> None:
    commands = get_commands()
    name, *args = argv
    assert name in commands, f"{unit}: tepat {name} is not a Tepat command"
    parser = load_command_class(commands[name], name).create_parser("tepat", name)
    parser.parse_args(args)  # exits (SystemExit) on an unknown option


def test_the_scheduled_jobs_named_in_docs_have_units() -> None:
    scheduled = {
        " ".join(argv[:2]) if argv[0] in {"ledger", "integrity"} else argv[0]
        for _, argv in _exec_lines()
    }
    wanted = {
        "ledger seal",
        "integrity check",
        "attendance_rebuild",
        "discipline_alerts",
        "absence_expire",
        "kinerja_remind",
        "machines_check",
        "db_worker",
        "tasks_retry",
        "backup",
    }
    assert wanted <= scheduled, wanted - scheduled


def test_nginx_accepts_the_site_configuration(tmp_path: Path) -> None:
    from tepat.localtls import local_tls_ensure

    tool_required(shutil.which("nginx") is not None, "nginx (Debian package nginx-light)")
    tls = local_tls_ensure(tmp_path / "tls", ("presensi.example.go.id",))
    site = (DEPLOY / "nginx" / "tepat.conf").read_text()
    site = site.replace(
        "/etc/nginx/snippets/tepat-proxy.conf", str(DEPLOY / "nginx/tepat-proxy.conf")
    )
    site = re.sub(r"ssl_certificate .*;", f"ssl_certificate {tls.cert};", site)
    site = re.sub(r"ssl_certificate_key .*;", f"ssl_certificate_key {tls.key};", site)
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"{'user root;' if os.geteuid() == 0 else ''}\npid {tmp_path}/nginx.pid;\n"
        f"events {{}}\nhttp {{\n    include {tmp_path}/site.conf;\n}}\n"
    )
    result = subprocess.run(
        [
            "nginx",
            "-t",
            "-q",
            "-c",
            str(tmp_path / "nginx.conf"),
            "-p",
            str(tmp_path),
            "-e",
            str(tmp_path / "error.log"),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
