"""The device's HTTP client: one connection per request (`Connection: close`), as the spec's
examples show, with an optional `Expect: 100-continue` exchange. Standard library only."""

from __future__ import annotations

import http.client
import re
import select
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

from zkemu.protocol import USER_AGENT

_CONTINUE = re.compile(rb"HTTP/1\.[01] 100")


class TransportError(OSError):
    """The request failed on the wire: refused, reset, closed without a reply, or timed out."""


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str] = field(default_factory=dict)  # lower-cased names
    body: bytes = b""
    continue_received: bool = False

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def text(self, encoding: str = "utf-8") -> str:
        return self.body.decode(encoding, errors="replace")


def encode_query(query: Sequence[tuple[str, str]]) -> str:
    """Devices leave `,` `:` and `;` alone in values and percent-encode spaces (`Ver%202.0`)."""
    return "&".join(f"{key}={quote(value, safe=',:;.-_~')}" for key, value in query)


class HttpTransport:
    """Plain-HTTP client bound to a base URL such as `http://127.0.0.1:8000` (a path prefix is
    kept: `http://host/prefix` -> `/prefix/iclock/...`)."""

    def __init__(
        self, base_url: str, *, timeout: float = 5.0, user_agent: str = USER_AGENT
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"need an http://host:port base URL, got {base_url!r}")
        self.host = parts.hostname
        self.port = parts.port or 80
        self.prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self.user_agent = user_agent

    def request(
        self,
        method: str,
        path: str,
        query: Sequence[tuple[str, str]] = (),
        body: bytes | None = None,
        *,
        expect_continue: bool = False,
        expect_wait: float = 1.0,
        content_type: str | None = None,
    ) -> Reply:
        target = self.prefix + path + (f"?{encode_query(query)}" if query else "")
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            self._send_head(conn, method, target, body, content_type, expect_continue)
            continued = self._send_body(conn, body, expect_continue, expect_wait)
            response = conn.getresponse()
            data = response.read()
            headers = {name.lower(): value for name, value in response.getheaders()}
            return Reply(response.status, headers, data, continued)
        except (OSError, http.client.HTTPException) as exc:
            raise TransportError(f"{method} {path}: {exc!r}") from exc
        finally:
            conn.close()

    def _send_head(
        self,
        conn: http.client.HTTPConnection,
        method: str,
        target: str,
        body: bytes | None,
        content_type: str | None,
        expect_continue: bool,
    ) -> None:
        conn.putrequest(method, target, skip_accept_encoding=True)
        conn.putheader("User-Agent", self.user_agent)
        conn.putheader("Accept", "*/*")
        conn.putheader("Connection", "close")
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
            if content_type:
                conn.putheader("Content-Type", content_type)
            if expect_continue:
                conn.putheader("Expect", "100-continue")
        conn.endheaders()

    @staticmethod
    def _send_body(
        conn: http.client.HTTPConnection, body: bytes | None, expect: bool, wait: float
    ) -> bool:
        """Sends the body; with Expect, first waits up to `wait` s for `100 Continue` (and sends
        anyway when none comes, like curl). If the server answers with a final status instead,
        the body is not sent. Returns whether a 100 was seen (http.client skips it later)."""
        if body is None:
            return False
        verdict = _await_continue(conn, wait) if expect else "send"
        if verdict != "final":
            conn.send(body)
        return verdict == "continue"


def _await_continue(conn: http.client.HTTPConnection, wait: float) -> str:
    sock = conn.sock
    if sock is None:
        return "timeout"
    readable, _, _ = select.select([sock], [], [], wait)
    if not readable:
        return "timeout"
    head = b""
    for _ in range(50):  # bounded: a status line arrives in one or two segments
        head = sock.recv(64, socket.MSG_PEEK)
        if not head or len(head) >= 12:
            break
        time.sleep(0.005)
    return "continue" if _CONTINUE.match(head) else "final"
