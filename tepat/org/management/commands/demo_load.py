"""Load the demo regency (Kabupaten Mukomuko, ~3,400 invented employees) into an empty DB."""

from datetime import date
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from tepat.org.demo import DEMO_SEED, DemoSummary, demo_regency_load, demo_regency_reset
from tepat.org.models import Regency


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{key} {value}" for key, value in counts.items()) or "-"


class Command(BaseCommand):
    help = (
        "Muat data demo Kabupaten Mukomuko (OPD, sekolah, puskesmas, ~3.400 pegawai, akun demo). "
        "Load the demo regency; refuses when data exists unless --reset."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--seed", type=int, default=DEMO_SEED, help="Random seed (default 2026)."
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Hapus data demo yang ada dulu (tidak boleh saat TEPAT_ENV=production).",
        )
        parser.add_argument(
            "--today",
            type=date.fromisoformat,
            default=None,
            help="Tanggal acuan YYYY-MM-DD (default: hari ini).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if Regency.objects.exists():
            if not options["reset"]:
                self.stdout.write(
                    self.style.WARNING(
                        "Data kabupaten sudah ada; tidak ada yang dimuat. "
                        "Pakai --reset untuk menghapus dan memuat ulang data demo. "
                        "(A regency already exists; nothing loaded.)"
                    )
                )
                return
            if settings.PRODUCTION:
                raise CommandError(
                    "Reset data demo tidak diizinkan saat TEPAT_ENV=production. "
                    "(Refusing to reset data in production.)"
                )
            demo_regency_reset()
            self.stdout.write("Data demo lama dihapus.")
        today = options["today"] or timezone.localdate()
        summary = demo_regency_load(options["seed"], today=today)
        self._summary_print(summary)

    def _summary_print(self, summary: DemoSummary) -> None:
        total = sum(summary.employees_by_kind.values())
        lines = [
            f"Data demo dimuat dalam {summary.seconds:.1f} detik.",
            f"  OPD:        {_counts(summary.opd_by_kind)}",
            f"  Unit kerja: {_counts(summary.units_by_kind)}",
            f"  Pegawai:    {total} ({_counts(summary.employees_by_kind)})",
            f"  Jadwal:     {_counts(summary.employees_by_schedule_group)}",
            f"  Mutasi:     {summary.transfers} riwayat",
            f"  Lokasi:     {summary.sites} titik, {summary.sites_approximate} perkiraan; "
            f"cek batas wilayah: {_counts(summary.site_quality)}",
        ]
        self.stdout.write(self.style.SUCCESS(lines[0]))
        for line in lines[1:]:
            self.stdout.write(line)
