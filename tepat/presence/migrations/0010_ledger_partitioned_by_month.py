"""The attendance ledger becomes range-partitioned by month of ``taken_at`` on PostgreSQL.

Why and how: docs/adr/0002-ledger-partitioned-by-month.md. On SQLite only the (unused, empty)
``presence_checkinkey`` table is added. On PostgreSQL, in one transaction, under an exclusive
lock on the ledger:

- the table is rebuilt as a partitioned one with the same columns, column order, identity
  sequence position, outgoing foreign keys and indexes; every row is copied; one partition per
  month that holds rows (within ten years back, one year ahead), this month and the next three,
  and a DEFAULT partition;
- the primary key becomes (id, taken_at) and the unique idempotency key a plain index: a unique
  index on a partitioned table must contain the partition key. Global uniqueness of the key
  moves to ``presence_checkinkey`` (claimed by a BEFORE INSERT trigger that skips a duplicate
  row, as ON CONFLICT DO NOTHING did);
- foreign keys pointing at the ledger (``corrects``, ``CheckinReview.event``,
  ``AbsenceRequest.correction_event``) cannot stay constraints (they would need a unique key on
  ``id`` alone); each becomes a trigger on the referencing table refusing an id the ledger does
  not hold. The ledger refuses UPDATE and DELETE, so a referenced row cannot go away later;
- the append-only trigger is put on the partitioned table (every partition gets it), and a
  TRUNCATE of the ledger (the test flush, the demo reset) empties the key table with it.

Backward rebuilds the plain table with its unique key, foreign keys and triggers as 0004 and
0007 left them.
"""

from django.db import migrations, models

from tepat.presence.partitions import month_add, partition_month_create

TABLE = "presence_checkinevent"
OLD = "presence_checkinevent_unpartitioned"
UNIQUE_KEY = "presence_checkinevent_idempotency_key_key"

FUNCTIONS = """
CREATE FUNCTION presence_ledger_key_claim() RETURNS trigger AS $$
BEGIN
    INSERT INTO presence_checkinkey (idempotency_key, event_id, taken_at)
    VALUES (NEW.idempotency_key, NEW.id, NEW.taken_at)
    ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        RETURN NULL;  -- the key is taken: skip this row without an error
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION presence_ledger_keys_truncate() RETURNS trigger AS $$
BEGIN
    -- DELETE, not TRUNCATE: the test runner's flush truncates both tables in one statement,
    -- and a table that statement holds cannot be truncated again from inside it.
    DELETE FROM presence_checkinkey;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION presence_ledger_reference_check() RETURNS trigger AS $$
DECLARE
    ref bigint;
BEGIN
    EXECUTE format('SELECT ($1).%I', TG_ARGV[0]) INTO ref USING NEW;
    IF ref IS NOT NULL AND NOT EXISTS (SELECT 1 FROM presence_checkinevent WHERE id = ref) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'foreign_key_violation',
            MESSAGE = format('%s.%s = %s: no such row in presence_checkinevent',
                             TG_TABLE_NAME, TG_ARGV[0], ref);
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""

LEDGER_TRIGGERS = f"""
CREATE TRIGGER presence_checkinevent_append_only
    BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION presence_ledger_append_only();
CREATE TRIGGER presence_checkinevent_key_claim
    BEFORE INSERT ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION presence_ledger_key_claim();
CREATE TRIGGER presence_checkinevent_keys_truncate
    AFTER TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION presence_ledger_keys_truncate();
"""


def _references(apps):
    """(table, column) of every foreign key that points at the ledger, per the models."""
    ledger = apps.get_model("presence", "CheckinEvent")
    return [  # include_hidden: AbsenceRequest.correction_event has related_name="+"
        (rel.related_model, rel.field)
        for rel in ledger._meta.get_fields(include_hidden=True)
        if rel.one_to_many and rel.auto_created
    ]


def _ref_trigger(table, column):
    return f"{table}_{column}_ledger_ref"[:63]


def _run(cursor, sql, params=None):
    cursor.execute(sql, params)


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
    _run(cursor, f"INSERT INTO {TABLE} SELECT * FROM {source}")  # noqa: S608  # nosec B608
    _run(
        cursor,
        "SELECT setval(pg_get_serial_sequence(%s, 'id'), COALESCE(MAX(id), 1), MAX(id) IS NOT NULL)"
        f" FROM {TABLE}",  # noqa: S608  # nosec B608
        [TABLE],
    )


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from django.conf import settings

    tz = settings.TIME_ZONE
    with schema_editor.connection.cursor() as cursor:
        _run(cursor, f"LOCK TABLE {TABLE} IN ACCESS EXCLUSIVE MODE")
        # Foreign keys into the ledger (including its own ``corrects``) go first.
        cursor.execute(
            "SELECT conrelid::regclass::text, conname FROM pg_constraint"
            " WHERE confrelid = %s::regclass AND contype = 'f'",
            [TABLE],
        )
        for table, name in cursor.fetchall():
            _run(cursor, f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        indexes = _index_defs(cursor, TABLE)
        fks = _foreign_keys(cursor, TABLE)
        _run(cursor, f"ALTER TABLE {TABLE} RENAME TO {OLD}")
        _run(
            cursor,
            f"CREATE TABLE {TABLE} (LIKE {OLD} INCLUDING DEFAULTS INCLUDING IDENTITY"
            " INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMMENTS)"
            " PARTITION BY RANGE (taken_at)",
        )
        _run(cursor, f"CREATE TABLE {TABLE}_default PARTITION OF {TABLE} DEFAULT")
        cursor.execute(
            "SELECT DISTINCT date_trunc('month', taken_at AT TIME ZONE %s)::date"  # nosec B608
            f" FROM {OLD} WHERE taken_at > now() - interval '10 years'"  # noqa: S608
            " AND taken_at < now() + interval '1 year'",
            [tz],
        )
        months = {(d.year, d.month) for (d,) in cursor.fetchall()}
        cursor.execute("SELECT (now() AT TIME ZONE %s)::date", [tz])
        today = cursor.fetchone()[0]
        months |= {month_add((today.year, today.month), n) for n in range(4)}
        for month in sorted(months):
            partition_month_create(cursor, TABLE, month)
        _copy_rows(cursor, OLD)
        _run(
            cursor,
            "INSERT INTO presence_checkinkey (idempotency_key, event_id, taken_at)"
            f" SELECT idempotency_key, id, taken_at FROM {OLD}",  # noqa: S608  # nosec B608
        )
        _run(cursor, f"DROP TABLE {OLD}")  # its indexes, triggers and foreign keys with it
        _run(cursor, f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY (id, taken_at)")
        for name, definition in fks:
            _run(cursor, f'ALTER TABLE {TABLE} ADD CONSTRAINT "{name}" {definition}')
        for name, definition in indexes:
            if name == f"{TABLE}_pkey":
                continue
            if name == UNIQUE_KEY:  # replays find their row by this index
                definition = definition.replace("CREATE UNIQUE INDEX", "CREATE INDEX", 1)
            _run(cursor, definition)
        _run(cursor, FUNCTIONS)
        _run(cursor, LEDGER_TRIGGERS)
        for model, field in _references(apps):
            table, column = model._meta.db_table, field.column
            when = f"WHEN (NEW.{column} IS NOT NULL)"
            _run(
                cursor,
                f"CREATE TRIGGER {_ref_trigger(table, column)}"
                f" BEFORE INSERT OR UPDATE OF {column} ON {table} FOR EACH ROW {when}"
                f" EXECUTE FUNCTION presence_ledger_reference_check('{column}')",
            )
        _run(cursor, f"ANALYZE {TABLE}")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    partitioned = f"{TABLE}_partitioned"
    with schema_editor.connection.cursor() as cursor:
        _run(cursor, f"LOCK TABLE {TABLE} IN ACCESS EXCLUSIVE MODE")
        refs = _references(apps)
        for model, field in refs:
            table, column = model._meta.db_table, field.column
            _run(cursor, f"DROP TRIGGER IF EXISTS {_ref_trigger(table, column)} ON {table}")
        indexes = _index_defs(cursor, TABLE)
        fks = _foreign_keys(cursor, TABLE)
        _run(cursor, f"ALTER TABLE {TABLE} RENAME TO {partitioned}")
        _run(
            cursor,
            f"CREATE TABLE {TABLE} (LIKE {partitioned} INCLUDING DEFAULTS INCLUDING IDENTITY"
            " INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMMENTS)",
        )
        _copy_rows(cursor, partitioned)
        _run(cursor, f"DROP TABLE {partitioned} CASCADE")  # partitions, indexes, triggers
        _run(
            cursor,
            "DROP FUNCTION presence_ledger_key_claim(), presence_ledger_keys_truncate(),"
            " presence_ledger_reference_check()",
        )
        _run(cursor, f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY (id)")
        _run(cursor, f"ALTER TABLE {TABLE} ADD CONSTRAINT {UNIQUE_KEY} UNIQUE (idempotency_key)")
        for name, definition in fks:
            _run(cursor, f'ALTER TABLE {TABLE} ADD CONSTRAINT "{name}" {definition}')
        for name, definition in indexes:
            if name not in (f"{TABLE}_pkey", UNIQUE_KEY):
                _run(cursor, definition)
        _run(
            cursor,
            f"CREATE TRIGGER presence_checkinevent_append_only BEFORE UPDATE OR DELETE ON {TABLE}"
            " FOR EACH ROW EXECUTE FUNCTION presence_ledger_append_only()",
        )
    for model, field in refs:
        schema_editor.execute(
            schema_editor._create_fk_sql(model, field, "_fk_%(to_table)s_%(to_column)s")
        )


class Migration(migrations.Migration):
    dependencies = [("presence", "0009_schedule_exceptions")]
    operations = [
        migrations.CreateModel(
            name="CheckinKey",
            fields=[
                (
                    "idempotency_key",
                    models.CharField(
                        max_length=100,
                        primary_key=True,
                        serialize=False,
                        verbose_name="idempotency key",
                    ),
                ),
                ("event_id", models.BigIntegerField(verbose_name="event")),
                ("taken_at", models.DateTimeField(verbose_name="time")),
            ],
            options={
                "verbose_name": "check-in idempotency key",
                "verbose_name_plural": "check-in idempotency keys",
            },
        ),
        migrations.RunPython(forward, backward),
    ]
