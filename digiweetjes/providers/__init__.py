"""Mail providers: how the sending engine hands batches of mail to a mail service.

``base`` holds the provider protocol, the batch and result types and ``Capabilities`` (what a
provider can do, as data). Each HTTP provider has its own module (``brevo``, ``postmark``,
``sendgrid``, ``mailgun``, ``mailjet``, ``resend``) on the shared frame in ``http`` and
``messages``; ``outbox`` writes messages to files instead. ``registry.get_provider(settings)``
picks the one the settings name; it is not re-exported here, because importing the registry
loads httpx and every adapter, and the engine and the ledger only need the types.
"""

from __future__ import annotations

from digiweetjes.providers.base import (
    Batch,
    BatchContent,
    Capabilities,
    Provider,
    Recipient,
    RecipientResult,
)

__all__ = ["Batch", "BatchContent", "Capabilities", "Provider", "Recipient", "RecipientResult"]
