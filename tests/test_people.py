"""Who wrote a post: the address (and verified handles) decide, never a display name alone."""

from __future__ import annotations

import base64
import unicodedata
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.commands import Command, Verb, authorize
from bot.core.mail import Envelope, parse_mail
from bot.core.people import (
    People,
    TrustSettings,
    Via,
    address_key,
    came_through_list,
    parse_authentication_results,
    received_from_hosts,
)
from bot.model import Person, Post, Source
from tests.mailgen import raw_mail
from tests.test_commands import concern_by

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)
PEOPLE = People(
    {
        "Alice Archer": ("alice@example.org", "aarcher", "Alice A."),
        "Bob Bauer": ("bob@example.org",),
    },
    known=("Dana Diaz",),  # on the roster, with no address in the config
    bot_addresses=("quorum@example.org",),
    bot_name="quorum",
    trust=TrustSettings(
        list_hosts=("*.example.org",),
        list_ids=frozenset({"dev.lists.example.org"}),
        authserv_ids=frozenset({"mx.example.org"}),
    ),
)
VIA_LIST = "Received: from mail.example.org (mail.example.org [192.0.2.7]) by mx.example.org"


def post(sender: str, *, via: str = "smtp", extra: str = "", message_id: str = "<p@x>") -> Post:
    raw = raw_mail("Hello.\n", sender=sender, message_id=message_id, extra=extra)
    return parse_mail(raw, Envelope(T0, via=via))


def mirror(login: str, *, via: str = "smtp", extra: str = "") -> Post:
    headers = f"X-GitHub-Sender: {login}\nList-Id: <dev.lists.example.org>\n{extra}"
    return post(
        f"{login} <notifications@github.com>",
        via=via,
        extra=headers,
        message_id="<example/repo/issues/7/c1@github.com>",
    )


@pytest.mark.parametrize(
    "author",
    [
        Person("Whoever", "ALICE@example.org"),
        Person("Alice", "aarcher@users.noreply.github.com"),
        Person("Alice", "12345+aarcher@users.noreply.github.com"),
    ],
)
def test_addresses_and_logins_identify(author: Person):
    assert PEOPLE.person_of(author) == "Alice Archer"
    assert PEOPLE.claims(author) is None


@pytest.mark.parametrize(
    "author",
    [
        Person("Alice Archer", "mallory@evil.example"),
        Person("alice archer", ""),
        Person("Alice A.", "mallory@evil.example"),  # a display-name alias names, never proves
        Person("aarcher", "mallory@evil.example"),
        Person("Alice Archer <alice@example.org>", "mallory@evil.example"),
        Person("alice@example.org", "mallory@evil.example"),
        Person("Alice Archer (via JIRA)", "jira@apache.org"),
    ],
)
def test_a_display_name_only_claims_the_person_it_names(author: Person):
    assert PEOPLE.person_of(author) is None
    assert PEOPLE.claims(author) == "Alice Archer"
    assert not PEOPLE.is_person(author, "Alice Archer")


def test_people_known_by_name_only_are_recognised_by_name_and_say_so():
    found = PEOPLE.author_of(post("Dana Diaz <dana@anywhere.example>"))
    assert (found.name, found.configured, found.by_name, found.verified) == (
        "Dana Diaz",
        True,
        True,
        True,
    )
    assert "no address" in found.how


def test_the_bots_own_name_from_elsewhere_is_a_claim():
    assert PEOPLE.claims(Person("quorum", "mallory@evil.example")) == "quorum"
    assert PEOPLE.is_bot(Person("quorum", "QUORUM@example.org"))


def test_a_borrowed_name_is_unverified_with_the_reason():
    found = PEOPLE.author_of(post("Alice Archer <mallory@evil.example>"))
    assert not found.verified
    assert found.claims == "Alice Archer"
    assert "mallory@evil.example is not one of Alice Archer's addresses" in found.problem
    assert found.key != PEOPLE.author_of(post("Alice Archer <alice@example.org>")).key


def test_strangers_with_one_name_from_two_addresses_are_one_voice():
    one = PEOPLE.author_of(post("Tamás C <tamas@one.example>"))
    two = PEOPLE.author_of(post("Tamás C <tamas@two.example>"))
    assert one.key == two.key
    assert one.verified
    assert not one.configured


# -- GitHub mirror mail ----------------------------------------------------------------


def test_mirror_mail_from_an_imported_archive_is_trusted_as_far_as_the_archive():
    found = PEOPLE.author_of(mirror("aarcher", via="archive"))
    assert (found.name, found.verified) == ("Alice Archer", True)
    assert "imported archive" in found.how


@pytest.mark.parametrize(
    ("extra", "verified"),
    [
        ("", False),  # hand-made: nothing shows it came through the list
        (VIA_LIST, True),
        ("Received: from evil.example (evil.example [203.0.113.9]) by mx.example.org", False),
        # the list host only in the HELO, while our MTA saw another host: not the list
        ("Received: from mail.example.org (evil.example [203.0.113.9]) by mx.example.org", False),
        ("Authentication-Results: mx.example.org; dkim=pass header.d=github.com", True),
        ("Authentication-Results: mx.example.org; arc=pass (i=1)", True),
        # anyone can write an Authentication-Results header; only ours count
        ("Authentication-Results: evil.example; dkim=pass header.d=github.com", False),
        ("Authentication-Results: mx.example.org; dkim=fail header.d=github.com", False),
    ],
)
def test_mirror_mail_over_smtp_names_its_login_only_when_it_came_through_the_list(
    extra: str, verified: bool
):
    found = PEOPLE.author_of(mirror("aarcher", extra=extra))
    assert found.verified is verified
    if verified:
        assert found.name == "Alice Archer"
    else:
        assert "did not come through the list" in found.problem


def test_the_list_id_must_match_when_list_ids_are_configured():
    other = replace(mirror("aarcher", extra=VIA_LIST), list_id="<users.lists.example.org>")
    through, why = came_through_list(other, PEOPLE.trust)
    assert not through
    assert "users.lists.example.org" in why


def test_without_trust_settings_smtp_mirror_mail_is_unverified():
    found = People({"Alice Archer": ("aarcher",)}).author_of(mirror("aarcher", extra=VIA_LIST))
    assert not found.verified
    assert "no [trust]" in found.problem


def test_a_dmarc_failure_reported_by_our_mta_makes_the_from_unverified():
    extra = "Authentication-Results: mx.example.org; dmarc=fail header.from=example.org"
    assert not PEOPLE.author_of(post("Bob Bauer <bob@example.org>", extra=extra)).verified
    imported = PEOPLE.author_of(post("Bob Bauer <bob@example.org>", extra=extra, via="archive"))
    assert imported.verified  # an archive is trusted as far as it is


def test_forum_usernames_are_handles_the_forum_vouches_for():
    forum = Post(
        Source.DISCOURSE, "discourse:f:1", None, "t", Person("Alice", "aarcher"), T0, "", ""
    )
    found = PEOPLE.author_of(forum)
    assert (found.name, found.via, found.verified) == ("Alice Archer", Via.FORUM, True)


def test_authentication_results_and_received_are_read_leniently():
    [dkim, spf] = parse_authentication_results(
        "MX.Example.org 1; dkim=pass (good sig) header.d=github.com header.s=pf; spf=none"
    )
    assert (dkim.authserv_id, dkim.method, dkim.result) == ("mx.example.org", "dkim", "pass")
    assert dkim.properties["header.d"] == "github.com"
    assert spf.result == "none"
    assert received_from_hosts(VIA_LIST[len("Received: ") :]) == (
        "mail.example.org",
        "192.0.2.7",
    )
    assert received_from_hosts("by mx.example.org with ESMTP") == ()


def test_an_alias_claimed_by_two_people_is_refused():
    with pytest.raises(ValueError, match="claimed by both"):
        People({"Alice": ("a@example.org",), "Al": ("A@example.org",)})


# -- commands ---------------------------------------------------------------------------


def _command(verb: Verb, sent: Post) -> Command:
    return Command(verb, "perf", "", sent.key, sent.author, T0, 1, f"@quorum {verb.value} perf")


@pytest.mark.parametrize("verb", [Verb.WITHDRAW, Verb.RESOLVE, Verb.HOLD])
def test_a_command_from_a_borrowed_name_is_refused_saying_why(verb: Verb):
    forged = post("Bob Bauer <mallory@evil.example>")
    bob = Person("Bob Bauer", "bob@example.org")
    verdict = authorize(
        _command(verb, forged),
        forged.author,
        concern_by(bob),
        {"Bob Bauer"},
        people=PEOPLE,
        post=forged,
    )
    assert not verdict.allowed
    assert verdict.reason.startswith("I cannot verify who sent it: the name 'Bob Bauer'")


def test_the_real_sender_and_a_name_only_maintainer_are_authorized():
    bob = post("Bob Bauer <BOB@example.org>")
    verdict = authorize(
        _command(Verb.WITHDRAW, bob),
        bob.author,
        concern_by(Person("Bob Bauer", "bob@example.org")),
        people=PEOPLE,
        post=bob,
    )
    assert verdict.allowed
    dana = post("Dana Diaz <dana@anywhere.example>")
    hold = authorize(
        _command(Verb.HOLD, dana), dana.author, None, {"Dana Diaz"}, people=PEOPLE, post=dana
    )
    assert hold.allowed


@settings(max_examples=200, deadline=None)
@given(name=st.text(max_size=60))
def test_no_display_name_ever_supplies_the_address(name: str):
    """Whatever an encoded display name says, the address is the one after it."""
    encoded = "=?utf-8?b?" + base64.b64encode(name.encode("utf-8", "surrogatepass")).decode() + "?="
    raw = raw_mail("+1\n", sender=f"{encoded} <mallory@evil.example>")
    found = parse_mail(raw, Envelope(T0, via="smtp"))
    assert found.author.address == "mallory@evil.example"
    assert PEOPLE.person_of(found.author) is None


# -- Mail a list or forum relays from its own address -----------------------------------


def test_an_address_a_relay_passes_on_is_no_proof_over_smtp():
    relayed = "Bob Bauer via dev <dev@lists.example.org>"
    mine = "Reply-To: Bob Bauer <bob@example.org>"
    found = PEOPLE.author_of(post(relayed, extra=mine))
    assert not found.verified  # the list signs its own From, not Bob's Reply-To
    assert "relayed by dev <dev@lists.example.org>" in found.problem
    # An archive the operator chose is trusted for what it published, as for any From.
    assert PEOPLE.author_of(post(relayed, extra=mine, via="archive")).verified
    # Named only in the display name: nobody's address, nobody's weight.
    forum = PEOPLE.author_of(post("Bob Bauer via Forum <forum@example.org>", via="archive"))
    assert not forum.verified


def test_addresses_compare_ignoring_case_spaces_and_folded_accents():
    # ASCII takes a shorter way than the rest; both must agree on what is one address.
    assert address_key("  Bob@Example.ORG ") == "bob@example.org"
    assert address_key("José@Exämple.org") == address_key("jose@example.org")
    assert address_key("bob@example.org") != address_key("bob@example.com")


@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_an_ascii_address_keys_as_the_unicode_fold_would(address: str):
    folded = unicodedata.normalize("NFKD", address.strip())
    slow = "".join(c for c in folded if not unicodedata.combining(c)).casefold()
    assert address_key(address) == slow
