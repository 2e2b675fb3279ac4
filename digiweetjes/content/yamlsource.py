"""YAML that remembers where each value stood, and pydantic errors turned into file:line: field.

PyYAML's composed node tree keeps line numbers; pydantic's error locations are paths into the
loaded data. Walking the one with the other gives every error its line.

The loader is PyYAML's safe one, stricter where an editor's slip would otherwise pass unseen or
end in a traceback: a key given twice is refused (not last-wins), an impossible date or a number
too long to convert is an error at its line, and every string has placeholder markers removed
after YAML decoded its escapes (``"\\ue000"``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
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
        problem = _yaml_problem(exc.problem)
        raise ContentError(f"ongeldige YAML: {problem}", path=path, line=line) from exc
    except yaml.YAMLError as exc:
        raise ContentError("ongeldige YAML: het bestand kan niet gelezen worden",
                           path=path) from exc
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
    """``("projects", 3, "budget_eur")`` → ``projects, item 4, budget_eur``.

    Positions count from 1, as the editor counts the lines of a list.
    """
    out, after_index = prefix, False
    for part in loc:
        if isinstance(part, int):
            out += f", item {part + 1}" if out else f"item {part + 1}"
        elif out:
            out += f", {part}" if after_index else f".{part}"
        else:
            out = str(part)
        after_index = isinstance(part, int)
    return out


#: PyYAML's syntax complaints (English, about tokens) as the slip an editor made.
_YAML_PROBLEMS = (
    ("mapping values are not allowed", "een dubbele punt op een onverwachte plaats: zet tekst "
                                       "met ': ' tussen aanhalingstekens"),
    ("could not find expected ':'", "een regel zonder 'veld: waarde'"),
    ("cannot start any token", "een teken dat YAML hier niet toelaat (een tab? gebruik spaties)"),
    ("found unexpected end of stream", "de tekst stopt te vroeg: staat er een aanhalingsteken of "
                                       "haakje open?"),
    ("did not find expected ',' or ']'", "een lijst [...] die niet goed gesloten is"),
    ("did not find expected ',' or '}'", "een {...} die niet goed gesloten is"),
    ("did not find expected key", "een regel die niet goed inspringt of niet 'veld: waarde' is"),
    ("expected <block end>", "een regel die niet goed inspringt"),
    ("found undefined alias", "een * die YAML als verwijzing leest: zet de tekst tussen "
                              "aanhalingstekens"),
    ("found character", "een teken dat YAML hier niet toelaat: zet de tekst tussen "
                        "aanhalingstekens"),
)


def _yaml_problem(problem: str | None) -> str:
    for english, dutch in _YAML_PROBLEMS:
        if problem and english in problem:
            return dutch
    return "de opmaak klopt niet (kijk naar inspringing, dubbele punten en aanhalingstekens)"


_NUMBER = "moet een getal zijn"
_DATE = "moet een datum zijn (JJJJ-MM-DD)"
_DATETIME = "moet een datum met tijd zijn (JJJJ-MM-DD UU:MM)"
_MESSAGES = {
    "missing": "ontbreekt: dit veld is verplicht",
    "extra_forbidden": "is geen bekend veld",
    "int_parsing": _NUMBER,
    "int_type": _NUMBER,
    "float_parsing": _NUMBER,
    "float_type": _NUMBER,
    "int_from_float": "moet een geheel getal zijn",
    "decimal_parsing": _NUMBER,
    "string_type": "moet tekst zijn",
    "bool_type": "moet true of false zijn",
    "bool_parsing": "moet true of false zijn",
    "list_type": "moet een lijst zijn",
    "tuple_type": "moet een lijst zijn",
    "dict_type": "moet een reeks velden zijn (veld: waarde)",
    "model_type": "moet een reeks velden zijn (veld: waarde)",
    "model_attributes_type": "moet een reeks velden zijn (veld: waarde)",
    "date_type": _DATE,
    "date_parsing": _DATE,
    "date_from_datetime_parsing": _DATE,
    "date_from_datetime_inexact": _DATE,
    "datetime_type": _DATETIME,
    "datetime_parsing": _DATETIME,
    "datetime_from_date_parsing": _DATETIME,
    "url_parsing": "moet een webadres zijn (https://...)",
    "url_scheme": "moet een webadres zijn (https://...)",
}
#: What a pattern asks for, in words (pydantic would show the regular expression).
_PATTERNS = {
    r"^[a-z0-9]+(-[a-z0-9]+)*$": "mag alleen kleine letters, cijfers en koppeltekens bevatten "
                                 "(zoals 'digiscan' of 'lokale-besturen-iedereen-digitaal')",
    "^(draft|approved)$": "moet draft of approved zijn",
}
# "50.000.000" or "2 500": a number written as people write it, which YAML reads as text.
_GROUPED_NUMBER = re.compile(r"^\s*€?\s*\d{1,3}(?:[. \u00a0\u202f]\d{3})+\s*$")


def dutch_message(error: Mapping[str, Any]) -> str:
    """One pydantic error in Dutch, with the expected form where the input shows the slip."""
    kind, ctx = error["type"], error.get("ctx") or {}
    message = _MESSAGES.get(kind)
    if message is None:
        message = _BOUNDS.get(kind, "").format(**ctx) if kind in _BOUNDS else None
    if message is None and kind == "string_pattern_mismatch":
        message = _PATTERNS.get(str(ctx.get("pattern")), "heeft niet de verwachte vorm")
    if message is None and kind in ("enum", "literal_error"):
        message = f"moet een van deze zijn: {ctx.get('expected', '')}".replace("'", "")
    if message is None:
        message = str(error["msg"]).removeprefix("Value error, ")
        message = message[:1].lower() + message[1:]
    value = error.get("input")
    if isinstance(value, str) and _GROUPED_NUMBER.match(value):
        digits = re.sub(r"\D", "", value)
        message += f": schrijf {digits} (zonder punten, spaties of €)"
    return message


_BOUNDS = {
    "string_too_long": "is te lang: hoogstens {max_length} tekens",
    "string_too_short": "mag niet leeg zijn",
    "too_long": "is te lang: hoogstens {max_length} items",
    "too_short": "heeft te weinig items: minstens {min_length}",
    "greater_than_equal": "moet {ge} of meer zijn",
    "greater_than": "moet meer dan {gt} zijn",
    "less_than_equal": "moet {le} of minder zijn",
    "less_than": "moet minder dan {lt} zijn",
}


def validate(model: type[BaseModel], doc: YamlDocument, *, prefix: str = "") -> Any:
    """Validate ``doc.data`` with ``model``; every problem names file, line and field."""
    try:
        return model.model_validate(doc.data if doc.data is not None else {})
    except ValidationError as exc:
        errors = []
        for error in exc.errors(include_url=False):
            loc = tuple(p for p in error["loc"] if not _is_internal(p))
            errors.append(ContentError(dutch_message(error), path=doc.path,
                                       line=doc.line_of(loc),
                                       field=format_loc(loc, prefix) or None))
        raise (errors[0] if len(errors) == 1 else ContentErrors(errors)) from exc


def _is_internal(part: int | str) -> bool:
    # pydantic adds the tag of union/function validators to locations; they are not YAML keys.
    return isinstance(part, str) and (part.startswith("function-") or "[" in part)
