"""`tepat exports_expire`: delete the files of requested exports past their expiry
(``TEPAT_EXPORT_KEEP_HOURS``); the rows stay for the audit trail. Run hourly by
deploy/systemd/tepat-exports-expire.timer."""

from typing import Any

from django.core.management.base import BaseCommand

from tepat.exports.services import exports_expire


class Command(BaseCommand):
    help = "Delete the stored files of requested exports that expired (the rows stay)."

    def handle(self, *args: Any, **options: Any) -> None:
        expired = exports_expire()
        if options["verbosity"] > 0:
            self.stdout.write(f"{expired} export file(s) deleted")
