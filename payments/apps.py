from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "payments"
    verbose_name = _("Payments")

    def ready(self):
        # After every assessment (a re-assessment included) payments settles the declaration against
        # what it has paid: the declarations module sends this task by name (it cannot import payments).
        from declarations.services import lifecycle

        if ASSESSED_TASK not in lifecycle.ON_ASSESSED_TASKS:
            lifecycle.ON_ASSESSED_TASKS.append(ASSESSED_TASK)

        from customs.hooks import hook_register
        from payments import panels

        hook_register("declarations.officer_panels", panels.officer_panel)
        hook_register("declarations.portal_panels", panels.portal_panel)


ASSESSED_TASK = "payments.declaration_assessed"
