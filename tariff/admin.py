"""Django admin of the tariff: edit lines and measures (every save clears the engine's cache), and
upload tariff files that import in the background with a progress bar and a report."""

import datetime

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from tariff.choices import ImportKind
from tariff.engine import tariff_cache_clear
from tariff.expressions import DutyExpressionError, parse_duty_expression
from tariff.imports import tariff_import_progress, tariff_import_start
from tariff.models import CommodityCode, CustomsFee, Measure, NonTariffMeasure, TariffImport, TariffSection


class ClearsTariffCache:
    """Saving or deleting here changes the tariff: the engine must read it again."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        tariff_cache_clear()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        tariff_cache_clear()


@admin.register(TariffSection)
class TariffSectionAdmin(admin.ModelAdmin):
    list_display = ("code", "position", "name_en")
    search_fields = ("code", "name_en", "name_ru", "name_tk")


@admin.register(CommodityCode)
class CommodityCodeAdmin(ClearsTariffCache, admin.ModelAdmin):
    list_display = (
        "code",
        "description_en",
        "level",
        "declarable",
        "supplementary_unit",
        "valid_from",
        "valid_to",
    )
    list_filter = ("level", "declarable", "section")
    search_fields = ("code", "description_en", "description_ru", "description_tk")
    readonly_fields = ("search_vector",)
    list_per_page = 100


class MeasureForm(forms.ModelForm):
    class Meta:
        model = Measure
        fields = [
            "measure_type",
            "commodity_prefix",
            "expression",
            "origin_country",
            "origin_group",
            "procedure_code",
            "required_document",
            "legal_base",
            "valid_from",
            "valid_to",
        ]

    def clean_expression(self):
        expression = self.cleaned_data["expression"]
        try:
            parse_duty_expression(expression)
        except DutyExpressionError as error:
            raise forms.ValidationError(str(error)) from error
        return expression


@admin.register(Measure)
class MeasureAdmin(ClearsTariffCache, admin.ModelAdmin):
    form = MeasureForm
    list_display = (
        "measure_type",
        "commodity_prefix",
        "expression",
        "origin_country",
        "origin_group",
        "procedure_code",
        "required_document",
        "valid_from",
        "valid_to",
    )
    list_filter = ("measure_type", "origin_group", "procedure_code")
    search_fields = ("commodity_prefix", "expression", "legal_base")
    autocomplete_fields = ("origin_country", "origin_group", "procedure_code", "required_document")
    list_per_page = 100


@admin.register(NonTariffMeasure)
class NonTariffMeasureAdmin(ClearsTariffCache, admin.ModelAdmin):
    list_display = (
        "kind",
        "commodity_prefix",
        "origin_country",
        "origin_group",
        "document_type",
        "valid_from",
        "valid_to",
    )
    list_filter = ("kind",)
    search_fields = ("commodity_prefix", "description")


@admin.register(CustomsFee)
class CustomsFeeAdmin(ClearsTariffCache, admin.ModelAdmin):
    list_display = (
        "code",
        "name_en",
        "kind",
        "direction",
        "amount",
        "percent",
        "minimum",
        "maximum",
        "valid_from",
    )


class TariffUploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("What the file holds"), choices=ImportKind.choices)
    file = forms.FileField(
        label=_("CSV file"), help_text=_("UTF-8 CSV in the format of tariff/reference_data/FORMATS.md")
    )
    valid_from = forms.DateField(
        label=_("In force from"), initial=datetime.date.today, widget=forms.DateInput(attrs={"type": "date"})
    )
    dry_run = forms.BooleanField(
        label=_("Dry run: check and count, write nothing"), required=False, initial=True
    )


@admin.register(TariffImport)
class TariffImportAdmin(admin.ModelAdmin):
    """Uploads go through ``upload/``; opening an import shows its progress and report."""

    list_display = ("created_at", "kind", "dry_run", "status", "created_by", "summary")
    list_filter = ("kind", "status", "dry_run")
    change_list_template = "admin/tariff/tariffimport/change_list.html"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm("tariff.view_tariffimport")

    def get_urls(self):
        return [
            path("upload/", self.admin_site.admin_view(self.upload_view), name="tariff_tariffimport_upload"),
            path(
                "<int:import_id>/status/",
                self.admin_site.admin_view(self.status_view),
                name="tariff_tariffimport_status",
            ),
            *super().get_urls(),
        ]

    def upload_view(self, request):
        if not request.user.has_perm("tariff.add_tariffimport"):
            raise PermissionDenied
        form = TariffUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            tariff_import = tariff_import_start(
                actor=request.user,
                kind=form.cleaned_data["kind"],
                uploaded_file=form.cleaned_data["file"],
                valid_from=form.cleaned_data["valid_from"],
                dry_run=form.cleaned_data["dry_run"],
            )
            return redirect(reverse("admin:tariff_tariffimport_change", args=[tariff_import.pk]))
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "title": _("Upload a tariff file"),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/tariff/tariffimport/upload.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        tariff_import = get_object_or_404(TariffImport, pk=object_id)
        context = {
            **self.admin_site.each_context(request),
            "tariff_import": tariff_import,
            "progress": tariff_import_progress(tariff_import),
            "title": str(tariff_import),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/tariff/tariffimport/progress.html", context)

    def status_view(self, request, import_id):
        return JsonResponse(tariff_import_progress(get_object_or_404(TariffImport, pk=import_id)))
