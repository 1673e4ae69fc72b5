"""Forms of the e-Kinerja pages: they parse; the services decide."""

from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from tepat.kinerja.attachments import MAX_BYTES
from tepat.kinerja.models import Rating, SkpResult


class ReportForm(forms.Form):
    day = forms.DateField(
        label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    start_time = forms.TimeField(
        label=_("Start"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    end_time = forms.TimeField(
        label=_("End"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    minutes = forms.IntegerField(
        label=_("Or duration (minutes)"), required=False, min_value=1, max_value=1440
    )
    skp_result = forms.ModelChoiceField(
        label=_("SKP result served"), queryset=SkpResult.objects.none(), required=False
    )
    activity = forms.CharField(label=_("Activity"), max_length=500)
    output = forms.CharField(label=_("Output (what was produced)"), max_length=255, required=False)
    quantity = forms.DecimalField(
        label=_("Quantity"), min_value=Decimal(0), max_digits=10, decimal_places=2, initial=1
    )
    unit = forms.CharField(label=_("Unit"), max_length=64, required=False)
    attachment = forms.FileField(
        label=_("Attachment (PDF, JPEG or PNG, at most 5 MB)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png"}),
    )

    def __init__(self, *args: Any, results: QuerySet[SkpResult], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["skp_result"].queryset = results  # type: ignore[attr-defined]

    def clean_attachment(self) -> bytes | None:
        upload = self.cleaned_data.get("attachment")
        if not upload:
            return None
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(_("The attachment is too large (at most 5 MB)."))
        return bytes(upload.read())


class DecisionForm(forms.Form):
    item = forms.IntegerField(widget=forms.HiddenInput)
    decision = forms.ChoiceField(
        choices=[("approve", "approve"), ("adjust", "adjust"), ("reject", "reject")]
    )
    minutes = forms.IntegerField(required=False, min_value=0, max_value=1440)
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)


class BulkForm(forms.Form):
    """Approve all of one day's, or one person's, pending reports in the queue."""

    day = forms.DateField(required=False)
    employee = forms.IntegerField(required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("day") and not data.get("employee"):
            raise forms.ValidationError(_("Choose a day or a person."))
        return data


class RatingForm(forms.Form):
    employee = forms.IntegerField(widget=forms.HiddenInput)
    hasil_kerja = forms.ChoiceField(label=_("Work results"), choices=Rating.choices)
    perilaku = forms.ChoiceField(label=_("Work behaviour"), choices=Rating.choices)


class ResultForm(forms.Form):
    text = forms.CharField(
        label=_("Planned result"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )
    intervensi = forms.ModelChoiceField(
        label=_("Supervisor's result it serves"), queryset=SkpResult.objects.none(), required=False
    )
    indicator = forms.CharField(label=_("Indicator"), max_length=500)
    target = forms.DecimalField(
        label=_("Yearly target"), min_value=Decimal("0.01"), max_digits=12, decimal_places=2
    )
    unit = forms.CharField(label=_("Unit"), max_length=64)

    def __init__(self, *args: Any, supervisor_results: QuerySet[SkpResult], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["intervensi"].queryset = supervisor_results  # type: ignore[attr-defined]


class SkpDecisionForm(forms.Form):
    item = forms.IntegerField(widget=forms.HiddenInput)
    decision = forms.ChoiceField(choices=[("agree", "agree"), ("return", "return")])
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)
