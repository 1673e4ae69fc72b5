"""The demo regency: a deterministic Kabupaten Mukomuko with about 3,400 employees.

Two steps, kept apart on purpose:

* ``demo_regency_generate`` is pure: from the public data files in ``demo_data/`` and a seed it
  returns plain records (OPD, units, sites, people, assignments, logins). The same seed and
  day always give the same NIPs, names and org chart, and it touches no database.
* ``demo_regency_write`` turns those records into rows with bulk inserts, in one transaction.

The places are real (OPD names from local news, NPSN and Dapodik coordinates of the schools,
Kemendagri codes and boundaries); every person is invented. Each data file's origin and
licence is listed in the SOURCE.md that came with them; the caveats that matter here (the
unreliable Dapodik 2019 coordinates, placeholder office points) are repeated where used.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q

from tepat.accounts.access import is_atasan
from tepat.accounts.models import Role, User
from tepat.audit.models import AuditEntry, RefusedAttemptMinute
from tepat.audit.services import audit_record
from tepat.org.models import (
    PNS_GOLONGAN,
    Assignment,
    Employee,
    Opd,
    Regency,
    ScheduleGroup,
    Unit,
    WorkSite,
    WorkSiteLocationChange,
)
from tepat.org.services import worksites_quality_refresh
from tepat.rules import sitecheck
from tepat.rules.nip import make_nip

DATA_DIR = Path(__file__).resolve().parent / "demo_data"
DEMO_SEED = 2026
DEMO_PASSWORD = "tepat-demo-2026"  # noqa: S105 - printed on screen for every demo login
# Assignments in the demo start no earlier than this: Tepat keeps history from go-live, not
# from each person's first day in service.
HISTORY_START = date(2024, 1, 1)
TRANSFER_COUNT = 20

STRUKTURAL = Assignment.JabatanKind.STRUKTURAL.value
FUNGSIONAL = Assignment.JabatanKind.FUNGSIONAL.value
PELAKSANA = Assignment.JabatanKind.PELAKSANA.value
PNS = Employee.Kind.PNS.value
PPPK = Employee.Kind.PPPK.value

KANTOR_5HK = "kantor-5hk"
KANTOR_6HK = "kantor-6hk"
GURU = "guru"
SHIFT = "shift"
SCHEDULE_GROUPS = (
    (KANTOR_5HK, "Kantor 5 hari kerja"),
    (KANTOR_6HK, "Kantor 6 hari kerja"),
    (GURU, "Guru / sekolah"),
    (SHIFT, "Shift RSUD/puskesmas"),
)


# --- Records: what generation returns ------------------------------------------------------


@dataclass(frozen=True)
class OpdRecord:
    code: str
    name: str
    kind: str
    wilayah_code: str


@dataclass(frozen=True)
class SiteRecord:
    name: str
    latitude: Decimal | None
    longitude: Decimal | None
    kecamatan_code: str
    location_source: str
    location_approximate: bool
    location_note: str


@dataclass(frozen=True)
class UnitRecord:
    code: str
    name: str
    kind: str
    opd_code: str
    parent_code: str | None = None
    kecamatan_code: str = ""
    npsn: str | None = None
    site: SiteRecord | None = None
    """None: the unit's staff check in at the parent unit's site."""
    alternative_site_units: tuple[str, ...] = ()
    """Codes of units whose own site is also allowed for this unit's staff."""


@dataclass(frozen=True)
class PersonRecord:
    nip: str
    name: str
    title_prefix: str
    title_suffix: str
    kind: str
    gender: str
    birth_date: date


@dataclass(frozen=True)
class AssignmentRecord:
    nip: str
    valid_from: date
    valid_to: date | None
    unit_code: str
    opd_code: str
    supervisor_nip: str | None
    jabatan: str
    jabatan_kind: str
    kelas_jabatan: int
    golongan: str
    schedule_group: str
    note: str = ""


@dataclass(frozen=True)
class AccountRecord:
    username: str
    role: str
    nip: str | None = None
    opd_code: str | None = None


@dataclass(frozen=True)
class DemoRegency:
    code: str
    name: str
    timezone: str
    boundary: dict[str, Any] = field(repr=False)
    kecamatan_boundaries: dict[str, Any] = field(repr=False)
    opds: tuple[OpdRecord, ...]
    units: tuple[UnitRecord, ...]
    people: tuple[PersonRecord, ...]
    assignments: tuple[AssignmentRecord, ...]
    accounts: tuple[AccountRecord, ...]


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: str
    who: str


@dataclass(frozen=True)
class DemoSummary:
    opd_by_kind: dict[str, int]
    units_by_kind: dict[str, int]
    employees_by_kind: dict[str, int]
    employees_by_schedule_group: dict[str, int]
    sites: int
    sites_approximate: int
    site_quality: dict[str, int]
    transfers: int
    accounts: tuple[DemoAccount, ...]
    seconds: float


# --- Reading the data files ----------------------------------------------------------------


@cache
def _csv_rows(name: str) -> tuple[dict[str, str], ...]:
    with (DATA_DIR / name).open(encoding="utf-8", newline="") as fh:
        return tuple(csv.DictReader(fh))


def _geojson(name: str) -> dict[str, Any]:
    with (DATA_DIR / name).open(encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


def _coordinate(raw: str) -> Decimal | None:
    return Decimal(raw).quantize(Decimal("0.000001")) if raw.strip() else None


def _kecamatan_of(wilayah_code: str) -> str:
    return ".".join(wilayah_code.split(".")[:3])


def school_rows_kept() -> list[dict[str, str]]:
    """Dapodik rows for the schools a Pemkab runs: SD and SMP negeri (UU 23/2014)."""
    return [
        row
        for row in _csv_rows("mukomuko_sekolah_dapodik_2019.csv")
        if row["bentuk"] in ("SD", "SMP") and row["status"] == "Negeri"
    ]


# --- OPD and their head offices ------------------------------------------------------------

_OPD_KIND_BY_JENIS = {
    "sekretariat": Opd.Kind.SEKRETARIAT.value,
    "inspektorat": Opd.Kind.INSPEKTORAT.value,
    "dinas": Opd.Kind.DINAS.value,
    "badan": Opd.Kind.BADAN.value,
    "rsud": Opd.Kind.RSUD.value,
    "kecamatan": Opd.Kind.KECAMATAN.value,
}
# The CSV marks doubtful name parts in brackets. Satpol PP lost Damkar, which is its own OPD
# in the same file, so it is a "Satuan" (kind kantor) named without it.
_OPD_NAME_FIXES = {"SATPOLPP": "Satuan Polisi Pamong Praja"}
_OPD_KIND_FIXES = {"SATPOLPP": Opd.Kind.KANTOR.value}


def opd_code_from_singkatan(singkatan: str, taken: set[str]) -> str:
    """A unique, slug-safe code: "BKD/BPKAD" → "BPKAD", "SATPOL PP" → "SATPOLPP"."""
    base = re.sub(r"[^A-Z0-9_-]", "", singkatan.split("/")[-1].upper()) or "OPD"
    code, n = base, 2
    while code in taken:
        code, n = f"{base}-{n}", n + 1
    taken.add(code)
    return code


def _opd_name(code: str, raw: str) -> str:
    return _OPD_NAME_FIXES.get(code) or re.sub(r"\s+", " ", raw.replace("(", "").replace(")", ""))


def _opd_site_note(row: dict[str, str], kecamatan_names: dict[str, str]) -> str:
    if row["jenis"] == "kecamatan":
        kec = kecamatan_names[_kecamatan_of(row["kode_wilayah"])]
        note = f"Titik sementara: titik tengah Kecamatan {kec}, bukan lokasi kantor camat"
    else:
        note = (
            "Titik sementara: pusat Kel. Bandar Ratu (Komplek Perkantoran Pemda), "
            "bukan lokasi gedung"
        )
    if "NOT FOUND" in row["catatan"]:
        note += ". Nama OPD belum ditemukan di sumber publik: periksa nama resminya"
    return note


def _head_office_name(opd: OpdRecord, kecamatan_names: dict[str, str]) -> str:
    if opd.kind == Opd.Kind.KECAMATAN:
        return f"Kantor Camat {kecamatan_names[_kecamatan_of(opd.wilayah_code)]}"
    if opd.kind == Opd.Kind.RSUD:
        return opd.name
    return f"Kantor {opd.name}"


def head_office_code(opd_code: str) -> str:
    return f"{opd_code}-KANTOR"


def _opds_and_head_offices(
    kecamatan_names: dict[str, str],
) -> tuple[list[OpdRecord], list[UnitRecord]]:
    taken: set[str] = set()
    opds: list[OpdRecord] = []
    offices: list[UnitRecord] = []
    for row in _csv_rows("mukomuko_opd_compiled.csv"):
        code = opd_code_from_singkatan(row["singkatan"], taken)
        kind = _OPD_KIND_FIXES.get(code) or _OPD_KIND_BY_JENIS[row["jenis"]]
        opd = OpdRecord(code, _opd_name(code, row["nama"]), kind, row["kode_wilayah"])
        opds.append(opd)
        name = _head_office_name(opd, kecamatan_names)
        kecamatan = _kecamatan_of(row["kode_wilayah"])
        site = SiteRecord(
            name=name,
            latitude=_coordinate(row["lat_placeholder"]),
            longitude=_coordinate(row["lng_placeholder"]),
            kecamatan_code=kecamatan,
            location_source="titik-sementara",
            location_approximate=True,
            location_note=_opd_site_note(row, kecamatan_names),
        )
        offices.append(
            UnitRecord(
                code=head_office_code(code),
                name=name,
                kind=Unit.Kind.KANTOR.value,
                opd_code=code,
                kecamatan_code=kecamatan,
                site=site,
            )
        )
    return opds, offices


# --- Bidang (divisions) --------------------------------------------------------------------

SETDA_ASISTEN: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Asisten Pemerintahan dan Kesejahteraan Rakyat",
        ("Bagian Pemerintahan", "Bagian Hukum", "Bagian Kesejahteraan Rakyat"),
    ),
    (
        "Asisten Perekonomian dan Pembangunan",
        (
            "Bagian Perekonomian dan Sumber Daya Alam",
            "Bagian Administrasi Pembangunan",
            "Bagian Pengadaan Barang dan Jasa",
        ),
    ),
    (
        "Asisten Administrasi Umum",
        ("Bagian Organisasi", "Bagian Umum", "Bagian Protokol dan Komunikasi Pimpinan"),
    ),
)

BIDANG: dict[str, tuple[str, ...]] = {
    "SETDA": tuple(b for _, bagian in SETDA_ASISTEN for b in bagian),
    "SETWAN": (
        "Bagian Umum dan Keuangan",
        "Bagian Persidangan dan Perundang-undangan",
        "Bagian Fasilitasi Penganggaran dan Pengawasan",
    ),
    "INSPEKTORAT": tuple(f"Inspektur Pembantu Wilayah {n}" for n in ("I", "II", "III", "IV")),
    "BAPPELITBANGDA": (
        "Bidang Perencanaan Pemerintahan dan Pembangunan Manusia",
        "Bidang Perekonomian dan Sumber Daya Alam",
        "Bidang Infrastruktur dan Kewilayahan",
        "Bidang Penelitian dan Pengembangan",
    ),
    "BKPSDM": (
        "Bidang Pengadaan, Pemberhentian dan Informasi",
        "Bidang Mutasi dan Promosi",
        "Bidang Pengembangan Kompetensi",
        "Bidang Penilaian Kinerja dan Penghargaan",
    ),
    "BPBD": (
        "Bidang Pencegahan dan Kesiapsiagaan",
        "Bidang Kedaruratan dan Logistik",
        "Bidang Rehabilitasi dan Rekonstruksi",
    ),
    "KESBANGPOL": (
        "Bidang Ideologi dan Wawasan Kebangsaan",
        "Bidang Politik Dalam Negeri dan Organisasi Kemasyarakatan",
    ),
    "BPKAD": (
        "Bidang Anggaran",
        "Bidang Perbendaharaan",
        "Bidang Akuntansi",
        "Bidang Aset",
        "Bidang Pendapatan",
    ),
    "DISDIKBUD": (
        "Bidang Pendidikan Dasar",
        "Bidang PAUD dan Pendidikan Nonformal",
        "Bidang Guru dan Tenaga Kependidikan",
        "Bidang Kebudayaan",
    ),
    "DINKES": (
        "Bidang Kesehatan Masyarakat",
        "Bidang Pencegahan dan Pengendalian Penyakit",
        "Bidang Pelayanan dan Sumber Daya Kesehatan",
    ),
    "PUPR": (
        "Bidang Bina Marga",
        "Bidang Sumber Daya Air",
        "Bidang Cipta Karya",
        "Bidang Penataan Ruang",
    ),
    "PERKIM": ("Bidang Perumahan", "Bidang Kawasan Permukiman", "Bidang Pertanahan"),
    "DISHUB": ("Bidang Lalu Lintas dan Angkutan", "Bidang Sarana dan Prasarana"),
    "DINSOS": (
        "Bidang Rehabilitasi Sosial",
        "Bidang Perlindungan dan Jaminan Sosial",
        "Bidang Pemberdayaan Sosial dan Penanganan Fakir Miskin",
    ),
    "DISDUKCAPIL": (
        "Bidang Pelayanan Pendaftaran Penduduk",
        "Bidang Pelayanan Pencatatan Sipil",
        "Bidang Pengelolaan Informasi Administrasi Kependudukan",
    ),
    "DISKOMINFO": (
        "Bidang Informasi dan Komunikasi Publik",
        "Bidang Aplikasi Informatika",
        "Bidang Persandian dan Statistik",
    ),
    "SATPOLPP": (
        "Bidang Penegakan Peraturan Daerah",
        "Bidang Ketertiban Umum dan Ketenteraman Masyarakat",
        "Bidang Perlindungan Masyarakat",
    ),
    "DAMKAR": ("Bidang Pencegahan Kebakaran", "Bidang Pemadaman dan Penyelamatan"),
    "DPMPTSP": ("Bidang Penanaman Modal", "Bidang Pelayanan Perizinan"),
    "DISNAKERTRANS": (
        "Bidang Pelatihan dan Penempatan Tenaga Kerja",
        "Bidang Hubungan Industrial",
        "Bidang Transmigrasi",
    ),
    "DISTAN": (
        "Bidang Tanaman Pangan dan Hortikultura",
        "Bidang Perkebunan",
        "Bidang Peternakan dan Kesehatan Hewan",
        "Bidang Penyuluhan",
    ),
    "DKP": (
        "Bidang Ketersediaan dan Kerawanan Pangan",
        "Bidang Distribusi dan Cadangan Pangan",
        "Bidang Konsumsi dan Keamanan Pangan",
    ),
    "DISKAN": ("Bidang Perikanan Tangkap", "Bidang Perikanan Budidaya"),
    "DLH": (
        "Bidang Tata Lingkungan",
        "Bidang Pengelolaan Sampah dan Limbah B3",
        "Bidang Pengendalian Pencemaran dan Kerusakan Lingkungan",
    ),
    "DISPERINDAGKOP-UKM": ("Bidang Perdagangan", "Bidang Perindustrian", "Bidang Koperasi dan UKM"),
    "DP2KBP3A": (
        "Bidang Pengendalian Penduduk dan Keluarga Berencana",
        "Bidang Pemberdayaan Perempuan",
        "Bidang Perlindungan Anak",
    ),
    "DISARPUS": ("Bidang Kearsipan", "Bidang Perpustakaan"),
    "DPMD": ("Bidang Pemerintahan Desa", "Bidang Pemberdayaan Masyarakat Desa"),
    "DISPARPORA": ("Bidang Pariwisata", "Bidang Kepemudaan dan Olahraga"),
}
RSUD_UNITS = (
    "Bagian Tata Usaha",
    "Bidang Pelayanan Medik",
    "Bidang Keperawatan",
    "Bidang Penunjang Medik",
)
# Small OPDs keep their kabid in the head office; bigger ones give each bidang its own unit.
OWN_UNIT_MIN_BIDANG = 3


def _bidang_names(opd: OpdRecord) -> tuple[str, ...]:
    if opd.kind == Opd.Kind.RSUD:
        return RSUD_UNITS
    if opd.kind == Opd.Kind.KECAMATAN:
        return ()
    return BIDANG.get(opd.code, ("Bidang Program dan Pelayanan", "Bidang Pembinaan"))


def _bidang_units(opd: OpdRecord, office: UnitRecord) -> list[UnitRecord]:
    names = _bidang_names(opd)
    if len(names) < OWN_UNIT_MIN_BIDANG:
        return []
    return [
        UnitRecord(
            code=f"{opd.code}-B{n:02d}",
            name=name,
            kind=Unit.Kind.BIDANG.value,
            opd_code=opd.code,
            parent_code=office.code,
            kecamatan_code=office.kecamatan_code,
        )
        for n, name in enumerate(names, start=1)
    ]


# --- Schools -------------------------------------------------------------------------------

_DAPODIK_CHECK_NOTES = {
    "ok_in_declared_kecamatan": "Koordinat Dapodik 2019 berada di kecamatan sekolah",
    "in_other_kecamatan": "Koordinat Dapodik 2019 berada di kecamatan lain",
    "outside_kabupaten": "Koordinat Dapodik 2019 berada di luar kabupaten",
    "no_coords": "Dapodik 2019 tidak memuat koordinat",
}
_SUGGESTED_SOURCES = {
    # suggested_source: (location_source, what the note says was used)
    "dapodik": ("dapodik-2019", "titik Dapodik dipakai; belum diverifikasi di lokasi"),
    "desa_centroid_from_address": ("titik-tengah-desa", "dipakai titik tengah desa dari alamat"),
    "kecamatan_centroid": ("titik-tengah-kecamatan", "dipakai titik tengah kecamatan"),
}
_ROMAN = re.compile(r"^[IVXL]+$")


def school_name(raw: str) -> str:
    """'SDN 10 Ipuh' / 'SD NEGERI 01 XIV KOTO' → 'SD Negeri 10 Ipuh' / 'SD Negeri 01 XIV Koto'."""
    words = raw.split()
    if words and words[0].upper() in ("SDN", "SMPN"):
        words = [words[0][:-1], "NEGERI", *words[1:]]
    return " ".join(
        w.upper() if w.upper() in ("SD", "SMP") or _ROMAN.match(w.upper()) else w.capitalize()
        for w in words
    )


def _school_site_note(row: dict[str, str]) -> str:
    check = _DAPODIK_CHECK_NOTES.get(row["dapodik_coord_check"])
    source = _SUGGESTED_SOURCES.get(row["suggested_source"])
    if check is None or source is None:
        raise ValueError(
            f"Unknown Dapodik check values for NPSN {row['npsn']}: "
            f"{row['dapodik_coord_check']!r}, {row['suggested_source']!r}"
        )
    note = f"{check}; {source[1]}"
    if row["suggested_source"] == "desa_centroid_from_address" and row["desa_from_address"]:
        note += f" ({row['desa_from_address']})"
    return note


def _school_units(dindik_office: UnitRecord) -> list[UnitRecord]:
    units = []
    for row in school_rows_kept():
        name = school_name(row["nama"])
        site = SiteRecord(
            name=name,
            latitude=_coordinate(row["lat_suggested"]),
            longitude=_coordinate(row["lng_suggested"]),
            kecamatan_code=row["kode_kec_kemendagri"],
            location_source=_SUGGESTED_SOURCES[row["suggested_source"]][0],
            location_approximate=row["suggested_source"] != "dapodik",
            location_note=_school_site_note(row),
        )
        units.append(
            UnitRecord(
                code=f"{row['bentuk']}-{row['npsn']}",
                name=name,
                kind=Unit.Kind.SEKOLAH.value,
                opd_code=dindik_office.opd_code,
                parent_code=dindik_office.code,
                kecamatan_code=row["kode_kec_kemendagri"],
                npsn=row["npsn"],
                site=site,
                alternative_site_units=(dindik_office.code,),
            )
        )
    return units


# --- Puskesmas -----------------------------------------------------------------------------

# The capital and the kecamatan with the most desa each get a second puskesmas (17 in all,
# the count in the 2020 news report cited in SOURCE.md).
SECOND_PUSKESMAS_KECAMATAN = ("17.06.02", "17.06.05")


def _villages_by_kecamatan() -> dict[str, list[dict[str, str]]]:
    villages: dict[str, list[dict[str, str]]] = {}
    for row in _csv_rows("mukomuko_wilayah_kemendagri.csv"):
        if row["level"] in ("desa", "kelurahan"):
            villages.setdefault(row["kode_kecamatan"], []).append(row)
    return villages


def _inside_kecamatan(boundaries: sitecheck.Boundaries, village: dict[str, str]) -> bool:
    location = sitecheck.SiteLocation(
        lat=float(village["lat"]),
        lng=float(village["lng"]),
        kecamatan_code=village["kode_kecamatan"],
    )
    return sitecheck.check_site(boundaries, location).status == "ok"


def _puskesmas_villages(
    villages: list[dict[str, str]], kecamatan: str, boundaries: sitecheck.Boundaries
) -> tuple[dict[str, str], dict[str, str]]:
    """Where a kecamatan's first and second puskesmas stand: the desa named like the kecamatan
    (usually its centre) or else the first, and a desa half-way down the list; only desa whose
    centre lies inside the (coarse) kecamatan polygon, so the placeholder passes the check."""
    inside = [v for v in villages if _inside_kecamatan(boundaries, v)] or villages
    first = next((v for v in inside if v["nama"] == kecamatan), inside[0])
    others = [v for v in inside if v is not first] or inside
    return first, others[len(others) // 2]


def _puskesmas_units(
    dinkes_office: UnitRecord, kecamatan_names: dict[str, str], boundaries: sitecheck.Boundaries
) -> list[UnitRecord]:
    villages = _villages_by_kecamatan()
    units = []
    for code, kecamatan in kecamatan_names.items():
        places = _puskesmas_villages(villages[code], kecamatan, boundaries)
        for second in (False, True):
            if second and code not in SECOND_PUSKESMAS_KECAMATAN:
                continue
            village = places[second]
            name = f"Puskesmas {kecamatan}" + (" II" if second else "")
            place = "Kel." if village["level"] == "kelurahan" else "Desa"
            site = SiteRecord(
                name=name,
                latitude=_coordinate(village["lat"]),
                longitude=_coordinate(village["lng"]),
                kecamatan_code=code,
                location_source="titik-tengah-desa",
                location_approximate=True,
                location_note=(
                    f"Titik sementara: titik tengah {place} {village['nama']}, "
                    "bukan lokasi gedung puskesmas"
                ),
            )
            units.append(
                UnitRecord(
                    code=f"PKM-{code.replace('.', '')}" + ("-2" if second else ""),
                    name=name,
                    kind=Unit.Kind.PUSKESMAS.value,
                    opd_code=dinkes_office.opd_code,
                    parent_code=dinkes_office.code,
                    kecamatan_code=code,
                    site=site,
                )
            )
    return units


# --- People: profiles, levels and posts ----------------------------------------------------


@dataclass(frozen=True)
class Profile:
    """The kind of person a post is filled with: education, titles, gender mix, rank cap."""

    education: str  # SMA, D3, S1, S2, DOKTER
    female_share: float
    cap: str
    suffixes: tuple[str, ...] = ()
    """Empty: an office degree that fits the OPD (S.T. at PUPR, S.P. at Pertanian…)."""
    prefix: str = ""
    master_share: float = 0.0
    pppk_from: int = 2023
    """First year this profession was hired as PPPK (teachers 2021, health 2022)."""


PROFILES: dict[str, Profile] = {
    "pimpinan": Profile("S2", 0.2, "IV/d", master_share=1.0),
    "pejabat": Profile("S1", 0.35, "IV/c", master_share=0.5),
    "office_s1": Profile("S1", 0.5, "IV/a", master_share=0.08),
    "office_d3": Profile("D3", 0.5, "III/c", suffixes=("A.Md.",)),
    "office_sma": Profile("SMA", 0.4, "III/b", suffixes=("",)),
    "pendidik": Profile("S1", 0.4, "IV/c", suffixes=("S.Pd.",), master_share=0.9),
    "guru_sd": Profile(
        "S1", 0.72, "IV/b", ("S.Pd.", "S.Pd.", "S.Pd.SD"), master_share=0.04, pppk_from=2021
    ),
    "guru_smp": Profile("S1", 0.62, "IV/b", ("S.Pd.",), master_share=0.08, pppk_from=2021),
    "guru_agama": Profile("S1", 0.55, "IV/b", ("S.Pd.I.", "S.Ag."), pppk_from=2021),
    "kadinkes": Profile("S2", 0.4, "IV/d", ("M.Kes.",), prefix="dr."),
    "direktur": Profile("S2", 0.3, "IV/d", ("M.Kes.", "Sp.PD", "MARS"), prefix="dr."),
    "dokter": Profile("DOKTER", 0.55, "IV/b", ("",), prefix="dr.", pppk_from=2022),
    "dokter_gigi": Profile("DOKTER", 0.7, "IV/b", ("",), prefix="drg.", pppk_from=2022),
    "spesialis": Profile(
        "S2", 0.4, "IV/b", ("Sp.PD", "Sp.A", "Sp.OG", "Sp.B", "Sp.An", "Sp.Rad"), prefix="dr."
    ),
    "perawat_s1": Profile("S1", 0.65, "IV/a", ("S.Kep., Ns.",), pppk_from=2022),
    "perawat_d3": Profile("D3", 0.6, "III/c", ("A.Md.Kep.",), pppk_from=2022),
    "bidan_d3": Profile("D3", 1.0, "III/c", ("A.Md.Keb.",), pppk_from=2022),
    "bidan_d4": Profile("S1", 1.0, "IV/a", ("S.Tr.Keb.",), pppk_from=2022),
    "apoteker": Profile("S1", 0.75, "IV/a", ("S.Farm., Apt.",), pppk_from=2022),
    "ttk": Profile("D3", 0.75, "III/c", ("A.Md.Farm.",), pppk_from=2022),
    "gizi": Profile("S1", 0.85, "IV/a", ("S.Gz.",), pppk_from=2022),
    "lab": Profile("D3", 0.65, "III/c", ("A.Md.AK.",), pppk_from=2022),
    "sanitarian": Profile("D3", 0.5, "III/c", ("A.Md.KL.",), pppk_from=2022),
    "kesmas": Profile("S1", 0.6, "IV/a", ("S.KM.",), master_share=0.15, pppk_from=2022),
    "radiografer": Profile("D3", 0.4, "III/c", ("A.Md.Rad.",), pppk_from=2022),
    "perekam_medis": Profile("D3", 0.6, "III/c", ("A.Md.Kes.",), pppk_from=2022),
    "fisioterapis": Profile("D3", 0.6, "III/c", ("A.Md.Ftr.",), pppk_from=2022),
}

_DEFAULT_DEGREES = ("S.E.", "S.Sos.", "S.H.", "S.IP.", "S.AP.", "S.Kom.", "S.E.", "S.Sos.")
_DEGREES_BY_OPD = {
    "PUPR": ("S.T.",),
    "PERKIM": ("S.T.", "S.T.", "S.E."),
    "DISHUB": ("S.T.", "S.Sos."),
    "BPKAD": ("S.E.", "S.Ak.", "S.E."),
    "INSPEKTORAT": ("S.E.", "S.Ak.", "S.H."),
    "DISKOMINFO": ("S.Kom.", "S.Kom.", "S.I.Kom."),
    "DISTAN": ("S.P.", "S.P.", "S.Pt."),
    "DKP": ("S.P.", "S.TP."),
    "DISKAN": ("S.Pi.",),
    "DLH": ("S.Si.", "S.T."),
    "SATPOLPP": ("S.H.", "S.Sos."),
    "DISDIKBUD": ("S.Pd.", "S.Pd.", "S.E."),
}
_DEFAULT_MASTERS = ("M.Si.", "M.M.", "M.AP.")
_MASTERS_BY_DEGREE = {
    "S.T.": ("M.T.",),
    "S.H.": ("M.H.",),
    "S.Pd.": ("M.Pd.",),
    "S.Pd.SD": ("M.Pd.",),
    "S.Pd.I.": ("M.Pd.I.",),
    "S.KM.": ("M.Kes.",),
    "S.P.": ("M.P.", "M.Si."),
    "S.Kom.": ("M.Kom.",),
}
# Older graduates of social sciences carry the pre-1993 title before the name.
_DRS_DEGREES = ("S.Sos.", "S.E.", "S.IP.", "S.AP.", "S.Pd.")


@dataclass(frozen=True)
class Level:
    birth_years: tuple[int, int]
    floor: str | None
    retire_age: int


LEVELS = {
    "top": Level((1966, 1971), "IV/c", 60),
    "head": Level((1966, 1975), "IV/a", 60),
    "camat": Level((1968, 1980), "III/d", 58),
    "middle": Level((1968, 1983), "III/c", 58),
    "lower": Level((1970, 1988), "III/b", 58),
    "senior": Level((1968, 1986), "III/c", 58),
    "staff": Level((1966, 2001), None, 58),
    "guru": Level((1966, 2001), None, 60),
}

LADDERS: dict[str, tuple[tuple[str, str, int], ...]] = {
    # (lowest golongan, rung name, kelas jabatan); PPPK take the first rung.
    "ahli": (("III/a", "Ahli Pertama", 8), ("III/c", "Ahli Muda", 9)),
    "spesialis": (("III/a", "Ahli Muda", 9),),
    "kes_ahli": (("III/a", "Ahli Pertama", 7), ("III/c", "Ahli Muda", 8)),
    "kes_terampil": (("II/a", "Terampil", 6), ("III/a", "Mahir", 7), ("III/c", "Penyelia", 8)),
}

PNS_ENTRY = {"SMA": "II/a", "D3": "II/c", "S1": "III/a", "S2": "III/b", "DOKTER": "III/b"}
AGE_AT_APPOINTMENT = {
    "SMA": (20, 30),
    "D3": (21, 32),
    "S1": (23, 35),
    "S2": (25, 35),
    "DOKTER": (26, 35),
}
PNS_PROMOTION_YEARS = 4
PNS_TMT_MONTHS = (1, 2, 3, 4, 12)


@dataclass(frozen=True)
class Post:
    jabatan: str
    jabatan_kind: str
    kelas: int
    profile: str
    level: str = "staff"
    pppk_share: float = 0.0
    ladder: str | None = None


def _pppk_golongan_by_education() -> dict[str, str]:
    """Entry golongan of PPPK by education, from pppk_golongan.csv (PermenPAN-RB 72/2020)."""
    by_text = {
        r["pendidikan_awal_pengangkatan"]: r["golongan"] for r in _csv_rows("pppk_golongan.csv")
    }
    return {
        "SMA": by_text["SMA/SMK/D-I"],
        "D3": by_text["D-III"],
        "S1": by_text["S1/D-IV"],
        "DOKTER": by_text["S1/D-IV"],
        "S2": by_text["S2"],
    }


def _names_by_kind_and_gender() -> dict[tuple[str, str], tuple[str, ...]]:
    names: dict[tuple[str, str], list[str]] = {}
    for row in _csv_rows("faker_id_ID_names.csv"):
        names.setdefault((row["kind"], row["gender"]), []).append(row["value"])
    return {key: tuple(values) for key, values in names.items()}


def _first_of_month(d: date) -> date:
    return d.replace(day=1)


def _add_months(d: date, months: int) -> date:
    index = d.year * 12 + d.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


class _Staffing:
    """Hires invented people into posts, one random stream so a seed fixes everything."""

    def __init__(self, seed: int, today: date) -> None:
        self.rng = random.Random(seed)
        self.today = today
        self.names = _names_by_kind_and_gender()
        self.pppk_golongan = _pppk_golongan_by_education()
        self.people: list[PersonRecord] = []
        self.assignments: list[AssignmentRecord] = []
        self.appointed: dict[str, date] = {}
        self._serials: Counter[str] = Counter()

    def hire(
        self, post: Post, unit: UnitRecord, supervisor: str | None, schedule: str = KANTOR_5HK
    ) -> str:
        profile = PROFILES[post.profile]
        level = LEVELS[post.level]
        gender = "P" if self.rng.random() < profile.female_share else "L"
        birth = self._birth_date(level)
        kind = PNS
        appointed = self._pns_appointed(birth, profile.education)
        if post.level in ("staff", "guru") and self.rng.random() < post.pppk_share:
            pppk_year = self._pppk_year(birth, profile.pppk_from)
            if pppk_year is not None:
                kind, appointed = PPPK, date(pppk_year, 1, 1)
        nip = self._nip(kind, birth, appointed, gender)
        if kind == PNS:
            golongan = self._pns_golongan(profile, level, appointed)
        else:
            golongan = self.pppk_golongan[profile.education]
        jabatan, kelas = self._jabatan_and_kelas(post, kind, golongan)
        prefix, suffix = self._titles(profile, gender, birth, unit.opd_code)
        self.people.append(
            PersonRecord(nip, self._name(gender), prefix, suffix, kind, gender, birth)
        )
        self.appointed[nip] = appointed
        self.assignments.append(
            AssignmentRecord(
                nip=nip,
                valid_from=max(appointed, HISTORY_START),
                valid_to=None,
                unit_code=unit.code,
                opd_code=unit.opd_code,
                supervisor_nip=supervisor,
                jabatan=jabatan,
                jabatan_kind=post.jabatan_kind,
                kelas_jabatan=kelas,
                golongan=golongan,
                schedule_group=schedule,
            )
        )
        return nip

    def count(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)

    def _birth_date(self, level: Level) -> date:
        low, high = level.birth_years
        # Nobody past the retirement age (BUP) is still in service.
        low = min(max(low, self.today.year - level.retire_age + 1), high)
        year = self.rng.randint(low, high)
        return date(year, 1, 1) + timedelta(days=self.rng.randrange(365))

    def _pns_appointed(self, birth: date, education: str) -> date:
        """TMT CPNS: at a plausible age for the education, at least 20, before this month."""
        latest = _add_months(_first_of_month(self.today), -1)
        low, high = AGE_AT_APPOINTMENT[education]
        high = max(low, min(high, latest.year - 1 - birth.year))
        month = self.rng.choice(PNS_TMT_MONTHS)
        appointed = date(birth.year + self.rng.randint(low, high), month, 1)
        if appointed < _add_months(birth, 20 * 12 + 1):
            appointed = appointed.replace(year=appointed.year + 1)
        return min(appointed, latest)

    def _pppk_year(self, birth: date, first_year: int) -> int | None:
        years = [y for y in range(first_year, self.today.year + 1) if y >= birth.year + 21]
        return self.rng.choice(years) if years else None

    def _nip(self, kind: str, birth: date, appointed: date, gender: str) -> str:
        slot = "21" if kind == PPPK else f"{appointed.month:02d}"
        key = f"{birth:%Y%m%d}{appointed.year}{slot}{gender}"
        self._serials[key] += 1
        return make_nip(kind, birth, appointed, gender, self._serials[key])  # type: ignore[arg-type]

    def _pns_golongan(self, profile: Profile, level: Level, appointed: date) -> str:
        years = (self.today - appointed).days // 365
        index = PNS_GOLONGAN.index(PNS_ENTRY[profile.education]) + years // PNS_PROMOTION_YEARS
        index = min(index, PNS_GOLONGAN.index(profile.cap))
        if level.floor is not None:
            index = max(index, PNS_GOLONGAN.index(level.floor))
        return PNS_GOLONGAN[index]

    def _jabatan_and_kelas(self, post: Post, kind: str, golongan: str) -> tuple[str, int]:
        if post.ladder is None:
            return post.jabatan, post.kelas
        rungs = LADDERS[post.ladder]
        rung = rungs[0]
        if kind == PNS:
            for candidate in rungs:
                if PNS_GOLONGAN.index(golongan) >= PNS_GOLONGAN.index(candidate[0]):
                    rung = candidate
        return f"{post.jabatan} {rung[1]}", rung[2]

    def _titles(self, profile: Profile, gender: str, birth: date, opd_code: str) -> tuple[str, str]:
        rng = self.rng
        prefix = profile.prefix
        if profile.suffixes:
            degree = rng.choice(profile.suffixes)
        else:
            degree = rng.choice(_DEGREES_BY_OPD.get(opd_code, _DEFAULT_DEGREES))
        suffix = degree
        if profile.education in ("S1", "S2") and not profile.prefix:
            if rng.random() < profile.master_share:
                master = rng.choice(_MASTERS_BY_DEGREE.get(degree, _DEFAULT_MASTERS))
                suffix = f"{degree}, {master}"
            if birth.year < 1970 and degree in _DRS_DEGREES and rng.random() < 0.5:
                prefix = "Drs." if gender == "L" else "Dra."
                suffix = suffix.removeprefix(degree).removeprefix(", ")
        if not prefix and birth.year < 1980 and rng.random() < 0.08:
            prefix = "H." if gender == "L" else "Hj."
        return prefix, suffix

    def _name(self, gender: str) -> str:
        rng = self.rng
        first = rng.choice(self.names[("first_name", gender)])
        roll = rng.random()
        if roll < 0.55:
            other = rng.choice(self.names[("last_name", gender)])
        elif roll < 0.8:
            other = rng.choice(self.names[("first_name", gender)])
        else:
            return first
        return first if other == first else f"{first} {other}"


# --- Who works where -----------------------------------------------------------------------

_JF_BY_OPD = {
    "INSPEKTORAT": "Auditor",
    "BKPSDM": "Analis Sumber Daya Manusia Aparatur",
    "BAPPELITBANGDA": "Perencana",
    "DISKOMINFO": "Pranata Komputer",
    "DISTAN": "Penyuluh Pertanian",
    "DISKAN": "Penyuluh Perikanan",
    "DINSOS": "Pekerja Sosial",
    "DISDUKCAPIL": "Administrator Database Kependudukan",
    "DISARPUS": "Arsiparis",
    "DLH": "Pengendali Dampak Lingkungan",
    "PUPR": "Teknik Jalan dan Jembatan",
    "SATPOLPP": "Polisi Pamong Praja",
    "DAMKAR": "Analis Kebakaran",
    "BPKAD": "Analis Keuangan Pusat dan Daerah",
    "DP2KBP3A": "Penyuluh Keluarga Berencana",
    "DINKES": "Administrator Kesehatan",
    "DISDIKBUD": "Analis Kebijakan",
}
_HEAD_JABATAN = {
    "SETWAN": "Sekretaris DPRD",
    "INSPEKTORAT": "Inspektur",
    "BPBD": "Kepala Pelaksana Badan Penanggulangan Bencana Daerah",
    "RSUD": "Direktur Rumah Sakit Umum Daerah Mukomuko",
}
_HEAD_KELAS = {"INSPEKTORAT": 14, "BAPPELITBANGDA": 14, "BPKAD": 14}
_SIX_DAY_OPDS = ("SATPOLPP", "DAMKAR", "DISHUB")
_KECAMATAN_KASI = (
    "Kepala Seksi Pemerintahan",
    "Kepala Seksi Ketenteraman dan Ketertiban Umum",
    "Kepala Seksi Pemberdayaan Masyarakat dan Desa",
    "Kepala Seksi Kesejahteraan Sosial",
)
SMP_SUBJECTS = (
    "Matematika",
    "Bahasa Indonesia",
    "Ilmu Pengetahuan Alam",
    "Bahasa Inggris",
    "Ilmu Pengetahuan Sosial",
    "Pendidikan Pancasila",
    "Pendidikan Agama Islam",
    "Pendidikan Jasmani, Olahraga dan Kesehatan",
    "Seni Budaya",
    "Bimbingan dan Konseling",
    "Informatika",
    "Prakarya",
    "Matematika",
    "Bahasa Indonesia",
    "Ilmu Pengetahuan Alam",
    "Bahasa Inggris",
)
PPPK_SHARE_TEACHERS = 0.42
PPPK_SHARE_HEALTH = 0.35
PPPK_SHARE_OFFICE = 0.12


def _pelaksana_post(s: _Staffing) -> Post:
    roll = s.rng.random()
    if roll < 0.45:
        jabatan = s.rng.choice(("Pengadministrasi Perkantoran", "Operator Layanan Operasional"))
        return Post(jabatan, PELAKSANA, 5, "office_sma", pppk_share=PPPK_SHARE_OFFICE)
    if roll < 0.65:
        return Post(
            "Pengolah Data dan Informasi", PELAKSANA, 6, "office_d3", pppk_share=PPPK_SHARE_OFFICE
        )
    return Post(
        "Penata Layanan Operasional", PELAKSANA, 7, "office_s1", pppk_share=PPPK_SHARE_OFFICE
    )


def _jf_post(opd_code: str, *, senior: bool, profile: str = "office_s1") -> Post:
    base = _JF_BY_OPD.get(opd_code, "Analis Kebijakan")
    level = "senior" if senior else "staff"
    share = 0.0 if senior else PPPK_SHARE_OFFICE / 2
    return Post(base, FUNGSIONAL, 8, profile, level, pppk_share=share, ladder="ahli")


def _head_post(opd: OpdRecord, kecamatan_names: dict[str, str]) -> Post:
    if opd.kind == Opd.Kind.KECAMATAN:
        camat = f"Camat {kecamatan_names[_kecamatan_of(opd.wilayah_code)]}"
        return Post(camat, STRUKTURAL, 12, "pejabat", "camat")
    jabatan = _HEAD_JABATAN.get(opd.code, f"Kepala {opd.name}")
    profile = {"DISDIKBUD": "pendidik", "DINKES": "kadinkes", "RSUD": "direktur"}
    return Post(
        jabatan,
        STRUKTURAL,
        _HEAD_KELAS.get(opd.code, 13),
        profile.get(opd.code, "pimpinan"),
        "head",
    )


@dataclass
class _OpdPlan:
    opd: OpdRecord
    office: UnitRecord
    bidang: list[tuple[str, UnitRecord]]
    """Each bidang's name and the unit its people sit in (its own, or the head office)."""
    kepala: str = ""
    sekretaris: str = ""
    kabid: dict[str, str] = field(default_factory=dict)


def _staff_under(s: _Staffing, unit: UnitRecord, lead: str, count: int, schedule: str) -> None:
    for _ in range(count):
        s.hire(_pelaksana_post(s), unit, lead, schedule)


def _sekretariat_staff(s: _Staffing, plan: _OpdPlan, schedule: str) -> None:
    opd, office = plan.opd, plan.office
    plan.sekretaris = s.hire(
        Post(f"Sekretaris {opd.name}", STRUKTURAL, 11, "pejabat", "middle"),
        office,
        plan.kepala,
        schedule,
    )
    kasubbag = s.hire(
        Post("Kepala Subbagian Umum dan Kepegawaian", STRUKTURAL, 8, "office_s1", "lower"),
        office,
        plan.sekretaris,
        schedule,
    )
    s.hire(
        Post("Perencana", FUNGSIONAL, 8, "office_s1", ladder="ahli"),
        office,
        plan.sekretaris,
        schedule,
    )
    _staff_under(s, office, kasubbag, s.count(3, 5), schedule)


def _bidang_staff(
    s: _Staffing,
    plan: _OpdPlan,
    name: str,
    unit: UnitRecord,
    lead: str,
    schedule: str,
    jf_profile: str = "office_s1",
) -> str:
    jabatan = name if name.startswith("Inspektur") else f"Kepala {name}"
    kelas = 11 if name.startswith(("Bagian", "Inspektur")) else 10
    kabid = s.hire(Post(jabatan, STRUKTURAL, kelas, "pejabat", "middle"), unit, lead, schedule)
    jf_senior = _jf_post(plan.opd.code, senior=True, profile=jf_profile)
    coordinator = s.hire(jf_senior, unit, kabid, schedule)
    for _ in range(s.count(0, 1)):
        jf = _jf_post(plan.opd.code, senior=False, profile=jf_profile)
        s.hire(jf, unit, kabid, schedule)
    _staff_under(s, unit, coordinator, s.count(3, 6), schedule)
    plan.kabid[name] = kabid
    return kabid


def _office_opd_staff(s: _Staffing, plan: _OpdPlan, sekda: str, names: dict[str, str]) -> None:
    """Kepala ← sekretaris ← kasubbag ← pelaksana; kepala ← kabid ← JF ← pelaksana."""
    schedule = KANTOR_6HK if plan.opd.code in _SIX_DAY_OPDS else KANTOR_5HK
    jf_profile = "kesmas" if plan.opd.code == "DINKES" else "office_s1"
    plan.kepala = s.hire(_head_post(plan.opd, names), plan.office, sekda, schedule)
    if plan.opd.code == "SETWAN":
        plan.sekretaris = plan.kepala  # the Sekretaris DPRD is the head; no deputy
        _staff_under(s, plan.office, plan.kepala, s.count(2, 3), schedule)
    else:
        _sekretariat_staff(s, plan, schedule)
    for name, unit in plan.bidang:
        _bidang_staff(s, plan, name, unit, plan.kepala, schedule, jf_profile)


def _setda_staff(s: _Staffing, plan: _OpdPlan) -> str:
    """Sekda ← asisten ← kabag ← analis ← pelaksana. Returns the Sekda's NIP."""
    sekda = s.hire(Post("Sekretaris Daerah", STRUKTURAL, 15, "pimpinan", "top"), plan.office, None)
    plan.kepala = plan.sekretaris = sekda
    units = dict(plan.bidang)
    for asisten_name, bagian in SETDA_ASISTEN:
        asisten = s.hire(Post(asisten_name, STRUKTURAL, 13, "pimpinan", "head"), plan.office, sekda)
        for name in bagian:
            _bidang_staff(s, plan, name, units[name], asisten, KANTOR_5HK)
    return sekda


def _kecamatan_staff(s: _Staffing, plan: _OpdPlan, sekda: str, names: dict[str, str]) -> None:
    office = plan.office
    plan.kepala = s.hire(_head_post(plan.opd, names), office, sekda)
    plan.sekretaris = s.hire(
        Post("Sekretaris Camat", STRUKTURAL, 9, "pejabat", "lower"), office, plan.kepala
    )
    leads = [
        s.hire(
            Post("Kepala Subbagian Umum dan Kepegawaian", STRUKTURAL, 8, "office_s1", "lower"),
            office,
            plan.sekretaris,
        )
    ]
    for kasi in _KECAMATAN_KASI:
        leads.append(s.hire(Post(kasi, STRUKTURAL, 8, "office_s1", "lower"), office, plan.kepala))
    for n in range(s.count(10, 13)):
        s.hire(_pelaksana_post(s), office, leads[n % len(leads)])


def _health_post(jabatan: str, profile: str, ladder: str, share: float = PPPK_SHARE_HEALTH) -> Post:
    return Post(jabatan, FUNGSIONAL, 7, profile, pppk_share=share, ladder=ladder)


def _nurse_post(s: _Staffing) -> Post:
    if s.rng.random() < 0.4:
        return _health_post("Perawat", "perawat_s1", "kes_ahli")
    return _health_post("Perawat", "perawat_d3", "kes_terampil")


def _midwife_post(s: _Staffing) -> Post:
    if s.rng.random() < 0.3:
        return _health_post("Bidan", "bidan_d4", "kes_ahli")
    return _health_post("Bidan", "bidan_d3", "kes_terampil")


def _puskesmas_staff(s: _Staffing, unit: UnitRecord, kadinkes: str) -> None:
    kepala = s.hire(
        Post(f"Kepala UPTD {unit.name}", STRUKTURAL, 9, "kesmas", "lower"), unit, kadinkes, SHIFT
    )
    posts = [_health_post("Dokter", "dokter", "ahli", 0.15) for _ in range(s.count(1, 2))]
    posts += [_health_post("Dokter Gigi", "dokter_gigi", "ahli", 0.15)] * s.count(0, 1)
    posts += [_nurse_post(s) for _ in range(s.count(5, 8))]
    posts += [_midwife_post(s) for _ in range(s.count(4, 7))]
    posts += [
        _health_post("Asisten Apoteker", "ttk", "kes_terampil"),
        _health_post("Nutrisionis", "gizi", "kes_ahli"),
        _health_post("Pranata Laboratorium Kesehatan", "lab", "kes_terampil"),
        _health_post("Sanitarian", "sanitarian", "kes_terampil"),
        _health_post("Penyuluh Kesehatan Masyarakat", "kesmas", "kes_ahli"),
    ]
    posts += [_pelaksana_post(s) for _ in range(s.count(1, 2))]
    for post in posts:
        s.hire(post, unit, kepala, SHIFT)


def _rsud_staff(s: _Staffing, plan: _OpdPlan, sekda: str, names: dict[str, str]) -> None:
    plan.kepala = s.hire(_head_post(plan.opd, names), plan.office, sekda)
    units = dict(plan.bidang)
    for name, unit in plan.bidang:
        plan.kabid[name] = s.hire(
            Post(f"Kepala {name}", STRUKTURAL, 10, "pejabat", "middle"), unit, plan.kepala
        )
    tata_usaha = units["Bagian Tata Usaha"]
    for kasubbag in ("Kepala Subbagian Umum dan Kepegawaian", "Kepala Subbagian Keuangan"):
        lead = s.hire(
            Post(kasubbag, STRUKTURAL, 8, "office_s1", "lower"),
            tata_usaha,
            plan.kabid["Bagian Tata Usaha"],
        )
        _staff_under(s, tata_usaha, lead, s.count(7, 9), KANTOR_5HK)
    medical = [_health_post("Dokter", "spesialis", "spesialis", 0.0)] * s.count(8, 10)
    medical += [_health_post("Dokter", "dokter", "ahli", 0.15)] * s.count(10, 12)
    medical += [_health_post("Dokter Gigi", "dokter_gigi", "ahli", 0.15)] * 2
    nursing = [_nurse_post(s) for _ in range(s.count(80, 90))]
    nursing += [_midwife_post(s) for _ in range(s.count(20, 24))]
    support = [_health_post("Apoteker", "apoteker", "kes_ahli")] * 3
    support += [_health_post("Asisten Apoteker", "ttk", "kes_terampil")] * 6
    support += [_health_post("Pranata Laboratorium Kesehatan", "lab", "kes_terampil")] * 6
    support += [_health_post("Radiografer", "radiografer", "kes_terampil")] * 4
    support += [_health_post("Nutrisionis", "gizi", "kes_ahli")] * 4
    support += [_health_post("Perekam Medis", "perekam_medis", "kes_terampil")] * 6
    support += [_health_post("Fisioterapis", "fisioterapis", "kes_terampil")] * 2
    for bidang, posts in (
        ("Bidang Pelayanan Medik", medical),
        ("Bidang Keperawatan", nursing),
        ("Bidang Penunjang Medik", support),
    ):
        for post in posts:
            s.hire(post, units[bidang], plan.kabid[bidang], SHIFT)


def _school_staff(s: _Staffing, unit: UnitRecord, kabid_dikdas: str) -> None:
    """Kabid Pendidikan Dasar ← kepala sekolah ← guru (and the SMP's administrator)."""
    is_sd = unit.code.startswith("SD-")
    profile = "guru_sd" if is_sd else "guru_smp"
    kepala = s.hire(
        Post(f"Kepala {unit.name}", FUNGSIONAL, 9, profile, "lower"), unit, kabid_dikdas, GURU
    )
    if is_sd:
        n = s.count(6, 9)
        subjects = ["Kelas"] * (n - 2) + ["Pendidikan Agama Islam", "Pendidikan Jasmani"]
    else:
        subjects = list(SMP_SUBJECTS[: s.count(10, 16)])
    for subject in subjects:
        subject_profile = "guru_agama" if "Agama" in subject else profile
        post = Post(
            f"Guru {subject}",
            FUNGSIONAL,
            8,
            subject_profile,
            "guru",
            pppk_share=PPPK_SHARE_TEACHERS,
            ladder="ahli",
        )
        s.hire(post, unit, kepala, GURU)
    if not is_sd:
        s.hire(Post("Pengadministrasi Perkantoran", PELAKSANA, 5, "office_sma"), unit, kepala, GURU)


def _dindik_extra_staff(s: _Staffing, plan: _OpdPlan) -> str:
    """School supervisors (pengawas) in Bidang Pendidikan Dasar. Returns the kabid's NIP."""
    kabid = plan.kabid["Bidang Pendidikan Dasar"]
    unit = dict(plan.bidang)["Bidang Pendidikan Dasar"]
    for _ in range(8):
        s.hire(
            Post("Pengawas Sekolah", FUNGSIONAL, 9, "pendidik", "senior", ladder="ahli"),
            unit,
            kabid,
        )
    return kabid


# --- Transfers (mutasi) --------------------------------------------------------------------


def _transfers_add(s: _Staffing, plans: list[_OpdPlan]) -> None:
    """Give ~20 office staff a past mutasi: a closed assignment in another OPD's head office
    up to the day the open one starts, so the demo has transfer history to show."""
    office_plans = [p for p in plans if p.opd.kind in (Opd.Kind.DINAS, Opd.Kind.BADAN)]
    office_codes = {p.opd.code for p in office_plans}
    latest = _add_months(_first_of_month(s.today), -1)
    candidates = [
        i
        for i, a in enumerate(s.assignments)
        if a.jabatan_kind == PELAKSANA
        and a.opd_code in office_codes
        and a.schedule_group in (KANTOR_5HK, KANTOR_6HK)
        and _is_pns(a.nip)
        and s.appointed[a.nip] < date(2023, 1, 1)
    ]
    for i in s.rng.sample(candidates, min(TRANSFER_COUNT, len(candidates))):
        current = s.assignments[i]
        first_day = _add_months(current.valid_from, 6)
        months = (latest.year - first_day.year) * 12 + latest.month - first_day.month
        if months < 0:
            continue
        start = _add_months(first_day, s.rng.randint(0, months))
        previous = s.rng.choice([p for p in office_plans if p.opd.code != current.opd_code])
        s.assignments.append(
            replace(
                current,
                valid_to=start,
                unit_code=previous.office.code,
                opd_code=previous.opd.code,
                supervisor_nip=previous.sekretaris,
                schedule_group=KANTOR_6HK if previous.opd.code in _SIX_DAY_OPDS else KANTOR_5HK,
                kelas_jabatan=max(5, current.kelas_jabatan - s.rng.randint(0, 1)),
            )
        )
        s.assignments[i] = replace(
            current, valid_from=start, note=f"Mutasi dari {previous.opd.name}"
        )


# --- Demo logins ---------------------------------------------------------------------------


def _first_open(s: _Staffing, matches: Callable[[AssignmentRecord], bool]) -> str:
    for a in s.assignments:
        if a.valid_to is None and matches(a):
            return a.nip
    raise LookupError("No demo employee fits this demo login")


def _is_pns(nip: str) -> bool:
    return nip[12:14] != "21"


def _accounts_pick(s: _Staffing, dindik: _OpdPlan, units: list[UnitRecord]) -> list[AccountRecord]:
    """One login per role; the atasan and the teacher work at an SD in the capital."""
    sd = next(u for u in units if u.code.startswith("SD-") and u.kecamatan_code == "17.06.02")
    principal = _first_open(s, lambda a: a.unit_code == sd.code and a.jabatan.startswith("Kepala"))
    teacher = _first_open(
        s, lambda a: a.unit_code == sd.code and a.jabatan.startswith("Guru") and _is_pns(a.nip)
    )
    bkpsdm = _first_open(
        s, lambda a: a.opd_code == "BKPSDM" and a.jabatan.startswith("Analis Sumber Daya")
    )
    auditor = _first_open(
        s, lambda a: a.opd_code == "INSPEKTORAT" and a.jabatan.startswith("Auditor")
    )
    operator = _first_open(
        s, lambda a: a.unit_code == dindik.office.code and a.jabatan_kind == PELAKSANA
    )
    dindik_code = dindik.opd.code
    return [
        AccountRecord("admin", Role.SUPERADMIN.value),
        AccountRecord("bkpsdm", Role.ADMIN_BKPSDM.value, nip=bkpsdm),
        AccountRecord("auditor", Role.AUDITOR.value, nip=auditor),
        AccountRecord("operator.dindik", Role.OPERATOR_OPD.value, operator, dindik_code),
        AccountRecord(dindik.kepala, Role.KEPALA_OPD.value, dindik.kepala, dindik_code),
        AccountRecord(principal, Role.ASN.value, nip=principal),
        AccountRecord(teacher, Role.ASN.value, nip=teacher),
    ]


# --- Generation ----------------------------------------------------------------------------


def _kecamatan_names() -> dict[str, str]:
    return {
        row["kode"]: row["nama"]
        for row in _csv_rows("mukomuko_wilayah_kemendagri.csv")
        if row["level"] == "kecamatan"
    }


def _plan_for(opd: OpdRecord, office: UnitRecord, units: list[UnitRecord]) -> _OpdPlan:
    own = {u.name: u for u in units if u.opd_code == opd.code and u.kind == Unit.Kind.BIDANG}
    return _OpdPlan(opd, office, [(n, own.get(n, office)) for n in _bidang_names(opd)])


def demo_regency_generate(seed: int = DEMO_SEED, *, today: date) -> DemoRegency:
    """Build the whole demo regency as plain records. Pure: no database, same seed → same data."""
    names = _kecamatan_names()
    opds, offices = _opds_and_head_offices(names)
    office_by_opd = {u.opd_code: u for u in offices}
    dindik = next(o for o in opds if o.name.startswith("Dinas Pendidikan"))
    dinkes = next(o for o in opds if o.name == "Dinas Kesehatan")
    units = list(offices)
    for opd in opds:
        units += _bidang_units(opd, office_by_opd[opd.code])
    schools = _school_units(office_by_opd[dindik.code])
    boundary = _geojson("mukomuko_kabupaten_boundary.geojson")
    kecamatan_boundaries = _geojson("mukomuko_kecamatan_boundaries.geojson")
    boundaries = sitecheck.load_boundaries(boundary, kecamatan_boundaries, "kode")
    puskesmas = _puskesmas_units(office_by_opd[dinkes.code], names, boundaries)
    units += schools + puskesmas

    s = _Staffing(seed, today)
    plans = [_plan_for(opd, office_by_opd[opd.code], units) for opd in opds]
    plan_by_code = {p.opd.code: p for p in plans}
    sekda = _setda_staff(s, plan_by_code["SETDA"])
    for plan in plans:
        if plan.opd.code == "SETDA":
            continue
        if plan.opd.kind == Opd.Kind.KECAMATAN:
            _kecamatan_staff(s, plan, sekda, names)
        elif plan.opd.kind == Opd.Kind.RSUD:
            _rsud_staff(s, plan, sekda, names)
        else:
            _office_opd_staff(s, plan, sekda, names)
    kabid_dikdas = _dindik_extra_staff(s, plan_by_code[dindik.code])
    for school in schools:
        _school_staff(s, school, kabid_dikdas)
    for unit in puskesmas:
        _puskesmas_staff(s, unit, plan_by_code[dinkes.code].kepala)
    _transfers_add(s, plans)
    accounts = _accounts_pick(s, plan_by_code[dindik.code], schools)

    return DemoRegency(
        code="17.06",
        name="Kabupaten Mukomuko",
        timezone="Asia/Jakarta",
        boundary=boundary,
        kecamatan_boundaries=kecamatan_boundaries,
        opds=tuple(opds),
        units=tuple(units),
        people=tuple(s.people),
        assignments=tuple(s.assignments),
        accounts=tuple(accounts),
    )


# --- Writing -------------------------------------------------------------------------------

BATCH = 500


def _units_write(units: tuple[UnitRecord, ...], opd_ids: dict[str, int]) -> dict[str, int]:
    """Insert units level by level: a unit's parent must exist before the unit points at it."""
    unit_ids: dict[str, int] = {}
    pending = list(units)
    while pending:
        ready = [u for u in pending if u.parent_code is None or u.parent_code in unit_ids]
        if not ready:
            raise ValueError(f"Units with unknown parents: {[u.code for u in pending][:5]}")
        Unit.objects.bulk_create(
            [
                Unit(
                    opd_id=opd_ids[u.opd_code],
                    parent_id=unit_ids[u.parent_code] if u.parent_code else None,
                    code=u.code,
                    name=u.name,
                    kind=u.kind,
                    npsn=u.npsn,
                    kecamatan_code=u.kecamatan_code,
                )
                for u in ready
            ],
            batch_size=BATCH,
        )
        unit_ids = dict(Unit.objects.values_list("code", "id"))
        pending = [u for u in pending if u.code not in unit_ids]
    return unit_ids


def _sites_write(units: tuple[UnitRecord, ...], unit_ids: dict[str, int]) -> None:
    WorkSite.objects.bulk_create(
        [
            WorkSite(
                unit_id=unit_ids[u.code],
                name=u.site.name,
                latitude=u.site.latitude,
                longitude=u.site.longitude,
                kecamatan_code=u.site.kecamatan_code,
                location_source=u.site.location_source,
                location_approximate=u.site.location_approximate,
                location_note=u.site.location_note,
            )
            for u in units
            if u.site is not None
        ],
        batch_size=BATCH,
    )
    site_ids = dict(WorkSite.objects.values_list("unit_id", "id"))
    through = Unit.alternative_sites.through
    through.objects.bulk_create(
        [
            through(unit_id=unit_ids[u.code], worksite_id=site_ids[unit_ids[other]])
            for u in units
            for other in u.alternative_site_units
        ],
        batch_size=BATCH,
    )


DEMO_BANKS = (
    ("Bank Bengkulu", 13),
    ("Bank Bengkulu", 13),
    ("Bank Bengkulu", 13),
    ("BRI", 15),
    ("BNI", 10),
    ("Bank Mandiri", 13),
)
"""(bank, digits) of the demo's invented accounts; mostly the regional bank, as in Kaur."""


def demo_bank_account(nip: str) -> tuple[str, str]:
    """An invented (bank, account number) derived from the NIP alone, so it does not disturb
    the seeded stream; about one employee in ten has none yet. The numbers are synthetic: they
    start with 9, and are not anyone's account."""
    digest = hashlib.sha256(f"tepat-demo-rekening:{nip}".encode()).digest()
    if digest[0] < 26:  # ~10%: no account registered yet
        return "", ""
    bank, digits = DEMO_BANKS[digest[1] % len(DEMO_BANKS)]
    number = str(int.from_bytes(digest[2:12], "big")).zfill(digits)[-(digits - 1) :]
    return bank, f"9{number}"


def _employee_of(p: PersonRecord) -> Employee:
    bank_name, bank_account = demo_bank_account(p.nip)
    return Employee(
        nip=p.nip,
        name=p.name,
        title_prefix=p.title_prefix,
        title_suffix=p.title_suffix,
        kind=p.kind,
        gender=p.gender,
        birth_date=p.birth_date,
        bank_name=bank_name,
        bank_account=bank_account,
    )


def _people_write(demo: DemoRegency, unit_ids: dict[str, int], opd_ids: dict[str, int]) -> None:
    Employee.objects.bulk_create([_employee_of(p) for p in demo.people], batch_size=BATCH)
    employee_ids = dict(Employee.objects.values_list("nip", "id"))
    group_ids = dict(ScheduleGroup.objects.values_list("code", "id"))
    Assignment.objects.bulk_create(
        [
            Assignment(
                employee_id=employee_ids[a.nip],
                valid_from=a.valid_from,
                valid_to=a.valid_to,
                unit_id=unit_ids[a.unit_code],
                opd_id=opd_ids[a.opd_code],
                supervisor_id=employee_ids[a.supervisor_nip] if a.supervisor_nip else None,
                jabatan=a.jabatan,
                jabatan_kind=a.jabatan_kind,
                kelas_jabatan=a.kelas_jabatan,
                golongan=a.golongan,
                schedule_group_id=group_ids[a.schedule_group],
                note=a.note,
            )
            for a in demo.assignments
        ],
        batch_size=BATCH,
    )


def _accounts_write(accounts: tuple[AccountRecord, ...], opd_ids: dict[str, int]) -> None:
    employees = Employee.objects.in_bulk([a.nip for a in accounts if a.nip], field_name="nip")
    for account in accounts:
        employee = employees[account.nip] if account.nip else None
        user = User(
            username=account.username,
            role=account.role,
            opd_id=opd_ids[account.opd_code] if account.opd_code else None,
            employee=employee,
            first_name=employee.name[:150] if employee else "",
            is_staff=account.role in (Role.ADMIN_BKPSDM, Role.AUDITOR, Role.SUPERADMIN),
            is_superuser=account.role == Role.SUPERADMIN,
        )
        user.set_password(DEMO_PASSWORD)
        user.save()


@transaction.atomic
def demo_regency_write(demo: DemoRegency) -> Regency:
    """Insert the generated regency into an empty database, in one transaction."""
    regency = Regency.objects.create(
        code=demo.code,
        name=demo.name,
        timezone=demo.timezone,
        boundary=demo.boundary,
        kecamatan_boundaries=demo.kecamatan_boundaries,
    )
    Opd.objects.bulk_create(
        [Opd(code=o.code, name=o.name, kind=o.kind, wilayah_code=o.wilayah_code) for o in demo.opds]
    )
    opd_ids = dict(Opd.objects.values_list("code", "id"))
    unit_ids = _units_write(demo.units, opd_ids)
    _sites_write(demo.units, unit_ids)
    ScheduleGroup.objects.bulk_create([ScheduleGroup(code=c, name=n) for c, n in SCHEDULE_GROUPS])
    _people_write(demo, unit_ids, opd_ids)
    _accounts_write(demo.accounts, opd_ids)
    audit_record(
        actor=None,
        action="demo.load",
        obj=regency,
        summary=f"Data demo {demo.name}: {len(demo.people)} pegawai, {len(demo.units)} unit",
    )
    return regency


def demo_schedules_write() -> None:
    """The example schedules and the Kaur-style bands, as the policy data BKPSDM would enter."""
    from tepat.presence.attendance import bands_version_save, schedule_version_save
    from tepat.rules import schedule as examples
    from tepat.rules.schedule_data import bands_to_data, schedule_to_data
    from tepat.rules.verdict import kaur_2022_bands

    by_group = {
        "kantor-5hk": [examples.office_five_day_week()],
        "kantor-6hk": [examples.office_six_day_week()],
        "guru": list(examples.teacher_schedules()),
        "shift": [examples.rsud_shift_roster()],
    }
    for code, versions in by_group.items():
        group = ScheduleGroup.objects.get(code=code)
        for version in versions:
            schedule_version_save(actor=None, group=group, definition=schedule_to_data(version))
    bands_version_save(actor=None, definition=bands_to_data(kaur_2022_bands()))


def demo_regency_load(seed: int = DEMO_SEED, *, today: date) -> DemoSummary:
    """Generate and insert the demo regency, then check every site against the boundaries."""
    started = time.perf_counter()
    demo = demo_regency_generate(seed, today=today)
    demo_regency_write(demo)
    demo_schedules_write()
    from tepat.presence.demo import demo_absence_requests_write

    demo_absence_requests_write(today=today)
    quality = worksites_quality_refresh()
    return DemoSummary(
        opd_by_kind=dict(sorted(Counter(o.kind for o in demo.opds).items())),
        units_by_kind=dict(sorted(Counter(u.kind for u in demo.units).items())),
        employees_by_kind=dict(sorted(Counter(p.kind for p in demo.people).items())),
        employees_by_schedule_group=dict(
            sorted(
                Counter(a.schedule_group for a in demo.assignments if a.valid_to is None).items()
            )
        ),
        sites=sum(1 for u in demo.units if u.site is not None),
        sites_approximate=sum(1 for u in demo.units if u.site and u.site.location_approximate),
        site_quality=dict(sorted(quality.items())),
        transfers=sum(1 for a in demo.assignments if a.valid_to is not None),
        accounts=tuple(demo_accounts_describe(today=today)),
        seconds=round(time.perf_counter() - started, 1),
    )


# --- Reading back and resetting ------------------------------------------------------------

FIXED_USERNAMES = ("admin", "bkpsdm", "auditor", "operator.dindik")


def _account_who(user: User, today: date) -> str:
    employee = user.employee
    if employee is None:
        return user.opd.name if user.opd else "akun sistem, tanpa data pegawai"
    current = employee.assignments.filter(valid_to__isnull=True).select_related("unit").first()
    where = f"{current.jabatan}, {current.unit.name}" if current else ""
    atasan = "atasan langsung · " if is_atasan(user, today) else ""
    return f"{atasan}{employee.full_name} — {where}"


def demo_accounts_describe(*, today: date, limit: int = 20) -> list[DemoAccount]:
    """The logins to show on the demo start screen: who each is and what they may do."""
    users = User.objects.select_related("employee", "opd").order_by("id")[:limit]
    return [
        DemoAccount(
            username=u.username,
            password=DEMO_PASSWORD,
            role=str(Role(u.role).label),
            who=_account_who(u, today),
        )
        for u in users
    ]


class DemoResetRefused(RuntimeError):
    pass


def _presence_clear() -> None:
    """Empty the e-Presensi tables. The ledger refuses DELETE on PostgreSQL (append-only), so
    a demo reset there truncates it, which only the table's owner may do."""
    from django_tasks_db.models import DBTaskResult

    from tepat.presence import models as presence

    DBTaskResult.objects.all().delete()  # the rebuilds the sample approvals queued
    presence.AttendanceDay.objects.all().delete()
    presence.AbsenceDecision.objects.all().delete()
    presence.AbsenceRequest.objects.all().delete()
    presence.ScheduleException.objects.all().delete()
    presence.CheckinReview.objects.all().delete()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # The deletes above left deferred foreign-key checks pending, and PostgreSQL
            # refuses to TRUNCATE a table with pending trigger events: run them now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("TRUNCATE presence_checkinevent CASCADE")
    else:
        presence.CheckinEvent.objects.all().delete()
    presence.AppToken.objects.all().delete()
    presence.PhoneDevice.objects.all().delete()
    presence.ScheduleVersion.objects.all().delete()
    presence.BandsVersion.objects.all().delete()


@transaction.atomic
def demo_regency_reset() -> None:
    """Delete the demo regency with its logins and audit trail, children before parents.

    Only for demo and test databases. Tables added by later apps that point at employees,
    units or sites must be emptied here first, or the PROTECT foreign keys stop the reset.
    """
    if getattr(settings, "PRODUCTION", False):
        raise DemoResetRefused("Reset data demo tidak diizinkan saat TEPAT_ENV=production.")
    _presence_clear()
    if connection.vendor == "postgresql":  # the audit trail refuses DELETE there
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("TRUNCATE audit_auditentry")
    else:
        AuditEntry.objects.all().delete()
    RefusedAttemptMinute.objects.all().delete()  # the minutes of the rows just deleted
    WorkSiteLocationChange.objects.all().delete()
    User.objects.filter(
        Q(employee__isnull=False) | Q(opd__isnull=False) | Q(username__in=FIXED_USERNAMES)
    ).delete()
    Assignment.objects.all().delete()
    Unit.alternative_sites.through.objects.all().delete()
    WorkSite.objects.all().delete()
    while Unit.objects.exists():
        Unit.objects.filter(children__isnull=True).delete()
    Employee.objects.all().delete()
    ScheduleGroup.objects.all().delete()
    Opd.objects.all().delete()
    Regency.objects.all().delete()
