from django.urls import path

from tepat.presence import absence_views, machine_views, schedule_exception_views, views

app_name = "presence"
urlpatterns = [
    path("", views.app_shell, name="app"),
    path("sw.js", views.service_worker, name="service_worker"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
]

# Back-office pages for supervisors, operators and BKPSDM, under /presensi/.
office_urlpatterns = [
    path("tinjauan/", views.review_list, name="review_list"),
    path("perangkat/", views.device_list, name="device_list"),
    path("swafoto/<int:event_id>/", views.selfie_download, name="selfie"),
    path("rekap/", views.recap, name="recap"),
    path("ajuan/", absence_views.absence_list, name="absence_list"),
    path("ajuan/baru/", absence_views.absence_new, name="absence_new"),
    path("ajuan/persetujuan/", absence_views.absence_queue, name="absence_queue"),
    path("ajuan/<int:request_id>/", absence_views.absence_detail, name="absence_detail"),
    path("ajuan/<int:request_id>/bukti/", absence_views.absence_evidence, name="absence_evidence"),
    path(
        "jadwal-khusus/",
        schedule_exception_views.schedule_exception_list,
        name="schedule_exception_list",
    ),
    path(
        "jadwal-khusus/<int:exception_id>/hapus/",
        schedule_exception_views.schedule_exception_remove,
        name="schedule_exception_remove",
    ),
    path("mesin/", machine_views.machine_list, name="machine_list"),
    path("mesin/tanda/", machine_views.machine_flags, name="machine_flags"),
    path("mesin/<int:machine_id>/", machine_views.machine_detail, name="machine_detail"),
    path("mesin/<int:machine_id>/impor/", machine_views.machine_import, name="machine_import"),
]
