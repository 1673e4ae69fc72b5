"""Back office for e-Kinerja: BKPSDM and auditors read plans, reports, decisions and months;
nobody edits them here (they change only through the pages and their audited services). A
policy version is added as YAML, validated by the rules core and saved through its service."""

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from tepat.admin_readonly import ReadOnlyAdmin, ReadOnlyInline
from tepat.kinerja.models import (
    DailyReport,
    KinerjaPolicyVersion,
    MonthlyEvaluation,
    ReportDecision,
    Skp,
    SkpIndicator,
    SkpResult,
)
from tepat.kinerja.services import kinerja_policy_save
from tepat.rules.kinerja_policy import (
    KinerjaPolicyError,
    kinerja_policy_from_yaml,
    kinerja_policy_validate,
)


class IndicatorInline(ReadOnlyInline):
    model = SkpIndicator


@admin.register(Skp)
class SkpAdmin(ReadOnlyAdmin):
    list_display = ["year", "employee", "status", "supervisor", "submitted_at", "decided_at"]
    list_filter = ["year", "status"]
    search_fields = ["employee__nip", "employee__name"]
    list_select_related = ["employee", "supervisor"]


@admin.register(SkpResult)
class SkpResultAdmin(ReadOnlyAdmin):
    list_display = ["text", "skp", "intervensi"]
    search_fields = ["text", "skp__employee__nip", "skp__employee__name"]
    inlines = [IndicatorInline]


@admin.register(DailyReport)
class DailyReportAdmin(ReadOnlyAdmin):
    list_display = ["day", "employee", "minutes", "approved_minutes", "status", "late", "source"]
    list_filter = ["status", "late", "source"]
    search_fields = ["employee__nip", "employee__name", "activity", "client_id"]
    date_hierarchy = "day"
    list_select_related = ["employee"]
    exclude = ["attachment"]  # downloaded through the authorised view only


@admin.register(ReportDecision)
class ReportDecisionAdmin(ReadOnlyAdmin):
    list_display = ["at", "report", "decision", "minutes_approved", "reviewer", "as_plt"]
    list_filter = ["decision", "as_plt"]


@admin.register(MonthlyEvaluation)
class MonthlyEvaluationAdmin(ReadOnlyAdmin):
    list_display = [
        "year", "month", "employee", "approved_minutes", "predicate", "productivity_percent",
        "policy_name", "policy_version", "rules_version",
    ]  # fmt: skip
    list_filter = ["year", "month", "predicate", "method"]
    search_fields = ["employee__nip", "employee__name"]
    list_select_related = ["employee"]


class PolicyForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = KinerjaPolicyVersion
        fields = ["definition"]
        widgets = {"definition": forms.Textarea(attrs={"rows": 30, "class": "mono"})}

    def clean_definition(self) -> str:
        definition = str(self.cleaned_data["definition"])
        try:
            errors = kinerja_policy_validate(kinerja_policy_from_yaml(definition))
        except KinerjaPolicyError as exc:
            raise forms.ValidationError(exc.message) from None
        if errors:
            raise forms.ValidationError(errors)
        return definition


@admin.register(KinerjaPolicyVersion)
class KinerjaPolicyVersionAdmin(admin.ModelAdmin[KinerjaPolicyVersion]):
    form = PolicyForm
    list_display = ["valid_from", "name", "version", "created_at"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a stored month names the version it used: add a new one instead

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: KinerjaPolicyVersion, form: Any, change: bool
    ) -> None:
        saved = kinerja_policy_save(actor=request.user, definition=obj.definition)
        for f in saved._meta.concrete_fields:
            setattr(obj, f.attname, getattr(saved, f.attname))
