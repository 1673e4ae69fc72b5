from django.urls import path

from tepat.org import views

app_name = "org"
urlpatterns = [
    path("pegawai/", views.employee_list, name="employee_list"),
    path("pegawai/<int:employee_id>/", views.employee_detail, name="employee_detail"),
    path("lokasi/", views.site_list, name="site_list"),
    path("lokasi/<int:site_id>/", views.site_detail, name="site_detail"),
]
