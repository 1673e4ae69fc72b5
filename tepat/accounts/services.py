"""Writes to accounts."""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from tepat.accounts import mfa
from tepat.accounts.models import Role, User
from tepat.audit.services import audit_record

STAFF_ROLES = frozenset({Role.ADMIN_BKPSDM, Role.AUDITOR, Role.SUPERADMIN})


def user_role_flags_apply(user: User) -> None:
    """Derive Django's admin flags from the Tepat role (not saved).

    The flags are never set by hand, so an account cannot hold admin access that its role
    does not explain.
    """
    user.is_staff = user.role in STAFF_ROLES
    user.is_superuser = user.role == Role.SUPERADMIN


def totp_device_pending(user: User) -> TOTPDevice:
    """The unconfirmed TOTP device being enrolled: the same secret on every reload of the
    enrolment page until a code from it is entered."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=mfa.TOTP_DEVICE_NAME, confirmed=False)
    return device


@transaction.atomic
def mfa_enrol_confirm(
    *, user: User, device: TOTPDevice, code: str, ip_address: str | None
) -> list[str] | None:
    """Confirm the pending device with a code from the app; on success the old devices go,
    fresh recovery codes are made and returned (shown once). ``None``: the code was wrong."""
    pending = TOTPDevice.objects.select_for_update().filter(pk=device.pk, user=user).first()
    if pending is None or pending.confirmed:
        return None  # confirmed or replaced meanwhile (another tab)
    device = pending
    allowed, _ = device.verify_is_allowed()
    if not allowed or not device.verify_token(mfa.code_normalise(code)):
        return None
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _recovery_codes_make(user)
    audit_record(
        actor=user, action="mfa.enrol", obj=user, summary=f"{user.username} TOTP",
        ip_address=ip_address,
    )  # fmt: skip
    return codes


@transaction.atomic
def mfa_recovery_codes_renew(*, user: User, ip_address: str | None) -> list[str]:
    """New recovery codes; the old ones stop working."""
    codes = _recovery_codes_make(user)
    audit_record(
        actor=user, action="mfa.recovery_codes_renew", obj=user, summary=user.username,
        ip_address=ip_address,
    )  # fmt: skip
    return codes


def _recovery_codes_make(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=mfa.RECOVERY_DEVICE_NAME)
    codes = [StaticToken.random_token() for _ in range(mfa.RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in codes)
    return codes


def mfa_reset_allowed(actor: User, user: User) -> bool:
    """BKPSDM resets anyone but a super administrator; a super administrator resets anyone."""
    if actor.role == Role.SUPERADMIN:
        return True
    return actor.role == Role.ADMIN_BKPSDM and user.role != Role.SUPERADMIN


@transaction.atomic
def mfa_reset(*, actor: User, user: User, reason: str, ip_address: str | None) -> None:
    """Remove a person's second factor (a lost phone): at the next login they enrol afresh.
    Their sessions verified with the removed device stop being verified at once."""
    if not mfa_reset_allowed(actor, user):
        raise PermissionDenied(_("You may not reset this account's two-step verification."))
    before = {
        "totp": TOTPDevice.objects.filter(user=user, confirmed=True).count(),
        "recovery_codes": mfa.recovery_codes_left(user),
        "security_keys": WebAuthnCredential.objects.filter(user=user).count(),
    }
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    WebAuthnCredential.objects.filter(user=user).delete()
    audit_record(
        actor=actor, action="mfa.reset", obj=user, summary=user.username, before=before,
        reason=reason, ip_address=ip_address,
    )  # fmt: skip


def webauthn_key_added(*, user: User, key: WebAuthnCredential, ip_address: str | None) -> None:
    """A security key or passkey was registered (the library saved it): recorded."""
    audit_record(
        actor=user, action="mfa.webauthn_add", obj=user, summary=f"{user.username} {key.name}",
        after={"key": key.pk, "name": key.name}, ip_address=ip_address,
    )  # fmt: skip


@transaction.atomic
def webauthn_key_remove(*, user: User, key_id: int, ip_address: str | None) -> bool:
    """Remove one of the person's own security keys; False when there is no such key."""
    key = WebAuthnCredential.objects.select_for_update().filter(user=user, pk=key_id).first()
    if key is None:
        return False
    before = {"key": key.pk, "name": key.name}
    key.delete()
    audit_record(
        actor=user, action="mfa.webauthn_remove", obj=user,
        summary=f"{user.username} {before['name']}", before=before, ip_address=ip_address,
    )  # fmt: skip
    return True


def recovery_code_used(*, user: User, ip_address: str | None) -> None:
    """A recovery code replaced the app (the code itself is already spent): recorded, so a
    person who did not use one can ask BKPSDM why."""
    audit_record(
        actor=user, action="mfa.recovery_code_use", obj=user, summary=user.username,
        after={"left": mfa.recovery_codes_left(user)}, ip_address=ip_address,
    )  # fmt: skip
