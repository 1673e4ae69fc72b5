"""Hand-written SQL for the phone check-in path: the token look-up, the check-in context and
the ledger INSERT.

Why not the ORM here: at the morning peak every check-in runs these three statements, and
building them through the ORM cost about ten times the CPU of running them (measured in
docs/performance.md). The statements are fixed text with parameters, so they are built once
(no value is ever formatted into them: hence the S608/B608 exemptions);
the column lists come from the models' ``_meta``, so a new column is picked up without an
edit here. The SQL is plain SQL that PostgreSQL and SQLite (≥ 3.35, for ``RETURNING``) both
run; values go in through the model fields' own ``get_db_prep_save`` and come out through
the same converters the ORM applies, so a row read here equals one the ORM would build.

Everything else (sites, devices, admin, reports) keeps using the ORM.
"""

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache, lru_cache
from typing import Any, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections, models
from django.db.models import signals
from django.db.models.base import ModelState

from tepat.accounts.models import User
from tepat.org.models import Employee
from tepat.presence.models import CheckinEvent, PhoneDevice, PresencePolicy

M = TypeVar("M", bound=models.Model)

RECENT_EVENTS = 20  # how many of an employee's past events the risk checks compare with
# ... taken within this window around the request (tepat.rules.risk; why these bounds, and
# what they leave out, in _recent_window). They let PostgreSQL read one or two month
# partitions of the ledger instead of all of them.
RECENT_DAYS_BACK = timedelta(days=31)
RECENT_AHEAD = timedelta(days=1)


# --- running a statement ------------------------------------------------------------------


def _db() -> Any:
    """The default database's connection of this thread. ``django.db.connection`` is a proxy
    that looks the connection up (a context-local read) on every attribute access: dozens
    per check-in, so each function here looks it up once."""
    return connections[DEFAULT_DB_ALIAS]


# While one of these statements runs: any number but None lets psycopg prepare it
# (prepare=True); so large that nothing else would ever reach it.
_PREPARE_THRESHOLD = 1 << 30


def _server_binding_cursor() -> Any:
    from django.db.backends.postgresql.base import ServerBindingCursor

    return ServerBindingCursor


def _rows(sql: str, params: Sequence[Any], *, fresh: bool = False) -> list[tuple[Any, ...]]:
    """Run one of this module's statements and return its rows.

    On PostgreSQL through a psycopg cursor with server-side binding, as a prepared statement
    (``settings.CHECKIN_SQL_PREPARE``): the values travel apart from the SQL text (psycopg
    does not quote them into it in Python), and PostgreSQL parses and plans each statement
    once per connection instead of on every check-in. Django's own cursors bind on the client
    and never prepare (so that PgBouncer's transaction pooling works); behind a PgBouncer
    older than 1.21, or without its ``max_prepared_statements``, set
    ``TEPAT_CHECKIN_PREPARE=0``. Elsewhere (SQLite), or while something wraps every
    statement (``connection.execute_wrapper``), Django's cursor runs it.

    ``fresh``: the first statement of a request, a read. Instead of Django's per-request
    health check (a ``SELECT 1`` round trip before it), run it at once; if the connection
    turns out to be dead (PostgreSQL restarted), reconnect and run it once more.
    """
    connection = _db()
    if connection.vendor != "postgresql" or connection.execute_wrappers:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows: list[tuple[Any, ...]] = cursor.fetchall()
            return rows
    if fresh and connection.connection is not None and not connection.in_atomic_block:
        connection.health_check_done = True
        try:
            return _pg_rows(connection, sql, params)
        except (OperationalError, InterfaceError):
            raw = connection.connection
            if raw is not None and not (raw.closed or raw.broken):
                raise  # the connection is alive: a real error, not a dropped connection
            connection.close()
    return _pg_rows(connection, sql, params)


def _pg_rows(connection: Any, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]]
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    started = time.monotonic()
    raw = connection.connection
    prepare = settings.CHECKIN_SQL_PREPARE
    with connection.wrap_database_errors:
        cursor = _cursor(connection, raw)
        if not prepare:
            cursor.execute(sql, params)
        else:
            # Django opens its connections with prepare_threshold=None, which turns psycopg's
            # prepared statements off altogether (prepare=True included); on for this one
            # statement only, so the ORM's statements stay as Django runs them.
            threshold, raw.prepare_threshold = raw.prepare_threshold, _PREPARE_THRESHOLD
            try:
                cursor.execute(sql, params, prepare=True)
            finally:
                raw.prepare_threshold = threshold
        rows = cursor.fetchall()
    if connection.queries_logged:
        connection.queries_log.append({"sql": sql, "time": f"{time.monotonic() - started:.6f}"})
    return rows


def _cursor(connection: Any, raw: Any) -> Any:
    """This connection's server-binding cursor, made once per psycopg connection: a new one
    per statement copies the connection's adapters each time. It holds no result between
    statements (each is read whole with ``fetchall``); a new connection gets a new cursor."""
    cursor = getattr(connection, "_tepat_checkin_cursor", None)
    if cursor is None or cursor.connection is not raw or cursor.closed:
        cursor = _server_binding_cursor()(raw)
        connection._tepat_checkin_cursor = cursor
    return cursor


# --- rows to model instances ---------------------------------------------------------------


def _columns(model: type[models.Model], alias: str) -> str:
    return ", ".join(f'{alias}."{f.column}"' for f in model._meta.concrete_fields)


@lru_cache(maxsize=256)
def _column_converters(model: type[models.Model], name: str, ops: Any) -> tuple[Any, list[Any]]:
    """The converters the ORM's compiler applies to a column read from the database (on
    PostgreSQL none for the columns read here; on SQLite text → datetime, 0/1 → bool, …).
    Keyed by the connection's ``ops`` because the backend's converters are bound to it."""
    connection = _db()
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)
    col = field.get_col(model._meta.db_table)
    return col, ops.get_db_converters(col) + field.get_db_converters(connection)


@lru_cache(maxsize=64)
def _converters(model: type[models.Model], ops: Any) -> list[tuple[int, Any, list[Any]]]:
    """Per column of ``model`` that needs any, its place in the row and its converters."""
    out = []
    for i, f in enumerate(model._meta.concrete_fields):
        col, converters = _column_converters(model, f.name, ops)
        if converters:
            out.append((i, col, converters))
    return out


def _from_db(model: type[models.Model], values: Sequence[Any]) -> list[Any]:
    """One row of ``model``'s concrete columns as the ORM would read it."""
    connection = _db()
    values = list(values)
    for i, col, converters in _converters(model, connection.ops):
        for convert in converters:
            values[i] = convert(values[i], col, connection)
    return values


def _instance(model: type[M], values: Sequence[Any]) -> M:
    """A saved instance of ``model`` from its concrete columns, as ``Model.from_db`` builds
    it; without ``Model.__init__`` (its per-field ``setattr`` and the two signals), when no
    receiver listens to those signals for ``model``: the attribute values land in the
    instance's ``__dict__``, where ``__init__`` would put them for a new instance."""
    connection = _db()
    attnames = _attnames(model)
    if len(values) != len(attnames):
        raise ValueError(f"{model.__name__}: {len(values)} values for {len(attnames)} columns")
    return _saved(model, attnames, _from_db(model, values), connection.alias)


def _saved(model: type[M], attnames: Sequence[str], values: Sequence[Any], alias: str) -> M:
    if signals.pre_init.has_listeners(model) or signals.post_init.has_listeners(model):
        return model.from_db(alias, list(attnames), list(values))
    instance = model.__new__(model)
    state = instance._state = ModelState()
    state.adding = False
    state.db = alias
    instance.__dict__.update(zip(attnames, values, strict=True))
    return instance


@cache
def _attnames(model: type[models.Model]) -> tuple[str, ...]:
    return tuple(f.attname for f in model._meta.concrete_fields)


def _n(model: type[models.Model]) -> int:
    return len(model._meta.concrete_fields)


# --- the app token ---------------------------------------------------------------------------


@cache
def _token_sql() -> str:
    return (
        "SELECT "  # noqa: S608  # nosec B608
        f"{_columns(User, 'u')}, {_columns(PhoneDevice, 'd')}, {_columns(Employee, 'e')}"
        ' FROM "presence_apptoken" t'
        ' JOIN "accounts_user" u ON u."id" = t."user_id"'
        ' JOIN "presence_phonedevice" d ON d."id" = t."device_id"'
        ' LEFT JOIN "org_employee" e ON e."id" = u."employee_id"'
        ' WHERE t."token_hash" = %s AND t."expires_at" > %s'
    )


def token_row(token_hash: str, now: datetime) -> tuple[User, PhoneDevice] | None:
    """The user (with their employee, if any) and the phone of an unexpired token."""
    connection = _db()
    rows = _rows(_token_sql(), [token_hash, connection.ops.adapt_datetimefield_value(now)])
    if not rows:
        return None
    row = rows[0]
    nu, nd = _n(User), _n(PhoneDevice)
    user = _instance(User, row[:nu])
    device = _instance(PhoneDevice, row[nu : nu + nd])
    employee = None if row[nu + nd] is None else _instance(Employee, row[nu + nd :])
    user.employee = employee  # cached: no query on first use
    return user, device


# --- the check-in context ------------------------------------------------------------------


@dataclass(frozen=True)
class RecentFix:
    taken_at: datetime
    latitude: float
    longitude: float
    accuracy_m: float | None


@dataclass(frozen=True)
class ContextRow:
    unit_id: int | None  # the unit of the assignment in force; None without one
    policy: PresencePolicy | None  # the version in force; None before the first
    device_shared: int  # other employees who bound the same phone key
    seq_used: bool  # the one sequence number asked about is already in the ledger
    recent: list[RecentFix]  # newest first, refused check-ins left out


@cache
def _context_sql() -> str:
    # One row of scalar sub-selects, joined with the policy row in force and the employee's
    # last events: one round trip, whatever the employee's history. ON 1 = 1 (not TRUE):
    # the same text on both databases.
    return (
        "SELECT c.unit_id, c.shared, c.seq_used,"  # noqa: S608  # nosec B608
        f" {_columns(PresencePolicy, 'p')},"
        " r.taken_at, r.latitude, r.longitude, r.accuracy_m"
        " FROM (SELECT"
        '  (SELECT a."unit_id" FROM "org_assignment" a'
        '    WHERE a."employee_id" = %s AND a."valid_from" <= %s'
        '    AND (a."valid_to" IS NULL OR a."valid_to" > %s)'
        '    ORDER BY a."valid_from" DESC, a."id" DESC LIMIT 1) AS unit_id,'
        '  (SELECT COUNT(*) FROM "presence_phonedevice" d'
        '    WHERE d."key_fingerprint" = %s AND d."employee_id" <> %s) AS shared,'
        '  (SELECT COUNT(*) FROM "presence_checkinevent" s'
        '    WHERE s."device_id" = %s AND s."seq" = %s) AS seq_used'
        " ) c"
        ' LEFT JOIN (SELECT * FROM "presence_presencepolicy" WHERE "valid_from" <= %s'
        '   ORDER BY "valid_from" DESC LIMIT 1) p ON 1 = 1'
        ' LEFT JOIN (SELECT "taken_at", "latitude", "longitude", "accuracy_m"'
        '   FROM "presence_checkinevent"'
        '   WHERE "employee_id" = %s AND "latitude" IS NOT NULL AND "status" <> %s'
        '   AND "taken_at" >= %s AND "taken_at" < %s'
        f'   ORDER BY "taken_at" DESC LIMIT {RECENT_EVENTS}) r ON 1 = 1'
        " ORDER BY r.taken_at DESC"
    )


def _recent_window(now: datetime) -> tuple[Any, Any]:
    """The ``taken_at`` range the risk checks' recent fixes are read from: the last 31 days
    to one day ahead of ``now`` (the request's arrival).

    The rules (``tepat.rules.risk``) compare a check-in with the employee's newest fix
    (impossible travel speed) and with the newest 20 (a position repeated to the metre), of
    any age. Bounded, the statement reads only the month partitions the window touches (one
    or two, three at most) instead of every month the ledger holds, the DEFAULT partition and
    the months created ahead. What the bounds leave out:

    - before 31 days: nothing for an employee with 20 fixes in the last month (ten working
      days of check-in and check-out): the same 20 rows as without a bound. Someone back
      after more than a month without a fix is compared with fewer, perhaps none: the
      travel-speed rule cannot fire across 744 hours unless the policy's fastest plausible
      travel is under 27 km/h (no two places on Earth are more than 20,038 km apart; the
      shipped policy says 120 km/h), and a position repeated from more than a month ago
      is not flagged.
    - after one day ahead: nothing. Only phone check-ins carry a position (machine punches,
      operator entries and corrections have none), one whose ``taken_at`` is more than
      ``future_tolerance_s`` after its arrival is refused (and refused ones are not read),
      and the policy keeps that tolerance at most a day (``PresencePolicy``).

    A batch reads the same window, so a single check-in and a batch item are judged alike.
    """
    connection = _db()
    ops = connection.ops
    return (
        ops.adapt_datetimefield_value(now - RECENT_DAYS_BACK),
        ops.adapt_datetimefield_value(now + RECENT_AHEAD),
    )


def _recent(rows: Sequence[Sequence[Any]]) -> list[RecentFix]:
    """The recent fixes in the last four columns of ``rows`` (``taken_at`` converted as the
    ORM converts it; on PostgreSQL it needs nothing)."""
    connection = _db()
    col, converters = _column_converters(CheckinEvent, "taken_at", connection.ops)
    recent = []
    for r in rows:
        taken_at = r[-4]
        if taken_at is None:
            continue
        for convert in converters:
            taken_at = convert(taken_at, col, connection)
        recent.append(RecentFix(taken_at, *r[-3:]))
    return recent


def context_row(
    *,
    employee_id: int,
    now: datetime,
    day: date,
    device_id: int | None,
    key_fingerprint: str | None,
    seq: int | None,
) -> ContextRow:
    """What judging a check-in needs from the database, in one statement.

    ``seq``: the one sequence number to look up (a single check-in); a batch asks with
    ``seqs_in_ledger`` instead.
    """
    connection = _db()
    d = connection.ops.adapt_datefield_value(day)
    params = [employee_id, d, d, key_fingerprint, employee_id, device_id, seq, d]
    params += [employee_id, CheckinEvent.Status.REFUSED.value, *_recent_window(now)]
    rows = _rows(_context_sql(), params)
    first = rows[0]
    np = _n(PresencePolicy)
    policy_values = first[3 : 3 + np]
    recent = _recent(rows)
    return ContextRow(
        unit_id=first[0],
        policy=None if policy_values[0] is None else _instance(PresencePolicy, policy_values),
        device_shared=first[1],
        seq_used=bool(first[2]),
        recent=recent,
    )


# --- token and context in one statement (the single check-in) ------------------------------


def _start_columns() -> tuple[int, int]:
    """Where the token's row ends in the CTE's columns, and which of them is the user's
    employee id."""
    user_fields = [f.attname for f in User._meta.concrete_fields]
    return _n(User) + _n(PhoneDevice) + _n(Employee), user_fields.index("employee_id")


def _start_sql_with(param: Callable[[str], str]) -> str:
    """The start statement, each parameter written as ``param(its name)``: ``%s`` for the
    single check-in (``_start_sql``), a VALUES row's column for a group of them."""
    # The token's row (as _token_sql) with the context's per-employee values computed in the
    # same CTE, so the sub-selects run once, not once per recent fix; the CTE is referenced
    # twice, so PostgreSQL evaluates it once. Same text on both databases.
    width, emp = _start_columns()
    names = ", ".join(f"c{i}" for i in range(width))
    e = f"u.{_q(User, 'employee_id')}"
    d, f = f"d.{_q(PhoneDevice, 'id')}", f"d.{_q(PhoneDevice, 'key_fingerprint')}"
    return (
        f"WITH c ({names}, unit_id, shared, seq_used) AS (SELECT "  # noqa: S608  # nosec B608
        f"{_columns(User, 'u')}, {_columns(PhoneDevice, 'd')}, {_columns(Employee, 'e')},"
        '  (SELECT a."unit_id" FROM "org_assignment" a'
        f'    WHERE a."employee_id" = {e} AND a."valid_from" <= {param("day")}'
        f'    AND (a."valid_to" IS NULL OR a."valid_to" > {param("day")})'
        '    ORDER BY a."valid_from" DESC, a."id" DESC LIMIT 1),'
        '  (SELECT COUNT(*) FROM "presence_phonedevice" o'
        f'    WHERE o."key_fingerprint" = {f} AND o."employee_id" <> {e}),'
        '  (SELECT COUNT(*) FROM "presence_checkinevent" s'
        f'    WHERE s."device_id" = {d} AND s."seq" = {param("seq")})'
        ' FROM "presence_apptoken" t'
        ' JOIN "accounts_user" u ON u."id" = t."user_id"'
        ' JOIN "presence_phonedevice" d ON d."id" = t."device_id"'
        ' LEFT JOIN "org_employee" e ON e."id" = u."employee_id"'
        f' WHERE t."token_hash" = {param("token_hash")} AND t."expires_at" > {param("now")})'
        f" SELECT c.*, {_columns(PresencePolicy, 'p')},"
        " r.taken_at, r.latitude, r.longitude, r.accuracy_m"
        " FROM c"
        f' LEFT JOIN (SELECT * FROM "presence_presencepolicy" WHERE "valid_from" <= {param("day")}'
        '   ORDER BY "valid_from" DESC LIMIT 1) p ON 1 = 1'
        ' LEFT JOIN (SELECT "taken_at", "latitude", "longitude", "accuracy_m"'
        '   FROM "presence_checkinevent"'
        f'   WHERE "employee_id" = (SELECT c{emp} FROM c)'
        f'   AND "latitude" IS NOT NULL AND "status" <> {param("refused")}'
        f'   AND "taken_at" >= {param("lo")} AND "taken_at" < {param("hi")}'
        f'   ORDER BY "taken_at" DESC LIMIT {RECENT_EVENTS}) r ON 1 = 1'
        " ORDER BY r.taken_at DESC"
    )


@cache
def _start_sql() -> str:
    return _start_sql_with(lambda _name: "%s")


@cache
def _start_param_names() -> tuple[str, ...]:
    """The names of ``_start_sql``'s parameters, in the order of its placeholders."""
    names: list[str] = []

    def placeholder(name: str) -> str:
        names.append(name)
        return "%s"

    _start_sql_with(placeholder)
    return tuple(names)


def _q(model: type[models.Model], attname: str) -> str:
    field = next(f for f in model._meta.concrete_fields if f.attname == attname)
    return f'"{field.column}"'


@dataclass(frozen=True)
class StartRow:
    user: User  # with ``user.employee`` loaded (None: not an employee's account)
    device: PhoneDevice
    context: ContextRow | None  # None when the account has no employee


def _start_params(*, token_hash: str, now: datetime, day: date, seq: int | None) -> list[Any]:
    connection = _db()
    lo, hi = _recent_window(now)
    named = {
        "day": connection.ops.adapt_datefield_value(day),
        "seq": seq,
        "token_hash": token_hash,
        "now": connection.ops.adapt_datetimefield_value(now),
        "refused": CheckinEvent.Status.REFUSED.value,
        "lo": lo,
        "hi": hi,
    }
    return [named[name] for name in _start_param_names()]


def checkin_start_row(
    *, token_hash: str, now: datetime, day: date, seq: int | None
) -> StartRow | None:
    """A single check-in's first and only read: the unexpired token's user, employee and
    phone (as ``token_row``) together with the check-in context (as ``context_row``); None
    for an unknown or expired token. The first statement of the request (``fresh``)."""
    params = _start_params(token_hash=token_hash, now=now, day=day, seq=seq)
    rows = _grouped(_START_GROUP, params)
    if rows is None:  # not grouped, or the group's statement failed: alone
        rows = _rows(_start_sql(), params, fresh=True)
    if not rows:
        return None
    first = rows[0]
    width = _start_columns()[0]
    nu, nd = _n(User), _n(PhoneDevice)
    user = _instance(User, first[:nu])
    device = _instance(PhoneDevice, first[nu : nu + nd])
    employee = None if first[nu + nd] is None else _instance(Employee, first[nu + nd : width])
    user.employee = employee  # cached: no query on first use
    if employee is None:
        return StartRow(user=user, device=device, context=None)
    unit_id, shared, seq_used = first[width : width + 3]
    np = _n(PresencePolicy)
    policy_values = first[width + 3 : width + 3 + np]
    recent = _recent(rows)
    return StartRow(
        user=user,
        device=device,
        context=ContextRow(
            unit_id=unit_id,
            policy=None if policy_values[0] is None else _instance(PresencePolicy, policy_values),
            device_shared=shared,
            seq_used=bool(seq_used),
            recent=recent,
        ),
    )


def seqs_in_ledger(device_id: int, seqs: Sequence[int]) -> set[int]:
    """Which of ``seqs`` the phone already used (a batch: one statement for all items)."""
    if not seqs:
        return set()
    marks = ", ".join(["%s"] * len(seqs))
    sql = f'SELECT "seq" FROM "presence_checkinevent" WHERE "device_id" = %s AND "seq" IN ({marks})'  # noqa: S608  # nosec B608
    return {row[0] for row in _rows(sql, [device_id, *seqs])}


# --- the ledger INSERT ---------------------------------------------------------------------

_INSERT_FIELDS = [f for f in CheckinEvent._meta.concrete_fields if not f.primary_key]
_INSERT_ATTNAMES = [CheckinEvent._meta.pk.attname, *(f.attname for f in _INSERT_FIELDS)]


def _insert_rows_sql(rows: int, returning: str) -> str:
    columns = ", ".join(f'"{f.column}"' for f in _INSERT_FIELDS)
    row = "(" + ", ".join(["%s"] * len(_INSERT_FIELDS)) + ")"
    return (
        f'INSERT INTO "presence_checkinevent" ({columns}) VALUES {", ".join([row] * rows)}'  # noqa: S608  # nosec B608
        f" ON CONFLICT DO NOTHING RETURNING {returning}"
    )


@cache
def _insert_sql() -> str:
    return _insert_rows_sql(1, '"id"')


def checkin_insert(**values: Any) -> CheckinEvent | None:
    """INSERT one ledger row (``values`` by attribute name: ``employee_id``, not ``employee``)
    and return it as a saved instance; None, and nothing stored, if its idempotency key is in
    the ledger already.

    ON CONFLICT DO NOTHING instead of catching the unique violation: no error, so inside a
    batch's transaction no savepoint per item is needed (two round trips fewer each). No
    conflict target: the idempotency key is the ledger's only unique column besides the id,
    and the statement stays valid if the table is partitioned (where a unique index must
    include the partition key and would not match ``ON CONFLICT ("idempotency_key")``).
    """
    connection = _db()
    row = [values[f.attname] if f.attname in values else f.get_default() for f in _INSERT_FIELDS]
    params = [f.get_db_prep_save(v, connection) for f, v in zip(_INSERT_FIELDS, row, strict=True)]
    returned = _grouped(_INSERT_GROUP, params)
    if returned is None:  # not grouped, or the group's statement failed: alone
        returned = _rows(_insert_sql(), params)
    if not returned:
        return None
    return _saved(CheckinEvent, _INSERT_ATTNAMES, [returned[0][0], *row], connection.alias)


# --- concurrent single check-ins, one statement for several --------------------------------
#
# At the morning peak a worker's threads answer many check-ins at once, each running the same
# two statements. Run one by one, most of their cost is per statement, not per row: psycopg
# sending and reading, PostgreSQL binding and starting the plan, a durable commit per INSERT.
# So concurrent callers of the same statement are served together: the first to find none of
# that kind running leads, takes every call waiting (itself first), runs them as one
# statement (the reads as a LATERAL join over a VALUES list, the INSERTs as one multi-row
# INSERT: one commit), hands each caller its own rows, and passes the lead to the next caller
# that arrived meanwhile. Each check-in is judged exactly as before, on its own rows; nothing
# is answered before the statement that stored it has committed. A caller alone runs its
# statement alone, as before; so does everyone in a group whose statement failed, so that
# each gets its own error and no valid check-in is lost with another's.


@dataclass(eq=False)
class _Call:
    params: list[Any]
    done: threading.Event
    rows: list[tuple[Any, ...]] | None = None  # None: run the statement alone
    lead: bool = False  # woken to lead the next group


@dataclass(eq=False)
class _Group:
    """The callers of one statement waiting to run it (one per process and statement)."""

    run_many: Callable[[list[list[Any]]], list[list[tuple[Any, ...]]]]
    lock: threading.Lock
    waiting: list[_Call]
    running: bool = False


def _group_max() -> int:
    """How many check-ins one statement serves at most; 1 turns grouping off."""
    return max(1, int(settings.CHECKIN_SQL_GROUP_MAX))


def _grouped(group: _Group, params: list[Any]) -> list[tuple[Any, ...]] | None:
    """This caller's rows of ``group``'s statement, run together with the calls waiting;
    None where the caller should run the statement alone: grouping is off, the database is
    not PostgreSQL, the caller is inside a transaction (a batch: its INSERTs must commit with
    it; or autocommit turned off), or the group's statement failed.

    The leader runs the group's statement while the next callers gather behind it, so a
    group forms whenever calls arrive faster than one statement takes; a caller alone runs
    the single statement, as without grouping."""
    connection = _db()
    if (
        _group_max() == 1
        or connection.vendor != "postgresql"
        or connection.execute_wrappers
        or connection.in_atomic_block
        or (connection.connection is not None and not connection.autocommit)
        or not settings.CHECKIN_SQL_PREPARE
    ):
        return None
    call = _Call(params, threading.Event())
    with group.lock:
        group.waiting.append(call)
        leads = not group.running
        group.running = True
    if not leads:
        call.done.wait()
        if not call.lead:
            return call.rows
    # Leading: every call waiting is behind this one (the lead passes to the first waiting).
    with group.lock:
        calls = group.waiting[: _group_max()]
        del group.waiting[: len(calls)]
    try:
        for c, rows in zip(calls, group.run_many([c.params for c in calls]), strict=True):
            c.rows = rows
    except Exception:
        # Each runs its own statement: its own error, if it has one, and no valid check-in
        # lost with another's. The statement failed whole (autocommitted): nothing stored.
        for c in calls:
            c.rows = None
    finally:
        with group.lock:
            if group.waiting:
                group.waiting[0].lead = True
                group.waiting[0].done.set()
            else:
                group.running = False
        for c in calls[1:]:
            c.done.set()
    return call.rows


# The SQL types of the start statement's parameters, in the order of a group's VALUES rows.
_START_VALUES = {
    "day": "date",
    "seq": "bigint",
    "token_hash": "text",
    "now": "timestamptz",
    "refused": "text",
    "lo": "timestamptz",
    "hi": "timestamptz",
}


@lru_cache(maxsize=64)
def _grouped_start_sql(n: int) -> str:
    """``_start_sql`` for ``n`` check-ins: its parameters become the columns of a VALUES
    row, the statement runs per row (LATERAL), and each row's result carries its number."""
    if set(_start_param_names()) != set(_START_VALUES):
        raise AssertionError("_start_sql's parameters and _START_VALUES disagree")
    inner = _start_sql_with(lambda name: f"q.{name}")
    row = "(%s::int, " + ", ".join(f"%s::{t}" for t in _START_VALUES.values()) + ")"
    return (
        "SELECT q.i, s.*"  # noqa: S608  # nosec B608
        f" FROM (VALUES {', '.join([row] * n)}) AS q(i, {', '.join(_START_VALUES)})"
        f" CROSS JOIN LATERAL ({inner}) s"
        " ORDER BY q.i, s.taken_at DESC"
    )


def _grouped_start_params(calls: list[list[Any]]) -> list[Any]:
    """The parameters of ``_grouped_start_sql(len(calls))``: per call, its number and its
    named values (``_start_params`` gives each in placeholder order)."""
    params: list[Any] = []
    for i, p in enumerate(calls):
        named = dict(zip(_start_param_names(), p, strict=True))
        params += [i, *(named[c] for c in _START_VALUES)]
    return params


def _grouped_start_split(rows: Sequence[Sequence[Any]], n: int) -> list[list[tuple[Any, ...]]]:
    """The rows of ``_grouped_start_sql(n)`` as each call's own, in order."""
    out: list[list[tuple[Any, ...]]] = [[] for _ in range(n)]
    for row in rows:
        out[row[0]].append(tuple(row[1:]))
    return out


def _starts_run(calls: list[list[Any]]) -> list[list[tuple[Any, ...]]]:
    if len(calls) == 1:
        return [_rows(_start_sql(), calls[0], fresh=True)]
    params = _grouped_start_params(calls)
    rows = _rows(_grouped_start_sql(len(calls)), params, fresh=True)
    return _grouped_start_split(rows, len(calls))


_KEY_AT = [f.attname for f in _INSERT_FIELDS].index("idempotency_key")


@lru_cache(maxsize=64)
def _grouped_insert_sql(n: int) -> str:
    """``_insert_sql`` for ``n`` rows, returning each stored row's key with its id."""
    return _insert_rows_sql(n, '"id", "idempotency_key"')


def _inserts_run(calls: list[list[Any]]) -> list[list[tuple[Any, ...]]]:
    """Each call's ``[(id,)]``, or ``[]`` where its key was in the ledger already (the
    same key twice in one group: the first is stored, the second is a replay)."""
    if len(calls) == 1:
        return [_rows(_insert_sql(), calls[0])]
    returned = _rows(_grouped_insert_sql(len(calls)), [v for p in calls for v in p])
    return _grouped_insert_match(returned, calls)


def _grouped_insert_match(
    returned: Sequence[Sequence[Any]], calls: list[list[Any]]
) -> list[list[tuple[Any, ...]]]:
    """The (id, key) rows a grouped INSERT returned, as each call's ``[(id,)]`` or ``[]``."""
    stored = {key: pk for pk, key in returned}
    out: list[list[tuple[Any, ...]]] = []
    for p in calls:
        pk = stored.pop(str(p[_KEY_AT]), None)  # a key twice: the second is the replay
        out.append([] if pk is None else [(pk,)])
    return out


_START_GROUP = _Group(_starts_run, threading.Lock(), [])
_INSERT_GROUP = _Group(_inserts_run, threading.Lock(), [])
