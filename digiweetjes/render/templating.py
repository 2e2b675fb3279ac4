"""The Jinja environments: StrictUndefined everywhere, autoescape for HTML and MJML."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import jinja2
from markupsafe import Markup

from digiweetjes.errors import RenderError
from digiweetjes.render import formatting
from digiweetjes.render.placeholders import placeholder


def _autoescape(name: str | None) -> bool:
    # Text templates are plain text: escaping there would show "&amp;" to readers.
    return name is None or not name.endswith(".txt.j2")


@lru_cache(maxsize=8)
def environment(templates_dir: Path) -> jinja2.Environment:
    """One cached environment per templates folder."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir)),
        undefined=jinja2.StrictUndefined,
        autoescape=_autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # The preview server clears this cache when a template changes; nobody else reloads.
        auto_reload=False,
    )
    env.filters["wrap"] = _wrap
    env.filters["euro"] = formatting.euro
    env.filters["long_date"] = formatting.reading_date   # unbroken: "5\u00a0december\u00a02026"
    env.filters["month_year"] = formatting.month_year
    env.filters["date_time"] = formatting.date_time
    env.filters["nowrap"] = _nowrap
    env.filters["first_sentence"] = first_sentence
    env.filters["and_join"] = and_join
    env.globals["placeholder"] = lambda name: Markup(placeholder(name))
    # Small counts are written out in running text ("vier drempels", not "4 drempels").
    env.globals["number_words"] = NUMBER_WORDS
    return env


NUMBER_WORDS = {1: "één", 2: "twee", 3: "drie", 4: "vier", 5: "vijf", 6: "zes", 7: "zeven",
                8: "acht", 9: "negen", 10: "tien", 11: "elf", 12: "twaalf"}


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9'‘\"])")


def first_sentence(text: str) -> str:
    """The first whole sentence of ``text`` (a teaser; the whole text stays one link away)."""
    return _SENTENCE_END.split(str(text).strip(), maxsplit=1)[0]


def and_join(items: object) -> str:
    """"Beernem, Jabbeke en Oostkamp": a Dutch enumeration."""
    names = [str(item) for item in items]  # type: ignore[attr-defined]
    return " en ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else "".join(names)


def _nowrap(value: object) -> Markup:
    """HTML that never wraps inside ("5 december 2026", "€ 50 miljoen"), inline-styled for mail
    clients that drop style sheets."""
    return Markup('<span class="dw-nowrap" style="white-space:nowrap">{}</span>').format(value)


_ASCII_SPACE = re.compile(r"[ \t\n\r\f\v]+")


def _wrap(text: str, width: int = 76, indent: str = "") -> str:
    """Wrap plain text at spaces only (a hyphenated Dutch word is never split).

    A greedy loop rather than textwrap: the text template wraps dozens of paragraphs per issue
    and textwrap's regex machinery was most of the compile time.
    """
    lines: list[str] = []
    current = ""
    # ASCII whitespace only: a non-breaking space ("5\u00a0december\u00a02026") holds its words.
    for word in _ASCII_SPACE.split(str(text).strip(" \t\n\r\f\v")):
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = indent + word
        else:
            current = f"{current} {word}" if current else (indent if lines else "") + word
    if current:
        lines.append(current)
    return "\n".join(lines)


def render_template(templates_dir: Path, name: str, **context: object) -> str:
    """Render one template; Jinja's errors become a RenderError naming template and line."""
    try:
        return environment(templates_dir).get_template(name).render(**context)
    except jinja2.TemplateSyntaxError as exc:
        raise RenderError(f"{exc.filename or name}:{exc.lineno}: {exc.message}") from exc
    except jinja2.TemplateNotFound as exc:
        raise RenderError(f"template not found: {exc.name} in {templates_dir}") from exc
    except jinja2.UndefinedError as exc:
        raise RenderError(f"{name}: {exc.message}") from exc
