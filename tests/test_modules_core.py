"""The module registry: states, match rules, and who a maintainer is across names."""

from __future__ import annotations

import pytest

from bot.core.mail import Envelope, parse_mail
from bot.core.modules import (
    Module,
    ModuleState,
    maintainer_of,
    match_modules,
    matches,
    mentioned_paths,
    path_matches,
)
from bot.core.people import People
from bot.model import Person, Post
from tests.mailgen import ARRIVAL, raw_mail

OBJSTORE = Module(
    name="objstore",
    state=ModuleState.S0,
    maintainers=("Hervé Boutemy",),
    keywords=("objstore", "object store"),
    tags=("objstore",),
    paths=("contrib/objstore/**",),
    categories=("Object Store",),
)
AUTH = Module(name="auth", state=ModuleState.S2, maintainers=("Bob Baker",), keywords=("C++",))
IDENTITIES = People(
    {
        "Hervé Boutemy": ("herve.boutemy@free.fr", "hboutemy", "U024BE7LH", "Hervé BOUTEMY"),
        "Bob Baker": ("bob@example.org", "@bbaker"),
    }
)


def mail(body: str = "Hello.\n", subject: str = "Hello", **kwargs: str) -> Post:
    return parse_mail(raw_mail(body, subject=subject, **kwargs), Envelope(ARRIVAL))


def test_every_state_explains_itself_in_one_line():
    for state in ModuleState:
        assert state.explanation
        assert "\n" not in state.explanation
    assert ModuleState.S0.explanation == "new, isolated in its own namespace, and can be turned off"
    assert ModuleState("deprecated") is ModuleState.DEPRECATED


@pytest.mark.parametrize(
    ("subject", "body", "expected"),
    [
        ("Retries in ObjStore", "", True),
        ("Hello", "Should the Object Store retry?", True),
        ("Hello", "myobjstores is a different thing", False),
        ("[RFC][ObjStore] retries", "", True),
        ("Re: [DISCUSS] [objstore] retries", "", True),
        ("[objstorage] retries", "", False),
        ("objstore-nightly #12 failed", "", True),
    ],
)
def test_match_rules(subject: str, body: str, expected: bool):
    assert matches(mail(body or "Hello.\n", subject=subject), OBJSTORE) is expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("I changed contrib/objstore/s3/client.py", True),
        ("See https://github.com/acme/q/blob/main/contrib/objstore/x.py.", True),
        ("at Client.get(contrib/objstore/Client.java:12)", True),
        ("Trace:\n\n    File contrib/objstore/s3.py, line 3\n", True),
        ("I changed contrib/objstore2/x.py", False),
        ("I changed lib/contrib/auth/x.py", False),
    ],
)
def test_paths_mentioned_anywhere_in_the_text(body: str, expected: bool):
    by_path = Module("objstore", ModuleState.S0, (), paths=("contrib/objstore/**",))
    assert matches(mail(body), by_path) is expected


def test_keywords_ending_in_punctuation_still_need_a_boundary():
    assert matches(mail("The C++ client crashes."), AUTH)
    assert not matches(mail("The C++x client crashes."), AUTH)


def test_categories_come_from_the_caller():
    post = mail()
    assert match_modules(post, (OBJSTORE, AUTH), ("object-store",)) == (OBJSTORE,)
    assert match_modules(post, (OBJSTORE, AUTH)) == ()


def test_modules_come_back_in_registry_order():
    post = mail("objstore and C++ both", subject="Hello")
    assert match_modules(post, (AUTH, OBJSTORE)) == (AUTH, OBJSTORE)


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("contrib/objstore/**", "contrib/objstore/s3/client.py", True),
        ("contrib/objstore", "contrib/objstore/client.py", True),
        ("contrib/objstore", "contrib/objstorage/client.py", False),
        ("contrib/objstore/", "repo/contrib/objstore/a.py", True),
        ("src/*.py", "src/a.py", True),
        ("src/*.py", "src/a/b.py", False),
        ("**/test_objstore*.py", "tests/unit/test_objstore_s3.py", True),
        ("**/test_objstore*.py", "tests/unit/test_auth.py", False),
        ("docs/?.md", "docs/a.md", True),
    ],
)
def test_path_globs(pattern: str, path: str, expected: bool):
    assert path_matches(pattern, path) is expected


def test_mentioned_paths_drop_diff_prefixes_and_punctuation():
    text = "--- a/contrib/objstore/x.py\n+++ b/contrib/objstore/x.py\nsee ./docs/objstore.md."
    assert mentioned_paths(text) == ("contrib/objstore/x.py", "docs/objstore.md")


@pytest.mark.parametrize(
    "author",
    [
        Person("Somebody", "Herve.Boutemy@free.fr"),
        Person("hboutemy", "hboutemy@users.noreply.github.com"),
        Person("Hervé", "12345+hboutemy@users.noreply.github.com"),
    ],
)
def test_one_person_many_names(author: Person):
    assert IDENTITIES.person_of(author) == "Hervé Boutemy"
    assert IDENTITIES.is_person(author, "herve boutemy")
    assert maintainer_of(author, OBJSTORE, IDENTITIES) == "Hervé Boutemy"
    assert maintainer_of(author, AUTH, IDENTITIES) is None


@pytest.mark.parametrize(
    "author",
    [Person("HERVE BOUTEMY", ""), Person("Hervé Boutemy", "mallory@evil.example")],
)
def test_a_name_alone_is_not_the_person_it_names(author: Person):
    # Hervé has addresses and a login in the config: his name from elsewhere only claims him.
    assert IDENTITIES.person_of(author) is None
    assert IDENTITIES.claims(author) == "Hervé Boutemy"
    assert maintainer_of(author, OBJSTORE, IDENTITIES) is None


def test_strangers_are_nobody_but_still_match_their_own_name():
    stranger = Person("Carol Chen", "carol@example.org")
    assert IDENTITIES.person_of(stranger) is None
    assert People().is_person(stranger, "Carol Chen")
    assert not IDENTITIES.is_person(stranger, "Bob Baker")


def test_mentions_by_handle_slack_id_and_full_name():
    post = mail("@hboutemy and <@U024BE7LH> and Bob Baker: thoughts?\n")
    assert IDENTITIES.mentioned(post) == ("Hervé Boutemy", "Bob Baker")
    assert IDENTITIES.mentions(mail("@BBaker, please look.\n"), "bob baker")
    assert IDENTITIES.person_of_handle("@bbaker") == "Bob Baker"


def test_first_names_code_quotes_and_attributions_are_not_mentions():
    body = (
        "Hervé BOUTEMY wrote on 2017-11-28 02:20:\n"
        "Thanks Bob, I agree.\n\n"
        "    run_as('Bob Baker')\n\n"
        "> Bob Baker: what about @hboutemy?\n"
    )
    assert IDENTITIES.mentioned(mail(body)) == ()


def test_an_alias_claimed_twice_is_a_configuration_error():
    with pytest.raises(ValueError, match="claimed by both"):
        People({"Alice Archer": ("alice@example.org",), "Al": ("ALICE@example.org",)})
