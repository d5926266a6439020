"""Votes wherever they are held: GitHub issues with separate RESULT issues, results
announced in the thread, rule text and listings that are no ballots, named time zones,
and who a voter is (issue 12, section 6)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import Config, VoteKindConfig, VotesConfig
from bot.core.mail import Envelope, parse_mail
from bot.core.people import People, TrustSettings
from bot.core.rfc_links import closing_links
from bot.core.threads import ThreadRef, find_closed_vote
from bot.core.votes import (
    Member,
    Roster,
    VoteState,
    collect_ballots,
    decide,
    parse_ballot,
    parse_call,
    parse_result,
    report_vote,
)
from bot.core.votes.policy import Rule, VotePolicy
from bot.core.votes.result import announces_result, voter_candidates
from bot.features.votes import policy_for, vote_reports
from bot.model import Person, Post, Source, ThreadKind
from bot.store import Store
from tests.mailgen import raw_mail
from tests.stores import ingest

OPENED = datetime(2024, 7, 20, 8, tzinfo=UTC)
AFTER = OPENED + timedelta(days=6)
THREAD = "<apache/tvm/issues/17179@github.com>"


def comment(
    text: str,
    login: str,
    hours: float,
    *,
    key: str | None = None,
    quoted: tuple[str, ...] = (),
    in_reply_to: str | None = THREAD,
    via: str = "archive",
    subject: str = "Re: [apache/tvm] [VOTE] Release Apache TVM v0.17.0.rc0 (Issue #17179)",
) -> Post:
    """A GitHub comment as the list mirrors it, imported from an archive."""
    return Post(
        source=Source.MAIL,
        key=key or f"<apache/tvm/issues/17179/c{int(hours * 10)}@github.com>",
        message_id=key or f"<apache/tvm/issues/17179/c{int(hours * 10)}@github.com>",
        thread_key=THREAD,
        author=Person(login, f"{login}@users.noreply.github.com"),
        created_at=OPENED + timedelta(hours=hours),
        subject=subject,
        text=text,
        quoted=quoted,
        in_reply_to=in_reply_to,
        headers={"X-GitHub-Sender": login},
        via=via,
    )


CALL = comment(
    "This is a call for vote to release Apache TVM version v0.17.0.\n\n"
    "According to release procedure, for the dev@ vote, there must be at least 3 binding +1"
    " votes and more +1 votes than -1 votes.\n\n+1 = approve\n+0 = no opinion\n"
    "-1 = disapprove (provide reason)\n\nVote will close July 25th at 23:59 GMT.\n",
    "ysh329",
    0,
    key=THREAD,
    in_reply_to=None,
    subject="[apache/tvm] [VOTE] Release Apache TVM v0.17.0.rc0 (Issue #17179)",
)
RESULT_TEXT = """Dear TVM community,

I'm glad to announce the results of the vote for the release of the `v0.17.0.rc0` package.
This vote passes with 5 "+1 votes" (4 binding), no "0 votes", and no "-1 vote".

## +1 votes
- Tom Zhou (sequoiar)
- Masahiro Hiramori (mshr-h)
- Ruihang Lai (MasterJH5574) (binding)
- Tianqi Chen (tqchen) (binding)
- Wuwei Lin (vinx13) (binding)

## 0 votes
- None
## -1 votes
- None

According to release procedure, [for the dev@ vote, there must be at least 3 binding +1 votes
and more +1 votes than -1 votes](https://tvm.apache.org/docs/contribute/release_process.html).

Also see:
- the vote thread on GitHub in https://github.com/apache/tvm/issues/17179
- the release notes in https://github.com/apache/tvm/issues/17178
"""
VOTERS = ("sequoiar", "mshr-h", "tqchen", "MasterJH5574", "vinx13")


def ballots() -> list[Post]:
    return [comment("+1", login, hours=10 + i) for i, login in enumerate(VOTERS)]


def result_post(text: str = RESULT_TEXT) -> Post:
    return Post(
        source=Source.MAIL,
        key="<apache/tvm/issues/17196@github.com>",
        message_id="<apache/tvm/issues/17196@github.com>",
        thread_key="<apache/tvm/issues/17196@github.com>",
        author=Person("ysh329", "ysh329@users.noreply.github.com"),
        created_at=OPENED + timedelta(days=5, hours=20),
        subject="[apache/tvm] [RESULT][VOTE] Release Apache TVM v0.17.0 (Issue #17196)",
        text=text,
        via="archive",
    )


# -- linking a RESULT to its vote ----------------------------------------------------------


def test_a_result_names_its_vote_by_a_link_in_its_body():
    links = closing_links(RESULT_TEXT, "<apache/tvm/issues/17196@github.com>")
    assert links[:2] == ("github:apache/tvm#17179", "github:apache/tvm#17178")


@pytest.mark.parametrize(
    ("text", "wanted"),
    [
        ("see #17179 for the vote", "github:apache/tvm#17179"),  # same repository
        ("Vote thread: <CAx+1@mail.gmail.com>", "<CAx+1@mail.gmail.com>"),
        (
            "https://mail-archives.apache.org/mod_mbox/spark-dev/202003.mbox/%3CCAAsw%40mail.gmail.com%3E",
            "<CAAsw@mail.gmail.com>",
        ),
        ("apache/tvm#17179 closed", "github:apache/tvm#17179"),
    ],
)
def test_every_kind_of_body_link_is_read(text: str, wanted: str):
    assert wanted in closing_links(text, "<apache/tvm/issues/17196@github.com>")


def test_own_number_and_foreign_hash_numbers_are_not_links():
    own = "<apache/tvm/issues/17196@github.com>"
    assert closing_links("issue #17196, see apache/other#3", own) == ("github:apache/other#3",)
    assert closing_links("see #12", "<CAx@mail.gmail.com>") == ()  # a list mail has no repo


@pytest.mark.parametrize(
    ("vote", "result", "linked"),
    [
        (
            "[apache/tvm] [VOTE] Release Apache TVM v0.17.0.rc0 (Issue #17179)",
            "[apache/tvm] [RESULT][VOTE] Release Apache TVM v0.17.0 (Issue #17196)",
            True,
        ),
        (
            "[apache/tvm] [VOTE] Release Apache TVM (incubating) v0.6.1.rc1 (Issue #5947)",
            "[RESULT][VOTE] Release Apache TVM (incubating) v0.6.1.rc1",
            True,
        ),
        ("[VOTE] Release Foo 1.0rc1", "[RESULT] Release Foo 1.0-rc1", True),
        ("[VOTE] Release Foo 1.0.rc1", "[RESULT] Release Foo 1.0.rc2", False),  # a re-spin
        ("[VOTE] Release Foo v1.0", "[RESULT] Release Foo 1.0.1", False),
    ],
)
def test_subjects_match_across_issue_numbers_rc_suffixes_and_prefixes(
    vote: str, result: str, linked: bool
):
    ref = ThreadRef("<v@x>", ThreadKind.VOTE, vote, OPENED, OPENED)
    assert (find_closed_vote(result, AFTER, [ref]) == "<v@x>") is linked


# -- RESULT listings -------------------------------------------------------------------


def test_a_tvm_result_is_read_name_by_name_and_its_rule_sentence_is_no_count():
    announced = parse_result(RESULT_TEXT)
    plus = announced.entry(1.0)
    assert plus is not None
    assert announced.outcome is VoteState.PASSED
    assert (plus.count, plus.binding_count) == (5, 4)  # as the prose says, not "3 binding +1"
    assert plus.names[0] == "Tom Zhou (sequoiar)"
    assert len(plus.binding_names) == 3
    zero, minus = announced.entry(0.0), announced.entry(-1.0)
    assert zero is not None
    assert minus is not None
    assert zero.names == minus.names == ()


def test_the_result_agrees_when_its_names_match_the_logins_in_parentheses():
    report = report_vote(CALL, ballots(), now=AFTER, result=result_post())
    assert report.discrepancies == ()
    assert report.agrees_with_announced is True


def test_without_a_roster_the_binding_set_is_the_results_word():
    report = report_vote(CALL, ballots(), now=AFTER, result=result_post())
    claim = report.binding_claimed_by_result
    assert claim is not None
    assert claim.voters == ("MasterJH5574", "tqchen", "vinx13")
    assert claim.count == 4
    assert claim.source == "<apache/tvm/issues/17196@github.com>"
    assert {b.binding for b in report.ballots} == {None}  # never taken as fact
    assert report.to_dict()["binding_claimed_by_result"]["voters"] == list(claim.voters)


def test_github_logins_map_to_people_and_their_names_match_the_result():
    people = People({"Tianqi Chen": ("tqchen",)})
    report = report_vote(CALL, ballots(), now=AFTER, result=result_post(), identities=people)
    assert "Tianqi Chen" in {b.voter for b in report.ballots}
    assert report.agrees_with_announced is True


# -- a vote whose call is not stored ---------------------------------------------------------


def test_a_vote_whose_call_is_not_stored_counts_the_stored_ballots_and_says_so():
    # The archive starts mid-vote: the first stored post is a ballot answering the call,
    # and sequoiar's went out before it. Quorum counts what it holds, as FORMAT.md's
    # labellers tally a partial mirror: the RESULT naming sequoiar disagrees.
    first, *rest = ballots()[1:]
    report = report_vote(first, rest, now=AFTER, result=result_post())
    assert report.state is VoteState.PASSED  # four stored +1, three of them binding
    assert report.agrees_with_announced is False
    assert [(d.kind, d.voters) for d in report.discrepancies] == [
        ("not-in-thread", ("Tom Zhou (sequoiar)",))
    ]
    kinds = [flag.kind for flag in report.flags]
    assert "call-missing" in kinds  # ... and the flag says why it may
    assert "early-result" not in kinds  # when it opened is not known


def test_a_stored_ballot_that_contradicts_the_result_still_disagrees_without_the_call():
    first, *rest = ballots()
    against = comment("-1, the license headers are missing", "vinx13", hours=30)
    report = report_vote(first, [*rest, against], now=AFTER, result=result_post())
    assert report.agrees_with_announced is False
    assert [d.kind for d in report.discrepancies] == ["value-differs"]


# -- lazy consensus ------------------------------------------------------------------------


def _lazy_thread(store: Store, *replies: str) -> None:
    subject = "[LAZY CONSENSUS] Retire the Foo sandbox"
    call = "I propose we retire the Foo sandbox. It passes in 72 hours unless someone objects."
    ingest(store, raw_mail(call, subject=subject, message_id="<lazy@x>", date=CALL_DATE))
    for number, body in enumerate(replies):
        extra = "In-Reply-To: <lazy@x>\nReferences: <lazy@x>"
        sender = f"Voter {number} <voter{number}@example.org>"
        mail = raw_mail(
            body,
            subject=f"Re: {subject}",
            message_id=f"<r{number}@x>",
            sender=sender,
            date=CALL_DATE,
            extra=extra,
        )
        ingest(store, mail)


CALL_DATE = "Mon, 02 Nov 2026 09:14:00 +0000"
AFTER_LAZY = datetime(2026, 11, 6, tzinfo=UTC)


# A project's own kinds, none of which says "lazy": the call's own word decides.
OWN_KINDS = Config(
    votes=VotesConfig(kinds={"procedural": VoteKindConfig(rule="majority-approval")})
)


@pytest.mark.parametrize("config", [Config(), OWN_KINDS], ids=["default kinds", "own kinds"])
@pytest.mark.parametrize(("replies", "state"), [((), "passed"), (("+1", "-1, not yet"), "failed")])
def test_a_lazy_consensus_call_passes_unless_someone_objects(
    tmp_path: Path, replies: tuple[str, ...], state: str, config: Config
):
    store = Store.open(tmp_path / "s.db")
    try:
        _lazy_thread(store, *replies)
        (report,) = vote_reports(store, config, AFTER_LAZY)
    finally:
        store.close()
    assert report.rule is Rule.LAZY_CONSENSUS
    assert report.state is VoteState(state)


# -- results announced in the vote thread ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "outcome"),
    [
        ("Thank you for the discussion everyone! This vote passes.", VoteState.PASSED),
        ("The vote has passed with 3 binding +1 votes.", VoteState.PASSED),
        ("Vote passed with +1's from: Olivier, Herve, Robert", VoteState.PASSED),
        ("The vote did not pass.", VoteState.FAILED),
        ("Cancelling this vote, an rc2 follows.", VoteState.CANCELLED),
        ("I'm closing this vote; the result follows.", None),
        ("The vote for Apache TVM v0.17.0.rc0 has passed.", VoteState.PASSED),
        ("Thanks everyone, the vote is closed. It passes with 4 binding +1.", VoteState.PASSED),
        ("The vote is now closed. Sadly the release failed.", VoteState.FAILED),
        ("The vote is closed. I think it passes, counting now.", None),
        ("This vote is withdrawn; the tarball is missing the NOTICE.", VoteState.CANCELLED),
        # Discourse's bold, and the subject named: the proposal, the motion.
        (
            "The vote is closed. Thanks, everyone!\n\n**Result: the proposal passes.**",
            VoteState.PASSED,
        ),
        ("The vote is closed. The motion failed, 2 to 3.", VoteState.FAILED),
    ],
)
def test_a_statement_that_the_vote_is_over_is_an_announcement(text: str, outcome: VoteState):
    assert announces_result(text) == (True, outcome)


@pytest.mark.parametrize(
    "text",
    [
        "The vote will pass if we get one more binding +1.",
        "Does this vote pass?",
        "I think the vote passes already.",
        "I will cancel the vote if the signature is wrong.",
        "> This vote passes.",
        # A condition after the statement, another vote, a ballot taken back.
        "The vote passes if we get 3 binding +1s.",
        "Last time the vote failed because of the NOTICE.",
        "The vote for 1.2.0 passed last month, so this one should be quick.",
        "I'm withdrawing my vote.",
    ],
)
def test_plans_questions_and_quotes_are_not_announcements(text: str):
    assert announces_result(text) == (False, None)


def test_the_callers_reply_closes_the_vote_and_is_no_ballot():
    closing = comment("This vote passes.\n\n+1\nsequoiar\nmshr-h\ntqchen\n", "ysh329", hours=100)
    late = comment("+1", "latecomer", hours=101)
    report = report_vote(CALL, [*ballots(), closing, late], now=AFTER)
    assert report.result_in_thread is True
    assert report.result_post == closing.key
    assert report.state is VoteState.PASSED
    assert "ysh329" not in {b.voter for b in report.ballots}
    assert "latecomer" not in {b.voter for b in report.ballots}  # after the announcement


def test_the_callers_reminder_of_the_rule_closes_nothing():
    rule = comment("The vote passes if we get 3 binding +1s.", "ysh329", hours=30)
    report = report_vote(CALL, [*ballots(), rule], now=OPENED + timedelta(hours=40))
    assert report.result_in_thread is False
    assert report.state is VoteState.OPEN


def test_someone_elses_claim_that_the_vote_passed_closes_nothing():
    claim = comment("The vote has passed, great.", "sequoiar", hours=30)
    report = report_vote(CALL, [*ballots(), claim], now=OPENED + timedelta(hours=40))
    assert report.result_in_thread is False
    assert report.state is VoteState.OPEN


def test_closing_without_an_outcome_agrees_with_nothing():
    closing = comment("I'm closing this vote now.", "ysh329", hours=130)
    report = report_vote(CALL, [*ballots(), closing], now=AFTER)
    assert report.result_in_thread is True
    assert report.agrees_with_announced is None


# -- what is no ballot, and what is -----------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "This vote requires 2/3 vote +1 of the PMC members.",
        "Lazy consensus applies: silence is +1.",
        "It needs at least 3 binding +1 and no -1.",
        "[ ] +1 approve\n[ ] -1 disapprove",
        "+1\nMichael Armbrust\nSean Owen\nJules Damji\n大啊",
        "+1 (binding)\n- Tianqi Chen\n- Jared Roesch\n- Kazutaka Morita",
    ],
)
def test_rule_text_templates_and_listings_are_no_ballots(text: str):
    assert not parse_ballot(text).is_vote


@pytest.mark.parametrize(
    "text",
    ["+1\n\nThanks,\nJohn", "+1 (binding)\n\nChecked sigs\nBuilt from source", "+1, must ship"],
)
def test_ordinary_ballots_stay_ballots(text: str):
    assert parse_ballot(text).value == 1.0


TEMPLATE = "[ ] +1 I support the proposal\n[ ] +0 I don't care\n[x] -1  I'm opposed because..."


def test_a_box_checked_in_the_quoted_template_is_the_voters_ballot():
    ted = comment(
        "The resolution ignores remarks made in the thread.", "ted", hours=5, quoted=(TEMPLATE,)
    )
    # Henri quotes Ted's mark answering him: that is Ted's ballot, not Henri's.
    henri = comment(
        "I'm in agreement with Niall.", "henri", hours=6, quoted=(TEMPLATE,), in_reply_to=ted.key
    )
    tally = collect_ballots(CALL, [ted, henri], until=AFTER)
    assert {b.voter: b.value for b in tally.ballots} == {"ted": -1.0}


# -- identity ----------------------------------------------------------------------------


def test_a_hand_made_mirror_comment_never_binds_even_without_a_roster():
    forged = comment("+1", "tqchen", hours=11.5, via="smtp")
    tally = collect_ballots(CALL, [forged, *ballots()[:2]], until=AFTER, identities=People())
    [ballot] = [b for b in tally.ballots if b.unverified]
    assert ballot.binding is False
    assert "did not come through the list" in ballot.unverified
    outcome = decide(tally, VotePolicy())
    assert "2 potentially binding +1" in outcome.reasons[0]


def test_the_same_comment_through_the_list_counts():
    through = comment("+1", "tqchen", hours=11, via="smtp")
    through.headers["Received"] = "from mail.apache.org (mail.apache.org [192.0.2.1]) by mx"
    people = People(trust=TrustSettings(list_hosts=("mail.apache.org",)))
    [ballot] = collect_ballots(CALL, [through], until=AFTER, identities=people).ballots
    assert ballot.unverified == ""
    assert ballot.binding is None


def test_a_forged_display_name_is_flagged_and_not_binding_with_a_roster():
    roster = Roster((Member("Alice Archer"),))
    people = People({"Alice Archer": ("alice@example.org",)}, known=("Alice Archer",))
    raw = raw_mail(
        "+1 (binding)\n",
        sender="Alice Archer <mallory@evil.example>",
        message_id="<f@x>",
        date="Sat, 20 Jul 2024 10:00:00 +0000",
    )
    forged = parse_mail(raw, Envelope(OPENED + timedelta(hours=2), via="smtp"))
    report = report_vote(CALL, [forged], now=AFTER, roster=roster, identities=people)
    [ballot] = report.ballots
    assert ballot.voter == "Alice Archer <mallory@evil.example>"
    assert ballot.binding is False
    assert report.tally.binding_plus == 0
    assert "unverified-identity" in {f.kind for f in report.flags if f.voters == (ballot.voter,)}
    identity = report.to_dict()["ballots"][0]["identity"]  # type: ignore[index]
    assert identity["verified"] is False
    assert identity["claims"] == "Alice Archer"


def test_a_roster_known_by_name_only_binds_by_name_and_says_so():
    roster = Roster((Member("Dana Diaz"),))
    voter = comment("+1", "Dana Diaz", hours=3)
    report = report_vote(CALL, [voter], now=AFTER, roster=roster)
    assert report.ballots[0].binding is True
    assert "identity-by-name" in {f.kind for f in report.flags}


# -- deadlines in named zones -----------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "closes"),
    [
        ("The vote closes July 25th at 18:00 PST.", datetime(2024, 7, 26, 2, tzinfo=UTC)),
        ("Vote closes July 25 18:00 CET.", datetime(2024, 7, 25, 17, tzinfo=UTC)),
        ("Vote closes July 25 18:00 CEST.", datetime(2024, 7, 25, 16, tzinfo=UTC)),
        ("Voting closes 2024-07-25 18:00 UTC+8.", datetime(2024, 7, 25, 10, tzinfo=UTC)),
        ("The vote closes July 25 at 6pm Pacific time.", datetime(2024, 7, 26, 1, tzinfo=UTC)),
        ("The vote closes Dec 12 at 10:00 Pacific time.", datetime(2024, 12, 12, 18, tzinfo=UTC)),
        ("The vote is open until Friday 17:00 (CEST).", datetime(2024, 7, 26, 15, tzinfo=UTC)),
        ("Vote open until July 25 10:00 Beijing time.", datetime(2024, 7, 25, 2, tzinfo=UTC)),
        ("Vote closes July 25 at 10:00 +0530.", datetime(2024, 7, 25, 4, 30, tzinfo=UTC)),
        ("The vote closes July 25th at 18:00.", datetime(2024, 7, 25, 18, tzinfo=UTC)),  # no zone
        # "Anywhere on Earth": the day ends at UTC-12.
        ("The deadline is July 25 at 23:59 AoE.", datetime(2024, 7, 26, 11, 59, tzinfo=UTC)),
        ("Please vote by Jul 25, 2024 17:00 PST.", datetime(2024, 7, 26, 1, tzinfo=UTC)),
        ("Please cast your votes by Friday 18:00 UTC.", datetime(2024, 7, 26, 18, tzinfo=UTC)),
        # The day written before its month, the hour after it (not "July 18" then "25").
        (
            "The vote is open until Thursday 25 July 18:00 UTC.",
            datetime(2024, 7, 25, 18, tzinfo=UTC),
        ),
    ],
)
def test_a_deadline_in_a_named_zone_is_read_in_that_zone(sentence: str, closes: datetime):
    assert parse_call(sentence, OPENED).stated_closes_at == closes


@pytest.mark.parametrize(
    "sentence",
    ["This vote was called by Alice and runs 72 hours.", "Issues closed by Friday are listed."],
)
def test_by_someone_or_a_deadline_of_something_else_is_not_the_close(sentence: str):
    assert parse_call(sentence, OPENED).stated_closes_at in (None, OPENED + timedelta(hours=72))


def test_a_rule_sentence_before_the_listing_is_no_count():
    text = (
        "The procedure says there must be at least 3 binding +1 votes.\n\n"
        "+1 votes\n- Tom Zhou (sequoiar)\n- Masahiro Hiramori (mshr-h)\n"
    )
    plus = parse_result(text).entry(1.0)
    assert plus is not None
    assert (plus.count, plus.binding_count) == (2, None)


def test_a_login_in_parentheses_picks_the_voter_over_a_first_name():
    tally = collect_ballots(
        CALL, [comment("+1", "Tom", 3), comment("+1", "sequoiar", 4)], until=AFTER
    )
    [ballot] = voter_candidates("Tom Zhou (sequoiar)", tally.ballots)
    assert ballot.voter == "sequoiar"


def _mirror_mail(issue: int, subject: str, body: str, day: int) -> bytes:
    return raw_mail(
        body,
        subject=f"[apache/tvm] {subject} (Issue #{issue})",
        message_id=f"<apache/tvm/issues/{issue}@github.com>",
        sender="ysh329 <notifications@github.com>",
        date=f"{day:02d} Jul 2024 08:00:00 +0000",
        extra="X-GitHub-Sender: ysh329",
    )


def test_the_store_links_a_result_issue_to_the_vote_its_body_links(tmp_path: Path):
    store = Store.open(tmp_path / "q.db")
    try:
        for raw in (
            _mirror_mail(100, "[VOTE] Release Apache TVM v0.17.0.rc0", "Please vote.", 10),
            _mirror_mail(200, "[VOTE] Release Apache TVM v0.17.0.rc1", "Please vote.", 12),
            # The subject names the release, not the candidate: only the link says which.
            _mirror_mail(300, "[RESULT][VOTE] Release Apache TVM v0.17.0", "Vote: #100", 20),
        ):
            ingest(store, raw)
        [result] = store.threads(ThreadKind.RESULT)
        assert result.closes == "<apache/tvm/issues/100@github.com>"
    finally:
        store.close()


# -- vote threads written blind (bench/data/votes/written), in other words -----------------

LIST_CALL_AT = datetime(2026, 2, 9, 6, tzinfo=UTC)


def mail(text: str, who: str, hours: float, *, key: str, reply_to: str = "<call@ex>") -> Post:
    return Post(
        source=Source.MAIL,
        key=key,
        message_id=key,
        thread_key="<call@ex>",
        author=Person(who, f"{who.split()[0].lower()}@example.org"),
        created_at=LIST_CALL_AT + timedelta(hours=hours),
        subject="Re: [VOTE] Stop building i686 images",
        text=text,
        in_reply_to=reply_to if key != "<call@ex>" else None,
        via="archive",
    )


def list_call(text: str) -> Post:
    return replace(mail(text, "Thandi Dlamini", 0, key="<call@ex>"), subject="[VOTE] i686")


def test_a_caller_withdrawing_the_vote_for_a_reason_cancels_it():
    call = list_call("Lazy consensus: objections within 72 hours, please.")
    plus = mail("+1", "Ulrich Brandt", 2, key="<a@ex>")
    withdrawn = mail(
        "Good question. I'd rather not break them at a week's notice, so I'm withdrawing this"
        " vote. I'll start a [DISCUSS] thread first.",
        "Thandi Dlamini",
        20,
        key="<b@ex>",
    )
    report = report_vote(call, [plus, withdrawn], now=LIST_CALL_AT + timedelta(days=5))
    assert report.state is VoteState.CANCELLED
    # A cancel states no tally to disagree with: the report that reads it agrees.
    assert report.agrees_with_announced is True


def test_a_call_that_voids_late_ballots_does_not_count_them():
    call = list_call(
        "Only TC members vote. Voting closes Friday 18:00 PST (13 February); ballots that"
        " arrive later will not be counted.\n\nMy vote: +1"
    )
    terms = parse_call(call.text, call.created_at)
    assert terms.closes_at == datetime(2026, 2, 14, 2, 0, tzinfo=UTC)
    # 01:45 UTC is 17:45 PST, in time; 02:20 UTC is twenty minutes late.
    in_time = mail("+1", "Kazuki Mori", 115.75, key="<a@ex>")
    late = mail("+1, sorry I'm late", "Guillermo Reyes", 116.33, key="<b@ex>")
    report = report_vote(call, [in_time, late], now=LIST_CALL_AT + timedelta(days=7))
    assert {b.voter for b in report.ballots if b.counted} == {"Thandi Dlamini", "Kazuki Mori"}
    # Without those words the stated close flags a late ballot; it does not void it.
    plain = list_call("Voting closes Friday 18:00 PST (13 February).\n\nMy vote: +1")
    counted = report_vote(plain, [in_time, late], now=LIST_CALL_AT + timedelta(days=7))
    assert "Guillermo Reyes" in {b.voter for b in counted.ballots if b.counted}


def test_a_committee_result_in_words_and_a_wrapped_count_are_read():
    worded = parse_result(
        "Voting closed on Friday at 18:00 PST.\n\nIn favour: Ann Lee, Bo Chen\n"
        "Against: Carl Diaz\n\n2 votes to 1: the motion carries.\n"
    )
    assert worded.outcome is VoteState.PASSED
    assert {e.value: e.names for e in worded.entries} == {
        1.0: ("Ann Lee", "Bo Chen"),
        -1.0: ("Carl Diaz",),
    }
    assert announces_result("Voting closed on Friday at 18:00 PST.") == (True, None)
    wrapped = parse_result(
        "The vote has passed with three binding\n+1 votes and one non-binding +1, and no -1.\n"
    )
    [plus] = [e for e in wrapped.entries if e.value == 1.0]
    assert (plus.count, plus.binding_count) == (4, 3)


def _under_quote(post: Post, quoted: str) -> Post:
    """The post written under one quoted line, at the top of its text."""
    return replace(post, quoted=(quoted,), quote_at=(0,))


def test_a_plus_one_under_a_quoted_side_question_is_no_ballot():
    call = list_call("Please vote on the release. [ ] +1 [ ] -1")
    voter = mail(
        "+1 (binding)\n\nShould we move the docs build to the new CI runner?",
        "Pavel Novak",
        2,
        key="<a@ex>",
    )
    agreeing = _under_quote(
        mail(
            "+1, the old runner fails one build in three.",
            "Kaveh Jafari",
            3,
            key="<b@ex>",
            reply_to="<a@ex>",
        ),
        "Should we move the docs build to the new CI runner?",
    )
    # Under a quote of the call a +1 is a ballot, reply to whom it may.
    under_call = _under_quote(
        mail("+1", "Diego Marin", 4, key="<c@ex>", reply_to="<a@ex>"),
        "Please vote on the release.",
    )
    report = report_vote(call, [voter, agreeing, under_call], now=LIST_CALL_AT + timedelta(days=5))
    ballots = {b.voter: b for b in report.ballots}
    assert ballots["Kaveh Jafari"].ambiguous
    assert not ballots["Kaveh Jafari"].counted
    assert ballots["Pavel Novak"].counted
    assert ballots["Diego Marin"].counted


def test_a_bare_yes_is_shown_as_unsure_not_dropped():
    reading = parse_ballot("Yes.\n\n(The SARIF output loads fine.)")
    assert reading.ambiguous
    assert reading.value is None


def test_ballots_said_loudly_or_in_the_voters_language_and_a_seconded_comment():
    assert parse_ballot("+1000 -- been waiting for the streaming API!").value == 1.0
    assert parse_ballot("+1000 lines of changes in this release.").value is None
    assert parse_ballot("+1 (bindend)").self_declared_binding is True
    assert parse_ballot("+1 (nicht bindend)").self_declared_binding is False
    assert parse_ballot("+1 (no vinculante)").self_declared_binding is False
    seconded = parse_ballot("+1 to what Agnes said, the README needs a pass.")
    assert seconded.ambiguous
    assert seconded.value is None
    assert parse_ballot("+1 to the release, checked the signatures.").is_vote


def test_without_a_roster_a_ballot_its_voter_calls_non_binding_binds_nothing():
    call = list_call("Please vote. Three binding +1 votes are needed.")
    replies = [
        mail("+1 (binding)", "Sabine Kruger", 1, key="<a@ex>"),
        mail("+1 (nicht bindend)", "Max Vogt", 2, key="<b@ex>"),
        mail("+1 (vinculante)", "Lucia Fernandez", 3, key="<c@ex>"),
        mail("+1 (non-binding)", "Fritz Haas", 4, key="<d@ex>"),
    ]
    report = report_vote(call, replies, now=LIST_CALL_AT + timedelta(days=5))
    assert report.tally.plus == 4
    assert report.state is VoteState.FAILED  # two potentially binding +1, three needed
    # A ballot that says nothing of itself stays potentially binding.
    silent = [replace(r, text="+1") for r in replies]
    assert report_vote(call, silent, now=LIST_CALL_AT + timedelta(days=5)).state is (
        VoteState.PASSED
    )


def test_a_result_with_binding_after_the_value_and_names_wrapped_with_remarks():
    result = parse_result(
        "The extended vote closed this morning:\n\n"
        "+1 binding:      Lena Hart, Anneke Vries, Greg Wolski\n"
        "+1 non-binding:  Yusuf Demir\n"
        " 0 binding:      Keiko Tanabe\n\n"
        "+1:    Agnes White (binding), Callum Reid, Devika Rao (binding),\n"
        "       Emeka Obi (binding), Hiroshi Sato\n"
    )
    entries = {e.value: e for e in result.entries}
    assert set(entries[1.0].binding_names) >= {"Lena Hart", "Greg Wolski", "Emeka Obi"}
    assert "Yusuf Demir" in entries[1.0].names
    assert "Hiroshi Sato" in entries[1.0].names
    assert entries[0.0].binding_names == ("Keiko Tanabe",)


@pytest.mark.parametrize(
    "text",
    [
        "My own +1 (binding) as release manager.",
        "I'd be glad to have him as a committer, so a very happy +1 from me.",
        # The voter saying who they are ("+1 from Olivier" reports another's ballot).
        "Not on the TSC, but +1 from someone who gave up on a pull request because of the CLA.",
        "+1 from a long-time user who has hit this bug twice.",
    ],
)
def test_a_ballot_after_its_reason_or_called_ones_own_is_cast(text: str):
    reading = parse_ballot(text)
    assert reading.is_vote
    assert reading.value == 1.0


def test_their_own_plus_one_and_a_real_condition_are_not_cast():
    assert not parse_ballot("Their own +1 does not count here.").is_vote
    assert parse_ballot("If the NOTICE is fixed, so to speak, +1.").ambiguous


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0 - happy either way, as long as the plugin API keeps semver.", 0.0),
        ("My main objection is gone. Moving to -0: I still think it isn't worth it.", -0.0),
        ("+1. Camille can't post this week; she told me she is -1 on the wording.", 1.0),
    ],
)
def test_a_zero_with_its_reason_a_change_of_value_and_someone_elses_told_ballot(
    text: str, value: float
):
    reading = parse_ballot(text)
    assert reading.is_vote
    assert reading.value == value


def test_a_ballot_passed_on_for_someone_else_is_nobodys():
    assert parse_ballot("Devraj asked me to pass on his vote: +1 for Devraj.").kind.value == "none"
    assert not parse_ballot("On behalf of Greta: +1").is_vote


def test_my_own_vote_under_a_quoted_question_is_still_my_ballot():
    call = list_call("Please vote on the release. [ ] +1 [ ] -1")
    question = mail("Could we extend to 2 January?", "Ayesha Siddiqui", 1, key="<a@ex>")
    answer = _under_quote(
        mail(
            "Extending to 2 January.\n\nAnd I forgot my own vote: +1 (binding).",
            "Nikolai Petrov",
            2,
            key="<b@ex>",
            reply_to="<a@ex>",
        ),
        "Could we extend to 2 January?",
    )
    report = report_vote(call, [question, answer], now=LIST_CALL_AT + timedelta(days=9))
    assert [b.voter for b in report.ballots if b.counted] == ["Nikolai Petrov"]


def test_a_rule_the_mail_client_wrapped_before_its_value_is_no_ballot():
    call = (
        "The vote is open for 72 hours and passes if a majority of at least three\n"
        "+1 PMC votes are cast.\n\n"
        "As usual it needs three +1 votes and no\n"
        "-1 (a -1 is a veto and should come with a reason).\n"
    )
    assert not parse_ballot(call).is_vote
    assert parse_ballot(call + "\nHere's my +1.\n").value == 1.0
    # After a line that may end a sentence, a value at the start of a line is a ballot.
    assert parse_ballot("Hi all\n+1").is_vote
    assert parse_ballot("* -1: none\n* +1: Jun Park, Saoirse Byrne").kind.value == "none"


def test_a_result_in_words_with_the_value_beside_them():
    result = parse_result(
        "The TSC vote closed on Friday 16 May 2025 at 23:59 AoE.\n\n"
        "In favour (+1): Amara Okonkwo, Bjørn Halvorsen, Camille Dubois,\n"
        "                Devraj Menon, Farid Rahimi\n"
        "Abstained (0):  Elena Kovács\n"
        "Did not vote:   Greta Lindholm\n\n"
        "Five of the seven TSC members voted in favour, so the motion carries.\n"
    )
    assert {e.value: e.names for e in result.entries} == {
        1.0: ("Amara Okonkwo", "Bjørn Halvorsen", "Camille Dubois", "Devraj Menon", "Farid Rahimi"),
        0.0: ("Elena Kovács",),
    }


def test_a_ballot_someone_saw_from_someone_else_is_not_cast():
    assert not parse_ballot("I saw a +1 from someone who reviewed it.").is_vote


def test_a_voter_outside_the_body_whose_votes_bind_says_so():
    assert parse_ballot("Not on the TSC, but +1 from me.").self_declared_binding is False
    docs_team = parse_ballot("Speaking for the docs team (not the TSC): +1.")
    assert docs_team.self_declared_binding is False
    assert parse_ballot("+1, and I'm not a PMC member.").self_declared_binding is False
    assert parse_ballot("+1 (binding)").self_declared_binding is True


def test_results_in_the_approving_votes_template_and_in_clauses():
    flink_style = parse_result(
        "I'm happy to announce that we have unanimously approved this release.\n\n"
        "There are 4 approving votes, 3 of which are binding:\n"
        "* Camille Roux (binding)\n* Vikram Nair (binding)\n* Zofia Nowak (binding)\n"
        "* Leilani Kahale (non-binding)\n\nThere are no disapproving votes.\n"
    )
    assert flink_style.outcome is VoteState.PASSED
    [plus] = flink_style.entries
    assert (plus.count, plus.binding_count) == (4, 3)
    assert plus.binding_names == ("Camille Roux", "Vikram Nair", "Zofia Nowak")
    clauses = parse_result(
        "Binding votes: +1 from ada-w, rkovacs and noor-h; 0 from pbeaumont; no -1.\n\n"
        "The proposal passes.\n"
    )
    assert clauses.outcome is VoteState.PASSED
    assert {e.value: e.names for e in clauses.entries} == {
        1.0: ("ada-w", "rkovacs", "noor-h"),
        0.0: ("pbeaumont",),
    }


@pytest.mark.parametrize(
    ("subject", "rule"),
    [
        # "commit" selects the code kind in "committer" and "commits", not in "committee".
        ("[VOTE] Adopt GOVERNANCE.md v2: steering committee elections", Rule.MAJORITY_APPROVAL),
        ("[VOTE] Commit the lockfile patch to trunk", Rule.CONSENSUS_APPROVAL),
        ("[VOTE] New committer: Jane Doe", Rule.CONSENSUS_APPROVAL),
        ("[VOTE] Deprecation of the old client module", Rule.LAZY_TWO_THIRDS),
        ("[VOTE] Release Apache Foo 1.2.0 RC1", Rule.MAJORITY_APPROVAL),
    ],
)
def test_a_kind_is_chosen_by_its_words_not_by_words_that_start_alike(subject: str, rule: Rule):
    assert policy_for(Config(), subject).rule is rule
