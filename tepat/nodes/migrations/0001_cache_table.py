"""The table of Django's database cache (settings.CACHES without REDIS_URL), created by
`tepat migrate` so a new node needs no separate `createcachetable` step."""

from django.core.management import call_command
from django.db import migrations

CACHE_TABLE = "tepat_cache"  # settings.CACHES["default"]["LOCATION"]


def cache_table_create(apps, schema_editor):
    # createcachetable is idempotent: it skips a table that already exists.
    call_command("createcachetable", CACHE_TABLE, database=schema_editor.connection.alias)


def cache_table_drop(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(CACHE_TABLE)}")


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [migrations.RunPython(cache_table_create, cache_table_drop, elidable=False)]
