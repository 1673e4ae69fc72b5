"""``tepat backup DIR``: the database and the private uploads, with a SHA-256 manifest."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tepat.backups.archive import BackupError, backup_create


class Command(BaseCommand):
    help = "Back up the database and the private uploads into a new directory under DIR."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("target", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            backup = backup_create(options["target"])
        except BackupError as failure:
            raise CommandError(str(failure)) from failure
        self.stdout.write(str(backup.path))
