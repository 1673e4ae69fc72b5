"""Bulk import of OPD, units, work sites and employees from CSV or XLSX files.

Three steps, each a small function:

1. *read*: bytes to a ``Table`` of raw cells, numbered as the user sees the rows in a
   spreadsheet (the header is row 1). Problems with the file as a whole raise
   ``ImportFileError``.
2. *plan*: check every row against the file itself and the database (prefetched into dicts,
   so a 3,400-row file costs a handful of queries) and turn each good row into a planned
   change: create, update or unchanged. Every bad row is reported, not only the first.
3. *apply*: only when no row is bad and this is not a dry run, write the plan in one
   transaction, through the org services where they exist, with an audit row per change.

Column names follow SIASN exports (``nip``, ``kode_unit``, ``tmt`` ...); they are matched
without regard to case, spaces or hyphens. Messages for the user are Indonesian literals:
they are data-entry feedback read by BKPSDM staff, see docs/import.md.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol, TypeVar, cast

import openpyxl
import shapely
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from shapely.geometry import shape as geojson_shape

from tepat.audit.services import audit_record
from tepat.org.models import (
    BANK_ACCOUNT_MAX_DIGITS,
    BANK_ACCOUNT_MIN_DIGITS,
    PNS_GOLONGAN,
    PPPK_GOLONGAN,
    TIME_ZONES,
    Assignment,
    Employee,
    Opd,
    Regency,
    ScheduleGroup,
    Unit,
    WorkSite,
    WorkSiteLocationChange,
    bank_account_masked,
)
from tepat.org.services import (
    Position,
    employee_create,
    employee_transfer,
    regency_boundaries,
    worksite_quality_apply,
)
from tepat.rules.formatting import format_number
from tepat.rules.nip import EmployeeKind, NipError, parse_nip

KINDS = ("opd", "unit", "site", "employee")
MAX_ROWS = 100_000
"""Rows read from a sheet, blank ones included; a bigger sheet is refused, not truncated."""
MAX_XLSX_UNPACKED_BYTES = 300 * 1024 * 1024
"""Guard against zip bombs: an honest 100,000-row sheet unpacks to far less."""

Cell = str | int | float | bool | date | datetime | None
_T = TypeVar("_T")


# --- Results ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """One problem, on one row (``row`` as numbered in the spreadsheet) or the whole file."""

    row: int | None
    column: str
    message: str

    def __str__(self) -> str:
        return f"Baris {self.row}: {self.message}" if self.row else self.message


@dataclass
class ImportCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class ImportResult:
    """What an import did (or, for a dry run or a file with errors, would do).

    ``counts`` is keyed by kind; it describes the plan, so it is filled for a dry run too.
    Nothing was written unless ``written`` is true.
    """

    kind: str
    filename: str
    dry_run: bool
    rows: int = 0
    counts: dict[str, ImportCounts] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    written: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


class ImportFileError(ValueError):
    """The file as a whole cannot be read. ``message`` is Indonesian, for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Progress(Protocol):
    """Wraps the rows being checked or written, e.g. in a tqdm bar."""

    def __call__(self, items: Sequence[_T], desc: str) -> Iterable[_T]: ...


def _no_progress(items: Sequence[_T], desc: str) -> Iterable[_T]:
    return items


# --- Reading files ------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    number: int
    cells: dict[str, Cell]


@dataclass(frozen=True)
class Table:
    columns: list[str]
    """Normalised column names, in file order."""
    rows: list[Row]


def column_key(raw: object) -> str:
    """ "Kode Unit", " KODE-UNIT " and "kode_unit" all name the column ``kode_unit``."""
    text = str(raw if raw is not None else "").replace("\ufeff", "").strip().lower()
    return re.sub(r"[\s\-.]+", "_", text)


def table_read(data: bytes, *, filename: str) -> Table:
    """Read a CSV or XLSX file into a table, checking that its content matches its name."""
    if not data.strip():
        raise ImportFileError("Berkas kosong.")
    name = filename.lower()
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(
            "Berkas ini berformat Excel lama (.xls) atau dilindungi kata sandi. Buka di Excel, "
            "hapus kata sandinya, lalu simpan sebagai .xlsx atau CSV UTF-8."
        )
    if name.endswith(".xlsx"):
        return _xlsx_read(data)
    if name.endswith(".csv"):
        if data.startswith(b"PK\x03\x04"):
            raise ImportFileError(
                "Berkas bernama .csv ini sebenarnya berkas Excel (.xlsx). Ganti ekstensinya "
                "menjadi .xlsx, atau di Excel pilih Simpan Sebagai > CSV UTF-8."
            )
        return _csv_read(data)
    raise ImportFileError("Jenis berkas tidak didukung: gunakan .csv atau .xlsx.")


def _csv_read(data: bytes) -> Table:
    if b"\x00" in data:
        raise ImportFileError("Berkas bukan CSV teks (berisi data biner).")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportFileError(
            f"Berkas CSV bukan UTF-8 (huruf tak terbaca di baris {line}). Di Excel pilih "
            "Simpan Sebagai > CSV UTF-8 (dipisah koma)."
        ) from None
    if re.search(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]", text):
        raise ImportFileError("Berkas bukan CSV teks (berisi karakter kendali).")
    delimiter = _csv_delimiter(text)
    records: list[list[Cell]] = []
    try:
        for record in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            records.append(list(record))
            if len(records) > MAX_ROWS:
                raise ImportFileError(_too_many_rows_message())
    except csv.Error:
        raise ImportFileError(
            f"Berkas CSV tidak dapat dibaca mulai baris {len(records) + 1}; periksa tanda kutip "
            '(") dan panjang isi sel pada baris itu.'
        ) from None
    return _table_from_records(records)


def _csv_delimiter(text: str) -> str:
    """Indonesian Excel writes ``;`` (the comma is the decimal mark); others write ``,``."""
    header = text.lstrip("\r\n").split("\n", 1)[0]
    counts = {d: header.count(d) for d in (";", ",", "\t")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


_XLSX_SHEET_TYPE = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"


def _xlsx_read(data: bytes) -> Table:
    if not data.startswith(b"PK\x03\x04"):
        raise ImportFileError("Berkas bukan XLSX yang sah (bukan arsip Excel).")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_XLSX_UNPACKED_BYTES:
                raise ImportFileError("Berkas XLSX terlalu besar setelah dibuka.")
            content_types = archive.read("[Content_Types].xml")
    except (zipfile.BadZipFile, KeyError, OSError, EOFError):
        raise ImportFileError("Berkas XLSX rusak atau bukan berkas Excel.") from None
    if _XLSX_SHEET_TYPE not in content_types:
        raise ImportFileError(
            "Berkas ini bukan lembar kerja Excel .xlsx (mungkin dokumen lain atau .xlsm)."
        )
    records: list[list[Cell]] = []
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheet = book.worksheets[0]
            for values in sheet.iter_rows(values_only=True):
                records.append(list(values))
                if len(records) > MAX_ROWS:
                    raise ImportFileError(_too_many_rows_message())
        finally:
            book.close()
    except ImportFileError:
        raise
    except Exception:
        # openpyxl raises many kinds of error on a malformed file. Not a security check:
        # whatever it trips over, the user gets the same answer and nothing is written.
        raise ImportFileError(
            "Berkas XLSX rusak dan tidak dapat dibaca. Buka di Excel lalu simpan ulang."
        ) from None
    return _table_from_records(records)


def _too_many_rows_message() -> str:
    return (
        f"Berkas memuat lebih dari {format_number(MAX_ROWS)} baris (termasuk baris kosong "
        "berformat). Hapus baris kosong di bagian bawah atau bagi berkasnya."
    )


def _table_from_records(records: list[list[Cell]]) -> Table:
    """The first non-blank record is the header; blank records keep their row number."""
    header_index = next((i for i, r in enumerate(records) if not _blank(r)), None)
    if header_index is None:
        raise ImportFileError("Berkas kosong.")
    raw_header = records[header_index]
    while raw_header and _blank([raw_header[-1]]):
        raw_header = raw_header[:-1]
    columns = [column_key(c) for c in raw_header]
    if "" in columns:
        position = columns.index("") + 1
        raise ImportFileError(f"Judul kolom ke-{position} pada baris {header_index + 1} kosong.")
    duplicates = sorted({c for c in columns if columns.count(c) > 1})
    if duplicates:
        raise ImportFileError(f"Judul kolom ganda: {', '.join(duplicates)}.")
    rows = []
    for index in range(header_index + 1, len(records)):
        record = records[index]
        if _blank(record):
            continue
        cells = {c: (record[i] if i < len(record) else None) for i, c in enumerate(columns)}
        rows.append(Row(number=index + 1, cells=cells))
    if not rows:
        raise ImportFileError("Berkas tidak berisi baris data di bawah judul kolom.")
    return Table(columns=columns, rows=rows)


def _blank(record: Sequence[Cell]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in record)


# --- Column specifications -----------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    required: tuple[str, ...]
    optional: tuple[str, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


SPECS: dict[str, Spec] = {
    "opd": Spec(("kode_opd", "nama_opd", "jenis_opd"), ("kode_wilayah",)),
    "unit": Spec(
        ("kode_unit", "nama_unit", "jenis_unit", "kode_opd"),
        ("kode_unit_induk", "npsn", "kode_kecamatan"),
    ),
    "site": Spec(
        ("kode_unit", "nama_lokasi", "lintang", "bujur"),
        ("radius_m", "zona_waktu", "kode_kecamatan", "poligon_geojson"),
    ),
    "employee": Spec(
        (
            "nip", "nama", "jenis_pegawai", "golongan", "jabatan", "jenis_jabatan",
            "kelas_jabatan", "kode_unit", "tmt",
        ),
        (
            "gelar_depan", "gelar_belakang", "nip_atasan", "kelompok_jadwal", "aktif",
            "nama_bank", "nomor_rekening",
        ),
    ),
}  # fmt: skip


def header_check(table: Table, spec: Spec, result: ImportResult) -> None:
    missing = [c for c in spec.required if c not in table.columns]
    if missing:
        result.errors.append(
            RowError(
                None,
                "",
                f"Kolom wajib tidak ada: {', '.join(missing)}. "
                f"Kolom yang dibutuhkan: {', '.join(spec.required)}.",
            )
        )
    unknown = [c for c in table.columns if c not in spec.columns]
    if unknown:
        result.warnings.append(f"Kolom tidak dikenal, diabaikan: {', '.join(unknown)}.")


# --- Reading cells -------------------------------------------------------------------------

_SCIENTIFIC = re.compile(r"[0-9]+([.,][0-9]+)?[eE][+-]?[0-9]+")
_DATE_DMY = re.compile(r"([0-9]{1,2})[-/.]([0-9]{1,2})[-/.]([0-9]{4})")
_DATE_YMD = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:[ T]00:00(?::00)?)?")
_YES = {"ya", "y", "1", "true", "aktif", "benar", "x"}
_NO = {"tidak", "t", "0", "false", "nonaktif", "tidak aktif", "salah", "n"}
TIME_ZONE_BY_LABEL = {"WIB": "Asia/Jakarta", "WITA": "Asia/Makassar", "WIT": "Asia/Jayapura"}
_TIME_ZONE_NAMES = {tz for tz, _ in TIME_ZONES}


def _is_number(cell: Cell) -> bool:
    return isinstance(cell, int | float) and not isinstance(cell, bool)


def _number_shown(value: int | float) -> str:
    return f"{value:.6g}".replace(".", ",")


def _cell_text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "ya" if cell else "tidak"
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, datetime):
        return cell.date().isoformat()
    if isinstance(cell, date):
        return cell.isoformat()
    return " ".join(str(cell).split())


class RowReader:
    """Reads typed values out of one row, recording an error for each bad cell."""

    def __init__(self, row: Row, errors: list[RowError]) -> None:
        self.row = row
        self._errors = errors
        self.failed = False

    def has(self, column: str) -> bool:
        return column in self.row.cells

    def filled(self, column: str) -> bool:
        return bool(_cell_text(self.row.cells.get(column)))

    def error(self, column: str, message: str) -> None:
        self.failed = True
        self._errors.append(RowError(self.row.number, column, message))

    def text(self, column: str, *, required: bool = False, max_length: int = 200) -> str:
        value = _cell_text(self.row.cells.get(column))
        if required and not value:
            self.error(column, f"{column} wajib diisi")
        elif len(value) > max_length:
            self.error(
                column, f"{column} terlalu panjang ({len(value)} huruf; paling banyak {max_length})"
            )
        return value

    def code(self, column: str, *, required: bool = False, max_length: int = 32) -> str:
        """A code such as kode_unit or kode_wilayah: a decimal number here lost its form."""
        cell = self.row.cells.get(column)
        if isinstance(cell, float) and not cell.is_integer():
            self.error(
                column,
                f"{column} tertulis sebagai angka ({_number_shown(cell)}); format kolom {column} "
                "sebagai Teks di Excel lalu ketik ulang isinya",
            )
            return ""
        return self.text(column, required=required, max_length=max_length)

    def nip(self, column: str, *, required: bool = False) -> str:
        """A NIP kept as Excel text. A number has lost digits (Excel keeps 15): never guess."""
        cell = self.row.cells.get(column)
        shown = _number_shown(cell) if _is_number(cell) else _cell_text(cell)  # type: ignore[arg-type]
        if _is_number(cell) or _SCIENTIFIC.fullmatch(shown):
            self.error(
                column,
                f"{column} tertulis sebagai angka ({shown}) sehingga digitnya hilang (Excel hanya "
                f"menyimpan 15 digit). Format kolom {column} sebagai Teks, ketik ulang NIP-nya, "
                "lalu impor lagi",
            )
            return ""
        value = "".join(shown.split()).replace("'", "")
        if required and not value:
            self.error(column, f"{column} wajib diisi")
        return value

    def bank_account(self, column: str) -> str:
        """An account number kept as Excel text; spaces, dots and dashes between digit groups
        are dropped. A number cell may have lost leading zeros or digits: never guess."""
        cell = self.row.cells.get(column)
        if _is_number(cell):
            self.error(
                column,
                f"{column} tertulis sebagai angka sehingga nol di depan atau digitnya bisa hilang. "
                f"Format kolom {column} sebagai Teks, ketik ulang nomornya, lalu impor lagi",
            )
            return ""
        value = re.sub(r"[\s.\-']", "", _cell_text(cell))
        if value and not re.fullmatch(r"[0-9]+", value):
            self.error(column, f"{column} hanya boleh berisi angka")
            return ""
        low, high = BANK_ACCOUNT_MIN_DIGITS, BANK_ACCOUNT_MAX_DIGITS
        if value and not low <= len(value) <= high:
            self.error(
                column,
                f"{column} terdiri atas {len(value)} digit; nomor rekening {low} sampai "
                f"{high} digit",
            )
            return ""
        return value

    def integer(self, column: str, *, low: int, high: int, required: bool = False) -> int | None:
        cell = self.row.cells.get(column)
        text = _cell_text(cell)
        if not text:
            if required:
                self.error(column, f"{column} wajib diisi")
            return None
        if not re.fullmatch(r"[0-9]+", text):
            self.error(column, f"{column} {text} bukan bilangan bulat")
            return None
        value = int(text)
        if not low <= value <= high:
            self.error(column, f"{column} {value} di luar rentang {low} sampai {high}")
            return None
        return value

    def coordinate(self, column: str, *, limit: int) -> Decimal | None:
        cell = self.row.cells.get(column)
        if cell is None or (isinstance(cell, str) and not cell.strip()):
            return None
        if _is_number(cell):
            text = repr(float(cell))  # type: ignore[arg-type]
        else:
            text = _cell_text(cell)
            if "," in text and "." not in text:
                text = text.replace(",", ".")  # "-2,5352" from a semicolon CSV
        try:
            value = Decimal(text)
        except InvalidOperation:
            self.error(column, f"{column} {_cell_text(cell)} bukan angka")
            return None
        if not value.is_finite() or not -limit <= value <= limit:
            self.error(
                column, f"{column} {_cell_text(cell)} di luar rentang -{limit} sampai {limit}"
            )
            return None
        return value.quantize(Decimal("0.000001"))

    def day(self, column: str, *, required: bool = False) -> date | None:
        cell = self.row.cells.get(column)
        if isinstance(cell, datetime):
            return cell.date()
        if isinstance(cell, date):
            return cell
        text = _cell_text(cell)
        if not text:
            if required:
                self.error(column, f"{column} wajib diisi")
            return None
        parsed = _date_parse(text)
        if parsed is None:
            self.error(
                column, f"{column} {text} bukan tanggal yang sah (dd-mm-yyyy atau yyyy-mm-dd)"
            )
        return parsed

    def choice(self, column: str, choices: Iterable[str], *, required: bool = True) -> str:
        by_key = {c.lower(): c for c in choices}
        text = _cell_text(self.row.cells.get(column))
        if not text:
            if required:
                self.error(column, f"{column} wajib diisi ({', '.join(by_key.values())})")
            return ""
        value = by_key.get(text.lower())
        if value is None:
            self.error(
                column, f"{column} {text} tidak dikenal (pilihan: {', '.join(by_key.values())})"
            )
            return ""
        return value

    def flag(self, column: str) -> bool:
        """A yes/no cell; blank counts as yes."""
        cell = self.row.cells.get(column)
        if isinstance(cell, bool):
            return cell
        text = _cell_text(cell).lower()
        if not text or text in _YES:
            return True
        if text in _NO:
            return False
        self.error(column, f"{column} {text} tidak dikenal (isi ya atau tidak)")
        return True


def _date_parse(text: str) -> date | None:
    if match := _DATE_DMY.fullmatch(text):
        day, month, year = (int(g) for g in match.groups())
    elif match := _DATE_YMD.fullmatch(text):
        year, month, day = (int(g) for g in match.groups())
    else:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _duplicate_check(
    reader: RowReader, seen: dict[Any, int], key: Any, column: str, shown: str
) -> None:
    if key in seen:
        reader.error(column, f"{column} {shown} ganda: sudah ada di baris {seen[key]}")
    else:
        seen[key] = reader.row.number


# --- Plans ---------------------------------------------------------------------------------


@dataclass
class Change:
    """One good row turned into what the import will do with it.

    ``values`` are the new field values, with references (OPD, parent unit) as codes so that
    they can point at rows created earlier in the same import. ``before`` holds the current
    values of the fields that change.
    """

    row: int
    existing: Any
    values: dict[str, Any]
    before: dict[str, Any] = field(default_factory=dict)

    @property
    def action(self) -> str:
        if self.existing is None:
            return "create"
        return "update" if self.before else "unchanged"


def _diff(current: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    return {f: current[f] for f, v in new.items() if current[f] != v}


def _counts(changes: Iterable[Any]) -> ImportCounts:
    counts = ImportCounts()
    for change in changes:
        action = change.action
        if action == "create":
            counts.created += 1
        elif action == "update":
            counts.updated += 1
        else:
            counts.unchanged += 1
    return counts


@dataclass(frozen=True)
class ImportContext:
    actor: Any
    filename: str
    today: date
    progress: Progress

    @property
    def reason(self) -> str:
        return f"Impor {self.filename}"


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: str(v) if isinstance(v, Decimal | date) else v for k, v in values.items()}


# --- OPD -----------------------------------------------------------------------------------


def opd_plan(table: Table, ctx: ImportContext, errors: list[RowError]) -> list[Change]:
    existing = {o.code: o for o in Opd.objects.all()}
    seen: dict[Any, int] = {}
    changes = []
    for row in ctx.progress(table.rows, "Memeriksa"):
        r = RowReader(row, errors)
        code = r.code("kode_opd", required=True)
        values: dict[str, Any] = {
            "code": code,
            "name": r.text("nama_opd", required=True),
            "kind": r.choice("jenis_opd", Opd.Kind.values),
        }
        if r.has("kode_wilayah"):
            values["wilayah_code"] = r.code("kode_wilayah", max_length=16)
        if code:
            _duplicate_check(r, seen, code, "kode_opd", code)
        if r.failed:
            continue
        opd = existing.get(code)
        before = _diff({f: getattr(opd, f) for f in values}, values) if opd else {}
        changes.append(Change(row.number, opd, values, before))
    return changes


def opd_apply(changes: list[Change], ctx: ImportContext) -> None:
    for change in ctx.progress(changes, "Menyimpan"):
        if change.action == "create":
            opd = Opd.objects.create(**change.values)
            audit_record(
                actor=ctx.actor, action="opd.create", obj=opd, summary=f"{opd.code} {opd.name}",
                after=change.values, reason=ctx.reason,
            )  # fmt: skip
        elif change.action == "update":
            _fields_save(change.existing, change.values, change.before, "opd.update", ctx)


def _fields_save(
    obj: Any, values: dict[str, Any], before: dict[str, Any], action: str, ctx: ImportContext
) -> None:
    for name in before:
        setattr(obj, name, values[name])
    obj.save(update_fields=list(before))
    audit_record(
        actor=ctx.actor,
        action=action,
        obj=obj,
        summary=f"{getattr(obj, 'code', '')} {obj}".strip(),
        before=_jsonable(before),
        after=_jsonable({name: values[name] for name in before}),
        reason=ctx.reason,
    )


# --- Units ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _UnitState:
    unit: Unit
    values: dict[str, Any]


def _unit_states() -> dict[str, _UnitState]:
    states = {}
    for u in Unit.objects.select_related("opd", "parent"):
        values = {
            "code": u.code,
            "name": u.name,
            "kind": u.kind,
            "opd": u.opd.code,
            "parent": u.parent.code if u.parent else None,
            "npsn": u.npsn,
            "kecamatan_code": u.kecamatan_code,
        }
        states[u.code] = _UnitState(u, values)
    return states


def unit_plan(table: Table, ctx: ImportContext, errors: list[RowError]) -> list[Change]:
    states = _unit_states()
    by_npsn = {s.values["npsn"]: s for s in states.values() if s.values["npsn"]}
    opd_codes = set(Opd.objects.values_list("code", flat=True))
    staffed = set(
        Assignment.objects.filter(valid_to__isnull=True).values_list("unit_id", flat=True)
    )
    seen_codes: dict[Any, int] = {}
    seen_npsn: dict[Any, int] = {}
    seen_target: dict[int, int] = {}
    checked: list[tuple[Change, RowReader]] = []
    for row in ctx.progress(table.rows, "Memeriksa"):
        r = RowReader(row, errors)
        code = r.code("kode_unit", required=True)
        values: dict[str, Any] = {
            "code": code,
            "name": r.text("nama_unit", required=True),
            "kind": r.choice("jenis_unit", Unit.Kind.values),
            "opd": r.code("kode_opd", required=True),
        }
        if r.has("kode_unit_induk"):
            values["parent"] = r.code("kode_unit_induk") or None
        if r.has("npsn"):
            values["npsn"] = r.code("npsn") or None
        if r.has("kode_kecamatan"):
            values["kecamatan_code"] = r.code("kode_kecamatan", max_length=16)
        npsn = values.get("npsn")
        if npsn and not re.fullmatch(r"[0-9]{8}", npsn):
            r.error("npsn", f"NPSN {npsn} tidak valid: harus 8 digit angka")
        if values["opd"] and values["opd"] not in opd_codes:
            r.error("kode_opd", f"kode_opd {values['opd']} tidak dikenal")
        if code:
            _duplicate_check(r, seen_codes, code, "kode_unit", code)
        if npsn:
            _duplicate_check(r, seen_npsn, npsn, "npsn", npsn)
        if values.get("parent") and values["parent"] == code:
            r.error("kode_unit_induk", "kode_unit_induk sama dengan kode_unit")
        state = states.get(code) or (by_npsn.get(npsn) if npsn else None)
        if state is not None:
            _unit_identity_check(r, state, npsn, by_npsn)
            _duplicate_check(r, seen_target, state.unit.pk, "kode_unit", code)
            if values["opd"] != state.values["opd"] and state.unit.pk in staffed:
                r.error(
                    "kode_opd",
                    f"Unit {state.values['code']} masih berisi pegawai aktif; memindahkannya ke "
                    f"OPD {values['opd']} harus lewat mutasi pegawai, bukan impor",
                )
        if r.failed:
            continue
        before = _diff(state.values, values) if state else {}
        checked.append((Change(row.number, state.unit if state else None, values, before), r))
    _unit_parents_check(checked, states, set(seen_codes))
    return _unit_order([change for change, r in checked if not r.failed])


def _unit_identity_check(
    r: RowReader, state: _UnitState, npsn: str | None, by_npsn: dict[str, _UnitState]
) -> None:
    """A unit is found by its code, or by its NPSN (a school re-coded by the regency)."""
    owner = by_npsn.get(npsn) if npsn else None
    if owner is not None and owner.unit.pk != state.unit.pk:
        r.error("npsn", f"NPSN {npsn} sudah dipakai unit {owner.values['code']}")


def _unit_parents_check(
    checked: list[tuple[Change, RowReader]], states: dict[str, _UnitState], file_codes: set[str]
) -> None:
    """Parents must exist (in the database or this file), sit in the same OPD, and not loop.

    A parent whose own row is bad is left alone here: that row already carries the error.
    """
    in_file = {change.existing.pk for change, _ in checked if change.existing is not None}
    kept = {code: s.values for code, s in states.items() if s.unit.pk not in in_file}
    parent_of: dict[str, str | None] = {code: v["parent"] for code, v in kept.items()}
    opd_of = {code: v["opd"] for code, v in kept.items()}
    for change, _ in checked:
        current = _unit_current_values(change)
        code = change.values["code"]
        parent_of[code] = change.values.get("parent", current.get("parent"))
        opd_of[code] = change.values["opd"]
    for change, r in checked:
        code = change.values["code"]
        parent = parent_of[code]
        if parent is None:
            continue
        if parent not in opd_of:
            if parent not in file_codes:
                r.error("kode_unit_induk", f"kode_unit_induk {parent} tidak dikenal")
        elif opd_of[parent] != opd_of[code]:
            r.error("kode_unit_induk", f"Unit induk {parent} berada di OPD lain ({opd_of[parent]})")
        elif loop := _loop_from(code, parent_of):
            r.error("kode_unit_induk", f"kode_unit_induk membentuk lingkaran: {' → '.join(loop)}")


def _unit_current_values(change: Change) -> dict[str, Any]:
    unit = change.existing
    if unit is None:
        return {}
    return {"parent": unit.parent.code if unit.parent else None}


def _loop_from(start: str, parent_of: dict[str, str | None]) -> list[str]:
    """The chain start → ... → start if following parents comes back to ``start``."""
    chain = [start]
    current = parent_of.get(start)
    while current is not None and len(chain) <= len(parent_of):
        chain.append(current)
        if current == start:
            return chain
        current = parent_of.get(current)
    return []


def _unit_order(changes: list[Change]) -> list[Change]:
    """Parents defined in the file are written before their children."""
    by_code = {c.values["code"]: c for c in changes}
    ordered: list[Change] = []
    placed: set[str] = set()

    def place(change: Change) -> None:
        code = change.values["code"]
        if code in placed:
            return
        placed.add(code)
        parent = by_code.get(change.values.get("parent") or "")
        if parent is not None:
            place(parent)
        ordered.append(change)

    for change in changes:
        place(change)
    return ordered


def unit_apply(changes: list[Change], ctx: ImportContext) -> None:
    opds = {o.code: o for o in Opd.objects.all()}
    units = {u.code: u for u in Unit.objects.all()}
    for change in ctx.progress(changes, "Menyimpan"):
        if change.action == "unchanged":
            continue
        fields = {k: v for k, v in change.values.items() if k not in ("opd", "parent")}
        fields["opd"] = opds[change.values["opd"]]
        if "parent" in change.values:
            code = change.values["parent"]
            fields["parent"] = units[code] if code else None
        if change.action == "create":
            unit = Unit.objects.create(**fields)
            audit_record(
                actor=ctx.actor, action="unit.create", obj=unit, summary=f"{unit.code} {unit.name}",
                after=change.values, reason=ctx.reason,
            )  # fmt: skip
        else:
            unit = change.existing
            for name in change.before:
                setattr(unit, name, fields[name])
            unit.save(update_fields=list(change.before))
            audit_record(
                actor=ctx.actor, action="unit.update", obj=unit, summary=f"{unit.code} {unit.name}",
                before=change.before, after={k: change.values[k] for k in change.before},
                reason=ctx.reason,
            )  # fmt: skip
        units[unit.code] = unit


# --- Work sites ----------------------------------------------------------------------------


def site_plan(table: Table, ctx: ImportContext, errors: list[RowError]) -> list[Change]:
    units = {u.code: u for u in Unit.objects.all()}
    sites = {(s.unit.code, s.name): s for s in WorkSite.objects.select_related("unit")}
    regency = Regency.objects.first()
    default_zone = regency.timezone if regency else "Asia/Jakarta"
    seen: dict[Any, int] = {}
    changes = []
    for row in ctx.progress(table.rows, "Memeriksa"):
        r = RowReader(row, errors)
        unit_code = r.code("kode_unit", required=True)
        name = r.text("nama_lokasi", required=True)
        values: dict[str, Any] = {
            "latitude": r.coordinate("lintang", limit=90),
            "longitude": r.coordinate("bujur", limit=180),
        }
        if r.has("radius_m"):
            values["radius_m"] = r.integer("radius_m", low=10, high=5000)
        if r.has("zona_waktu"):
            values["timezone"] = _time_zone_read(r, default_zone)
        if r.has("kode_kecamatan"):
            values["kecamatan_code"] = r.code("kode_kecamatan", max_length=16)
        if r.has("poligon_geojson"):
            values["polygon"] = _polygon_read(r)
            values["shape"] = WorkSite.Shape.POLYGON if values["polygon"] else WorkSite.Shape.CIRCLE
        if r.filled("lintang") != r.filled("bujur"):
            r.error("lintang", "lintang dan bujur harus diisi keduanya, atau dikosongkan keduanya")
        if unit_code and unit_code not in units:
            r.error("kode_unit", f"kode_unit {unit_code} tidak dikenal")
        if unit_code and name:
            _duplicate_check(r, seen, (unit_code, name), "nama_lokasi", f"{unit_code}/{name}")
        if r.failed:
            continue
        site = sites.get((unit_code, name))
        if site is None:
            values.setdefault("timezone", default_zone)
            values["unit"], values["name"] = unit_code, name
            changes.append(Change(row.number, None, values))
        else:
            current = {f: getattr(site, f) for f in values}
            changes.append(Change(row.number, site, values, _diff(current, values)))
    return changes


def _time_zone_read(r: RowReader, default: str) -> str:
    text = r.text("zona_waktu")
    if not text:
        return default
    zone = TIME_ZONE_BY_LABEL.get(text.upper()) or (text if text in _TIME_ZONE_NAMES else None)
    if zone is None:
        r.error("zona_waktu", f"zona_waktu {text} tidak dikenal (isi WIB, WITA atau WIT)")
        return default
    return zone


def _polygon_read(r: RowReader) -> dict[str, Any] | None:
    """A GeoJSON Polygon (a bare geometry or a Feature), checked to be a simple shape."""
    text = r.text("poligon_geojson", max_length=100_000)
    if not text:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        r.error("poligon_geojson", "poligon_geojson bukan JSON yang sah")
        return None
    if isinstance(data, dict) and data.get("type") == "Feature":
        data = data.get("geometry")
    if not isinstance(data, dict) or data.get("type") != "Polygon":
        r.error("poligon_geojson", "poligon_geojson harus berupa GeoJSON bertipe Polygon")
        return None
    problem = _polygon_problem(data.get("coordinates"))
    if problem:
        r.error("poligon_geojson", f"poligon_geojson tidak valid: {problem}")
        return None
    return {"type": "Polygon", "coordinates": data["coordinates"]}


def _polygon_problem(rings: Any) -> str:
    if not isinstance(rings, list) or not rings:
        return "koordinat kosong"
    for ring in rings:
        if not isinstance(ring, list) or len(ring) < 4:
            return "setiap cincin perlu paling sedikit 4 titik"
        for point in ring:
            if (
                not isinstance(point, list)
                or len(point) < 2
                or not all(_is_number(v) and math.isfinite(v) for v in point[:2])
            ):
                return "titik harus berupa [bujur, lintang]"
            if not (-180 <= point[0] <= 180 and -90 <= point[1] <= 90):
                return f"titik [{point[0]}, {point[1]}] di luar rentang [bujur, lintang]"
        if ring[0] != ring[-1]:
            return "titik pertama dan terakhir harus sama (cincin tertutup)"
    try:
        valid = geojson_shape({"type": "Polygon", "coordinates": rings}).is_valid
    except (ValueError, TypeError, shapely.errors.ShapelyError):
        return "bentuk tidak dapat dibaca"
    return "" if valid else "sisi-sisinya saling berpotongan"


def site_apply(changes: list[Change], ctx: ImportContext) -> None:
    units = {u.code: u for u in Unit.objects.all()}
    boundaries = regency_boundaries()
    for change in ctx.progress(changes, "Menyimpan"):
        if change.action == "create":
            _site_create(change, units, boundaries, ctx)
        elif change.action == "update":
            _site_update(change, boundaries, ctx)


def _site_create(
    change: Change, units: dict[str, Unit], boundaries: Any, ctx: ImportContext
) -> None:
    fields = {k: v for k, v in change.values.items() if k != "unit"}
    site = WorkSite(
        unit=units[change.values["unit"]], location_source=_location_source(ctx), **fields
    )
    if boundaries is not None:
        worksite_quality_apply(site, boundaries)
    site.save()
    if site.latitude is not None:
        _site_move_record(site, None, None, ctx)
    audit_record(
        actor=ctx.actor, action="worksite.create", obj=site,
        summary=f"{change.values['unit']} {site.name}", after=_jsonable(change.values),
        reason=ctx.reason,
    )  # fmt: skip


def _site_update(change: Change, boundaries: Any, ctx: ImportContext) -> None:
    site: WorkSite = change.existing
    old_latitude, old_longitude = site.latitude, site.longitude
    relocated = bool({"latitude", "longitude", "polygon"} & set(change.before))
    for name in change.before:
        setattr(site, name, change.values[name])
    if relocated:
        site.location_source = _location_source(ctx)
    # A site verified on site keeps its mark unless the import moves it.
    recheck = relocated or (
        "kecamatan_code" in change.before and site.quality != WorkSite.Quality.VERIFIED
    )
    if recheck and boundaries is not None:
        worksite_quality_apply(site, boundaries)
    site.save()
    if {"latitude", "longitude"} & set(change.before) and site.latitude is not None:
        _site_move_record(site, old_latitude, old_longitude, ctx)
    audit_record(
        actor=ctx.actor, action="worksite.update", obj=site,
        summary=f"{site.unit.code} {site.name}", before=_jsonable(change.before),
        after=_jsonable({k: change.values[k] for k in change.before}), reason=ctx.reason,
    )  # fmt: skip


def _location_source(ctx: ImportContext) -> str:
    return f"impor:{ctx.filename}"[:64]


def _site_move_record(
    site: WorkSite, old_latitude: Decimal | None, old_longitude: Decimal | None, ctx: ImportContext
) -> None:
    # The move history needs a person as author; a system import (no actor) is still
    # traceable through its audit row, which holds the old and new coordinates.
    if getattr(ctx.actor, "pk", None) is None or site.latitude is None or site.longitude is None:
        return
    WorkSiteLocationChange.objects.create(
        site=site,
        author=ctx.actor,
        method=WorkSiteLocationChange.Method.IMPORT,
        old_latitude=old_latitude,
        old_longitude=old_longitude,
        new_latitude=site.latitude,
        new_longitude=site.longitude,
        reason=ctx.reason,
    )


# --- Employees -----------------------------------------------------------------------------

_POSITION_FIELDS = (
    "unit_id", "jabatan", "jabatan_kind", "kelas_jabatan", "golongan", "supervisor_nip",
    "schedule_group_id",
)  # fmt: skip


@dataclass
class EmployeeChange:
    """An employee row: attributes of the person and the position from ``tmt``."""

    row: int
    nip: str
    kind: str
    tmt: date
    attributes: dict[str, Any]
    position: dict[str, Any]
    existing: Employee | None = None
    attributes_before: dict[str, Any] = field(default_factory=dict)
    position_changed: bool = False

    @property
    def action(self) -> str:
        if self.existing is None:
            return "create"
        return "update" if self.attributes_before or self.position_changed else "unchanged"


@dataclass
class _EmployeeWorld:
    """What the database already holds, fetched once for the whole file."""

    employees: dict[str, Employee]
    nip_by_id: dict[int, str]
    open_positions: dict[int, dict[str, Any]]
    units: dict[str, Unit]
    groups: dict[str, ScheduleGroup]
    units_by_id: dict[int, Unit] = field(init=False)
    groups_by_id: dict[int | None, ScheduleGroup] = field(init=False)

    def __post_init__(self) -> None:
        self.units_by_id = {u.pk: u for u in self.units.values()}
        self.groups_by_id = {g.pk: g for g in self.groups.values()}

    @classmethod
    def load(cls) -> _EmployeeWorld:
        employees = {e.nip: e for e in Employee.objects.all()}
        nip_by_id = {e.pk: nip for nip, e in employees.items()}
        open_positions: dict[int, dict[str, Any]] = {}
        for row in Assignment.objects.filter(valid_to__isnull=True).values():
            position: dict[str, Any] = dict(row)
            position["supervisor_nip"] = nip_by_id.get(position["supervisor_id"])
            open_positions[position["employee_id"]] = position
        return cls(
            employees=employees,
            nip_by_id=nip_by_id,
            open_positions=open_positions,
            units={u.code: u for u in Unit.objects.all()},
            groups={g.code: g for g in ScheduleGroup.objects.all()},
        )


def employee_plan(table: Table, ctx: ImportContext, errors: list[RowError]) -> list[EmployeeChange]:
    world = _EmployeeWorld.load()
    seen: dict[Any, int] = {}
    checked: list[tuple[EmployeeChange, RowReader]] = []
    for row in ctx.progress(table.rows, "Memeriksa"):
        r = RowReader(row, errors)
        change = _employee_row_read(r, world, ctx)
        if change is None:
            continue
        _duplicate_check(r, seen, change.nip, "nip", change.nip)
        if not r.failed:
            checked.append((change, r))
    _supervisors_check(checked, world, file_nips=set(seen))
    return _employee_order([change for change, r in checked if not r.failed])


def _employee_row_read(
    r: RowReader, world: _EmployeeWorld, ctx: ImportContext
) -> EmployeeChange | None:
    raw_nip = r.nip("nip", required=True)
    kind = r.choice("jenis_pegawai", Employee.Kind.values)
    parsed = None
    if raw_nip:
        try:
            parsed = parse_nip(raw_nip, today=ctx.today, kind=cast(EmployeeKind, kind) or None)
        except NipError as exc:
            r.error("nip", f"NIP {raw_nip} tidak valid: {exc.message}")
    attributes: dict[str, Any] = {"name": r.text("nama", required=True, max_length=128)}
    if r.has("gelar_depan"):
        attributes["title_prefix"] = r.text("gelar_depan", max_length=32)
    if r.has("gelar_belakang"):
        attributes["title_suffix"] = r.text("gelar_belakang", max_length=64)
    if r.has("aktif"):
        attributes["active"] = r.flag("aktif")
    if r.has("nama_bank"):
        attributes["bank_name"] = r.text("nama_bank", max_length=64)
    if r.has("nomor_rekening"):
        attributes["bank_account"] = r.bank_account("nomor_rekening")
        if attributes["bank_account"] and not attributes.get("bank_name"):
            r.error("nama_bank", "nama_bank wajib diisi bila nomor_rekening diisi")
    position = _position_read(r, kind, world)
    tmt = r.day("tmt", required=True)
    if parsed is not None and tmt is not None and tmt < parsed.appointed:
        r.error(
            "tmt",
            f"tmt {tmt:%d-%m-%Y} lebih awal dari pengangkatan menurut NIP "
            f"({parsed.appointed:%m-%Y})",
        )
    nip = parsed.nip if parsed else raw_nip
    supervisor_nip = position.get("supervisor_nip")
    if supervisor_nip and supervisor_nip == nip:
        r.error("nip_atasan", "NIP atasan sama dengan NIP pegawai")
    if not nip:
        return None
    change = EmployeeChange(r.row.number, nip, kind, tmt or ctx.today, attributes, position)
    existing = world.employees.get(nip)
    if existing is not None and not r.failed:
        _employee_compare(change, existing, world, r)
    return change


def _position_read(r: RowReader, kind: str, world: _EmployeeWorld) -> dict[str, Any]:
    position: dict[str, Any] = {
        "jabatan": r.text("jabatan", required=True),
        "jabatan_kind": r.choice("jenis_jabatan", Assignment.JabatanKind.values),
        "kelas_jabatan": r.integer("kelas_jabatan", low=1, high=17, required=True),
        "golongan": _golongan_read(r, kind),
    }
    unit_code = r.code("kode_unit", required=True)
    unit = world.units.get(unit_code)
    if unit_code and unit is None:
        r.error("kode_unit", f"kode_unit {unit_code} tidak dikenal")
    position["unit_id"] = unit.pk if unit else None
    if r.has("nip_atasan"):
        position["supervisor_nip"] = r.nip("nip_atasan") or None
    if r.has("kelompok_jadwal"):
        group_code = r.code("kelompok_jadwal")
        group = world.groups.get(group_code)
        if group_code and group is None:
            r.error("kelompok_jadwal", f"kelompok_jadwal {group_code} tidak dikenal")
        position["schedule_group_id"] = group.pk if group else None
    return position


def _golongan_read(r: RowReader, kind: str) -> str:
    """ "iii/a", "III / A" and "III/a" are the same PNS golongan; PPPK use I to XVII."""
    text = r.text("golongan", required=True).replace(" ", "")
    if not text or not kind:
        return text
    if kind == Employee.Kind.PNS:
        roman, _, room = text.partition("/")
        value, allowed = f"{roman.upper()}/{room.lower()}", PNS_GOLONGAN
    else:
        value, allowed = text.upper(), PPPK_GOLONGAN
    if value not in allowed:
        r.error(
            "golongan",
            f"golongan {text} tidak berlaku untuk {kind} "
            f"(yang berlaku: {allowed[0]} sampai {allowed[-1]})",
        )
    return value


def _employee_compare(
    change: EmployeeChange, existing: Employee, world: _EmployeeWorld, r: RowReader
) -> None:
    change.existing = existing
    if existing.kind != change.kind:
        r.error("jenis_pegawai", f"jenis_pegawai tersimpan {existing.kind}, bukan {change.kind}")
        return
    current = {f: getattr(existing, f) for f in change.attributes}
    change.attributes_before = _diff(current, change.attributes)
    open_position = world.open_positions.get(existing.pk)
    if open_position is None:
        r.error("nip", f"Pegawai {existing.nip} tidak memiliki penugasan yang masih berjalan")
        return
    for name in ("supervisor_nip", "schedule_group_id"):
        change.position.setdefault(name, open_position[name])
    change.position_changed = any(change.position[f] != open_position[f] for f in _POSITION_FIELDS)
    if change.position_changed and change.tmt <= open_position["valid_from"]:
        r.error(
            "tmt",
            f"Jabatan berubah, tetapi tmt {change.tmt:%d-%m-%Y} tidak sesudah awal jabatan "
            f"saat ini ({open_position['valid_from']:%d-%m-%Y})",
        )


def _supervisors_check(
    checked: list[tuple[EmployeeChange, RowReader]], world: _EmployeeWorld, file_nips: set[str]
) -> None:
    """Supervisors may be defined later in the same file; the chain must not loop."""
    supervisor_of: dict[str, str | None] = {
        world.nip_by_id[employee_id]: p["supervisor_nip"]
        for employee_id, p in world.open_positions.items()
    }
    for c, _ in checked:
        supervisor_of[c.nip] = c.position.get("supervisor_nip", supervisor_of.get(c.nip))
    for c, r in checked:
        supervisor = c.position.get("supervisor_nip")
        if not supervisor or supervisor == c.nip:
            continue
        if supervisor not in world.employees and supervisor not in file_nips:
            r.error(
                "nip_atasan",
                f"NIP atasan {supervisor} tidak terdaftar dan tidak ada di berkas ini",
            )
        elif loop := _loop_from(c.nip, supervisor_of):
            r.error("nip_atasan", f"Rantai atasan melingkar: {' → '.join(loop)}")


def _employee_order(changes: list[EmployeeChange]) -> list[EmployeeChange]:
    """Supervisors in the file are written before the people they supervise."""
    by_nip = {c.nip: c for c in changes}
    ordered: list[EmployeeChange] = []
    placed: set[str] = set()
    for change in changes:
        chain = []
        current: EmployeeChange | None = change
        while current is not None and current.nip not in placed:
            placed.add(current.nip)
            chain.append(current)
            current = by_nip.get(current.position.get("supervisor_nip") or "")
        ordered.extend(reversed(chain))
    return ordered


def employee_apply(
    changes: list[EmployeeChange], ctx: ImportContext, errors: list[RowError]
) -> None:
    world = _EmployeeWorld.load()
    for change in ctx.progress(changes, "Menyimpan"):
        if change.action == "unchanged":
            continue
        try:
            _employee_write(change, world, ctx)
        except ValidationError as exc:
            errors.append(RowError(change.row, "", " ".join(exc.messages)))


def _employee_write(change: EmployeeChange, world: _EmployeeWorld, ctx: ImportContext) -> None:
    p = change.position
    supervisor_nip = p.get("supervisor_nip")
    position = Position(
        unit=world.units_by_id[p["unit_id"]],
        jabatan=p["jabatan"],
        jabatan_kind=p["jabatan_kind"],
        kelas_jabatan=p["kelas_jabatan"],
        golongan=p["golongan"],
        supervisor=world.employees[supervisor_nip] if supervisor_nip else None,
        schedule_group=world.groups_by_id.get(p.get("schedule_group_id")),
    )
    if change.existing is None:
        employee = employee_create(
            actor=ctx.actor,
            nip=change.nip,
            name=change.attributes["name"],
            kind=cast(EmployeeKind, change.kind),  # checked against the choices when read
            start=change.tmt,
            position=position,
            today=ctx.today,
            title_prefix=change.attributes.get("title_prefix", ""),
            title_suffix=change.attributes.get("title_suffix", ""),
            bank_name=change.attributes.get("bank_name", ""),
            bank_account=change.attributes.get("bank_account", ""),
        )
        world.employees[employee.nip] = employee
        if not change.attributes.get("active", True):
            _employee_attributes_save(employee, {"active": False}, {"active": True}, ctx)
        return
    if change.attributes_before:
        _employee_attributes_save(change.existing, change.attributes, change.attributes_before, ctx)
    if change.position_changed:
        employee_transfer(
            actor=ctx.actor,
            employee=change.existing,
            start=change.tmt,
            position=position,
            reason=ctx.reason,
        )


def _employee_attributes_save(
    employee: Employee, values: dict[str, Any], before: dict[str, Any], ctx: ImportContext
) -> None:
    for name in before:
        setattr(employee, name, values[name])
    employee.save(update_fields=list(before))
    after = {name: values[name] for name in before}
    audit_record(
        actor=ctx.actor,
        action="employee.update",
        obj=employee,
        summary=f"{employee.nip} {employee.full_name}",
        before=_account_masked(before),
        after=_account_masked(after),
        reason=ctx.reason,
    )


def _account_masked(values: dict[str, Any]) -> dict[str, Any]:
    """The account number is personal data: the audit trail keeps only its last 4 digits."""
    if "bank_account" not in values:
        return values
    return {**values, "bank_account": bank_account_masked(values["bank_account"])}


# --- Entry point ---------------------------------------------------------------------------

Planner = Callable[[Table, ImportContext, list[RowError]], list[Any]]
Applier = Callable[[list[Any], ImportContext, list[RowError]], None]

PLANNERS: dict[str, Planner] = {
    "opd": opd_plan,
    "unit": unit_plan,
    "site": site_plan,
    "employee": employee_plan,
}
APPLIERS: dict[str, Applier] = {
    "opd": lambda changes, ctx, errors: opd_apply(changes, ctx),
    "unit": lambda changes, ctx, errors: unit_apply(changes, ctx),
    "site": lambda changes, ctx, errors: site_apply(changes, ctx),
    "employee": employee_apply,
}


def import_file(
    kind: str,
    data: bytes,
    *,
    filename: str,
    actor: Any = None,
    dry_run: bool = False,
    today: date | None = None,
    progress: Progress = _no_progress,
) -> ImportResult:
    """Check a whole file and, unless ``dry_run`` or any row is bad, write it in one go.

    ``actor`` is the user recorded in the audit trail (None: the system).
    """
    if kind not in PLANNERS:
        raise ValueError(f"unknown import kind {kind!r}; expected one of {KINDS}")
    result = ImportResult(kind=kind, filename=filename, dry_run=dry_run)
    try:
        table = table_read(data, filename=filename)
    except ImportFileError as exc:
        result.errors.append(RowError(None, "", exc.message))
        return result
    header_check(table, SPECS[kind], result)
    if result.errors:
        return result
    result.rows = len(table.rows)
    ctx = ImportContext(
        actor=actor, filename=filename, today=today or timezone.localdate(), progress=progress
    )
    if dry_run:
        _plan(kind, table, ctx, result)
        return result
    try:
        result.written = _plan_and_apply(kind, table, ctx, result)
    except IntegrityError:
        # Only a concurrent write between the check and the write can get here.
        result.errors.append(
            RowError(
                None, "", "Impor dibatalkan karena data berubah saat impor berjalan. Coba lagi."
            )
        )
    return result


def _plan_and_apply(kind: str, table: Table, ctx: ImportContext, result: ImportResult) -> bool:
    """Plan inside the transaction, so the rows checked are the rows written over."""
    with transaction.atomic():
        changes = _plan(kind, table, ctx, result)
        if result.errors:
            return False
        APPLIERS[kind](changes, ctx, result.errors)
        if result.errors:
            transaction.set_rollback(True)
            return False
    return any(c.action != "unchanged" for c in changes)


def _plan(kind: str, table: Table, ctx: ImportContext, result: ImportResult) -> list[Any]:
    changes = PLANNERS[kind](table, ctx, result.errors)
    result.errors.sort(key=lambda e: e.row or 0)
    result.counts[kind] = _counts(changes)
    return changes
