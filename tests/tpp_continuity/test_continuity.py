"""`tepat tpp compute`: a month from spreadsheets, no database, no network."""

import csv
import io
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from openpyxl import Workbook, load_workbook

from tepat.rules.tpp import DayRecord, EmployeeMonth, ProductivityInput, tpp_month_compute
from tepat.rules.tpp_policy import policy_from_yaml, policy_load, policy_validate
from tepat.tpp import continuity
from tepat.tpp.continuity import (
    ContinuityEmployee,
    ContinuityEntry,
    continuity_inputs_read,
    continuity_inputs_write,
    main,
)
from tepat.tpp.nominatif import XLSX_HEADER_ROW
from tests.rules.test_tpp import GOLDEN_DIR, NOV_2026, POLICIES, _golden_month

EXAMPLE = Path(continuity.__file__).parent / "continuity_example"
ROOT = Path(__file__).resolve().parents[2]
KAUR = policy_load("kaur_style")


def _nominatif(folder: Path) -> dict[str, dict[str, Any]]:
    """Every employee row of a nominatif.xlsx, by NIP, keyed by column header."""
    ws = load_workbook(folder / "nominatif.xlsx").active
    header = [c.value for c in ws[XLSX_HEADER_ROW]]
    rows = {}
    for values in ws.iter_rows(min_row=XLSX_HEADER_ROW + 1, values_only=True):
        if values[0] is None or not isinstance(values[0], int):
            break
        rows[values[1]] = dict(zip(header, values, strict=True))
    return rows


def _money(value: Any) -> Decimal:
    return Decimal(str(value))


def _copy_example(tmp_path: Path) -> Path:
    folder = tmp_path / "masukan"
    shutil.copytree(EXAMPLE, folder)
    return folder


def _rewrite(path: Path, row: int, column: str, value: str) -> None:
    rows = list(csv.reader(path.open(encoding="utf-8")))
    rows[row - 1][rows[0].index(column)] = value
    with path.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows(rows)


# --- the example set -----------------------------------------------------------------------------


def test_the_example_set_computes_every_employee_as_the_rules_core_does(tmp_path: Path) -> None:
    out = tmp_path / "hasil"
    assert main([str(EXAMPLE), "--keluaran", str(out), "--proses", "1"]) == 0

    inputs = continuity_inputs_read(EXAMPLE, policy=KAUR)
    assert not inputs.problems
    expected = {e.employee.nip: tpp_month_compute(e.month, KAUR) for e in inputs.entries}
    found = {**_nominatif(out / "Dinas_Pendidikan"), **_nominatif(out / "Dinas_Kesehatan")}
    assert set(found) == set(expected)
    assert len(found) == 6
    for nip, result in expected.items():
        assert _money(found[nip]["TPP kotor"]) == result.gross, nip
        assert _money(found[nip]["TPP bersih"]) == result.net, nip

    # Hand-checked: Sri Wahyuni, kelas 7 (3.915.950): 45 minutes late (TL2 1%), TL1 0,5%,
    # PSW2 1%, two days cuti tahunan (no cut): 2,5% of the discipline share 1.566.380
    # → 1.527.220,50 → 1.527.221; 6.200/6.750 minutes of 2.349.570 → 2.158.123,56 → 2.158.124.
    sri = found["199001052015032001"]
    assert _money(sri["TPP disiplin"]) == 1527221
    assert _money(sri["TPP produktivitas"]) == 2158124
    assert _money(sri["TPP kotor"]) == 3685345

    # Hand-checked: Ahmad Fauzi, kelas 11 (8.757.600), five days of CLTN (unpaid in the
    # current Kaur-style policy): paid 16 of 21 working days → 6.672.457,14; discipline share
    # 40% → 2.668.983, productivity 60% (7.000 of 5.142,86 minutes, capped at 100%) → 4.003.474;
    # BPJS 1% of 6.672.457 → 66.725; net 6.605.732.
    ahmad = found["197806202005011003"]
    assert _money(ahmad["TPP kotor"]) == 6672457
    assert _money(ahmad["TPP bersih"]) == 6605732
    dindik = (out / "Dinas_Pendidikan" / "rincian.txt").read_text(encoding="utf-8")
    assert (
        "  CLTN (Cuti di luar tanggungan negara) 5 hari kerja: tidak dibayar; TPP dihitung "
        "untuk 16 dari 21 hari kerja"
    ) in dindik

    rincian = (out / "Dinas_Kesehatan" / "rincian.txt").read_text(encoding="utf-8")
    assert "NIP 198207142009011004 — Yusuf Hidayat (III/d, Sanitarian Ahli Muda)" in rincian
    assert "  05-11-2026 TK: 3% × Rp 2.031.680 (porsi disiplin) = Rp 60.950,40" in rincian
    assert "  27-11-2026 PSW4: 1,5%" in rincian  # "tidak ada" in the PSW column
    assert "18 hari kerja tanpa baris di presensi dihitung hadir tepat waktu (H)" in rincian

    bank = list(csv.reader(io.StringIO((out / "transfer_bank.csv").read_text(encoding="utf-8"))))
    assert len(bank) == 7
    assert sum(Decimal(r[5]) for r in bank[1:]) == sum(r.net for r in expected.values())
    assert not (out / "kesalahan.txt").exists()


def test_the_examples_policy_is_the_shipped_kaur_style_policy_and_valid() -> None:
    """The example is what a regency copies: it must be the policy Tepat ships now (with its
    CLTN rule), pass the validation the server applies, and be the one the command used."""
    example = policy_from_yaml((EXAMPLE / "kebijakan.yaml").read_text(encoding="utf-8"))
    assert policy_validate(example) == []
    assert example == KAUR, (
        "continuity_example/kebijakan.yaml differs from tepat/rules/policies/kaur_style.yaml: "
        "copy the shipped policy into the example"
    )
    assert continuity.policy_read(EXAMPLE, None) == KAUR
    cltn = example.absence("CLTN")
    assert cltn is not None
    assert cltn.treatment == "unpaid"


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_several_processes_write_the_same_files_as_one(tmp_path: Path) -> None:
    assert main([str(EXAMPLE), "--keluaran", str(tmp_path / "a"), "--proses", "1"]) == 0
    assert main([str(EXAMPLE), "--keluaran", str(tmp_path / "b"), "--proses", "2"]) == 0
    for name in ("transfer_bank.csv", "Dinas_Kesehatan/rincian.txt"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert _nominatif(tmp_path / "a" / "Dinas_Pendidikan") == _nominatif(
        tmp_path / "b" / "Dinas_Pendidikan"
    )


# --- golden cases through the command line -------------------------------------------------------


def _golden_params() -> list[Any]:
    params = []
    for path in sorted(GOLDEN_DIR.glob("*.yaml")):
        case = yaml.safe_load(path.read_text(encoding="utf-8"))
        for expected in case["expected"]:
            params.append(pytest.param(case, expected, id=f"{path.stem}-{expected['policy']}"))
    return params


@pytest.mark.parametrize(("case", "expected"), _golden_params())
def test_a_golden_month_through_the_files_pays_what_the_golden_case_says(
    tmp_path: Path, case: dict[str, Any], expected: dict[str, Any]
) -> None:
    policy = POLICIES[expected["policy"]]
    month = _golden_month(case["input"], policy)
    employee = ContinuityEmployee(
        nip="198503122010011002",
        name="Pegawai Contoh",
        opd="Badan Kepegawaian",
        golongan=month.golongan or "",
    )
    folder = tmp_path / "masukan"
    continuity_inputs_write(folder, entries=[ContinuityEntry(employee, month)], policy=policy)
    assert main([str(folder), "--proses", "1"]) == 0

    row = _nominatif(folder / "hasil" / "Badan_Kepegawaian")[employee.nip]
    result = tpp_month_compute(month, policy)
    assert _money(row["TPP bersih"]) == result.net == Decimal(str(expected["net"]))
    if "gross" in expected:
        assert _money(row["TPP kotor"]) == Decimal(str(expected["gross"]))
    rincian = (folder / "hasil" / "Badan_Kepegawaian" / "rincian.txt").read_text("utf-8")
    for line in result.explanation:
        assert f"  {line}\n" in rincian


# --- writing the inputs and reading them back ----------------------------------------------------


def _entries() -> list[ContinuityEntry]:
    """Golden months of both shapes plus a few edge rows, for one calendar (November 2026)."""
    months = []
    for name in ("kaur_transfer_mid_month", "kaur_new_employee", "kaur_active_sanction"):
        case = yaml.safe_load((GOLDEN_DIR / f"{name}.yaml").read_text(encoding="utf-8"))
        months.append(_golden_month(case["input"], KAUR))
    base = months[0]
    odd = replace(
        base,
        days=tuple(replace(d, code="CUTI_SAKIT") if d.date.day == 4 else d for d in base.days),
        productivity=ProductivityInput(minutes=6100, predicate="Baik", realisation_percent=None),
        on_tugas_belajar=True,
        kind="PPPK",
        golongan="IX",
    )
    months.append(odd)
    months.append(
        replace(
            base,
            days=tuple(
                replace(d, tl_code="TL3", missed_apel=True) if d.date.day == 5 else d
                for d in base.days
            ),
            end_date=date(2026, 11, 20),
        )
    )
    months[-1] = replace(
        months[-1], days=tuple(d for d in months[-1].days if d.date <= date(2026, 11, 20))
    )
    return [
        ContinuityEntry(
            ContinuityEmployee(
                nip=f"1985031220100110{i:02d}",
                name=f"=Pegawai {i}" if i == 0 else f"Pegawai {i}",
                opd="Dinas A" if i % 2 else "Dinas B",
                golongan=m.golongan or "",
                jabatan="Analis",
                bank_name="BRI",
                bank_account=f"01230100045650{i}",
            ),
            m,
        )
        for i, m in enumerate(months)
    ]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_inputs_written_from_records_read_back_as_the_same_months(
    tmp_path: Path, suffix: str
) -> None:
    entries = _entries()
    assert all(e.month.working_days == NOV_2026 for e in entries)
    continuity_inputs_write(tmp_path, entries=entries, policy=KAUR, suffix=suffix)
    back = continuity_inputs_read(tmp_path, policy=KAUR)
    assert back.problems == []
    assert back.entries == entries
    assert back.assumed_present == {}


# --- raw punches ---------------------------------------------------------------------------------


def _punch_folder(tmp_path: Path) -> Path:
    folder = _copy_example(tmp_path)
    (folder / "presensi.csv").unlink()
    nip = "199001052015032001"  # Sri Wahyuni, kelas 7
    rows = [["NIP", "Tanggal", "Jam", "Jenis"]]
    for day in NOV_2026:
        if day.day in (19, 20):
            continue  # cuti tahunan, in ketidakhadiran
        if day.day == 9:
            continue  # no punch at all: TK
        start = "08:15" if day.day == 3 else "07:25"  # 45 minutes late: TL2
        end = "15:20" if day.day == 12 else "16:35"  # Thursday 40 minutes early: PSW2
        rows += [[nip, day.isoformat(), start, "masuk"], [nip, day.isoformat(), end, "pulang"]]
    for other in ("198503122010011002", "197806202005011003", "198811172014021001",
                  "199502102025211001", "198207142009011004"):  # fmt: skip
        for day in NOV_2026:
            rows += [[other, day.isoformat(), "07:00", "masuk"]]
            rows += [[other, day.isoformat(), "17:00", "pulang"]]
    with (folder / "presensi_mentah.csv").open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows(rows)
    with (folder / "ketidakhadiran.csv").open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows(
            [
                ["NIP", "Jenis", "Mulai", "Sampai", "Nomor Surat"],
                [nip, "cuti_tahunan", "2026-11-19", "2026-11-20", "800/12/DIKBUD/2026"],
            ]
        )
    return folder


def test_raw_punches_are_judged_by_the_verdict_core_before_the_tpp(tmp_path: Path) -> None:
    folder = _punch_folder(tmp_path)
    inputs = continuity_inputs_read(folder, policy=KAUR)
    assert inputs.problems == []
    sri = next(e.month for e in inputs.entries if e.employee.nip == "199001052015032001")
    by_day = {d.date.day: d for d in sri.days}
    assert by_day[3] == DayRecord(date(2026, 11, 3), 7, "H", "TL2", None)
    assert by_day[12] == DayRecord(date(2026, 11, 12), 7, "H", None, "PSW2")
    assert by_day[9].code == "TK"
    assert by_day[19].code == by_day[20].code == "CUTI_TAHUNAN"
    assert by_day[2] == DayRecord(date(2026, 11, 2), 7)

    assert main([str(folder), "--proses", "1"]) == 0
    row = _nominatif(folder / "hasil" / "Dinas_Pendidikan")["199001052015032001"]
    # TL2 1% + PSW2 1% + TK 3% = 5% of 1.566.380 → 1.488.061.
    assert _money(row["TPP disiplin"]) == 1488061


# --- bad input -----------------------------------------------------------------------------------


def test_a_bad_row_leaves_out_its_employee_only_and_names_file_row_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _copy_example(tmp_path)
    _rewrite(folder / "pegawai.csv", 3, "Kelas", "18")  # Sri Wahyuni
    _rewrite(folder / "presensi.csv", 10, "Kode", "BOLOS")  # Yusuf Hidayat
    _rewrite(folder / "kinerja.csv", 4, "NIP", "197806202005011999")  # not in pegawai

    assert main([str(folder), "--proses", "1"]) == 2

    err = capsys.readouterr().err
    assert "pegawai.csv, baris 3, kolom Kelas: 18 di luar rentang 1 s.d. 17" in err
    assert "presensi.csv, baris 10, kolom Kode: 'BOLOS' tidak dikenal" in err
    assert "kinerja.csv, baris 4, kolom NIP: NIP 197806202005011999 tidak ada di pegawai" in err
    # Ahmad Fauzi lost his kinerja row to the typo: he is reported, not paid at 0%.
    assert "kinerja.csv, kolom NIP: NIP 197806202005011003 belum ada baris" in err
    written = (folder / "hasil" / "kesalahan.txt").read_text(encoding="utf-8")
    assert "pegawai.csv, baris 3, kolom Kelas" in written
    paid = {
        **_nominatif(folder / "hasil" / "Dinas_Pendidikan"),
        **_nominatif(folder / "hasil" / "Dinas_Kesehatan"),
    }
    assert set(paid) == {"198503122010011002", "198811172014021001", "199502102025211001"}


def test_a_missing_column_stops_everything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _copy_example(tmp_path)
    text = (folder / "pegawai.csv").read_text(encoding="utf-8")
    (folder / "pegawai.csv").write_text(text.replace(",OPD,", ",Unit,", 1), encoding="utf-8")
    assert main([str(folder)]) == 2
    err = capsys.readouterr().err
    assert "Perhitungan dihentikan" in err
    assert "pegawai.csv, baris 1, kolom OPD: kolom wajib tidak ada di baris judul" in err
    assert not (folder / "hasil" / "transfer_bank.csv").exists()


def test_a_bad_working_day_or_policy_stops_everything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _copy_example(tmp_path)
    _rewrite(folder / "hari_kerja.csv", 5, "Tanggal", "31-11-2026")
    assert main([str(folder)]) == 2
    assert "hari_kerja.csv, baris 5, kolom Tanggal: '31-11-2026' bukan tanggal" in (
        capsys.readouterr().err
    )

    folder = _copy_example(tmp_path / "2")
    text = (folder / "kebijakan.yaml").read_text(encoding="utf-8")
    (folder / "kebijakan.yaml").write_text(
        text.replace("discipline_percent: 40", "discipline_percent: 45"), encoding="utf-8"
    )
    assert main([str(folder)]) == 2
    assert "kebijakan.yaml: " in capsys.readouterr().err


def test_an_18_digit_nip_typed_as_a_number_in_excel_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _copy_example(tmp_path)
    rows = list(csv.reader((folder / "kinerja.csv").open(encoding="utf-8")))
    (folder / "kinerja.csv").unlink()
    book = Workbook()
    ws = book.active
    for row in rows:
        ws.append([int(row[0]) if row[0].isdigit() else row[0], *row[1:]])
    book.save(folder / "kinerja.xlsx")
    assert main([str(folder), "--proses", "1"]) == 2
    err = capsys.readouterr().err
    assert "kinerja.xlsx, baris 2, kolom NIP: angka 198503122010011008 terlalu panjang" in err


# --- no database, no network ---------------------------------------------------------------------

_NO_DJANGO = """
import sys
from tepat import cli
sys.argv = ["tepat", "tpp", "compute", sys.argv[1], "--keluaran", sys.argv[2]]
try:
    cli.main()
except SystemExit as done:
    code = done.code
loaded = sorted(m for m in sys.modules if m == "django" or m.startswith("django."))
print("django modules:", loaded)
sys.exit(code)
"""


def test_the_command_runs_with_the_database_unreachable_and_never_loads_django(
    tmp_path: Path,
) -> None:
    env = {
        **os.environ,
        # A closed port: any attempt to connect would fail loudly.
        "DATABASE_URL": "postgres://postgres@127.0.0.1:9/tepat_unreachable",
        "DJANGO_SETTINGS_MODULE": "tepat.settings",
    }
    done = subprocess.run(
        [sys.executable, "-c", _NO_DJANGO, str(EXAMPLE), str(tmp_path / "hasil")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "6 pegawai di 2 OPD dihitung" in done.stdout
    assert "django modules: []" in done.stdout
    assert (tmp_path / "hasil" / "Dinas_Kesehatan" / "nominatif.pdf").read_bytes()[:5] == b"%PDF-"

    cli = subprocess.run(
        [sys.executable, "-m", "tepat.cli", "tpp", "compute", str(EXAMPLE), "--keluaran",
         str(tmp_path / "lagi")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert cli.returncode == 0, cli.stderr
    assert (tmp_path / "lagi" / "transfer_bank.csv").read_bytes() == (
        tmp_path / "hasil" / "transfer_bank.csv"
    ).read_bytes()


def test_an_employee_month_from_the_files_is_a_plain_rules_core_month() -> None:
    inputs = continuity_inputs_read(EXAMPLE, policy=KAUR)
    dedi = next(e.month for e in inputs.entries if e.employee.nip == "198811172014021001")
    assert isinstance(dedi, EmployeeMonth)
    assert [d.kelas_jabatan for d in dedi.days].count(10) == 11  # from 16-11 (kelas.csv)
    assert inputs.assumed_present["198811172014021001"] == 21
