"""`tepat tpp compute` on a whole regency's month from files: 100,000 employees, 2.2 million
employee-days (October 2026 has 22 working days), timed end to end.

    .venv/bin/python -m bench.tpp_compute                  # generate once, 3 timed runs
    .venv/bin/python -m bench.tpp_compute --employees 5000 --runs 1 --no-report

The input set is deterministic (seeded): 60 OPDs of uneven size, the Kaur-style policy, every
working day listed in `presensi.csv` (as an export from the server would list it) with about 6%
late arrivals, 3% early leaves, 1.5% TK, 3% approved absences and 1% missed apel; e-Kinerja
minutes between 5,000 and 7,500; 3% mid-month kelas transfers, 1% new employees, 2% active
sanctions. Each run is a fresh process (`python -m tepat.cli tpp compute`) with
DATABASE_URL pointing at a closed port, timed from start to exit, all outputs written
(nominatif XLSX, PDF and bank CSV per OPD, explanations, the regency's bank CSV).
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from bench import common, procs
from bench.sections import section_write

MONTH = (2026, 10)
POLICY = "kaur_style_v1"  # the Kaur-style version in force for October 2026 (2 starts in November)
OPDS = 60
SECTION = "tpp-compute"
TARGET_SECONDS = 30


def _working_days() -> list[date]:
    first = date(*MONTH, 1)
    days = [first + timedelta(days=i) for i in range(31)]
    return [d for d in days if d.month == MONTH[1] and d.weekday() < 5]


def inputs_generate(folder: Path, employees: int, seed: int) -> int:
    """Write the input set; returns the number of employee-day rows."""
    rng = random.Random(seed)  # noqa: S311 — deterministic test data, not secrets
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(common.ROOT / "tepat" / "rules" / "policies" / f"{POLICY}.yaml",
                folder / "kebijakan.yaml")  # fmt: skip
    working = _working_days()
    iso = [d.isoformat() for d in working]
    with (folder / "hari_kerja.csv").open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["Tanggal"])
        writer.writerows([d] for d in iso)
    # Uneven OPD sizes: weights 1..OPDS.
    opd_names = [f"OPD {i + 1:02d} Dinas Contoh" for i in range(OPDS)]
    weights = [i + 1 for i in range(OPDS)]
    day_rows = 0
    with (
        (folder / "pegawai.csv").open("w", newline="", encoding="utf-8") as people_file,
        (folder / "presensi.csv").open("w", newline="", encoding="utf-8") as days_file,
        (folder / "kinerja.csv").open("w", newline="", encoding="utf-8") as work_file,
        (folder / "kelas.csv").open("w", newline="", encoding="utf-8") as kelas_file,
        (folder / "hukuman_disiplin.csv").open("w", newline="", encoding="utf-8") as sanction_file,
    ):
        people = csv.writer(people_file)
        days = csv.writer(days_file)
        work = csv.writer(work_file)
        kelas_changes = csv.writer(kelas_file)
        sanctions = csv.writer(sanction_file)
        people.writerow(["NIP", "Nama", "Golongan", "Jabatan", "Jenis", "OPD", "Kelas", "Bank",
                         "Nomor Rekening", "Mulai"])  # fmt: skip
        days.writerow(["NIP", "Tanggal", "Kode", "TL", "PSW", "Tidak Apel"])
        work.writerow(["NIP", "Menit"])
        kelas_changes.writerow(["NIP", "Berlaku Mulai", "Kelas"])
        sanctions.writerow(["NIP", "Kode", "TMT", "Nomor SK"])
        for index in range(employees):
            nip = f"1980{index:08d}1{index % 100000:05d}"  # 18 digits, unique, never PPPK
            kelas = rng.choice((5, 6, 7, 7, 8, 8, 9, 9, 10, 11, 12))
            start = ""
            first_day = 0
            if rng.random() < 0.01:
                first_day = rng.randrange(1, len(working))
                start = iso[first_day]
            people.writerow([nip, f"Pegawai {index}", "III/b", "Pelaksana", "PNS",
                             rng.choices(opd_names, weights)[0], kelas, "Bank Contoh",
                             f"{index:013d}", start])  # fmt: skip
            if rng.random() < 0.03:
                kelas_changes.writerow([nip, iso[rng.randrange(5, 15)], min(kelas + 1, 17)])
            if rng.random() < 0.02:
                sanctions.writerow([nip, "PEMOTONGAN_25_6_BULAN", "2026-09-01", "SK contoh"])
            work.writerow([nip, rng.randrange(5000, 7500)])
            for day in iso[first_day:]:
                roll = rng.random()
                if roll < 0.015:
                    days.writerow([nip, day, "TK", "", "", ""])
                elif roll < 0.045:
                    days.writerow([nip, day, rng.choice(("CUTI_TAHUNAN", "SAKIT", "DL")),
                                   "", "", ""])  # fmt: skip
                else:
                    tl = rng.randrange(1, 120) if rng.random() < 0.06 else ""
                    psw = rng.randrange(1, 120) if rng.random() < 0.03 else ""
                    apel = "ya" if rng.random() < 0.01 else ""
                    days.writerow([nip, day, "H", tl, psw, apel])
                day_rows += 1
    return day_rows


def run_once(folder: Path, out: Path, processes: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the command and its worker processes)."""
    shutil.rmtree(out, ignore_errors=True)
    env = {**os.environ, "DATABASE_URL": "postgres://postgres@127.0.0.1:9/tepat_unreachable"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "tepat.cli", "tpp", "compute", str(folder), "--keluaran",
         str(out), "--proses", str(processes)],
        cwd=common.APP_ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        raise SystemExit(f"tepat tpp compute failed ({done.returncode}):\n{done.stderr[-3000:]}")
    print(done.stdout.strip())
    return seconds, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--employees", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--work", type=Path, default=common.WORK / "tpp_compute")
    parser.add_argument("--no-report", action="store_true")
    parser.add_argument(
        "--quiet-wait", type=float, default=0.0,
        help="before each run, wait up to this many seconds for a quiet machine",
    )  # fmt: skip
    parser.add_argument("--quiet-cores", type=float, default=0.3,
                        help="quiet: other programs use fewer cores than this")  # fmt: skip
    args = parser.parse_args(argv)

    folder = args.work / f"in-{args.employees}-{args.seed}-{POLICY}"  # a new policy: new inputs
    marker = folder / ".complete"
    if not marker.exists():
        shutil.rmtree(folder, ignore_errors=True)
        started = time.perf_counter()
        rows = inputs_generate(folder, args.employees, args.seed)
        marker.write_text(str(rows), encoding="utf-8")
        print(f"generated {rows} employee-days in {time.perf_counter() - started:.1f} s")
    rows = int(marker.read_text(encoding="utf-8"))
    size_mb = sum(p.stat().st_size for p in folder.iterdir()) / 1e6

    times = []
    cpus = []
    loads = []
    rss = []
    for run in range(1, args.runs + 1):
        loads.append(procs.quiet_wait(args.quiet_wait, args.quiet_cores))
        seconds, cpu = run_once(folder, args.work / "out", args.processes)
        times.append(seconds)
        cpus.append(cpu)
        rss.append(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
        print(f"run {run}: {seconds:.1f} s wall, {cpu:.1f} CPU s (other programs' cores "
              f"before: {loads[-1]:.2f})")  # fmt: skip
    median = statistics.median(times)
    cpu_median = statistics.median(cpus)
    print(f"median {median:.1f} s, min {min(times):.1f} s, max {max(times):.1f} s")
    if args.no_report:
        return 0
    load_text = ", ".join(f"{x:.2f}" for x in loads)
    idle_bound = cpu_median / min(args.processes, os.cpu_count() or 1)
    verdict = "meets" if median < TARGET_SECONDS else "does NOT meet"
    quiet = (
        f" (each run waited up to {args.quiet_wait:g} s for them to fall under "
        f"{args.quiet_cores:g})"
        if args.quiet_wait
        else ""
    )
    command = (
        f"python -m bench.tpp_compute --employees {args.employees} --runs {args.runs} "
        f"--seed {args.seed}" + (f" --quiet-wait {args.quiet_wait:g}" if args.quiet_wait else "")
    )
    section_write(
        SECTION,
        f"""## `tepat tpp compute` (continuity mode, files only)

{args.employees:,} employees, {rows:,} employee-days (October 2026, Kaur-style policy), input
{size_mb:.0f} MB of CSV; every output written (per OPD: nominatif XLSX, PDF, bank CSV,
explanations; the regency's bank CSV). {args.runs} runs, each a fresh process with
`DATABASE_URL` pointing at a closed port, `--proses {args.processes}`.

| | wall seconds | CPU seconds (all processes) |
|---|---|---|
| median | {median:.1f} | {cpu_median:.1f} |
| min – max | {min(times):.1f} – {max(times):.1f} | {min(cpus):.1f} – {max(cpus):.1f} |

Target < {TARGET_SECONDS} s wall: the median {verdict} it. On an otherwise idle machine a run
would take at least the CPU seconds divided by the cores used (≈ {idle_bound:.0f} s here;
reading the files runs in one process, so more than that); other programs used {load_text}
cores just before each run{quiet}. Peak RSS of the largest process: {max(rss):.0f} MB.
Machine: {platform.machine()}, {os.cpu_count()} cores shared with other work,
{platform.python_implementation()} {platform.python_version()}. Command: `{command}`.
No database is involved, so there is no raw-PostgreSQL baseline.
""",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
