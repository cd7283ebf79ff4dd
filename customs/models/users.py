"""Users (staff, brokers, traders, integrations) and API keys."""

from functools import cache

from django.contrib.auth.models import AbstractUser
from django.contrib.postgres.fields import ArrayField
from django.db import connection, models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import AbstractAPIKey, BaseAPIKeyManager

from customs.choices import ROLES_REQUIRING_SECOND_FACTOR, ApiScope, Role

from .parties import Broker, Trader
from .reference import CustomsOffice


@cache
def _role_names_sql() -> str:
    """The names of a user's groups, from the tables of ``User.groups`` (a parameter: the user's id)."""
    through = User.groups.through._meta
    group_column, user_column = through.get_field("group").column, through.get_field("user").column
    groups = through.get_field("group").related_model._meta.db_table
    return (
        f'SELECT g."name" FROM "{groups}" g JOIN "{through.db_table}" link '  # noqa: S608 (model names)
        f'ON link."{group_column}" = g."id" WHERE link."{user_column}" = %s'
    )


class User(AbstractUser):
    """A person or integration account. Roles are groups; offices say where a staff member works.

    A portal user is linked to exactly one trader or one broker.
    """

    offices = models.ManyToManyField(
        CustomsOffice, blank=True, related_name="staff", verbose_name=_("office assignments")
    )
    trader = models.ForeignKey(
        Trader,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
        verbose_name=_("trader"),
    )
    broker = models.ForeignKey(
        Broker,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
        verbose_name=_("broker"),
    )
    preferred_language = models.CharField(_("preferred language"), max_length=8, blank=True)

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        constraints = [
            models.CheckConstraint(
                condition=Q(trader__isnull=True) | Q(broker__isnull=True),
                name="user_links_trader_or_broker_not_both",
            )
        ]

    @property
    def role_names(self) -> set[str]:
        """Names of the user's roles (cached on the instance for one request). Read by a statement
        whose text never changes: every API request asks, and compiling the ORM's join costs more than
        running it."""
        if not hasattr(self, "_role_names"):
            with connection.cursor() as cursor:
                cursor.execute(_role_names_sql(), [self.pk])
                self._role_names = {name for (name,) in cursor.fetchall()}
        return self._role_names

    def has_role(self, role: str) -> bool:
        return role in self.role_names

    @property
    def requires_second_factor(self) -> bool:
        """Staff must pass TOTP or a passkey; superusers too."""
        return self.is_superuser or bool(self.role_names & ROLES_REQUIRING_SECOND_FACTOR)

    @property
    def is_portal_user(self) -> bool:
        return bool(self.role_names & {Role.BROKER_USER, Role.TRADER_USER})


class ApiClientManager(BaseAPIKeyManager):
    def get_usable_keys(self):
        # Every request made with a key needs its user: read both at once.
        return super().get_usable_keys().select_related("user")


class ApiClient(AbstractAPIKey):
    """An API key of one integration (a bank, a broker's software), stored hashed, with scopes.

    Requests made with the key act as ``user``, so the user's roles and links scope what it sees.
    """

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="api_clients", verbose_name=_("acts as user")
    )
    scopes = ArrayField(
        models.CharField(max_length=32, choices=ApiScope.choices), verbose_name=_("scopes"), default=list
    )
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    objects = ApiClientManager()

    class Meta(AbstractAPIKey.Meta):
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")
