"""The B1 plain-language indicator of ``digiweetjes check``: it warns, it never refuses.

B1 is the language level most readers manage without effort. Three signs that a text is above
it are cheap to find and easy to fix: long sentences, very long words (Dutch glues compounds
together) and the jargon of the field. The jargon list is the editors' own file,
``issues/b1-woordenlijst.yaml`` (term: plainer alternatives), so it grows with the newsletter.
The draft's body is read as Markdown source, so every warning has its line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import RootModel

from digiweetjes.content import display_path, read_editor_text
from digiweetjes.content.drafts import Draft
from digiweetjes.content.projects import ProjectData
from digiweetjes.content.yamlsource import load_yaml, validate

WORD_LIST_FILE = "b1-woordenlijst.yaml"
MAX_SENTENCE_WORDS = 20
#: Letters in one word (or one part of a hyphenated word) before it counts as long.
MAX_WORD_LETTERS = 20
# Abbreviations whose dot does not end a sentence; a word with an inner dot (o.a.) never does.
_ABBREVIATIONS = frozenset({"bv.", "bijv.", "nr.", "enz.", "ca.", "incl.", "excl.", "vb.",
                            "p.", "blz.", "max.", "min.", "mr.", "dr.", "st."})
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_URL = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+\.\w+", re.IGNORECASE)
_MARKUP = re.compile(r"[*_`]|<[^>]+>")
_BLOCK_START = re.compile(r"^\s*(?:#{1,6}\s|[-*+]\s|\d+[.)]\s)")


class _Terms(RootModel[dict[str, str | list[str]]]):
    """The word list file: term → one alternative or a list of them."""


@dataclass(frozen=True)
class WordList:
    """Jargon terms (lower case) with their plainer alternatives."""

    terms: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    path: str | None = None   # where it was read from (None: no file)


def load_word_list(issues_dir: Path) -> WordList:
    """The editors' jargon list; an empty one when the folder has none."""
    path = issues_dir / WORD_LIST_FILE
    if not path.is_file():
        return WordList()
    display = display_path(path)
    doc = load_yaml(read_editor_text(path, display), display)
    data = validate(_Terms, doc).root
    terms = {" ".join(term.casefold().split()): tuple([alt] if isinstance(alt, str) else alt)
             for term, alt in data.items() if term.strip()}
    return WordList(terms, display)


@dataclass(frozen=True)
class _Word:
    text: str
    line: int


@dataclass
class B1Report:
    """The warnings (``file:line: ...``) and the one-line summary."""

    warnings: list[str]
    summary: str


def plain_language(draft: Draft, lines: list[str], projects: ProjectData,
                   words: WordList) -> B1Report:
    """Warnings on the body of ``draft`` (``lines``: the draft file's lines)."""
    names = _names(projects)
    sentences = _sentences(lines, draft.body.first_line)
    warnings: list[tuple[int, str]] = []
    flagged = 0
    counts = {"long": 0, "word": 0, "jargon": 0}
    for sentence in sentences:
        found = _sentence_warnings(sentence, names, words, counts)
        flagged += bool(found)
        warnings.extend(found)
    where = draft.display_path
    lines_out = [f"{where}:{line}: {message}" for line, message in sorted(warnings)]
    total = len(sentences)
    average = sum(len(s) for s in sentences) / total if total else 0
    share = round(100 * (total - flagged) / total) if total else 100
    summary = (f"B1-indicator: {total - flagged} van de {total} zinnen ({share} %) zonder "
               f"opmerking; gemiddeld {average:.0f} woorden per zin; "
               f"{_count(counts['long'], 'lange zin', 'lange zinnen')}, "
               f"{_count(counts['word'], 'lang woord', 'lange woorden')}, "
               f"{counts['jargon']} keer vakjargon")
    if words.path is None:
        summary += f" (geen woordenlijst {WORD_LIST_FILE} gevonden)"
    return B1Report(lines_out, summary)


def _sentence_warnings(sentence: list[_Word], names: frozenset[str], words: WordList,
                       counts: dict[str, int]) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    if len(sentence) > MAX_SENTENCE_WORDS:
        counts["long"] += 1
        found.append((sentence[0].line, f"lange zin ({len(sentence)} woorden, B1: hoogstens "
                      f"{MAX_SENTENCE_WORDS}): '{_start(sentence)}…': knip hem in kortere "
                      "zinnen"))
    for word in sentence:
        bare = word.text.strip(".,;:!?()[]'\"‘’“”«»…").casefold()
        if bare in names:
            continue
        for part in re.split(r"[-/]", bare):
            letters = sum(c.isalpha() for c in part)
            if letters > MAX_WORD_LETTERS:
                counts["word"] += 1
                found.append((word.line, f"lang woord '{part}' ({letters} letters): schrijf "
                              "het in meer woorden, of kies een korter woord"))
    found.extend(_jargon(sentence, words, counts))
    return found


def _jargon(sentence: list[_Word], words: WordList,
            counts: dict[str, int]) -> list[tuple[int, str]]:
    """Each jargon term in the sentence (also inflected: "stakeholders", "relanceprojecten")."""
    text, starts = "", []
    for word in sentence:
        starts.append(len(text))
        text += word.text.casefold() + " "
    found = []
    for term, alternatives in words.terms.items():
        for match in re.finditer(r"(?<!\w)" + re.escape(term) + r"\w*", text):
            index = max(i for i, start in enumerate(starts) if start <= match.start())
            counts["jargon"] += 1
            plainer = " of ".join(f"'{a}'" for a in alternatives)
            found.append((sentence[index].line, f"vakjargon '{match.group(0)}': schrijf liever "
                          f"{plainer}"))
    return found


def _count(number: int, one: str, more: str) -> str:
    return f"{number} {one if number == 1 else more}"


def _start(sentence: list[_Word]) -> str:
    return " ".join(word.text for word in sentence[:6])


def _sentences(lines: list[str], first_line: int) -> list[list[_Word]]:
    """The body's sentences as words with their file line; code, tables and HTML left out."""
    sentences: list[list[_Word]] = []
    current: list[_Word] = []
    fenced = False
    for number, raw in enumerate(lines[first_line - 1:], start=first_line):
        stripped = raw.strip()
        if stripped.startswith(("```", "~~~")):
            fenced = not fenced
        if fenced or stripped.startswith(("```", "~~~", "|", "<")) or raw.startswith("    "):
            continue
        if not stripped or _BLOCK_START.match(raw):
            if current:
                sentences.append(current)
            current = []
        text = _URL.sub(" ", _LINK.sub(r"\1", raw))
        text = _MARKUP.sub("", re.sub(r"^\s*(?:#{1,6}|[-*+>]|\d+[.)])\s+", "", text))
        for token in text.split():
            if not any(c.isalnum() for c in token):
                continue
            current.append(_Word(token, number))
            if _ends_sentence(token):
                sentences.append(current)
                current = []
    if current:
        sentences.append(current)
    return sentences


def _ends_sentence(token: str) -> bool:
    end = token.rstrip(")\"'’”»")
    if not end.endswith((".", "!", "?")) or end.casefold() in _ABBREVIATIONS:
        return False
    return not re.search(r"\w\.\w", end)   # o.a., d.w.z., 1.200.000


def _names(projects: ProjectData) -> frozenset[str]:
    """Words of proper names (projects, Digibanks, municipalities): never flagged as long."""
    region = projects.region
    texts: Iterable[str] = [
        *(p.name for p in projects.projects), *(p.id for p in projects.projects),
        *region.municipalities, *(s.name for s in region.subregions), region.name]
    return frozenset(word.strip(".,;:!?()'\"").casefold()
                     for text in texts for word in text.split())
