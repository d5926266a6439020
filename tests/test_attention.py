"""What needs a person now: votes closing, RESULTs that disagree, recent unanswered
concerns, read from a store as the digest and `quorum attention` read it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import load_config
from bot.core.attention import AttentionKind
from bot.features.attention import attention
from bot.features.views import refresh
from bot.store import Store
from tests.mailgen import raw_mail
from tests.stores import ingest, sample_store

ROOT = Path(__file__).resolve().parent.parent
CONFIG = load_config(ROOT / "config" / "example.toml")


@pytest.fixture
def sample(tmp_path: Path):
    store = Store.open(sample_store(tmp_path / "q.db"))
    yield store
    store.close()


def test_a_vote_closing_within_48_hours_needs_a_person(sample: Store):
    # The release vote opened 2026-11-09 12:00 and closes 72 hours later.
    early = attention(sample, CONFIG, datetime(2026, 11, 9, 13, tzinfo=UTC), current=False)
    assert early.of_kind(AttentionKind.VOTE_CLOSING) == ()
    now = datetime(2026, 11, 11, 12, tzinfo=UTC)
    [vote] = attention(sample, CONFIG, now, current=False).of_kind(AttentionKind.VOTE_CLOSING)
    assert vote.title == "vote “[VOTE] Release Example Indexer 2.1.0”: closes in 24 hours"
    assert vote.detail.startswith("would pass now: +1 4, 0 0, -1 0 (binding +1 3)")
    assert vote.link == "https://lists.example.org/dev/vote-indexer-210@example.org/"
    assert vote.age == "2 days"  # since it opened; one rounding rule: whole units, down
    # The page and the digest read the vote as its stored view keeps it: the same item.
    refresh(sample, CONFIG, now)
    assert attention(sample, CONFIG, now).of_kind(AttentionKind.VOTE_CLOSING) == (vote,)
    # Past its end, before the RESULT mail (12:30): someone has to announce it.
    later = datetime(2026, 11, 12, 12, 15, tzinfo=UTC)
    refresh(sample, CONFIG, later)
    [ended] = attention(sample, CONFIG, later).of_kind(AttentionKind.VOTE_CLOSING)
    assert ended.title.endswith("ended 2026-11-12, no RESULT yet")
    assert ended.detail.startswith("passes by the thread's count: +1 4, 0 0, -1 0")
    recomputed = attention(sample, CONFIG, later, current=False)
    assert recomputed.of_kind(AttentionKind.VOTE_CLOSING) == (ended,)
    # Once the RESULT is out, nothing is left to do.
    announced = datetime(2026, 11, 12, 13, tzinfo=UTC)
    refresh(sample, CONFIG, announced)
    assert attention(sample, CONFIG, announced).of_kind(AttentionKind.VOTE_CLOSING) == ()


def test_a_result_that_disagrees_with_its_thread_needs_a_person(sample: Store):
    vote = "[VOTE] Release Example Indexer 2.2.0"
    mails = [
        ("<v22@example.org>", vote, "Alice Archer <alice@example.org>", "16", "+1 from me.\n"),
        ("<v22-bob@example.org>", f"Re: {vote}", "Bob Bauer <bob@example.org>", "16", "+1\n"),
        (
            "<v22-carol@example.org>",
            f"Re: {vote}",
            "Carol Cortés <carol@example.org>",
            "17",
            "+1\n",
        ),
    ]
    for message_id, subject, sender, day, body in mails:
        reply = "" if message_id == "<v22@example.org>" else "In-Reply-To: <v22@example.org>"
        ingest(
            sample,
            raw_mail(
                body,
                subject=subject,
                message_id=message_id,
                sender=sender,
                date=f"Mon, {day} Nov 2026 12:00:00 +0000",
                extra=reply,
            ),
        )
    _announce(sample, vote, "The vote has failed: no binding votes were cast.", "<result-22@x>")
    now = datetime(2026, 11, 21, 9, tzinfo=UTC)
    disagreeing = attention(sample, CONFIG, now, current=False).of_kind(
        AttentionKind.RESULT_DISAGREES
    )
    assert [item.title for item in disagreeing] == [
        f"vote “{vote}”: the announced RESULT disagrees"
    ]
    assert disagreeing[0].detail.startswith("the thread says +1 3, 0 0, -1 0 (binding +1 3)")
    assert disagreeing[0].link == "https://lists.example.org/dev/v22@example.org/"
    refresh(sample, CONFIG, now)
    assert attention(sample, CONFIG, now).of_kind(AttentionKind.RESULT_DISAGREES) == disagreeing


def _announce(store: Store, vote: str, text: str, message_id: str) -> None:
    """A [RESULT] mail for ``vote``, sent on 20 November."""
    ingest(
        store,
        raw_mail(
            f"Hi,\n\n{text}\n",
            subject=f"[RESULT] {vote}",
            message_id=message_id,
            date="Fri, 20 Nov 2026 12:00:00 +0000",
        ),
    )


def test_a_disagreeing_result_names_whom_each_difference_is_about(sample: Store):
    vote = "[VOTE] Release Example Indexer 2.3.0"
    ingest(
        sample,
        raw_mail(
            "+1 from me.\n",
            subject=vote,
            message_id="<v23@example.org>",
            sender="Alice Archer <alice@example.org>",
            date="Mon, 16 Nov 2026 12:00:00 +0000",
        ),
    )
    _announce(
        sample,
        vote,
        "The vote has passed with the following result:\n\n+1: Alice, Olivier",
        "<result-23@x>",
    )
    now = datetime(2026, 11, 21, 9, tzinfo=UTC)
    [item] = attention(sample, CONFIG, now, current=False).of_kind(AttentionKind.RESULT_DISAGREES)
    assert "Olivier: announced as +1; no ballot found in the thread" in item.detail
    refresh(sample, CONFIG, now)
    [stored] = attention(sample, CONFIG, now).of_kind(AttentionKind.RESULT_DISAGREES)
    assert stored.detail == item.detail


def test_a_worry_in_a_users_question_needs_nobody_in_either_reading(sample: Store):
    users = "List-Id: <users.example.org>"
    ingest(
        sample,
        raw_mail(
            "How do I configure the plan cache of the indexer?\n",
            subject="Plan cache settings",
            message_id="<users-cache@example.org>",
            date="Mon, 16 Nov 2026 09:00:00 +0000",
            to="users@example.org",
            extra=users,
        ),
    )
    ingest(
        sample,
        raw_mail(
            "I am worried that the cache has no bound and will grow forever.\n",
            subject="Re: Plan cache settings",
            message_id="<users-cache-2@example.org>",
            sender="Bob Bauer <bob@example.org>",
            date="Tue, 17 Nov 2026 09:00:00 +0000",
            to="users@example.org",
            extra=f"{users}\nIn-Reply-To: <users-cache@example.org>",
        ),
    )
    now = datetime(2026, 11, 19, 9, tzinfo=UTC)
    subjects = [
        item.title
        for item in attention(sample, CONFIG, now, current=False).of_kind(AttentionKind.CONCERN)
    ]
    assert not [title for title in subjects if "Plan cache settings" in title]
    refresh(sample, CONFIG, now)
    stored = attention(sample, CONFIG, now).of_kind(AttentionKind.CONCERN)
    assert stored == attention(sample, CONFIG, now, current=False).of_kind(AttentionKind.CONCERN)


def test_a_recent_unanswered_concern_needs_a_person_in_both_readings(sample: Store):
    ingest(
        sample,
        raw_mail(
            "I propose caching query plans in the indexer.\n",
            subject="[RFC] Plan cache for the indexer",
            message_id="<plan-cache@example.org>",
            date="Mon, 16 Nov 2026 09:00:00 +0000",
        ),
    )
    ingest(
        sample,
        raw_mail(
            "@quorum concern memory: the cache has no bound and will grow forever\n",
            subject="Re: [RFC] Plan cache for the indexer",
            message_id="<plan-cache-2@example.org>",
            sender="Bob Bauer <bob@example.org>",
            date="Tue, 17 Nov 2026 09:00:00 +0000",
            extra="In-Reply-To: <plan-cache@example.org>\nReferences: <plan-cache@example.org>",
        ),
    )
    now = datetime(2026, 11, 19, 9, tzinfo=UTC)
    refresh(sample, CONFIG, now)
    stored = attention(sample, CONFIG, now).of_kind(AttentionKind.CONCERN)
    recomputed = attention(sample, CONFIG, now, current=False).of_kind(AttentionKind.CONCERN)
    assert stored == recomputed
    [concern] = stored
    assert concern.title == (
        "“[RFC] Plan cache for the indexer”: concern “The cache has no bound and will grow”"
        " unanswered"
    )
    assert concern.detail == "raised by Bob Bauer on 2026-11-17; nobody answered"
    assert concern.link == "https://lists.example.org/dev/plan-cache-2@example.org/"
    assert concern.age == "2 days"
