"""e-TPP: the dated TPP policy versions (Perbup TPP as YAML), the Plt appointments that add a
top-up, and the monthly runs with one stored result per employee.

Rows change only through `tepat.tpp.services`, each write audited. A result is never updated:
a recompute is a new run with new rows, and it replaces the month's accepted run only when
BKPSDM accepts it, so an accepted (and later a locked) OPD-month can always be shown exactly
as it was paid.
"""

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


def _rupiah(label: Any) -> "models.DecimalField[Any, Any]":
    return models.DecimalField(label, max_digits=16, decimal_places=2, default=0)


class TppPolicyVersion(models.Model):
    """One dated version of a Perbup TPP, as the YAML `tepat.rules.tpp_policy` reads.

    A draft is written and changed by one BKPSDM user and approved by another (four eyes);
    only approved versions are in force, and an approved version is never changed again
    (a stored month names the version it used): a change is a new version.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        APPROVED = "approved", _("Approved")

    name = models.CharField(_("name"), max_length=128)
    version = models.CharField(_("version"), max_length=32)
    regulation = models.TextField(_("regulation"))
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid until"), null=True, blank=True)
    definition = models.TextField(_("definition (YAML)"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("last edited by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)

    class Meta:
        verbose_name = _("TPP policy")
        verbose_name_plural = _("TPP policies")
        ordering = ["-valid_from", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="tpppolicy_unique_version"),
            models.UniqueConstraint(
                fields=["valid_from"],
                condition=Q(status="approved"),
                name="tpppolicy_one_approved_per_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} versi {self.version} ({self.valid_from:%d-%m-%Y})"


class PltAppointment(models.Model):
    """An employee acting (Plt) in a vacant post of `kelas_jabatan`, by decree, on top of
    their own post. Months fully covered pay the policy's Plt top-up."""

    employee = models.ForeignKey(
        "org.Employee", verbose_name=_("employee"), on_delete=models.PROTECT, related_name="+"
    )
    kelas_jabatan = models.PositiveSmallIntegerField(_("job class of the acting post"))
    jabatan = models.CharField(_("acting post"), max_length=200)
    first_day = models.DateField(_("first day"))
    last_day = models.DateField(_("last day"), null=True, blank=True)
    decree = models.CharField(_("decree (SK)"), max_length=200)

    class Meta:
        verbose_name = _("Plt appointment")
        verbose_name_plural = _("Plt appointments")
        ordering = ["-first_day"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kelas_jabatan__gte=1) & Q(kelas_jabatan__lte=17),
                name="pltappointment_kelas_range",
            ),
            models.CheckConstraint(
                condition=Q(last_day__isnull=True) | Q(last_day__gte=models.F("first_day")),
                name="pltappointment_range",
            ),
        ]

    def __str__(self) -> str:
        return f"Plt {self.jabatan} ({self.employee_id})"


class TppRun(models.Model):
    """One computation of a month for the whole regency, with the policy and rules versions.

    Every run must be accepted by BKPSDM before its results count; a run for a month that
    already has an accepted run is a recompute and shows the difference per person first.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        COMPUTED = "computed", _("Computed, waiting for acceptance")
        ACCEPTED = "accepted", _("Accepted")
        SUPERSEDED = "superseded", _("Replaced by a later accepted run")
        DISCARDED = "discarded", _("Not accepted")
        FAILED = "failed", _("Failed")

    year = models.PositiveSmallIntegerField(_("year"))
    month = models.PositiveSmallIntegerField(_("month"))
    policy = models.ForeignKey(
        TppPolicyVersion, verbose_name=_("policy"), on_delete=models.PROTECT, related_name="runs"
    )
    rules_version = models.CharField(_("rules version"), max_length=32)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    previous = models.ForeignKey(
        "self",
        verbose_name=_("accepted run it would replace"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    progress_done = models.PositiveIntegerField(_("employees done"), default=0)
    progress_total = models.PositiveIntegerField(_("employees"), default=0)
    error_count = models.PositiveIntegerField(_("employees with errors"), default=0)
    failure = models.TextField(_("failure"), blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)

    class Meta:
        verbose_name = _("TPP run")
        verbose_name_plural = _("TPP runs")
        ordering = ["-year", "-month", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["year", "month"],
                condition=Q(status="accepted"),
                name="tpprun_one_accepted_per_month",
            ),
            models.CheckConstraint(condition=Q(month__gte=1, month__lte=12), name="tpprun_month"),
        ]

    def __str__(self) -> str:
        return f"TPP {self.year}-{self.month:02d} #{self.pk} {self.status}"

    @property
    def is_recompute(self) -> bool:
        return self.previous_id is not None

    @property
    def progress_percent(self) -> int:
        if not self.progress_total:
            return 100 if self.status not in {self.Status.QUEUED, self.Status.RUNNING} else 0
        return self.progress_done * 100 // self.progress_total


class TppResult(models.Model):
    """One employee's month in one run: every paid amount, the explanation, the inputs it was
    computed from, and the versions. Inserted once, never updated."""

    run = models.ForeignKey(TppRun, on_delete=models.PROTECT, related_name="results")
    employee = models.ForeignKey(
        "org.Employee", verbose_name=_("employee"), on_delete=models.PROTECT, related_name="+"
    )
    opd = models.ForeignKey(
        "org.Opd", verbose_name=_("OPD"), on_delete=models.PROTECT, related_name="+"
    )
    unit = models.ForeignKey(
        "org.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+"
    )
    kelas_jabatan = models.PositiveSmallIntegerField(_("job class"))
    golongan = models.CharField(_("golongan"), max_length=8)
    eligible = models.BooleanField(_("eligible"), default=True)
    working_days = models.PositiveSmallIntegerField(_("working days"), default=0)
    days_in_post = models.PositiveSmallIntegerField(_("days in post"), default=0)
    basic = _rupiah(_("basic TPP"))
    tpp_awal = _rupiah(_("TPP before shares"))
    discipline_share = _rupiah(_("discipline share"))
    discipline_deduction_percent = models.DecimalField(
        _("discipline deduction (%)"), max_digits=7, decimal_places=2, default=0
    )
    discipline_paid = _rupiah(_("discipline paid"))
    productivity_share = _rupiah(_("productivity share"))
    productivity_percent = models.DecimalField(
        _("productivity (%)"), max_digits=7, decimal_places=2, default=0
    )
    productivity_paid = _rupiah(_("productivity paid"))
    sanction_cut = _rupiah(_("sanction cut"))
    plt_paid = _rupiah(_("Plt top-up"))
    gross = _rupiah(_("gross"))
    withholdings = _rupiah(_("withholdings"))
    adjustment = _rupiah(_("corrections of locked months"))
    net = _rupiah(_("net"))
    lines = models.JSONField(
        _("deductions, caps and withholdings"),
        default=dict,
        help_text=_("The structured lines: date, code, percent, rupiah and article of each."),
    )
    explanation = models.JSONField(_("explanation"), default=list)
    inputs = models.JSONField(_("inputs"), default=dict)
    error = models.TextField(_("why it could not be computed"), blank=True)
    policy_name = models.CharField(_("policy"), max_length=128)
    policy_version = models.CharField(_("policy version"), max_length=32)
    rules_version = models.CharField(_("rules version"), max_length=32)

    class Meta:
        verbose_name = _("TPP result")
        verbose_name_plural = _("TPP results")
        ordering = ["run", "opd", "employee__name"]
        constraints = [
            models.UniqueConstraint(fields=["run", "employee"], name="tppresult_unique"),
        ]
        indexes = [models.Index(fields=["employee", "run"], name="tppresult_employee_idx")]

    def __str__(self) -> str:
        return f"{self.run_id} {self.employee_id} {self.net}"


class TppSubmission(models.Model):
    """The payment request (pengajuan) of one OPD's month, over the accepted run's results for
    that OPD: the OPD operator prepares and checks it, the Kepala OPD approves it, BKPSDM
    verifies it and exports it for BPKAD. Each step is a `TppSubmissionStep`.

    Approval locks the OPD-month for good (`locked_at`): `run` is then the run whose results are
    paid, a later recompute of the month leaves them untouched, and a difference it finds is
    carried into the next month as a `TppAdjustment`.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Being prepared")
        READY = "ready", _("Checked, waiting for the head of OPD")
        APPROVED = "approved", _("Approved, waiting for BKPSDM")
        VERIFIED = "verified", _("Verified, waiting for the export")
        EXPORTED = "exported", _("Exported for BPKAD")
        RETURNED = "returned", _("Returned to the OPD")

    opd = models.ForeignKey(
        "org.Opd", verbose_name=_("OPD"), on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    month = models.PositiveSmallIntegerField(_("month"))
    run = models.ForeignKey(
        TppRun, verbose_name=_("run"), on_delete=models.PROTECT, related_name="submissions"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    locked_at = models.DateTimeField(_("locked"), null=True, blank=True)
    exported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    exported_at = models.DateTimeField(_("exported"), null=True, blank=True)

    class Meta:
        verbose_name = _("TPP payment request")
        verbose_name_plural = _("TPP payment requests")
        ordering = ["-year", "-month", "opd__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["opd", "year", "month"], name="tppsubmission_one_per_opd_month"
            ),
            models.CheckConstraint(
                condition=Q(month__gte=1, month__lte=12), name="tppsubmission_month"
            ),
        ]

    def __str__(self) -> str:
        return f"Pengajuan TPP {self.opd_id} {self.year}-{self.month:02d} {self.status}"

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None


class TppSubmissionStep(models.Model):
    """One step of a payment request, appended and never changed: who, when, what, the note."""

    class Action(models.TextChoices):
        OPEN = "open", _("Prepared")
        READY = "ready", _("Checked and marked ready")
        APPROVE = "approve", _("Approved by the head of OPD")
        VERIFY = "verify", _("Verified by BKPSDM")
        EXPORT = "export", _("Exported for BPKAD")
        RETURN = "return", _("Returned")
        RUN_REPLACED = "run_replaced", _("Results replaced by an accepted recompute")

    submission = models.ForeignKey(TppSubmission, on_delete=models.PROTECT, related_name="steps")
    action = models.CharField(_("step"), max_length=12, choices=Action.choices)
    from_status = models.CharField(_("from"), max_length=10)
    to_status = models.CharField(_("to"), max_length=10)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_employee = models.ForeignKey(
        "org.Employee", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("at"))
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("payment request step")
        verbose_name_plural = _("payment request steps")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.submission_id} {self.action} {self.at:%Y-%m-%d %H:%M}"


class TppAdjustment(models.Model):
    """A correction of a locked OPD-month, carried into a later month's net: the difference
    between what an accepted recompute gives and what was paid (with earlier corrections of
    the same month). Written once when the recompute is accepted, never changed."""

    employee = models.ForeignKey(
        "org.Employee", verbose_name=_("employee"), on_delete=models.PROTECT, related_name="+"
    )
    opd = models.ForeignKey(
        "org.Opd", verbose_name=_("OPD"), on_delete=models.PROTECT, related_name="+"
    )
    source_year = models.PositiveSmallIntegerField(_("year corrected"))
    source_month = models.PositiveSmallIntegerField(_("month corrected"))
    target_year = models.PositiveSmallIntegerField(_("paid in year"))
    target_month = models.PositiveSmallIntegerField(_("paid in month"))
    amount = _rupiah(_("amount"))
    paid_result = models.ForeignKey(
        TppResult, on_delete=models.PROTECT, related_name="+", verbose_name=_("locked result")
    )
    corrected_result = models.ForeignKey(
        TppResult, on_delete=models.PROTECT, related_name="+", verbose_name=_("recomputed result")
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded"))

    class Meta:
        verbose_name = _("TPP correction of a locked month")
        verbose_name_plural = _("TPP corrections of locked months")
        ordering = ["target_year", "target_month", "employee_id", "pk"]
        indexes = [
            models.Index(fields=["target_year", "target_month"], name="tppadjustment_target_idx")
        ]

    def __str__(self) -> str:
        return f"{self.employee_id} {self.source_year}-{self.source_month:02d} {self.amount}"
