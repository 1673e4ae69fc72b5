from django.urls import path

from tepat.presence import views

app_name = "presence"
urlpatterns = [
    path("", views.app_shell, name="app"),
    path("sw.js", views.service_worker, name="service_worker"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
]
