"""A requested export: a file too large to build inside a web request (a province's recap),
asked for on a page, built by the worker, downloaded later by the one who asked for it."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ExportRequest(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Being built")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")
        EXPIRED = "expired", _("Expired")

    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="export_requests",
        verbose_name=_("requested by"),
    )  # fmt: skip
    kind = models.CharField(_("kind"), max_length=40)
    params = models.JSONField(_("parameters"), default=dict)
    # Who the requester was when they asked: the worker builds the file only for the same role
    # and OPD (and employee record), so a person who lost the role gets a failed job.
    scope_role = models.CharField(_("role when requested"), max_length=20)
    scope_opd = models.ForeignKey(
        "org.Opd", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("OPD when requested"),
    )  # fmt: skip
    scope_employee = models.ForeignKey(
        "org.Employee", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("employee record when requested"),
    )  # fmt: skip
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    error = models.TextField(_("error"), blank=True)
    # A failure the worker may try again (the database went away) or one it must not (the
    # requester lost the role): `tepat tasks_retry` repeats only the first kind.
    retryable = models.BooleanField(_("may be retried"), default=False)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("requested at"))
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    file_path = models.CharField(_("stored file"), max_length=255, blank=True)
    filename = models.CharField(_("file name"), max_length=120, blank=True)
    size = models.PositiveBigIntegerField(_("size (bytes)"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)

    class Meta:
        verbose_name = _("requested export")
        verbose_name_plural = _("requested exports")
        indexes = [
            models.Index(fields=["requester", "-created_at"], name="export_requester_idx"),
            models.Index(fields=["status", "expires_at"], name="export_expiry_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"

    @property
    def pending(self) -> bool:
        return self.status in {self.Status.QUEUED, self.Status.RUNNING}
