"""Votes: ballot grammar, tally, rules, state, RESULT mails, discrepancies.

Sentences marked "real" are quoted from the Maven and AsterixDB dev lists
(../shared/corpus). The real threads are checked against their official
outcomes in tests/test_votes_corpus.py, through the whole import pipeline.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.core.concerns import build_ledger
from bot.core.mail import HEADER_RELAYED_BY
from bot.core.people import People
from bot.core.rfcs import RfcSettings, RfcState, rfc_state
from bot.core.votes import (
    AnnouncedEntry,
    AnnouncedResult,
    Ballot,
    BallotReading,
    MajorityBasis,
    Member,
    ReadingKind,
    Roster,
    Rule,
    Tally,
    VotePolicy,
    VoteReport,
    VoteState,
    collect_ballots,
    compare,
    decide,
    forecast,
    format_value,
    match_voter,
    name_key,
    parse_ballot,
    parse_call,
    parse_result,
    report_vote,
)
from bot.core.votes.call import stated_minimum_plus
from bot.core.votes.grammar import parse_worded_ballot
from bot.core.votes.result import announces_result, naming_author, voter_candidates
from bot.model import Person, Post, Source

OPENED = datetime(2017, 12, 3, 21, 50, tzinfo=UTC)
CALL_TEXT = """Hi,

We solved 27 issues:
https://issues.apache.org/jira/secure/ReleaseNote.jspa?projectId=12317529&version=12330875

Staging repo:
https://repository.apache.org/content/repositories/maven-1380/

Vote open for at least 72 hours.

[ ] +1
[ ] +0
[ ] -1
"""

_counter = iter(range(1_000_000))


def make_post(
    text: str,
    who: str = "Alice Voter",
    *,
    address: str | None = None,
    hours: float = 1.0,
    subject: str = "Re: [VOTE] Release Apache Maven Foo version 1.0",
    key: str | None = None,
) -> Post:
    address = address if address is not None else f"{name_key(who).replace(' ', '.')}@example.org"
    return Post(
        source=Source.MAIL,
        key=key or f"<m{next(_counter)}@example.org>",
        message_id=None,
        thread_key="<call@example.org>",
        author=Person(who, address),
        created_at=OPENED + timedelta(hours=hours),
        subject=subject,
        text=text,
    )


def make_call(text: str = CALL_TEXT, who: str = "Robert Scholte") -> Post:
    return Post(
        source=Source.MAIL,
        key="<call@example.org>",
        message_id="<call@example.org>",
        thread_key="<call@example.org>",
        author=Person(who, "rfscholte@apache.org"),
        created_at=OPENED,
        subject="[VOTE] Release Apache Maven Foo version 1.0",
        text=text,
    )


def votes(*pairs: tuple[str, str]) -> list[Post]:
    """One reply per (voter, text), an hour apart."""
    return [make_post(text, who, hours=i + 1) for i, (who, text) in enumerate(pairs)]


PMC = Roster(
    (
        Member("Robert Scholte"),
        Member("Hervé Boutemy"),
        Member("Olivier Lamy"),
        Member("Karl Heinz Marbaise"),
        Member("Arnaud Héritier"),
    )
)
AFTER_CLOSE = OPENED + timedelta(hours=80)


def voters(report: VoteReport | Sequence[Ballot], bucket: int) -> set[str]:
    ballots = report.ballots if isinstance(report, VoteReport) else report
    return {b.voter for b in ballots if b.bucket == bucket}


# --------------------------------------------------------------------------
# Ballot grammar
# --------------------------------------------------------------------------

VOTE = ReadingKind.VOTE


@pytest.mark.parametrize(
    ("text", "value", "binding"),
    [
        ("+1", 1.0, None),
        ("+0", 0.0, None),
        ("0", 0.0, None),
        ("-0", -0.0, None),
        ("-1", -1.0, None),
        ("+0.5", 0.5, None),
        ("-0.9", -0.9, None),
        ("++1", 1.0, None),
        ("−1", -1.0, None),  # typographic minus
        ("+1 (binding)", 1.0, True),
        ("+1 (non-binding)", 1.0, False),  # real
        ("-1 (non-binding)", -1.0, False),  # real
        ("+1 non binding", 1.0, False),
        ("+1 (nb)", 1.0, False),
        ("+1 from me.", 1.0, None),  # real
        ("So +1 from me.", 1.0, None),  # real
        ("Awesome! +1", 1.0, None),  # real
        ("Awesome Hervé, +1!", 1.0, None),  # real
        ("here is my +1", 1.0, None),  # real
        ("apart from that without any issue so +1 from me.", 1.0, None),  # real
        ("+1, tested on macOS with JDK 9.0.1", 1.0, None),
        ("+1 to merge with the latest commits.", 1.0, None),  # real
        ("So -1 for me.", -1.0, None),  # real
        ("+1!", 1.0, None),  # real
        ("LGTM +1", 1.0, None),
        ("I am +1 for this", 1.0, None),
        ("I'm -1 on this, the license header is missing.", -1.0, None),
        ("My vote: +1", 1.0, None),
        ("Vote: -0", -0.0, None),
        ("[X] +1 Release this package", 1.0, None),
        ("- [x] +1, release it", 1.0, None),  # a Markdown task list
        ("- +1", 1.0, None),
        ("**+1**", 1.0, None),
        ("+1 :)", 1.0, None),
        ("Thanks for testing, but -1: the NOTICE file is wrong", -1.0, None),
        ("There's no reason for a -1 here, so +1.", 1.0, None),
        ("I change my -1 to +1", 1.0, None),
        # A change announced with "I'll" and nothing it waits for is made now.
        ("Still not enthusiastic, so I'll move from -1 to 0 rather than +1.", 0.0, None),
        ("I'll change my vote to +1.", 1.0, None),
        ("Changing my vote to +1 now that the NOTICE is fixed.", 1.0, None),
        ("I am changing my vote to -1 because the build fails.", -1.0, None),
        ("+1 (PMC)", 1.0, True),
        ("+1 (IPMC member)", 1.0, True),
        ("Hi,\n\n+1 (binding)\n\nRegards,\nHervé", 1.0, True),
        ("+1\n\nNon-binding, tested on Linux.", 1.0, False),
        ("0 (binding): not enough time to test", 0.0, True),
        ("0 (non-binding) - no time to test this round", 0.0, False),
    ],
)
def test_explicit_ballots(text: str, value: float, binding: bool | None) -> None:
    reading = parse_ballot(text)
    assert reading.kind is VOTE, reading
    assert reading.value == value
    assert format_value(reading.value) == format_value(value)  # keeps the sign of zero
    assert reading.self_declared_binding is binding
    assert not reading.ambiguous


def test_ballot_carries_its_sentence() -> None:
    text = "Hi,\n\nI've tested the following:\njdk1.7.0_79.jdk\n\nSo +1 from me.\n\nKind regards\n"
    assert parse_ballot(text).sentence == "So +1 from me."


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Thanks for the release!",
        "[ ] +1\n[ ] +0\n[ ] -1",  # real: the call's template
        "[ ] +1 Release this package\n[ ] -1 Do not release this package because...",
        "- [ ] +1 Release this package\n- [ ] -1 Do not release this package because...",
        "+1 = approve\n0 = no opinion\n-1 = disapprove",
        "+1: yes\n0: don't care\n-1: no",
        "+1 : Olivier Lamy, Hervé Boutemy, Robert Scholte",  # a result line, not a ballot
        "Version 3.0.0-1 is out",
        "maven-jdeprscan-plugin-3.0.0-alpha-1-source-release.zip",
        "Released on 2017-11-01, see GMT+1",
        "The meeting is at 10:00 UTC +1",
        "Date: Sun, 12 Nov 2017 16:15:07 +0100",
        "[INFO] +1 tests passed",
        "[INFO] run script verify.groovy",  # real
        "WARNING: +1 illegal reflective access operation",
        "\tat org.apache.maven.Foo.bar(Foo.java:12) +1",
        "    int x = y +1;",
        "```\n+1\n```",
        "Use `i -1` in the loop",
        "diff --git a/pom.xml b/pom.xml\n@@ -1,3 +1,3 @@\n-1\n+1\n",
        "> +1\n> So +1 from me.",
        "On Sun, 12 Nov 2017 16:15:07 +0100, Robert Scholte <rfscholte@apache.org> wrote:",
        "Vote passed with +1's from: Olivier, Herve, Robert, Manfred, Eric and\nAndreas",  # real
        "Still waiting for one more binding +1.",
        "We need three +1 votes.",
        "Why -1 on the Ant tasks?",  # real
        "just looking for a +1 from another committer before I merge it back",  # real
        "Thanks all for the +1s",
        "+1.5",
        "+10",
        "0 binding votes so far",
        "0 failures in the tests",
        "Please vote +1 if you want this released.",
        "--\nMark Raynsford | +1 http://www.io7m.com",
        "Votes so far: +1 Alice, +1 Bob, -1 Carol",  # an interim count
    ],
)
def test_not_ballots(text: str) -> None:
    assert parse_ballot(text).kind is ReadingKind.NONE


def test_stack_trace_and_build_log_do_not_vote() -> None:
    log = """[INFO] BUILD SUCCESS
[INFO] Tests run: 12, Failures: 0, Errors: 0, Skipped: +1
Exception in thread "main" java.lang.IllegalStateException: +1
\tat org.codehaus.groovy.reflection.CachedClass$3$1.run(CachedClass.java:82)
Caused by: java.lang.NullPointerException
\t... 12 more
"""
    assert parse_ballot(log).kind is ReadingKind.NONE
    # ... but a ballot written after the log still counts (real, Karl Heinz Marbaise).
    assert parse_ballot(log + "\napart from that without any issue so +1 from me.\n").value == 1.0


def test_quoted_original_below_an_outlook_header_is_ignored() -> None:
    text = """+1 (non-binding)

-----Message d'origine-----
De : Andreas Sewe
Objet : Re: [VOTE] Release Maven Indexer 6.0.0

-1 this is quoted
"""
    assert parse_ballot(text).value == 1.0
    outlook = (
        "Looks fine.\n\n________________________________\nFrom: Hervé\nSent: Friday\n\n[ ] -1\n-1"
    )
    assert parse_ballot(outlook).kind is ReadingKind.NONE


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("Non binding but it works well for me on Latest 3.5.2 and Java 9.0.1", "vague", None),
        (
            "Tested this in two applications: a Maven plugin and a Spring\n"
            "application. In both cases, I experienced no trouble.",
            "vague",
            None,
        ),
        ("tested, no trouble", "vague", None),
        ("works for me", "vague", None),
        ("LGTM", "vague", None),
        ("Looks good to me.", "vague", None),
        ("ship it", "vague", None),
        ("Nice :+1: from me, looks good", "vague", None),
        ("I assume I can translate this to a +1...", "vague", None),  # real
        ("I'll give the BADest +1 I can :)", "vague", None),  # real
        ("+1 from Olivier", "vague", None),
        # A value denied is none cast.
        ("Not a +1 from me yet, the tests fail on Windows.", "vague", None),
        ("I don't think I can vote +1 on this one.", "vague", None),
        ("+1\n-1", "conflict", None),
        ("In summary, +1 to merge demos, -1 to merge ant-tasks", "conflict", None),  # real
        ("+0 on the docs\n+1 on the code", "conflict", None),
        ("+0\n-0", "conflict", None),
        ("+1 if the NOTICE file gets fixed", "conditional", 1.0),
        ("If the signatures check out, +1 from me", "conditional", 1.0),
        ("I would be -1 unless we fix MJAVADOC-479", "conditional", -1.0),
        # A change that waits on something is not made yet.
        ("I'd change my -1 to +1 if the NOTICE were fixed.", "conditional", 1.0),
        ("I will change my -1 to +1 once the NOTICE is fixed.", "conditional", 1.0),
        ("I'll change my vote to +1 after I test on Windows.", "conditional", 1.0),
        ("I'll switch to +1 for RC2.", "conditional", 1.0),
    ],
)
def test_ambiguous_ballots_are_reported_with_their_sentence(
    text: str, kind: str, value: float | None
) -> None:
    reading = parse_ballot(text)
    assert reading.kind == kind
    assert reading.ambiguous
    assert reading.value == value
    assert reading.reason
    assert reading.sentence  # the sentence the report will show


@pytest.mark.parametrize(
    ("text", "value", "binding"),
    [
        (
            "+1 (non-binding) for the source release.\nBinaries: +0, I only looked at the"
            " source tarball.",
            1.0,
            False,
        ),
        ("Source: -0 (binding)\n\nBinaries: +1, the tarball runs fine on Debian 12.", -0.0, True),
    ],
)
def test_a_ballot_split_by_artifact_counts_what_it_says_of_the_source_release(
    text: str, value: float, binding: bool
) -> None:
    # The source package is the release; the binaries are a convenience built from it.
    reading = parse_ballot(text)
    assert reading.kind is ReadingKind.VOTE
    assert format_value(reading.value) == format_value(value)
    assert reading.self_declared_binding is binding
    # Split over anything else, the values still conflict.
    assert parse_ballot("+1 for the jar, -1 for the docker image").kind is ReadingKind.CONFLICT


def test_vague_reading_records_self_declared_binding() -> None:
    reading = parse_ballot("Non binding but it works well for me on Latest 3.5.2 and Java 9.0.1")
    assert reading.self_declared_binding is False


@pytest.mark.parametrize(
    "text",
    [
        "If only that worked for me :( I have even tried deleting the cache",  # real
        "probably no issues for sure.\nI just don't know if we can still download the index.\n"
        "TBH I haven't done any testing etc.... so it's just questions :-)",  # real
        "I'd like to vote on this issue, but I still have a remaining problem",  # real
    ],
)
def test_complaints_and_questions_are_not_vague_ballots(text: str) -> None:
    assert parse_ballot(text).kind is ReadingKind.NONE


def test_conflicting_ballots_list_both_values() -> None:
    reading = parse_ballot("+1 for the release\n-1 for the process")
    assert "+1" in reading.reason
    assert "-1" in reading.reason
    assert "+1 for the release" in reading.sentence
    assert "-1 for the process" in reading.sentence


def test_repeating_the_same_value_is_one_ballot() -> None:
    assert parse_ballot("+1\n\nchecked sigs and hashes. So +1 from me.").kind is VOTE


def test_explicit_ballot_beats_a_conditional_aside() -> None:
    reading = parse_ballot("+1\n\n(I'd be -1 if the LICENSE were missing, but it's there.)")
    assert (reading.kind, reading.value) == (VOTE, 1.0)


@pytest.mark.parametrize(
    ("text", "has_reason"),
    [
        ("-1", False),
        ("-1 (binding)", False),
        ("So -1 from me.", False),
        ("Hi,\n\n-1\n\nKind regards\nKarl Heinz Marbaise", False),
        ("-1\n\nThanks,\nRobert", False),
        ("-1 because the build fails on Java 9", True),
        ("I'm -1 on this, the license header is missing.", True),
        (
            "-1 (non-binding)\n\nThe staged version still fails with a basic module setup:\n\n"
            "  https://github.com/io7m/maven-javadoc-bug-20171117\n",
            True,
        ),  # real
    ],
)
def test_justification_is_the_prose_besides_the_ballot(text: str, has_reason: bool) -> None:
    words = re.findall(r"\w+", parse_ballot(text).justification)
    assert (len(words) >= 3) is has_reason


# The mail normaliser keeps these attribution forms as new text (real, Maven dev list).
LOOSE_ATTRIBUTIONS = [
    "Am 2017-12-21 um 23:31 schrieb Hervé BOUTEMY:",
    "Tamás Cservenák wrote on 2017-11-28 02:20:",
]


@pytest.mark.parametrize("attribution", LOOSE_ATTRIBUTIONS)
def test_an_attribution_left_in_the_new_text_is_no_reason_for_a_veto(attribution: str) -> None:
    reading = parse_ballot(f"{attribution}\n\n-1")
    assert (reading.kind, reading.value) == (VOTE, -1.0)
    assert reading.justification == ""


def test_reading_is_frozen() -> None:
    reading = parse_ballot("+1")
    with pytest.raises(AttributeError):
        reading.value = -1.0  # type: ignore[misc]


# --------------------------------------------------------------------------
# The call's period
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "expected", "minimum"),
    [
        ("Vote open for at least 72 hours.", OPENED + timedelta(hours=72), True),
        ("The vote will be open for 72 hours.", OPENED + timedelta(hours=72), False),
        ("The vote will be open for 5 days.", OPENED + timedelta(days=5), False),
        ("This vote is open for a minimum of three days.", OPENED + timedelta(days=3), True),
        ("Vote will close December 12th.", datetime(2017, 12, 12, 23, 59, 59, tzinfo=UTC), False),
        ("The vote closes on 10 Dec 2017.", datetime(2017, 12, 10, 23, 59, 59, tzinfo=UTC), False),
        (
            "The vote closes 2017-12-08 18:00 UTC.",
            datetime(2017, 12, 8, 18, 0, tzinfo=UTC),
            False,
        ),
        ("Vote will close January 3rd.", datetime(2018, 1, 3, 23, 59, 59, tzinfo=UTC), False),
        # 3 Dec 2017 is a Sunday: "until Friday" is the 8th.
        ("The vote runs until Friday.", datetime(2017, 12, 8, 23, 59, 59, tzinfo=UTC), False),
        ("The vote will run for a week.", OPENED + timedelta(weeks=1), False),
        # The time before the day it is on: 10:00 CET is 09:00 UTC.
        (
            "The vote closes at 10am CET on December 8.",
            datetime(2017, 12, 8, 9, 0, tzinfo=UTC),
            False,
        ),
        (
            "The vote closes at 5pm PST on Friday.",
            datetime(2017, 12, 9, 1, 0, tzinfo=UTC),
            False,
        ),
    ],
)
def test_call_states_its_close(sentence: str, expected: datetime, minimum: bool) -> None:
    terms = parse_call(f"Hi,\n\n{sentence}\n\n[ ] +1\n[ ] -1\n", OPENED)
    assert terms.stated_closes_at == expected
    assert terms.closes_at == max(expected, OPENED + timedelta(hours=72))
    assert terms.stated_sentence == sentence
    assert terms.stated_is_minimum is minimum


def test_close_date_is_read_in_the_callers_time_zone() -> None:
    cet = timezone(timedelta(hours=1))
    opened = datetime(2017, 12, 3, 22, 50, tzinfo=cet)
    terms = parse_call("Vote will close December 12th.", opened)
    assert terms.stated_closes_at == datetime(2017, 12, 12, 23, 59, 59, tzinfo=cet)


def test_call_without_a_period_gets_the_minimum() -> None:
    terms = parse_call("Please review and vote.", OPENED)
    assert terms.stated_closes_at is None
    assert terms.closes_at == OPENED + timedelta(hours=72)


def test_minimum_duration_is_configurable_and_wins_over_a_shorter_statement() -> None:
    terms = parse_call("The vote is open for 24 hours.", OPENED, min_duration=timedelta(days=5))
    assert terms.stated_closes_at == OPENED + timedelta(hours=24)
    assert terms.closes_at == OPENED + timedelta(days=5)


def test_issues_closed_on_a_date_are_not_the_close_of_the_vote() -> None:
    terms = parse_call("We closed 25 issues on Nov 3.\nVote open for at least 72 hours.", OPENED)
    assert terms.stated_closes_at == OPENED + timedelta(hours=72)


# --------------------------------------------------------------------------
# Tally
# --------------------------------------------------------------------------


def test_latest_ballot_wins_and_history_is_kept() -> None:
    replies = [
        make_post("-1, the NOTICE is wrong", "Olivier Lamy", hours=1),
        make_post("NOTICE fixed in the staging repo, so +1 now", "Olivier Lamy", hours=5),
    ]
    tally = collect_ballots(make_call(), replies, until=AFTER_CLOSE)
    (ballot,) = tally.ballots
    assert ballot.value == 1.0
    assert (tally.plus, tally.minus) == (1, 0)
    assert [c.reading.value for c in ballot.history] == [-1.0]
    assert ballot.cast.post == replies[1].key


def test_vague_wording_after_an_explicit_ballot_does_not_replace_it() -> None:
    replies = [
        make_post("+1", "Robert Scholte", hours=1),
        make_post("I assume I can translate this to a +1...", "Robert Scholte", hours=2),  # real
    ]
    (ballot,) = collect_ballots(make_call(), replies, until=AFTER_CLOSE).ballots
    assert ballot.counted
    assert ballot.value == 1.0
    assert len(ballot.history) == 1


def test_a_change_offered_on_a_condition_leaves_the_veto_standing() -> None:
    replies = [
        make_post("-1 (binding), the NOTICE lacks the bundled jQuery.", "Olivier Lamy", hours=1),
        make_post("I'd change my -1 to +1 if the NOTICE were fixed.", "Olivier Lamy", hours=3),
    ]
    tally = collect_ballots(make_call(), replies, until=AFTER_CLOSE)
    (ballot,) = tally.ballots
    assert (ballot.value, ballot.counted) == (-1.0, True)
    assert (tally.plus, tally.minus) == (0, 1)
    assert ballot.cast.post == replies[0].key


def test_a_later_conflicting_post_makes_the_ballot_ambiguous() -> None:
    replies = [
        make_post("+1", "Olivier Lamy", hours=1),
        make_post("+1 for the code\n-1 for the docs", "Olivier Lamy", hours=2),
    ]
    tally = collect_ballots(make_call(), replies, until=AFTER_CLOSE)
    (ballot,) = tally.ballots
    assert ballot.ambiguous
    assert not ballot.counted
    assert (tally.plus, tally.ambiguous) == (0, 1)


def test_ambiguous_only_voter_is_reported_not_counted() -> None:
    replies = votes(
        ("Martijn Verburg", "Non binding but it works well for me on Latest 3.5.2 and Java 9.0.1")
    )
    tally = collect_ballots(make_call(), replies, until=AFTER_CLOSE)
    (ballot,) = tally.ballots
    assert ballot.ambiguous
    assert ballot.value is None
    assert "works well for me" in ballot.cast.reading.sentence
    assert (tally.plus, tally.ambiguous) == (0, 1)


def test_the_call_does_not_vote_by_its_template() -> None:
    tally = collect_ballots(make_call(), [], until=AFTER_CLOSE)
    assert tally.ballots == ()


def test_the_call_votes_with_an_explicit_ballot_outside_the_template() -> None:
    call = make_call(CALL_TEXT + "\nHere is my +1.\n")
    (ballot,) = collect_ballots(call, [], until=AFTER_CLOSE).ballots
    assert (ballot.voter, ballot.value, ballot.cast.post) == ("Robert Scholte", 1.0, call.key)


def test_call_with_vague_wording_is_not_a_ballot() -> None:
    call = make_call(CALL_TEXT + "\nIt works for me on Java 9.\n")
    assert collect_ballots(call, [], until=AFTER_CLOSE).ballots == ()


def test_result_and_cancel_mails_and_auto_replies_do_not_vote() -> None:
    replies = [
        make_post("+1 : Olivier, Herve", "T", subject="[RESULT] [VOTE] Release Foo"),
        make_post("-1", "T", subject="[CANCELED] [VOTE] Release Foo"),
        replace(make_post("+1", "Robot"), auto_submitted=True),
    ]
    assert collect_ballots(make_call(), replies, until=AFTER_CLOSE).ballots == ()


def test_redelivered_post_counts_once() -> None:
    post = make_post("+1", "Olivier Lamy", key="<same@example.org>")
    tally = collect_ballots(make_call(), [post, post], until=AFTER_CLOSE)
    assert tally.plus == 1
    assert tally.ballots[0].history == ()


def test_posts_after_the_cut_off_are_not_read() -> None:
    replies = [make_post("+1", "Olivier Lamy", hours=100)]
    assert collect_ballots(make_call(), replies, until=AFTER_CLOSE).ballots == ()


def test_same_display_name_from_two_addresses_is_one_voter() -> None:
    replies = [
        make_post("-1", "Tamás Cservenák", address="tamas@cservenak.net", hours=1),
        make_post("+1", "Tamás Cservenák", address="cstamas@apache.org", hours=2),
    ]
    (ballot,) = collect_ballots(make_call(), replies, until=AFTER_CLOSE).ballots
    assert ballot.value == 1.0
    assert len(ballot.aliases) == 2


def test_identities_merge_aliases_and_report_unmatched() -> None:
    identities = People(
        {
            # An address, a display name and a GitHub login of one person.
            "hboutemy": ["herve.boutemy@free.fr", "Hervé BOUTEMY", "hboutemy"],
            "olamy": ["olamy@apache.org"],
        }
    )
    # GitHub's copy of his comment, as an imported archive holds it: the login is his.
    mirrored = replace(
        make_post("+1", "hboutemy", address="hboutemy@users.noreply.github.com", hours=2),
        headers={"X-GitHub-Sender": "hboutemy"},
        via="archive",
    )
    replies = [
        make_post("-1", "Hervé BOUTEMY", address="herve.boutemy@free.fr", hours=1),
        mirrored,
        make_post("+1", "Olivier Lamy", address="OLAMY@apache.org", hours=3),
        make_post("+1", "Stranger", address="stranger@example.org", hours=4),
        # His name from a relay address nobody vouches for is not him.
        make_post("+1", "hboutemy", address="notifications@github.com", hours=5),
    ]
    tally = collect_ballots(make_call(), replies, until=AFTER_CLOSE, identities=identities)
    assert {(b.voter, b.value, bool(b.unverified)) for b in tally.ballots} == {
        ("hboutemy", 1.0, False),
        ("olamy", 1.0, False),
        ("Stranger", 1.0, False),
        ("hboutemy <notifications@github.com>", 1.0, True),
    }
    [hboutemy] = [b for b in tally.ballots if b.voter == "hboutemy"]
    assert [c.reading.value for c in hboutemy.history] == [-1.0]  # one person, latest stands
    assert tally.unmatched_identities == ("Stranger <stranger@example.org>",)


def test_identity_lookups_survive_case_and_accents() -> None:
    identities = People({"hboutemy": ["Hervé BOUTEMY"]})
    assert identities.named("herve boutemy") == "hboutemy"
    assert identities.named("Karl Heinz") is None


def test_non_roster_binding_claim_is_non_binding_and_flagged() -> None:
    replies = votes(("Eric Barboni", "+1 (binding)"), ("Olivier Lamy", "+1"))
    report = report_vote(make_call(), replies, now=AFTER_CLOSE, roster=PMC)
    binding = {b.voter: b.binding for b in report.ballots}
    assert binding == {"Eric Barboni": False, "Olivier Lamy": True}
    assert report.tally.binding_plus == 1
    claims = [f for f in report.flags if f.kind == "binding-claim-ignored"]
    assert [f.voters for f in claims] == [("Eric Barboni",)]


def test_roster_membership_is_taken_when_the_vote_opened() -> None:
    roster = Roster(
        (
            Member("Joined Before", joined=OPENED - timedelta(days=1)),
            Member("Joined After", joined=OPENED + timedelta(hours=1)),
            Member("Left Before", left=OPENED - timedelta(days=1)),
            Member("Left After", left=OPENED + timedelta(hours=1)),
            Member("Left At Opening", left=OPENED),
        )
    )
    replies = votes(
        ("Joined Before", "+1"),
        ("Joined After", "+1"),
        ("Left Before", "+1"),
        ("Left After", "+1"),
        ("Left At Opening", "+1"),
    )
    tally = collect_ballots(make_call(), replies, until=AFTER_CLOSE, roster=roster)
    assert {b.voter for b in tally.ballots if b.binding} == {"Joined Before", "Left After"}
    assert roster.is_binding("joined before", OPENED)  # names compare loosely


def test_without_a_roster_binding_is_unknown() -> None:
    tally = collect_ballots(make_call(), votes(("Olivier Lamy", "+1")), until=AFTER_CLOSE)
    assert tally.ballots[0].binding is None
    assert (tally.binding_plus, tally.binding_minus, tally.binding_known) == (None, None, False)
    empty = collect_ballots(make_call(), [], until=AFTER_CLOSE)
    assert empty.binding_known is False


def test_fractions_are_opinions_not_for_or_against() -> None:
    replies = votes(("A", "+0.5"), ("B", "-0.9"), ("C", "+1"), ("D", "-0"))
    tally = collect_ballots(make_call(), replies, until=AFTER_CLOSE)
    assert (tally.plus, tally.zero, tally.minus) == (1, 3, 0)


# --------------------------------------------------------------------------
# Rules
# --------------------------------------------------------------------------


def _decide(policy: VotePolicy, *pairs: tuple[str, str], roster: Roster | None = PMC) -> bool:
    tally = collect_ballots(make_call(), votes(*pairs), until=AFTER_CLOSE, roster=roster)
    return decide(tally, policy).passes


MAJORITY = VotePolicy(Rule.MAJORITY_APPROVAL)
CONSENSUS = VotePolicy(Rule.CONSENSUS_APPROVAL)
TWO_THIRDS = VotePolicy(Rule.LAZY_TWO_THIRDS)
SIMPLE = VotePolicy(Rule.SIMPLE_MAJORITY)
THREE_BINDING = (("Robert Scholte", "+1"), ("Hervé Boutemy", "+1"), ("Olivier Lamy", "+1"))


def test_majority_approval_needs_exactly_three_binding_plus_ones() -> None:
    assert _decide(MAJORITY, *THREE_BINDING)
    assert not _decide(MAJORITY, *THREE_BINDING[:2])
    # Non-binding +1s do not make up the quorum.
    assert not _decide(MAJORITY, *THREE_BINDING[:2], ("Eric Barboni", "+1 (binding)"))


def test_majority_approval_cannot_be_vetoed_but_needs_more_plus_than_minus() -> None:
    roster = Roster((*PMC.members, Member("Xavier Pmc")))
    minus = (("Karl Heinz Marbaise", "-1"), ("Arnaud Héritier", "-1"), ("Xavier Pmc", "-1"))
    # A binding -1 is no veto ...
    assert _decide(MAJORITY, *THREE_BINDING, minus[0], roster=roster)
    assert _decide(MAJORITY, *THREE_BINDING, *minus[:2], roster=roster)
    # ... but 3 binding +1 against 3 binding -1 is not "more + than -".
    assert not _decide(MAJORITY, *THREE_BINDING, *minus, roster=roster)
    # Xavier off the roster: his -1 no longer counts against.
    assert _decide(MAJORITY, *THREE_BINDING, *minus)


def test_majority_basis_is_a_setting() -> None:
    outsiders = tuple((f"User {i}", "-1") for i in range(4))
    binding_only = VotePolicy(Rule.MAJORITY_APPROVAL, majority_basis=MajorityBasis.BINDING)
    all_votes = VotePolicy(Rule.MAJORITY_APPROVAL, majority_basis=MajorityBasis.ALL)
    assert _decide(binding_only, *THREE_BINDING, *outsiders)
    assert not _decide(all_votes, *THREE_BINDING, *outsiders)


def test_consensus_approval_veto_with_a_reason_blocks() -> None:
    veto = ("Karl Heinz Marbaise", "-1, the source release does not build on Java 9")
    tally = collect_ballots(make_call(), votes(*THREE_BINDING, veto), until=AFTER_CLOSE, roster=PMC)
    outcome = decide(tally, CONSENSUS)
    assert not outcome.passes
    assert outcome.vetoes == ("Karl Heinz Marbaise",)
    assert outcome.invalid_vetoes == ()


def test_consensus_approval_veto_without_a_reason_is_invalid_and_flagged() -> None:
    replies = votes(*THREE_BINDING, ("Karl Heinz Marbaise", "-1\n\nKind regards\nKarl Heinz"))
    report = report_vote(make_call(), replies, now=AFTER_CLOSE, roster=PMC, policy=CONSENSUS)
    assert report.outcome.passes
    assert report.state is VoteState.PASSED
    assert report.outcome.invalid_vetoes == ("Karl Heinz Marbaise",)
    assert [f.voters for f in report.flags if f.kind == "invalid-veto"] == [
        ("Karl Heinz Marbaise",)
    ]


def test_consensus_approval_veto_reason_requirement_is_a_setting() -> None:
    strict = VotePolicy(Rule.CONSENSUS_APPROVAL, veto_needs_reason=False)
    assert not _decide(strict, *THREE_BINDING, ("Karl Heinz Marbaise", "-1"))


def test_consensus_approval_non_binding_minus_one_does_not_block() -> None:
    assert _decide(CONSENSUS, *THREE_BINDING, ("Mark Raynsford", "-1 (non-binding)\n\nIt fails."))
    assert not _decide(CONSENSUS, *THREE_BINDING[:2])


@pytest.mark.parametrize(
    ("plus", "minus", "passes"),
    [
        (2, 1, True),  # exactly 3 binding votes, +1 = 2 x -1
        (3, 2, False),  # 3 < 4
        (4, 2, True),  # the 2/3 boundary
        (3, 0, True),
        (2, 0, False),  # only 2 binding votes
    ],
)
def test_lazy_two_thirds(plus: int, minus: int, passes: bool) -> None:
    roster = Roster(tuple(Member(f"Member {i}") for i in range(plus + minus)))
    pairs = [(f"Member {i}", "+1") for i in range(plus)]
    pairs += [(f"Member {plus + i}", "-1 because") for i in range(minus)]
    assert _decide(TWO_THIRDS, *pairs, roster=roster) is passes


def test_lazy_two_thirds_zeros_do_not_make_the_quorum() -> None:
    roster = Roster(tuple(Member(f"Member {i}") for i in range(4)))
    pairs = [("Member 0", "+1"), ("Member 1", "+1"), ("Member 2", "+0"), ("Member 3", "0")]
    assert not _decide(TWO_THIRDS, *pairs, roster=roster)


def test_simple_majority() -> None:
    assert _decide(
        SIMPLE, ("Robert Scholte", "+1"), ("Hervé Boutemy", "+1"), ("Olivier Lamy", "-1")
    )
    assert not _decide(SIMPLE, ("Robert Scholte", "+1"), ("Olivier Lamy", "-1"))


def test_lazy_consensus_before_and_after_the_period() -> None:
    policy = VotePolicy(Rule.LAZY_CONSENSUS)
    silent = report_vote(
        make_call(), [], now=OPENED + timedelta(hours=10), policy=policy, roster=PMC
    )
    assert silent.state is VoteState.OPEN
    assert silent.would_pass_now is True
    done = report_vote(make_call(), [], now=AFTER_CLOSE, policy=policy, roster=PMC)
    assert done.state is VoteState.PASSED
    objected = report_vote(
        make_call(),
        votes(("Olivier Lamy", "-1, breaks the API")),
        now=AFTER_CLOSE,
        policy=policy,
        roster=PMC,
    )
    assert objected.state is VoteState.FAILED
    assert objected.outcome.vetoes == ("Olivier Lamy",)
    non_binding = report_vote(
        make_call(), votes(("User", "-1")), now=AFTER_CLOSE, policy=policy, roster=PMC
    )
    assert non_binding.state is VoteState.PASSED


@pytest.mark.parametrize("rule", list(Rule))
def test_every_rule_decides_an_empty_vote(rule: Rule) -> None:
    outcome = decide(_tally(roster=PMC), VotePolicy(rule))
    assert outcome.passes is (rule is Rule.LAZY_CONSENSUS)
    assert outcome.reasons


def test_binding_unknown_is_said_not_guessed() -> None:
    replies = votes(("Robert Scholte", "+1"), ("Eric Barboni", "+1"), ("Manfred Moser", "+1"))
    report = report_vote(make_call(), replies, now=AFTER_CLOSE)
    assert report.binding_unknown
    assert report.outcome.passes  # every +1 treated as potentially binding
    assert report.tally.binding_plus is None
    assert any("potentially binding" in r for r in report.outcome.reasons)
    assert "binding-unknown" in {f.kind for f in report.flags}


# --------------------------------------------------------------------------
# State
# --------------------------------------------------------------------------


def test_open_vote_would_pass_now_and_time_left() -> None:
    now = OPENED + timedelta(hours=50)
    report = report_vote(make_call(), votes(*THREE_BINDING), now=now, roster=PMC)
    assert report.state is VoteState.OPEN
    assert report.would_pass_now is True
    assert report.time_left == timedelta(hours=22)
    short = report_vote(make_call(), votes(*THREE_BINDING[:2]), now=now, roster=PMC)
    assert short.would_pass_now is False


def test_passed_and_failed_after_the_period() -> None:
    passed = report_vote(make_call(), votes(*THREE_BINDING), now=AFTER_CLOSE, roster=PMC)
    assert (passed.state, passed.would_pass_now, passed.time_left) == (VoteState.PASSED, None, None)
    failed = report_vote(make_call(), votes(*THREE_BINDING[:2]), now=AFTER_CLOSE, roster=PMC)
    assert failed.state is VoteState.FAILED


def test_cancelled_vote() -> None:
    cancel = make_post(
        "I'm going to cancel this vote.", "Robert Scholte", subject="[CANCELED] [VOTE] Foo", hours=5
    )
    report = report_vote(
        make_call(), votes(*THREE_BINDING), now=AFTER_CLOSE, roster=PMC, cancel=cancel
    )
    assert report.state is VoteState.CANCELLED
    # A cancel mail that is still in the future does not cancel yet.
    later = report_vote(make_call(), [], now=OPENED + timedelta(hours=2), roster=PMC, cancel=cancel)
    assert later.state is VoteState.OPEN


RESULT_TEXT = """Hi,

The vote has passed with the following result:

+1 : Robert Scholte, Hervé BOUTEMY, Olivier Lamy

PMC quorum: reached

I will promote the artifacts to the central repo.
"""


def _result(hours: float, text: str = RESULT_TEXT) -> Post:
    return make_post(text, "Robert Scholte", hours=hours, subject="[RESULT] [VOTE] Release Foo")


def test_early_result_is_flagged() -> None:
    replies = votes(*THREE_BINDING)
    early = report_vote(make_call(), replies, now=AFTER_CLOSE, roster=PMC, result=_result(70))
    assert early.state is VoteState.PASSED
    (flag,) = [f for f in early.flags if f.kind == "early-result"]
    assert "70.0 hours" in flag.detail
    on_time = report_vote(make_call(), replies, now=AFTER_CLOSE, roster=PMC, result=_result(73))
    assert "early-result" not in {f.kind for f in on_time.flags}


def test_ballots_after_the_result_are_not_counted() -> None:
    replies = [*votes(*THREE_BINDING), make_post("-1 too late", "Arnaud Héritier", hours=75)]
    report = report_vote(make_call(), replies, now=AFTER_CLOSE, roster=PMC, result=_result(74))
    assert report.tally.minus == 0


def test_late_ballot_flagged_only_after_a_firm_close() -> None:
    firm = make_call("The vote will be open for 72 hours.\n[ ] +1\n[ ] -1")
    late = [make_post("+1", "Olivier Lamy", hours=75)]
    report = report_vote(firm, late, now=AFTER_CLOSE, roster=PMC)
    assert [f.voters for f in report.flags if f.kind == "late-ballot"] == [("Olivier Lamy",)]
    at_least = report_vote(make_call(), late, now=AFTER_CLOSE, roster=PMC)
    assert "late-ballot" not in {f.kind for f in at_least.flags}


def test_the_caller_extending_the_vote_in_the_thread_moves_its_close() -> None:
    # Opened on a Sunday evening; on Thursday the caller keeps it open until Saturday.
    keep_open = "Only two binding votes so far. I'll keep the vote open until Saturday."
    replies = [*votes(*THREE_BINDING[:2]), make_post(keep_open, "Robert Scholte", hours=75)]
    report = report_vote(make_call(), replies, now=AFTER_CLOSE, roster=PMC)
    assert report.state is VoteState.OPEN
    assert report.closes_at == datetime(2017, 12, 9, 23, 59, 59, tzinfo=UTC)
    assert [f.kind for f in report.flags if f.kind == "extended"] == ["extended"]
    # Anyone else's wish, or the caller's "if", moves nothing: the vote has closed.
    for who, text in (
        ("Olivier Lamy", "Let's keep the vote open until Saturday."),
        ("Robert Scholte", "If nobody else votes, I'll extend the vote until Saturday."),
    ):
        said = [*votes(*THREE_BINDING[:2]), make_post(text, who, hours=75)]
        assert report_vote(make_call(), said, now=AFTER_CLOSE, roster=PMC).state is not (
            VoteState.OPEN
        )


def test_a_late_ballot_the_result_leaves_out_is_not_counted() -> None:
    firm = make_call("The vote will be open for 72 hours.\n[ ] +1\n[ ] -1")
    replies = [*votes(*THREE_BINDING), make_post("+1 (non-binding)", "Keanu Kahale", hours=75)]
    report = report_vote(firm, replies, now=AFTER_CLOSE, roster=PMC, result=_result(79))
    assert report.tally.plus == 3
    late = [f.voters for f in report.flags if f.kind == "late-ballot-not-counted"]
    assert late == [("Keanu Kahale",)]
    assert report.agrees_with_announced is True
    # A RESULT that counts the late ballot accepted it: the vote closed later.
    counted = RESULT_TEXT.replace("Olivier Lamy", "Olivier Lamy, Keanu Kahale")
    accepted = report_vote(firm, replies, now=AFTER_CLOSE, roster=PMC, result=_result(79, counted))
    assert accepted.tally.plus == 4
    assert "late-ballot-not-counted" not in {f.kind for f in accepted.flags}


def test_a_result_saying_when_the_vote_closed_sets_the_close() -> None:
    # The call gave a minimum ("at least 72 hours"); the RESULT says when it closed.
    replies = [*votes(*THREE_BINDING), make_post("+1", "Keanu Kahale", hours=76)]
    said = RESULT_TEXT.replace(
        "The vote has passed", "The vote closed on 7 December 2017 at 00:00 UTC and has passed"
    )
    closed = _result(79, said)
    report = report_vote(make_call(), replies, now=AFTER_CLOSE, roster=PMC, result=closed)
    assert "Keanu Kahale" not in voters(report, 1)
    unsaid = report_vote(make_call(), replies, now=AFTER_CLOSE, roster=PMC, result=_result(79))
    assert "Keanu Kahale" in voters(unsaid, 1)  # a minimum period: ballots count until RESULT


# --------------------------------------------------------------------------
# RESULT mails
# --------------------------------------------------------------------------

JDEPRSCAN_RESULT = """Hi,

The vote has passed with the following result:

+1 : Martijn Verburg, Robert Scholte, Hervé BOUTEMY, Arnaud Héritier,
Olivier Lamy

PMC quorum: reached

I will promote the artifacts to the central repo.

On Sun, 12 Nov 2017 16:15:07 +0100, Robert Scholte <rfscholte@apache.org>
wrote:

> Vote open for at least 72 hours.
>
> [ ] +1
> [ ] +0
> [ ] -1
"""

INDEXER_RESULT = """Hi,

The vote has passed with the following result:

+1 : Olivier, Herve, Robert, Manfred, Eric and Andreas

PMC quorum: Olivier, Herve, Robert

I will promote the artifacts to the central repo.

Thanks,
T
--
Thanks,
~t~
"""

SITE_RESULT = """Hi,

The vote has passed with the following result:

+1 : Olivier Lamy, Robert Scholte, Michael Osipov, Karl Heinz Marbaise, Hervé
Boutemy

PMC quorum reached

I will promote the artifacts to the central repo.
"""


def test_parse_result_jdeprscan() -> None:
    announced = parse_result(JDEPRSCAN_RESULT)
    assert announced.outcome is VoteState.PASSED
    assert announced.quorum_reached is True
    (entry,) = announced.entries
    assert entry.value == 1.0
    assert entry.names == (
        "Martijn Verburg",
        "Robert Scholte",
        "Hervé BOUTEMY",
        "Arnaud Héritier",
        "Olivier Lamy",
    )
    assert entry.count == 5


@pytest.mark.parametrize(
    ("text", "outcome"),
    [
        ("The vote to release Apache Foo 1.2.0 has passed with 4 binding +1 votes.", "passed"),
        ("The vote for Apache Foo 1.2.0-RC1 has failed: the LICENSE is missing.", "failed"),
        ("The vote passed. 1.2.0 goes to the mirrors tomorrow.", "passed"),
    ],
)
def test_a_version_number_does_not_end_the_sentence_that_announces(text: str, outcome: str) -> None:
    assert parse_result(text).outcome is VoteState(outcome)


def _three_sides(
    announced: AnnouncedResult,
) -> tuple[AnnouncedEntry, AnnouncedEntry, AnnouncedEntry]:
    """The RESULT's +1, 0 and -1 entries, each of which it must have."""
    sides = [announced.entry(value) for value in (1.0, 0.0, -1.0)]
    assert all(side is not None for side in sides), sides
    plus, zero, minus = (side for side in sides if side is not None)
    return plus, zero, minus


def test_a_tally_laid_out_in_columns_under_binding_and_non_binding() -> None:
    # A policy vote's RESULT (vote set 10, written blind): no colons, the sides in a
    # column, a zero without its sign, and a late ballot named only to be left out.
    announced = parse_result(
        "The results:\n\n"
        "Binding:\n"
        "  +1  Ingrid Halvorsen, Marcus Webb, Femi Adebayo\n"
        "   0  Clara Jensen\n"
        "  -1  Bartosz Zielinski\n\n"
        "Non-binding:\n"
        "  +1  Yuki Tanaka\n\n"
        "Sanjay's +1 arrived after the vote had closed, so it is not counted.\n\n"
        "With 3 binding +1 against 1 binding -1, the proposal is adopted.\n"
    )
    assert announced.outcome is VoteState.PASSED
    plus, zero, minus = _three_sides(announced)
    assert plus.names == ("Ingrid Halvorsen", "Marcus Webb", "Femi Adebayo", "Yuki Tanaka")
    assert plus.binding_names == ("Ingrid Halvorsen", "Marcus Webb", "Femi Adebayo")
    assert (zero.names, minus.names) == (("Clara Jensen",), ("Bartosz Zielinski",))
    assert parse_result("The proposal is not adopted.").outcome is VoteState.FAILED


def test_counts_written_in_words_are_counts() -> None:
    failed = parse_result("The vote fails with three +1 votes and one -1 (Carol).")
    plus, minus = failed.entry(1.0), failed.entry(-1.0)
    assert plus is not None
    assert minus is not None
    assert (plus.count, minus.count, minus.names) == (3, 1, ("Carol",))
    passed = parse_result("The vote passes with five +1 (three binding) and no -1.").entry(1.0)
    assert passed is not None
    assert (passed.count, passed.binding_count, passed.names) == (5, 3, ())


def test_a_star_marks_the_binding_names_a_count_lists() -> None:
    announced = parse_result(
        "The vote passes with 3 +1s (Alice*, Bob*, Carol) and no -1.\n* binding"
    )
    entry = announced.entry(1.0)
    assert entry is not None
    assert (entry.names, entry.binding_names) == (("Alice", "Bob", "Carol"), ("Alice", "Bob"))


@pytest.mark.parametrize(
    "text",
    [
        # a count and "of which" over a list that marks who is binding
        "The vote passes with 5 +1 votes, 3 of which are binding:\n* Alice (binding)\n"
        "* Bob (binding)\n* Carol (binding)\n* Dave\n* Eve\nThere were no 0 or -1 votes.",
        # sections headed "Binding votes:" and "Non-binding votes:"
        "The vote is now closed. We have:\n\nBinding votes:\n+1: Alice, Bob, Carol\n"
        "-1: none\n\nNon-binding votes:\n+1: Dave, Eve\n\nThe vote passes.",
        # counts with the names after them
        "The release vote passed with:\n3 binding +1 (Alice, Bob, Carol)\n"
        "2 non-binding +1 (Dave, Eve)\nno 0 or -1.",
    ],
)
def test_a_result_says_who_was_binding_in_the_ways_results_are_written(text: str) -> None:
    announced = parse_result(text)
    assert announced.outcome is VoteState.PASSED
    entry = announced.entry(1.0)
    assert entry is not None
    assert entry.names == ("Alice", "Bob", "Carol", "Dave", "Eve")
    assert (entry.count, entry.binding_count) == (5, 3)
    assert entry.binding_names == ("Alice", "Bob", "Carol")


def test_parse_result_with_first_names_and_quorum_names() -> None:
    announced = parse_result(INDEXER_RESULT)
    entry = announced.entry(1.0)
    assert entry is not None
    assert entry.names == ("Olivier", "Herve", "Robert", "Manfred", "Eric", "Andreas")
    assert announced.binding_names == ("Olivier", "Herve", "Robert")
    assert announced.quorum_reached is True


def test_parse_result_name_wrapped_mid_name() -> None:
    entry = parse_result(SITE_RESULT).entry(1.0)
    assert entry is not None
    assert entry.names[-1] == "Hervé Boutemy"
    assert parse_result(SITE_RESULT).quorum_reached is True


@pytest.mark.parametrize(
    ("text", "value", "count", "binding_count", "names", "binding_names"),
    [
        ("+1: 5 (3 binding)\n0: 0\n-1: 0", 1.0, 5, 3, (), ()),
        (
            "The vote has passed with the following result: +1 (binding): Ann Lee, Bob Ray",
            1.0,
            2,
            2,
            ("Ann Lee", "Bob Ray"),
            ("Ann Lee", "Bob Ray"),
        ),
        (
            "+1 (binding): Ann Lee, Bob Ray\n+1 (non-binding): Cy Dee\n",
            1.0,
            3,
            2,
            ("Ann Lee", "Bob Ray", "Cy Dee"),
            ("Ann Lee", "Bob Ray"),
        ),
        (
            "Binding +1s: Ann Lee, Bob Ray, Cy Dee\nNon-binding +1s: Dan Fox",
            1.0,
            4,
            3,
            ("Ann Lee", "Bob Ray", "Cy Dee", "Dan Fox"),
            ("Ann Lee", "Bob Ray", "Cy Dee"),
        ),
        (
            "Results:\n\n+1:\nAnn Lee (binding)\nBob Ray\nCy Dee (binding)\n\n0:\n-1:\n",
            1.0,
            3,
            2,
            ("Ann Lee", "Bob Ray", "Cy Dee"),
            ("Ann Lee", "Cy Dee"),
        ),
        ("+1 votes: 4 (3 binding)", 1.0, 4, 3, (), ()),
        (
            "The vote passed with 4 binding +1 votes and 2 non-binding +1 votes.",
            1.0,
            6,
            4,
            (),
            (),
        ),
        ("-1: none", -1.0, None, None, (), ()),
        # A remark on a ballot is no name of its own; a login in parentheses stays.
        (
            "-1: Cy Dee (binding, see the LICENSE issue), Dan Fox (non-binding, on IRC)",
            -1.0,
            2,
            1,
            ("Cy Dee", "Dan Fox"),
            ("Cy Dee",),
        ),
        (
            "+1: Ann Lee (PMC), Tianqi Chen (tqchen)",
            1.0,
            2,
            1,
            ("Ann Lee", "Tianqi Chen (tqchen)"),
            ("Ann Lee",),
        ),
        (
            "Closing this vote as passed with three +1 votes from Ann Lee, Bob Ray and Cy Dee"
            " and no other votes.",
            1.0,
            3,
            None,
            ("Ann Lee", "Bob Ray", "Cy Dee"),
            (),
        ),
    ],
)
def test_parse_result_formats(
    text: str,
    value: float,
    count: int | None,
    binding_count: int | None,
    names: tuple[str, ...],
    binding_names: tuple[str, ...],
) -> None:
    entry = parse_result(text).entry(value)
    assert entry is not None
    assert (entry.count, entry.binding_count) == (count, binding_count)
    assert entry.names == names
    assert entry.binding_names == binding_names


def test_parse_result_minus_one_line_is_not_a_bullet() -> None:
    announced = parse_result("+1: Ann Lee, Bob Ray, Cy Dee\n-1: Dan Fox\n")
    minus = announced.entry(-1.0)
    assert minus is not None
    assert minus.names == ("Dan Fox",)


def test_parse_result_failed_and_quorum_not_reached() -> None:
    announced = parse_result(
        "The vote has failed.\n\n+1: Ann Lee\n-1: Bob Ray\n\nQuorum: not reached"
    )
    assert announced.outcome is VoteState.FAILED
    assert announced.quorum_reached is False


def test_parse_result_ignores_the_quoted_call() -> None:
    announced = parse_result(JDEPRSCAN_RESULT)
    assert [e.value for e in announced.entries] == [1.0]


@pytest.mark.parametrize("attribution", LOOSE_ATTRIBUTIONS)
def test_parse_result_stops_at_an_attribution_left_in_the_new_text(attribution: str) -> None:
    announced = parse_result(f"The vote has passed.\n\n+1: Ann Lee\n\n{attribution}\n-1: Bob Ray\n")
    assert [e.value for e in announced.entries] == [1.0]


# --------------------------------------------------------------------------
# Comparing with the announcement
# --------------------------------------------------------------------------


def _tally(*pairs: tuple[str, str], roster: Roster | None = None) -> Tally:
    return collect_ballots(make_call(), votes(*pairs), until=AFTER_CLOSE, roster=roster)


@pytest.mark.parametrize(
    ("announced", "voter"),
    [
        ("Herve", "Hervé BOUTEMY"),
        ("herve boutemy", "Hervé BOUTEMY"),
        ("Karl Heinz", "Karl-Heinz Marbaise"),
        ("Karl-Heinz Marbaise", "Karl Heinz Marbaise"),
        ("KarlHeinz Marbaise", "Karl Heinz Marbaise"),
        ("Olivier", "Olivier Lamy"),
        ("Arnaud Heritier", "Arnaud Héritier"),
    ],
)
def test_names_match_across_accents_case_and_hyphens(announced: str, voter: str) -> None:
    tally = _tally((voter, "+1"), ("Someone Else", "+1"))
    ballot = match_voter(announced, tally.ballots)
    assert ballot is not None
    assert ballot.voter == voter


def test_compare_agreeing_announcement_has_no_discrepancies() -> None:
    tally = _tally(("Robert Scholte", "+1"), ("Hervé BOUTEMY", "+1"), ("Olivier Lamy", "+1"))
    assert compare(tally, parse_result(RESULT_TEXT)) == []


def test_compare_names_the_voters_concerned() -> None:
    tally = _tally(
        ("Robert Scholte", "+1"),
        ("Hervé BOUTEMY", "-1 because the build fails"),
        ("Martijn Verburg", "Non binding but it works well for me"),
        ("Karl-Heinz Marbaise", "+1"),
    )
    text = "+1 : Robert Scholte, Herve Boutemy, Martijn Verburg, Ghost Writer\n"
    found = {(d.kind, d.voters) for d in compare(tally, parse_result(text))}
    assert found == {
        ("value-differs", ("Hervé BOUTEMY",)),
        ("ambiguous-counted", ("Martijn Verburg",)),
        ("not-in-thread", ("Ghost Writer",)),
        ("not-in-announcement", ("Karl-Heinz Marbaise",)),
    }


def test_compare_an_omitted_minus_one_is_reported() -> None:
    tally = _tally(("Robert Scholte", "+1"), ("Mark Raynsford", "-1 (non-binding) it fails"))
    found = compare(tally, parse_result("+1: Robert Scholte\n"))
    assert [(d.kind, d.voters) for d in found] == [("not-in-announcement", ("Mark Raynsford",))]


def test_compare_a_result_may_leave_out_support_that_does_not_bind() -> None:
    tally = _tally(
        ("Robert Scholte", "+1"),
        ("Yusuf Demir", "Not on the TSC, but +1 from someone who gave up on a pull request."),
    )
    (found,) = compare(tally, parse_result("+1: Robert Scholte\n"))
    assert (found.kind, found.voters, found.soft) == (
        "non-binding-not-announced",
        ("Yusuf Demir",),
        True,
    )


def test_compare_counts_when_no_names_are_given() -> None:
    tally = _tally(("A", "+1"), ("B", "+1"), ("C", "works for me"))
    assert compare(tally, parse_result("+1: 3")) == []  # the RM counted C: a judgement call
    (found,) = compare(tally, parse_result("+1: 5"))
    assert found.kind == "count-differs"


def test_compare_binding_with_a_roster() -> None:
    tally = _tally(
        ("Robert Scholte", "+1"), ("Hervé BOUTEMY", "+1"), ("Eric Barboni", "+1"), roster=PMC
    )
    text = "+1: Robert, Herve, Eric\n\nPMC quorum: Robert, Eric\n"
    found = {(d.kind, d.voters) for d in compare(tally, parse_result(text))}
    assert found == {
        ("binding-differs", ("Eric Barboni",)),
        ("binding-differs", ("Hervé Boutemy",)),  # as the roster names him
    }
    (count,) = compare(tally, parse_result("+1: 3 (3 binding)"))
    assert count.kind == "binding-count-differs"


def test_compare_first_name_shared_by_two_voters_is_unresolved_not_wrong() -> None:
    tally = _tally(("Robert Scholte", "+1"), ("Robert Munteanu", "+1"), ("Olivier Lamy", "+1"))
    found = compare(tally, parse_result("+1: Robert, Olivier"))
    assert [d.kind for d in found] == ["name-unresolved"]
    assert set(found[0].voters) == {"Robert Scholte", "Robert Munteanu"}
    assert found[0].soft


def test_report_agreement_with_the_announcement() -> None:
    replies = votes(*THREE_BINDING, ("Martijn Verburg", "Non binding but it works for me"))
    text = (
        "The vote has passed.\n\n+1: Robert Scholte, Hervé Boutemy, Olivier Lamy, Martijn Verburg"
    )
    report = report_vote(
        make_call(), replies, now=AFTER_CLOSE, roster=PMC, result=_result(74, text)
    )
    assert report.agrees_with_announced is True
    assert [d.kind for d in report.discrepancies] == ["ambiguous-counted"]
    failed_text = "The vote has failed.\n\n+1: Robert Scholte, Hervé Boutemy, Olivier Lamy"
    wrong = report_vote(
        make_call(),
        votes(*THREE_BINDING),
        now=AFTER_CLOSE,
        roster=PMC,
        result=_result(74, failed_text),
    )
    assert wrong.agrees_with_announced is False
    assert report_vote(make_call(), [], now=AFTER_CLOSE).agrees_with_announced is None


def test_a_result_naming_its_sender_as_myself_names_the_sender() -> None:
    # Robert sends the RESULT: "and myself" is his own +1, not a voter missing from the
    # thread, and his +1 is in the announcement.
    text = "The vote has passed with 3 binding +1 votes (Hervé, Olivier and myself)."
    report = report_vote(
        make_call(), votes(*THREE_BINDING), now=AFTER_CLOSE, roster=PMC, result=_result(74, text)
    )
    assert report.discrepancies == ()
    assert report.agrees_with_announced is True


def test_an_ambiguous_ballot_counts_as_the_result_names_it_and_stays_marked() -> None:
    # Olivier's "Yes." is his own approving mail with no value in it: the RESULT says
    # how the caller read it, as a chair would, and the vote reaches its three.
    replies = votes(("Robert Scholte", "+1"), ("Hervé Boutemy", "+1"), ("Olivier Lamy", "Yes."))
    unannounced = report_vote(make_call(), replies, now=AFTER_CLOSE, roster=PMC)
    assert voters(unannounced, 1) == {"Robert Scholte", "Hervé Boutemy"}
    assert unannounced.state is VoteState.FAILED
    text = "The vote has passed.\n\n+1: Robert Scholte, Hervé Boutemy, Olivier Lamy"
    report = report_vote(
        make_call(), replies, now=AFTER_CLOSE, roster=PMC, result=_result(74, text)
    )
    assert voters(report, 1) == {"Robert Scholte", "Hervé Boutemy", "Olivier Lamy"}
    assert report.state is VoteState.PASSED
    assert report.agrees_with_announced is True
    (olivier,) = [b for b in report.ballots if b.voter == "Olivier Lamy"]
    assert olivier.ambiguous
    assert olivier.counted_as == "+1"
    (as_json,) = [b for b in report.to_dict()["ballots"] if b["voter"] == "Olivier Lamy"]
    assert (as_json["ambiguous"], as_json["counted"], as_json["counted_as"]) == (True, True, "+1")
    assert [d.kind for d in report.discrepancies] == ["ambiguous-counted"]
    # A RESULT never makes an approving mail a -1, nor adds a ballot the thread lacks.
    against = "The vote has failed.\n\n+1: Robert Scholte, Hervé Boutemy\n-1: Olivier Lamy"
    other = report_vote(
        make_call(), replies, now=AFTER_CLOSE, roster=PMC, result=_result(74, against)
    )
    assert voters(other, -1) == set()
    assert voters(other, 1) == {"Robert Scholte", "Hervé Boutemy"}
    # A project whose policy counts such ballots counts them with no RESULT at all.
    policy = VotePolicy(count_ambiguous_as_plus_one=True)
    counted = report_vote(make_call(), replies, now=AFTER_CLOSE, roster=PMC, policy=policy)
    assert counted.state is VoteState.PASSED


def test_a_result_that_counts_more_than_it_names_agrees_when_its_names_and_outcome_do() -> None:
    # "6 +1 votes" over a list of the binding four: the unnamed +1 are in its count, and
    # a total miscounted (one voter's two mails counted twice) is reported, not a dispute.
    replies = votes(*THREE_BINDING, ("Martijn Verburg", "+1 (non-binding)"), ("Eric Barboni", "+1"))
    text = (
        "The vote is now closed. It passes with 6 +1 votes, 4 of them binding, and no 0 or -1"
        " votes.\n\nBinding +1:\n- Robert Scholte\n- Hervé Boutemy\n- Olivier Lamy\n"
        "- Eric Barboni\n"
    )
    report = report_vote(make_call(), replies, now=AFTER_CLOSE, result=_result(74, text))
    assert "not-in-announcement" not in [d.kind for d in report.discrepancies]
    assert "count-differs" in [d.kind for d in report.discrepancies]
    assert report.agrees_with_announced is True
    # A voter the RESULT names with another value still makes it disagree.
    named_wrong = text.replace("- Eric Barboni\n", "").replace("no 0 or -1 votes", "one -1")
    named_wrong += "\n-1: Eric Barboni\n"
    disputed = report_vote(make_call(), replies, now=AFTER_CLOSE, result=_result(74, named_wrong))
    assert disputed.agrees_with_announced is False


# --------------------------------------------------------------------------
# The report as JSON
# --------------------------------------------------------------------------


def test_report_to_dict_is_json_ready() -> None:
    replies = votes(*THREE_BINDING, ("Andreas Sewe", "tested, no trouble"))
    report = report_vote(make_call(), replies, now=AFTER_CLOSE, roster=PMC, result=_result(74))
    data = json.loads(json.dumps(report.to_dict()))
    assert set(data) >= {
        "thread",
        "subject",
        "state",
        "rule",
        "opened_at",
        "closes_at",
        "ballots",
        "tally",
        "announced",
        "agrees_with_announced",
        "flags",
    }
    assert data["state"] == "passed"
    assert data["rule"] == "majority-approval"
    assert data["tally"] == {
        "plus": 3,
        "zero": 0,
        "minus": 0,
        "binding_plus": 3,
        "binding_zero": 0,
        "binding_minus": 0,
        "ambiguous": 1,
    }
    andreas = next(b for b in data["ballots"] if b["voter"] == "Andreas Sewe")
    assert andreas["ambiguous"] is True
    assert andreas["binding"] is False
    assert andreas["value"] is None
    assert andreas["counted_as"] is None  # the RESULT does not name him
    assert andreas["sentence"] == "tested, no trouble"
    robert = next(b for b in data["ballots"] if b["voter"] == "Robert Scholte")
    assert (robert["vote"], robert["binding"], robert["post"]) == ("+1", True, replies[0].key)
    assert data["announced"]["entries"][0]["names"] == [
        "Robert Scholte",
        "Hervé BOUTEMY",
        "Olivier Lamy",
    ]
    ambiguous_flags = [f for f in data["flags"] if f["kind"] == "ambiguous-ballot"]
    assert [f["voters"] for f in ambiguous_flags] == [["Andreas Sewe"]]


def test_ballot_reading_default_is_nothing() -> None:
    assert BallotReading(ReadingKind.NONE).ambiguous is False
    assert isinstance(parse_result(""), AnnouncedResult)


def test_a_ballot_a_forum_relays_counts_but_a_tools_does_not() -> None:
    # A forum's mailing-list mode marks its copies Auto-Submitted; the ballot is Bob's.
    relayed = replace(
        make_post("+1", "Bob Baker via Example Forum", address=""),
        auto_submitted=True,
        headers={HEADER_RELAYED_BY: "Example Forum <forum@example.org>; no address"},
    )
    # A CI job's "+1" is a build, not a ballot.
    build = replace(
        make_post("+1 Build passed.", "Jenkins", address="jenkins@builds.apache.org"),
        auto_submitted=True,
    )
    tally = collect_ballots(make_call(), [relayed, build], until=AFTER_CLOSE)
    assert voters(tally.ballots, 1) == {"Bob Baker via Example Forum"}


def _relayed(text: str, who: str) -> Post:
    """A ballot a forum's mailing-list mode relayed: its author has no address of theirs."""
    return replace(
        make_post(text, f"{who} via Example Forum", address=""),
        auto_submitted=True,
        headers={HEADER_RELAYED_BY: "Example Forum <forum@example.org>; no address"},
    )


def test_a_vote_short_only_of_ballots_nothing_verifies_is_unverified_not_failed() -> None:
    voters_ = ("Jun Park", "Saoirse Byrne", "Dawit Alemu")
    replies = [_relayed("+1 (binding)", who) for who in voters_]
    report = report_vote(make_call(), replies, now=AFTER_CLOSE)
    assert report.state is VoteState.UNVERIFIED
    assert report.agrees_with_announced is None
    [flag] = [f for f in report.flags if f.kind == "outcome-unverified"]
    assert set(flag.voters) == {f"{who} via Example Forum" for who in voters_}
    assert report.to_dict()["state"] == "unverified"
    # Against, it fails whoever the relayed voters are; and with a roster, a relayed name
    # is never a member's: it failed.
    against = [*replies, *(_relayed("-1", f"Critic {n}") for n in range(4))]
    assert report_vote(make_call(), against, now=AFTER_CLOSE).state is VoteState.FAILED
    assert report_vote(make_call(), replies, now=AFTER_CLOSE, roster=PMC).state is VoteState.FAILED


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("I withdraw my -1", "I withdraw my -1"),
        ("Confirmed on Java 17, it doesn't start. I withdraw my +1.", "I withdraw my +1."),
        ("Retracting my vote.", "Retracting my vote."),
    ],
)
def test_a_ballot_taken_back_is_withdrawn_not_guessed(text: str, shown: str) -> None:
    reading = parse_ballot(text)
    assert reading.kind is ReadingKind.WITHDRAWN
    assert reading.value is None
    assert not reading.is_vote
    # The sentence shown as the why is the one that takes the ballot back.
    assert reading.sentence == shown


def test_a_withdrawn_ballot_leaves_its_voter_in_no_column() -> None:
    replies = [
        make_post("+1 (binding)", "Olivier Lamy", hours=1),
        make_post("The CLI dies on Java 17. I withdraw my +1.", "Olivier Lamy", hours=5),
        make_post("I withdraw my -1, +1 now.", "Hervé Boutemy", hours=6),
    ]
    report = report_vote(make_call(), replies, now=AFTER_CLOSE, roster=PMC)
    assert voters(report, 1) == {"Hervé Boutemy"}
    [olivier] = [b for b in report.ballots if b.voter == "Olivier Lamy"]
    assert not olivier.counted
    assert [c.reading.value for c in olivier.history] == [1.0]
    assert olivier.label == "withdrawn"
    assert report.to_dict()["ballots"][0]["withdrawn"] is True
    # Taking one value back and casting another in one breath casts the other (vote set
    # 12: "I withdraw my -1, +1 now (binding).").
    [herve] = [b for b in report.ballots if b.voter == "Hervé Boutemy"]
    assert (herve.bucket, herve.ambiguous) == (1, False)


def test_an_rfc_whose_vote_nothing_verifies_is_neither_accepted_nor_rejected() -> None:
    @dataclass(frozen=True)
    class Standing:
        thread: str
        state: VoteState
        opened_at: datetime
        closes_at: datetime
        would_pass_now: bool | None = None

    ledger = build_ledger("<call@example.org>", [], AFTER_CLOSE)
    closed = OPENED + timedelta(hours=72)
    for ended, expected in (
        (VoteState.PASSED, RfcState.ACCEPTED),
        (VoteState.FAILED, RfcState.REJECTED),
    ):
        vote = Standing("<call@example.org>", ended, OPENED, closed)
        assert rfc_state(ledger, [vote], closed, AFTER_CLOSE, RfcSettings())[0] is expected
    unverified = Standing("<call@example.org>", VoteState.UNVERIFIED, OPENED, closed)
    state, _, _ = rfc_state(ledger, [unverified], closed, AFTER_CLOSE, RfcSettings())
    assert state not in (RfcState.ACCEPTED, RfcState.REJECTED)


def test_an_open_vote_only_relayed_ballots_would_pass_forecasts_neither_pass_nor_fail() -> None:
    replies = [
        _relayed("+1 (binding)", who) for who in ("Jun Park", "Saoirse Byrne", "Dawit Alemu")
    ]
    report = report_vote(make_call(), replies, now=make_call().created_at + timedelta(hours=1))
    assert report.state is VoteState.OPEN
    assert report.would_pass_now is None
    assert [f.kind for f in report.flags if f.kind == "outcome-unverified"] == [
        "outcome-unverified"
    ]
    assert forecast(report.would_pass_now) == "pass only if its relayed ballots count"
    # Short of ballots whoever cast them, it would fail.
    one = report_vote(make_call(), replies[:1], now=make_call().created_at + timedelta(hours=1))
    assert (one.would_pass_now, forecast(one.would_pass_now)) == (False, "fail")


COUNCIL_CALL = (
    "Motion: new stage3 tarballs ship merged-usr only.\n\n"
    "Please reply with yes, no or abstain. Voting is open for 7 days."
)


def test_a_call_asking_for_yes_no_or_abstain_takes_those_words_as_ballots() -> None:
    replies = votes(
        ("Robert Scholte", "I vote yes."),
        ("Hervé Boutemy", "No.\n\nWe still have users with /usr on its own partition."),
        ("Olivier Lamy", "Abstain\n\nI maintain the migration tool."),
        ("Arnaud Héritier", "Sorry for the delay, I was travelling. Yes."),
        ("Karl Heinz Marbaise", "yes"),
    )
    report = report_vote(make_call(COUNCIL_CALL), replies, now=AFTER_CLOSE, roster=PMC)
    assert voters(report, 1) == {"Robert Scholte", "Arnaud Héritier", "Karl Heinz Marbaise"}
    assert voters(report, 0) == {"Olivier Lamy"}
    assert voters(report, -1) == {"Hervé Boutemy"}
    # A +1 / 0 / -1 call leaves a bare "Yes." for a person to judge, as before.
    usual = report_vote(make_call(), votes(("Robert Scholte", "Yes.")), now=AFTER_CLOSE)
    assert [b.ambiguous for b in usual.ballots] == [True]


def test_a_motions_result_in_words_names_its_ballots() -> None:
    announced = parse_result(
        "Result:\n\n"
        "  yes:     Ann Lee, Bob Roe\n"
        "  no:      Carl Tan\n"
        "  abstain: Dee Ray\n\n"
        "- in favour (core team): @erin, @frank\n\n"
        "With 4 yes, 1 no and 1 abstention, the motion carries.\n"
    )
    assert announced.outcome is VoteState.PASSED
    plus, zero, minus = _three_sides(announced)
    assert [n.lstrip("@") for n in plus.names] == ["Ann Lee", "Bob Roe", "erin", "frank"]
    assert (zero.names, minus.names) == (("Dee Ray",), ("Carl Tan",))


def test_on_a_pull_request_vote_an_approving_review_is_its_reviewers_plus_one() -> None:
    approval = make_post("@olamy approved this pull request.\n\nHappy with this.", "olamy")
    forged = make_post("@olamy approved this pull request.", "Hervé Boutemy", hours=2)
    report = report_vote(make_call(), [approval, forged], now=AFTER_CLOSE)
    assert voters(report, 1) == {"olamy"}
    assert [b.voter for b in report.ballots if b.ambiguous] == []


def test_a_plus_one_from_a_voter_describing_themselves_is_theirs() -> None:
    said = "+1 from a downstream packager (not core team, so non-binding)."
    [ballot] = report_vote(make_call(), votes(("Olivier Lamy", said)), now=AFTER_CLOSE).ballots
    assert (ballot.bucket, ballot.ambiguous) == (1, False)
    relayed = votes(("Olivier Lamy", "+1 from Hervé."))
    assert [b.ambiguous for b in report_vote(make_call(), relayed, now=AFTER_CLOSE).ballots] == [
        True
    ]


def test_a_result_listing_non_binding_support_by_name_misses_the_one_it_leaves_out() -> None:
    replies = votes(*THREE_BINDING, ("Keanu Kahale", "+1 (non-binding)"), ("Ada Lind", "+1"))
    text = (
        "The vote has passed with 4 +1 votes:\n\n"
        "+1 (binding): Robert Scholte, Hervé Boutemy, Olivier Lamy\n"
        "+1 (non-binding): Ada Lind\n"
    )
    report = report_vote(
        make_call(), replies, now=AFTER_CLOSE, roster=PMC, result=_result(79, text)
    )
    missed = [d.voters for d in report.discrepancies if d.kind == "not-in-announcement"]
    assert missed == [("Keanu Kahale",)]
    assert report.agrees_with_announced is False


@pytest.mark.parametrize(
    ("text", "value"),
    [
        # GitHub's thumbs-up opening a comment is its +1 (vote set 12, written blind).
        (":+1:", 1.0),
        (":+1: from a downstream packager, a predictable schedule helps us.", 1.0),
        ("👍", 1.0),
        # An abstention in words is a 0 in any vote.
        ("I'm going to abstain on this one. Not against it, but no time to test.", 0.0),
        ("I abstain.", 0.0),
    ],
)
def test_a_thumbs_up_or_an_abstention_in_words_is_a_ballot(text: str, value: float) -> None:
    reading = parse_ballot(text)
    assert (reading.kind, reading.value) == (ReadingKind.VOTE, value)


@pytest.mark.parametrize(
    "text", ["I would abstain if it were not for the NOTICE.", "I abstain unless it is fixed."]
)
def test_an_abstention_with_a_condition_is_none_cast(text: str) -> None:
    assert not parse_ballot(text).is_vote


def test_a_member_ticking_their_own_box_in_a_team_checklist_approves() -> None:
    checklist = "Please tick your box:\n\n- [ ] @olamy\n- [ ] @hboutemy\n"
    own = make_post("On mobile:\n\n- [x] @olamy\n", "olamy")
    other = make_post("- [x] @olamy\n", "hboutemy", hours=2)  # not their own box
    report = report_vote(make_call(checklist), [own, other], now=AFTER_CLOSE)
    assert voters(report, 1) == {"olamy"}
    assert [b.voter for b in report.ballots] == ["olamy"]


def test_a_result_in_counts_and_nouns() -> None:
    zero = parse_result("The vote has passed with 4 +1 (3 binding), 1 -0, no -1.").entry(0.0)
    assert zero is not None
    assert zero.count == 1
    council = parse_result(
        "The proposal is approved with 5 of 7 council approvals (@ann, @bob, @cy, @di, @ed),"
        " one abstention (@fay) and no objections."
    )
    plus, abstained = council.entry(1.0), council.entry(0.0)
    assert plus is not None
    assert abstained is not None
    assert (plus.count, len(plus.names), abstained.names) == (5, 5, ("@fay",))


def test_approve_alone_is_an_approval_the_result_may_count() -> None:
    reading = parse_ballot("Approve. Thanks for writing down the backport rules.")
    assert (reading.kind, reading.value) == (ReadingKind.VAGUE, None)


def test_a_committees_nay_from_me_at_the_end_of_a_sentence_is_a_ballot() -> None:
    said = "I know I'm not on the TC, so this is only for the record, but Nay from me."
    assert parse_worded_ballot(said).value == -1.0


def test_a_result_may_misspell_a_first_name_but_not_swap_a_person() -> None:
    john = report_vote(make_call(), votes(("John Abernathy", "+1")), now=AFTER_CLOSE).ballots
    assert [b.voter for b in voter_candidates("Jon Abernathy", john)] == ["John Abernathy"]
    assert voter_candidates("Jane Abernathy", john) == []


def test_a_pull_request_vote_closed_by_its_caller_in_bullets() -> None:
    closing = (
        "The vote has been open for 7 days, so I'm closing it.\n\n**Result: passed.**\n\n"
        "* Binding +1 (maintainers): @ann, @bob, @cy (3 of 5)\n"
        "* Non-binding: +1 from Dee, -1 from Ed\n"
    )
    assert announces_result(closing) == (True, VoteState.PASSED)
    announced = parse_result(closing)
    plus, minus = announced.entry(1.0), announced.entry(-1.0)
    assert plus is not None
    assert minus is not None
    # "@cy (3 of 5)" keeps its remark, which matching a voter sets aside.
    assert [n.split(" (")[0].lstrip("@") for n in plus.names] == ["ann", "bob", "cy", "Dee"]
    assert minus.names == ("Ed",)


# Stop 50: what blind vote sets 16 and 17 wrote that was misread.


def test_a_ballot_beside_inline_code_is_prose() -> None:
    # A line with `Config.load()` or `tzdata==2025a` in it was taken for a line of code.
    for text in (
        "+1 (non-binding), tested with our service, all loading through `Config.load()`.",
        "Thanks, with `tzdata==2025a` pinned everything passes. +1 (non-binding)",
    ):
        assert (parse_ballot(text).kind, parse_ballot(text).value) == (VOTE, 1.0)
    assert parse_ballot("x = foo(1) + 1;").kind is ReadingKind.NONE


def test_a_bare_zero_with_its_reason_after_a_comma_is_a_ballot() -> None:
    said = "0, I don't know their work well enough to have an opinion either\nway."
    assert (parse_ballot(said).kind, parse_ballot(said).value) == (VOTE, 0.0)
    assert parse_ballot("0, 1 and 2 failed on my machine").kind is ReadingKind.NONE


def test_a_kept_minus_one_stands_and_a_promise_after_its_condition_waits() -> None:
    kept = (
        "I'm keeping my -1. A version with the notice going to the address\n"
        "people use on dev@ and an explicit reply-to-stay option would\n"
        "get my +1."
    )
    assert (parse_ballot(kept).kind, parse_ballot(kept).value) == (VOTE, -1.0)
    later = "On (2) I'm keeping the -1. With either of those I'll be +1."
    assert (parse_ballot(later).kind, parse_ballot(later).value) == (VOTE, -1.0)
    assert parse_ballot("With either of those I'll be +1.").kind is ReadingKind.CONDITIONAL
    assert parse_ballot("With that fixed I'm +1.").value == 1.0
    # A short line over a ballot is no wrapped sentence: "Hi all" stays a greeting.
    assert parse_ballot("Hi all\nI'm +1").value == 1.0


def test_a_plus_one_from_the_writers_side_of_the_project_is_theirs() -> None:
    said = "+1 from the packaging side (not core, I know)."
    assert (parse_ballot(said).kind, parse_ballot(said).value) == (VOTE, 1.0)


FORUM_CALL = (
    "**How to vote**\n\nCore team members: please reply **yes** or **no** in this topic.\n\n"
    "I'm voting yes myself."
)


def test_a_forum_call_asking_for_yes_or_no_in_bold_takes_words_and_its_callers_own() -> None:
    call = make_call(FORUM_CALL)
    replies = votes(
        ("Hervé Boutemy", "Yes, and thanks for writing this up so clearly."),
        ("Olivier Lamy", "In favour.\n\nSlipped releases can be a follow-up."),
        ("Karl Heinz Marbaise", "Thanks, that was my only worry. Then yes from me."),
        ("Arnaud Héritier", "Against."),
    )
    replies = [replace(reply, in_reply_to=call.message_id) for reply in replies]
    # The caller answering a question in the thread answers it, not the call.
    answer = replace(
        make_post("@karl no, only the compiler and the CLI.", "Robert Scholte", hours=9),
        in_reply_to="<question@example.org>",
    )
    report = report_vote(call, [*replies, answer], now=AFTER_CLOSE, roster=PMC)
    assert voters(report, 1) == {
        "Robert Scholte",
        "Hervé Boutemy",
        "Olivier Lamy",
        "Karl Heinz Marbaise",
    }
    assert voters(report, -1) == {"Arnaud Héritier"}


def test_a_call_answering_its_own_faq_casts_nothing() -> None:
    call = make_call("Please reply yes or no.\n\nAre abstentions counted? No.")
    assert report_vote(call, [], now=AFTER_CLOSE, roster=PMC).ballots == ()


def test_a_result_counting_a_side_over_a_bulleted_list_names_it() -> None:
    announced = parse_result(
        "+1 (binding): 3\n  - Tomasz Wierzbicki\n  - Mariko Tanabe\n  - Imogen Castellanos\n\n"
        "+1 (non-binding): 2\n  - Priya Raghunathan\n  - Felix Brandt\n\n"
        "-1: 1\n  - Oskar Lindgren (woodstox missing from LICENSE-binary, tracked in\n"
        "    ANT-2231 for 4.2.2)\n"
    )
    plus, minus = announced.entry(1.0), announced.entry(-1.0)
    assert plus is not None
    assert minus is not None
    assert (
        plus.names[:3]
        == plus.binding_names
        == (
            "Tomasz Wierzbicki",
            "Mariko Tanabe",
            "Imogen Castellanos",
        )
    )
    assert plus.names[3:] == ("Priya Raghunathan", "Felix Brandt")
    assert [n.split(" (")[0] for n in minus.names] == ["Oskar Lindgren"]
    # A count over a line of prose names nobody.
    counted = parse_result("+1: 5\nMore tests welcome\n").entry(1.0)
    assert counted is not None
    assert counted.names == ()


def test_a_results_remarks_are_not_names() -> None:
    announced = parse_result(
        "It passed with 7 +1 votes (4 binding) and 1 -1 vote (non-binding).\n\n"
        "Binding (PMC):\n"
        "  -1: Sofia Ferreira, Declan Farrelly (2)\n"
        "      (Declan changed his +1 to -1 during the vote)\n"
    )
    minus = announced.entry(-1.0)
    assert minus is not None
    # "Declan Farrelly (2)" keeps its remark, which matching a voter sets aside.
    assert [n.split(" (")[0] for n in minus.names] == ["Sofia Ferreira", "Declan Farrelly"]


# Stop 50: blind vote sets 18 and 19.


def test_a_change_of_vote_after_its_reason_is_cast_now() -> None:
    changed = (
        "Fair enough. If it's tracked for 0.9.3 I don't want to hold up the bug\n"
        "fixes, so I'm changing my vote to +0."
    )
    assert (parse_ballot(changed).kind, parse_ballot(changed).value) == (VOTE, 0.0)
    waits = "If the NOTICE gets fixed I'll change my vote to +1."
    assert parse_ballot(waits).kind is ReadingKind.CONDITIONAL


def test_a_plus_one_denied_across_a_wrapped_line_is_not_cast() -> None:
    said = (
        "+0\n\nI only managed a source build and the unit tests this week (both fine),\n"
        "not the signatures or the licence review, so I don't want to give a full\n"
        "+1. No objection to the release."
    )
    assert (parse_ballot(said).kind, parse_ballot(said).value) == (VOTE, 0.0)
    checked = (
        "I checked the signatures, the checksums and built it from the source tarball\n+1 (binding)"
    )
    assert parse_ballot(checked).value == 1.0


def test_a_lazy_consensus_that_holds_and_a_vote_summary_announce_a_pass() -> None:
    held = (
        "The 72 hours have passed without objections, so the lazy consensus\n"
        "holds: Trellis 5.0 will require Python 3.9+."
    )
    assert announces_result(held) == (True, VoteState.PASSED)
    assert parse_result(held).outcome is VoteState.PASSED
    summary = (
        "Vote summary: approved by @frieda-lind and @okwuosa (reviews), and no maintainer"
        " objected in the 72 hours after that, so this passes under GOVERNANCE.md."
    )
    assert announces_result(summary) == (True, VoteState.PASSED)


def test_abstain_alone_is_a_zero_and_a_legend_word_first_is_no_ballot() -> None:
    assert (parse_ballot("Abstain. I have not used the old loader in years.").value) == 0.0
    assert parse_ballot("Abstain if the docs are not ready.").kind is not VOTE
    call = (
        "Please vote with your review:\n\n"
        "- **Approve** = +1\n"
        "- **Request changes** = -1 (say what would change your mind)\n"
        "- a comment saying **abstain** = 0\n\n"
        "As the author: +1 from me."
    )
    reading = parse_ballot(call)
    assert (reading.kind, reading.value) == (VOTE, 1.0)
    assert reading.sentence == "As the author: +1 from me."


def test_a_tally_in_the_thread_after_the_voting_period_announces_its_outcome() -> None:
    tally_post = (
        "The voting period is over. Tally among maintainers:\n\n"
        "- Approve (+1): @ann-k, @bo-li and me, so 3 of 4\n"
        "- Abstain: @cyd\n\n"
        "That meets the threshold, so RFC 12 is accepted. Merging."
    )
    assert announces_result(tally_post) == (True, VoteState.PASSED)
    announced = parse_result(tally_post)
    plus = announced.entry(1.0)
    assert plus is not None
    assert plus.names == ("@ann-k", "@bo-li", "me")  # "so 3 of 4" is the count, no name
    assert plus.binding_names == plus.names  # "among maintainers": the binding ones
    rejected = "The voting window has ended. Two approvals of five, so the proposal is rejected."
    assert announces_result(rejected) == (True, VoteState.FAILED)
    assert announces_result("The voting period has passed the halfway mark.")[0] is False


def test_a_result_of_binding_voters_only_may_leave_out_a_plus_one_claiming_nothing() -> None:
    # (Dee claims nothing: "+1 from a user" would say non-binding, stop 52.)
    tally = _tally(("Ann Keller", "+1"), ("Bo Lindqvist", "+1"), ("Dee User", "+1, works for us"))
    binding_only = "Tally among maintainers:\n+1: Ann Keller, Bo Lindqvist\n"
    found = compare(tally, parse_result(binding_only))
    assert [(d.kind, d.voters, d.soft) for d in found] == [
        ("non-binding-not-announced", ("Dee User",), True)
    ]
    # Without that claim the same omission is an error.
    plain = compare(tally, parse_result("+1: Ann Keller, Bo Lindqvist\n"))
    assert [(d.kind, d.soft) for d in plain] == [("not-in-announcement", False)]


def test_a_ballot_the_result_says_it_took_elsewhere_is_reported_but_no_error() -> None:
    tally = _tally(("Ann Keller", "+1"), ("Bo Lindqvist", "+1"))
    text = "+1: Ann Keller, Bo Lindqvist, Mira Novak (sent to me directly, she is travelling)\n"
    announced = parse_result(text)
    plus = announced.entry(1.0)
    assert plus is not None
    assert plus.names[-1] == "Mira Novak"
    found = compare(tally, announced)
    assert [(d.kind, d.voters, d.soft) for d in found] == [
        ("cast-elsewhere", ("Mira Novak",), True)
    ]
    ghost = compare(tally, parse_result("+1: Ann Keller, Bo Lindqvist, Mira Novak\n"))
    assert [(d.kind, d.soft) for d in ghost] == [("not-in-thread", False)]


def test_words_cast_after_a_colon_in_a_sentence_or_as_a_change_are_ballots() -> None:
    replies = votes(
        ("Robert Scholte", "For the record, my vote is yes."),
        ("Hervé Boutemy", "Not on the PMC, so non-binding, but: NO.\n\nIt is unenforceable."),
        ("Olivier Lamy", "No, for now.\n\nPoint 3 worries me."),
        ("Olivier Lamy", "OK, with the follow-up I'm fine. I'm changing my vote to YES."),
        ("Arnaud Héritier", "That's fair.\n\nI should also cast my own vote: yes."),
    )
    report = report_vote(make_call(COUNCIL_CALL), replies, now=AFTER_CLOSE, roster=PMC)
    assert voters(report, 1) == {"Robert Scholte", "Olivier Lamy", "Arnaud Héritier"}
    assert voters(report, -1) == {"Hervé Boutemy"}


def test_the_vote_closed_on_a_day_and_the_policy_is_adopted_announce_a_pass() -> None:
    text = "The vote closed on Friday at 23:59 UTC. The policy is adopted.\n\nThanks all."
    assert announces_result(text) == (True, VoteState.PASSED)


def test_a_result_whose_sender_counts_their_own_plus_one_still_agrees() -> None:
    tally = _tally(("Ann Keller", "+1"), ("Bo Lindqvist", "+1"))
    announced = parse_result("+1: Mira Novak, Ann Keller, Bo Lindqvist\n")
    own = compare(tally, naming_author(announced, "Mira Novak"))
    assert [(d.kind, d.voters, d.soft) for d in own] == [
        ("senders-own-ballot", ("Mira Novak",), True)
    ]
    # Someone else's name with no ballot stays an error.
    other = compare(tally, naming_author(announced, "Carl Tan"))
    assert [(d.kind, d.soft) for d in other] == [("not-in-thread", False)]


# Stop 52: what blind vote set 27 wrote that was misread, and what reading it showed.


def test_a_committee_votes_in_words_with_reasons_or_as_another_did() -> None:
    replies = votes(
        ("Robert Scholte", "> Yes.\n\nYes from me as well.\n\n--\nRobert"),
        ("Hervé Boutemy", "Thanks. Then I vote yes: a long embargo beats no policy."),
        ("Olivier Lamy", "No, for the same reasons as Karl. I'd support 45 days."),
    )
    report = report_vote(make_call(COUNCIL_CALL), replies, now=AFTER_CLOSE, roster=PMC)
    assert voters(report, 1) == {"Robert Scholte", "Hervé Boutemy"}
    assert voters(report, -1) == {"Olivier Lamy"}


def test_a_call_that_asks_for_more_approvals_than_the_policy_is_decided_by_them() -> None:
    call = (
        "Policy changes need the approval of two thirds of all voting TSC members, i.e.\n"
        "five of the seven of us, no matter how many take part. Please reply with Yes,\n"
        "No or Abstain.\n"
    )
    four = votes(*((name, "Yes.") for name in ("Ann Keller", "Bo Lindqvist", "Cy Ode", "Di Re")))
    report = report_vote(make_call(call), four, now=AFTER_CLOSE)
    assert report.state is VoteState.FAILED
    assert "4 potentially binding +1 (need 5)" in report.outcome.reasons
    # The release template's "at least three binding +1" is the policy's own number,
    # and a call asking for fewer never lowers it.
    assert stated_minimum_plus("It passes with at least three binding +1 votes.") == 3
    fewer = report_vote(make_call("A release needs 2 binding +1 votes."), four[:2], now=AFTER_CLOSE)
    assert fewer.state is VoteState.FAILED
    assert stated_minimum_plus("The vote is open for at least 72 hours.") is None


def test_a_callers_own_vote_is_not_made_non_binding_by_the_rule_for_others() -> None:
    call = (
        "Please comment with +1 / 0 / -1. Everyone else is very welcome to vote too;\n"
        "those votes are non-binding but help us see what users think.\n\nMy vote: +1\n"
    )
    assert parse_ballot(call).self_declared_binding is None
    legend = "Non-binding votes will be reported in the result.\n\nMy own vote: +1\n"
    assert parse_ballot(legend).self_declared_binding is None
    assert parse_ballot("+1 (non-binding)").self_declared_binding is False


def test_a_results_bullet_with_one_name_is_a_listing_not_a_ballot() -> None:
    closing = "Binding:\n* +1: Mara Lindqvist, Beatriz Souza\n\nNon-binding:\n* +1: Jonas Weber\n"
    assert parse_ballot(closing).value is None  # no ballot of the sender's
    assert parse_ballot("* +1: LGTM").value == 1.0


def test_a_committee_ballot_said_with_weight_changed_or_closing_a_reply() -> None:
    replies = votes(
        ("Robert Scholte", "No.\n\nTwo years of backports is not realistic."),
        ("Hervé Boutemy", "I'm not on the TSC, but: a big yes from the packaging side."),
        ("Robert Scholte", "Fair point.\n\nI'm changing my vote from No to Abstain."),
    )
    # Under Robert's "No." (which asks nothing), a closing "Yes, ..." answers the call.
    closing = make_post(
        "Robert, the cap covers most of this: we maintain two lines today.\n\n"
        "Yes, with the understanding that we review it at the mid-point.\n\nOlivier",
        "Olivier Lamy",
        hours=5,
    )
    closing = replace(closing, in_reply_to=replies[0].key)
    replies[0] = replace(replies[0], message_id=replies[0].key)
    report = report_vote(make_call(COUNCIL_CALL), [*replies, closing], now=AFTER_CLOSE)
    assert voters(report, 1) == {"Hervé Boutemy", "Olivier Lamy"}
    assert voters(report, 0) == {"Robert Scholte"}
    [herve] = [b for b in report.ballots if b.voter == "Hervé Boutemy"]
    assert herve.cast.reading.self_declared_binding is False


def test_a_calls_own_count_under_a_two_thirds_rule_and_its_how_to_vote_line() -> None:
    call = (
        "This needs a two-thirds majority of the maintainers. There are 7 of us, so the\n"
        "proposal needs **5** votes in favour.\n\n"
        "**How to vote:** reply to this topic with **+1**, **0** or **-1**.\n\n"
        "I'll start: +1 (core).\n"
    )
    assert parse_ballot(call).value == 1.0  # the how-to line is no ballot of the caller's
    three = votes(("Ann Keller", "+1"), ("Bo Lindqvist", "+1"), ("Cy Ode", "+1 from a user!"))
    report = report_vote(make_call(call), three, now=AFTER_CLOSE, policy=TWO_THIRDS)
    assert report.state is VoteState.FAILED
    assert "3 potentially binding +1 (the call asks for 5)" in report.outcome.reasons
    [user] = [b for b in report.ballots if b.voter == "Cy Ode"]
    assert user.cast.reading.self_declared_binding is False


def test_a_results_bold_entries_are_read_and_a_plus_one_from_a_side_names_nobody() -> None:
    announced = parse_result(
        "The vote is closed. Tally of binding votes:\n\n"
        "- **+1 (2):** @ann, @bob\n- **-1 (1):** @cy\n\n"
        "Thanks also to @dee for the +1 from the user side (non-binding).\n"
    )
    plus, minus = announced.entry(1.0), announced.entry(-1.0)
    assert plus is not None
    assert minus is not None
    assert (plus.names, minus.names) == (("@ann", "@bob"), ("@cy",))
