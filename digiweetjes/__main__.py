"""``python -m digiweetjes`` runs the CLI."""

from __future__ import annotations

import sys

from digiweetjes.cli import main

sys.exit(main())
