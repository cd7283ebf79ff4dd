"""The Single Administrative Document: general segment, items, attached documents, the stored
assessment, and the history of its states.

Models hold fields, constraints and pure guards; every write goes through ``declarations.services``.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from customs.models import (
    AdditionalProcedureCode,
    Broker,
    Country,
    Currency,
    CustomsOffice,
    DocumentType,
    Incoterm,
    PackageKind,
    ProcedureCode,
    Trader,
    TransportMode,
)
from declarations.choices import (
    EDITABLE_STATES,
    DeclarationType,
    FreightSplit,
    Lane,
    Status,
    ValuationMethod,
    direction_of,
)

MONEY = {"max_digits": 18, "decimal_places": 4}
MASS = {"max_digits": 18, "decimal_places": 6}
# Amounts in national currency, already rounded to its minor unit by the engine.
NATIONAL = {"max_digits": 18, "decimal_places": 2}


def _cost(label):
    return models.DecimalField(label, null=True, blank=True, **MONEY)


def _code_list(model, label, related_name="+"):
    """An optional code of a code list (country, currency, Incoterm, ...), kept by its code."""
    return models.ForeignKey(
        model,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_index=False,
        related_name=related_name,
        verbose_name=label,
        to_field="code",
    )


def _cost_currency(label, related_name):
    return models.ForeignKey(
        Currency,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_index=False,
        related_name="+",
        verbose_name=label,
        to_field="code",
        db_column=related_name,
    )


# The general segment's fields, in the order of the form (the declaration pages show them so).
GENERAL_SEGMENT_FIELDS = (
    "declaration_type",
    "office",
    "trader",
    "lrn",
    "counterparty_name",
    "counterparty_address",
    "counterparty_country",
    "dispatch_country",
    "destination_country",
    "incoterm",
    "delivery_place",
    "transport_mode",
    "transport_identity",
    "transport_nationality",
    "goods_location",
    "invoice_amount",
    "invoice_currency",
    "freight_amount",
    "freight_currency",
    "insurance_amount",
    "insurance_currency",
    "other_costs_amount",
    "other_costs_currency",
    "deductions_amount",
    "deductions_currency",
    "freight_split",
    "total_packages",
)


class Declaration(models.Model):
    """One declaration (SAD): the general segment, its state and its numbers.

    ``trader`` is the domestic party: the importer (consignee) of an import, the exporter (consignor) of
    an export. ``broker`` is the declarant when a broker lodges; otherwise the trader declares itself.
    The foreign party (exporter of an import, consignee of an export) is free text, as on the form.
    ``version`` counts every write and gives the API's ETag.

    Indexes: only those the finder and the selectors use (``Meta.indexes``). The foreign keys to code
    lists and parties have no index of their own: nothing looks declarations up by currency or
    country, and every insert would pay for each of them at national volume.
    """

    declaration_type = models.CharField(_("type"), max_length=3, choices=DeclarationType.choices)
    direction = models.CharField(_("direction"), max_length=2, editable=False)
    office = models.ForeignKey(
        CustomsOffice,
        on_delete=models.PROTECT,
        db_index=False,  # the (office, ...) indexes below serve every query by office
        related_name="declarations",
        verbose_name=_("office"),
    )
    trader = models.ForeignKey(
        Trader,
        on_delete=models.PROTECT,
        db_index=False,  # declaration_trader_created_idx serves it
        related_name="declarations",
        verbose_name=_("trader"),
    )
    broker = models.ForeignKey(
        Broker,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_index=False,
        related_name="declarations",
        verbose_name=_("broker (declarant)"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        db_index=False,
        related_name="+",
        verbose_name=_("created by"),
    )
    lrn = models.CharField(_("local reference number (LRN)"), max_length=35)

    counterparty_name = models.CharField(_("foreign party name"), max_length=255, blank=True)
    counterparty_address = models.CharField(_("foreign party address"), max_length=255, blank=True)
    counterparty_country = _code_list(Country, _("foreign party country"))
    dispatch_country = _code_list(Country, _("country of dispatch"))
    destination_country = _code_list(Country, _("country of destination"))
    incoterm = _code_list(Incoterm, _("delivery terms (Incoterm)"), related_name=None)
    delivery_place = models.CharField(_("delivery place"), max_length=100, blank=True)
    transport_mode = _code_list(TransportMode, _("mode of transport at the border"), related_name=None)
    transport_identity = models.CharField(_("identity of the means of transport"), max_length=64, blank=True)
    transport_nationality = _code_list(Country, _("nationality of the means of transport"))
    goods_location = models.CharField(_("location of goods"), max_length=100, blank=True)
    invoice_amount = models.DecimalField(_("invoice amount"), null=True, blank=True, **MONEY)
    invoice_currency = _code_list(Currency, _("invoice currency"))
    freight_amount = _cost(_("freight"))
    freight_currency = _cost_currency(_("freight currency"), "freight_currency")
    insurance_amount = _cost(_("insurance"))
    insurance_currency = _cost_currency(_("insurance currency"), "insurance_currency")
    other_costs_amount = _cost(_("other costs"))
    other_costs_currency = _cost_currency(_("other costs currency"), "other_costs_currency")
    deductions_amount = _cost(_("costs beyond the border (deducted)"))
    deductions_currency = _cost_currency(_("deductions currency"), "deductions_currency")
    freight_split = models.CharField(
        _("split freight"), max_length=8, choices=FreightSplit.choices, default=FreightSplit.PRICE
    )
    total_packages = models.PositiveIntegerField(_("total packages"), null=True, blank=True)

    status = models.CharField(_("status"), max_length=24, choices=Status.choices, default=Status.STORED)
    status_before = models.CharField(
        _("status before the query or request"), max_length=24, choices=Status.choices, blank=True
    )
    lane = models.CharField(_("lane"), max_length=8, choices=Lane.choices, blank=True)
    lane_assigned_at = models.DateTimeField(_("lane assigned at"), null=True, blank=True)
    # When the lane's control (documentary check, examination) was done, or the lane needed none:
    # release needs it, with the payment (``declarations.services.control``).
    control_done_at = models.DateTimeField(_("control done at"), null=True, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    pending_changes = models.JSONField(_("amendment requested"), null=True, blank=True)

    registration_year = models.PositiveSmallIntegerField(_("registration year"), null=True, blank=True)
    registration_series = models.CharField(_("registration series"), max_length=4, blank=True)
    registration_number = models.PositiveIntegerField(_("registration number"), null=True, blank=True)
    assessment_number = models.PositiveIntegerField(_("assessment number"), null=True, blank=True)
    reference_date = models.DateField(_("date of the rates and tariff"), null=True, blank=True)
    exchange_rates = models.JSONField(_("exchange rates used"), default=dict, blank=True)
    customs_value = models.DecimalField(_("customs value"), null=True, blank=True, **NATIONAL)
    total_taxes = models.DecimalField(_("total duties and taxes"), null=True, blank=True, **NATIONAL)
    assessment_warnings = models.JSONField(_("assessment warnings"), default=list, blank=True)

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    lodged_at = models.DateTimeField(_("lodged at"), null=True, blank=True)
    registered_at = models.DateTimeField(_("registered at"), null=True, blank=True)
    assessed_at = models.DateTimeField(_("assessed at"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("cancelled or rejected at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("declaration")
        verbose_name_plural = _("declarations")
        constraints = [
            models.UniqueConstraint(
                fields=["broker", "lrn"], condition=Q(broker__isnull=False), name="declaration_lrn_per_broker"
            ),
            models.UniqueConstraint(
                fields=["trader", "lrn"], condition=Q(broker__isnull=True), name="declaration_lrn_per_trader"
            ),
            models.UniqueConstraint(
                fields=["office", "registration_year", "registration_series", "registration_number"],
                condition=Q(registration_number__isnull=False),
                name="declaration_registration_unique",
            ),
            models.CheckConstraint(
                condition=Q(registration_number__isnull=True) | Q(registered_at__isnull=False),
                name="declaration_registered_has_time",
            ),
            models.CheckConstraint(
                condition=Q(invoice_amount__gte=0), name="declaration_invoice_non_negative"
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="declaration_version_positive"),
        ]
        indexes = [
            # The finder's common queries: by office and status, newest first; by number; by LRN.
            models.Index(fields=["office", "status", "-created_at"], name="declaration_office_status_idx"),
            models.Index(fields=["office", "-created_at"], name="declaration_office_created_idx"),
            models.Index(fields=["trader", "-created_at"], name="declaration_trader_created_idx"),
            models.Index(fields=["broker", "-created_at"], name="declaration_broker_created_idx"),
            models.Index(fields=["registration_number"], name="declaration_number_idx"),
            models.Index(fields=["lrn"], name="declaration_lrn_idx"),
            models.Index(fields=["status", "-created_at"], name="declaration_status_created_idx"),
            models.Index(fields=["-created_at"], name="declaration_created_idx"),
            # Declarations registered at an office in a period: the Time Release Study, the risk
            # statistics (hit rate per week), backtests.
            models.Index(fields=["office", "registered_at"], name="declaration_office_reg_idx"),
            # The risk sweeper's query: registered declarations still without a lane (few at any time).
            models.Index(
                fields=["registered_at"],
                condition=Q(lane="") & Q(registered_at__isnull=False),
                name="declaration_without_lane_idx",
            ),
        ]

    def __str__(self):
        return self.number or _("Draft %(lrn)s") % {"lrn": self.lrn}

    def save(self, *args, **kwargs):
        self.direction = direction_of(self.declaration_type)
        super().save(*args, **kwargs)

    @property
    def number(self) -> str:
        """The registration number, e.g. ``TMA01 2026 C 10452`` ('' before registration)."""
        if self.registration_number is None:
            return ""
        office, year = self.office.code, self.registration_year
        return f"{office} {year} {self.registration_series} {self.registration_number}"

    @property
    def assessment_reference(self) -> str:
        if self.assessment_number is None:
            return ""
        return f"{self.office.code} {self.registration_year} A {self.assessment_number}"

    @property
    def declarant_name(self) -> str:
        return self.broker.name if self.broker_id else self.trader.name

    @property
    def control_cleared(self) -> bool:
        """Selectivity has given the lane, and the lane's control is done (or the lane needs none)."""
        return bool(self.lane) and self.control_done_at is not None

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE_STATES

    @property
    def etag(self) -> str:
        return f'"{self.pk}-{self.version}"'


class DeclarationItem(models.Model):
    """One item (goods line) of a declaration, with its valuation once assessed."""

    declaration = models.ForeignKey(
        Declaration,
        on_delete=models.CASCADE,
        db_index=False,  # declaration_item_number_unique (declaration, number) serves it
        related_name="items",
        verbose_name=_("declaration"),
    )
    number = models.PositiveSmallIntegerField(_("item number"))
    commodity_code = models.CharField(_("commodity code"), max_length=10, blank=True)
    description = models.TextField(_("description of goods"), blank=True)
    origin = _code_list(Country, _("country of origin"))
    preference_requested = models.BooleanField(_("preference requested"), default=False)
    procedure_code = _code_list(ProcedureCode, _("procedure (CPC)"), related_name=None)
    additional_procedure_code = _code_list(
        AdditionalProcedureCode, _("additional procedure code"), related_name=None
    )
    packages_number = models.PositiveIntegerField(_("number of packages"), null=True, blank=True)
    package_kind = _code_list(PackageKind, _("kind of packages"), related_name=None)
    marks = models.CharField(_("marks and numbers"), max_length=255, blank=True)
    gross_mass = models.DecimalField(_("gross mass (kg)"), null=True, blank=True, **MASS)
    net_mass = models.DecimalField(_("net mass (kg)"), null=True, blank=True, **MASS)
    quantities = models.JSONField(_("supplementary quantities"), default=dict, blank=True)
    invoice_price = models.DecimalField(_("item price"), null=True, blank=True, **MONEY)
    valuation_method = models.CharField(
        _("valuation method"),
        max_length=1,
        choices=ValuationMethod.choices,
        default=ValuationMethod.TRANSACTION_VALUE,
    )
    valuation_justification = models.TextField(_("valuation justification"), blank=True)
    customs_value = models.DecimalField(_("customs value"), null=True, blank=True, **NATIONAL)
    valuation_steps = models.JSONField(_("valuation steps"), default=list, blank=True)

    class Meta:
        ordering = ["declaration", "number"]
        verbose_name = _("declaration item")
        verbose_name_plural = _("declaration items")
        constraints = [
            models.UniqueConstraint(fields=["declaration", "number"], name="declaration_item_number_unique"),
            models.CheckConstraint(condition=Q(number__gte=1), name="declaration_item_number_positive"),
            models.CheckConstraint(
                condition=Q(net_mass__isnull=True)
                | Q(gross_mass__isnull=True)
                | Q(net_mass__lte=F("gross_mass")),
                name="declaration_item_net_within_gross",
            ),
        ]

    def __str__(self):
        return f"{self.declaration} / {self.number}"


def _document_upload_to(instance, filename):
    return f"declarations/{instance.declaration_id}/{filename}"


class DeclarationDocument(models.Model):
    """A document attached to a declaration (box 44): type, reference, date, and the scanned file.

    ``item_number`` empty: the document covers every item.
    """

    declaration = models.ForeignKey(
        Declaration, on_delete=models.CASCADE, related_name="documents", verbose_name=_("declaration")
    )
    item_number = models.PositiveSmallIntegerField(_("item number"), null=True, blank=True)
    document_type = models.ForeignKey(
        DocumentType, on_delete=models.PROTECT, verbose_name=_("document type"), to_field="code"
    )
    reference = models.CharField(_("reference"), max_length=64)
    issued_on = models.DateField(_("date"), null=True, blank=True)
    file = models.FileField(_("file"), upload_to=_document_upload_to, blank=True)
    content_type = models.CharField(_("content type"), max_length=64, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("uploaded by")
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        ordering = ["declaration", "item_number", "pk"]
        verbose_name = _("attached document")
        verbose_name_plural = _("attached documents")

    def __str__(self):
        return f"{self.document_type_id} {self.reference}"


class TaxLine(models.Model):
    """One line of the stored assessment: a tax on an item, or a fee on the declaration (no item).

    Everything needed to check the figure by hand is kept: base, rate as written in the tariff, the
    formula, the unrounded and the rounded amount, and the measure that applied.
    """

    declaration = models.ForeignKey(
        Declaration,
        on_delete=models.CASCADE,
        db_index=False,  # tax_line_position_unique (declaration, position) serves it
        related_name="tax_lines",
        verbose_name=_("declaration"),
    )
    item_number = models.PositiveSmallIntegerField(_("item number"), null=True, blank=True)
    position = models.PositiveSmallIntegerField(_("position"))
    measure_type = models.CharField(_("tax"), max_length=24)
    label = models.CharField(_("label"), max_length=255)
    base = models.DecimalField(_("base"), **NATIONAL)
    expression = models.CharField(_("rate"), max_length=255)
    formula = models.TextField(_("formula"))
    unrounded = models.DecimalField(_("unrounded amount"), max_digits=28, decimal_places=10)
    amount = models.DecimalField(_("amount"), **NATIONAL)
    measure_id = models.BigIntegerField(_("measure"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        ordering = ["declaration", "position"]
        verbose_name = _("tax line")
        verbose_name_plural = _("tax lines")
        constraints = [
            models.UniqueConstraint(fields=["declaration", "position"], name="tax_line_position_unique"),
        ]

    def __str__(self):
        return f"{self.label}: {self.amount}"


class StatusChange(models.Model):
    """One move of the lifecycle, with its time: the history and the Time Release Study's source."""

    declaration = models.ForeignKey(
        Declaration, on_delete=models.CASCADE, related_name="status_changes", verbose_name=_("declaration")
    )
    action = models.CharField(_("action"), max_length=32)
    from_status = models.CharField(_("from"), max_length=24, choices=Status.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=24, choices=Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_index=False,
        related_name="+",
        verbose_name=_("by"),
    )
    reason = models.TextField(_("reason"), blank=True)
    occurred_at = models.DateTimeField(_("at"))

    class Meta:
        ordering = ["declaration", "occurred_at", "pk"]
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")
        indexes = [models.Index(fields=["to_status", "occurred_at"], name="status_change_to_at_idx")]

    def __str__(self):
        return f"{self.declaration_id}: {self.from_status} → {self.to_status}"


class OfficeDeclarationSettings(models.Model):
    """Per-office settings of the declarations module (edited in admin)."""

    office = models.OneToOneField(
        CustomsOffice, on_delete=models.CASCADE, related_name="declaration_settings", verbose_name=_("office")
    )
    register_on_lodgement = models.BooleanField(
        _("register automatically on lodgement"),
        default=True,
        help_text=_("Off: an officer registers each lodged declaration."),
    )

    class Meta:
        verbose_name = _("office settings for declarations")
        verbose_name_plural = _("office settings for declarations")

    def __str__(self):
        return str(self.office)


class IdempotencyKey(models.Model):
    """A POST's ``Idempotency-Key`` and the response it got, so a retry gets the same response.

    The row is inserted first, in the request's transaction: a concurrent retry waits on the unique
    index, then finds the row and replays the stored response instead of acting twice.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=128)
    scope = models.CharField(max_length=128)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key", "scope"], name="idempotency_key_unique"),
        ]

    def __str__(self):
        return self.key


def _print_upload_to(instance, filename):
    return f"declarations/{instance.declaration_id}/prints/{filename}"


class DeclarationPrint(models.Model):
    """A printed document of a declaration (assessment notice or SAD), in one language, of one version.

    A Celery task renders the PDF (``declarations.services.printing``); the request only asks for it and
    shows a wait page until the row is ``ready``. One row per declaration, kind, language and
    ``declaration_version``: asking again for an unchanged declaration gets the same document, a changed
    declaration (new version) gets a new one.
    """

    class Kind(models.TextChoices):
        ASSESSMENT_NOTICE = "assessment_notice", _("Assessment notice")
        SAD = "sad", _("Single Administrative Document")
        RELEASE_ORDER = "release_order", _("Release order (exit note)")

    class Status(models.TextChoices):
        PENDING = "pending", _("Being prepared")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    declaration = models.ForeignKey(
        Declaration, on_delete=models.CASCADE, related_name="prints", verbose_name=_("declaration")
    )
    kind = models.CharField(_("document"), max_length=24, choices=Kind.choices)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    declaration_version = models.PositiveIntegerField(_("declaration version"))
    file = models.FileField(_("file"), upload_to=_print_upload_to, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(_("error"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    rendered_at = models.DateTimeField(_("rendered at"), null=True, blank=True)

    class Meta:
        ordering = ["declaration", "kind", "language", "-declaration_version"]
        verbose_name = _("printed document")
        verbose_name_plural = _("printed documents")
        constraints = [
            models.UniqueConstraint(
                fields=["declaration", "kind", "language", "declaration_version"],
                name="declaration_print_unique",
            ),
            models.CheckConstraint(
                condition=~Q(status="ready") | (~Q(file="") & Q(rendered_at__isnull=False)),
                name="declaration_print_ready_has_file",
            ),
        ]
        indexes = [models.Index(fields=["status", "requested_at"], name="declaration_print_status_idx")]

    def __str__(self):
        return f"{self.declaration} {self.kind} {self.language} v{self.declaration_version}"


class DeclarationImport(models.Model):
    """An XML declaration a trader or broker sent (ASYCUDA World or WCO DM), to become a draft.

    The file is kept as it came (``content``), with its SHA-256; the import task reads it and writes
    ``report``: what was mapped, what was left out and why, what Kerwen's code lists did not know (kept
    and flagged), and where the file has its own tax lines, Kerwen's assessment beside them. A refused
    file keeps its ``error_code``, ``error_message`` and, for schema errors, ``problems`` with lines.
    ``trader`` and ``office``: the uploader's choice, used when the file's own codes are not Kerwen's.
    """

    class Format(models.TextChoices):
        ASYCUDA = "asycuda", _("ASYCUDA World XML")
        WCODM = "wcodm", _("WCO Data Model 3.6 XML")

    class Status(models.TextChoices):
        PENDING = "pending", _("Being read")
        DONE = "done", _("Draft made")
        FAILED = "failed", _("Refused")

    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("uploaded by")
    )
    trader = models.ForeignKey(
        Trader, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("trader")
    )
    office = models.ForeignKey(
        CustomsOffice,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("office"),
    )
    filename = models.CharField(_("file name"), max_length=255)
    content = models.BinaryField(_("file"))
    size = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    format = models.CharField(_("format"), max_length=8, choices=Format.choices, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.PENDING)
    error_code = models.CharField(_("error code"), max_length=32, blank=True)
    error_message = models.TextField(_("error"), blank=True)
    problems = models.JSONField(_("problems"), default=list, blank=True)
    report = models.JSONField(_("report"), default=dict, blank=True)
    declaration = models.ForeignKey(
        Declaration,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="imports",
        verbose_name=_("draft"),
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("read at"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("reading time (ms)"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("declaration import")
        verbose_name_plural = _("declaration imports")
        indexes = [
            models.Index(fields=["uploaded_by", "-created_at"], name="declaration_import_user_idx"),
            models.Index(
                fields=["created_at"], condition=Q(status="pending"), name="declaration_import_pending_idx"
            ),
        ]

    def __str__(self):
        return self.filename
