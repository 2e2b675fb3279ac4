"""Delivery references: the id a provider echoes in its webhook events for one delivery.

A reference is 31 lowercase hex characters, set in SQL as the audience is frozen (inside the
``INSERT … SELECT``) and never changed::

    <campaign prefix: 10 random hex> <subscriber id + campaign offset: 9 hex> <row: 12 random hex>

- The row's random part (48 bits from the database's random source) makes a reference
  impossible to derive from a row id or from another reference; the per-campaign random prefix
  (40 bits from ``secrets``) keeps two databases (staging and production, both with a delivery
  17) from ever sharing one, so a webhook pointed at the wrong database matches nothing.
- The middle part only orders the references of one freeze in insertion order, so the unique
  index grows at its end instead of at a random place: a million-row freeze costs about a
  second more, where fully random references cost four (SQLite, two cores). The random
  per-campaign offset keeps it from spelling out the subscriber's id.
- Hex only: it goes into tags and headers (Resend allows ``[A-Za-z0-9_-]`` in tags).
"""

from __future__ import annotations

import re
import secrets

from sqlalchemy import ColumnElement, cast, func, literal, type_coerce
from sqlalchemy.types import BigInteger, String

#: Every reference matches this (tests and webhook parsing rely on it).
REFERENCE_PATTERN = re.compile(r"[0-9a-f]{31}")
PREFIX_HEX = 10
ORDER_HEX = 9
RANDOM_BYTES = 6


def campaign_salt() -> tuple[str, int]:
    """A fresh (prefix, offset) for one campaign's references."""
    return secrets.token_hex(PREFIX_HEX // 2), secrets.randbelow(2**32)


def reference_expression(backend: str, order: ColumnElement[int], prefix: str,
                         offset: int) -> ColumnElement[str]:
    """SQL computing one row's reference from ``order`` (an integer column unique within the
    freeze, ascending in insertion order) and the campaign's ``prefix`` and ``offset``."""
    if len(prefix) != PREFIX_HEX or not re.fullmatch(r"[0-9a-f]+", prefix):
        raise ValueError("a reference prefix is 10 lowercase hex characters")
    shifted = cast(order, BigInteger) + literal(offset, BigInteger)
    if backend == "postgresql":
        middle = func.lpad(func.to_hex(shifted), ORDER_HEX, "0")
        # random() and the clock differ per row; md5 turns them into hex.
        noise = func.substr(func.md5(
            _concat(cast(func.random(), String), cast(func.clock_timestamp(), String))),
            1, RANDOM_BYTES * 2)
    else:
        middle = func.printf(f"%0{ORDER_HEX}x", shifted)
        noise = func.lower(func.hex(func.randomblob(RANDOM_BYTES)))
    return type_coerce(_concat(literal(prefix, String), middle, noise), String)


def _concat(*parts: ColumnElement[str]) -> ColumnElement[str]:
    joined = parts[0]
    for part in parts[1:]:
        joined = joined.op("||")(part)
    return joined
