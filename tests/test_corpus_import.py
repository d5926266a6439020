"""Importing the real archives in ../shared/corpus: nothing lost, duplicates stored once."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from bot.core.threads import parse_subject
from bot.ingest import import_paths
from bot.model import ThreadKind
from bot.store import Store
from tests.corpus import corpus_path

pytestmark = pytest.mark.corpus

# One message per .eml file and one per mbox "From " separator line.
MESSAGES_IN_CORPUS = 834
# Same Message-ID and same body is one message; see the issue for the rule.
DISTINCT_MESSAGES = 823


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Store:
    store = Store.open(tmp_path_factory.mktemp("corpus") / "quorum.db")
    report = import_paths(store, [corpus_path("mbox"), corpus_path("edge-cases")])
    assert report.errors == []
    assert report.counts.read == MESSAGES_IN_CORPUS
    return store


def _separator_count(path: Path) -> int:
    if path.suffix == ".eml":
        return 1
    return sum(1 for line in path.read_bytes().splitlines() if line.startswith(b"From "))


def test_corpus_holds_the_messages_the_issue_counts():
    files = [*corpus_path("mbox").iterdir(), *corpus_path("edge-cases").iterdir()]
    assert sum(_separator_count(f) for f in files) == MESSAGES_IN_CORPUS


def test_every_message_is_kept_and_duplicates_stored_once(imported: Store):
    assert imported.stats()["messages"] == DISTINCT_MESSAGES


def test_reimport_adds_nothing(imported: Store):
    report = import_paths(imported, [corpus_path("mbox"), corpus_path("edge-cases")])
    assert report.counts.new == 0
    assert report.counts.known == MESSAGES_IN_CORPUS
    assert imported.stats()["messages"] == DISTINCT_MESSAGES


def test_defects_are_recorded_per_message(imported: Store):
    counts = imported.defect_counts()
    # mbox_no_fields.mbox has a message whose Message-ID header is empty and one
    # with an empty Date; maven-dev-2017-11 has a message without any Message-ID.
    assert counts["missing-message-id"] == 2
    assert counts["missing-date"] >= 1
    assert counts["html-only"] == 3
    assert counts["undeclared-charset"] >= 1
    undated = imported.db.query(
        "SELECT p.key FROM posts p JOIN defects d ON d.post_key = p.key"
        " WHERE d.kind = 'missing-date'"
    )
    for row in undated:
        # Each undated message says where its date came from instead.
        fallbacks = {d.kind for d in imported.defects_of(row["key"])} - {"missing-date"}
        assert fallbacks & {"date-from-received", "date-from-mbox", "date-from-arrival"}


def test_lenient_dates_are_still_read(imported: Store):
    rows = imported.db.query("SELECT created_at FROM posts WHERE subject LIKE '%Invalid date'")
    row = next(iter(rows))
    assert row["created_at"] == "2016-09-21T19:42:07+00:00"


def test_github_mirror_mails_sharing_a_message_id_are_both_kept(imported: Store):
    rows = list(
        imported.db.query(
            "SELECT key, author_name FROM posts WHERE message_id = ?",
            ["<git-pr-262-activemq-artemis@git.apache.org>"],
        )
    )
    assert len(rows) == 2
    assert {row["author_name"] for row in rows} == {"thiagokronig", "clebertsuconic"}
    clash = [k for k in (r["key"] for r in rows) if k.startswith("sha256:")]
    assert len(clash) == 1
    assert "message-id-clash" in {d.kind for d in imported.defects_of(clash[0])}


def test_commit_mail_archive_is_other_not_discussion(imported: Store):
    rows = imported.db.query(
        "SELECT DISTINCT t.kind FROM threads t JOIN posts p ON p.thread_key = t.key"
        " WHERE p.list_id = '<commits.ponymail.incubator.apache.org>'"
    )
    assert {row["kind"] for row in rows} == {"other"}


def test_every_official_vote_is_one_thread_linked_to_its_result(imported: Store):
    official = json.loads(corpus_path("votes.json").read_text())["threads"]
    votes = imported.threads(ThreadKind.VOTE)
    by_topic = {parse_subject(t.subject).topic: t for t in votes}
    for entry in official:
        topic = parse_subject(entry["vote_subject"]).topic
        matches = [t for t in votes if parse_subject(t.subject).topic == topic]
        assert len(matches) == 1, f"{topic!r} resolves to {len(matches)} threads"
        vote = by_topic[topic]
        assert len(vote.closed_by) == 1, f"{topic!r} has no RESULT/CANCEL linked"
        closer = imported.thread(vote.closed_by[0])
        assert closer is not None
        expected = ThreadKind.CANCEL if entry["outcome"] == "cancelled" else ThreadKind.RESULT
        assert closer.kind == expected
        if "result_subject" in entry:
            assert closer.subject == entry["result_subject"]


def test_vote_threads_hold_their_replies(imported: Store):
    indexer = next(t for t in imported.threads(ThreadKind.VOTE) if "Indexer 6.0.0" in t.subject)
    voters = set(indexer.participants)
    assert {"Olivier Lamy", "Robert Scholte", "Manfred Moser", "Andreas Sewe"} <= voters


def _what_was_stored(store: Store) -> tuple[object, ...]:
    posts = sorted((post.key, post.thread_key, post.text) for post in store.iter_posts())
    threads = store.db.execute(
        "SELECT key, kind, post_count, closes FROM threads ORDER BY key"
    ).fetchall()
    return posts, threads, store.defect_counts()


@pytest.mark.parametrize("other_thread", [False, True], ids=["forked", "fork-server"])
def test_worker_processes_store_what_one_process_does(
    imported: Store, tmp_path: Path, other_thread: bool
):
    """Workers are forked, or started by a fork server while another thread runs
    (a progress bar, say); either way the import stores exactly the same."""
    store = Store.open(tmp_path / "parallel.db")
    stop = threading.Event()
    bystander = threading.Thread(target=stop.wait)
    if other_thread:
        bystander.start()
    try:
        report = import_paths(store, [corpus_path("mbox"), corpus_path("edge-cases")], workers=2)
    finally:
        stop.set()
        if other_thread:
            bystander.join()
    assert report.counts.read == MESSAGES_IN_CORPUS
    assert report.counts.new == DISTINCT_MESSAGES
    assert _what_was_stored(store) == _what_was_stored(imported)
