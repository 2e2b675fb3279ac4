"""Provider name → factory; the entry points pick the provider named in the settings."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from digiweetjes.config import Settings
from digiweetjes.errors import ConfigError
from digiweetjes.providers.base import Provider
from digiweetjes.providers.brevo import BrevoProvider
from digiweetjes.providers.mailgun import MailgunProvider
from digiweetjes.providers.mailjet import MailjetProvider
from digiweetjes.providers.outbox import OutboxProvider
from digiweetjes.providers.postmark import PostmarkProvider
from digiweetjes.providers.resend import ResendProvider
from digiweetjes.providers.sendgrid import SendGridProvider

#: A factory gets the settings and an optional httpx transport (tests: httpx.MockTransport).
ProviderFactory = Callable[[Settings, "httpx.BaseTransport | None"], Provider]


def _outbox(settings: Settings, transport: httpx.BaseTransport | None) -> Provider:
    return OutboxProvider(settings.outbox_dir)


PROVIDERS: dict[str, ProviderFactory] = {
    "outbox": _outbox,
    # The HTTP adapters read their credentials from settings.provider_options.
    "brevo": BrevoProvider.from_settings,
    "postmark": PostmarkProvider.from_settings,
    "sendgrid": SendGridProvider.from_settings,
    "mailgun": MailgunProvider.from_settings,
    "mailjet": MailjetProvider.from_settings,
    "resend": ResendProvider.from_settings,
}


def get_provider(settings: Settings, *, transport: httpx.BaseTransport | None = None) -> Provider:
    """The provider named by ``settings.provider``; ConfigError naming the allowed values."""
    factory = PROVIDERS.get(settings.provider)
    if factory is None:
        raise ConfigError(
            f"unknown mail provider {settings.provider!r} (DIGIWEETJES_PROVIDER); "
            f"allowed: {', '.join(sorted(PROVIDERS))}"
        )
    return factory(settings, transport)
