from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TppConfig(AppConfig):
    name = "tepat.tpp"
    verbose_name = _("e-TPP")
