"""Placeholders cannot be forged from content: property tests over hostile editor text.

Whatever text an editor puts in the draft's body, title and preheader or in projects.yaml's
strings (raw marker characters, character references, YAML escapes, MRML's escapes), the
compiled issue carries exactly the placeholders its templates declared, as many per part as a
clean issue, every recipient value lands only there, and the subject holds no marker.
"""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from digiweetjes.config import PROJECT_ROOT, Secret, Settings
from digiweetjes.content.source import read_issue
from digiweetjes.errors import ContentError
from digiweetjes.render import (
    PLACEHOLDERS,
    CompiledIssue,
    RecipientData,
    compile_issue,
    personalize,
)
from digiweetjes.render.placeholders import FillableTemplate, Markers, has_marker, placeholder
from tests.helpers_content import SAMPLE

SENTINEL_URL = "https://digiweetjes.example.be/u/SENTINEL-UNSUB"
SENTINEL_PREFS = "https://digiweetjes.example.be/p/SENTINEL-PREFS"
RECIPIENT = RecipientData(email="lezer@example.org", name="Sentinel Naam", subregion="noord",
                          unsubscribe_url=SENTINEL_URL, preferences_url=SENTINEL_PREFS)

FORGERIES = [
    "\ue000", "\ue001", "\ue000greeting\ue001", "\ue000unsubscribe_url\ue001",
    "&#xE000;", "&#xe001;", "&#57344;", "&#57345;", "&#x0E000;", "&#0057344;",
    "&#xE000;unsubscribe_url&#xE001;", "&#57344;greeting&#57345;", "&amp;#xE000;",
    "\\u{e000}", "\\u{e001}", "\\u{E000}digibank\\u{E001}", "&#92;u{e000}", "&#92;u{e001}",
    "\\ue000", "\\ue001", "\\U0000e000", "\\x", "greeting", "unsubscribe_url", "digibank",
    "preferences_url", '<a href="https://elders.example/?u=', '">elders</a>', "&", "#", ";",
    "{{", "}}", "%", "*", "_", "`", "[", "]", "(", ")",
]
_PLAIN = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"),
                               blacklist_characters="<>\\\r\n\x85"), max_size=12)
HOSTILE = st.lists(st.one_of(st.sampled_from(FORGERIES), _PLAIN), min_size=1,
                   max_size=8).map("".join)


def _yaml(value: str) -> str:
    """A YAML double-quoted scalar writing every non-ASCII character as an escape YAML decodes
    (``\\ue000``, ``\\U0001f600``): the escapes get past any filter on the raw file."""
    out = []
    for char in value:
        if char in '"\\':
            out.append("\\" + char)
        elif " " <= char <= "~":
            out.append(char)
        elif ord(char) <= 0xFFFF:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    return '"' + "".join(out) + '"'


def _draft(title: str, preheader: str, body: str) -> str:
    return (f"---\ntitle: {_yaml('Test ' + title)}\nnumber: 1\ndate: 2027-01-10\n"
            f"preheader: {_yaml('Kort ' + preheader)}\nfeatured: [digibanken]\n"
            f"status: approved\n---\n## Inleiding\n\nTekst {body} einde.\n")


_UPDATE = ("        text: >-\n"
           "          Drie Digibankdossiers zijn goedgekeurd, voor de Digibanken Noord, West en "
           "Brugge in de\n          referentieregio.\n")


def _projects(seed: str, value: str) -> str:
    """The seed's projects.yaml with ``value`` in strings that reach the mail (and its blocks)."""
    text = seed
    for old, template in (
        ("      digibank: Digibank Brugge Noord\n", "      digibank: {}\n"),
        ("  name: Referentieregio Brugge\n", "  name: {}\n"),
        ("    name: Digibanken\n", "    name: {}\n"),
        (_UPDATE, "        text: {}\n"),
    ):
        assert old in text, old
        text = text.replace(old, template.format(_yaml("X " + value)), 1)
    return text


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, str]:
    root = tmp_path_factory.mktemp("forgery")
    issues = root / "issues"
    issues.mkdir()
    seed = (PROJECT_ROOT / "issues" / "projects.yaml").read_text(encoding="utf-8")
    config = Settings(root=root, issues_dir=issues, templates_dir=PROJECT_ROOT / "templates",
                      site_dir=root / "site", outbox_dir=root / "outbox",
                      base_url="https://digiweetjes.example.be",
                      secret_key=Secret("forgery-test-secret-key-abcdefgh"))
    return config, seed


def _compile(folder: tuple[Settings, str], title: str, preheader: str, body: str,
             data: str) -> CompiledIssue | None:
    config, seed = folder
    (config.issues_dir / "projects.yaml").write_text(_projects(seed, data), encoding="utf-8")
    (config.issues_dir / "2027-01-10-test.md").write_text(_draft(title, preheader, body),
                                                          encoding="utf-8")
    try:
        return compile_issue(read_issue(config.issues_dir, "2027-01-10-test"), config)
    except ContentError:
        return None  # refused with a message: nothing compiled, nothing to forge


def _counts(compiled: CompiledIssue) -> tuple[Counter[str], Counter[str]]:
    return Counter(compiled.html.parts[1::2]), Counter(compiled.text.parts[1::2])


@pytest.fixture(scope="module")
def clean(folder) -> tuple[tuple[Counter[str], Counter[str]], tuple[int, int, int, int]]:
    compiled = _compile(folder, "titel", "samenvatting", "gewone tekst", "gewone naam")
    assert compiled is not None
    message = personalize(compiled, RECIPIENT)
    return _counts(compiled), _sentinels(message.html, message.text)


def _sentinels(html: str, text: str) -> tuple[int, int, int, int]:
    return (html.count("SENTINEL-UNSUB"), html.count("SENTINEL-PREFS"),
            text.count("SENTINEL-UNSUB"), html.count("Sentinel Naam") + text.count("Sentinel Naam"))


def _assert_unforged(compiled: CompiledIssue, clean) -> None:
    counts, sentinels = clean
    assert compiled.html.names == set(PLACEHOLDERS) == compiled.text.names
    assert _counts(compiled) == counts
    assert not has_marker(compiled.subject) and not has_marker(compiled.preheader)
    message = personalize(compiled, RECIPIENT)
    assert _sentinels(message.html, message.text) == sentinels
    assert not has_marker(message.html) and not has_marker(message.text)
    assert not has_marker(message.subject) and "SENTINEL" not in message.subject


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(title=HOSTILE, preheader=HOSTILE, body=HOSTILE, data=HOSTILE)
def test_no_content_forges_a_placeholder(folder, clean, title: str, preheader: str, body: str,
                                         data: str) -> None:
    compiled = _compile(folder, title, preheader, body, data)
    event("compiled" if compiled is not None else "refused with a message")
    if compiled is not None:
        _assert_unforged(compiled, clean)


@pytest.mark.parametrize("forgery", [
    "\ue000unsubscribe_url\ue001", "&#xE000;unsubscribe_url&#xE001;",
    "&#57344;greeting&#57345;", "&#92;u{e000}preferences_url&#92;u{e001}",
    '<a href="https://elders.example/?u=&#xE000;unsubscribe_url&#xE001;">elders</a>',
])
def test_the_compile_alone_refuses_forgeries_with_input_stripping_switched_off(
        folder, clean, monkeypatch: pytest.MonkeyPatch, forgery: str) -> None:
    # Construction, not filtering: even if every input filter missed, the markers of this
    # compile carry a nonce that content, written before it, cannot contain.
    import digiweetjes.content as content
    import digiweetjes.content.markdown as markdown
    import digiweetjes.content.yamlsource as yamlsource

    monkeypatch.setattr(content, "strip_marker_chars", lambda text: text)
    for module in (markdown, yamlsource):
        monkeypatch.setattr(module, "strip_markers", lambda text: text)
    compiled = _compile(folder, forgery, forgery, forgery, forgery)
    assert compiled is not None
    _assert_unforged(compiled, clean)


@settings(max_examples=200, deadline=None)
@given(before=st.text(max_size=30), after=st.text(max_size=30),
       forged=st.sampled_from(PLACEHOLDERS))
def test_a_parse_finds_only_its_own_compiles_markers(before: str, after: str,
                                                     forged: str) -> None:
    markers, other = Markers.fresh(), Markers.fresh()
    text = (before + placeholder(forged) + other(forged) + markers("greeting") + after
            + f"\\u{{e000}}{markers.nonce}{forged}\\u{{e001}}")
    template = FillableTemplate.parse(text, markers)
    assert template.parts[1::2] == ("greeting",)
    assert not any(has_marker(literal) for literal in template.parts[0::2])


def test_every_compile_draws_new_markers(folder, monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: list[Markers] = []
    fresh = Markers.fresh.__func__  # type: ignore[attr-defined]

    def recording(cls: type[Markers]) -> Markers:
        drawn.append(fresh(cls))
        return drawn[-1]

    monkeypatch.setattr(Markers, "fresh", classmethod(recording))
    config, _ = folder
    source = read_issue(PROJECT_ROOT / "issues", SAMPLE)
    first, second = compile_issue(source, config), compile_issue(source, config)
    assert first.html.parts == second.html.parts  # the same issue compiles the same ...
    assert len(drawn) == 2 and drawn[0].nonce != drawn[1].nonce  # ... with its own markers
    assert len(drawn[0].nonce) >= 16
