"""e-Kinerja: the yearly plan (SKP), daily work reports (laporan harian), the supervisor's
decisions on them and the stored monthly evaluation.

Rows change only through `tepat.kinerja.services`; decisions are kept as an append-only
history (`ReportDecision`) beside the report's current state, and every write is audited.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Rating(models.TextChoices):
    """PermenPANRB 6/2022: hasil kerja and perilaku kerja against the expectation."""

    DI_ATAS = "di_atas", _("Above expectation")
    SESUAI = "sesuai", _("As expected")
    DI_BAWAH = "di_bawah", _("Below expectation")


class Predicate(models.TextChoices):
    SANGAT_BAIK = "sangat_baik", _("Very good")
    BAIK = "baik", _("Good")
    BUTUH_PERBAIKAN = "butuh_perbaikan", _("Needs improvement")
    KURANG = "kurang", _("Poor")
    SANGAT_KURANG = "sangat_kurang", _("Very poor")


class KinerjaPolicyVersion(models.Model):
    """A dated version of the e-Kinerja rules, as the YAML `tepat.rules.kinerja_policy` reads.

    Saved only through `services.kinerja_policy_save`, so what is stored always validates.
    Without any row, the policy shipped with Tepat (`kinerja_default.yaml`) applies.
    """

    valid_from = models.DateField(_("valid from"), unique=True)
    name = models.CharField(_("name"), max_length=128)
    version = models.CharField(_("version"), max_length=32)
    regulation = models.TextField(_("regulation"))
    definition = models.TextField(_("definition (YAML)"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("e-Kinerja policy")
        verbose_name_plural = _("e-Kinerja policies")
        ordering = ["-valid_from"]

    def __str__(self) -> str:
        return f"{self.name} v{self.version} ({self.valid_from:%d-%m-%Y})"


class Skp(models.Model):
    """Sasaran Kinerja Pegawai: one employee's plan for one year, agreed by the supervisor."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Waiting for the supervisor")
        AGREED = "agreed", _("Agreed")
        RETURNED = "returned", _("Returned for changes")

    employee = models.ForeignKey(
        "org.Employee", verbose_name=_("employee"), on_delete=models.PROTECT, related_name="skps"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    supervisor = models.ForeignKey(
        "org.Employee",
        verbose_name=_("supervisor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The direct supervisor when the plan was submitted."),
    )
    copied_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    return_reason = models.TextField(_("reason for return"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("SKP (performance plan)")
        verbose_name_plural = _("SKP (performance plans)")
        ordering = ["-year", "employee__name"]
        constraints = [models.UniqueConstraint(fields=["employee", "year"], name="skp_unique")]

    def __str__(self) -> str:
        return f"SKP {self.year} {self.employee_id}"

    @property
    def editable(self) -> bool:
        return self.status in {self.Status.DRAFT, self.Status.RETURNED}


class SkpResult(models.Model):
    """Rencana hasil kerja (RHK): a planned result, cascaded from the supervisor's own."""

    skp = models.ForeignKey(Skp, on_delete=models.CASCADE, related_name="results")
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    text = models.TextField(_("planned result"), max_length=1000)
    intervensi = models.ForeignKey(
        "self",
        verbose_name=_("supervisor's result it serves"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cascaded",
    )

    class Meta:
        verbose_name = _("planned result (RHK)")
        verbose_name_plural = _("planned results (RHK)")
        ordering = ["skp", "order", "pk"]

    def __str__(self) -> str:
        return self.text[:80]


class SkpIndicator(models.Model):
    """How a planned result is measured, with its target for the year."""

    result = models.ForeignKey(SkpResult, on_delete=models.CASCADE, related_name="indicators")
    text = models.CharField(_("indicator"), max_length=500)
    target = models.DecimalField(_("yearly target"), max_digits=12, decimal_places=2)
    unit = models.CharField(_("unit"), max_length=64)

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["result", "pk"]

    def __str__(self) -> str:
        return f"{self.text} ({self.target} {self.unit})"


class DailyReport(models.Model):
    """Laporan harian: one activity on one day, claimed by the employee, decided by the
    supervisor. `client_id` makes a phone's offline resend harmless."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    class Source(models.TextChoices):
        WEB = "web", _("Web")
        APP = "app", _("Phone app")

    client_id = models.UUIDField(_("client id"), unique=True)
    employee = models.ForeignKey(
        "org.Employee",
        verbose_name=_("employee"),
        on_delete=models.PROTECT,
        related_name="daily_reports",
    )
    day = models.DateField(_("day"))
    start_time = models.TimeField(_("start"), null=True, blank=True)
    end_time = models.TimeField(_("end"), null=True, blank=True)
    minutes = models.PositiveIntegerField(_("minutes claimed"))
    approved_minutes = models.PositiveIntegerField(_("minutes approved"), null=True, blank=True)
    skp_result = models.ForeignKey(
        SkpResult,
        verbose_name=_("SKP result served"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reports",
    )
    activity = models.CharField(_("activity"), max_length=500)
    output = models.CharField(_("output"), max_length=255, blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=10, decimal_places=2, default=1)
    unit = models.CharField(_("unit"), max_length=64, blank=True)
    attachment = models.CharField(_("attachment (private file)"), max_length=255, blank=True)
    attachment_type = models.CharField(_("attachment type"), max_length=32, blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.PENDING
    )
    late = models.BooleanField(_("filed late"), default=False)
    source = models.CharField(_("source"), max_length=4, choices=Source.choices)
    received_at = models.DateTimeField(_("received"))
    written_at = models.DateTimeField(_("written (device clock)"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_reason = models.TextField(_("reason"), blank=True)
    decided_as_plt = models.BooleanField(_("decided as acting supervisor (Plt)"), default=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("daily work report")
        verbose_name_plural = _("daily work reports")
        ordering = ["-day", "start_time", "pk"]
        indexes = [
            models.Index(fields=["employee", "day"], name="dailyreport_employee_day_idx"),
            models.Index(fields=["status", "day"], name="dailyreport_status_day_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(start_time__isnull=True, end_time__isnull=True)
                | Q(
                    start_time__isnull=False,
                    end_time__isnull=False,
                    end_time__gt=models.F("start_time"),
                ),
                name="dailyreport_time_range",
            ),
            models.CheckConstraint(
                condition=Q(approved_minutes__isnull=True) | Q(status="approved"),
                name="dailyreport_approved_minutes_only_when_approved",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.employee_id} {self.minutes}′ {self.status}"

    @property
    def effective_minutes(self) -> int:
        """Minutes that count: as approved (perhaps adjusted), else none."""
        if self.status != self.Status.APPROVED:
            return 0
        return self.minutes if self.approved_minutes is None else self.approved_minutes


class ReportKey(models.Model):
    """The client id of every daily report: the global uniqueness of ``DailyReport.client_id``
    on PostgreSQL, where the reports are partitioned by month of ``day`` and a unique index must
    contain the partition key. Claimed and released by triggers on the reports table (a
    duplicate raises the unique violation the service already handles); empty on SQLite.
    """

    client_id = models.UUIDField(_("client id"), primary_key=True)
    report_id = models.BigIntegerField(_("report"))

    class Meta:
        verbose_name = _("daily report client id")
        verbose_name_plural = _("daily report client ids")

    def __str__(self) -> str:
        return str(self.client_id)


class ReportDecision(models.Model):
    """One supervisor decision on a report; only ever inserted."""

    class Decision(models.TextChoices):
        APPROVE = "approve", _("Approve")
        ADJUST = "adjust", _("Approve with fewer minutes")
        REJECT = "reject", _("Reject")

    report = models.ForeignKey(DailyReport, on_delete=models.PROTECT, related_name="decisions")
    decision = models.CharField(_("decision"), max_length=8, choices=Decision.choices)
    minutes_claimed = models.PositiveIntegerField(_("minutes claimed"))
    minutes_approved = models.PositiveIntegerField(_("minutes approved"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    as_plt = models.BooleanField(_("as acting supervisor (Plt)"), default=False)
    at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("report decision")
        verbose_name_plural = _("report decisions")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.report_id} {self.decision}"


class MonthlyEvaluation(models.Model):
    """One employee's month: the supervisor's ratings (input) and what the rules made of the
    month under the policy in force, stored with the policy and rules versions."""

    employee = models.ForeignKey(
        "org.Employee", verbose_name=_("employee"), on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    month = models.PositiveSmallIntegerField(_("month"))
    hasil_kerja = models.CharField(
        _("work results"), max_length=8, choices=Rating.choices, blank=True
    )
    perilaku = models.CharField(
        _("work behaviour"), max_length=8, choices=Rating.choices, blank=True
    )
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rated_at = models.DateTimeField(_("rated"), null=True, blank=True)
    approved_minutes = models.PositiveIntegerField(_("approved minutes"), default=0)
    excluded_minutes = models.PositiveIntegerField(_("minutes on leave days"), default=0)
    pending_minutes = models.PositiveIntegerField(_("pending minutes"), default=0)
    rejected_minutes = models.PositiveIntegerField(_("rejected minutes"), default=0)
    target_minutes = models.DecimalField(
        _("target minutes"), max_digits=8, decimal_places=2, default=0
    )
    capaian_percent = models.DecimalField(
        _("minutes against target (%)"), max_digits=7, decimal_places=2, null=True, blank=True
    )
    realisation_percent = models.DecimalField(
        _("target realisation (%)"), max_digits=7, decimal_places=2, null=True, blank=True
    )
    predicate = models.CharField(
        _("predicate"), max_length=16, choices=Predicate.choices, blank=True
    )
    exemption = models.CharField(_("exempt group"), max_length=32, blank=True)
    method = models.CharField(_("productivity method"), max_length=12)
    productivity_percent = models.DecimalField(
        _("productivity for TPP (%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    policy_name = models.CharField(_("policy"), max_length=128)
    policy_version = models.CharField(_("policy version"), max_length=32)
    rules_version = models.CharField(_("rules version"), max_length=32)
    explanation = models.JSONField(_("explanation"), default=list)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("monthly performance evaluation")
        verbose_name_plural = _("monthly performance evaluations")
        ordering = ["-year", "-month", "employee__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["employee", "year", "month"], name="monthlyevaluation_unique"
            ),
            models.CheckConstraint(
                condition=Q(month__gte=1, month__lte=12), name="monthlyevaluation_month"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year}-{self.month:02d} {self.employee_id} {self.productivity_percent}"
