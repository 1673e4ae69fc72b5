"""A month's verdicts + TPP for a province, as ONE job, on PostgreSQL (issue 10's target).

    python -m bench.month --runs 3                  # 100,000 employees, November 2026
    python -m bench.month --employees 5000 --runs 1 --no-report

1. Setup (``tepat_bench_month``, reused when seed and size match; ``--fresh`` rebuilds):
   the check-in bench's regency (``checkin_setup.org_build``) with N employees, the example
   schedules as policy (``verdict.schedules_assign``: 5-day office week, 6-day week for
   puskesmas, teachers' hours), every working day of November 2026's punches
   (``verdict._punches_write``, COPY: on time, late, early, a punch missing, twice, nothing),
   1% on approved leave around the 18th (``verdict._leave_write``) and everyone's e-Kinerja
   month (``tpp_run.evaluations_write``); the shipped TPP policy from the migrations.
2. Each run, in a fresh process, from an empty month of verdicts: ``attendance_month_rebuild``
   (every day of the month, chunks of employees over the worker processes, COPY), then the
   TPP run as BKPSDM's button does it (``tpp_run_start`` + ``tpp_run_compute``), timed as one
   job and each part apart. This process watches the job from outside (a thread in the job's
   process would stop it from forking): the CPU of the job's processes and of PostgreSQL's
   backends from ``/proc``, and the peak RSS of each of them.
3. Baseline, after each run: plain SQL that reads the month's counted punches and writes one
   row per employee-day (first check-in, last check-out), plus the TPP bench's baseline (every
   verdict of the month read, one row per employee written).

Figures go to ``docs/performance.md`` (section ``month``), ``var/bench/month-*.json`` and
``var/bench/month-last.json`` (read by ``bench.province``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from typing import Any

from bench import common, procs, sections
from bench.checkin_setup import org_build
from bench.tpp_run import MONTH, YEAR, evaluations_write
from bench.verdict import (
    SCHEDULE_BY_UNIT_KIND,
    _leave_write,
    _machine,
    _punches_write,
    _spread,
    rendered,
    schedules_assign,
    setup_ensure,
)

DB_NAME = os.environ.get("BENCH_MONTH_DB", "tepat_bench_month")
DATABASE_URL = f"postgres://{common.PG_USER}@{common.PG_HOST}:{common.PG_PORT}/{DB_NAME}"
SETUP_FILE = common.WORK / "month-setup.json"
LAST_FILE = common.WORK / "month-last.json"
FIRST = date(YEAR, MONTH, 1)
DAYS = [FIRST + timedelta(n) for n in range(30)]
LEAVE_DAY = date(YEAR, MONTH, 18)
TARGET_S = 120.0


def _env() -> dict[str, str]:
    return common.server_env({"DATABASE_URL": DATABASE_URL, "BENCH_MONTH_DB": DB_NAME})


# --- Setup -----------------------------------------------------------------------------------


def build(employees: int, seed: int) -> dict[str, Any]:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from tepat.accounts.models import Role, User
    from tepat.presence.partitions import LEDGER, partitions_ensure

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    partitions_ensure((LEDGER,), today=FIRST - timedelta(days=1))  # the month's own partition
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    with transaction.atomic():
        _opds, _units, _sites, people, homes = org_build(rng, employees)
        groups = schedules_assign()
        staff = [
            (e.pk, groups[SCHEDULE_BY_UNIT_KIND.get(unit.kind, "kantor-5hk")].pk, site)
            for e, (unit, site) in zip(people, homes, strict=True)
        ]
        bkpsdm = User.objects.create(
            username="bkpsdm.bench",
            role=Role.ADMIN_BKPSDM,
            password="!bench-no-password",  # noqa: S106 - unusable
        )
    timings["org_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    with transaction.atomic():
        punches = _punches_write(rng, staff, DAYS)
        on_leave = _leave_write(rng, staff, LEAVE_DAY, 0.01, bkpsdm)
        evaluations_write(rng, people)
    timings["month_s"] = time.perf_counter() - t0
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    return {
        "seed": seed,
        "employees": employees,
        "punches": punches,
        "approved_leave": on_leave,
        "month": f"{FIRST:%Y-%m}",
        "timings": {k: round(v, 1) for k, v in timings.items()},
    }


# --- The job (a fresh process per run) -------------------------------------------------------


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure_job() -> dict[str, Any]:
    """The month's verdicts from an empty month, then the TPP run: one job."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from tepat.presence.attendance import attendance_month_rebuild
    from tepat.tpp.models import TppRun
    from tepat.tpp.services import tpp_run_compute, tpp_run_start

    call_command("migrate", verbosity=0)  # the code may have gained a migration since setup
    with connection.cursor() as cursor:  # untimed: the job builds the month from nothing
        cursor.execute("TRUNCATE presence_attendanceday")
        cursor.execute("VACUUM ANALYZE presence_attendanceday")
        cursor.execute("CHECKPOINT")
    TppRun.objects.filter(status__in=[TppRun.Status.QUEUED, TppRun.Status.RUNNING]).update(
        status=TppRun.Status.DISCARDED
    )
    connection.close()
    cpu0, t0 = time.process_time() + _children_cpu(), time.perf_counter()
    rows = attendance_month_rebuild(YEAR, MONTH)
    cpu1, t1 = time.process_time() + _children_cpu(), time.perf_counter()
    verdict_children_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    run = tpp_run_start(actor=None, year=YEAR, month=MONTH, enqueue=False)
    run = tpp_run_compute(run.pk)
    cpu2, t2 = time.process_time() + _children_cpu(), time.perf_counter()
    TppRun.objects.filter(pk=run.pk).update(status=TppRun.Status.DISCARDED)
    return {
        "verdict_s": t1 - t0,
        "tpp_s": t2 - t1,
        "total_s": t2 - t0,
        "verdict_python_cpu_s": cpu1 - cpu0,
        "tpp_python_cpu_s": cpu2 - cpu1,
        "verdict_rows": rows,
        "tpp_employees": run.progress_done,
        "tpp_errors": run.error_count,
        "job_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "verdict_worker_rss_mb": verdict_children_rss,
        "worker_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


def measure_baseline() -> dict[str, Any]:
    """The job's reads and writes in plain SQL: the month's counted punches read and one row
    per employee-day written; then every verdict of the month read and one row per employee
    written (the TPP bench's baseline)."""
    import django

    django.setup()
    from django.db import connection, transaction

    from bench.tpp_run import _baseline
    from tepat.presence.attendance import events_window

    start, end = events_window(DAYS[0])[0], events_window(DAYS[-1])[1]
    t0 = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE month_baseline (employee_id bigint, day date, "
            "first_in timestamptz, last_out timestamptz, PRIMARY KEY (employee_id, day)) "
            "ON COMMIT DROP"
        )
        cursor.execute(
            """
            INSERT INTO month_baseline
            SELECT employee_id, (taken_at AT TIME ZONE 'Asia/Jakarta')::date,
                   min(taken_at) FILTER (WHERE kind = 'in'),
                   max(taken_at) FILTER (WHERE kind = 'out')
            FROM presence_checkinevent
            WHERE taken_at >= %s AND taken_at < %s AND status = 'accepted'
            GROUP BY 1, 2
            """,
            [start, end],
        )
        rows = cursor.rowcount
    verdicts = time.perf_counter() - t0
    tpp = _baseline()
    return {"verdict_s": verdicts, "tpp_s": tpp, "total_s": verdicts + tpp, "rows": rows}


MEASURES = {"job": measure_job, "baseline": measure_baseline}


# --- Watching a measured process from outside ------------------------------------------------


def _postmaster() -> int | None:
    import psycopg

    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        row = conn.execute("SHOW data_directory").fetchone()
    return procs.postmaster_pid(row[0]) if row else None


def _child(measure: str, postmaster: int | None) -> dict[str, Any]:
    """Run one measurement in a fresh process; its answer, the CPU its processes and the
    bench database's PostgreSQL backends used, and the peak RSS of each."""
    groups = {
        "python": lambda found: procs.descendants(found, proc.pid),
        **procs.postgres_groups(postmaster, DB_NAME),
    }
    meter = procs.CpuMeter(groups)
    meter.start()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.month", "--measure", measure],
        env=_env(),
        cwd=common.ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    peaks: dict[int, tuple[str, float]] = {}
    while proc.poll() is None:
        found = procs._read_procs()
        watched = procs.descendants(found, proc.pid) | groups["postgres_backends"](found)  # type: ignore[operator]
        for pid in watched:
            peak = procs.peak_rss_mib(pid)
            if peak is not None:
                role = "python" if pid in procs.descendants(found, proc.pid) else "postgres"
                peaks[pid] = (role, max(peak, peaks.get(pid, ("", 0.0))[1]))
        time.sleep(0.5)
    out, err = proc.communicate()
    cpu = meter.stop()
    if proc.returncode != 0:
        raise RuntimeError(f"measuring {measure} failed:\n{err[-3000:]}")
    answer = json.loads(out.strip().splitlines()[-1])
    python_rss = sorted((mb for role, mb in peaks.values() if role == "python"), reverse=True)
    pg_rss = sorted((mb for role, mb in peaks.values() if role == "postgres"), reverse=True)
    answer["cpu"] = cpu
    answer["rss_python_mb"] = python_rss
    answer["rss_postgres_mb"] = pg_rss
    return answer


# --- Report ----------------------------------------------------------------------------------


def _median(values: list[float]) -> float:
    return statistics.median(values)


def report(results: dict[str, Any]) -> str:
    setup, jobs, bases = results["setup"], results["jobs"], results["baselines"]
    total = [j["total_s"] for j in jobs]
    verdicts = [j["verdict_s"] for j in jobs]
    tpp = [j["tpp_s"] for j in jobs]
    base = [b["total_s"] for b in bases]
    py_cpu = [j["verdict_python_cpu_s"] + j["tpp_python_cpu_s"] for j in jobs]
    pg_cpu = [j["cpu"]["postgres_backends"] * j["cpu"]["seconds"] for j in jobs]
    helpers = [j["cpu"]["postgres_helpers"] * j["cpu"]["seconds"] for j in jobs]
    other = [j["cpu"]["other"] for j in jobs]
    last = jobs[-1]
    met = _median(total) < TARGET_S
    target = "met" if met else "**missed**"
    if setup["employees"] < 100_000:
        target = f"not measured here (a reduced run of {setup['employees']:,} employees)"
    loads = ", ".join(f"{x:.1f}" for x in results["loads"])
    rss_py = ", ".join(f"{mb:.0f}" for mb in last["rss_python_mb"])
    rss_pg = ", ".join(f"{mb:.0f}" for mb in last["rss_postgres_mb"][:6])
    verdict_cpu = _median([j["verdict_python_cpu_s"] for j in jobs])
    per_row = verdict_cpu / max(1, last["verdict_rows"]) * 1e6
    punches_per_row = setup["punches"] / max(1, last["verdict_rows"])
    rows = [
        (
            f"**the job: November's verdicts, then the TPP run** (target < {TARGET_S:.0f} s)",
            _spread(total, "s", 1),
        ),
        (
            f"of which the month's verdicts (`attendance_month_rebuild`, "
            f"{last['verdict_rows']:,} rows)",
            _spread(verdicts, "s", 1),
        ),
        (
            f"of which the TPP run ({last['tpp_employees']:,} employees, "
            f"{last['tpp_errors']} errors)",
            _spread(tpp, "s", 1),
        ),
        ("raw-PostgreSQL baseline (below)", _spread(base, "s", 1)),
        ("CPU: Python (the job's process and its workers)", f"{_median(py_cpu):.1f} s"),
        (
            "CPU: PostgreSQL (the bench database's backends; the shared WAL writer,"
            " checkpointer… apart)",
            f"{_median(pg_cpu):.1f} s ({_median(helpers):.1f} s)",
        ),
    ]
    table = "\n".join(f"| {what} | {figure} |" for what, figure in rows)
    return f"""## A month's verdicts + TPP as one job (`bench/month.py`, issue 10)

Measured {results["at"]} on {_machine()}, PostgreSQL {results["postgres"]} on the same machine.
Load average (1 min) when each run started: {loads}; other programs' share of the
machine during the runs (cores, median): {_median(other):.2f}.
Command: `{results["command"]}` (database `{DB_NAME}`, seed {setup["seed"]}), under
`flock /tmp/tepat-bench.lock`.

| what | median (spread) |
|---|---|
{table}

Target (100,000 employees, < {TARGET_S:.0f} s): {target}. The job took
{_median(total) / _median(base):.1f}× its raw-PostgreSQL baseline.

- The month: {setup["employees"]:,} employees, every day of November 2026 (weekends and the
  6-day week's Saturdays included, as the nightly build stores them), {setup["punches"]:,}
  punches in the ledger's November partition, {setup["approved_leave"]:,} employees on approved
  leave. Each run starts from an empty month of verdicts (`TRUNCATE`, untimed) in a fresh
  process: the verdicts in chunks of 2,000 employees over the worker processes
  (`ATTENDANCE_REBUILD_PROCESSES`, default the cores), each chunk's punches, absences,
  exceptions, assignments, schedules and calendar read once for the month and its verdicts
  stored with COPY; then the TPP run (`TPP_RUN_PROCESSES`) reads them back.
- CPU: Python's from the job's own counters (its process and the workers it waited for);
  PostgreSQL's from `/proc`, every backend of the bench database while the measured process
  ran (emptying the month before the job included: a `TRUNCATE`).
- Python CPU by part (median): verdicts {verdict_cpu:.1f} s ({per_row:.0f} µs per verdict),
  TPP {_median([j["tpp_python_cpu_s"] for j in jobs]):.1f} s.
- What bounds it: the whole job needs {_median(py_cpu) + _median(pg_cpu):.0f} CPU seconds
  (Python and PostgreSQL, median), so on 2 cores it cannot take less than
  {(_median(py_cpu) + _median(pg_cpu)) / 2:.0f} s however the work is spread. Each verdict
  is judged with the punches of its own date and of its shift's presence window (a night
  shift's morning check-out), about {punches_per_row:.1f} per verdict; a neighbouring day's
  punch is explained on its own day only (`attendance._own_span`). A weekend's or a
  holiday's LIBUR, and a TK without punches, is judged once per schedule group, day and zone
  and shared, row values and encoded explanation included.
- The TPP run here reads what the month job stored: every day of the month (the weekends'
  LIBUR rows too) for the regency of `checkin_setup.org_build` (schools, puskesmas, their
  schedule groups); the TPP bench's own section times it on its own data (weekday verdicts
  only, no schedule groups).
- Peak RSS (last run, MB): the job's processes {rss_py} (the job itself
  {last["job_rss_mb"]:.0f}; the largest verdict worker {last["verdict_worker_rss_mb"]:.0f});
  the PostgreSQL backends' {rss_pg} (their shared buffers included).
- Baseline: one statement reading the month's accepted punches and writing one row per
  employee-day ({bases[-1]["rows"]:,} rows: first check-in, last check-out), median
  {_median([b["verdict_s"] for b in bases]):.1f} s; then the TPP bench's statement (every
  verdict of the month read, one row per employee with the month as JSON), median
  {_median([b["tpp_s"] for b in bases]):.1f} s. It judges nothing: no schedule, band, calendar,
  leave or explanation.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--employees", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--fresh", action="store_true", help="rebuild the database")
    parser.add_argument("--no-report", action="store_true", help="leave docs/ untouched")
    parser.add_argument("--render", metavar="JSON", help="re-render a run's saved figures")
    parser.add_argument("--measure", choices=sorted(MEASURES), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.update(_env())
    sys.path.insert(0, str(common.ROOT))
    if args.measure:
        print(json.dumps(MEASURES[args.measure]()))
        return 0
    if args.render:
        return rendered(args.render, report, "month", write=not args.no_report)

    common.WORK.mkdir(parents=True, exist_ok=True)
    setup = setup_ensure(
        SETUP_FILE,
        DB_NAME,
        {"seed": args.seed, "employees": args.employees},
        ("SELECT count(*) FROM presence_checkinevent", "punches"),
        lambda: build(args.employees, args.seed),
        fresh=args.fresh,
    )
    import psycopg

    with psycopg.connect(DATABASE_URL) as conn:
        version = conn.execute("SHOW server_version").fetchone()
    postmaster = _postmaster()
    results: dict[str, Any] = {
        "at": datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "command": "python -m bench.month" + "".join(f" {a}" for a in (argv or sys.argv[1:])),
        "postgres": version[0] if version else "?",
        "setup": setup,
        "jobs": [],
        "baselines": [],
        "loads": [],
    }
    for n in range(args.runs):
        results["loads"].append(os.getloadavg()[0])
        results["jobs"].append(_child("job", postmaster))
        print(f"run {n + 1}", json.dumps(results["jobs"][-1]), flush=True)
        results["baselines"].append(_child("baseline", postmaster))
        print(f"baseline {n + 1}", json.dumps(results["baselines"][-1]), flush=True)
    out = common.WORK / f"month-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    LAST_FILE.write_text(json.dumps(results, indent=2), encoding="utf-8")
    markdown = report(results)
    print(markdown)
    if not args.no_report:
        sections.section_write("month", markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
