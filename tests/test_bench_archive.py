"""The growth benchmark's archive: copies of one list that never join each other.

bench/history.py repeats the Maven archives to 1,000,000 messages. With fresh
Message-IDs alone the copies still joined: replies by the same subject, GitHub mail by
the same repository and pull request, so the store held threads of 14,762 and 46,125
posts that no real list has, and measured those instead of a long history.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, datetime
from email import message_from_bytes
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from bench.history import dated_now
from bench.ingest import build_archive, copy_template, fill
from bot.ingest import import_paths
from bot.model import Post
from bot.store import Store
from bot.store import rfc_links as rfc_store
from tests.corpus import corpus_path

_COPY_OF_ID = re.compile(r"\.c(\d+)@")
_COPY_OF_SUBJECT = re.compile(r"\(copy (\d+)\)$")


def _copy_of(post: Post) -> int:
    """The copy a post came from: by its Message-ID, or (without one) its subject."""
    found = _COPY_OF_ID.search(post.message_id or "") or _COPY_OF_SUBJECT.search(post.subject)
    if found is None:
        raise AssertionError(f"{post.key} names no copy")
    return int(found.group(1))


@pytest.mark.corpus
def test_two_copies_of_the_archive_share_no_thread_and_no_rfc(tmp_path: Path):
    corpus_path("mbox", "maven-dev-2017-11.mbox")  # build_archive repeats the Maven archives
    archive = tmp_path / "two.mbox"
    count = build_archive(archive, 1_084, first_copy=4)
    store = Store.open(tmp_path / "q.db")
    try:
        import_paths(store, [archive], workers=1)
        copies: dict[str, set[int]] = defaultdict(set)
        posts = 0
        for post in store.iter_posts():
            posts += 1
            copies[post.thread_key].add(_copy_of(post))
        rfcs = rfc_store.rfc_map(store, set(copies))
    finally:
        store.close()
    assert posts >= 0.95 * count  # (a few messages occur twice in the archive)
    assert {copy for found in copies.values() for copy in found} == {4, 5}
    assert [key for key, found in copies.items() if len(found) > 1] == []
    # Half the threads each: neither copy's replies or GitHub mail joined the other's.
    per_copy = [sum(1 for found in copies.values() if found == {n}) for n in (4, 5)]
    assert per_copy[0] == per_copy[1] == len(copies) // 2
    # And no RFC groups threads of two copies (the same "[RFC] title" or pull request).
    by_rfc: dict[str, set[int]] = defaultdict(set)
    for thread, rfc in rfcs.items():
        by_rfc[rfc].update(copies[thread])
    assert [rfc for rfc, found in by_rfc.items() if len(found) > 1] == []


def test_a_copy_numbers_ids_subjects_and_github_owners():
    mail = (
        b"From someone Wed Nov 01 06:04:53 2017\n"
        b"Message-ID: <abc@example.org>\n"
        b"References: <root@example.org>\n"
        b"Subject: [GitHub] jo commented on pull request #168: a change\n"
        b"  that goes on\n"
        b"\n"
        b"See https://github.com/apache/maven-surefire/pull/168 and apache/maven#12.\n"
        b"Subject: not a header\n"
    )
    copy = fill(copy_template(mail), 7)
    assert b"Message-ID: <abc.c7@example.org>" in copy
    assert b"References: <root.c7@example.org>" in copy
    assert b"  that goes on (copy 7)\n\n" in copy
    assert b"https://github.com/apache-c7/maven-surefire/pull/168" in copy
    assert b"apache-c7/maven#12" in copy
    assert copy.endswith(b"Subject: not a header\n")  # only the header's Subject


def test_the_load_is_mail_written_now():
    """The growth bench delivers live mail: dated now (so it opens obligations and reaches
    modules as a list's new mail does), with every other header and the body as they were."""
    mail = (
        b"Received: by mx; Wed, 1 Nov 2017 06:04:53 +0000\n"
        b"Date: Wed, 1 Nov 2017 06:04:53 +0000\n"
        b"Subject: [VOTE] Release\n\n"
        b"Date: in the body stays\n+1\n"
    )
    before = datetime.now(UTC).replace(microsecond=0)
    dated = message_from_bytes(dated_now(mail))
    assert len(dated.get_all("Date", [])) == 1
    assert before <= parsedate_to_datetime(dated["Date"]) <= datetime.now(UTC)
    assert dated["Subject"] == "[VOTE] Release"
    assert dated["Received"] == "by mx; Wed, 1 Nov 2017 06:04:53 +0000"
    assert dated.get_payload() == "Date: in the body stays\n+1\n"
