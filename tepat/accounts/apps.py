from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "tepat.accounts"
    label = "accounts"
    verbose_name = _("Accounts and roles")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_login_failed

        from tepat.accounts import middleware  # noqa: F401  (its user_logged_in receiver)
        from tepat.accounts.throttle import login_failed_receiver

        user_login_failed.connect(login_failed_receiver, dispatch_uid="tepat.login_failed")
