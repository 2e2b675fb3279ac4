"""YAML that remembers where each value stood, and pydantic errors turned into file:line: field.

PyYAML's composed node tree keeps line numbers; pydantic's error locations are paths into the
loaded data. Walking the one with the other gives every error its line.

The loader is PyYAML's safe one, stricter where an editor's slip would otherwise pass unseen or
end in a traceback: a key given twice is refused (not last-wins), an impossible date or a number
too long to convert is an error at its line, and every string has placeholder markers removed
after YAML decoded its escapes (``"\\ue000"``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from digiweetjes.errors import ContentError, ContentErrors
from digiweetjes.render.placeholders import strip_markers

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: 10x faster


class EditorSlip(yaml.constructor.ConstructorError):
    """A value the strict loader refuses; ``node`` is the offending node (for its field)."""

    def __init__(self, message: str, node: yaml.Node, earlier: yaml.Node | None = None) -> None:
        super().__init__(None, None, message, node.start_mark)
        self.node = node
        self.earlier = earlier  # the first of two equal keys


class StrictLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """The safe loader, refusing duplicate keys and turning bad scalars into marked errors."""

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            seen: dict[object, yaml.Node] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else id(key_node)
                if key in seen:
                    raise EditorSlip("dit veld staat er twee keer", key_node,
                                     earlier=seen[key])
                seen[key] = key_node
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_str(self, node: yaml.Node) -> str:
        return strip_markers(super().construct_yaml_str(node))

    def construct_yaml_timestamp(self, node: yaml.Node, values: object = None) -> object:
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as exc:
            raise EditorSlip(f"'{node.value}' is geen bestaande datum: schrijf JJJJ-MM-DD",
                             node) from exc

    def construct_yaml_int(self, node: yaml.Node) -> int:
        try:
            return super().construct_yaml_int(node)
        except ValueError as exc:  # over Python's 4,300-digit conversion limit
            raise EditorSlip(f"een getal van {len(str(node.value))} cijfers is te lang",
                             node) from exc


for _tag, _method in (("tag:yaml.org,2002:map", StrictLoader.construct_yaml_map),
                      ("tag:yaml.org,2002:str", StrictLoader.construct_yaml_str),
                      ("tag:yaml.org,2002:timestamp", StrictLoader.construct_yaml_timestamp),
                      ("tag:yaml.org,2002:int", StrictLoader.construct_yaml_int)):
    StrictLoader.add_constructor(_tag, _method)


def load_plain(text: str) -> Any:
    """Data of a YAML text with the strict loader; its errors are ``yaml.YAMLError``."""
    loader = StrictLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


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
    loader = StrictLoader(text)
    try:
        # One parse gives both the node tree (for lines) and the data built from it.
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except EditorSlip as exc:
        line = exc.problem_mark.line + 1 + line_offset if exc.problem_mark else None
        field = format_loc(_path_to(node, exc.node)) if node is not None else ""
        problem = exc.problem or ""
        if exc.earlier is not None:
            first = exc.earlier.start_mark.line + 1 + line_offset
            problem = f"dit veld staat er twee keer (ook op regel {first}): laat er één over"
        raise ContentError(problem, path=path, line=line, field=field or None) from exc
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


def _path_to(root: yaml.Node, target: yaml.Node) -> list[int | str]:
    """The data path of ``target`` (a value or a key node) inside ``root``; [] if not found."""
    stack: list[tuple[yaml.Node, list[int | str]]] = [(root, [])]
    while stack:
        node, loc = stack.pop()
        if node is target:
            return loc
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key is target:
                    return [*loc, str(key.value)]
                stack.append((value, [*loc, str(key.value)]))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, [*loc, index]) for index, item in enumerate(node.value))
    return []


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
