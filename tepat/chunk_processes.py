"""Chunks of independent work spread over forked worker processes, on PostgreSQL.

A whole regency's monthly work (the TPP run, a month of daily verdicts) is cut into chunks of
employees that each read, compute and write on their own connection in their own transaction,
so several processes can take them at once. `workers_for` decides how many processes the
database and the calling process allow; `chunks_map` runs a function over the chunks in that
many forked processes and yields each chunk's answer as it finishes.
"""

import gc
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from django.db import connection, connections

C = TypeVar("C")
R = TypeVar("R")


def workers_for(chunks: int, wanted: int | None) -> int:
    """How many processes take `chunks` chunks: `wanted` (None: the machine's cores) on
    PostgreSQL outside a transaction, from a process with one thread (the task worker, a
    command); one process otherwise (SQLite takes one writer at a time; work inside a
    transaction must see that transaction; forking a process that runs other threads may leave
    a lock held forever in the child)."""
    wanted = wanted or os.cpu_count() or 1
    if (
        wanted < 2
        or chunks < 2
        or connection.vendor != "postgresql"
        or connection.in_atomic_block
        or threading.active_count() > 1
        or "fork" not in multiprocessing.get_all_start_methods()
    ):
        return 1
    return min(wanted, chunks)


_INHERITED: list[Any] = []


def _worker_start() -> None:
    # The worker stops when the pool tells it to, whatever its parent (e.g. the task worker)
    # does on these signals; and it opens its own database connection: one inherited from the
    # parent is kept, unused and never closed, as closing it would end the parent's session.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    for wrapper in connections.all(initialized_only=True):
        if wrapper.connection is not None:
            _INHERITED.append(wrapper.connection)
            wrapper.connection = None


def chunks_map(work: Callable[[C], R], chunks: Sequence[C], workers: int) -> Iterator[R]:
    """`work(chunk)` of each chunk, in this process when `workers` < 2, else in `workers`
    forked processes, in the order they finish. `work` must be picklable (a module-level
    function or a `functools.partial` of one): the pool sends it with each chunk."""
    if workers < 2:
        for chunk in chunks:
            yield work(chunk)
        return
    connections.close_all()  # the workers are forked: they must not share this connection
    context = multiprocessing.get_context("fork")
    # The workers inherit this process's objects frozen: their collections leave them out (and
    # do not copy the pages that hold them); this process unfreezes its own at once.
    gc.freeze()
    try:
        pool = context.Pool(workers, initializer=_worker_start)
    finally:
        gc.unfreeze()
    with pool:
        yield from pool.imap_unordered(work, chunks)
