"""The minutes claimed by refused attempts (`RefusedAttemptMinute`): one audit row per action,
account (or address) and minute, kept by a unique key, so two refusals answered at the same
moment write one row. A table of its own: a column on the hash-chained audit table would
change the bytes of every sealed row."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0002_auditentry_append_only'),
    ]

    operations = [
        migrations.CreateModel(
            name='RefusedAttemptMinute',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('key', models.CharField(max_length=160, verbose_name='key')),
                ('claimed_at', models.DateTimeField(auto_now_add=True, verbose_name='claimed at')),
            ],
            options={
                'verbose_name': "refused attempt's minute",
                'verbose_name_plural': "refused attempts' minutes",
                'constraints': [models.UniqueConstraint(fields=('key',), name='audit_refused_minute_key')],
            },
        ),
    ]
