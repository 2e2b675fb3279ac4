"""Import files kept between the dry run and the import, so the file imported is the file checked.

An admin uploads a CSV once: the dry run reads it from here, and "Importeren" names it by a
random id instead of uploading it again (a second upload could be another file, or the same
one saved again from Excel in between). Each upload lives in its own folder under the store's
directory, readable by this process's user only (it holds personal data), for ``LIFETIME``:
an import after that asks for the file again, and every new upload removes expired ones.

The store is a folder on this machine: behind a load balancer with several machines, the dry
run and the import must reach the same one (sticky sessions), or the import asks to upload the
file again. It never reads the real clock: ``clock`` comes from the web context.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from digiweetjes.clock import Clock

LIFETIME = timedelta(minutes=30)
#: Where under ``Settings.root`` the uploads are kept (git-ignored).
DIRECTORY = "imports"
FALLBACK_NAME = "import.csv"
NAME_MAX = 80
_ID = re.compile(r"[A-Za-z0-9_-]{32}")
_UNSAFE = re.compile(r"[^A-Za-z0-9 ._()-]+")
_META = "upload.json"
_FILE_DIR = "bestand"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Upload:
    """One uploaded file and what the dry run must import it with."""

    id: str
    path: Path
    file_name: str
    consent_source: str | None
    user_id: int
    uploaded_at: datetime
    size: int
    sha256: str


def safe_file_name(name: str | None) -> str:
    """The uploaded file's own name, as the report's lines show it (``leden.csv:12: ...``):
    its last path part, in plain characters, never empty, hidden or a path."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    folded = unicodedata.normalize("NFKD", base)
    plain = "".join(ch for ch in folded if not unicodedata.combining(ch))
    cleaned = _UNSAFE.sub("_", plain).strip(" ._")[:NAME_MAX].strip(" ._")
    return cleaned or FALLBACK_NAME


class UploadStore:
    """The uploads of one directory; see the module docstring."""

    def __init__(self, directory: Path, clock: Clock, lifetime: timedelta = LIFETIME) -> None:
        self.directory = directory
        self.clock = clock
        self.lifetime = lifetime

    def save(self, source: BinaryIO, *, file_name: str | None, consent_source: str | None,
             user_id: int) -> Upload:
        """Keep ``source`` (read to its end) as a new upload; expired ones are removed first."""
        self.purge()
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        upload_id = secrets.token_urlsafe(24)
        folder = self.directory / upload_id
        (folder / _FILE_DIR).mkdir(mode=0o700, parents=True)
        name = safe_file_name(file_name)
        path = folder / _FILE_DIR / name
        digest = hashlib.sha256()
        size = 0
        try:
            with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
                for chunk in iter(lambda: source.read(_CHUNK), b""):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
            upload = Upload(upload_id, path, name, consent_source, user_id, self.clock.now(),
                            size, digest.hexdigest())
            meta = {"file_name": name, "consent_source": consent_source, "user_id": user_id,
                    "uploaded_at": upload.uploaded_at.isoformat(), "size": size,
                    "sha256": upload.sha256}
            with open(os.open(folder / _META, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600),
                      "w", encoding="utf-8") as out:
                json.dump(meta, out)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return upload

    def get(self, upload_id: str, *, user_id: int) -> Upload | None:
        """The upload ``upload_id`` of this admin, or None when unknown, expired or another's."""
        upload = self._read(upload_id)
        if upload is None or upload.user_id != user_id or self._expired(upload):
            return None
        return upload

    def discard(self, upload_id: str) -> None:
        """Remove an upload (after its import); unknown ids are ignored."""
        if _ID.fullmatch(upload_id):
            shutil.rmtree(self.directory / upload_id, ignore_errors=True)

    def purge(self) -> int:
        """Remove every expired upload (and a folder left without its description by a crash
        while saving, once it is as old as an upload may be); returns how many."""
        if not self.directory.is_dir():
            return 0
        removed = 0
        for folder in self.directory.iterdir():
            if not _ID.fullmatch(folder.name) or not folder.is_dir():
                continue
            upload = self._read(folder.name)
            if upload is None:
                stale = self.clock.now().timestamp() - folder.stat().st_mtime
                if stale <= self.lifetime.total_seconds():
                    continue
            elif not self._expired(upload):
                continue
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
        return removed

    def _expired(self, upload: Upload) -> bool:
        return self.clock.now() - upload.uploaded_at > self.lifetime

    def _read(self, upload_id: str) -> Upload | None:
        if not _ID.fullmatch(upload_id):
            return None
        folder = self.directory / upload_id
        try:
            meta = json.loads((folder / _META).read_text(encoding="utf-8"))
            name = str(meta["file_name"])
            path = folder / _FILE_DIR / name
            if name != safe_file_name(name) or not path.is_file():
                return None
            return Upload(upload_id, path, name, meta["consent_source"], int(meta["user_id"]),
                          datetime.fromisoformat(meta["uploaded_at"]), int(meta["size"]),
                          str(meta["sha256"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None
