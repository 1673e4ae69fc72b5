"""``tepat restore BACKUP --yes``: put a backup made by ``tepat backup`` back in place."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tepat.backups.archive import BackupError, backup_check, backup_restore


class Command(BaseCommand):
    help = "Check a backup's hashes and, with --yes, replace the database and uploads with it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("backup", type=Path)
        parser.add_argument(
            "--yes", action="store_true", help="really replace the data (else: only check)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if not options["yes"]:
                backup = backup_check(options["backup"])
                self.stdout.write(f"{backup.path}: intact ({backup.manifest['created_at']})")
                self.stdout.write("Nothing restored: add --yes to replace the current data.")
                return
            backup = backup_restore(options["backup"])
        except BackupError as failure:
            raise CommandError(str(failure)) from failure
        self.stdout.write(f"restored {backup.path} ({backup.manifest['created_at']})")
        self.stdout.write("Next: tepat migrate, then tepat ledger verify.")
