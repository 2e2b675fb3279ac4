"""Digi-weetjes: the production-and-mailing pipeline of Werkkracht10's e-inclusie newsletter."""

from __future__ import annotations

__version__ = "0.1.0"
