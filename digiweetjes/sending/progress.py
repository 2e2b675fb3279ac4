"""How a send reports its progress to whoever watches (the CLI's bar, a web page, nobody)."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """Recipients done of the audience; called from several threads at once."""

    def start(self, *, total: int, done: int) -> None:
        """The send begins: ``done`` of ``total`` were finished by earlier runs."""
        ...

    def advance(self, amount: int, *, sent: int = 0) -> None:
        """``amount`` more recipients are finished (``sent`` of them sent)."""
        ...

    def update(self, done: int) -> None:
        """Set how many are done (sending processes report through the ledger)."""
        ...

    def stop(self) -> None:
        """The send ended (done, paused or failed)."""
        ...
