"""Hostile subscriber names and look-alike addresses, at every entry of the list.

One rule (``clean_name``) decides, whatever the door: ``subscribers add``, ``subscribers
import``, the public form (``subscribe``) and the preferences page (``update_preferences``).
Each case asserts the message a person sees and that a refusal changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from digiweetjes.clock import FixedClock
from digiweetjes.config import Settings
from digiweetjes.db import Database
from digiweetjes.errors import SubscriberError
from digiweetjes.models import Subscriber
from digiweetjes.subscribers import add_subscriber, subscribe, update_preferences
from digiweetjes.subscribers.tokens import Purpose, make_token
from tests.helpers_subscribers import RecordingProvider
from tests.test_hostile_csv import env, names, run, snapshot  # noqa: F401 (fixture)

ENCODED = "tekst in de vorm '=?…?=' is gecodeerde mailtekst en hoort niet in een naam; typ de " \
          "naam gewoon uit"
BIDI = "bevat een teken dat de schrijfrichting omkeert ({}); typ de naam zonder dat teken"


@dataclass(frozen=True)
class Name:
    id: str
    typed: str
    message: str | None = None  # the refusal; None: accepted
    stored: str | None = None  # what is kept when accepted


NAMES = [
    # Refused: a deliberate trick has no honest use in a name.
    Name("encoded word, q", "=?utf-8?q?Bcc=3A_victim@example.org?=",
         f"ongeldige naam '=?utf-8?q?Bcc=3A_victim@example.org?=': {ENCODED}"),
    Name("encoded word, b, upper case", "Jan =?UTF-8?B?QmNjOiB2aWN0aW1AZXhhbXBsZS5vcmc=?=",
         f"ongeldige naam 'Jan =?UTF-8?B?QmNjOiB2aWN0aW1AZXhhbXBsZS5vcmc=?=': {ENCODED}"),
    Name("encoded word cut by a line break", "=?utf-8?q?Bcc=3A\r\n_x@y.be?=",
         f"ongeldige naam '=?utf-8?q?Bcc=3A _x@y.be?=': {ENCODED}"),
    Name("encoded word hidden by a zero-width space", "=\u200b?utf-8?q?x?=",
         f"ongeldige naam '=?utf-8?q?x?=': {ENCODED}"),
    Name("right-to-left override", "Jan \u202eeteP",
         "ongeldige naam 'Jan \\u202eeteP': " + BIDI.format("U+202E")),
    Name("left-to-right embedding and pop", "\u202aJan\u202c",
         "ongeldige naam '\\u202aJan\\u202c': " + BIDI.format("U+202A, U+202C")),
    Name("isolates", "Jan \u2066x\u2069",
         "ongeldige naam 'Jan \\u2066x\\u2069': " + BIDI.format("U+2066, U+2069")),
    Name("too long", "n" * 201, "de naam is langer dan 200 tekens"),
    # Neutralised: pasted line breaks and invisible characters are an honest mistake.
    Name("CR/LF header injection", "Jan\r\nBcc: x@y.be", stored="Jan Bcc: x@y.be"),
    Name("line and paragraph separators", "Jan\u2028Peeters\u2029", stored="Jan Peeters"),
    Name("next line (U+0085) and tab", "Jan\u0085\tPeeters", stored="Jan Peeters"),
    Name("NUL and other controls", "Jan\x00Pe\x1b[31meters\x7f", stored="Jan Pe [31meters"),
    Name("placeholder markers", "\ue000unsubscribe_url\ue001", stored="unsubscribe_url"),
    Name("zero-width space and soft hyphen", "Jans\u00adsens\u200b", stored="Janssens"),
    Name("emoji sequence keeps its joiners", "An 👩\u200d💻", stored="An 👩\u200d💻"),
    Name("accents in decomposed form", "Noe\u0308l", stored="Noël"),
    Name("only controls", "\r\n\x00\u2028", stored=None),
]


@pytest.fixture
def initialised(env, capsys) -> Database:  # noqa: F811 (env is the imported fixture)
    assert run(capsys, "init")[0] == 0
    database = Database(env["DIGIWEETJES_DATABASE_URL"])
    yield database
    database.dispose()


@pytest.mark.parametrize("case", NAMES, ids=[c.id for c in NAMES])
def test_name_through_subscribers_add(initialised: Database, capsys, tmp_path: Path,
                                      case: Name) -> None:
    before = snapshot(initialised, tmp_path)
    code, out, err = run(capsys, "subscribers", "add", "a@voorbeeld.be", "--name", case.typed,
                         "--consent-source", "formulier")
    assert "Traceback" not in out + err
    if case.message is not None:
        assert (code, out, err) == (1, "", f"Fout: {case.message}\n")
        assert snapshot(initialised, tmp_path) == before
    else:
        assert code == 0, err
        assert names(initialised) == {"a@voorbeeld.be": case.stored}


@pytest.mark.parametrize("case", NAMES, ids=[c.id for c in NAMES])
def test_name_through_subscribers_import(initialised: Database, capsys, tmp_path: Path,
                                         case: Name) -> None:
    path = tmp_path / "l.csv"
    quoted = case.typed.replace('"', '""')
    path.write_bytes(f'E-mailadres;Naam\r\na@voorbeeld.be;"{quoted}"\r\n'.encode())
    before = snapshot(initialised, tmp_path)
    code, out, err = run(capsys, "subscribers", "import", str(path), "--consent-source", "x")
    assert "Traceback" not in out + err
    if "\x00" in case.typed:  # a NUL byte makes the whole file "not text": refused as a file
        assert (code, out) == (1, "")
        line = 2 + case.typed[:case.typed.index("\x00")].count("\n")
        assert err.startswith(f"Fout: l.csv, regel {line}: het bestand bevat NUL-bytes")
        assert snapshot(initialised, tmp_path) == before
    elif case.message is not None:
        assert code == 1 and out == ""
        assert err == ("Fout: l.csv: 1 rij(en) geweigerd, niets geïmporteerd:\n"
                       f"l.csv, rij 2: {case.message}\n")
        assert snapshot(initialised, tmp_path) == before
    else:
        assert code == 0, err
        assert names(initialised) == {"a@voorbeeld.be": case.stored}


@pytest.fixture
def provider() -> RecordingProvider:
    return RecordingProvider()


def _subscriber(db: Database) -> Subscriber:
    with db.session() as session:
        return session.scalars(select(Subscriber)).one()


@pytest.mark.parametrize("case", NAMES, ids=[c.id for c in NAMES])
def test_name_through_the_form_and_the_preferences_page(db: Database, db_settings: Settings,
                                                        clock: FixedClock,
                                                        provider: RecordingProvider,
                                                        case: Name) -> None:
    # The public form: a new address, the name as typed.
    def form() -> None:
        with db.session() as session:
            subscribe(session, provider, clock, db_settings, email="form@voorbeeld.be",
                      name=case.typed)

    with db.session() as session:
        add_subscriber(session, provider, clock, db_settings, email="pref@voorbeeld.be",
                       name="Eerst", consent_source="formulier")
    person = _subscriber(db)
    token = make_token(db_settings, clock, Purpose.PREFERENCES, person.email_hash)

    def preferences() -> None:
        with db.session() as session:
            update_preferences(session, clock, db_settings, token, name=case.typed)

    for entry in (form, preferences):
        if case.message is not None:
            with pytest.raises(SubscriberError) as raised:
                entry()
            assert str(raised.value) == case.message
        else:
            entry()
    with db.session() as session:
        stored = {s.email: s.name for s in session.scalars(select(Subscriber))}
    if case.message is not None:
        assert stored == {"pref@voorbeeld.be": "Eerst"}
    else:
        assert stored == {"pref@voorbeeld.be": case.stored, "form@voorbeeld.be": case.stored}


# ---------------------------------------------------------------- look-alike addresses


@pytest.fixture
def listed(initialised: Database, capsys) -> Database:
    """One person on the list, one address suppressed."""
    for argv in (("subscribers", "add", "bestaand@voorbeeld.be", "--consent-source", "formulier"),
                 ("subscribers", "add", "weg@example.org", "--consent-source", "formulier"),
                 ("subscribers", "remove", "weg@example.org")):
        code, _, err = run(capsys, *argv)
        assert code == 0, err
    return initialised


ADDRESSES = [
    ("weg@ехample.org",  # Cyrillic е and х
     ["Let op: 'ехample' in weg@ехample.org mengt letters uit verschillende schriften "
      "(Cyrillisch en Latijns); controleer of het adres echt zo gespeld is",
      "Let op: weg@ехample.org lijkt op een adres op de blokkeerlijst (tekens uit een ander "
      "schrift); wie zich uitschreef, mag niet via een gelijkend adres terugkomen: controleer het "
      "adres en verwijder het als het niet klopt"]),
    ("weg@ехаmрlе.org",  # only Latin 'm': the whole label all but one letter Cyrillic
     ["Let op: 'ехаmрlе' in weg@ехаmрlе.org mengt letters uit verschillende schriften "
      "(Cyrillisch en Latijns); controleer of het adres echt zo gespeld is",
      "Let op: weg@ехаmрlе.org lijkt op een adres op de blokkeerlijst (tekens uit een ander "
      "schrift); wie zich uitschreef, mag niet via een gelijkend adres terugkomen: controleer het "
      "adres en verwijder het als het niet klopt"]),
    ("WEG@EXAMPLE.ОRG",  # a Cyrillic capital О in the top-level domain, upper-case address
     ["Let op: 'оrg' in WEG@example.оrg mengt letters uit verschillende schriften "
      "(Cyrillisch en Latijns); controleer of het adres echt zo gespeld is",
      "Let op: WEG@example.оrg lijkt op een adres op de blokkeerlijst (tekens uit een ander "
      "schrift); wie zich uitschreef, mag niet via een gelijkend adres terugkomen: controleer het "
      "adres en verwijder het als het niet klopt"]),
    ("bestаand@voorbeeld.be",  # Cyrillic а in the local part: a look-alike of a subscriber
     ["Let op: 'bestаand' in bestаand@voorbeeld.be mengt letters uit verschillende schriften "
      "(Cyrillisch en Latijns); controleer of het adres echt zo gespeld is",
      "Let op: bestаand@voorbeeld.be lijkt op bestaand@voorbeeld.be, dat al op de lijst staat "
      "(tekens uit een ander schrift); controleer het adres"]),
    ("iemand@exαmple.org",
     ["Let op: 'exαmple' in iemand@exαmple.org mengt letters uit verschillende schriften "
      "(Grieks en Latijns); controleer of het adres echt zo gespeld is"]),
    # One script per label (IDN): no warning.
    ("jan@müller.de", []),
    ("info@пример.рф", []),
    ("a@ελλάδα.gr", []),
    ("x@東京abc.jp", []),
    ("jan@xn--mller-kva.de", []),
]


@pytest.mark.parametrize(("address", "warnings"), ADDRESSES, ids=[a for a, _ in ADDRESSES])
def test_look_alike_address_is_added_with_a_warning(listed: Database, capsys, address: str,
                                                    warnings: list[str]) -> None:
    code, out, err = run(capsys, "subscribers", "add", address, "--consent-source", "formulier")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].endswith(" toegevoegd als actief (toestemming: formulier).")
    assert lines[1:] == warnings
    assert len(names(listed)) == 3  # the two of the fixture and this one


def test_the_suppressed_address_itself_is_still_refused(listed: Database, capsys,
                                                        tmp_path: Path) -> None:
    before = snapshot(listed, tmp_path)
    code, out, err = run(capsys, "subscribers", "add", "Weg@Example.org")
    assert code == 1 and out == "" and "staat op de blokkeerlijst" in err
    assert snapshot(listed, tmp_path) == before
