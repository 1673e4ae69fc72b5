"""Selfies taken at check-in: accepted only as real JPEG or PNG images, re-encoded so nothing
but pixels survives (no EXIF, no GPS tags, no appended payload), and stored privately."""

import base64
import binascii
import hashlib

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.translation import gettext as _

from tepat.uploads import NotAnImage, UploadRefused, image_reencode

MAX_BYTES = 1_500_000
MAX_SIDE = 1024


class SelfieRejected(UploadRefused):
    kind = "selfie"


def selfie_decode(data_b64: str) -> bytes:
    try:
        raw = base64.b64decode(data_b64, validate=True)
    except (binascii.Error, ValueError):
        raise SelfieRejected(_("The selfie is not valid base64.")) from None
    if len(raw) > MAX_BYTES:
        raise SelfieRejected(_("The selfie is too large (at most 1.5 MB)."))
    return raw


def selfie_reencode(raw: bytes) -> bytes:
    """Return a fresh JPEG of the image's pixels; refuse anything that is not JPEG or PNG."""
    try:
        return image_reencode(raw, max_side=MAX_SIDE).content
    except NotAnImage:
        raise SelfieRejected(_("The selfie must be a JPEG or PNG photo.")) from None


def selfie_store(event_key: str, raw: bytes) -> str:
    """Store the re-encoded selfie privately; the name is derived, never the client's."""
    clean = selfie_reencode(raw)
    digest = hashlib.sha256(clean).hexdigest()[:16]
    return default_storage.save(
        f"selfies/{event_key[:2]}/{event_key}-{digest}.jpg", ContentFile(clean)
    )
