"""Django admin of declarations: the per-office settings are edited here; declarations themselves are
read-only (every change goes through the lifecycle services, with its history and audit event)."""

from django.contrib import admin

from declarations.models import (
    Declaration,
    DeclarationImport,
    DeclarationItem,
    DeclarationPrint,
    OfficeDeclarationSettings,
    StatusChange,
    TaxLine,
)
from declarations.services.offices import office_cache_clear


@admin.register(OfficeDeclarationSettings)
class OfficeDeclarationSettingsAdmin(admin.ModelAdmin):
    list_display = ("office", "register_on_lodgement")
    list_editable = ("register_on_lodgement",)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        office_cache_clear()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        office_cache_clear()


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ItemInline(ReadOnlyInline):
    model = DeclarationItem
    fields = (
        "number",
        "commodity_code",
        "description",
        "origin",
        "procedure_code",
        "net_mass",
        "customs_value",
    )


class TaxLineInline(ReadOnlyInline):
    model = TaxLine
    fields = ("item_number", "label", "base", "expression", "amount")


class StatusChangeInline(ReadOnlyInline):
    model = StatusChange
    fields = ("occurred_at", "action", "from_status", "to_status", "actor", "reason")


@admin.register(Declaration)
class DeclarationAdmin(admin.ModelAdmin):
    """Read-only view for administrators; officers work in the officer screens."""

    list_display = ("__str__", "lrn", "declaration_type", "office", "trader", "status", "lane", "created_at")
    list_filter = ("status", "declaration_type", "lane", "office")
    search_fields = ("lrn", "trader__taxpayer_id", "trader__name")
    show_full_result_count = False  # a million rows: no COUNT(*) on every page
    list_select_related = ("office", "trader")
    inlines = [ItemInline, TaxLineInline, StatusChangeInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DeclarationPrint)
class DeclarationPrintAdmin(admin.ModelAdmin):
    """Printed documents, read-only: support looks here for the error of a print that failed."""

    list_display = (
        "declaration",
        "kind",
        "language",
        "declaration_version",
        "status",
        "requested_at",
        "rendered_at",
    )
    list_filter = ("status", "kind", "language")
    readonly_fields = [field.name for field in DeclarationPrint._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(DeclarationImport)
class DeclarationImportAdmin(admin.ModelAdmin):
    """Imported files, read-only: support looks here for why a file was refused, and its report."""

    list_display = ("filename", "format", "status", "error_code", "uploaded_by", "declaration", "created_at")
    list_filter = ("status", "format")
    search_fields = ("filename", "sha256", "uploaded_by__username")
    exclude = ("content",)
    readonly_fields = [field.name for field in DeclarationImport._meta.fields if field.name != "content"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
