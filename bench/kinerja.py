"""The monthly e-Kinerja evaluation for a province: 100,000 employees, each filing 4 daily
reports on each of the month's 22 working days (8.8 million report rows), evaluated and stored
by the real command (`kinerja_evaluate`), timed end to end. Target: under 60 s.

    python -m bench.kinerja                      # build (first time, ~5 min), 3 timed runs
    python -m bench.kinerja --fresh --runs 5     # rebuild the database first

The data lives in its own PostgreSQL database (`tepat_bench_kinerja`), generated with COPY
from arithmetic on the row numbers (no random source: the same arguments give the same rows)
and reused while the arguments match. Each run starts from the same state: the rows the
previous run inserted for unrated employees are deleted, so every run inserts those and
updates the rated ones (the supervisors' ratings must survive).

Also measured: the same month stored one employee at a time (`month_evaluation_store`, as a
supervisor's decision does) on a sample, extrapolated; and the bare PostgreSQL aggregate of
the month's reports, the floor any evaluation that reads every report has to pay. After the
runs, a sample of employees is re-evaluated line by line (`rules.ReportLine`, the rules core's
own sum) and compared with what the run stored.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import common, procs, sections

DB_NAME = os.environ.get("BENCH_KINERJA_DB", "tepat_bench_kinerja")
DATABASE_URL = f"postgres://{common.PG_USER}@{common.PG_HOST}:{common.PG_PORT}/{DB_NAME}"
TARGET_S = 60.0
N_OPD = 40
UNITS_PER_OPD = 25  # the head office and 24 schools, health centres and UPT
SLOTS = (("07:30", "09:30", 120), ("09:30", "11:30", 120), ("12:30", "14:30", 120),
         ("14:30", "16:00", 90))  # fmt: skip
RESULTS_PER_SKP = 3
LEAVE_EVERY = 211  # about 0.5% of employee-days: whole-day leave in the verdict
LATE_START_EVERY = 50  # 2% of employees take up their post on the month's 10th
NULL = "\\N"  # COPY's text format


def _connect(dbname: str = DB_NAME, autocommit: bool = True) -> Any:
    import psycopg

    return psycopg.connect(
        host=common.PG_HOST,
        port=common.PG_PORT,
        user=common.PG_USER,
        dbname=dbname,
        autocommit=autocommit,
    )


def _django() -> None:
    os.environ["DATABASE_URL"] = DATABASE_URL
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tepat.settings")
    import django

    django.setup()


def _status(h: int) -> tuple[str, int | None]:
    """A report's status and adjusted minutes from h in 0..99, a number mixed from the report's
    employee, day and slot: 85% approved (1 in 20 of them with fewer minutes), 5% rejected,
    10% still pending."""
    if h < 85:
        return "approved", (60 if h % 20 == 0 else None)
    if h < 90:
        return "rejected", None
    return "pending", None


def _copy(conn: Any, table: str, columns: str, lines: Any) -> None:
    """COPY with the table's indexes and foreign keys dropped, then rebuilt in one pass each
    (far faster than checking them row by row for millions of rows)."""
    kept = conn.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype IN ('f', 'u')",
        (table,),
    ).fetchall()
    indexes = conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT IN "
        "(SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
        (table, table),
    ).fetchall()
    for name, _definition in kept:
        conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _definition in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for chunk in lines:
            copy.write(chunk)
    for _name, definition in indexes:
        # A partitioned table's index reads "ON ONLY": as written it would make an empty,
        # invalid parent index; without ONLY it is built on every partition too.
        conn.execute(definition.replace(" ON ONLY ", " ON ", 1))
    for name, definition in kept:
        conn.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')


def _working_days(first: date) -> list[date]:
    from tepat.kinerja import selectors

    _first, last = selectors.month_bounds(first.year, first.month)
    return selectors._working_days(first, last)


def _build(employees: int, first: date) -> dict[str, float]:
    """The database: migrated, then everything large written with COPY."""
    from django.db import connections

    connections.close_all()
    with _connect("postgres") as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    from django.core.management import call_command

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    timings["migrate_s"] = time.perf_counter() - t0
    working = _working_days(first)

    from tepat.org.models import Opd, Unit

    t0 = time.perf_counter()
    opds = Opd.objects.bulk_create(
        Opd(code=f"P{n:02d}", name=f"Dinas Provinsi {n:02d}", kind=Opd.Kind.DINAS)
        for n in range(N_OPD)
    )
    units = Unit.objects.bulk_create(
        Unit(
            opd=o,
            code=f"P{n:02d}-U{u:02d}",
            name=f"Unit {u:02d} {o.name}",
            kind="kantor" if u == 0 else ("sekolah" if u % 3 else "puskesmas"),
        )
        for n, o in enumerate(opds)
        for u in range(UNITS_PER_OPD)
    )
    unit_ids = [(u.pk, u.opd_id) for u in units]
    year = first.year
    iso = "2026-01-01 08:00:00+07"
    rated_at = f"{working[-1].isoformat()} 16:00:00+07"
    received = {d: f"{d.isoformat()} 16:30:00+07" for d in working}
    decided = {d: f"{(d + timedelta(days=1)).isoformat()} 09:00:00+07" for d in working}

    with _connect() as conn:
        # Employee i: id i+1, unit i % units; the unit's first employee heads it.
        _copy(
            conn,
            "org_employee",
            "id, nip, name, title_prefix, title_suffix, kind, gender, birth_date, active,"
            " bank_name, bank_account",
            (
                "".join(
                    f"{i + 1}\t{198001012005011000 + i}\tPegawai Provinsi {i:06d}\t\t\tPNS\t"
                    f"{'LP'[i % 2]}\t1980-01-01\tt\t\t\n"
                    for i in range(start, min(start + 10_000, employees))
                )
                for start in range(0, employees, 10_000)
            ),
        )
        n_units = len(unit_ids)

        def assignment(i: int) -> str:
            unit_id, opd_id = unit_ids[i % n_units]
            head = i % n_units + 1
            supervisor = "\\N" if i < n_units else str(head)
            valid_from = (
                first + timedelta(days=9) if i % LATE_START_EVERY == 7 else date(2024, 1, 1)
            )
            jabatan = "Kepala Unit" if i < n_units else "Staf"
            return (
                f"{i + 1}\t{valid_from.isoformat()}\t\\N\t{jabatan}\tpelaksana\t7\tIII/a\t\t"
                f"{i + 1}\t{supervisor}\t{opd_id}\t\\N\t{unit_id}\n"
            )

        _copy(
            conn,
            "org_assignment",
            "id, valid_from, valid_to, jabatan, jabatan_kind, kelas_jabatan, golongan, note, "
            "employee_id, supervisor_id, opd_id, schedule_group_id, unit_id",
            (
                "".join(assignment(i) for i in range(s, min(s + 10_000, employees)))
                for s in range(0, employees, 10_000)
            ),
        )
        _copy(
            conn,
            "kinerja_skp",
            "id, year, status, submitted_at, decided_at, return_reason, created_at, "
            "copied_from_id, decided_by_id, employee_id, supervisor_id",
            (
                "".join(
                    f"{i + 1}\t{year}\tagreed\t{iso}\t{iso}\t\t{iso}\t\\N\t\\N\t{i + 1}\t\\N\n"
                    for i in range(s, min(s + 10_000, employees))
                )
                for s in range(0, employees, 10_000)
            ),
        )
        # Result r of employee i: id i*3+r+1; one indicator each (60 a year, "dokumen").
        _copy(
            conn,
            "kinerja_skpresult",
            '"id", "order", "text", intervensi_id, skp_id',
            (
                "".join(
                    f"{i * RESULTS_PER_SKP + r + 1}\t{r + 1}\tRencana hasil kerja {r + 1}\t\\N\t"
                    f"{i + 1}\n"
                    for i in range(s, min(s + 10_000, employees))
                    for r in range(RESULTS_PER_SKP)
                )
                for s in range(0, employees, 10_000)
            ),
        )
        _copy(
            conn,
            "kinerja_skpindicator",
            "id, text, target, unit, result_id",
            (
                "".join(
                    f"{k + 1}\tDokumen selesai\t60\tdokumen\t{k + 1}\n"
                    for k in range(s, min(s + 30_000, employees * RESULTS_PER_SKP))
                )
                for s in range(0, employees * RESULTS_PER_SKP, 30_000)
            ),
        )
        timings["people_s"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        _copy(
            conn,
            "presence_attendanceday",
            "day, day_code, in_code, out_code, explanation, rules_version, computed_at, "
            "employee_id",
            (
                "".join(
                    f"{d.isoformat()}\t{'cuti_tahunan' if (i + n * 37) % LEAVE_EVERY == 0 else 'H'}"
                    f"\t\t\t[]\tverdict-1\t{received[d]}\t{i + 1}\n"
                    for i in range(employees)
                )
                for n, d in enumerate(working)
            ),
        )
        timings["attendance_s"] = time.perf_counter() - t0

        # Reports arrive day by day, so the table is in day order, as in production.
        t0 = time.perf_counter()

        def reports_of_day(n: int, d: date) -> str:
            # The middle of a row depends on the employee only through h: 100 templates per
            # slot, so the 400,000 rows of a day are cheap string joins.
            day = d.isoformat()
            middles = []
            for s, (start, end, minutes) in enumerate(SLOTS):
                by_h = []
                for h in range(100):
                    status, adjusted = _status(h)
                    by_h.append(
                        f"\t{day}\t{start}\t{end}\t{minutes}\t"
                        f"{NULL if adjusted is None else adjusted}\tKegiatan {s + 1}\tDokumen\t1\t"
                        f"dokumen\t\t\t{status}\tf\tapp\t{received[d]}\t\\N\t"
                        f"{NULL if status == 'pending' else decided[d]}\t"
                        f"{'Bukan tugas pokok' if status == 'rejected' else ''}\tf\t{received[d]}\t"
                    )
                shift = (n * 104729 + s * 31) % 100
                middles.append([by_h[(i19 + shift) % 100] for i19 in range(100)])
            out = []
            for i in range(employees):
                i19 = i * 19 % 100
                base = i * RESULTS_PER_SKP + 1
                for s in range(len(SLOTS)):
                    out.append(
                        f"{i + 1:08x}-{n:04x}-4{s:03x}-8000-000000000000{middles[s][i19]}"
                        f"{i + 1}\t{base + s % RESULTS_PER_SKP}\n"
                    )
            return "".join(out)

        _copy(
            conn,
            "kinerja_dailyreport",
            "client_id, day, start_time, end_time, minutes, approved_minutes, activity, output, "
            "quantity, unit, attachment, attachment_type, status, late, source, received_at, "
            "written_at, decided_at, decision_reason, decided_as_plt, updated_at, employee_id, "
            "skp_result_id",
            (reports_of_day(n, d) for n, d in enumerate(working)),
        )
        timings["reports_s"] = time.perf_counter() - t0

        # 9 in 10 employees already rated by their supervisor (as `month_rate` leaves a row).
        ratings = ("di_atas", "sesuai", "sesuai", "sesuai", "di_bawah")
        _copy(
            conn,
            "kinerja_monthlyevaluation",
            "year, month, hasil_kerja, perilaku, rated_at, approved_minutes, excluded_minutes, "
            "pending_minutes, rejected_minutes, target_minutes, predicate, exemption, method, "
            "policy_name, policy_version, rules_version, explanation, computed_at, employee_id",
            (
                "".join(
                    f"{first.year}\t{first.month}\t{ratings[i % 5]}\t{ratings[(i // 5) % 5]}\t"
                    f"{rated_at}\t0\t0\t0\t0\t0\t\t\t\t\t\t\t[]\t{rated_at}\t{i + 1}\n"
                    for i in range(s, min(s + 10_000, employees))
                    if i % 10
                )
                for s in range(0, employees, 10_000)
            ),
        )
        for table in (
            "org_employee", "org_assignment", "kinerja_skp", "kinerja_skpresult",
            "kinerja_skpindicator",
        ):  # fmt: skip
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 - own names
                f"(SELECT max(id) FROM {table}))"
            )
        t0 = time.perf_counter()
        conn.execute("VACUUM ANALYZE")
        timings["vacuum_analyze_s"] = time.perf_counter() - t0
        conn.execute(
            "CREATE TABLE bench_meta AS SELECT %s::text AS key",
            (_key(employees, first),),
        )
    return timings


def _key(employees: int, first: date) -> str:
    return f"v1:{employees}:{first.isoformat()}"


def _built(employees: int, first: date) -> bool:
    try:
        with _connect() as conn:
            row = conn.execute("SELECT key FROM bench_meta").fetchone()
    except Exception:
        return False
    return row is not None and row[0] == _key(employees, first)


def _reset(first: date) -> None:
    """Back to the state before a run: only the supervisors' rated rows exist."""
    with _connect() as conn:
        conn.execute(
            "DELETE FROM kinerja_monthlyevaluation WHERE year = %s AND month = %s "
            "AND hasil_kerja = ''",
            (first.year, first.month),
        )
        conn.execute("VACUUM ANALYZE kinerja_monthlyevaluation")


def _run_command(first: date, postmaster: int | None) -> tuple[float, dict[str, float], str]:
    """The real command in its own process, as cron would start it: wall time, and the CPU
    seconds it and its PostgreSQL backends used (on a shared machine the wall time also
    counts waiting for other programs; the CPU seconds hardly do)."""
    env = common.server_env({"DATABASE_URL": DATABASE_URL})
    meter = procs.CpuMeter(procs.postgres_groups(postmaster, DB_NAME))
    meter.start()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "tepat.cli", "kinerja_evaluate", "--month", f"{first:%Y-%m}"],
        env=env,
        cwd=common.APP_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cores = meter.stop()
    cpu = {
        "command_cpu_s": after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime,
        "postgres_cpu_s": cores["postgres_backends"] * cores["seconds"],
        "other_cores": cores["other"],
    }
    return wall, cpu, out.stdout.strip()


def _phases(first: date) -> dict[str, float]:
    """Where a run's time goes, in this process: gather (SQL), evaluate (pure), write."""
    from django.db import transaction

    from tepat.kinerja import selectors, services
    from tepat.rules import kinerja as rules

    with transaction.atomic():
        services._large_run_settings()
        t0 = time.perf_counter()
        policy, months = selectors.months_gather(first.year, first.month)
        t1 = time.perf_counter()
        rules.kinerja_months_evaluate(list(months.values()), policy)
        t2 = time.perf_counter()
    with transaction.atomic():
        services.months_evaluation_store(year=first.year, month=first.month)
        t3 = time.perf_counter()
        transaction.set_rollback(True)
    return {
        "gather_s": t1 - t0,
        "evaluate_s": t2 - t1,
        "store_all_s": t3 - t2,  # gather + evaluate + write again, rolled back
    }


def _one_at_a_time(first: date, sample: int, employees: int) -> dict[str, float]:
    """`month_evaluation_store` per employee (the path of one supervisor's decision)."""
    from django.db import transaction

    from tepat.kinerja.services import month_evaluation_store
    from tepat.org.models import Employee

    step = max(1, employees // sample)
    people = list(Employee.objects.filter(pk__in=range(1, employees + 1, step))[:sample])
    with transaction.atomic():
        t0 = time.perf_counter()
        for employee in people:
            month_evaluation_store(employee=employee, year=first.year, month=first.month)
        elapsed = time.perf_counter() - t0
        transaction.set_rollback(True)
    return {
        "sample": len(people),
        "seconds": elapsed,
        "per_employee_ms": elapsed / len(people) * 1000,
        "extrapolated_s": elapsed / len(people) * employees,
    }


def _floor(first: date, last: date) -> float:
    """The bare aggregate of the month's reports per employee and status, in PostgreSQL."""
    with _connect() as conn:
        t0 = time.perf_counter()
        conn.execute(
            "SELECT employee_id, status, count(*), sum(coalesce(approved_minutes, minutes)) "
            "FROM kinerja_dailyreport WHERE day BETWEEN %s AND %s GROUP BY 1, 2",
            (first, last),
        ).fetchall()
        return time.perf_counter() - t0


def _verify(first: date, employees: int, sample: int = 25) -> dict[str, Any]:
    """Stored rows: one per employee, and for a sample exactly the line-by-line result."""
    from dataclasses import replace

    from tepat.kinerja import selectors
    from tepat.kinerja.models import DailyReport, MonthlyEvaluation
    from tepat.presence.models import AttendanceDay
    from tepat.rules import kinerja as rules

    stored = MonthlyEvaluation.objects.filter(year=first.year, month=first.month)
    ids = list(range(1, employees + 1, max(1, employees // sample)))
    mismatches = []
    for employee_id in ids:
        policy, months = selectors.months_gather(first.year, first.month, [employee_id])
        codes = dict(
            AttendanceDay.objects.filter(employee_id=employee_id).values_list("day", "day_code")
        )
        lines = tuple(
            rules.ReportLine(day, minutes, status, approved, codes.get(day))
            for day, minutes, status, approved in DailyReport.objects.filter(
                employee_id=employee_id, day__year=first.year, day__month=first.month
            ).values_list("day", "minutes", "status", "approved_minutes")
        )
        by_line = rules.kinerja_month_evaluate(
            replace(months[employee_id], totals=None, reports=lines), policy
        )
        row = stored.get(employee_id=employee_id)
        if (
            row.approved_minutes,
            row.excluded_minutes,
            row.pending_minutes,
            row.rejected_minutes,
            row.productivity_percent,
            row.predicate or None,
            row.realisation_percent,
            tuple(row.explanation),
        ) != (
            by_line.approved_minutes,
            by_line.excluded_minutes,
            by_line.pending_minutes,
            by_line.rejected_minutes,
            by_line.productivity_percent,
            by_line.predicate,
            by_line.realisation_percent,
            by_line.explanation,
        ):
            mismatches.append(employee_id)
    return {
        "rows": stored.count(),
        "rated_kept": stored.exclude(hasil_kerja="").count(),
        "with_predicate": stored.exclude(predicate="").count(),
        "sampled": len(ids),
        "mismatches": mismatches,
    }


def _spread(values: list[float]) -> dict[str, float]:
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "n": len(values),
    }


def _median(r: dict[str, Any], key: str) -> str:
    values = [c[key] for c in r["cpu"]]
    return f"{statistics.median(values):.1f} ({min(values):.1f}–{max(values):.1f})"


def _table(r: dict[str, Any], s: dict[str, float], ok: bool) -> str:
    one, v, ph = r["one_at_a_time"], r["verify"], r["phases"]
    rows = [
        (
            f"`kinerja_evaluate --month {r['month']}` end to end (own process: gather, rules, "
            f"upsert of {r['employees']:,} rows)",
            f"**{s['median']:.1f} s** median ({s['min']:.1f}–{s['max']:.1f} s, n={s['n']})",
        ),
        ("target", f"< {TARGET_S:.0f} s: " + ("met" if ok else "**NOT met**")),
        (
            "CPU seconds used by the command / by its PostgreSQL backend (sampled); other programs",
            f"{_median(r, 'command_cpu_s')} s / {_median(r, 'postgres_cpu_s')} s; "
            f"{_median(r, 'other_cores')} of {r['machine']['nproc']} cores busy meanwhile",
        ),
        (
            "of which, in-process: gather (SQL sums) / rules / whole store",
            f"{ph['gather_s']:.1f} s / {ph['evaluate_s']:.1f} s / {ph['store_all_s']:.1f} s",
        ),
        (
            "floor: bare PostgreSQL `GROUP BY employee, status` over the month's reports",
            f"{r['floor_s']:.1f} s (the run takes {s['median'] / r['floor_s']:.1f}× that)",
        ),
        (
            f"one employee at a time (`month_evaluation_store`, {one['sample']} sampled)",
            f"{one['per_employee_ms']:.1f} ms each → {one['extrapolated_s'] / 60:.0f} min for all",
        ),
        (
            "rows stored / ratings kept / with a predicate",
            f"{v['rows']:,} / {v['rated_kept']:,} / {v['with_predicate']:,}",
        ),
        (
            "sampled employees re-evaluated line by line, differing",
            f"{len(v['mismatches'])} of {v['sampled']}",
        ),
    ]
    return "| | figure |\n|---|---|\n" + "\n".join(f"| {a} | {b} |" for a, b in rows)


def _render(r: dict[str, Any]) -> str:
    runs = r["runs_s"]
    s = _spread(runs)
    m = r["machine"]
    v = r["verify"]
    ok = s["median"] < TARGET_S and not v["mismatches"] and v["rows"] == r["employees"]
    return f"""## e-Kinerja monthly evaluation (issue 6)

Measured {r["measured_at"]} with `{r["command"]}`.

{r["employees"]:,} employees × {r["working_days"]} working days × 4 reports =
**{r["reports"]:,} report rows** for {r["month"]} ({r["attendance_days"]:,} attendance days,
{r["employees"] * 3:,} SKP indicators, 9 in 10 employees already rated), in its own PostgreSQL
database built with COPY.

{_table(r, s, ok)}

Machine: {m["nproc"]} cores ({m["cpu_model"]}), {m["ram_gib"]} GiB, PostgreSQL
{m["postgresql"]}, Python {m["python"]}; load average before the runs {r["loadavg"]}, other
programs using {r["other_load"]} cores. Build: {r["build"]}.

The run reads the month in a fixed number of queries (one pass over the month's reports for
the counts, minutes and quantities; approved minutes on blocked days from those days;
indicators; assignments; ratings), evaluates
each employee with the pure rules core (`kinerja_months_evaluate`, the policy checked once) and
writes `INSERT … ON CONFLICT DO UPDATE` in batches of 2,000, in one transaction.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--employees", type=int, default=100_000)
    parser.add_argument("--month", default="2026-09", help="YYYY-MM (22 working days)")
    parser.add_argument("--runs", type=int, default=3, help="0: only build the database")
    parser.add_argument("--one-at-a-time", type=int, default=500, help="sample size")
    parser.add_argument("--fresh", action="store_true", help="rebuild the database")
    parser.add_argument("--no-report", action="store_true", help="leave docs/ alone")
    args = parser.parse_args(argv)
    first = date.fromisoformat(args.month + "-01")

    _django()
    from tepat.kinerja import selectors

    build: dict[str, float] | str = "reused"
    if args.fresh or not _built(args.employees, first):
        print(f"building {DB_NAME}: {args.employees:,} employees", flush=True)
        t0 = time.perf_counter()
        build = _build(args.employees, first)
        build["total_s"] = time.perf_counter() - t0
        print(json.dumps(build), flush=True)
    if args.runs == 0:
        return 0  # built only
    _first, last = selectors.month_bounds(first.year, first.month)
    working = _working_days(first)
    with _connect() as conn:
        reports = conn.execute("SELECT count(*) FROM kinerja_dailyreport").fetchone()[0]
        attendance = conn.execute("SELECT count(*) FROM presence_attendanceday").fetchone()[0]
        pg_version = conn.execute("SHOW server_version").fetchone()[0]
        data_directory = conn.execute("SHOW data_directory").fetchone()[0]
    postmaster = procs.postmaster_pid(data_directory)

    before_load = procs.loadavg()
    other = procs.other_load(2.0)
    runs, cpu = [], []
    for n in range(args.runs):
        _reset(first)
        seconds, used, out = _run_command(first, postmaster)
        runs.append(seconds)
        cpu.append(used)
        print(f"run {n + 1}: {seconds:.1f} s, {json.dumps(used)} ({out})", flush=True)
    verify = _verify(first, args.employees)
    print("verify", json.dumps(verify), flush=True)
    phases = _phases(first)
    print("phases", json.dumps(phases), flush=True)
    floor = _floor(first, last)
    one = _one_at_a_time(first, args.one_at_a_time, args.employees)
    print("one at a time", json.dumps(one), flush=True)

    command = "python -m bench.kinerja" + (
        f" --employees {args.employees}" if args.employees != 100_000 else ""
    ) + (f" --runs {args.runs}" if args.runs != 3 else "")  # fmt: skip
    result = {
        "measured_at": datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "command": command,
        "employees": args.employees,
        "month": f"{first:%Y-%m}",
        "working_days": len(working),
        "reports": reports,
        "attendance_days": attendance,
        "runs_s": runs,
        "cpu": cpu,
        "phases": phases,
        "floor_s": floor,
        "one_at_a_time": one,
        "verify": verify,
        "loadavg": before_load,
        "other_load": other,
        "build": "reused an existing database"
        if build == "reused"
        else ", ".join(f"{k} {v:.0f}" for k, v in build.items() if isinstance(v, float)),
        "machine": procs.machine_info(pg_version, {}),
    }
    common.WORK.mkdir(parents=True, exist_ok=True)
    out_file = Path(common.WORK) / f"kinerja-{datetime.now():%Y%m%d-%H%M%S}.json"
    out_file.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    markdown = _render(result)
    print(markdown)
    if not args.no_report:
        sections.section_write("kinerja", markdown)
    return 0 if not verify["mismatches"] else 1


if __name__ == "__main__":
    sys.exit(main())
