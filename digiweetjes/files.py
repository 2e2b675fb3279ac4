"""Writing output files whole or not at all, and saying in Dutch why a file could not be written.

A file is written to a temporary file in the same folder, flushed to disk and renamed over the
target: a full disk or a crash leaves the previous file (or none), never a 0-byte or half file.
A target that is not a regular file (``/dev/stdout``, ``/dev/full``, a FIFO) is written to
directly: renaming over it would replace the device itself.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from digiweetjes.errors import OutputError

#: errno → what it means for a person, in Dutch (anything else: the system's own words).
_REASONS = {
    errno.ENOSPC: "de schijf is vol",
    errno.EDQUOT: "de schijfquota is op",
    errno.EFBIG: "het bestand is te groot",
    errno.EACCES: "geen toelating",
    errno.EPERM: "geen toelating",
    errno.EROFS: "het bestandssysteem is alleen-lezen",
    errno.ENOENT: "het bestand of de map bestaat niet",
    errno.ENOTDIR: "een deel van het pad is geen map",
    errno.EISDIR: "het is een map",
    errno.ENAMETOOLONG: "de naam is te lang",
    errno.EIO: "invoer-/uitvoerfout van de schijf",
}


def os_reason(exc: OSError) -> str:
    """Why an OS call failed, in a few Dutch words (the system's text for rare errors)."""
    return _REASONS.get(exc.errno or 0) or exc.strerror or exc.__class__.__name__


def write_atomically(path: Path, data: str | bytes, *, encoding: str = "utf-8",
                     mode: int | None = None) -> None:
    """Write ``data`` to ``path`` whole or not at all; OutputError (naming the file) if not."""
    payload = data.encode(encoding) if isinstance(data, str) else data
    with open_atomically(path, mode=mode) as handle:
        handle.write(payload)


@contextmanager
def open_atomically(path: Path, *, mode: int | None = None) -> Iterator[BinaryIO]:
    """A binary handle whose content replaces ``path`` only when the block ends without error.

    For output too large to hold in memory (``io.TextIOWrapper`` it for text). A failing disk
    raises OutputError naming ``path``; an error in the block leaves ``path`` as it was.
    """
    path = Path(path)
    try:
        target = Path(os.path.realpath(path))  # through a symlink: replace what it points to
        special = _is_special(target)
        if not special:
            handle_fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp",
                                                    dir=target.parent)
    except OSError as exc:
        raise _output_error(path, exc) from exc
    if special:
        try:
            with target.open("wb") as handle:
                yield handle
        except OSError as exc:
            raise _output_error(path, exc) from exc
        return
    temp = Path(temp_name)
    try:
        with os.fdopen(handle_fd, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        # mkstemp creates 0600: keep that for secrets; otherwise the mode the file had, or the
        # one a new file would get.
        if mode is None:
            mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else 0o666 & ~_umask()
        os.chmod(temp, mode)
        os.replace(temp, target)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise _output_error(path, exc) from exc
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _output_error(path: Path, exc: OSError) -> OutputError:
    return OutputError(f"kan {path} niet schrijven: {os_reason(exc)}; er is niets geschreven "
                       "(maak plaats vrij of kies een andere plek)")


def _is_special(target: Path) -> bool:
    """Whether ``target`` exists and is neither a regular file nor a folder (a device, FIFO)."""
    try:
        return not stat.S_ISREG(target.stat().st_mode) and not target.is_dir()
    except FileNotFoundError:
        return False


def _umask() -> int:
    # os.umask can only be read by setting it; put it straight back.
    current = os.umask(0o022)
    os.umask(current)
    return current
