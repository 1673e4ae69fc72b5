"""Reading and writing the continuity-mode spreadsheets (XLSX or CSV), with Indonesian problems.

A table is found by its stem in the input folder (`pegawai.xlsx` or `pegawai.csv`). Headers are
matched without regard to case, spaces, dots or underscores ("Nomor Rekening", "nomor_rekening").
CSV files may be comma- or semicolon-separated (Excel in Indonesian locale writes ";"), UTF-8 (with
or without BOM) or Windows-1252. Row numbers in problems are the ones a spreadsheet shows: the
header is row 1.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook

from tepat.spreadsheet_cells import cell_text

SUFFIXES = (".xlsx", ".csv")
_LONG_NUMBER = 10**15
"""Excel keeps 15 significant digits: a longer number (an 18-digit NIP typed as a number) has
already lost its last digits when it reaches us."""


@dataclass(frozen=True)
class InputProblem:
    file: str
    row: int | None
    column: str | None
    message: str

    def text(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"baris {self.row}")
        if self.column is not None:
            where.append(f"kolom {self.column}")
        return f"{', '.join(where)}: {self.message}"


class InputFileError(Exception):
    """Input that stops the whole computation (a missing file or column, a bad policy)."""

    def __init__(self, problems: Sequence[InputProblem]) -> None:
        super().__init__("; ".join(p.text() for p in problems))
        self.problems = tuple(problems)


def header_key(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


@dataclass
class Table:
    name: str
    """The file name, as shown in problems."""
    headers: dict[str, int]
    """Canonical column header → index in each row."""
    rows: list[tuple[int, list[str]]] = field(default_factory=list)
    problems: list[InputProblem] = field(default_factory=list)

    def value(self, row: list[str], header: str) -> str:
        index = self.headers.get(header)
        if index is None or index >= len(row):
            return ""
        return row[index]


def table_find(folder: Path, stem: str) -> Path | None:
    found = [
        folder / f"{stem}{suffix}" for suffix in SUFFIXES if (folder / f"{stem}{suffix}").exists()
    ]
    if len(found) > 1:
        raise InputFileError(
            [
                InputProblem(
                    f"{stem}.xlsx/{stem}.csv",
                    None,
                    None,
                    "ada dua berkas dengan nama yang sama; simpan salah satu saja",
                )
            ]
        )
    return found[0] if found else None


def table_read(path: Path, columns: Sequence[str], required: Sequence[str]) -> Table:
    """The table at `path` with the `columns` it has; InputFileError if a required one is
    missing."""
    try:
        raw = _xlsx_rows(path) if path.suffix == ".xlsx" else _csv_rows(path)
        header = next(raw, None)
    except (OSError, ValueError, KeyError, csv.Error) as error:
        raise InputFileError(
            [InputProblem(path.name, None, None, f"berkas tidak dapat dibaca ({error})")]
        ) from error
    if header is None:
        raise InputFileError([InputProblem(path.name, None, None, "berkas kosong")])
    wanted = {header_key(c): c for c in columns}
    headers: dict[str, int] = {}
    for index, text in enumerate(header):
        canonical = wanted.get(header_key(text))
        if canonical is not None and canonical not in headers:
            headers[canonical] = index
    missing = [c for c in required if c not in headers]
    if missing:
        raise InputFileError(
            [InputProblem(path.name, 1, c, "kolom wajib tidak ada di baris judul") for c in missing]
        )
    table = Table(path.name, headers)
    # A cell of a long number Excel cut (`_cell`) starts with NUL; a CSV file has none unless
    # it holds NUL characters at all.
    markers = path.suffix == ".xlsx" or b"\0" in path.read_bytes()
    try:
        for number, row in enumerate(raw, start=2):
            if not any(row):
                continue
            if (
                markers
                and "\0" in "".join(row)
                and (bad := [i for i, cell in enumerate(row) if cell.startswith("\0")])
            ):
                for i in bad:
                    column = next((c for c, at in headers.items() if at == i), f"ke-{i + 1}")
                    table.problems.append(
                        InputProblem(
                            path.name,
                            number,
                            column,
                            f"angka {row[i][1:]} terlalu panjang: Excel sudah memotong digit "
                            "terakhirnya; tulis sel ini sebagai teks (awali dengan ')",
                        )
                    )
                continue
            table.rows.append((number, row))
    except (ValueError, csv.Error) as error:
        raise InputFileError(
            [InputProblem(path.name, None, None, f"berkas tidak dapat dibaca ({error})")]
        ) from error
    return table


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, bool):
        return "ya" if value else "tidak"
    if isinstance(value, int | float):
        if abs(value) >= _LONG_NUMBER:
            return f"\0{value:.0f}"
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    text = str(value).strip()
    return text[1:] if text.startswith("'") else text


def _xlsx_rows(path: Path) -> Iterator[list[str]]:
    book = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield [_cell(v) for v in values]
    finally:
        book.close()


# What could make a cell need stripping or unquoting: whitespace other than the line breaks
# between rows (whose place a double quote could change) or an apostrophe. A file without any
# below its header line is read as the csv module gives it (`header_key` reads the header
# whatever its spaces and quotes); otherwise every cell is stripped and unquoted.
_MAYBE_UNCLEAN = re.compile(r"""[^\S\r\n]|['"]""")


def _csv_rows(path: Path) -> Iterator[list[str]]:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    rows = csv.reader(io.StringIO(text), delimiter=delimiter)
    if _MAYBE_UNCLEAN.search(text, len(first_line)) is None:
        yield from rows  # a regency's presensi file has millions of cells, all clean
        return
    for row in rows:
        # `_cell` for text, inlined.
        cells = [v.strip() for v in row]
        yield [v[1:] if v[:1] == "'" else v for v in cells]


def table_write(path: Path, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Write a table as XLSX or CSV (by the suffix of `path`); text cells are formula-safe."""
    if path.suffix == ".xlsx":
        book = Workbook(write_only=True)
        sheet = book.create_sheet(path.stem)
        sheet.append(list(headers))
        for row in rows:
            sheet.append([cell_text(v) for v in row])
        book.save(path)
        return
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(headers)
        writer.writerows([cell_text(v) for v in row] for row in rows)
