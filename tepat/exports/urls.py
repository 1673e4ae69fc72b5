from django.urls import path

from tepat.exports import views

app_name = "exports"

urlpatterns = [
    path("", views.export_list, name="list"),
    path("minta/<slug:kind>/", views.export_new, name="new"),
    path("<int:export_id>/berkas/", views.export_download, name="download"),
    path("<int:export_id>/ulang/", views.export_retry, name="retry"),
]
