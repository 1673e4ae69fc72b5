"""``manage.py import_org <kind> <file> [--dry-run] [--as-user USERNAME]``.

Prints every problem as "Baris N: ..." and exits non-zero when there is any, so a script can
chain the four imports (opd, unit, site, employee) and stop at the first bad file.
"""

import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from tepat.org.importing import KINDS, ImportResult, import_file

_T = TypeVar("_T")


class Command(BaseCommand):
    help = (
        "Import OPD, units, work sites or employees from a CSV or XLSX file (see docs/import.md)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=KINDS, help="What the file holds.")
        parser.add_argument("file", type=Path, help="A .csv or .xlsx file.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Check every row and report; write nothing."
        )
        parser.add_argument(
            "--as-user",
            metavar="USERNAME",
            help="Record this user as the author in the audit trail (default: the system).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        actor = self._actor(options["as_user"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Berkas {path} tidak dapat dibaca: {exc.strerror}") from None
        result = import_file(
            options["kind"],
            data,
            filename=path.name,
            actor=actor,
            dry_run=options["dry_run"],
            progress=self._progress,
        )
        self._report(result)
        if not result.ok:
            raise CommandError(
                f"{len(result.errors)} kesalahan; tidak ada data yang disimpan.", returncode=1
            )

    def _actor(self, username: str | None) -> Any:
        if not username:
            return None
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"Pengguna aktif {username} tidak ditemukan.")
        return user

    def _progress(self, items: Sequence[_T], desc: str) -> Iterable[_T]:
        bar: Iterable[_T] = tqdm(
            items,
            desc=desc,
            unit="baris",
            file=sys.stderr,
            leave=False,
            disable=not sys.stderr.isatty(),
        )
        return bar

    def _report(self, result: ImportResult) -> None:
        for warning in result.warnings:
            self.stderr.write(self.style.WARNING(warning))
        for error in result.errors:
            self.stderr.write(str(error))
        for kind, counts in result.counts.items():
            self.stdout.write(
                f"{kind}: {counts.created} baru, {counts.updated} diubah, "
                f"{counts.unchanged} tetap ({result.rows} baris)"
            )
        if result.ok and result.dry_run:
            self.stdout.write(
                self.style.SUCCESS("Uji coba: semua baris benar; tidak ada yang disimpan.")
            )
        elif result.ok:
            self.stdout.write(self.style.SUCCESS("Impor selesai."))
