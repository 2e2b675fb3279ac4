"""``POST /webhooks/<provider>``: bounces, complaints and unsubscribes reported by providers.

One module a provider (``sendgrid``, ``mailgun``, ``postmark``, ``mailjet``, ``brevo``,
``resend``) checks that provider's signature or shared secret and reads its payload into
``feedback.ProviderEvent`` values; ``route`` is the endpoint that runs them through
``feedback.apply_events``; ``common`` holds what they share. Every provider is accepted
whichever one sends the newsletter now (events of a previous provider still arrive), each only
when its secret is configured.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Route


def routes() -> list[BaseRoute]:
    """The webhook routes."""
    from digiweetjes.web.webhooks.route import endpoint

    # Every method reaches the endpoint, which answers 405 to all but POST: a GET must not
    # fall through to the archive mounted at "/".
    return [Route("/webhooks/{provider}", endpoint(), methods=ALL_METHODS, name="webhook")]


ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
