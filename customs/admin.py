"""Django admin of the kernel: reference data, offices, parties, users, API clients, and the audit
trail (read-only)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.admin import APIKeyModelAdmin

from customs import models


class CodeListAdmin(admin.ModelAdmin):
    list_display = ("code", "name_en", "name_ru", "name_tk", "valid_from", "valid_to", "active")
    list_filter = ("active",)
    search_fields = ("code", "name_en", "name_ru", "name_tk")
    list_per_page = 100


for model in (
    models.Currency,
    models.UnitOfMeasure,
    models.PackageKind,
    models.DocumentType,
    models.AdditionalProcedureCode,
    models.TransportMode,
    models.Incoterm,
):
    admin.site.register(model, CodeListAdmin)


@admin.register(models.Country)
class CountryAdmin(CodeListAdmin):
    list_display = ("code", "alpha3", "name_en", "name_ru", "name_tk", "active")
    list_filter = ("active", "groups")


@admin.register(models.CountryGroup)
class CountryGroupAdmin(CodeListAdmin):
    filter_horizontal = ("countries",)


@admin.register(models.ProcedureCode)
class ProcedureCodeAdmin(CodeListAdmin):
    list_display = ("code", "direction", "name_en", "active")
    list_filter = ("direction", "active")
    filter_horizontal = ("allowed_additional_codes",)


@admin.register(models.CustomsOffice)
class CustomsOfficeAdmin(admin.ModelAdmin):
    list_display = ("code", "name_en", "kind", "roles", "active")
    list_filter = ("kind", "active")
    search_fields = ("code", "name_en", "name_ru", "name_tk")


@admin.register(models.ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin):
    list_display = ("currency", "valid_from", "rate", "source")
    list_filter = ("currency",)
    date_hierarchy = "valid_from"
    search_fields = ("currency__code",)


@admin.register(models.Trader)
class TraderAdmin(admin.ModelAdmin):
    list_display = ("taxpayer_id", "name", "country", "aeo_status", "active")
    list_filter = ("aeo_status", "active", "country")
    search_fields = ("taxpayer_id", "name")


class BrokerAuthorisationInline(admin.TabularInline):
    model = models.BrokerAuthorisation
    extra = 0
    autocomplete_fields = ("trader",)


@admin.register(models.Broker)
class BrokerAdmin(admin.ModelAdmin):
    list_display = ("licence_number", "name", "licence_valid_from", "licence_valid_to", "active")
    list_filter = ("active",)
    search_fields = ("licence_number", "name", "taxpayer_id")
    inlines = [BrokerAuthorisationInline]


@admin.register(models.BrokerAuthorisation)
class BrokerAuthorisationAdmin(admin.ModelAdmin):
    list_display = ("broker", "trader", "valid_from", "valid_to", "scope", "revoked")
    list_filter = ("revoked",)
    search_fields = ("broker__name", "trader__name", "trader__taxpayer_id")
    autocomplete_fields = ("broker", "trader")


@admin.register(models.User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "first_name", "last_name", "trader", "broker", "is_active")
    list_filter = ("groups", "offices", "is_active", "is_staff")
    filter_horizontal = ("groups", "user_permissions", "offices")
    autocomplete_fields = ("trader", "broker")
    fieldsets = DjangoUserAdmin.fieldsets + (
        (_("Kerwen"), {"fields": ("offices", "trader", "broker", "preferred_language")}),
    )


@admin.register(models.ApiClient)
class ApiClientAdmin(APIKeyModelAdmin):
    list_display = (*APIKeyModelAdmin.list_display, "user", "scopes", "last_used_at")
    autocomplete_fields = ("user",)


@admin.register(models.AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only browsing of the trail; nothing can be added, changed or deleted here."""

    list_display = ("sequence", "occurred_at", "action", "actor_username", "office_code", "object_repr")
    list_filter = ("action", "office_code", "object_type")
    search_fields = ("action", "actor_username", "object_id", "object_repr", "request_id")
    date_hierarchy = "occurred_at"
    readonly_fields = [field.name for field in models.AuditEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        return {}


class WebhookAttemptInline(admin.TabularInline):
    model = models.WebhookAttempt
    extra = 0
    can_delete = False
    readonly_fields = [field.name for field in models.WebhookAttempt._meta.fields]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(models.WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    """Traders' and brokers' endpoints: an administrator may pause one that misbehaves."""

    list_display = ("url", "trader", "broker", "active", "created_at")
    list_filter = ("active",)
    search_fields = ("url", "trader__taxpayer_id", "broker__licence_number")
    fields = ("url", "description", "trader", "broker", "kinds", "active", "created_by", "created_at")
    readonly_fields = ("url", "trader", "broker", "kinds", "created_by", "created_at")

    def has_add_permission(self, request):
        return False


@admin.register(models.WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """The delivery log, read-only, with each attempt."""

    list_display = (
        "event",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "created_at",
    )
    list_filter = ("status",)
    readonly_fields = [field.name for field in models.WebhookDelivery._meta.fields]
    inlines = [WebhookAttemptInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
