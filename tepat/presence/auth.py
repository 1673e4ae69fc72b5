"""Bearer-token authentication for the phone app."""

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer

from tepat.presence.services import token_user


class AppTokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = token_user(token[:200])
        if found is None:
            return None
        user, device = found
        request.user = user
        request.tepat_device = device  # type: ignore[attr-defined]
        return user
