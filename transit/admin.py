"""Django admin of the transit module: movements and their documents, read-only (every change is a
service: lodgement, release, passage, arrival, discharge)."""

from django.contrib import admin

from transit.models import (
    ArrivalControl,
    TadPrint,
    TransitItem,
    TransitMovement,
    TransitOffice,
    TransitStatusChange,
)


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class TransitOfficeInline(_ReadOnlyInline):
    model = TransitOffice
    fields = ["sequence", "office", "passed_at", "passed_by"]
    readonly_fields = fields


class TransitItemInline(_ReadOnlyInline):
    model = TransitItem
    fields = [
        "number",
        "commodity_code",
        "description",
        "packages_number",
        "package_kind",
        "gross_mass",
        "value",
    ]
    readonly_fields = fields


class StatusChangeInline(_ReadOnlyInline):
    model = TransitStatusChange
    fields = ["occurred_at", "action", "from_status", "to_status", "office_code", "actor", "reason"]
    readonly_fields = fields


@admin.register(TransitMovement)
class TransitMovementAdmin(admin.ModelAdmin):
    list_display = [
        "mrn",
        "lrn",
        "status",
        "departure_office",
        "destination_office",
        "principal",
        "time_limit",
    ]
    list_filter = ["status", "departure_office", "destination_office"]
    search_fields = ["mrn", "lrn", "principal__name", "transport_identity"]
    inlines = [TransitOfficeInline, TransitItemInline, StatusChangeInline]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ArrivalControl)
class ArrivalControlAdmin(admin.ModelAdmin):
    list_display = ["movement", "seals_intact", "goods_conform", "recorded_by", "recorded_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TadPrint)
class TadPrintAdmin(ArrivalControlAdmin):
    list_display = ["movement", "language", "duplicate", "status", "requested_at", "rendered_at"]
