"""Schema migrations: append-only. Never edit one that has shipped; add the next."""

from __future__ import annotations

from sqlite_utils import Database, Migrations

migrations = Migrations("quorum")


@migrations()
def m001_mail(db: Database) -> None:
    # Deliveries the SMTP endpoint has acknowledged but the worker has not processed yet.
    db["inbox"].create(
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
    db["raw_messages"].create({"key": str, "raw": bytes}, pk="key")
    db["posts"].create(
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
    db["posts"].create_index(["message_id"])
    db["posts"].create_index(["thread_key", "created_at"])
    db["post_refs"].create({"post_key": str, "ref_id": str}, pk=("post_key", "ref_id"))
    db["post_refs"].create_index(["ref_id"])
    db["defects"].create(
        {"post_key": str, "kind": str, "detail": str}, pk=("post_key", "kind", "detail")
    )
    db["defects"].create_index(["kind"])
    db["threads"].create(
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
    db["threads"].create_index(["subject_key", "last_at"])
    db["threads"].create_index(["kind"])


@migrations()
def m002_seen_raw(db: Database) -> None:
    # Content keys of every message ever ingested, duplicates included, so a
    # re-import can skip known bytes without parsing them again.
    db["seen_raw"].create({"content_key": str}, pk="content_key")


@migrations()
def m003_forum(db: Database) -> None:
    # Per forum: the highest post id seen by polling, and whether the backfill finished.
    db["forum_cursors"].create(
        {"forum": str, "last_post_id": int, "backfilled_at": str, "updated_at": str},
        pk="forum",
    )
    # Topics the backfill has read, with the marker (post count, last post time) it saw,
    # so an interrupted or repeated backfill skips what has not changed.
    db["forum_topics"].create(
        {"forum": str, "topic_id": int, "marker": str, "synced_at": str},
        pk=("forum", "topic_id"),
    )
    # Webhook deliveries, committed before the 200. Discourse gives each retry a new
    # event id, so the body's hash is what makes a re-delivery a duplicate.
    db["webhook_events"].create(
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
    db["webhook_events"].create_index(["forum", "body_sha256"], unique=True)
    db["webhook_events"].create_index(["processed_at"])
    # What an edited forum post said before, one row per revision replaced.
    db["post_edits"].create(
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
    db["forum_status_posts"].create(
        {"forum": str, "topic_id": int, "post_id": int, "raw_sha256": str, "updated_at": str},
        pk=("forum", "topic_id"),
    )


@migrations()
def m004_rfc_links(db: Database) -> None:
    # Tokens each post gives for joining threads into RFCs across channels (see
    # bot.core.threads.post_tokens), and the resulting thread -> RFC map.
    db["post_links"].create({"post_key": str, "token": str, "role": str}, pk=("post_key", "token"))
    db["post_links"].create_index(["token"])
    db["rfc_links"].create({"thread_key": str, "rfc": str}, pk="thread_key")
    db["rfc_links"].create_index(["rfc"])
    # Imported here: bot.store.forum imports bot.store, which imports this module.
    from bot.store.forum import rebuild_post_links

    rebuild_post_links(db)


@migrations()
def m006_integrity_raw_parts(db: Database) -> None:
    # A message over bot.store.parts.RAW_PART_BYTES is stored in parts, each written in
    # a short transaction of its own, so one large delivery never holds the writer for
    # long. Its inbox row, and then its raw_messages row, name the parts ("owner") and
    # leave raw NULL; the parts are written once and never copied.
    db["raw_parts"].create({"owner": str, "seq": int, "data": bytes}, pk=("owner", "seq"))
    db["inbox"].add_column("raw_parts", str)
    db["inbox"].create_index(["raw_parts"])
    db["raw_messages"].add_column("raw_parts", str)
    db["raw_messages"].create_index(["raw_parts"])


@migrations()
def m006_integrity_settings(db: Database) -> None:
    # Values Quorum generates once and keeps (the Message-ID key when the environment
    # gives none). Secrets here are never logged or shown.
    db["settings"].create({"name": str, "value": str}, pk="name")


@migrations()
def m006_integrity_forum_unread(db: Database) -> None:
    # Forum topics (or posts of them) a sync could not read: never recorded as synced,
    # retried with a growing pause, and shown in /healthz and `quorum stats`.
    db["forum_unread"].create(
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
    db["forum_unread"].create_index(["forum", "retry_at"])
