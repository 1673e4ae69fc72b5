"""Remind supervisors of daily work reports waiting too long for review: run daily (systemd
timer or cron, like attendance_rebuild)."""

from typing import Any

from django.core.management.base import BaseCommand

from tepat.kinerja.services import review_reminders_send


class Command(BaseCommand):
    help = "Ingatkan atasan tentang laporan harian yang lama menunggu. (Remind supervisors.)"

    def handle(self, *args: Any, **options: Any) -> None:
        for reminder in review_reminders_send():
            sent = "surel terkirim" if reminder.emailed else "tanpa surel"
            self.stdout.write(
                f"atasan {reminder.supervisor_id}: {reminder.pending} laporan menunggu sejak "
                f"{reminder.oldest:%d-%m-%Y} ({sent})"
            )
