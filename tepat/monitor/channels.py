"""How a notification reaches a person: a small registry of channels.

A channel is anything with a ``name`` and a ``deliver(notification)`` that raises
``ChannelError`` when the message did not go out. Tepat ships two: ``in_app`` (the stored row
is the inbox at /pantau/notifikasi/) and ``email``. A WhatsApp or SMS gateway is one more
class registered with ``channel_register`` (for example in its app's ``ready()``) and named
in the ``TEPAT_NOTIFY_CHANNELS`` setting; the services that notify never change.
"""

import logging
import smtplib
from typing import TYPE_CHECKING, Protocol

from django.conf import settings
from django.core.mail import send_mail

if TYPE_CHECKING:
    from tepat.monitor.models import Notification

log = logging.getLogger(__name__)

DEFAULT_CHANNELS = ("in_app", "email")


class ChannelError(Exception):
    """The message did not go out; ``str()`` says why (kept on the row, retried next run)."""


class Channel(Protocol):
    name: str

    def deliver(self, notification: "Notification") -> None: ...


_registry: dict[str, Channel] = {}


def channel_register(channel: Channel) -> Channel:
    _registry[channel.name] = channel
    return channel


def channel_get(name: str) -> Channel | None:
    return _registry.get(name)


def channels_enabled() -> list[Channel]:
    """The channels named in ``TEPAT_NOTIFY_CHANNELS``, in that order; an unknown name is
    logged and skipped rather than stopping every other notification."""
    found: list[Channel] = []
    for name in getattr(settings, "TEPAT_NOTIFY_CHANNELS", DEFAULT_CHANNELS):
        channel = _registry.get(name)
        if channel is None:
            log.warning("notification channel %r is not registered", name)
            continue
        found.append(channel)
    return found


class InAppChannel:
    """The notification row itself is the message: shown in the recipient's inbox."""

    name = "in_app"

    def deliver(self, notification: "Notification") -> None:
        return None


class EmailChannel:
    """Django's mail backend (``EMAIL_*`` settings); the recipient's account address."""

    name = "email"

    def deliver(self, notification: "Notification") -> None:
        address = notification.recipient.email
        if not address:
            raise ChannelError("no email address on the account")
        try:
            send_mail(notification.subject, notification.body, None, [address])
        except (smtplib.SMTPException, OSError) as exc:
            raise ChannelError(f"mail not sent: {exc.__class__.__name__}") from None


channel_register(InAppChannel())
channel_register(EmailChannel())
