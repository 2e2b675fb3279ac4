"""What the fake provider does wrong, and how slowly: the ``Faults`` it is set up with."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from typing import Any

FAULT_KINDS = ("ok", "5xx", "429", "timeout_before", "timeout_after", "drop_before",
               "drop_after")


@dataclass
class Faults:
    """What the fake does wrong, and how slowly. Rates are probabilities per API request."""

    seed: int | None = None
    latency_ms: float = 0.0
    error_5xx_rate: float = 0.0
    rate_limit_rate: float = 0.0
    retry_after_s: float = 1.0
    #: Hang (then close without answering) before recording / after recording.
    timeout_before_rate: float = 0.0
    timeout_after_rate: float = 0.0
    hang_s: float = 30.0
    #: Close the connection without answering, before / after recording.
    drop_before_rate: float = 0.0
    drop_after_rate: float = 0.0
    #: Recipients whose address matches this regex are rejected (per message where the
    #: provider reports per message, else the whole request).
    reject_pattern: str | None = None
    #: Credentials accepted (the provider's key/token, Mailjet ``public:private``); None: any.
    accepted_keys: list[str] | None = None
    #: Fault kinds applied to the next API requests in order, before any rate is drawn.
    script: list[str] = field(default_factory=list)
    #: Render each delivery as the recipient would read it, and keep it in ``/_fake/messages``.
    keep_bodies: bool = False
    #: The provider's rate limit, modelled (``rate_window``): 429 past this many a second.
    requests_per_second: float | None = None

    def update(self, changes: dict[str, Any]) -> None:
        names = {f.name for f in fields(self)}
        unknown = set(changes) - names
        if unknown:
            raise ValueError(f"unknown fault settings: {', '.join(sorted(unknown))}")
        for kind in changes.get("script") or []:
            if kind not in FAULT_KINDS:
                raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(FAULT_KINDS)}")
        if changes.get("reject_pattern"):
            re.compile(changes["reject_pattern"])
        for name, value in changes.items():
            setattr(self, name, list(value) if name == "script" else value)
