"""Ledger indexes that every check-in wrote and no query needs, and the one the replay guard
lacked (docs/performance.md, "What changed on the check-in path", step 7).

- ``employee_id`` alone: ``checkin_employee_time_idx`` (employee_id, taken_at) serves every
  look-up by employee (a B-tree on (a, b) answers whatever one on (a) does).
- ``device_id`` alone becomes ``checkin_device_seq_idx`` (device_id, seq): the check-in's
  "sequence number already used by this phone" look-up descends once per partition instead of
  reading every row of the phone; look-ups by device alone use its first column.
- ``author_id`` and ``corrects_id``: indexed only where set (``checkin_author_idx``,
  ``checkin_corrects_idx``). Phone check-ins and machine punches, nearly every row, have
  neither, and wrote a NULL entry into both; a look-up of an author or a corrected event
  (``= x``, ``IN (…)``: never true for NULL) uses the partial index.
- PostgreSQL only, the ``varchar_pattern_ops`` copies Django adds for ``LIKE 'prefix%'`` on the
  ledger's and the key table's ``idempotency_key`` (``…_like``): nothing in Tepat filters the
  key by prefix (equality uses the plain index; the admin's search is ``%…%``, which no B-tree
  serves).

Database side by hand (``SeparateDatabaseAndState``): on SQLite an AlterField remakes the
table, which would drop the ledger's append-only triggers; here each index is dropped or
created on its own, on both databases. On PostgreSQL the ledger's indexes are partitioned
indexes: dropping or creating one does so in every partition.
"""

import django.core.validators
from django.conf import settings
from django.db import migrations, models

LEDGER = "presence_checkinevent"
KEYS = "presence_checkinkey"
NEW_INDEXES = [
    models.Index(fields=["device", "seq"], name="checkin_device_seq_idx"),
    models.Index(
        fields=["author"], condition=models.Q(author__isnull=False), name="checkin_author_idx"
    ),
    models.Index(
        fields=["corrects"],
        condition=models.Q(corrects__isnull=False),
        name="checkin_corrects_idx",
    ),
]
# The foreign keys whose own index goes: (field name, column)
UNINDEXED = [
    ("employee", "employee_id"),
    ("device", "device_id"),
    ("author", "author_id"),
    ("corrects", "corrects_id"),
]


def _single_column_indexes(schema_editor, table, column):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return [
        name
        for name, info in constraints.items()
        if info["index"]
        and not info["unique"]
        and not info["primary_key"]
        and info["columns"] == [column]
        and not name.endswith("_like")
        and info.get("type") == models.Index.suffix
    ]


def _like_indexes(schema_editor, table):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = %s"
            " AND indexdef LIKE %s AND indexdef LIKE %s",
            [table, "%(idempotency_key varchar_pattern_ops)%", "%USING btree%"],
        )
        return [name for (name,) in cursor.fetchall()]


def forward(apps, schema_editor):
    ledger = apps.get_model("presence", "CheckinEvent")
    quote = schema_editor.quote_name
    for _field, column in UNINDEXED:
        for name in _single_column_indexes(schema_editor, LEDGER, column):
            schema_editor.execute(f"DROP INDEX {quote(name)}")
    for index in NEW_INDEXES:
        schema_editor.add_index(ledger, index)
    if schema_editor.connection.vendor == "postgresql":
        for table in (LEDGER, KEYS):
            for name in _like_indexes(schema_editor, table):
                schema_editor.execute(f"DROP INDEX {quote(name)}")


def backward(apps, schema_editor):
    ledger = apps.get_model("presence", "CheckinEvent")
    keys = apps.get_model("presence", "CheckinKey")
    for index in NEW_INDEXES:
        schema_editor.remove_index(ledger, index)
    for name, _column in UNINDEXED:
        field = ledger._meta.get_field(name)
        schema_editor.execute(schema_editor._create_index_sql(ledger, fields=[field]))
    if schema_editor.connection.vendor == "postgresql":
        for model in (ledger, keys):
            field = model._meta.get_field("idempotency_key")
            schema_editor.execute(schema_editor._create_like_index_sql(model, field))


def _unindexed(name, to, verbose_name, related_name="+", *, null=True):
    """The ledger's foreign key ``name`` as before, without an index of its own."""
    field = models.ForeignKey(
        to,
        on_delete=models.PROTECT,
        related_name=related_name,
        verbose_name=verbose_name,
        db_index=False,
        null=null,
        blank=null,
    )
    return migrations.AlterField(model_name="checkinevent", name=name, field=field)


class Migration(migrations.Migration):
    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("presence", "0012_machine_command_employee_cancelled"),
    ]

    operations = [
        migrations.AlterField(
            model_name="presencepolicy",
            name="future_tolerance_s",
            field=models.PositiveIntegerField(
                default=120,
                validators=[django.core.validators.MaxValueValidator(86400)],
                verbose_name="tolerance for a check-in time in the future (s)",
            ),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                _unindexed("employee", "org.employee", "employee", null=False),
                _unindexed("device", "presence.phonedevice", "phone"),
                _unindexed("author", settings.AUTH_USER_MODEL, "entered by"),
                _unindexed("corrects", "presence.checkinevent", "corrects", "corrections"),
                *(
                    migrations.AddIndex(model_name="checkinevent", index=index)
                    for index in NEW_INDEXES
                ),
            ],
            database_operations=[migrations.RunPython(forward, backward)],
        ),
    ]
