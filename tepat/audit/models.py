from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    """One write by a person (or by the system on a person's behalf).

    Rows are only ever inserted: the admin shows them read-only and no service updates
    or deletes them.
    """

    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=64, db_index=True)
    object_type = models.CharField(_("object type"), max_length=64)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    summary = models.CharField(_("summary"), max_length=255, blank=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_type}#{self.object_id}"


class RefusedAttemptMinute(models.Model):
    """The minute of a refused attempt's action and account (or client address), claimed by
    the first refusal that writes its audit row (`attempts.attempt_write`): unique, so two
    refusals answered at the same moment cannot both write one.

    A table of its own, not a column of `AuditEntry`: the audit rows are hash-chained over
    every column (`tepat.ledger.chains`), and a new column would change the bytes of every
    row already sealed. Claims older than `attempts.CLAIMS_KEPT` are deleted as new ones are
    made: the audit row is the record, the claim only guards its minute."""

    key = models.CharField(_("key"), max_length=160)
    claimed_at = models.DateTimeField(_("claimed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("refused attempt's minute")
        verbose_name_plural = _("refused attempts' minutes")
        # A constraint, not unique=True: no LIKE copy of the index on PostgreSQL (equality only).
        constraints = [models.UniqueConstraint(fields=["key"], name="audit_refused_minute_key")]

    def __str__(self) -> str:
        return self.key
