"""The one export that stays inside a web request: a TPP payment request's files (daftar
nominatif XLSX and PDF, bank-transfer CSV), which are one OPD's month by construction. Timed
for an OPD as large as a province's Dinas Pendidikan, to back that choice (docs/deploy.md,
"What still runs inside a web request"). Builders only: the rows are made in memory, the
database read (`tpp.selectors.submission_sheet`) is not included.

    .venv/bin/python -m bench.exports_sync                        # 5,000 and 20,000 rows, 3 runs
    .venv/bin/python -m bench.exports_sync --rows 1000 --runs 1 --no-report
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import resource
import time
from decimal import Decimal

from bench import common
from bench.sections import section_write
from tepat.tpp.nominatif import (
    NominatifRow,
    NominatifSheet,
    Signatory,
    bank_transfer_csv,
    nominatif_pdf,
    nominatif_xlsx,
)

SECTION = "exports-sync"
BUILDERS = {"XLSX": nominatif_xlsx, "PDF": nominatif_pdf, "bank CSV": None}
TARGET_SECONDS = 10  # well inside nginx's 120 s and a person's patience


def sheet_make(rows: int, seed: int = 7) -> NominatifSheet:
    rng = random.Random(seed)  # noqa: S311 — deterministic test data, not secrets
    made = []
    for i in range(rows):
        basic = Decimal(rng.randrange(2_000_000, 9_000_000))
        gross = basic * Decimal("0.9")
        made.append(
            NominatifRow(
                nip=f"19{rng.randrange(10**15, 10**16)}",
                name=f"Pegawai Contoh Nomor {i + 1} S.Pd.",
                golongan="III/b", kelas=str(rng.randrange(5, 15)), jabatan="Guru Ahli Pertama",
                basic=basic, discipline_deduction_percent=Decimal(3),
                productivity_shortfall_percent=Decimal(0), discipline_paid=gross * Decimal("0.4"),
                productivity_paid=gross * Decimal("0.6"), sanction_cut=Decimal(0),
                plt=Decimal(0), gross=gross, tax=Decimal(0),
                withholdings=(("Iuran BPJS Kesehatan 1% (peserta)", gross / 100),),
                net=gross - gross / 100, bank_name="Bank Bengkulu",
                bank_account=str(rng.randrange(10**11, 10**12)),
            )
        )  # fmt: skip
    return NominatifSheet(
        regency="Pemerintah Provinsi Contoh", opd="Dinas Pendidikan dan Kebudayaan",
        year=2026, month=11, policy_label="Perbup contoh", rows=tuple(made),
        signatories=(Signatory("Kepala Dinas Pendidikan"), Signatory("Bendahara Pengeluaran")),
    )  # fmt: skip


def measure(rows: int, runs: int) -> dict[str, dict]:
    sheet = sheet_make(rows)
    found: dict[str, dict] = {}
    for label in BUILDERS:
        seconds, cpu, size = [], [], 0
        for _ in range(runs):
            started, cpu_started = time.perf_counter(), time.process_time()
            if label == "bank CSV":
                size = len(bank_transfer_csv([sheet]))
            else:
                size = len(BUILDERS[label](sheet))  # type: ignore[misc]
            seconds.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_started)
        found[label] = {
            **common.median_spread(seconds), "cpu": common.median_spread(cpu)["median"],
            "bytes": size,
        }  # fmt: skip
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="*", default=[5000, 20000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-report", action="store_true")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    results = {rows: measure(rows, args.runs) for rows in args.rows}
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    lines = [
        "## TPP payment-request files, built in the request (one OPD's month)",
        "",
        f"Load average when started: {load:.1f} on {os.cpu_count()} cores (shared machine). "
        f"Python {platform.python_version()}. Command: `python -m bench.exports_sync "
        f"--rows {' '.join(map(str, args.rows))} --runs {args.runs}`. Builders only (rows in "
        "memory; the database read of the OPD's results is not included), so there is no "
        f"raw-PostgreSQL baseline. Peak RSS of the process: {rss_mb} MB.",
        "",
        "| rows | file | wall seconds (median, min–max, runs) | CPU seconds (median) | size |",
        "|---|---|---|---|---|",
    ]
    for rows, found in results.items():
        for label, f in found.items():
            lines.append(
                f"| {rows:,} | {label} | **{f['median']:.2f}** ({f['min']:.2f}–{f['max']:.2f}, "
                f"n={f['n']}) | {f['cpu']:.2f} | {f['bytes'] / 1024 / 1024:.1f} MB |"
            )
    lines += [
        "",
        "CPU seconds are what a file costs whatever else runs; with the machine loaded the wall "
        "time is longer than the code is.",
        "",
        f"Target: each file under {TARGET_SECONDS} s for the largest OPD (20,000 rows: a "
        "province's Dinas Pendidikan), so the payment request's downloads stay synchronous; "
        "every export that may span more than one OPD is a requested export built by the "
        "worker (`tepat.exports`).",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_report:
        section_write(SECTION, text)


if __name__ == "__main__":
    main()
