"""Forms for the absence-request pages: they only parse; the service decides what may be filed."""

from datetime import datetime, time
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tepat.org.models import Employee
from tepat.presence.absences import AbsenceInput
from tepat.rules.leave import CORRECTION, REQUEST_LABELS, LeavePolicy


class DateInput(forms.DateInput):
    input_type = "date"


class TimeInput(forms.TimeInput):
    input_type = "time"


class AbsenceForm(forms.Form):
    employee = forms.ModelChoiceField(queryset=Employee.objects.none(), label=_("Employee"))
    type = forms.ChoiceField(label=_("Request"))
    first_day = forms.DateField(label=_("First day"), widget=DateInput)
    last_day = forms.DateField(
        label=_("Last day"), widget=DateInput, required=False, help_text=_("Empty: one day.")
    )
    start_time = forms.TimeField(label=_("From (part of a day)"), widget=TimeInput, required=False)
    end_time = forms.TimeField(label=_("Until (part of a day)"), widget=TimeInput, required=False)
    checkin_kind = forms.ChoiceField(
        label=_("Forgotten punch"),
        required=False,
        choices=[("", "—"), ("in", _("Check-in")), ("out", _("Check-out"))],
    )
    checkin_time = forms.TimeField(
        label=_("Time of the forgotten punch"), widget=TimeInput, required=False
    )
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))
    evidence = forms.FileField(
        label=_("Evidence (PDF, JPEG or PNG)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )

    def __init__(
        self, *args: Any, employees: QuerySet[Employee], policy: LeavePolicy, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        employee_field = self.fields["employee"]
        assert isinstance(employee_field, forms.ModelChoiceField)
        employee_field.queryset = employees.order_by("name")
        if employees.count() == 1:
            employee_field.initial = employees.first()
            employee_field.widget = forms.HiddenInput()
        type_field = self.fields["type"]
        assert isinstance(type_field, forms.ChoiceField)
        type_field.choices = [(t, REQUEST_LABELS[t]) for t in policy.types]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("type") == CORRECTION and not data.get("checkin_time"):
            raise ValidationError(_("Give the time of the forgotten punch."))
        return data

    def to_input(self) -> AbsenceInput:
        data = self.cleaned_data
        first = data["first_day"]
        last = data.get("last_day") or first
        zone = timezone.get_current_timezone()

        def at(moment: time | None) -> datetime | None:
            return None if moment is None else datetime.combine(first, moment, tzinfo=zone)

        return AbsenceInput(
            type=data["type"],
            first_day=first,
            last_day=last,
            reason=data["reason"],
            starts_at=at(data.get("start_time")),
            ends_at=at(data.get("end_time")),
            checkin_kind=data.get("checkin_kind") or "",
            checkin_at=at(data.get("checkin_time")),
        )


class AbsenceDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "approve"), ("reject", "reject")])
    note = forms.CharField(label=_("Note"), max_length=500, required=False)
    ids = forms.TypedMultipleChoiceField(coerce=int, required=False, choices=())

    def __init__(self, *args: Any, ids: list[int] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        ids_field = self.fields["ids"]
        assert isinstance(ids_field, forms.TypedMultipleChoiceField)
        ids_field.choices = [(i, i) for i in ids or []]


class ScheduleExceptionForm(forms.Form):
    """One employee's plan for one day; the shift list is every shift in force today."""

    employee = forms.ModelChoiceField(queryset=Employee.objects.none(), label=_("Employee"))
    day = forms.DateField(label=_("Day"), widget=DateInput)
    shift = forms.ChoiceField(label=_("Plan for the day"))
    reason = forms.CharField(
        label=_("Reason"),
        max_length=255,
        help_text=_("The roster, letter or agreement this comes from."),
    )

    def __init__(
        self, *args: Any, employees: QuerySet[Employee], choices: list[tuple[str, str]], **kw: Any
    ) -> None:
        super().__init__(*args, **kw)
        employee_field = self.fields["employee"]
        assert isinstance(employee_field, forms.ModelChoiceField)
        employee_field.queryset = employees.order_by("name", "nip")
        shift_field = self.fields["shift"]
        assert isinstance(shift_field, forms.ChoiceField)
        shift_field.choices = choices
