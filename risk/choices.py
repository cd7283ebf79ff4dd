"""Code lists of the risk module: condition kinds and operators, examinations and their findings."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from declarations.choices import Lane

# Lane precedence: the highest hit wins (red > yellow > blue > green).
LANE_RANK = {Lane.GREEN: 0, Lane.BLUE: 1, Lane.YELLOW: 2, Lane.RED: 3}
TARGET_LANES = (Lane.RED, Lane.YELLOW, Lane.BLUE)


class ConditionKind(models.TextChoices):
    """What a condition of a criterion looks at. Item kinds hold for one item of the declaration; a
    criterion's item conditions must all hold on the same item."""

    COMMODITY_CODE = "commodity_code", _("Commodity code")
    ORIGIN = "origin", _("Country of origin")
    ORIGIN_GROUP = "origin_group", _("Country of origin in group")
    PROCEDURE = "procedure", _("Procedure (CPC)")
    VALUE_PER_KG = "value_per_kg", _("Customs value per kg of net mass")
    VALUE_PER_UNIT = "value_per_unit", _("Customs value per supplementary unit")
    PREFERENCE = "preference", _("Preference requested")
    EXPORTER = "exporter", _("Exporter")
    IMPORTER = "importer", _("Importer")
    DECLARANT = "declarant", _("Declarant")
    OFFICE = "office", _("Customs office")
    INCOTERM = "incoterm", _("Delivery terms (Incoterm)")
    TRANSPORT_MODE = "transport_mode", _("Mode of transport at the border")
    ITEM_COUNT = "item_count", _("Number of items")
    DECLARATION_TYPE = "declaration_type", _("Declaration type")


ITEM_KINDS = frozenset(
    {
        ConditionKind.COMMODITY_CODE,
        ConditionKind.ORIGIN,
        ConditionKind.ORIGIN_GROUP,
        ConditionKind.PROCEDURE,
        ConditionKind.VALUE_PER_KG,
        ConditionKind.VALUE_PER_UNIT,
        ConditionKind.PREFERENCE,
    }
)


class Operator(models.TextChoices):
    STARTS_WITH = "starts_with", _("starts with one of")
    IN = "in", _("is one of")
    NOT_IN = "not_in", _("is none of")
    BELOW = "below", _("is below")
    ABOVE = "above", _("is above")
    IS = "is", _("is")


# The operators each kind admits, and whether it takes a number (one threshold) or a list of codes.
OPERATORS: dict[str, tuple[str, ...]] = {
    ConditionKind.COMMODITY_CODE: (Operator.STARTS_WITH, Operator.IN, Operator.NOT_IN),
    ConditionKind.ORIGIN: (Operator.IN, Operator.NOT_IN),
    ConditionKind.ORIGIN_GROUP: (Operator.IN, Operator.NOT_IN),
    ConditionKind.PROCEDURE: (Operator.STARTS_WITH, Operator.IN, Operator.NOT_IN),
    ConditionKind.VALUE_PER_KG: (Operator.BELOW, Operator.ABOVE),
    ConditionKind.VALUE_PER_UNIT: (Operator.BELOW, Operator.ABOVE),
    ConditionKind.PREFERENCE: (Operator.IS,),
    ConditionKind.EXPORTER: (Operator.IN, Operator.NOT_IN),
    ConditionKind.IMPORTER: (Operator.IN, Operator.NOT_IN),
    ConditionKind.DECLARANT: (Operator.IN, Operator.NOT_IN),
    ConditionKind.OFFICE: (Operator.IN, Operator.NOT_IN),
    ConditionKind.INCOTERM: (Operator.IN, Operator.NOT_IN),
    ConditionKind.TRANSPORT_MODE: (Operator.IN, Operator.NOT_IN),
    ConditionKind.ITEM_COUNT: (Operator.BELOW, Operator.ABOVE),
    ConditionKind.DECLARATION_TYPE: (Operator.IN, Operator.NOT_IN),
}
THRESHOLD_KINDS = frozenset(
    {ConditionKind.VALUE_PER_KG, ConditionKind.VALUE_PER_UNIT, ConditionKind.ITEM_COUNT}
)


class ExaminationKind(models.TextChoices):
    DOCUMENTARY = "documentary", _("Documentary check")
    PHYSICAL = "physical", _("Physical examination")


class ExaminationStatus(models.TextChoices):
    UNASSIGNED = "unassigned", _("Waiting for an officer")
    ASSIGNED = "assigned", _("Assigned")
    DONE = "done", _("Done")
    HELD = "held", _("Goods held")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_EXAMINATION_STATES = frozenset({ExaminationStatus.UNASSIGNED, ExaminationStatus.ASSIGNED})


class FindingResult(models.TextChoices):
    CONFORM = "conform", _("Conform")
    CLASSIFICATION = "classification", _("Discrepancy: classification")
    VALUE = "value", _("Discrepancy: value")
    QUANTITY = "quantity", _("Discrepancy: quantity")
    ORIGIN = "origin", _("Discrepancy: origin")
    PROHIBITED = "prohibited", _("Prohibited or restricted goods")


DISCREPANCIES = frozenset(set(FindingResult.values) - {FindingResult.CONFORM})


class AuditOutcome(models.TextChoices):
    """Outcome of a post-clearance audit."""

    CONFORM = "conform", _("Conform")
    DISCREPANCY = "discrepancy", _("Discrepancy found")


class SelectionSource(models.TextChoices):
    """What gave the declaration its lane."""

    CRITERIA = "criteria", _("Criteria")
    RANDOM = "random", _("Random selection")
    PROFILE = "profile", _("Trader's risk profile")
    NONE = "none", _("No hit (green)")
    SUPERVISOR = "supervisor", _("Supervisor")
