"""The database refuses to change or delete a seal (as for the check-in ledger itself,
presence 0004). The head row moves forward by design."""

from django.db import migrations

PG_FORWARD = """
CREATE FUNCTION ledger_seal_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ledger_seal is append-only: %% refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER ledger_seal_append_only
    BEFORE UPDATE OR DELETE ON ledger_seal
    FOR EACH ROW EXECUTE FUNCTION ledger_seal_append_only();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS ledger_seal_append_only ON ledger_seal;
DROP FUNCTION IF EXISTS ledger_seal_append_only();
"""
# SQLite refuses UPDATE only: the test runner's flush deletes rows one by one.
SQLITE_FORWARD = """
CREATE TRIGGER ledger_seal_no_update BEFORE UPDATE ON ledger_seal
BEGIN SELECT RAISE(ABORT, 'ledger_seal is append-only: UPDATE refused'); END;
"""
SQLITE_BACKWARD = "DROP TRIGGER IF EXISTS ledger_seal_no_update;"


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
    dependencies = [("ledger", "0001_chain_tables")]
    operations = [migrations.RunPython(forward, backward)]
