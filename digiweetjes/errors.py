"""The whole exception tree of digiweetjes.

Foreign exceptions (YAML, pydantic, SQLAlchemy, httpx, itsdangerous...) are translated once, at
the boundary where they occur, into one of these with ``raise ... from exc``. The CLI turns any
``DigiweetjesError`` into its message and a non-zero exit; the web app into a status code and a
Dutch page. Messages never contain secrets.

    DigiweetjesError
    ├── ConfigError                 settings missing or malformed
    ├── ContentError                a draft or projects.yaml is wrong (file, line, field)
    ├── RenderError                 a template failed to render
    ├── CheckFailed                 the release gate found problems (one line each)
    ├── OutputError                 an output file could not be written (nothing was)
    ├── StorageError                the database cannot be used
    │   └── SchemaOutdatedError     the database is behind the code's migrations
    ├── SubscriberError             a subscriber operation was refused
    │   ├── TokenError              a forged, tampered, expired or wrong-purpose token
    │   ├── SuppressedError         the address is on the suppression list
    │   └── CsvImportError          an import file has rejected rows (all listed)
    ├── ProviderError               a mail provider refused or failed
    │   ├── TransientProviderError  retry later (connect error, 429, 5xx, timeout before send)
    │   │   └── ProviderBlockedError  nothing can be sent until someone fixes it (full disk)
    │   ├── PermanentProviderError  do not retry (validation, auth, invalid recipient)
    │   ├── BatchTooLargeError      refused locally over a byte limit: send in smaller batches
    │   └── UncertainOutcomeError   the request may have been delivered (timeout after send)
    ├── ReleaseError                approving or scheduling an issue was refused
    ├── UserError                   a user account operation was refused (admin pages, CLI)
    │   └── LoginRefused            wrong name or password, or locked out for a while
    ├── WebhookError                a provider's webhook request was refused
    │   ├── WebhookAuthError        no, a wrong or an outdated signature or secret (401)
    │   └── WebhookPayloadError     the body is not the provider's payload (400)
    └── SendingError                the sending engine stopped
        ├── SendingPaused           the brake engaged after consecutive failures
        └── SendingIncomplete       the send ended with failed or uncertain deliveries
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # Only for the annotation: csv_import imports this module.
    from digiweetjes.subscribers.csv_import import ImportReport


class DigiweetjesError(Exception):
    """Base of every error this package raises on purpose."""

    exit_code = 1


class ConfigError(DigiweetjesError):
    """Settings are missing or malformed."""

    exit_code = 78  # EX_CONFIG


class ContentError(DigiweetjesError):
    """A draft or the project data is wrong; the message names file, line and field."""

    exit_code = 65  # EX_DATAERR

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 field: str | None = None) -> None:
        self.path = path
        self.line = line
        self.field = field
        self.reason = message
        super().__init__(self._format())

    def _format(self) -> str:
        where = ""
        if self.path:
            where = self.path + (f":{self.line}" if self.line else "") + ": "
        field = f"{self.field}: " if self.field else ""
        return f"{where}{field}{self.reason}"


class ContentErrors(ContentError):
    """Several content problems found in one pass, one line each."""

    def __init__(self, errors: Iterable[ContentError]) -> None:
        self.errors = list(errors)
        DigiweetjesError.__init__(self, "\n".join(str(e) for e in self.errors))
        first = self.errors[0] if self.errors else None
        self.path = first.path if first else None
        self.line = first.line if first else None
        self.field = first.field if first else None
        self.reason = str(self)


class RenderError(DigiweetjesError):
    """A template failed to render."""


class CheckFailed(DigiweetjesError):
    """The release gate found problems."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class OutputError(DigiweetjesError):
    """An output file could not be written; the message names it, and nothing was written."""

    exit_code = 73  # EX_CANTCREAT


class StorageError(DigiweetjesError):
    """The database cannot be used."""


class SchemaOutdatedError(StorageError):
    """The database is behind the code's migrations."""


class SubscriberError(DigiweetjesError):
    """A subscriber operation was refused."""


class TokenError(SubscriberError):
    """A forged, tampered, expired or wrong-purpose token; ``reason`` says which (the web app
    shows a different Dutch page for each):

    - ``forged``: not signed by us, altered or truncated, or of the wrong purpose;
    - ``expired``: a confirm link past its lifetime, or older than a later unsubscription;
    - ``gone``: the subscription it named was erased or its address changed.
    """

    REASONS = ("forged", "expired", "gone")

    def __init__(self, message: str, *, reason: str = "forged") -> None:
        if reason not in self.REASONS:
            raise ValueError(f"unknown token error reason {reason!r}")
        self.reason = reason
        super().__init__(message)


class SuppressedError(SubscriberError):
    """The address is on the suppression list."""


class CsvImportError(SubscriberError):
    """An import file has rejected rows; nothing was imported; ``report`` lists them, if read."""

    def __init__(self, problems: Iterable[str], *, report: ImportReport | None = None) -> None:
        self.problems = list(problems)
        self.report = report
        super().__init__("\n".join(self.problems))


class ReleaseError(DigiweetjesError):
    """Approving, scheduling or releasing an issue was refused; the message says why (Dutch)."""


class UserError(DigiweetjesError):
    """A user account operation was refused (name taken, short password...); Dutch message."""


class LoginRefused(UserError):
    """A login failed. The message never says whether the name exists; ``locked_minutes`` is
    set when the account or the IP address is locked out (how long still, rounded up)."""

    def __init__(self, message: str, *, locked_minutes: int | None = None) -> None:
        self.locked_minutes = locked_minutes
        super().__init__(message)


class WebhookError(DigiweetjesError):
    """A provider's webhook request was refused; the message says why (for the log, English;
    it never contains a secret)."""


class WebhookAuthError(WebhookError):
    """The request is not proven to come from the provider: no signature or secret, a wrong
    one, a timestamp too old (a replay), or the provider's secret is not configured here."""


class WebhookPayloadError(WebhookError):
    """An authentic request whose body is not the provider's webhook payload."""


class ProviderError(DigiweetjesError):
    """A mail provider refused or failed; ``status_code`` is its HTTP status, if it answered."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        self.status_code = status_code
        super().__init__(message)


class TransientProviderError(ProviderError):
    """Worth retrying; ``retry_after`` is the provider's hint in seconds, if any."""

    def __init__(self, message: str, *, retry_after: float | None = None,
                 status_code: int | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message, status_code=status_code)


class ProviderBlockedError(TransientProviderError):
    """Every message would fail alike until someone fixes the cause (a full or read-only
    outbox disk): the batch goes back to the queue and the send pauses at once."""


class PermanentProviderError(ProviderError):
    """Not worth retrying: the request or recipient is invalid, or access is refused."""


class BatchTooLargeError(ProviderError):
    """The batch's request would exceed one of the provider's documented byte limits, so it
    was not sent; ``fits`` recipients a request would (``providers.limits``)."""

    def __init__(self, message: str, *, fits: int) -> None:
        self.fits = fits
        super().__init__(message)


class UncertainOutcomeError(ProviderError):
    """The request may or may not have been delivered."""


class SendingError(DigiweetjesError):
    """The sending engine stopped."""


class SendingPaused(SendingError):
    """The brake engaged after too many consecutive failures; the issue is paused."""


class SendingIncomplete(SendingError):
    """The send ended, but some deliveries failed or are uncertain (a documented exit code)."""

    exit_code = 3
