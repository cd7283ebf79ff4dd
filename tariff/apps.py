from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TariffConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tariff"
    verbose_name = _("Tariff")
