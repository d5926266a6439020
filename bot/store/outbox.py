"""The outbox: every action the bot decided, recorded before anything is sent.

One row per idempotency key. A row moves through these states::

    pending ──claim──> sending ──point of no return──> (in flight) ──> sent
       ^  │                │                               │
       │  └─hold─> capped  ├──> failed (retry_at: due again later, or final)
       │                   ├──> dry-run / skipped          └──> uncertain (a human decides)
       └───────────── recover (never reached the network) ─┘

Crash safety rests on two committed facts per attempt: ``claim`` (status
``sending``) and ``mark_in_flight`` (``in_flight_at``), written immediately
before the first byte that could make a message visible. After a crash, a row
that was claimed but never in flight is queued again (nothing left the host); a
row that was in flight is ``uncertain`` and is never resent automatically. It
becomes ``sent`` by itself once our own ingest sees the message it created (mail
carries a Message-ID derived from the key, so the list's copy of it proves
delivery); otherwise a person resolves it. That is what "never posts twice"
costs: a crash within the window of one network call leaves one message to check.

All SQL for actions lives here; the dispatcher decides, this module records.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlite_utils import Database, Migrations

from bot.core.reminders import Delivery
from bot.model import Action, Post

if TYPE_CHECKING:
    from bot.store import Store

logger = logging.getLogger(__name__)
# Whether a stored post is the delivered copy of an action: (action key, the post's
# Message-ID, its List-Id). The mail channel's check is a keyed HMAC (bot.adapters.outbound_mail).
EchoCheck = Callable[[str, str, str | None], bool]

migrations = Migrations("outbox")


@migrations()
def m001_actions(db: Database) -> None:
    db.table("actions").create(
        {
            "key": str,
            "kind": str,
            # As the action gave it at first ("" = where the target came from), and
            # the channel actually used once it is claimed.
            "channel": str,
            "target": str,
            "text": str,
            "reason": str,
            "created_at": str,
            "status": str,
            "attempts": int,
            "last_error": str,
            "retry_at": str,
            "claimed_at": str,
            # Set just before the irreversible step of a delivery: the crash-safety marker.
            "in_flight_at": str,
            "sent_at": str,
            # Message-ID (known before sending), Slack ts, Discourse post id.
            "remote_id": str,
            # The message as rendered (dry-run or sent), for `quorum log`.
            "rendered": str,
            "updated_at": str,
        },
        pk="key",
        not_null={"kind", "channel", "target", "created_at", "status", "attempts"},
        defaults={"channel": "", "attempts": 0, "status": "pending"},
    )
    db.table("actions").create_index(["status", "created_at"])
    db.table("actions").create_index(["remote_id"])


@migrations()
def m002_action_items(db: Database) -> None:
    """What an action is about beyond its target (Action.about): the obligations a
    reminder or a catch-up summary covers, so the ladder can read its history back."""
    db.table("action_items").create(
        {"action_key": str, "item": str}, pk=("action_key", "item"), not_null={"item"}
    )
    db.table("action_items").create_index(["item"])
    # The ladder reads the reminders of a window (Outbox.ladder).
    db.table("actions").create_index(["kind", "created_at"], if_not_exists=True)
    # Reminders and escalations recorded before: their key names the obligation
    # (kind:channel:module=NAME:stage:post), so their history is not lost.
    rows = db.execute("SELECT key FROM actions WHERE kind IN ('remind', 'escalate')").fetchall()
    items = [(key, item) for (key,) in rows if (item := _legacy_item(key)) is not None]
    db.conn.executemany(
        "INSERT OR IGNORE INTO action_items (action_key, item) VALUES (?, ?)", items
    )


_LEGACY_KEY = re.compile(r"^(?:remind|escalate):[a-z]+:module=(?P<module>.+?):[12]:(?P<post>.+)$")


def _legacy_item(key: str) -> str | None:
    match = _LEGACY_KEY.match(key)
    return f"{match['module']}:{match['post']}" if match else None


@migrations()
def m003_actions_by_target(db: Database) -> None:
    # What was already said about one post (the latest status of a forum topic).
    db.table("actions").create_index(["target", "kind", "created_at"], if_not_exists=True)


@migrations()
def m009_scale_actions_created_at(db: Database) -> None:
    # `quorum log` and the dashboard list the newest actions first, a page at a time.
    db.table("actions").create_index(["created_at"], if_not_exists=True)


@migrations()
def m010_module_marks(db: Database) -> None:
    # A reminder recorded, claimed, sent or recorded in dry-run changes its obligation's
    # ladder, so its module's stored evaluation (bot.store.modules) is taken up again.
    db.execute(
        "CREATE TRIGGER IF NOT EXISTS module_marks_item AFTER INSERT ON action_items"
        " BEGIN INSERT INTO module_marks (item) VALUES (NEW.item); END"
    )
    db.execute(
        "CREATE TRIGGER IF NOT EXISTS module_marks_action AFTER UPDATE ON actions"
        " WHEN NEW.kind IN ('catch-up', 'remind', 'escalate') BEGIN"
        " INSERT INTO module_marks (item) SELECT item FROM action_items"
        " WHERE action_key = NEW.key; END"
    )


@migrations()
def m011_action_counts(db: Database) -> None:
    # /metrics counts the outbox per status and route at each scrape: a GROUP BY over
    # every action ever recorded. Counters instead, kept by triggers (the route as the
    # dispatcher takes it: the action's channel, else the source of the post it answers).
    db.execute(
        "CREATE TABLE IF NOT EXISTS action_counts (status TEXT NOT NULL, route TEXT NOT NULL,"
        " n INTEGER NOT NULL, PRIMARY KEY (status, route))"
    )
    add = (
        "INSERT INTO action_counts (status, route, n) VALUES (NEW.status,"
        " coalesce(nullif(NEW.channel, ''), (SELECT p.source FROM posts p"
        " WHERE p.key = NEW.target), ''), 1) ON CONFLICT(status, route) DO UPDATE SET n = n + 1;"
    )
    remove = (
        "UPDATE action_counts SET n = n - 1 WHERE status = OLD.status AND route ="
        " coalesce(nullif(OLD.channel, ''), (SELECT p.source FROM posts p"
        " WHERE p.key = OLD.target), '');"
    )
    db.execute(f"CREATE TRIGGER action_count_insert AFTER INSERT ON actions BEGIN {add} END")
    db.execute(f"CREATE TRIGGER action_count_delete AFTER DELETE ON actions BEGIN {remove} END")
    db.execute(
        "CREATE TRIGGER action_count_update AFTER UPDATE OF status, channel, target ON actions"
        f" BEGIN {remove} {add} END"
    )
    db.execute(
        f"INSERT INTO action_counts (status, route, n) SELECT a.status, {_ROUTE} AS route,"  # noqa: S608
        " count(*) FROM actions a GROUP BY a.status, route"
    )


def apply_migrations(db: Database) -> None:
    """Create or upgrade the outbox tables. Needs the core schema (``posts``) first."""
    migrations.apply(db)


class Status(StrEnum):
    PENDING = "pending"
    # Still queued, but a run's max_per_run held it back at least once.
    CAPPED = "capped"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    DRY_RUN = "dry-run"
    # A rule forbade sending it (loop safety: never answer automated mail).
    SKIPPED = "skipped"
    # Interrupted after the point of no return: it may or may not have been delivered.
    UNCERTAIN = "uncertain"


# SQL fragments below are module constants (the noqa: S608 sites interpolate only
# these and fixed assignments); every value is a bound parameter.
# A channel name is the action's own, else the source of the post it answers:
# Source values ("mail", "discourse") are channel names on purpose.
_ROUTE = (
    "coalesce(nullif(a.channel, ''), (SELECT p.source FROM posts p WHERE p.key = a.target), '')"
)
_QUEUED = "(a.status IN ('pending', 'capped') OR (a.status = 'failed' AND a.retry_at <= :now))"


@dataclass(frozen=True, slots=True)
class Due:
    """A queued action, as the dispatcher needs it to decide what this run sends."""

    key: str
    kind: str
    route: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Claimed:
    """An action this run now owns (status ``sending``), with the post it is about."""

    action: Action
    route: str
    attempts: int
    target: Post | None


@dataclass(frozen=True, slots=True)
class Recovery:
    """What a restart found: claimed rows queued again, in-flight rows made uncertain."""

    requeued: tuple[str, ...] = ()
    uncertain: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One row of `quorum log`: what was decided, why, and what became of it."""

    key: str
    kind: str
    channel: str
    target: str
    text: str
    reason: str
    status: Status
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None
    remote_id: str | None
    retry_at: datetime | None
    rendered: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "kind": self.kind,
            "channel": self.channel,
            "target": self.target,
            "text": self.text,
            "reason": self.reason,
            "status": self.status.value,
            "attempts": self.attempts,
            "created_at": self.created_at.isoformat(),
            "sent_at": self.sent_at.isoformat() if self.sent_at else None,
            "last_error": self.last_error,
            "remote_id": self.remote_id,
            "retry_at": self.retry_at.isoformat() if self.retry_at else None,
            "rendered": self.rendered,
        }


class Outbox:
    """The ``actions`` table. Call it on the writer thread: ``app.db(lambda s: Outbox(s)...)``."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.db = store.db

    # -- recording ---------------------------------------------------------------------

    def record(self, action: Action, now: datetime) -> bool:
        """Insert once per key; ``False`` when the key was recorded before (same action)."""
        return self.record_all([action], now) == 1

    def record_all(self, actions: Iterable[Action], now: datetime) -> int:
        """Record many actions in one transaction; returns how many were new."""
        at = to_text(now)
        actions = list(actions)
        rows = [(a.key, a.kind, a.channel, a.target, a.text, a.reason, at, at) for a in actions]
        items = [(a.key, item) for a in actions for item in a.about]
        with self.db.atomic():
            # The rows this statement inserted: not total_changes, which counts the
            # triggers' writes too (the outbox's counters).
            new = self.db.conn.executemany(
                "INSERT OR IGNORE INTO actions (key, kind, channel, target, text, reason,"
                " created_at, status, attempts, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?)",
                rows,
            ).rowcount
            self.db.conn.executemany(
                "INSERT OR IGNORE INTO action_items (action_key, item) VALUES (?, ?)", items
            )
            return new

    # -- one dispatch run --------------------------------------------------------------

    def due(self, now: datetime) -> list[Due]:
        """Everything that may be sent now, oldest first (the order the cap keeps)."""
        rows = self.db.execute(
            f"SELECT a.key, a.kind, {_ROUTE} AS route, a.created_at FROM actions a"  # noqa: S608
            f" WHERE {_QUEUED} ORDER BY a.created_at, a.key",
            {"now": to_text(now)},
        ).fetchall()
        return [Due(key, kind, route, from_text(created)) for key, kind, route, created in rows]

    def claim(self, keys: Sequence[str], now: datetime) -> list[Claimed]:
        """Move these queued rows to ``sending`` (attempts + 1) in one transaction.

        Rows no longer queued (another run took them, a person resolved them) are
        left alone, so claiming is safe to repeat.
        """
        at = to_text(now)
        with self.db.atomic():
            # RETURNING names exactly the rows this call moved, never one claimed earlier.
            claimed = {
                row[0]
                for row in self.db.execute(
                    f"UPDATE actions AS a SET status = 'sending', attempts = attempts + 1,"  # noqa: S608
                    f" channel = {_ROUTE}, claimed_at = :now, in_flight_at = NULL,"
                    f" updated_at = :now"
                    f" WHERE key IN (SELECT value FROM json_each(:keys)) AND {_QUEUED}"
                    f" RETURNING key",
                    {"now": at, "keys": json.dumps(list(keys))},
                ).fetchall()
            }
            rows = list(
                self.db.query(
                    "SELECT * FROM actions WHERE key IN (SELECT value FROM json_each(?))",
                    [json.dumps(sorted(claimed))],
                )
            )
            posts = self._posts({row["target"] for row in rows})
        order = {key: index for index, key in enumerate(keys)}
        rows.sort(key=lambda row: order[row["key"]])
        return [
            Claimed(_action(row), row["channel"], row["attempts"], posts.get(row["target"]))
            for row in rows
        ]

    def hold(self, keys: Sequence[str], note: str, now: datetime) -> int:
        """The cap held these back: they stay queued (``capped``) with a note saying why."""
        cursor = self.db.execute(
            "UPDATE actions SET status = 'capped', last_error = :note, updated_at = :now"
            " WHERE key IN (SELECT value FROM json_each(:keys))"
            " AND status IN ('pending', 'capped')",
            {"note": note, "now": to_text(now), "keys": json.dumps(list(keys))},
        )
        return cursor.rowcount

    def mark_in_flight(
        self, key: str, now: datetime, *, remote_id: str | None = None, rendered: str = ""
    ) -> None:
        """Committed right before the irreversible step: from here on a crash is uncertain."""
        self._update(
            key,
            "in_flight_at = :now, remote_id = :remote_id, rendered = :rendered",
            now,
            remote_id=remote_id,
            rendered=rendered,
        )

    def mark_sent(self, key: str, remote_id: str, now: datetime) -> None:
        self._update(
            key,
            "status = 'sent', sent_at = :now, remote_id = :remote_id, last_error = NULL,"
            " retry_at = NULL",
            now,
            remote_id=remote_id,
        )

    def mark_failed(self, key: str, error: str, retry_at: datetime | None, now: datetime) -> None:
        """Refused or broken before delivery. With ``retry_at`` it is due again then."""
        self._update(
            key,
            "status = 'failed', last_error = :error, retry_at = :retry_at, in_flight_at = NULL",
            now,
            error=error,
            retry_at=to_text(retry_at) if retry_at else None,
        )

    def mark_uncertain(self, key: str, error: str, now: datetime) -> None:
        self._update(key, "status = 'uncertain', last_error = :error", now, error=error)

    def mark_dry_run(self, key: str, rendered: str, now: datetime) -> None:
        self._update(key, "status = 'dry-run', rendered = :rendered", now, rendered=rendered)

    def mark_skipped(self, key: str, reason: str, rendered: str, now: datetime) -> None:
        self._update(
            key,
            "status = 'skipped', last_error = :reason, rendered = :rendered",
            now,
            reason=reason,
            rendered=rendered,
        )

    # -- after a crash -----------------------------------------------------------------

    def recover(self, now: datetime) -> Recovery:
        """Settle rows a dead dispatcher left in ``sending``. Only at dispatcher start.

        Claimed but never in flight: nothing left the host, so queue it again.
        In flight: it may have been delivered, so it becomes ``uncertain``.
        """
        at = to_text(now)
        with self.db.atomic():
            requeued = self._keys("status = 'sending' AND in_flight_at IS NULL")
            uncertain = self._keys("status = 'sending' AND in_flight_at IS NOT NULL")
            self.db.execute(
                "UPDATE actions SET status = 'pending', updated_at = :now,"
                " last_error = 'interrupted before delivery; queued again'"
                " WHERE status = 'sending' AND in_flight_at IS NULL",
                {"now": at},
            )
            self.db.execute(
                "UPDATE actions SET status = 'uncertain', updated_at = :now,"
                " last_error = 'interrupted during delivery (in flight since '"
                " || in_flight_at || '); may have been delivered, so not resent'"
                " WHERE status = 'sending' AND in_flight_at IS NOT NULL",
                {"now": at},
            )
        return Recovery(tuple(requeued), tuple(uncertain))

    def confirm_echoes(self, now: datetime, proves: EchoCheck | None = None) -> list[str]:
        """Uncertain rows whose message our own ingest has since seen, and which ``proves``
        accepts as the real copy, are sent after all; without ``proves`` none is."""
        if proves is None:
            return []
        with self.db.atomic():
            candidates = self.db.execute(
                "SELECT a.key, p.message_id, p.list_id FROM actions a"
                " JOIN posts p ON p.message_id = a.remote_id"
                " WHERE a.status = 'uncertain' AND a.remote_id IS NOT NULL"
            ).fetchall()
            keys = sorted(
                {key for key, message_id, list_id in candidates if proves(key, message_id, list_id)}
            )
            self.db.execute(
                "UPDATE actions SET status = 'sent', sent_at = coalesce(in_flight_at, :now),"
                " last_error = 'confirmed: the list delivered ' || remote_id || ' back to us',"
                " updated_at = :now WHERE key IN (SELECT value FROM json_each(:keys))",
                {"now": to_text(now), "keys": json.dumps(keys)},
            )
        return keys

    def resolve(self, key: str, *, delivered: bool, now: datetime, note: str = "") -> bool:
        """A person's verdict on an ``uncertain`` (or ``failed``) row.

        ``delivered=True`` closes it as sent; ``False`` queues it again. Requeued
        mail keeps its Message-ID, so even a wrong verdict is recognisable downstream.
        """
        if delivered:
            assignments = "status = 'sent', sent_at = coalesce(in_flight_at, :now)"
        else:
            assignments = "status = 'pending', retry_at = NULL, in_flight_at = NULL"
        cursor = self.db.execute(
            f"UPDATE actions SET {assignments}, last_error = :note, updated_at = :now"  # noqa: S608
            " WHERE key = :key AND status IN ('uncertain', 'failed')",
            {"key": key, "now": to_text(now), "note": note or "resolved by a person"},
        )
        return cursor.rowcount == 1

    # -- reading -----------------------------------------------------------------------

    def log(
        self, *, limit: int = 100, status: Status | None = None, kind: str | None = None
    ) -> list[LogEntry]:
        """Newest first: every action decided, why, and whether it was sent."""
        rows = self.db.query(
            "SELECT * FROM actions WHERE (:status IS NULL OR status = :status)"
            " AND (:kind IS NULL OR kind = :kind) ORDER BY created_at DESC, key LIMIT :limit",
            {"status": status.value if status else None, "kind": kind, "limit": limit},
        )
        return [_entry(row) for row in rows]

    def said_about(self, target: str, kind: str) -> tuple[int, str | None]:
        """How many ``kind`` actions were recorded about ``target``, and the latest text."""
        rows = self._store.db.execute(
            "SELECT count(*), (SELECT text FROM actions WHERE target = ? AND kind = ?"
            " ORDER BY created_at DESC, rowid DESC LIMIT 1)"
            " FROM actions WHERE target = ? AND kind = ?",
            [target, kind, target, kind],
        ).fetchone()
        return int(rows[0]), rows[1]

    def get(self, key: str) -> LogEntry | None:
        rows = list(self.db.query("SELECT * FROM actions WHERE key = ?", [key]))
        return _entry(rows[0]) if rows else None

    def counts(self) -> dict[str, int]:
        rows = self.db.query("SELECT status, count(*) AS n FROM actions GROUP BY status")
        return {row["status"]: row["n"] for row in rows}

    def ladder(self, since: datetime, until: datetime | None = None) -> dict[str, list[Delivery]]:
        """What was recorded about each obligation (Action.about) from ``since`` to ``until``:
        the catch-up summaries, reminders and escalations, and when each was delivered.

        Dry-run counts as delivered (the message was rendered and recorded, the way
        it would have been sent) at the moment it was recorded as such. As of a past
        ``until``, what was recorded or delivered later has not happened yet.
        """
        end = to_text(until) if until is not None else "9999"
        rows = self.db.execute(
            "SELECT i.item, a.kind, a.channel, a.status, a.created_at, a.sent_at, a.updated_at"
            " FROM actions a JOIN action_items i ON i.action_key = a.key"
            " WHERE a.kind IN ('catch-up', 'remind', 'escalate')"
            " AND a.created_at >= ? AND a.created_at <= ?",
            [to_text(since), end],
        ).fetchall()
        found: dict[str, list[Delivery]] = {}
        for item, kind, channel, status, created, sent, updated in rows:
            delivered = sent if status == Status.SENT else None
            if status == Status.DRY_RUN:
                delivered = updated
            if delivered is not None and delivered > end:
                delivered = None
            found.setdefault(item, []).append(
                Delivery(
                    kind=kind,
                    channel=channel or "",
                    recorded_at=from_text(created),
                    delivered_at=from_text(delivered) if delivered else None,
                    dry_run=status == Status.DRY_RUN,
                )
            )
        return found

    # -- helpers -----------------------------------------------------------------------

    def _update(self, key: str, assignments: str, now: datetime, **values: Any) -> None:
        self.db.execute(
            f"UPDATE actions SET {assignments}, updated_at = :now WHERE key = :key",  # noqa: S608
            {"key": key, "now": to_text(now), **values},
        )

    def _keys(self, where: str) -> list[str]:
        sql = f"SELECT key FROM actions WHERE {where}"  # noqa: S608
        return [row[0] for row in self.db.execute(sql)]

    def _posts(self, keys: set[str]) -> dict[str, Post]:
        rows = self.db.query(
            "SELECT * FROM posts WHERE key IN (SELECT value FROM json_each(?))",
            [json.dumps(sorted(keys))],
        )
        # Store knows how a posts row becomes a Post; one definition of that mapping.
        return {post.key: post for post in self._store._posts_from_rows(rows)}


def to_text(moment: datetime) -> str:
    """As ``bot.store.to_text`` (UTC ISO 8601, seconds), so the two tables compare.

    Kept here rather than imported so that ``bot.store`` can import this module
    at its top without a circular import.
    """
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def from_text(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _action(row: dict[str, Any]) -> Action:
    return Action(
        kind=row["kind"],
        target=row["target"],
        text=row["text"] or "",
        key=row["key"],
        channel=row["channel"] or "",
        reason=row["reason"] or "",
    )


def _entry(row: dict[str, Any]) -> LogEntry:
    return LogEntry(
        key=row["key"],
        kind=row["kind"],
        channel=row["channel"] or "",
        target=row["target"],
        text=row["text"] or "",
        reason=row["reason"] or "",
        status=Status(row["status"]),
        attempts=row["attempts"],
        created_at=from_text(row["created_at"]),
        sent_at=from_text(row["sent_at"]) if row["sent_at"] else None,
        last_error=row["last_error"],
        remote_id=row["remote_id"],
        retry_at=from_text(row["retry_at"]) if row["retry_at"] else None,
        rendered=row["rendered"],
    )
