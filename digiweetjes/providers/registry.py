"""Provider name → factory; the entry points pick the provider named in the settings."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from digiweetjes.clock import Clock
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
from digiweetjes.suggest import did_you_mean

#: A factory gets the settings and an optional httpx transport (tests: httpx.MockTransport).
ProviderFactory = Callable[[Settings, "httpx.BaseTransport | None"], Provider]


#: The HTTP adapters, which read their credentials from settings.provider_options.
HTTP_PROVIDERS: dict[str, ProviderFactory] = {
    "brevo": BrevoProvider.from_settings,
    "postmark": PostmarkProvider.from_settings,
    "sendgrid": SendGridProvider.from_settings,
    "mailgun": MailgunProvider.from_settings,
    "mailjet": MailjetProvider.from_settings,
    "resend": ResendProvider.from_settings,
}


def get_provider(settings: Settings, clock: Clock, *,
                 transport: httpx.BaseTransport | None = None) -> Provider:
    """The provider named by ``settings.provider``; ConfigError naming the allowed values.

    ``clock`` dates the outbox's messages (the HTTP providers date their own).
    """
    if settings.provider == OutboxProvider.name:
        return OutboxProvider(settings.outbox_dir, clock=clock)
    factory = HTTP_PROVIDERS.get(settings.provider)
    if factory is None:
        raise ConfigError(
            f"onbekende maildienst {settings.provider!r} (DIGIWEETJES_PROVIDER)"
            f"{did_you_mean(settings.provider, [OutboxProvider.name, *HTTP_PROVIDERS])}; "
            f"kies uit: {', '.join(sorted([OutboxProvider.name, *HTTP_PROVIDERS]))}"
        )
    return factory(settings, transport)
