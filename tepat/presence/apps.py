from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PresenceConfig(AppConfig):
    name = "tepat.presence"
    label = "presence"
    verbose_name = _("e-Presensi")

    def ready(self) -> None:
        from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save

        from tepat.org.models import Unit, WorkSite
        from tepat.presence.partitions import partitions_after_migrate
        from tepat.presence.services import checkin_caches_clear

        # The check-in path keeps every unit's sites for a minute; edits made through the
        # ORM in this process apply at once.
        for model in (WorkSite, Unit):
            post_save.connect(checkin_caches_clear, sender=model, dispatch_uid=f"sites-{model}")
            post_delete.connect(checkin_caches_clear, sender=model, dispatch_uid=f"sites-d{model}")
        m2m_changed.connect(
            checkin_caches_clear, sender=Unit.alternative_sites.through, dispatch_uid="sites-alt"
        )
        # Every deploy migrates: the coming months' ledger partitions are there at once.
        post_migrate.connect(partitions_after_migrate, sender=self, dispatch_uid="partitions")
