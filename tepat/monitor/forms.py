"""Forms of the monitor's pages that record the sanction decided: they only parse; the
service decides what may be recorded."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tepat.monitor.models import DisciplineAlert
from tepat.monitor.services import SanctionDecision
from tepat.rules.discipline import SanctionKind


class DateInput(forms.DateInput):
    input_type = "date"


class SanctionForm(forms.Form):
    kind = forms.ChoiceField(label=_("Sanction"))
    decree_number = forms.CharField(label=_("SK number"), max_length=100)
    decided_on = forms.DateField(label=_("Decided on"), widget=DateInput)
    effective_from = forms.DateField(label=_("In effect from (TMT)"), widget=DateInput)
    months = forms.IntegerField(
        label=_("Months"),
        min_value=1,
        max_value=120,
        required=False,
        help_text=_("Empty: as the regulation sets for the sanction."),
    )
    alert = forms.ModelChoiceField(
        label=_("Alert it answers"), queryset=DisciplineAlert.objects.none(), required=False
    )
    note = forms.CharField(label=_("Note"), max_length=2000, required=False, widget=forms.Textarea)

    def __init__(
        self,
        *args: Any,
        kinds: tuple[SanctionKind, ...],
        alerts: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        kind_field: Any = self.fields["kind"]
        kind_field.choices = [(k.code, f"{k.label} ({k.article})") for k in kinds]
        alert_field: Any = self.fields["alert"]
        if alerts is None:
            del self.fields["alert"]
        else:
            alert_field.queryset = alerts
            alert_field.label_from_instance = lambda a: (
                f"{a.crossed_on:%d-%m-%Y} · {a.min_days} hari · {a.sanction}"
            )

    def decision(self) -> SanctionDecision:
        data = self.cleaned_data
        return SanctionDecision(
            kind=data["kind"],
            decree_number=data["decree_number"],
            decided_on=data["decided_on"],
            effective_from=data["effective_from"],
            months=data["months"],
            note=data.get("note", ""),
        )


class SanctionCorrectionForm(SanctionForm):
    annul = forms.BooleanField(
        label=_("Annul: the SK was revoked, nothing replaces it"), required=False
    )
    reason = forms.CharField(label=_("Why is it corrected"), max_length=2000, widget=forms.Textarea)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields.pop("note")
        if self.data.get("annul"):
            for name in ("kind", "decree_number", "decided_on", "effective_from"):
                self.fields[name].required = False
