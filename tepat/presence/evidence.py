"""Evidence for absence requests (a doctor's letter, a surat tugas): PDF, JPEG or PNG only,
judged by content, never by the name or the browser's content type, and stored privately
under a name Tepat chooses. Photos are re-encoded; a PDF that carries JavaScript, launch
actions or embedded files is refused, because it would be opened by the approver."""

import hashlib
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from tepat.uploads import (
    CleanFile,
    NotAnImage,
    PdfRefused,
    UploadRefused,
    image_format,
    image_reencode,
    is_pdf,
    pdf_clean,
)

MAX_SIDE = 2400


class EvidenceRejected(UploadRefused):
    kind = "absence_evidence"


@dataclass(frozen=True)
class StoredEvidence:
    path: str
    content_type: str
    sha256: str


def evidence_read(upload: UploadedFile[bytes], *, max_bytes: int) -> bytes:
    """The upload's bytes, refusing early anything larger than the policy allows."""
    if upload.size is not None and upload.size > max_bytes:
        raise EvidenceRejected(_too_large(max_bytes))
    raw: bytes = upload.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise EvidenceRejected(_too_large(max_bytes))
    if not raw:
        raise EvidenceRejected(_("The evidence file is empty."))
    return raw


def evidence_clean(raw: bytes) -> CleanFile:
    """What will be stored, or EvidenceRejected."""
    if is_pdf(raw):
        try:
            return pdf_clean(raw)
        except PdfRefused as refused:
            if refused.reason == "incomplete":
                raise EvidenceRejected(_("The PDF file is incomplete or damaged.")) from None
            raise EvidenceRejected(
                _("The PDF contains scripts or embedded files; print it to PDF or scan it again.")
            ) from None
    if image_format(raw) is not None:
        try:
            return image_reencode(raw, max_side=MAX_SIDE, quality=85)
        except NotAnImage:
            raise EvidenceRejected(_("The image file is damaged.")) from None
    raise EvidenceRejected(_("Evidence must be a PDF, JPEG or PNG file."))


def evidence_store(
    upload: UploadedFile[bytes], *, max_bytes: int, owner_key: str
) -> StoredEvidence:
    clean = evidence_clean(evidence_read(upload, max_bytes=max_bytes))
    digest = hashlib.sha256(clean.content).hexdigest()
    path = default_storage.save(
        f"evidence/{owner_key}/{digest[:20]}.{clean.extension}", ContentFile(clean.content)
    )
    return StoredEvidence(path=path, content_type=clean.content_type, sha256=digest)


def _too_large(max_bytes: int) -> str:
    megabytes = max_bytes / 1_000_000
    return _("The evidence file is too large (at most %(mb)s MB).") % {"mb": f"{megabytes:g}"}
