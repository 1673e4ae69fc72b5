"""The verdict table keeps the checks a query or the data needs, and drops the ones each of a
month's 3 million rows paid for nothing (docs/performance.md, "A month's verdicts + TPP"):

- ``employee_id`` alone: ``attendanceday_unique`` (employee_id, day) serves every look-up by
  employee.
- ``schedule_id`` and ``bands_id``: no index (no query looks verdicts up by version) and no
  foreign-key trigger (a look-up in the version table per row stored). The versions are
  policy data, never deleted; Django's PROTECT still refuses to delete one a verdict names.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("org", "0002_employee_bank_account"),
        ("presence", "0015_attendanceday_tk_index"),
    ]

    operations = [
        migrations.AlterField(
            model_name="attendanceday",
            name="bands",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="presence.bandsversion",
            ),
        ),
        migrations.AlterField(
            model_name="attendanceday",
            name="employee",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="org.employee",
                verbose_name="employee",
            ),
        ),
        migrations.AlterField(
            model_name="attendanceday",
            name="schedule",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="presence.scheduleversion",
            ),
        ),
    ]
