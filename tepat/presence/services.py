"""Writes to the attendance ledger: phone check-ins, device binding, app tokens, reviews.

A check-in is judged on the server only (the geofence in the browser is display, never a
decision) and fails closed: no site, no fix, no valid signature, no acceptance. Every attempt
that carries a usable position is kept, refused ones included, so a supervisor can see it and
the employee can ask for a correction.
"""

import base64
import binascii
import hashlib
import secrets
import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from time import monotonic
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import load_der_public_key
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tepat.accounts.models import User
from tepat.audit.services import audit_record
from tepat.org.models import Employee, WorkSite
from tepat.org.selectors import sites_by_unit, unit_sites
from tepat.presence import checkin_sql, default_policy, selfies
from tepat.presence.models import AppToken, CheckinEvent, CheckinReview, PhoneDevice, PresencePolicy
from tepat.rules import geofence, risk

TOKEN_LIFETIME = timedelta(days=90)
RECENT_EVENTS = checkin_sql.RECENT_EVENTS
SITES_CACHE_SECONDS = 60  # an edit of a site or a unit's sites reaches every worker within this
DEFAULT_POLICY = default_policy.DEFAULT


class CheckinRejected(Exception):
    """Input that cannot be judged at all (nothing stored): a 422 with this message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class IdempotencyConflict(Exception):
    """The client id was already used for another employee's check-in."""


@dataclass(frozen=True)
class CheckinInput:
    key: str
    kind: str
    device_taken_at: datetime
    latitude: float
    longitude: float
    accuracy_m: float
    position_at: datetime | None = None
    seq: int | None = None
    clock_server_time: datetime | None = None
    clock_device_time: datetime | None = None
    signature: str | None = None
    selfie: bytes | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    def signed_text(self) -> str:
        """The exact string the phone signs; numbers fixed-point so JS and Python agree."""
        return "|".join(
            [
                self.key,
                self.kind,
                str(self.raw.get("taken_at", "")),
                f"{self.latitude:.6f}",
                f"{self.longitude:.6f}",
                f"{self.accuracy_m:.1f}",
                "" if self.seq is None else str(self.seq),
                *([hashlib.sha256(self.selfie).hexdigest()] if self.selfie else []),
            ]
        )


@dataclass(frozen=True)
class CheckinOutcome:
    event: CheckinEvent
    replay: bool

    @property
    def http_status(self) -> int:
        if self.event.status == CheckinEvent.Status.REFUSED:
            return 422
        return 200 if self.replay else 201


# --- Policy ------------------------------------------------------------------------------


def presence_policy_on(moment: datetime) -> PresencePolicy:
    """The policy version in force on the day; Tepat's documented default before the first.

    The default is the same row the initial data migration writes, so an emptied table (a
    test flush, a mistaken delete in the admin) never leaves check-ins without thresholds.
    """
    policy = (
        PresencePolicy.objects.filter(valid_from__lte=timezone.localdate(moment))
        .order_by("-valid_from")
        .first()
    )
    return policy or PresencePolicy(**DEFAULT_POLICY)


def risk_policy(policy: PresencePolicy) -> risk.RiskPolicy:
    return risk.RiskPolicy(
        max_accuracy_m=policy.max_accuracy_m,
        offline_max_age=timedelta(hours=policy.offline_max_age_hours),
        clock_skew_max=timedelta(seconds=policy.clock_skew_max_s),
        max_speed_kmh=policy.max_speed_kmh,
        position_max_age=timedelta(seconds=policy.position_max_age_s),
    )


def fence_sites(sites: Sequence[WorkSite], policy: PresencePolicy) -> list[geofence.Site]:
    fences: list[geofence.Site] = []
    for site in sites:
        if site.shape == WorkSite.Shape.POLYGON and site.polygon:
            fence: geofence.CircleFence | geofence.PolygonFence = geofence.polygon_from_geojson(
                site.polygon
            )
        elif site.latitude is not None and site.longitude is not None:
            fence = geofence.CircleFence(
                centre=geofence.Point(float(site.latitude), float(site.longitude)),
                radius_m=float(site.radius_m or policy.default_radius_m),
            )
        else:
            continue  # a site without coordinates accepts nobody (fail closed)
        fences.append(geofence.Site(site_id=site.pk, name=site.name, fence=fence))
    return fences


# --- Devices and tokens --------------------------------------------------------------------


def key_fingerprint(public_key_b64: str) -> str:
    """Validate a base64 SPKI P-256 public key and return its SHA-256 fingerprint."""
    try:
        der = base64.b64decode(public_key_b64, validate=True)
        key = load_der_public_key(der)
    except (binascii.Error, ValueError, TypeError):
        raise ValidationError(_("The device key is not a valid public key.")) from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise ValidationError(_("The device key must be an ECDSA P-256 key."))
    return hashlib.sha256(der).hexdigest()


@transaction.atomic
def device_bind(*, employee: Employee, public_key: str, label: str) -> PhoneDevice:
    """The phone an employee logs in from. The first becomes active; later ones wait for the
    OPD operator's approval, so a second phone cannot quietly check in for someone."""
    fingerprint = key_fingerprint(public_key)
    existing = PhoneDevice.objects.filter(employee=employee, key_fingerprint=fingerprint).first()
    if existing is not None:
        return existing
    has_active = PhoneDevice.objects.filter(employee=employee, status="active").exists()
    device = PhoneDevice.objects.create(
        employee=employee,
        key_fingerprint=fingerprint,
        public_key=public_key,
        label=label[:200],
        status=PhoneDevice.Status.PENDING if has_active else PhoneDevice.Status.ACTIVE,
    )
    audit_record(
        actor=getattr(employee, "user", None),
        action="device.bind",
        obj=device,
        summary=f"{employee.nip} {device.status} {label[:80]}",
    )
    return device


@transaction.atomic
def device_decide(*, actor: User, device: PhoneDevice, approve: bool, reason: str) -> PhoneDevice:
    """Approve a pending phone (the employee's previous one is revoked) or revoke one."""
    if not reason.strip():
        raise ValidationError(_("A reason is required."))
    device = PhoneDevice.objects.select_for_update().get(pk=device.pk)
    before = device.status
    if approve:
        PhoneDevice.objects.filter(employee_id=device.employee_id, status="active").exclude(
            pk=device.pk
        ).update(status=PhoneDevice.Status.REVOKED, decided_by=actor, decided_at=timezone.now())
        device.status = PhoneDevice.Status.ACTIVE
    else:
        device.status = PhoneDevice.Status.REVOKED
    device.decided_by = actor
    device.decided_at = timezone.now()
    device.save(update_fields=["status", "decided_by", "decided_at"])
    audit_record(
        actor=actor,
        action="device.approve" if approve else "device.revoke",
        obj=device,
        before={"status": before},
        after={"status": device.status},
        reason=reason,
    )
    return device


def token_issue(*, user: User, device: PhoneDevice) -> tuple[str, AppToken]:
    raw = secrets.token_urlsafe(32)
    token = AppToken.objects.create(
        token_hash=hashlib.sha256(raw.encode()).hexdigest(),
        user=user,
        device=device,
        expires_at=timezone.now() + TOKEN_LIFETIME,
    )
    return raw, token


def token_user(raw: str) -> tuple[User, PhoneDevice] | None:
    """The user and phone behind a bearer token, if it is valid and the phone not revoked."""
    found = checkin_sql.token_row(hashlib.sha256(raw.encode()).hexdigest(), timezone.now())
    if found is None:
        return None
    user, device = found
    if not user.is_active or device.status == PhoneDevice.Status.REVOKED:
        return None
    return user, device


# --- Check-ins -----------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _public_key(spki_b64: str) -> ec.EllipticCurvePublicKey | None:
    """A phone's stored public key, parsed once per process (a batch of 500 uses one key);
    None if it is not a valid EC key, so every check-in it signs is refused."""
    try:
        key = load_der_public_key(base64.b64decode(spki_b64))
    except (binascii.Error, ValueError, TypeError):
        return None
    return key if isinstance(key, ec.EllipticCurvePublicKey) else None


def _signature_valid(device: PhoneDevice, item: CheckinInput) -> bool:
    if not item.signature:
        return False
    key = _public_key(device.public_key)
    if key is None:
        return False
    try:
        raw = base64.b64decode(item.signature, validate=True)
        if len(raw) != 64:
            return False
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        key.verify(der, item.signed_text().encode(), ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


@dataclass
class EmployeeCheckinContext:
    """What judging an employee's check-ins needs, read once per request or batch."""

    employee: Employee
    device: PhoneDevice | None
    policy: PresencePolicy
    sites: list[WorkSite]
    fences: list[geofence.Site]
    previous: list[risk.Fix]  # the employee's recent fixes, newest first, refused ones left out
    device_shared: int
    seqs_used: set[int]  # of the sequence numbers in seqs_checked, those in the ledger
    seqs_checked: set[int]  # looked up with the context, plus those stored since


# Per-process cache of every unit's sites (three queries, a few ms for a whole regency), and
# the fences built from them per unit and default radius. At the morning peak every check-in
# needs its unit's sites; reading them per request cost more CPU than the rest of the
# check-in. Edits saved through the ORM in this process clear it at once (signals in
# apps.py); other worker processes see them within SITES_CACHE_SECONDS. A unit missing from
# the map (created since) is read on its own.
@dataclass
class _SiteMap:
    loaded_at: float
    sites: dict[int, list[WorkSite]]
    fences: dict[tuple[int, int], list[geofence.Site]] = field(default_factory=dict)


_site_map: _SiteMap | None = None
_site_map_lock = threading.Lock()


def checkin_caches_clear(**_signal: Any) -> None:
    """Forget the cached sites (a site, unit or alternative-site link was edited)."""
    global _site_map
    with _site_map_lock:
        _site_map = None


def _current_site_map() -> _SiteMap:
    global _site_map
    with _site_map_lock:
        now = monotonic()
        if _site_map is None or now - _site_map.loaded_at >= SITES_CACHE_SECONDS:
            _site_map = _SiteMap(loaded_at=now, sites=sites_by_unit())
        return _site_map


def _unit_sites_fenced(
    unit_id: int, policy: PresencePolicy
) -> tuple[list[WorkSite], list[geofence.Site]]:
    site_map = _current_site_map()
    sites = site_map.sites.get(unit_id)
    if sites is None:
        sites = site_map.sites[unit_id] = unit_sites(unit_id)
    key = (unit_id, policy.default_radius_m)
    fences = site_map.fences.get(key)
    if fences is None:
        fences = site_map.fences[key] = fence_sites(sites, policy)
    return sites, fences


def checkin_context(
    employee: Employee,
    device: PhoneDevice | None,
    now: datetime,
    seqs: Collection[int] = (),
) -> EmployeeCheckinContext:
    """Everything the check-ins of one request are judged against: one statement, plus the
    unit's sites (cached) and, for a batch, one look-up of its sequence numbers.

    ``seqs``: the sequence numbers the request carries, to know which the phone used before.
    """
    seqs = list(dict.fromkeys(seqs))
    row = checkin_sql.context_row(
        employee_id=employee.pk,
        now=now,
        day=timezone.localdate(now),
        device_id=None if device is None else device.pk,
        key_fingerprint=None if device is None else device.key_fingerprint,
        seq=seqs[0] if len(seqs) == 1 else None,
    )
    return _context_build(employee, device, row, seqs)


def _context_build(
    employee: Employee, device: PhoneDevice | None, row: checkin_sql.ContextRow, seqs: list[int]
) -> EmployeeCheckinContext:
    policy = row.policy or PresencePolicy(**DEFAULT_POLICY)
    sites, fences = ([], []) if row.unit_id is None else _unit_sites_fenced(row.unit_id, policy)
    if device is None or not seqs:
        seqs_used: set[int] = set()
    elif len(seqs) == 1:
        seqs_used = set(seqs) if row.seq_used else set()
    else:
        seqs_used = checkin_sql.seqs_in_ledger(device.pk, seqs)
    return EmployeeCheckinContext(
        employee=employee,
        device=device,
        policy=policy,
        sites=sites,
        fences=fences,
        previous=[
            risk.Fix(
                taken_at=f.taken_at,
                position=geofence.Point(f.latitude, f.longitude),
                accuracy_m=f.accuracy_m or 0.0,
            )
            for f in row.recent
        ],
        device_shared=row.device_shared,
        seqs_used=seqs_used,
        seqs_checked=set(seqs),
    )


def checkin_start(
    raw_token: str, now: datetime, seq: int | None
) -> tuple[User, PhoneDevice, EmployeeCheckinContext] | None:
    """A single check-in's token and context in one statement: the user, the phone and the
    context ``checkin_context`` would build, if the token is one ``token_user`` accepts and
    its account is an employee's; None otherwise (the caller answers as without this)."""
    found = checkin_sql.checkin_start_row(
        token_hash=hashlib.sha256(raw_token.encode()).hexdigest(),
        now=now,
        day=timezone.localdate(now),
        seq=seq,
    )
    if found is None or found.context is None:
        return None
    user, device, employee = found.user, found.device, found.user.employee
    if employee is None or not user.is_active or device.status == PhoneDevice.Status.REVOKED:
        return None
    seqs = [] if seq is None else [seq]
    return user, device, _context_build(employee, device, found.context, seqs)


def _seq_reused(ctx: EmployeeCheckinContext, seq: int | None) -> bool:
    if seq is None or ctx.device is None:
        return False
    if seq not in ctx.seqs_checked:  # not announced to checkin_context: ask now
        ctx.seqs_used |= checkin_sql.seqs_in_ledger(ctx.device.pk, [seq])
        ctx.seqs_checked.add(seq)
    return seq in ctx.seqs_used


def checkin_record(
    ctx: EmployeeCheckinContext, item: CheckinInput, *, received_at: datetime
) -> CheckinOutcome:
    """Judge and store one phone check-in; replaying its id returns the stored result.

    A replay is found by the unique idempotency key at INSERT time, not by a look-up first:
    one statement fewer for every new check-in, which is nearly all of them. Only a check-in
    with a selfie is looked up first, because storing the selfie is not idempotent.
    """
    if item.selfie:
        existing = CheckinEvent.objects.filter(idempotency_key=item.key).first()
        if existing is not None:
            return _replayed(ctx, existing, item.key)

    try:
        point = geofence.Point(item.latitude, item.longitude)
    except geofence.GeofenceError as exc:
        raise CheckinRejected(exc.message) from None
    offset = None
    if item.clock_server_time is not None and item.clock_device_time is not None:
        offset = risk.clock_offset(item.clock_server_time, item.clock_device_time)
    try:
        taken_at = risk.trusted_time(item.device_taken_at, offset)
    except risk.ClockImplausible:
        raise CheckinRejected(
            _("The phone's date and time are not plausible; set them correctly and try again.")
        ) from None
    policy = ctx.policy

    if policy.selfie_required and not item.selfie:
        raise CheckinRejected(_("A selfie is required for check-in."))
    selfie_path = ""
    if item.selfie:
        try:
            selfie_path = selfies.selfie_store(item.key, item.selfie)
        except selfies.SelfieRejected as exc:
            raise CheckinRejected(exc.message) from None

    status = CheckinEvent.Status.ACCEPTED
    flags: list[str] = []
    site_id: int | None = None
    distance: float | None = None
    if taken_at > received_at + timedelta(seconds=policy.future_tolerance_s):
        status, message = CheckinEvent.Status.REFUSED, _("The check-in time is in the future.")
    elif ctx.device is not None and not _signature_valid(ctx.device, item):
        status = CheckinEvent.Status.REFUSED
        message = _("The check-in is not signed by this phone's key.")
    else:
        verdict = geofence.check_position(
            ctx.fences,
            point,
            item.accuracy_m,
            geofence.FencePolicy(
                max_accuracy_m=policy.refuse_accuracy_m, accuracy_tolerance="none"
            ),
        )
        site_id, distance, message = verdict.site_id, verdict.distance_m, verdict.message
        if not verdict.inside:
            status = CheckinEvent.Status.REFUSED
        else:
            fix = risk.Fix(taken_at, point, item.accuracy_m, item.position_at)
            flags = list(
                risk.checkin_risk_flags(
                    fix,
                    received_at=received_at,
                    previous=ctx.previous[0] if ctx.previous else None,
                    recent=[f.position for f in ctx.previous],
                    offset=offset,
                    device=None
                    if ctx.device is None
                    else risk.DeviceFacts(
                        approved=ctx.device.status == PhoneDevice.Status.ACTIVE,
                        other_employees=ctx.device_shared,
                        seq_reused=_seq_reused(ctx, item.seq),
                    ),
                    policy=risk_policy(policy),
                )
            )
            if flags:
                status = CheckinEvent.Status.REVIEW
                message = f"{message}. {_('Waiting for review')}: {risk.flags_describe(flags)}"

    event = checkin_sql.checkin_insert(
        idempotency_key=item.key,
        employee_id=ctx.employee.pk,
        kind=item.kind,
        taken_at=taken_at,
        device_taken_at=item.device_taken_at,
        received_at=received_at,
        source=CheckinEvent.Source.PHONE,
        status=status,
        site_id=site_id,
        distance_m=distance,
        latitude=item.latitude,
        longitude=item.longitude,
        accuracy_m=item.accuracy_m,
        device_id=None if ctx.device is None else ctx.device.pk,
        seq=item.seq,
        risk_flags=flags,
        message=message[:255],
        payload=item.raw,
        selfie=selfie_path,
    )
    if event is None:
        # The id is in the ledger already: a replay, or a retry racing the original (one row
        # wins). The INSERT skipped it without an error, so a batch goes on without a savepoint.
        existing = CheckinEvent.objects.filter(idempotency_key=item.key).first()
        if existing is None:
            raise IntegrityError(f"check-in {item.key}: id taken, row not found")
        return _replayed(ctx, existing, item.key)
    event.site = next((s for s in ctx.sites if s.pk == site_id), None)  # no query for the name
    if status != CheckinEvent.Status.REFUSED:
        ctx.previous.insert(0, risk.Fix(taken_at, point, item.accuracy_m))
        del ctx.previous[RECENT_EVENTS:]  # a 500-item batch must not grow this list
        if item.seq is not None:
            ctx.seqs_used.add(item.seq)
            ctx.seqs_checked.add(item.seq)
        if timezone.localdate(taken_at) < timezone.localdate(received_at):
            day_rebuild_later(event)  # an offline check-in for a day already judged
    return CheckinOutcome(event, replay=False)


def _replayed(ctx: EmployeeCheckinContext, existing: CheckinEvent, key: str) -> CheckinOutcome:
    if existing.employee_id != ctx.employee.pk:
        raise IdempotencyConflict(key)
    site = next((s for s in ctx.sites if s.pk == existing.site_id), None)
    if site is not None:
        existing.site = site  # no query for the name; otherwise it loads on first use
    return CheckinOutcome(existing, replay=True)


def day_rebuild_later(event: CheckinEvent) -> None:
    """Queue the rebuild of the event's day once the event is committed."""
    from tepat.presence.tasks import days_rebuild_later

    days_rebuild_later([(event.employee_id, timezone.localdate(event.taken_at))], punches=True)


@transaction.atomic
def checkin_review(*, actor: User, event: CheckinEvent, accept: bool, reason: str) -> CheckinReview:
    if not reason.strip():
        raise ValidationError(_("A reason is required."))
    review = CheckinReview.objects.create(
        event=event,
        decision=CheckinReview.Decision.ACCEPT if accept else CheckinReview.Decision.REJECT,
        reviewer=actor,
        reason=reason.strip(),
    )
    audit_record(
        actor=actor,
        action="checkin.review",
        obj=event,
        after={"decision": review.decision},
        reason=reason,
    )
    day_rebuild_later(event)
    return review
