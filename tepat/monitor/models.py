"""Discipline alerts, what was done about them, and the notifications they sent.

A ``Sanction`` is the sanction BKPSDM recorded as decided (the SK); append-only, a correction
is a new row pointing at the one it replaces.

An alert is one PP 94/2021 threshold crossing (``tepat.rules.discipline.ThresholdCrossing``):
unique on its key (employee, year, threshold, occurrence), so recomputing the counts never
raises it twice. Its text (level, sanction, article) is kept as it was when raised. What people
did about it is an append-only list of ``AlertAction`` rows.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class DisciplineAlert(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for the supervisor")
        ACTED = "acted", _("Supervisor acted")
        ESCALATED = "escalated", _("Escalated to BKPSDM")
        CLOSED = "closed", _("Closed by BKPSDM")
        WITHDRAWN = "withdrawn", _("Withdrawn: the days no longer count")

    ACTIVE = (Status.OPEN, Status.ACTED, Status.ESCALATED)

    employee = models.ForeignKey(
        "org.Employee", verbose_name=_("employee"), on_delete=models.PROTECT, related_name="+"
    )
    opd = models.ForeignKey(
        "org.Opd", verbose_name=_("OPD"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    supervisor = models.ForeignKey(
        "org.Employee",
        verbose_name=_("direct supervisor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    year = models.PositiveSmallIntegerField(_("year"))
    threshold_code = models.CharField(_("threshold"), max_length=40)
    occurrence = models.PositiveSmallIntegerField(_("occurrence"), default=1)
    crossed_on = models.DateField(_("crossed on"))
    basis = models.CharField(_("counted"), max_length=12)
    min_days = models.PositiveSmallIntegerField(_("working days"))
    level = models.CharField(_("level"), max_length=12)
    sanction = models.TextField(_("sanction"))
    article = models.TextField(_("article"))
    message = models.TextField(_("message"))
    policy = models.CharField(_("policy version"), max_length=64)
    raised_at = models.DateTimeField(_("raised"))
    respond_by = models.DateField(_("supervisor to act by"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    acted_at = models.DateTimeField(_("supervisor acted"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    supervisor_inaction = models.BooleanField(
        _("supervisor did not act in time"),
        default=False,
        help_text=_("Recorded at escalation: PP 94/2021 Pasal 28."),
    )

    class Meta:
        verbose_name = _("discipline alert")
        verbose_name_plural = _("discipline alerts")
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["employee", "year", "threshold_code", "occurrence"],
                name="disciplinealert_one_per_crossing",
            )
        ]
        indexes = [
            models.Index(fields=["status", "respond_by"], name="disciplinealert_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.employee_id} {self.year} {self.threshold_code}#{self.occurrence}"


class AlertAction(models.Model):
    """Append-only: who did what about an alert, and when. ``actor`` is empty for the monitor
    itself (raising, escalating, withdrawing)."""

    class Kind(models.TextChoices):
        RAISE = "raise", _("Raised")
        ACKNOWLEDGE = "acknowledge", _("Seen")
        ACT = "act", _("Employee summoned and examined")
        ESCALATE = "escalate", _("Escalated to BKPSDM")
        CLOSE = "close", _("Closed by BKPSDM")
        WITHDRAW = "withdraw", _("Withdrawn")
        REOPEN = "reopen", _("Counted again")

    alert = models.ForeignKey(DisciplineAlert, on_delete=models.PROTECT, related_name="actions")
    kind = models.CharField(_("action"), max_length=12, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.TextField(_("note"), blank=True)
    at = models.DateTimeField(_("time"))

    class Meta:
        verbose_name = _("alert action")
        verbose_name_plural = _("alert actions")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.alert_id} {self.kind}"


class Notification(models.Model):
    """One message to one person through one channel. Unique per alert, recipient, channel and
    purpose, so a second run of the monitor finds it and sends nothing again; ``sent_at`` empty
    means not delivered yet (the next run tries again)."""

    class Purpose(models.TextChoices):
        RAISED = "raised", _("Alert raised")
        ESCALATED = "escalated", _("Alert escalated")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    alert = models.ForeignKey(
        DisciplineAlert, on_delete=models.PROTECT, related_name="notifications"
    )
    purpose = models.CharField(_("purpose"), max_length=10, choices=Purpose.choices)
    channel = models.CharField(_("channel"), max_length=32)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("message"))
    created_at = models.DateTimeField(_("created"))
    sent_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("delivery attempts"), default=0)
    error = models.CharField(_("last delivery error"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["alert", "recipient", "channel", "purpose"],
                name="notification_once_per_channel",
            )
        ]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=models.Q(sent_at__isnull=True),
                name="notification_unsent_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} → {self.recipient_id}: {self.subject}"


class Sanction(models.Model):
    """A disciplinary sanction as decided (the SK), recorded by BKPSDM. Append-only: a
    correction is a new row whose ``corrects`` points at the row it replaces (one-to-one, so a
    row is replaced at most once and the chain stays a line); an annulment (the SK revoked, an
    appeal granted) is a correction with ``annulled`` set. Only the newest row of a chain that
    is not annulled is in force. ``kind`` is a code of the discipline policy's
    ``sanction_kinds``; the tunjangan kinerja cuts share their codes with the TPP policies."""

    employee = models.ForeignKey(
        "org.Employee", verbose_name=_("employee"), on_delete=models.PROTECT, related_name="+"
    )
    opd = models.ForeignKey(
        "org.Opd", verbose_name=_("OPD"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("sanction"), max_length=40)
    kind_label = models.CharField(_("sanction"), max_length=200)
    level = models.CharField(_("level"), max_length=12)
    article = models.TextField(_("article"))
    decree_number = models.CharField(_("SK number"), max_length=100)
    decided_on = models.DateField(_("decided on"))
    effective_from = models.DateField(_("in effect from (TMT)"))
    months = models.PositiveSmallIntegerField(_("months"), null=True, blank=True)
    alert = models.ForeignKey(
        DisciplineAlert,
        verbose_name=_("alert"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sanctions",
    )
    corrects = models.OneToOneField(
        "self",
        verbose_name=_("corrects"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="corrected_by",
    )
    annulled = models.BooleanField(_("annulled"), default=False)
    note = models.TextField(_("note"), blank=True)
    policy = models.CharField(_("policy version"), max_length=64)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    recorded_at = models.DateTimeField(_("recorded"))

    class Meta:
        verbose_name = _("disciplinary sanction")
        verbose_name_plural = _("disciplinary sanctions")
        ordering = ["-recorded_at", "-id"]
        indexes = [
            models.Index(fields=["employee", "recorded_at"], name="sanction_employee_idx"),
            models.Index(fields=["effective_from"], name="sanction_effective_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.employee_id} {self.kind} {self.decree_number}"

    @property
    def decree_text(self) -> str:
        """The SK as the TPP explanation and the alert's history name it."""
        return f"SK {self.decree_number} tanggal {self.decided_on:%d-%m-%Y}"


# --- today's presence, kept for the dashboard ------------------------------------------------


class PresenceToday(models.Model):
    """One employee's live status for a day, as ``tepat.monitor.live.presence_today`` judged
    it from the ledger: a copy kept so the dashboard of a province reads one table instead of
    judging 100,000 people per poll. ``tepat.monitor.summary`` keeps it in step with the
    ledger (new check-ins, review decisions, approved absences) and rebuilds it whole from
    time to time; it is never the source of truth and can be deleted at will."""

    day = models.DateField(_("day"))
    employee = models.ForeignKey(
        "org.Employee", verbose_name=_("employee"), on_delete=models.CASCADE, related_name="+"
    )
    nip = models.CharField(_("NIP"), max_length=32)
    name = models.CharField(_("name"), max_length=400)
    kind = models.CharField(_("kind"), max_length=16)
    opd_id = models.BigIntegerField(_("OPD"))
    unit_id = models.BigIntegerField(_("unit"))
    unit_name = models.CharField(_("unit name"), max_length=200)
    supervisor_id = models.BigIntegerField(_("direct supervisor"), null=True)
    status = models.CharField(_("status"), max_length=12)
    first_in = models.DateTimeField(_("first check-in"), null=True)
    in_code = models.CharField(_("arrival code"), max_length=8, blank=True)
    minutes_late = models.PositiveIntegerField(_("minutes late"), null=True)
    note = models.TextField(_("note"), blank=True)
    absence_code = models.CharField(_("absence"), max_length=24, blank=True)

    class Meta:
        verbose_name = _("today's presence")
        verbose_name_plural = _("today's presence")
        constraints = [
            models.UniqueConstraint(fields=["day", "employee"], name="presencetoday_unique")
        ]
        indexes = [
            # The dashboard's tally (GROUP BY opd, status) and one OPD's list by status.
            models.Index(fields=["day", "opd_id", "status"], name="presencetoday_opd_idx"),
            # The refresh compares today's excused with the approved absences.
            models.Index(
                fields=["day"],
                condition=models.Q(status="excused"),
                name="presencetoday_excused_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.employee_id} {self.status}"


class PresenceSync(models.Model):
    """How far ``PresenceToday`` of a day has read the ledger."""

    day = models.DateField(_("day"), unique=True)
    built_at = models.DateTimeField(_("rebuilt whole"))
    refreshed_at = models.DateTimeField(_("brought up to date"))
    event_id = models.BigIntegerField(_("last check-in read"), default=0)
    event_id_before = models.BigIntegerField(
        _("last check-in read one refresh earlier"),
        default=0,
        help_text=_("Each refresh reads again from here: a check-in can commit after one with "
                    "a higher number."),
    )  # fmt: skip
    recent_event_ids = models.JSONField(
        _("check-ins read above the earlier mark"),
        default=list,
        help_text=_("Read again by the next refresh, which judges only the ones not among them."),
    )
    review_id = models.BigIntegerField(_("last review read"), default=0)
    review_id_before = models.BigIntegerField(_("last review read one refresh earlier"), default=0)
    exception_marks = models.JSONField(
        _("schedule exceptions read"),
        default=dict,
        help_text=_("Per employee, a checksum of their schedule exceptions around the day: a "
                    "refresh judges again whoever's changed."),
    )  # fmt: skip

    class Meta:
        verbose_name = _("presence refresh")
        verbose_name_plural = _("presence refreshes")

    def __str__(self) -> str:
        return f"{self.day} to #{self.event_id}"


class PhoneHeartbeat(models.Model):
    """What a phone last told the server about itself: when it last reached the server and how
    many check-ins it still holds unsent. Kept per phone, overwritten on each contact; it lets
    the dashboard tell "queued offline" from "did nothing"."""

    device = models.OneToOneField(
        "presence.PhoneDevice",
        verbose_name=_("phone"),
        on_delete=models.CASCADE,
        related_name="heartbeat",
    )
    employee = models.ForeignKey(
        "org.Employee", verbose_name=_("employee"), on_delete=models.CASCADE, related_name="+"
    )
    contact_at = models.DateTimeField(_("last contact"))
    queued = models.PositiveIntegerField(_("check-ins waiting to be sent"))
    oldest_queued_at = models.DateTimeField(
        _("oldest waiting check-in taken at"), null=True, blank=True
    )
    queued_since = models.DateTimeField(
        _("first reported waiting"),
        null=True,
        blank=True,
        help_text=_("When the phone first reported a non-empty queue; empty once it is sent."),
    )

    class Meta:
        verbose_name = _("phone heartbeat")
        verbose_name_plural = _("phone heartbeats")
        indexes = [
            # The few phones holding check-ins, read by every dashboard poll.
            models.Index(
                fields=["contact_at"], condition=models.Q(queued__gt=0), name="heartbeat_queued_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.device_id} {self.contact_at:%Y-%m-%d %H:%M} queued={self.queued}"
