"""The e-Kinerja daily reports become range-partitioned by month of ``day`` on PostgreSQL.

As the check-in ledger (presence 0010; docs/adr/0002-ledger-partitioned-by-month.md), with
what differs because reports change and go away while the ledger never does:

- ``client_id`` uniqueness moves to ``kinerja_reportkey``, claimed by a BEFORE INSERT trigger
  that *raises* the unique violation on a duplicate (``report_create`` catches the
  IntegrityError of two copies of one offline item racing), and released by an AFTER DELETE
  trigger when a pending report is withdrawn. Moving a report to another month (its ``day``
  edited) is a delete plus an insert inside PostgreSQL: both triggers recognise the report's own
  id and leave its key alone. ``client_id`` itself never changes (refused);
- ``ReportDecision.report`` becomes a trigger refusing an id no report holds, and deleting a
  report some decision points at is refused (the PROTECT the foreign key gave);
- primary key (id, day); the unique index on ``client_id`` becomes a plain one.

SQLite: only the (empty) ``kinerja_reportkey`` table is added.
"""

from django.db import migrations, models

from tepat.presence.partitions import month_add, partition_month_create

TABLE = "kinerja_dailyreport"
OLD = "kinerja_dailyreport_unpartitioned"
UNIQUE_KEY = "kinerja_dailyreport_client_id_key"

FUNCTIONS = """
CREATE FUNCTION kinerja_report_key_claim() RETURNS trigger AS $$
BEGIN
    INSERT INTO kinerja_reportkey (client_id, report_id) VALUES (NEW.client_id, NEW.id)
    ON CONFLICT DO NOTHING;
    IF NOT FOUND AND NOT EXISTS (
        SELECT 1 FROM kinerja_reportkey WHERE client_id = NEW.client_id AND report_id = NEW.id
    ) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'unique_violation',
            CONSTRAINT = 'kinerja_dailyreport_client_id_key',
            MESSAGE = format('kinerja_dailyreport: client_id %s is taken', NEW.client_id);
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION kinerja_report_key_release() RETURNS trigger AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM kinerja_dailyreport WHERE id = OLD.id) THEN
        RETURN NULL;  -- moved to another month's partition, not deleted
    END IF;
    IF EXISTS (SELECT 1 FROM kinerja_reportdecision WHERE report_id = OLD.id) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'foreign_key_violation',
            MESSAGE = format('kinerja_dailyreport %s: decisions point at it', OLD.id);
    END IF;
    DELETE FROM kinerja_reportkey WHERE client_id = OLD.client_id AND report_id = OLD.id;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION kinerja_report_client_id_fixed() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'kinerja_dailyreport: client_id never changes';
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION kinerja_report_keys_truncate() RETURNS trigger AS $$
BEGIN
    DELETE FROM kinerja_reportkey;  -- see presence_ledger_keys_truncate
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION kinerja_report_reference_check() RETURNS trigger AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM kinerja_dailyreport WHERE id = NEW.report_id) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'foreign_key_violation',
            MESSAGE = format('%s.report_id = %s: no such daily report', TG_TABLE_NAME,
                             NEW.report_id);
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""

TRIGGERS = f"""
CREATE TRIGGER kinerja_dailyreport_key_claim BEFORE INSERT ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION kinerja_report_key_claim();
CREATE TRIGGER kinerja_dailyreport_key_release AFTER DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION kinerja_report_key_release();
CREATE TRIGGER kinerja_dailyreport_client_id_fixed BEFORE UPDATE OF client_id ON {TABLE}
    FOR EACH ROW WHEN (OLD.client_id IS DISTINCT FROM NEW.client_id)
    EXECUTE FUNCTION kinerja_report_client_id_fixed();
CREATE TRIGGER kinerja_dailyreport_keys_truncate AFTER TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION kinerja_report_keys_truncate();
CREATE TRIGGER kinerja_reportdecision_report_id_ref
    BEFORE INSERT OR UPDATE OF report_id ON kinerja_reportdecision
    FOR EACH ROW EXECUTE FUNCTION kinerja_report_reference_check();
"""
DROP = """
DROP TRIGGER IF EXISTS kinerja_reportdecision_report_id_ref ON kinerja_reportdecision;
DROP FUNCTION kinerja_report_key_claim(), kinerja_report_key_release(),
    kinerja_report_client_id_fixed(), kinerja_report_keys_truncate(),
    kinerja_report_reference_check() CASCADE;
"""


def _index_defs(cursor, table):
    cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [table])
    return cursor.fetchall()


def _foreign_keys(cursor, table):
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = %s::regclass AND contype = 'f' AND confrelid <> conrelid",
        [table],
    )
    return cursor.fetchall()


def _copy_rows(cursor, source):
    cursor.execute(f"INSERT INTO {TABLE} SELECT * FROM {source}")  # noqa: S608  # nosec B608
    cursor.execute(
        "SELECT setval(pg_get_serial_sequence(%s, 'id'), COALESCE(MAX(id), 1), MAX(id) IS NOT NULL)"
        f" FROM {TABLE}",  # noqa: S608  # nosec B608
        [TABLE],
    )


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {TABLE} IN ACCESS EXCLUSIVE MODE")
        cursor.execute(
            "SELECT conrelid::regclass::text, conname FROM pg_constraint"
            " WHERE confrelid = %s::regclass AND contype = 'f'",
            [TABLE],
        )
        for table, name in cursor.fetchall():
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        indexes = _index_defs(cursor, TABLE)
        fks = _foreign_keys(cursor, TABLE)
        cursor.execute(f"ALTER TABLE {TABLE} RENAME TO {OLD}")
        cursor.execute(
            f"CREATE TABLE {TABLE} (LIKE {OLD} INCLUDING DEFAULTS INCLUDING IDENTITY"
            " INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMMENTS)"
            " PARTITION BY RANGE (day)"
        )
        cursor.execute(f"CREATE TABLE {TABLE}_default PARTITION OF {TABLE} DEFAULT")
        cursor.execute(
            f"SELECT DISTINCT date_trunc('month', day)::date FROM {OLD}"  # noqa: S608  # nosec B608
            " WHERE day > now() - interval '10 years' AND day < now() + interval '1 year'"
        )
        months = {(d.year, d.month) for (d,) in cursor.fetchall()}
        cursor.execute("SELECT current_date")
        today = cursor.fetchone()[0]
        months |= {month_add((today.year, today.month), n) for n in range(4)}
        for month in sorted(months):
            partition_month_create(cursor, TABLE, month)
        _copy_rows(cursor, OLD)
        cursor.execute(
            "INSERT INTO kinerja_reportkey (client_id, report_id)"
            f" SELECT client_id, id FROM {OLD}"  # noqa: S608  # nosec B608
        )
        cursor.execute(f"DROP TABLE {OLD}")
        cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY (id, day)")
        for name, definition in fks:
            cursor.execute(f'ALTER TABLE {TABLE} ADD CONSTRAINT "{name}" {definition}')
        for name, definition in indexes:
            if name == f"{TABLE}_pkey":
                continue
            if name == UNIQUE_KEY:  # report_create finds a resent report by it
                definition = definition.replace("CREATE UNIQUE INDEX", "CREATE INDEX", 1)
            cursor.execute(definition)
        cursor.execute(FUNCTIONS)
        cursor.execute(TRIGGERS)
        cursor.execute(f"ANALYZE {TABLE}")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    partitioned = f"{TABLE}_partitioned"
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {TABLE} IN ACCESS EXCLUSIVE MODE")
        indexes = _index_defs(cursor, TABLE)
        fks = _foreign_keys(cursor, TABLE)
        cursor.execute(DROP)
        cursor.execute(f"ALTER TABLE {TABLE} RENAME TO {partitioned}")
        cursor.execute(
            f"CREATE TABLE {TABLE} (LIKE {partitioned} INCLUDING DEFAULTS INCLUDING IDENTITY"
            " INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMMENTS)"
        )
        _copy_rows(cursor, partitioned)
        cursor.execute(f"DROP TABLE {partitioned} CASCADE")
        cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY (id)")
        cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {UNIQUE_KEY} UNIQUE (client_id)")
        for name, definition in fks:
            cursor.execute(f'ALTER TABLE {TABLE} ADD CONSTRAINT "{name}" {definition}')
        for name, definition in indexes:
            if name not in (f"{TABLE}_pkey", UNIQUE_KEY):
                cursor.execute(definition)
    decision = apps.get_model("kinerja", "ReportDecision")
    schema_editor.execute(
        schema_editor._create_fk_sql(
            decision, decision._meta.get_field("report"), "_fk_%(to_table)s_%(to_column)s"
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("kinerja", "0001_skp_reports_evaluations"),
        ("presence", "0010_ledger_partitioned_by_month"),
    ]
    operations = [
        migrations.CreateModel(
            name="ReportKey",
            fields=[
                (
                    "client_id",
                    models.UUIDField(primary_key=True, serialize=False, verbose_name="client id"),
                ),
                ("report_id", models.BigIntegerField(verbose_name="report")),
            ],
            options={
                "verbose_name": "daily report client id",
                "verbose_name_plural": "daily report client ids",
            },
        ),
        migrations.RunPython(forward, backward),
    ]
