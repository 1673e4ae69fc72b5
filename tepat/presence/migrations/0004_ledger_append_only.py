"""The database itself refuses to change or delete a ledger row, whatever the application does.

PostgreSQL refuses UPDATE and DELETE (TRUNCATE stays possible for the table's owner, e.g. the
test runner's flush; the hash chain makes any such loss detectable). SQLite refuses UPDATE only:
its test flush deletes rows one by one.
"""

from django.db import migrations

PG_FORWARD = """
CREATE FUNCTION presence_ledger_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'presence_checkinevent is append-only: %% refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER presence_checkinevent_append_only
    BEFORE UPDATE OR DELETE ON presence_checkinevent
    FOR EACH ROW EXECUTE FUNCTION presence_ledger_append_only();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS presence_checkinevent_append_only ON presence_checkinevent;
DROP FUNCTION IF EXISTS presence_ledger_append_only();
"""
SQLITE_FORWARD = """
CREATE TRIGGER presence_checkinevent_no_update BEFORE UPDATE ON presence_checkinevent
BEGIN SELECT RAISE(ABORT, 'presence_checkinevent is append-only: UPDATE refused'); END;
"""
SQLITE_BACKWARD = "DROP TRIGGER IF EXISTS presence_checkinevent_no_update;"


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_FORWARD)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("presence", "0003_selfie")]
    operations = [migrations.RunPython(forward, backward)]
