"""Evidence attached to a daily report: a PDF, JPEG or PNG, recognised by its content (never by
its name or the browser's content type), stored privately and served only as a download.

Images are re-encoded, so nothing but pixels survives (no EXIF, no GPS tags, no appended
payload). A PDF is kept as sent: it must start with the PDF header and end with its trailer,
so an HTML page or a PHP script renamed ``.pdf`` is refused; the download view's
``Content-Disposition: attachment`` and ``nosniff`` keep any PDF from acting as a page.
"""

import hashlib
import io
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

MAX_BYTES = 5_000_000
MAX_SIDE = 2400
# Decompression bombs: a tiny file that expands to gigabytes of pixels.
Image.MAX_IMAGE_PIXELS = 40_000_000

CONTENT_TYPES = {"pdf": "application/pdf", "jpg": "image/jpeg", "png": "image/png"}


class AttachmentRejected(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class CleanAttachment:
    content: bytes
    extension: str

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.extension]


def _not_allowed() -> AttachmentRejected:
    return AttachmentRejected(_("The attachment must be a PDF, JPEG or PNG file."))


def attachment_clean(raw: bytes) -> CleanAttachment:
    """The attachment as it will be stored; AttachmentRejected for anything else."""
    if len(raw) > MAX_BYTES:
        raise AttachmentRejected(_("The attachment is too large (at most 5 MB)."))
    if not raw:
        raise AttachmentRejected(_("The attachment is empty."))
    if raw.startswith(b"%PDF-"):
        # The trailer is within the last kilobyte of a well-formed PDF (after any
        # incremental update); a renamed text file has neither header nor trailer.
        if b"%%EOF" not in raw[-1024:]:
            raise _not_allowed()
        return CleanAttachment(raw, "pdf")
    try:
        with Image.open(io.BytesIO(raw)) as probe:
            kind = probe.format
            if kind not in {"JPEG", "PNG"}:
                raise _not_allowed()
            probe.verify()
        with Image.open(io.BytesIO(raw)) as image:
            image.load()
            keep_alpha = kind == "PNG" and image.mode in {"RGBA", "LA", "P"}
            pixels = image.convert("RGBA" if keep_alpha else "RGB")
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise _not_allowed() from None
    pixels.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    if kind == "PNG":
        pixels.save(out, format="PNG", optimize=True)
        return CleanAttachment(out.getvalue(), "png")
    pixels.save(out, format="JPEG", quality=85, optimize=True)
    return CleanAttachment(out.getvalue(), "jpg")


def attachment_store(employee_id: int, client_id: str, clean: CleanAttachment) -> str:
    """Store privately; the name is derived, never the client's."""
    digest = hashlib.sha256(clean.content).hexdigest()[:16]
    return default_storage.save(
        f"kinerja/{employee_id}/{client_id}-{digest}.{clean.extension}",
        ContentFile(clean.content),
    )
