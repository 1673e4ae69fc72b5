"""Web-shell and script uploads, tried on every upload Tepat takes: the check-in selfie, the
absence evidence and the work-report attachment. Anything but a clean PDF or the pixels of a
JPEG/PNG photo is refused; a photo carrying a payload is stored as fresh pixels only."""

import io
from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from PIL import Image

from tepat.kinerja.attachments import AttachmentRejected, attachment_clean
from tepat.presence.evidence import EvidenceRejected, evidence_clean, evidence_read
from tepat.presence.selfies import SelfieRejected, selfie_decode, selfie_reencode
from tepat.uploads import CleanFile
from tests.world import World, login


def _jpeg(comment: bytes = b"") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "green").save(out, format="JPEG")
    raw = out.getvalue()
    if comment:  # a COM segment right after SOI: where a web shell hides in a "photo"
        raw = raw[:2] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment + raw[2:]
    return raw


def _pdf(body: bytes) -> bytes:
    return b"%PDF-1.7\n1 0 obj\n" + body + b"\nendobj\ntrailer\n<< >>\n%%EOF\n"


SHELL = b"<?php system($_GET['c']); ?>"
SCRIPT = b"<html><script>alert(document.cookie)</script></html>"
REFUSED = {
    "html-renamed": SCRIPT,
    "php-renamed": SHELL,
    "php-behind-jpeg-magic": b"\xff\xd8\xff\xe0" + SHELL,
    "svg-with-script": b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    "gif": b"GIF89a" + b"\x00" * 64,
    "pdf-header-only": b"%PDF-1.4\n" + SCRIPT,
    "pdf-javascript": _pdf(b"<< /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>"),
    "pdf-javascript-hex-escaped": _pdf(b"<< /OpenAction << /S /J#61vaScript /J#53 (x) >> >>"),
    "pdf-launch": _pdf(b"<< /Type /Action /S /Launch /F (cmd.exe) >>"),
    "pdf-embedded-file": _pdf(b"<< /Type /EmbeddedFile /Length 3 >>"),
}
PDF_ONLY_ATTACKS = {
    "pdf-javascript",
    "pdf-javascript-hex-escaped",
    "pdf-launch",
    "pdf-embedded-file",
}


def _selfie(raw: bytes) -> CleanFile:
    return CleanFile(selfie_reencode(raw), "jpg")


# Each upload's cleaner, and the error it raises when it refuses.
CLEANERS: dict[str, tuple[Callable[[bytes], CleanFile], type[Exception]]] = {
    "selfie": (_selfie, SelfieRejected),
    "absence-evidence": (evidence_clean, EvidenceRejected),
    "kinerja-attachment": (attachment_clean, AttachmentRejected),
}


@pytest.mark.parametrize("upload", sorted(CLEANERS))
@pytest.mark.parametrize("attack", sorted(REFUSED))
def test_every_upload_refuses_the_attack(upload: str, attack: str) -> None:
    clean, refusal = CLEANERS[upload]
    with pytest.raises(refusal):
        clean(REFUSED[attack])


@pytest.mark.parametrize("upload", sorted(CLEANERS))
@pytest.mark.parametrize(
    "photo",
    [_jpeg(comment=SHELL), _jpeg() + SCRIPT, _jpeg() + SHELL],
    ids=["shell-in-jpeg-comment", "html-appended", "php-appended"],
)
def test_a_photo_polyglot_is_kept_as_pixels_only(upload: str, photo: bytes) -> None:
    clean, _ = CLEANERS[upload]
    stored = clean(photo)
    assert stored.extension == "jpg"
    assert b"<?php" not in stored.content
    assert b"<script" not in stored.content
    with Image.open(io.BytesIO(stored.content)) as image:
        assert image.format == "JPEG"


def test_oversized_uploads_are_refused_before_they_are_judged() -> None:
    import base64

    with pytest.raises(SelfieRejected):
        selfie_decode(base64.b64encode(b"\xff" * 1_500_001).decode())
    with pytest.raises(EvidenceRejected):
        evidence_read(SimpleUploadedFile("surat.pdf", _pdf(b"x" * 6_000_000)), max_bytes=5_000_000)
    with pytest.raises(AttachmentRejected):
        attachment_clean(_pdf(b"x" * 5_000_001))


@pytest.mark.django_db
def test_a_work_report_with_a_scripted_pdf_is_refused_and_nothing_stored(
    world: World, tmp_path: object, settings: object
) -> None:
    """On the page itself: the clean PDF is filed, the same letter with a script is not."""
    from tepat.kinerja.models import DailyReport

    client = login(Client(), world.users["asn"])

    def form(day: str, payload: bytes) -> dict[str, object]:
        return {
            "day": day, "start_time": "08:00", "end_time": "10:30",
            "activity": "Menyusun RPP kelas 4", "output": "RPP", "quantity": "1",
            "unit": "dokumen",
            "attachment": SimpleUploadedFile("laporan.pdf", payload, "application/pdf"),
        }  # fmt: skip

    today = timezone.localdate().isoformat()  # within the days a report may still be filed
    for attack in sorted(PDF_ONLY_ATTACKS):
        response = client.post("/kinerja/laporan/baru/", form(today, REFUSED[attack]))
        assert response.status_code == 400, attack
    assert not DailyReport.objects.exists()
    clean = client.post("/kinerja/laporan/baru/", form(today, _pdf(b"<< >>")))
    assert clean.status_code == 302
    assert DailyReport.objects.count() == 1
