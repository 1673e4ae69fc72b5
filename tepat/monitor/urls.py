from django.urls import path

from tepat.monitor import views

app_name = "monitor"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("data/", views.dashboard_data, name="dashboard_data"),
    path("opd/<int:opd_id>/", views.opd_detail, name="opd_detail"),
    path("tren/", views.trends, name="trends"),
    path("antrean/", views.review_overview, name="review_overview"),
    path("disiplin/", views.discipline_list, name="discipline_list"),
    path("disiplin/<int:employee_id>/", views.discipline_detail, name="discipline_detail"),
    path("disiplin/<int:employee_id>/hukuman/", views.sanction_new, name="sanction_new"),
    path("hukuman/<int:sanction_id>/koreksi/", views.sanction_correct, name="sanction_correct"),
    path("peringatan/", views.alert_list, name="alert_list"),
    path("peringatan/<int:alert_id>/", views.alert_detail, name="alert_detail"),
    path("notifikasi/", views.notification_list, name="notification_list"),
    path("laporan/", views.report, name="report"),
]
