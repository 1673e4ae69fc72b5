"""Writes of the monitor: raising discipline alerts, escalating them, recording what people
did about them, recording the sanction decided, and delivering notifications. Every write is
audited.

``discipline_alerts_run`` is idempotent: an alert is unique on its threshold crossing and a
notification on (alert, recipient, channel, purpose), so running it twice on the same data
raises nothing and sends nothing twice.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tepat.accounts import access
from tepat.accounts.models import Role, User
from tepat.audit.services import audit_record
from tepat.monitor import channels, selectors
from tepat.monitor.models import (
    AlertAction,
    DisciplineAlert,
    Notification,
    PhoneHeartbeat,
    Sanction,
)
from tepat.org.models import Employee
from tepat.presence.models import PhoneDevice
from tepat.rules import discipline

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
SYSTEM = "monitor"


@dataclass
class AlertRun:
    raised: int = 0
    reopened: int = 0
    withdrawn: int = 0
    escalated: int = 0
    delivered: int = 0
    failed: int = 0
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.raised} peringatan baru, {self.reopened} dihitung lagi, "
            f"{self.withdrawn} dicabut, {self.escalated} diteruskan ke BKPSDM, "
            f"{self.delivered} pesan terkirim, {self.failed} gagal"
        )


def discipline_alerts_run(
    *, today: date, policy: discipline.DisciplinePolicy | None = None
) -> AlertRun:
    """Raise an alert for every new PP 94/2021 threshold crossing of the year, withdraw those
    whose days no longer count, escalate those the supervisor left unanswered, then deliver
    whatever is waiting. Counted from the stored daily verdicts of the whole regency."""
    policy = policy or selectors.discipline_policy()
    run = AlertRun()
    rows = selectors.discipline_rows(Employee.objects.all(), today, policy=policy)
    existing = {
        (a.employee_id, a.year, a.threshold_code, a.occurrence): a
        for a in DisciplineAlert.objects.filter(year=today.year)
    }
    seen: set[tuple[int, int, str, int]] = set()
    for row in rows:
        new: list[discipline.ThresholdCrossing] = []
        for crossing in row.status.thresholds_crossed:
            key = (row.employee_id, *crossing.key)
            seen.add(key)
            alert = existing.get(key)
            if alert is None:
                new.append(crossing)
            elif alert.status == DisciplineAlert.Status.WITHDRAWN:
                _alert_reopen(alert)
                run.reopened += 1
        if new:
            _alerts_raise(row, new, policy, today)
            run.raised += len(new)
    for key, alert in existing.items():
        if key not in seen and alert.status in DisciplineAlert.ACTIVE:
            _alert_withdraw(alert)
            run.withdrawn += 1
    for alert in DisciplineAlert.objects.filter(
        status=DisciplineAlert.Status.OPEN, respond_by__lte=today
    ).select_related("employee", "supervisor"):
        _alert_escalate(alert, policy)
        run.escalated += 1
    run.delivered, run.failed = notifications_deliver()
    return run


# --- raising, withdrawing, escalating (the monitor itself is the actor) -----------------------


def _recipients_for(alert: DisciplineAlert) -> list[User]:
    """The employee, their direct supervisor and the Kepala OPD, each once."""
    people = [alert.employee_id, *([alert.supervisor_id] if alert.supervisor_id else [])]
    found = User.objects.filter(is_active=True, employee_id__in=people)
    if alert.opd_id is not None:
        found = found | User.objects.filter(
            is_active=True, role=Role.KEPALA_OPD, opd_id=alert.opd_id
        )
    users = list(found)
    return sorted({u.pk: u for u in users}.values(), key=lambda u: u.pk)


def _bkpsdm_recipients() -> list[User]:
    return list(User.objects.filter(is_active=True, role=Role.ADMIN_BKPSDM).order_by("pk"))


def _notify(
    alert: DisciplineAlert, purpose: str, recipients: Iterable[User], subject: str, body: str
) -> None:
    now = timezone.now()
    for recipient in recipients:
        for channel in channels.channels_enabled():
            Notification.objects.get_or_create(
                alert=alert,
                recipient=recipient,
                channel=channel.name,
                purpose=purpose,
                defaults={"subject": subject[:200], "body": body, "created_at": now},
            )


def _alerts_raise(
    row: selectors.DisciplineRow,
    crossings: list[discipline.ThresholdCrossing],
    policy: discipline.DisciplinePolicy,
    today: date,
) -> None:
    """One alert per new crossing; one message per recipient for all of them, about the
    heaviest (a first run in November must not send a person's whole year one by one)."""
    now = timezone.now()
    pppk = row.kind == Employee.Kind.PPPK
    with transaction.atomic():
        alerts = []
        for crossing in crossings:
            t = crossing.threshold
            alert = DisciplineAlert.objects.create(
                employee_id=row.employee_id,
                opd_id=row.opd_id,
                supervisor_id=row.supervisor_id,
                year=crossing.year,
                threshold_code=t.code,
                occurrence=crossing.occurrence,
                crossed_on=crossing.on,
                basis=t.basis,
                min_days=t.min_days,
                level=t.level,
                sanction=t.sanction_pppk if pppk else t.sanction_pns,
                article=t.article_pppk if pppk else t.article,
                message=row.status.message_id,
                policy=policy.label,
                raised_at=now,
                respond_by=discipline.escalation_due_on(today, policy),
            )
            AlertAction.objects.create(alert=alert, kind=AlertAction.Kind.RAISE, at=now)
            audit_record(
                actor=None,
                action="discipline_alert.raise",
                obj=alert,
                summary=f"{row.nip} {t.code}",
                after={"threshold": t.code, "occurrence": crossing.occurrence,
                       "crossed_on": crossing.on.isoformat(), "level": t.level},
            )  # fmt: skip
            alerts.append(alert)
        order = [t.code for t in policy.thresholds]
        heaviest = max(alerts, key=lambda a: order.index(a.threshold_code))
        subject = _("Discipline alert: %(name)s, %(days)s working days absent") % {
            "name": row.name,
            "days": row.status.cumulative_tk_year,
        }
        lines = [
            f"{row.name} ({row.nip}) — {row.opd_name}, {row.unit_name}",
            row.status.message_id,
            "",
            *(
                f"- {a.crossed_on:%d-%m-%Y}: {_threshold_text(a)} → {a.sanction} ({a.article})"
                for a in alerts
            ),
            "",
        ]
        if heaviest.respond_by:
            lines.append(
                _(
                    "The direct supervisor must summon and examine the employee by %(day)s "
                    "(%(article)s); otherwise BKPSDM is told."
                )
                % {"day": f"{heaviest.respond_by:%d-%m-%Y}", "article": policy.escalation_article}
            )
        _notify(
            heaviest,
            Notification.Purpose.RAISED,
            _recipients_for(heaviest),
            subject,
            "\n".join(lines),
        )


def _threshold_text(alert: DisciplineAlert) -> str:
    how = "berturut-turut" if alert.basis == "consecutive" else "kumulatif"
    return f"{alert.min_days} hari kerja {how}"


def _alert_reopen(alert: DisciplineAlert) -> None:
    """A withdrawn crossing counts again (an approval revoked): back to open, no new message."""
    with transaction.atomic():
        alert.status = DisciplineAlert.Status.OPEN
        alert.save(update_fields=["status"])
        AlertAction.objects.create(alert=alert, kind=AlertAction.Kind.REOPEN, at=timezone.now())
        audit_record(actor=None, action="discipline_alert.reopen", obj=alert)


def _alert_withdraw(alert: DisciplineAlert) -> None:
    """The crossing no longer appears: its days became approved absences or were corrected."""
    with transaction.atomic():
        before = alert.status
        alert.status = DisciplineAlert.Status.WITHDRAWN
        alert.save(update_fields=["status"])
        AlertAction.objects.create(
            alert=alert,
            kind=AlertAction.Kind.WITHDRAW,
            note="Hari tanpa keterangan tidak lagi dihitung setelah rekap harian dihitung ulang",
            at=timezone.now(),
        )
        audit_record(
            actor=None,
            action="discipline_alert.withdraw",
            obj=alert,
            before={"status": before},
            after={"status": alert.status},
        )


def _alert_escalate(alert: DisciplineAlert, policy: discipline.DisciplinePolicy) -> None:
    """The supervisor did not act in time: BKPSDM is told, and the inaction recorded."""
    now = timezone.now()
    supervisor = alert.supervisor.full_name if alert.supervisor else None
    note = (
        f"Atasan langsung {supervisor} tidak menindaklanjuti sampai {alert.respond_by:%d-%m-%Y} "
        f"({policy.escalation_article})"
        if supervisor
        else f"Tidak ada atasan langsung yang tercatat; diteruskan ke BKPSDM "
        f"({policy.escalation_article})"
    )
    with transaction.atomic():
        alert.status = DisciplineAlert.Status.ESCALATED
        alert.escalated_at = now
        alert.supervisor_inaction = supervisor is not None
        alert.save(update_fields=["status", "escalated_at", "supervisor_inaction"])
        AlertAction.objects.create(alert=alert, kind=AlertAction.Kind.ESCALATE, note=note, at=now)
        audit_record(
            actor=None,
            action="discipline_alert.escalate",
            obj=alert,
            after={"supervisor_inaction": alert.supervisor_inaction},
            reason=note,
        )
        subject = _("Escalated discipline alert: %(name)s") % {"name": alert.employee.full_name}
        body = "\n".join([f"{alert.employee.full_name} ({alert.employee.nip})", alert.message,
                          "", note])  # fmt: skip
        recipients = {u.pk: u for u in [*_bkpsdm_recipients(), *_recipients_for(alert)]}
        _notify(alert, Notification.Purpose.ESCALATED, recipients.values(), subject, body)


# --- what people do about an alert -----------------------------------------------------------

ACTIONS_BY_ROLE = {
    AlertAction.Kind.ACKNOWLEDGE: None,  # whoever may act on the employee
    AlertAction.Kind.ACT: None,
    AlertAction.Kind.CLOSE: frozenset({Role.ADMIN_BKPSDM, Role.SUPERADMIN}),
}


def alert_actions_allowed(user: Any, alert: DisciplineAlert) -> list[str]:
    """What this user may record on this alert: the atasan, the Kepala OPD and BKPSDM act on
    the employees they may decide on; only BKPSDM closes."""
    if alert.status == DisciplineAlert.Status.WITHDRAWN:
        return []
    if not access.employees_reviewable_by(user).filter(pk=alert.employee_id).exists():
        return []
    allowed = []
    for kind, roles in ACTIONS_BY_ROLE.items():
        if roles is not None and user.role not in roles:
            continue
        if kind == AlertAction.Kind.CLOSE and alert.status == DisciplineAlert.Status.CLOSED:
            continue
        allowed.append(str(kind))
    return allowed


def alert_action_record(
    *, actor: User, alert: DisciplineAlert, kind: str, note: str
) -> list[AlertAction]:
    """Record what the actor did. Summoning the employee ("act") answers every open alert
    about that employee: one examination covers them all, and none of them escalates."""
    if kind not in alert_actions_allowed(actor, alert):
        raise PermissionDenied(_("You may not record this on this alert."))
    note = note.strip()
    if kind in (AlertAction.Kind.ACT, AlertAction.Kind.CLOSE) and not note:
        raise ValidationError(_("Write what was done (date of the summons, outcome, SK)."))
    now = timezone.now()
    with transaction.atomic():
        targets = [alert]
        if kind == AlertAction.Kind.ACT:
            targets = list(
                DisciplineAlert.objects.select_for_update().filter(
                    employee_id=alert.employee_id,
                    status__in=[DisciplineAlert.Status.OPEN, DisciplineAlert.Status.ESCALATED],
                )
            ) or [alert]
        done = []
        for target in targets:
            before = target.status
            if kind == AlertAction.Kind.ACT:
                target.acted_at = now
                if target.status == DisciplineAlert.Status.OPEN:
                    target.status = DisciplineAlert.Status.ACTED
            elif kind == AlertAction.Kind.CLOSE:
                target.status = DisciplineAlert.Status.CLOSED
            target.save(update_fields=["status", "acted_at"])
            done.append(
                AlertAction.objects.create(alert=target, kind=kind, actor=actor, note=note, at=now)
            )
            audit_record(
                actor=actor,
                action=f"discipline_alert.{kind}",
                obj=target,
                before={"status": before},
                after={"status": target.status},
                reason=note,
            )
    return done


# --- the sanction decided ----------------------------------------------------------------------


@dataclass(frozen=True)
class SanctionDecision:
    """What an SK says, as BKPSDM enters it."""

    kind: str
    decree_number: str
    decided_on: date
    effective_from: date
    months: int | None = None
    """Empty: the duration the regulation fixes for the kind."""
    note: str = ""


def _sanction_fields(
    employee: Employee, decision: SanctionDecision, policy: discipline.DisciplinePolicy
) -> dict[str, Any]:
    """The checked columns of a sanction row, or a ValidationError naming the field."""
    kind_code = selectors.employee_kind(employee)
    kind = policy.sanction_kind(decision.kind)
    if kind is None or kind_code not in kind.applies_to:
        raise ValidationError(
            {"kind": _("This sanction cannot be imposed on a %(kind)s.") % {"kind": kind_code}}
        )
    decree = decision.decree_number.strip()
    if not decree:
        raise ValidationError({"decree_number": _("Write the number of the decision (SK).")})
    if decision.decided_on > timezone.localdate():
        raise ValidationError({"decided_on": _("A decision cannot be dated in the future.")})
    months = decision.months if decision.months is not None else kind.months
    if kind.months is not None and months != kind.months:
        raise ValidationError(
            {"months": _("%(regulation)s sets %(months)s months for this sanction.")
             % {"regulation": kind.article, "months": kind.months}}
        )  # fmt: skip
    if months is not None and months < 1:
        raise ValidationError({"months": _("At least one month.")})
    return {
        "kind": kind.code, "kind_label": kind.label, "level": kind.level,
        "article": kind.article, "decree_number": decree, "decided_on": decision.decided_on,
        "effective_from": decision.effective_from, "months": months,
        "note": decision.note.strip(), "policy": policy.label[:64],
    }  # fmt: skip


def _sanction_audit(actor: User, action: str, sanction: Sanction, reason: str = "") -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=sanction,
        summary=f"{sanction.employee.nip} {sanction.kind} SK {sanction.decree_number}",
        after={"kind": sanction.kind, "decree_number": sanction.decree_number,
               "decided_on": sanction.decided_on.isoformat(),
               "effective_from": sanction.effective_from.isoformat(), "months": sanction.months,
               "annulled": sanction.annulled, "corrects": sanction.corrects_id,
               "alert": sanction.alert_id},
        reason=reason,
    )  # fmt: skip


def sanction_record(
    *,
    actor: User,
    employee: Employee,
    decision: SanctionDecision,
    alert: DisciplineAlert | None = None,
    policy: discipline.DisciplinePolicy | None = None,
) -> Sanction:
    """Record the sanction decided for ``employee``. An alert it answers is linked and, while
    still active, closed by BKPSDM with the SK as the note."""
    if not access.employees_sanctionable_by(actor).filter(pk=employee.pk).exists():
        raise PermissionDenied(_("You may not record a sanction for this employee."))
    if alert is not None and alert.employee_id != employee.pk:
        raise ValidationError({"alert": _("The alert is about someone else.")})
    fields = _sanction_fields(employee, decision, policy or selectors.discipline_policy())
    now = timezone.now()
    assignment = access.current_assignments(timezone.localdate()).filter(employee=employee)
    with transaction.atomic():
        sanction = Sanction.objects.create(
            employee=employee,
            opd_id=assignment.values_list("opd_id", flat=True).first(),
            alert=alert,
            author=actor,
            recorded_at=now,
            **fields,
        )
        _sanction_audit(actor, "sanction.record", sanction)
        if alert is not None:
            _alert_close_by_sanction(actor, alert, sanction, now)
    return sanction


def _alert_close_by_sanction(
    actor: User, alert: DisciplineAlert, sanction: Sanction, now: datetime
) -> None:
    alert = DisciplineAlert.objects.select_for_update().get(pk=alert.pk)
    if alert.status not in DisciplineAlert.ACTIVE:
        return
    before = alert.status
    alert.status = DisciplineAlert.Status.CLOSED
    alert.save(update_fields=["status"])
    note = f"{sanction.decree_text}: {sanction.kind_label}"
    AlertAction.objects.create(
        alert=alert, kind=AlertAction.Kind.CLOSE, actor=actor, note=note, at=now
    )
    audit_record(
        actor=actor,
        action="discipline_alert.close",
        obj=alert,
        before={"status": before},
        after={"status": alert.status, "sanction": sanction.pk},
        reason=note,
    )


def sanction_correct(
    *,
    actor: User,
    sanction: Sanction,
    decision: SanctionDecision | None,
    reason: str,
    policy: discipline.DisciplinePolicy | None = None,
) -> Sanction:
    """Replace a recorded sanction by a new row (``decision``), or annul it (``decision`` is
    None). The row replaced stays as it was; only the newest of a chain can be corrected."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Write why the record is corrected.")})
    employee = sanction.employee
    if not access.employees_sanctionable_by(actor).filter(pk=employee.pk).exists():
        raise PermissionDenied(_("You may not record a sanction for this employee."))
    with transaction.atomic():
        original = Sanction.objects.select_for_update().get(pk=sanction.pk)
        if original.annulled or Sanction.objects.filter(corrects=original).exists():
            raise ValidationError(_("This record was already corrected; correct the newest one."))
        if decision is None:
            fields = {
                f: getattr(original, f)
                for f in ("kind", "kind_label", "level", "article", "decree_number", "decided_on",
                          "effective_from", "months", "policy")
            }  # fmt: skip
        else:
            fields = _sanction_fields(employee, decision, policy or selectors.discipline_policy())
        fields["note"] = reason  # a correction row says why it was made
        corrected = Sanction.objects.create(
            employee=employee,
            opd_id=original.opd_id,
            alert=original.alert,
            corrects=original,
            annulled=decision is None,
            author=actor,
            recorded_at=timezone.now(),
            **fields,
        )
        _sanction_audit(
            actor, "sanction.annul" if decision is None else "sanction.correct", corrected, reason
        )
    return corrected


def notification_mark_read(*, actor: User, notifications: Iterable[Notification]) -> int:
    """Mark the actor's own in-app notifications read (others' are never touched)."""
    ids = [n.pk for n in notifications if n.recipient_id == actor.pk and n.read_at is None]
    return Notification.objects.filter(pk__in=ids).update(read_at=timezone.now())


# --- delivery ----------------------------------------------------------------------------------


def notifications_deliver(*, limit: int = 1000) -> tuple[int, int]:
    """Send what is waiting, each through its channel; a failure is kept on the row and tried
    again on the next run, up to MAX_ATTEMPTS. Returns (delivered, failed)."""
    delivered = failed = 0
    waiting = (
        Notification.objects.filter(sent_at__isnull=True, attempts__lt=MAX_ATTEMPTS)
        .select_related("recipient")
        .order_by("created_at", "pk")[:limit]
    )
    for notification in waiting:
        channel = channels.channel_get(notification.channel)
        sent: datetime | None = None
        error = ""
        if channel is None:
            error = f"channel {notification.channel!r} is not registered"
        else:
            try:
                channel.deliver(notification)
                sent = timezone.now()
            except channels.ChannelError as exc:
                error = str(exc)[:255]
        notification.attempts += 1
        notification.sent_at = sent
        notification.error = error
        notification.save(update_fields=["attempts", "sent_at", "error"])
        if sent:
            delivered += 1
        else:
            failed += 1
            log.warning("notification %s not delivered: %s", notification.pk, error)
    return delivered, failed


# --- the phone's heartbeat -------------------------------------------------------------------


@transaction.atomic
def heartbeat_record(
    device: PhoneDevice, queued: int, oldest_queued_at: datetime | None, now: datetime
) -> PhoneHeartbeat:
    """Store what a phone says of itself at a contact: now, and its unsent check-ins.

    One row per phone, overwritten: a status report like a machine's last contact, not
    something a user submitted, so it is not an audit row (100,000 phones report several
    times a day). ``queued_since`` keeps when the queue was first reported non-empty."""
    beat = PhoneHeartbeat.objects.select_for_update().filter(device=device).first()
    if beat is None:
        beat = PhoneHeartbeat(device=device, employee_id=device.employee_id)
    if queued and not beat.queued:
        beat.queued_since = now
    elif not queued:
        beat.queued_since = None
    beat.contact_at = now
    beat.queued = queued
    beat.oldest_queued_at = oldest_queued_at if queued else None
    beat.save()
    return beat
