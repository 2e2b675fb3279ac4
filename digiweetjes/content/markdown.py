"""Markdown → safe, email-friendly HTML, with every problem reported at its line.

Policy: links and images must be https (links may also be mailto); an image needs alt text;
raw HTML is sanitised to a small allow-list (never passed through as written), and a script,
style or event handler in it is an error rather than a silent removal, so the editor knows. Raw
HTML's ``href``/``src`` get the same URL policy as Markdown links (after decoding character
references), and its ``style`` attributes may only hold a few harmless CSS properties.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

from digiweetjes.content.urls import allowed_url
from digiweetjes.errors import ContentError, ContentErrors
from digiweetjes.render.placeholders import strip_markers

_ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "em", "h2", "h3", "h4", "hr", "i", "img",
    "li", "ol", "p", "pre", "s", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead",
    "tr", "ul",
}
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "width", "height"},
    "th": {"scope", "style"},
    "td": {"style"},
}
# ``data:`` only in a URL's shape (``data:image/png``, ``data:,x``): Dutch prose says
# "Belangrijke data: 12 maart".
_SCRIPT_URL = re.compile(r"(javascript|vbscript)\s*:|\bdata:(?:[a-z]+/|[,;])", re.IGNORECASE)
#: CSS properties an inline ``style`` in raw HTML may set; anything else is refused.
ALLOWED_CSS = frozenset({"color", "background-color", "text-align", "font-weight", "font-style",
                         "text-decoration"})
_CSS_VALUE = re.compile(r"^(?:[#a-z0-9 .,%-]|rgba?\([0-9 .,%]*\))+$", re.IGNORECASE)
_DANGEROUS_HTML = re.compile(r"<\s*(script|style|iframe|object|embed|form)\b|\son\w+\s*=|"
                             r"javascript:|vbscript:|data:text/html", re.IGNORECASE)


@dataclass(frozen=True)
class MarkdownResult:
    html: str
    text: str
    headings: tuple[tuple[int, str], ...]   # (level, text) in document order
    links: tuple[tuple[str, str], ...]      # (href, visible text)
    # The file line of each heading and link (same order), so the gate can point at them.
    heading_lines: tuple[int | None, ...] = ()
    link_lines: tuple[int | None, ...] = ()
    first_line: int = 1                     # the file line the body starts on


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "linkify": False, "typographer": False})
    md.enable("table")
    md.enable("strikethrough")
    return md


_MD = _parser()


def render_markdown(text: str, *, path: str, line_offset: int) -> MarkdownResult:
    """Render a draft body; ``line_offset`` is the file line of the body's first line, minus 1."""
    tokens = _MD.parse(text)
    errors: list[ContentError] = []
    headings: list[tuple[int, str]] = []
    links: list[tuple[str, str]] = []
    heading_lines: list[int | None] = []
    link_lines: list[int | None] = []
    block_line: int | None = None

    def error(message: str, line: int | None) -> None:
        errors.append(ContentError(message, path=path, line=line, field="tekst"))

    for number, source_line in enumerate(text.splitlines(), start=1 + line_offset):
        if _SCRIPT_URL.search(source_line):
            error("een javascript:-, vbscript:- of data:-adres is niet toegelaten in een draft",
                  number)
    for index, token in enumerate(tokens):
        if token.map:
            block_line = token.map[0] + 1 + line_offset
        if token.type == "heading_open":
            level = int(token.tag[1])
            headings.append((level, _inline_text(tokens[index + 1].children or [],
                                                 with_urls=False)))
            heading_lines.append(block_line)
            if level == 1:
                error("gebruik '##' of dieper voor tussentitels: de titel van de editie is de "
                      "enige titel van niveau 1", block_line)
        if token.type == "html_block":
            _check_raw_html(token.content, block_line, error)
        inside_link = False
        for child, child_line in _inline_children(token, block_line):
            if child.type == "link_open":
                link_lines.append(child_line)
            inside_link = (inside_link or child.type == "link_open") and \
                child.type != "link_close"
            _check_inline(child, child_line, error, links, inside_link)
    if errors:
        raise errors[0] if len(errors) == 1 else ContentErrors(errors)
    html = _MD.renderer.render(tokens, _MD.options, {})
    html = nh3.clean(html, tags=_ALLOWED_TAGS, attributes=_ALLOWED_ATTRIBUTES,
                     url_schemes={"https", "mailto"}, link_rel=None,
                     strip_comments=True, filter_style_properties=set(ALLOWED_CSS))
    # markdown-it and nh3 decode character references (``&#xE000;``): strip placeholder
    # markers again from what they produced.
    return MarkdownResult(
        html=strip_markers(html), text=strip_markers(_render_text(tokens)),
        headings=tuple((level, strip_markers(text)) for level, text in headings),
        links=tuple((strip_markers(href), strip_markers(text)) for href, text in links),
        heading_lines=tuple(heading_lines), link_lines=tuple(link_lines),
        first_line=line_offset + 1)


def _inline_children(token: Token, block_line: int | None):
    if token.type != "inline" or not token.children:
        return
    line = block_line
    for child in token.children:
        yield child, line
        if child.type in ("softbreak", "hardbreak") and line is not None:
            line += 1


def _check_inline(child: Token, line: int | None, error, links: list[tuple[str, str]],
                  inside_link: bool) -> None:
    if child.type == "link_open":
        href = str(child.attrs.get("href", ""))
        if not allowed_url(href, allow_mailto=True):
            error(f"link '{href}' is niet toegelaten: alleen https://- en mailto:-links", line)
        links.append((href, ""))
    elif child.type in ("text", "code_inline") and inside_link and links:
        links[-1] = (links[-1][0], links[-1][1] + child.content)
    elif child.type == "image":
        src = str(child.attrs.get("src", ""))
        alt = child.content.strip()
        if not alt:
            error(f"afbeelding '{src}' heeft een beschrijving nodig: ![wat er te zien is]({src})",
                  line)
        if not allowed_url(src, allow_mailto=False):
            error(f"afbeelding '{src}' is niet toegelaten: een afbeelding moet een "
                  "https://-adres hebben", line)
    elif child.type == "html_inline":
        _check_raw_html(child.content, line, error)


def _check_raw_html(html: str, line: int | None, error) -> None:
    found = _DANGEROUS_HTML.search(html)
    if found:
        error(f"HTML '{found.group(0).strip()}' is niet toegelaten in een draft", line)
    for match in re.finditer(r"<img\b[^>]*>", html, re.IGNORECASE):
        if not re.search(r'\balt\s*=\s*"[^"]+"', match.group(0), re.IGNORECASE):
            error('een afbeelding in HTML heeft een beschrijving nodig: alt="wat er te zien is"',
                  line)
    if found:
        return  # one message per fragment is enough to find it
    for tag, name, value, offset in _raw_attributes(html):
        at = None if line is None else line + offset
        if name == "href" and not allowed_url(value, allow_mailto=True):
            error(f"link '{value}' in <{tag}> is niet toegelaten: gebruik een https://- of "
                  "mailto:-link", at)
        elif name == "src" and not allowed_url(value, allow_mailto=False):
            error(f"bron '{value}' van <{tag}> is niet toegelaten: een afbeelding moet een "
                  "https://-adres hebben", at)
        elif name == "style":
            refused = _refused_css(value)
            if refused:
                error(f"inline stijl '{refused}' in <{tag}> is niet toegelaten: alleen "
                      f"{', '.join(sorted(ALLOWED_CSS))} met een eenvoudige waarde", at)


class _Attributes(HTMLParser):
    """Every (tag, attribute, decoded value, line offset) of a raw HTML fragment."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str, str, int]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        offset = self.getpos()[0] - 1
        for name, value in attrs:
            self.found.append((tag, name, value or "", offset))

    handle_startendtag = handle_starttag


def _raw_attributes(html: str) -> list[tuple[str, str, str, int]]:
    parser = _Attributes()
    parser.feed(html)
    parser.close()
    return parser.found


def _refused_css(style: str) -> str | None:
    """The first declaration of ``style`` outside the allow-list, or None if all are fine."""
    for declaration in style.split(";"):
        if not declaration.strip():
            continue
        name, colon, value = declaration.partition(":")
        if (not colon or name.strip().lower() not in ALLOWED_CSS
                or not _CSS_VALUE.match(value.strip())):
            return declaration.strip()
    return None


def _render_text(tokens: list[Token]) -> str:
    """Markdown tokens → readable plain text (links as 'text <url>', lists with dashes)."""
    blocks: list[str] = []
    tight: list[str] = []  # kind of each block: list items and table rows join their own kind
    prefix: list[str] = []          # list / quote prefixes of the current nesting
    ordered: list[int | None] = []  # next number per open list, None for bullets
    heading_level = 0
    row: list[str] = []
    for token in tokens:
        kind = token.type
        if kind == "heading_open":
            heading_level = int(token.tag[1])
        elif kind == "heading_close":
            heading_level = 0
        elif kind == "bullet_list_open":
            ordered.append(None)
        elif kind == "ordered_list_open":
            ordered.append(int(token.attrs.get("start", 1) or 1))
        elif kind in ("bullet_list_close", "ordered_list_close"):
            ordered.pop()
        elif kind == "list_item_open":
            number = ordered[-1]
            if number is None:
                prefix.append("- ")
            else:
                prefix.append(f"{number}. ")
                ordered[-1] = number + 1
        elif kind == "list_item_close":
            prefix.pop()
        elif kind == "blockquote_open":
            prefix.append("> ")
        elif kind == "blockquote_close":
            prefix.pop()
        elif kind in ("tr_open",):
            row = []
        elif kind == "tr_close":
            blocks.append(" | ".join(row))
            tight.append("row")
        elif kind in ("fence", "code_block"):
            blocks.append("\n".join("    " + line for line in token.content.rstrip().splitlines()))
        elif kind == "hr":
            blocks.append("-" * 40)
        elif kind == "inline":
            text = _inline_text(token.children or [])
            if _inside(tokens, token, "td_open", "th_open"):
                row.append(text)
                continue
            if heading_level:
                underline = "=" if heading_level <= 2 else "-"
                blocks.append(f"{text}\n{underline * len(text)}")
                tight.append("heading")
            else:
                lead = "".join(prefix)
                blocks.append(_wrap(text, lead))
                tight.append("list" if ordered else "paragraph")
            continue
        if kind in ("fence", "code_block", "hr"):
            tight.append("other")
    out, previous = "", ""
    for block, kind in zip(blocks, tight, strict=True):
        if not block.strip():
            continue
        joins = kind == previous and kind in ("list", "row")
        out += ("\n" if joins else "\n\n" if out else "") + block
        previous = kind
    return out


def _inside(tokens: list[Token], token: Token, *openers: str) -> bool:
    index = tokens.index(token)
    return index > 0 and tokens[index - 1].type in openers


def _inline_text(children: list[Token], *, with_urls: bool = True) -> str:
    out: list[str] = []
    href_stack: list[str] = []
    for child in children:
        kind = child.type
        if kind == "text" or kind == "code_inline":
            out.append(child.content)
        elif kind in ("softbreak",):
            out.append(" ")
        elif kind == "hardbreak":
            out.append("\n")
        elif kind == "link_open":
            href_stack.append(str(child.attrs.get("href", "")))
        elif kind == "link_close":
            href = href_stack.pop() if href_stack else ""
            shown = href.removeprefix("mailto:")
            if with_urls and shown and shown not in "".join(out[-3:]):
                out.append(f" <{shown}>")
        elif kind == "image":
            out.append(f"[Afbeelding: {child.content}]")
        elif kind == "html_inline":
            continue
    return re.sub(r"[ \t]+", " ", "".join(out)).strip()


def _wrap(text: str, lead: str) -> str:
    import textwrap

    indent = " " * len(lead)
    lines = []
    for paragraph_line in text.split("\n"):
        lines.extend(textwrap.wrap(paragraph_line, width=76, initial_indent=lead if not lines
                                   else indent, subsequent_indent=indent,
                                   break_long_words=False, break_on_hyphens=False) or [lead])
    return "\n".join(lines)
