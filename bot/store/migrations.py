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
