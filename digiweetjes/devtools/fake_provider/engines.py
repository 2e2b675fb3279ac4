"""Models of how each provider fills its variables, written apart from the adapters.

They decide what a recipient would finally read, so an end-to-end test can compare it with the
client-side ``fill()``. Each follows the provider's documented behaviour; where the documentation
is silent the choice is the strict one (an unknown variable prints nothing, an unknown tag is an
error), so that an adapter that forgets to escape something is caught rather than excused.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping


class TemplateError(ValueError):
    """The provider would refuse to render this content."""


_DJANGO_TOKEN = re.compile(r"(\{%.*?%\}|\{\{.*?\}\}|\{#.*?#\})", re.S)
_BREVO_EXPR = re.compile(r"([A-Za-z_][\w.]*)(\|[^{}]*)?")


def render_brevo(template: str, params: Mapping[str, str]) -> str:
    """Brevo's Django-like language: ``{{ params.x }}``, autoescape (on by default), verbatim."""
    out: list[str] = []
    autoescape = [True]
    verbatim_end: str | None = None
    for i, token in enumerate(_DJANGO_TOKEN.split(template)):
        if i % 2 == 0:
            out.append(token)
            continue
        if verbatim_end is not None:
            if token.startswith("{%") and token[2:-2].strip() == verbatim_end:
                verbatim_end = None
            else:
                out.append(token)
            continue
        if token.startswith("{#"):
            continue
        inner = token[2:-2].strip()
        if token.startswith("{%"):
            words = inner.split()
            if words in (["autoescape", "off"], ["autoescape", "on"]):
                autoescape.append(words[1] == "on")
            elif words == ["endautoescape"] and len(autoescape) > 1:
                autoescape.pop()
            elif words and words[0] == "verbatim" and len(words) <= 2:
                verbatim_end = " ".join(["endverbatim", *words[1:]])
            else:
                raise TemplateError(f"invalid block tag: {inner[:40]!r}")
            continue
        match = _BREVO_EXPR.fullmatch(inner)
        if not match:
            raise TemplateError(f"could not parse the expression: {inner[:40]!r}")
        name = match.group(1)
        value = params.get(name[len("params."):], "") if name.startswith("params.") else ""
        out.append(html.escape(str(value)) if autoescape[-1] else str(value))
    if verbatim_end is not None or len(autoescape) > 1:
        raise TemplateError("unclosed block tag")
    return "".join(out)


def render_sendgrid(text: str, substitutions: Mapping[str, str]) -> str:
    """SendGrid's legacy substitutions: each key replaced by its value, in one pass."""
    if not substitutions:
        return text
    pattern = re.compile("|".join(re.escape(k) for k in sorted(substitutions, key=len,
                                                                 reverse=True)))
    return pattern.sub(lambda m: substitutions[m.group()], text)


_MAILGUN_VAR = re.compile(r"%recipient\.([A-Za-z0-9_.\-]+)%")


def render_mailgun(text: str, variables: Mapping[str, object]) -> str:
    """Mailgun's ``%recipient.x%``, scanned left to right once (a value is not rescanned)."""
    return _MAILGUN_VAR.sub(lambda m: str(variables.get(m.group(1), "")), text)


_MAILJET_TOKEN = re.compile(r"(\{\{.*?\}\}|\{%.*?%\})", re.S)
_MAILJET_VAR = re.compile(r'\s*var:([A-Za-z0-9_]+)(?::(?:"([^"]*)"|([^}]*)))?\s*')


def render_mailjet(template: str, variables: Mapping[str, object]) -> str:
    """Mailjet's template language, ``{{var:x}}`` and ``{{var:x:"default"}}`` only."""
    out: list[str] = []
    for i, token in enumerate(_MAILJET_TOKEN.split(template)):
        if i % 2 == 0:
            if "{{" in token or "{%" in token:
                raise TemplateError("unterminated template delimiter")
            out.append(token)
            continue
        match = _MAILJET_VAR.fullmatch(token[2:-2]) if token.startswith("{{") else None
        if not match:
            raise TemplateError(f"template language error near {token[:40]!r}")
        name, default = match.group(1), match.group(2) or match.group(3)
        if name in variables:
            out.append(str(variables[name]))
        elif default is not None:
            out.append(default)
        else:
            raise TemplateError(f"variable {name!r} has no value and no default")
    return "".join(out)
