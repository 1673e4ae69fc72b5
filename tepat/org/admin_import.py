"""The admin page for uploading an import file, with a dry run that only reports.

The upload is held in memory for the request and never written to disk: a custom upload
handler replaces Django's (which spools files over 2.5 MB to a temporary file) and stops
reading past the size cap. Swapping upload handlers must happen before the CSRF check reads
the body, hence the csrf_exempt outer view around a csrf_protect inner one, as the Django
documentation on upload handlers prescribes.
"""

from io import BytesIO
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import InMemoryUploadedFile, UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from tepat.audit.attempts import upload_refused_note
from tepat.org.importing import KINDS, ImportResult, import_file

MAX_UPLOAD_BYTES = 10 * 1024 * 1024

KIND_LABELS = {
    "opd": "OPD",
    "unit": "Unit kerja",
    "site": "Lokasi kerja",
    "employee": "Pegawai",
}
KIND_PERMISSIONS = {
    "opd": ("org.add_opd", "org.change_opd"),
    "unit": ("org.add_unit", "org.change_unit"),
    "site": ("org.add_worksite", "org.change_worksite"),
    "employee": ("org.add_employee", "org.change_employee", "org.add_assignment"),
}


def kinds_allowed(user: Any) -> list[str]:
    """The kinds of file this user may import: they need to add and change those rows."""
    return [k for k in KINDS if user.has_perms(KIND_PERMISSIONS[k])]


class MemoryOnlyUploadHandler(FileUploadHandler):
    """Keeps an uploaded file in memory, never on disk, and skips it past ``max_bytes``."""

    def __init__(self, request: HttpRequest, max_bytes: int | None = None) -> None:
        super().__init__(request)
        self.max_bytes = max_bytes or MAX_UPLOAD_BYTES
        self.too_large = False
        self.buffer = BytesIO()

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.buffer = BytesIO()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        if start + len(raw_data) > self.max_bytes:
            self.too_large = True
            raise SkipFile()
        self.buffer.write(raw_data)

    def file_complete(self, file_size: int) -> UploadedFile[bytes]:
        self.buffer.seek(0)
        return InMemoryUploadedFile(
            file=self.buffer,
            field_name=self.field_name,
            name=self.file_name,
            content_type=self.content_type,
            size=file_size,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label="Jenis data")
    file = forms.FileField(
        label="Berkas",
        help_text="CSV (UTF-8, pemisah koma atau titik koma) atau XLSX; maks. 10 MB.",
    )
    dry_run = forms.BooleanField(
        label="Uji coba saja (periksa semua baris, jangan simpan)", required=False, initial=True
    )

    def __init__(self, *args: Any, kinds: list[str], too_large: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.too_large = too_large
        kind_field = self.fields["kind"]
        assert isinstance(kind_field, forms.ChoiceField)
        kind_field.choices = [(k, KIND_LABELS[k]) for k in kinds]

    def clean_file(self) -> UploadedFile[bytes]:
        upload: UploadedFile[bytes] | None = self.cleaned_data.get("file")
        if upload is None:
            raise forms.ValidationError("Pilih berkas yang akan diimpor.")
        if (upload.size or 0) > MAX_UPLOAD_BYTES:
            upload_refused_note("org_import", _too_large_message(), upload.size)
            raise forms.ValidationError(_too_large_message())
        name = (upload.name or "").lower()
        if not name.endswith((".csv", ".xlsx")):
            message = "Jenis berkas tidak didukung: gunakan .csv atau .xlsx."
            upload_refused_note("org_import", message, upload.size)
            raise forms.ValidationError(message)
        return upload

    def full_clean(self) -> None:
        super().full_clean()
        if self.too_large:
            # The handler skipped the file, so the field reads as missing: say why.
            self.errors.pop("file", None)
            self.add_error("file", _too_large_message())
            upload_refused_note("org_import", _too_large_message())


def _too_large_message() -> str:
    return f"Berkas lebih dari {MAX_UPLOAD_BYTES // (1024 * 1024)} MB."


@csrf_exempt
def import_view(request: HttpRequest) -> HttpResponse:
    """Upload form and report. Wire it with ``admin.site.admin_view(import_view)``."""
    kinds = kinds_allowed(request.user)
    if not kinds:
        raise PermissionDenied
    handler = MemoryOnlyUploadHandler(request)
    request.upload_handlers = [handler]
    return _import_page(request, kinds, handler)


@csrf_protect
def _import_page(
    request: HttpRequest, kinds: list[str], handler: MemoryOnlyUploadHandler
) -> HttpResponse:
    result: ImportResult | None = None
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES, kinds=kinds, too_large=handler.too_large)
        if form.is_valid():
            kind = form.cleaned_data["kind"]
            if not request.user.has_perms(KIND_PERMISSIONS[kind]):
                raise PermissionDenied
            upload = form.cleaned_data["file"]
            result = import_file(
                kind,
                upload.read(),
                filename=upload.name,
                actor=request.user,
                dry_run=form.cleaned_data["dry_run"],
            )
    else:
        form = ImportForm(kinds=kinds)
    context = {
        **admin.site.each_context(request),
        "title": "Impor data organisasi",
        "form": form,
        "result": result,
        "kind_label": KIND_LABELS.get(result.kind, "") if result else "",
        "max_upload_mb": MAX_UPLOAD_BYTES // (1024 * 1024),
    }
    return render(request, "admin/org/import.html", context)
