"""Reports made on demand for tests that need one (the role matrix among them)."""

from datetime import time
from uuid import uuid4

from tepat.kinerja.models import DailyReport
from tests.world import TODAY, World

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def report_of(world: World, employee_name: str = "teacher") -> DailyReport:
    """A pending report with a PDF attachment of the teacher (or the nurse), made once."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.utils import timezone

    employee = getattr(world, employee_name)
    found = DailyReport.objects.filter(employee=employee, activity="Laporan uji").first()
    if found is not None:
        return found
    # One fixed file, whatever storage is configured: the role matrix runs with the
    # project's own private storage and should not leave a new file behind on every run.
    path = "kinerja/test/laporan-uji.pdf"
    if not default_storage.exists(path):
        path = default_storage.save(path, ContentFile(PDF))
    return DailyReport.objects.create(
        client_id=uuid4(),
        employee=employee,
        day=TODAY,
        start_time=time(8),
        end_time=time(10),
        minutes=120,
        activity="Laporan uji",
        attachment=path,
        attachment_type="application/pdf",
        source="web",
        received_at=timezone.now(),
    )
