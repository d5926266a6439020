"""Schema migrations: append-only. Never edit one that has shipped; add the next."""

from __future__ import annotations

from sqlite_utils import Database, Migrations

from bot.store import compress

migrations = Migrations("quorum")


@migrations()
def m001_mail(db: Database) -> None:
    # Deliveries the SMTP endpoint has acknowledged but the worker has not processed yet.
    db.table("inbox").create(
        {
            "id": int,
            "raw": bytes,
            "received_at": str,
            "peer": str,
            "mail_from": str,
            "rcpt_to": str,
        },
        pk="id",
    )
    db.table("raw_messages").create({"key": str, "raw": bytes}, pk="key")
    db.table("posts").create(
        {
            "key": str,
            "source": str,
            "message_id": str,
            "thread_key": str,
            "author_name": str,
            "author_address": str,
            "created_at": str,
            "subject": str,
            "text": str,
            "quoted": str,
            "mentions": str,
            "in_reply_to": str,
            "refs": str,
            "url": str,
            "list_id": str,
            "auto_submitted": int,
            "body_hash": str,
            "headers": str,
            "ingested_at": str,
        },
        pk="key",
        not_null={"source", "thread_key", "created_at"},
    )
    db.table("posts").create_index(["message_id"])
    db.table("posts").create_index(["thread_key", "created_at"])
    db.table("post_refs").create({"post_key": str, "ref_id": str}, pk=("post_key", "ref_id"))
    db.table("post_refs").create_index(["ref_id"])
    db.table("defects").create(
        {"post_key": str, "kind": str, "detail": str}, pk=("post_key", "kind", "detail")
    )
    db.table("defects").create_index(["kind"])
    db.table("threads").create(
        {
            "key": str,
            "subject": str,
            "subject_key": str,
            "kind": str,
            "first_at": str,
            "last_at": str,
            "post_count": int,
            "closes": str,
        },
        pk="key",
    )
    db.table("threads").create_index(["subject_key", "last_at"])
    db.table("threads").create_index(["kind"])


@migrations()
def m002_seen_raw(db: Database) -> None:
    # Content keys of every message ever ingested, duplicates included, so a
    # re-import can skip known bytes without parsing them again.
    db.table("seen_raw").create({"content_key": str}, pk="content_key")


@migrations()
def m003_forum(db: Database) -> None:
    # Per forum: the highest post id seen by polling, and whether the backfill finished.
    db.table("forum_cursors").create(
        {"forum": str, "last_post_id": int, "backfilled_at": str, "updated_at": str},
        pk="forum",
    )
    # Topics the backfill has read, with the marker (post count, last post time) it saw,
    # so an interrupted or repeated backfill skips what has not changed.
    db.table("forum_topics").create(
        {"forum": str, "topic_id": int, "marker": str, "synced_at": str},
        pk=("forum", "topic_id"),
    )
    # Webhook deliveries, committed before the 200. Discourse gives each retry a new
    # event id, so the body's hash is what makes a re-delivery a duplicate.
    db.table("webhook_events").create(
        {
            "id": int,
            "forum": str,
            "body_sha256": str,
            "event_id": str,
            "event_type": str,
            "event": str,
            "body": bytes,
            "received_at": str,
            "processed_at": str,
            "outcome": str,
        },
        pk="id",
    )
    db.table("webhook_events").create_index(["forum", "body_sha256"], unique=True)
    db.table("webhook_events").create_index(["processed_at"])
    # What an edited forum post said before, one row per revision replaced.
    db.table("post_edits").create(
        {
            "post_key": str,
            "old_revision": str,
            "new_revision": str,
            "old_text": str,
            "edited_at": str,
            "recorded_at": str,
        },
        pk=("post_key", "new_revision"),
    )
    # The one status post per RFC topic that Quorum edits instead of posting again.
    db.table("forum_status_posts").create(
        {"forum": str, "topic_id": int, "post_id": int, "raw_sha256": str, "updated_at": str},
        pk=("forum", "topic_id"),
    )


@migrations()
def m004_rfc_links(db: Database) -> None:
    # Tokens each post gives for joining threads into RFCs across channels (see
    # bot.core.rfc_links.post_tokens), and the resulting thread -> RFC map.
    db.table("post_links").create(
        {"post_key": str, "token": str, "role": str}, pk=("post_key", "token")
    )
    db.table("post_links").create_index(["token"])
    db.table("rfc_links").create({"thread_key": str, "rfc": str}, pk="thread_key")
    db.table("rfc_links").create_index(["rfc"])
    # Posts stored before this have no tokens yet. Working them out needs the whole
    # Store, which a migration does not have: Store.open runs the backfill (and
    # removes this row in the same transaction), so a crash leaves it for the next open.
    # (Edited after shipping, deliberately: it used to run the current Store's reads on
    # this migration's schema, which later migrations changed; it now runs after them.)
    db.table("backfills").insert({"name": "post_links"}, pk="name", replace=True)


@migrations()
def m005_votes_post_via(db: Database) -> None:
    # How each post reached us ("smtp", "archive"; forum posts say so by their source).
    # Who an author is depends on what that transport vouches for (bot.core.people);
    # rows stored before this migration read as "" and are checked like SMTP mail.
    db.table("posts").add_column("via", str)


@migrations()
def m008_sources_archives(db: Database) -> None:
    # `quorum fetch`: per archive and month, when it was last fetched and whether the
    # month was over by then (settled: never fetched again). `marker` is the source's
    # own "anything new since" value (Pony Mail: the newest epoch seen).
    db.table("archive_months").create(
        {
            "source": str,
            "month": str,
            "fetched_at": str,
            "settled": int,
            "messages": int,
            "marker": str,
        },
        pk=("source", "month"),
    )
    # Each fetched mail's id in its archive (a Pony Mail id, a HyperKitty hash) and
    # permalink, by Message-ID: links to a thread can then be the archive's own.
    db.table("archive_ids").create(
        {"source": str, "source_id": str, "message_id": str, "url": str, "recorded_at": str},
        pk=("source", "source_id"),
    )
    db.table("archive_ids").create_index(["message_id"])
    # Which fetched sources delivered each post ("" for mail that came by SMTP or an
    # import, once a fetched copy of it is seen); no row means mail only. Two bodies
    # under one Message-ID from two different sources are one mail in two renderings,
    # from one source they are two mails (see Store._natural_key).
    db.table("post_origins").create({"post_key": str, "origin": str}, pk=("post_key", "origin"))


@migrations()
def m008_sources_github(db: Database) -> None:
    # Webhook deliveries, committed before the 200; GitHub sends a redelivery with the
    # same X-GitHub-Delivery id, so that id makes a replay a duplicate.
    db.table("github_deliveries").create(
        {
            "delivery_id": str,
            "event": str,
            "body": bytes,
            "received_at": str,
            "processed_at": str,
            "outcome": str,
        },
        pk="delivery_id",
    )
    db.table("github_deliveries").create_index(["processed_at"])
    # Per repository and listing: the `since` the next poll starts from.
    db.table("github_cursors").create(
        {"repo": str, "resource": str, "since": str, "updated_at": str}, pk=("repo", "resource")
    )
    # ETags of the first pages polled, for conditional requests (a 304 costs no quota).
    db.table("github_etags").create({"url": str, "etag": str, "updated_at": str}, pk="url")
    # Files read from a repository (CODEOWNERS), for modules whose maintainers follow it.
    db.table("github_files").create(
        {"repo": str, "path": str, "content": str, "fetched_at": str}, pk=("repo", "path")
    )


@migrations()
def m008_sources_people(db: Database) -> None:
    # Roster changes as dated events: who joined or left which role, when, per source.
    db.table("roster_changes").create(
        {
            "member": str,
            "name": str,
            "role": str,
            "change": str,
            "on_date": str,
            "source": str,
            "recorded_at": str,
        },
        pk=("member", "role", "change", "on_date", "source"),
    )
    # Who is who: a person's logins and addresses, from rosters (confirmed by the
    # import) or seen in mail (unconfirmed hints until a person accepts them).
    db.table("identity_hints").create(
        {
            "person": str,
            "alias": str,
            "kind": str,
            "source": str,
            "evidence": str,
            "state": str,
            "recorded_at": str,
            "decided_at": str,
        },
        pk=("person", "alias"),
    )
    db.table("identity_hints").create_index(["alias"])


@migrations()
def m007_ops_store_meta(db: Database) -> None:
    # Facts about the store itself: which Quorum version last opened it for writing, so a
    # store from a newer version is refused by name (bot.store.lifecycle).
    db.table("store_meta").create({"key": str, "value": str}, pk="key")


@migrations()
def m006_integrity_raw_parts(db: Database) -> None:
    # A message over bot.store.parts.RAW_PART_BYTES is stored in parts, each written in
    # a short transaction of its own, so one large delivery never holds the writer for
    # long. Its inbox row, and then its raw_messages row, name the parts ("owner") and
    # leave raw NULL; the parts are written once and never copied.
    db.table("raw_parts").create({"owner": str, "seq": int, "data": bytes}, pk=("owner", "seq"))
    db.table("inbox").add_column("raw_parts", str)
    db.table("inbox").create_index(["raw_parts"])
    db.table("raw_messages").add_column("raw_parts", str)
    db.table("raw_messages").create_index(["raw_parts"])


@migrations()
def m006_integrity_settings(db: Database) -> None:
    # Values Quorum generates once and keeps (the Message-ID key when the environment
    # gives none). Secrets here are never logged or shown.
    db.table("settings").create({"name": str, "value": str}, pk="name")


@migrations()
def m006_integrity_forum_unread(db: Database) -> None:
    # Forum topics (or posts of them) a sync could not read: never recorded as synced,
    # retried with a growing pause, and shown in /healthz and `quorum stats`.
    db.table("forum_unread").create(
        {
            "forum": str,
            "topic_id": int,
            "error": str,
            "attempts": int,
            "first_at": str,
            "last_at": str,
            "retry_at": str,
        },
        pk=("forum", "topic_id"),
    )
    db.table("forum_unread").create_index(["forum", "retry_at"])


@migrations()
def m009_web_thread_indexes(db: Database) -> None:
    # A page of threads (`/api/threads`, oldest first, of one kind or all) and the
    # threads a [RESULT] closes are index reads, not scans of every thread. Another
    # migration may add the same index: if_not_exists keeps both harmless.
    db.table("threads").create_index(["first_at"], if_not_exists=True)
    db.table("threads").create_index(["kind", "first_at"], if_not_exists=True)
    db.table("threads").create_index(["closes"], if_not_exists=True)


@migrations()
def m009_scale_compressed_storage(db: Database) -> None:
    # Dictionaries that compress raw messages and post texts (bot.store.compress), by id.
    db.table("raw_dictionaries").create(
        {"id": int, "data": bytes, "samples": int, "trained_at": str}, pk="id"
    )
    # A raw message compressed: ``zraw`` with dictionary ``dict_id`` (0: plain zstd).
    # Rows stored before this hold ``raw`` until m009_scale_compress_existing converts them.
    db.table("raw_messages").add_column("zraw", bytes)
    db.table("raw_messages").add_column("dict_id", int)
    # A post's text, quoted parts and headers, compressed as one value (their columns
    # stay NULL): derived from the raw message, and mostly quoted text of the thread.
    db.table("posts").add_column("content", bytes)
    db.table("posts").add_column("content_dict", int)


@migrations(transactional=False)
def m009_scale_compress_existing(db: Database) -> None:
    # Converts what older versions stored, in committed batches: an interrupted run
    # (a kill, a full disk) leaves the rest for the next open, which goes on from there.
    compress.compress_existing(db)


@migrations()
def m009_scale_hot_query_indexes(db: Database) -> None:
    # Every hot query has its index (tests/test_query_plans.py checks the plans):
    # which [RESULT] closes a vote, read per thread by Store.threads() and by every
    # ingest (votes no thread closes yet) ...
    db.table("threads").create_index(["closes"], if_not_exists=True)
    # ... threads oldest first, without sorting them all ...
    db.table("threads").create_index(["first_at"], if_not_exists=True)
    # ... and the posts of GitHub issues and pull requests (the roster's hints), which
    # a partial index holds alone: a mail thread's key never ends so.
    db.execute(
        "CREATE INDEX IF NOT EXISTS idx_posts_github_created_at ON posts (created_at)"
        " WHERE thread_key LIKE '<%@github.com>'"
    )


@migrations()
def m010_unlinked_closers_index(db: Database) -> None:
    # [RESULT] and [CANCEL] threads not linked to their vote yet, by when they began:
    # an ingest that touches a vote tries those begun since it began (Store.
    # _link_closing_threads). Nearly every closer gets linked, so the index stays small.
    db.execute(
        "CREATE INDEX IF NOT EXISTS idx_threads_unlinked_closers ON threads (first_at)"
        " WHERE kind IN ('result', 'cancel') AND closes IS NULL"
    )


@migrations()
def m011_rfc_links_stale(db: Database) -> None:
    # Threads whose RFC grouping may have changed, not yet regrouped: `quorum run`'s
    # writer only marks them (bot.store.rfc_links.mark_stale), and the regrouping is
    # computed off the writer. ``id`` grows with every mark, so a regrouping removes
    # only the marks it read; a thread marked again meanwhile stays marked.
    db.execute(
        "CREATE TABLE IF NOT EXISTS rfc_links_stale"
        " (id INTEGER PRIMARY KEY AUTOINCREMENT, thread_key TEXT NOT NULL UNIQUE)"
    )


@migrations()
def m012_module_views(db: Database) -> None:
    # The modules' responsiveness, kept as derived state (bot.store.modules): each
    # module's evaluation as of when it was computed, what it was computed with (the
    # fingerprint), and the next moment the clock alone changes it (due_at: the tick
    # reads a range of this index). module_threads says which modules each thread
    # reaches, so a new post recomputes only those, and a module reads only the
    # conversations of its window. module_marks: obligations whose ladder the outbox
    # changed (triggers of the outbox's migrations), read and deleted by the next refresh.
    db.execute(
        "CREATE TABLE IF NOT EXISTS module_views (module TEXT PRIMARY KEY, fingerprint TEXT"
        " NOT NULL, computed_at TEXT NOT NULL, due_at TEXT, payload TEXT NOT NULL,"
        " revision INTEGER NOT NULL DEFAULT 0)"
    )
    db.execute("CREATE INDEX IF NOT EXISTS idx_module_views_due_at ON module_views (due_at)")
    db.execute(
        "CREATE TABLE IF NOT EXISTS module_threads (thread_key TEXT NOT NULL, module TEXT NOT"
        " NULL, last_at TEXT NOT NULL, PRIMARY KEY (thread_key, module))"
    )
    db.execute(
        "CREATE INDEX IF NOT EXISTS idx_module_threads_module_last_at"
        " ON module_threads (module, last_at)"
    )
    db.execute(
        "CREATE TABLE IF NOT EXISTS module_marks"
        " (seq INTEGER PRIMARY KEY AUTOINCREMENT, item TEXT NOT NULL)"
    )


@migrations()
def m013_store_counts(db: Database) -> None:
    # `quorum stats`, /api/stats, /healthz and /metrics show how many posts, threads,
    # posts with defects (and of each kind) and deliveries waiting there are. Counted
    # with count(*) each read an entry per row (at 1,000,000 messages a million): kept as
    # counters instead, by triggers, so a read is a row per figure. Every write of these
    # tables is a plain INSERT (or INSERT OR IGNORE, which fires nothing when it
    # ignores), an upsert's UPDATE, or a DELETE, so the counters follow each one.
    db.execute(
        "CREATE TABLE IF NOT EXISTS store_counts (name TEXT PRIMARY KEY, n INTEGER NOT NULL)"
    )
    for table in ("posts", "threads", "inbox"):
        db.execute(
            f"CREATE TRIGGER IF NOT EXISTS {table}_count_insert AFTER INSERT ON {table} BEGIN"  # noqa: S608
            f" UPDATE store_counts SET n = n + 1 WHERE name = '{table}'; END"
        )
        db.execute(
            f"CREATE TRIGGER IF NOT EXISTS {table}_count_delete AFTER DELETE ON {table} BEGIN"  # noqa: S608
            f" UPDATE store_counts SET n = n - 1 WHERE name = '{table}'; END"
        )
        db.execute(
            f"INSERT INTO store_counts (name, n) SELECT '{table}', count(*) FROM {table}"  # noqa: S608
        )
    # A post counts once among the posts with defects, however many it has.
    db.execute(
        "CREATE TRIGGER IF NOT EXISTS defects_count_insert AFTER INSERT ON defects BEGIN"
        " INSERT INTO store_counts (name, n) VALUES ('defect:' || NEW.kind, 1)"
        " ON CONFLICT(name) DO UPDATE SET n = n + 1;"
        " UPDATE store_counts SET n = n + 1 WHERE name = 'defect_posts' AND NOT EXISTS"
        " (SELECT 1 FROM defects WHERE post_key = NEW.post_key AND rowid != NEW.rowid); END"
    )
    db.execute(
        "CREATE TRIGGER IF NOT EXISTS defects_count_delete AFTER DELETE ON defects BEGIN"
        " UPDATE store_counts SET n = n - 1 WHERE name = 'defect:' || OLD.kind;"
        " UPDATE store_counts SET n = n - 1 WHERE name = 'defect_posts' AND NOT EXISTS"
        " (SELECT 1 FROM defects WHERE post_key = OLD.post_key); END"
    )
    db.execute(
        "INSERT INTO store_counts (name, n)"
        " SELECT 'defect_posts', count(*) FROM (SELECT DISTINCT post_key FROM defects)"
    )
    db.execute(
        "INSERT INTO store_counts (name, n)"
        " SELECT 'defect:' || kind, count(*) FROM defects GROUP BY kind"
    )


@migrations()
def m014_identity_hints_state(db: Database) -> None:
    # Every vote's directory reads the accepted hints (bot.features.roster.people_for):
    # those of a state, not every hint a GitHub mirror ever suggested.
    db.execute(
        "CREATE INDEX IF NOT EXISTS idx_identity_hints_state"
        " ON identity_hints (state, person, alias)"
    )


@migrations()
def m015_module_views_front(db: Database) -> None:
    # What the front page's "Needs attention" reads of a module (its figures, flags and
    # the obligations that are an item), beside the whole evaluation: after a new mail
    # the page decodes that, not every obligation of the window.
    db.execute("ALTER TABLE module_views ADD COLUMN front TEXT")


@migrations()
def m016_post_links_identity(db: Database) -> None:
    # The threads a link token is the identity of (bot.store.rfc_links._reachable_threads,
    # Store._vote_linked_from): a few rows per token. Through idx_post_links_token they
    # were a walk over every post that ever mentioned it, in proportion to the history.
    db.execute(
        "CREATE INDEX IF NOT EXISTS idx_post_links_identity ON post_links (token)"
        " WHERE role = 'identity'"
    )


@migrations()
def m017_drop_threads_kind_index(db: Database) -> None:
    # idx_threads_kind_first_at (m009) begins with kind, so it answers every read
    # idx_threads_kind did; the narrower one only cost a write per new thread.
    db.execute("DROP INDEX IF EXISTS idx_threads_kind")
