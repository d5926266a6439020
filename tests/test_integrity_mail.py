"""The parser under hostile and careless input: who sent it, raw UTF-8, huge headers."""

from __future__ import annotations

import base64

import pytest

from bot.core.commands import MAX_COMMANDS_PER_POST, Command, CommandError, parse_commands
from bot.core.mail import (
    MAX_REFERENCES,
    MAX_TEXT_CHARS,
    Envelope,
    bound_header_fields,
    parse_mail,
)
from bot.core.rfc_links import MAX_LINK_MENTIONS, post_tokens
from bot.core.text import MAX_MENTIONS
from bot.model import Post
from tests.mailgen import ARRIVAL, raw_mail


def parse(raw: bytes) -> Post:
    return parse_mail(raw, Envelope(ARRIVAL))


def kinds(post: Post) -> set[str]:
    return {d.kind for d in post.defects}


def encoded(text: str) -> str:
    return f"=?utf-8?b?{base64.b64encode(text.encode()).decode()}?="


# -- the address decides who sent it ----------------------------------------------------


def test_an_encoded_display_name_never_supplies_the_address():
    sender = f"{encoded('Alice Archer <alice@example.org>')} <mallory@evil.example>"
    post = parse(raw_mail("+1 (binding)\n", sender=sender))
    assert post.author.address == "mallory@evil.example"
    assert post.author.name == "Alice Archer <alice@example.org>"
    flagged = [d for d in post.defects if d.kind == "address-in-display-name"]
    assert flagged
    assert "alice@example.org" in flagged[0].detail


def test_an_encoded_word_alone_is_a_name_without_an_address():
    post = parse(raw_mail(sender=encoded("Alice Archer <alice@example.org>")))
    assert post.author.address == ""
    assert {"malformed-from", "address-in-display-name"} <= kinds(post)


def test_a_name_repeating_the_senders_own_address_is_not_flagged():
    post = parse(raw_mail(sender='"alice@example.org" <Alice@Example.org>'))
    assert post.author.address == "alice@example.org"
    assert "address-in-display-name" not in kinds(post)


@pytest.mark.parametrize(
    "sender",
    [
        "Alice Archer <mallory@evil.example>",
        "mallory@evil.example (Alice Archer)",
        '"Alice Archer" <mallory@evil.example>',
        "=?utf-8?q?Alice_Archer?= <mallory@evil.example>",
    ],
)
def test_whatever_the_name_says_the_address_is_the_senders(sender: str):
    post = parse(raw_mail(sender=sender))
    assert (post.author.name, post.author.address) == ("Alice Archer", "mallory@evil.example")


# -- raw UTF-8 headers (8BITMIME, RFC 6532) ---------------------------------------------


def test_raw_utf8_headers_round_trip_without_a_defect():
    raw = raw_mail(sender="Jürgen Müller <juergen@example.org>", subject="[VOTE] Grüße, 1.0")
    post = parse(raw)
    assert post.author.name == "Jürgen Müller"
    assert post.subject == "[VOTE] Grüße, 1.0"
    assert "undeclared-charset" not in kinds(post)
    assert "\ufffd" not in post.author.name + post.subject


def test_raw_latin1_headers_are_guessed_and_the_guess_recorded():
    raw = raw_mail(sender="Jurgen <j@example.org>").replace(b"Jurgen", "Jürgen".encode("latin-1"))
    post = parse(raw)
    assert post.author.name == "Jürgen"
    guessed = [d for d in post.defects if d.kind == "undeclared-charset"]
    assert guessed
    assert "read as cp1252" in guessed[0].detail


def test_raw_utf8_next_to_an_encoded_word_reads_both():
    post = parse(raw_mail(subject="Résumé =?iso-8859-1?q?d=E9j=E0?= =?utf-8?q?_vu?="))
    assert post.subject == "Résumé déjà vu"


# -- bounded work per message ------------------------------------------------------------


def _references_mail(count: int, separator: bytes) -> bytes:
    ids = separator.join(b"<r%d@x.example>" % n for n in range(count))
    return raw_mail(message_id="<big@x.example>").replace(
        b"Subject:", b"References: " + ids + b"\nSubject:"
    )


@pytest.mark.parametrize("separator", [b" ", b"\n ", b""], ids=["one line", "folded", "no blanks"])
def test_800000_references_keep_the_first_and_the_latest(separator: bytes):
    post = parse(_references_mail(800_000, separator))
    assert len(post.references) == MAX_REFERENCES
    assert post.references[0] == "<r0@x.example>"
    assert post.references[-1] == "<r799999@x.example>"
    assert {"header-trimmed", "references-capped"} <= kinds(post)
    # Everything after the giant field is still read.
    assert (post.subject, post.message_id) == ("Hello", "<big@x.example>")
    assert post.text == "Hello."


def test_a_few_references_are_kept_whole():
    post = parse(_references_mail(MAX_REFERENCES, b" "))
    assert len(post.references) == MAX_REFERENCES
    assert not {"header-trimmed", "references-capped"} & kinds(post)


def test_only_overlong_fields_are_cut_and_the_body_is_untouched():
    body = b"x" * 100_000
    raw = b"Subject: s\nX-Big: " + b"y " * 40_000 + b"\nFrom: a@example.org\n\n" + body
    bounded, defects = bound_header_fields(raw)
    assert [d.kind for d in defects] == ["header-trimmed"]
    assert "X-Big" in defects[0].detail
    assert bounded.endswith(b"\n\n" + body)
    assert bounded.startswith(b"Subject: s\nX-Big: y y")
    assert b"\nFrom: a@example.org\n\n" in bounded
    assert bound_header_fields(raw_mail()) == (raw_mail(), ())


def test_a_body_of_megabytes_is_read_up_to_the_text_limit_and_says_so():
    post = parse(raw_mail("> quoted\nnew line\n" * 600_000))
    assert len(post.text) + sum(map(len, post.quoted)) <= MAX_TEXT_CHARS
    assert "text-truncated" in kinds(post)


def test_thousands_of_mentions_keep_the_first_hundred():
    post = parse(raw_mail(" ".join(f"@user{n}" for n in range(20_000)) + "\n"))
    assert post.mentions == tuple(f"user{n}" for n in range(MAX_MENTIONS))


def test_a_post_linking_thousands_of_issues_stores_a_bounded_number_of_links():
    text = " ".join(f"apache/tvm#{n}" for n in range(5_000))
    tokens = post_tokens(parse(raw_mail(text + "\n")))
    assert len(tokens.mentions) == MAX_LINK_MENTIONS


def test_a_message_of_a_thousand_commands_reads_twenty_and_says_so():
    text = "\n\n".join(f"@quorum concern c{n}: text {n}" for n in range(1_000))
    parsed = parse_commands(parse(raw_mail(text + "\n")))
    assert len(parsed) == MAX_COMMANDS_PER_POST + 1
    assert all(isinstance(command, Command) for command in parsed[:-1])
    last = parsed[-1]
    assert isinstance(last, CommandError)
    assert last.reason == "only the first 20 commands of a message are read"
