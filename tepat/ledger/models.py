"""Hash chains over append-only tables (docs/security.md §1.4).

Each sealed row of a chained table gets one ``Seal``: the SHA-256 of the row's canonical bytes
and the chain hash ``sha256(previous chain hash + row hash)``. The seals are written by a
periodic job (``tepat ledger seal``), never on the insert path, and the database refuses to
change or delete them (migration 0002). ``Head`` holds where each chain stands.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Head(models.Model):
    chain = models.CharField(_("chain"), max_length=64, primary_key=True)
    last_row_id = models.BigIntegerField(_("last sealed row"), default=0)
    last_hash = models.CharField(_("chain hash"), max_length=64)
    sealed = models.BigIntegerField(_("rows sealed"), default=0)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("chain head")
        verbose_name_plural = _("chain heads")

    def __str__(self) -> str:
        return f"{self.chain} @{self.last_row_id} {self.last_hash[:16]}"


class Seal(models.Model):
    chain = models.CharField(_("chain"), max_length=64)
    row_id = models.BigIntegerField(_("row"))
    row_hash = models.CharField(_("row hash"), max_length=64)
    chain_hash = models.CharField(_("chain hash"), max_length=64)
    sealed_at = models.DateTimeField(_("sealed"))

    class Meta:
        verbose_name = _("seal")
        verbose_name_plural = _("seals")
        constraints = [
            models.UniqueConstraint(fields=["chain", "row_id"], name="ledger_seal_chain_row_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.chain}#{self.row_id} {self.chain_hash[:16]}"
