"""Three indexes that no query needs:

- ``presence_phonedevice.key_fingerprint``: ``db_index`` made PostgreSQL keep a second,
  LIKE-capable copy; the shared-key look-up is an equality. One plain index now
  (``phonedevice_key_idx``).
- ``presence_phonedevice.employee_id``: the unique (employee_id, key_fingerprint) index leads
  with the employee.
- ``presence_scheduleexception.employee_id``: the unique (employee_id, day) index leads with
  the employee and serves every look-up by employee.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('org', '0002_employee_bank_account'),
        ('presence', '0016_attendanceday_fewer_checks'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='phonedevice',
            name='employee',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='devices', to='org.employee', verbose_name='employee'),
        ),
        migrations.AlterField(
            model_name='phonedevice',
            name='key_fingerprint',
            field=models.CharField(max_length=64, verbose_name='key fingerprint'),
        ),
        migrations.AlterField(
            model_name='scheduleexception',
            name='employee',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='org.employee', verbose_name='employee'),
        ),
        migrations.AddIndex(
            model_name='phonedevice',
            index=models.Index(fields=['key_fingerprint'], name='phonedevice_key_idx'),
        ),
    ]
