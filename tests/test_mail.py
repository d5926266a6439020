"""The mail normaliser: decoding, repairs recorded as defects, new text versus quotes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.core.mail import (
    HEADER_RELAYED_BY,
    Envelope,
    content_key,
    normalise_message_id,
    parse_mail,
    unflow,
)
from bot.core.people import is_same_person
from bot.core.prose import units_of
from bot.core.rules import BotIdentity, is_automated, may_answer
from bot.core.text import split_body
from bot.model import Post
from tests.mailgen import ARRIVAL, raw_mail


def parse(raw: bytes, from_line: str | None = None):
    return parse_mail(raw, Envelope(ARRIVAL, from_line))


def kinds(post) -> set[str]:
    return {d.kind for d in post.defects}


def test_rfc2047_subject_and_author_are_decoded():
    raw = raw_mail(
        subject="=?UTF-8?Q?R=C3=A9sum=C3=A9_of_the_vote?=",
        sender="=?ISO-8859-1?Q?G=F6ran_Lastname?= <goran@example.org>",
    )
    post = parse(raw)
    assert post.subject == "Résumé of the vote"
    assert post.author.name == "Göran Lastname"
    assert post.author.address == "goran@example.org"
    assert post.defects == ()


def test_undeclared_8bit_body_falls_back_and_is_recorded():
    raw = raw_mail(content_type="text/plain").replace(b"Hello.", "Grüße, Jörg".encode("latin-1"))
    post = parse(raw)
    assert post.text == "Grüße, Jörg"
    assert "undeclared-charset" in kinds(post)


def test_wrong_declared_charset_falls_back_and_is_recorded():
    raw = raw_mail(content_type="text/plain; charset=us-ascii").replace(
        b"Hello.", "naïve café".encode()
    )
    post = parse(raw)
    assert post.text == "naïve café"
    assert "wrong-charset" in kinds(post)


def test_unknown_charset_is_recorded_not_fatal():
    raw = raw_mail(content_type="text/plain; charset=x-klingon")
    post = parse(raw)
    assert post.text == "Hello."
    assert "unknown-charset" in kinds(post)


def test_format_flowed_lines_are_joined():
    assert unflow("This is a long \nparagraph.\n> quoted \n> more\n") == (
        "This is a long paragraph.\n> quoted > more\n"
    )
    raw = raw_mail(
        "A line that was \nwrapped by the client.\n",
        content_type="text/plain; charset=utf-8; format=flowed",
    )
    assert parse(raw).text == "A line that was wrapped by the client."


def test_multipart_alternative_prefers_plain_text():
    body = (
        "--b\nContent-Type: text/html\n\n<p>HTML <b>version</b></p>\n"
        "--b\nContent-Type: text/plain\n\nPlain version\n--b--\n"
    )
    raw = raw_mail(body, content_type='multipart/alternative; boundary="b"')
    post = parse(raw)
    assert post.text == "Plain version"
    assert "html-only" not in kinds(post)


def test_html_only_mail_becomes_readable_text_with_quotes_split():
    html = (
        "<html><head><style>p{}</style></head><body><p>I agree with&nbsp;this.</p>"
        "<blockquote><p>Old text</p></blockquote><ul><li>one</li><li>two</li></ul>"
        "<script>alert(1)</script></body></html>"
    )
    post = parse(raw_mail(html, content_type="text/html; charset=utf-8"))
    assert post.text == "I agree with this.\n\n- one\n\n- two"
    assert post.quoted == ("Old text",)
    assert "html-only" in kinds(post)


def test_message_id_is_normalised_and_repairs_recorded():
    assert normalise_message_id(" <a@b> ") == ("<a@b>", ())
    normalised, defects = normalise_message_id("<a@b> (added by some list server)")
    assert normalised == "<a@b>"
    assert [d.kind for d in defects] == ["message-id-junk"]
    normalised, defects = normalise_message_id("a@b")
    assert normalised == "<a@b>"
    assert [d.kind for d in defects] == ["malformed-message-id"]
    assert normalise_message_id("")[0] is None


def test_message_without_id_gets_stable_content_key():
    raw = raw_mail(message_id=None)
    post = parse(raw)
    assert post.message_id is None
    assert post.key == content_key(raw) == parse(raw).key
    assert post.key != parse(raw_mail(message_id=None, body="Other.\n")).key
    assert "missing-message-id" in kinds(post)


def test_crlf_and_lf_copies_hash_the_same():
    raw = raw_mail()
    crlf = raw.replace(b"\n", b"\r\n")
    assert parse(raw).body_hash == parse(crlf).body_hash
    assert content_key(raw) == content_key(crlf)


def test_date_falls_back_to_received_then_mbox_line_then_arrival():
    received = "Received: from a.example by b.example; Tue, 03 Nov 2026 10:00:00 +0100"
    post = parse(raw_mail(date=None, extra=received))
    assert post.created_at == datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
    assert {"missing-date", "date-from-received"} <= kinds(post)

    post = parse(raw_mail(date="RANDOM_Wed, 21 Sep 2016"), "From x@y  Wed Dec  1 08:26:40 2010")
    assert post.created_at == datetime(2010, 12, 1, 8, 26, 40, tzinfo=UTC)
    assert {"invalid-date", "date-from-mbox"} <= kinds(post)

    post = parse(raw_mail(date=None))
    assert post.created_at == ARRIVAL
    assert "date-from-arrival" in kinds(post)


def test_missing_from_is_kept_and_recorded():
    raw = b"Subject: hi\nMessage-ID: <x@y>\nDate: Mon, 02 Nov 2026 09:14:00 +0000\n\nBody\n"
    post = parse(raw)
    assert post.text == "Body"
    assert "missing-from" in kinds(post)


def test_pipermail_obfuscated_address_is_read():
    post = parse(raw_mail(sender="goran at domain.com (Goran Lastname)"))
    assert post.author.address == "goran@domain.com"
    assert post.author.name == "Goran Lastname"


def test_new_text_is_split_from_quotes_attribution_signature_and_footer():
    body = (
        "On Mon, Nov 6, 2017 at 10:00 AM, Robert Scholte <rfscholte@apache.org>\n"
        "wrote:\n"
        "> +1 from the release manager\n"
        ">> older\n"
        "\n"
        "+1 from me\n"
        "\n"
        "-- \n"
        "Dave, sent from a phone\n"
        "-----------------------------------------------------------------\n"
        "To unsubscribe, e-mail: dev-unsubscribe@maven.apache.org\n"
    )
    split = split_body(body)
    assert split.new == "+1 from me"
    assert split.quoted == ("+1 from the release manager\n> older",)


def test_list_footer_without_signature_is_dropped_but_build_log_rules_are_kept():
    body = (
        "[INFO] ------------------------------------------------------------------------\n"
        "[INFO] BUILD SUCCESS\n"
        "------------------------------------------------------------------------\n"
        "+1\n"
        "---------------------------------------------------------------------\n"
        "To unsubscribe, e-mail: dev-unsubscribe@maven.apache.org\n"
    )
    assert split_body(body).new.splitlines()[-1] == "+1"
    assert "BUILD SUCCESS" in split_body(body).new


def test_outlook_style_quote_is_not_new_text():
    body = (
        "Sounds good to me.\n\n"
        "From: Bob <bob@example.org>\nSent: Monday, November 2, 2026 10:00\n"
        "To: dev@lists.example.org\nSubject: RE: plan\n\n+1 from Bob\n"
    )
    split = split_body(body)
    assert split.new == "Sounds good to me."
    assert "+1 from Bob" in split.quoted[0]


def test_supercite_initials_quote_as_a_marker_does():
    # Emacs' supercite: "GL> " before each line of Gunnar's mail.
    body = (
        "GL> The catch is that nobody on the core team has a K&R compiler, so it\n"
        "GL> would only get tested by somebody outside.\n\n"
        "That is fine by me.\n\n"
        "HTML> is no quote, and neither is x> this.\n"
    )
    split = split_body(body)
    assert split.new == "That is fine by me.\n\nHTML> is no quote, and neither is x> this."
    assert split.quoted == (
        "The catch is that nobody on the core team has a K&R compiler, so it\n"
        "would only get tested by somebody outside.",
    )


def test_the_tail_of_a_quoted_line_that_outlook_wrapped_stays_in_the_quote():
    # Randall Becker's reply in Git's Rust thread: Outlook adds ">" and re-wraps at 76
    # columns, so the end of each long quoted line falls on a line of its own, unmarked.
    body = (
        "On September 20, 2025 4:30 Am, Sergey Fedorov wrote:\n"
        ">I am the maintainer of ports for Darwin on PowerPC systems (few past years\n"
        "in\n"
        ">MacPorts and now in a fork) and contributor to GCC (gfortran). I have added\n"
        ">To be clear, I do not object to adding Rust optionally (as I would not\n"
        "against adding\n"
        ">optional modules for any language).\n"
        "\n"
        "To clarify, gcc is not available on all platforms.\n"
    )
    split = split_body(body)
    assert split.new == "To clarify, gcc is not available on all platforms."
    assert split.quoted[0].splitlines() == [
        "I am the maintainer of ports for Darwin on PowerPC systems (few past years in",
        "MacPorts and now in a fork) and contributor to GCC (gfortran). I have added",
        "To be clear, I do not object to adding Rust optionally (as I would not against adding",
        "optional modules for any language).",
    ]


@pytest.mark.parametrize("answer", ["+1", "Agreed.", "Why not?", "-1, see below"])
def test_an_answer_written_between_quoted_lines_is_the_writers_own(answer: str):
    body = (
        "> Shall we move the loader into core and the resolver out of it, as discussed\n"
        f"{answer}\n"
        "> And the plugins?\n"
        "They stay.\n"
    )
    assert split_body(body).new.splitlines()[0] == answer


def test_a_forum_quote_in_mail_is_a_quote_not_new_text():
    # Discourse mails a post's raw text (mailing-list mode, a list mirrored from the
    # forum), so the BBCode its quote button writes arrives by mail too.
    body = (
        '[quote="alice, post:3, topic:95"]\nI am worried that the loader breaks.\n[/quote]\n\n'
        "The fallback handles that.\n\n+1\n"
    )
    split = split_body(body)
    assert split.new == "The fallback handles that.\n\n+1"
    assert split.quoted == ("I am worried that the loader breaks.",)


def test_mentions_come_from_new_text_only_and_skip_emails_and_code():
    body = (
        "@alice can you look? Mail me at bob@example.org.\n"
        "```\n@decorator\n```\n"
        "> @carol said something\n"
        "cc @dave-x\n"
    )
    post = parse(raw_mail(body))
    assert post.mentions == ("alice", "dave-x")


def test_github_mirror_threads_on_the_root_and_names_the_real_author():
    body = (
        "Looks good.\n\n--\nReply to this email directly, view it on GitHub:\n"
        "https://github.com/apache/tvm/pull/95#issuecomment-123\n"
    )
    raw = raw_mail(
        body,
        message_id="<apache/tvm/pull/95/c123@github.com>",
        sender="Jane Doe <notifications@github.com>",
        subject="Re: [apache/tvm] [RFC] New module (PR #95)",
    )
    post = parse(raw)
    assert post.thread_key == "<apache/tvm/pull/95@github.com>"
    assert post.author.name == "Jane Doe"
    assert post.url == "https://github.com/apache/tvm/pull/95#issuecomment-123"
    assert post.text == "Looks good."


def test_a_github_profile_name_is_shown_with_the_login_people_know():
    raw = raw_mail(
        "We should not stabilize this yet.\n",
        message_id="<rust-lang/rfcs/pull/2585/c1@github.com>",
        sender="Josh Triplett <notifications@github.com>",
        subject="Re: [rust-lang/rfcs] Unsafe blocks in unsafe fn (#2585)",
        extra="X-GitHub-Sender: joshtriplett",
    )
    author = parse(raw).author
    assert (author.name, author.address) == (
        "Josh Triplett (joshtriplett)",
        "joshtriplett@users.noreply.github.com",
    )


DISCUSSION = "<vuejs/rfcs/repo-discussions/369@github.com>"


def test_a_github_discussion_threads_on_its_root_and_each_comment_is_its_author():
    def comment(login: str, number: int) -> Post:
        raw = raw_mail(
            "I am not sure the new syntax pulls its weight.\n",
            message_id=f"<vuejs/rfcs/repo-discussions/369/comments/{number}@github.com>",
            sender=f"{login} <notifications@github.com>",
            subject="Re: [vuejs/rfcs] Reactivity Transform (Discussion #369)",
            extra=f"X-GitHub-Sender: {login}\nIn-Reply-To: {DISCUSSION}",
        )
        return parse(raw)

    alice, bob = comment("alice", 1), comment("bob", 2)
    assert alice.thread_key == bob.thread_key == DISCUSSION
    assert alice.url == "https://github.com/vuejs/rfcs/discussions/369"
    # GitHub sends every comment from one address: the login says who wrote it.
    assert (alice.author.address, bob.author.address) == (
        "alice@users.noreply.github.com",
        "bob@users.noreply.github.com",
    )


def test_gitbox_relay_names_the_login_from_the_subject():
    raw = raw_mail(
        "hboutemy closed pull request #13 at https://github.com/apache/maven-release/pull/13\n",
        message_id="<150951629010.5809.1@gitbox.apache.org>",
        sender="GitBox <git@apache.org>",
        subject="[GitHub] hboutemy closed pull request #13: MRELEASE-980",
    )
    post = parse(raw)
    assert post.thread_key == "<apache/maven-release/pull/13@github.com>"
    assert post.author.name == "hboutemy"


def test_gitbox_since_2023_names_the_login_as_the_sender_and_threads_by_the_item():
    # "[GitHub] [repo] login verb ..." until 2023, then the item's title as the subject and
    # the login as the display name: every comment still comes from git@apache.org.
    def comment(login: str, subject: str, number: str) -> Post:
        return parse(
            raw_mail(
                f"{login} commented on PR #482:\n"
                f"URL: https://github.com/apache/widget/pull/482#issuecomment-{number}\n\n"
                "   Looks fine to me.\n",
                message_id=f"<PR-482-{number}@gitbox.apache.org>",
                sender=f'"{login} (via GitHub)" <git@apache.org>',
                subject=subject,
            )
        )

    current = comment("bob-w", "Re: [PR] Change the default read timeout (widget)", "1")
    legacy = comment("carol-m", "[GitHub] [widget] carol-m commented on pull request #482", "2")
    assert current.thread_key == legacy.thread_key == "<apache/widget/pull/482@github.com>"
    assert (current.author.name, current.author.address) == (
        "bob-w",
        "bob-w@users.noreply.github.com",
    )
    assert legacy.author.name == "carol-m"
    # Only GitBox's own address makes a display name a login: anyone can write one.
    forged = parse(
        raw_mail(
            "bob-w commented on PR #482:\nURL: https://github.com/apache/widget/pull/482\n",
            sender='"bob-w (via GitHub)" <mallory@example.org>',
            subject="Re: [PR] Change the default read timeout (widget)",
        )
    )
    assert forged.author.address == "mallory@example.org"
    assert forged.thread_key == ""


def test_auto_submitted_is_detected_but_no_means_human():
    assert parse(raw_mail(extra="Auto-Submitted: auto-generated")).auto_submitted
    assert not parse(raw_mail(extra="Auto-Submitted: no")).auto_submitted


def test_garbage_never_raises():
    for raw in (b"", b"\x00\xff\xfe", b"Subject: =?utf-8?B?####?=\n\n", b"\n\n\n", b"From:\n\n"):
        post = parse(raw)
        assert post.key.startswith("sha256:")


def test_html_quote_with_inline_tags_is_one_quoted_line():
    post = parse(
        raw_mail(
            "<p>Yes.</p><blockquote><p>that <code>x</code> is <b>slow</b></p></blockquote>",
            content_type="text/html; charset=utf-8",
        )
    )
    assert post.text == "Yes."
    assert post.quoted == ("that x is slow",)


RELAY = "Bob Baker via dev <dev@lists.example.org>"


@pytest.mark.parametrize(
    ("sender", "extra", "author"),
    [
        # Mailman's DMARC rewrite keeps the author in Reply-To, under their name.
        (RELAY, "Reply-To: Bob Baker <bob@example.org>", ("Bob Baker via dev", "bob@example.org")),
        # Google Groups names the original sender in X-Original-From.
        (
            "'Bob Baker' via golang-dev <golang-dev@googlegroups.com>",
            "X-Original-From: Bob Baker <bob@example.org>",
            ("'Bob Baker' via golang-dev", "bob@example.org"),
        ),
        # A forum's reply-by-email address is the topic's, and a Reply-To under another
        # name is the list's: neither is the author's, who then has no address.
        (
            "Bob Baker via Example Forum <forum@discourse.example.org>",
            "Reply-To: Example Forum <reply+4f2a@discourse.example.org>",
            ("Bob Baker via Example Forum", ""),
        ),
        (RELAY, "Reply-To: dev@lists.example.org", ("Bob Baker via dev", "")),
        # Mailman may put the author in Cc instead, among others.
        (
            RELAY,
            "Cc: Carol Chen <carol@example.org>, Bob Baker <bob@example.org>",
            ("Bob Baker via dev", "bob@example.org"),
        ),
        # groups.io writes the author's address into its own.
        (
            "Bob Baker via groups.io <bob=example.org@groups.io>",
            "",
            ("Bob Baker via groups.io", "bob@example.org"),
        ),
    ],
)
def test_a_relayed_sender_is_the_person_it_names_not_the_relay(
    sender: str, extra: str, author: tuple[str, str]
):
    post = parse(raw_mail(sender=sender, extra=extra))
    assert (post.author.name, post.author.address) == author
    assert post.headers[HEADER_RELAYED_BY].startswith(sender.split(" via ")[1].split(" <")[0])


@pytest.mark.parametrize(
    ("sender", "extra", "author"),
    [
        # Gerrit sends every reviewer's comments from its own address, naming them.
        (
            '"Lukas Brandt (Code Review)" <gerrit@review.example.org>',
            "X-Gerrit-MessageType: comment\nReply-To: Lukas Brandt <lukas@example.org>",
            ("Lukas Brandt (Code Review)", "lukas@example.org"),
        ),
        # GitLab names the login; its Reply-To is the merge request's, not the author's.
        (
            '"Wen Zhao (@wzhao)" <gitlab@gitlab.example.org>',
            "X-GitLab-Project: compositor\nReply-To: GitLab <incoming+mr-412@gitlab.example.org>",
            ("Wen Zhao (@wzhao)", ""),
        ),
    ],
)
def test_a_code_review_forge_relays_each_reviewer_as_the_person_it_names(
    sender: str, extra: str, author: tuple[str, str]
):
    post = parse(raw_mail(sender=sender, extra=f"{extra}\nAuto-Submitted: auto-generated"))
    assert (post.author.name, post.author.address) == author
    assert post.headers[HEADER_RELAYED_BY].startswith("a code-review forge")
    # Read as a person speaking, never answered.
    assert not is_automated(post)
    assert not may_answer(post, BotIdentity(frozenset({"quorum@example.org"})))


def test_a_name_with_a_login_in_parentheses_is_no_relay_without_a_forges_headers():
    post = parse(raw_mail(sender='"Wen Zhao (@wzhao)" <wen@example.org>'))
    assert (post.author.address, HEADER_RELAYED_BY in post.headers) == ("wen@example.org", False)


def test_two_people_relayed_by_one_list_stay_two_people():
    alice = parse(raw_mail(sender="Alice Archer via dev <dev@lists.example.org>"))
    bob = parse(raw_mail(sender=RELAY, message_id="<m2@example.org>"))
    assert not is_same_person(alice.author, bob.author)


def test_only_the_parser_says_a_mail_was_relayed():
    forged = parse(raw_mail(extra=f"{HEADER_RELAYED_BY}: dev <dev@lists.example.org>"))
    assert forged.author.address == "alice@example.org"
    assert HEADER_RELAYED_BY not in forged.headers


def test_a_forums_mailing_list_footer_is_not_the_authors_text():
    body = (
        "I am worried that plugins parse the XML themselves.\n\n---\n"
        "[Visit Topic](https://forum.example.org/t/95/2) or reply to this email to respond.\n\n"
        "You are receiving this because you enabled mailing list mode.\n"
    )
    assert split_body(body).new == "I am worried that plugins parse the XML themselves."
    # A rule inside the text is text.
    assert split_body("One.\n\n---\n\nTwo.\n").new == "One.\n\n---\n\nTwo."


@pytest.mark.parametrize(
    "separator",
    [
        "-----Original Message-----",
        # Samsung's client, in Dutch, runs the old headers on after the separator.
        "-------- Oorspronkelijk bericht --------Van: Stephen <s@example.org> Onderwerp: Rally",
        "-------- Mensaje original --------",
        "---------- Forwarded message ---------",
    ],
)
def test_a_message_quoted_below_a_separator_is_not_the_authors_text(separator: str):
    body = f"A module must behave like one.\n\n{separator}\nThere are two sets of problems.\n"
    split = split_body(body)
    assert split.new == "A module must behave like one."
    assert split.quoted[0].endswith("There are two sets of problems.")


@pytest.mark.parametrize(
    "headers",
    [
        "From: Bob <bob@example.org>\nSent: Monday, 3 March 2025 10:00",
        "Von: Bob <bob@example.org>\nGesendet: Montag, 3. März 2025 10:00",
        "От: Bob <bob@example.org>\nОтправлено: 3 марта 2025 г. 10:00",
        "发件人: Bob <bob@example.org>\n发送时间: 2025年3月3日 10:00",
        "差出人: Bob <bob@example.org>\n送信日時: 2025年3月3日 10:00",
        "De: Bob <bob@example.org>\nEnviado: segunda-feira, 3 de março de 2025 10:00",
        "Da: Bob <bob@example.org>\nInviato: lunedì 3 marzo 2025 10:00",
        "Van: Bob <bob@example.org>\nVerzonden: maandag 3 maart 2025 10:00",
        # Under Outlook's line of underscores, the first header alone marks the old mail.
        f"{'_' * 32}\nFrom: Bob <bob@example.org>\nSent: Monday",
        f"{'_' * 32}\nDe : Bob <bob@example.org>\nSent: Monday",
    ],
)
def test_outlooks_header_block_in_its_users_languages_starts_the_quote(headers: str):
    # Outlook top-posts over the old mail without ">": its header block, in the language
    # of the writer's Outlook, is all that says where the old mail starts.
    body = f"Agreed.\n\n{headers}\nTo: dev@example.org\n\nI am worried about the LTS load.\n"
    split = split_body(body)
    assert split.new == "Agreed."
    assert "I am worried about the LTS load." in split.quoted[0]


@pytest.mark.parametrize(
    "footer",
    [
        "devel mailing list\ndevel@lists.example.org\nhttps://lists.example.org/listinfo/devel",
        "devel mailing list -- devel@lists.example.org\nTo unsubscribe write to x@example.org",
    ],
)
def test_mailmans_footer_under_its_rule_is_not_the_authors_text(footer: str):
    body = f"Agreed, done.\n\nAnneliese\n{'_' * 47}\n{footer}\n"
    assert split_body(body).new == "Agreed, done.\n\nAnneliese"


def test_a_github_review_with_several_line_comments_is_all_the_reviewers_text():
    # GitHub puts a line of underscores between the comments of one review, each under
    # the file it is on; no old mail follows.
    rule = "_" * 32
    body = (
        "@bea commented on this pull request.\n\n"
        "I have two problems with the migration story.\n\n"
        f"{rule}\n\nIn text/0057.md<https://github.com/o/rfcs/pull/57#discussion_r1>:\n\n"
        "> +The pipeline is removed in 4.0.\n\nOne release of overlap is not enough.\n\n"
        f"{rule}\n\nIn text/0057.md<https://github.com/o/rfcs/pull/57#discussion_r2>:\n\n"
        "> +Request.body becomes awaitable.\n\nThat will fail in confusing ways.\n"
    )
    split = split_body(body)
    assert "One release of overlap is not enough." in split.new
    assert "That will fail in confusing ways." in split.new
    assert split.quoted == ("+The pipeline is removed in 4.0.", "+Request.body becomes awaitable.")
    units = [u.text for u in units_of(split.new)]
    assert "One release of overlap is not enough." in units
    assert not any(set(text) == {"_"} for text in units)


def test_a_review_hunk_marked_on_its_first_line_only_is_quoted_whole():
    # GitHub's review mail puts ">" before the hunk's first line only.
    body = (
        "@mbe requested changes on this pull request.\n\nIn peridot/responses.py:\n\n"
        "> +    async def _run_deferred(self) -> None:\n"
        "+        for func in self._deferred:\n"
        "+            await func()\n\n"
        "If the first callback raises, the rest never run.\n\n"
        "In peridot/__init__.py:\n\n"
        '> @@ -41,6 +41,7 @@ __all__ = [\n     "Response",\n+    "defer",\n'
        "Exporting a top-level name makes it public for good.\n"
    )
    split = split_body(body)
    assert split.quoted == (
        "+    async def _run_deferred(self) -> None:\n"
        "+        for func in self._deferred:\n"
        "+            await func()",
        '@@ -41,6 +41,7 @@ __all__ = [\n     "Response",\n+    "defer",',
    )
    assert "self._deferred" not in split.new
    assert "If the first callback raises, the rest never run." in split.new
    assert split.new.endswith("Exporting a top-level name makes it public for good.")
    # A quoted line of prose is not a hunk: the reply under it stays the writer's.
    prose = "> We drop the old loader.\n+1, and about time.\n"
    assert split_body(prose).new == "+1, and about time."


def test_an_old_message_below_an_attribution_without_quote_marks_is_quoted():
    # Yahoo's top-posting: the attribution, then the old mail with no ">".
    body = (
        "Overall makes sense to me, but how are we going to apply it to 3.0?\n"
        "Tom\n\n"
        "On Friday, March 6, 2020, 08:59:03 PM CST, Michael Armbrust <m@example.org> wrote:\n\n\n"
        "I propose to add the following text to the policy.\n"
    )
    split = split_body(body)
    assert split.new == "Overall makes sense to me, but how are we going to apply it to 3.0?\nTom"
    assert split.quoted == ("I propose to add the following text to the policy.",)
    # Bottom-posting is unchanged: the attribution over ">" lines, the answer below.
    inline = "On Fri, Mar 6, 2020, Michael wrote:\n> I propose a policy.\n\nSounds good.\n"
    assert split_body(inline).new == "Sounds good."
