"""What Tepat keeps of a file a user uploads: a PDF, or the pixels of a JPEG or PNG photo.

One place for the content checks every upload goes through (check-in selfies, absence
evidence, work-report attachments), so a file is judged by its bytes, never by its name or
the browser's content type. Photos are re-encoded, so nothing but pixels survives (no EXIF
or GPS tags, no payload appended after the image data, no polyglot). Each caller keeps its
own limits and its own Indonesian messages. A stored file goes back out only through
`private_download`, after the view has checked who may see it: from the application's origin,
or with ``TEPAT_MEDIA_ORIGIN`` set only from that separate origin, by a short-lived link.
"""

import base64
import hashlib
import io
import json
import os
import re
import time
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponseBase, HttpResponseRedirect
from django.urls import reverse
from PIL import Image, UnidentifiedImageError

from tepat.audit.attempts import upload_refused_note

ALLOWED_IMAGE_FORMATS = frozenset({"JPEG", "PNG"})
CONTENT_TYPES = {"pdf": "application/pdf", "jpg": "image/jpeg", "png": "image/png"}
# What may also leave by a media link: files Tepat built itself (requested exports, tepat.exports).
BUILT_CONTENT_TYPES = frozenset(
    {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
)
PDF_MAGIC = b"%PDF-"
# Names of PDF features that run or launch something; a scanned letter never needs them.
PDF_ACTIVE = re.compile(rb"/(JavaScript|JS|Launch|EmbeddedFile|RichMedia|XFA|OpenAction|AA)\b")
PDF_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
# Decompression bombs: a tiny file that expands to gigabytes of pixels.
Image.MAX_IMAGE_PIXELS = 40_000_000


class UploadRefused(ValueError):
    """Why an upload is not kept, in words for the person who sent it.

    Each upload's own refusal (the selfie's, the absence evidence's, the work-report
    attachment's) is a subclass naming its ``kind``; making one notes the refused upload for
    the audit trail (``tepat.audit.attempts``: who, which upload, why, from where; never the
    file or its name), so no upload path can refuse a file without it being recorded.
    """

    kind = "file"

    def __init__(self, message: str, *, size: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        upload_refused_note(self.kind, str(message), size)


class NotAnImage(ValueError):
    """The bytes are not a JPEG or PNG image Pillow can decode completely."""


@dataclass(frozen=True)
class CleanFile:
    """The bytes to store and the extension Tepat chose for them."""

    content: bytes
    extension: str

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.extension]


def is_pdf(raw: bytes) -> bool:
    return raw.startswith(PDF_MAGIC)


def pdf_complete(raw: bytes) -> bool:
    """The trailer is within the last kilobyte of a well-formed PDF (after any incremental
    update); a renamed text file has neither header nor trailer."""
    return is_pdf(raw) and b"%%EOF" in raw[-1024:]


def pdf_has_active_content(raw: bytes) -> bool:
    """A PDF name may spell letters as #xx (``/J#61vaScript`` is ``/JavaScript``): the names
    are compared with those escapes undone."""
    unescaped = PDF_NAME_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), raw)
    return PDF_ACTIVE.search(unescaped) is not None


class PdfRefused(ValueError):
    """Why a PDF is not kept: ``incomplete`` (no header or trailer) or ``active`` (scripts,
    launch actions, embedded files)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def pdf_clean(raw: bytes) -> CleanFile:
    """The PDF as it will be stored, or PdfRefused: every upload that accepts PDFs (absence
    evidence, work-report attachments) applies the same checks."""
    if not pdf_complete(raw):
        raise PdfRefused("incomplete")
    if pdf_has_active_content(raw):
        raise PdfRefused("active")
    return CleanFile(raw, "pdf")


def image_format(raw: bytes) -> str | None:
    """ "JPEG" or "PNG" when the content (not the name) is one of those, else None."""
    try:
        with Image.open(io.BytesIO(raw)) as probe:
            return probe.format if probe.format in ALLOWED_IMAGE_FORMATS else None
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        return None


def image_reencode(
    raw: bytes, *, max_side: int, quality: int = 80, keep_png: bool = False
) -> CleanFile:
    """A fresh image of the pixels, at most `max_side` on its longer side: a JPEG, or with
    `keep_png` a PNG stays a PNG (keeping its transparency)."""
    try:
        with Image.open(io.BytesIO(raw)) as probe:
            kind = probe.format
            if kind not in ALLOWED_IMAGE_FORMATS:
                raise NotAnImage(kind or "unknown")
            probe.verify()
        with Image.open(io.BytesIO(raw)) as image:
            image.load()
            as_png = keep_png and kind == "PNG"
            keep_alpha = as_png and image.mode in {"RGBA", "LA", "P"}
            pixels = image.convert("RGBA" if keep_alpha else "RGB")
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise NotAnImage("undecodable") from None
    # convert() copies the source's info, and Pillow writes a JPEG comment (COM segment)
    # from it on save: a web shell hidden there would survive. Keep the pixels only.
    pixels.info.clear()
    pixels.thumbnail((max_side, max_side))
    out = io.BytesIO()
    if as_png:
        pixels.save(out, format="PNG", optimize=True)
        return CleanFile(out.getvalue(), "png")
    pixels.save(out, format="JPEG", quality=quality, optimize=True)
    return CleanFile(out.getvalue(), "jpg")


def private_download(path: str, *, filename: str, content_type: str) -> HttpResponseBase:
    """A stored upload as a download, after the calling view has checked who may see it.

    With ``TEPAT_MEDIA_ORIGIN`` set, the application's origin never sends the bytes: the
    answer is a redirect to a short-lived encrypted link on the media origin
    (``media_link``), so a file that slipped past every check still cannot run as a page of
    Tepat (it has no session cookie, no CSRF token and no same-origin access there)."""
    if settings.TEPAT_MEDIA_ORIGIN:
        return HttpResponseRedirect(media_link(path, filename=filename, content_type=content_type))
    try:
        return file_response(path, filename=filename, content_type=content_type)
    except FileNotFoundError:  # a row naming a file the storage no longer has: not a 500
        raise Http404 from None


def file_response(path: str, *, filename: str, content_type: str) -> FileResponse:
    """Never shown inline, never sniffed into a page, never cached by a shared proxy.

    From an object store (``TEPAT_STORAGE_URL``) the bytes stream as they arrive from the
    bucket, never through a URL of the bucket; FileNotFoundError when nothing is stored
    under ``path``, as from the filesystem."""
    stream = getattr(default_storage, "stream", None)  # tepat.object_storage.PrivateS3Storage
    body, size = stream(path) if stream is not None else (default_storage.open(path, "rb"), None)
    response = FileResponse(body, as_attachment=True, filename=filename, content_type=content_type)
    if size is not None:
        response["Content-Length"] = str(size)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# The media-origin links: AES-GCM under a key derived from SECRET_KEY, so the link carries
# the storage path and the file name (which holds a NIP) without showing them to the media
# host's access log, and cannot be made or altered without the key. Stateless: any node
# serves a link any node made.
MEDIA_LINK_AAD = b"tepat.media-link.v1"


def _media_key() -> bytes:
    return hashlib.sha256(b"tepat.media-link:" + settings.SECRET_KEY.encode()).digest()


def media_link(path: str, *, filename: str, content_type: str, now: float | None = None) -> str:
    """The absolute URL on the media origin that serves this file for a short while."""
    expires = int((time.time() if now is None else now) + settings.TEPAT_MEDIA_LINK_SECONDS)
    payload = json.dumps({"p": path, "f": filename, "t": content_type, "e": expires}).encode()
    nonce = os.urandom(12)
    sealed = AESGCM(_media_key()).encrypt(nonce, payload, MEDIA_LINK_AAD)
    token = base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode()
    return f"{settings.TEPAT_MEDIA_ORIGIN}{reverse('media_file', args=[token])}"


class MediaLinkInvalid(ValueError):
    """Not a link Tepat made, altered, or expired."""


def media_link_open(token: str, now: float | None = None) -> tuple[str, str, str]:
    """(path, filename, content type) of a link that is Tepat's and still valid."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload = AESGCM(_media_key()).decrypt(raw[:12], raw[12:], MEDIA_LINK_AAD)
        data = json.loads(payload)
        path, filename, content_type, expires = data["p"], data["f"], data["t"], data["e"]
    except (ValueError, TypeError, KeyError, InvalidTag):
        raise MediaLinkInvalid("not a valid link") from None
    if (time.time() if now is None else now) > expires:
        raise MediaLinkInvalid("expired")
    if content_type not in CONTENT_TYPES.values() and content_type not in BUILT_CONTENT_TYPES:
        raise MediaLinkInvalid("content type")
    return str(path), str(filename), str(content_type)
