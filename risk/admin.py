"""Django admin of the risk module.

Criteria are edited through the services, so that admin too makes a new version on every change and
audits it: the form carries the fields of the version (lane, conditions as JSON, validity, offices,
notes). Random selection rates and the profile settings are edited here. Results (selectivity, hits,
examinations, audits, backtests) are read-only.
"""

import json

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from declarations.services.errors import DeclarationInvalid
from risk.models import (
    Backtest,
    Criterion,
    CriterionHit,
    CriterionVersion,
    Examination,
    PostClearanceAudit,
    RandomSelectionRate,
    RiskProfileSettings,
    Selectivity,
)
from risk.services.criteria import (
    VersionData,
    criterion_create,
    criterion_revise,
    criterion_set_live,
    current_version,
    random_rate_set,
    version_data_check,
)

LANES = [("red", _("Red")), ("yellow", _("Yellow")), ("blue", _("Blue"))]


class CriterionAdminForm(forms.ModelForm):
    """The criterion and the fields of its next version."""

    lane = forms.ChoiceField(label=_("target lane"), choices=LANES)
    conditions = forms.CharField(
        label=_("conditions (JSON)"),
        widget=forms.Textarea(attrs={"rows": 8, "cols": 80}),
        help_text=_(
            'A list such as [{"kind": "commodity_code", "operator": "starts_with", "values": ["8703"]}].'
        ),
    )
    valid_from = forms.DateField(label=_("valid from"), initial=timezone.localdate)
    valid_to = forms.DateField(label=_("valid to"), required=False)
    offices = forms.CharField(
        label=_("offices"), required=False, help_text=_("Office codes, separated by commas.")
    )
    officer_note = forms.CharField(
        label=_("note for the officer"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    internal_note = forms.CharField(
        label=_("internal note (never shown to the trader)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    class Meta:
        model = Criterion
        fields = ["code", "name", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        version = current_version(self.instance) if self.instance.pk else None
        if version is not None:
            self.fields["code"].disabled = True
            self.initial.update(
                lane=version.lane,
                conditions=json.dumps(version.conditions, ensure_ascii=False, indent=1),
                valid_from=version.valid_from,
                valid_to=version.valid_to,
                offices=", ".join(version.offices),
                officer_note=version.officer_note,
                internal_note=version.internal_note,
            )

    def clean_conditions(self):
        try:
            value = json.loads(self.cleaned_data["conditions"])
        except json.JSONDecodeError as error:
            raise ValidationError(_("This is not valid JSON: %(error)s") % {"error": error}) from error
        if not isinstance(value, list):
            raise ValidationError(_("Give a list of conditions."))
        return value

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            version_data_check(self.version_data())
        except DeclarationInvalid as invalid:
            for error in invalid.errors:
                name = error.field.split("[", 1)[0].split(".", 1)[0]
                detail = error.message if name == error.field else f"{error.field}: {error.message}"
                self.add_error(name if name in self.fields else None, detail)
        return cleaned

    def version_data(self) -> VersionData:
        data = self.cleaned_data
        return VersionData(
            lane=data["lane"],
            conditions=data["conditions"],
            valid_from=data["valid_from"],
            valid_to=data.get("valid_to"),
            offices=[code for code in (data.get("offices") or "").split(",") if code.strip()],
            officer_note=data.get("officer_note", ""),
            internal_note=data.get("internal_note", ""),
        )


class CriterionVersionInline(admin.TabularInline):
    model = CriterionVersion
    fields = (
        "number",
        "lane",
        "conditions",
        "valid_from",
        "valid_to",
        "offices",
        "created_by",
        "created_at",
        "superseded_at",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("-number",)

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Criterion)
class CriterionAdmin(admin.ModelAdmin):
    form = CriterionAdminForm
    list_display = ("code", "name", "active", "updated_at")
    list_filter = ("active",)
    search_fields = ("code", "name")
    inlines = [CriterionVersionInline]
    fieldsets = [
        (None, {"fields": ["code", "name", "active"]}),
        (
            _("Next version"),
            {
                "fields": [
                    "lane",
                    "conditions",
                    "valid_from",
                    "valid_to",
                    "offices",
                    "officer_note",
                    "internal_note",
                ]
            },
        ),
    ]

    def save_model(self, request, obj, form, change):
        try:
            if not change:
                version = criterion_create(
                    actor=request.user,
                    code=obj.code,
                    name=obj.name,
                    data=form.version_data(),
                    live=obj.active,
                )
                obj.pk = version.criterion_id
                return
            criterion = Criterion.objects.get(pk=obj.pk)
            criterion_revise(actor=request.user, criterion=criterion, data=form.version_data(), name=obj.name)
            criterion_set_live(actor=request.user, criterion=criterion, live=obj.active)
        except DeclarationInvalid as invalid:  # checked in clean(); only a race gets here
            raise ValidationError(
                [f"{error.field}: {error.message}" for error in invalid.errors]
            ) from invalid

    def save_related(self, request, form, formsets, change):
        """Versions are written by the services only."""

    def has_delete_permission(self, request, obj=None):
        return False  # a criterion that hit declarations is their history; take it down instead


@admin.register(RandomSelectionRate)
class RandomSelectionRateAdmin(admin.ModelAdmin):
    list_display = ("office", "lane", "percent")
    list_filter = ("lane", "office")

    def save_model(self, request, obj, form, change):
        random_rate_set(actor=request.user, office=obj.office, lane=obj.lane, percent=obj.percent)


@admin.register(RiskProfileSettings)
class RiskProfileSettingsAdmin(admin.ModelAdmin):
    list_display = ("__str__", "aeo_random_factor", "aeo_documentary_to_audit", "findings_threshold")

    def has_add_permission(self, request):
        return not RiskProfileSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Selectivity)
class SelectivityAdmin(ReadOnlyAdmin):
    list_display = ("declaration", "lane", "source", "criteria_evaluated", "scored_at", "scoring_ms")
    list_filter = ("lane", "source")
    raw_id_fields = ("declaration",)


@admin.register(CriterionHit)
class CriterionHitAdmin(ReadOnlyAdmin):
    list_display = ("declaration", "version", "lane", "item_number", "hit_at")
    list_filter = ("lane",)
    raw_id_fields = ("declaration", "version", "criterion")


@admin.register(Examination)
class ExaminationAdmin(ReadOnlyAdmin):
    list_display = ("declaration", "office", "kind", "status", "officer", "created_at", "completed_at")
    list_filter = ("kind", "status", "office")
    raw_id_fields = ("declaration",)


@admin.register(PostClearanceAudit)
class PostClearanceAuditAdmin(ReadOnlyAdmin):
    list_display = ("declaration", "office", "queued_at", "outcome", "auditor", "completed_at")
    list_filter = ("outcome", "office")
    raw_id_fields = ("declaration",)


@admin.register(Backtest)
class BacktestAdmin(ReadOnlyAdmin):
    list_display = ("version", "date_from", "date_to", "status", "done", "total", "hits", "requested_at")
    list_filter = ("status",)
