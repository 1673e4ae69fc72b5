"""Schedule exceptions indexed by day alone: the nightly verdict, the period rebuild and the
live dashboard read a few days' exceptions of everyone (``schedule_exceptions_around`` with no
employees, ``monitor.live.exception_marks``), which the unique (employee, day) index cannot
serve without reading all of it. The plans, before and after: docs/scale.md.

A plain CREATE INDEX (not CONCURRENTLY: the same migration on SQLite and PostgreSQL); it holds
off the operators' exception saves while it builds, seconds for a year of a province's rosters.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("presence", "0013_ledger_indexes_for_checkin"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="scheduleexception",
            index=models.Index(fields=["day", "employee"], name="scheduleexception_day_idx"),
        ),
    ]
