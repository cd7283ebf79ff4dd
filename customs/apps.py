from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "customs"
    verbose_name = _("Customs kernel")

    def ready(self):
        from django.db.models.signals import post_migrate

        import customs.api.schema  # noqa: F401  registers the API-key scheme with drf-spectacular

        # Every app's signal, not just ours: permissions of apps after customs exist only once their own
        # post_migrate has run, so the last call sees them all. roles_sync is idempotent and cheap.
        post_migrate.connect(_sync_roles_after_migrate, dispatch_uid="customs.roles_sync")


def _sync_roles_after_migrate(sender, **kwargs):
    """Setup, not domain flow: keep the role groups in step with ``customs.roles`` after every migrate."""
    from customs.roles import roles_sync

    roles_sync()
