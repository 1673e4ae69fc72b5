"""A synthetic province on PostgreSQL, every benchmark against it, one command (issue 10).

    python -m bench.province                         # 100,000 employees; ~1 h the first time
    python -m bench.province --employees 5000 --runs 1          # the whole chain, minutes
    python -m bench.province --only verdict,tpp_run --dry-run   # print the commands only

Each step is one of the existing benchmark modules, run as its own process holding
``/tmp/tepat-bench.lock`` (as ``flock``: one benchmark at a time on a shared machine), with the
province's size and its own databases (``tepat_bench_province_<step>``; port 8081 for the
servers). Each module builds its part of the province deterministically from its seed with
COPY (``checkin_setup.org_build`` for the regency, ``verdict``'s punches, ``kinerja``'s
reports, ``tpp_run``'s attendance month), measures median and spread over ``--runs``, its
raw-PostgreSQL baseline in the same run and the ratio, the peak RSS of its processes, and
writes its own section of ``docs/performance.md``. ``bench/monitor.py`` runs too when present.

This module adds the ``province`` section: the exact command, the machine, and per step its
wall time, exit status and the peak RSS of the step's driver process (``wait4``); plus the
month's verdicts + TPP figure as the ``month`` step measured it, one job (derived from the
``verdict`` and ``tpp_run`` steps only when that step did not run).
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import common, sections

LOCK = os.environ.get("BENCH_LOCK", "/tmp/tepat-bench.lock")  # noqa: S108  # nosec B108
DB_PREFIX = os.environ.get("BENCH_PROVINCE_DB", "tepat_bench_province")
PORT = 8081
STEPS = [
    "checkin",
    "machines",
    "verdict",
    "kinerja",
    "tpp_run",
    "month",
    "tpp_compute",
    "monitor",
    "peak",
    "ledger_explain",
]
TARGET_MONTH_S = 120.0
WORKING_DAYS = 22  # a month's verdicts: one nightly build per working day


def step_command(step: str, args: argparse.Namespace) -> list[str] | None:
    """The command line of one step at the province's size; None if the module is absent."""
    if not (common.ROOT / "bench" / f"{step}.py").exists():
        return None
    n, runs = str(args.employees), str(args.runs)
    cmd = [sys.executable, "-m", f"bench.{step}"]
    extra: dict[str, list[str]] = {
        "checkin": ["--employees", n, "--runs", runs, "--port", str(PORT)],
        "machines": ["--runs", runs, "--port", str(PORT)],
        "verdict": ["--employees", n, "--runs", runs],
        "kinerja": ["--employees", n, "--runs", runs],
        "tpp_run": ["--employees", n, "--runs", runs],
        "month": ["--employees", n, "--runs", runs],
        "tpp_compute": ["--employees", n, "--runs", runs],
        "monitor": ["--employees", n, "--runs", runs],
        "peak": ["--employees", n, "--port", str(PORT)],
        "ledger_explain": ["--out", str(common.WORK / "ledger-explain.md")],
    }
    cmd += extra[step]
    if args.no_report and step != "ledger_explain":
        cmd.append("--no-write" if step == "tpp_run" else "--no-report")
    return cmd


def step_env(step: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        BENCH_DB=f"{DB_PREFIX}_checkin",
        BENCH_MACHINES_DB=f"{DB_PREFIX}_machines",
        BENCH_VERDICT_DB=f"{DB_PREFIX}_verdict",
        BENCH_KINERJA_DB=f"{DB_PREFIX}_kinerja",
        BENCH_TPP_DB=f"{DB_PREFIX}_tpp",
        BENCH_MONTH_DB=f"{DB_PREFIX}_month",
        BENCH_MONITOR_DB=f"{DB_PREFIX}_monitor",
    )
    if step == "peak":  # its own regency: the check-in step's ledger stays as that step left it
        env["BENCH_DB"] = f"{DB_PREFIX}_peak"
        env["BENCH_MACHINES_DB"] = f"{DB_PREFIX}_peak_machines"
        env["BENCH_WORK_DIR"] = str(common.WORK / "peak")
    if step == "ledger_explain":  # the ledger the morning peak filled
        env["DATABASE_URL"] = (
            f"postgres://{common.PG_USER}@{common.PG_HOST}:{common.PG_PORT}/{DB_PREFIX}_peak"
        )
    return env


def step_run(step: str, cmd: list[str]) -> dict[str, Any]:
    """Run one step; its wall time, exit status and its driver's peak RSS."""
    print(f"== {step}: waiting for {LOCK}", flush=True)
    waited = time.perf_counter()
    with open(LOCK, "a") as lock:  # as `flock LOCK command`, the wait timed apart
        fcntl.flock(lock, fcntl.LOCK_EX)
        waited = time.perf_counter() - waited
        print(f"== {step}: {shlex.join(cmd)}", flush=True)
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=step_env(step), cwd=common.ROOT)  # nosec B603
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    figure = month_figure() if step == "month" and code == 0 else None
    return {
        **({"month": figure} if figure else {}),
        "step": step,
        "command": shlex.join(["python", *cmd[1:]]),
        "lock_wait_s": round(waited, 1),
        "exit": code,
        "wall_s": round(wall, 1),
        "driver_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
    }


def month_figure() -> dict[str, Any] | None:
    """The month step's measured job (`bench/month.py` leaves its last run's figures)."""
    from bench.month import LAST_FILE

    if not LAST_FILE.exists():
        return None
    saved = json.loads(LAST_FILE.read_text(encoding="utf-8"))
    jobs = saved["jobs"]
    return {
        "employees": saved["setup"]["employees"],
        "total_s": [j["total_s"] for j in jobs],
        "verdict_s": [j["verdict_s"] for j in jobs],
        "tpp_s": [j["tpp_s"] for j in jobs],
        "baseline_s": [b["total_s"] for b in saved["baselines"]],
    }


def _month_lines(results: list[dict[str, Any]]) -> list[str]:
    """The month's verdicts + TPP: measured as one job by the `month` step; derived from the
    `verdict` and `tpp_run` steps only when that step did not run."""
    measured = next((r["month"] for r in results if r.get("month")), None)
    if measured is None:
        return [
            f"A month's verdicts + TPP (target < {TARGET_MONTH_S:.0f} s for 100,000 employees)"
            " was not measured as one job in this run (no `month` step); derived, it is",
            f"{WORKING_DAYS} nightly day builds (`verdict`, section above: median of one day)"
            " plus one TPP run (`tpp_run`).",
        ]
    total, base = measured["total_s"], measured["baseline_s"]
    median = statistics.median(total)
    met = "met" if median < TARGET_MONTH_S else "missed"
    if measured["employees"] < 100_000:
        met = "not measured at 100,000 here"
    return [
        f"A month's verdicts + TPP for {measured['employees']:,} employees, measured as one job"
        f" (`month` step, its section below): **{median:.1f} s** (min {min(total):.1f}, max"
        f" {max(total):.1f}, {len(total)} runs): verdicts"
        f" {statistics.median(measured['verdict_s']):.1f} s, TPP"
        f" {statistics.median(measured['tpp_s']):.1f} s; {median / statistics.median(base):.1f}×"
        f" its raw-PostgreSQL baseline. Target < {TARGET_MONTH_S:.0f} s at 100,000: {met}.",
    ]


def _machine() -> str:
    cores = os.cpu_count()
    mem = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kb = int(meminfo.read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.1f} GiB RAM"
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{platform.platform()}, {cores} cores{mem}; load average at the end {load}"


def render(results: list[dict[str, Any]], command: str) -> str:
    lines = [
        "## Province harness (`bench/province.py`)",
        "",
        f"Command: `{command}`  ",
        f"Machine: {_machine()}  ",
        (
            "The steps ran with `--no-report` (a trial): their figures are in their"
            " `var/bench/*.json`, not in this file."
            if "--no-report" in command
            else "Every step below wrote its own section of this file (median, spread,"
            " raw-PostgreSQL baseline and ratio, peak RSS of its processes)."
        ),
        "This table is the harness's own record of the run: exit status, wait for the bench",
        "lock, wall time, and CPU and peak RSS of each step's driver process.",
        "",
        "| step | exit | lock wait (s) | wall (s) | driver CPU (s) | driver peak RSS (MB) |"
        " command |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if r.get("skipped"):
            lines.append(f"| {r['step']} | skipped: {r['skipped']} | | | | | |")
            continue
        lines.append(
            f"| {r['step']} | {r['exit']} | {r['lock_wait_s']} | {r['wall_s']} | {r['cpu_s']} |"
            f" {r['driver_rss_mb']} | `{r['command']}` |"
        )
    lines += ["", *_month_lines(results)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", help=f"comma-separated steps of {','.join(STEPS)}")
    parser.add_argument("--dry-run", action="store_true", help="print the commands only")
    parser.add_argument(
        "--no-report", action="store_true", help="steps leave their sections alone (a trial run)"
    )
    parser.add_argument("--render", metavar="JSON", help="only rewrite the section from a run")
    args = parser.parse_args(argv)
    if args.render:
        saved = json.loads(Path(args.render).read_text())
        sections.section_write("province", render(saved["steps"], saved["command"]))
        return 0
    chosen = args.only.split(",") if args.only else STEPS
    unknown = set(chosen) - set(STEPS)
    if unknown:
        parser.error(f"unknown steps: {', '.join(sorted(unknown))}")
    command = "python -m bench.province " + shlex.join(argv if argv is not None else sys.argv[1:])
    results: list[dict[str, Any]] = []
    common.WORK.mkdir(parents=True, exist_ok=True)
    out = common.WORK / f"province-{time.strftime('%Y%m%d-%H%M%S')}.json"
    for step in chosen:
        cmd = step_command(step, args)
        if cmd is None:
            results.append({"step": step, "skipped": f"bench/{step}.py not present"})
            continue
        if args.dry_run:
            print("flock", LOCK, shlex.join(cmd))
            continue
        results.append(step_run(step, cmd))
        # After every step: a run cut short still leaves the record of the steps done.
        out.write_text(json.dumps({"command": command, "steps": results}, indent=2))
        sections.section_write("province", render(results, command))
    if args.dry_run:
        return 0
    failed = [r["step"] for r in results if r.get("exit")]
    print(f"results: {out}; failed steps: {', '.join(failed) or 'none'}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
