"""Roles as groups with permissions. ``roles_sync`` makes the groups match this table; it runs after
every ``migrate`` and is idempotent. Later apps add their permissions here by dotted name
(``app_label.codename``); names whose app is not installed yet are skipped."""

from django.contrib.auth.models import Group, Permission

from customs.choices import Role

REFERENCE_MODELS = [
    "country",
    "countrygroup",
    "currency",
    "unitofmeasure",
    "packagekind",
    "documenttype",
    "additionalprocedurecode",
    "procedurecode",
    "transportmode",
    "incoterm",
    "customsoffice",
    "exchangerate",
]
PARTY_MODELS = ["trader", "broker", "brokerauthorisation"]
TARIFF_MODELS = ["tariffsection", "commoditycode", "measure", "nontariffmeasure", "customsfee"]
RISK_RESULTS = [
    "selectivity",
    "criterionhit",
    "examination",
    "postclearanceaudit",
    "backtest",
    "criterionversion",
]
PAYMENT_RECORDS = [
    "account",
    "journal",
    "entry",
    "payment",
    "paymentorder",
    "receipt",
    "bankcallback",
    "guaranteereservation",
    "refund",
    "bankstatement",
    "cashup",
]
TRANSIT_RECORDS = ["transitmovement", "arrivalcontrol", "tadprint"]


def _all(model_names, app_label="customs", verbs=("add", "change", "delete", "view")):
    return [f"{app_label}.{verb}_{model}" for model in model_names for verb in verbs]


def _view(model_names, app_label="customs"):
    return _all(model_names, app_label, verbs=("view",))


ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.OFFICER: _view(REFERENCE_MODELS + PARTY_MODELS) + _view(TARIFF_MODELS, "tariff"),
    Role.SUPERVISOR: _view(REFERENCE_MODELS + PARTY_MODELS + ["auditevent"])
    + _view(TARIFF_MODELS, "tariff")
    + _view(RISK_RESULTS + ["criterion"], "risk")
    + _view(PAYMENT_RECORDS + ["guarantee", "bank"], "payments")
    + _view(TRANSIT_RECORDS, "transit"),
    Role.RISK_ANALYST: _view(REFERENCE_MODELS + PARTY_MODELS)
    + _view(TARIFF_MODELS, "tariff")
    + _all(["criterion", "randomselectionrate"], "risk", verbs=("add", "change", "view"))
    + _all(["riskprofilesettings"], "risk", verbs=("change", "view"))
    + _view(RISK_RESULTS, "risk"),
    Role.CASHIER: _view(["currency", "exchangerate", "customsoffice", "trader"])
    + _view(["payment", "receipt", "cashup"], "payments"),
    Role.BROKER_USER: [],
    Role.TRADER_USER: [],
    Role.BANK_INTEGRATION: [],
    Role.ADMINISTRATOR: _all(REFERENCE_MODELS + PARTY_MODELS + ["user", "apiclient", "documentsequence"])
    + _all(["group"], "auth")
    + _view(["auditevent"])
    + _all(["totpdevice"], "otp_totp")
    + _all(TARIFF_MODELS + ["tariffimport"], "tariff")
    + _all(["officedeclarationsettings"], "declarations")
    + _view(["declaration"], "declarations")
    + _all(
        ["criterion", "randomselectionrate", "riskprofilesettings"], "risk", verbs=("add", "change", "view")
    )
    + _view(RISK_RESULTS, "risk")
    + _all(["bank", "guarantee"], "payments", verbs=("add", "change", "view"))
    + _view(PAYMENT_RECORDS, "payments")
    + _view(TRANSIT_RECORDS, "transit"),
}

# Roles whose users may open Django admin (is_staff).
ADMIN_SITE_ROLES = frozenset({Role.ADMINISTRATOR, Role.RISK_ANALYST, Role.SUPERVISOR})


def roles_sync() -> dict[str, int]:
    """Create each role's group and set exactly its permissions. Returns permissions per role."""
    by_name = {
        f"{app_label}.{codename}": pk
        for pk, app_label, codename in Permission.objects.values_list(
            "pk", "content_type__app_label", "codename"
        )
    }
    counts = {}
    for role, names in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role.value if hasattr(role, "value") else role)
        permission_ids = [by_name[name] for name in names if name in by_name]
        group.permissions.set(permission_ids)
        counts[group.name] = len(permission_ids)
    return counts
