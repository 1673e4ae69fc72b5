"""Refused attempts in the audit trail: an upload refused by its content, a staff request
stopped at the second factor or a wrong code, a record outside the person's scope, and every
answer 403 (permission denied, a failed CSRF check) or 429 (a lockout, a throttle).

Where the refusal happens, ``attempt_note`` queues it for the request (a context variable);
``AttemptAuditMiddleware`` writes the queue once the response is ready. Written there, the row
is outside the view's transaction, so the rollback of a refused write cannot take the row
with it, and a record looked up out of scope is written only when the answer really was the
404 (a view that handled the miss itself wrote nothing a person would notice). Outside a
request (a management command, a test of a cleaner) there is no person or address to record:
a log line only.

A flood must not fill the table: at most one row per actor (or, with no account, per client
address), per action and per clock minute (``attempt_write``). The repeats within the minute
go to the log, with keyed pseudonyms only (``throttle.pseudonym``). Each row holds who (the
account), what (the action, the kind of record or upload and its id, the refusal in words),
from where (the client address) and the path asked: nothing a person typed or uploaded.
"""

import logging
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import IntegrityError, models, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils import timezone
from django.views import csrf

from tepat.accounts import throttle
from tepat.audit.models import AuditEntry, RefusedAttemptMinute

log = logging.getLogger(__name__)

UPLOAD_REFUSED = "refused.upload"
MFA_SKIPPED = "refused.mfa_missing"
MFA_CODE_WRONG = "refused.mfa_code"
OUT_OF_SCOPE = "refused.out_of_scope"
FORBIDDEN = "refused.forbidden"  # any other 403: PermissionDenied, the API's 403s
CSRF_FAILED = "refused.csrf"
THROTTLED = "refused.throttled"  # any other 429: the rate limits
LOCKED_OUT = "refused.locked_out"  # a log-in refused by the lockout (axes, address spraying)
# Written only when the response is a 404: the lookup missed and the person saw "not found".
WRITTEN_ON_404_ONLY = frozenset({OUT_OF_SCOPE})


@dataclass(frozen=True)
class Attempt:
    action: str
    object_type: str
    object_id: str = ""
    summary: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
    actor: Any = None  # when the refusing code knows it better than request.user


@dataclass
class _RequestAttempts:
    request: HttpRequest
    attempts: list[Attempt] = field(default_factory=list)


_current: ContextVar[_RequestAttempts | None] = ContextVar("tepat_attempts", default=None)


def attempt_note(attempt: Attempt) -> None:
    """Queue a refused attempt for the audit trail (written after the response)."""
    pending = _current.get()
    if pending is None:  # no request, so no person or address to record: a log line
        log.warning("%s outside a request: %s", attempt.action, attempt.object_type)
    else:
        pending.attempts.append(attempt)


def scope_miss_note(model: type[models.Model], object_id: object) -> None:
    """A record that exists was asked for by someone whose scope does not include it."""
    attempt_note(
        Attempt(
            action=OUT_OF_SCOPE,
            object_type=model._meta.label_lower,
            object_id=str(object_id),
            summary=f"{model._meta.label_lower} #{object_id} is outside the account's scope",
        )
    )


def upload_refused_note(kind: str, reason: str, size: int | None = None) -> None:
    """An upload refused by its content or size; ``reason`` is the message the person saw."""
    detail: dict[str, Any] = {"reason": reason}
    if size is not None:
        detail["size"] = size
    attempt_note(
        Attempt(
            action=UPLOAD_REFUSED,
            object_type=f"upload.{kind}",
            summary=f"{kind}: {reason}",
            detail=detail,
        )
    )


def _refusal(request: HttpRequest, action: str, why: str) -> Attempt:
    return Attempt(
        action=action,
        object_type="request",
        summary=f"{request.method} {why}",
        detail={"method": str(request.method)[:10]},
    )


def refusal_note(request: HttpRequest, action: str, why: str) -> None:
    """A request refused as a whole (403, 429): the method goes with the path."""
    attempt_note(_refusal(request, action, why))


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: Django's own answer, noted. Only the reason's fixed words are
    kept (some reasons go on with the Origin or Referer the client sent)."""
    refusal_note(request, CSRF_FAILED, f"failed the CSRF check: {reason.split(' - ')[0][:80]}")
    return csrf.csrf_failure(request, reason)


_STATUS_KINDS = {403: (FORBIDDEN, "answered 403"), 429: (THROTTLED, "answered 429")}


# Refusals without an account (a failed CSRF check, a locked-out login) come from addresses,
# and a flood can bring many: past this many rows of one kind in a minute, the log only.
ANONYMOUS_ROWS_PER_MINUTE = 100


def _anonymous_minute_full(action: str, minute: datetime) -> bool:
    rows = AuditEntry.objects.filter(
        action=action, actor=None, at__gte=minute, at__lt=minute + timedelta(minutes=1)
    )
    return rows[:ANONYMOUS_ROWS_PER_MINUTE].count() >= ANONYMOUS_ROWS_PER_MINUTE


CLAIMS_KEPT = timedelta(minutes=10)


def once_a_minute_key(action: str, actor: Any, ip_address: str | None, minute: datetime) -> str:
    """What makes two refusals the same row: the action, the account (else the client
    address) and the minute, in UTC (``RefusedAttemptMinute.key``, unique)."""
    who = f"user:{actor.pk}" if actor is not None else f"ip:{ip_address or ''}"
    return f"{action}|{who}|{minute.astimezone(UTC):%Y-%m-%dT%H:%M}"


def _written(key: str) -> bool:
    return RefusedAttemptMinute.objects.filter(key=key).exists()


def attempt_write(
    attempt: Attempt, *, actor: Any, ip_address: str | None, path: str
) -> AuditEntry | None:
    """One audit row for the attempt, unless this actor (or address) already has a row for
    this action in the current minute; then only a log line.

    The look-up spares a flood the failed inserts; the unique key decides: of two refusals
    answered at the same moment (two workers, two nodes), both may find no row, and the
    database lets the first claim the minute and refuses the second, which is logged as a
    repeat. The claim and the row commit together. The cap on rows without an account
    (``ANONYMOUS_ROWS_PER_MINUTE``) stays a count: at once, a few more may be written."""
    actor = actor if getattr(actor, "pk", None) else None
    minute = timezone.now().replace(second=0, microsecond=0)
    key = once_a_minute_key(attempt.action, actor, ip_address, minute)
    who = throttle.pseudonym("user", actor.get_username() if actor else None)
    where = throttle.pseudonym("ip", ip_address)
    if _written(key):
        log.warning("%s again this minute, account=%s client=%s", attempt.action, who, where)
        return None
    if actor is None and _anonymous_minute_full(attempt.action, minute):
        log.warning("%s from many addresses this minute, client=%s", attempt.action, where)
        return None
    after = dict(attempt.detail)
    if path:
        after["path"] = path[:200]
    with transaction.atomic():  # the claim commits with the row, or neither does
        try:
            with transaction.atomic():  # a savepoint: only the claim is undone
                RefusedAttemptMinute.objects.create(key=key)
        except IntegrityError:  # claimed a moment ago by a refusal answered at the same time
            log.warning("%s again this minute, account=%s client=%s", attempt.action, who, where)
            return None
        # A claim is only ever looked up within its minute: the past ones go, so the table
        # holds a few minutes of refusals, not the trail's years.
        RefusedAttemptMinute.objects.filter(claimed_at__lt=minute - CLAIMS_KEPT).delete()
        entry = AuditEntry.objects.create(
            actor=actor,
            action=attempt.action,
            object_type=attempt.object_type[:64],
            object_id=attempt.object_id[:64],
            summary=attempt.summary[:255],
            after=after or None,
            ip_address=ip_address,
        )
    log.warning("%s account=%s client=%s %s", attempt.action, who, where, attempt.object_type)
    return entry


class AttemptAuditMiddleware:
    """Collects the attempts noted while a request is answered, and writes them after."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        pending = _RequestAttempts(request)
        token = _current.set(pending)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        attempts = [
            attempt
            for attempt in pending.attempts
            if attempt.action not in WRITTEN_ON_404_ONLY or response.status_code == 404
        ]
        if not attempts and response.status_code in _STATUS_KINDS:
            attempts = [_refusal(request, *_STATUS_KINDS[response.status_code])]
        if attempts:
            self._write(request, attempts)
        return response

    def _write(self, request: HttpRequest, attempts: list[Attempt]) -> None:
        ip_address = throttle.client_ip(request)
        user = getattr(request, "user", None)  # the phone app's token sets it in the view
        firsts: dict[str, Attempt] = {}
        counts: dict[str, int] = {}
        for attempt in attempts:  # an offline batch may carry 500 refused selfies: one row
            firsts.setdefault(attempt.action, attempt)
            counts[attempt.action] = counts.get(attempt.action, 0) + 1
        for action, attempt in firsts.items():
            if counts[action] > 1:
                attempt = replace(attempt, detail={**attempt.detail, "count": counts[action]})
            actor = attempt.actor or (user if getattr(user, "is_authenticated", False) else None)
            attempt_write(attempt, actor=actor, ip_address=ip_address, path=request.path)
