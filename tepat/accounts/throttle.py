"""Login throttling: a thin layer over django-axes, shared by the web login and the phone app.

Five failed passwords for one account from one client address lock that pair for
``AXES_COOLOFF_TIME`` (settings). The web login and the admin login go through
``django.contrib.auth.authenticate``, where axes's backend refuses a locked pair and its signal
handler counts failures; the phone app's token endpoint calls ``login_locked`` first so it can
answer 429 with the same message, and ``login_succeeded`` after a good password.

The lockout message is the same whether or not the account exists, and the log lines carry
keyed pseudonyms (``client_pseudonym``), never the NIP, the username or the IP address.
"""

import hashlib
import hmac
import ipaddress
from datetime import UTC, datetime, timedelta
from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from tepat.accounts.models import RequestCount


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or behind ``TRUSTED_PROXY_COUNT`` proxies the
    X-Forwarded-For entry the outermost trusted proxy appended. Entries further left are
    written by the client and never trusted."""
    remote = request.META.get("REMOTE_ADDR")
    hops = settings.TRUSTED_PROXY_COUNT
    if hops <= 0:
        return remote
    header = request.META.get("HTTP_X_FORWARDED_FOR", "")
    forwarded = [part.strip() for part in header.split(",") if part.strip()]
    if len(forwarded) < hops:
        return remote
    candidate = forwarded[-hops]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def pseudonym(kind: str, value: str | None) -> str:
    """A short keyed hash: the same account or address gives the same value in every log
    line (so an incident can be followed), but the value cannot be read back without the
    SECRET_KEY (an investigator recomputes it for a suspected account)."""
    if not value:
        return "-"
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:12]


def client_pseudonym(
    username: str | None, ip_address: str | None, user_agent: str, path_info: Any, request: Any
) -> str:
    """django-axes's AXES_CLIENT_STR_CALLABLE: how every axes log line names the client."""
    if isinstance(path_info, tuple | list):
        path_info = path_info[0] if path_info else ""
    return (
        f"account={pseudonym('account', username)} client={pseudonym('ip', ip_address)} "
        f"path={str(path_info)!r}"
    )


def lockout_minutes() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)


def lockout_message() -> str:
    return _("Too many failed log-in attempts. Wait %(minutes)s minutes, then try again.") % {
        "minutes": lockout_minutes()
    }


def login_locked(request: HttpRequest, username: str) -> bool:
    """True while this account is locked for this client address, or the address itself
    is (``address_spraying``): checked before any password, and the same for an account that
    does not exist."""
    locked = address_spraying(request) or not AxesProxyHandler.is_allowed(
        request, {"username": username}
    )
    if locked:
        # Imported here: the audit's attempts module reads this one's client_ip and pseudonym.
        from tepat.audit.attempts import LOCKED_OUT, refusal_note

        refusal_note(request, LOCKED_OUT, "log-in refused: locked out")
    return locked


# Password spraying: a few guesses at each of many accounts from one address never reaches
# axes's per-account limit. Failures per client address are counted in the database too, in
# fixed windows as long as axes's cool-off, and past the limit the address is refused
# whatever account it names (docs/security.md §1.3).
SPRAY_SCOPE = "login-failures-ip"


def _spray_window() -> timedelta:
    return timedelta(seconds=settings.AXES_COOLOFF_TIME.total_seconds())


def address_spraying(request: HttpRequest) -> bool:
    """True when this client address failed ``LOGIN_FAILURES_PER_ADDRESS`` logins or more
    in the current window, across all accounts."""
    ip_address = client_ip(request)
    if not ip_address:
        return False
    window = _spray_window()
    seconds = max(1, int(window.total_seconds()))
    now = timezone.now()
    start = datetime.fromtimestamp(int(now.timestamp()) // seconds * seconds, tz=UTC)
    count = (
        RequestCount.objects.filter(
            scope=SPRAY_SCOPE, key=pseudonym(SPRAY_SCOPE, ip_address), window_start=start
        )
        .values_list("count", flat=True)
        .first()
    )
    return bool(count is not None and count >= settings.LOGIN_FAILURES_PER_ADDRESS)


def login_failed_receiver(
    sender: object, credentials: object, request: HttpRequest | None = None, **kwargs: object
) -> None:
    """``user_login_failed``: the failure counts for its client address, unless it was
    refused by a lockout (as axes does, so a lockout is not extended)."""
    if request is None or getattr(request, "axes_locked_out", False):
        return
    rate_allowed(
        SPRAY_SCOPE,
        client_ip(request),
        limit=settings.LOGIN_FAILURES_PER_ADDRESS,
        window=_spray_window(),
    )


def login_succeeded(request: HttpRequest, username: str) -> None:
    """A good password outside the session login (the phone app's token): clear the
    account+address's failures, as a web login does."""
    if settings.AXES_RESET_ON_SUCCESS:
        AxesProxyHandler.reset_attempts(ip_address=client_ip(request), username=username)


def rate_allowed(scope: str, value: str | None, *, limit: int, window: timedelta) -> bool:
    """Count one request by ``value`` (a client address, an account name) in ``scope`` and
    say whether it is within ``limit`` per fixed ``window``. The count lives in the database
    (``RequestCount``), so every node sees the same; the value is stored only as its keyed
    pseudonym. Rows of windows over a day old are deleted when a new window starts."""
    if not value:
        return True
    now = timezone.now()
    seconds = max(1, int(window.total_seconds()))
    start = datetime.fromtimestamp(int(now.timestamp()) // seconds * seconds, tz=UTC)
    with transaction.atomic():
        row, created = RequestCount.objects.get_or_create(
            scope=scope, key=pseudonym(scope, value), window_start=start
        )
        RequestCount.objects.filter(pk=row.pk).update(count=F("count") + 1)
        count = RequestCount.objects.filter(pk=row.pk).values_list("count", flat=True).get()
    if created:
        RequestCount.objects.filter(window_start__lt=now - timedelta(days=1)).delete()
    return bool(count <= limit)
