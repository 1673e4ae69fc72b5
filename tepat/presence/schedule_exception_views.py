"""The schedule-exception page: the plans the user may see, a form to add one (the OPD
operator for their OPD's staff, BKPSDM for everyone), and removing one."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tepat.accounts import access
from tepat.accounts.models import AuthedRequest, Role
from tepat.presence import schedule_exceptions, selectors
from tepat.presence.forms import ScheduleExceptionForm


@login_required
@require_http_methods(["GET", "POST"])
def schedule_exception_list(request: AuthedRequest) -> HttpResponse:
    user = request.user
    if user.role not in access.SCHEDULE_PLANNER_ROLES and user.role != Role.AUDITOR:
        raise PermissionDenied(_("Only OPD operators and BKPSDM plan schedule exceptions."))
    employees = access.employees_schedule_plannable_by(user)
    form = None
    if employees.exists():
        choices = schedule_exceptions.shift_choices(timezone.localdate())
        form = ScheduleExceptionForm(
            request.POST or None,
            employees=employees,
            choices=[(c.value, c.label) for c in choices],
        )
        if request.method == "POST" and form.is_valid():
            try:
                schedule_exceptions.schedule_exception_save(
                    actor=user,
                    employee=form.cleaned_data["employee"],
                    day=form.cleaned_data["day"],
                    shift=form.cleaned_data["shift"],
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, _("Schedule exception saved."))
                return redirect("presence_office:schedule_exception_list")
    elif request.method == "POST":
        raise PermissionDenied(_("You may not plan schedules."))
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "presence/schedule_exceptions.html",
        {
            "items": selectors.schedule_exceptions_upcoming(
                access.schedule_exceptions_visible_to(user), timezone.localdate()
            ),
            "form": form,
        },
        status=status,
    )


@login_required
@require_POST
def schedule_exception_remove(request: AuthedRequest, exception_id: int) -> HttpResponse:
    schedule_exceptions.schedule_exception_remove(actor=request.user, exception_id=exception_id)
    messages.success(request, _("Schedule exception removed."))
    return redirect("presence_office:schedule_exception_list")
