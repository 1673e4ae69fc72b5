"""Tepat's presence thresholds before BKPSDM records the regency's own (policy data).

Field-realities §2: an accuracy gate of 50–100 m, fresh positions, a plausible speed inside one
regency; a three-day limit for offline check-ins before they need the supervisor.
"""

import datetime

DEFAULT = {
    "valid_from": datetime.date(2020, 1, 1),
    "name": "Kebijakan presensi bawaan Tepat",
    "legal_basis": (
        "Bawaan Tepat (field-realities §2: akurasi 50–100 m, posisi segar, kecepatan wajar); "
        "sesuaikan dengan Perbup presensi kabupaten"
    ),
    "default_radius_m": 100,
    "max_accuracy_m": 100,
    "refuse_accuracy_m": 2000,
    "offline_max_age_hours": 72,
    "clock_skew_max_s": 300,
    "max_speed_kmh": 120,
    "position_max_age_s": 120,
    "future_tolerance_s": 120,
}
