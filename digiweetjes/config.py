"""Settings, loaded once at the entry points from the environment (``DIGIWEETJES_*``).

Domain code receives a ``Settings`` object; only ``Settings.from_env`` reads the environment.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from digiweetjes.errors import ConfigError
from digiweetjes.files import write_atomically
from digiweetjes.scheduling.options import ScheduleOptions, schedule_options
from digiweetjes.secret import Secret
from digiweetjes.sending.options import SendOptions
from digiweetjes.web.options import WebOptions, web_options

#: The repository root: defaults for issues/, templates/, site/, outbox/ and subscribers.db.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
LOCAL_SECRET_FILE = ".digiweetjes-secret"
#: The region's time zone: the default of ``Settings.timezone``, and the zone of the dates and
#: times editors write in drafts (read without settings, so always this one).
#: The editors' project-status data, in the issues folder.
PROJECTS_FILE = "projects.yaml"
TIMEZONE = "Europe/Brussels"
BRUSSELS = ZoneInfo(TIMEZONE)

#: ``DIGIWEETJES_SEND_*`` → (``SendOptions`` field, type, help); the defaults are
#: ``SendOptions``'s. Each must be a positive number (the request rate may be 0: no limit);
#: the CLI's --concurrency/--processes win.
SEND_VARIABLES: dict[str, tuple[str, type, str]] = {
    "DIGIWEETJES_SEND_CONCURRENCY": ("concurrency", int, "requests in flight per process"),
    "DIGIWEETJES_SEND_BATCH_SIZE": (
        "batch_size", int, "recipients a request (default: the provider's maximum)"),
    "DIGIWEETJES_SEND_REQUESTS_PER_SECOND": (
        "requests_per_second", float,
        "ceiling on provider requests a second, all processes together (default: the "
        "provider's documented rate; 0: no limit)"),
    "DIGIWEETJES_SEND_MESSAGES_PER_HOUR": (
        "messages_per_hour", int, "ceiling on messages an hour (the provider plan's quota)"),
    "DIGIWEETJES_SEND_BRAKE_AFTER": (
        "brake_after", int, "consecutive failed requests after which the campaign pauses"),
    "DIGIWEETJES_SEND_MAX_ATTEMPTS": (
        "max_attempts", int, "attempts per batch before its deliveries count as failed"),
    "DIGIWEETJES_SEND_PROCESSES": (
        "processes", int, "sending processes, each with its own connections"),
    "DIGIWEETJES_SEND_RATE_LIMITED_SECONDS": (
        "rate_limited_seconds", float,
        "seconds of nothing but 429 answers before the campaign pauses"),
    "DIGIWEETJES_SEND_DATABASE_ATTEMPTS": (
        "database_attempts", int, "database errors in a row after which the send stops"),
    "DIGIWEETJES_SEND_STALL_SECONDS": (
        "stall_seconds", float, "seconds without progress on due work before the send pauses"),
    "DIGIWEETJES_SEND_RECONCILE_SETTLE_SECONDS": (
        "reconcile_settle_seconds", float,
        "seconds an uncertain delivery waits before 'not found at the provider' means resend"),
}


@dataclass(frozen=True)
class Settings:
    """Everything configurable. Paths are absolute."""

    root: Path = PROJECT_ROOT
    issues_dir: Path = PROJECT_ROOT / "issues"
    templates_dir: Path = PROJECT_ROOT / "templates"
    site_dir: Path = PROJECT_ROOT / "site"
    outbox_dir: Path = PROJECT_ROOT / "outbox"
    database_url: str = f"sqlite:///{PROJECT_ROOT / 'subscribers.db'}"
    # Public address of the web app: confirm/unsubscribe/preferences links and the web archive.
    base_url: str = "https://digiweetjes.werkkracht10.be"
    sender_email: str = "digiweetjes@werkkracht10.be"
    sender_name: str = "Werkkracht10 Digi-weetjes"
    reply_to: str = "info@werkkracht10.be"
    # The sender's postal address in every newsletter's footer (anti-spam rules ask for one).
    postal_address: str = "Werkkracht10, Brugge"
    unsubscribe_mailto: str = "uitschrijven@werkkracht10.be"
    privacy_notice_version: str = "2026-01"
    secret_key: Secret = field(default_factory=lambda: Secret(""))
    provider: str = "outbox"
    # Provider credentials and options, e.g. {"api_key": Secret(...), "domain": "..."}.
    provider_options: dict[str, object] = field(default_factory=dict)
    webhook_secret: Secret = field(default_factory=lambda: Secret(""))
    timezone: str = TIMEZONE
    # How hard to push the provider (DIGIWEETJES_SEND_*, see SEND_VARIABLES).
    send: SendOptions = field(default_factory=SendOptions)
    # When and how the scheduler runs (DIGIWEETJES_SCHEDULE_*, see scheduling.options).
    schedule: ScheduleOptions = field(default_factory=ScheduleOptions)
    # The web app: rate limits, body sizes, webhook checks (DIGIWEETJES_WEB*, see web.options).
    web: WebOptions = field(default_factory=WebOptions)

    @property
    def projects_path(self) -> Path:
        """The editors' projects.yaml: project-status data and the region."""
        return self.issues_dir / PROJECTS_FILE

    def with_(self, **changes: object) -> Settings:
        """A copy with some fields changed (tests, CLI overrides)."""
        return replace(self, **changes)

    def require_secret_key(self) -> Secret:
        if not self.secret_key:
            raise ConfigError(
                "DIGIWEETJES_SECRET_KEY is niet ingesteld: de links in de mails worden "
                "ermee ondertekend. Zet de variabele in de omgeving (bijvoorbeeld: "
                "export DIGIWEETJES_SECRET_KEY=$(python3 -c 'import secrets; "
                "print(secrets.token_urlsafe(32))'))."
            )
        return self.secret_key

    @classmethod
    def from_env(cls, environ: Mapping[str, str], *,
                 allow_local_secret: bool = False) -> Settings:
        """Build settings from the ``DIGIWEETJES_*`` variables of ``environ`` (the entry points
        hand it ``os.environ``; nothing else reads the environment).

        With ``allow_local_secret`` (the demo), a missing secret key is generated once into the
        git-ignored file ``.digiweetjes-secret`` at the project root and reused after.
        """
        env = dict(environ)
        get = env.get
        root = Path(get("DIGIWEETJES_ROOT", str(PROJECT_ROOT))).resolve()

        def path(name: str, default: str) -> Path:
            value = Path(get(name, default))
            return value if value.is_absolute() else (root / value)

        zone = _timezone(get("DIGIWEETJES_TIMEZONE") or cls.timezone)
        secret = get("DIGIWEETJES_SECRET_KEY", "")
        if not secret and allow_local_secret:
            secret = _local_secret(root / LOCAL_SECRET_FILE)
        provider = get("DIGIWEETJES_PROVIDER", "outbox").strip().lower()
        options: dict[str, object] = {}
        prefix = "DIGIWEETJES_PROVIDER_"
        for key, value in env.items():
            if key.startswith(prefix):
                option = key[len(prefix):].lower()
                options[option] = Secret(value) if _looks_secret(option) else value
        return cls(
            root=root,
            issues_dir=path("DIGIWEETJES_ISSUES_DIR", "issues"),
            templates_dir=path("DIGIWEETJES_TEMPLATES_DIR", "templates"),
            site_dir=path("DIGIWEETJES_SITE_DIR", "site"),
            outbox_dir=path("DIGIWEETJES_OUTBOX_DIR", "outbox"),
            database_url=get("DIGIWEETJES_DATABASE_URL", f"sqlite:///{root / 'subscribers.db'}"),
            base_url=_base_url(get("DIGIWEETJES_BASE_URL", cls.base_url)),
            sender_email=get("DIGIWEETJES_SENDER_EMAIL", cls.sender_email),
            sender_name=get("DIGIWEETJES_SENDER_NAME", cls.sender_name),
            reply_to=get("DIGIWEETJES_REPLY_TO", cls.reply_to),
            postal_address=get("DIGIWEETJES_POSTAL_ADDRESS", cls.postal_address),
            unsubscribe_mailto=get("DIGIWEETJES_UNSUBSCRIBE_MAILTO", cls.unsubscribe_mailto),
            privacy_notice_version=get("DIGIWEETJES_PRIVACY_NOTICE_VERSION",
                                       cls.privacy_notice_version),
            secret_key=Secret(secret),
            provider=provider,
            provider_options=options,
            webhook_secret=Secret(get("DIGIWEETJES_WEBHOOK_SECRET", "")),
            timezone=zone,
            send=send_options(env),
            schedule=schedule_options(env, ZoneInfo(zone)),
            web=web_options(env),
        )


def send_options(environ: Mapping[str, str]) -> SendOptions:
    """``SendOptions`` from the ``DIGIWEETJES_SEND_*`` variables (ConfigError if not positive)."""
    values: dict[str, Any] = {}
    for name, (option, kind, _help) in SEND_VARIABLES.items():
        raw = environ.get(name, "").strip()
        if not raw:
            continue
        try:
            value = kind(raw)
        except ValueError as exc:
            raise ConfigError(f"{name} is geen getal: {_shown(raw)}") from exc
        if value < 0 or (value == 0 and name not in ZERO_ALLOWED):
            bound = "0 of meer" if name in ZERO_ALLOWED else "groter dan 0"
            raise ConfigError(f"{name} moet {bound} zijn (nu: {_shown(raw)})")
        if not math.isfinite(value):
            raise ConfigError(f"{name} is geen eindig getal: {_shown(raw)}")
        if value > MAX_SEND_VALUE:
            # Absurdly large values overflow timers and counters much later, mid-send.
            ceiling = f"{MAX_SEND_VALUE:_}".replace("_", ".")
            raise ConfigError(f"{name} is te groot: {_shown(raw)} (ten hoogste {ceiling}; "
                              "laat de variabele weg voor de standaardwaarde)")
        values[option] = value
    return SendOptions(**values)


#: The DIGIWEETJES_SEND_* values where 0 means something: no request rate at all; no wait
#: before "not found at the provider" sends an uncertain delivery again.
ZERO_ALLOWED = frozenset({"DIGIWEETJES_SEND_REQUESTS_PER_SECOND",
                          "DIGIWEETJES_SEND_RECONCILE_SETTLE_SECONDS"})

#: Ceiling on every DIGIWEETJES_SEND_* value: far above any real use, below every overflow.
MAX_SEND_VALUE = 1_000_000_000


def _shown(raw: str) -> str:
    """A setting's value as it may be quoted in a message (a 5,000-digit value is cut short)."""
    return repr(raw if len(raw) <= 40 else raw[:40] + "…")


def _timezone(name: str) -> str:
    """``DIGIWEETJES_TIMEZONE``, checked against the time zone database."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ConfigError(f"DIGIWEETJES_TIMEZONE: onbekende tijdzone {_shown(name)}; gebruik "
                          f"een naam als {TIMEZONE}") from exc
    return name


def _base_url(value: str) -> str:
    """``DIGIWEETJES_BASE_URL`` without its trailing slash; an http(s) address with a host."""
    url = value.strip().rstrip("/")
    try:
        parts = urlsplit(url)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # e.g. an unbalanced [ in the host
        valid = False
    if not valid or url != value.rstrip("/") or any(c.isspace() or ord(c) < 32 for c in url):
        raise ConfigError(f"DIGIWEETJES_BASE_URL moet een webadres zijn zoals "
                          f"{Settings.base_url} (nu: {_shown(value)})")
    return url


def _looks_secret(option: str) -> bool:
    return any(word in option for word in ("key", "token", "secret", "password"))


def _local_secret(path: Path) -> str:
    if path.exists():
        try:
            return path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: het lokale geheim kan niet gelezen worden; verwijder "
                              "het bestand (er wordt een nieuw gemaakt) of zet "
                              "DIGIWEETJES_SECRET_KEY") from exc
    value = secrets.token_urlsafe(32)
    # Created with mode 0600 from the start: never readable by others, not even for a moment.
    write_atomically(path, value + "\n", mode=0o600)
    return value
