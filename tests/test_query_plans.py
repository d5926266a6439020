"""Every hot query has its index: nothing a request or a tick runs scans a growing table.

Rather than a list of queries to keep in step with the code, the test records every
statement the store runs while a real `quorum run` (in this process) takes mail over
SMTP, runs its features tick and its dispatch, serves every dashboard page and API
list, and while the reading commands run. Each recorded statement is then planned with
``EXPLAIN QUERY PLAN``: a ``SCAN`` of a table that grows with the history (posts,
threads, raw_messages, ...) fails the test, naming the statement, unless a LIMIT stops
it and an index orders it. A scan through an index still reads an entry per row (a
count(*) of posts read a million at 1,000,000 messages): counts are counters the
triggers keep, windows are ranges of an index (a SEARCH), lists stop at their page.

WHOLE_HISTORY lists the reads that are full by design: the recomputation of every
view when the store or the configuration is new, a subject searched anywhere, and
commands that show or read everything (`quorum threads`, `quorum people`). Ticks,
pages and other commands read what changed or what they show. An entry that is no
longer run fails the test too, so the list only ever shrinks.
"""

from __future__ import annotations

import asyncio
import re
import smtplib
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from click.testing import CliRunner

from bot.app import App
from bot.cli import cli
from bot.config import load_config
from bot.ingest import import_paths
from bot.store import Store
from bot.store import views as stored_views
from tests.corpus import corpus_path
from tests.mailgen import raw_mail

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2018, 1, 10, 12, tzinfo=UTC)
LIST = "dev@lists.example.org"
INDEXER_VOTE = "<CAPLpRQL6=3qkzAe=FgRreheGxfkiydUqBdr-yDCVoGeZTzrqbA@mail.gmail.com>"

# Tables whose rows grow with the mail, the forum, the outbox or the deliveries. (Not
# forum_unread: topics that failed to read, each deleted once read.)
GROWING = frozenset(
    {
        "posts",
        "threads",
        "raw_messages",
        "raw_parts",
        "inbox",
        "actions",
        "rfc_links",
        "defects",
        "post_refs",
        "post_links",
        "seen_raw",
        "post_origins",
        "post_edits",
        "webhook_events",
        "github_deliveries",
        "archive_ids",
        "forum_topics",
        "identity_hints",
        # The stored views: one per RFC and per vote, as many as the history's threads.
        "rfc_views",
        "vote_views",
        # Which modules each thread reaches (bot.store.modules): a row per thread and module.
        "module_threads",
    }
)

# Reads of the whole history that are made on purpose: the start of each statement
# ("start … end" when the start alone says too little), and why it reads everything.
WHOLE_HISTORY = {
    "SELECT DISTINCT coalesce(l.rfc, t.key) FROM threads t": (
        "views.all_heads: a new store or a new configuration recomputes every RFC's view,"
        " once, in batches (bot.features.views)"
    ),
    # A piece of a subject, anywhere in it (LIKE '%...%'): no index serves that. It reads
    # the views' subjects (one row per RFC, not the posts), and stops at a page. (A vote's
    # is read newest first through idx_vote_views_newest and stops at its page, which
    # the check accepts; with few matches it still reads every vote's row.)
    "SELECT payload FROM rfc_views WHERE subject LIKE": "views._named: an RFC by its subject",
    # Commands that show or read everything, and say so.
    "SELECT t.*, (SELECT json_group_array(DISTINCT … ORDER BY t.first_at, t.rowid": (
        "Store.threads() without a page: `quorum threads` lists every thread"
    ),
    "SELECT person, alias, kind, source, evidence, state, recorded_at FROM identity_hints"
    " ORDER BY": "sources.hints(): `quorum people` lists every identity hint",
    "SELECT p.key, p.author_address, r.raw, r.raw_parts, r.zraw, r.dict_id FROM posts p": (
        "sources.github_posts: `quorum people` reads hints again from every GitHub mirror mail"
    ),
}

_PLAN_SCAN = re.compile(r"^SCAN (\w+)(.*)$")
_TABLE_AND_ALIAS = re.compile(r"\b(?:FROM|JOIN)\s+(\w+)(?:\s+(?:AS\s+)?(\w+))?", re.IGNORECASE)
_NOT_AN_ALIAS = {"where", "join", "left", "on", "order", "group", "limit", "inner", "cross"}


def _tables_by_name(sql: str) -> dict[str, str]:
    """Each table and alias of a statement, mapped to its table."""
    names: dict[str, str] = {}
    for table, alias in _TABLE_AND_ALIAS.findall(sql):
        names[table] = table
        if alias and alias.lower() not in _NOT_AN_ALIAS:
            names[alias] = table
    return names


_LIMIT = re.compile(r"\bLIMIT\b", re.IGNORECASE)


def full_scans(conn: sqlite3.Connection, sql: str) -> list[str]:
    """The growing tables ``sql`` walks from end to end: a SCAN, through an index or not,
    of a statement without a LIMIT to stop it (counting through an index still reads an
    entry per row: at 1,000,000 messages, tens of thousands)."""
    try:
        plan = conn.execute("EXPLAIN QUERY PLAN " + sql).fetchall()
    except sqlite3.Error:
        return []  # not plannable on its own (a temp table of its connection, say)
    names = _tables_by_name(sql)
    bounded = _LIMIT.search(sql) is not None
    scans = []
    for *_, detail in plan:
        found = _PLAN_SCAN.match(detail)
        if found is None or (bounded and "USING" in found.group(2)):
            continue
        table = names.get(found.group(1), found.group(1))
        if table in GROWING:
            scans.append(table)
    return scans


def _names(allowed: str, sql: str) -> bool:
    start, _, end = allowed.partition(" … ")
    return sql.startswith(start) and sql.endswith(end)


def _plannable(sql: str) -> bool:
    head = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
    return head in {"SELECT", "UPDATE", "DELETE", "INSERT", "WITH", "REPLACE"} and (
        "sqlite_master" not in sql and "sqlite_schema" not in sql and "pragma_" not in sql
    )


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> dict[str, None]:
    """Every statement any Store runs from now on (writer, reader, commands), in order."""
    statements: dict[str, None] = {}
    original = Store.__init__

    def recording(self: Store, db: Any) -> None:
        original(self, db)
        db.conn.set_trace_callback(lambda sql: statements.setdefault(sql, None))

    monkeypatch.setattr(Store, "__init__", recording)
    # The scheduled work's reading runs in a process of its own (bot/computing.py),
    # whose connections this process cannot trace: here it runs the same functions on
    # the reader thread, so their statements are recorded too.
    monkeypatch.setattr(App, "compute", _compute_here)
    return statements


async def _compute_here(app: App, call: Any, *, in_steps: bool = False) -> Any:
    return await app.read(lambda store: call(store, app.config))


def _store_with_history(db: Path) -> None:
    store = Store.open(db)
    try:
        assert import_paths(store, [corpus_path("mbox")]).errors == []
    finally:
        store.close()


def _deliver(port: int, messages: list[bytes]) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        for raw in messages:
            client.sendmail("someone@example.org", [LIST], raw)


async def _run_the_app(db: Path) -> None:
    example = load_config(ROOT / "config" / "example.toml")
    config = example.model_copy(
        update={
            "smtp": example.smtp.model_copy(update={"port": 0, "accept": [LIST]}),
            "web": example.web.model_copy(update={"port": 0, "metrics": True}),
        }
    )
    app = App(config, db, clock=lambda: NOW)
    endpoints = await app.start()
    try:
        assert endpoints.smtp is not None
        assert endpoints.web is not None
        mails = [
            raw_mail(
                "I am concerned that this breaks the plugin API.\n",
                subject="Re: [VOTE] Release Maven Indexer 6.0.0",
                message_id="<late-ballot@example.org>",
                extra=f"In-Reply-To: {INDEXER_VOTE}",
            ),
            raw_mail("+1\n", subject="[VOTE] Something new", message_id="<new-vote@example.org>"),
            raw_mail(
                "Closing: 1 binding +1.\n",
                subject="[RESULT] [VOTE] Something new",
                message_id="<new-result@example.org>",
            ),
        ]
        await asyncio.to_thread(_deliver, endpoints.smtp[1], mails)
        for _ in range(500):
            if app.processed.read >= len(mails):
                break
            await asyncio.sleep(0.02)
        await app.run_features(NOW)
        await app.run_dispatch(NOW)
        await app.run_scheduled("digest", NOW)
        host, port = endpoints.web
        rfc = quote("deprecate AQL")
        vote = quote("Maven Indexer 6.0.0")
        routes = [
            "/", "/rfcs", "/rfcs?page=2", "/rfcs?state=blocked", f"/rfcs/{rfc}", "/votes",
            f"/votes/{vote}", "/modules", "/api/rfcs", "/api/votes", "/api/concerns",
            "/api/modules", f"/api/rfcs/{rfc}", f"/api/concerns/{rfc}", f"/api/summary/{rfc}",
            "/api/stats", "/api/attention", "/healthz", "/metrics", "/rfcs/nonexistent",
            "/no/such/page",
        ]  # fmt: skip
        async with aiohttp.ClientSession() as session:
            for route in routes:
                async with session.get(f"http://{host}:{port}{route}") as response:
                    await response.read()
    finally:
        await app.stop()


def _run_the_commands(db: Path) -> None:
    config = str(ROOT / "config" / "example.toml")
    for args in (
        ["threads", "--json"],
        ["stats", "--json"],
        ["votes", "--json"],
        ["votes", "Maven Indexer 6.0.0", "--json"],
        ["concerns", "--json"],
        ["concerns", "deprecate AQL", "--json"],
        ["summary", "deprecate AQL", "--json"],
        ["modules", "--json"],
        ["digest", "--json"],
        ["log", "--json"],
        ["people", "--json"],
    ):
        result = CliRunner().invoke(cli, ["--config", config, "--db", str(db), *args])
        assert result.exit_code == 0, (args, result.output)


@pytest.mark.corpus
def test_nothing_the_app_or_the_commands_run_scans_a_growing_table(
    tmp_path: Path, recorded: dict[str, None]
):
    db = tmp_path / "q.db"
    _store_with_history(db)
    recorded.clear()  # the import's own statements are not per request or per tick
    asyncio.run(_run_the_app(db))
    _run_the_commands(db)
    statements = [sql for sql in recorded if _plannable(sql)]
    assert len(statements) > 100  # the recording works
    problems: list[str] = []
    allowed_seen: set[str] = set()
    with sqlite3.connect(db) as conn:
        for sql in statements:
            scans = full_scans(conn, sql)
            if not scans:
                continue
            allowed = next((a for a in WHOLE_HISTORY if _names(a, sql)), None)
            if allowed is not None:
                allowed_seen.add(allowed)
                continue
            problems.append(f"{', '.join(sorted(set(scans)))}: {sql[:300]}")
    assert problems == [], "full scans of growing tables:\n" + "\n".join(problems)
    stale = set(WHOLE_HISTORY) - allowed_seen
    assert not stale, f"no longer whole-history reads, drop them from WHOLE_HISTORY: {stale}"


def test_the_plan_check_sees_a_scan_behind_an_alias_and_accepts_an_index(tmp_path: Path):
    store = Store.open(tmp_path / "q.db")
    conn = store.db.conn
    assert full_scans(conn, "SELECT * FROM posts p WHERE p.subject = 'x'") == ["posts"]
    assert full_scans(conn, "SELECT * FROM posts WHERE message_id = 'x'") == []
    assert full_scans(conn, "SELECT * FROM settings WHERE value = 'x'") == []  # not growing
    # Through an index all the same: an entry per row, unless a LIMIT stops it.
    assert full_scans(conn, "SELECT count(*) FROM posts") == ["posts"]
    assert full_scans(conn, "SELECT key FROM posts ORDER BY created_at") == ["posts"]
    assert full_scans(conn, "SELECT key FROM posts ORDER BY thread_key, created_at LIMIT 5") == []


def test_the_threads_active_in_a_window_are_a_range_of_an_index(tmp_path: Path):
    """The tick's reminders and the front page ask for the threads active lately. Asked
    in first_at order, the planner (it has no statistics) walked every thread by that
    index rather than sort the few in the window: 290 ms a call at 1,000,000 messages.
    (``full_scans`` lets a SCAN that uses an index pass, so it is checked here.)"""
    store = Store.open(tmp_path / "q.db")
    statements: list[str] = []
    try:
        store.db.conn.set_trace_callback(statements.append)
        store.threads_active_since(NOW)
        asked = next(sql for sql in statements if "t.last_at >=" in sql)
        plan = [row[-1] for row in store.db.execute("EXPLAIN QUERY PLAN " + asked)]
    finally:
        store.close()
    assert any(step.startswith("SEARCH t USING INDEX idx_threads_last_at") for step in plan), plan
    assert not any(step.startswith("SCAN t") for step in plan), plan


def test_the_front_pages_newest_rfcs_and_votes_are_read_in_an_index_order(tmp_path: Path):
    """The front page lists the RFCs active last and the votes opened last, by time and
    then by key. With the key left out of the index, the planner sorted the ties, reading
    every row tied with the last one shown, payload and all (the bench's 1,000,000-message
    store ties them by the hundred). (``full_scans`` lets such a plan pass: it is a
    SEARCH with a LIMIT.)"""
    store = Store.open(tmp_path / "q.db")
    statements: list[str] = []
    try:
        store.db.conn.set_trace_callback(statements.append)
        stored_views.rfc_payloads(store, listed=True, limit=10)
        stored_views.newest_votes(store, limit=8)
        # `/rfcs?state=blocked`: a page of one state, newest first.
        stored_views.listed_rfcs(store, state="blocked", limit=50)
        asked = [sql for sql in statements if sql.startswith("SELECT payload FROM")]
        plans = [
            [row[-1] for row in store.db.execute("EXPLAIN QUERY PLAN " + sql)] for sql in asked
        ]
    finally:
        store.close()
    assert len(plans) == 3
    for plan in plans:
        assert not any("TEMP B-TREE" in step for step in plan), plan
        assert not any(step.startswith("SCAN") for step in plan), plan
    # The state is a term of the index searched, not a filter on rows read in time order.
    assert any("state=?" in step for step in plans[2]), plans[2]


def _plain_indexes(conn: sqlite3.Connection, table: str) -> dict[str, tuple[str, ...]]:
    """The table's full (not partial) indexes, each by name with its columns in order."""
    indexes = {}
    for _seq, name, _unique, _origin, partial in conn.execute(f"PRAGMA index_list({table})"):
        if not partial:
            columns = conn.execute(f"PRAGMA index_info({name})").fetchall()
            indexes[name] = tuple(column[2] for column in columns)
    return indexes


def test_no_index_of_a_growing_table_repeats_the_start_of_another(tmp_path: Path):
    # Every index costs a write per row imported; one whose columns begin another's
    # answers nothing the longer one does not.
    conn = Store.open(tmp_path / "q.db").db.conn
    redundant = []
    for table in sorted(GROWING):
        indexes = _plain_indexes(conn, table)
        for name, columns in indexes.items():
            redundant += [
                f"{name} {columns} begins {other}"
                for other, longer in indexes.items()
                if other != name
                and len(longer) > len(columns)
                and longer[: len(columns)] == columns
            ]
    assert redundant == []
