"""Exact output of the message templates, on the sample archive we ship."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import load_config
from bot.features.concerns import find_thread, render_summary, summary_of
from bot.features.votes import draft_result, vote_report
from bot.ingest import import_paths
from bot.store import Store

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 20, tzinfo=UTC)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Store:
    store = Store.open(tmp_path_factory.mktemp("sample") / "quorum.db")
    import_paths(store, [ROOT / "config" / "sample-archive.mbox"])
    return store


CONFIG = load_config(ROOT / "config" / "example.toml")

RESULT_DRAFT = """\
Subject: [RESULT] [VOTE] Release Example Indexer 2.1.0

Hi,

The vote has passed with the following result:

+1  4 votes (3 binding): Alice Archer*, Bob Bauer*, Carol Cortés*, Dave Diaz
0   0 votes (0 binding)
-1  0 votes (0 binding)

* binding. PMC quorum: reached (3 binding +1, 3 needed)

Rule: majority-approval. Vote thread: https://lists.example.org/dev/vote-indexer-210@example.org/

Thanks to everyone who voted.

-- \nDrafted by quorum, the Example project decision bot, from the ballots in the
thread; check it before you send it. Reply "@quorum help" to talk to it.
"""

SUMMARY = """\
Summary of "[RFC] Pluggable storage backends for the indexer" as of 2026-11-20 00:00 UTC

Proposed by Alice Archer on 2026-11-02 09:14 UTC:
  I propose that the indexer talks to storage through a small backend interface, \
so that deployments can choose between the local filesystem and an object store.
4 posts from 3 participants, last on 2026-11-04 10:30 UTC.

Open concerns (2):
- [the-object-store-backend-doubles-our] The object-store backend doubles our test matrix
  raised by Bob Bauer on 2026-11-02 13:40 UTC in https://lists.example.org/dev/rfc-storage-2@example.org/
  "I like the direction, but I am concerned that the object-store backend doubles our \
test matrix, and nobody has volunteered to keep its CI green."
  answered by Carol Cortés, Alice Archer; waiting for Bob Bauer to confirm; open 17 days
- [who-answers-bug-reports] Who answers bug reports
  raised by Bob Bauer on 2026-11-02 13:40 UTC in https://lists.example.org/dev/rfc-storage-2@example.org/
  "Also, who answers bug reports for it when you are on leave?"
  answered by Alice Archer; waiting for Bob Bauer to confirm; open 17 days

Resolved concerns: none

Participants: Alice Archer (2 posts), Bob Bauer (1 post, 2 raised), Carol Cortés (1 post)

-- \nWritten by quorum, the Example project decision bot. Concerns come from
"@quorum concern NAME: text" commands and from sentences it recognised;
reply "@quorum resolve NAME" or "@quorum help".
"""


def test_result_draft_in_asf_style(sample: Store):
    report = vote_report(sample, CONFIG, "Example Indexer", NOW)
    assert draft_result(report, CONFIG) == RESULT_DRAFT


def test_summary_of_the_sample_rfc(sample: Store):
    thread = find_thread(sample, "Pluggable storage")
    assert render_summary(summary_of(sample, CONFIG, thread, NOW), CONFIG) == SUMMARY


def test_open_vote_draft_says_what_would_happen(sample: Store):
    during = datetime(2026, 11, 10, 8, tzinfo=UTC)  # before Carol and Dave voted
    text = draft_result(vote_report(sample, CONFIG, "Example Indexer", during), CONFIG)
    assert "The vote is still open until 2026-11-12 12:00 UTC; if it closed now it would" in text
    assert "+1  2 votes (2 binding): Alice Archer*, Bob Bauer*" in text
    assert "PMC quorum: not reached (2 binding +1, 3 needed)" in text


def test_weekly_digest_names_what_needs_attention(sample: Store):
    from bot.features.digest import build_digest, render_digest
    from bot.features.views import refresh

    now = datetime(2026, 11, 24, tzinfo=UTC)
    refresh(sample, CONFIG, now)  # the digest reads which RFCs moved from the stored views
    text = render_digest(build_digest(sample, CONFIG, now), CONFIG)
    assert text.startswith("Subject: [Example project] Weekly digest, 2026-11-24\n")
    assert (
        "- [the-object-store-backend-doubles-our] The object-store backend doubles our test"
        " matrix, raised by Bob Bauer on 2026-11-02 13:40 UTC: answered, waiting for Bob Bauer"
    ) in text
    assert "- [VOTE] Release Example Indexer 2.1.0: passed\n" in text
    assert (
        '- indexer: "Question about the 2.1.0 upgrade notes" by Frank Fischer,'
        " 2026-11-15 19:00 UTC, waiting 8 days (S1 policy)"
    ) in text
    assert "- objstore (S0): 0 open, 0 CI failure(s)\n" in text
