"""Monthly partitions of the check-in ledger and the e-Kinerja daily reports on PostgreSQL
(docs/adr/0002-ledger-partitioned-by-month.md).

    tepat partitions list
    tepat partitions ensure [--ahead 3]      run daily (timer/cron): months created ahead
    tepat partitions detach --before 2025-01 [--dry-run]
    --table ledger|reports (default: both)

``detach`` takes whole months out of the ledger; each stays a table of its own name, to be
archived with ``pg_dump -t NAME`` and dropped once the archive is checked. Its idempotency keys
stay, so a phone replaying an archived check-in is still answered as a replay. On SQLite the
ledger is one plain table and every action says so.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tepat.command_args import month_first_day
from tepat.presence.partitions import (
    LEDGER,
    MONTHS_AHEAD,
    PARTITION_KEYS,
    REPORTS,
    partitions_detach,
    partitions_ensure,
    partitions_list,
    partitions_supported,
)


class Command(BaseCommand):
    help = "Partisi bulanan buku presensi (PostgreSQL). (The ledger's monthly partitions.)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["list", "ensure", "detach"])
        parser.add_argument("--ahead", type=int, default=MONTHS_AHEAD, help="months ahead")
        parser.add_argument("--before", help="detach months before this one (TTTT-BB)")
        parser.add_argument("--dry-run", action="store_true")
        parser.add_argument(
            "--table",
            choices=["all", "ledger", "reports"],
            default="all",
            help="the check-in ledger, the e-Kinerja daily reports, or both",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not partitions_supported():
            self.stdout.write("SQLite: buku presensi satu tabel biasa, tanpa partisi.")
            return
        action = options["action"]
        tables = {"all": tuple(PARTITION_KEYS), "ledger": (LEDGER,), "reports": (REPORTS,)}[
            options["table"]
        ]
        if action == "list":
            for part in [p for table in tables for p in partitions_list(table)]:
                self.stdout.write(f"{part.name}\t~{max(part.rows, 0)} baris")
        elif action == "ensure":
            created = partitions_ensure(tables, ahead=options["ahead"])
            self.stdout.write(f"{len(created)} partisi dibuat: {' '.join(created) or '-'}")
        else:
            if not options["before"]:
                raise CommandError("--before TTTT-BB wajib untuk detach.")
            first = month_first_day(options["before"])
            names = partitions_detach(
                tables, before=(first.year, first.month), dry_run=options["dry_run"]
            )
            verb = "akan dilepas" if options["dry_run"] else "dilepas"
            self.stdout.write(f"{len(names)} partisi {verb}: {' '.join(names) or '-'}")
            for name in [] if options["dry_run"] else names:
                self.stdout.write(f"  arsipkan: pg_dump -t {name} ...; lalu DROP TABLE {name}")
