"""The database itself refuses to change a recorded sanction: a correction is a new row.

PostgreSQL refuses UPDATE and DELETE (TRUNCATE stays possible for the table's owner, e.g. the
test runner's flush). SQLite refuses UPDATE only: its test flush deletes rows one by one. On
SQLite an AlterField on monitor_sanction rebuilds the table and drops the trigger: a later
migration that alters it must create the trigger again (see presence 0007).
"""

from django.db import migrations

PG_FORWARD = """
CREATE FUNCTION monitor_sanction_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'monitor_sanction is append-only: %% refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER monitor_sanction_append_only
    BEFORE UPDATE OR DELETE ON monitor_sanction
    FOR EACH ROW EXECUTE FUNCTION monitor_sanction_append_only();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS monitor_sanction_append_only ON monitor_sanction;
DROP FUNCTION IF EXISTS monitor_sanction_append_only();
"""
SQLITE_FORWARD = """
CREATE TRIGGER monitor_sanction_no_update BEFORE UPDATE ON monitor_sanction
BEGIN SELECT RAISE(ABORT, 'monitor_sanction is append-only: UPDATE refused'); END;
"""
SQLITE_BACKWARD = "DROP TRIGGER IF EXISTS monitor_sanction_no_update;"


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
    dependencies = [("monitor", "0002_record_decided_sanctions")]
    operations = [migrations.RunPython(forward, backward)]
