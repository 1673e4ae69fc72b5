"""Back office for e-TPP. A policy version is written as YAML (typed or imported from a file),
validated by the rules core and saved as a draft through its service; a second BKPSDM user
approves it with the admin action; approved versions are read-only and export as YAML. Runs
and results are read-only here (the /tpp/ pages start and accept runs)."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from tepat.admin_readonly import ReadOnlyAdmin
from tepat.audit.attempts import upload_refused_note
from tepat.tpp.models import (
    PltAppointment,
    TppAdjustment,
    TppPolicyVersion,
    TppResult,
    TppRun,
    TppSubmission,
)
from tepat.tpp.services import (
    plt_appointment_save,
    tpp_policy_approve,
    tpp_policy_draft_save,
    tpp_policy_parse,
)

MAX_YAML_BYTES = 256 * 1024
SHOWN_FIELDS = [
    "name", "version", "regulation", "valid_from", "valid_to", "status", "created_by",
    "edited_by", "approved_by", "approved_at", "definition",
]  # fmt: skip


class PolicyForm(forms.ModelForm):  # type: ignore[type-arg]
    yaml_file = forms.FileField(
        label=_("Import from a YAML file"),
        required=False,
        help_text=_("Replaces the text below when given."),
    )

    class Meta:
        model = TppPolicyVersion
        fields = ["definition"]
        widgets = {"definition": forms.Textarea(attrs={"rows": 30, "class": "mono"})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "definition" in self.fields:  # absent when an approved version is shown read-only
            self.fields["definition"].required = False

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload = data.get("yaml_file")
        if upload is not None:
            if upload.size > MAX_YAML_BYTES:
                upload_refused_note("tpp_policy_yaml", "too large", upload.size)
                raise forms.ValidationError(_("The YAML file is too large."))
            try:
                data["definition"] = upload.read().decode("utf-8")
            except UnicodeDecodeError:
                upload_refused_note("tpp_policy_yaml", "not UTF-8 text", upload.size)
                raise forms.ValidationError(_("The file is not UTF-8 text.")) from None
        definition = str(data.get("definition") or "")
        if not definition.strip():
            raise forms.ValidationError(_("Give the policy as YAML text or a file."))
        try:
            tpp_policy_parse(definition)
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from None
        data["definition"] = definition
        self.instance.definition = definition
        return data


@admin.register(TppPolicyVersion)
class TppPolicyVersionAdmin(admin.ModelAdmin[TppPolicyVersion]):
    form = PolicyForm
    list_display = [
        "name", "version", "valid_from", "valid_to", "status", "created_by", "approved_by",
    ]  # fmt: skip
    list_filter = ["status"]
    actions = ["approve", "export_yaml"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None and obj.status != TppPolicyVersion.Status.DRAFT:
            return SHOWN_FIELDS
        return ["yaml_file", "definition"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is not None and obj.status != TppPolicyVersion.Status.DRAFT:
            return SHOWN_FIELDS
        return []

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or obj.status == TppPolicyVersion.Status.DRAFT)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a run names the version it used

    def save_model(
        self, request: HttpRequest, obj: TppPolicyVersion, form: Any, change: bool
    ) -> None:
        try:
            saved = tpp_policy_draft_save(
                actor=request.user, definition=obj.definition, version=obj if change else None
            )
        except ValidationError as exc:
            # The form validated the YAML; what is left is a clash of name and version.
            raise PermissionDenied(" ".join(exc.messages)) from None
        for f in saved._meta.concrete_fields:
            setattr(obj, f.attname, getattr(saved, f.attname))

    @admin.action(description=_("Approve (four eyes: not by its author)"))
    def approve(self, request: HttpRequest, queryset: QuerySet[TppPolicyVersion]) -> None:
        for version in queryset:
            try:
                tpp_policy_approve(actor=request.user, version=version)
            except (ValidationError, PermissionDenied) as exc:
                text = " ".join(getattr(exc, "messages", [str(exc)]))
                self.message_user(request, f"{version}: {text}", messages.ERROR)
            else:
                self.message_user(request, f"{version}: {_('approved')}", messages.SUCCESS)

    @admin.action(description=_("Export as YAML"))
    def export_yaml(
        self, request: HttpRequest, queryset: QuerySet[TppPolicyVersion]
    ) -> HttpResponse:
        versions = list(queryset.order_by("valid_from"))
        body = "\n---\n".join(v.definition.rstrip("\n") + "\n" for v in versions)
        name = versions[0].name if len(versions) == 1 else "tpp_policies"
        response = HttpResponse(body, content_type="application/yaml; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.yaml"'
        return response


@admin.register(PltAppointment)
class PltAppointmentAdmin(admin.ModelAdmin[PltAppointment]):
    list_display = ["employee", "jabatan", "kelas_jabatan", "first_day", "last_day", "decree"]
    raw_id_fields = ["employee"]
    search_fields = ["employee__nip", "employee__name", "jabatan"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # end it with a last day instead

    def save_model(
        self, request: HttpRequest, obj: PltAppointment, form: Any, change: bool
    ) -> None:
        plt_appointment_save(actor=request.user, appointment=obj)


@admin.register(TppRun)
class TppRunAdmin(ReadOnlyAdmin):
    list_display = ["year", "month", "status", "policy", "progress_done", "error_count"]
    list_filter = ["status", "year"]


@admin.register(TppResult)
class TppResultAdmin(ReadOnlyAdmin):
    list_display = ["run", "employee", "opd", "gross", "net", "policy_version", "rules_version"]
    list_filter = ["run__year", "run__month", "run__status"]
    search_fields = ["employee__nip", "employee__name"]
    list_select_related = ["run", "employee", "opd"]


@admin.register(TppSubmission)
class TppSubmissionAdmin(ReadOnlyAdmin):
    list_display = ["opd", "year", "month", "status", "run", "locked_at", "exported_at"]
    list_filter = ["status", "year", "month"]
    list_select_related = ["opd", "run"]


@admin.register(TppAdjustment)
class TppAdjustmentAdmin(ReadOnlyAdmin):
    list_display = [
        "employee", "opd", "source_year", "source_month", "target_year", "target_month", "amount",
    ]  # fmt: skip
    list_filter = ["target_year", "target_month"]
    search_fields = ["employee__nip", "employee__name"]
    list_select_related = ["employee", "opd"]
