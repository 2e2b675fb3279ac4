"""The providers' OpenAPI documents, read in place from ``../shared/specs`` beside the clone."""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest
import yaml

from digiweetjes.config import PROJECT_ROOT
from tests.conftest import skip_or_fail

SPECS = PROJECT_ROOT.parent / "shared" / "specs"


@cache
def _document(name: str) -> dict[str, Any]:
    return yaml.safe_load((SPECS / name).read_text(encoding="utf-8"))


def openapi_validator(name: str, path: str) -> Any:
    """A jsonschema validator of ``POST path``'s JSON request body ($refs resolved in place)."""
    jsonschema = pytest.importorskip("jsonschema")
    if not (SPECS / name).exists():
        skip_or_fail(f"{SPECS / name} is missing (CI keeps shared/ beside the clone)")
    document = _document(name)
    body = document["paths"][path]["post"]["requestBody"]
    if "$ref" in body:
        body = _resolve(document, body["$ref"])
    schema = dict(body["content"]["application/json"]["schema"])
    # Local refs ("#/components/...") resolve against the root: give the root the components.
    schema["components"] = document["components"]
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def _resolve(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node

