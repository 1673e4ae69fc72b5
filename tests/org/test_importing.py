"""Bulk import of OPD, units, sites and employees: what the BKPSDM officer is promised.

Files are built in the tests (CSV text, XLSX through openpyxl) so each test shows its input.
"""

import io
import json
from datetime import date
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import InMemoryUploadedFile, SimpleUploadedFile
from django.core.files.uploadhandler import SkipFile
from django.core.management import CommandError, call_command
from django.test import Client, RequestFactory
from django.urls import path

import tepat.urls
from tepat.audit.models import AuditEntry
from tepat.org import admin_import
from tepat.org.admin_import import MemoryOnlyUploadHandler, import_view
from tepat.org.importing import ImportResult, RowError, import_file
from tepat.org.models import (
    Assignment,
    Employee,
    Opd,
    Regency,
    Unit,
    WorkSite,
    WorkSiteLocationChange,
)
from tepat.rules.nip import make_nip
from tests.world import TODAY, World, login

urlpatterns = [
    path("admin/org/impor/", admin.site.admin_view(import_view), name="org_import"),
    *tepat.urls.urlpatterns,
]

EMPLOYEE_HEADER = [
    "nip", "nama", "gelar_depan", "gelar_belakang", "jenis_pegawai", "golongan", "jabatan",
    "jenis_jabatan", "kelas_jabatan", "kode_unit", "nip_atasan", "kelompok_jadwal", "tmt", "aktif",
]  # fmt: skip
NEW_HEAD = make_nip("PNS", date(1978, 4, 12), date(2004, 3, 1), "L", 11)
NEW_TEACHER = make_nip("PNS", date(1992, 8, 20), date(2019, 2, 1), "P", 12)
NEW_PPPK = make_nip("PPPK", date(1995, 1, 5), date(2023, 1, 1), "L", 13)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    """The shared world sets eight passwords; the real hasher makes that take seconds."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def csv_bytes(rows: list[list[Any]], *, delimiter: str = ",", bom: bool = False) -> bytes:
    text = "\r\n".join(delimiter.join(str(v) for v in row) for row in rows) + "\r\n"
    return ("\ufeff" if bom else "").encode() + text.encode()


def xlsx_bytes(rows: list[list[Any]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def employee_row(nip: str, **overrides: Any) -> list[Any]:
    values = {
        "nip": nip, "nama": "Siti Aminah", "gelar_depan": "", "gelar_belakang": "S.Pd.",
        "jenis_pegawai": "PNS", "golongan": "III/b", "jabatan": "Guru Ahli Pertama",
        "jenis_jabatan": "fungsional", "kelas_jabatan": 8, "kode_unit": "SD-10701317",
        "nip_atasan": "", "kelompok_jadwal": "guru", "tmt": "01-02-2025", "aktif": "ya",
    }  # fmt: skip
    values.update(overrides)
    return [values[c] for c in EMPLOYEE_HEADER]


def new_staff_file() -> list[list[Any]]:
    """Two new teachers whose new principal appears only further down the file."""
    return [
        EMPLOYEE_HEADER,
        employee_row(NEW_TEACHER, nama="Siti Aminah", nip_atasan=NEW_HEAD),
        employee_row(
            NEW_HEAD,
            nama="Ahmad Fauzi",
            gelar_belakang="M.Pd.",
            golongan="IV/a",
            jabatan="Kepala Sekolah",
            kelas_jabatan=9,
            nip_atasan="",
        ),
        employee_row(
            NEW_PPPK,
            nama="Joko Prasetyo",
            jenis_pegawai="PPPK",
            golongan="IX",
            nip_atasan=NEW_HEAD,
            tmt="2025-03-01",
        ),
    ]


def run(kind: str, data: bytes, filename: str = "berkas.csv", **kwargs: Any) -> ImportResult:
    kwargs.setdefault("today", TODAY)
    return import_file(kind, data, filename=filename, **kwargs)


def table_counts() -> dict[str, int]:
    return {
        "opd": Opd.objects.count(),
        "unit": Unit.objects.count(),
        "site": WorkSite.objects.count(),
        "employee": Employee.objects.count(),
        "assignment": Assignment.objects.count(),
        "audit": AuditEntry.objects.count(),
    }


def messages(result: ImportResult) -> list[str]:
    return [str(e) for e in result.errors]


# --- Each kind, happy path ------------------------------------------------------------------


def test_it_imports_opd_and_updates_a_changed_name(world: World) -> None:
    data = csv_bytes([
        ["kode_opd", "nama_opd", "jenis_opd", "kode_wilayah"],
        ["BAPPEDA", "Badan Perencanaan Pembangunan Daerah", "badan", "17.06"],
        ["DINKES", "Dinas Kesehatan dan KB", "dinas", "17.06"],
    ])  # fmt: skip

    result = run("opd", data)

    assert result.ok, messages(result)
    assert result.written
    counts = result.counts["opd"]
    assert (counts.created, counts.updated, counts.unchanged) == (1, 1, 0)
    assert Opd.objects.get(code="BAPPEDA").kind == "badan"
    world.dinkes.refresh_from_db()
    assert world.dinkes.name == "Dinas Kesehatan dan KB"
    entry = AuditEntry.objects.get(action="opd.update")
    assert entry.before == {"name": "Dinas Kesehatan", "wilayah_code": ""}
    assert entry.after == {"name": "Dinas Kesehatan dan KB", "wilayah_code": "17.06"}
    assert entry.reason == "Impor berkas.csv"


def test_it_imports_units_with_a_parent_defined_further_down(world: World) -> None:
    data = csv_bytes([
        ["kode_unit", "nama_unit", "jenis_unit", "kode_opd", "kode_unit_induk", "npsn",
         "kode_kecamatan"],
        ["SD-10701334", "SD Negeri 02 Lubuk Pinang", "sekolah", "DINDIK", "UPT-LP", "10701334",
         "17.06.01"],
        ["UPT-LP", "UPT Pendidikan Lubuk Pinang", "upt", "DINDIK", "DINDIK-KANTOR", "",
         "17.06.01"],
    ])  # fmt: skip

    result = run("unit", data)

    assert result.ok, messages(result)
    school = Unit.objects.get(code="SD-10701334")
    assert school.parent is not None
    assert school.parent.code == "UPT-LP"
    assert school.parent.parent == world.dindik_office
    assert school.npsn == "10701334"
    assert AuditEntry.objects.filter(action="unit.create").count() == 2


def test_it_finds_a_recoded_school_by_its_npsn(world: World) -> None:
    data = csv_bytes([
        ["kode_unit", "nama_unit", "jenis_unit", "kode_opd", "npsn"],
        ["SDN-01-LP", "SD Negeri 01 Lubuk Pinang", "sekolah", "DINDIK", "10701317"],
    ])  # fmt: skip

    result = run("unit", data)

    assert result.ok, messages(result)
    world.school.refresh_from_db()
    assert world.school.code == "SDN-01-LP"
    assert Unit.objects.count() == 3


def test_it_imports_circle_and_polygon_sites(world: World) -> None:
    ring = [[101.16, -2.42], [101.17, -2.42], [101.17, -2.43], [101.16, -2.42]]
    polygon = json.dumps({"type": "Polygon", "coordinates": [ring]})
    data = csv_bytes(
        [
            ["kode_unit", "nama_lokasi", "lintang", "bujur", "radius_m", "zona_waktu",
             "kode_kecamatan", "poligon_geojson"],
            ["SD-10701317", "Halaman belakang", "-2,4236", "101,1669", "80", "WIB", "17.06.01",
             ""],
            ["PKM-LP", "Pustu Tanjung Alai", "", "", "", "WITA", "17.06.01",
             '"' + polygon.replace('"', '""') + '"'],
        ],
        delimiter=";",
    )  # fmt: skip

    result = run("site", data)

    assert result.ok, messages(result)
    circle = WorkSite.objects.get(name="Halaman belakang")
    assert (circle.latitude, circle.longitude) == (Decimal("-2.423600"), Decimal("101.166900"))
    assert circle.radius_m == 80
    assert circle.shape == WorkSite.Shape.CIRCLE
    area = WorkSite.objects.get(name="Pustu Tanjung Alai")
    assert area.shape == WorkSite.Shape.POLYGON
    assert area.polygon == {"type": "Polygon", "coordinates": [ring]}
    assert area.timezone == "Asia/Makassar"


def square(west: float, east: float, south: float = -3.0, north: float = -2.0) -> dict[str, Any]:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def test_imported_sites_are_checked_against_their_kecamatan_and_moves_kept(world: World) -> None:
    Regency.objects.create(
        code="17.06", name="Kabupaten Uji", timezone="Asia/Jakarta",
        boundary=square(101.0, 102.0),
        kecamatan_boundaries={"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"kode": "17.06.01", "nama": "Barat"},
             "geometry": square(101.0, 101.5)},
            {"type": "Feature", "properties": {"kode": "17.06.02", "nama": "Timur"},
             "geometry": square(101.5, 102.0)},
        ]},
    )  # fmt: skip
    header = ["kode_unit", "nama_lokasi", "lintang", "bujur", "kode_kecamatan"]
    officer = world.users["admin_bkpsdm"]

    first = run("site", csv_bytes([header, ["SD-10701317", "Kebun", "-2.5", "101.7", "17.06.01"]]),
                actor=officer)  # fmt: skip
    second = run("site", csv_bytes([header, ["SD-10701317", "Kebun", "-2.5", "101.2", "17.06.01"]]),
                 actor=officer, filename="koreksi.csv")  # fmt: skip

    assert first.ok, messages(first)
    assert second.ok, messages(second)
    site = WorkSite.objects.get(name="Kebun")
    assert site.quality == WorkSite.Quality.OK
    assert site.location_source == "impor:koreksi.csv"
    moves = list(WorkSiteLocationChange.objects.filter(site=site).order_by("pk"))
    assert [(m.old_longitude, m.new_longitude) for m in moves] == [
        (None, Decimal("101.700000")), (Decimal("101.700000"), Decimal("101.200000")),
    ]  # fmt: skip
    assert (moves[1].author, moves[1].method, moves[1].reason) == (
        officer, "import", "Impor koreksi.csv",
    )  # fmt: skip
    update = AuditEntry.objects.get(action="worksite.update")
    assert update.before == {"longitude": "101.700000"}
    assert update.after == {"longitude": "101.200000"}


def test_it_imports_employees_whose_supervisor_comes_later_in_the_file(world: World) -> None:
    before = table_counts()

    result = run("employee", csv_bytes(new_staff_file()), filename="pegawai-baru.csv")

    assert result.ok, messages(result)
    assert result.counts["employee"].created == 3
    teacher = Employee.objects.get(nip=NEW_TEACHER)
    assert (teacher.full_name, teacher.gender, teacher.birth_date) == (
        "Siti Aminah, S.Pd.", "P", date(1992, 8, 20),
    )  # fmt: skip
    position = teacher.assignments.get()
    assert position.supervisor is not None
    assert position.supervisor.nip == NEW_HEAD
    assert (position.valid_from, position.unit, position.opd) == (
        date(2025, 2, 1), world.school, world.dindik,
    )  # fmt: skip
    assert position.schedule_group is not None
    assert position.schedule_group.code == "guru"
    pppk = Employee.objects.get(nip=NEW_PPPK)
    assert pppk.kind == "PPPK"
    assert pppk.assignments.get().valid_from == date(2025, 3, 1)
    after = table_counts()
    assert after["employee"] - before["employee"] == 3
    assert after["audit"] - before["audit"] == 3


# --- Bad rows -------------------------------------------------------------------------------


def test_every_bad_row_is_reported_and_nothing_is_written(world: World) -> None:
    bad_birth_date = "199002302015051001"
    unknown_boss = make_nip("PNS", date(1970, 1, 1), date(1995, 1, 1), "L", 99)
    rows = [
        EMPLOYEE_HEADER,
        employee_row(NEW_HEAD, nama="Ahmad Fauzi"),  # row 2: good
        employee_row(bad_birth_date),  # row 3
        employee_row(NEW_TEACHER, kode_unit="SDN-99"),  # row 4
        employee_row(NEW_PPPK, jenis_pegawai="PPPK", golongan="IX", nip_atasan=NEW_PPPK),  # 5
        employee_row(NEW_HEAD, nama="Ahmad Fauzi lagi"),  # row 6
        employee_row(make_nip("PNS", date(1991, 1, 1), date(2016, 1, 1), "L", 1), golongan="XI"),
        employee_row(make_nip("PNS", date(1991, 1, 2), date(2016, 1, 1), "L", 2), kelas_jabatan=18),
        employee_row(make_nip("PNS", date(1991, 1, 3), date(2016, 1, 1), "L", 3),
                     nip_atasan=unknown_boss),  # row 9
        employee_row(make_nip("PNS", date(1991, 1, 4), date(2016, 1, 1), "L", 4), tmt="31-02-2025"),
    ]  # fmt: skip
    before = table_counts()

    for dry_run in (True, False):
        result = run("employee", csv_bytes(rows), dry_run=dry_run)

        assert messages(result) == [
            f"Baris 3: NIP {bad_birth_date} tidak valid: Tanggal lahir pada NIP tidak valid "
            "(30-02-1990)",
            "Baris 4: kode_unit SDN-99 tidak dikenal",
            "Baris 5: NIP atasan sama dengan NIP pegawai",
            f"Baris 6: nip {NEW_HEAD} ganda: sudah ada di baris 2",
            "Baris 7: golongan XI tidak berlaku untuk PNS (yang berlaku: I/a sampai IV/e)",
            "Baris 8: kelas_jabatan 18 di luar rentang 1 sampai 17",
            f"Baris 9: NIP atasan {unknown_boss} tidak terdaftar dan tidak ada di berkas ini",
            "Baris 10: tmt 31-02-2025 bukan tanggal yang sah (dd-mm-yyyy atau yyyy-mm-dd)",
        ]
        assert [e.column for e in result.errors][:3] == ["nip", "kode_unit", "nip_atasan"]
        assert not result.written
        assert table_counts() == before


def test_bad_units_and_sites_are_reported(world: World) -> None:
    units = csv_bytes([
        ["kode_unit", "nama_unit", "jenis_unit", "kode_opd", "kode_unit_induk", "npsn"],
        ["SD-1", "SD Satu", "sekolah", "DINDIK", "", "1070131"],
        ["SD-2", "SD Dua", "sekolah", "DINSOS", "", ""],
        ["SD-3", "SD Tiga", "madrasah", "DINDIK", "", ""],
        ["PKM-LP", "Puskesmas Lubuk Pinang", "puskesmas", "DINKES", "", "10701317"],
        ["SD-5", "SD Lima", "sekolah", "DINDIK", "PKM-LP", ""],
        ["SD-6", "SD Enam", "sekolah", "DINDIK", "SD-3", ""],
    ])  # fmt: skip
    sites = csv_bytes([
        ["kode_unit", "nama_lokasi", "lintang", "bujur", "radius_m", "zona_waktu"],
        ["SD-10701317", "Kebun", "-95.1", "101.1", "100", "WIB"],
        ["SD-10701317", "Lapangan", "-2.4", "181", "3", "WIB"],
        ["SD-10701317", "Gerbang", "-2.4", "", "", "CET"],
    ])  # fmt: skip
    before = table_counts()

    unit_result = run("unit", units)
    site_result = run("site", sites)

    assert messages(unit_result) == [
        "Baris 2: NPSN 1070131 tidak valid: harus 8 digit angka",
        "Baris 3: kode_opd DINSOS tidak dikenal",
        "Baris 4: jenis_unit madrasah tidak dikenal (pilihan: kantor, bidang, upt, puskesmas, "
        "sekolah)",
        "Baris 5: NPSN 10701317 sudah dipakai unit SD-10701317",
        "Baris 6: Unit induk PKM-LP berada di OPD lain (DINKES)",
    ]  # row 7's parent SD-3 is only wrong because of row 4, which says so
    assert messages(site_result) == [
        "Baris 2: lintang -95.1 di luar rentang -90 sampai 90",
        "Baris 3: bujur 181 di luar rentang -180 sampai 180",
        "Baris 3: radius_m 3 di luar rentang 10 sampai 5000",
        "Baris 4: zona_waktu CET tidak dikenal (isi WIB, WITA atau WIT)",
        "Baris 4: lintang dan bujur harus diisi keduanya, atau dikosongkan keduanya",
    ]
    assert table_counts() == before


def test_a_unit_with_staff_cannot_move_to_another_opd_by_import(world: World) -> None:
    data = csv_bytes([
        ["kode_unit", "nama_unit", "jenis_unit", "kode_opd"],
        ["PKM-LP", "Puskesmas Lubuk Pinang", "puskesmas", "DINDIK"],
    ])  # fmt: skip

    result = run("unit", data)

    assert messages(result) == [
        "Baris 2: Unit PKM-LP masih berisi pegawai aktif; memindahkannya ke OPD DINDIK harus "
        "lewat mutasi pegawai, bukan impor"
    ]


def test_a_loop_of_parent_units_is_refused(world: World) -> None:
    data = csv_bytes([
        ["kode_unit", "nama_unit", "jenis_unit", "kode_opd", "kode_unit_induk"],
        ["A", "Bidang A", "bidang", "DINDIK", "B"],
        ["B", "Bidang B", "bidang", "DINDIK", "A"],
    ])  # fmt: skip

    result = run("unit", data)

    assert messages(result) == [
        "Baris 2: kode_unit_induk membentuk lingkaran: A → B → A",
        "Baris 3: kode_unit_induk membentuk lingkaran: B → A → B",
    ]


def test_missing_columns_are_one_file_error_and_unknown_ones_a_warning(world: World) -> None:
    data = csv_bytes([["NIP", "Nama", "Alamat"], [NEW_HEAD, "Ahmad", "Jl. Merdeka"]])

    result = run("employee", data)

    assert messages(result) == [
        "Kolom wajib tidak ada: jenis_pegawai, golongan, jabatan, jenis_jabatan, kelas_jabatan, "
        "kode_unit, tmt. Kolom yang dibutuhkan: nip, nama, jenis_pegawai, golongan, jabatan, "
        "jenis_jabatan, kelas_jabatan, kode_unit, tmt."
    ]
    assert result.errors[0].row is None
    assert result.warnings == ["Kolom tidak dikenal, diabaikan: alamat."]


def test_headers_match_whatever_the_case_and_spacing(world: World) -> None:
    rows = new_staff_file()
    rows[0] = [" " + c.upper().replace("_", " ") for c in EMPLOYEE_HEADER]

    result = run("employee", csv_bytes(rows))

    assert result.ok, messages(result)
    assert result.counts["employee"].created == 3


# --- Idempotence and transfers ---------------------------------------------------------------


def test_reimporting_the_same_file_changes_nothing(world: World) -> None:
    files = {
        "opd": csv_bytes([["kode_opd", "nama_opd", "jenis_opd"], ["SETDA", "Sekretariat Daerah",
                                                                   "sekretariat"]]),
        "unit": csv_bytes([["kode_unit", "nama_unit", "jenis_unit", "kode_opd", "npsn"],
                           ["SD-2", "SD Dua", "sekolah", "DINDIK", "10701334"]]),
        "site": csv_bytes([["kode_unit", "nama_lokasi", "lintang", "bujur", "radius_m"],
                           ["SD-10701317", "Lapangan", "-2.4233", "101.1667", "100"]]),
        "employee": csv_bytes(new_staff_file()),
    }  # fmt: skip
    for kind, data in files.items():
        assert run(kind, data).ok
    before = table_counts()

    for kind, data in files.items():
        result = run(kind, data)

        assert result.ok, messages(result)
        assert not result.written
        counts = result.counts[kind]
        assert counts.created == counts.updated == 0
        assert counts.unchanged == result.rows
    assert table_counts() == before


def test_a_higher_kelas_from_a_later_tmt_is_a_transfer(world: World) -> None:
    teacher2 = world.teacher2
    data = csv_bytes([
        EMPLOYEE_HEADER,
        employee_row(
            teacher2.nip, nama=teacher2.name, gelar_belakang="", golongan="III/b",
            jabatan="Guru", kelas_jabatan=9, nip_atasan=world.principal.nip, tmt="01-07-2026",
        ),
    ])  # fmt: skip

    result = run("employee", data, filename="kenaikan-kelas.csv")

    assert result.ok, messages(result)
    assert result.counts["employee"].updated == 1
    old, new = teacher2.assignments.order_by("valid_from")
    assert (old.valid_to, old.kelas_jabatan) == (date(2026, 7, 1), 8)
    assert (new.valid_from, new.valid_to, new.kelas_jabatan) == (date(2026, 7, 1), None, 9)
    assert new.supervisor == world.principal
    assert new.note == "Impor kenaikan-kelas.csv"
    assert AuditEntry.objects.get(action="employee.transfer").reason == "Impor kenaikan-kelas.csv"


def test_a_changed_position_dated_before_the_current_one_is_refused(world: World) -> None:
    data = csv_bytes([
        EMPLOYEE_HEADER,
        employee_row(
            world.teacher2.nip, nama=world.teacher2.name, gelar_belakang="", jabatan="Guru",
            kelas_jabatan=9, nip_atasan=world.principal.nip, tmt="01-01-2024",
        ),
    ])  # fmt: skip

    result = run("employee", data)

    assert messages(result) == [
        "Baris 2: Jabatan berubah, tetapi tmt 01-01-2024 tidak sesudah awal jabatan saat ini "
        "(01-01-2024)"
    ]
    assert world.teacher2.assignments.count() == 1


def test_a_new_title_updates_the_employee_with_an_audit_row(world: World) -> None:
    nurse = world.nurse
    data = csv_bytes([
        EMPLOYEE_HEADER,
        employee_row(
            nurse.nip, nama=nurse.name, gelar_depan="Ns.", gelar_belakang="S.Kep.",
            golongan="III/a", jabatan="Staf", kelas_jabatan=7, kode_unit="PKM-LP",
            nip_atasan=world.kadinkes.nip, kelompok_jadwal="kantor-5hk", tmt="01-01-2024",
        ),
    ])  # fmt: skip

    result = run("employee", data)

    assert result.ok, messages(result)
    nurse.refresh_from_db()
    assert nurse.full_name == "Ns. Dewi Lestari, S.Kep."
    assert nurse.assignments.count() == 1  # the position did not change: no transfer
    entry = AuditEntry.objects.get(action="employee.update")
    assert entry.before == {"title_prefix": "", "title_suffix": ""}
    assert entry.after == {"title_prefix": "Ns.", "title_suffix": "S.Kep."}


# --- File formats ---------------------------------------------------------------------------


def test_a_semicolon_csv_with_a_bom_from_indonesian_excel(world: World) -> None:
    data = csv_bytes(new_staff_file(), delimiter=";", bom=True)

    result = run("employee", data)

    assert result.ok, messages(result)
    assert result.counts["employee"].created == 3


def test_an_xlsx_file_with_real_dates(world: World) -> None:
    rows = new_staff_file()
    rows[1][EMPLOYEE_HEADER.index("tmt")] = date(2025, 2, 1)

    result = run("employee", xlsx_bytes(rows), filename="pegawai.xlsx")

    assert result.ok, messages(result)
    assert Employee.objects.get(nip=NEW_TEACHER).assignments.get().valid_from == date(2025, 2, 1)


def test_a_nip_that_excel_turned_into_a_number_is_reported_not_guessed(world: World) -> None:
    rows = new_staff_file()
    rows[1][0] = float(NEW_TEACHER)
    rows[3][EMPLOYEE_HEADER.index("nip_atasan")] = int(NEW_HEAD)

    result = run("employee", xlsx_bytes(rows), filename="pegawai.xlsx")

    assert [(e.row, e.column) for e in result.errors] == [(2, "nip"), (4, "nip_atasan")]
    assert "tertulis sebagai angka (1,99208e+17)" in result.errors[0].message
    assert "Format kolom nip sebagai Teks" in result.errors[0].message
    assert not Employee.objects.filter(nip__in=[NEW_TEACHER, NEW_HEAD, NEW_PPPK]).exists()


def test_a_nip_in_scientific_notation_in_a_csv_is_reported(world: World) -> None:
    rows = new_staff_file()
    rows[1][0] = "1,99208E+17"

    result = run("employee", csv_bytes(rows, delimiter=";"))

    assert result.errors[0].row == 2
    assert result.errors[0].message.startswith("nip tertulis sebagai angka (1,99208E+17)")


@pytest.mark.parametrize(
    ("filename", "data", "message"),
    [
        ("kosong.csv", b"", "Berkas kosong."),
        ("spasi.csv", b" \r\n \r\n", "Berkas kosong."),
        ("judul.csv", b"kode_opd,nama_opd,jenis_opd\r\n", "Berkas tidak berisi baris data"),
        ("acak.csv", bytes(range(256)) * 4, "Berkas bukan CSV teks (berisi data biner)."),
        ("latin1.csv", "kode_opd,nama_opd\nX,Caf\xe9\n".encode("latin-1"), "bukan UTF-8"),
        ("rusak.xlsx", b"PK\x03\x04" + b"\x00" * 100, "Berkas XLSX rusak"),
        ("teks.xlsx", b"kode_opd,nama_opd\n", "Berkas bukan XLSX yang sah"),
        ("lama.xls", b"\xd0\xcf\x11\xe0" + b"\x00" * 100, "Excel lama (.xls)"),
        ("data.json", b'{"a": 1}', "Jenis berkas tidak didukung"),
    ],
)
def test_unreadable_files_get_a_clear_message(
    world: World, filename: str, data: bytes, message: str
) -> None:
    result = run("opd", data, filename=filename)

    assert len(result.errors) == 1
    assert result.errors[0].row is None
    assert message in result.errors[0].message


def test_an_xlsx_renamed_to_csv_is_explained(world: World) -> None:
    data = xlsx_bytes([["kode_opd", "nama_opd", "jenis_opd"], ["X", "Dinas X", "dinas"]])

    result = run("opd", data, filename="opd.csv")

    assert "sebenarnya berkas Excel (.xlsx)" in messages(result)[0]


def test_a_zip_that_is_not_a_workbook_is_refused(world: World) -> None:
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types><Default Extension='xml' "
                         "ContentType='application/vnd.openxmlformats-officedocument."
                         "wordprocessingml.document.main+xml'/></Types>")  # fmt: skip

    result = run("opd", out.getvalue(), filename="surat.xlsx")

    assert "bukan lembar kerja Excel .xlsx" in messages(result)[0]


# --- Scale ----------------------------------------------------------------------------------


def test_a_regency_sized_file_is_checked_with_a_fixed_number_of_queries(
    world: World, django_assert_max_num_queries: Any
) -> None:
    rows = [EMPLOYEE_HEADER]
    for i in range(3400):
        birth = date(1965 + i % 25, 1 + i % 12, 1 + i % 28)
        nip = make_nip("PNS", birth, date(2008 + i % 12, 1 + i % 12, 1), "L", 1 + i // 360)
        rows.append(employee_row(nip, nip_atasan=world.principal.nip))
    data = csv_bytes(rows)

    with django_assert_max_num_queries(10):
        result = run("employee", data, dry_run=True)

    assert result.ok, messages(result)[:3]
    assert result.counts["employee"].created == 3400


# --- Command line ---------------------------------------------------------------------------


def test_the_command_imports_and_prints_a_summary(world: World, tmp_path: Any) -> None:
    path = tmp_path / "pegawai.csv"
    path.write_bytes(csv_bytes(new_staff_file()))
    out, err = io.StringIO(), io.StringIO()

    call_command("import_org", "employee", str(path), "--as-user", "bkpsdm", stdout=out, stderr=err)

    assert "employee: 3 baru, 0 diubah, 0 tetap (3 baris)" in out.getvalue()
    assert err.getvalue() == ""
    entry = AuditEntry.objects.filter(action="employee.create").first()
    assert entry is not None
    assert entry.actor == world.users["admin_bkpsdm"]


def test_the_command_prints_each_error_and_fails(world: World, tmp_path: Any) -> None:
    rows = new_staff_file()
    rows[1][EMPLOYEE_HEADER.index("kode_unit")] = "SDN-99"
    rows[2][EMPLOYEE_HEADER.index("kelas_jabatan")] = "0"
    path = tmp_path / "pegawai.csv"
    path.write_bytes(csv_bytes(rows))
    err = io.StringIO()

    with pytest.raises(CommandError) as raised:
        call_command("import_org", "employee", str(path), "--dry-run", stdout=io.StringIO(),
                     stderr=err)  # fmt: skip

    assert raised.value.returncode == 1
    assert str(raised.value) == "2 kesalahan; tidak ada data yang disimpan."
    assert err.getvalue().splitlines() == [
        "Baris 2: kode_unit SDN-99 tidak dikenal",
        "Baris 3: kelas_jabatan 0 di luar rentang 1 sampai 17",
    ]


def test_the_command_refuses_an_unknown_user_and_a_missing_file(
    world: World, tmp_path: Any
) -> None:
    with pytest.raises(CommandError, match="Pengguna aktif siapa tidak ditemukan"):
        call_command("import_org", "opd", str(tmp_path / "x.csv"), "--as-user", "siapa")
    with pytest.raises(CommandError, match="tidak dapat dibaca"):
        call_command("import_org", "opd", str(tmp_path / "tidak-ada.csv"))


# --- Admin page -----------------------------------------------------------------------------


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/csv")


@pytest.mark.urls(__name__)
def test_bkpsdm_admin_dry_runs_a_file_and_sees_the_report(world: World) -> None:
    client = login(Client(), world.users["admin_bkpsdm"])
    rows = new_staff_file()
    rows[2][EMPLOYEE_HEADER.index("kode_unit")] = "SDN-99"
    before = table_counts()

    assert client.get("/admin/org/impor/").status_code == 200
    response = client.post(
        "/admin/org/impor/",
        {"kind": "employee", "dry_run": "on", "file": upload("pegawai.csv", csv_bytes(rows))},
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "Laporan Pegawai: pegawai.csv" in page
    assert "kode_unit SDN-99 tidak dikenal" in page
    assert "1 kesalahan ditemukan. Tidak ada data yang disimpan." in page
    assert table_counts() == before


@pytest.mark.urls(__name__)
def test_bkpsdm_admin_imports_a_good_file(world: World) -> None:
    client = login(Client(), world.users["admin_bkpsdm"])

    response = client.post(
        "/admin/org/impor/",
        {"kind": "employee", "file": upload("pegawai.csv", csv_bytes(new_staff_file()))},
    )

    assert "Impor selesai." in response.content.decode()
    assert Employee.objects.filter(nip__in=[NEW_TEACHER, NEW_HEAD, NEW_PPPK]).count() == 3
    assert AuditEntry.objects.filter(actor=world.users["admin_bkpsdm"]).count() == 3


@pytest.mark.urls(__name__)
def test_an_upload_over_the_cap_is_refused(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(admin_import, "MAX_UPLOAD_BYTES", 1024 * 1024)
    client = login(Client(), world.users["admin_bkpsdm"])
    data = b"kode_opd,nama_opd,jenis_opd\n" + b"X,Dinas X,dinas\n" * 80_000

    response = client.post("/admin/org/impor/", {"kind": "opd", "file": upload("opd.csv", data)})

    page = response.content.decode()
    assert "Berkas lebih dari 1 MB." in page
    assert ": opd.csv" not in page  # no import report for a refused file
    assert not Opd.objects.filter(code="X").exists()


def test_the_upload_handler_keeps_the_file_in_memory_and_stops_at_the_cap() -> None:
    handler = MemoryOnlyUploadHandler(RequestFactory().post("/"), max_bytes=10)
    handler.new_file("file", "opd.csv", "text/csv", None)

    handler.receive_data_chunk(b"12345", 0)
    with pytest.raises(SkipFile):
        handler.receive_data_chunk(b"678901", 5)

    assert handler.too_large
    handler.new_file("file", "opd.csv", "text/csv", None)
    handler.receive_data_chunk(b"abc", 0)
    uploaded = handler.file_complete(3)
    assert isinstance(uploaded, InMemoryUploadedFile)
    assert uploaded.read() == b"abc"


@pytest.mark.urls(__name__)
def test_the_upload_still_needs_a_csrf_token(world: World) -> None:
    # The view is csrf_exempt only so it can swap upload handlers; it checks the token itself.
    client = login(Client(enforce_csrf_checks=True), world.users["admin_bkpsdm"])

    response = client.post(
        "/admin/org/impor/",
        {"kind": "employee", "file": upload("pegawai.csv", csv_bytes(new_staff_file()))},
    )

    assert response.status_code == 403
    assert not Employee.objects.filter(nip=NEW_HEAD).exists()


@pytest.mark.urls(__name__)
def test_an_opd_operator_is_refused(world: World) -> None:
    operator = world.users["operator_opd"]
    client = login(Client(), operator)
    before = table_counts()

    response = client.post(
        "/admin/org/impor/",
        {"kind": "employee", "file": upload("pegawai.csv", csv_bytes(new_staff_file()))},
    )

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
    assert table_counts() == before
    # Even with the admin door open (is_staff), the page itself refuses: no org permission.
    operator.is_staff = True
    request = RequestFactory().get("/admin/org/impor/")
    request.user = operator
    with pytest.raises(PermissionDenied):
        import_view(request)


def test_row_errors_read_as_the_spreadsheet_numbers_them() -> None:
    assert str(RowError(7, "nip", "NIP salah")) == "Baris 7: NIP salah"
    assert str(RowError(None, "", "Berkas kosong.")) == "Berkas kosong."
