#!/usr/bin/env python3
"""Set up and run Tepat from a fresh clone, with nothing but Python 3.11+.

    python3 run.py demo   install into .venv, load the demo regency, start the server
    python3 run.py test   install into .venv with the test tools, run every check and test

Django 6 needs Python 3.12+, so the virtualenv is built with the newest Python 3.12+ found
on this machine (PATH or pyenv); with only 3.11 available Tepat runs on Django 5.2 LTS.
Standard library only: this file runs before anything is installed.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".tepat-installed"
# pip-audit looks up every installed release at this kind of URL (PyPI's JSON API, which
# carries the PyPA advisory database); a known release stands in for all of them.
KNOWN_VULNERABLE = "django==3.2"  # has published advisories: a probe for the database


def python_candidates() -> list[str]:
    found = [sys.executable]
    for minor in (14, 13, 12):
        exe = shutil.which(f"python3.{minor}")
        if exe:
            found.append(exe)
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    found += [str(p) for p in sorted((pyenv_root / "versions").glob("3.1[2-9]*/bin/python3"))]
    return found


def python_version(exe: str) -> tuple[int, int] | None:
    try:
        out = subprocess.run(
            [exe, "-c", "import sys, venv; print(*sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return None
    return int(out[0]), int(out[1])


def best_python() -> str:
    versions = {exe: python_version(exe) for exe in python_candidates()}
    usable = {exe: v for exe, v in versions.items() if v and v >= (3, 11)}
    if not usable:
        sys.exit("Tepat needs Python 3.11 or newer.")
    return max(usable, key=lambda exe: usable[exe])  # type: ignore[arg-type, return-value]


def venv_python() -> Path:
    return VENV / "bin" / "python"


def run(*args: str | Path, env: dict[str, str] | None = None) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    result = subprocess.run([str(a) for a in args], cwd=ROOT, env=env, check=False)
    if result.returncode != 0:
        sys.exit(result.returncode)


def install(extras: str) -> None:
    """Create .venv and install Tepat; skipped when pyproject.toml has not changed."""
    if not venv_python().exists():
        run(best_python(), "-m", "venv", VENV)
        run(venv_python(), "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    target = f".[{extras}]" if extras else "."
    run(venv_python(), "-m", "pip", "install", "--quiet", "-e", target)
    STAMP.write_text(wanted)


def demo(args: list[str]) -> None:
    install("")
    run(venv_python(), "-m", "tepat.cli", "demo", *args)


def advisory_db_reachable(bin_dir: Path) -> bool:
    """Ask pip-audit about an old release with published advisories: if it cannot name
    them, its vulnerability database is out of reach (no network, or a mirror without it)."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as requirements:
        requirements.write(f"{KNOWN_VULNERABLE}\n")
        requirements.flush()
        try:
            result = subprocess.run(
                [str(bin_dir / "pip-audit"), "-r", requirements.name, "--no-deps",
                 "--disable-pip", "--progress-spinner", "off", "-f", "json"],
                capture_output=True, text=True, timeout=180, check=False,
            )  # fmt: skip
        except (OSError, subprocess.SubprocessError):
            return False
    try:
        report = json.loads(result.stdout)
    except ValueError:
        return False
    return any(dep.get("vulns") for dep in report.get("dependencies", []))


def dependency_audit(bin_dir: Path) -> None:
    """Known-vulnerable dependencies fail the build. Skipped, saying so, only when the
    advisory database cannot be reached (no network; a mirror without the JSON API);
    TEPAT_REQUIRE_AUDIT=1 turns that skip into a failure."""
    if advisory_db_reachable(bin_dir):
        run(bin_dir / "pip-audit", "--strict", "--skip-editable", "--progress-spinner", "off")
        return
    message = "pip-audit SKIPPED: its vulnerability database does not answer from this machine"
    if os.environ.get("TEPAT_REQUIRE_AUDIT") == "1":
        sys.exit(message)
    print(message, flush=True)


def test(args: list[str]) -> None:
    install("test")
    bin_dir = VENV / "bin"
    run(bin_dir / "ruff", "check", "tepat", "tests", "zkemu", "bench", "run.py")
    run(bin_dir / "ruff", "format", "--check", "tepat", "tests", "zkemu", "bench", "run.py")
    run(bin_dir / "lint-imports")
    run(bin_dir / "mypy", "tepat")
    run(bin_dir / "bandit", "-c", "pyproject.toml", "-r", "tepat", "-ll", "-q")
    dependency_audit(bin_dir)
    run(venv_python(), "-m", "tepat.cli", "makemigrations", "--check", "--dry-run")
    run(venv_python(), "-m", "pytest", *(args or ["-n", "auto"]))


def main() -> None:
    commands = {"demo": demo, "test": test}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
