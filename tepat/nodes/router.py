"""Reads of dashboards, recaps and exports from a PostgreSQL streaming replica; everything
else from the primary.

Set ``DATABASE_REPLICA_URL`` and settings add a ``replica`` database, this router and
``ReplicaReadsMiddleware``. Which pages read from the replica is an explicit list in settings
(``TEPAT_REPLICA_VIEWS``: a view module, or one view by its dotted name), never a guess from
the SQL: a page on it shows data a moment old (the replica's replay lag, normally well under a
second), which a dashboard or a monthly recap can afford and a login, a check-in or a review
decision cannot. A management command or a task that only reads (an export) opts in with
``with replica_reads():``.

Always on the primary, even inside such a page:
- every write (``db_for_write``), and every read inside a transaction on the primary (a read
  that decides a write must see the primary's rows, and its locks);
- the tables of the accounts, sessions, second factor, login throttling and task queue
  (``REPLICA_APPS`` lists the only apps read from the replica): a session written on the
  primary a moment ago must not look missing on the replica and log the user out.
"""

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import connections, models
from django.http import HttpRequest, HttpResponse

PRIMARY = "default"
REPLICA = "replica"
# The domain data a dashboard, a recap or an export reads.
REPLICA_APPS = frozenset({"org", "presence", "kinerja", "tpp", "monitor", "audit", "ledger"})
READ_METHODS = frozenset({"GET", "HEAD"})

_replica_reads: ContextVar[bool] = ContextVar("tepat_replica_reads", default=False)


@contextmanager
def replica_reads() -> Iterator[None]:
    """Inside this block, reads of the domain tables go to the replica (when one is
    configured and no transaction is open on the primary)."""
    token = _replica_reads.set(True)
    try:
        yield
    finally:
        _replica_reads.reset(token)


def replica_reads_active() -> bool:
    return _replica_reads.get()


class ReplicaRouter:
    """Django database router (settings.DATABASE_ROUTERS, installed with a replica)."""

    def db_for_read(self, model: type[models.Model], **hints: Any) -> str:
        if (
            _replica_reads.get()
            and model._meta.app_label in REPLICA_APPS
            and REPLICA in settings.DATABASES
            and not connections[PRIMARY].in_atomic_block
        ):
            return REPLICA
        return PRIMARY

    def db_for_write(self, model: type[models.Model], **hints: Any) -> str:
        return PRIMARY

    def allow_relation(self, obj1: models.Model, obj2: models.Model, **hints: Any) -> bool | None:
        # The replica holds the primary's rows: a row read from either may point at the other.
        if {obj1._state.db, obj2._state.db} <= {PRIMARY, REPLICA}:
            return True
        return None

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        # A streaming replica is read-only; it receives the primary's schema by replication.
        return False if db == REPLICA else None


def view_names(view_func: Callable[..., Any]) -> tuple[str, str]:
    """The module and the dotted name of a view (function or class-based)."""
    target = getattr(view_func, "view_class", view_func)
    module = getattr(target, "__module__", "") or ""
    return module, f"{module}.{getattr(target, '__qualname__', '')}"


def view_reads_replica(view_func: Callable[..., Any], listed: Iterable[str]) -> bool:
    module, name = view_names(view_func)
    listed = frozenset(listed)
    return module in listed or name in listed


class ReplicaReadsMiddleware:
    """Turns on ``replica_reads`` for GET and HEAD requests to a view in
    ``settings.TEPAT_REPLICA_VIEWS``; a POST to the same view reads from the primary."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.views = frozenset(settings.TEPAT_REPLICA_VIEWS)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _replica_reads.set(False)
        try:
            return self.get_response(request)
        finally:
            _replica_reads.reset(token)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: Any,
        view_kwargs: Any,
    ) -> None:
        if request.method in READ_METHODS and view_reads_replica(view_func, self.views):
            _replica_reads.set(True)
