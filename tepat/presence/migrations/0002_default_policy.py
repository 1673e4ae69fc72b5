"""The presence policy Tepat starts with, until BKPSDM records the regency's own."""

import datetime

from django.db import migrations

# A copy, not an import: a migration must keep inserting what it inserted when it was written.
DEFAULT = {
    "valid_from": datetime.date(2020, 1, 1),
    "name": "Kebijakan presensi bawaan Tepat",
    "legal_basis": (
        "Bawaan Tepat (field-realities §2: akurasi 50–100 m, posisi segar, kecepatan wajar); "
        "sesuaikan dengan Perbup presensi kabupaten"
    ),
    "default_radius_m": 100,
    "max_accuracy_m": 100,
    "refuse_accuracy_m": 2000,
    "offline_max_age_hours": 72,
    "clock_skew_max_s": 300,
    "max_speed_kmh": 120,
    "position_max_age_s": 120,
    "future_tolerance_s": 120,
}


def add_default(apps, schema_editor):
    apps.get_model("presence", "PresencePolicy").objects.get_or_create(
        valid_from=DEFAULT["valid_from"], defaults=DEFAULT
    )


def remove_default(apps, schema_editor):
    apps.get_model("presence", "PresencePolicy").objects.filter(
        valid_from=DEFAULT["valid_from"], name=DEFAULT["name"]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("presence", "0001_ledger")]
    operations = [migrations.RunPython(add_default, remove_default)]
