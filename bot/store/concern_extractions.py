"""The optional extractor's cache: what a model answered about a post, asked once.

``concern_extractions`` holds one answer per (digest of the request, model,
prompt version): the proposals as the model gave them (checked each time the
ledger reads them, never trusted as stored), and how many of them were kept and
dropped when they arrived. ``concern_extraction_posts`` says which request each
post was asked as, so the ledger finds a thread's proposals by its post keys and
the job finds the posts not yet asked without recomputing anything.

A post linked to an answer (or unlinked), and an answer changed or removed,
records the post's thread in ``changes`` (bot.store.views), as a new post does, so
the RFC view it belongs to is recomputed; a new answer always comes with its link.
A post whose text is edited (a forum edit) loses its link and is asked again. Its
own migration set, so it never collides with another's.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlite_utils import Database, Migrations

if TYPE_CHECKING:
    from bot.store import Store


migrations = Migrations("concern_extractions")


@migrations()
def m001_concern_extractions(db: Database) -> None:
    db.table("concern_extractions").create(
        {
            "digest": str,
            "model": str,
            "prompt": str,
            "outcome": str,
            "proposals": str,
            "kept": int,
            "dropped": int,
            "extracted_at": str,
        },
        pk=("digest", "model", "prompt"),
        not_null={"outcome", "proposals", "extracted_at"},
    )
    db.table("concern_extraction_posts").create(
        {"post_key": str, "model": str, "prompt": str, "digest": str},
        pk=("post_key", "model", "prompt"),
    )
    db.table("concern_extraction_posts").create_index(["digest", "model", "prompt"])
    # The RFC view of a post's thread reads its proposals: any change to them is a change
    # to the thread, recorded the way bot.store.views records a new post. A post with
    # nothing to ask (digest "") changes no view.
    for statement in (
        "CREATE TRIGGER changes_extraction_link_insert AFTER INSERT ON concern_extraction_posts"
        " WHEN NEW.digest != '' BEGIN INSERT INTO changes (thread_key)"
        " SELECT thread_key FROM posts WHERE key = NEW.post_key; END",
        "CREATE TRIGGER changes_extraction_link_update AFTER UPDATE ON concern_extraction_posts"
        " BEGIN INSERT INTO changes (thread_key)"
        " SELECT thread_key FROM posts WHERE key = NEW.post_key; END",
        "CREATE TRIGGER changes_extraction_link_delete AFTER DELETE ON concern_extraction_posts"
        " WHEN OLD.digest != '' BEGIN INSERT INTO changes (thread_key)"
        " SELECT thread_key FROM posts WHERE key = OLD.post_key; END",
        "CREATE TRIGGER changes_extraction_update AFTER UPDATE ON concern_extractions"
        " BEGIN INSERT INTO changes (thread_key) SELECT p.thread_key"
        " FROM concern_extraction_posts l JOIN posts p ON p.key = l.post_key"
        " WHERE l.digest = OLD.digest AND l.model = OLD.model AND l.prompt = OLD.prompt; END",
        "CREATE TRIGGER changes_extraction_delete AFTER DELETE ON concern_extractions"
        " BEGIN INSERT INTO changes (thread_key) SELECT p.thread_key"
        " FROM concern_extraction_posts l JOIN posts p ON p.key = l.post_key"
        " WHERE l.digest = OLD.digest AND l.model = OLD.model AND l.prompt = OLD.prompt; END",
        # An edited post says something else: it is asked again.
        "CREATE TRIGGER extraction_post_edited AFTER UPDATE OF text ON posts"
        " WHEN NEW.text IS NOT OLD.text"
        " BEGIN DELETE FROM concern_extraction_posts WHERE post_key = NEW.key; END",
        "CREATE TRIGGER extraction_post_deleted AFTER DELETE ON posts"
        " BEGIN DELETE FROM concern_extraction_posts WHERE post_key = OLD.key; END",
    ):
        db.execute(statement)


def apply_migrations(db: Database) -> None:
    """The cache's tables and triggers; needs posts and bot.store.views' changes first."""
    migrations.apply(db)


@dataclass(frozen=True, slots=True)
class Answer:
    """A model's answer about one request, as cached; ``outcome`` is
    bot.core.concern_extraction's ANSWERED or UNREADABLE."""

    digest: str
    outcome: str
    proposals: tuple[dict[str, str], ...]
    kept: int = 0
    dropped: int = 0


@dataclass(frozen=True, slots=True)
class Link:
    """Post ``post`` was asked as request ``digest``."""

    post: str
    digest: str


def unasked(store: Store, post_keys: Sequence[str], model: str, prompt: str) -> list[str]:
    """The posts among ``post_keys`` not yet asked about with this model and prompt."""
    asked = {
        row[0]
        for row in store.db.execute(
            "SELECT post_key FROM concern_extraction_posts"
            " WHERE post_key IN (SELECT value FROM json_each(?)) AND model = ? AND prompt = ?",
            [json.dumps(list(post_keys)), model, prompt],
        )
    }
    return [key for key in post_keys if key not in asked]


def answered(store: Store, digests: Iterable[str], model: str, prompt: str) -> set[str]:
    """The digests this model has already answered with this prompt."""
    return {
        row[0]
        for row in store.db.execute(
            "SELECT digest FROM concern_extractions"
            " WHERE digest IN (SELECT value FROM json_each(?)) AND model = ? AND prompt = ?",
            [json.dumps(sorted(set(digests))), model, prompt],
        )
    }


def answers(store: Store, digests: Iterable[str], model: str, prompt: str) -> list[Answer]:
    """The cached answers for these digests (the harness copies them between stores)."""
    return [
        _answer(row)
        for row in store.db.execute(
            "SELECT digest, outcome, proposals, kept, dropped FROM concern_extractions"
            " WHERE digest IN (SELECT value FROM json_each(?)) AND model = ? AND prompt = ?",
            [json.dumps(sorted(set(digests))), model, prompt],
        )
    ]


def proposals_of_posts(
    store: Store, post_keys: Sequence[str], model: str, prompt: str
) -> dict[str, list[dict[str, Any]]]:
    """Post key -> the proposals cached for it (only posts with any)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for post_key, proposals in store.db.execute(
        "SELECT l.post_key, e.proposals FROM concern_extraction_posts l"
        " JOIN concern_extractions e"
        " ON e.digest = l.digest AND e.model = l.model AND e.prompt = l.prompt"
        " WHERE l.post_key IN (SELECT value FROM json_each(?)) AND l.model = ? AND l.prompt = ?"
        " AND e.proposals != '[]'",
        [json.dumps(list(post_keys)), model, prompt],
    ):
        found[post_key] = json.loads(proposals)
    return found


def record(
    store: Store, answer: Answer, links: Sequence[Link], model: str, prompt: str, at: str
) -> None:
    """Cache one answer and link the posts asked as it, in one transaction."""
    with store.db.conn:
        store.db.execute(
            "INSERT OR IGNORE INTO concern_extractions"
            " (digest, model, prompt, outcome, proposals, kept, dropped, extracted_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                answer.digest,
                model,
                prompt,
                answer.outcome,
                json.dumps(list(answer.proposals), ensure_ascii=False),
                answer.kept,
                answer.dropped,
                at,
            ],
        )
        _link(store, links, model, prompt)


def link(store: Store, links: Sequence[Link], model: str, prompt: str) -> None:
    """Link posts to answers already cached (the same request asked for another post)."""
    with store.db.conn:
        _link(store, links, model, prompt)


def _link(store: Store, links: Sequence[Link], model: str, prompt: str) -> None:
    store.db.conn.executemany(
        "INSERT INTO concern_extraction_posts (post_key, model, prompt, digest)"
        " VALUES (?, ?, ?, ?) ON CONFLICT (post_key, model, prompt)"
        " DO UPDATE SET digest = excluded.digest WHERE digest != excluded.digest",
        [(item.post, model, prompt, item.digest) for item in links],
    )


def heads_with_unasked_posts(store: Store, since: str, model: str, prompt: str) -> list[str]:
    """RFC and discussion views with a post since ``since`` and a post never asked about
    with this model and prompt, the most recent first. Once every post is asked (or
    has nothing to ask), a run costs this one query."""
    return [
        row[0]
        for row in store.db.execute(
            "SELECT v.key FROM rfc_views v WHERE v.last_at >= ? AND EXISTS ("
            " SELECT 1 FROM posts p WHERE p.thread_key IN"
            " (SELECT thread_key FROM rfc_links WHERE rfc = v.key UNION SELECT v.key)"
            " AND NOT EXISTS (SELECT 1 FROM concern_extraction_posts e"
            " WHERE e.post_key = p.key AND e.model = ? AND e.prompt = ?))"
            " ORDER BY v.last_at DESC, v.key",
            [since, model, prompt],
        )
    ]


def _answer(row: Sequence[Any]) -> Answer:
    digest, outcome, proposals, kept, dropped = row
    return Answer(digest, outcome, tuple(json.loads(proposals)), kept or 0, dropped or 0)
