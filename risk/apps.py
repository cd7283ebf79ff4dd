from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RiskConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "risk"
    verbose_name = _("Risk")

    def ready(self):
        # A declaration just assessed is scored by risk: the declarations module sends this task by name
        # on commit (it cannot import risk, to its right).
        from declarations.services import lifecycle
        from risk.services.selectivity import SCORE_TASK

        if SCORE_TASK not in lifecycle.ON_ASSESSED_TASKS:
            lifecycle.ON_ASSESSED_TASKS.append(SCORE_TASK)

        # The selectivity panels of the officer's and the portal's declaration pages.
        from customs.hooks import hook_register
        from risk import panels

        hook_register("declarations.officer_panels", panels.officer_panel)
        hook_register("declarations.portal_panels", panels.portal_panel)
