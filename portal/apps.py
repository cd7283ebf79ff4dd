from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "portal"
    verbose_name = _("Portal")

    def ready(self):
        # The payments panel of the portal's declaration page: the portal owns its screens and links.
        from customs.hooks import hook_register
        from portal import payment_panels

        hook_register("declarations.portal_panels", payment_panels.declaration_panel)
