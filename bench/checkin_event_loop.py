"""What the check-in would reach on an event loop: a measurement, not a way to serve Tepat.

The server Tepat ships (granian WSGI, threads; tepat/presence/checkin_sql.py groups the
statements of a worker's concurrent check-ins) pays a thread hand-off and a wake-up per
check-in. This module serves the same check-in the other way — one event loop per worker,
the judgement (``checkin_lane.checkin_answer``, unchanged) run in a greenlet that hands each
of its two statements to the loop, the loop grouping them per statement on an async psycopg
connection (the same grouped SQL as the shipped grouping) — and runs the check-in bench's
timed runs against it:

    python -m bench.checkin_event_loop [--workers 2] [--runs 2]

What it leaves out, so that it only measures: anything but a plain valid check-in is
answered 400 (the bench sends none); no response headers but the content type; no
``request_started``/``request_finished``; a unit's sites read on a cache miss block the loop
(``DJANGO_ALLOW_ASYNC_UNSAFE``, set only in this server's processes). It writes nothing to
docs/performance.md; bench/checkin_notes.md (step 9) records what it measured.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

from bench import checkin, common

_STATEMENTS: dict[str, Any] = {}  # statement text -> its _LoopGroup, in the server process


def _server_setup() -> None:
    """In each server worker: Django, and ``checkin_sql._rows`` handing the two statements of
    a check-in running in a lane greenlet to the event loop."""
    import django

    django.setup()
    from greenlet import getcurrent

    from tepat.presence import checkin_sql

    real_rows = checkin_sql._rows
    start, insert = checkin_sql._start_sql(), checkin_sql._insert_sql()
    _STATEMENTS.update({start: _LoopGroup("start"), insert: _LoopGroup("insert")})

    def rows(sql: str, params: Any, *, fresh: bool = False) -> list[tuple[Any, ...]]:
        current = getcurrent()
        if getattr(current, "lane", False) and sql in _STATEMENTS:
            answer: list[tuple[Any, ...]] = current.parent.switch((sql, list(params)))
            return answer
        return real_rows(sql, params, fresh=fresh)

    checkin_sql._rows = rows


class _LoopGroup:
    """The calls of one statement waiting on this worker's loop, run as one statement."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.waiting: list[tuple[list[Any], asyncio.Future[Any]]] = []
        self.running = False
        self.conn: Any = None
        self.drain: asyncio.Future[None] | None = None

    async def run(self, params: list[Any]) -> Any:
        future = asyncio.get_running_loop().create_future()
        self.waiting.append((params, future))
        if not self.running:
            self.running = True
            self.drain = asyncio.ensure_future(self._drain())
        return await future

    async def _drain(self) -> None:
        import psycopg
        from django.conf import settings

        try:
            if self.conn is None:
                db = settings.DATABASES["default"]
                self.conn = await psycopg.AsyncConnection.connect(
                    f"host={db['HOST']} port={db['PORT']} dbname={db['NAME']} user={db['USER']}",
                    autocommit=True,
                    options="-c TimeZone=UTC",
                )
            while self.waiting:
                calls, self.waiting = self.waiting[:32], self.waiting[32:]
                try:
                    results = await self._run_many([params for params, _f in calls])
                except Exception as exc:
                    for _params, future in calls:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_params, future), rows in zip(calls, results, strict=True):
                    if not future.done():  # a request the client gave up on is cancelled
                        future.set_result(rows)
        finally:
            self.running = False

    async def _fetch(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        cursor = self.conn.cursor()
        await cursor.execute(sql, params, prepare=True)
        rows: list[tuple[Any, ...]] = await cursor.fetchall()
        return rows

    async def _run_many(self, calls: list[list[Any]]) -> list[list[tuple[Any, ...]]]:
        from tepat.presence import checkin_sql as sql

        n = len(calls)
        if self.kind == "start":
            if n == 1:
                return [await self._fetch(sql._start_sql(), calls[0])]
            params = sql._grouped_start_params(calls)
            return sql._grouped_start_split(await self._fetch(sql._grouped_start_sql(n), params), n)
        if n == 1:
            return [await self._fetch(sql._insert_sql(), calls[0])]
        flat = [v for p in calls for v in p]
        return sql._grouped_insert_match(await self._fetch(sql._grouped_insert_sql(n), flat), calls)


async def _answer(token: str, body: bytes) -> Any:
    """``checkin_answer`` in a greenlet; each statement it runs is awaited on the loop."""
    from greenlet import greenlet

    from tepat.presence.checkin_lane import checkin_answer

    lane = greenlet(checkin_answer)
    lane.lane = True
    request = lane.switch(token, body)
    while not lane.dead:
        sql, params = request
        try:
            rows = await _STATEMENTS[sql].run(params)
        except Exception as exc:
            request = lane.throw(exc)
            continue
        request = lane.switch(rows)
    return request


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The ASGI application granian serves (``bench.checkin_event_loop:app``)."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if not _STATEMENTS:
        _server_setup()
    if scope["path"] == "/healthz":
        status, content = 200, b"ok"
    else:
        from tepat.api import api
        from tepat.presence.checkin_lane import _bearer

        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        token = _bearer(dict(scope["headers"]).get(b"authorization", b"").decode())
        answered = await _answer(token, body)
        if answered is None:
            status, content = 400, b'{"detail": "not a plain valid check-in"}'
        else:
            status, data = answered
            content = api.renderer.render(None, data, response_status=status).encode()  # type: ignore[arg-type]
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(content))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content})


def _command(self: checkin.Server) -> list[str]:
    a = self.args
    return [
        *(str(checkin.VENV_BIN / "granian"), "--interface", "asgi", "--host", "127.0.0.1"),
        *("--port", str(a.port), "--workers", str(a.workers), "--no-ws"),
        *("--log-level", "warning", "--backlog", "2048", "bench.checkin_event_loop:app"),
    ]


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    server_env = common.server_env

    def env(extra: dict[str, str] | None = None) -> dict[str, str]:
        # The loop groups the statements itself: the threads' grouping (a lock and an event
        # the lane's greenlets would wait on, blocking the loop) stays off.
        loop = {"DJANGO_ALLOW_ASYNC_UNSAFE": "true", "TEPAT_CHECKIN_GROUP_MAX": "1"}
        return server_env({**loop, **(extra or {})})

    common.server_env = env
    checkin.Server.command = _command  # type: ignore[method-assign]
    defaults = ["--workers", "2", "--runs", "2", "--phases", "runs", "--no-report"]
    return checkin.main([*defaults, *argv])


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
