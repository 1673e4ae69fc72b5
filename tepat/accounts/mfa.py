"""Second factor (TOTP with recovery codes) for the staff roles, on django-otp.

Who must use it is decided here; the writes (enrolment, new recovery codes, a reset) are in
``tepat.accounts.services`` and the pages in ``tepat.accounts.mfa_views``. ASN log in on their
phone with NIP and password only: they are not forced (docs/security.md §1.3).
"""

import base64

import segno
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from tepat.accounts.models import Role, User

MFA_ROLES = frozenset(
    {Role.OPERATOR_OPD, Role.KEPALA_OPD, Role.ADMIN_BKPSDM, Role.AUDITOR, Role.SUPERADMIN}
)
RECOVERY_CODE_COUNT = 10
TOTP_DEVICE_NAME = "Tepat"
RECOVERY_DEVICE_NAME = "recovery"


def mfa_required(user: User) -> bool:
    return bool(user.role in MFA_ROLES)


def mfa_enrolled(user: User) -> bool:
    return bool(TOTPDevice.objects.filter(user=user, confirmed=True).exists())


def recovery_device(user: User) -> StaticDevice | None:
    return StaticDevice.objects.filter(user=user, name=RECOVERY_DEVICE_NAME).first()


def recovery_codes_left(user: User) -> int:
    device = recovery_device(user)
    return device.token_set.count() if device else 0


def code_normalise(code: str) -> str:
    """What the person typed, as the devices compare it: no spaces or dashes, lower case
    (recovery codes are base32; TOTP codes are digits)."""
    return "".join(ch for ch in code if ch not in " -\t").lower()[:32]


def manual_key(device: TOTPDevice) -> str:
    """The secret in base32, in groups of four, for typing into an app by hand."""
    key = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def qr_data_uri(device: TOTPDevice) -> str:
    """The otpauth:// URL as an SVG QR code in a data: URI (the CSP allows ``img-src data:``;
    nothing leaves Tepat)."""
    return segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2)
