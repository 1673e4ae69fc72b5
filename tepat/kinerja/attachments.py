"""Evidence attached to a daily report: a PDF, JPEG or PNG, recognised by its content (never by
its name or the browser's content type), stored privately and served only as a download.

Images are re-encoded, so nothing but pixels survives (no EXIF, no GPS tags, no appended
payload). A PDF is kept as sent after the same checks as absence evidence
(``tepat.uploads.pdf_clean``): header and trailer, so an HTML page or a PHP script renamed
``.pdf`` is refused, and no scripts, launch actions or embedded files; the download view's
``Content-Disposition: attachment`` and ``nosniff`` keep any PDF from acting as a page.
"""

import hashlib

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.translation import gettext as _

from tepat.uploads import (
    CleanFile,
    NotAnImage,
    PdfRefused,
    UploadRefused,
    image_reencode,
    is_pdf,
    pdf_clean,
)

MAX_BYTES = 5_000_000
MAX_SIDE = 2400


class AttachmentRejected(UploadRefused):
    kind = "kinerja_attachment"


def _not_allowed() -> AttachmentRejected:
    return AttachmentRejected(_("The attachment must be a PDF, JPEG or PNG file."))


def attachment_clean(raw: bytes) -> CleanFile:
    """The attachment as it will be stored; AttachmentRejected for anything else."""
    if len(raw) > MAX_BYTES:
        raise AttachmentRejected(_("The attachment is too large (at most 5 MB)."))
    if not raw:
        raise AttachmentRejected(_("The attachment is empty."))
    if is_pdf(raw):
        try:
            return pdf_clean(raw)
        except PdfRefused as refused:
            if refused.reason == "incomplete":
                raise _not_allowed() from None
            raise AttachmentRejected(
                _("The PDF contains scripts or embedded files; print it to PDF or scan it again.")
            ) from None
    try:
        return image_reencode(raw, max_side=MAX_SIDE, quality=85, keep_png=True)
    except NotAnImage:
        raise _not_allowed() from None


def attachment_store(employee_id: int, client_id: str, clean: CleanFile) -> str:
    """Store privately; the name is derived, never the client's."""
    digest = hashlib.sha256(clean.content).hexdigest()[:16]
    return default_storage.save(
        f"kinerja/{employee_id}/{client_id}-{digest}.{clean.extension}",
        ContentFile(clean.content),
    )
