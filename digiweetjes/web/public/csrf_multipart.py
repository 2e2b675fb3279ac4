"""The CSRF token of a multipart form (the admin CSV import), handed to asgi-csrf to check.

asgi-csrf 0.11 (the newest release) finds the token of a multipart body through a
python-multipart argument (``FormParser(FileClass=...)``) that python-multipart 0.0.26 removed
(simonw/asgi-csrf#38; the fix, #39, is not released), so every multipart POST fails inside it.
Going back to python-multipart < 0.0.26 would bring back CVE-2026-40347. Until a fixed
asgi-csrf is out, the guard (``csrf.CsrfGuard``) finds the token here and shows asgi-csrf the
same request with an urlencoded stand-in body holding only that token: asgi-csrf still does
the check (the cookie's signature, the token against the cookie), and the app then gets the
original request. The rule is asgi-csrf's own: the token must come before any file.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.types import Message, Scope

FIELD = b"csrftoken"
MULTIPART = b"multipart/form-data"
#: A token is ~100 bytes; a field named csrftoken that is longer is not one of ours.
TOKEN_MAX = 1024


class MalformedMultipart(ValueError):
    """Not a multipart body (no boundary, broken framing): the guard answers 400, as it does
    when asgi-csrf trips over any other malformed body."""


class _Found(Exception):
    """The token field ended: parsing stops (the file after it is not read here)."""


class _NotFirst(Exception):
    """A file came before the token (or the token field is absurd): no token."""


def is_multipart(scope: Scope) -> bool:
    """Whether the request's body is multipart/form-data."""
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return parse_options_header(value)[0] == MULTIPART
    return False


def multipart_token(content_type: bytes, body: bytes) -> str | None:
    """The ``csrftoken`` field of a multipart ``body`` when it comes before every file, else
    None (asgi-csrf then refuses with 403); MalformedMultipart when it cannot be parsed."""
    boundary = parse_options_header(content_type)[1].get(b"boundary")
    if not boundary:
        raise MalformedMultipart("multipart body without a boundary")
    header_name, header_value = bytearray(), bytearray()
    headers: dict[bytes, bytes] = {}
    value = bytearray()
    current: list[bytes | None] = [None]

    def part_begin() -> None:
        headers.clear()
        current[0] = None

    def header_end() -> None:
        headers[bytes(header_name).strip().lower()] = bytes(header_value).strip()
        header_name.clear()
        header_value.clear()

    def headers_finished() -> None:
        _kind, options = parse_options_header(headers.get(b"content-disposition"))
        if b"filename" in options:
            raise _NotFirst
        current[0] = options.get(b"name")

    def part_data(data: bytes, start: int, end: int) -> None:
        if current[0] == FIELD:
            value.extend(data[start:end])
            if len(value) > TOKEN_MAX:
                raise _NotFirst

    def part_end() -> None:
        if current[0] == FIELD:
            raise _Found

    parser = MultipartParser(boundary, {
        "on_part_begin": part_begin,
        "on_header_field": lambda data, start, end: header_name.extend(data[start:end]),
        "on_header_value": lambda data, start, end: header_value.extend(data[start:end]),
        "on_header_end": header_end,
        "on_headers_finished": headers_finished,
        "on_part_data": part_data,
        "on_part_end": part_end,
    })
    try:
        parser.write(body)
        parser.finalize()
    except _Found:
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return None
    except _NotFirst:
        return None
    except (FormParserError, ValueError) as exc:
        raise MalformedMultipart(str(exc)) from exc
    return None


def stand_in(scope: Scope, token: str | None) -> tuple[Scope, Callable[[], Awaitable[Message]]]:
    """The request asgi-csrf is shown: the same, with an urlencoded body of only the token."""
    body = urlencode({FIELD.decode(): token}).encode() if token is not None else b""
    headers = [(name, value) for name, value in scope.get("headers", [])
               if name not in (b"content-type", b"content-length")]
    headers += [(b"content-type", b"application/x-www-form-urlencoded"),
                (b"content-length", str(len(body)).encode())]

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    return {**scope, "headers": headers}, receive
