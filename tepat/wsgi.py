import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tepat.settings")
django_application = get_wsgi_application()

# A plain phone check-in is answered ahead of Django's request cycle; everything else goes to
# Django unchanged (tepat/presence/checkin_lane.py, CheckinLaneApp).
from tepat.presence.checkin_lane import CheckinLaneApp  # noqa: E402  # needs Django set up

application = CheckinLaneApp(django_application)
