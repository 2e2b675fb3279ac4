"""Where an import file waits between its dry run and its import, and the multipart CSRF token."""

from __future__ import annotations

import io
import stat

import httpx
import pytest

from digiweetjes.web.admin.subscribers.uploads import UploadStore, safe_file_name
from digiweetjes.web.public.csrf_multipart import MalformedMultipart, multipart_token


def test_an_upload_is_kept_privately_for_its_uploader(tmp_path, clock) -> None:
    store = UploadStore(tmp_path / "imports", clock)
    upload = store.save(io.BytesIO(b"E-mailadres\na@example.be\n"), file_name="leden.csv",
                        consent_source="formulier", user_id=7)
    assert upload.path.read_bytes() == b"E-mailadres\na@example.be\n"
    assert upload.path.name == "leden.csv" and upload.size == 25
    assert stat.S_IMODE(upload.path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "imports").stat().st_mode) == 0o700
    again = store.get(upload.id, user_id=7)
    assert again == upload
    assert store.get(upload.id, user_id=8) is None
    assert store.get("../../etc", user_id=7) is None
    store.discard(upload.id)
    assert store.get(upload.id, user_id=7) is None


def test_expired_uploads_are_refused_and_purged(tmp_path, clock) -> None:
    store = UploadStore(tmp_path, clock)
    old = store.save(io.BytesIO(b"x"), file_name="a.csv", consent_source=None, user_id=1)
    clock.advance(minutes=29)
    assert store.get(old.id, user_id=1) is not None
    clock.advance(minutes=2)
    assert store.get(old.id, user_id=1) is None
    fresh = store.save(io.BytesIO(b"y"), file_name="b.csv", consent_source=None, user_id=1)
    assert not (tmp_path / old.id).exists()  # the new upload swept the expired one away
    assert store.get(fresh.id, user_id=1) is not None


def test_file_names_stay_plain_names() -> None:
    assert safe_file_name("../../etc/passwd") == "passwd"
    assert safe_file_name("C:\\Users\\an\\Leden Café.csv") == "Leden Cafe.csv"
    assert safe_file_name("") == "import.csv"
    assert safe_file_name("...") == "import.csv"
    assert safe_file_name(".verborgen.csv") == "verborgen.csv"
    assert safe_file_name("a\x00b;rm -rf.csv") == "a_b_rm -rf.csv"
    assert len(safe_file_name("x" * 300 + ".csv")) <= 80


def _multipart(parts) -> tuple[bytes, bytes]:
    request = httpx.Request("POST", "https://x/", files=parts)
    return request.headers["content-type"].encode(), request.read()


def test_the_token_is_found_before_the_file_only() -> None:
    csv_part = ("bestand", ("leden.csv", b"E-mailadres\n", "text/csv"))
    first = _multipart([("csrftoken", (None, b"abc.def")), csv_part])
    assert multipart_token(*first) == "abc.def"
    after = _multipart([csv_part, ("csrftoken", (None, b"abc.def"))])
    assert multipart_token(*after) is None
    assert multipart_token(*_multipart([csv_part])) is None
    for content_type, body in ((b"multipart/form-data", first[1]),  # no boundary
                               (b"multipart/form-data; boundary=", first[1]),
                               (first[0], b"not multipart at all")):
        with pytest.raises(MalformedMultipart):
            multipart_token(content_type, body)
    huge = _multipart([("csrftoken", (None, b"x" * 5000)), csv_part])
    assert multipart_token(*huge) is None
