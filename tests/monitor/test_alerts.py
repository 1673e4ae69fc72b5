"""Discipline alerts as the people involved meet them: the employee, the direct supervisor and
the Kepala OPD are told once per threshold crossing, in the app and by email; a supervisor who
does nothing within the policy's window is reported to BKPSDM and the inaction recorded
(Pasal 28); running the monitor again sends nothing twice."""

from datetime import date, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.test import Client

from tepat.audit.models import AuditEntry
from tepat.monitor import channels
from tepat.monitor.models import AlertAction, DisciplineAlert, Notification
from tepat.monitor.services import discipline_alerts_run
from tests.monitor.conftest import WIB
from tests.monitor.days import verdicts, working_days_until
from tests.world import TODAY, World, login

pytestmark = pytest.mark.usefixtures("clock")

THREE = working_days_until(TODAY, 3)  # Thursday 19, Friday 20, Monday 23 November


@pytest.fixture
def emails(world: World) -> None:
    for key in ("asn", "atasan", "kepala_opd", "admin_bkpsdm"):
        user = world.users[key]
        user.email = f"{user.username}@mukomukokab.go.id"
        user.save()


def _codes(world: World) -> list[str]:
    return sorted(
        DisciplineAlert.objects.filter(employee=world.teacher).values_list(
            "threshold_code", flat=True
        )
    )


def test_three_days_in_a_row_tell_the_employee_the_atasan_and_the_kepala_opd(
    world: World, emails: None
) -> None:
    verdicts(world.teacher, THREE)

    run = discipline_alerts_run(today=TODAY)

    assert _codes(world) == ["TK_BERTURUT_3", "TK_KUMULATIF_3"]
    assert run.raised == 2
    sent = Notification.objects.all()
    # One message per person and channel for both crossings of the same day, about the heavier.
    assert {(n.recipient.username, n.channel) for n in sent} == {
        (u.username, c)
        for u in (world.users["asn"], world.users["atasan"], world.users["kepala_opd"])
        for c in ("in_app", "email")
    }
    assert {n.alert.threshold_code for n in sent} == {"TK_KUMULATIF_3"}
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        f"{world.users[k].username}@mukomukokab.go.id" for k in ("asn", "atasan", "kepala_opd")
    )
    body = mail.outbox[0].body
    assert "teguran lisan (PP 49/2018; PP 94/2021 Pasal 9 secara analogi)" in body  # PPPK
    assert "03-12-2026" in body  # the supervisor's deadline, 10 days on
    assert AuditEntry.objects.filter(action="discipline_alert.raise").count() == 2


def test_running_twice_sends_nothing_twice(world: World, emails: None) -> None:
    verdicts(world.teacher, THREE)
    discipline_alerts_run(today=TODAY)
    first = (DisciplineAlert.objects.count(), Notification.objects.count(), len(mail.outbox))

    again = discipline_alerts_run(today=TODAY)

    assert (again.raised, again.escalated, again.delivered) == (0, 0, 0)
    assert (
        DisciplineAlert.objects.count(),
        Notification.objects.count(),
        len(mail.outbox),
    ) == first


def test_the_next_day_of_the_streak_raises_only_what_is_new(world: World, emails: None) -> None:
    verdicts(world.teacher, THREE)
    discipline_alerts_run(today=TODAY)
    tuesday = TODAY + timedelta(days=1)
    verdicts(world.teacher, [tuesday])

    with time_machine.travel(datetime(2026, 11, 24, 20, 0, tzinfo=WIB), tick=False):
        run = discipline_alerts_run(today=tuesday)

    assert run.raised == 1
    assert _codes(world) == ["TK_BERTURUT_3", "TK_KUMULATIF_3", "TK_KUMULATIF_4"]


def test_ten_days_in_a_row_raise_the_dismissal_alert_with_its_article(world: World) -> None:
    verdicts(world.teacher2, working_days_until(TODAY, 10))
    discipline_alerts_run(today=TODAY)

    dismissal = DisciplineAlert.objects.get(
        employee=world.teacher2, threshold_code="TK_BERTURUT_10"
    )
    assert dismissal.level == "berat"
    assert dismissal.article == "PP 94/2021 Pasal 11 ayat (2) huruf d angka 4 dan Pasal 15 ayat (2)"
    # teacher2 has no account: the principal and the kadis are told.
    assert {n.recipient_id for n in Notification.objects.filter(alert=dismissal)} == {
        world.users["atasan"].pk,
        world.users["kepala_opd"].pk,
    }


@pytest.fixture
def raised(world: World, emails: None, clock: object) -> None:
    verdicts(world.teacher, THREE)
    discipline_alerts_run(today=TODAY)
    mail.outbox.clear()


DUE = date(2026, 12, 3)


def _run_on(day: date) -> None:
    with time_machine.travel(datetime(day.year, day.month, day.day, 20, tzinfo=WIB), tick=False):
        discipline_alerts_run(today=day)


@pytest.mark.usefixtures("raised")
def test_a_supervisor_who_does_nothing_is_reported_to_bkpsdm(world: World) -> None:
    _run_on(DUE - timedelta(days=1))
    assert not DisciplineAlert.objects.filter(status="escalated").exists()

    _run_on(DUE)

    alerts = DisciplineAlert.objects.filter(employee=world.teacher)
    assert {a.status for a in alerts} == {"escalated"}
    assert all(a.supervisor_inaction for a in alerts)
    note = AlertAction.objects.filter(kind="escalate").first()
    assert note is not None
    assert world.principal.name in note.note
    assert "Pasal 28" in note.note
    to_bkpsdm = Notification.objects.filter(
        purpose="escalated", recipient=world.users["admin_bkpsdm"]
    )
    assert to_bkpsdm.count() == 2 * 2  # two alerts, in the app and by email
    assert "bkpsdm@mukomukokab.go.id" in {m.to[0] for m in mail.outbox}

    sent = len(mail.outbox)
    _run_on(DUE + timedelta(days=1))
    assert len(mail.outbox) == sent
    assert AlertAction.objects.filter(kind="escalate").count() == 2


@pytest.mark.usefixtures("raised")
def test_a_supervisor_who_summons_the_employee_stops_the_escalation(world: World) -> None:
    alert = DisciplineAlert.objects.get(employee=world.teacher, threshold_code="TK_KUMULATIF_3")
    client = login(Client(), world.users["atasan"])

    response = client.post(
        f"/pantau/peringatan/{alert.pk}/",
        {"kind": "act", "note": "Dipanggil 24-11-2026, berita acara pemeriksaan dibuat"},
    )
    _run_on(DUE)

    assert response.status_code == 302
    assert {a.status for a in DisciplineAlert.objects.filter(employee=world.teacher)} == {"acted"}
    assert AuditEntry.objects.filter(action="discipline_alert.act").count() == 2
    assert not Notification.objects.filter(purpose="escalated").exists()


@pytest.mark.usefixtures("raised")
def test_acting_needs_a_note_and_the_right_person(world: World) -> None:
    alert = DisciplineAlert.objects.get(employee=world.teacher, threshold_code="TK_KUMULATIF_3")
    url = f"/pantau/peringatan/{alert.pk}/"

    atasan = login(Client(), world.users["atasan"])
    empty = atasan.post(url, {"kind": "act", "note": " "})
    assert empty.status_code == 400
    closing = atasan.post(url, {"kind": "close", "note": "selesai"})
    assert closing.status_code == 400  # only BKPSDM closes

    operator = login(Client(), world.users["operator_opd"])
    assert operator.get(url).status_code == 200
    assert operator.post(url, {"kind": "acknowledge", "note": ""}).status_code == 403
    assert (
        login(Client(), world.users["asn"]).post(url, {"kind": "act", "note": "x"}).status_code
        == 403
    )
    assert login(Client(), world.users["operator_other"]).get(url).status_code == 404

    bkpsdm = login(Client(), world.users["admin_bkpsdm"])
    assert (
        bkpsdm.post(url, {"kind": "close", "note": "SK 800/12/2026: teguran lisan"}).status_code
        == 302
    )
    alert.refresh_from_db()
    assert alert.status == "closed"


@pytest.mark.usefixtures("raised")
def test_an_absence_approved_later_withdraws_the_alert_without_a_message(world: World) -> None:
    sent = Notification.objects.count()
    verdicts(world.teacher, THREE[1:2], code="sakit")

    run = discipline_alerts_run(today=TODAY)

    assert run.withdrawn == 2
    assert {a.status for a in DisciplineAlert.objects.all()} == {"withdrawn"}
    assert Notification.objects.count() == sent
    _run_on(DUE)
    assert not DisciplineAlert.objects.filter(status="escalated").exists()


@pytest.mark.usefixtures("raised")
def test_the_inbox_shows_the_alert_and_marks_it_read(world: World) -> None:
    client = login(Client(), world.users["atasan"])

    page = client.get("/pantau/notifikasi/").content.decode()
    client.post("/pantau/notifikasi/")

    assert world.teacher.name in page
    mine = Notification.objects.filter(recipient=world.users["atasan"], channel="in_app")
    assert mine.count() == 1
    assert all(n.read_at is not None for n in mine)
    others = Notification.objects.filter(channel="in_app").exclude(recipient=world.users["atasan"])
    assert all(n.read_at is None for n in others)


class RecordingChannel:
    """A stand-in for a WhatsApp gateway: registered by name, nothing else changes."""

    name = "whatsapp"

    def __init__(self, fail: bool = False) -> None:
        self.sent: list[str] = []
        self.fail = fail

    def deliver(self, notification: Notification) -> None:
        if self.fail:
            raise channels.ChannelError("gateway unreachable")
        self.sent.append(notification.recipient.username)


def test_a_new_channel_plugs_in_without_touching_the_callers(
    world: World, settings: pytest.FixtureRequest
) -> None:
    gateway = channels.channel_register(RecordingChannel())
    settings.TEPAT_NOTIFY_CHANNELS = ["in_app", "whatsapp"]  # type: ignore[attr-defined]
    verdicts(world.teacher, THREE)

    discipline_alerts_run(today=TODAY)

    assert sorted(gateway.sent) == sorted(  # type: ignore[attr-defined]
        world.users[k].username for k in ("asn", "atasan", "kepala_opd")
    )
    assert mail.outbox == []


def test_a_failed_delivery_is_kept_and_tried_again(
    world: World, settings: pytest.FixtureRequest
) -> None:
    gateway = RecordingChannel(fail=True)
    channels.channel_register(gateway)
    settings.TEPAT_NOTIFY_CHANNELS = ["whatsapp"]  # type: ignore[attr-defined]
    verdicts(world.teacher, THREE)

    first = discipline_alerts_run(today=TODAY)
    gateway.fail = False
    second = discipline_alerts_run(today=TODAY)

    assert (first.delivered, first.failed) == (0, 3)
    assert (second.delivered, second.failed) == (3, 0)
    assert {n.attempts for n in Notification.objects.all()} == {2}


def test_the_command_runs_the_monitor(world: World) -> None:
    verdicts(world.teacher, THREE)
    out = StringIO()

    call_command("discipline_alerts", "--day", TODAY.isoformat(), stdout=out)
    call_command("discipline_alerts", "--day", TODAY.isoformat(), stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0].startswith("2026-11-23: 2 peringatan baru")
    assert lines[1].startswith("2026-11-23: 0 peringatan baru")
