"""Requested exports: every converted export button queues a task, the worker's file is what
the page's builder makes, only the requester downloads it, for as long as it is kept and
while they keep the scope they asked with."""

import io
import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.test import Client, TestCase
from django_tasks_db.models import DBTaskResult
from openpyxl import load_workbook
from pypdf import PdfReader

from tepat.accounts import access
from tepat.accounts.models import Role, User
from tepat.audit.models import AuditEntry
from tepat.exports import services
from tepat.exports.kinds import KINDS, ExportParams
from tepat.exports.models import ExportRequest
from tests.exports.conftest import NOW
from tests.exports.flow import TASK, export_download, export_queue, export_run, file_bytes
from tests.monitor.days import verdicts, working_days_until
from tests.world import PASSWORD, TODAY, World, login

pytestmark = pytest.mark.usefixtures("clock")
Status = ExportRequest.Status
NIP = re.compile(r"\b\d{18}\b")
ROLES = ["asn", "atasan", "operator_opd", "kepala_opd", "admin_bkpsdm", "auditor", "superadmin",
         "operator_other"]  # fmt: skip
REPORT_ROLES = {"operator_opd", "kepala_opd", "admin_bkpsdm", "auditor", "superadmin",
                "operator_other"}  # fmt: skip


@pytest.fixture
def absences(world: World) -> None:
    """TK days for a Dindik teacher and the Dinkes nurse, so each OPD's report has a row."""
    verdicts(world.teacher2, working_days_until(TODAY, 3))
    verdicts(world.nurse, [date(2026, 11, 2)])
    from tepat.kinerja import services as kinerja

    for employee in (world.teacher, world.nurse):
        kinerja.month_evaluation_store(employee=employee, year=2026, month=11)


def _cells(content: bytes) -> list[list[tuple[object, ...]]]:
    book = load_workbook(io.BytesIO(content))
    return [list(ws.iter_rows(values_only=True)) for ws in book.worksheets]


def _text(kind: str, content: bytes) -> str:
    """What a person reads in the file: the cells of every sheet, or the PDF's text."""
    if kind.endswith("pdf"):
        return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)
    return repr(_cells(content))


@pytest.mark.usefixtures("absences")
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_export_queues_and_the_worker_builds_what_the_builder_builds(
    world: World, kind: str
) -> None:
    user = world.users["admin_bkpsdm"]
    client = login(Client(), user)

    response = export_download(client, kind, {"bulan": "2026-11"})

    content = file_bytes(response)
    found = KINDS[kind]
    same = found.build(user, ExportParams(date(2026, 11, 1), None), TODAY)
    if kind.endswith("pdf"):  # the PDF's creation time differs; its text does not
        assert _text(kind, content) == _text(kind, same)
    else:
        assert _cells(content) == _cells(same)
    assert world.teacher2.nip in _text(kind, content) or kind == "kinerja-tim"
    assert world.nurse.nip in _text(kind, content)
    assert response["Content-Type"] == found.content_type
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment;")
    export = ExportRequest.objects.get()
    assert export.file_path.startswith("exports/")
    assert export.size == len(content)
    assert default_storage.exists(export.file_path)


@pytest.mark.usefixtures("absences")
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_role_gets_only_the_rows_it_may_see(world: World, kind: str, role: str) -> None:
    user = world.users[role]
    client = login(Client(), user)

    response = export_queue(client, kind, {"bulan": "2026-11"})

    allowed = KINDS[kind].roles is None or role in REPORT_ROLES
    if not allowed:
        assert response.status_code == 403
        assert not ExportRequest.objects.exists()
        return
    text = _text(kind, file_bytes(_built(client)))
    visible = set(access.employees_visible_to(user, TODAY).values_list("nip", flat=True))
    assert set(NIP.findall(text)) <= visible
    if role in {"operator_opd", "kepala_opd", "asn", "atasan"}:
        assert world.nurse.nip not in text
    if role == "operator_other":
        assert world.teacher.nip not in text
        assert world.teacher2.nip not in text


def _built(client: Client) -> Any:
    export = ExportRequest.objects.latest("pk")
    assert export_run(export).status == Status.DONE
    return client.get(f"/unduhan/{export.pk}/berkas/")


@pytest.mark.usefixtures("absences")
def test_an_operator_picks_one_opd_only_among_those_they_see(world: World) -> None:
    client = login(Client(), world.users["operator_opd"])

    refused = export_queue(client, "rekap-kehadiran", {"opd": world.dinkes.pk})
    asked = export_queue(client, "rekap-kehadiran", {"opd": world.dindik.pk})

    assert refused.status_code == 404
    assert "OPD tidak ditemukan" in refused.content.decode()
    assert asked.status_code == 302
    bkpsdm = login(Client(), world.users["admin_bkpsdm"])
    export_queue(bkpsdm, "rekap-disiplin-xlsx", {"bulan": "2026-11", "opd": world.dinkes.pk})
    text = _text("x", file_bytes(_built(bkpsdm)))
    assert world.nurse.nip in text
    assert world.teacher2.nip not in text


@pytest.mark.parametrize(
    ("kind", "data", "status", "words"),
    [
        ("rekap-kehadiran", {"bulan": "2026-13"}, 400, "Bulan tidak valid"),
        ("rekap-kehadiran", {"bulan": "November"}, 400, "Bulan tidak valid"),
        ("rekap-kehadiran", {"bulan": "2026-12"}, 400, "belum dimulai"),
        ("rekap-disiplin-pdf", {"opd": "dinkes"}, 400, "OPD tidak valid"),
        ("rekap-disiplin-xlsx", {"opd": "999999"}, 404, "OPD tidak ditemukan"),
        ("rekap-tpp-semua", {}, 404, "Ekspor tidak dikenal"),
    ],
)
def test_bad_parameters_are_refused_in_indonesian(
    world: World, kind: str, data: dict[str, str], status: int, words: str
) -> None:
    response = export_queue(login(Client(), world.users["admin_bkpsdm"]), kind, data)

    assert response.status_code == status
    assert words in response.content.decode()
    assert not ExportRequest.objects.exists()


def test_an_asn_may_not_ask_for_the_discipline_report(world: World) -> None:
    response = export_queue(login(Client(), world.users["asn"]), "rekap-disiplin-xlsx")

    assert response.status_code == 403
    assert "Anda tidak boleh meminta ekspor ini" in response.content.decode()


def test_the_export_is_only_for_the_one_who_asked(world: World) -> None:
    other_operator = User.objects.create_user(
        "operator2.dindik", password=PASSWORD, role=Role.OPERATOR_OPD, opd=world.dindik
    )
    owner = login(Client(), world.users["operator_opd"])
    export_queue(owner, "rekap-kehadiran")
    export = export_run(ExportRequest.objects.get())
    url = f"/unduhan/{export.pk}/berkas/"

    for name in ("kepala_opd", "admin_bkpsdm", "superadmin", "operator_other", "asn"):
        client = login(Client(), world.users[name])
        assert client.get(url).status_code == 404, name
        assert client.post(f"/unduhan/{export.pk}/ulang/").status_code == 404, name
        assert "rekap-kehadiran" not in client.get("/unduhan/").content.decode()
    same_opd = login(Client(), other_operator)
    assert same_opd.get(url).status_code == 404
    assert Client().get(url).status_code == 302  # to the login page
    assert owner.get(url).status_code == 200
    page = owner.get("/unduhan/").content.decode()
    assert f'id="export-{export.pk}" data-status="done"' in page
    assert "Siap" in page


def test_asking_twice_queues_once_and_a_person_has_few_waiting(world: World) -> None:
    client = login(Client(), world.users["admin_bkpsdm"])

    export_queue(client, "rekap-kehadiran", {"bulan": "2026-11"})
    again = export_queue(client, "rekap-kehadiran", {"bulan": "2026-11"})
    assert "sudah dalam antrean" in client.get("/unduhan/").content.decode()
    export_queue(client, "rekap-kehadiran", {"bulan": "2026-10"})
    export_queue(client, "rekap-kehadiran", {"bulan": "2026-09"})
    too_many = export_queue(client, "rekap-kehadiran", {"bulan": "2026-08"})

    assert again.status_code == 302
    assert ExportRequest.objects.count() == 3
    assert too_many.status_code == 429
    assert "3 ekspor yang menunggu" in too_many.content.decode()


def test_a_requester_who_lost_the_role_gets_a_failed_job_not_a_file(world: World) -> None:
    user = world.users["operator_opd"]
    client = login(Client(), user)
    export_queue(client, "rekap-disiplin-xlsx")
    User.objects.filter(pk=user.pk).update(role=Role.ASN, opd=None, employee=world.nurse)

    export = export_run(ExportRequest.objects.get())

    assert export.status == Status.FAILED
    assert not export.retryable
    assert "Peran atau OPD Anda berubah" in export.error
    assert export.file_path == ""
    assert not default_storage.listdir("")[1]
    assert services.export_build(export.pk).status == Status.FAILED  # a rerun builds nothing


def test_a_file_built_before_the_role_was_lost_cannot_be_downloaded(world: World) -> None:
    user = world.users["operator_opd"]
    client = login(Client(), user)
    export_queue(client, "rekap-kehadiran")
    export = export_run(ExportRequest.objects.get())
    User.objects.filter(pk=user.pk).update(opd=world.dinkes)

    assert client.get(f"/unduhan/{export.pk}/berkas/").status_code == 404


def test_a_failure_is_shown_in_indonesian_and_tried_again_from_the_page(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = login(Client(), world.users["admin_bkpsdm"])
    export_queue(client, "rekap-kehadiran")
    export = ExportRequest.objects.get()

    def broken(*args: object) -> bytes:
        raise OSError("disk full")

    with monkeypatch.context() as patched:
        patched.setattr("tepat.exports.kinds.recap_file", broken)
        with pytest.raises(OSError, match="disk full"):
            export_run(export)
    export.refresh_from_db()
    assert (export.status, export.retryable) == (Status.FAILED, True)
    page = client.get("/unduhan/").content.decode()
    assert "Gagal" in page
    assert "Berkas tidak dapat dibuat karena galat di server" in page
    assert client.get(f"/unduhan/{export.pk}/berkas/").status_code == 404

    queued = DBTaskResult.objects.filter(task_path=TASK, args_kwargs__args=[export.pk]).count()
    with TestCase.captureOnCommitCallbacks(execute=True):
        retried = client.post(f"/unduhan/{export.pk}/ulang/")
    assert retried.status_code == 302
    export.refresh_from_db()
    assert export.status == Status.QUEUED
    assert (
        DBTaskResult.objects.filter(task_path=TASK, args_kwargs__args=[export.pk]).count()
        == queued + 1
    )
    assert services.export_build(export.pk).status == Status.DONE
    assert file_bytes(client.get(f"/unduhan/{export.pk}/berkas/")).startswith(b"PK")
    assert client.post(f"/unduhan/{export.pk}/ulang/").status_code == 302
    assert ExportRequest.objects.get().status == Status.DONE  # a built export is not redone


def test_an_expired_file_is_deleted_and_its_row_kept(world: World, clock: Any) -> None:
    client = login(Client(), world.users["kepala_opd"])
    response = export_download(client, "rekap-kehadiran")
    export = ExportRequest.objects.get()
    assert response.status_code == 200
    assert export.expires_at == export.finished_at + timedelta(hours=72)

    call_command("exports_expire", verbosity=0)
    assert default_storage.exists(export.file_path)  # not yet
    clock.shift(timedelta(hours=72, seconds=1))
    client = login(Client(), world.users["kepala_opd"])  # the session ended meanwhile
    assert client.get(f"/unduhan/{export.pk}/berkas/").status_code == 404
    call_command("exports_expire", verbosity=0)

    export.refresh_from_db()
    assert export.status == Status.EXPIRED
    assert not default_storage.exists(export.file_path)
    assert "Kedaluwarsa" in client.get("/unduhan/").content.decode()


def test_asking_and_downloading_are_in_the_audit_trail(world: World) -> None:
    client = login(Client(), world.users["admin_bkpsdm"])

    export_download(client, "rekap-disiplin-pdf", {"bulan": "2026-11"})

    export = ExportRequest.objects.get()
    entries = AuditEntry.objects.filter(object_type="exports.exportrequest", object_id=export.pk)
    assert list(entries.order_by("pk").values_list("action", "actor__username")) == [
        ("export.request", "bkpsdm"),
        ("export.download", "bkpsdm"),
    ]


def test_with_a_media_origin_the_file_leaves_by_a_short_lived_link(
    world: World, settings: Any
) -> None:
    settings.TEPAT_MEDIA_ORIGIN = "https://berkas.example.go.id"
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "berkas.example.go.id"]
    client = login(Client(), world.users["admin_bkpsdm"])

    response = export_download(client, "rekap-kehadiran", {"bulan": "2026-11"})

    assert response.status_code == 302
    link = response["Location"]
    assert link.startswith("https://berkas.example.go.id/berkas/")
    served = Client().get(link.removeprefix("https://berkas.example.go.id"), secure=True,
                          HTTP_HOST="berkas.example.go.id")  # fmt: skip
    assert file_bytes(served).startswith(b"PK")
    assert served["Content-Disposition"].startswith("attachment;")


def test_a_build_lost_with_its_worker_may_be_queued_again_after_an_hour(
    world: World, clock: Any
) -> None:
    client = login(Client(), world.users["admin_bkpsdm"])
    export_queue(client, "rekap-kehadiran")
    # Its worker was killed mid-build: the export and its task both still say running.
    ExportRequest.objects.update(status=Status.RUNNING, started_at=NOW)
    DBTaskResult.objects.filter(task_path=TASK).update(status="RUNNING")

    export = ExportRequest.objects.get()
    assert "Coba lagi" not in client.get("/unduhan/").content.decode()
    client.post(f"/unduhan/{export.pk}/ulang/")
    assert ExportRequest.objects.get().status == Status.RUNNING
    clock.shift(timedelta(hours=1, seconds=1))
    client = login(Client(), world.users["admin_bkpsdm"])
    assert "Coba lagi" in client.get("/unduhan/").content.decode()
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post(f"/unduhan/{export.pk}/ulang/")

    assert export_run(ExportRequest.objects.get()).status == Status.DONE
