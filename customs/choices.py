"""Code lists of the kernel that are fixed by the software, not by the administration."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """User roles. Each is a Django group of the same name carrying its permissions."""

    OFFICER = "officer", _("Customs officer")
    SUPERVISOR = "supervisor", _("Supervisor")
    RISK_ANALYST = "risk_analyst", _("Risk analyst")
    CASHIER = "cashier", _("Cashier")
    BROKER_USER = "broker_user", _("Broker user")
    TRADER_USER = "trader_user", _("Trader user")
    BANK_INTEGRATION = "bank_integration", _("Bank integration")
    ADMINISTRATOR = "administrator", _("Administrator")


# Staff roles that must pass a second factor (TOTP or a passkey) on every sign-in.
ROLES_REQUIRING_SECOND_FACTOR = frozenset(
    {Role.OFFICER, Role.SUPERVISOR, Role.RISK_ANALYST, Role.CASHIER, Role.ADMINISTRATOR}
)
STAFF_ROLES = ROLES_REQUIRING_SECOND_FACTOR
PORTAL_ROLES = frozenset({Role.BROKER_USER, Role.TRADER_USER})


class OfficeKind(models.TextChoices):
    INLAND = "inland", _("Inland")
    BORDER = "border", _("Border post")
    AIRPORT = "airport", _("Airport")
    RAIL = "rail", _("Rail")
    SEA = "sea", _("Sea port")


class OfficeRole(models.TextChoices):
    """What a customs office may do (a subset per office)."""

    IMPORT = "import", _("Import")
    EXPORT = "export", _("Export")
    TRANSIT_DEPARTURE = "transit_departure", _("Transit departure")
    TRANSIT_DESTINATION = "transit_destination", _("Transit destination")
    TRANSIT_BORDER = "transit_border", _("Transit border")


class AeoStatus(models.TextChoices):
    NONE = "none", _("Not authorised")
    AEO_C = "aeo_c", _("AEO customs simplifications")
    AEO_S = "aeo_s", _("AEO security and safety")
    AEO_F = "aeo_f", _("AEO full")


class AuthorisationScope(models.TextChoices):
    """What a broker may do for a trader that authorised it."""

    IMPORT = "import", _("Import declarations")
    EXPORT = "export", _("Export declarations")
    TRANSIT = "transit", _("Transit declarations")
    PAYMENT = "payment", _("Payments")


class ProcedureDirection(models.TextChoices):
    IMPORT = "IM", _("Import")
    EXPORT = "EX", _("Export")
    TRANSIT = "TR", _("Transit")
    OTHER = "OT", _("Other")


class ApiScope(models.TextChoices):
    """Scopes an API key may carry; an endpoint names the scope it needs."""

    REFERENCE_READ = "reference:read", _("Read reference data")
    DECLARATIONS_READ = "declarations:read", _("Read declarations")
    DECLARATIONS_WRITE = "declarations:write", _("Lodge declarations")
    PAYMENTS_READ = "payments:read", _("Read accounts, payment orders and receipts")
    PAYMENTS_WRITE = "payments:write", _("Make payment orders and payments")
    PAYMENTS_CALLBACK = "payments:callback", _("Confirm payments (banks)")
    TRANSIT_READ = "transit:read", _("Read transit movements")
    TRANSIT_WRITE = "transit:write", _("Lodge transit declarations")
    EVENTS_READ = "events:read", _("Read the events of your declarations and movements")
