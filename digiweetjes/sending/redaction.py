"""Removing configured secrets from text that may reach a log, the ledger or a person."""

from __future__ import annotations

from digiweetjes.config import Secret, Settings


class Redactor:
    """Replaces every configured secret (provider keys, the signing key) by ``[redacted]``."""

    def __init__(self, settings: Settings) -> None:
        values = [v.reveal() for v in settings.provider_options.values()
                  if isinstance(v, Secret)]
        values.append(settings.secret_key.reveal())
        # Longest first, so a secret that contains another is replaced whole.
        self._values = sorted({v for v in values if len(v) >= 4}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for value in self._values:
            text = text.replace(value, "[redacted]")
        return text
