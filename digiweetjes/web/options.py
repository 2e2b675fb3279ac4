"""How the web app behaves: the ``DIGIWEETJES_WEB_*`` and ``DIGIWEETJES_WEBHOOK_*`` settings.

Read in ``config.py`` (the only place that reads the environment); the web app gets them as
``Settings.web``. Webhook secrets are ``Secret`` objects: they never show in a log or a page.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from digiweetjes.errors import ConfigError
from digiweetjes.secret import Secret

#: ``DIGIWEETJES_WEB_*`` / ``DIGIWEETJES_WEBHOOK_*`` number → (``WebOptions`` field, help).
#: Each must be a positive number; ``0`` is allowed where the help says what it means.
WEB_VARIABLES: dict[str, tuple[str, str]] = {
    "DIGIWEETJES_WEB_SIGNUPS_PER_IP_PER_HOUR": (
        "signups_per_ip_per_hour", "sign-up form posts one IP address may make an hour "
                                   "(0: no limit, for load tests only)"),
    "DIGIWEETJES_WEB_REQUESTS_PER_IP_PER_MINUTE": (
        "requests_per_ip_per_minute", "requests to the public pages one IP address may make a "
                                      "minute (0: no limit, for load tests only)"),
    "DIGIWEETJES_WEB_MAX_FORM_BYTES": (
        "max_form_bytes", "largest form body accepted, in bytes"),
    "DIGIWEETJES_WEB_ADMIN_IDLE_MINUTES": (
        "admin_idle_minutes", "minutes without a request after which an admin page session "
                              "ends (a new login is needed)"),
    "DIGIWEETJES_WEBHOOK_MAX_BYTES": (
        "webhook_max_bytes", "largest webhook body accepted, in bytes"),
    "DIGIWEETJES_WEBHOOK_MAX_AGE_SECONDS": (
        "webhook_max_age_seconds", "how old a signed webhook's timestamp may be before it is "
                                   "refused as a replay"),
    "DIGIWEETJES_WEBHOOK_SOFT_BOUNCE_LIMIT": (
        "soft_bounce_limit", "soft bounces (on different mails) after which an address is "
                             "treated as bounced"),
}
ZERO_ALLOWED = frozenset({"DIGIWEETJES_WEB_SIGNUPS_PER_IP_PER_HOUR",
                          "DIGIWEETJES_WEB_REQUESTS_PER_IP_PER_MINUTE"})

#: Secret per provider webhook: variable → ``WebhookSecrets`` field.
WEBHOOK_SECRET_VARIABLES: dict[str, str] = {
    # SendGrid signs with ECDSA; this is the public verification key it shows (base64 DER).
    "DIGIWEETJES_WEBHOOK_SENDGRID_PUBLIC_KEY": "sendgrid_public_key",
    "DIGIWEETJES_WEBHOOK_MAILGUN_SIGNING_KEY": "mailgun_signing_key",
    # Resend signs through Svix: the endpoint's "whsec_..." secret.
    "DIGIWEETJES_WEBHOOK_RESEND_SECRET": "resend_secret",
}


@dataclass(frozen=True)
class WebhookSecrets:
    """Per-provider verification material (``config.Secret`` values, empty when unset).

    Brevo, Postmark and Mailjet do not sign their webhooks: they are checked against
    ``Settings.webhook_secret`` (``DIGIWEETJES_WEBHOOK_SECRET``), given as the password of HTTP
    basic auth or as the ``token`` query parameter of the webhook URL.
    """

    sendgrid_public_key: Secret = field(default_factory=lambda: Secret(""))
    mailgun_signing_key: Secret = field(default_factory=lambda: Secret(""))
    resend_secret: Secret = field(default_factory=lambda: Secret(""))


@dataclass(frozen=True)
class WebOptions:
    """The web app's settings (``Settings.web``)."""

    signups_per_ip_per_hour: float = 20
    requests_per_ip_per_minute: float = 120
    max_form_bytes: float = 16_384
    admin_idle_minutes: float = 30
    webhook_max_bytes: float = 5_000_000
    webhook_max_age_seconds: float = 600
    soft_bounce_limit: float = 3
    #: Verification material of the signed webhooks.
    webhooks: WebhookSecrets = field(default_factory=WebhookSecrets)


def web_options(environ: Mapping[str, str]) -> WebOptions:
    """``WebOptions`` from the environment; ConfigError naming the variable if malformed."""
    values: dict[str, object] = {}
    for name, (option, _help) in WEB_VARIABLES.items():
        raw = environ.get(name, "").strip()
        if not raw:
            continue
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        low_ok = value >= 0 if name in ZERO_ALLOWED else value > 0
        if not math.isfinite(value) or not low_ok or value > 1_000_000_000:
            shown = raw if len(raw) <= 40 else raw[:40] + "…"
            raise ConfigError(f"{name} moet een positief getal zijn (nu: {shown!r}); laat de "
                              "variabele weg voor de standaardwaarde")
        values[option] = value
    secrets = {option: Secret(environ.get(name, "").strip())
               for name, option in WEBHOOK_SECRET_VARIABLES.items()}
    return WebOptions(webhooks=WebhookSecrets(**secrets), **values)  # type: ignore[arg-type]
