"""YAML that remembers where each value stood, and pydantic errors turned into file:line: field.

PyYAML's composed node tree keeps line numbers; pydantic's error locations are paths into the
loaded data. Walking the one with the other gives every error its line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from digiweetjes.errors import ContentError, ContentErrors

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: 10x faster


@dataclass(frozen=True)
class YamlDocument:
    """Loaded data plus its node tree, for line look-ups."""

    data: Any
    node: yaml.Node | None
    path: str
    line_offset: int = 0  # lines before the YAML text in its file (front matter starts at 2)

    def line_of(self, loc: Sequence[int | str]) -> int | None:
        """The 1-based file line of the value at ``loc``, or of its nearest existing parent."""
        node = self.node
        best = node.start_mark.line if node is not None else None
        for key in loc:
            if isinstance(node, yaml.MappingNode):
                match = next((v for k, v in node.value if k.value == str(key)), None)
                if match is None:
                    break
                node = match
            elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
                if not 0 <= key < len(node.value):
                    break
                node = node.value[key]
            else:
                break
            best = node.start_mark.line
        return None if best is None else best + 1 + self.line_offset


def load_yaml(text: str, path: str, *, line_offset: int = 0) -> YamlDocument:
    """Parse YAML safely; a syntax error becomes a ContentError with its line."""
    loader = _Loader(text)
    try:
        # One parse gives both the node tree (for lines) and the data built from it.
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 + line_offset if mark else None
        problem = exc.problem or "invalid YAML"
        raise ContentError(f"invalid YAML: {problem}", path=path, line=line) from exc
    except yaml.YAMLError as exc:
        raise ContentError(f"invalid YAML: {exc}", path=path) from exc
    finally:
        loader.dispose()
    return YamlDocument(data=data, node=node, path=path, line_offset=line_offset)


def format_loc(loc: Sequence[int | str], prefix: str = "") -> str:
    """``("projects", 3, "budget_eur")`` → ``projects[3].budget_eur``."""
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a known field",
    "int_parsing": "must be a number",
    "int_type": "must be a number",
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "int_from_float": "must be a whole number",
    "decimal_parsing": "must be a number",
    "string_type": "must be text",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "list_type": "must be a list",
    "dict_type": "must be a mapping of fields",
    "model_type": "must be a mapping of fields",
    "model_attributes_type": "must be a mapping of fields",
    "date_type": "must be a date (YYYY-MM-DD)",
    "date_parsing": "must be a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "must be a date (YYYY-MM-DD)",
    "date_from_datetime_inexact": "must be a date (YYYY-MM-DD)",
    "datetime_type": "must be a date and time (YYYY-MM-DD HH:MM)",
    "datetime_parsing": "must be a date and time (YYYY-MM-DD HH:MM)",
    "datetime_from_date_parsing": "must be a date and time (YYYY-MM-DD HH:MM)",
}


def validate(model: type[BaseModel], doc: YamlDocument, *, prefix: str = "") -> Any:
    """Validate ``doc.data`` with ``model``; every problem names file, line and field."""
    try:
        return model.model_validate(doc.data if doc.data is not None else {})
    except ValidationError as exc:
        errors = []
        for error in exc.errors(include_url=False):
            loc = tuple(p for p in error["loc"] if not _is_internal(p))
            message = _MESSAGES.get(error["type"])
            if message is None:
                message = str(error["msg"]).removeprefix("Value error, ")
                message = message[:1].lower() + message[1:]
            errors.append(ContentError(message, path=doc.path, line=doc.line_of(loc),
                                       field=format_loc(loc, prefix) or None))
        raise (errors[0] if len(errors) == 1 else ContentErrors(errors)) from exc


def _is_internal(part: int | str) -> bool:
    # pydantic adds the tag of union/function validators to locations; they are not YAML keys.
    return isinstance(part, str) and (part.startswith("function-") or "[" in part)
