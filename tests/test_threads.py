"""Thread kinds from subject tags, thread decisions, and result-to-vote linking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.mail import Envelope, parse_mail
from bot.core.rfcs import RfcSettings, is_rfc
from bot.core.threads import (
    ThreadRef,
    classify,
    decide_thread,
    find_closed_vote,
    parse_subject,
    subject_key,
)
from bot.model import Thread, ThreadKind
from bot.store import Store
from tests.mailgen import ARRIVAL, raw_mail
from tests.stores import ingest

T0 = datetime(2017, 11, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("subject", "kind"),
    [
        ("[RFC] Pluggable storage", ThreadKind.RFC),
        ("[pre-RFC] Pluggable storage", ThreadKind.PRE_RFC),
        ("[Process RFC] How we vote", ThreadKind.RFC),
        ("[DISCUSS] Maven 4.0.0", ThreadKind.DISCUSS),
        ("[VOTE] Release Maven Indexer 6.0.0", ThreadKind.VOTE),
        ("Re: [VOTE] Release Maven Indexer 6.0.0", ThreadKind.VOTE),
        ("[RESULT][VOTE] Release X", ThreadKind.RESULT),
        ("[VOTE][RESULT] Release X", ThreadKind.RESULT),
        ("[RESULT] [VOTE] Release X", ThreadKind.RESULT),
        ("[dev] RE: [ result ]  [vote] Release X", ThreadKind.RESULT),
        ("[CANCELED] [VOTE] Release X", ThreadKind.CANCEL),
        ("[CANCEL][VOTE] Release X", ThreadKind.CANCEL),
        ("AW: Fwd: [VOTE] Release X", ThreadKind.VOTE),
        ("[LAZY VOTE] Retire the Foo sandbox", ThreadKind.VOTE),
        ("[LAZY CONSENSUS] Retire the Foo sandbox", ThreadKind.VOTE),
        ("[RESULT][LAZY CONSENSUS] Retire the Foo sandbox", ThreadKind.RESULT),
        # A patch series that asks for comments, as Git's and the kernel's lists tag it.
        ("[RFC PATCH 0/3] stash: share stashes", ThreadKind.RFC),
        ("Re: [PATCH v2 RFC] stash: share stashes", ThreadKind.RFC),
        ("[PATCH/RFC] clone: track all branches", ThreadKind.RFC),
        ("[PATCH v2 0/3] stash: share stashes", ThreadKind.OTHER),
        ("[1/2] incubator-ponymail git commit: regen", ThreadKind.OTHER),
        ("Time to deprecate AQL?", ThreadKind.OTHER),
        ("Vote on the logo?", ThreadKind.OTHER),
        # A forum topic's title carries no tags: its category's name and a lead word.
        ("[Tegu Forum] [Governance] Vote: move to a six-week cadence", ThreadKind.VOTE),
        ("Re: VOTE: adopt the new bylaws", ThreadKind.VOTE),
        ("Voting on the new logo", ThreadKind.OTHER),
    ],
)
def test_subject_tags_classify_in_any_order_and_spacing(subject, kind):
    assert classify(subject) == kind


def test_subject_key_ignores_reply_prefixes_list_tags_case_and_spacing():
    assert subject_key("Re: [dev] [VOTE]   Release X") == subject_key("[VOTE] release x")
    assert subject_key("[RESULT] [VOTE] Release X") != subject_key("[VOTE] Release X")
    assert parse_subject("RE: [dev] Hello  world").topic == "Hello world"


def _ref(key, kind, subject, first, last=None):
    return ThreadRef(key, kind, subject, first, last or first)


def _post(subject, message_id="<r@x>", **kw):
    return parse_mail(raw_mail(subject=subject, message_id=message_id, **kw), Envelope(ARRIVAL))


def test_reply_joins_parent_thread_but_result_reply_opens_a_linked_thread():
    vote = _ref("<vote@x>", ThreadKind.VOTE, "[VOTE] Release X", T0)
    reply = _post("Re: [VOTE] Release X")
    assert decide_thread(reply, vote, None) == ("<vote@x>", None)
    result = _post("[RESULT] [VOTE] Release X", "<res@x>")
    assert decide_thread(result, vote, None) == ("<res@x>", "<vote@x>")


def test_subject_fallback_only_for_replies_and_only_when_recent():
    thread = _ref("<t@x>", ThreadKind.OTHER, "Question", ARRIVAL, ARRIVAL)
    reply = _post("Re: Question", date="Tue, 24 Nov 2026 10:00:00 +0000")
    assert decide_thread(reply, None, thread) == ("<t@x>", None)
    fresh = _post("Question", date="Tue, 24 Nov 2026 10:00:00 +0000")
    assert decide_thread(fresh, None, thread) == ("<r@x>", None)
    stale = replace_last(thread, ARRIVAL - timedelta(days=400))
    assert decide_thread(reply, None, stale) == ("<r@x>", None)


def replace_last(ref, last):
    return ThreadRef(ref.key, ref.kind, ref.subject, last, last)


def test_result_with_drifted_subject_finds_its_vote():
    votes = [
        _ref("<idx@x>", ThreadKind.VOTE, "[VOTE] Release Maven Indexer 6.0.0", T0),
        _ref("<other@x>", ThreadKind.VOTE, "[VOTE] Release Maven Indexer 5.1.1", T0),
    ]
    found = find_closed_vote(
        "[RESULT] [VOTE] Release Apache Maven Indexer version 6.0.0", T0 + timedelta(days=4), votes
    )
    assert found == "<idx@x>"


def test_respins_stay_separate_votes():
    votes = [
        _ref("<t1@x>", ThreadKind.VOTE, "[VOTE] Release Javadoc Plugin 3.0.0", T0),
        _ref(
            "<t2@x>",
            ThreadKind.VOTE,
            "[VOTE] Release Javadoc Plugin 3.0.0 (take 2)",
            T0 + timedelta(days=3),
        ),
        _ref(
            "<t3@x>",
            ThreadKind.VOTE,
            "[VOTE] Release Javadoc Plugin 3.0.0 (take 3)",
            T0 + timedelta(days=9),
        ),
    ]
    at = T0 + timedelta(days=12)
    assert (
        find_closed_vote("[RESULT] [VOTE] Release Javadoc Plugin 3.0.0 (take 2)", at, votes)
        == "<t2@x>"
    )
    # Without a marker, a result announces the latest attempt.
    assert find_closed_vote("[RESULT] [VOTE] Release Javadoc Plugin 3.0.0", at, votes) == "<t3@x>"
    assert find_closed_vote("[RESULT] [VOTE] Release Javadoc Plugin 3.0.1", at, votes) is None
    # A result cannot close a vote that opened after it.
    assert (
        find_closed_vote("[RESULT] [VOTE] Release Javadoc Plugin 3.0.0 (take 3)", T0, votes) is None
    )


@pytest.mark.parametrize(
    ("call", "result"),
    [
        ("[VOTE] Apache Bar 2.0.0 release candidate 1", "[RESULT][VOTE] Apache Bar 2.0.0 RC1"),
        ("[VOTE] Apache Bar 2.0.0 RC2", "[RESULT] Apache Bar 2.0.0 release candidate #2"),
        ("[VOTE] Apache Bar 2.0.0 (second attempt)", "[RESULT][VOTE] Apache Bar 2.0.0 take 2"),
    ],
)
def test_a_respin_is_the_same_however_it_is_written(call: str, result: str):
    votes = [
        _ref("<first@x>", ThreadKind.VOTE, "[VOTE] Apache Bar 2.0.0 (take 5)", T0),
        _ref("<it@x>", ThreadKind.VOTE, call, T0 + timedelta(days=1)),
        _ref(
            "<later@x>", ThreadKind.VOTE, "[VOTE] Apache Bar 2.0.0 (take 7)", T0 + timedelta(days=2)
        ),
    ]
    assert find_closed_vote(result, T0 + timedelta(days=5), votes) == "<it@x>"


def _stored_closes(store: Store) -> dict[str, str | None]:
    return {t.key: t.closes for t in store.threads() if t.kind in CLOSERS}


CLOSERS = (ThreadKind.RESULT, ThreadKind.CANCEL)


def _mail_on(day: int, subject: str, message_id: str, body: str = "Hello.\n") -> bytes:
    date = (T0 + timedelta(days=day)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    return raw_mail(body, subject=subject, message_id=message_id, date=date)


def test_a_result_stored_before_its_vote_is_linked_when_the_vote_arrives(tmp_path: Path):
    """Whatever order the archive or the list delivers them in."""
    store = Store.open(tmp_path / "q.db")
    try:
        for raw in (
            # A RESULT of a vote this list never saw, older than the rest: it stays alone.
            _mail_on(-90, "[RESULT] [VOTE] Release Wagon 2.0", "<old-result@x>"),
            _mail_on(4, "[RESULT] [VOTE] Release Maven Indexer 6.0.0", "<by-subject@x>"),
            # Its subject names the release only; its text names the vote.
            _mail_on(5, "[RESULT] Surefire", "<by-link@x>", "The vote: <surefire-vote@x>\n"),
            _mail_on(0, "[VOTE] Release Maven Indexer 6.0.0", "<indexer-vote@x>"),
            _mail_on(1, "[VOTE] Release Maven Surefire 3.0.0-M1", "<surefire-vote@x>"),
        ):
            ingest(store, raw)
        assert _stored_closes(store) == {
            "<old-result@x>": None,
            "<by-subject@x>": "<indexer-vote@x>",
            "<by-link@x>": "<surefire-vote@x>",
        }
    finally:
        store.close()


def test_a_ballot_links_no_result_to_a_vote_that_began_after_it(tmp_path: Path):
    store = Store.open(tmp_path / "q.db")
    try:
        ingest(store, _mail_on(0, "[RESULT] [VOTE] Release Wagon 2.0", "<result@x>"))
        ingest(store, _mail_on(3, "[VOTE] Release Wagon 2.0", "<vote@x>"))
        ballot = raw_mail(
            "+1\n",
            subject="Re: [VOTE] Release Wagon 2.0",
            message_id="<ballot@x>",
            date=(T0 + timedelta(days=4)).strftime("%a, %d %b %Y %H:%M:%S +0000"),
            extra="In-Reply-To: <vote@x>\nReferences: <vote@x>",
        )
        ingest(store, ballot)
        assert _stored_closes(store) == {"<result@x>": None}
    finally:
        store.close()


@pytest.mark.parametrize(
    ("subject", "proposes"),
    [
        ("RFC: Replace the XML config with TOML", True),
        ("[Example Forum] [RFCs] RFC: Replace the XML config", True),
        ("Proposal: a new loader", True),
        ("[DISCUSS] FLIP-321: API deprecation", True),
        ("Question about the RFC process", False),
        ("Re: upgrade notes", False),
        ("DISCUSS: Deprecate the Foo API", True),
        ("Re: Request for comments: a new release policy", True),
        ("Can we discuss: the build on Windows?", False),
        ("[IDEA] Replace the XML loader", True),
        ("Proposal - deprecate the ant tasks", True),
        ("Suggestion: rename master to main", True),
        ("Re: Idea: a plugin registry", True),
        ("A good idea: caching the index", False),
        ("Any suggestion: which JDK for the release?", False),
    ],
)
def test_a_subject_that_names_a_proposal_makes_its_thread_an_rfc(subject: str, proposes: bool):
    assert RfcSettings().names_a_proposal(subject) is proposes


@pytest.mark.parametrize(
    ("key", "rfc"),
    [
        ("<vuejs/rfcs/repo-discussions/369@github.com>", True),
        ("<rust-lang/rfcs/pull/2585@github.com>", True),
        ("<vuejs/core/repo-discussions/12@github.com>", False),
    ],
)
def test_an_issue_pull_request_or_discussion_of_a_proposal_repository_is_an_rfc(
    key: str, rfc: bool
):
    at = datetime(2026, 11, 2, tzinfo=UTC)
    thread = Thread(key, ThreadKind.OTHER, "Reactivity Transform", 2, ("alice",), at, at)
    assert is_rfc((thread,), RfcSettings()) is rfc
