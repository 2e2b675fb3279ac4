"""What the mail providers report back: bounces, complaints and unsubscribes, applied once.

No HTTP here: the web app's webhooks (``digiweetjes.web.webhooks``) check a request's
signature and parse each provider's payload into ``ProviderEvent`` values; ``apply_events``
stores them and applies them to the list in the caller's transaction.

- ``events``: ``ProviderEvent``, ``Outcome``, ``FeedbackReport``;
- ``apply``: ``apply_events``, the one door for provider feedback;
- ``store``: the ``webhook_events`` rows (claimed once), deliveries and subscribers by batch.
"""

from __future__ import annotations

from digiweetjes.feedback.apply import apply_events
from digiweetjes.feedback.events import FeedbackReport, Outcome, ProviderEvent

__all__ = ["FeedbackReport", "Outcome", "ProviderEvent", "apply_events"]
