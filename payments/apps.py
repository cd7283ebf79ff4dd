from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "payments"
    verbose_name = _("Payments")

    def ready(self):
        # After a re-assessment payments settles the declaration against what it has paid: the
        # declarations module sends this task by name (it cannot import payments).
        from declarations.services import lifecycle

        if REASSESSED_TASK not in lifecycle.ON_REASSESSED_TASKS:
            lifecycle.ON_REASSESSED_TASKS.append(REASSESSED_TASK)
        # A cancelled declaration gets back what it paid (a refund for approval) or deferred.
        if CANCELLED_TASK not in lifecycle.ON_CANCELLED_TASKS:
            lifecycle.ON_CANCELLED_TASKS.append(CANCELLED_TASK)

        from customs.hooks import hook_register
        from payments import panels

        hook_register("declarations.officer_panels", panels.officer_panel)


REASSESSED_TASK = "payments.declaration_reassessed"
CANCELLED_TASK = "payments.declaration_cancelled"
