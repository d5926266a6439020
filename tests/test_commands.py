"""The bot command grammar: new text only, never quotes or code; errors and refusals as replies."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.commands import (
    Command,
    CommandError,
    ResolvePolicy,
    Verb,
    authorize,
    error_reply,
    help_text,
    parse_commands,
)
from bot.core.concerns import Concern, ConcernSource, ConcernState, LedgerSettings, build_ledger
from bot.core.mail import Envelope, parse_mail
from bot.core.text import prose
from bot.model import Person, Post
from tests.mailgen import ARRIVAL, raw_mail

ALICE = Person("Alice Archer", "alice@example.org")
BOB = Person("Bob Baker", "bob@example.org")
CAROL = Person("Carol Chen", "carol@example.org")
MAINTAINERS = frozenset({"carol@example.org"})
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def mail(
    body: str,
    *,
    sender: str = "Alice Archer <alice@example.org>",
    message_id: str = "<m1@example.org>",
    in_reply_to: str | None = None,
    minutes: int = 0,
) -> Post:
    """A post made the way real ones are: raw bytes through the mail normaliser."""
    date = (T0 + timedelta(minutes=minutes)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    extra = f"In-Reply-To: {in_reply_to}\nReferences: {in_reply_to}" if in_reply_to else ""
    raw = raw_mail(
        body, sender=sender, message_id=message_id, date=date, extra=extra, subject="[RFC] Cache"
    )
    return parse_mail(raw, Envelope(ARRIVAL))


def commands(body: str, handle: str = "quorum") -> tuple[Command | CommandError, ...]:
    return parse_commands(mail(body), handle)


def only(body: str) -> Command:
    parsed = commands(body)
    assert len(parsed) == 1, parsed
    assert isinstance(parsed[0], Command), parsed[0]
    return parsed[0]


def error(body: str) -> CommandError:
    parsed = commands(body)
    assert len(parsed) == 1, parsed
    assert isinstance(parsed[0], CommandError), parsed[0]
    return parsed[0]


# --------------------------------------------------------------------------
# Grammar
# --------------------------------------------------------------------------


def test_every_verb_is_read_from_new_text():
    body = (
        "Thanks for the RFC.\n\n"
        "@quorum concern cache-size: the cache grows without bound\n"
        "@quorum resolve old-point\n"
        "@quorum withdraw other-point\n"
        "@quorum hold waiting for the security review\n"
        "@quorum unhold\n"
        "@quorum help\n"
    )
    parsed = commands(body)
    assert all(isinstance(c, Command) for c in parsed)
    assert [(c.verb, c.name) for c in parsed if isinstance(c, Command)] == [
        (Verb.CONCERN, "cache-size"),
        (Verb.RESOLVE, "old-point"),
        (Verb.WITHDRAW, "other-point"),
        (Verb.HOLD, None),
        (Verb.UNHOLD, None),
        (Verb.HELP, None),
    ]
    concern = parsed[0]
    assert isinstance(concern, Command)
    assert concern.text == "the cache grows without bound"
    assert concern.actor == ALICE
    assert concern.line == 3
    hold = parsed[3]
    assert isinstance(hold, Command)
    assert hold.text == "waiting for the security review"


def test_verbs_and_names_are_case_insensitive_and_names_are_ids():
    command = only("@Quorum RESOLVE Cache-Size\n")
    assert (command.verb, command.name) == (Verb.RESOLVE, "cache-size")


def test_concern_text_may_wrap_onto_following_lines():
    command = only("@quorum concern perf: the new index doubles\nwrite latency on large tables\n")
    assert command.text == "the new index doubles write latency on large tables"


def test_quoted_commands_are_ignored():
    body = (
        "Fair enough, I am fine with that.\n\n"
        "On Mon, 2 Nov 2026 at 09:00, Bob Baker <bob@example.org> wrote:\n"
        "> @quorum concern perf: this will be slow\n"
        "> @quorum resolve perf\n"
    )
    post = mail(body)
    assert "@quorum" not in post.text  # the normaliser moved the quote out of the new text
    assert any("@quorum resolve perf" in q for q in post.quoted)
    assert parse_commands(post) == ()


def test_outlook_quoted_commands_are_ignored():
    body = (
        "Agreed.\n\n"
        "-----Original Message-----\n"
        "From: Bob Baker <bob@example.org>\n"
        "Sent: Monday, November 2, 2026 9:00 AM\n"
        "@quorum withdraw perf\n"
    )
    assert commands(body) == ()


@pytest.mark.parametrize(
    "body",
    [
        "Use it like this:\n\n```\n@quorum resolve perf\n```\n",
        "Or with tildes:\n\n~~~text\n@quorum concern perf: slow\n~~~\n",
        "An indented example:\n\n    @quorum resolve perf\n",
        "A tab-indented example:\n\n\t@quorum withdraw perf\n",
        "`@quorum resolve perf` is how you resolve one.\n",
        "Write `@quorum help` to see the list.\n",
    ],
    ids=["backtick-fence", "tilde-fence", "indented", "tab", "inline-at-start", "inline-mid"],
)
def test_commands_in_code_are_ignored(body: str):
    assert commands(body) == ()


def test_a_command_after_a_closed_fence_still_counts():
    body = "Example:\n\n```\n@quorum resolve perf\n```\n\n@quorum resolve real-one\n"
    command = only(body)
    assert (command.verb, command.name) == (Verb.RESOLVE, "real-one")


def test_mentions_in_prose_and_other_handles_are_not_commands():
    body = (
        "As @quorum said in its summary, we are close.\n"
        "@quorum-bot help\n"
        "@quorum.example.org is the bot's site.\n"
        "Mail quorum@example.org with questions.\n"
    )
    assert commands(body) == ()


def test_the_handle_is_configurable():
    body = "@qbot resolve perf\n@quorum resolve other\n"
    parsed = commands(body, handle="@QBot")
    assert [(c.verb, c.name) for c in parsed if isinstance(c, Command)] == [(Verb.RESOLVE, "perf")]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("@quorum", "no command after @quorum"),
        ("@quorum frobnicate perf", "unknown command 'frobnicate'"),
        ("@quorum reslove perf", "Did you mean `resolve`?"),
        ("@quorum concern", "needs a NAME"),
        ("@quorum concern: the cache is slow", "needs a NAME"),
        ("@quorum concern perf", "concern 'perf' has no text"),
        ("@quorum concern perf:", "concern 'perf' has no text"),
        ("@quorum concern two words: text", "'two words' is not a valid concern NAME"),
        ("@quorum concern the cache is slow", "needs a colon"),
        ("@quorum resolve", "`resolve` needs the NAME"),
        ("@quorum withdraw", "`withdraw` needs the NAME"),
        ("@quorum resolve perf!", "'perf!' is not a valid concern NAME"),
    ],
)
def test_malformed_commands_become_errors_with_a_reason(line: str, reason: str):
    found = error(f"Some prose.\n\n{line}\n")
    assert reason in found.reason
    assert found.source == line
    assert found.actor == ALICE


def test_an_error_becomes_a_reply_to_the_post_that_made_it():
    found = error("@quorum concern perf\n")
    action = error_reply(found)
    assert action.kind == "reply"
    assert action.target == "<m1@example.org>"
    assert "@quorum concern perf" in action.text
    assert found.reason in action.text
    assert "@quorum help" in action.text
    assert action.key == error_reply(found).key  # the outbox can de-duplicate it


def test_help_lists_every_command_with_the_configured_handle():
    text = help_text("qbot")
    for usage in ("concern NAME: text", "resolve NAME", "withdraw NAME", "hold", "unhold"):
        assert f"@qbot {usage}" in text


def test_prose_keeps_line_count_and_masks_code():
    text = "a `b` c\n\n```\ncode\n```\nd"
    masked = prose(text).splitlines()
    assert len(masked) == len(text.splitlines())
    assert masked[0] == "a     c"
    assert masked[3] == ""


# --------------------------------------------------------------------------
# Authorization
# --------------------------------------------------------------------------


def concern_by(person: Person, name: str = "perf") -> Concern:
    return Concern(
        thread="<t@x>",
        id=name,
        title="Perf",
        text="slow",
        raised_by=person,
        raised_at=T0,
        post="<m1@example.org>",
        source=ConcernSource.COMMAND,
    )


def command(verb: Verb, name: str | None, actor: Person) -> Command:
    return Command(verb, name, "", "<m2@example.org>", actor, T0, 1, f"@quorum {verb.value}")


@pytest.mark.parametrize(
    ("verb", "actor", "allowed"),
    [
        (Verb.RESOLVE, BOB, True),  # its author
        (Verb.RESOLVE, CAROL, True),  # a maintainer
        (Verb.RESOLVE, ALICE, False),  # somebody else
        (Verb.WITHDRAW, BOB, True),
        (Verb.WITHDRAW, CAROL, False),  # not even a maintainer withdraws someone's concern
        (Verb.WITHDRAW, ALICE, False),
        (Verb.HOLD, CAROL, True),
        (Verb.HOLD, BOB, False),
        (Verb.CONCERN, ALICE, True),
        (Verb.HELP, ALICE, True),
    ],
)
def test_who_may_do_what(verb: Verb, actor: Person, allowed: bool):
    verdict = authorize(command(verb, "perf", actor), actor, concern_by(BOB), MAINTAINERS)
    assert verdict.allowed is allowed
    assert bool(verdict.reason) is not allowed


def test_refusals_say_who_could_have_done_it():
    resolve = authorize(command(Verb.RESOLVE, "perf", ALICE), ALICE, concern_by(BOB), MAINTAINERS)
    assert resolve.reason == "only Bob Baker, who raised 'perf', or a maintainer may resolve it"
    withdraw = authorize(command(Verb.WITHDRAW, "perf", CAROL), CAROL, concern_by(BOB), ())
    assert withdraw.reason == "only Bob Baker, who raised 'perf', may withdraw it"
    missing = authorize(command(Verb.RESOLVE, "nope", BOB), BOB, None, MAINTAINERS)
    assert missing.reason == "there is no concern named 'nope' in this thread"


def test_a_borrowed_display_name_does_not_authorize():
    impostor = Person("Bob Baker", "mallory@example.net")
    verdict = authorize(command(Verb.WITHDRAW, "perf", impostor), impostor, concern_by(BOB), ())
    assert not verdict.allowed


def test_roster_entries_match_addresses_or_names():
    by_name = authorize(command(Verb.HOLD, None, CAROL), CAROL, None, {"carol chen"})
    assert by_name.allowed


# --------------------------------------------------------------------------
# Commands in a thread: the ledger applies them and owes replies
# --------------------------------------------------------------------------


def thread(*bodies: tuple[str, str]) -> list[Post]:
    """Posts from (sender, body) pairs, each replying to the one before."""
    posts: list[Post] = []
    for index, (sender, body) in enumerate(bodies):
        parent = posts[-1].message_id if posts else None
        posts.append(
            mail(
                body,
                sender=sender,
                message_id=f"<m{index + 1}@example.org>",
                in_reply_to=parent,
                minutes=index * 10,
            )
        )
    return posts


ALICE_FROM = "Alice Archer <alice@example.org>"
BOB_FROM = "Bob Baker <bob@example.org>"
CAROL_FROM = "Carol Chen <carol@example.org>"
SETTINGS = LedgerSettings(maintainers=MAINTAINERS)
LATER = T0 + timedelta(days=1)


def test_an_unauthorized_resolve_is_refused_with_a_reply():
    posts = thread(
        (ALICE_FROM, "We propose a shared cache."),
        (BOB_FROM, "@quorum concern perf: the cache grows without bound\n"),
        (ALICE_FROM, "Bounded now.\n\n@quorum resolve perf\n"),
    )
    ledger = build_ledger("<m1@example.org>", posts, LATER, SETTINGS)
    perf = ledger.get("perf")
    assert perf is not None
    assert perf.state is ConcernState.ANSWERED  # answered by Alice, not resolved by her
    assert perf.source is ConcernSource.COMMAND
    [reply] = ledger.actions
    assert reply.target == "<m3@example.org>"
    assert "only Bob Baker, who raised 'perf', or a maintainer may resolve it" in reply.text


def test_an_authorized_resolve_and_a_withdraw_change_state():
    posts = thread(
        (ALICE_FROM, "We propose a shared cache."),
        (BOB_FROM, "@quorum concern perf: unbounded\n@quorum concern api: breaks clients\n"),
        (CAROL_FROM, "@quorum resolve perf\n"),
        (BOB_FROM, "@quorum withdraw api\n"),
    )
    ledger = build_ledger("<m1@example.org>", posts, LATER, SETTINGS)
    perf, api = ledger.get("perf"), ledger.get("api")
    assert perf is not None
    assert api is not None
    assert (perf.state, perf.resolved_by and perf.resolved_by.post) == (
        ConcernState.RESOLVED,
        "<m3@example.org>",
    )
    assert (api.state, api.withdrawn_by and api.withdrawn_by.author) == (
        ConcernState.WITHDRAWN,
        "Bob Baker",
    )
    assert ledger.actions == ()


def test_malformed_commands_and_help_in_a_thread_are_answered():
    posts = thread(
        (ALICE_FROM, "We propose a shared cache."),
        (BOB_FROM, "@quorum concern perf\n"),
        (CAROL_FROM, "@quorum help\n"),
        (BOB_FROM, "@quorum concern perf: slow\n@quorum concern perf: again\n"),
    )
    ledger = build_ledger("<m1@example.org>", posts, LATER, SETTINGS)
    assert [e.reason for e in ledger.errors] == [
        "concern 'perf' has no text; write @quorum concern perf: what worries you"
    ]
    targets = [(a.target, a.key.split(":")[1]) for a in ledger.actions]
    assert targets == [
        ("<m2@example.org>", "command-error"),
        ("<m3@example.org>", "help"),
        ("<m4@example.org>", "command-refused"),  # the second 'perf' would clash
    ]
    json.dumps(ledger.to_dict())  # everything the CLI and templates get is plain data


@pytest.mark.parametrize(
    ("policy", "actor", "allowed"),
    [
        (ResolvePolicy.AUTHOR_OR_MAINTAINER, CAROL, True),
        (ResolvePolicy.AUTHOR_OR_MAINTAINER, ALICE, False),
        (ResolvePolicy.AUTHOR_ONLY, CAROL, False),  # not even a maintainer
        (ResolvePolicy.AUTHOR_ONLY, BOB, True),
        (ResolvePolicy.ANYONE, ALICE, True),
    ],
)
def test_who_may_resolve_is_a_setting(policy: ResolvePolicy, actor: Person, allowed: bool):
    resolve = command(Verb.RESOLVE, "perf", actor)
    verdict = authorize(resolve, actor, concern_by(BOB), MAINTAINERS, policy)
    assert verdict.allowed is allowed
    if policy is ResolvePolicy.AUTHOR_ONLY and not allowed:
        assert verdict.reason == "only Bob Baker, who raised 'perf', may resolve it"
